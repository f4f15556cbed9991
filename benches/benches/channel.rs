//! The channel's hot path: a batch of decoded events to wire bytes and back (postcard + zstd),
//! and what those wire bytes weigh against the raw lines.
//!
//! `cargo bench -p vigil-benches --bench channel`

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigil_channel::{decode_batch, encode_batch, BatchLimits};

/// Events per batch, about what one read of a busy TCP connection gives.
const BATCH_EVENTS: usize = 1_000;

fn channel(c: &mut Criterion) {
    let events = vigil_benches::sample_events(42, BATCH_EVENTS, 250);
    let raw: usize = events.iter().map(|event| event.original.len()).sum();
    let mut group = c.benchmark_group("channel/batch");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Bytes(raw as u64));
    for level in [1, 3] {
        let frame = encode_batch(1, &events, level).expect("encode");
        eprintln!(
            "channel: zstd {level}: {} raw line bytes → {} postcard bytes → {} on the wire \
             ({:.3} of raw)",
            raw,
            frame.raw_bytes,
            frame.compressed.len(),
            frame.compressed.len() as f64 / raw as f64
        );
        group.bench_function(format!("encode_zstd{level}_{BATCH_EVENTS}"), |b| {
            b.iter(|| encode_batch(1, black_box(&events), level).expect("encode"))
        });
        group.bench_function(format!("decode_zstd{level}_{BATCH_EVENTS}"), |b| {
            b.iter(|| decode_batch(black_box(&frame), &BatchLimits::default()).expect("decode"))
        });
    }
    group.finish();
}

criterion_group!(benches, channel);
criterion_main!(benches);
