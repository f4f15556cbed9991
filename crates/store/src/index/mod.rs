//! Tantivy indexes, one per partition, that keep only what search needs.
//!
//! No field is stored: a hit carries a fast-field pointer into the archive ([`pointer`]), and
//! the archive's batch gives back the whole event. Keeping the event once on disk is what keeps
//! archive plus index near half a byte per raw byte (`docs/adr/0001-*`, `benches/RESULTS.md`).
//!
//! Each commit carries a [`CommitPayload`]: the archive position it covers. On start the writer
//! replays the archive past that position; a kill between archive fsync and index commit loses
//! nothing and adds nothing twice.

mod catalog;
pub mod pointer;
mod schema;
mod writer;

pub use catalog::{IndexCatalog, OpenPartition};
pub use schema::{
    build_schema, register_tokenizers, IndexFields, FIELDS_JSON_PREFIX, KEYWORD_TOKENIZER,
};
pub use writer::{CommitPayload, PartitionIndexWriter};
