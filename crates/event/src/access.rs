//! Reading and writing an event's fields by their dotted names, whether the field is a typed
//! member of [`Event`] (`message`, `host.name`, `source.ip`, …) or in its map of other fields.
//! User mappings address every field the same way through these.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use crate::{field, Event, Value};

/// Fields that only Vigil sets: a mapping may read them but never write them.
pub fn is_reserved(name: &str) -> bool {
    name.starts_with("vigil.")
        || [
            field::EVENT_ID,
            field::EVENT_CREATED,
            field::EVENT_ORIGINAL,
            field::TIMESTAMP,
        ]
        .contains(&name)
}

/// Calls `visit` with each text value of `name` (one, or each item of a list) until it returns
/// `true`; whether it did.
pub fn any_text(event: &Event, name: &str, mut visit: impl FnMut(&str) -> bool) -> bool {
    match name {
        field::MESSAGE => visit(&event.message),
        field::HOST_NAME => event.host_name.as_deref().is_some_and(visit),
        field::PROCESS_NAME => event.process_name.as_deref().is_some_and(visit),
        field::SYSLOG_MSGID => event.msgid.as_deref().is_some_and(visit),
        field::TENANT => visit(&event.tenant),
        field::LISTENER => visit(&event.listener),
        field::EVENT_ORIGINAL => visit(&String::from_utf8_lossy(&event.original)),
        _ => match text(event, name) {
            Some(text) => visit(&text),
            None => match event.fields.get(name) {
                Some(Value::List(items)) => items.iter().any(|item| match item {
                    Value::Str(text) => visit(text),
                    _ => false,
                }),
                _ => false,
            },
        },
    }
}

/// The names this module reads from typed members of [`Event`] rather than from its map of
/// fields. Callers that resolve names ahead of time (the rules) use it to know which is which;
/// a name added to [`text`] or [`any_text`] belongs here too (a test holds the two together).
pub const MEMBERS: [&str; 17] = [
    field::MESSAGE,
    field::HOST_NAME,
    field::PROCESS_NAME,
    field::SOURCE_IP,
    field::SYSLOG_MSGID,
    field::TENANT,
    field::LISTENER,
    field::EVENT_ORIGINAL,
    field::LEVEL,
    field::HOST_IP,
    field::SOURCE_PORT,
    field::PROCESS_PID,
    field::OBSERVER_HOSTNAME,
    field::TIMESTAMP,
    field::EVENT_ID,
    field::SYSLOG_SEVERITY_NAME,
    field::SYSLOG_FACILITY_NAME,
];

/// The field as text, if it has a single value.
pub fn text<'a>(event: &'a Event, name: &str) -> Option<Cow<'a, str>> {
    let borrowed = |text: &'a str| Some(Cow::Borrowed(text));
    match name {
        field::MESSAGE => borrowed(&event.message),
        field::HOST_NAME => event.host_name.as_deref().and_then(borrowed),
        field::PROCESS_NAME => event.process_name.as_deref().and_then(borrowed),
        field::SYSLOG_MSGID => event.msgid.as_deref().and_then(borrowed),
        field::TENANT => borrowed(&event.tenant),
        field::LISTENER => borrowed(&event.listener),
        field::LEVEL => Some(Cow::Owned(event.level.get().to_string())),
        field::HOST_IP => event.host_ip.map(|ip| Cow::Owned(ip.to_string())),
        field::SOURCE_IP => event.source.map(|peer| Cow::Owned(peer.ip().to_string())),
        field::SOURCE_PORT => event.source.map(|peer| Cow::Owned(peer.port().to_string())),
        field::PROCESS_PID => event.process_pid.map(|pid| Cow::Owned(pid.to_string())),
        field::OBSERVER_HOSTNAME => event.observer.as_deref().and_then(borrowed),
        field::TIMESTAMP => Some(Cow::Owned(event.timestamp.to_datetime().to_rfc3339())),
        field::EVENT_ID => Some(Cow::Owned(event.id.to_string())),
        field::SYSLOG_SEVERITY_NAME => event.severity_name().map(Cow::Borrowed),
        field::SYSLOG_FACILITY_NAME => event.facility_name().map(Cow::Borrowed),
        _ => match event.fields.get(name)? {
            Value::Str(text) => borrowed(text),
            Value::Int(number) => Some(Cow::Owned(number.to_string())),
            Value::Float(number) => Some(Cow::Owned(number.to_string())),
            Value::Bool(flag) => Some(Cow::Owned(flag.to_string())),
            Value::List(_) | Value::Map(_) => None,
        },
    }
}

/// The field as an IP address, if it is one.
pub fn ip(event: &Event, name: &str) -> Option<IpAddr> {
    match name {
        field::SOURCE_IP => event.source.map(|peer| peer.ip()),
        field::HOST_IP => event.host_ip,
        _ => event.fields.get(name)?.as_str()?.parse().ok(),
    }
}

/// Sets `name` to `value`. Typed members take values of their type (an address that does not
/// parse goes to the map instead, so nothing is lost).
pub fn set(event: &mut Event, name: &str, value: Value) {
    let text = |value: &Value| match value {
        Value::Str(text) => Some(text.to_string()),
        Value::Int(number) => Some(number.to_string()),
        Value::Float(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::List(_) | Value::Map(_) => None,
    };
    match name {
        field::MESSAGE => {
            if let Some(text) = text(&value) {
                event.message = text;
                return;
            }
        }
        field::HOST_NAME => {
            if let Some(text) = text(&value) {
                event.host_name = Some(text);
                return;
            }
        }
        field::PROCESS_NAME => {
            if let Some(text) = text(&value) {
                event.process_name = Some(text);
                return;
            }
        }
        field::SYSLOG_MSGID => {
            if let Some(text) = text(&value) {
                event.msgid = Some(text);
                return;
            }
        }
        field::TENANT | field::LISTENER => {
            if let Some(text) = text(&value) {
                let text: std::sync::Arc<str> = text.into();
                if name == field::TENANT {
                    event.tenant = text;
                } else {
                    event.listener = text;
                }
                return;
            }
        }
        field::PROCESS_PID => {
            if let Some(pid) = integer(&value) {
                event.process_pid = Some(pid);
                return;
            }
        }
        field::HOST_IP => {
            if let Some(address) = value.as_str().and_then(|text| text.parse().ok()) {
                event.host_ip = Some(address);
                return;
            }
        }
        field::SOURCE_IP => {
            if let Some(address) = value.as_str().and_then(|text| text.parse().ok()) {
                let port = event.source.map_or(0, |peer| peer.port());
                event.source = Some(SocketAddr::new(address, port));
                return;
            }
        }
        field::SOURCE_PORT => {
            if let (Some(port), Some(peer)) = (
                integer(&value).and_then(|port| u16::try_from(port).ok()),
                event.source.as_mut(),
            ) {
                peer.set_port(port);
                return;
            }
        }
        _ => {}
    }
    event.fields.insert(name.to_owned().into(), value);
}

/// Takes `name` out of the event (for a rename). Typed members give their value as text
/// (`source.port` as an integer) and are cleared; a port cannot exist without its address, so
/// taking `source.port` leaves the address with port 0.
pub fn take(event: &mut Event, name: &str) -> Option<Value> {
    match name {
        field::HOST_NAME => event.host_name.take().map(Value::from),
        field::PROCESS_NAME => event.process_name.take().map(Value::from),
        field::SYSLOG_MSGID => event.msgid.take().map(Value::from),
        field::MESSAGE => Some(Value::from(std::mem::take(&mut event.message))),
        field::HOST_IP => event.host_ip.take().map(Value::ip),
        field::SOURCE_IP => event.source.take().map(|peer| Value::ip(peer.ip())),
        field::SOURCE_PORT => event.source.as_mut().map(|peer| {
            let port = peer.port();
            peer.set_port(0);
            Value::Int(i64::from(port))
        }),
        field::PROCESS_PID => event.process_pid.take().map(Value::Int),
        _ => event.fields.remove(name),
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Int(number) => Some(*number),
        Value::Str(text) => text.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;

    #[test]
    fn members_are_never_read_from_the_map() {
        let mut event = Event::new(Timestamp::from_nanos(0), b"original".to_vec());
        for name in MEMBERS {
            event.fields.insert(name.into(), Value::from("from-map"));
        }
        for name in MEMBERS {
            assert!(
                !any_text(&event, name, |text| text == "from-map"),
                "{name} is read from the map"
            );
        }
        event
            .fields
            .insert("user.name".into(), Value::from("from-map"));
        assert!(any_text(&event, "user.name", |text| text == "from-map"));
    }

    #[test]
    fn typed_members_and_the_map_read_and_write_alike() {
        let mut event = Event::new(Timestamp::from_nanos(0), Vec::new());
        event.source = Some("10.0.0.1:514".parse().unwrap());
        set(&mut event, "source.ip", Value::from("192.0.2.7"));
        set(&mut event, "source.port", Value::from("2222"));
        assert_eq!(event.source, Some("192.0.2.7:2222".parse().unwrap()));
        set(&mut event, "host.ip", Value::from("not an address"));
        assert_eq!(event.host_ip, None);
        assert_eq!(event.fields["host.ip"], Value::from("not an address"));
        assert_eq!(
            take(&mut event, "source.ip"),
            Some(Value::from("192.0.2.7"))
        );
        assert_eq!(event.source, None);
        set(&mut event, "user.name", Value::from("alice"));
        assert_eq!(text(&event, "user.name").as_deref(), Some("alice"));
        assert_eq!(take(&mut event, "user.name"), Some(Value::from("alice")));
        event.fields.insert(
            "event.type".into(),
            Value::List(vec!["start".into(), "allowed".into()]),
        );
        assert!(any_text(&event, "event.type", |text| text == "allowed"));
        assert!(!any_text(&event, "event.type", |text| text == "denied"));
    }

    #[test]
    fn vigil_fields_are_reserved() {
        assert!(is_reserved("vigil.tenant"));
        assert!(is_reserved("@timestamp"));
        assert!(!is_reserved("user.name"));
    }
}
