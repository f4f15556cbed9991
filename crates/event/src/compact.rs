//! The compact encoding of an event, used by the archive and the channel: the [`Event`] minus
//! what `event.original` already holds.
//!
//! A decoded syslog event repeats its line: `message`, `host.name` and `process.name` are
//! usually verbatim slices of `event.original`. Stored as (offset, length) into the original they
//! cost a few bytes instead of their text, which took the archive from 0.36 to 0.25 bytes per raw
//! byte on `vigil-loadgen` traffic (`benches/RESULTS.md`). Decoding gives back the identical event.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::{Event, EventFlags, EventId, Fields, SecurityLevel, StructuredElement, Timestamp};
use serde::{Deserialize, Serialize};

/// Texts up to this long are found by their first byte (see [`Text::of`]).
const SHORT_TEXT_BYTES: usize = 64;

/// Text that is either a slice of `event.original` or carried whole.
#[derive(Clone, Serialize, Deserialize)]
enum Text {
    InOriginal { start: u32, len: u32 },
    Own(String),
}

impl Text {
    fn of(text: &str, original: &[u8], search_from_end: bool) -> Self {
        let needle = text.as_bytes();
        // Host and app are short and near the start: stepping from one occurrence of their
        // first byte to the next beats building a `memmem` searcher for each text of each
        // event. Longer texts take `memmem`, so no line makes this quadratic.
        let at = |start: &usize| original[*start..].starts_with(needle);
        let found = match needle.first() {
            None => Some(0),
            Some(_) if search_from_end && original.ends_with(needle) => {
                Some(original.len() - needle.len())
            }
            Some(_) if needle.len() > SHORT_TEXT_BYTES && search_from_end => {
                memchr::memmem::rfind(original, needle)
            }
            Some(_) if needle.len() > SHORT_TEXT_BYTES => memchr::memmem::find(original, needle),
            Some(&first) if search_from_end => memchr::memrchr_iter(first, original).find(at),
            Some(&first) => memchr::memchr_iter(first, original).find(at),
        };
        match found.and_then(|start| {
            Some((
                u32::try_from(start).ok()?,
                u32::try_from(needle.len()).ok()?,
            ))
        }) {
            Some((start, len)) => Text::InOriginal { start, len },
            None => Text::Own(text.to_owned()),
        }
    }

    fn resolve(self, original: &[u8]) -> Result<String, String> {
        match self {
            Text::Own(text) => Ok(text),
            Text::InOriginal { start, len } => {
                let (start, end) = (start as usize, start as usize + len as usize);
                let bytes = original
                    .get(start..end)
                    .ok_or("text reference outside the original")?;
                String::from_utf8(bytes.to_vec())
                    .map_err(|_| "text reference is not UTF-8".to_string())
            }
        }
    }
}

/// Field for field an [`Event`], with the three texts as `Text`. Made from an event it
/// borrows what it would otherwise copy (the original, the other fields: dozens of strings for a
/// flow record), so that encoding a batch copies nothing twice; decoded, it owns them.
///
/// postcard writes a struct's fields back to back, so `rest` encodes exactly as if its fields
/// were this struct's own (what archives written before it was split out hold).
#[derive(Serialize, Deserialize)]
pub struct CompactEvent<'a> {
    id: EventId,
    /// `@timestamp` − `event.created`, nanoseconds: small for live traffic, a varint of 1-5 bytes.
    timestamp_from_created: i64,
    /// `event.created` − the previous event's in the batch (the first: since the epoch).
    created_from_previous: i64,
    #[serde(
        serialize_with = "crate::as_bytes::serialize",
        deserialize_with = "crate::as_bytes::deserialize_cow"
    )]
    original: Cow<'a, [u8]>,
    rest: Rest<'a>,
}

/// An event's fields beside its id, its two times and its original: the row a columnar batch
/// keeps of it.
#[derive(Clone, Serialize, Deserialize)]
struct Rest<'a> {
    message: Text,
    host_name: Option<Text>,
    host_ip: Option<IpAddr>,
    facility: Option<u8>,
    severity: Option<u8>,
    syslog_version: Option<u32>,
    process_name: Option<Text>,
    process_pid: Option<i64>,
    procid: Option<String>,
    msgid: Option<String>,
    structured_data: Cow<'a, [StructuredElement]>,
    source: Option<SocketAddr>,
    observer: Option<Arc<str>>,
    tenant: Arc<str>,
    level: SecurityLevel,
    listener: Arc<str>,
    flags: EventFlags,
    fields: Cow<'a, Fields>,
}

impl<'a> CompactEvent<'a> {
    /// `previous_created` is the `event.created` of the event before it in the batch (zero for
    /// the first): times are stored as differences, which postcard writes as short varints.
    pub fn from_event(event: &'a Event, previous_created: Timestamp) -> Self {
        let original = &event.original;
        Self {
            id: event.id,
            timestamp_from_created: event
                .timestamp
                .as_nanos()
                .wrapping_sub(event.created.as_nanos()),
            created_from_previous: event
                .created
                .as_nanos()
                .wrapping_sub(previous_created.as_nanos()),
            original: Cow::Borrowed(original),
            rest: Rest {
                message: Text::of(&event.message, original, true),
                host_name: event
                    .host_name
                    .as_deref()
                    .map(|host| Text::of(host, original, false)),
                host_ip: event.host_ip,
                facility: event.facility,
                severity: event.severity,
                syslog_version: event.syslog_version,
                process_name: event
                    .process_name
                    .as_deref()
                    .map(|name| Text::of(name, original, false)),
                process_pid: event.process_pid,
                procid: event.procid.clone(),
                msgid: event.msgid.clone(),
                structured_data: Cow::Borrowed(&event.structured_data),
                source: event.source,
                observer: event.observer.clone(),
                tenant: event.tenant.clone(),
                level: event.level,
                listener: event.listener.clone(),
                flags: event.flags,
                fields: Cow::Borrowed(&event.fields),
            },
        }
    }

    pub fn into_event(self, previous_created: Timestamp) -> Result<Event, String> {
        let created = previous_created
            .as_nanos()
            .wrapping_add(self.created_from_previous);
        let original = self.original.into_owned();
        let rest = self.rest;
        let message = rest.message.resolve(&original)?;
        let host_name = rest
            .host_name
            .map(|text| text.resolve(&original))
            .transpose()?;
        let process_name = rest
            .process_name
            .map(|text| text.resolve(&original))
            .transpose()?;
        Ok(Event {
            id: self.id,
            timestamp: Timestamp::from_nanos(created.wrapping_add(self.timestamp_from_created)),
            created: Timestamp::from_nanos(created),
            original,
            message,
            host_name,
            host_ip: rest.host_ip,
            facility: rest.facility,
            severity: rest.severity,
            syslog_version: rest.syslog_version,
            process_name,
            process_pid: rest.process_pid,
            procid: rest.procid,
            msgid: rest.msgid,
            structured_data: rest.structured_data.into_owned(),
            source: rest.source,
            observer: rest.observer,
            tenant: rest.tenant,
            level: rest.level,
            listener: rest.listener,
            flags: rest.flags,
            fields: rest.fields.into_owned(),
        })
    }
}

/// A batch in compact form, each event's `event.created` stored against the one before it.
pub fn compact_batch(events: &[Event]) -> Vec<CompactEvent<'_>> {
    let mut previous_created = Timestamp::from_nanos(0);
    events
        .iter()
        .map(|event| {
            let compact = CompactEvent::from_event(event, previous_created);
            previous_created = event.created;
            compact
        })
        .collect()
}

/// The events of a batch [`compact_batch`] made.
pub fn expand_batch(compact: Vec<CompactEvent<'_>>) -> Result<Vec<Event>, String> {
    let mut previous_created = Timestamp::from_nanos(0);
    compact
        .into_iter()
        .map(|compact| {
            let event = compact.into_event(previous_created)?;
            previous_created = event.created;
            Ok(event)
        })
        .collect()
}

/// The columns of a batch. Each column holds like values side by side, which is what lets
/// zstd find them: ids and times as steps from the event before (a counter's step is 1, the
/// receive time of one read is repeated), the rows of small fields (each a byte 0, "as the row
/// before", or 1 and the row: a relay's undecoded lines repeat theirs), then every original
/// back to back after the columns.
#[derive(Serialize, Deserialize)]
struct Columns {
    id_steps: Vec<i128>,
    created_steps: Vec<i64>,
    timestamp_from_created: Vec<i64>,
    original_lengths: Vec<u32>,
    #[serde(with = "crate::as_bytes")]
    rows: Vec<u8>,
}

const ROW_AS_BEFORE: u8 = 0;
const ROW_NEW: u8 = 1;
/// Only a row this small is repeated by reference, so that one byte of a hostile batch cannot
/// make the receiver copy a large row (a relayed line's row is ~60 bytes).
const MAX_REPEATED_ROW_BYTES: usize = 256;

/// Opens a columnar batch. A batch of rows ([`compact_batch`] as postcard) starts with its
/// event count as a varint, whose first byte is zero only for an empty batch of one byte: a
/// longer payload that starts with zero is columnar.
const COLUMNAR_MAGIC: [u8; 2] = [0, 1];

/// `events` as a columnar batch: on `vigil-loadgen` lines relayed undecoded it compresses to
/// little more than the lines alone (`benches/RESULTS.md`).
pub fn columnar_batch(events: &[Event]) -> Result<Vec<u8>, String> {
    let mut columns = Columns {
        id_steps: Vec::with_capacity(events.len()),
        created_steps: Vec::with_capacity(events.len()),
        timestamp_from_created: Vec::with_capacity(events.len()),
        original_lengths: Vec::with_capacity(events.len()),
        rows: Vec::with_capacity(events.len() * 2),
    };
    // Two buffers, swapped when a row differs from the one before: no allocation per row.
    let (mut row, mut previous_row) = (Vec::new(), Vec::new());
    let mut has_previous = false;
    let (mut previous_id, mut previous_created) = (0u128, Timestamp::from_nanos(0));
    let mut originals = 0usize;
    for event in events {
        let compact = CompactEvent::from_event(event, previous_created);
        let id = u128::from_be_bytes(*event.id.as_bytes());
        columns.id_steps.push(id.wrapping_sub(previous_id) as i128);
        previous_id = id;
        previous_created = event.created;
        columns.created_steps.push(compact.created_from_previous);
        columns
            .timestamp_from_created
            .push(compact.timestamp_from_created);
        columns
            .original_lengths
            .push(u32::try_from(event.original.len()).map_err(|_| "an original over 4 GiB")?);
        originals += event.original.len();
        row.clear();
        row = postcard::to_extend(&compact.rest, row).map_err(|error| error.to_string())?;
        if has_previous && row.len() <= MAX_REPEATED_ROW_BYTES && previous_row == row {
            columns.rows.push(ROW_AS_BEFORE);
        } else {
            columns.rows.push(ROW_NEW);
            columns.rows.extend_from_slice(&row);
            std::mem::swap(&mut previous_row, &mut row);
            has_previous = true;
        }
    }
    // Room for all of it at once (ids, times and lengths take up to 40 bytes an event):
    // growing a batch of megabytes step by step copies it again at each step.
    let room = COLUMNAR_MAGIC.len() + columns.rows.len() + events.len() * 40 + originals;
    let mut out = Vec::with_capacity(room);
    out.extend_from_slice(&COLUMNAR_MAGIC);
    let mut out = postcard::to_extend(&columns, out).map_err(|error| error.to_string())?;
    out.reserve(originals);
    for event in events {
        out.extend_from_slice(&event.original);
    }
    Ok(out)
}

/// Whether `payload` is a [`columnar_batch`] rather than a postcard row batch.
pub fn is_columnar(payload: &[u8]) -> bool {
    payload.len() > COLUMNAR_MAGIC.len() && payload.starts_with(&COLUMNAR_MAGIC)
}

/// Why a columnar batch did not decode.
#[derive(Debug, PartialEq, Eq)]
pub enum ColumnarError {
    /// It holds another number of events than it was said to.
    Count {
        declared: usize,
        found: usize,
    },
    Malformed(String),
}

/// The events of a [`columnar_batch`], which must hold `count` of them.
pub fn expand_columnar(payload: &[u8], count: usize) -> Result<Vec<Event>, ColumnarError> {
    let malformed = |error: String| ColumnarError::Malformed(error);
    let body = payload
        .strip_prefix(&COLUMNAR_MAGIC[..])
        .ok_or_else(|| malformed("not a columnar batch".into()))?;
    let (columns, mut originals): (Columns, &[u8]) =
        postcard::take_from_bytes(body).map_err(|error| malformed(error.to_string()))?;
    let mut rows = Vec::with_capacity(count.min(columns.rows.len()));
    let mut unread = &columns.rows[..];
    let mut repeatable = false;
    while let Some((tag, after)) = unread.split_first() {
        let row = match (*tag, rows.last()) {
            (ROW_AS_BEFORE, Some(before)) if repeatable => {
                unread = after;
                Rest::clone(before)
            }
            (ROW_NEW, _) => {
                let (row, after) = postcard::take_from_bytes::<Rest>(after)
                    .map_err(|error| malformed(error.to_string()))?;
                repeatable = unread.len() - after.len() - 1 <= MAX_REPEATED_ROW_BYTES;
                unread = after;
                row
            }
            _ => return Err(malformed(format!("row tag {tag} where none can be"))),
        };
        rows.push(row);
        if rows.len() > count {
            break;
        }
    }
    if rows.len() != count {
        return Err(ColumnarError::Count {
            declared: count,
            found: rows.len(),
        });
    }
    let lengths = [
        columns.id_steps.len(),
        columns.created_steps.len(),
        columns.timestamp_from_created.len(),
        columns.original_lengths.len(),
        rows.len(),
    ];
    if lengths.iter().any(|length| *length != count) {
        return Err(malformed(format!(
            "columns of {lengths:?} values in a batch of {count} events"
        )));
    }
    let total = columns
        .original_lengths
        .iter()
        .try_fold(0usize, |sum, length| sum.checked_add(*length as usize));
    if total != Some(originals.len()) {
        return Err(malformed(format!(
            "the originals take {} bytes, not the {total:?} their lengths add up to",
            originals.len()
        )));
    }
    let (mut previous_id, mut previous_created) = (0u128, Timestamp::from_nanos(0));
    let mut events = Vec::with_capacity(count);
    let rows = columns
        .id_steps
        .into_iter()
        .zip(columns.created_steps)
        .zip(columns.timestamp_from_created)
        .zip(columns.original_lengths)
        .zip(rows);
    for ((((id_step, created_step), timestamp_from_created), length), rest) in rows {
        let (original, after) = originals.split_at(length as usize);
        originals = after;
        let id = previous_id.wrapping_add(id_step as u128);
        previous_id = id;
        let compact = CompactEvent {
            id: EventId::from_bytes(id.to_be_bytes()),
            timestamp_from_created,
            created_from_previous: created_step,
            original: Cow::Borrowed(original),
            rest,
        };
        let event = compact.into_event(previous_created).map_err(malformed)?;
        previous_created = event.created;
        events.push(event);
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;
    use std::collections::BTreeMap;

    /// The encoding as it was before `CompactEvent` borrowed: every archive segment and channel
    /// outbox written since holds it, so the borrowed form must encode to the same bytes.
    #[derive(Serialize)]
    struct OwnedCompactEvent {
        id: EventId,
        timestamp_from_created: i64,
        created_from_previous: i64,
        original: Vec<u8>,
        message: Text,
        host_name: Option<Text>,
        host_ip: Option<IpAddr>,
        facility: Option<u8>,
        severity: Option<u8>,
        syslog_version: Option<u32>,
        process_name: Option<Text>,
        process_pid: Option<i64>,
        procid: Option<String>,
        msgid: Option<String>,
        structured_data: Vec<StructuredElement>,
        source: Option<SocketAddr>,
        observer: Option<Arc<str>>,
        tenant: Arc<str>,
        level: SecurityLevel,
        listener: Arc<str>,
        flags: EventFlags,
        fields: Fields,
    }

    #[test]
    fn the_borrowed_encoding_is_the_owned_one() {
        let mut event = Event::new(
            Timestamp::from_nanos(1_000),
            b"<13>1 2026-01-01T00:00:00Z host app 7 ID [sd a=\"b\"] text".to_vec(),
        );
        event.message = "text".into();
        event.host_name = Some("host".into());
        event.process_name = Some("app".into());
        event.procid = Some("seven".into());
        event.msgid = Some("ID".into());
        event.structured_data = vec![StructuredElement {
            id: "sd".into(),
            params: vec![("a".into(), "b".into())],
        }];
        event.source = Some("10.0.0.1:514".parse().unwrap());
        event.host_ip = Some("10.0.0.2".parse().unwrap());
        event
            .fields
            .insert("destination.port".into(), Value::Int(22));
        event.fields.insert(
            "snmp.varbinds".into(),
            Value::List(vec![Value::Map(BTreeMap::from([(
                "oid".to_owned(),
                Value::from("1.3.6"),
            )]))]),
        );
        let previous = Timestamp::from_nanos(10);
        let owned = OwnedCompactEvent {
            id: event.id,
            timestamp_from_created: event.timestamp.as_nanos() - event.created.as_nanos(),
            created_from_previous: event.created.as_nanos() - previous.as_nanos(),
            original: event.original.clone(),
            message: Text::of(&event.message, &event.original, true),
            host_name: Some(Text::of("host", &event.original, false)),
            host_ip: event.host_ip,
            facility: None,
            severity: None,
            syslog_version: None,
            process_name: Some(Text::of("app", &event.original, false)),
            process_pid: None,
            procid: event.procid.clone(),
            msgid: event.msgid.clone(),
            structured_data: event.structured_data.clone(),
            source: event.source,
            observer: None,
            tenant: event.tenant.clone(),
            level: event.level,
            listener: event.listener.clone(),
            flags: event.flags,
            fields: event.fields.clone(),
        };
        let borrowed = CompactEvent::from_event(&event, previous);
        assert_eq!(
            postcard::to_allocvec(&borrowed).unwrap(),
            postcard::to_allocvec(&owned).unwrap()
        );
        let bytes = postcard::to_allocvec(&borrowed).unwrap();
        let decoded: CompactEvent = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(decoded.into_event(previous).unwrap(), event);
    }

    #[test]
    fn compact_event_round_trips_with_and_without_references() {
        let mut event = Event::new(
            Timestamp::from_nanos(42),
            b"<13>Jan  1 00:00:00 host-a sshd[9]: Failed password".to_vec(),
        );
        event.message = "Failed password".into();
        event.host_name = Some("host-a".into());
        event.process_name = Some("sshd".into());
        let previous = Timestamp::from_nanos(40);
        let compact = CompactEvent::from_event(&event, previous);
        assert!(matches!(compact.rest.message, Text::InOriginal { .. }));
        assert_eq!(compact.into_event(previous).unwrap(), event);

        let mut rewritten = event.clone();
        rewritten.message = "not in the original".into();
        rewritten.original = vec![0xff, 0xfe];
        rewritten.host_name = Some(String::new());
        rewritten.timestamp = Timestamp::from_nanos(i64::MIN);
        let zero = Timestamp::from_nanos(0);
        let compact = CompactEvent::from_event(&rewritten, zero);
        assert_eq!(compact.into_event(zero).unwrap(), rewritten);
    }

    fn mixed_batch() -> Vec<Event> {
        let mut events = Vec::new();
        for n in 0..50i64 {
            let line = format!("<13>Jan  1 00:00:{n:02} host-{n} sshd[{n}]: Failed password");
            let mut event = Event::new(Timestamp::from_nanos(1_000 + n / 7), line.into_bytes());
            if n % 3 == 0 {
                event.message = "Failed password".into();
                event.host_name = Some(format!("host-{n}"));
                event.process_name = Some("sshd".into());
                event.process_pid = Some(n);
                event.timestamp = Timestamp::from_nanos(n * 1_000_000_007 - 5);
            }
            if n % 5 == 0 {
                event.flags.insert(EventFlags::UNDECODED);
                event.source = Some("10.1.2.3:514".parse().unwrap());
                event.observer = Some(Arc::from("agent-1"));
            }
            if n % 7 == 0 {
                event
                    .fields
                    .insert("destination.port".into(), crate::Value::Int(n));
                event.original = Vec::new();
                event.id = EventId::from_bytes([n as u8; 16]);
            }
            if n == 11 {
                event.message = "not in the original".into();
                event.created = Timestamp::from_nanos(i64::MIN);
            }
            events.push(event);
        }
        events
    }

    #[test]
    fn a_columnar_batch_round_trips() {
        let events = mixed_batch();
        let payload = columnar_batch(&events).unwrap();
        assert!(is_columnar(&payload));
        assert_eq!(expand_columnar(&payload, events.len()).unwrap(), events);
        let empty = columnar_batch(&[]).unwrap();
        assert!(is_columnar(&empty));
        assert_eq!(expand_columnar(&empty, 0).unwrap(), Vec::<Event>::new());
        // A row batch is never taken for a columnar one.
        let rows = postcard::to_allocvec(&compact_batch(&events)).unwrap();
        assert!(!is_columnar(&rows));
        assert!(!is_columnar(
            &postcard::to_allocvec(&compact_batch(&[])).unwrap()
        ));
    }

    #[test]
    fn only_small_rows_repeat_by_reference() {
        let relayed = |fields: usize| {
            let mut event = Event::new(Timestamp::from_nanos(5), b"<13>a line".to_vec());
            event.flags.insert(EventFlags::UNDECODED);
            for n in 0..fields {
                event.fields.insert(
                    format!("field.{n}").into(),
                    crate::Value::from("x".repeat(20)),
                );
            }
            event
        };
        for (fields, repeated) in [(0, true), (20, false)] {
            let events: Vec<Event> = (0..10).map(|_| relayed(fields)).collect();
            let payload = columnar_batch(&events).unwrap();
            let body = &payload[COLUMNAR_MAGIC.len()..];
            let (columns, _): (Columns, &[u8]) = postcard::take_from_bytes(body).unwrap();
            // Ten rows of 600 bytes, or one small row and nine bytes "as before".
            assert_eq!(columns.rows.len() < 2 * MAX_REPEATED_ROW_BYTES, repeated);
            assert_eq!(expand_columnar(&payload, 10).unwrap(), events);
        }
    }

    #[test]
    fn a_columnar_batch_that_lies_is_an_error() {
        let events = mixed_batch();
        let payload = columnar_batch(&events).unwrap();
        assert_eq!(
            expand_columnar(&payload, events.len() - 1).unwrap_err(),
            ColumnarError::Count {
                declared: events.len() - 1,
                found: events.len()
            }
        );
        let mut longer = payload.clone();
        longer.push(b'x');
        assert!(matches!(
            expand_columnar(&longer, events.len()),
            Err(ColumnarError::Malformed(reason)) if reason.contains("originals take")
        ));
        for cut in [3, payload.len() / 2, payload.len() - 1] {
            assert!(expand_columnar(&payload[..cut], events.len()).is_err());
        }
    }

    proptest::proptest! {
        #[test]
        fn any_payload_decodes_or_is_refused(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            count in 0usize..8,
        ) {
            let mut payload = COLUMNAR_MAGIC.to_vec();
            payload.extend_from_slice(&bytes);
            let _ = expand_columnar(&payload, count);
        }

        #[test]
        fn flipped_bytes_never_panic(at in 0usize..4096, bit in 0u8..8) {
            let payload = columnar_batch(&mixed_batch()).unwrap();
            let mut bent = payload.clone();
            let at = at % bent.len();
            bent[at] ^= 1 << bit;
            let _ = expand_columnar(&bent, 50);
        }
    }
}
