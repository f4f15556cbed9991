//! A notification as a Vigil [`Event`]: the raw datagram as the original, a one-line summary as
//! the message, everything decoded under `snmp.*`. No community or key ever goes into a field.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use vigil_event::{field, Event, Timestamp, ToCompactString, Value};

use crate::snmp::message::SnmpVersion;
use crate::snmp::receiver::Trap;
use crate::snmp::usm::hex;
use crate::snmp::value::{SnmpValue, VarBind};

/// `event.dataset` of every notification.
pub const DATASET: &str = "snmp.trap";
/// `event.action` of a notification without a standard name.
pub const DEFAULT_ACTION: &str = "snmp-trap";
/// Each varbind's value is also the field `snmp.oid.<numeric OID>`.
pub const OID_FIELD_PREFIX: &str = "snmp.oid.";

/// The most varbinds the summary in `message` lists; all of them are in `snmp.varbinds`.
const MAX_SUMMARY_VARBINDS: usize = 16;
/// The most characters of one string value the summary shows.
const MAX_SUMMARY_VALUE_CHARS: usize = 64;

impl Trap {
    /// The notification as an event received from `peer` at `received`; `datagram` is kept
    /// exactly as `event.original`.
    pub fn to_event(&self, datagram: &[u8], peer: SocketAddr, received: Timestamp) -> Event {
        let mut event = Event::new(received, super::redact_community(datagram));
        event.source = Some(peer);
        // A v1 agent says who it is; 0.0.0.0 (an agent that does not know) says nothing.
        let host_ip = match self.agent_address {
            Some(address) if !address.is_unspecified() => IpAddr::V4(address),
            _ => peer.ip(),
        };
        event.host_ip = Some(host_ip);
        event.message = self.summary(host_ip);

        let trap_name = self.trap_oid.exact_name();
        let mut fields: Vec<(&str, Value)> = vec![
            (field::EVENT_KIND, "event".into()),
            (field::EVENT_CATEGORY, "network".into()),
            (field::EVENT_TYPE, "info".into()),
            (field::EVENT_DATASET, DATASET.into()),
            (
                field::EVENT_ACTION,
                trap_name.unwrap_or(DEFAULT_ACTION).into(),
            ),
            ("snmp.version", self.version.as_str().into()),
            ("snmp.pdu", self.pdu.as_str().into()),
        ];
        if let Some(request_id) = self.request_id {
            fields.push(("snmp.request_id", i64::from(request_id).into()));
        }
        if let Some(name) = &self.security_name {
            fields.push(("snmp.security_name", name.clone().into()));
        }
        if let Some(level) = self.security_level {
            fields.push(("snmp.security_level", level.as_str().into()));
        }
        if let Some(engine_id) = &self.engine_id {
            fields.push(("snmp.engine_id", hex(engine_id).into()));
        }
        if !self.trap_oid.is_empty() {
            fields.push(("snmp.trap_oid", self.trap_oid.to_string().into()));
        }
        if let Some(name) = trap_name {
            fields.push(("snmp.trap_name", name.into()));
        }
        if let Some(uptime) = self.uptime {
            fields.push(("snmp.uptime", i64::from(uptime).into()));
        }
        if let Some(enterprise) = &self.enterprise {
            fields.push(("snmp.enterprise", enterprise.to_string().into()));
        }
        if let Some(address) = self.agent_address {
            fields.push(("snmp.agent_address", address.to_string().into()));
        }
        if let Some(generic_trap) = self.generic_trap {
            fields.push(("snmp.generic_trap", generic_trap.into()));
        }
        if let Some(specific_trap) = self.specific_trap {
            fields.push(("snmp.specific_trap", specific_trap.into()));
        }
        let varbinds = self.varbinds.iter().map(varbind_value).collect();
        fields.push(("snmp.varbinds", Value::List(varbinds)));
        for (key, value) in fields {
            event.fields.insert(key.into(), value);
        }
        // Each value also as a field of its own, keyed by the numeric OID, so that a search or
        // a rule can name it: `snmp.oid.1.3.6.1.2.1.2.2.1.8.2:2` (ifOperStatus.2 is down).
        for varbind in &self.varbinds {
            if let Some(value) = scalar_value(&varbind.value) {
                event
                    .fields
                    .insert(format!("{OID_FIELD_PREFIX}{}", varbind.oid).into(), value);
            }
        }
        event
    }

    /// `SNMPv2c linkDown from 127.0.0.1: ifIndex.2=2 ifDescr.2="eth0" ifOperStatus.2=2`.
    fn summary(&self, host_ip: IpAddr) -> String {
        let version = match self.version {
            SnmpVersion::V1 => "SNMPv1",
            SnmpVersion::V2c => "SNMPv2c",
            SnmpVersion::V3 => "SNMPv3",
        };
        let what = match self.trap_oid.exact_name() {
            Some(name) => name.to_owned(),
            None if self.trap_oid.is_empty() => self.pdu.as_str().to_owned(),
            None => self.trap_oid.to_string(),
        };
        let mut text = format!("{version} {what} from {host_ip}");
        for (index, varbind) in self.varbinds.iter().enumerate() {
            if index == MAX_SUMMARY_VARBINDS {
                let _ = write!(text, " …(+{} more)", self.varbinds.len() - index);
                break;
            }
            text.push_str(if index == 0 { ": " } else { " " });
            match varbind.oid.name() {
                Some(name) => text.push_str(&name),
                None => {
                    let _ = write!(text, "{}", varbind.oid);
                }
            }
            text.push('=');
            summarize_value(&mut text, &varbind.value);
        }
        text
    }
}

fn summarize_value(text: &mut String, value: &SnmpValue) {
    match value {
        SnmpValue::OctetString(bytes) => match printable(bytes) {
            Some(string) => {
                let shown: String = string.chars().take(MAX_SUMMARY_VALUE_CHARS).collect();
                let _ = write!(text, "{shown:?}");
                if shown.len() < string.len() {
                    text.push('…');
                }
            }
            None => text.push_str(&hex(bytes.get(..MAX_SUMMARY_VALUE_CHARS).unwrap_or(bytes))),
        },
        SnmpValue::Opaque(bytes) | SnmpValue::Other { bytes, .. } => {
            text.push_str(&hex(bytes.get(..MAX_SUMMARY_VALUE_CHARS).unwrap_or(bytes)));
        }
        SnmpValue::Null => text.push_str("null"),
        SnmpValue::NoSuchObject => text.push_str("noSuchObject"),
        SnmpValue::NoSuchInstance => text.push_str("noSuchInstance"),
        SnmpValue::EndOfMibView => text.push_str("endOfMibView"),
        other => match scalar_value(other) {
            Some(Value::Int(number)) => {
                let _ = write!(text, "{number}");
            }
            Some(Value::Str(shown)) => text.push_str(&shown),
            _ => {}
        },
    }
}

/// The bytes as text when they are UTF-8 without control characters other than tab, CR and LF;
/// otherwise (a MAC address, a packed date) they are shown as hex.
fn printable(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    let binary = text
        .chars()
        .any(|character| character.is_control() && !matches!(character, '\t' | '\r' | '\n'));
    (!binary).then_some(text)
}

/// A value as an event field: numbers as `Int` (a Counter64 past `i64::MAX` as its decimal
/// text), strings as text or lowercase hex, OIDs and addresses dotted; `None` for the
/// valueless (null and the exceptions).
fn scalar_value(value: &SnmpValue) -> Option<Value> {
    let value = match value {
        SnmpValue::Integer(number) => Value::Int(i64::from(*number)),
        SnmpValue::Counter32(number)
        | SnmpValue::Gauge32(number)
        | SnmpValue::TimeTicks(number) => Value::Int(i64::from(*number)),
        SnmpValue::Counter64(number) => match i64::try_from(*number) {
            Ok(number) => Value::Int(number),
            Err(_) => Value::Str(number.to_compact_string()),
        },
        SnmpValue::OctetString(bytes) => match printable(bytes) {
            Some(text) => Value::from(text),
            None => Value::from(hex(bytes)),
        },
        SnmpValue::Opaque(bytes) | SnmpValue::Other { bytes, .. } => Value::from(hex(bytes)),
        SnmpValue::ObjectId(oid) => Value::Str(oid.to_compact_string()),
        SnmpValue::IpAddress(address) => Value::ip((*address).into()),
        SnmpValue::Null
        | SnmpValue::NoSuchObject
        | SnmpValue::NoSuchInstance
        | SnmpValue::EndOfMibView => return None,
    };
    Some(value)
}

/// One entry of `snmp.varbinds`: `{oid, name?, type, value?}`.
fn varbind_value(varbind: &VarBind) -> Value {
    let mut entry = BTreeMap::new();
    entry.insert("oid".into(), Value::Str(varbind.oid.to_compact_string()));
    if let Some(name) = varbind.oid.name() {
        entry.insert("name".into(), Value::from(name));
    }
    entry.insert("type".into(), Value::from(varbind.value.type_name()));
    if let Some(value) = scalar_value(&varbind.value) {
        entry.insert("value".into(), value);
    }
    Value::Map(entry)
}
