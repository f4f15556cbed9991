//! NetFlow v5: a 24-byte header and up to 30 fixed 48-byte records, no templates
//! ([Cisco's format reference](https://www.cisco.com/c/en/us/td/docs/net_mgmt/netflow_collection_engine/3-6/user/guide/format.html#wp1006108)).

use std::net::SocketAddr;

use vigil_event::Timestamp;

use super::record::{Element, FieldBytes, FlowError, FlowKind, FlowRecord, FlowReport};
use super::wire::{self, be_u16, be_u32};

pub(crate) const HEADER_BYTES: usize = 24;
pub(crate) const RECORD_BYTES: usize = 48;

/// The low 14 bits of the header's sampling field; the top two are the sampling mode.
const SAMPLING_INTERVAL_MASK: u16 = 0x3fff;

/// sourceIPv4PrefixLength and destinationIPv4PrefixLength: the record's only fields without a
/// place in [`FlowRecord`], kept in `other` under their IANA ids.
const SOURCE_MASK: (Element, FieldBytes) = (
    Element::iana(9),
    FieldBytes {
        offset: 44,
        length: 1,
    },
);
const DESTINATION_MASK: (Element, FieldBytes) = (
    Element::iana(13),
    FieldBytes {
        offset: 45,
        length: 1,
    },
);

struct Header {
    count: usize,
    sys_uptime_ms: u32,
    export_time: Timestamp,
    domain: u32,
    sampling_interval: Option<u32>,
}

fn parse_header(datagram: &[u8]) -> Option<Header> {
    let header = datagram.get(..HEADER_BYTES)?;
    let unix_secs = be_u32(header, 8)?;
    let unix_nsecs = be_u32(header, 12)?;
    let engine_type = *header.get(20)?;
    let engine_id = *header.get(21)?;
    let sampling = be_u16(header, 22)? & SAMPLING_INTERVAL_MASK;
    Some(Header {
        count: usize::from(be_u16(header, 2)?),
        sys_uptime_ms: be_u32(header, 4)?,
        export_time: wire::from_header_seconds(unix_secs)
            .saturating_add_nanos(i64::from(unix_nsecs)),
        domain: (u32::from(engine_type) << 8) | u32::from(engine_id),
        sampling_interval: (sampling != 0).then_some(u32::from(sampling)),
    })
}

/// Decodes the header's count of records, or as many as are present when the datagram is
/// shorter than that (counted as one malformed set).
pub(crate) fn decode(
    datagram: &[u8],
    exporter: SocketAddr,
    out: &mut Vec<FlowRecord>,
) -> Result<FlowReport, FlowError> {
    let header = parse_header(datagram).ok_or(FlowError::Truncated {
        needed_bytes: HEADER_BYTES,
        received_bytes: datagram.len(),
    })?;
    let records_area = datagram.get(HEADER_BYTES..).unwrap_or_default();
    let present = records_area.len() / RECORD_BYTES;
    let mut report = FlowReport {
        version: FlowKind::NetflowV5.version(),
        ..FlowReport::default()
    };
    if header.count > present {
        report.malformed_sets += 1;
    }
    for bytes in records_area
        .chunks_exact(RECORD_BYTES)
        .take(header.count.min(present))
    {
        if let Some(record) = decode_record(bytes, &header, exporter) {
            out.push(record);
            report.records += 1;
        }
    }
    Ok(report)
}

fn decode_record(bytes: &[u8], header: &Header, exporter: SocketAddr) -> Option<FlowRecord> {
    let mut record = FlowRecord::empty(
        FlowKind::NetflowV5,
        exporter,
        header.domain,
        0,
        header.export_time,
        false,
    );
    let uptime = |offset| {
        be_u32(bytes, offset)
            .map(|value| wire::from_uptime(header.export_time, header.sys_uptime_ms, value))
    };
    record.source = wire::ipv4(bytes.get(0..4)?);
    record.destination = wire::ipv4(bytes.get(4..8)?);
    record.next_hop = wire::ipv4(bytes.get(8..12)?);
    record.input_interface = be_u16(bytes, 12).map(u32::from);
    record.output_interface = be_u16(bytes, 14).map(u32::from);
    record.packets = be_u32(bytes, 16).map(u64::from);
    record.bytes = be_u32(bytes, 20).map(u64::from);
    record.start = uptime(24);
    record.end = uptime(28);
    record.source_port = be_u16(bytes, 32);
    record.destination_port = be_u16(bytes, 34);
    record.tcp_flags = bytes.get(37).map(|flags| u16::from(*flags));
    record.protocol = bytes.get(38).copied();
    record.tos = bytes.get(39).copied();
    record.source_as = be_u16(bytes, 40).map(u32::from);
    record.destination_as = be_u16(bytes, 42).map(u32::from);
    record.sampling_interval = header.sampling_interval;
    record.other = vec![SOURCE_MASK, DESTINATION_MASK];
    record.raw = bytes.to_vec();
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::super::test_packets::{exporter, v5_packet, V5Flow, EXPORT_SECS};
    use super::super::{FlowDecoder, FlowLimits};
    use super::*;

    fn decode_v5(datagram: &[u8]) -> (FlowReport, Vec<FlowRecord>) {
        let mut out = Vec::new();
        let report = FlowDecoder::new(FlowLimits::default())
            .decode(datagram, exporter(), Timestamp::from_nanos(0), &mut out)
            .expect("decodes");
        (report, out)
    }

    #[test]
    fn v5_decodes_every_field() {
        let flows = [V5Flow::example(1), V5Flow::example(2)];
        let datagram = v5_packet(2, 100_000, 0x4000 | 64, &flows);
        let (report, records) = decode_v5(&datagram);
        assert_eq!(report.version, 5);
        assert_eq!(report.records, 2);
        assert_eq!(report.malformed_sets, 0);
        let record = &records[1];
        assert_eq!(record.kind, FlowKind::NetflowV5);
        assert_eq!(record.exporter, exporter());
        assert_eq!(record.domain, 0x0102);
        assert_eq!(record.template_id, 0);
        assert!(!record.options);
        assert_eq!(record.source, Some([10, 0, 0, 2].into()));
        assert_eq!(record.destination, Some([10, 1, 0, 2].into()));
        assert_eq!(record.next_hop, Some([10, 2, 0, 2].into()));
        assert_eq!(record.input_interface, Some(3));
        assert_eq!(record.output_interface, Some(4));
        assert_eq!(record.packets, Some(20));
        assert_eq!(record.bytes, Some(2_000));
        // Export at EXPORT_SECS + 250 ms, uptime 100 s; First 90 s, Last 99.5 s.
        let export_nanos = i64::from(EXPORT_SECS) * 1_000_000_000 + 250_000_000;
        assert_eq!(
            record.export_time,
            Timestamp::from_nanos(export_nanos),
            "unix_secs + unix_nsecs"
        );
        assert_eq!(
            record.start,
            Some(Timestamp::from_nanos(export_nanos - 10_000_000_000))
        );
        assert_eq!(
            record.end,
            Some(Timestamp::from_nanos(export_nanos - 500_000_000))
        );
        assert_eq!(record.source_port, Some(40_002));
        assert_eq!(record.destination_port, Some(443));
        assert_eq!(record.tcp_flags, Some(0x1b));
        assert_eq!(record.protocol, Some(6));
        assert_eq!(record.tos, Some(0x10));
        assert_eq!(record.source_as, Some(64_512));
        assert_eq!(record.destination_as, Some(64_513));
        assert_eq!(record.sampling_interval, Some(64), "mode bits masked off");
        assert_eq!(record.direction, None);
        let other: Vec<(Element, &[u8])> = record.other_values().collect();
        assert_eq!(
            other,
            [
                (Element::iana(9), &[24][..]),
                (Element::iana(13), &[16][..])
            ]
        );
        assert_eq!(record.raw, datagram[HEADER_BYTES + RECORD_BYTES..]);
    }

    #[test]
    fn v5_count_is_bounded_by_the_bytes_present() {
        let flows = [V5Flow::example(1), V5Flow::example(2)];
        let mut datagram = v5_packet(30, 100_000, 0, &flows);
        datagram.extend_from_slice(&[0; RECORD_BYTES - 1]);
        let (report, records) = decode_v5(&datagram);
        assert_eq!(report.records, 2);
        assert_eq!(records.len(), 2);
        assert_eq!(report.malformed_sets, 1);
        assert_eq!(
            records[0].sampling_interval, None,
            "zero interval is unsampled"
        );
    }

    #[test]
    fn v5_reads_no_more_than_the_header_count() {
        let flows = [V5Flow::example(1), V5Flow::example(2)];
        let (report, records) = decode_v5(&v5_packet(1, 100_000, 0, &flows));
        assert_eq!(
            (report.records, records.len(), report.malformed_sets),
            (1, 1, 0)
        );
    }

    #[test]
    fn v5_first_before_an_uptime_wrap_is_in_the_past() {
        let mut flow = V5Flow::example(1);
        flow.first = u32::MAX - 999;
        let (_, records) = decode_v5(&v5_packet(1, 1_000, 0, &[flow]));
        let export = records[0].export_time;
        assert_eq!(
            records[0].start,
            Some(export.saturating_add_nanos(-2_000_000_000))
        );
    }

    #[test]
    fn v5_short_header_is_truncated() {
        let datagram = v5_packet(0, 0, 0, &[]);
        let error = FlowDecoder::new(FlowLimits::default())
            .decode(
                &datagram[..23],
                exporter(),
                Timestamp::from_nanos(0),
                &mut Vec::new(),
            )
            .expect_err("23 bytes");
        assert_eq!(
            error,
            FlowError::Truncated {
                needed_bytes: 24,
                received_bytes: 23
            }
        );
        assert_eq!(error.kind(), "truncated");
        let (report, records) = decode_v5(&datagram);
        assert_eq!((report.records, records.len()), (0, 0));
    }
}
