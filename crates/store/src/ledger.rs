//! What this node holds of each acknowledged stream (the agent channel, forwarding between SOCs),
//! kept so that a sender that resends after a crash gets nothing archived twice.
//!
//! ```text
//! DATA_DIR/ledger/marks      stream [16] | seq u64 LE | CRC-32 u32 LE   (28 bytes per record)
//! DATA_DIR/ledger/recovered  at i64 LE   | event id [16] | CRC-32 u32 LE (28 bytes per record)
//! ```
//!
//! The archive thread appends the marks of a group commit to `marks` and fsyncs it after the
//! group's archive fsync and before the group reaches the index. A crash between the two fsyncs
//! leaves events archived whose mark is missing: their sender will resend them. Those events are
//! exactly the ones the index had not committed, so [`crate::Ingest::recover`] meets them when
//! it replays the archive tail and writes their ids to `recovered` (fsynced) before the index
//! commit that would hide them. A resent batch's events are checked against that list.
//! Recovered ids are kept [`RECOVERED_KEEP`]: a sender that stays away longer than that and
//! then resends a batch caught in a crash gets those events archived twice.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use vigil_event::{EventId, Timestamp};
use vigil_pipeline::DeliveryMark;

use crate::StoreError;

pub const LEDGER_DIR: &str = "ledger";
const MARKS_FILE: &str = "marks";
const RECOVERED_FILE: &str = "recovered";
const RECORD_BYTES: usize = 28;
/// Past this size the marks file is rewritten with one record per stream.
const COMPACT_BYTES: u64 = 1024 * 1024;
/// How long ids recovered after a crash are remembered.
pub const RECOVERED_KEEP: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

struct Inner {
    marks: File,
    marks_bytes: u64,
    held: HashMap<[u8; 16], u64>,
    recovered: HashMap<EventId, i64>,
}

/// See the module docs.
pub struct DeliveryLedger {
    dir: PathBuf,
    inner: Mutex<Inner>,
}

fn record(head: &[u8; 16], tail: [u8; 8]) -> [u8; RECORD_BYTES] {
    let mut bytes = [0u8; RECORD_BYTES];
    bytes[..16].copy_from_slice(head);
    bytes[16..24].copy_from_slice(&tail);
    let crc = crc32fast::hash(&bytes[..24]);
    bytes[24..].copy_from_slice(&crc.to_le_bytes());
    bytes
}

/// The valid records of a file, and the length they cover (a torn tail is left out).
fn read_records(path: &Path) -> crate::Result<(Vec<[u8; RECORD_BYTES]>, u64)> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut file) => {
            file.read_to_end(&mut bytes)
                .map_err(StoreError::io("read", path))?;
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(StoreError::io("open", path)(error)),
    }
    let mut records = Vec::new();
    for chunk in bytes.chunks_exact(RECORD_BYTES) {
        let crc = u32::from_le_bytes([chunk[24], chunk[25], chunk[26], chunk[27]]);
        if crc32fast::hash(&chunk[..24]) != crc {
            break;
        }
        let mut record = [0u8; RECORD_BYTES];
        record.copy_from_slice(chunk);
        records.push(record);
    }
    let valid = (records.len() * RECORD_BYTES) as u64;
    Ok((records, valid))
}

fn split(record: &[u8; RECORD_BYTES]) -> ([u8; 16], [u8; 8]) {
    let mut head = [0u8; 16];
    head.copy_from_slice(&record[..16]);
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&record[16..24]);
    (head, tail)
}

/// Writes `records` to `path` through a synced temporary file and a rename.
fn replace_file(dir: &Path, path: &Path, records: &[[u8; RECORD_BYTES]]) -> crate::Result<()> {
    let temporary = path.with_extension("tmp");
    let mut file = File::create(&temporary).map_err(StoreError::io("create", &temporary))?;
    for record in records {
        file.write_all(record)
            .map_err(StoreError::io("write", &temporary))?;
    }
    file.sync_all()
        .map_err(StoreError::io("sync", &temporary))?;
    std::fs::rename(&temporary, path).map_err(StoreError::io("rename", path))?;
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(StoreError::io("sync", dir))
}

fn open_append(path: &Path) -> crate::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(StoreError::io("open", path))
}

impl DeliveryLedger {
    /// Opens (or creates) `DATA_DIR/ledger`, cutting a torn record at the end of `marks`.
    pub fn open(data_dir: &Path) -> crate::Result<Self> {
        let dir = data_dir.join(LEDGER_DIR);
        std::fs::create_dir_all(&dir).map_err(StoreError::io("create", &dir))?;
        let marks_path = dir.join(MARKS_FILE);
        let (records, valid) = read_records(&marks_path)?;
        let mut held = HashMap::new();
        for record in &records {
            let (stream, seq) = split(record);
            let seq = u64::from_le_bytes(seq);
            let entry = held.entry(stream).or_insert(0);
            *entry = (*entry).max(seq);
        }
        let marks = open_append(&marks_path)?;
        if marks.metadata().map(|meta| meta.len()).unwrap_or(0) != valid {
            tracing::warn!(path = %marks_path.display(), "cut a torn record from the delivery ledger");
            marks
                .set_len(valid)
                .map_err(StoreError::io("truncate", &marks_path))?;
        }
        let mut recovered = HashMap::new();
        for record in read_records(&dir.join(RECOVERED_FILE))?.0 {
            let (id, at) = split(&record);
            recovered.insert(EventId::from_bytes(id), i64::from_le_bytes(at));
        }
        Ok(Self {
            dir,
            inner: Mutex::new(Inner {
                marks,
                marks_bytes: valid,
                held,
                recovered,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The highest sequence number of `stream` whose events are all archived; 0 for none.
    pub fn held(&self, stream: &[u8; 16]) -> u64 {
        self.lock().held.get(stream).copied().unwrap_or(0)
    }

    /// Whether a crashed run archived this event without the mark of its batch.
    pub fn recovered(&self, id: &EventId) -> bool {
        self.lock().recovered.contains_key(id)
    }

    /// Records marks durably (appended and fsynced when this returns).
    pub fn record(&self, marks: &[DeliveryMark]) -> crate::Result<()> {
        if marks.is_empty() {
            return Ok(());
        }
        let mut inner = self.lock();
        let mut bytes = Vec::with_capacity(marks.len() * RECORD_BYTES);
        for mark in marks {
            bytes.extend_from_slice(&record(&mark.stream, mark.seq.to_le_bytes()));
        }
        let path = self.dir.join(MARKS_FILE);
        inner
            .marks
            .write_all(&bytes)
            .and_then(|()| inner.marks.sync_data())
            .map_err(StoreError::io("append to", &path))?;
        inner.marks_bytes += bytes.len() as u64;
        for mark in marks {
            let entry = inner.held.entry(mark.stream).or_insert(0);
            *entry = (*entry).max(mark.seq);
        }
        if inner.marks_bytes > COMPACT_BYTES {
            let records: Vec<_> = inner
                .held
                .iter()
                .map(|(stream, seq)| record(stream, seq.to_le_bytes()))
                .collect();
            replace_file(&self.dir, &path, &records)?;
            inner.marks = open_append(&path)?;
            inner.marks_bytes = (records.len() * RECORD_BYTES) as u64;
        }
        Ok(())
    }

    /// Remembers ids a crashed run archived (fsynced when this returns), and forgets those
    /// older than [`RECOVERED_KEEP`].
    pub fn note_recovered(&self, ids: &[EventId]) -> crate::Result<()> {
        let mut inner = self.lock();
        let now = Timestamp::now().as_nanos();
        let keep = i64::try_from(RECOVERED_KEEP.as_nanos()).unwrap_or(i64::MAX);
        let before = inner.recovered.len();
        inner
            .recovered
            .retain(|_, at| now.saturating_sub(*at) < keep);
        if ids.is_empty() && inner.recovered.len() == before {
            return Ok(());
        }
        for id in ids {
            inner.recovered.insert(*id, now);
        }
        let records: Vec<_> = inner
            .recovered
            .iter()
            .map(|(id, at)| record(id.as_bytes(), at.to_le_bytes()))
            .collect();
        replace_file(&self.dir, &self.dir.join(RECOVERED_FILE), &records)
    }

    /// Streams and what is held of each, for the API and logs.
    pub fn streams(&self) -> Vec<([u8; 16], u64)> {
        let inner = self.lock();
        let mut streams: Vec<_> = inner.held.iter().map(|(s, q)| (*s, *q)).collect();
        streams.sort();
        streams
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(stream: u8, seq: u64) -> DeliveryMark {
        DeliveryMark {
            stream: [stream; 16],
            seq,
        }
    }

    #[test]
    fn marks_survive_reopening_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ledger = DeliveryLedger::open(dir.path()).expect("open");
        ledger.record(&[mark(1, 1), mark(2, 5)]).expect("record");
        ledger.record(&[mark(1, 2)]).expect("record");
        drop(ledger);
        let path = dir.path().join(LEDGER_DIR).join(MARKS_FILE);
        let mut file = OpenOptions::new().append(true).open(&path).expect("open");
        file.write_all(&[7u8; 11]).expect("write torn bytes");
        drop(file);

        let ledger = DeliveryLedger::open(dir.path()).expect("reopen");
        assert_eq!(ledger.held(&[1; 16]), 2);
        assert_eq!(ledger.held(&[2; 16]), 5);
        assert_eq!(ledger.held(&[3; 16]), 0);
        assert_eq!(std::fs::metadata(&path).expect("stat").len(), 3 * 28);
        ledger.record(&[mark(1, 3)]).expect("record after the cut");
        drop(ledger);
        assert_eq!(
            DeliveryLedger::open(dir.path())
                .expect("reopen")
                .held(&[1; 16]),
            3
        );
    }

    #[test]
    fn compaction_keeps_the_highest_mark_of_each_stream() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ledger = DeliveryLedger::open(dir.path()).expect("open");
        let per_call: Vec<DeliveryMark> = (0..1000).map(|seq| mark((seq % 3) as u8, seq)).collect();
        for round in 0..40u64 {
            let marks: Vec<_> = per_call
                .iter()
                .map(|m| mark(m.stream[0], m.seq + round * 1000))
                .collect();
            ledger.record(&marks).expect("record");
        }
        let path = dir.path().join(LEDGER_DIR).join(MARKS_FILE);
        assert!(std::fs::metadata(&path).expect("stat").len() < COMPACT_BYTES);
        drop(ledger);
        let ledger = DeliveryLedger::open(dir.path()).expect("reopen");
        assert_eq!(ledger.held(&[0; 16]), 39_999);
        assert_eq!(ledger.held(&[1; 16]), 39_997);
        assert_eq!(ledger.held(&[2; 16]), 39_998);
    }

    #[test]
    fn recovered_ids_are_remembered_across_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ledger = DeliveryLedger::open(dir.path()).expect("open");
        let kept = EventId::new_v7();
        let other = EventId::new_v7();
        ledger.note_recovered(&[kept]).expect("note");
        drop(ledger);
        let ledger = DeliveryLedger::open(dir.path()).expect("reopen");
        assert!(ledger.recovered(&kept));
        assert!(!ledger.recovered(&other));
    }
}
