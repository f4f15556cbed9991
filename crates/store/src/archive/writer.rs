use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use vigil_event::Event;

use super::format::{
    encode_batch, genesis_hash, BatchHeader, BATCH_HEADER_BYTES, MAX_BATCH_PAYLOAD_BYTES,
    SEGMENT_MAGIC,
};
use super::reader::{segment_path, segments_of};
use crate::partition::sync_dir;
use crate::{PartitionKey, StoreError};

/// A place in a partition's archive: a segment and a byte offset in it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct ArchivePosition {
    pub segment: u32,
    pub offset: u64,
}

/// The most bytes a crash can leave unsynced at the end of a segment: one batch. Invalid data
/// longer than this at the end is damage, not a torn write, and is kept for forensics.
const MAX_TORN_BYTES: u64 = BATCH_HEADER_BYTES as u64 + MAX_BATCH_PAYLOAD_BYTES as u64;

/// What opening a partition's archive found at its end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryOutcome {
    /// Bytes of an unsynced (torn) batch cut from the end of the last segment.
    pub torn_bytes_cut: u64,
    /// Set when the last segment holds damage that is not a torn tail: it was left untouched and
    /// a new segment started after it. `vigil verify` reports it.
    pub damaged_segment_left: Option<PathBuf>,
}

/// One batch as appended: where it starts and ends, and the partition sequence of its first event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendedBatch {
    pub start: ArchivePosition,
    pub end: ArchivePosition,
    pub first_seq: u64,
}

/// The open, appendable archive of one partition.
pub struct PartitionArchive {
    dir: PathBuf,
    file: File,
    segment: u32,
    offset: u64,
    prev_hash: [u8; 32],
    next_seq: u64,
    segment_max_bytes: u64,
    unsynced: bool,
}

struct SegmentScan {
    valid_end: u64,
    file_len: u64,
    last: Option<BatchHeader>,
}

/// Walks a segment's headers; stops at the first that is missing, damaged or cut short, and
/// checks the payload hash of the last good one (the only one a crash can have torn).
fn scan_segment(path: &Path) -> crate::Result<SegmentScan> {
    let file = File::open(path).map_err(StoreError::io("open", path))?;
    let file_len = file.metadata().map_err(StoreError::io("stat", path))?.len();
    let mut offset = SEGMENT_MAGIC.len() as u64;
    let mut magic = [0u8; 8];
    if file_len < offset || file.read_exact_at(&mut magic, 0).is_err() || &magic != SEGMENT_MAGIC {
        return Ok(SegmentScan {
            valid_end: 0,
            file_len,
            last: None,
        });
    }
    let mut last: Option<(u64, BatchHeader)> = None;
    // The header before `last`: the chain's end if `last` turns out torn.
    let mut before_last: Option<BatchHeader> = None;
    let mut header_bytes = [0u8; BATCH_HEADER_BYTES];
    while offset + BATCH_HEADER_BYTES as u64 <= file_len {
        if file.read_exact_at(&mut header_bytes, offset).is_err() {
            break;
        }
        let Ok(header) = BatchHeader::decode(&header_bytes) else {
            break;
        };
        if offset + header.total_len() > file_len {
            break;
        }
        let chained = last
            .as_ref()
            .is_none_or(|(_, previous)| previous.hash == header.prev_hash);
        if !chained {
            break;
        }
        let start = offset;
        offset += header.total_len();
        before_last = last.replace((start, header)).map(|(_, previous)| previous);
    }
    if let Some((start, header)) = &last {
        let mut payload = vec![0u8; header.payload_len as usize];
        file.read_exact_at(&mut payload, start + BATCH_HEADER_BYTES as u64)
            .map_err(StoreError::io("read", path))?;
        if header.expected_hash(&payload) != header.hash {
            // The last batch is torn: everything from its start is unsynced.
            return Ok(SegmentScan {
                valid_end: *start,
                file_len,
                last: before_last,
            });
        }
    }
    Ok(SegmentScan {
        valid_end: offset,
        file_len,
        last: last.map(|(_, header)| header),
    })
}

fn create_segment(dir: &Path, segment: u32) -> crate::Result<File> {
    let path = segment_path(dir, segment);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(StoreError::io("create", &path))?;
    file.write_all(SEGMENT_MAGIC)
        .map_err(StoreError::io("write", &path))?;
    file.sync_all().map_err(StoreError::io("fsync", &path))?;
    sync_dir(dir)?;
    Ok(file)
}

fn create_dir_durably(dir: &Path) -> crate::Result<()> {
    let mut missing = Vec::new();
    let mut cursor = Some(dir);
    while let Some(path) = cursor {
        if path.exists() {
            break;
        }
        missing.push(path);
        cursor = path.parent();
    }
    std::fs::create_dir_all(dir).map_err(StoreError::io("create", dir))?;
    for path in missing.iter().rev() {
        if let Some(parent) = path.parent() {
            sync_dir(parent)?;
        }
    }
    Ok(())
}

impl PartitionArchive {
    /// Opens (or creates) a partition's archive for appending, cutting a torn tail batch.
    pub fn open(
        data_dir: &Path,
        key: &PartitionKey,
        segment_max_bytes: u64,
    ) -> crate::Result<(Self, RecoveryOutcome)> {
        let dir = key.archive_dir(data_dir);
        create_dir_durably(&dir)?;
        let segments = segments_of(&dir)?;
        let mut outcome = RecoveryOutcome::default();
        let Some((last_segment, last_path)) = segments.last().cloned() else {
            let file = create_segment(&dir, 1)?;
            let archive = Self::at(
                dir,
                file,
                1,
                SEGMENT_MAGIC.len() as u64,
                genesis_hash(key),
                0,
                segment_max_bytes,
            );
            return Ok((archive, outcome));
        };
        let scan = scan_segment(&last_path)?;
        let mut last_header = scan.last.clone();
        // An empty last segment continues the chain of the segment before it.
        for (_, path) in segments.iter().rev().skip(1) {
            if last_header.is_some() {
                break;
            }
            last_header = scan_segment(path)?.last;
        }
        let (prev_hash, next_seq) = match &last_header {
            Some(header) => (
                header.hash,
                header.first_seq + u64::from(header.event_count),
            ),
            None => (genesis_hash(key), 0),
        };
        let invalid_bytes = scan.file_len.saturating_sub(scan.valid_end);
        if scan.valid_end < SEGMENT_MAGIC.len() as u64 {
            // Torn while being created: nothing in it was ever synced.
            outcome.torn_bytes_cut = scan.file_len;
            let file = create_segment(&dir, last_segment)?;
            let archive = Self::at(
                dir,
                file,
                last_segment,
                SEGMENT_MAGIC.len() as u64,
                prev_hash,
                next_seq,
                segment_max_bytes,
            );
            return Ok((archive, outcome));
        }
        if invalid_bytes > MAX_TORN_BYTES {
            outcome.damaged_segment_left = Some(last_path);
            let file = create_segment(&dir, last_segment + 1)?;
            let archive = Self::at(
                dir,
                file,
                last_segment + 1,
                SEGMENT_MAGIC.len() as u64,
                prev_hash,
                next_seq,
                segment_max_bytes,
            );
            return Ok((archive, outcome));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&last_path)
            .map_err(StoreError::io("open", &last_path))?;
        if invalid_bytes > 0 {
            file.set_len(scan.valid_end)
                .map_err(StoreError::io("truncate", &last_path))?;
            file.sync_all()
                .map_err(StoreError::io("fsync", &last_path))?;
            outcome.torn_bytes_cut = invalid_bytes;
        }
        let archive = Self::at(
            dir,
            file,
            last_segment,
            scan.valid_end,
            prev_hash,
            next_seq,
            segment_max_bytes,
        );
        Ok((archive, outcome))
    }

    fn at(
        dir: PathBuf,
        file: File,
        segment: u32,
        offset: u64,
        prev_hash: [u8; 32],
        next_seq: u64,
        segment_max_bytes: u64,
    ) -> Self {
        Self {
            dir,
            file,
            segment,
            offset,
            prev_hash,
            next_seq,
            segment_max_bytes,
            unsynced: false,
        }
    }

    /// Appends one batch (not yet durable: call [`PartitionArchive::sync`]).
    pub fn append(
        &mut self,
        events: &[Event],
        zstd_level: i32,
        written_nanos: i64,
    ) -> crate::Result<AppendedBatch> {
        let batch = encode_batch(
            events,
            self.next_seq,
            self.prev_hash,
            zstd_level,
            written_nanos,
        )?;
        let total = batch.header.total_len();
        if self.offset + total > self.segment_max_bytes && self.offset > SEGMENT_MAGIC.len() as u64
        {
            self.sync()?;
            self.segment += 1;
            self.file = create_segment(&self.dir, self.segment)?;
            self.offset = SEGMENT_MAGIC.len() as u64;
        }
        let path = segment_path(&self.dir, self.segment);
        // Header and payload in two writes rather than copied into one buffer: neither write
        // is atomic anyway, and recovery cuts a batch torn anywhere.
        let header = batch.header.encode();
        let written = self.file.write_all_at(&header, self.offset).and_then(|()| {
            self.file
                .write_all_at(&batch.payload, self.offset + header.len() as u64)
        });
        if let Err(error) = written {
            // Leave no half batch behind: the next append starts at a clean boundary.
            let _ = self.file.set_len(self.offset);
            return Err(StoreError::io("append to", path)(error));
        }
        self.unsynced = true;
        let start = ArchivePosition {
            segment: self.segment,
            offset: self.offset,
        };
        self.offset += total;
        self.prev_hash = batch.header.hash;
        let first_seq = self.next_seq;
        self.next_seq += events.len() as u64;
        Ok(AppendedBatch {
            start,
            end: self.position(),
            first_seq,
        })
    }

    /// Makes every appended batch durable (fdatasync). Returns whether anything was synced.
    pub fn sync(&mut self) -> crate::Result<bool> {
        if !self.unsynced {
            return Ok(false);
        }
        self.file.sync_data().map_err(StoreError::io(
            "fsync",
            segment_path(&self.dir, self.segment),
        ))?;
        self.unsynced = false;
        Ok(true)
    }

    /// The end of the data appended so far.
    pub fn position(&self) -> ArchivePosition {
        ArchivePosition {
            segment: self.segment,
            offset: self.offset,
        }
    }

    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{verify_partition, BatchCursor};
    use chrono::NaiveDate;
    use vigil_event::{SecurityLevel, Timestamp};

    fn key() -> PartitionKey {
        PartitionKey {
            level: SecurityLevel::new(3).unwrap(),
            day: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        }
    }

    fn events(count: usize, tag: &str) -> Vec<Event> {
        (0..count)
            .map(|n| {
                Event::new(
                    Timestamp::from_nanos(n as i64),
                    format!("<13>{tag} {n}").into_bytes(),
                )
            })
            .collect()
    }

    #[test]
    fn archive_reopens_where_it_left_and_keeps_the_chain() {
        let data = tempfile::tempdir().unwrap();
        let (mut archive, _) = PartitionArchive::open(data.path(), &key(), 1 << 20).unwrap();
        archive.append(&events(3, "a"), 3, 0).unwrap();
        archive.sync().unwrap();
        drop(archive);
        let (mut archive, outcome) = PartitionArchive::open(data.path(), &key(), 1 << 20).unwrap();
        assert_eq!(outcome, RecoveryOutcome::default());
        assert_eq!(archive.next_seq(), 3);
        archive.append(&events(2, "b"), 3, 0).unwrap();
        archive.sync().unwrap();
        let report = verify_partition(data.path(), &key()).unwrap();
        assert_eq!(report.events, 5);
        assert_eq!(report.batches, 2);
        assert!(report.first_break.is_none());
    }

    #[test]
    fn archive_cuts_a_torn_tail_and_counts_it() {
        let data = tempfile::tempdir().unwrap();
        let (mut archive, _) = PartitionArchive::open(data.path(), &key(), 1 << 20).unwrap();
        archive.append(&events(3, "a"), 3, 0).unwrap();
        let kept = archive.position();
        archive.append(&events(3, "b"), 3, 0).unwrap();
        drop(archive);
        let path = segment_path(&key().archive_dir(data.path()), 1);
        let length = std::fs::metadata(&path).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(length - 7)
            .unwrap();
        let (archive, outcome) = PartitionArchive::open(data.path(), &key(), 1 << 20).unwrap();
        assert_eq!(outcome.torn_bytes_cut, length - 7 - kept.offset);
        assert_eq!(archive.position(), kept);
        assert_eq!(archive.next_seq(), 3);
    }

    #[test]
    fn archive_cuts_a_full_length_tail_batch_whose_hash_fails() {
        let data = tempfile::tempdir().unwrap();
        let (mut archive, _) = PartitionArchive::open(data.path(), &key(), 1 << 20).unwrap();
        archive.append(&events(3, "a"), 3, 0).unwrap();
        let kept = archive.position();
        archive.append(&events(2, "b"), 3, 0).unwrap();
        drop(archive);
        let path = segment_path(&key().archive_dir(data.path()), 1);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let (mut archive, outcome) = PartitionArchive::open(data.path(), &key(), 1 << 20).unwrap();
        assert_eq!(outcome.torn_bytes_cut, bytes.len() as u64 - kept.offset);
        assert_eq!((archive.position(), archive.next_seq()), (kept, 3));
        archive.append(&events(1, "c"), 3, 0).unwrap();
        let report = verify_partition(data.path(), &key()).unwrap();
        assert!(
            report.first_break.is_none(),
            "the chain continues from the batch before"
        );
        assert_eq!(report.events, 4);
    }

    #[test]
    fn archive_rolls_segments_and_the_cursor_reads_across_them() {
        let data = tempfile::tempdir().unwrap();
        let (mut archive, _) = PartitionArchive::open(data.path(), &key(), 600).unwrap();
        for round in 0..5 {
            archive
                .append(
                    &events(4, &format!("round {round} with some padding text")),
                    3,
                    0,
                )
                .unwrap();
        }
        archive.sync().unwrap();
        assert!(archive.position().segment > 1);
        let mut cursor =
            BatchCursor::new(&key().archive_dir(data.path()), ArchivePosition::default()).unwrap();
        let mut seen = 0;
        while let Some((_, _, batch)) = cursor.next().unwrap() {
            assert_eq!(batch.header.first_seq, seen);
            seen += u64::from(batch.header.event_count);
        }
        assert_eq!(seen, 20);
        assert!(verify_partition(data.path(), &key())
            .unwrap()
            .first_break
            .is_none());
    }
}
