//! The archive and index writers, each on its own thread, joined by a bounded queue.
//!
//! ```text
//! batches ─▶ archive thread: group commit (append per partition, fdatasync at most every
//!            fsync_interval) ─▶ index thread: add docs, commit every commit_interval with the
//!            archive position as payload ─▶ searchable
//! ```
//! A full index queue blocks the archive thread, whose full input blocks the listeners: memory
//! stays bounded and TCP senders feel backpressure.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil_event::{Event, Timestamp};
use vigil_pipeline::{
    BatchReceiver, BoxFuture, Counter, DeliveryMark, Gauge, Metrics, PipelineError, Sink,
};

use crate::archive::format::MAX_BATCH_EVENTS;
use crate::archive::{segments_of, ArchivePosition, PartitionArchive, RecoveryOutcome};
use crate::index::{IndexCatalog, PartitionIndexWriter};
use crate::ledger::DeliveryLedger;
use crate::{list_partitions, PartitionKey, StoreError};

/// How the ingest threads run; `vigil serve` fills it from `[archive]` and `[index]`.
#[derive(Clone, Debug)]
pub struct IngestOptions {
    pub data_dir: PathBuf,
    pub fsync_interval: Duration,
    pub zstd_level: i32,
    pub segment_max_bytes: u64,
    pub commit_interval: Duration,
    pub writer_memory_bytes: usize,
    pub writer_threads: usize,
}

/// Events one group commit gathers at most. With [`INDEX_QUEUE_BATCHES`] it bounds the events
/// held between archive and index (≤ 4 × 16,384), so memory stays flat when indexing falls behind
/// and the backpressure reaches the senders instead.
const MAX_GROUP_COMMIT_EVENTS: usize = 16_384;
/// Events per archive batch at most. A search result is read back by decoding its whole
/// batch, so a relayed delivery of 10,000 events is archived as three batches: reading one
/// result then decodes 4,096 events, not 10,000, at no measurable cost in compression.
const ARCHIVE_BATCH_EVENTS: usize = 4_096;
const _: () = assert!(ARCHIVE_BATCH_EVENTS <= MAX_BATCH_EVENTS);
/// Archived batches waiting for the index thread, at most.
const INDEX_QUEUE_BATCHES: usize = 4;
/// How often a failed archive write is retried before its events are counted as dropped.
const ARCHIVE_WRITE_ATTEMPTS: u32 = 30;
/// How long a past day's index must have had nothing new before it is sealed into one segment.
const SEAL_AFTER_IDLE: Duration = Duration::from_secs(60);

struct IngestMetrics {
    archive_events: Counter,
    archive_batches: Counter,
    archive_bytes: Counter,
    archive_fsyncs: Counter,
    archive_errors: Counter,
    archive_dropped: Counter,
    archive_torn_bytes: Counter,
    index_events: Counter,
    index_commits: Counter,
    index_errors: Counter,
    index_replayed: Counter,
    index_lag: Gauge,
}

impl IngestMetrics {
    fn new(metrics: &Metrics) -> Self {
        Self {
            archive_events: metrics.counter(
                "vigil_archive_events_total",
                "Events appended to the archive.",
                &[],
            ),
            archive_batches: metrics.counter(
                "vigil_archive_batches_total",
                "Batches appended to the archive.",
                &[],
            ),
            archive_bytes: metrics.counter(
                "vigil_archive_bytes_total",
                "Bytes appended to archive segments (compressed, with headers).",
                &[],
            ),
            archive_fsyncs: metrics.counter(
                "vigil_archive_fsyncs_total",
                "fdatasync calls on archive segments.",
                &[],
            ),
            archive_errors: metrics.counter(
                "vigil_archive_errors_total",
                "Failed archive writes or syncs (each retried).",
                &[],
            ),
            archive_dropped: metrics.counter(
                "vigil_archive_dropped_events_total",
                "Events given up after repeated archive write failures.",
                &[],
            ),
            archive_torn_bytes: metrics.counter(
                "vigil_archive_torn_bytes_cut_total",
                "Bytes of unsynced (torn) batches cut from segment ends at recovery.",
                &[],
            ),
            index_events: metrics.counter(
                "vigil_index_events_total",
                "Events added to the indexes.",
                &[],
            ),
            index_commits: metrics.counter("vigil_index_commits_total", "Index commits.", &[]),
            index_errors: metrics.counter(
                "vigil_index_errors_total",
                "Failed index operations (the archive keeps the events; a restart replays them).",
                &[],
            ),
            index_replayed: metrics.counter(
                "vigil_index_replayed_events_total",
                "Events indexed from the archive tail at start-up.",
                &[],
            ),
            index_lag: metrics.gauge(
                "vigil_index_lag_events",
                "Archived events not yet committed to an index (not yet searchable).",
                &[],
            ),
        }
    }

    /// Counts and logs what opening a partition's archive found at its end.
    fn report_recovery(&self, key: &PartitionKey, outcome: &RecoveryOutcome) {
        if outcome.torn_bytes_cut > 0 {
            self.archive_torn_bytes.add(outcome.torn_bytes_cut);
            tracing::warn!(partition = %key, bytes = outcome.torn_bytes_cut, "cut a torn batch from the archive tail (it was never synced)");
        }
        if let Some(path) = &outcome.damaged_segment_left {
            tracing::error!(partition = %key, segment = %path.display(), "archive segment is damaged; left as is, writing continues in a new segment; run `vigil verify`");
        }
    }
}

/// The store's sink: archive, then index. See the module docs.
pub struct Ingest {
    options: IngestOptions,
    catalog: Arc<IndexCatalog>,
    metrics: Arc<IngestMetrics>,
    ledger: Option<Arc<DeliveryLedger>>,
    durable: Arc<DurableEnds>,
}

/// Where each partition's archive is synced up to, published after every group commit, for
/// readers that must see only durable batches (forwarding upstream).
#[derive(Default)]
pub struct DurableEnds {
    ends: std::sync::Mutex<HashMap<PartitionKey, ArchivePosition>>,
    changed: tokio::sync::Notify,
}

impl DurableEnds {
    /// Every partition with its durable end.
    pub fn all(&self) -> Vec<(PartitionKey, ArchivePosition)> {
        let ends = self
            .ends
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut all: Vec<_> = ends.iter().map(|(key, end)| (*key, *end)).collect();
        all.sort();
        all
    }

    /// Resolves after the next group commit (or at once if one happened since the last call).
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    fn advance(&self, key: PartitionKey, end: ArchivePosition) {
        let mut ends = self
            .ends
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let known = ends.entry(key).or_insert(end);
        *known = (*known).max(end);
    }
}

struct ArchivedBatch {
    key: PartitionKey,
    start: ArchivePosition,
    end: ArchivePosition,
    events: Vec<Event>,
}

impl Ingest {
    pub fn new(options: IngestOptions, catalog: Arc<IndexCatalog>, metrics: &Metrics) -> Self {
        Self {
            options,
            catalog,
            metrics: Arc::new(IngestMetrics::new(metrics)),
            ledger: None,
            durable: Arc::default(),
        }
    }

    /// The durable ends of the archive, filled by [`Ingest::recover`] and every group commit.
    pub fn durable(&self) -> Arc<DurableEnds> {
        self.durable.clone()
    }

    /// Records the marks of deliveries that carry one (acknowledged streams) in `ledger`, in
    /// step with the archive; see [`crate::ledger`].
    pub fn with_ledger(mut self, ledger: Arc<DeliveryLedger>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// Brings every index up to its archive: cuts torn tails, replays what the last commit did
    /// not cover, commits. Run before accepting input. Returns the events replayed.
    ///
    /// With a ledger, the ids of replayed events that `resendable` picks (those of acknowledged
    /// streams) are noted in it before the index commit: their batches' marks may be missing,
    /// and their senders may resend them.
    pub fn recover(&self, resendable: &dyn Fn(&Event) -> bool) -> crate::Result<u64> {
        let mut replayed = 0;
        for key in list_partitions(&self.options.data_dir)? {
            let partition = self.catalog.open_or_create(key)?;
            let covered = partition.payload().archive;
            let archive_dir = key.archive_dir(&self.options.data_dir);
            let last = segments_of(&archive_dir)?.last().cloned();
            let archive_end = match &last {
                Some((segment, path)) => ArchivePosition {
                    segment: *segment,
                    offset: std::fs::metadata(path)
                        .map_err(StoreError::io("stat", path))?
                        .len(),
                },
                None => continue,
            };
            if covered == archive_end {
                self.durable.advance(key, archive_end);
                continue;
            }
            let (archive, outcome) = PartitionArchive::open(
                &self.options.data_dir,
                &key,
                self.options.segment_max_bytes,
            )?;
            self.metrics.report_recovery(&key, &outcome);
            // What is left after cutting a torn tail was written by an earlier run: durable.
            self.durable.advance(key, archive.position());
            drop(archive);
            let mut writer = PartitionIndexWriter::open(
                partition,
                self.options.writer_threads,
                self.options.writer_memory_bytes,
            )?;
            let mut resent = Vec::new();
            let count = writer.replay_archive_tail(&self.options.data_dir, &mut |event| {
                if self.ledger.is_some() && resendable(event) {
                    resent.push(event.id);
                }
            })?;
            if let Some(ledger) = &self.ledger {
                if !resent.is_empty() {
                    tracing::info!(partition = %key, events = resent.len(), "noted the ids of channel events in the archive tail: a resent batch will not archive them twice");
                }
                ledger.note_recovered(&resent)?;
            }
            writer.commit()?;
            if count > 0 {
                tracing::info!(partition = %key, events = count, "replayed the archive tail into the index");
            }
            self.metrics.index_replayed.add(count);
            replayed += count;
        }
        Ok(replayed)
    }

    fn archive_loop(
        options: IngestOptions,
        metrics: Arc<IngestMetrics>,
        ledger: Option<Arc<DeliveryLedger>>,
        durable: Arc<DurableEnds>,
        mut input: BatchReceiver,
        to_index: SyncSender<ArchivedBatch>,
    ) -> crate::Result<()> {
        let runtime = tokio::runtime::Handle::current();
        let mut archives: HashMap<PartitionKey, PartitionArchive> = HashMap::new();
        let mut last_sync = Instant::now() - options.fsync_interval;
        loop {
            let Some(first) = runtime.block_on(input.recv()) else {
                return Ok(());
            };
            let mut receipts = Vec::new();
            let mut marks = Vec::new();
            let mut take = |delivery: vigil_pipeline::Delivery, pending: &mut Vec<Event>| {
                if pending.is_empty() {
                    // The first delivery's vector becomes the group's: its events stay put.
                    *pending = delivery.events;
                } else {
                    pending.extend(delivery.events);
                }
                receipts.extend(delivery.durable);
                marks.extend(delivery.mark);
            };
            let mut pending: Vec<Event> = Vec::new();
            take(first, &mut pending);
            // Group commit: gather what arrives until the next sync is due.
            let mut closed = false;
            while pending.len() < MAX_GROUP_COMMIT_EVENTS {
                let remaining = options.fsync_interval.saturating_sub(last_sync.elapsed());
                if remaining.is_zero() {
                    while pending.len() < MAX_GROUP_COMMIT_EVENTS {
                        match input.try_recv() {
                            Ok(more) => take(more, &mut pending),
                            Err(_) => break,
                        }
                    }
                    break;
                }
                match runtime.block_on(tokio::time::timeout(remaining, input.recv())) {
                    Ok(Some(more)) => take(more, &mut pending),
                    Ok(None) => {
                        closed = true;
                        break;
                    }
                    Err(_elapsed) => break,
                }
            }
            let by_partition = group_by_partition(pending);
            let mut archived = Vec::new();
            let mut all_archived = true;
            // Past days this group wrote to (an import): their archives stay open for the next
            // group rather than being reopened (and their tail rescanned) every 10 ms.
            let touched: Vec<PartitionKey> = by_partition.iter().map(|(key, _)| *key).collect();
            for (key, events) in by_partition {
                for chunk in archive_batches(events) {
                    match append_with_retry(&options, &metrics, &mut archives, key, chunk) {
                        Some(batch) => archived.push(batch),
                        None => all_archived = false,
                    }
                }
            }
            for (key, archive) in archives.iter_mut() {
                let mut attempt = 0;
                loop {
                    match archive.sync() {
                        Ok(synced) => {
                            if synced {
                                metrics.archive_fsyncs.inc();
                            }
                            break;
                        }
                        Err(error) => {
                            attempt += 1;
                            metrics.archive_errors.inc();
                            tracing::error!(partition = %key, %error, attempt, "archive fsync failed; retrying");
                            std::thread::sleep(Duration::from_secs(1));
                        }
                    }
                }
            }
            last_sync = Instant::now();
            // The marks go after the archive fsync and before the index sees the group: see
            // the ledger's module docs for why a crash in between loses and doubles nothing.
            if all_archived {
                if let Some(ledger) = &ledger {
                    record_marks(ledger, &metrics, &marks);
                }
            }
            // Everything gathered is fsynced: tell the sources that wait for it. If a batch had
            // to be given up, no receipt of the group is sent (dropped, they read as "not
            // durable"): senders that wait for acknowledgements will send again.
            if all_archived {
                for receipt in receipts {
                    let _ = receipt.send(());
                }
            }
            for batch in &archived {
                durable.advance(batch.key, batch.end);
            }
            if !archived.is_empty() {
                durable.changed.notify_waiters();
            }
            let today = Timestamp::now().utc_day();
            archives.retain(|key, _| {
                key.day >= today.pred_opt().unwrap_or(today) || touched.contains(key)
            });
            for batch in archived {
                metrics.index_lag.add(batch.events.len() as i64);
                if to_index.send(batch).is_err() {
                    return Err(StoreError::IngestStopped);
                }
            }
            if closed {
                return Ok(());
            }
        }
    }

    fn index_loop(
        options: IngestOptions,
        catalog: Arc<IndexCatalog>,
        metrics: Arc<IngestMetrics>,
        from_archive: Receiver<ArchivedBatch>,
    ) -> crate::Result<()> {
        let mut writers: HashMap<PartitionKey, PartitionIndexWriter> = HashMap::new();
        // Seals in progress: a batch for such a day waits for its seal (the seal holds the
        // index's writer lock).
        let mut sealing: HashMap<PartitionKey, std::thread::JoinHandle<()>> = HashMap::new();
        let mut last_commit = Instant::now();
        loop {
            let remaining = options
                .commit_interval
                .saturating_sub(last_commit.elapsed());
            let received = from_archive.recv_timeout(remaining.max(Duration::from_millis(1)));
            let finished = match received {
                Ok(batch) => {
                    let count = batch.events.len();
                    if let Some(seal) = sealing.remove(&batch.key) {
                        let _ = seal.join();
                    }
                    sealing.retain(|_, seal| !seal.is_finished());
                    if let Err(error) = add_to_index(&options, &catalog, &mut writers, batch) {
                        metrics.index_errors.inc();
                        tracing::error!(%error, "indexing failed; the archive keeps the events and a restart replays them");
                    } else {
                        metrics.index_events.add(count as u64);
                    }
                    close_least_recent_past_day(&mut writers, &metrics);
                    false
                }
                Err(RecvTimeoutError::Timeout) => false,
                Err(RecvTimeoutError::Disconnected) => true,
            };
            if finished || last_commit.elapsed() >= options.commit_interval {
                let mut committed_events = 0;
                for (key, writer) in writers.iter_mut() {
                    let uncommitted = writer.uncommitted_events();
                    match writer.commit() {
                        Ok(true) => {
                            metrics.index_commits.inc();
                            committed_events += uncommitted;
                        }
                        Ok(false) => {}
                        Err(error) => {
                            metrics.index_errors.inc();
                            tracing::error!(partition = %key, %error, "index commit failed");
                        }
                    }
                }
                metrics.index_lag.add(-(committed_events as i64));
                // A day partition before yesterday that has had nothing new for a while is
                // closed: merge it to one segment (smallest on disk, fastest to search) off this
                // thread. The idle time keeps an import into an old day from sealing (and so
                // locking) the index between two of its batches.
                let today = Timestamp::now().utc_day();
                let yesterday = today.pred_opt().unwrap_or(today);
                let closed: Vec<PartitionKey> = writers
                    .iter()
                    .filter(|(key, writer)| {
                        key.day < yesterday
                            && writer.uncommitted_events() == 0
                            && writer.idle_for() >= SEAL_AFTER_IDLE
                    })
                    .map(|(key, _)| *key)
                    .collect();
                for key in closed {
                    if let Some(writer) = writers.remove(&key) {
                        if let Some(seal) = seal_in_background(key, writer, metrics.clone()) {
                            sealing.insert(key, seal);
                        }
                    }
                }
                last_commit = Instant::now();
            }
            if finished {
                // Merges finish before exit, so a stopped node leaves compact indexes behind.
                for (_, seal) in sealing.drain() {
                    let _ = seal.join();
                }
                for (key, writer) in writers.drain() {
                    if let Err(error) = writer.finish() {
                        metrics.index_errors.inc();
                        tracing::error!(partition = %key, %error, "index merge at shutdown failed");
                    }
                }
                return Ok(());
            }
        }
    }
}

/// Past days' index writers open at once, at most. An import running through a year of logs
/// touches each day briefly; each writer holds its own threads and memory budget, so the one
/// used longest ago is committed and closed rather than kept until it has been idle a minute.
const MAX_OPEN_PAST_DAY_WRITERS: usize = 4;

fn close_least_recent_past_day(
    writers: &mut HashMap<PartitionKey, PartitionIndexWriter>,
    metrics: &IngestMetrics,
) {
    let today = Timestamp::now().utc_day();
    let yesterday = today.pred_opt().unwrap_or(today);
    let past = |key: &PartitionKey| key.day < yesterday;
    if writers.keys().filter(|key| past(key)).count() <= MAX_OPEN_PAST_DAY_WRITERS {
        return;
    }
    let Some(oldest) = writers
        .iter()
        .filter(|(key, _)| past(key))
        .max_by_key(|(_, writer)| writer.idle_for())
        .map(|(key, _)| *key)
    else {
        return;
    };
    if let Some(writer) = writers.remove(&oldest) {
        let uncommitted = writer.uncommitted_events();
        match writer.finish() {
            Ok(()) => {
                metrics.index_commits.inc();
                metrics.index_lag.add(-(uncommitted as i64));
            }
            Err(error) => {
                // The archive keeps the events; a restart replays what no commit covers.
                metrics.index_errors.inc();
                tracing::error!(partition = %oldest, %error, "closing a past day's index failed");
            }
        }
    }
}

/// Records the marks of a group, retrying until it works: the group's receipts wait for it.
fn record_marks(ledger: &DeliveryLedger, metrics: &IngestMetrics, marks: &[DeliveryMark]) {
    let mut attempt = 0;
    while let Err(error) = ledger.record(marks) {
        attempt += 1;
        metrics.archive_errors.inc();
        tracing::error!(%error, attempt, "cannot record delivery marks; retrying");
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn seal_in_background(
    key: PartitionKey,
    writer: PartitionIndexWriter,
    metrics: Arc<IngestMetrics>,
) -> Option<std::thread::JoinHandle<()>> {
    let spawned = std::thread::Builder::new()
        .name("vigil-seal".into())
        .spawn(move || match writer.seal() {
            Ok(()) => {
                tracing::info!(partition = %key, "sealed the closed day's index into one segment")
            }
            Err(error) => {
                metrics.index_errors.inc();
                tracing::error!(partition = %key, %error, "sealing a closed day's index failed");
            }
        });
    match spawned {
        Ok(seal) => Some(seal),
        Err(error) => {
            tracing::error!(partition = %key, %error, "cannot start the sealing thread");
            None
        }
    }
}

/// `events` by partition, each partition's in their order of arrival. Live traffic is nearly
/// always one partition: then the vector is handed on as it is, not copied event by event.
fn group_by_partition(events: Vec<Event>) -> Vec<(PartitionKey, Vec<Event>)> {
    let key_of = |event: &Event| PartitionKey {
        level: event.level,
        day: event.partition_day(),
    };
    let Some(first) = events.first().map(key_of) else {
        return Vec::new();
    };
    if events.iter().all(|event| key_of(event) == first) {
        return vec![(first, events)];
    }
    // An import of unsorted old logs may touch hundreds of days in one group.
    let mut places: HashMap<PartitionKey, usize> = HashMap::new();
    let mut groups: Vec<(PartitionKey, Vec<Event>)> = Vec::new();
    for event in events {
        let key = key_of(&event);
        match places.entry(key) {
            Entry::Occupied(place) => groups[*place.get()].1.push(event),
            Entry::Vacant(place) => {
                place.insert(groups.len());
                groups.push((key, vec![event]));
            }
        }
    }
    groups
}

/// `events` cut into archive batches of at most [`ARCHIVE_BATCH_EVENTS`], in order. Batches are
/// split off the end, so each event is moved at most once (cutting from the front would move
/// everything after the cut, again for every batch).
fn archive_batches(mut events: Vec<Event>) -> Vec<Vec<Event>> {
    let mut batches = Vec::with_capacity(events.len().div_ceil(ARCHIVE_BATCH_EVENTS));
    while events.len() > ARCHIVE_BATCH_EVENTS {
        let last_start = (events.len() - 1) / ARCHIVE_BATCH_EVENTS * ARCHIVE_BATCH_EVENTS;
        batches.push(events.split_off(last_start));
    }
    if !events.is_empty() {
        batches.push(events);
    }
    batches.reverse();
    batches
}

fn append_with_retry(
    options: &IngestOptions,
    metrics: &IngestMetrics,
    archives: &mut HashMap<PartitionKey, PartitionArchive>,
    key: PartitionKey,
    events: Vec<Event>,
) -> Option<ArchivedBatch> {
    for attempt in 1..=ARCHIVE_WRITE_ATTEMPTS {
        let result = open_archive(options, metrics, archives, key).and_then(|archive| {
            archive.append(&events, options.zstd_level, Timestamp::now().as_nanos())
        });
        match result {
            Ok(appended) => {
                metrics.archive_events.add(events.len() as u64);
                metrics.archive_batches.inc();
                metrics
                    .archive_bytes
                    .add(appended.end.offset.saturating_sub(appended.start.offset));
                return Some(ArchivedBatch {
                    key,
                    start: appended.start,
                    end: appended.end,
                    events,
                });
            }
            Err(error) => {
                metrics.archive_errors.inc();
                archives.remove(&key);
                tracing::error!(partition = %key, %error, attempt, "archive append failed; retrying in 1s");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
    metrics.archive_dropped.add(events.len() as u64);
    tracing::error!(partition = %key, events = events.len(), "gave up archiving a batch after repeated failures");
    None
}

fn open_archive<'a>(
    options: &IngestOptions,
    metrics: &IngestMetrics,
    archives: &'a mut HashMap<PartitionKey, PartitionArchive>,
    key: PartitionKey,
) -> crate::Result<&'a mut PartitionArchive> {
    match archives.entry(key) {
        Entry::Occupied(open) => Ok(open.into_mut()),
        Entry::Vacant(slot) => {
            let (archive, outcome) =
                PartitionArchive::open(&options.data_dir, &key, options.segment_max_bytes)?;
            metrics.report_recovery(&key, &outcome);
            Ok(slot.insert(archive))
        }
    }
}

fn add_to_index(
    options: &IngestOptions,
    catalog: &IndexCatalog,
    writers: &mut HashMap<PartitionKey, PartitionIndexWriter>,
    batch: ArchivedBatch,
) -> crate::Result<()> {
    let writer = match writers.entry(batch.key) {
        Entry::Occupied(open) => open.into_mut(),
        Entry::Vacant(slot) => {
            let partition = catalog.open_or_create(batch.key)?;
            let mut writer = PartitionIndexWriter::open(
                partition,
                options.writer_threads,
                options.writer_memory_bytes,
            )?;
            // A partition first written in this run may have an archive head start (a restart
            // inside the same day): index it first so the order holds.
            if writer.position() < batch.start {
                writer.replay_archive_tail(&options.data_dir, &mut |_| {})?;
            }
            slot.insert(writer)
        }
    };
    writer.add_batch(batch.start, batch.end, &batch.events)?;
    Ok(())
}

impl Sink for Ingest {
    fn run(self: Box<Self>, input: BatchReceiver) -> BoxFuture<vigil_pipeline::Result<()>> {
        Box::pin(async move {
            let (to_index, from_archive) = sync_channel(INDEX_QUEUE_BATCHES);
            let index_thread = {
                let (options, catalog, metrics) = (
                    self.options.clone(),
                    self.catalog.clone(),
                    self.metrics.clone(),
                );
                std::thread::Builder::new()
                    .name("vigil-index".into())
                    .spawn(move || Ingest::index_loop(options, catalog, metrics, from_archive))
                    .map_err(|error| stage_error("index", error.to_string()))?
            };
            let (options, metrics, ledger, durable) = (
                self.options.clone(),
                self.metrics.clone(),
                self.ledger.clone(),
                self.durable.clone(),
            );
            let archived = tokio::task::spawn_blocking(move || {
                Ingest::archive_loop(options, metrics, ledger, durable, input, to_index)
            })
            .await
            .map_err(|error| stage_error("archive", error.to_string()))?;
            let indexed = tokio::task::spawn_blocking(move || index_thread.join())
                .await
                .map_err(|error| stage_error("index", error.to_string()))?
                .map_err(|_| stage_error("index", "the index thread panicked".into()))?;
            archived.map_err(|error| stage_error("archive", error.to_string()))?;
            indexed.map_err(|error| stage_error("index", error.to_string()))?;
            Ok(())
        })
    }
}

fn stage_error(stage: &'static str, message: String) -> PipelineError {
    PipelineError::Stage { stage, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{ArchivePosition, BatchCursor};
    use vigil_pipeline::{batch_channel, Delivery};

    fn events(count: usize) -> Vec<Event> {
        (0..count)
            .map(|n| {
                let text = format!("receipt test {n}");
                let mut event = Event::new(Timestamp::now(), text.clone().into_bytes());
                event.message = text;
                event
            })
            .collect()
    }

    /// Archive batches are full but the last, and hold every event once, in order.
    #[test]
    fn archive_batches_cut_in_order_and_full_but_the_last() {
        for count in [
            0,
            1,
            ARCHIVE_BATCH_EVENTS,
            ARCHIVE_BATCH_EVENTS + 1,
            2 * ARCHIVE_BATCH_EVENTS,
            2 * ARCHIVE_BATCH_EVENTS + 1_808,
        ] {
            let batches = archive_batches(events(count));
            let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
            let full = count / ARCHIVE_BATCH_EVENTS;
            let mut expected = vec![ARCHIVE_BATCH_EVENTS; full];
            if count % ARCHIVE_BATCH_EVENTS > 0 {
                expected.push(count % ARCHIVE_BATCH_EVENTS);
            }
            assert_eq!(sizes, expected, "{count} events");
            let messages: Vec<String> = batches
                .into_iter()
                .flatten()
                .map(|event| event.message)
                .collect();
            let wanted: Vec<String> = (0..count).map(|n| format!("receipt test {n}")).collect();
            assert_eq!(messages, wanted, "{count} events");
        }
    }

    /// Events of several partitions are grouped by partition, in order within each.
    #[test]
    fn a_group_splits_by_partition_keeping_order() {
        let mut all = events(6);
        for (n, event) in all.iter_mut().enumerate() {
            if n % 3 == 1 {
                event.level = vigil_event::SecurityLevel::new(4).expect("level");
            }
        }
        let groups = group_by_partition(all);
        let shape: Vec<(u8, Vec<String>)> = groups
            .into_iter()
            .map(|(key, events)| {
                let messages = events.into_iter().map(|event| event.message).collect();
                (key.level.get(), messages)
            })
            .collect();
        let level_of_first = shape[0].0;
        assert_ne!(level_of_first, 4);
        assert_eq!(
            shape,
            vec![
                (
                    level_of_first,
                    ["0", "2", "3", "5"]
                        .map(|n| format!("receipt test {n}"))
                        .to_vec()
                ),
                (4, ["1", "4"].map(|n| format!("receipt test {n}")).to_vec()),
            ]
        );
        assert!(group_by_partition(Vec::new()).is_empty());
    }

    /// An import through many past days keeps only a few of their index writers open, and
    /// every event ends up indexed in its own day's partition.
    #[test]
    fn an_import_through_many_past_days_indexes_every_day() {
        const DAYS: i64 = MAX_OPEN_PAST_DAY_WRITERS as i64 + 4;
        let runtime = runtime();
        let dir = tempfile::tempdir().expect("temp dir");
        let catalog = Arc::new(IndexCatalog::open(dir.path()).expect("catalog"));
        let ingest = Ingest::new(options(dir.path()), catalog, &Metrics::default());
        let now = Timestamp::now();
        let day_nanos = 86_400 * 1_000_000_000;
        let mut keys = Vec::new();
        runtime.block_on(async {
            let (sender, input) = batch_channel(4);
            let sink = tokio::spawn(Box::new(ingest).run(input));
            for back in 0..DAYS {
                let mut batch = events(3);
                for event in &mut batch {
                    event.flags.insert(vigil_event::EventFlags::IMPORTED);
                    event.timestamp =
                        Timestamp::from_nanos(now.as_nanos() - (10 + back) * day_nanos);
                }
                keys.push(PartitionKey {
                    level: batch[0].level,
                    day: batch[0].partition_day(),
                });
                let (delivery, receipt) = Delivery::with_receipt(batch);
                sender.send(delivery).await.expect("send");
                receipt.await.expect("durable");
            }
            drop(sender);
            sink.await.expect("join").expect("sink");
        });
        let catalog = IndexCatalog::open(dir.path()).expect("catalog");
        for key in keys {
            let partition = catalog.get(&key).expect("the day's partition");
            assert_eq!(partition.payload().events, 3, "{key}");
        }
    }

    /// Searches over archived and indexed events (many blocks, several batches, mixed values,
    /// times not in order) give the totals, order and events of a scan of every event.
    #[test]
    fn searches_agree_with_a_scan_of_every_event() {
        use crate::search::{SearchRequest, Searcher};
        let runtime = runtime();
        let dir = tempfile::tempdir().expect("temp dir");
        let catalog = Arc::new(IndexCatalog::open(dir.path()).expect("catalog"));
        let ingest = Ingest::new(options(dir.path()), catalog.clone(), &Metrics::default());
        let base = Timestamp::now().as_nanos();
        let hosts = ["web-1", "web-2", "db-1"];
        let mut all = Vec::new();
        for n in 0..12_000i64 {
            let text = format!(
                "user u{} {} from 10.0.{}.{} seq {n}",
                n % 7,
                if n % 3 == 0 {
                    "failed password"
                } else {
                    "accepted key"
                },
                n % 5,
                n % 11
            );
            let mut event = Event::new(
                Timestamp::from_nanos(base + (n * 7919) % 12_000 * 1_000),
                text.clone().into_bytes(),
            );
            event.message = text;
            // Runs of one host, so some blocks hold a single host throughout.
            event.host_name = Some(hosts[(n / 2_000) as usize % 3].to_owned());
            event.severity = Some((n % 8) as u8);
            event.fields.insert(
                "destination.port".into(),
                vigil_event::Value::Int(n % 4 * 100),
            );
            all.push(event);
        }
        runtime.block_on(async {
            let (sender, input) = batch_channel(4);
            let sink = tokio::spawn(Box::new(ingest).run(input));
            for chunk in all.chunks(1_500) {
                let (delivery, receipt) = Delivery::with_receipt(chunk.to_vec());
                sender.send(delivery).await.expect("send");
                receipt.await.expect("durable");
            }
            drop(sender);
            sink.await.expect("join").expect("sink");
        });
        let catalog = Arc::new(IndexCatalog::open(dir.path()).expect("catalog"));
        let searcher = Searcher::new(catalog);
        let from = Timestamp::from_nanos(base + 2_000_000);
        let to = Timestamp::from_nanos(base + 9_000_000);
        for query in [
            "*",
            "host.name:web-2",
            "\"failed password\"",
            "failed AND -host.name:db-1",
            "-host.name:web-1",
            "log.syslog.severity.code:[0 TO 2] OR destination.port:300",
            "u3 AND \"10.0.4\"",
            "nowhere",
        ] {
            let compiled = crate::query::CompiledQuery::parse(query).expect("query");
            for (from, to) in [(None, None), (Some(from), Some(to))] {
                let in_range = |event: &&Event| {
                    from.is_none_or(|from: Timestamp| event.timestamp >= from)
                        && to.is_none_or(|to: Timestamp| event.timestamp < to)
                };
                let mut expected: Vec<&Event> = all
                    .iter()
                    .filter(in_range)
                    .filter(|event| compiled.matcher.matches(event))
                    .collect();
                expected.sort_by_key(|event| std::cmp::Reverse(event.timestamp));
                for limit in [0, 5, 100] {
                    let result = searcher
                        .search(&SearchRequest {
                            query: query.into(),
                            from,
                            to,
                            limit,
                        })
                        .expect("search");
                    assert_eq!(result.total, expected.len() as u64, "{query} {from:?}");
                    let times: Vec<Timestamp> =
                        result.events.iter().map(|event| event.timestamp).collect();
                    let wanted: Vec<Timestamp> = expected
                        .iter()
                        .take(limit)
                        .map(|event| event.timestamp)
                        .collect();
                    assert_eq!(times, wanted, "{query} limit {limit}");
                    assert!(result
                        .events
                        .iter()
                        .all(|event| compiled.matcher.matches(event)));
                }
            }
            let histogram = searcher
                .histogram(query, Some(from), Some(to), 1_000_000)
                .expect("histogram");
            let counted: u64 = histogram.buckets.iter().map(|(_, count)| count).sum();
            let expected = all
                .iter()
                .filter(|event| event.timestamp >= from && event.timestamp < to)
                .filter(|event| compiled.matcher.matches(event))
                .count();
            assert_eq!(counted, expected as u64, "histogram of {query}");
        }
    }

    /// A receipt resolves only once its events can be read back from the archive on disk.
    #[test]
    fn a_receipt_resolves_once_its_batch_is_in_the_archive() {
        let runtime = runtime();
        let dir = tempfile::tempdir().expect("temp dir");
        let catalog = Arc::new(IndexCatalog::open(dir.path()).expect("catalog"));
        let ingest = Ingest::new(options(dir.path()), catalog, &Metrics::default());
        runtime.block_on(async {
            let (sender, input) = batch_channel(4);
            let sink = tokio::spawn(Box::new(ingest).run(input));
            sender.send(events(5).into()).await.expect("plain batch");
            let (delivery, receipt) = Delivery::with_receipt(events(7));
            let key = PartitionKey {
                level: delivery.events[0].level,
                day: delivery.events[0].partition_day(),
            };
            sender.send(delivery).await.expect("send");
            tokio::time::timeout(Duration::from_secs(10), receipt)
                .await
                .expect("receipt in time")
                .expect("durable");
            let mut cursor = BatchCursor::new(
                &key.archive_dir(dir.path()),
                ArchivePosition {
                    segment: 1,
                    offset: 0,
                },
            )
            .expect("cursor");
            let mut archived = 0;
            while let Some((_, _, batch)) = cursor.next().expect("read") {
                archived += batch.events.len();
            }
            assert_eq!(
                archived, 12,
                "both batches are on disk when the receipt comes"
            );
            drop(sender);
            sink.await.expect("join").expect("sink");
        });
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
    }

    fn options(dir: &std::path::Path) -> IngestOptions {
        IngestOptions {
            data_dir: dir.to_path_buf(),
            fsync_interval: Duration::from_millis(10),
            zstd_level: 1,
            segment_max_bytes: 1 << 30,
            commit_interval: Duration::from_secs(60),
            writer_memory_bytes: 32 << 20,
            writer_threads: 1,
        }
    }

    /// A mark is held once its receipt comes; events archived by a run that died before their
    /// marks were recorded are remembered by the next run's recovery, before its index commit.
    #[test]
    fn marks_are_recorded_with_the_archive_and_a_crash_leaves_the_ids_known() {
        let runtime = runtime();
        let dir = tempfile::tempdir().expect("temp dir");
        let channel: Arc<str> = Arc::from("channel");
        let relayed = |count| {
            let mut batch = events(count);
            for event in &mut batch {
                event.listener = channel.clone();
            }
            batch
        };
        let catalog = Arc::new(IndexCatalog::open(dir.path()).expect("catalog"));
        let ledger = Arc::new(DeliveryLedger::open(dir.path()).expect("ledger"));
        let ingest = Ingest::new(options(dir.path()), catalog.clone(), &Metrics::default())
            .with_ledger(ledger.clone());
        let stream = [9u8; 16];
        runtime.block_on(async {
            let (sender, input) = batch_channel(4);
            let sink = tokio::spawn(Box::new(ingest).run(input));
            let (mut delivery, receipt) = Delivery::with_receipt(relayed(3));
            delivery.mark = Some(DeliveryMark { stream, seq: 7 });
            sender.send(delivery).await.expect("send");
            receipt.await.expect("durable");
            assert_eq!(ledger.held(&stream), 7);
            drop(sender);
            sink.await.expect("join").expect("sink");
        });

        // A run without its ledger stands in for one killed between the archive fsync and
        // the marks: the events are archived, the index has not committed them.
        let lost_marks = relayed(4);
        let ids: Vec<_> = lost_marks.iter().map(|event| event.id).collect();
        let mut unmarked = relayed(2);
        for event in &mut unmarked {
            event.listener = Arc::from("syslog-tcp");
        }
        let syslog_ids: Vec<_> = unmarked.iter().map(|event| event.id).collect();
        {
            let mut archive_options = options(dir.path());
            archive_options.commit_interval = Duration::from_secs(3600);
            let metrics = Arc::new(IngestMetrics::new(&Metrics::default()));
            let mut archives = HashMap::new();
            let key = PartitionKey {
                level: lost_marks[0].level,
                day: lost_marks[0].partition_day(),
            };
            let mut all = lost_marks;
            all.extend(unmarked);
            append_with_retry(&archive_options, &metrics, &mut archives, key, all)
                .expect("archived");
            archives
                .get_mut(&key)
                .expect("open archive")
                .sync()
                .expect("sync");
        }
        drop(ledger);
        let ledger = Arc::new(DeliveryLedger::open(dir.path()).expect("reopen ledger"));
        let ingest = Ingest::new(options(dir.path()), catalog, &Metrics::default())
            .with_ledger(ledger.clone());
        let replayed = ingest
            .recover(&|event| &*event.listener == "channel")
            .expect("recover");
        assert_eq!(replayed, 6);
        assert!(ids.iter().all(|id| ledger.recovered(id)));
        assert!(!syslog_ids.iter().any(|id| ledger.recovered(id)));
        assert_eq!(ledger.held(&stream), 7, "the marks survive");
        drop(ledger);
        let ledger = DeliveryLedger::open(dir.path()).expect("reopen ledger");
        assert!(ids.iter().all(|id| ledger.recovered(id)), "durably");
    }
}
