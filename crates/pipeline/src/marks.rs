//! A small durable map from a 16-byte key to the highest number recorded for it: where a
//! receiver is in each sender's stream (`vigil-store`'s delivery ledger), where an agent is in
//! each tailed file. Append-only records, fsynced per append, a torn tail cut on open, rewritten
//! with one record per key once it grows.
//!
//! ```text
//! record := key [16] | value u64 LE | CRC-32 u32 LE of the 24 bytes before it
//! ```

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::DeliveryMark;

pub const RECORD_BYTES: usize = 28;
/// Past this size the log is rewritten with one record per key.
const COMPACT_BYTES: u64 = 1024 * 1024;

/// Records as read: key and value.
pub type Records = Vec<([u8; 16], u64)>;

/// One record's bytes.
pub fn encode_record(key: &[u8; 16], value: u64) -> [u8; RECORD_BYTES] {
    let mut bytes = [0u8; RECORD_BYTES];
    bytes[..16].copy_from_slice(key);
    bytes[16..24].copy_from_slice(&value.to_le_bytes());
    let crc = crc32fast::hash(&bytes[..24]);
    bytes[24..].copy_from_slice(&crc.to_le_bytes());
    bytes
}

/// The valid records of a file in order (none if it does not exist), and the length they
/// cover: reading stops at the first record that is cut short or fails its CRC.
pub fn read_records(path: &Path) -> std::io::Result<(Records, u64)> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut file) => {
            file.read_to_end(&mut bytes)?;
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    let mut records = Vec::new();
    for chunk in bytes.chunks_exact(RECORD_BYTES) {
        let crc = u32::from_le_bytes([chunk[24], chunk[25], chunk[26], chunk[27]]);
        if crc32fast::hash(&chunk[..24]) != crc {
            break;
        }
        let mut key = [0u8; 16];
        key.copy_from_slice(&chunk[..16]);
        let mut value = [0u8; 8];
        value.copy_from_slice(&chunk[16..24]);
        records.push((key, u64::from_le_bytes(value)));
    }
    let valid = (records.len() * RECORD_BYTES) as u64;
    Ok((records, valid))
}

/// Replaces `path` with `records`: a synced temporary file, a rename, a synced directory.
pub fn write_records(path: &Path, records: &[([u8; 16], u64)]) -> std::io::Result<()> {
    let temporary = path.with_extension("tmp");
    let mut file = File::create(&temporary)?;
    let mut bytes = Vec::with_capacity(records.len() * RECORD_BYTES);
    for (key, value) in records {
        bytes.extend_from_slice(&encode_record(key, *value));
    }
    file.write_all(&bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// See the module docs.
#[derive(Debug)]
pub struct MarkLog {
    path: PathBuf,
    file: File,
    bytes: u64,
    held: HashMap<[u8; 16], u64>,
}

impl MarkLog {
    /// Opens (or creates) the log at `path`, cutting a torn record at its end. Returns whether
    /// one was cut.
    pub fn open(path: &Path) -> std::io::Result<(Self, bool)> {
        let (records, valid) = read_records(path)?;
        let mut held: HashMap<[u8; 16], u64> = HashMap::new();
        for (key, value) in records {
            let entry = held.entry(key).or_default();
            *entry = (*entry).max(value);
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let cut = file.metadata()?.len() != valid;
        if cut {
            file.set_len(valid)?;
            file.sync_all()?;
        }
        Ok((
            Self {
                path: path.to_path_buf(),
                file,
                bytes: valid,
                held,
            },
            cut,
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The highest value recorded for each key.
    pub fn held(&self) -> &HashMap<[u8; 16], u64> {
        &self.held
    }

    pub fn get(&self, key: &[u8; 16]) -> u64 {
        self.held.get(key).copied().unwrap_or(0)
    }

    /// Records marks durably: appended and fsynced when this returns.
    pub fn append(&mut self, marks: &[DeliveryMark]) -> std::io::Result<()> {
        if marks.is_empty() {
            return Ok(());
        }
        let mut bytes = Vec::with_capacity(marks.len() * RECORD_BYTES);
        for mark in marks {
            bytes.extend_from_slice(&encode_record(&mark.stream, mark.seq));
        }
        self.file.write_all(&bytes)?;
        self.file.sync_data()?;
        self.bytes += bytes.len() as u64;
        for mark in marks {
            let entry = self.held.entry(mark.stream).or_default();
            *entry = (*entry).max(mark.seq);
        }
        if self.bytes > COMPACT_BYTES {
            let records: Vec<_> = self
                .held
                .iter()
                .map(|(key, value)| (*key, *value))
                .collect();
            write_records(&self.path, &records)?;
            self.file = OpenOptions::new().append(true).open(&self.path)?;
            self.bytes = (records.len() * RECORD_BYTES) as u64;
        }
        Ok(())
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
        let path = dir.path().join("marks");
        let (mut log, cut) = MarkLog::open(&path).expect("open");
        assert!(!cut);
        log.append(&[mark(1, 1), mark(2, 5)]).expect("append");
        log.append(&[mark(1, 2)]).expect("append");
        drop(log);
        let mut file = OpenOptions::new().append(true).open(&path).expect("open");
        file.write_all(&[7u8; 11]).expect("write torn bytes");
        drop(file);

        let (mut log, cut) = MarkLog::open(&path).expect("reopen");
        assert!(cut);
        assert_eq!(
            (log.get(&[1; 16]), log.get(&[2; 16]), log.get(&[3; 16])),
            (2, 5, 0)
        );
        assert_eq!(std::fs::metadata(&path).expect("stat").len(), 3 * 28);
        log.append(&[mark(1, 3)]).expect("append after the cut");
        drop(log);
        assert_eq!(MarkLog::open(&path).expect("reopen").0.get(&[1; 16]), 3);
    }

    #[test]
    fn compaction_keeps_the_highest_mark_of_each_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("marks");
        let (mut log, _) = MarkLog::open(&path).expect("open");
        for round in 0..40u64 {
            let marks: Vec<_> = (0..1000u64)
                .map(|seq| mark((seq % 3) as u8, seq + round * 1000))
                .collect();
            log.append(&marks).expect("append");
        }
        assert!(std::fs::metadata(&path).expect("stat").len() < COMPACT_BYTES);
        drop(log);
        let (log, _) = MarkLog::open(&path).expect("reopen");
        assert_eq!(
            (log.get(&[0; 16]), log.get(&[1; 16]), log.get(&[2; 16])),
            (39_999, 39_997, 39_998)
        );
    }
}
