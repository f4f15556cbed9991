//! `vigil-normalize`: what a line means, as fields users can search and rules can match.
//!
//! - [`Normalizer`]: the pipeline [`vigil_pipeline::Transform`] between the listeners and the
//!   archive: the built-in body decoders of [`vigil_codec::body`] (chosen by app-name or
//!   prefix), then user mappings, then enrichment. Counts what each decoder recognised, what
//!   nothing recognised (per listener, and a bounded table per source), mapped and dropped.
//! - [`mapping`]: `normalize/*.toml` — conditions, dissect or regex patterns, renames, type
//!   conversions, constants, drop rules; every error with its file and line; reloaded on change,
//!   a broken file keeping its previous version.
//! - [`dissect`]: `%{field}` patterns, matched in one scan.
//! - [`enrich`]: network zones and the asset table by longest prefix.
//! - [`fields`]: `vigil_event::access`, an event's fields by dotted name (re-exported).
//!
//! Depends on `vigil-event`, `vigil-codec`, `vigil-config` and `vigil-pipeline`; no other stage.
//!
//! ```
//! use vigil_event::{Event, Timestamp};
//! let normalizer = vigil_normalize::Normalizer::decoders_only(&Default::default());
//! let mut event = Event::new(Timestamp::now(), Vec::new());
//! event.process_name = Some("sshd".into());
//! event.message = "Failed password for root from 192.0.2.7 port 2222 ssh2".into();
//! normalizer.apply(&mut event);
//! assert_eq!(event.source.unwrap().to_string(), "192.0.2.7:2222");
//! ```

pub mod dissect;
pub mod enrich;
pub use vigil_event::access as fields;
pub mod mapping;
mod normalizer;

pub use normalizer::{
    MappingSet, Normalizer, Verdict, DECODER_FIELD, MAPPING_FIELD, MAX_UNRECOGNISED_SOURCES,
    RELOAD_INTERVAL,
};

#[cfg(test)]
mod tests;
