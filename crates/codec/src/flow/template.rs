//! A learned template: its fields in order, each with the [`FlowRecord`](super::FlowRecord) field
//! it fills decided once, when the template is learned, so that decoding a record only follows
//! the plan.

use super::record::{Element, FieldBytes, FlowKind};

/// The field length that means "variable" in IPFIX (RFC 7011 §7).
pub(crate) const VARIABLE_LENGTH: u16 = 65_535;

/// A field as its template describes it, before planning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FieldSpec {
    pub element: Element,
    pub length: u16,
}

/// How many bytes a field takes in a data record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldLength {
    Fixed(u16),
    /// IPFIX only: a 1-byte length, or 255 and a 2-byte length, precedes the value.
    Variable,
}

/// Where a field's value goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Bytes,
    Packets,
    Protocol,
    Tos,
    TcpFlags,
    SourcePort,
    DestinationPort,
    SourceIpv4,
    DestinationIpv4,
    NextHopIpv4,
    SourceIpv6,
    DestinationIpv6,
    NextHopIpv6,
    InputInterface,
    OutputInterface,
    SourceAs,
    DestinationAs,
    Direction,
    SamplingInterval,
    /// Milliseconds of exporter uptime: v9 against the header's uptime, IPFIX against
    /// systemInitTimeMilliseconds (from the same record, else from the exporter's options
    /// records).
    StartUptime,
    EndUptime,
    StartSeconds,
    EndSeconds,
    StartMillis,
    EndMillis,
    /// NTP format, microsecond or nanosecond precision alike.
    StartNtp,
    EndNtp,
    /// Microseconds before the export time.
    StartDeltaMicros,
    EndDeltaMicros,
    /// systemInitTimeMilliseconds: used for the uptimes and kept in `other`.
    SystemInit,
    /// An options record's scope field.
    Scope,
    Other,
}

/// One record of a template set, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TemplateRecord {
    Define {
        template_id: u16,
        template: Template,
    },
    /// IPFIX: forget one template.
    Withdraw { template_id: u16 },
    /// IPFIX: forget every template (set 2) or every options template (set 3) of the scope.
    WithdrawAll,
    /// Invalid or over a limit; the parser skipped past it.
    Refused,
    /// Zeros where a record would start: the rest of the set is padding.
    Padding,
    /// The record runs past the set's end: the rest of the set cannot be read.
    Malformed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TemplateField {
    pub element: Element,
    pub length: FieldLength,
    pub slot: Slot,
    /// Where the value lies in a record, when every field of the template has a fixed length.
    pub fixed_place: FieldBytes,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    pub fields: Box<[TemplateField]>,
    /// Options template: its data records are options records.
    pub options: bool,
    /// The fewest bytes a record can take (each variable-length field counted as its 1-byte
    /// length); at least 1, so decoding always advances.
    pub min_record_bytes: usize,
    /// The record length, when every field has a fixed length (and all offsets fit in `u32`).
    pub fixed_record_bytes: Option<usize>,
    /// How many fields go to `other`, to size it in one allocation.
    pub other_fields: usize,
    pub scope_fields: usize,
}

impl Template {
    /// Plans a template, or `None` when its records would take no bytes (decoding it would never
    /// advance). The first `scope_fields` fields are scope fields.
    pub(crate) fn new(
        kind: FlowKind,
        specs: &[FieldSpec],
        scope_fields: usize,
        options: bool,
    ) -> Option<Self> {
        let min_record_bytes: usize = specs
            .iter()
            .map(|spec| match field_length(kind, spec.length) {
                FieldLength::Fixed(length) => usize::from(length),
                FieldLength::Variable => 1,
            })
            .sum();
        if min_record_bytes == 0 {
            return None;
        }
        let present = Present::of(specs, scope_fields);
        let mut fixed_offset = Some(0u32);
        let fields: Box<[TemplateField]> = specs
            .iter()
            .enumerate()
            .map(|(index, spec)| {
                let length = field_length(kind, spec.length);
                let offset = fixed_offset.unwrap_or(0);
                fixed_offset = match length {
                    FieldLength::Fixed(bytes) => {
                        fixed_offset.and_then(|offset| offset.checked_add(u32::from(bytes)))
                    }
                    FieldLength::Variable => None,
                };
                let fixed_place = FieldBytes {
                    offset,
                    length: match length {
                        FieldLength::Fixed(bytes) => u32::from(bytes),
                        FieldLength::Variable => 0,
                    },
                };
                let slot = if index < scope_fields {
                    Slot::Scope
                } else {
                    slot_for(kind, spec.element, length, &present)
                };
                TemplateField {
                    element: spec.element,
                    length,
                    slot,
                    fixed_place,
                }
            })
            .collect();
        let other_fields = fields
            .iter()
            .filter(|field| matches!(field.slot, Slot::Other | Slot::SystemInit))
            .count();
        let fixed_record_bytes = fixed_offset.map(|bytes| bytes as usize);
        debug_assert!(fixed_record_bytes.is_none_or(|bytes| bytes == min_record_bytes));
        Some(Self {
            fields,
            options,
            min_record_bytes,
            fixed_record_bytes,
            other_fields,
            scope_fields,
        })
    }
}

fn field_length(kind: FlowKind, length: u16) -> FieldLength {
    if kind == FlowKind::Ipfix && length == VARIABLE_LENGTH {
        FieldLength::Variable
    } else {
        FieldLength::Fixed(length)
    }
}

/// Which elements a template has, where one element's meaning depends on another's presence.
struct Present {
    octet_delta: bool,
    packet_delta: bool,
}

impl Present {
    fn of(specs: &[FieldSpec], scope_fields: usize) -> Self {
        let has = |id: u16| {
            specs
                .iter()
                .skip(scope_fields)
                .any(|spec| spec.element == Element::iana(id) && is_integer(spec.length))
        };
        Self {
            octet_delta: has(1),
            packet_delta: has(2),
        }
    }
}

fn is_integer(length: u16) -> bool {
    (1..=8).contains(&length)
}

fn slot_for(kind: FlowKind, element: Element, length: FieldLength, present: &Present) -> Slot {
    let FieldLength::Fixed(length) = length else {
        return Slot::Other;
    };
    if element.enterprise != 0 {
        return Slot::Other;
    }
    let integer = is_integer(length);
    let ipfix = kind == FlowKind::Ipfix;
    match element.id {
        1 if integer => Slot::Bytes,
        85 if integer && !present.octet_delta => Slot::Bytes,
        2 if integer => Slot::Packets,
        86 if integer && !present.packet_delta => Slot::Packets,
        4 if integer => Slot::Protocol,
        5 if integer => Slot::Tos,
        6 if integer => Slot::TcpFlags,
        7 if integer => Slot::SourcePort,
        8 if length == 4 => Slot::SourceIpv4,
        10 if integer => Slot::InputInterface,
        11 if integer => Slot::DestinationPort,
        12 if length == 4 => Slot::DestinationIpv4,
        14 if integer => Slot::OutputInterface,
        15 if length == 4 => Slot::NextHopIpv4,
        16 if integer => Slot::SourceAs,
        17 if integer => Slot::DestinationAs,
        21 if integer => Slot::EndUptime,
        22 if integer => Slot::StartUptime,
        27 if length == 16 => Slot::SourceIpv6,
        28 if length == 16 => Slot::DestinationIpv6,
        34 if integer => Slot::SamplingInterval,
        61 if integer => Slot::Direction,
        62 if length == 16 => Slot::NextHopIpv6,
        150 if integer => Slot::StartSeconds,
        151 if integer => Slot::EndSeconds,
        152 if integer => Slot::StartMillis,
        153 if integer => Slot::EndMillis,
        154 | 156 if length == 8 => Slot::StartNtp,
        155 | 157 if length == 8 => Slot::EndNtp,
        158 if integer => Slot::StartDeltaMicros,
        159 if integer => Slot::EndDeltaMicros,
        160 if ipfix && integer => Slot::SystemInit,
        _ => Slot::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(fields: &[(u16, u16)]) -> Vec<FieldSpec> {
        fields
            .iter()
            .map(|&(id, length)| FieldSpec {
                element: Element::iana(id),
                length,
            })
            .collect()
    }

    fn slots(kind: FlowKind, fields: &[(u16, u16)]) -> Vec<Slot> {
        let template = Template::new(kind, &specs(fields), 0, false).expect("valid template");
        template.fields.iter().map(|field| field.slot).collect()
    }

    #[test]
    fn template_with_zero_length_records_is_refused() {
        assert_eq!(Template::new(FlowKind::NetflowV9, &[], 0, false), None);
        assert_eq!(
            Template::new(FlowKind::Ipfix, &specs(&[(8, 0), (12, 0)]), 0, false),
            None
        );
        // One variable-length field is at least its length byte.
        let template = Template::new(FlowKind::Ipfix, &specs(&[(82, 65_535)]), 0, false)
            .expect("variable-length template");
        assert_eq!(template.min_record_bytes, 1);
    }

    #[test]
    fn total_counts_fill_in_only_without_deltas() {
        assert_eq!(
            slots(FlowKind::NetflowV9, &[(85, 8), (86, 8)]),
            [Slot::Bytes, Slot::Packets]
        );
        assert_eq!(
            slots(FlowKind::NetflowV9, &[(85, 8), (1, 4), (2, 4), (86, 8)]),
            [Slot::Other, Slot::Bytes, Slot::Packets, Slot::Other]
        );
    }

    #[test]
    fn system_init_time_is_an_ipfix_element() {
        assert_eq!(
            slots(FlowKind::Ipfix, &[(22, 4), (21, 4), (160, 8)]),
            [Slot::StartUptime, Slot::EndUptime, Slot::SystemInit]
        );
        assert_eq!(
            slots(FlowKind::NetflowV9, &[(22, 4), (21, 4), (160, 8)]),
            [Slot::StartUptime, Slot::EndUptime, Slot::Other]
        );
    }

    #[test]
    fn fields_of_the_wrong_size_stay_raw() {
        assert_eq!(
            slots(
                FlowKind::Ipfix,
                &[(8, 16), (27, 4), (4, 9), (154, 4), (7, 65_535)]
            ),
            [Slot::Other; 5]
        );
    }
}
