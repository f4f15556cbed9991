//! The channel's hot path: a batch of events to wire bytes and back (columns + zstd), and what
//! those wire bytes weigh against the raw lines — for events decoded by the sender (a SOC
//! forwarding upstream) and for lines an agent relays undecoded, against zstd of the bare lines.
//!
//! `cargo bench -p vigil-benches --bench channel`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigil_channel::{decode_batch, encode_batch, BatchLimits};
use vigil_event::{Event, EventFlags};

/// Events per batch: what an agent's outbox sink gathers under load (its limit). zstd picks its
/// parameters by input size, so a smaller batch would measure another compressor.
const BATCH_EVENTS: usize = 10_000;

/// The events an agent relays: the line, its sender, the agent's names; nothing decoded.
fn relayed(decoded: &[Event]) -> Vec<Event> {
    let observer: Arc<str> = Arc::from("agent-1");
    let listener: Arc<str> = Arc::from("syslog-tcp");
    decoded
        .iter()
        .map(|event| {
            let mut relayed = Event::new(event.created, event.original.clone());
            relayed.flags.insert(EventFlags::UNDECODED);
            relayed.flags.insert(EventFlags::UNMAPPED_SOURCE);
            relayed.source = Some("10.20.30.40:51514".parse().expect("address"));
            relayed.observer = Some(observer.clone());
            relayed.listener = listener.clone();
            relayed
        })
        .collect()
}

fn channel(c: &mut Criterion) {
    let decoded = vigil_benches::sample_events(42, BATCH_EVENTS, 250);
    let relayed = relayed(&decoded);
    let raw: usize = decoded.iter().map(|event| event.original.len()).sum();
    let lines: Vec<u8> = decoded
        .iter()
        .flat_map(|event| event.original.iter().copied().chain([b'\n']))
        .collect();
    let mut group = c.benchmark_group("channel/batch");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Bytes(raw as u64));
    for level in [1, 3] {
        let bare = zstd::bulk::compress(&lines, level).expect("zstd");
        eprintln!(
            "channel: zstd {level}: {raw} raw line bytes; the bare lines → {} ({:.3} of raw)",
            bare.len(),
            bare.len() as f64 / raw as f64
        );
        for (name, events) in [("decoded", &decoded), ("relayed", &relayed)] {
            let frame = encode_batch(1, events, level).expect("encode");
            eprintln!(
                "channel: zstd {level}: {name}: {} payload bytes → {} on the wire ({:.3} of \
                 raw, {:.3} of the bare lines)",
                frame.raw_bytes,
                frame.compressed.len(),
                frame.compressed.len() as f64 / raw as f64,
                frame.compressed.len() as f64 / bare.len() as f64
            );
            group.bench_function(format!("encode_{name}_zstd{level}_{BATCH_EVENTS}"), |b| {
                b.iter(|| encode_batch(1, black_box(events), level).expect("encode"))
            });
            group.bench_function(format!("decode_{name}_zstd{level}_{BATCH_EVENTS}"), |b| {
                b.iter(|| decode_batch(black_box(&frame), &BatchLimits::default()).expect("decode"))
            });
        }
        group.bench_function(format!("bare_lines_zstd{level}_{BATCH_EVENTS}"), |b| {
            b.iter(|| zstd::bulk::compress(black_box(&lines), level).expect("zstd"))
        });
    }
    group.finish();
}

criterion_group!(benches, channel);
criterion_main!(benches);
