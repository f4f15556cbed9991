//! `vigil-codec`: sans-IO framing and protocol decoders.
//!
//! Owns turning bytes into [`vigil_event::Event`]s, with no sockets, files, clocks or threads:
//! callers hand in bytes and receive time, and get frames and events back.
//!
//! - [`limits`]: every bound a decoder enforces, as named constants and one [`limits::Limits`].
//! - [`syslog::framing`]: the TCP stream framer (RFC 6587 octet-counting and LF-delimited, mixed
//!   on one stream).
//! - [`syslog::decode`]: one frame to one `Event` (RFC 5424 / RFC 3164 via `syslog_loose`); a line
//!   that does not parse is kept whole as `message`, never dropped.
//! - [`flow`]: NetFlow v5/v9 and IPFIX datagrams to flow records, with per-exporter templates.
//! - [`snmp`]: SNMP v1/v2c/v3 traps and informs, with USM authentication and privacy.
//! - [`CodecError`]: the syslog framer's error type (flows and traps have their own).
//!
//! It depends only on `vigil-event` among Vigil crates and must not depend on `vigil-pipeline`,
//! any stage crate, an async runtime or any I/O.
//!
//! ```
//! use vigil_codec::limits::Limits;
//! use vigil_codec::syslog::{decode_syslog, DecodeContext, FrameOutcome, SyslogFramer};
//! use vigil_event::Timestamp;
//!
//! let mut framer = SyslogFramer::new(&Limits::default());
//! framer.push(b"29 <34>1 - host app - - - hello\n<13>Jan  2 03:04:05 h t: x\n");
//! let context = DecodeContext::utc(Timestamp::from_nanos(0));
//! let mut messages = Vec::new();
//! while let Some(outcome) = framer.next_frame() {
//!     if let FrameOutcome::Frame(frame) = outcome {
//!         messages.push(decode_syslog(&frame.bytes, &context).message);
//!     }
//! }
//! assert_eq!(messages, ["hello", "x"]);
//! ```

pub mod body;
mod error;
pub mod flow;
pub mod limits;
pub mod snmp;
pub mod syslog;

pub use error::{CodecError, Result};
