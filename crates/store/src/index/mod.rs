//! Tantivy indexes, one per partition, that keep only what search needs.
//!
//! One document stands for a block of up to [`BLOCK_EVENTS`] events of one archive batch: their
//! distinct words and `name=value` terms, their time bounds, and a fast-field pointer to the
//! first of them in the archive ([`pointer`]). No field is stored: a search reads candidate
//! blocks back from the archive and confirms each event (`docs/adr/0001-*`, `0002-*`).
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
    build_schema, is_current, register_tokenizers, IndexFields, BLOCK_EVENTS, COUNT,
    KEYWORD_TOKENIZER, MAX_TERM_BYTES, MAX_TIME, MIN_TIME, TERMS,
};
pub(crate) use schema::{every_event_term, term_into, MAX_WORD_BYTES};
pub use writer::{CommitPayload, PartitionIndexWriter};
