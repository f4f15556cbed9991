//! The bounds every decoder in this crate enforces, so that no input can make it use unbounded
//! memory or time.

/// The largest syslog frame kept, in bytes; longer frames are cut to this and flagged truncated.
/// 64 KiB is what rsyslog and syslog-ng accept by default for TCP.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 64 * 1024;

/// The most digits an RFC 6587 octet count may have (up to 9,999,999,999 bytes). A longer digit
/// run at the start of a frame is not a count, so the frame is read as LF-delimited.
pub const MAX_OCTET_COUNT_DIGITS: usize = 10;

/// Per-listener bounds, from configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest frame kept, in bytes (at least 1); see [`DEFAULT_MAX_FRAME_BYTES`].
    pub max_frame_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
        }
    }
}
