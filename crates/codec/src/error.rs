use crate::syslog::FrameError;

/// Everything that can go wrong in this crate.
///
/// Decoders never fail (a line that does not parse becomes an `Event` flagged `unparsed`); the
/// framer reports its problems in-band as [`FrameError`]s, which convert into this type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("syslog framing failed: {0}")]
    Framing(#[from] FrameError),
}

pub type Result<T, E = CodecError> = std::result::Result<T, E>;
