use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::{field, EventId, SecurityLevel, Timestamp};

/// A field's name in [`Event::fields`]: borrowed when it is a constant (every decoder's names
/// are), so setting a field allocates only its value.
pub type FieldName = std::borrow::Cow<'static, str>;

pub use crate::fields::Fields;

/// One log line after decoding: the core schema as typed fields, everything else in `fields`.
///
/// `original` keeps the exact bytes received (frame without its framing), so nothing is lost even
/// when the bytes are not UTF-8 or the line does not parse.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `event.id`
    pub id: EventId,
    /// `@timestamp`: when the event happened, from the message when it says, else receive time.
    pub timestamp: Timestamp,
    /// `event.created`: when Vigil received it.
    pub created: Timestamp,
    /// `event.original`: the bytes as received.
    pub original: Vec<u8>,
    /// `message`
    pub message: String,
    /// `host.name`
    pub host_name: Option<String>,
    /// `host.ip`
    pub host_ip: Option<IpAddr>,
    /// `log.syslog.facility.code`
    pub facility: Option<u8>,
    /// `log.syslog.severity.code`
    pub severity: Option<u8>,
    /// `log.syslog.version`: 1 for RFC 5424, absent for RFC 3164.
    pub syslog_version: Option<u32>,
    /// `process.name` (syslog APP-NAME or TAG)
    pub process_name: Option<String>,
    /// `process.pid` when PROCID is numeric
    pub process_pid: Option<i64>,
    /// `log.syslog.procid` when PROCID is not numeric
    pub procid: Option<String>,
    /// `log.syslog.msgid`
    pub msgid: Option<String>,
    /// `log.syslog.structured_data`
    pub structured_data: Vec<StructuredElement>,
    /// `source.ip` and `source.port`: the peer that sent it.
    pub source: Option<SocketAddr>,
    /// `observer.hostname`: the Vigil node that received it.
    pub observer: Option<Arc<str>>,
    /// `vigil.tenant`: the agency the source belongs to.
    pub tenant: Arc<str>,
    /// `vigil.level`
    pub level: SecurityLevel,
    /// `vigil.listener`: the listener's name from config.
    pub listener: Arc<str>,
    /// `vigil.flags`
    pub flags: EventFlags,
    /// Every other field, by its ECS-style dotted name.
    pub fields: Fields,
}

/// One SD-ELEMENT of RFC 5424: an id and its parameters, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StructuredElement {
    pub id: String,
    pub params: Vec<(String, String)>,
}

/// Facts about how an event was received, each a reason to look twice at it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventFlags(u8);

impl EventFlags {
    /// The line did not parse as syslog: it is kept whole in `message`.
    pub const UNPARSED: EventFlags = EventFlags(1);
    /// The frame was longer than the limit and was cut.
    pub const TRUNCATED: EventFlags = EventFlags(2);
    /// The bytes were not valid UTF-8; `message` has replacement characters, `original` is exact.
    pub const INVALID_UTF8: EventFlags = EventFlags(4);
    /// The source is not in the source map: tenant and level are the defaults.
    pub const UNMAPPED_SOURCE: EventFlags = EventFlags(8);
    /// Imported from a file (`vigil import`), not received live: it is kept in the partition
    /// of the day it happened, so its retention counts from then.
    pub const IMPORTED: EventFlags = EventFlags(16);
    /// Raised by a Vigil rule: the event carries an [`crate::Alert`].
    pub const ALERT: EventFlags = EventFlags(32);
    /// Relayed as its bytes only (a `vigil agent`'s syslog line): the receiving SOC decodes
    /// `original` itself, in its own sources' time zones, and clears the flag before it stores
    /// the event.
    pub const UNDECODED: EventFlags = EventFlags(64);

    const NAMES: [(EventFlags, &'static str); 7] = [
        (Self::UNPARSED, "unparsed"),
        (Self::TRUNCATED, "truncated"),
        (Self::INVALID_UTF8, "invalid_utf8"),
        (Self::UNMAPPED_SOURCE, "unmapped_source"),
        (Self::IMPORTED, "imported"),
        (Self::ALERT, "alert"),
        (Self::UNDECODED, "undecoded"),
    ];

    pub fn contains(self, other: EventFlags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn insert(&mut self, other: EventFlags) {
        self.0 |= other.0;
    }

    pub fn remove(&mut self, other: EventFlags) {
        self.0 &= !other.0;
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names of the flags that are set, for search and display.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(flag, _)| self.contains(*flag))
            .map(|(_, name)| name)
    }
}

/// The tenant of events whose source is not mapped and whose listener names none.
pub const DEFAULT_TENANT: &str = "default";

/// Shared so that making an event allocates no string for these (this runs per event).
static DEFAULT_TENANT_ARC: std::sync::LazyLock<Arc<str>> =
    std::sync::LazyLock::new(|| Arc::from(DEFAULT_TENANT));
static EMPTY_ARC: std::sync::LazyLock<Arc<str>> = std::sync::LazyLock::new(|| Arc::from(""));

impl Event {
    /// An event received now-ish with nothing decoded yet: `message` is empty, the time is the
    /// receive time, tenant and level are the defaults.
    pub fn new(received: Timestamp, original: Vec<u8>) -> Self {
        Self {
            id: EventId::new_v7(),
            timestamp: received,
            created: received,
            original,
            message: String::new(),
            host_name: None,
            host_ip: None,
            facility: None,
            severity: None,
            syslog_version: None,
            process_name: None,
            process_pid: None,
            procid: None,
            msgid: None,
            structured_data: Vec::new(),
            source: None,
            observer: None,
            tenant: DEFAULT_TENANT_ARC.clone(),
            level: SecurityLevel::default(),
            listener: EMPTY_ARC.clone(),
            flags: EventFlags::default(),
            fields: Fields::new(),
        }
    }

    /// The UTC day whose partition keeps the event: the day it was received, or for an
    /// imported event the day it happened — unless that is after the import (a clock or a
    /// line that is wrong): a future partition would escape the retention janitor's order.
    pub fn partition_day(&self) -> chrono::NaiveDate {
        const DAY_NANOS: i64 = 86_400 * 1_000_000_000;
        let plausible =
            self.timestamp.as_nanos() <= self.created.as_nanos().saturating_add(DAY_NANOS);
        if self.flags.contains(EventFlags::IMPORTED) && plausible {
            self.timestamp.utc_day()
        } else {
            self.created.utc_day()
        }
    }

    pub fn facility_name(&self) -> Option<&'static str> {
        self.facility.and_then(field::facility_name)
    }

    pub fn severity_name(&self) -> Option<&'static str> {
        self.severity.and_then(field::severity_name)
    }

    /// `log.syslog.structured_data` as JSON: `{"SD-ID": {"param": "value", …}, …}`.
    pub fn structured_data_json(&self) -> Json {
        let elements: Map<String, Json> = self
            .structured_data
            .iter()
            .map(|element| {
                let params: Map<String, Json> = element
                    .params
                    .iter()
                    .map(|(name, value)| (name.clone(), Json::String(value.clone())))
                    .collect();
                (element.id.clone(), Json::Object(params))
            })
            .collect();
        Json::Object(elements)
    }

    /// The event as one flat JSON object keyed by dotted field names.
    pub fn to_json(&self) -> Json {
        let mut out = Map::new();
        let mut put = |key: &str, value: Json| {
            out.insert(key.into(), value);
        };
        put(field::TIMESTAMP, Json::String(self.timestamp.to_string()));
        put(field::EVENT_ID, Json::String(self.id.to_string()));
        put(field::EVENT_CREATED, Json::String(self.created.to_string()));
        match std::str::from_utf8(&self.original) {
            Ok(text) => put(field::EVENT_ORIGINAL, Json::String(text.to_owned())),
            Err(_) => {
                let lossy = String::from_utf8_lossy(&self.original).into_owned();
                put(field::EVENT_ORIGINAL, Json::String(lossy));
                let exact = base64::engine::general_purpose::STANDARD.encode(&self.original);
                put(field::ORIGINAL_BASE64, Json::String(exact));
            }
        }
        put(field::MESSAGE, Json::String(self.message.clone()));
        let optional_text = [
            (field::HOST_NAME, self.host_name.as_deref()),
            (field::PROCESS_NAME, self.process_name.as_deref()),
            (field::SYSLOG_PROCID, self.procid.as_deref()),
            (field::SYSLOG_MSGID, self.msgid.as_deref()),
            (field::SYSLOG_FACILITY_NAME, self.facility_name()),
            (field::SYSLOG_SEVERITY_NAME, self.severity_name()),
            (field::OBSERVER_HOSTNAME, self.observer.as_deref()),
        ];
        for (key, value) in optional_text {
            if let Some(text) = value {
                put(key, Json::String(text.to_owned()));
            }
        }
        if let Some(ip) = self.host_ip {
            put(field::HOST_IP, Json::String(ip.to_string()));
        }
        if let Some(code) = self.facility {
            put(field::SYSLOG_FACILITY_CODE, Json::from(code));
        }
        if let Some(code) = self.severity {
            put(field::SYSLOG_SEVERITY_CODE, Json::from(code));
        }
        if let (Some(facility), Some(severity)) = (self.facility, self.severity) {
            put(
                field::SYSLOG_PRIORITY,
                Json::from(u16::from(facility) * 8 + u16::from(severity)),
            );
        }
        if let Some(version) = self.syslog_version {
            put(field::SYSLOG_VERSION, Json::from(version));
        }
        if let Some(pid) = self.process_pid {
            put(field::PROCESS_PID, Json::from(pid));
        }
        if !self.structured_data.is_empty() {
            put(field::SYSLOG_STRUCTURED_DATA, self.structured_data_json());
        }
        if let Some(source) = self.source {
            put(field::SOURCE_IP, Json::String(source.ip().to_string()));
            put(field::SOURCE_PORT, Json::from(source.port()));
        }
        put(field::TENANT, Json::String(self.tenant.to_string()));
        put(field::LEVEL, Json::from(self.level.get()));
        put(field::LISTENER, Json::String(self.listener.to_string()));
        if !self.flags.is_empty() {
            put(field::FLAGS, self.flags.names().map(Json::from).collect());
        }
        for (key, value) in &self.fields {
            out.insert(key.to_string(), value.to_json());
        }
        Json::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_imported_event_is_filed_under_its_own_day_unless_that_is_in_the_future() {
        let day = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        let at = |text: &str| {
            Timestamp::from_datetime(chrono::DateTime::parse_from_rfc3339(text).unwrap())
        };
        let mut event = Event::new(at("2026-11-27T10:00:00Z"), Vec::new());
        event.timestamp = at("2025-12-10T06:55:46Z");
        assert_eq!(event.partition_day(), day("2026-11-27"));
        event.flags.insert(EventFlags::IMPORTED);
        assert_eq!(event.partition_day(), day("2025-12-10"));
        event.timestamp = at("2099-01-01T00:00:00Z");
        assert_eq!(event.partition_day(), day("2026-11-27"));
    }

    #[test]
    fn event_json_keeps_invalid_utf8_exactly_as_base64() {
        let mut event = Event::new(Timestamp::from_nanos(0), vec![b'a', 0xff, b'b']);
        event.flags.insert(EventFlags::INVALID_UTF8);
        let json = event.to_json();
        assert_eq!(json[field::EVENT_ORIGINAL], "a\u{fffd}b");
        assert_eq!(json[field::ORIGINAL_BASE64], "Yf9i");
        assert_eq!(json[field::FLAGS], serde_json::json!(["invalid_utf8"]));
        assert_eq!(json[field::TIMESTAMP], "1970-01-01T00:00:00Z");
    }

    #[test]
    fn event_json_names_syslog_codes() {
        let mut event = Event::new(Timestamp::from_nanos(0), Vec::new());
        event.facility = Some(4);
        event.severity = Some(2);
        let json = event.to_json();
        assert_eq!(json[field::SYSLOG_FACILITY_NAME], "auth");
        assert_eq!(json[field::SYSLOG_SEVERITY_NAME], "crit");
        assert_eq!(json[field::SYSLOG_PRIORITY], 34);
    }
}
