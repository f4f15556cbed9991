//! The driver both flow targets share: several datagrams per input into one long-lived decoder
//! so that templates learned from one datagram are used (and parked data released) by the next;
//! no panic, every record's ranges inside its bytes, and state within the limits.
//!
//! Input: repeated `[port choice] [length: u16 BE] [datagram bytes…]`.

use std::net::SocketAddr;

use vigil_codec::flow::{FlowDecoder, FlowLimits};
use vigil_event::Timestamp;

/// Small, so that every limit is reached often.
const LIMITS: FlowLimits = FlowLimits {
    max_exporters: 3,
    max_templates_per_exporter: 8,
    max_fields_per_template: 32,
    max_template_fields: 200,
    max_pending_bytes: 4_096,
    pending_timeout_nanos: 2_000_000_000,
};

/// Feeds `data` as datagrams of `version` to one decoder; with `fix_ipfix_length`, the message
/// length of a datagram whose port choice has its top bit clear is set to its real length.
pub fn drive(data: &[u8], version: u16, fix_ipfix_length: bool) {
    let mut decoder = FlowDecoder::new(LIMITS);
    let mut rest = data;
    let mut out = Vec::new();
    let mut index: i64 = 0;
    while let [port_choice, high, low, tail @ ..] = rest {
        let length = usize::from(u16::from_be_bytes([*high, *low])).min(tail.len());
        let (datagram, after) = tail.split_at(length);
        rest = after;
        let mut datagram = datagram.to_vec();
        if datagram.len() >= 2 {
            datagram[..2].copy_from_slice(&version.to_be_bytes());
        }
        if fix_ipfix_length && datagram.len() >= 4 && port_choice & 0x80 == 0 {
            let length = u16::try_from(datagram.len()).unwrap_or(u16::MAX);
            datagram[2..4].copy_from_slice(&length.to_be_bytes());
        }
        let exporter = SocketAddr::from(([192, 0, 2, 1], 2055 + u16::from(port_choice % 5)));
        let received = Timestamp::from_nanos(index * 1_000_000_000);
        index += 1;
        out.clear();
        if let Ok(report) = decoder.decode(&datagram, exporter, received, &mut out) {
            assert_eq!(report.records + report.option_records, out.len());
            for record in &out {
                for (_, place) in record.other.iter().chain(&record.scope) {
                    assert!(place.offset as usize + place.length as usize <= record.raw.len());
                }
                assert_eq!(record.to_event(received).original, record.raw);
            }
        } else {
            assert!(out.is_empty());
        }
        decoder.expire(received);
        assert!(decoder.exporter_count() <= LIMITS.max_exporters);
        assert!(
            decoder.template_count() <= LIMITS.max_exporters * LIMITS.max_templates_per_exporter
        );
        assert!(decoder.pending_bytes() <= LIMITS.max_pending_bytes);
    }
}
