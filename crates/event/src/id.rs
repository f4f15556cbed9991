use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::EventError;

/// `event.id`: a UUIDv7, so ids sort by creation time and carry no coordination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EventId(uuid::Uuid);

impl EventId {
    pub fn new_v7() -> Self {
        Self(uuid::Uuid::now_v7())
    }

    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(uuid::Uuid::from_bytes(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for EventId {
    type Err = EventError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(text)
            .map(Self)
            .map_err(|_| EventError::InvalidId(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_id_round_trips_through_text_and_sorts_by_time() {
        let first = EventId::new_v7();
        let second = EventId::new_v7();
        assert!(first < second);
        assert_eq!(first.to_string().parse::<EventId>(), Ok(first));
        assert!("not-a-uuid".parse::<EventId>().is_err());
    }
}
