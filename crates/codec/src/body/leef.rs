//! IBM QRadar Log Event Extended Format (LEEF 1.0 and 2.0):
//!
//! `LEEF:1.0|Vendor|Product|Version|EventID|key=value<TAB>key=value…`
//! `LEEF:2.0|Vendor|Product|Version|EventID|DelimiterCharacter|key=value^key=value…`
//!
//! LEEF 1.0 separates attributes with tabs. LEEF 2.0 names its delimiter in the sixth header
//! field: one character (`^`, `|`, …) or its code in hex (`x09`, `0x5E`); an empty field means a
//! tab; LEEF 2.0 without the delimiter field (Trend Micro) is read as tab-separated. Lines
//! whose attributes do not contain their delimiter at all but are separated by
//! spaces (some devices write LEEF 1.0 that way) are read like a CEF extension, a value running
//! until the next ` key=`. The message must start with `LEEF:` and have the whole header.
//!
//! Header: vendor/product/version → `observer.vendor`/`.product`/`.version`, event id →
//! `event.code`. Predefined attributes with an ECS meaning: `src`, `dst`, `srcPort`,
//! `dstPort`, `srcPreNAT`/`srcPostNAT`, `dstPreNAT`/`dstPostNAT` and their ports, `srcMAC`,
//! `dstMAC`, `usrName`, `accountName`, `domain`, `proto` (name or IANA number), `sev`
//! (`event.severity`), `action`, `policy`, `url`, `srcBytes`, `dstBytes`, `totalBytes`,
//! `srcPackets`, `dstPackets`, `totalPackets`, `identHostName`, `userAgent`, `resource`.
//! `devTime` is the event time: epoch milliseconds, or in the pattern `devTimeFormat` gives
//! (Java `SimpleDateFormat` letters `yyyy MM MMM dd HH hh mm ss SSS a Z X z`, quoted
//! literals), by default `MMM dd yyyy HH:mm:ss`. Other attributes (`cat`, `msg`, vendor keys)
//! are kept as `leef.<key>`.
//!
//! Not handled: zone names in `devTime` (skipped: the time is read as UTC), and LEEF 1.0 lines
//! that use a delimiter other than tab or space.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, NaiveDateTime};
use vigil_event::{Timestamp, Value};

use super::cef::{self, Pairs};
use super::json;
use super::search::Search;
use super::{prefixed, Input, Output};

const PREFIX: &str = "LEEF:";
/// Header fields after `LEEF:` in LEEF 1.0: version, vendor, product, version, event id.
const HEADER_FIELDS: usize = 5;
const ATTRIBUTE_PREFIX: &str = "leef.";
const DEFAULT_DELIMITER: char = '\t';
/// `devTime` without `devTimeFormat`, as the LEEF guide prescribes.
const DEFAULT_TIME_FORMAT: &str = "MMM dd yyyy HH:mm:ss";

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let Some(rest) = input.message.trim_start().strip_prefix(PREFIX) else {
        return false;
    };
    let mut header = [""; HEADER_FIELDS];
    let Some(rest) = cef::split_header(rest, &mut header) else {
        return false;
    };
    let [version, vendor, product, product_version, event_id] = header;
    let (delimiter, attributes) = match version.trimmed() {
        "1.0" | "1" => (DEFAULT_DELIMITER, rest),
        "2.0" | "2" => split_delimiter(rest),
        _ => return false,
    };
    out.put_str("leef.version", version);
    out.put_str("observer.vendor", vendor);
    out.put_str("observer.product", product);
    out.put_str("observer.version", product_version);
    out.put_str("event.code", event_id);
    put_attributes(attributes, delimiter, input, out);
    true
}

/// The LEEF 2.0 delimiter field and the attributes after it. Some devices (Trend Micro Deep
/// Security) write LEEF 2.0 without the delimiter field: attributes right after the event id
/// are read with the default tab.
fn split_delimiter(rest: &str) -> (char, &str) {
    let mut field = [""];
    if let Some(attributes) = cef::split_header(rest, &mut field) {
        if !field[0].contains_char('=') {
            if let Some(delimiter) = parse_delimiter(field[0]) {
                return (delimiter, attributes);
            }
        }
    }
    (DEFAULT_DELIMITER, rest)
}

/// The LEEF 2.0 delimiter field: one character, or `x`/`0x` and 1–4 hex digits.
fn parse_delimiter(field: &str) -> Option<char> {
    if field.is_empty() {
        return Some(DEFAULT_DELIMITER);
    }
    if field == "\\t" {
        return Some('\t');
    }
    let mut chars = field.chars();
    if let (Some(single), None) = (chars.next(), chars.next()) {
        return Some(single);
    }
    let hex = field
        .strip_prefix("0x")
        .or_else(|| field.strip_prefix("x"))
        .or_else(|| field.strip_prefix("0X"))
        .or_else(|| field.strip_prefix("X"))?;
    if hex.is_empty() || hex.len() > 4 {
        return None;
    }
    char::from_u32(u32::from_str_radix(hex, 16).ok()?)
}

/// The attributes as `(key, value)` pairs: split at the delimiter, or, when the line holds no
/// delimiter but spaces, read like a CEF extension.
enum AttributePairs<'a> {
    Delimited(std::str::Split<'a, char>),
    Spaced(Pairs<'a>),
}

impl<'a> AttributePairs<'a> {
    fn new(attributes: &'a str, delimiter: char) -> Self {
        if attributes.contains(delimiter) || !attributes.contains_char(' ') {
            Self::Delimited(attributes.split(delimiter))
        } else {
            Self::Spaced(Pairs::new(attributes))
        }
    }
}

impl<'a> Iterator for AttributePairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Self::Delimited(split) => split.find_map(|pair| {
                let (key, value) = pair.split_once_char('=')?;
                Some((key.trimmed(), value))
            }),
            Self::Spaced(pairs) => pairs.next(),
        }
    }
}

fn put_attributes(attributes: &str, delimiter: char, input: &Input<'_>, out: &mut Output) {
    let mut dev_time = None;
    let mut dev_time_format = None;
    for (key, value) in AttributePairs::new(attributes, delimiter).take(json::MAX_FIELDS) {
        let value = value.trimmed();
        if key.is_empty() || value.is_empty() {
            continue;
        }
        match key {
            "devTime" => dev_time = Some(value),
            "devTimeFormat" => dev_time_format = Some(value),
            _ => {
                if !put_known(out, key, value) {
                    out.put(prefixed(ATTRIBUTE_PREFIX, key), value);
                }
            }
        }
    }
    if let Some(text) = dev_time {
        let format = dev_time_format.unwrap_or(DEFAULT_TIME_FORMAT);
        match parse_dev_time(text, format, input.received) {
            Some(time) => out.set_timestamp(time),
            None => out.put("leef.devTime", text),
        }
    }
}

/// Fills the ECS field of a predefined attribute; `false` for other keys and for values that
/// do not fit their field.
fn put_known(out: &mut Output, key: &str, value: &str) -> bool {
    let ip = |out: &mut Output, field: &'static str| out.put_ip(field, value);
    let int = |out: &mut Output, field: &'static str| out.put_int(field, value);
    match key {
        "src" | "srcPreNAT" => ip(out, "source.ip"),
        "dst" | "dstPreNAT" => ip(out, "destination.ip"),
        "srcPostNAT" => ip(out, "source.nat.ip"),
        "dstPostNAT" => ip(out, "destination.nat.ip"),
        "srcPort" | "srcPreNATPort" => int(out, "source.port"),
        "dstPort" | "dstPreNATPort" => int(out, "destination.port"),
        "srcPostNATPort" => int(out, "source.nat.port"),
        "dstPostNATPort" => int(out, "destination.nat.port"),
        "srcBytes" => int(out, "source.bytes"),
        "dstBytes" => int(out, "destination.bytes"),
        "totalBytes" => int(out, "network.bytes"),
        "srcPackets" => int(out, "source.packets"),
        "dstPackets" => int(out, "destination.packets"),
        "totalPackets" => int(out, "network.packets"),
        "sev" => {
            let level = value
                .parse::<i64>()
                .ok()
                .filter(|level| (0..=10).contains(level));
            level.is_some_and(|level| {
                out.put("event.severity", Value::Int(level));
                true
            })
        }
        _ => {
            let Some(field) = text_field(key) else {
                return false;
            };
            let value: Cow<'_, str> = match key {
                "proto" => Cow::Owned(cef::transport_name(value)),
                "action" => Cow::Owned(cef::kebab_case(value)),
                _ => Cow::Borrowed(value),
            };
            // `usrName` wins over `accountName` for `user.name`, whatever their order.
            if key == "accountName" && out.get("user.name").is_some() {
                return false;
            }
            out.put_str(field, &value);
            true
        }
    }
}

fn text_field(key: &str) -> Option<&'static str> {
    Some(match key {
        "usrName" | "accountName" => "user.name",
        "domain" => "user.domain",
        "srcMAC" => "source.mac",
        "dstMAC" => "destination.mac",
        "proto" => "network.transport",
        "action" => "event.action",
        "policy" => "rule.name",
        "url" => "url.original",
        "identHostName" => "host.hostname",
        "userAgent" => "user_agent.original",
        "resource" => "observer.name",
        _ => return None,
    })
}

/// `devTime` read with a Java `SimpleDateFormat` pattern, else as a CEF `rt` (epoch
/// milliseconds, `MMM dd yyyy HH:mm:ss` with a zone after it, ISO 8601).
fn parse_dev_time(text: &str, java_format: &str, received: Timestamp) -> Option<Timestamp> {
    let all_digits = text.bytes().all(|b| b.is_ascii_digit());
    let formatted = if all_digits {
        None
    } else {
        parse_with_format(text, java_format, received)
    };
    formatted.or_else(|| cef::parse_device_time(text, received))
}

fn parse_with_format(text: &str, java_format: &str, received: Timestamp) -> Option<Timestamp> {
    let format = java_to_chrono(java_format)?;
    let has_offset = format.contains_str("%z") || format.contains_str("%:z");
    let has_year = format.contains_str("%Y") || format.contains_str("%y");
    let (text, format): (Cow<'_, str>, Cow<'_, str>) = if has_year {
        (Cow::Borrowed(text), Cow::Borrowed(&format))
    } else {
        let year = received.to_datetime().year();
        (
            Cow::Owned(format!("{year} {text}")),
            Cow::Owned(format!("%Y {format}")),
        )
    };
    if has_offset {
        let time = DateTime::parse_from_str(&text, &format).ok()?;
        return Some(Timestamp::from_datetime(time));
    }
    let time = NaiveDateTime::parse_from_str(&text, &format).ok()?;
    Some(Timestamp::from_datetime(time.and_utc()))
}

/// Translates the letters of a Java `SimpleDateFormat` pattern into a chrono format string;
/// `None` for letters chrono cannot read.
fn java_to_chrono(pattern: &str) -> Option<String> {
    let mut format = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // A quoted literal; `''` is a quote.
            let mut literal_chars = 0;
            for quoted in chars.by_ref() {
                if quoted == '\'' {
                    break;
                }
                push_literal(&mut format, quoted);
                literal_chars += 1;
            }
            if literal_chars == 0 {
                format.push('\'');
            }
            continue;
        }
        if !c.is_ascii_alphabetic() {
            push_literal(&mut format, c);
            continue;
        }
        let mut run = 1;
        while chars.next_if_eq(&c).is_some() {
            run += 1;
        }
        let item = match (c, run) {
            ('y', 2) => "%y",
            ('y', _) => "%Y",
            ('M', 1 | 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', _) => "%d",
            ('H', _) => "%H",
            ('h', _) => "%I",
            ('m', _) => "%M",
            ('s', _) => "%S",
            ('S', 1..=3) => "%3f",
            ('S', 4..=6) => "%6f",
            ('S', _) => "%9f",
            ('a', _) => "%p",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('Z', _) | ('X', 1 | 2) => "%z",
            ('X', _) => "%:z",
            ('z', _) => "%Z",
            _ => return None,
        };
        format.push_str(item);
    }
    Some(format)
}

fn push_literal(format: &mut String, c: char) {
    if c == '%' {
        format.push_str("%%");
    } else {
        format.push(c);
    }
}

#[cfg(test)]
#[path = "leef_tests.rs"]
mod tests;
