//! NetFlow v9 ([RFC 3954](https://www.rfc-editor.org/rfc/rfc3954)): the 20-byte header and the
//! template and options template records. Flowsets are walked, and data flowsets decoded, by
//! the code shared with IPFIX in `decoder.rs`.
//!
//! The header's count is not used: softflowd's first packet (among others) gets it wrong, so
//! each data flowset is read record by record until fewer bytes than one record remain.

use std::net::SocketAddr;

use super::data::MessageHeader;
use super::record::{Element, FlowError, FlowKind};
use super::template::{FieldSpec, Template, TemplateRecord};
use super::wire::{self, be_u32, Reader};

pub(crate) const HEADER_BYTES: usize = 20;
pub(crate) const TEMPLATE_FLOWSET_ID: u16 = 0;
pub(crate) const OPTIONS_TEMPLATE_FLOWSET_ID: u16 = 1;
const FIELD_SPEC_BYTES: usize = 4;
const FIRST_DATA_TEMPLATE_ID: u16 = 256;

/// The header, and the flowsets after it.
pub(crate) fn parse_header(
    datagram: &[u8],
    exporter: SocketAddr,
) -> Result<(MessageHeader, &[u8]), FlowError> {
    let (Some(sys_uptime_ms), Some(unix_secs), Some(source_id)) = (
        be_u32(datagram, 4),
        be_u32(datagram, 8),
        be_u32(datagram, 16),
    ) else {
        return Err(FlowError::Truncated {
            needed_bytes: HEADER_BYTES,
            received_bytes: datagram.len(),
        });
    };
    let header = MessageHeader {
        kind: FlowKind::NetflowV9,
        exporter,
        domain: source_id,
        export_time: wire::from_header_seconds(unix_secs),
        sys_uptime_ms,
    };
    Ok((header, datagram.get(HEADER_BYTES..).unwrap_or_default()))
}

/// One template (or, with `options`, options template) record from a flowset body.
pub(crate) fn parse_template_record(
    reader: &mut Reader<'_>,
    options: bool,
    max_fields: usize,
) -> TemplateRecord {
    let (Some(template_id), Some(second)) = (reader.u16(), reader.u16()) else {
        return TemplateRecord::Malformed;
    };
    if template_id == 0 && second == 0 {
        return TemplateRecord::Padding;
    }
    // A template record has a field count; an options template record the byte lengths of its
    // scope and option field specifiers.
    let (spec_bytes, scope_bytes) = if options {
        let Some(option_bytes) = reader.u16() else {
            return TemplateRecord::Malformed;
        };
        (
            usize::from(second) + usize::from(option_bytes),
            usize::from(second),
        )
    } else {
        (usize::from(second) * FIELD_SPEC_BYTES, 0)
    };
    if spec_bytes / FIELD_SPEC_BYTES > max_fields {
        reader.skip_up_to(spec_bytes);
        return TemplateRecord::Refused;
    }
    let Some(spec_area) = reader.take(spec_bytes) else {
        return TemplateRecord::Malformed;
    };
    if template_id < FIRST_DATA_TEMPLATE_ID
        || spec_bytes % FIELD_SPEC_BYTES != 0
        || scope_bytes % FIELD_SPEC_BYTES != 0
    {
        return TemplateRecord::Refused;
    }
    let specs: Vec<FieldSpec> = spec_area
        .chunks_exact(FIELD_SPEC_BYTES)
        .map(|spec| FieldSpec {
            element: Element::iana(u16::from_be_bytes([spec[0], spec[1]])),
            length: u16::from_be_bytes([spec[2], spec[3]]),
        })
        .collect();
    let scope_fields = scope_bytes / FIELD_SPEC_BYTES;
    match Template::new(FlowKind::NetflowV9, &specs, scope_fields, options) {
        Some(template) => TemplateRecord::Define {
            template_id,
            template,
        },
        None => TemplateRecord::Refused,
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use vigil_event::Timestamp;

    use super::super::record::{FlowRecord, FlowReport};
    use super::super::test_packets::{
        concat, exporter, set, softflowd_record, v9_options_template, v9_packet, v9_template,
        EXPORT_SECS, SOFTFLOWD_FIELDS,
    };
    use super::super::{FlowDecoder, FlowLimits};
    use super::*;

    const SOURCE_ID: u32 = 42;
    const UPTIME_MS: u32 = 10_000;

    fn decode_from(
        decoder: &mut FlowDecoder,
        from: SocketAddr,
        datagram: &[u8],
    ) -> (FlowReport, Vec<FlowRecord>) {
        let mut out = Vec::new();
        let report = decoder
            .decode(datagram, from, Timestamp::from_nanos(0), &mut out)
            .expect("decodes");
        assert_eq!(report.records + report.option_records, out.len());
        (report, out)
    }

    fn decode(decoder: &mut FlowDecoder, datagram: &[u8]) -> (FlowReport, Vec<FlowRecord>) {
        decode_from(decoder, exporter(), datagram)
    }

    fn softflowd_template_flowset() -> Vec<u8> {
        set(0, &v9_template(1024, &SOFTFLOWD_FIELDS))
    }

    fn softflowd_data_flowset(flows: std::ops::RangeInclusive<u8>) -> Vec<u8> {
        let records: Vec<Vec<u8>> = flows.map(softflowd_record).collect();
        set(1024, &records.concat())
    }

    fn seconds(secs: u32) -> i64 {
        i64::from(secs) * 1_000_000_000
    }

    #[test]
    fn v9_decodes_a_softflowd_flow_field_by_field() {
        let mut decoder = FlowDecoder::new(FlowLimits::default());
        let datagram = v9_packet(
            2,
            UPTIME_MS,
            SOURCE_ID,
            &[softflowd_template_flowset(), softflowd_data_flowset(6..=6)],
        );
        let (report, records) = decode(&mut decoder, &datagram);
        assert_eq!(report.version, 9);
        assert_eq!(report.templates, 1);
        assert_eq!(report.records, 1);
        assert_eq!(report.malformed_sets, 0);
        let record = &records[0];
        assert_eq!(record.kind, FlowKind::NetflowV9);
        assert_eq!(record.exporter, exporter());
        assert_eq!(record.domain, SOURCE_ID);
        assert_eq!(record.template_id, 1024);
        assert!(!record.options);
        assert_eq!(
            record.export_time,
            Timestamp::from_nanos(seconds(EXPORT_SECS))
        );
        assert_eq!(record.source, Some([10, 0, 0, 6].into()));
        assert_eq!(record.destination, Some([10, 0, 1, 1].into()));
        // FIRST_SWITCHED 5 s and LAST_SWITCHED 9 s of uptime, exported at 10 s.
        assert_eq!(
            record.start,
            Some(Timestamp::from_nanos(seconds(EXPORT_SECS) - seconds(5)))
        );
        assert_eq!(
            record.end,
            Some(Timestamp::from_nanos(seconds(EXPORT_SECS) - seconds(1)))
        );
        assert_eq!(record.bytes, Some(480));
        assert_eq!(record.packets, Some(6));
        assert_eq!(record.input_interface, Some(1));
        assert_eq!(record.output_interface, Some(2));
        assert_eq!(record.source_port, Some(50_006));
        assert_eq!(record.destination_port, Some(22));
        assert_eq!(record.tcp_flags, Some(0x1b));
        assert_eq!(record.protocol, Some(6));
        assert_eq!(record.next_hop, None);
        assert_eq!(record.sampling_interval, None);
        assert!(record.other.is_empty());
        assert!(record.scope.is_empty());
        assert_eq!(record.raw, softflowd_record(6));
        assert_eq!((decoder.exporter_count(), decoder.template_count()), (1, 1));
    }

    #[test]
    fn v9_wrong_header_count_still_yields_every_record() {
        let mut decoder = FlowDecoder::new(FlowLimits::default());
        // softflowd's first packet counts only the template; two bytes of padding end the set.
        let mut data = softflowd_data_flowset(1..=3);
        data.extend_from_slice(&[0, 0]);
        data[3] += 2;
        let datagram = v9_packet(
            1,
            UPTIME_MS,
            SOURCE_ID,
            &[softflowd_template_flowset(), data],
        );
        let (report, records) = decode(&mut decoder, &datagram);
        assert_eq!(report.records, 3);
        assert_eq!(report.malformed_sets, 0);
        let sources: Vec<_> = records.iter().map(|record| record.source_port).collect();
        assert_eq!(sources, [Some(50_001), Some(50_002), Some(50_003)]);
    }

    #[test]
    fn v9_data_before_its_template_is_parked_then_released() {
        let mut decoder = FlowDecoder::new(FlowLimits::default());
        let data_only = v9_packet(2, UPTIME_MS, SOURCE_ID, &[softflowd_data_flowset(1..=2)]);
        let (report, records) = decode(&mut decoder, &data_only);
        assert_eq!((report.template_misses, report.records), (1, 0));
        assert!(records.is_empty());
        assert_eq!(decoder.pending_sets(), 1);
        // A later datagram brings the template, and its own data.
        let datagram = v9_packet(
            2,
            UPTIME_MS + 1_000,
            SOURCE_ID,
            &[softflowd_template_flowset(), softflowd_data_flowset(3..=3)],
        );
        let (report, records) = decode(&mut decoder, &datagram);
        assert_eq!(report.templates, 1);
        assert_eq!(report.released, 2);
        assert_eq!(report.records, 3);
        assert_eq!(report.template_misses, 0);
        assert_eq!(decoder.pending_sets(), 0);
        let ports: Vec<_> = records.iter().map(|record| record.source_port).collect();
        assert_eq!(ports, [Some(50_001), Some(50_002), Some(50_003)]);
        // Released records keep their own datagram's uptime: 5 s before their export.
        assert_eq!(
            records[0].start,
            Some(Timestamp::from_nanos(seconds(EXPORT_SECS) - seconds(5)))
        );
        assert_eq!(
            records[2].start,
            Some(Timestamp::from_nanos(seconds(EXPORT_SECS) - seconds(6)))
        );
    }

    #[test]
    fn v9_data_before_its_template_in_the_same_datagram_is_released() {
        let mut decoder = FlowDecoder::new(FlowLimits::default());
        let datagram = v9_packet(
            3,
            UPTIME_MS,
            SOURCE_ID,
            &[softflowd_data_flowset(1..=2), softflowd_template_flowset()],
        );
        let (report, records) = decode(&mut decoder, &datagram);
        assert_eq!(report.template_misses, 1);
        assert_eq!(report.released, 2);
        assert_eq!(report.records, 2);
        assert_eq!(records.len(), 2);
        assert_eq!(decoder.pending_sets(), 0);
    }

    #[test]
    fn v9_template_refresh_overwrites() {
        let mut decoder = FlowDecoder::new(FlowLimits::default());
        let first = v9_packet(
            1,
            UPTIME_MS,
            SOURCE_ID,
            &[set(0, &v9_template(300, &[(7, 2)]))],
        );
        assert_eq!(decode(&mut decoder, &first).0.templates, 1);
        // Same id, new layout: destination port then source port.
        let refreshed = v9_template(300, &[(11, 2), (7, 2)]);
        let datagram = v9_packet(
            2,
            UPTIME_MS,
            SOURCE_ID,
            &[set(0, &refreshed), set(300, &[0, 22, 0xc3, 0x50])],
        );
        let (report, records) = decode(&mut decoder, &datagram);
        assert_eq!(report.templates, 1);
        assert_eq!(decoder.template_count(), 1);
        assert_eq!(records[0].destination_port, Some(22));
        assert_eq!(records[0].source_port, Some(50_000));
    }

    #[test]
    fn v9_options_template_yields_options_records() {
        let mut decoder = FlowDecoder::new(FlowLimits::default());
        // Scope: the system (4 bytes); options: SAMPLING_INTERVAL, SAMPLING_ALGORITHM.
        let template = v9_options_template(257, &[(1, 4)], &[(34, 4), (35, 1)]);
        let mut data = concat(&[&[0, 0, 0, 9], &100u32.to_be_bytes(), &[2]]);
        data.extend_from_slice(&[0, 0, 0]); // padding to 4 bytes
        let datagram = v9_packet(
            2,
            UPTIME_MS,
            SOURCE_ID,
            &[set(1, &template), set(257, &data)],
        );
        let (report, records) = decode(&mut decoder, &datagram);
        assert_eq!(report.templates, 1);
        assert_eq!((report.option_records, report.records), (1, 0));
        let record = &records[0];
        assert!(record.options);
        assert_eq!(record.sampling_interval, Some(100));
        assert_eq!(
            record.bytes, None,
            "scope type 1 is the system, not octetDeltaCount"
        );
        let scope: Vec<_> = record.scope_values().collect();
        assert_eq!(scope, [(Element::iana(1), &[0, 0, 0, 9][..])]);
        let other: Vec<_> = record.other_values().collect();
        assert_eq!(other, [(Element::iana(35), &[2][..])]);
    }

    #[test]
    fn v9_templates_are_scoped_by_exporter_port_and_source_id() {
        let mut decoder = FlowDecoder::new(FlowLimits::default());
        let template = v9_packet(1, UPTIME_MS, SOURCE_ID, &[softflowd_template_flowset()]);
        decode(&mut decoder, &template);
        let data = |source_id| v9_packet(1, UPTIME_MS, source_id, &[softflowd_data_flowset(1..=1)]);
        let other_port = SocketAddr::from(([192, 0, 2, 1], 2056));
        let other_ip = SocketAddr::from(([192, 0, 2, 2], 2055));
        assert_eq!(
            decode_from(&mut decoder, other_port, &data(SOURCE_ID))
                .0
                .template_misses,
            1
        );
        assert_eq!(
            decode_from(&mut decoder, other_ip, &data(SOURCE_ID))
                .0
                .template_misses,
            1
        );
        assert_eq!(
            decode(&mut decoder, &data(SOURCE_ID + 1)).0.template_misses,
            1
        );
        assert_eq!(decode(&mut decoder, &data(SOURCE_ID)).0.records, 1);
    }

    #[test]
    fn v9_reduced_size_integers_unknown_fields_and_total_counts() {
        let mut decoder = FlowDecoder::new(FlowLimits::default());
        // octetTotalCount in 3 bytes, packetTotalCount in 8, IN_SRC_MAC (56, 6 bytes), srcAS in
        // 2, a vendor type, and a protocol in 2 bytes whose value does not fit a u8.
        let fields = [(85, 3), (86, 8), (56, 6), (16, 2), (40_000, 1), (4, 2)];
        let data = concat(&[
            &[0x01, 0x00, 0x00],
            &7u64.to_be_bytes(),
            &[0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff],
            &[0xfd, 0xe8],
            &[5],
            &[1, 6],
        ]);
        let datagram = v9_packet(
            2,
            UPTIME_MS,
            SOURCE_ID,
            &[set(0, &v9_template(400, &fields)), set(400, &data)],
        );
        let (_, records) = decode(&mut decoder, &datagram);
        let record = &records[0];
        assert_eq!(record.bytes, Some(65_536));
        assert_eq!(record.packets, Some(7));
        assert_eq!(record.source_as, Some(65_000));
        assert_eq!(record.protocol, None);
        let other: Vec<_> = record.other_values().collect();
        assert_eq!(
            other,
            [
                (Element::iana(56), &[0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff][..]),
                (Element::iana(40_000), &[5][..]),
                (Element::iana(4), &[1, 6][..]),
            ]
        );
    }

    #[test]
    fn v9_switched_times_survive_an_uptime_wrap() {
        let mut decoder = FlowDecoder::new(FlowLimits::default());
        // The header's uptime wrapped to 2 s; the flow started 3 s before export.
        let data = concat(&[&(u32::MAX - 999).to_be_bytes(), &1_500u32.to_be_bytes()]);
        let datagram = v9_packet(
            2,
            2_000,
            SOURCE_ID,
            &[
                set(0, &v9_template(500, &[(22, 4), (21, 4)])),
                set(500, &data),
            ],
        );
        let (_, records) = decode(&mut decoder, &datagram);
        let export = seconds(EXPORT_SECS);
        assert_eq!(
            records[0].start,
            Some(Timestamp::from_nanos(export - seconds(3)))
        );
        assert_eq!(
            records[0].end,
            Some(Timestamp::from_nanos(export - 500_000_000))
        );
    }

    #[test]
    fn v9_reserved_flowsets_are_skipped() {
        let mut decoder = FlowDecoder::new(FlowLimits::default());
        let datagram = v9_packet(
            3,
            UPTIME_MS,
            SOURCE_ID,
            &[
                set(7, &[1, 2, 3, 4]),
                softflowd_template_flowset(),
                softflowd_data_flowset(1..=1),
            ],
        );
        let (report, _) = decode(&mut decoder, &datagram);
        assert_eq!(
            (
                report.records,
                report.malformed_sets,
                report.template_misses
            ),
            (1, 0, 0)
        );
    }
}
