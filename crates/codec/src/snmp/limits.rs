//! The bounds the SNMP decoder enforces, so that no datagram can make it use unbounded memory or
//! time, and no stream of datagrams can grow its caches without end.

/// The largest datagram accepted: the largest UDP payload.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 65_535;
/// The deepest BER nesting accepted. A v3 trap nests 6 deep (message, scoped PDU, PDU,
/// varbind list, varbind, value); 32 leaves room for anything legitimate.
pub const DEFAULT_MAX_DEPTH: usize = 32;
/// The most variable bindings one PDU may carry.
pub const DEFAULT_MAX_VARBINDS: usize = 1_024;
/// The most remote engines whose time is tracked, and (per user) whose localized keys are
/// cached; the least recently used is forgotten past this.
pub const DEFAULT_MAX_ENGINES: usize = 4_096;
/// The most sub-identifiers an OBJECT IDENTIFIER may have (RFC 2578 §3.5).
pub const MAX_OID_SUBIDENTIFIERS: usize = 128;
/// The most length octets a BER long-form length may have: 4 covers any datagram.
pub const MAX_LENGTH_OCTETS: usize = 4;
/// How far behind the engine's estimated time an authenticated message may be (RFC 3414 §3.2
/// step 7b).
pub const TIME_WINDOW_SECS: i64 = 150;

/// Per-listener bounds, from configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnmpLimits {
    /// See [`DEFAULT_MAX_MESSAGE_BYTES`].
    pub max_message_bytes: usize,
    /// See [`DEFAULT_MAX_DEPTH`].
    pub max_depth: usize,
    /// See [`DEFAULT_MAX_VARBINDS`].
    pub max_varbinds: usize,
    /// See [`DEFAULT_MAX_ENGINES`].
    pub max_engines: usize,
}

impl Default for SnmpLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_depth: DEFAULT_MAX_DEPTH,
            max_varbinds: DEFAULT_MAX_VARBINDS,
            max_engines: DEFAULT_MAX_ENGINES,
        }
    }
}
