//! ArcSight Common Event Format (CEF, versions 0 and 1), as ArcSight connectors and many
//! devices (Check Point, Fortinet, Palo Alto, Trend Micro, Imperva, …) send it:
//!
//! `CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension`
//!
//! The message must start with `CEF:` (a syslog header in front has already been taken off) and
//! have all seven header fields; a truncated header is refused. Header fields may escape `\|`
//! and `\\`. The extension is `key=value` pairs separated by spaces, where a value runs until
//! the next ` key=` and may itself contain spaces; values may escape `\=`, `\\`, `\n`, `\r`.
//!
//! Header: vendor/product/version → `observer.vendor`/`.product`/`.version`, signature id →
//! `event.code`, name → `rule.name`, severity → `event.severity` (0–10, or the words `Low`,
//! `Medium`, `High`, `Very-High` as 3, 6, 8, 10) and `cef.severity` as written.
//! Extension keys with an ECS meaning (short and full names: `src`/`sourceAddress`, `spt`,
//! `dst`, `dpt`, `suser`, `duser`, `shost`, `dhost`, `smac`, `dmac`, `proto`, `app`, `act`,
//! `outcome`, `request`, `requestMethod`, `requestClientApplication`, `in`, `out`, `fname`,
//! `filePath`, `fsize`, `dvc`, `dvchost`, NAT addresses, …, see [`standard_field`]) become ECS
//! fields; `rt` (epoch milliseconds, or `MMM dd yyyy HH:mm:ss[.SSS][ zone]`, or ISO 8601) is the
//! event time. The custom fields `cs1`…`cs6`, `cn1`…`cn3`, `cfp1`…`cfp4`, `c6a1`…`c6a4`,
//! `flexString1`/`2`, `flexNumber1`/`2`, `deviceCustomDate1`/`2` are named by their `…Label`
//! (`cef.extensions.<label>`); every other key is kept as `cef.extensions.<key>`.
//!
//! Not handled: time zone names other than UTC/GMT/Z in `rt` (the time is then read as UTC),
//! and `dtz` (the device's zone).

use std::borrow::Cow;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use vigil_event::{Timestamp, Value};

use super::json;
use super::search::Search;
use super::{prefixed, Input, Output};

const PREFIX: &str = "CEF:";
/// Header fields after `CEF:`: version, vendor, product, device version, signature id, name,
/// severity.
const HEADER_FIELDS: usize = 7;
const EXTENSION_PREFIX: &str = "cef.extensions.";
/// The custom field families whose names come from a `<name>Label` key.
const CUSTOM_FIELDS: [&str; 25] = [
    "cs1",
    "cs2",
    "cs3",
    "cs4",
    "cs5",
    "cs6",
    "cn1",
    "cn2",
    "cn3",
    "cfp1",
    "cfp2",
    "cfp3",
    "cfp4",
    "c6a1",
    "c6a2",
    "c6a3",
    "c6a4",
    "flexString1",
    "flexString2",
    "flexNumber1",
    "flexNumber2",
    "deviceCustomDate1",
    "deviceCustomDate2",
    "flexDate1",
    "cn4",
];
const LABEL_SUFFIX: &str = "Label";

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let Some(rest) = input.message.trim_start().strip_prefix(PREFIX) else {
        return false;
    };
    let mut header = [""; HEADER_FIELDS - 1];
    let Some(rest) = split_header(rest, &mut header) else {
        return false;
    };
    let [version, vendor, product, device_version, signature, name] = header;
    // The severity ends at the last header pipe; a line that stops right after a valid
    // severity (no pipe, no extension) still has all seven fields.
    let (severity, extension) = match rest.split_once_char('|') {
        Some((severity, extension)) => (severity, extension),
        None if severity_level(rest).is_some() => (rest, ""),
        None => return false,
    };
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return false;
    }
    out.put_str("cef.version", version);
    out.put_str("observer.vendor", &unescape_header(vendor));
    out.put_str("observer.product", &unescape_header(product));
    out.put_str("observer.version", &unescape_header(device_version));
    out.put_str("event.code", &unescape_header(signature));
    out.put_str("rule.name", &unescape_header(name));
    out.put_str("cef.severity", severity);
    if let Some(level) = severity_level(severity) {
        out.put("event.severity", Value::Int(level));
    }
    put_extension(extension, input, out);
    true
}

/// Splits `fields.len()` pipe-separated header fields off `text` (a `\` escapes the next
/// character); what follows the last of their pipes, or `None` when there are fewer fields.
/// Shared with the LEEF decoder.
pub(super) fn split_header<'a>(text: &'a str, fields: &mut [&'a str]) -> Option<&'a str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut filled = 0;
    let mut index = 0;
    while filled < fields.len() {
        match bytes.get(index)? {
            b'\\' => index += 2,
            b'|' => {
                fields[filled] = text.get(start..index)?;
                filled += 1;
                index += 1;
                start = index;
            }
            _ => index += 1,
        }
    }
    text.get(start..)
}

/// `\|` → `|`, `\\` → `\` in a header field.
fn unescape_header(field: &str) -> Cow<'_, str> {
    unescape(field, |escaped| {
        matches!(escaped, '|' | '\\').then_some(escaped)
    })
}

/// `\=` → `=`, `\\` → `\`, `\n` / `\r` → line breaks in an extension value (and `\|`, which
/// some devices write).
fn unescape_value(value: &str) -> Cow<'_, str> {
    unescape(value, |escaped| match escaped {
        '=' | '\\' | '|' => Some(escaped),
        'n' => Some('\n'),
        'r' => Some('\r'),
        _ => None,
    })
}

/// Replaces `\x` by what `meaning(x)` says; an unknown escape stays as written.
fn unescape(text: &str, meaning: impl Fn(char) -> Option<char>) -> Cow<'_, str> {
    if !text.contains_char('\\') {
        return Cow::Borrowed(text);
    }
    let mut unescaped = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            unescaped.push(c);
            continue;
        }
        match chars.next() {
            Some(escaped) => match meaning(escaped) {
                Some(replacement) => unescaped.push(replacement),
                None => {
                    unescaped.push('\\');
                    unescaped.push(escaped);
                }
            },
            None => unescaped.push('\\'),
        }
    }
    Cow::Owned(unescaped)
}

/// CEF severity: 0–10, or the words ArcSight uses for ranges of it.
fn severity_level(severity: &str) -> Option<i64> {
    let severity = severity.trimmed();
    if let Ok(level) = severity.parse::<i64>() {
        return (0..=10).contains(&level).then_some(level);
    }
    Some(match severity.to_ascii_lowercase().as_str() {
        "low" => 3,
        "medium" => 6,
        "high" => 8,
        "very-high" | "very high" => 10,
        _ => return None,
    })
}

/// The `key=value` pairs of a CEF extension (values still escaped): a key is a run of
/// letters, digits, `_`, `.`, `-`, `[`, `]` at the start or after a space, followed by an
/// unescaped `=`; its value runs until the space before the next key. Shared with the LEEF
/// decoder, for LEEF lines whose attributes are separated by spaces.
pub(super) struct Pairs<'a> {
    text: &'a str,
    /// The next key's start and its `=` position.
    next: Option<(usize, usize)>,
}

impl<'a> Pairs<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Self {
            text,
            next: next_key(text, 0),
        }
    }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let (key_start, equals) = self.next?;
        self.next = next_key(self.text, equals + 1);
        let value_end = self.next.map_or(self.text.len(), |(start, _)| start);
        let key = self.text.get(key_start..equals)?;
        let value = self.text.get(equals + 1..value_end)?;
        Some((key, value.trim_end_matches([' ', '\t'])))
    }
}

fn is_key_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-' | b'[' | b']')
}

/// The first key at or after `from`: `(key start, position of its '=')`.
fn next_key(text: &str, from: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut index = from;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'=' => {
                let mut start = index;
                while start > from && is_key_byte(bytes[start - 1]) {
                    start -= 1;
                }
                let at_boundary = start == 0 || matches!(bytes[start - 1], b' ' | b'\t');
                if start < index && at_boundary {
                    return Some((start, index));
                }
                index += 1;
            }
            _ => index += 1,
        }
    }
    None
}

/// How an extension value becomes a field.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Lower,
    Ip,
    Int,
    Transport,
    Action,
    Outcome,
    Time,
    Direction,
}

/// The ECS field a standard CEF key (short or full name) fills.
fn standard_field(key: &str) -> Option<(&'static str, Kind)> {
    use Kind::*;
    Some(match key {
        "src" | "sourceAddress" => ("source.ip", Ip),
        "spt" | "sourcePort" => ("source.port", Int),
        "dst" | "destinationAddress" => ("destination.ip", Ip),
        "dpt" | "destinationPort" => ("destination.port", Int),
        "smac" | "sourceMacAddress" => ("source.mac", Text),
        "dmac" | "destinationMacAddress" => ("destination.mac", Text),
        "shost" | "sourceHostName" => ("source.domain", Text),
        "dhost" | "destinationHostName" => ("destination.domain", Text),
        "suser" | "sourceUserName" => ("user.name", Text),
        "suid" | "sourceUserId" => ("user.id", Text),
        "sntdom" | "sourceNtDomain" => ("user.domain", Text),
        "duser" | "destinationUserName" => ("destination.user.name", Text),
        "duid" | "destinationUserId" => ("destination.user.id", Text),
        "dntdom" | "destinationNtDomain" => ("destination.user.domain", Text),
        "sourceTranslatedAddress" => ("source.nat.ip", Ip),
        "sourceTranslatedPort" => ("source.nat.port", Int),
        "destinationTranslatedAddress" => ("destination.nat.ip", Ip),
        "destinationTranslatedPort" => ("destination.nat.port", Int),
        "proto" | "transportProtocol" => ("network.transport", Transport),
        "app" | "applicationProtocol" => ("network.protocol", Lower),
        "deviceDirection" => ("network.direction", Direction),
        "in" | "bytesIn" => ("source.bytes", Int),
        "out" | "bytesOut" => ("destination.bytes", Int),
        "act" | "deviceAction" => ("event.action", Action),
        "outcome" | "eventOutcome" => ("event.outcome", Outcome),
        "reason" => ("event.reason", Text),
        "rt" | "deviceReceiptTime" => ("@timestamp", Time),
        "request" | "requestUrl" => ("url.original", Text),
        "requestMethod" => ("http.request.method", Text),
        "requestClientApplication" => ("user_agent.original", Text),
        "fname" | "fileName" => ("file.name", Text),
        "filePath" => ("file.path", Text),
        "fsize" | "fileSize" => ("file.size", Int),
        "dvc" | "deviceAddress" => ("observer.ip", Ip),
        "dvchost" | "deviceHostName" => ("observer.hostname", Text),
        "dvcmac" | "deviceMacAddress" => ("observer.mac", Text),
        "sproc" | "sourceProcessName" => ("process.name", Text),
        "spid" | "sourceProcessId" => ("process.pid", Int),
        "dproc" | "destinationProcessName" => ("destination.process.name", Text),
        "dpid" | "destinationProcessId" => ("destination.process.pid", Int),
        "externalId" => ("event.id", Text),
        "cnt" | "baseEventCount" => ("cef.extensions.baseEventCount", Int),
        _ => return None,
    })
}

/// Which custom field a key names, and whether it is that field's label.
fn custom_slot(key: &str) -> Option<(usize, bool)> {
    let (base, is_label) = match key.strip_suffix(LABEL_SUFFIX) {
        Some(base) => (base, true),
        None => (key, false),
    };
    let slot = CUSTOM_FIELDS.iter().position(|name| *name == base)?;
    Some((slot, is_label))
}

fn put_extension(extension: &str, input: &Input<'_>, out: &mut Output) {
    let mut labels: [Option<&str>; CUSTOM_FIELDS.len()] = [None; CUSTOM_FIELDS.len()];
    for (key, value) in Pairs::new(extension) {
        if let Some((slot, true)) = custom_slot(key) {
            labels[slot] = Some(value);
        }
    }
    for (key, raw) in Pairs::new(extension).take(json::MAX_FIELDS) {
        let value = unescape_value(raw);
        let value = value.trimmed();
        if value.is_empty() {
            continue;
        }
        if let Some((slot, is_label)) = custom_slot(key) {
            if !is_label {
                let name = labels[slot].map_or(Cow::Borrowed(key), unescape_value);
                put_custom(out, &name, value);
            }
            continue;
        }
        match standard_field(key) {
            Some((field, kind)) => {
                if !put_standard(out, field, kind, value, input) {
                    out.put(prefixed(EXTENSION_PREFIX, key), value);
                }
            }
            None => out.put(prefixed(EXTENSION_PREFIX, key), value),
        }
    }
}

/// A custom field under its label: numbers (`cn*`, `flexNumber*`) as integers when they are.
fn put_custom(out: &mut Output, label: &str, value: &str) {
    let label: String = label
        .trimmed()
        .chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect();
    let name = prefixed(EXTENSION_PREFIX, &label);
    match value.parse::<i64>() {
        Ok(number) => out.put(name, Value::Int(number)),
        Err(_) => out.put(name, value),
    }
}

/// Fills an ECS field; `false` when the value does not fit it (kept as an extension then).
fn put_standard(
    out: &mut Output,
    field: &'static str,
    kind: Kind,
    value: &str,
    input: &Input<'_>,
) -> bool {
    match kind {
        Kind::Text => out.put_str(field, value),
        Kind::Lower => out.put_str(field, &value.to_ascii_lowercase()),
        Kind::Ip => return out.put_ip(field, value),
        Kind::Int => return out.put_int(field, value),
        Kind::Transport => out.put(field, transport_name(value)),
        Kind::Action => out.put(field, kebab_case(value)),
        Kind::Outcome => out.put(field, outcome(value)),
        Kind::Direction => match value {
            "0" => out.put(field, "inbound"),
            "1" => out.put(field, "outbound"),
            _ => return false,
        },
        Kind::Time => match parse_device_time(value, input.received) {
            Some(time) => out.set_timestamp(time),
            None => return false,
        },
    }
    true
}

/// `TCP` → `tcp`; IANA protocol numbers 1, 6, 17, 58 by name. Shared with LEEF.
pub(super) fn transport_name(proto: &str) -> String {
    match proto.trimmed() {
        "1" => "icmp".to_owned(),
        "6" => "tcp".to_owned(),
        "17" => "udp".to_owned(),
        "58" => "ipv6-icmp".to_owned(),
        other => other.to_ascii_lowercase(),
    }
}

/// A device's action word as an ECS action: `Blocked Connection` → `blocked-connection`.
/// Shared with LEEF.
pub(super) fn kebab_case(action: &str) -> String {
    let mut kebab = String::with_capacity(action.len());
    for word in action.split(|c: char| c.is_whitespace() || c == '_') {
        if word.is_empty() {
            continue;
        }
        if !kebab.is_empty() {
            kebab.push('-');
        }
        kebab.extend(word.chars().flat_map(char::to_lowercase));
    }
    kebab
}

/// CEF `outcome` words as ECS outcomes.
fn outcome(value: &str) -> &'static str {
    match value.to_ascii_lowercase().as_str() {
        "success" | "succeeded" | "successful" | "allow" | "allowed" | "/success" => "success",
        "failure" | "failed" | "fail" | "deny" | "denied" | "blocked" | "/failure" => "failure",
        _ => "unknown",
    }
}

/// Device times in CEF `rt` and LEEF `devTime`: epoch milliseconds, `MMM dd yyyy HH:mm:ss`
/// (with optional `.SSS` and zone), `MMM dd HH:mm:ss` (year from `received`), or ISO 8601.
pub(super) fn parse_device_time(text: &str, received: Timestamp) -> Option<Timestamp> {
    let text = text.trimmed();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let millis: i64 = text.parse().ok()?;
        return Some(Timestamp::from_nanos(millis.checked_mul(1_000_000)?));
    }
    if text.as_bytes().first()?.is_ascii_digit() {
        return json::parse_time(text);
    }
    let (text, offset_seconds) = split_zone(text);
    let naive = parse_month_first(text, received)?;
    let time = naive.and_utc() - chrono::Duration::seconds(offset_seconds);
    Some(Timestamp::from_datetime(time))
}

/// `Jan 02 2024 10:00:00 +0100` → (`Jan 02 2024 10:00:00`, 3600). UTC, GMT, Z and zone names
/// we cannot resolve count as offset 0.
fn split_zone(text: &str) -> (&str, i64) {
    let Some((head, zone)) = text.rsplit_once_char(' ') else {
        return (text, 0);
    };
    if zone.contains_char(':') && !zone.starts_with(['+', '-']) {
        // The last word is the time of day: there is no zone.
        return (text, 0);
    }
    let offset = zone
        .strip_prefix(['+', '-'])
        .map(|digits| digits.replace(':', ""))
        .filter(|digits| digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| {
            let hours: i64 = digits.get(..2)?.parse().ok()?;
            let minutes: i64 = digits.get(2..)?.parse().ok()?;
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            Some(sign * (hours * 3600 + minutes * 60))
        })
        .unwrap_or(0);
    (head, offset)
}

fn parse_month_first(text: &str, received: Timestamp) -> Option<NaiveDateTime> {
    const WITH_YEAR: [&str; 2] = ["%b %d %Y %H:%M:%S%.f", "%b %d %Y %H:%M:%S"];
    for format in WITH_YEAR {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Some(time);
        }
    }
    // No year: the received year, or the one before when that would put the event ahead of
    // its arrival by more than a day (a December event received in January).
    let received: DateTime<Utc> = received.to_datetime();
    let year = received.year();
    let with_year = format!("{year} {text}");
    let time = NaiveDateTime::parse_from_str(&with_year, "%Y %b %d %H:%M:%S%.f").ok()?;
    if time.and_utc() > received + chrono::Duration::days(1) {
        let date = NaiveDate::from_ymd_opt(year - 1, time.month(), time.day())?;
        return Some(date.and_time(time.time()));
    }
    Some(time)
}

#[cfg(test)]
#[path = "cef_tests.rs"]
mod tests;
