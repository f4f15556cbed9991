//! Normalisation: each decoder family's lines through `body::decode` (ns per line), and a
//! mixed batch through the whole `Normalizer` (decoders, then the fields merged into the
//! event; no user mappings) — the time normalisation adds per event on the live path.
//!
//! `cargo bench -p vigil-benches --bench normalize`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use vigil_benches::SAMPLE_LINES as LINES;
use vigil_codec::body::{decode, Input, Output};
use vigil_codec::syslog::{decode_syslog, DecodeContext};
use vigil_event::{Event, Timestamp};
use vigil_normalize::Normalizer;

fn received() -> Timestamp {
    Timestamp::from_nanos(1_764_196_561_000_000_000)
}

fn families(c: &mut Criterion) {
    let mut seen = Vec::new();
    for (family, _, _) in LINES {
        if seen.contains(family) {
            continue;
        }
        seen.push(family);
        let lines: Vec<Input<'_>> = LINES
            .iter()
            .filter(|(name, _, _)| name == family)
            .map(|(_, app, message)| {
                let mut input = Input::new(message).received(received());
                input.app = (!app.is_empty()).then_some(*app);
                input
            })
            .collect();
        let mut out = Output::default();
        for input in &lines {
            let decoded = decode(input, &mut out);
            assert!(
                decoded.is_some() == (*family != "unrecognised"),
                "{family}: {:?} → {decoded:?}",
                input.message
            );
        }
        let mut group = c.benchmark_group("normalize/decoder");
        group.throughput(Throughput::Elements(lines.len() as u64));
        group.bench_function(*family, |b| {
            b.iter(|| {
                for input in &lines {
                    black_box(decode(black_box(input), &mut out));
                }
            })
        });
        group.finish();
    }
}

/// The mixed corpus as the normalizer sees it: syslog-decoded events, with the loghub share of
/// sshd and web lines (every family once, sshd and web lines three times).
fn mixed_events() -> Vec<Event> {
    let context = DecodeContext::utc(received());
    let mut events = Vec::new();
    for (family, app, message) in LINES {
        let copies = if matches!(*family, "sshd" | "web") {
            3
        } else {
            1
        };
        let frame = if app.is_empty() {
            format!("<134>1 2024-05-10T11:37:47Z host - - - - {message}")
        } else {
            format!("<134>1 2024-05-10T11:37:47Z host {app} 123 - - {message}")
        };
        for _ in 0..copies {
            let mut event = decode_syslog(frame.as_bytes(), &context);
            event.source = Some("10.0.0.1:514".parse().expect("address"));
            events.push(event);
        }
    }
    events
}

fn normalizer(c: &mut Criterion) {
    let normalizer = Normalizer::decoders_only(&Default::default());
    let events = mixed_events();
    let mut group = c.benchmark_group("normalize/mixed");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("normalizer_apply_batch", |b| {
        b.iter_batched(
            || events.clone(),
            |mut batch| {
                normalizer.apply_batch(&mut batch);
                batch
            },
            BatchSize::SmallInput,
        )
    });
    // The baseline the line above includes and normalisation does not add: cloning the batch.
    group.bench_function("clone_only", |b| {
        b.iter_batched(|| events.clone(), |batch| batch, BatchSize::SmallInput)
    });
    group.finish();
}

criterion_group!(benches, families, normalizer);
criterion_main!(benches);
