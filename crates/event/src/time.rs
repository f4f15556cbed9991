use std::fmt;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// A point in time as nanoseconds since the Unix epoch, UTC. Cheap to copy, compare and store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Timestamp(i64);

const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

impl Timestamp {
    pub fn now() -> Self {
        Self::from_datetime(Utc::now())
    }

    pub fn from_nanos(nanos: i64) -> Self {
        Self(nanos)
    }

    pub fn as_nanos(self) -> i64 {
        self.0
    }

    /// Dates outside ±292 years of 1970 do not fit in nanoseconds; they saturate.
    pub fn from_datetime<Tz: chrono::TimeZone>(time: DateTime<Tz>) -> Self {
        let utc = time.with_timezone(&Utc);
        match utc.timestamp_nanos_opt() {
            Some(nanos) => Self(nanos),
            None if utc.timestamp() < 0 => Self(i64::MIN),
            None => Self(i64::MAX),
        }
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.0)
    }

    /// The UTC day this instant falls on.
    pub fn utc_day(self) -> NaiveDate {
        self.to_datetime().date_naive()
    }

    /// The first instant of a UTC day.
    pub fn start_of_day(day: NaiveDate) -> Self {
        let days = day.signed_duration_since(NaiveDate::default()).num_days();
        Self(days.saturating_mul(NANOS_PER_DAY))
    }

    pub fn saturating_add_nanos(self, nanos: i64) -> Self {
        Self(self.0.saturating_add(nanos))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 with as many fractional digits as needed, always `Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            &self
                .to_datetime()
                .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_day_boundaries_are_utc() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let start = Timestamp::start_of_day(day);
        assert_eq!(start.utc_day(), day);
        assert_eq!(
            Timestamp::from_nanos(start.as_nanos() - 1).utc_day(),
            day.pred_opt().unwrap()
        );
        assert_eq!(start.to_string(), "2026-11-26T00:00:00Z");
    }
}
