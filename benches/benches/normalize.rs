//! Normalisation: each decoder family's lines through `body::decode` (ns per line), and a
//! mixed batch through the whole `Normalizer` (decoders, then the fields merged into the
//! event; no user mappings) — the time normalisation adds per event on the live path.
//!
//! `cargo bench -p vigil-benches --bench normalize`
//!
//! Runs on mimalloc, the allocator of the `vigil` binary: normalisation allocates a string per
//! field, so the allocator is part of the cost.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use vigil_benches::SAMPLE_LINES as LINES;
use vigil_codec::body::{decode, Input, Output};
use vigil_codec::syslog::{decode_syslog, DecodeContext};
use vigil_event::{Event, Timestamp};
use vigil_normalize::Normalizer;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// The loghub samples (Linux, OpenSSH, Apache; 6,000 real lines) as a second mix, when the
/// shared corpus is there (`VIGIL_CORPUS`, else `../shared/corpus`): what a Unix server estate
/// sends, where the per-family mix above weighs every firewall and JSON format equally.
fn loghub_events() -> Option<Vec<Event>> {
    let corpus = std::env::var_os("VIGIL_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus").into());
    let context = DecodeContext::utc(received());
    let mut events = Vec::new();
    for name in ["Linux", "OpenSSH", "Apache"] {
        let path = corpus
            .join("logs")
            .join(name)
            .join(format!("{name}_2k.log"));
        let text = std::fs::read_to_string(path).ok()?;
        for line in text.lines() {
            let mut event = decode_syslog(line.as_bytes(), &context);
            event.source = Some("10.0.0.1:514".parse().expect("address"));
            events.push(event);
        }
    }
    Some(events)
}

fn loghub(c: &mut Criterion) {
    let Some(events) = loghub_events() else {
        eprintln!("normalize/loghub skipped: no corpus (set VIGIL_CORPUS)");
        return;
    };
    let normalizer = Normalizer::decoders_only(&Default::default());
    let mut group = c.benchmark_group("normalize/loghub");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("normalizer_apply_batch", |b| {
        b.iter_batched(
            || events.clone(),
            |mut batch| {
                normalizer.apply_batch(&mut batch);
                batch
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, families, normalizer, loghub);
criterion_main!(benches);
