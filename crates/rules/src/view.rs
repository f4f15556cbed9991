//! Reading an event's fields by name, fast: a rule's field names are resolved once, at load,
//! to a typed member of [`Event`] or a slot number; each event's map fields are then looked up
//! at most once however many rules read them ([`View`]).

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};

use vigil_event::{access, field, Event, Value};

use crate::hash::FastMap;

/// A field name as rules use it, resolved.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldRef {
    pub name: String,
    slot: Slot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Slot {
    Message,
    ProcessName,
    HostName,
    SourceIp,
    /// Another typed member of [`Event`]: read through [`access`].
    Typed,
    /// In the event's map of fields; the number caches its lookup in a [`View`].
    Map(usize),
}

/// Field names → slot numbers, for the life of the process (only rule field names go in).
static SLOTS: LazyLock<Mutex<FastMap<String, usize>>> = LazyLock::new(Default::default);
static SLOT_COUNT: AtomicUsize = AtomicUsize::new(0);

impl FieldRef {
    pub fn new(name: &str) -> Self {
        let slot = match name {
            field::MESSAGE => Slot::Message,
            field::PROCESS_NAME => Slot::ProcessName,
            field::HOST_NAME => Slot::HostName,
            field::SOURCE_IP => Slot::SourceIp,
            _ if access::MEMBERS.contains(&name) => Slot::Typed,
            _ => {
                let mut slots = SLOTS.lock().unwrap_or_else(|poison| poison.into_inner());
                let next = slots.len();
                let slot = *slots.entry(name.to_owned()).or_insert(next);
                SLOT_COUNT.store(slots.len(), Ordering::Release);
                Slot::Map(slot)
            }
        };
        FieldRef {
            name: name.to_owned(),
            slot,
        }
    }
}

impl std::fmt::Display for FieldRef {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.name)
    }
}

#[derive(Clone, Copy)]
enum Lookup<'e> {
    Unknown,
    Missing,
    Found(&'e Value),
}

/// One event as the rules read it, with each map field looked up once.
pub struct View<'e> {
    pub event: &'e Event,
    cache: Vec<Lookup<'e>>,
}

impl<'e> View<'e> {
    pub fn new(event: &'e Event) -> Self {
        View {
            event,
            cache: vec![Lookup::Unknown; SLOT_COUNT.load(Ordering::Acquire)],
        }
    }

    fn map_value(&mut self, field: &FieldRef, slot: usize) -> Option<&'e Value> {
        let event = self.event;
        let Some(cached) = self.cache.get_mut(slot) else {
            return event.fields.get(field.name.as_str());
        };
        match *cached {
            Lookup::Found(value) => Some(value),
            Lookup::Missing => None,
            Lookup::Unknown => {
                let found = event.fields.get(field.name.as_str());
                *cached = found.map_or(Lookup::Missing, Lookup::Found);
                found
            }
        }
    }

    /// The field as text, if it has a single value.
    pub fn text(&mut self, field: &FieldRef) -> Option<Cow<'e, str>> {
        let event = self.event;
        match field.slot {
            Slot::Message => Some(Cow::Borrowed(event.message.as_str())),
            Slot::ProcessName => event.process_name.as_deref().map(Cow::Borrowed),
            Slot::HostName => event.host_name.as_deref().map(Cow::Borrowed),
            Slot::SourceIp => event.source.map(|peer| Cow::Owned(peer.ip().to_string())),
            Slot::Typed => access::text(event, &field.name),
            Slot::Map(slot) => match self.map_value(field, slot)? {
                Value::Str(text) => Some(Cow::Borrowed(text.as_str())),
                Value::Int(number) => Some(Cow::Owned(number.to_string())),
                Value::Float(number) => Some(Cow::Owned(number.to_string())),
                Value::Bool(flag) => Some(Cow::Owned(flag.to_string())),
                Value::List(_) | Value::Map(_) => None,
            },
        }
    }

    /// Calls `visit` with each text value (one, or each text item of a list) until it returns
    /// `true`; whether it did.
    pub fn any_text(&mut self, field: &FieldRef, mut visit: impl FnMut(&str) -> bool) -> bool {
        if let Slot::Map(slot) = field.slot {
            return match self.map_value(field, slot) {
                None => false,
                Some(Value::Str(text)) => visit(text),
                Some(Value::List(items)) => items.iter().any(|item| match item {
                    Value::Str(text) => visit(text),
                    _ => false,
                }),
                Some(Value::Int(number)) => visit(&number.to_string()),
                Some(Value::Float(number)) => visit(&number.to_string()),
                Some(Value::Bool(flag)) => visit(if *flag { "true" } else { "false" }),
                Some(Value::Map(_)) => false,
            };
        }
        match self.text(field) {
            Some(text) => visit(&text),
            None => field.slot == Slot::Typed && access::any_text(self.event, &field.name, visit),
        }
    }

    /// The field as an address, if it is one.
    pub fn ip(&mut self, field: &FieldRef) -> Option<IpAddr> {
        match field.slot {
            Slot::SourceIp => self.event.source.map(|peer| peer.ip()),
            Slot::Map(slot) => self.map_value(field, slot)?.as_str()?.trim().parse().ok(),
            _ => access::ip(self.event, &field.name),
        }
    }

    /// The field as a number, when it is one (or text that reads as one).
    pub fn number(&mut self, field: &FieldRef) -> Option<f64> {
        if let Slot::Map(slot) = field.slot {
            return match self.map_value(field, slot)? {
                Value::Int(number) => Some(*number as f64),
                Value::Float(number) => Some(*number),
                Value::Str(text) => text.trim().parse().ok(),
                _ => None,
            };
        }
        self.text(field)?.trim().parse().ok()
    }

    pub fn exists(&mut self, field: &FieldRef) -> bool {
        match field.slot {
            Slot::Map(slot) => self.map_value(field, slot).is_some(),
            _ => self.text(field).is_some(),
        }
    }

    /// The field's part of a group key; an address stays an address (no text made per event).
    pub fn key_part(&mut self, field: &FieldRef) -> KeyPart {
        if let Slot::SourceIp = field.slot {
            return self
                .event
                .source
                .map_or(KeyPart::Missing, |peer| KeyPart::Address(peer.ip()));
        }
        match self.text(field) {
            Some(text) => KeyPart::Text(text.into_owned().into_boxed_str()),
            None => KeyPart::Missing,
        }
    }
}

/// One group-by field's value in a window's key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyPart {
    Missing,
    Address(IpAddr),
    Text(Box<str>),
}

impl std::fmt::Display for KeyPart {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyPart::Missing => Ok(()),
            KeyPart::Address(address) => write!(formatter, "{address}"),
            KeyPart::Text(text) => formatter.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_event::Timestamp;

    #[test]
    fn a_view_reads_typed_members_and_map_fields_alike() {
        let mut event = Event::new(Timestamp::from_nanos(0), Vec::new());
        event.message = "hello".into();
        event.source = Some("192.0.2.7:514".parse().unwrap());
        event.level = vigil_event::SecurityLevel::new(4).unwrap();
        access::set(&mut event, "user.name", Value::from("root"));
        access::set(&mut event, "destination.port", Value::Int(22));
        access::set(
            &mut event,
            "event.type",
            Value::List(vec![Value::from("start"), Value::from("denied")]),
        );
        let fields = [
            "message",
            "source.ip",
            "vigil.level",
            "user.name",
            "destination.port",
            "event.type",
            "nope",
        ]
        .map(FieldRef::new);
        let mut view = View::new(&event);
        let texts: Vec<Option<String>> = fields
            .iter()
            .map(|field| view.text(field).map(Cow::into_owned))
            .collect();
        assert_eq!(
            texts,
            [
                Some("hello"),
                Some("192.0.2.7"),
                Some("4"),
                Some("root"),
                Some("22"),
                None,
                None
            ]
            .map(|text| text.map(str::to_owned))
        );
        assert!(view.any_text(&fields[5], |text| text == "denied"));
        assert_eq!(view.number(&fields[4]), Some(22.0));
        assert_eq!(view.ip(&fields[1]), "192.0.2.7".parse().ok());
        assert!(view.exists(&fields[3]) && !view.exists(&fields[6]));
        assert_eq!(view.key_part(&fields[1]).to_string(), "192.0.2.7");
    }
}
