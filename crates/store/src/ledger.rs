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
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use vigil_event::{EventId, Timestamp};
use vigil_pipeline::marks::{read_records, write_records, MarkLog};
use vigil_pipeline::DeliveryMark;

use crate::StoreError;

pub const LEDGER_DIR: &str = "ledger";
const MARKS_FILE: &str = "marks";
const RECOVERED_FILE: &str = "recovered";
/// How long ids recovered after a crash are remembered.
pub const RECOVERED_KEEP: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

struct Inner {
    marks: MarkLog,
    /// Recovered event ids, each with the time (ns) it was noted.
    recovered: HashMap<EventId, i64>,
}

/// See the module docs.
pub struct DeliveryLedger {
    dir: PathBuf,
    inner: Mutex<Inner>,
}

impl DeliveryLedger {
    /// Opens (or creates) `DATA_DIR/ledger`, cutting a torn record at the end of `marks`.
    pub fn open(data_dir: &Path) -> crate::Result<Self> {
        let dir = data_dir.join(LEDGER_DIR);
        std::fs::create_dir_all(&dir).map_err(StoreError::io("create", &dir))?;
        let marks_path = dir.join(MARKS_FILE);
        let (marks, cut) =
            MarkLog::open(&marks_path).map_err(StoreError::io("open", &marks_path))?;
        if cut {
            tracing::warn!(path = %marks_path.display(), "cut a torn record from the delivery ledger");
        }
        let recovered_path = dir.join(RECOVERED_FILE);
        let (records, _) =
            read_records(&recovered_path).map_err(StoreError::io("read", &recovered_path))?;
        let recovered = records
            .into_iter()
            .map(|(id, at)| (EventId::from_bytes(id), at as i64))
            .collect();
        Ok(Self {
            dir,
            inner: Mutex::new(Inner { marks, recovered }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The highest sequence number of `stream` whose events are all archived; 0 for none.
    pub fn held(&self, stream: &[u8; 16]) -> u64 {
        self.lock().marks.get(stream)
    }

    /// Whether a crashed run archived this event without the mark of its batch.
    pub fn recovered(&self, id: &EventId) -> bool {
        self.lock().recovered.contains_key(id)
    }

    /// Records marks durably (appended and fsynced when this returns).
    pub fn record(&self, marks: &[DeliveryMark]) -> crate::Result<()> {
        let mut inner = self.lock();
        let path = inner.marks.path().to_path_buf();
        inner
            .marks
            .append(marks)
            .map_err(StoreError::io("append to", &path))
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
            .map(|(id, at)| (*id.as_bytes(), *at as u64))
            .collect();
        let path = self.dir.join(RECOVERED_FILE);
        write_records(&path, &records).map_err(StoreError::io("write", &path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_recovered_ids_are_remembered_across_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ledger = DeliveryLedger::open(dir.path()).expect("open");
        let mark = DeliveryMark {
            stream: [4; 16],
            seq: 9,
        };
        ledger.record(&[mark]).expect("record");
        let kept = EventId::new_v7();
        let other = EventId::new_v7();
        ledger.note_recovered(&[kept]).expect("note");
        drop(ledger);
        let ledger = DeliveryLedger::open(dir.path()).expect("reopen");
        assert_eq!(ledger.held(&[4; 16]), 9);
        assert!(ledger.recovered(&kept));
        assert!(!ledger.recovered(&other));
    }
}
