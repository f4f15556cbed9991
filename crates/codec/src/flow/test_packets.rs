//! Builders of NetFlow v5, v9 and IPFIX packets for the tests: small and explicit, so that each
//! test shows what it sends.

use std::net::{Ipv4Addr, SocketAddr};

/// 2025-11-26T22:36:01Z
pub(crate) const EXPORT_SECS: u32 = 1_764_196_561;

pub(crate) fn exporter() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], 2055))
}

/// One NetFlow v5 record's fields.
#[derive(Clone, Copy, Debug)]
pub(crate) struct V5Flow {
    pub source: Ipv4Addr,
    pub destination: Ipv4Addr,
    pub next_hop: Ipv4Addr,
    pub input: u16,
    pub output: u16,
    pub packets: u32,
    pub bytes: u32,
    pub first: u32,
    pub last: u32,
    pub source_port: u16,
    pub destination_port: u16,
    pub tcp_flags: u8,
    pub protocol: u8,
    pub tos: u8,
    pub source_as: u16,
    pub destination_as: u16,
    pub source_mask: u8,
    pub destination_mask: u8,
}

impl V5Flow {
    /// Flow `n`: 10.0.0.n:40000+n -> 10.1.0.n:443 over TCP, 10n packets, 1000n bytes, from
    /// uptime 90 s to 99.5 s.
    pub(crate) fn example(n: u8) -> Self {
        Self {
            source: Ipv4Addr::new(10, 0, 0, n),
            destination: Ipv4Addr::new(10, 1, 0, n),
            next_hop: Ipv4Addr::new(10, 2, 0, n),
            input: 3,
            output: 4,
            packets: 10 * u32::from(n),
            bytes: 1_000 * u32::from(n),
            first: 90_000,
            last: 99_500,
            source_port: 40_000 + u16::from(n),
            destination_port: 443,
            tcp_flags: 0x1b,
            protocol: 6,
            tos: 0x10,
            source_as: 64_512,
            destination_as: 64_513,
            source_mask: 24,
            destination_mask: 16,
        }
    }
}

/// A v5 datagram exported at [`EXPORT_SECS`] + 250 ms by engine type 1, id 2.
pub(crate) fn v5_packet(
    count: u16,
    sys_uptime_ms: u32,
    sampling: u16,
    flows: &[V5Flow],
) -> Vec<u8> {
    let mut packet = Vec::new();
    packet.extend_from_slice(&5u16.to_be_bytes());
    packet.extend_from_slice(&count.to_be_bytes());
    packet.extend_from_slice(&sys_uptime_ms.to_be_bytes());
    packet.extend_from_slice(&EXPORT_SECS.to_be_bytes());
    packet.extend_from_slice(&250_000_000u32.to_be_bytes());
    packet.extend_from_slice(&77u32.to_be_bytes());
    packet.extend_from_slice(&[1, 2]);
    packet.extend_from_slice(&sampling.to_be_bytes());
    for flow in flows {
        packet.extend_from_slice(&flow.source.octets());
        packet.extend_from_slice(&flow.destination.octets());
        packet.extend_from_slice(&flow.next_hop.octets());
        packet.extend_from_slice(&flow.input.to_be_bytes());
        packet.extend_from_slice(&flow.output.to_be_bytes());
        packet.extend_from_slice(&flow.packets.to_be_bytes());
        packet.extend_from_slice(&flow.bytes.to_be_bytes());
        packet.extend_from_slice(&flow.first.to_be_bytes());
        packet.extend_from_slice(&flow.last.to_be_bytes());
        packet.extend_from_slice(&flow.source_port.to_be_bytes());
        packet.extend_from_slice(&flow.destination_port.to_be_bytes());
        packet.extend_from_slice(&[0, flow.tcp_flags, flow.protocol, flow.tos]);
        packet.extend_from_slice(&flow.source_as.to_be_bytes());
        packet.extend_from_slice(&flow.destination_as.to_be_bytes());
        packet.extend_from_slice(&[flow.source_mask, flow.destination_mask, 0, 0]);
    }
    packet
}

/// A set (or v9 flowset): id, length including its 4-byte header, body.
pub(crate) fn set(id: u16, body: &[u8]) -> Vec<u8> {
    let length = u16::try_from(body.len() + 4).expect("set fits in 64 KiB");
    let mut bytes = Vec::with_capacity(body.len() + 4);
    bytes.extend_from_slice(&id.to_be_bytes());
    bytes.extend_from_slice(&length.to_be_bytes());
    bytes.extend_from_slice(body);
    bytes
}

/// A v9 datagram exported at [`EXPORT_SECS`]; `count` is written as given, right or wrong.
pub(crate) fn v9_packet(
    count: u16,
    sys_uptime_ms: u32,
    source_id: u32,
    flowsets: &[Vec<u8>],
) -> Vec<u8> {
    let mut packet = Vec::new();
    packet.extend_from_slice(&9u16.to_be_bytes());
    packet.extend_from_slice(&count.to_be_bytes());
    packet.extend_from_slice(&sys_uptime_ms.to_be_bytes());
    packet.extend_from_slice(&EXPORT_SECS.to_be_bytes());
    packet.extend_from_slice(&1u32.to_be_bytes());
    packet.extend_from_slice(&source_id.to_be_bytes());
    for flowset in flowsets {
        packet.extend_from_slice(flowset);
    }
    packet
}

/// One v9 template record (put it in a flowset of id 0).
pub(crate) fn v9_template(template_id: u16, fields: &[(u16, u16)]) -> Vec<u8> {
    let mut record = Vec::new();
    record.extend_from_slice(&template_id.to_be_bytes());
    record.extend_from_slice(&(fields.len() as u16).to_be_bytes());
    for (field_type, length) in fields {
        record.extend_from_slice(&field_type.to_be_bytes());
        record.extend_from_slice(&length.to_be_bytes());
    }
    record
}

/// One v9 options template record (put it in a flowset of id 1).
pub(crate) fn v9_options_template(
    template_id: u16,
    scope: &[(u16, u16)],
    options: &[(u16, u16)],
) -> Vec<u8> {
    let mut record = Vec::new();
    record.extend_from_slice(&template_id.to_be_bytes());
    record.extend_from_slice(&((scope.len() * 4) as u16).to_be_bytes());
    record.extend_from_slice(&((options.len() * 4) as u16).to_be_bytes());
    for (field_type, length) in scope.iter().chain(options) {
        record.extend_from_slice(&field_type.to_be_bytes());
        record.extend_from_slice(&length.to_be_bytes());
    }
    record
}

/// What softflowd exports for IPv4 (its v9 template, less the IP version field).
pub(crate) const SOFTFLOWD_FIELDS: [(u16, u16); 12] = [
    (8, 4),  // sourceIPv4Address
    (12, 4), // destinationIPv4Address
    (22, 4), // flowStartSysUpTime
    (21, 4), // flowEndSysUpTime
    (1, 4),  // octetDeltaCount
    (2, 4),  // packetDeltaCount
    (10, 4), // ingressInterface
    (14, 4), // egressInterface
    (7, 2),  // sourceTransportPort
    (11, 2), // destinationTransportPort
    (6, 1),  // tcpControlBits
    (4, 1),  // protocolIdentifier
];

/// A record for [`SOFTFLOWD_FIELDS`]: flow `n` is 10.0.0.n:50000+n -> 10.0.1.1:22 over TCP,
/// n packets of 80 bytes, from uptime 5 s to 9 s.
pub(crate) fn softflowd_record(n: u8) -> Vec<u8> {
    let mut record = Vec::new();
    record.extend_from_slice(&[10, 0, 0, n]);
    record.extend_from_slice(&[10, 0, 1, 1]);
    record.extend_from_slice(&5_000u32.to_be_bytes());
    record.extend_from_slice(&9_000u32.to_be_bytes());
    record.extend_from_slice(&(80 * u32::from(n)).to_be_bytes());
    record.extend_from_slice(&u32::from(n).to_be_bytes());
    record.extend_from_slice(&1u32.to_be_bytes());
    record.extend_from_slice(&2u32.to_be_bytes());
    record.extend_from_slice(&(50_000 + u16::from(n)).to_be_bytes());
    record.extend_from_slice(&22u16.to_be_bytes());
    record.extend_from_slice(&[0x1b, 6]);
    record
}

/// An IPFIX message exported at [`EXPORT_SECS`] in `domain`, its length field exact.
pub(crate) fn ipfix_message(domain: u32, sets: &[Vec<u8>]) -> Vec<u8> {
    let length: usize = 16 + sets.iter().map(Vec::len).sum::<usize>();
    let mut message = Vec::with_capacity(length);
    message.extend_from_slice(&10u16.to_be_bytes());
    message.extend_from_slice(&u16::try_from(length).expect("fits").to_be_bytes());
    message.extend_from_slice(&EXPORT_SECS.to_be_bytes());
    message.extend_from_slice(&1u32.to_be_bytes());
    message.extend_from_slice(&domain.to_be_bytes());
    for set in sets {
        message.extend_from_slice(set);
    }
    message
}

/// An IPFIX field specifier.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ie {
    pub id: u16,
    pub length: u16,
    pub enterprise: Option<u32>,
}

/// An IANA element of `length` bytes (65535: variable).
pub(crate) const fn ie(id: u16, length: u16) -> Ie {
    Ie {
        id,
        length,
        enterprise: None,
    }
}

/// An enterprise element: the enterprise bit set, the number after the length.
pub(crate) const fn enterprise_ie(enterprise: u32, id: u16, length: u16) -> Ie {
    Ie {
        id,
        length,
        enterprise: Some(enterprise),
    }
}

fn push_fields(record: &mut Vec<u8>, fields: &[Ie]) {
    for field in fields {
        let id = if field.enterprise.is_some() {
            field.id | 0x8000
        } else {
            field.id
        };
        record.extend_from_slice(&id.to_be_bytes());
        record.extend_from_slice(&field.length.to_be_bytes());
        if let Some(enterprise) = field.enterprise {
            record.extend_from_slice(&enterprise.to_be_bytes());
        }
    }
}

/// One IPFIX template record (put it in a set of id 2); no fields makes it a withdrawal.
pub(crate) fn ipfix_template(template_id: u16, fields: &[Ie]) -> Vec<u8> {
    let mut record = Vec::new();
    record.extend_from_slice(&template_id.to_be_bytes());
    record.extend_from_slice(&(fields.len() as u16).to_be_bytes());
    push_fields(&mut record, fields);
    record
}

/// One IPFIX options template record (put it in a set of id 3).
pub(crate) fn ipfix_options_template(
    template_id: u16,
    scope_fields: u16,
    fields: &[Ie],
) -> Vec<u8> {
    let mut record = Vec::new();
    record.extend_from_slice(&template_id.to_be_bytes());
    record.extend_from_slice(&(fields.len() as u16).to_be_bytes());
    record.extend_from_slice(&scope_fields.to_be_bytes());
    push_fields(&mut record, fields);
    record
}

pub(crate) fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}
