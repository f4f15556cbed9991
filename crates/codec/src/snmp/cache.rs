//! Per-engine state a trap receiver keeps, bounded: the remote engines' clocks (the time
//! window) and, per user, keys localized to each engine.

use std::collections::HashMap;

use vigil_event::Timestamp;

use crate::snmp::error::SnmpError;
use crate::snmp::limits::TIME_WINDOW_SECS;

const NANOS_PER_SEC: i64 = 1_000_000_000;
/// `msgAuthoritativeEngineBoots` at its maximum means the engine must be reconfigured
/// (RFC 3414 §2.2.2); its messages are never timely.
const MAX_ENGINE_BOOTS: i32 = i32::MAX;

/// A map keyed by engine id holding at most `capacity` entries; inserting past that forgets the
/// least recently used one. Eviction scans, which is fine: it happens only for a new engine that
/// has authenticated, with the cache already full.
#[derive(Clone, Debug)]
pub(crate) struct BoundedCache<V> {
    entries: HashMap<Vec<u8>, (V, u64)>,
    capacity: usize,
    next_use: u64,
}

impl<V> BoundedCache<V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            capacity,
            next_use: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let use_number = self.next_use;
        let (value, last_use) = self.entries.get_mut(key)?;
        *last_use = use_number;
        self.next_use += 1;
        Some(value)
    }

    pub fn insert(&mut self, key: Vec<u8>, value: V) {
        if self.capacity == 0 {
            return;
        }
        if !self.entries.contains_key(&key) && self.entries.len() >= self.capacity {
            let least_recent = self
                .entries
                .iter()
                .min_by_key(|(_, (_, last_use))| *last_use)
                .map(|(key, _)| key.clone());
            if let Some(least_recent) = least_recent {
                self.entries.remove(&least_recent);
            }
        }
        self.entries.insert(key, (value, self.next_use));
        self.next_use += 1;
    }
}

/// What a non-authoritative receiver knows of a remote engine's clock (RFC 3414 §2.3): its boots,
/// the latest time it sent, and when that arrived here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct EngineClock {
    boots: i32,
    latest_time: i32,
    received: Timestamp,
}

/// The time window of RFC 3414 §3.2 step 7b, for a receiver of traps (which is never the
/// authoritative engine), over a bounded set of engines.
#[derive(Clone, Debug)]
pub(crate) struct EngineTimes {
    clocks: BoundedCache<EngineClock>,
}

impl EngineTimes {
    pub fn new(max_engines: usize) -> Self {
        Self {
            clocks: BoundedCache::new(max_engines),
        }
    }

    pub fn len(&self) -> usize {
        self.clocks.len()
    }

    /// Checks an authenticated message's boots and time, and on success moves the engine's
    /// clock forward. The first message of an engine (or of one forgotten) sets its clock.
    /// Refused: boots at the maximum, boots lower than known, or the same boots with a time more
    /// than [`TIME_WINDOW_SECS`] behind where the engine's clock should be by now.
    pub fn check_and_update(
        &mut self,
        engine_id: &[u8],
        boots: i32,
        time: i32,
        now: Timestamp,
    ) -> Result<(), SnmpError> {
        if boots == MAX_ENGINE_BOOTS {
            return Err(SnmpError::NotInTimeWindow);
        }
        let Some(clock) = self.clocks.get_mut(engine_id) else {
            let clock = EngineClock {
                boots,
                latest_time: time,
                received: now,
            };
            self.clocks.insert(engine_id.to_vec(), clock);
            return Ok(());
        };
        if boots < clock.boots {
            return Err(SnmpError::NotInTimeWindow);
        }
        if boots == clock.boots {
            // A clock here that went backwards counts as no time passed.
            let elapsed_secs = now
                .as_nanos()
                .saturating_sub(clock.received.as_nanos())
                .max(0)
                / NANOS_PER_SEC;
            let estimated_time = i64::from(clock.latest_time).saturating_add(elapsed_secs);
            if i64::from(time) < estimated_time.saturating_sub(TIME_WINDOW_SECS) {
                return Err(SnmpError::NotInTimeWindow);
            }
        }
        if boots > clock.boots || time > clock.latest_time {
            *clock = EngineClock {
                boots,
                latest_time: time,
                received: now,
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(seconds: i64) -> Timestamp {
        Timestamp::from_nanos(seconds * NANOS_PER_SEC)
    }

    #[test]
    fn time_window_accepts_the_first_message_and_refuses_older_boots() {
        let mut times = EngineTimes::new(8);
        times.check_and_update(b"engine", 3, 1000, secs(0)).unwrap();
        assert_eq!(
            times.check_and_update(b"engine", 2, 5000, secs(1)),
            Err(SnmpError::NotInTimeWindow)
        );
        // A reboot moves the clock on; the old boots is then refused.
        times.check_and_update(b"engine", 4, 10, secs(2)).unwrap();
        assert_eq!(
            times.check_and_update(b"engine", 3, 1002, secs(2)),
            Err(SnmpError::NotInTimeWindow)
        );
    }

    #[test]
    fn time_window_is_150_seconds_behind_the_estimate() {
        let mut times = EngineTimes::new(8);
        times.check_and_update(b"engine", 3, 1000, secs(0)).unwrap();
        // 200 s later the engine should be at 1200: 1049 is more than 150 behind, 1050 is not.
        assert_eq!(
            times.check_and_update(b"engine", 3, 1049, secs(200)),
            Err(SnmpError::NotInTimeWindow)
        );
        times
            .check_and_update(b"engine", 3, 1050, secs(200))
            .unwrap();
        // A time ahead of the estimate is accepted and becomes the new reference.
        times
            .check_and_update(b"engine", 3, 5000, secs(200))
            .unwrap();
        assert_eq!(
            times.check_and_update(b"engine", 3, 4849, secs(200)),
            Err(SnmpError::NotInTimeWindow)
        );
        // A local clock that jumps back does not widen the window the other way.
        times
            .check_and_update(b"engine", 3, 4900, secs(-50))
            .unwrap();
    }

    #[test]
    fn time_window_refuses_the_last_boots_value() {
        let mut times = EngineTimes::new(8);
        assert_eq!(
            times.check_and_update(b"engine", i32::MAX, 5, secs(0)),
            Err(SnmpError::NotInTimeWindow)
        );
        assert_eq!(times.len(), 0);
    }

    #[test]
    fn engine_cache_forgets_the_least_recently_used_engine() {
        let mut times = EngineTimes::new(2);
        times.check_and_update(b"a", 5, 100, secs(0)).unwrap();
        times.check_and_update(b"b", 5, 100, secs(0)).unwrap();
        times.check_and_update(b"a", 5, 101, secs(1)).unwrap();
        times.check_and_update(b"c", 5, 100, secs(1)).unwrap();
        assert_eq!(times.len(), 2);
        // `a` is still known (older boots refused); `b` was forgotten (anything accepted).
        assert_eq!(
            times.check_and_update(b"a", 4, 100, secs(2)),
            Err(SnmpError::NotInTimeWindow)
        );
        times.check_and_update(b"b", 1, 0, secs(2)).unwrap();
    }
}
