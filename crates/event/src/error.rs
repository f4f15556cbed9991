/// What can go wrong when building event data from untrusted input.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error("security level {0} is outside 1..=5")]
    LevelOutOfRange(i64),
    #[error("event id {0:?} is not a UUID")]
    InvalidId(String),
}

pub type Result<T, E = EventError> = std::result::Result<T, E>;
