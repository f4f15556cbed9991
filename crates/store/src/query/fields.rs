//! How search reads an event's fields by name, and the one definition of the forms a value is
//! indexed under, shared by the index writer and the query compiler so the two always agree.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv6Addr};

use vigil_event::{field, Event, Value};

/// Fields kept in the archive (and matched when confirming) but given no index term: a time
/// unique to each event would cost more in the index than every other field of a flow record.
/// A query on them narrows nothing at the block level and is confirmed event by event.
pub const NOT_INDEXED: [&str; 2] = [field::EVENT_START, field::EVENT_END];

/// A field a query names, resolved once.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldRef {
    Message,
    Timestamp,
    HostName,
    HostIp,
    SourceIp,
    SourcePort,
    ProcessName,
    ProcessPid,
    MsgId,
    SeverityName,
    SeverityCode,
    FacilityName,
    FacilityCode,
    Tenant,
    Level,
    Listener,
    Flags,
    /// Anything in [`Event::fields`], by its dotted name.
    Other(String),
}

/// What the core fields are called, beside the members they read.
const CORE: [(&str, FieldRef); 16] = [
    (field::TIMESTAMP, FieldRef::Timestamp),
    (field::HOST_NAME, FieldRef::HostName),
    (field::HOST_IP, FieldRef::HostIp),
    (field::SOURCE_IP, FieldRef::SourceIp),
    (field::SOURCE_PORT, FieldRef::SourcePort),
    (field::PROCESS_NAME, FieldRef::ProcessName),
    (field::PROCESS_PID, FieldRef::ProcessPid),
    (field::SYSLOG_MSGID, FieldRef::MsgId),
    (field::SYSLOG_SEVERITY_NAME, FieldRef::SeverityName),
    (field::SYSLOG_SEVERITY_CODE, FieldRef::SeverityCode),
    (field::SYSLOG_FACILITY_NAME, FieldRef::FacilityName),
    (field::SYSLOG_FACILITY_CODE, FieldRef::FacilityCode),
    (field::TENANT, FieldRef::Tenant),
    (field::LEVEL, FieldRef::Level),
    (field::LISTENER, FieldRef::Listener),
    (field::FLAGS, FieldRef::Flags),
];

impl FieldRef {
    /// The field a query's `name:` means; no name means `message`. `fields.` (the prefix of
    /// earlier versions) and backslashes before dots are accepted and dropped.
    pub fn resolve(name: Option<&str>) -> FieldRef {
        let Some(name) = name else {
            return FieldRef::Message;
        };
        let name = name.replace("\\.", ".");
        let name = name.strip_prefix("fields.").unwrap_or(&name);
        if name == field::MESSAGE {
            return FieldRef::Message;
        }
        CORE.iter().find(|(core, _)| *core == name).map_or_else(
            || FieldRef::Other(name.to_owned()),
            |(_, core)| core.clone(),
        )
    }

    /// The name its index terms carry.
    pub fn name(&self) -> &str {
        match self {
            FieldRef::Message => field::MESSAGE,
            FieldRef::Other(name) => name,
            core => CORE
                .iter()
                .find(|(_, known)| known == core)
                .map_or("", |(name, _)| name),
        }
    }

    /// Whether blocks carry `name=value` terms of this field.
    pub fn has_terms(&self) -> bool {
        match self {
            FieldRef::Message | FieldRef::Timestamp => false,
            FieldRef::Other(name) => !NOT_INDEXED.contains(&name.as_str()),
            _ => true,
        }
    }

    /// Whether the field holds whole numbers only (so a small range can be listed as terms).
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            FieldRef::SourcePort
                | FieldRef::ProcessPid
                | FieldRef::SeverityCode
                | FieldRef::FacilityCode
                | FieldRef::Level
        )
    }
}

/// One value of a field, as search sees it.
#[derive(Clone, Copy, Debug)]
pub enum FieldValue<'a> {
    Text(&'a str),
    Int(i64),
    Float(f64),
    Ip(IpAddr),
    Bool(bool),
    /// Nanoseconds since the epoch.
    Time(i64),
}

/// IPv4 and IPv4-mapped IPv6 as IPv4, so either spelling finds the other.
pub fn canonical_ip(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

pub fn ip_as_u128(address: IpAddr) -> u128 {
    let v6: Ipv6Addr = match address {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    u128::from(v6)
}

impl FieldValue<'_> {
    /// The value's indexed form (what follows `name=` in its term) into `out`.
    pub fn write_indexed(&self, out: &mut String) {
        out.clear();
        match *self {
            FieldValue::Text(text) => push_lower(text, out),
            FieldValue::Int(number) => {
                let _ = write!(out, "{number}");
            }
            FieldValue::Float(number) => {
                let _ = write!(out, "{number}");
            }
            FieldValue::Ip(address) => {
                let _ = write!(out, "{}", canonical_ip(address));
            }
            FieldValue::Bool(flag) => out.push_str(if flag { "true" } else { "false" }),
            FieldValue::Time(nanos) => {
                let _ = write!(out, "{nanos}");
            }
        }
    }
}

/// Words as tantivy's `SimpleTokenizer` cuts them: runs of alphanumeric characters.
pub fn words(text: &str) -> Words<'_> {
    Words { text, at: 0 }
}

/// The iterator of [`words`]: bytes for ASCII, characters only where the text has others.
pub struct Words<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Words<'a> {
    /// Whether the character starting at byte `at` is alphanumeric, and its length.
    #[inline]
    fn class(&self, at: usize) -> (bool, usize) {
        let byte = self.text.as_bytes()[at];
        if byte.is_ascii() {
            return (byte.is_ascii_alphanumeric(), 1);
        }
        match self.text[at..].chars().next() {
            Some(c) => (c.is_alphanumeric(), c.len_utf8()),
            None => (false, 1),
        }
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let length = self.text.len();
        while self.at < length {
            let (word, width) = self.class(self.at);
            if word {
                break;
            }
            self.at += width;
        }
        if self.at >= length {
            return None;
        }
        let start = self.at;
        while self.at < length {
            let (word, width) = self.class(self.at);
            if !word {
                break;
            }
            self.at += width;
        }
        Some(&self.text[start..self.at])
    }
}

/// Appends `text` lowercased (as tantivy's `LowerCaser` does) to `out`.
pub fn push_lower(text: &str, out: &mut String) {
    if text.is_ascii() {
        let start = out.len();
        out.push_str(text);
        out[start..].make_ascii_lowercase();
    } else {
        out.extend(text.chars().flat_map(char::to_lowercase));
    }
}

/// `text` lowercased: itself when it has no capitals, else written into `buffer`.
pub fn lower_into<'a>(text: &'a str, buffer: &'a mut String) -> &'a str {
    if text.is_ascii() && !text.bytes().any(|byte| byte.is_ascii_uppercase()) {
        return text;
    }
    buffer.clear();
    push_lower(text, buffer);
    buffer
}

pub fn lowercase(text: &str) -> Cow<'_, str> {
    let mut buffer = String::new();
    let lowered = lower_into(text, &mut buffer);
    if std::ptr::eq(lowered, text) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(buffer)
    }
}

/// Calls `visit` with each value of `field` until it returns `true`; whether it did.
/// `message` comes whole; what queries match in it are its words (the matcher cuts them).
pub fn any_value<'a>(
    event: &'a Event,
    field: &FieldRef,
    visit: &mut dyn FnMut(FieldValue<'a>) -> bool,
) -> bool {
    let text = |value: Option<&'a str>| value.map(FieldValue::Text);
    let single = match field {
        FieldRef::Message => Some(FieldValue::Text(&event.message)),
        FieldRef::Timestamp => Some(FieldValue::Time(event.timestamp.as_nanos())),
        FieldRef::HostName => text(event.host_name.as_deref()),
        FieldRef::HostIp => event.host_ip.map(FieldValue::Ip),
        FieldRef::SourceIp => event.source.map(|source| FieldValue::Ip(source.ip())),
        FieldRef::SourcePort => event
            .source
            .map(|source| FieldValue::Int(i64::from(source.port()))),
        FieldRef::ProcessName => text(event.process_name.as_deref()),
        FieldRef::ProcessPid => event.process_pid.map(FieldValue::Int),
        FieldRef::MsgId => text(event.msgid.as_deref()),
        FieldRef::SeverityName => text(event.severity_name()),
        FieldRef::SeverityCode => event.severity.map(|code| FieldValue::Int(i64::from(code))),
        FieldRef::FacilityName => text(event.facility_name()),
        FieldRef::FacilityCode => event.facility.map(|code| FieldValue::Int(i64::from(code))),
        FieldRef::Tenant => Some(FieldValue::Text(&event.tenant)),
        FieldRef::Level => Some(FieldValue::Int(i64::from(event.level.get()))),
        FieldRef::Listener => Some(FieldValue::Text(&event.listener)),
        FieldRef::Flags => {
            return event
                .flags
                .names()
                .any(|name| visit(FieldValue::Text(name)))
        }
        FieldRef::Other(name) => return any_other(&event.fields, name, visit),
    };
    single.is_some_and(visit)
}

/// A name in the map of other fields: the key itself, and paths through nested maps (and the
/// maps in lists), as [`each_indexed_value`] names them.
fn any_other<'a>(
    fields: &'a vigil_event::Fields,
    name: &str,
    visit: &mut dyn FnMut(FieldValue<'a>) -> bool,
) -> bool {
    any_under(&|key| fields.get(key), name, visit)
}

/// The values at `path` in a map read by `get`: under the key `path` itself, and under each
/// key that is a dotted prefix of it, the rest of the path below that key's value.
fn any_under<'a>(
    get: &dyn Fn(&str) -> Option<&'a Value>,
    path: &str,
    visit: &mut dyn FnMut(FieldValue<'a>) -> bool,
) -> bool {
    get(path).is_some_and(|value| any_in_value(value, visit))
        || path.match_indices('.').any(|(at, _)| {
            get(&path[..at]).is_some_and(|value| any_at_path(value, &path[at + 1..], visit))
        })
}

/// The values at `path` below `value`.
fn any_at_path<'a>(
    value: &'a Value,
    path: &str,
    visit: &mut dyn FnMut(FieldValue<'a>) -> bool,
) -> bool {
    match value {
        Value::Map(map) => any_under(&|key| map.get(key), path, visit),
        Value::List(items) => items.iter().any(|item| any_at_path(item, path, visit)),
        _ => false,
    }
}

fn any_in_value<'a>(value: &'a Value, visit: &mut dyn FnMut(FieldValue<'a>) -> bool) -> bool {
    match value {
        Value::List(items) => items.iter().any(|item| any_in_value(item, visit)),
        _ => scalar(value).is_some_and(visit),
    }
}

/// A field's name as [`each_indexed_value`] gives it: borrowed for as long as the event
/// (a constant or the event's own key), or a dotted path into a nested map that lives for the
/// one call only, so that no path is copied unless the visitor keeps it.
#[derive(Clone, Copy, Debug)]
pub enum IndexedName<'a, 'p> {
    Event(&'a str),
    Path(&'p str),
}

impl<'a> IndexedName<'a, '_> {
    pub fn as_str(&self) -> &str {
        match self {
            IndexedName::Event(name) => name,
            IndexedName::Path(path) => path,
        }
    }

    /// The name to keep: borrowed when it can be, a copy of a path.
    pub fn to_cow(self) -> Cow<'a, str> {
        match self {
            IndexedName::Event(name) => Cow::Borrowed(name),
            IndexedName::Path(path) => Cow::Owned(path.to_owned()),
        }
    }
}

/// What [`each_indexed_value`] calls with each name and value.
pub type IndexedVisitor<'v, 'a> = dyn for<'p> FnMut(IndexedName<'a, 'p>, FieldValue<'a>) + 'v;

/// Calls `visit(name, value)` with every value that gets an index term: the core fields but
/// `message` and `@timestamp`, and every other field (nested maps by dotted path, lists item by
/// item) but [`NOT_INDEXED`].
pub fn each_indexed_value<'a>(event: &'a Event, visit: &mut IndexedVisitor<'_, 'a>) {
    for (name, core) in &CORE {
        if core.has_terms() {
            any_value(event, core, &mut |value| {
                visit(IndexedName::Event(name), value);
                false
            });
        }
    }
    for (name, value) in &event.fields {
        let name: &'a str = name.as_ref();
        if !NOT_INDEXED.contains(&name) {
            each_in_value(name, value, visit);
        }
    }
}

/// A value that is not a list or a map, as search sees it.
fn scalar(value: &Value) -> Option<FieldValue<'_>> {
    match value {
        Value::Bool(flag) => Some(FieldValue::Bool(*flag)),
        Value::Int(number) => Some(FieldValue::Int(*number)),
        Value::Float(number) => Some(FieldValue::Float(*number)),
        Value::Str(text) => Some(FieldValue::Text(text)),
        Value::List(_) | Value::Map(_) => None,
    }
}

fn each_in_value<'a>(name: &'a str, value: &'a Value, visit: &mut IndexedVisitor<'_, 'a>) {
    match value {
        Value::List(items) => items
            .iter()
            .for_each(|item| each_in_value(name, item, visit)),
        Value::Map(_) => each_in_map_value(&mut name.to_owned(), value, visit),
        _ => scalar(value)
            .into_iter()
            .for_each(|found| visit(IndexedName::Event(name), found)),
    }
}

/// A value under a nested path (`path` is its dotted name).
fn each_in_map_value<'a>(path: &mut String, value: &'a Value, visit: &mut IndexedVisitor<'_, 'a>) {
    match value {
        Value::List(items) => items
            .iter()
            .for_each(|item| each_in_map_value(path, item, visit)),
        Value::Map(entries) => {
            let base = path.len();
            for (key, inner) in entries {
                path.truncate(base);
                path.push('.');
                path.push_str(key);
                each_in_map_value(path, inner, visit);
            }
            path.truncate(base);
        }
        _ => scalar(value)
            .into_iter()
            .for_each(|found| visit(IndexedName::Path(path), found)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The same words as splitting on every character that is not alphanumeric.
        #[test]
        fn words_cut_where_the_character_split_does(text in "\\PC{0,40}") {
            let expected: Vec<&str> = text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|word| !word.is_empty())
                .collect();
            prop_assert_eq!(words(&text).collect::<Vec<_>>(), expected);
        }
    }

    #[test]
    fn words_of_mixed_text() {
        let found: Vec<&str> =
            words("Failed pass=wörd for ÜBER-user 10.0.0.1:22 日本語x").collect();
        assert_eq!(
            found,
            [
                "Failed",
                "pass",
                "wörd",
                "for",
                "ÜBER",
                "user",
                "10",
                "0",
                "0",
                "1",
                "22",
                "日本語x"
            ]
        );
    }
}
