use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::EventError;

/// `event.id`: a UUIDv7, so ids sort by creation time and carry no coordination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EventId(uuid::Uuid);

/// The 74 bits after a UUIDv7's timestamp and version: a random start per process, then a
/// counter (RFC 9562 §6.2, method 2). Ids made in one process are unique and increasing; ids of
/// two processes collide only if their random starts fall within one millisecond's worth of ids
/// of each other (≈ 2^-64 per pair). Consecutive ids differ in their last bytes only, which is
/// what lets the archive compress them (≈ 7 bytes per event less than fully random bits).
static RANDOM_START: std::sync::LazyLock<u128> =
    std::sync::LazyLock::new(|| uuid::Uuid::now_v7().as_u128() & RANDOM_MASK);
static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
const RANDOM_MASK: u128 = (1 << 74) - 1;

impl EventId {
    pub fn new_v7() -> Self {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64 & 0xffff_ffff_ffff);
        let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let random = RANDOM_START.wrapping_add(u128::from(count)) & RANDOM_MASK;
        let rand_a = (random >> 62) & 0xfff;
        let rand_b = random & ((1 << 62) - 1);
        let bits =
            (u128::from(millis) << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b;
        Self(uuid::Uuid::from_u128(bits))
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
        assert_eq!(first.0.get_version_num(), 7);
        assert_eq!(first.0.get_variant(), uuid::Variant::RFC4122);
        let ids: std::collections::HashSet<EventId> =
            (0..10_000).map(|_| EventId::new_v7()).collect();
        assert_eq!(ids.len(), 10_000);
        assert_eq!(first.to_string().parse::<EventId>(), Ok(first));
        assert!("not-a-uuid".parse::<EventId>().is_err());
    }
}
