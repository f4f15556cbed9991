//! `vigil-store`: where events live once accepted.
//!
//! - [`archive`]: the write-ahead log and forensic copy. Append-only segment files per security
//!   level and UTC day, each batch a zstd frame whose header carries its length, a CRC and a
//!   SHA-256 chained to the previous batch. An event is durable once its batch is fsynced.
//! - [`index`]: a tantivy index per level and day. It keeps only what search needs (no stored
//!   fields) and points into the archive; each commit records the archive position it covers, so a
//!   restart replays only the tail and never indexes an event twice.
//! - [`query`]: the search language, compiled into block-index queries and an exact per-event
//!   matcher.
//! - [`search`]: query-parser syntax, time ranges and histograms across partitions.
//! - [`retention`]: a pure plan of which day partitions have outlived their level's period, and the
//!   janitor that deletes them (archive and index together).
//! - [`Ingest`]: the sink that ties archive and index together on two threads.
//!
//! Depends on `vigil-event`, `vigil-config` and `vigil-pipeline`, never on another stage crate.

pub mod archive;
mod error;
pub mod index;
mod ingest;
pub mod ledger;
mod partition;
pub mod query;
pub mod retention;
pub mod search;

pub use error::{Result, StoreError};
pub use ingest::{DurableEnds, Ingest, IngestOptions};
pub use ledger::DeliveryLedger;
pub use partition::{list_partitions, PartitionKey, PARTITIONS_DIR};
