//! The sender's disk-backed outbox: every batch a sender has accepted stays here, fsynced, until
//! the receiver acknowledges it. Bounded in bytes: when full, [`Outbox::append`] says so and the
//! caller stops taking input (backpressure); nothing accepted is ever dropped to make room.
//!
//! ```text
//! DIR/stream                      16 random bytes: this outbox's stream id (dedupe key)
//! DIR/acked                       highest acknowledged sequence number: u64 LE + CRC-32
//! DIR/<first seq, 20 digits>.obx  segments of records, oldest first
//! record := length u32 LE (of seq + body) | CRC-32 u32 LE (of seq + body) | seq u64 LE | body
//! body   := postcard of (BatchFrame, marks: [(key [16], value u64)])
//! ```
//!
//! A batch may carry the marks of its inputs (a tailed file's identity and the offset its lines
//! end at): stored in the same record, they are durable exactly when the batch is. After a
//! kill -9, [`Outbox::marks`] has the newest of them, for the inputs to resume from.
//!
//! Recovery walks every segment; a record that is cut short or fails its CRC ends its segment
//! (the rest is cut off and counted). Only a torn tail is expected — an append returns after its
//! fsync, so a torn record was never accepted. The `acked` file is only a shortcut: if it is lost
//! or stale, batches are resent and the receiver deduplicates by (stream, seq). Before segments
//! are deleted, it is fsynced, so sequence numbers never go back.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use vigil_pipeline::DeliveryMark;

use crate::frame::BatchFrame;

/// A record's body as written.
#[derive(Serialize)]
struct StoredRef<'a> {
    frame: &'a BatchFrame,
    marks: &'a [([u8; 16], u64)],
}

/// A record's body as read.
#[derive(Deserialize)]
struct Stored {
    frame: BatchFrame,
    marks: Vec<([u8; 16], u64)>,
}

const SEGMENT_SUFFIX: &str = ".obx";
const RECORD_HEADER_BYTES: usize = 8;
/// A record over this is damage, not a batch (frames are capped far below it).
const MAX_RECORD_BYTES: usize = 256 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutboxOptions {
    /// Unacknowledged bytes on disk at most; past this, appends are refused until acks arrive.
    pub max_bytes: u64,
    /// A segment is closed and a new one started past this size.
    pub segment_bytes: u64,
}

impl Default for OutboxOptions {
    fn default() -> Self {
        Self {
            max_bytes: 1024 * 1024 * 1024,
            segment_bytes: 64 * 1024 * 1024,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not an error of the outbox: the caller waits for acks (backpressure).
    #[error("outbox full: {unacked_bytes} bytes unacknowledged, limit {max_bytes}")]
    Full { unacked_bytes: u64, max_bytes: u64 },
    #[error("batch cannot be stored: {0}")]
    Encode(String),
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> OutboxError {
    let path = path.to_path_buf();
    move |source| OutboxError::Io {
        action,
        path,
        source,
    }
}

/// What [`Outbox::open`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Unacknowledged batches, to be resent.
    pub batches: u64,
    pub bytes: u64,
    /// Bytes cut off: torn or damaged records.
    pub cut_bytes: u64,
}

#[derive(Debug)]
struct Segment {
    path: PathBuf,
    /// Sequence numbers of the records it holds (first > last when empty).
    first: u64,
    last: u64,
    bytes: u64,
    /// Byte offset and sequence number of each record, for reads.
    records: Vec<(u64, u64)>,
}

#[derive(Debug)]
pub struct Outbox {
    dir: PathBuf,
    options: OutboxOptions,
    stream: [u8; 16],
    segments: Vec<Segment>,
    /// Open for appends: the last segment.
    current: Option<File>,
    next_seq: u64,
    acked: u64,
    /// The highest value of each mark in the records on disk.
    marks: HashMap<[u8; 16], u64>,
}

fn segment_name(first: u64) -> String {
    format!("{first:020}{SEGMENT_SUFFIX}")
}

fn crc(seq: u64, body: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&seq.to_le_bytes());
    hasher.update(body);
    hasher.finalize()
}

fn sync_dir(dir: &Path) -> Result<(), OutboxError> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(io("sync", dir))
}

/// A record read back: its offset in the segment, its sequence number, its body.
type StoredRecord<'a> = (u64, u64, &'a [u8]);

/// Reads the records of a segment: each whole, valid one, and the length of the valid prefix.
fn scan(bytes: &[u8]) -> (Vec<StoredRecord<'_>>, usize) {
    let mut records = Vec::new();
    let mut at = 0;
    while let Some(header) = bytes.get(at..at + RECORD_HEADER_BYTES) {
        let length = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let stored = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if !(8..=MAX_RECORD_BYTES).contains(&length) {
            break;
        }
        let Some(record) = bytes.get(at + RECORD_HEADER_BYTES..at + RECORD_HEADER_BYTES + length)
        else {
            break;
        };
        let seq = u64::from_le_bytes(record[..8].try_into().unwrap_or([0; 8]));
        let body = &record[8..];
        if crc(seq, body) != stored {
            break;
        }
        records.push((at as u64, seq, body));
        at += RECORD_HEADER_BYTES + length;
    }
    (records, at)
}

impl Outbox {
    /// Opens (or creates) the outbox in `dir`, cutting torn records.
    pub fn open(dir: &Path, options: OutboxOptions) -> Result<(Self, Recovered), OutboxError> {
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        let stream = Self::stream_id(dir)?;
        let mut names: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
            .map_err(io("list", dir))?
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let name = path.file_name()?.to_str()?;
                let first = name.strip_suffix(SEGMENT_SUFFIX)?.parse().ok()?;
                Some((first, path))
            })
            .collect();
        names.sort();
        let acked_file = Self::read_acked(dir);
        let mut recovered = Recovered::default();
        let mut segments = Vec::new();
        let mut marks: HashMap<[u8; 16], u64> = HashMap::new();
        let mut highest = 0u64;
        let count = names.len();
        for (index, (first_name, path)) in names.into_iter().enumerate() {
            let mut bytes = Vec::new();
            File::open(&path)
                .and_then(|mut file| file.read_to_end(&mut bytes))
                .map_err(io("read", &path))?;
            let (records, valid) = scan(&bytes);
            // Damage in an older segment is left on disk (evidence; nothing is appended there);
            // a torn tail of the newest is cut so appends go on after its last whole record.
            if valid < bytes.len() {
                recovered.cut_bytes += (bytes.len() - valid) as u64;
            }
            if valid < bytes.len() && index + 1 == count {
                OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .and_then(|file| {
                        file.set_len(valid as u64)?;
                        file.sync_all()
                    })
                    .map_err(io("cut", &path))?;
            }
            for (_, _, body) in &records {
                if let Ok(stored) = postcard::from_bytes::<Stored>(body) {
                    for (key, value) in stored.marks {
                        let entry = marks.entry(key).or_default();
                        *entry = (*entry).max(value);
                    }
                }
            }
            let seqs: Vec<(u64, u64)> = records.iter().map(|(at, seq, _)| (*at, *seq)).collect();
            let (first, last) = match (seqs.first(), seqs.last()) {
                (Some(first), Some(last)) => (first.1, last.1),
                _ => (first_name, first_name.saturating_sub(1)),
            };
            highest = highest.max(last);
            segments.push(Segment {
                path,
                first,
                last,
                bytes: valid as u64,
                records: seqs,
            });
        }
        // Without a readable `acked`, everything on disk is resent (the receiver deduplicates).
        let oldest = segments
            .first()
            .map_or(0, |segment| segment.first.saturating_sub(1));
        let acked = acked_file.unwrap_or(oldest);
        let next_seq = highest.max(acked) + 1;
        let mut outbox = Self {
            dir: dir.to_path_buf(),
            options,
            stream,
            segments,
            current: None,
            next_seq,
            acked,
            marks,
        };
        for segment in &outbox.segments {
            for &(_, seq) in &segment.records {
                if seq > acked {
                    recovered.batches += 1;
                }
            }
        }
        recovered.bytes = outbox.unacked_bytes();
        outbox.drop_acked_segments()?;
        Ok((outbox, recovered))
    }

    fn stream_id(dir: &Path) -> Result<[u8; 16], OutboxError> {
        let path = dir.join("stream");
        if let Ok(bytes) = std::fs::read(&path) {
            if let Ok(id) = <[u8; 16]>::try_from(bytes.as_slice()) {
                return Ok(id);
            }
        }
        let mut id = [0u8; 16];
        File::open("/dev/urandom")
            .and_then(|mut random| random.read_exact(&mut id))
            .map_err(io("read", Path::new("/dev/urandom")))?;
        let temporary = dir.join("stream.tmp");
        File::create(&temporary)
            .and_then(|mut file| {
                file.write_all(&id)?;
                file.sync_all()
            })
            .map_err(io("write", &temporary))?;
        std::fs::rename(&temporary, &path).map_err(io("rename", &path))?;
        sync_dir(dir)?;
        Ok(id)
    }

    fn read_acked(dir: &Path) -> Option<u64> {
        let bytes = std::fs::read(dir.join("acked")).ok()?;
        let (seq, stored) = (bytes.get(..8)?, bytes.get(8..12)?);
        let seq = u64::from_le_bytes(seq.try_into().ok()?);
        let stored = u32::from_le_bytes(stored.try_into().ok()?);
        (crc32fast::hash(&seq.to_le_bytes()) == stored).then_some(seq)
    }

    fn write_acked(&self, sync: bool) -> Result<(), OutboxError> {
        let mut bytes = self.acked.to_le_bytes().to_vec();
        bytes.extend_from_slice(&crc32fast::hash(&self.acked.to_le_bytes()).to_le_bytes());
        let temporary = self.dir.join("acked.tmp");
        let path = self.dir.join("acked");
        File::create(&temporary)
            .and_then(|mut file| {
                file.write_all(&bytes)?;
                if sync {
                    file.sync_all()?;
                }
                Ok(())
            })
            .map_err(io("write", &temporary))?;
        std::fs::rename(&temporary, &path).map_err(io("rename", &path))?;
        if sync {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// This outbox's stream id, sent in the hello.
    pub fn stream(&self) -> [u8; 16] {
        self.stream
    }

    /// The highest acknowledged sequence number.
    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// The sequence number the next appended batch gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The newest value of each input mark stored with a batch (see the module docs).
    pub fn marks(&self) -> &HashMap<[u8; 16], u64> {
        &self.marks
    }

    pub fn unacked_batches(&self) -> u64 {
        self.next_seq - 1 - self.acked
    }

    /// Bytes on disk of batches not yet acknowledged (whole segments: a segment is deleted once
    /// all of it is acknowledged).
    pub fn unacked_bytes(&self) -> u64 {
        self.segments
            .iter()
            .filter(|segment| segment.last > self.acked)
            .map(|segment| segment.bytes)
            .sum()
    }

    /// Stores `batches` with the next sequence numbers (overwriting theirs) and fsyncs before
    /// returning them: once this returns, a kill -9 loses none of them. Refused whole, with
    /// [`OutboxError::Full`], when they would take the outbox past its limit.
    pub fn append(&mut self, batches: &mut [BatchFrame]) -> Result<(), OutboxError> {
        self.append_marked(batches, &[])
    }

    /// As [`Outbox::append`], with the marks of the inputs the batches came from, stored with
    /// the last batch.
    pub fn append_marked(
        &mut self,
        batches: &mut [BatchFrame],
        marks: &[DeliveryMark],
    ) -> Result<(), OutboxError> {
        let mut records = Vec::with_capacity(
            batches
                .iter()
                .map(|batch| batch.compressed.len() + 64)
                .sum::<usize>()
                + marks.len() * 32,
        );
        let mut lengths = Vec::with_capacity(batches.len());
        let stored_marks: Vec<([u8; 16], u64)> =
            marks.iter().map(|mark| (mark.stream, mark.seq)).collect();
        let last = batches.len().saturating_sub(1);
        for (offset, batch) in batches.iter_mut().enumerate() {
            batch.seq = self.next_seq + offset as u64;
            let stored = StoredRef {
                frame: batch,
                marks: if offset == last { &stored_marks } else { &[] },
            };
            let room = batch.compressed.len() + 32 + stored.marks.len() * 32;
            let body = postcard::to_extend(&stored, Vec::with_capacity(room))
                .map_err(|error| OutboxError::Encode(error.to_string()))?;
            let length = u32::try_from(body.len() + 8)
                .ok()
                .filter(|length| *length as usize <= MAX_RECORD_BYTES)
                .ok_or_else(|| OutboxError::Encode(format!("batch of {} bytes", body.len())))?;
            records.extend_from_slice(&length.to_le_bytes());
            records.extend_from_slice(&crc(batch.seq, &body).to_le_bytes());
            records.extend_from_slice(&batch.seq.to_le_bytes());
            records.extend_from_slice(&body);
            lengths.push(RECORD_HEADER_BYTES as u64 + u64::from(length));
        }
        let unacked = self.unacked_bytes();
        if unacked > 0 && unacked + records.len() as u64 > self.options.max_bytes {
            return Err(OutboxError::Full {
                unacked_bytes: unacked,
                max_bytes: self.options.max_bytes,
            });
        }
        let roll = match self.segments.last() {
            None => true,
            Some(segment) => {
                segment.bytes > 0
                    && segment.bytes + records.len() as u64 > self.options.segment_bytes
            }
        };
        if roll {
            self.start_segment()?;
        }
        if self.current.is_none() {
            let path = match self.segments.last() {
                Some(segment) => segment.path.clone(),
                None => return Err(OutboxError::Encode("no segment".into())),
            };
            let file = OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(io("open", &path))?;
            self.current = Some(file);
        }
        let (Some(file), Some(segment)) = (self.current.as_mut(), self.segments.last_mut()) else {
            return Err(OutboxError::Encode("no open segment".into()));
        };
        file.write_all(&records)
            .and_then(|()| file.sync_data())
            .map_err(io("append", &segment.path))?;
        let mut at = segment.bytes;
        for (batch, length) in batches.iter().zip(lengths) {
            if segment.first > segment.last {
                segment.first = batch.seq;
            }
            segment.last = batch.seq;
            segment.records.push((at, batch.seq));
            at += length;
        }
        segment.bytes += records.len() as u64;
        self.next_seq += batches.len() as u64;
        for mark in marks {
            let entry = self.marks.entry(mark.stream).or_default();
            *entry = (*entry).max(mark.seq);
        }
        Ok(())
    }

    fn start_segment(&mut self) -> Result<(), OutboxError> {
        let path = self.dir.join(segment_name(self.next_seq));
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io("create", &path))?;
        sync_dir(&self.dir)?;
        self.segments.push(Segment {
            path,
            first: self.next_seq,
            last: self.next_seq - 1,
            bytes: 0,
            records: Vec::new(),
        });
        self.current = Some(file);
        Ok(())
    }

    /// Batches after `seq`, oldest first, about `max_bytes` of them (at least one if any).
    pub fn read_after(&self, seq: u64, max_bytes: usize) -> Result<Vec<BatchFrame>, OutboxError> {
        let mut out = Vec::new();
        let mut taken = 0usize;
        for segment in self.segments.iter().filter(|segment| segment.last > seq) {
            let Some(first) = segment
                .records
                .iter()
                .position(|(_, record_seq)| *record_seq > seq)
            else {
                continue;
            };
            // Read only the records wanted (a backlog's segment holds far more than a send).
            let start = segment.records[first].0;
            let wanted = max_bytes.saturating_sub(taken) as u64;
            let end = segment.records[first + 1..]
                .iter()
                .map(|(at, _)| *at)
                .find(|at| at - start >= wanted)
                .unwrap_or(segment.bytes);
            let length = usize::try_from(end - start)
                .map_err(|_| OutboxError::Encode(format!("{} bytes to read", end - start)))?;
            let mut bytes = vec![0u8; length];
            let mut file = File::open(&segment.path).map_err(io("open", &segment.path))?;
            std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(start))
                .map_err(io("seek", &segment.path))?;
            file.read_exact(&mut bytes)
                .map_err(io("read", &segment.path))?;
            let (records, _) = scan(&bytes);
            for (_, record_seq, body) in records {
                if record_seq <= seq {
                    continue;
                }
                let stored: Stored = postcard::from_bytes(body)
                    .map_err(|error| OutboxError::Encode(format!("stored batch: {error}")))?;
                taken += body.len();
                out.push(stored.frame);
                if taken >= max_bytes {
                    return Ok(out);
                }
            }
            if end < segment.bytes {
                // The rest of this segment comes first, at the next call.
                return Ok(out);
            }
        }
        Ok(out)
    }

    /// Every batch up to `seq` is durable at the receiver: forget them. Whole segments are
    /// deleted; the `acked` mark is fsynced first so sequence numbers never go back.
    pub fn ack(&mut self, seq: u64) -> Result<(), OutboxError> {
        let seq = seq.min(self.next_seq - 1);
        if seq <= self.acked {
            return Ok(());
        }
        self.acked = seq;
        let deletable = self.deletable();
        self.write_acked(deletable > 0)?;
        self.drop_acked_segments()
    }

    /// Fully acknowledged segments, oldest first, never the one open for appends.
    fn deletable(&self) -> usize {
        let keep_last = usize::from(!self.segments.is_empty());
        self.segments[..self.segments.len() - keep_last]
            .iter()
            .take_while(|segment| segment.last <= self.acked)
            .count()
    }

    fn drop_acked_segments(&mut self) -> Result<(), OutboxError> {
        let count = self.deletable();
        for segment in self.segments.drain(..count) {
            std::fs::remove_file(&segment.path).map_err(io("delete", &segment.path))?;
        }
        if count > 0 {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn batch(tag: u8, size: usize) -> BatchFrame {
        BatchFrame {
            seq: 0,
            events: 1,
            raw_bytes: size as u32,
            compressed: vec![tag; size],
        }
    }

    fn small(dir: &Path) -> (Outbox, Recovered) {
        Outbox::open(
            dir,
            OutboxOptions {
                max_bytes: 10_000,
                segment_bytes: 1_000,
            },
        )
        .unwrap()
    }

    #[test]
    fn batches_survive_a_reopen_until_acked() {
        let dir = tempfile::tempdir().unwrap();
        let (mut outbox, recovered) = small(dir.path());
        assert_eq!(recovered, Recovered::default());
        let stream = outbox.stream();
        let mut batches: Vec<BatchFrame> = (0..20).map(|n| batch(n, 100)).collect();
        outbox.append(&mut batches).unwrap();
        assert_eq!(
            batches.iter().map(|b| b.seq).collect::<Vec<_>>(),
            (1..=20).collect::<Vec<_>>()
        );
        outbox.ack(12).unwrap();
        drop(outbox);

        let (outbox, recovered) = small(dir.path());
        assert_eq!(outbox.stream(), stream);
        assert_eq!((outbox.acked(), outbox.next_seq()), (12, 21));
        assert_eq!(recovered.batches, 8);
        let pending = outbox.read_after(outbox.acked(), usize::MAX).unwrap();
        assert_eq!(pending, batches[12..].to_vec());
        assert_eq!(outbox.read_after(18, 1).unwrap(), batches[18..19].to_vec());
    }

    /// A sender reads the outbox a few megabytes at a time: in order, nothing skipped, across
    /// segments, however the sizes fall.
    #[test]
    fn reading_in_small_steps_gives_every_batch_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (mut outbox, _) = small(dir.path());
        let mut batches: Vec<BatchFrame> = Vec::new();
        for n in 0..30u8 {
            let mut one = [batch(n, 20 + 11 * n as usize)];
            outbox.append(&mut one).unwrap();
            batches.extend(one);
        }
        assert!(outbox.segments.len() > 2, "the test needs several segments");
        for step in [1, 100, 333, 1000, 5000] {
            let (mut read, mut after) = (Vec::new(), 0);
            loop {
                let next = outbox.read_after(after, step).unwrap();
                let Some(last) = next.last() else { break };
                after = last.seq;
                read.extend(next);
            }
            assert_eq!(read, batches, "steps of {step} bytes");
        }
    }

    /// Marks stored with batches come back after a reopen, also once their batches are acked
    /// (the segment open for appends is never deleted, so the newest marks stay on disk).
    #[test]
    fn input_marks_are_durable_with_their_batch() {
        let dir = tempfile::tempdir().unwrap();
        let (mut outbox, _) = small(dir.path());
        let mark = |key: u8, offset: u64| DeliveryMark {
            stream: [key; 16],
            seq: offset,
        };
        outbox
            .append_marked(&mut [batch(1, 100)], &[mark(1, 500), mark(2, 70)])
            .unwrap();
        outbox
            .append_marked(&mut [batch(2, 100), batch(3, 100)], &[mark(1, 900)])
            .unwrap();
        assert_eq!(outbox.marks().get(&[1; 16]), Some(&900));
        outbox.ack(3).unwrap();
        drop(outbox);
        let (outbox, _) = small(dir.path());
        assert_eq!(outbox.marks().get(&[1; 16]), Some(&900));
        assert_eq!(outbox.marks().get(&[2; 16]), Some(&70));
        assert_eq!(outbox.unacked_batches(), 0);
    }

    #[test]
    fn a_full_outbox_refuses_until_acks_make_room() {
        let dir = tempfile::tempdir().unwrap();
        let (mut outbox, _) = small(dir.path());
        let mut accepted = 0;
        loop {
            match outbox.append(&mut [batch(1, 500)]) {
                Ok(()) => accepted += 1,
                Err(OutboxError::Full { .. }) => break,
                Err(error) => panic!("{error}"),
            }
            assert!(accepted < 100, "never full");
        }
        assert!(outbox.unacked_bytes() <= 10_000);
        outbox.ack(outbox.next_seq() - 1).unwrap();
        outbox.append(&mut [batch(2, 500)]).unwrap();
        assert_eq!(outbox.unacked_batches(), 1);
    }

    #[test]
    fn acked_segments_are_deleted_and_sequence_numbers_never_go_back() {
        let dir = tempfile::tempdir().unwrap();
        let (mut outbox, _) = small(dir.path());
        for n in 0..30 {
            outbox.append(&mut [batch(n, 300)]).unwrap();
        }
        outbox.ack(30).unwrap();
        let segments = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|entry| {
                entry
                    .as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .and_then(|e| e.to_str())
                    == Some("obx")
            })
            .count();
        assert_eq!(segments, 1, "only the open segment is kept");
        // Lose the acked mark: nothing older is resent twice forever, and numbering goes on.
        std::fs::remove_file(dir.path().join("acked")).unwrap();
        drop(outbox);
        let (outbox, _) = small(dir.path());
        assert!(outbox.next_seq() > 30, "{}", outbox.next_seq());
    }

    proptest! {
        /// Kill -9 anywhere: a torn tail is cut, every batch whose append returned is there, in
        /// order, and appends go on after it.
        #[test]
        fn a_torn_tail_is_cut_and_nothing_appended_is_lost(
            sizes in prop::collection::vec(1usize..400, 1..40),
            ack in 0u64..40,
            cut in 1usize..400,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let options = OutboxOptions { max_bytes: 1 << 20, segment_bytes: 1_000 };
            let (mut outbox, _) = Outbox::open(dir.path(), options).unwrap();
            let mut stored = Vec::new();
            for (n, size) in sizes.iter().enumerate() {
                let mut batches = [batch(n as u8, *size)];
                outbox.append(&mut batches).unwrap();
                stored.push(batches[0].clone());
            }
            let ack = ack.min(stored.len() as u64);
            outbox.ack(ack).unwrap();
            let last = outbox.segments.last().unwrap().path.clone();
            drop(outbox);
            // A half-written record after the last whole one.
            let torn = {
                let mut record = vec![0u8; 8 + cut.min(300)];
                record[..4].copy_from_slice(&(u32::try_from(cut + 100).unwrap()).to_le_bytes());
                record
            };
            OpenOptions::new().append(true).open(&last).unwrap().write_all(&torn).unwrap();

            let (mut outbox, recovered) = Outbox::open(dir.path(), options).unwrap();
            prop_assert_eq!(recovered.cut_bytes, torn.len() as u64);
            prop_assert_eq!(outbox.acked(), ack);
            prop_assert_eq!(outbox.read_after(ack, usize::MAX).unwrap(), stored[ack as usize..].to_vec());
            let mut next = [batch(9, 10)];
            outbox.append(&mut next).unwrap();
            prop_assert_eq!(next[0].seq, stored.len() as u64 + 1);
        }
    }
}
