//! Syslog over TCP and UDP: framing a byte stream into frames, and decoding one frame.
//!
//! UDP callers skip framing: one datagram is one frame.

pub mod decode;
pub mod framing;

pub use decode::{decode_syslog, infer_year, DecodeContext};
pub use framing::{Frame, FrameError, FrameOutcome, Framing, SyslogFramer};
