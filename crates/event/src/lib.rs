//! `vigil-event`: the data every stage shares.
//!
//! Owns the [`Event`] (one log line, decoded and enriched), its [`Value`] map for fields beyond the
//! core schema, the field names of that schema ([`field`]), ids ([`EventId`]), time
//! ([`Timestamp`]) and the monitored system's [`SecurityLevel`], and [`compact`], the encoding
//! the archive and the channel share. It depends on no other Vigil crate; every other crate
//! depends on it.
//!
//! ```
//! use vigil_event::{Event, SecurityLevel, Timestamp, field};
//! let mut event = Event::new(Timestamp::now(), b"<13>hello".to_vec());
//! event.message = "hello".into();
//! event.level = SecurityLevel::new(3).unwrap();
//! assert_eq!(event.to_json()[field::MESSAGE], "hello");
//! ```

pub mod access;
mod alert;
pub mod as_bytes;
pub mod compact;
mod error;
mod event;
pub mod field;
pub mod fields;
mod id;
mod level;
mod time;
mod value;

pub use alert::{Alert, Severity, ALERT_KIND};
pub use compact_str::{CompactString, ToCompactString};
pub use error::{EventError, Result};
pub use event::{Event, EventFlags, FieldName, Fields, StructuredElement};
pub use id::EventId;
pub use level::SecurityLevel;
pub use time::Timestamp;
pub use value::{ip_text, Value};

/// A group of events moving through the pipeline together.
pub type Batch = Vec<Event>;
