//! The flow hot path: decoding NetFlow v5, v9 and IPFIX datagrams into records (per record), and
//! mapping a record to an event.
//!
//! `cargo bench -p vigil-benches --bench flow`

use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigil_codec::flow::{FlowDecoder, FlowLimits, FlowRecord};
use vigil_event::Timestamp;

/// What a full v5 datagram holds.
const V5_RECORDS: u8 = 30;
/// Records per v9 / IPFIX datagram: softflowd's IPv4 template is 46 bytes a record, so a
/// datagram under a 1,500-byte MTU carries up to ~30; exporters flush more often than that.
const TEMPLATED_RECORDS: u8 = 15;
const TEMPLATE_ID: u16 = 1024;
/// 2025-11-26T22:36:01Z
const EXPORT_SECS: u32 = 1_764_196_561;

fn exporter() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], 2055))
}

fn received() -> Timestamp {
    Timestamp::from_nanos(i64::from(EXPORT_SECS) * 1_000_000_000)
}

fn v5_datagram() -> Vec<u8> {
    let mut packet = Vec::new();
    packet.extend_from_slice(&5u16.to_be_bytes());
    packet.extend_from_slice(&u16::from(V5_RECORDS).to_be_bytes());
    packet.extend_from_slice(&3_600_000u32.to_be_bytes());
    packet.extend_from_slice(&EXPORT_SECS.to_be_bytes());
    packet.extend_from_slice(&0u32.to_be_bytes());
    packet.extend_from_slice(&1u32.to_be_bytes());
    packet.extend_from_slice(&[0, 0, 0, 0]);
    for n in 0..V5_RECORDS {
        packet.extend_from_slice(&[10, 0, 0, n]);
        packet.extend_from_slice(&[10, 1, 0, n]);
        packet.extend_from_slice(&[10, 2, 0, 1]);
        packet.extend_from_slice(&3u16.to_be_bytes());
        packet.extend_from_slice(&4u16.to_be_bytes());
        packet.extend_from_slice(&(10 * u32::from(n) + 1).to_be_bytes());
        packet.extend_from_slice(&(1_400 * u32::from(n) + 60).to_be_bytes());
        packet.extend_from_slice(&3_590_000u32.to_be_bytes());
        packet.extend_from_slice(&3_599_000u32.to_be_bytes());
        packet.extend_from_slice(&(40_000 + u16::from(n)).to_be_bytes());
        packet.extend_from_slice(&443u16.to_be_bytes());
        packet.extend_from_slice(&[0, 0x1b, 6, 0]);
        packet.extend_from_slice(&64_512u16.to_be_bytes());
        packet.extend_from_slice(&64_513u16.to_be_bytes());
        packet.extend_from_slice(&[24, 16, 0, 0]);
    }
    packet
}

/// softflowd's IPv4 template: addresses, uptimes, counters, interfaces, ports, flags, protocol,
/// IP version. The IPFIX variant has flowStart/EndMilliseconds (152/153, 8 bytes) for the
/// uptimes.
fn softflowd_fields(ipfix: bool) -> Vec<(u16, u16)> {
    let (start, end) = if ipfix {
        ((152, 8), (153, 8))
    } else {
        ((22, 4), (21, 4))
    };
    vec![
        (8, 4),
        (12, 4),
        start,
        end,
        (1, 4),
        (2, 4),
        (10, 4),
        (14, 4),
        (7, 2),
        (11, 2),
        (6, 1),
        (4, 1),
        (60, 1),
    ]
}

fn softflowd_record(n: u8, ipfix: bool) -> Vec<u8> {
    let mut record = Vec::new();
    record.extend_from_slice(&[10, 0, 0, n]);
    record.extend_from_slice(&[10, 0, 1, 1]);
    if ipfix {
        let export_ms = u64::from(EXPORT_SECS) * 1_000;
        record.extend_from_slice(&(export_ms - 9_000).to_be_bytes());
        record.extend_from_slice(&(export_ms - 1_000).to_be_bytes());
    } else {
        record.extend_from_slice(&3_590_000u32.to_be_bytes());
        record.extend_from_slice(&3_599_000u32.to_be_bytes());
    }
    record.extend_from_slice(&(80 * u32::from(n) + 80).to_be_bytes());
    record.extend_from_slice(&(u32::from(n) + 1).to_be_bytes());
    record.extend_from_slice(&1u32.to_be_bytes());
    record.extend_from_slice(&2u32.to_be_bytes());
    record.extend_from_slice(&(50_000 + u16::from(n)).to_be_bytes());
    record.extend_from_slice(&22u16.to_be_bytes());
    record.extend_from_slice(&[0x1b, 6, 4]);
    record
}

fn set(id: u16, body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&id.to_be_bytes());
    bytes.extend_from_slice(&u16::try_from(body.len() + 4).unwrap().to_be_bytes());
    bytes.extend_from_slice(body);
    bytes
}

fn template_set(set_id: u16, fields: &[(u16, u16)]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&TEMPLATE_ID.to_be_bytes());
    body.extend_from_slice(&u16::try_from(fields.len()).unwrap().to_be_bytes());
    for (id, length) in fields {
        body.extend_from_slice(&id.to_be_bytes());
        body.extend_from_slice(&length.to_be_bytes());
    }
    set(set_id, &body)
}

fn data_set(ipfix: bool) -> Vec<u8> {
    let records: Vec<Vec<u8>> = (0..TEMPLATED_RECORDS)
        .map(|n| softflowd_record(n, ipfix))
        .collect();
    set(TEMPLATE_ID, &records.concat())
}

fn v9_datagram(sets: &[Vec<u8>]) -> Vec<u8> {
    let mut packet = Vec::new();
    packet.extend_from_slice(&9u16.to_be_bytes());
    packet.extend_from_slice(&u16::from(TEMPLATED_RECORDS).to_be_bytes());
    packet.extend_from_slice(&3_600_000u32.to_be_bytes());
    packet.extend_from_slice(&EXPORT_SECS.to_be_bytes());
    packet.extend_from_slice(&1u32.to_be_bytes());
    packet.extend_from_slice(&0u32.to_be_bytes());
    packet.extend_from_slice(&sets.concat());
    packet
}

fn ipfix_message(sets: &[Vec<u8>]) -> Vec<u8> {
    let body = sets.concat();
    let mut message = Vec::new();
    message.extend_from_slice(&10u16.to_be_bytes());
    message.extend_from_slice(&u16::try_from(16 + body.len()).unwrap().to_be_bytes());
    message.extend_from_slice(&EXPORT_SECS.to_be_bytes());
    message.extend_from_slice(&1u32.to_be_bytes());
    message.extend_from_slice(&0u32.to_be_bytes());
    message.extend_from_slice(&body);
    message
}

/// A decoder that knows the template, and a data-only datagram for it: the steady state.
fn templated_case(ipfix: bool) -> (FlowDecoder, Vec<u8>) {
    let mut decoder = FlowDecoder::new(FlowLimits::default());
    let (template, data) = if ipfix {
        let fields = softflowd_fields(true);
        (
            ipfix_message(&[template_set(2, &fields)]),
            ipfix_message(&[data_set(true)]),
        )
    } else {
        let fields = softflowd_fields(false);
        (
            v9_datagram(&[template_set(0, &fields)]),
            v9_datagram(&[data_set(false)]),
        )
    };
    let report = decoder
        .decode(&template, exporter(), received(), &mut Vec::new())
        .unwrap();
    assert_eq!(report.templates, 1);
    (decoder, data)
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("flow/decode");
    let mut out: Vec<FlowRecord> = Vec::with_capacity(64);

    let v5 = v5_datagram();
    let mut decoder = FlowDecoder::new(FlowLimits::default());
    group.throughput(Throughput::Elements(u64::from(V5_RECORDS)));
    group.bench_function(format!("netflow_v5_{V5_RECORDS}_records"), |b| {
        b.iter(|| {
            out.clear();
            let report = decoder
                .decode(black_box(&v5), exporter(), received(), &mut out)
                .unwrap();
            assert_eq!(report.records, usize::from(V5_RECORDS));
        })
    });

    group.throughput(Throughput::Elements(u64::from(TEMPLATED_RECORDS)));
    for (name, ipfix) in [("netflow_v9", false), ("ipfix", true)] {
        let (mut decoder, datagram) = templated_case(ipfix);
        group.bench_function(
            format!("{name}_softflowd_{TEMPLATED_RECORDS}_records"),
            |b| {
                b.iter(|| {
                    out.clear();
                    let report = decoder
                        .decode(black_box(&datagram), exporter(), received(), &mut out)
                        .unwrap();
                    assert_eq!(report.records, usize::from(TEMPLATED_RECORDS));
                })
            },
        );
    }
    group.finish();
}

fn to_event(c: &mut Criterion) {
    let (mut decoder, datagram) = templated_case(false);
    let mut records = Vec::new();
    decoder
        .decode(&datagram, exporter(), received(), &mut records)
        .unwrap();
    let mut group = c.benchmark_group("flow/to_event");
    group.throughput(Throughput::Elements(records.len() as u64));
    group.bench_function("netflow_v9_softflowd_record", |b| {
        b.iter(|| {
            for record in &records {
                black_box(record.to_event(received()));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, decode, to_event);
criterion_main!(benches);
