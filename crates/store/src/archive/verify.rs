use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::format::{genesis_hash, BatchHeader, BATCH_HEADER_BYTES, SEGMENT_MAGIC};
use super::reader::segments_of;
use crate::{PartitionKey, StoreError};

/// Where a partition's chain first breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    pub segment: PathBuf,
    pub offset: u64,
    /// Partition sequence numbers of the events the broken batch holds (or would follow), first
    /// and one past last; equal when the header itself is unreadable.
    pub first_seq: u64,
    pub end_seq: u64,
    pub reason: String,
}

/// What walking one partition's chain found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub segments: usize,
    pub batches: u64,
    pub events: u64,
    pub bytes: u64,
    pub first_break: Option<ChainBreak>,
}

/// Walks every batch of a partition from the genesis hash: magic, header CRC, length, payload
/// hash, chain link and sequence. Stops at the first break.
pub fn verify_partition(data_dir: &Path, key: &PartitionKey) -> crate::Result<VerifyReport> {
    let mut report = VerifyReport::default();
    let mut expected_prev = genesis_hash(key);
    let mut expected_seq = 0u64;
    for (_, path) in segments_of(&key.archive_dir(data_dir))? {
        report.segments += 1;
        let file = File::open(&path).map_err(StoreError::io("open", &path))?;
        let file_len = file
            .metadata()
            .map_err(StoreError::io("stat", &path))?
            .len();
        report.bytes += file_len;
        let chain_break = |offset: u64, first_seq: u64, end_seq: u64, reason: String| ChainBreak {
            segment: path.clone(),
            offset,
            first_seq,
            end_seq,
            reason,
        };
        let mut magic = [0u8; 8];
        if file.read_exact_at(&mut magic, 0).is_err() || &magic != SEGMENT_MAGIC {
            report.first_break = Some(chain_break(
                0,
                expected_seq,
                expected_seq,
                "segment magic missing".into(),
            ));
            return Ok(report);
        }
        let mut offset = SEGMENT_MAGIC.len() as u64;
        let mut header_bytes = [0u8; BATCH_HEADER_BYTES];
        while offset < file_len {
            if file.read_exact_at(&mut header_bytes, offset).is_err() {
                let reason = format!(
                    "{} trailing bytes are not a whole batch header",
                    file_len - offset
                );
                report.first_break = Some(chain_break(offset, expected_seq, expected_seq, reason));
                return Ok(report);
            }
            let header = match BatchHeader::decode(&header_bytes) {
                Ok(header) => header,
                Err(reason) => {
                    report.first_break =
                        Some(chain_break(offset, expected_seq, expected_seq, reason));
                    return Ok(report);
                }
            };
            let end_seq = header
                .first_seq
                .saturating_add(u64::from(header.event_count));
            if offset + header.total_len() > file_len {
                report.first_break = Some(chain_break(
                    offset,
                    header.first_seq,
                    end_seq,
                    "batch runs past the end of the segment".into(),
                ));
                return Ok(report);
            }
            let mut payload = vec![0u8; header.payload_len as usize];
            file.read_exact_at(&mut payload, offset + BATCH_HEADER_BYTES as u64)
                .map_err(StoreError::io("read", &path))?;
            let problem = if header.prev_hash != expected_prev {
                Some("chain broken: previous hash does not match the batch before".to_string())
            } else if header.expected_hash(&payload) != header.hash {
                Some("content changed: batch hash mismatch".to_string())
            } else if header.first_seq != expected_seq {
                Some(format!(
                    "sequence gap: batch starts at event {} where {expected_seq} was due",
                    header.first_seq
                ))
            } else {
                None
            };
            if let Some(reason) = problem {
                report.first_break = Some(chain_break(offset, header.first_seq, end_seq, reason));
                return Ok(report);
            }
            report.batches += 1;
            report.events += u64::from(header.event_count);
            expected_prev = header.hash;
            expected_seq = end_seq;
            offset += header.total_len();
        }
    }
    Ok(report)
}
