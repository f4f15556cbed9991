//! The store's write path against the raw libraries under it.
//!
//! `cargo bench -p vigil-benches --bench store`
//!
//! - `store/archive`: `PartitionArchive::append` of a 1,000-event batch (~250-byte syslog lines,
//!   decoded as `vigil serve` decodes them), with `sync()` (one group commit: a real fdatasync)
//!   and without; plus `encode_batch` alone (postcard + zstd + SHA-256, no I/O). Throughput is
//!   bytes of raw events (the frames as received).
//! - `store/raw_zstd`: `zstd::bulk::compress` level 3 of the same batch's postcard encoding, in the
//!   same unit (raw event bytes), so "archive append = X % of raw zstd" is a ratio of the two.
//!   `zstd3_compress_reused_context_1000` keeps one compression context (as `encode_batch` does
//!   not), and `zstd3_compress_frames_only_1000` compresses just the frames (no decoded fields).
//! - `store/index`: `PartitionIndexWriter::add_batch` of the same 1,000 events (docs/s), and a
//!   bare tantivy index of just `message` per doc (same tokenizer shape, one writer thread, same
//!   memory budget), so "index = Y % of bare tantivy". `store/index_commit` times one commit of
//!   10,000 added docs (the adds are outside the timing).
//!
//! Files go to a temp dir under `std::env::temp_dir()` (set `TMPDIR` to bench another disk):
//! fdatasync on tmpfs measures nothing.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::TantivyDocument;
use vigil_event::{Event, SecurityLevel, Timestamp};
use vigil_store::archive::format::encode_batch;
use vigil_store::archive::{ArchivePosition, PartitionArchive};
use vigil_store::index::{IndexCatalog, PartitionIndexWriter};
use vigil_store::PartitionKey;

const BATCH_EVENTS: usize = 1_000;
const EVENT_BYTES: usize = 250;
const ZSTD_LEVEL: i32 = 3;
const WRITER_MEMORY_BYTES: usize = 64 << 20;
/// The adds one measured commit covers.
const COMMIT_BATCHES: usize = 10;

fn batch() -> Vec<Event> {
    vigil_benches::sample_events(42, BATCH_EVENTS, EVENT_BYTES)
}

fn raw_bytes(events: &[Event]) -> u64 {
    events.iter().map(|event| event.original.len() as u64).sum()
}

fn key() -> PartitionKey {
    PartitionKey {
        level: SecurityLevel::new(3).expect("level 3 exists"),
        day: Timestamp::now().utc_day(),
    }
}

fn bench_dir() -> tempfile::TempDir {
    tempfile::tempdir_in(std::env::temp_dir()).expect("cannot create a temp dir")
}

fn short(group: &mut BenchmarkGroup<'_, WallTime>, samples: usize) {
    group.sample_size(samples);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
}

fn archive(c: &mut Criterion) {
    let events = batch();
    let raw = raw_bytes(&events);
    let postcard_bytes = postcard::to_stdvec(&events).expect("postcard").len();
    let compressed = encode_batch(&events, 0, [0; 32], ZSTD_LEVEL, 0)
        .expect("encode")
        .payload
        .len();
    eprintln!(
        "store: batch of {BATCH_EVENTS} events: {raw} raw bytes ({:.0} B/event), postcard {postcard_bytes} B, \
         archived {compressed} B (zstd {ZSTD_LEVEL}) = {:.3} archive bytes per raw byte",
        raw as f64 / BATCH_EVENTS as f64,
        compressed as f64 / raw as f64
    );

    let mut group = c.benchmark_group("store/archive");
    short(&mut group, 20);
    group.throughput(Throughput::Bytes(raw));
    group.bench_function("encode_batch_1000", |b| {
        b.iter(|| encode_batch(black_box(&events), 0, [0; 32], ZSTD_LEVEL, 0).expect("encode"))
    });
    for sync in [false, true] {
        let dir = bench_dir();
        let (mut archive, _) =
            PartitionArchive::open(dir.path(), &key(), 1 << 30).expect("open archive");
        let name = if sync {
            "append_1000_fdatasync"
        } else {
            "append_1000_nosync"
        };
        let now = Timestamp::now().as_nanos();
        group.bench_function(name, |b| {
            b.iter(|| {
                let appended = archive
                    .append(black_box(&events), ZSTD_LEVEL, now)
                    .expect("append");
                if sync {
                    archive.sync().expect("fdatasync");
                }
                appended
            })
        });
        archive.sync().expect("fdatasync");
    }
    group.finish();

    let mut group = c.benchmark_group("store/raw_zstd");
    short(&mut group, 20);
    group.throughput(Throughput::Bytes(raw));
    let encoded = postcard::to_stdvec(&events).expect("postcard");
    group.bench_function("postcard_encode_1000", |b| {
        b.iter(|| postcard::to_stdvec(black_box(&events)).expect("postcard"))
    });
    group.bench_function("zstd3_compress_1000", |b| {
        b.iter(|| zstd::bulk::compress(black_box(&encoded), ZSTD_LEVEL).expect("zstd"))
    });
    // What `encode_batch` would gain by keeping one compression context (it makes one per batch).
    let mut compressor = zstd::bulk::Compressor::new(ZSTD_LEVEL).expect("zstd context");
    group.bench_function("zstd3_compress_reused_context_1000", |b| {
        b.iter(|| compressor.compress(black_box(&encoded)).expect("zstd"))
    });
    // The frames alone, without the decoded fields postcard carries next to them.
    let originals: Vec<u8> = events
        .iter()
        .flat_map(|event| event.original.iter().copied())
        .collect();
    let originals_compressed = zstd::bulk::compress(&originals, ZSTD_LEVEL)
        .expect("zstd")
        .len();
    eprintln!(
        "store: zstd {ZSTD_LEVEL} of the frames alone: {originals_compressed} B = {:.3} bytes per raw byte",
        originals_compressed as f64 / raw as f64
    );
    group.bench_function("zstd3_compress_frames_only_1000", |b| {
        b.iter(|| zstd::bulk::compress(black_box(&originals), ZSTD_LEVEL).expect("zstd"))
    });
    group.finish();
}

/// Adds `events` as the batch that starts at `*offset`, and moves `*offset` past it.
fn add(writer: &mut PartitionIndexWriter, events: &[Event], offset: &mut u64) {
    // About what the batch takes in the archive, so pointers look real.
    const ARCHIVED_BATCH_BYTES: u64 = 40_000;
    let start = ArchivePosition {
        segment: 1,
        offset: *offset,
    };
    *offset += ARCHIVED_BATCH_BYTES;
    if *offset > u64::from(u32::MAX) {
        *offset = 8;
    }
    let end = ArchivePosition {
        segment: 1,
        offset: *offset,
    };
    writer.add_batch(start, end, events).expect("add_batch");
}

fn open_writer(dir: &std::path::Path) -> (Arc<IndexCatalog>, PartitionIndexWriter) {
    let catalog = Arc::new(IndexCatalog::open(dir).expect("catalog"));
    let partition = catalog.open_or_create(key()).expect("partition");
    let writer = PartitionIndexWriter::open(partition, 1, WRITER_MEMORY_BYTES).expect("writer");
    (catalog, writer)
}

fn index(c: &mut Criterion) {
    let events = batch();
    let mut group = c.benchmark_group("store/index");
    short(&mut group, 15);
    group.throughput(Throughput::Elements(BATCH_EVENTS as u64));

    let dir = bench_dir();
    let (_catalog, mut writer) = open_writer(dir.path());
    let mut offset = 8;
    group.bench_function("vigil_add_batch_1000", |b| {
        b.iter(|| add(&mut writer, black_box(&events), &mut offset))
    });
    let started = Instant::now();
    writer.commit().expect("commit");
    eprintln!(
        "store: final commit of {} docs took {:?}",
        writer.partition().payload().events,
        started.elapsed()
    );
    drop(writer);

    let bare_dir = bench_dir();
    let mut builder = Schema::builder();
    let message = builder.add_text_field(
        "message",
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("default")
                .set_index_option(IndexRecordOption::WithFreqsAndPositions)
                .set_fieldnorms(false),
        ),
    );
    let directory = tantivy::directory::MmapDirectory::open(bare_dir.path()).expect("mmap dir");
    let bare = tantivy::Index::open_or_create(directory, builder.build()).expect("bare index");
    let mut bare_writer = bare
        .writer_with_num_threads::<TantivyDocument>(1, WRITER_MEMORY_BYTES)
        .expect("bare writer");
    group.bench_function("bare_tantivy_message_1000", |b| {
        b.iter(|| {
            for event in black_box(&events) {
                let mut doc = TantivyDocument::default();
                doc.add_text(message, &event.message);
                bare_writer.add_document(doc).expect("add");
            }
        })
    });
    bare_writer.commit().expect("bare commit");
    drop(bare_writer);
    group.finish();

    let mut group = c.benchmark_group("store/index_commit");
    short(&mut group, 10);
    group.throughput(Throughput::Elements((COMMIT_BATCHES * BATCH_EVENTS) as u64));
    let dir = bench_dir();
    let (_catalog, mut writer) = open_writer(dir.path());
    let mut offset = 8;
    group.bench_function("vigil_commit_10000", |b| {
        b.iter_custom(|iterations| {
            let mut spent = Duration::ZERO;
            for _ in 0..iterations {
                for _ in 0..COMMIT_BATCHES {
                    add(&mut writer, &events, &mut offset);
                }
                let started = Instant::now();
                writer.commit().expect("commit");
                spent += started.elapsed();
            }
            spent
        })
    });
    group.finish();
}

criterion_group!(benches, archive, index);
criterion_main!(benches);
