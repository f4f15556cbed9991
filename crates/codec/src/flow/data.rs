//! Data sets to [`FlowRecord`]s, following a [`Template`]'s plan. Shared by NetFlow v9 and IPFIX.

use std::net::SocketAddr;

use vigil_event::Timestamp;

use super::record::{Element, FieldBytes, FlowKind, FlowRecord};
use super::template::{FieldLength, Slot, Template, TemplateField};
use super::wire::{self, NANOS_PER_MICRO, NANOS_PER_MILLI};

/// What a data set needs from the message it came in (kept with a parked set, so that it is
/// decoded as if it had just arrived).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MessageHeader {
    pub kind: FlowKind,
    pub exporter: SocketAddr,
    /// v9 source id or IPFIX observation domain id.
    pub domain: u32,
    pub export_time: Timestamp,
    /// v9 only: the header's sysUpTime, milliseconds.
    pub sys_uptime_ms: u32,
}

impl MessageHeader {
    pub(crate) fn scope(&self) -> ScopeKey {
        ScopeKey {
            exporter: self.exporter,
            kind: self.kind,
            domain: self.domain,
        }
    }
}

/// Whose templates these are: template ids are only unique within one exporter's transport
/// session and observation domain (RFC 7011 §8, RFC 3954 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ScopeKey {
    pub exporter: SocketAddr,
    pub kind: FlowKind,
    pub domain: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DataSetOutcome {
    pub records: usize,
    /// A variable-length field ran past the set's end: the records before it were kept.
    pub malformed: bool,
}

/// Decodes records until fewer bytes remain than the smallest record (the rest is padding).
/// `system_init` is the exporter's systemInitTimeMilliseconds from its options records, for
/// IPFIX uptimes in records that do not carry their own.
pub(crate) fn decode_data_set(
    template: &Template,
    template_id: u16,
    body: &[u8],
    header: &MessageHeader,
    system_init: Option<Timestamp>,
    out: &mut Vec<FlowRecord>,
) -> DataSetOutcome {
    let mut outcome = DataSetOutcome::default();
    let mut rest = body;
    // `Template::new` refuses templates whose records take no bytes, so each round advances.
    debug_assert!(template.min_record_bytes > 0);
    while template.min_record_bytes > 0 && rest.len() >= template.min_record_bytes {
        // Filled in place: a record is a few hundred bytes, not worth moving around.
        out.push(FlowRecord::empty(
            header.kind,
            header.exporter,
            header.domain,
            template_id,
            header.export_time,
            template.options,
        ));
        let decoded = out
            .last_mut()
            .and_then(|record| decode_record(template, rest, header, system_init, record));
        let Some(consumed) = decoded else {
            out.pop();
            outcome.malformed = true;
            break;
        };
        outcome.records += 1;
        rest = rest.get(consumed..).unwrap_or_default();
    }
    outcome
}

/// Fills `record` from the start of `bytes`; returns how many bytes it took, or `None` if it
/// runs past the end.
fn decode_record(
    template: &Template,
    bytes: &[u8],
    header: &MessageHeader,
    system_init: Option<Timestamp>,
    record: &mut FlowRecord,
) -> Option<usize> {
    record.other = Vec::with_capacity(template.other_fields);
    record.scope = Vec::with_capacity(template.scope_fields);
    let mut uptimes = Uptimes::default();
    let consumed = match template.fixed_record_bytes {
        // Every field at a known place: one bounds check for the record.
        Some(record_bytes) => {
            let record_area = bytes.get(..record_bytes)?;
            for field in template.fields.iter() {
                let value = field.fixed_place.bytes_in(record_area);
                place_value(
                    field,
                    field.fixed_place,
                    value,
                    header,
                    record,
                    &mut uptimes,
                );
            }
            record_bytes
        }
        None => {
            let mut position = 0usize;
            for field in template.fields.iter() {
                let length = match field.length {
                    FieldLength::Fixed(length) => usize::from(length),
                    FieldLength::Variable => {
                        let (length, prefix_bytes) = variable_length(bytes.get(position..)?)?;
                        position += prefix_bytes;
                        length
                    }
                };
                let end = position.checked_add(length)?;
                let value = bytes.get(position..end)?;
                let place = FieldBytes {
                    offset: u32::try_from(position).ok()?,
                    length: u32::try_from(length).ok()?,
                };
                position = end;
                place_value(field, place, value, header, record, &mut uptimes);
            }
            position
        }
    };
    record.raw = bytes.get(..consumed)?.to_vec();
    if uptimes.system_init.is_none() {
        uptimes.system_init = system_init;
    }
    uptimes.resolve(record, header);
    Some(consumed)
}

/// Puts one field's value where the template's plan says.
// Inlined into both loops: a call per field costs as much as the work.
#[inline(always)]
fn place_value(
    field: &TemplateField,
    place: FieldBytes,
    value: &[u8],
    header: &MessageHeader,
    record: &mut FlowRecord,
    uptimes: &mut Uptimes,
) {
    match field.slot {
        Slot::Scope => record.scope.push((field.element, place)),
        Slot::Other => record.other.push((field.element, place)),
        Slot::SystemInit => {
            if uptimes.system_init.is_none() {
                uptimes.system_init = system_init_time(value);
            }
            record.other.push((field.element, place));
        }
        // IPFIX uptimes stay visible: they become times only when an init time is known.
        Slot::StartUptime | Slot::EndUptime if header.kind == FlowKind::Ipfix => {
            fill(field.slot, value, header, record, uptimes);
            record.other.push((field.element, place));
        }
        slot => {
            if !fill(slot, value, header, record, uptimes) {
                record.other.push((field.element, place));
            }
        }
    }
}

/// systemInitTimeMilliseconds (IPFIX element 160): when the exporter's uptime counter started.
pub(crate) const SYSTEM_INIT_TIME: Element = Element::iana(160);

pub(crate) fn system_init_time(value: &[u8]) -> Option<Timestamp> {
    wire::uint(value).and_then(wire::from_millis)
}

/// The length of a variable-length value and the bytes its length took (RFC 7011 §7).
fn variable_length(bytes: &[u8]) -> Option<(usize, usize)> {
    match *bytes.first()? {
        255 => Some((usize::from(wire::be_u16(bytes, 1)?), 3)),
        length => Some((usize::from(length), 1)),
    }
}

/// Uptime readings, resolved once the whole record (and its systemInitTimeMilliseconds) is read.
#[derive(Default)]
struct Uptimes {
    start_ms: Option<u32>,
    end_ms: Option<u32>,
    system_init: Option<Timestamp>,
}

impl Uptimes {
    fn resolve(&self, record: &mut FlowRecord, header: &MessageHeader) {
        let absolute = |uptime_ms: u32| match header.kind {
            // Not init + uptime: the 32-bit uptime wraps every ~49.7 days. The uptime at export
            // (modulo 2^32) puts the reading in the window around the export time instead.
            FlowKind::Ipfix => self.system_init.map(|init| {
                let export_ms = header.export_time.as_nanos().div_euclid(NANOS_PER_MILLI);
                let init_ms = init.as_nanos().div_euclid(NANOS_PER_MILLI);
                let export_uptime_ms = export_ms.wrapping_sub(init_ms) as u32;
                wire::from_uptime(header.export_time, export_uptime_ms, uptime_ms)
            }),
            _ => Some(wire::from_uptime(
                header.export_time,
                header.sys_uptime_ms,
                uptime_ms,
            )),
        };
        if record.start.is_none() {
            record.start = self.start_ms.and_then(absolute);
        }
        if record.end.is_none() {
            record.end = self.end_ms.and_then(absolute);
        }
    }
}

/// Fills `slot` from `value` unless it is already filled or the value does not fit; says
/// whether it did (if not, the caller keeps the element in `other`).
#[inline(always)]
fn fill(
    slot: Slot,
    value: &[u8],
    header: &MessageHeader,
    record: &mut FlowRecord,
    uptimes: &mut Uptimes,
) -> bool {
    let integer = || wire::uint(value);
    match slot {
        Slot::Bytes => set_once(&mut record.bytes, integer()),
        Slot::Packets => set_once(&mut record.packets, integer()),
        Slot::Protocol => set_once(&mut record.protocol, narrow(integer())),
        Slot::Tos => set_once(&mut record.tos, narrow(integer())),
        Slot::TcpFlags => set_once(&mut record.tcp_flags, narrow(integer())),
        Slot::SourcePort => set_once(&mut record.source_port, narrow(integer())),
        Slot::DestinationPort => set_once(&mut record.destination_port, narrow(integer())),
        Slot::SourceIpv4 => set_once(&mut record.source, wire::ipv4(value)),
        Slot::DestinationIpv4 => set_once(&mut record.destination, wire::ipv4(value)),
        Slot::NextHopIpv4 => set_once(&mut record.next_hop, wire::ipv4(value)),
        Slot::SourceIpv6 => set_once(&mut record.source, wire::ipv6(value)),
        Slot::DestinationIpv6 => set_once(&mut record.destination, wire::ipv6(value)),
        Slot::NextHopIpv6 => set_once(&mut record.next_hop, wire::ipv6(value)),
        Slot::InputInterface => set_once(&mut record.input_interface, narrow(integer())),
        Slot::OutputInterface => set_once(&mut record.output_interface, narrow(integer())),
        Slot::SourceAs => set_once(&mut record.source_as, narrow(integer())),
        Slot::DestinationAs => set_once(&mut record.destination_as, narrow(integer())),
        Slot::Direction => set_once(&mut record.direction, narrow(integer())),
        Slot::SamplingInterval => set_once(&mut record.sampling_interval, narrow(integer())),
        Slot::StartUptime => set_once(&mut uptimes.start_ms, narrow(integer())),
        Slot::EndUptime => set_once(&mut uptimes.end_ms, narrow(integer())),
        Slot::StartSeconds => set_once(&mut record.start, integer().and_then(wire::from_seconds)),
        Slot::EndSeconds => set_once(&mut record.end, integer().and_then(wire::from_seconds)),
        Slot::StartMillis => set_once(&mut record.start, integer().and_then(wire::from_millis)),
        Slot::EndMillis => set_once(&mut record.end, integer().and_then(wire::from_millis)),
        Slot::StartNtp => set_once(&mut record.start, wire::from_ntp(value)),
        Slot::EndNtp => set_once(&mut record.end, wire::from_ntp(value)),
        Slot::StartDeltaMicros => set_once(
            &mut record.start,
            before_export(header.export_time, integer()),
        ),
        Slot::EndDeltaMicros => set_once(
            &mut record.end,
            before_export(header.export_time, integer()),
        ),
        Slot::SystemInit | Slot::Scope | Slot::Other => false,
    }
}

fn set_once<T>(target: &mut Option<T>, value: Option<T>) -> bool {
    match (target.is_some(), value) {
        (false, Some(value)) => {
            *target = Some(value);
            true
        }
        _ => false,
    }
}

fn narrow<T: TryFrom<u64>>(value: Option<u64>) -> Option<T> {
    value.and_then(|value| T::try_from(value).ok())
}

fn before_export(export_time: Timestamp, micros: Option<u64>) -> Option<Timestamp> {
    let micros = i64::try_from(micros?).ok()?;
    Some(export_time.saturating_add_nanos(-micros.checked_mul(NANOS_PER_MICRO)?))
}
