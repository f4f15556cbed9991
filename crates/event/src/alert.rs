//! What a rule raises: an [`Alert`], with its [`Severity`], and the event that carries it
//! through the archive, the index and forwarding ([`Alert::to_event`]).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{field, Event, EventFlags, EventId, SecurityLevel, Timestamp, ToCompactString, Value};

/// How urgent an alert is, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const NAMES: [&'static str; 5] = ["info", "low", "medium", "high", "critical"];

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "info" | "informational" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// ECS `event.severity`: 21, 47, 73 and 99 for low to critical, 0 for info.
    pub fn score(self) -> i64 {
        match self {
            Severity::Info => 0,
            Severity::Low => 21,
            Severity::Medium => 47,
            Severity::High => 73,
            Severity::Critical => 99,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// One firing of a rule for one group key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: EventId,
    pub rule_id: String,
    /// The rule's `version`, or a digest of its file when it gives none.
    pub rule_version: String,
    pub severity: Severity,
    pub title: String,
    pub summary: String,
    /// The group key as text (`source.ip=192.0.2.7`), empty for a rule without `by`.
    pub key: String,
    /// The `by` fields and their values.
    pub key_fields: BTreeMap<String, String>,
    /// Event time of the first and last contributing event.
    #[serde(with = "rfc3339")]
    pub first_seen: Timestamp,
    #[serde(with = "rfc3339")]
    pub last_seen: Timestamp,
    /// Contributing events (for a distinct count, the events that brought new values).
    pub count: u64,
    /// The ids of the contributing events, at most [`Alert::MAX_EVENT_IDS`] (the latest).
    pub events: Vec<EventId>,
    /// MITRE ATT&CK technique ids.
    pub attack: Vec<String>,
    pub kill_chain: Option<String>,
    pub tenant: Arc<str>,
    pub level: SecurityLevel,
    /// When the rule fired (processing time).
    #[serde(with = "rfc3339")]
    pub created: Timestamp,
}

/// Alert times as RFC 3339 text in JSON (the alert log is read by people and other tools).
mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::Timestamp;

    pub fn serialize<S: Serializer>(time: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(time)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        chrono::DateTime::parse_from_rfc3339(&text)
            .map(Timestamp::from_datetime)
            .map_err(serde::de::Error::custom)
    }
}

/// `event.kind` of the event that carries an alert.
pub const ALERT_KIND: &str = "alert";

impl Alert {
    /// Contributing event ids kept per alert.
    pub const MAX_EVENT_IDS: usize = 100;

    /// Whether `event` carries a Vigil alert (flagged `alert`, which only Vigil sets; an IDS
    /// alert has `event.kind` `alert` too, and is an ordinary event here).
    pub fn is_alert_event(event: &Event) -> bool {
        event.flags.contains(EventFlags::ALERT)
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The alert as an event, so that it is archived, indexed, searched, forwarded and matched
    /// by other rules like any other: `event.kind` is `alert`, the message is the summary, the
    /// key fields are set as fields, the timestamp is the last contributing event's.
    pub fn to_event(&self) -> Event {
        let mut event = Event::new(self.created, self.summary.clone().into_bytes());
        event.id = self.id;
        event.timestamp = self.last_seen;
        event.message = self.summary.clone();
        event.tenant = self.tenant.clone();
        event.level = self.level;
        event.listener = Arc::from("rules");
        event.flags.insert(EventFlags::ALERT);
        event.process_name = Some("vigil-rules".into());
        let fields = &mut event.fields;
        let mut put = |name: &'static str, value: Value| {
            fields.insert(name.into(), value);
        };
        put(field::EVENT_KIND, Value::from(ALERT_KIND));
        put(field::RULE_ID, Value::from(self.rule_id.as_str()));
        put(field::RULE_NAME, Value::from(self.title.as_str()));
        put(field::RULE_VERSION, Value::from(self.rule_version.as_str()));
        put(field::EVENT_SEVERITY, Value::Int(self.severity.score()));
        put(field::ALERT_SEVERITY, Value::from(self.severity.name()));
        put(field::ALERT_KEY, Value::from(self.key.as_str()));
        put(
            field::ALERT_COUNT,
            Value::Int(i64::try_from(self.count).unwrap_or(i64::MAX)),
        );
        put(
            field::EVENT_START,
            Value::Str(self.first_seen.to_compact_string()),
        );
        put(
            field::EVENT_END,
            Value::Str(self.last_seen.to_compact_string()),
        );
        put(
            field::ALERT_EVENTS,
            Value::List(
                self.events
                    .iter()
                    .map(|id| Value::Str(id.to_compact_string()))
                    .collect(),
            ),
        );
        if !self.attack.is_empty() {
            put(
                field::THREAT_TECHNIQUE_ID,
                Value::List(
                    self.attack
                        .iter()
                        .map(|id| Value::from(id.as_str()))
                        .collect(),
                ),
            );
        }
        if let Some(phase) = &self.kill_chain {
            put(field::ALERT_KILL_CHAIN, Value::from(phase.as_str()));
        }
        for (name, value) in &self.key_fields {
            crate::access::set(&mut event, name, Value::from(value.as_str()));
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_event_carries_its_rule_key_and_tenant() {
        let alert = Alert {
            id: EventId::new_v7(),
            rule_id: "auth.ssh_bruteforce".into(),
            rule_version: "1".into(),
            severity: Severity::High,
            title: "SSH brute force".into(),
            summary: "5 failures from 192.0.2.7".into(),
            key: "source.ip=192.0.2.7".into(),
            key_fields: [("source.ip".to_owned(), "192.0.2.7".to_owned())].into(),
            first_seen: Timestamp::from_nanos(1_000),
            last_seen: Timestamp::from_nanos(2_000),
            count: 5,
            events: vec![EventId::new_v7()],
            attack: vec!["T1110".into()],
            kill_chain: None,
            tenant: Arc::from("agency-a"),
            level: SecurityLevel::new(4).unwrap(),
            created: Timestamp::from_nanos(3_000),
        };
        let event = alert.to_event();
        assert_eq!(event.id, alert.id);
        assert_eq!(event.timestamp, Timestamp::from_nanos(2_000));
        assert_eq!(
            event.source.map(|peer| peer.ip().to_string()).as_deref(),
            Some("192.0.2.7")
        );
        assert_eq!(event.fields["event.kind"], Value::from("alert"));
        assert_eq!(event.fields["rule.id"], Value::from("auth.ssh_bruteforce"));
        assert_eq!(&*event.tenant, "agency-a");
        assert!(Alert::is_alert_event(&event));
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
        assert!(Severity::Critical > Severity::Low);
        let json = alert.to_json();
        assert_eq!(json["last_seen"], "1970-01-01T00:00:00.000002Z");
        let back: Alert = serde_json::from_value(json).unwrap();
        assert_eq!(back, alert);
    }
}
