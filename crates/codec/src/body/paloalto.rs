//! Palo Alto Networks PAN-OS syslog in the default CSV format (PAN-OS 8.x – 11.x; the leading
//! fields are the same back to 6.x): TRAFFIC, THREAT, SYSTEM and CONFIG logs, field positions as
//! in Palo Alto's "Syslog Field Descriptions".
//!
//! A line is PAN-OS's when its fourth field is one of those types, its second (receive time) is
//! `YYYY/MM/DD HH:MM:SS` and it has the type's minimum number of fields. Fields may be
//! double-quoted (commas inside, `""` for a quote).
//!
//! - TRAFFIC: addresses, NAT addresses and ports, security rule (`rule.name`), users, application,
//!   zones (`observer.ingress.zone`/`observer.egress.zone`), interfaces, session id, repeat count,
//!   protocol, action (allow → allowed; deny, drop, reset-* → denied), bytes and packets (sent and
//!   received), session end reason, device name.
//! - THREAT: the same leading fields, then the threat: its name and id (`rule.name`/`rule.id`,
//!   the detection being the rule that fired; the security rule goes to `panw.panos.ruleset`),
//!   category, severity (`log.level`, and `event.severity` 1–5), direction, and the URL or file
//!   name (the "misc" field: `url.original` for url logs, `file.name` otherwise).
//! - SYSTEM: event id (`event.code`), module, severity and the description (`message`).
//! - CONFIG: admin (`user.name`), client host (`source.ip`), command (`event.action`), result,
//!   configuration path.
//!
//! The time is the generated time, which PAN-OS writes in the firewall's local time zone without
//! saying which: it is read as UTC. Not handled: the other log types (HIP-MATCH, GLOBALPROTECT,
//! USERID, AUTH, DECRYPTION …), custom log formats, LEEF/CEF output (their own decoders).

use std::borrow::Cow;

use chrono::{NaiveDateTime, TimeZone, Utc};
use vigil_event::{Timestamp, Value};

use super::search::Search;
use super::web::{date_time, fixed_date};
use super::{Input, Output};

/// Field positions shared by every log type.
mod common {
    pub const RECEIVE_TIME: usize = 1;
    pub const SERIAL: usize = 2;
    pub const TYPE: usize = 3;
    pub const SUBTYPE: usize = 4;
    pub const GENERATED_TIME: usize = 6;
}

/// Field positions shared by TRAFFIC and THREAT.
mod session {
    pub const SOURCE: usize = 7;
    pub const DESTINATION: usize = 8;
    pub const NAT_SOURCE: usize = 9;
    pub const NAT_DESTINATION: usize = 10;
    pub const RULE: usize = 11;
    pub const SOURCE_USER: usize = 12;
    pub const DESTINATION_USER: usize = 13;
    pub const APPLICATION: usize = 14;
    pub const VSYS: usize = 15;
    pub const FROM_ZONE: usize = 16;
    pub const TO_ZONE: usize = 17;
    pub const INBOUND_INTERFACE: usize = 18;
    pub const OUTBOUND_INTERFACE: usize = 19;
    pub const SESSION_ID: usize = 22;
    pub const REPEAT_COUNT: usize = 23;
    pub const SOURCE_PORT: usize = 24;
    pub const DESTINATION_PORT: usize = 25;
    pub const NAT_SOURCE_PORT: usize = 26;
    pub const NAT_DESTINATION_PORT: usize = 27;
    pub const PROTOCOL: usize = 29;
    pub const ACTION: usize = 30;
}

mod traffic {
    pub const BYTES: usize = 31;
    pub const BYTES_SENT: usize = 32;
    pub const BYTES_RECEIVED: usize = 33;
    pub const PACKETS: usize = 34;
    pub const CATEGORY: usize = 37;
    pub const PACKETS_SENT: usize = 44;
    pub const PACKETS_RECEIVED: usize = 45;
    pub const SESSION_END_REASON: usize = 46;
    pub const DEVICE_NAME: usize = 52;
    /// Through the action: what every PAN-OS version since 6 writes at least.
    pub const MIN_FIELDS: usize = 35;
}

mod threat {
    pub const MISC: usize = 31;
    pub const THREAT_ID: usize = 32;
    pub const CATEGORY: usize = 33;
    pub const SEVERITY: usize = 34;
    pub const DIRECTION: usize = 35;
    pub const DEVICE_NAME: usize = 59;
    pub const MIN_FIELDS: usize = 36;
}

mod system {
    pub const VSYS: usize = 7;
    pub const EVENT_ID: usize = 8;
    pub const OBJECT: usize = 9;
    pub const MODULE: usize = 12;
    pub const SEVERITY: usize = 13;
    pub const DESCRIPTION: usize = 14;
    pub const MIN_FIELDS: usize = 15;
}

mod config {
    pub const HOST: usize = 7;
    pub const VSYS: usize = 8;
    pub const COMMAND: usize = 9;
    pub const ADMIN: usize = 10;
    pub const CLIENT: usize = 11;
    pub const RESULT: usize = 12;
    pub const PATH: usize = 13;
    pub const MIN_FIELDS: usize = 13;
}

/// PAN-OS writes at most a few hundred fields; more is not PAN-OS.
const MAX_FIELDS: usize = 256;
const TIME_FORMAT: &str = "%Y/%m/%d %H:%M:%S";

/// Splits one CSV record: fields separated by commas, optionally double-quoted with `""` for a
/// quote inside. `None` past [`MAX_FIELDS`] fields.
pub(super) fn split_csv(line: &str) -> Option<Vec<Cow<'_, str>>> {
    let mut fields = Vec::with_capacity(64);
    let mut rest = line;
    loop {
        if fields.len() >= MAX_FIELDS {
            return None;
        }
        let (field, next) = match rest.strip_prefix('"') {
            Some(quoted) => quoted_field(quoted),
            None => match rest.find_char(',') {
                Some(comma) => (Cow::Borrowed(&rest[..comma]), Some(&rest[comma + 1..])),
                None => (Cow::Borrowed(rest), None),
            },
        };
        fields.push(field);
        match next {
            Some(next) => rest = next,
            None => return Some(fields),
        }
    }
}

/// A quoted field (`text` starts after the opening quote) and what follows its comma, if any.
fn quoted_field(text: &str) -> (Cow<'_, str>, Option<&str>) {
    let mut value: Option<String> = None;
    let mut start = 0;
    loop {
        let Some(offset) = text[start..].find_char('"') else {
            // Unterminated: the rest is the field.
            let field = match value {
                Some(mut owned) => {
                    owned.push_str(&text[start..]);
                    Cow::Owned(owned)
                }
                None => Cow::Borrowed(text),
            };
            return (field, None);
        };
        let quote = start + offset;
        if text[quote + 1..].starts_with('"') {
            let owned = value.get_or_insert_with(String::new);
            owned.push_str(&text[start..=quote]);
            start = quote + 2;
            continue;
        }
        let field = match value {
            Some(mut owned) => {
                owned.push_str(&text[start..quote]);
                Cow::Owned(owned)
            }
            None => Cow::Borrowed(&text[..quote]),
        };
        let after = &text[quote + 1..];
        let next = after.find_char(',').map(|comma| &after[comma + 1..]);
        return (field, next);
    }
}

/// The parsed record with bounds-checked access.
struct Record<'a> {
    fields: Vec<Cow<'a, str>>,
}

impl Record<'_> {
    fn get(&self, index: usize) -> &str {
        self.fields.get(index).map_or("", |field| field.trimmed())
    }

    fn str(&self, out: &mut Output, name: &'static str, index: usize) {
        out.put_str(name, self.get(index));
    }

    fn int(&self, out: &mut Output, name: &'static str, index: usize) -> Option<i64> {
        let number = self.get(index).parse::<i64>().ok()?;
        out.put(name, number);
        Some(number)
    }

    fn ip(&self, out: &mut Output, name: &'static str, index: usize) {
        out.put_ip(name, self.get(index));
    }
}

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = input.message.trimmed();
    if !message.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let Some(fields) = split_csv(message) else {
        return false;
    };
    let record = Record { fields };
    let Some(received) = parse_time(record.get(common::RECEIVE_TIME)) else {
        return false;
    };
    let recognised = match record.get(common::TYPE) {
        "TRAFFIC" if record.fields.len() >= traffic::MIN_FIELDS => decode_traffic(&record, out),
        "THREAT" if record.fields.len() >= threat::MIN_FIELDS => decode_threat(&record, out),
        "SYSTEM" if record.fields.len() >= system::MIN_FIELDS => decode_system(&record, out),
        "CONFIG" if record.fields.len() >= config::MIN_FIELDS => decode_config(&record, out),
        _ => false,
    };
    if !recognised {
        return false;
    }
    out.put("observer.vendor", "Palo Alto Networks");
    out.put("observer.product", "PAN-OS");
    out.put("observer.type", "firewall");
    record.str(out, "observer.serial_number", common::SERIAL);
    record.str(out, "panw.panos.type", common::TYPE);
    record.str(out, "panw.panos.sub_type", common::SUBTYPE);
    let generated = parse_time(record.get(common::GENERATED_TIME)).unwrap_or(received);
    out.set_timestamp(Timestamp::from_datetime(Utc.from_utc_datetime(&generated)));
    true
}

/// A PAN-OS time ([`TIME_FORMAT`]). Its usual fixed-width form (`2024/05/10 11:37:47`) is read
/// without chrono's format parser (its two times were a third of decoding a record); any other
/// spelling chrono accepts for the format is left to it.
fn parse_time(text: &str) -> Option<NaiveDateTime> {
    let fixed = || {
        let (date, clock) = text.split_once_char(' ')?;
        // `%S` takes no fraction.
        if clock.len() != "HH:MM:SS".len() {
            return None;
        }
        let (year, month, day) = fixed_date(date, '/')?;
        date_time(year, month, day, clock)
    };
    fixed().or_else(|| NaiveDateTime::parse_from_str(text, TIME_FORMAT).ok())
}

/// Whether a PAN-OS action let the traffic through.
fn action_allows(action: &str) -> Option<bool> {
    match action {
        "allow" | "alert" | "continue" | "override" => Some(true),
        "deny" | "drop" | "drop-icmp" | "drop-all-packets" | "reset-client" | "reset-server"
        | "reset-both" | "block-url" | "block-continue" | "block-override" | "block-ip"
        | "sinkhole" | "random-drop" => Some(false),
        _ => None,
    }
}

fn verdict(action: &str) -> Option<&'static str> {
    action_allows(action).map(|allowed| if allowed { "allowed" } else { "denied" })
}

/// Fields common to TRAFFIC and THREAT; `false` when the addresses are not addresses.
fn decode_session(record: &Record<'_>, out: &mut Output) -> bool {
    use session::*;
    if !out.put_ip("source.ip", record.get(SOURCE))
        || !out.put_ip("destination.ip", record.get(DESTINATION))
    {
        return false;
    }
    // 0.0.0.0 means "no NAT".
    for (name, index) in [
        ("source.nat.ip", NAT_SOURCE),
        ("destination.nat.ip", NAT_DESTINATION),
    ] {
        if record.get(index) != "0.0.0.0" {
            record.ip(out, name, index);
        }
    }
    record.int(out, "source.port", SOURCE_PORT);
    record.int(out, "destination.port", DESTINATION_PORT);
    for (name, index) in [
        ("source.nat.port", NAT_SOURCE_PORT),
        ("destination.nat.port", NAT_DESTINATION_PORT),
    ] {
        if record.get(index) != "0" {
            record.int(out, name, index);
        }
    }
    record.str(out, "source.user.name", SOURCE_USER);
    record.str(out, "destination.user.name", DESTINATION_USER);
    record.str(out, "network.application", APPLICATION);
    record.str(out, "panw.panos.vsys", VSYS);
    record.str(out, "observer.ingress.zone", FROM_ZONE);
    record.str(out, "observer.egress.zone", TO_ZONE);
    record.str(out, "observer.ingress.interface.name", INBOUND_INTERFACE);
    record.str(out, "observer.egress.interface.name", OUTBOUND_INTERFACE);
    record.int(out, "panw.panos.session_id", SESSION_ID);
    record.int(out, "panw.panos.repeat_count", REPEAT_COUNT);
    let proto = record.get(PROTOCOL);
    if !proto.is_empty() {
        out.put("network.transport", proto.to_ascii_lowercase());
    }
    let action = record.get(ACTION);
    out.put_str("event.action", action);
    if let Some(user) = Some(record.get(SOURCE_USER)).filter(|user| !user.is_empty()) {
        out.put_str("user.name", user);
    }
    true
}

fn decode_traffic(record: &Record<'_>, out: &mut Output) -> bool {
    use traffic::*;
    if !decode_session(record, out) {
        return false;
    }
    record.str(out, "rule.name", session::RULE);
    record.int(out, "network.bytes", BYTES);
    record.int(out, "source.bytes", BYTES_SENT);
    record.int(out, "destination.bytes", BYTES_RECEIVED);
    record.int(out, "network.packets", PACKETS);
    record.int(out, "source.packets", PACKETS_SENT);
    record.int(out, "destination.packets", PACKETS_RECEIVED);
    record.str(out, "panw.panos.url.category", CATEGORY);
    record.str(out, "panw.panos.session_end_reason", SESSION_END_REASON);
    record.str(out, "observer.name", DEVICE_NAME);
    out.put("event.category", "network");
    let subtype = record.get(common::SUBTYPE);
    let phase = match subtype {
        "start" => Some("start"),
        "end" => Some("end"),
        _ => None,
    };
    // A `drop`/`deny` subtype is a denied session whatever the action field says.
    let verdict = match subtype {
        "drop" | "deny" => Some("denied"),
        _ => verdict(record.get(session::ACTION)),
    };
    let types = ["connection"].into_iter().chain(phase).chain(verdict);
    out.put("event.type", list(types));
    true
}

fn decode_threat(record: &Record<'_>, out: &mut Output) -> bool {
    use threat::*;
    if !decode_session(record, out) {
        return false;
    }
    record.str(out, "panw.panos.ruleset", session::RULE);
    let subtype = record.get(common::SUBTYPE);
    let misc = record.get(MISC);
    match subtype {
        "url" => out.put_str("url.original", misc),
        "file" | "virus" | "wildfire" | "wildfire-virus" => out.put_str("file.name", misc),
        _ => out.put_str("panw.panos.misc", misc),
    }
    let (name, id) = split_threat_id(record.get(THREAT_ID));
    out.put_str("rule.name", name);
    out.put_str("panw.panos.threat.name", name);
    out.put_str("rule.id", id);
    out.put_str("panw.panos.threat.id", id);
    record.str(out, "rule.category", CATEGORY);
    let severity = record.get(SEVERITY);
    out.put_str("log.level", severity);
    if let Some(level) = severity_number(severity) {
        out.put("event.severity", level);
    }
    record.str(out, "panw.panos.direction", DIRECTION);
    record.str(out, "observer.name", DEVICE_NAME);
    let category = match subtype {
        "url" => "web",
        "virus" | "wildfire" | "wildfire-virus" => "malware",
        _ => "intrusion_detection",
    };
    out.put("event.category", category);
    let types = ["info"]
        .into_iter()
        .chain(verdict(record.get(session::ACTION)));
    out.put("event.type", list(types));
    true
}

/// `Eicar Test File(39040)` → ("Eicar Test File", "39040"); `(9999)` → ("", "9999").
fn split_threat_id(text: &str) -> (&str, &str) {
    match (text.rfind_char('('), text.ends_with(')')) {
        (Some(open), true) => (text[..open].trimmed(), &text[open + 1..text.len() - 1]),
        _ => (text, ""),
    }
}

/// PAN-OS severity names as 1 (informational) … 5 (critical).
fn severity_number(severity: &str) -> Option<i64> {
    let number = match severity {
        "informational" => 1,
        "low" => 2,
        "medium" => 3,
        "high" => 4,
        "critical" => 5,
        _ => return None,
    };
    Some(number)
}

fn decode_system(record: &Record<'_>, out: &mut Output) -> bool {
    use system::*;
    let event_id = record.get(EVENT_ID);
    if event_id.is_empty() {
        return false;
    }
    out.put_str("event.code", event_id);
    out.put_str("event.action", event_id);
    record.str(out, "panw.panos.vsys", VSYS);
    record.str(out, "panw.panos.object", OBJECT);
    record.str(out, "panw.panos.module", MODULE);
    let severity = record.get(SEVERITY);
    out.put_str("log.level", severity);
    if let Some(level) = severity_number(severity) {
        out.put("event.severity", level);
    }
    record.str(out, "message", DESCRIPTION);
    let subtype = record.get(common::SUBTYPE);
    if subtype == "auth" || subtype == "globalprotect" || event_id.starts_with("auth-") {
        out.put("event.category", "authentication");
        let outcome = if event_id.contains_str("fail") {
            Some("failure")
        } else if event_id.contains_str("success") {
            Some("success")
        } else {
            None
        };
        if let Some(outcome) = outcome {
            out.put("event.outcome", outcome);
        }
        out.put("event.type", "info");
    } else if event_id.contains_str("config") {
        out.put("event.category", "configuration");
        out.put("event.type", "change");
    } else {
        out.put("event.category", "host");
        out.put("event.type", "info");
    }
    true
}

fn decode_config(record: &Record<'_>, out: &mut Output) -> bool {
    use config::*;
    let command = record.get(COMMAND);
    let admin = record.get(ADMIN);
    if command.is_empty() || admin.is_empty() {
        return false;
    }
    out.put("event.category", "configuration");
    out.put("event.type", "change");
    out.put_str("event.action", command);
    out.put_str("user.name", admin);
    let host = record.get(HOST);
    if !out.put_ip("source.ip", host) {
        out.put_str("source.address", host);
    }
    record.str(out, "panw.panos.vsys", VSYS);
    record.str(out, "panw.panos.client", CLIENT);
    let result = record.get(RESULT);
    out.put_str("panw.panos.result", result);
    let outcome = match result {
        "Succeeded" => Some("success"),
        "Failed" => Some("failure"),
        _ => None,
    };
    if let Some(outcome) = outcome {
        out.put("event.outcome", outcome);
    }
    record.str(out, "panw.panos.config_path", PATH);
    true
}

fn list<'a>(items: impl IntoIterator<Item = &'a str>) -> Value {
    Value::List(items.into_iter().map(Value::from).collect())
}

#[cfg(test)]
#[path = "paloalto_tests.rs"]
mod tests;
