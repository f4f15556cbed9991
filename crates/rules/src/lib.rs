//! `vigil-rules`: detection rules as files, correlated in real time.
//!
//! - [`load`]: the rules folder — `**/*.rhai` rule files (each runs once, at load, and returns
//!   a rule map or a list of them) and `lists/*.txt` shared lists; reloaded file by file, a
//!   broken file reported with `FILE:LINE` while its previous version keeps running.
//! - [`rule`]: what a rule map may say, checked: metadata, `select`, `where`, `except`, one
//!   kind (`threshold`, `distinct`, `sequence`, `absence`, or plain match), `by`, `suppress`,
//!   `summary`, `tests`.
//! - [`condition`]: `select` conditions compiled to native tests, and the [`condition::Index`]
//!   that hands each event only its candidate rules (hash lookup on values, one Aho-Corasick
//!   scan and one `RegexSet` per field).
//! - [`engine`]: the [`Correlator`]: event-time windows with out-of-order tolerance, bounded
//!   state per rule, suppression, exceptions, alerts of alerts.
//! - [`script`]: the rhai engine, hardened in one place; [`limits`]: every bound, named.
//! - [`testing`]: `vigil rules test`.
//! - [`service`]: the stage in `vigil serve`: a thread between the normalizer and the archive,
//!   the alert log, the broadcast, metrics and status.
//!
//! Depends on `vigil-event` and `vigil-pipeline`; no other stage.

pub mod condition;
pub mod engine;
mod hash;
pub mod limits;
pub mod load;
pub mod rule;
pub mod script;
pub mod service;
pub mod testing;
pub mod view;

pub use engine::{Correlator, Options, RuleSet, Stats};
pub use load::Library;
pub use service::RuleService;

#[cfg(test)]
mod tests;
