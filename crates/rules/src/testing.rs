//! `vigil rules test`: each rule's own test events, run through the whole rule set (so that a
//! rule that matches another rule's alerts is tested with it), and the alerts of that rule
//! compared with what the test expects.
//!
//! A test event is a map of fields. `@timestamp` is seconds after the test epoch
//! (2024-01-01T00:00:00Z) or an RFC 3339 time; an event without one comes a second after the
//! one before. After the last event the clock moves on by `advance` (absence rules).

use std::sync::Arc;

use rhai::{Dynamic, Map};
use vigil_event::{access, field, Alert, Event, Timestamp, Value};

use crate::engine::{Correlator, Options, RuleSet};
use crate::rule::{Expect, Rule, RuleTest};

/// 2024-01-01T00:00:00Z in nanoseconds.
pub const TEST_EPOCH: i64 = 1_704_067_200_000_000_000;

#[derive(Clone, Debug, serde::Serialize)]
pub struct Outcome {
    pub rule: String,
    pub file: String,
    pub test: String,
    pub passed: bool,
    /// Why it failed, or what fired.
    pub detail: String,
}

/// Runs every test of every rule.
pub fn run_all(set: &Arc<RuleSet>) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for rule in &set.rules {
        for test in &rule.tests {
            outcomes.push(run_one(set, rule, test));
        }
    }
    outcomes
}

fn run_one(set: &Arc<RuleSet>, rule: &Rule, test: &RuleTest) -> Outcome {
    let outcome = |passed: bool, detail: String| Outcome {
        rule: rule.id.clone(),
        file: rule.file.clone(),
        test: test.name.clone(),
        passed,
        detail,
    };
    let mut correlator = Correlator::new(set.clone(), Options::default());
    let mut alerts: Vec<Alert> = Vec::new();
    let mut time = TEST_EPOCH - 1_000_000_000;
    for (at, fields) in test.events.iter().enumerate() {
        let event = match event_of(fields, time) {
            Ok(event) => event,
            Err(error) => return outcome(false, format!("event {}: {error}", at + 1)),
        };
        time = event.timestamp.as_nanos();
        let now = Timestamp::from_nanos(time);
        alerts.extend(correlator.tick(now));
        alerts.extend(correlator.process(&event, now));
    }
    alerts.extend(correlator.tick(Timestamp::from_nanos(time.saturating_add(test.advance))));
    let mine: Vec<&Alert> = alerts
        .iter()
        .filter(|alert| alert.rule_id == rule.id)
        .collect();
    let fired = mine
        .iter()
        .map(|alert| format!("[{}] {}", alert.key, alert.summary))
        .collect::<Vec<_>>()
        .join("; ");
    let describe = |wanted: usize| {
        format!(
            "expected {wanted} alert(s), got {}{}",
            mine.len(),
            if fired.is_empty() {
                String::new()
            } else {
                format!(": {fired}")
            }
        )
    };
    match &test.expect {
        Expect::Count(wanted) => {
            if mine.len() == *wanted {
                outcome(true, format!("{} alert(s)", mine.len()))
            } else {
                outcome(false, describe(*wanted))
            }
        }
        Expect::Alerts(wanted) => {
            if mine.len() != wanted.len() {
                return outcome(false, describe(wanted.len()));
            }
            for (at, (expected, alert)) in wanted.iter().zip(&mine).enumerate() {
                if let Some(key) = &expected.key {
                    let values: Vec<&str> = alert.key_fields.values().map(String::as_str).collect();
                    if *key != alert.key && values != [key.as_str()] {
                        return outcome(
                            false,
                            format!("alert {}: key {:?}, expected {key:?}", at + 1, alert.key),
                        );
                    }
                }
                if let Some(count) = expected.count {
                    if count != alert.count {
                        return outcome(
                            false,
                            format!("alert {}: count {}, expected {count}", at + 1, alert.count),
                        );
                    }
                }
                if let Some(text) = &expected.summary_contains {
                    if !alert.summary.contains(text.as_str()) {
                        return outcome(
                            false,
                            format!(
                                "alert {}: summary {:?} lacks {text:?}",
                                at + 1,
                                alert.summary
                            ),
                        );
                    }
                }
            }
            outcome(true, fired)
        }
    }
}

/// An event from a test map; `previous` is the time of the event before it.
pub fn event_of(fields: &Map, previous: i64) -> Result<Event, String> {
    let time = match fields.get(field::TIMESTAMP) {
        None => previous + 1_000_000_000,
        Some(value) => time_of(value)?,
    };
    let mut event = Event::new(Timestamp::from_nanos(time), Vec::new());
    event.timestamp = Timestamp::from_nanos(time);
    event.tenant = Arc::from("test");
    event.listener = Arc::from("test");
    for (name, value) in fields {
        if name == field::TIMESTAMP {
            continue;
        }
        if name == field::TENANT {
            event.tenant = Arc::from(value.to_string().as_str());
            continue;
        }
        access::set(&mut event, name, value_of(value)?);
    }
    if event.original.is_empty() {
        event.original = event.message.clone().into_bytes();
    }
    Ok(event)
}

fn time_of(value: &Dynamic) -> Result<i64, String> {
    if let Ok(seconds) = value.as_int() {
        return Ok(TEST_EPOCH.saturating_add(seconds.saturating_mul(1_000_000_000)));
    }
    if let Ok(seconds) = value.as_float() {
        return Ok(TEST_EPOCH.saturating_add((seconds * 1e9) as i64));
    }
    let text = value
        .clone()
        .into_string()
        .map_err(|_| "@timestamp is seconds after the test epoch or an RFC 3339 time".to_owned())?;
    chrono::DateTime::parse_from_rfc3339(&text)
        .map(|time| Timestamp::from_datetime(time).as_nanos())
        .map_err(|error| format!("@timestamp {text:?}: {error}"))
}

fn value_of(value: &Dynamic) -> Result<Value, String> {
    if value.is_string() {
        return Ok(Value::from(value.clone().into_string().unwrap_or_default()));
    }
    if let Ok(integer) = value.as_int() {
        return Ok(Value::Int(integer));
    }
    if let Ok(number) = value.as_float() {
        return Ok(Value::Float(number));
    }
    if let Ok(flag) = value.as_bool() {
        return Ok(Value::Bool(flag));
    }
    if let Some(items) = value.clone().try_cast::<rhai::Array>() {
        return Ok(Value::List(
            items.iter().map(value_of).collect::<Result<_, _>>()?,
        ));
    }
    Err(format!("a {} cannot be a field value", value.type_name()))
}
