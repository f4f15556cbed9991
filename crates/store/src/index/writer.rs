use serde::{Deserialize, Serialize};
use tantivy::{IndexWriter, TantivyDocument};
use vigil_event::Event;

use super::catalog::OpenPartition;
use super::pointer;
use crate::archive::{ArchivePosition, BatchCursor};
use crate::StoreError;

/// What an index commit covers, stored as the commit's payload (JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitPayload {
    /// The archive up to here (exclusive) is in the index.
    pub archive: ArchivePosition,
    /// Events indexed in all.
    pub events: u64,
    /// Bounds of `@timestamp` over the indexed events, in nanoseconds: searches skip partitions
    /// outside their time range.
    pub min_timestamp_nanos: Option<i64>,
    pub max_timestamp_nanos: Option<i64>,
}

impl CommitPayload {
    pub fn read(index: &tantivy::Index) -> crate::Result<Self> {
        let metas = index.load_metas()?;
        match metas.payload {
            None => Ok(Self::default()),
            Some(text) => serde_json::from_str(&text)
                .map_err(|error| StoreError::Encode(format!("index commit payload: {error}"))),
        }
    }

    fn include(&mut self, timestamp_nanos: i64) {
        self.min_timestamp_nanos = Some(
            self.min_timestamp_nanos
                .map_or(timestamp_nanos, |min| min.min(timestamp_nanos)),
        );
        self.max_timestamp_nanos = Some(
            self.max_timestamp_nanos
                .map_or(timestamp_nanos, |max| max.max(timestamp_nanos)),
        );
    }
}

/// Segments of fewer blocks than this count as one size when merges are chosen.
///
/// tantivy's default (10,000 documents) is sized for one document per event. A document here
/// is a block of up to 1,024 events, so a commit every 5 s makes segments of tens to hundreds
/// of documents, and under that default all of them sat in one level: every merge rewrote the
/// largest segment again with seven new ones, until it passed ~17,000 blocks (17 M events).
/// With the floor at 64 blocks, segments merge with ones of like size.
const MIN_MERGE_LAYER_BLOCKS: u32 = 64;

fn merge_policy() -> tantivy::indexer::LogMergePolicy {
    let mut policy = tantivy::indexer::LogMergePolicy::default();
    policy.set_min_layer_size(MIN_MERGE_LAYER_BLOCKS);
    policy
}

/// The writer of one partition's index. Batches must come in archive order.
pub struct PartitionIndexWriter {
    partition: std::sync::Arc<OpenPartition>,
    writer: IndexWriter<TantivyDocument>,
    pending: CommitPayload,
    uncommitted_events: u64,
    last_added: std::time::Instant,
}

impl PartitionIndexWriter {
    pub fn open(
        partition: std::sync::Arc<OpenPartition>,
        threads: usize,
        memory_bytes: usize,
    ) -> crate::Result<Self> {
        let writer = partition
            .index
            .writer_with_num_threads(threads, memory_bytes)?;
        writer.set_merge_policy(Box::new(merge_policy()));
        let pending = partition.payload();
        Ok(Self {
            partition,
            writer,
            pending,
            uncommitted_events: 0,
            last_added: std::time::Instant::now(),
        })
    }

    /// Where the index (committed or not) reaches in the archive.
    pub fn position(&self) -> ArchivePosition {
        self.pending.archive
    }

    pub fn uncommitted_events(&self) -> u64 {
        self.uncommitted_events
    }

    /// How long since a batch was last added (or the writer opened).
    pub fn idle_for(&self) -> std::time::Duration {
        self.last_added.elapsed()
    }

    /// Adds one archived batch. Batches at or before the covered position are skipped: that is
    /// what keeps a replay from indexing twice.
    pub fn add_batch(
        &mut self,
        start: ArchivePosition,
        end: ArchivePosition,
        events: &[Event],
    ) -> crate::Result<bool> {
        if end <= self.pending.archive {
            return Ok(false);
        }
        debug_assert!(
            start >= self.pending.archive,
            "batches must arrive in archive order"
        );
        for (block, chunk) in events.chunks(super::BLOCK_EVENTS).enumerate() {
            let doc = self
                .partition
                .fields
                .block_document(chunk, pointer::pack(start, block * super::BLOCK_EVENTS));
            self.writer.add_document(doc)?;
            for event in chunk {
                self.pending.include(event.timestamp.as_nanos());
            }
        }
        self.pending.archive = end;
        self.pending.events += events.len() as u64;
        self.uncommitted_events += events.len() as u64;
        self.last_added = std::time::Instant::now();
        Ok(true)
    }

    /// Indexes whatever the archive holds past the covered position (after a crash or restart).
    /// `seen` is called with each event added.
    pub fn replay_archive_tail(
        &mut self,
        data_dir: &std::path::Path,
        seen: &mut dyn FnMut(&vigil_event::Event),
    ) -> crate::Result<u64> {
        let archive_dir = self.partition.key.archive_dir(data_dir);
        let mut cursor = BatchCursor::new(&archive_dir, self.pending.archive)?;
        let mut replayed = 0;
        while let Some((start, end, batch)) = cursor.next()? {
            if self.add_batch(start, end, &batch.events)? {
                replayed += batch.events.len() as u64;
                batch.events.iter().for_each(&mut *seen);
            }
        }
        Ok(replayed)
    }

    /// Commits with the covered archive position as payload and makes it searchable.
    pub fn commit(&mut self) -> crate::Result<bool> {
        if self.uncommitted_events == 0 && self.pending == self.partition.payload() {
            return Ok(false);
        }
        let payload = serde_json::to_string(&self.pending)
            .map_err(|error| StoreError::Encode(error.to_string()))?;
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        self.partition.reload()?;
        self.uncommitted_events = 0;
        Ok(true)
    }

    /// Commits and waits for background merges, leaving the index compact on disk (at shutdown).
    pub fn finish(mut self) -> crate::Result<()> {
        self.commit()?;
        self.writer.wait_merging_threads()?;
        Ok(())
    }

    /// For a closed day: commits, merges every segment into one, and waits. Searches keep
    /// working meanwhile (they see the old segments until the merge lands).
    pub fn seal(mut self) -> crate::Result<()> {
        self.commit()?;
        let segments = self.partition.index.searchable_segment_ids()?;
        if segments.len() > 1 {
            self.writer.merge(&segments).wait()?;
        }
        self.writer.wait_merging_threads()?;
        self.partition.reload()?;
        Ok(())
    }

    pub fn partition(&self) -> &std::sync::Arc<OpenPartition> {
        &self.partition
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexCatalog;
    use crate::PartitionKey;
    use vigil_event::{SecurityLevel, Timestamp};

    #[test]
    fn writer_skips_covered_batches_and_seal_leaves_one_segment() {
        let data = tempfile::tempdir().unwrap();
        let catalog = IndexCatalog::open(data.path()).unwrap();
        let key = PartitionKey {
            level: SecurityLevel::new(2).unwrap(),
            day: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
        };
        let partition = catalog.open_or_create(key).unwrap();
        let mut writer = PartitionIndexWriter::open(partition.clone(), 1, 16 << 20).unwrap();
        let events: Vec<Event> = (0..10)
            .map(|n| {
                let mut event = Event::new(Timestamp::from_nanos(n), Vec::new());
                event.message = format!("line {n}");
                event
            })
            .collect();
        for round in 0..3u64 {
            let start = ArchivePosition {
                segment: 1,
                offset: 8 + round * 100,
            };
            let end = ArchivePosition {
                segment: 1,
                offset: 108 + round * 100,
            };
            assert!(writer.add_batch(start, end, &events).unwrap());
            assert!(
                !writer.add_batch(start, end, &events).unwrap(),
                "a covered batch is skipped"
            );
            writer.commit().unwrap();
        }
        // One block document per batch of ten.
        assert_eq!(partition.reader.searcher().num_docs(), 3);
        assert!(partition.index.searchable_segment_ids().unwrap().len() > 1);
        writer.seal().unwrap();
        assert_eq!(partition.index.searchable_segment_ids().unwrap().len(), 1);
        assert_eq!(partition.reader.searcher().num_docs(), 3);
        assert_eq!(partition.payload().events, 30);
        assert_eq!(partition.payload().archive.offset, 308);
    }
}
