use std::fmt;

use serde::{Deserialize, Serialize};

use crate::EventError;

/// The security level (1-5) of the information system an event comes from. It decides how long
/// the event must be kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct SecurityLevel(u8);

impl SecurityLevel {
    pub const MIN: SecurityLevel = SecurityLevel(1);
    pub const MAX: SecurityLevel = SecurityLevel(5);

    pub fn new(level: i64) -> Result<Self, EventError> {
        match u8::try_from(level) {
            Ok(small @ 1..=5) => Ok(Self(small)),
            _ => Err(EventError::LevelOutOfRange(level)),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }

    pub fn all() -> impl Iterator<Item = SecurityLevel> {
        (1..=5).map(SecurityLevel)
    }
}

impl Default for SecurityLevel {
    /// Level 3 is the middle of the scale and keeps events for three months.
    fn default() -> Self {
        Self(3)
    }
}

impl TryFrom<i64> for SecurityLevel {
    type Error = EventError;

    fn try_from(level: i64) -> Result<Self, Self::Error> {
        Self::new(level)
    }
}

impl From<SecurityLevel> for i64 {
    fn from(level: SecurityLevel) -> i64 {
        i64::from(level.0)
    }
}

impl fmt::Display for SecurityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_level_accepts_one_to_five_only() {
        assert!(SecurityLevel::new(0).is_err());
        assert!(SecurityLevel::new(6).is_err());
        assert!(SecurityLevel::new(-1).is_err());
        assert_eq!(SecurityLevel::all().count(), 5);
        assert_eq!(SecurityLevel::new(5).map(SecurityLevel::get), Ok(5));
    }
}
