//! JSON messages: a message that is one JSON object.
//!
//! The object is parsed once, by serde_json into a [`Json`] that borrows its strings from the
//! line (at most [`MAX_JSON_BYTES`] of input, and serde_json itself refuses nesting deeper than
//! 128, so a line of ten thousand `[` fails fast instead of overflowing the stack). Then its
//! shape chooses the decoder:
//!
//! - a Windows event — NXLog `im_msvistalog` (`EventID` with `SourceName` or `Channel`) or
//!   Winlogbeat (`winlog.event_id`, or `event.code` with `winlog.channel`) — goes to
//!   [`super::windows`];
//! - a Suricata EVE record (`event_type` + `timestamp` + `src_ip` or `flow_id`) goes to
//!   [`super::suricata`];
//! - a Zeek JSON log (`ts` + `uid` + `id.orig_h`, or `_path`) goes to [`super::zeek`];
//! - anything else is flattened generically: nested objects become dotted keys (`{"source":
//!   {"ip": …}}` → `source.ip`). Keys under an ECS top-level group (`event`, `source`, `user`,
//!   `url`, …, see [`ECS_GROUPS`]) and holding an object keep their name; any other key is put
//!   under `json.`. Arrays
//!   of scalars become lists; arrays holding objects, and objects nested deeper than
//!   [`MAX_FLATTEN_DEPTH`], are kept as their JSON text. At most [`MAX_FIELDS`] fields are kept.
//!   The event time comes from `@timestamp`, `timestamp`, `time` or `ts` (RFC 3339 / ISO 8601,
//!   Suricata's `+0000` offsets, or epoch seconds).
//!
//! Not handled: JSON arrays or scalars as the whole message, several objects on one line
//! (NDJSON is split into lines before it reaches a decoder), and JSON after a text prefix.
//!
//! The helpers here (`parse_time`, `get_path`, `put_*_value`) are shared with the Windows,
//! Suricata, Zeek, CEF and LEEF decoders.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use vigil_event::{Timestamp, ToCompactString, Value};

use super::json_value::{Json, Map};
use super::search::Search;
use super::web::{date_time, fixed_date, parse_digits};
use super::{prefixed, suricata, windows, zeek, Input, Output};

/// Longer messages are not parsed (they are not a log line we can afford to flatten).
pub(super) const MAX_JSON_BYTES: usize = 1 << 20;
/// Nesting levels flattened into dotted keys; deeper subtrees are kept as JSON text.
pub(super) const MAX_FLATTEN_DEPTH: usize = 32;
/// Fields one JSON message may add (each `Output::put` looks for an earlier same-named field).
pub(super) const MAX_FIELDS: usize = 256;

/// Top-level keys that are ECS field groups: kept as they are rather than put under `json.`.
const ECS_GROUPS: [&str; 22] = [
    "agent",
    "client",
    "cloud",
    "container",
    "destination",
    "dns",
    "error",
    "event",
    "file",
    "host",
    "http",
    "log",
    "network",
    "observer",
    "process",
    "rule",
    "server",
    "service",
    "source",
    "url",
    "user",
    "user_agent",
];

/// Keys that say when the event happened, in order of preference.
const TIME_KEYS: [&str; 4] = ["@timestamp", "timestamp", "time", "ts"];

/// Prefix for keys that are not ECS groups.
const OTHER_PREFIX: &str = "json.";

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let Some(root) = parse_object(input.message) else {
        return false;
    };
    if windows::is_windows_event(&root) {
        return windows::decode_object(&root, out);
    }
    if suricata::is_eve(&root) {
        return suricata::decode_object(&root, out);
    }
    if zeek::is_zeek_json(&root) {
        return zeek::decode_object(&root, out);
    }
    decode_generic(&root, out)
}

/// The message as a JSON object, when it is one (and not too large to parse).
pub(super) fn parse_object(message: &str) -> Option<Map<'_>> {
    let text = message.trimmed();
    if !text.starts_with('{') || text.len() > MAX_JSON_BYTES {
        return None;
    }
    match Json::parse(text) {
        Ok(Json::Object(root)) => Some(root),
        _ => None,
    }
}

fn decode_generic(root: &Map<'_>, out: &mut Output) -> bool {
    if let Some(time) = TIME_KEYS
        .iter()
        .find_map(|key| root.get(key).and_then(time_value))
    {
        out.set_timestamp(time);
    }
    let mut name = String::new();
    for (key, value) in root {
        if key == "@timestamp" || key.is_empty() {
            continue;
        }
        name.clear();
        // An ECS group is an object: `"log": "text"` (Docker) is not ECS's `log`.
        if !(value.is_object() && ECS_GROUPS.contains(&key)) {
            name.push_str(OTHER_PREFIX);
        }
        name.push_str(key);
        flatten(out, &mut name, value, 1);
        if out.len() >= MAX_FIELDS {
            break;
        }
    }
    true
}

/// Puts `value` under `name`, objects as one dotted field per member.
fn flatten(out: &mut Output, name: &mut String, value: &Json, depth: usize) {
    if out.len() >= MAX_FIELDS {
        return;
    }
    match value {
        Json::Object(members) if depth < MAX_FLATTEN_DEPTH => {
            let base = name.len();
            for (key, member) in members {
                name.truncate(base);
                name.push('.');
                name.push_str(key);
                flatten(out, name, member, depth + 1);
            }
            name.truncate(base);
        }
        _ => put_value(out, name.clone(), value),
    }
}

/// Puts a JSON value as the closest field value: scalars as themselves, arrays of scalars as
/// lists, anything else (and `null`, which is skipped) as its JSON text.
pub(super) fn put_value(out: &mut Output, name: String, value: &Json) {
    if let Some(scalar) = scalar(value) {
        out.put(name, scalar);
        return;
    }
    match value {
        Json::Null => {}
        Json::Array(items) => match items.iter().map(scalar).collect::<Option<Vec<_>>>() {
            Some(list) => out.put(name, Value::List(list)),
            None => out.put(name, Value::from(value.to_string())),
        },
        _ => out.put(name, Value::from(value.to_string())),
    }
}

fn scalar(value: &Json) -> Option<Value> {
    Some(match value {
        Json::Bool(flag) => Value::Bool(*flag),
        Json::Number(number) => match number.as_i64() {
            Some(int) => Value::Int(int),
            // u64 above i64::MAX keeps its digits rather than losing precision as a float.
            None if number.is_u64() => Value::Str(number.to_compact_string()),
            None => Value::Float(number.as_f64()?),
        },
        Json::String(text) => Value::from(&**text),
        _ => return None,
    })
}

/// Every scalar member of `members` as `<prefix><key>`, at most `MAX_FIELDS` fields in all.
pub(super) fn put_members(out: &mut Output, prefix: &str, members: &Map<'_>) {
    for (key, value) in members {
        if out.len() >= MAX_FIELDS {
            return;
        }
        if key.is_empty() || matches!(value, Json::Object(_)) {
            continue;
        }
        if value.as_str().is_some_and(is_placeholder) {
            continue;
        }
        put_value(out, prefixed(prefix, key), value);
    }
}

/// `-` and empty strings mean "no value" in Windows and Zeek logs.
pub(super) fn is_placeholder(text: &str) -> bool {
    let text = text.trimmed();
    text.is_empty() || text == "-"
}

/// The member at a dotted path of nested objects: `get_path(root, &["winlog", "event_id"])`.
pub(super) fn get_path<'a>(root: &'a Map<'a>, path: &[&str]) -> Option<&'a Json<'a>> {
    let (last, parents) = path.split_last()?;
    let mut object = root;
    for key in parents {
        object = object.get(key)?.as_object()?;
    }
    object.get(last)
}

/// A string member, or a number's digits (Windows `EventID` is either).
pub(super) fn text_of<'a>(value: &'a Json<'_>) -> Option<std::borrow::Cow<'a, str>> {
    match value {
        Json::String(text) => Some(std::borrow::Cow::Borrowed(text)),
        Json::Number(number) => Some(std::borrow::Cow::Owned(number.to_string())),
        _ => None,
    }
}

/// Sets a text field from a JSON string (or number), skipping placeholders.
pub(super) fn put_text_value(out: &mut Output, name: &'static str, value: Option<&Json>) {
    if let Some(text) = value.and_then(text_of) {
        if !is_placeholder(&text) {
            out.put_str(name, &text);
        }
    }
}

/// Sets an integer field from a JSON integer or a decimal string.
pub(super) fn put_int_value(out: &mut Output, name: &'static str, value: Option<&Json>) -> bool {
    match value.and_then(int_of) {
        Some(number) => {
            out.put(name, Value::Int(number));
            true
        }
        None => false,
    }
}

/// A JSON integer, or a string holding a decimal integer.
pub(super) fn int_of(value: &Json) -> Option<i64> {
    match value {
        Json::Number(number) => number.as_i64(),
        Json::String(text) => text.trimmed().parse().ok(),
        _ => None,
    }
}

/// Sets an IP field from a JSON string when it is an address.
pub(super) fn put_ip_value(out: &mut Output, name: &'static str, value: Option<&Json>) -> bool {
    match value.and_then(Json::as_str) {
        Some(text) => out.put_ip(name, text),
        None => false,
    }
}

/// A time from JSON: a string [`parse_time`] reads, or epoch seconds (milliseconds when the
/// number is too large to be seconds).
pub(super) fn time_value(value: &Json) -> Option<Timestamp> {
    match value {
        Json::String(text) => parse_time(text),
        // serde_json writes a float's shortest exact digits: read them as decimal text so
        // that `1591367999.305988` keeps its microseconds.
        Json::Number(number) => epoch(&number.to_string()),
        _ => None,
    }
}

/// Epoch numbers above this are milliseconds (as seconds, this is the year 5138).
const MAX_EPOCH_SECONDS: i64 = 100_000_000_000;
const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_MILLI: i64 = 1_000_000;

/// `1591367999.305988` (seconds) or `1700000000000` (milliseconds), read exactly.
fn epoch(text: &str) -> Option<Timestamp> {
    let (whole, fraction) = text.split_once_char('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 15 || !digits(whole) || !digits(fraction) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let unit = if whole > MAX_EPOCH_SECONDS {
        NANOS_PER_MILLI
    } else {
        NANOS_PER_SECOND
    };
    // The fraction's digits as nanoseconds of the unit: 9 digits for seconds, 6 for millis.
    let mut fraction_nanos = 0;
    let mut scale = unit;
    for digit in fraction.bytes() {
        scale /= 10;
        if scale == 0 {
            break;
        }
        fraction_nanos += i64::from(digit - b'0') * scale;
    }
    Some(Timestamp::from_nanos(
        whole.checked_mul(unit)?.checked_add(fraction_nanos)?,
    ))
}

/// Reads the date-time forms JSON logs use: RFC 3339 (`2024-01-02T10:00:00.5Z`,
/// `+01:00`), ISO 8601 with a colon-less offset (Suricata's `+0000`), a space instead of the `T`,
/// no offset at all (taken as UTC: NXLog's `EventTime`), or epoch seconds with a fraction
/// (Zeek's `1591367999.305988`).
pub(super) fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trimmed();
    let first = *text.as_bytes().first()?;
    if !first.is_ascii_digit() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return epoch(text);
    }
    iso8601(text).or_else(|| parse_time_chrono(text))
}

/// The common ISO 8601 forms read without chrono's format machinery, which cost a few thousand
/// instructions a line: `YYYY-MM-DD`, `T` or a space, `HH:MM:SS`, up to nine fraction digits,
/// then `Z`, `±HH:MM`, `±HHMM` or nothing (UTC). `None` for anything else — other forms, a leap
/// second, an invalid date — which [`parse_time_chrono`] then reads or refuses.
fn iso8601(text: &str) -> Option<Timestamp> {
    let (date, rest) = (text.get(..10)?, text.get(11..)?);
    if !matches!(text.as_bytes()[10], b'T' | b' ') {
        return None;
    }
    let (year, month, day) = fixed_date(date, '-')?;
    // The clock runs to the offset (`Z`, `+`, `-`) or to the end.
    let (clock, offset) = rest.split_at(rest.find(['Z', '+', '-']).unwrap_or(rest.len()));
    // A point with no digits after it: chrono refuses it, and so does this.
    if clock.ends_with('.') {
        return None;
    }
    let local = date_time(year, month, day, clock)?.and_utc();
    let offset_seconds = match offset.as_bytes() {
        [] | [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] | [sign @ (b'+' | b'-'), _, _, _, _] => {
            let hours = parse_digits(offset.get(1..3)?, 2)?;
            let minutes = parse_digits(offset.get(offset.len() - 2..)?, 2)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = i64::from(hours * 3600 + minutes * 60);
            if *sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        _ => return None,
    };
    Some(Timestamp::from_nanos(
        local
            .timestamp_nanos_opt()?
            .checked_sub(offset_seconds.checked_mul(NANOS_PER_SECOND)?)?,
    ))
}

/// Every form [`parse_time`] reads, through chrono.
fn parse_time_chrono(text: &str) -> Option<Timestamp> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(Timestamp::from_datetime(time));
    }
    const WITH_OFFSET: [&str; 2] = ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"];
    for format in WITH_OFFSET {
        if let Ok(time) = DateTime::parse_from_str(text, format) {
            return Some(Timestamp::from_datetime(time));
        }
    }
    const NAIVE: [&str; 2] = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"];
    for format in NAIVE {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Some(Timestamp::from_datetime(time.and_utc()));
        }
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(Timestamp::from_datetime(
        date.and_hms_opt(0, 0, 0)?
            .and_local_timezone(Utc)
            .single()?,
    ))
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
