use crate::snmp::message::PduType;
use crate::snmp::usm::SecurityLevel;

/// Why a datagram was refused. [`SnmpError::kind`] names the reason from a closed set, for
/// counters; the `Display` text is for logs and never holds a community, password or key.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SnmpError {
    #[error("datagram of {bytes} bytes is over the limit of {max_bytes}")]
    MessageTooLong { bytes: usize, max_bytes: usize },
    #[error("truncated: {0} runs past the end of the data around it")]
    Truncated(&'static str),
    #[error("malformed: {0}")]
    Malformed(&'static str),
    #[error("malformed: expected {expected}, found tag 0x{tag:02x}")]
    UnexpectedTag { expected: &'static str, tag: u8 },
    #[error("BER nesting deeper than {max_depth}")]
    TooDeep { max_depth: usize },
    #[error("{0} is too long for its type")]
    ValueTooLong(&'static str),
    #[error("more than {max_varbinds} variable bindings")]
    TooManyVarbinds { max_varbinds: usize },
    #[error("unsupported SNMP version {version}")]
    UnsupportedVersion { version: i64 },
    #[error("{pdu} PDU is not a notification")]
    NotANotification { pdu: PduType },
    #[error("community not in the allow-list")]
    UnknownCommunity,
    #[error("unknown USM user {name:?}")]
    UnknownUser { name: String },
    #[error("unsupported security model {model}")]
    UnsupportedSecurityModel { model: i32 },
    #[error("security level {requested} is not the level user {user:?} is configured for")]
    UnsupportedSecurityLevel {
        user: String,
        requested: SecurityLevel,
    },
    #[error("authentication failed (wrong digest or password)")]
    AuthenticationFailed,
    #[error("decryption failed (wrong privacy password or corrupt data)")]
    DecryptionFailed,
    #[error("message outside the engine's time window (replayed or delayed)")]
    NotInTimeWindow,
}

impl SnmpError {
    /// The reason as a short fixed name, for metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            SnmpError::MessageTooLong { .. } | SnmpError::ValueTooLong(_) => "too_long",
            SnmpError::Truncated(_) => "truncated",
            SnmpError::Malformed(_) | SnmpError::UnexpectedTag { .. } => "malformed",
            SnmpError::TooDeep { .. } => "too_deep",
            SnmpError::TooManyVarbinds { .. } => "too_many_varbinds",
            SnmpError::UnsupportedVersion { .. } => "unsupported_version",
            SnmpError::NotANotification { .. } => "not_a_notification",
            SnmpError::UnknownCommunity => "unknown_community",
            SnmpError::UnknownUser { .. } => "unknown_user",
            SnmpError::UnsupportedSecurityModel { .. }
            | SnmpError::UnsupportedSecurityLevel { .. } => "unsupported_security",
            SnmpError::AuthenticationFailed => "authentication_failed",
            SnmpError::DecryptionFailed => "decryption_failed",
            SnmpError::NotInTimeWindow => "not_in_time_window",
        }
    }
}

/// The longest user name an error repeats: USM names are at most 32 octets (RFC 3414), and
/// anything longer is an attacker's text.
const MAX_NAME_CHARS_SHOWN: usize = 32;

/// A user name from the wire, made safe to show: lossy UTF-8, cut to a bound.
pub(crate) fn shown_name(name: &[u8]) -> String {
    String::from_utf8_lossy(name)
        .chars()
        .take(MAX_NAME_CHARS_SHOWN)
        .collect()
}
