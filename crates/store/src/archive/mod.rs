//! The archive: append-only, hash-chained, zstd-compressed segment files per partition.
//!
//! A partition's archive folder holds `000001.seg`, `000002.seg`, …; each starts with a
//! [`SEGMENT_MAGIC`] header and continues with batches (see [`format`]). The chain runs through all
//! segments of a partition, starting from a genesis hash derived from the partition's key, so a
//! flipped byte, a removed batch or reordered segments all break it; [`verify`] walks it.

pub mod format;
mod reader;
mod verify;
mod writer;

pub use format::{BatchHeader, BATCH_HEADER_BYTES, SEGMENT_MAGIC};
pub use reader::{read_batch_at, segment_path, segments_of, BatchCursor, ReadBatch};
pub use verify::{verify_partition, ChainBreak, VerifyReport};
pub use writer::{ArchivePosition, PartitionArchive, RecoveryOutcome};
