use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration written for people: `"10ms"`, `"5s"`, `"2m"`, `"30 days"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    pub const fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    pub const fn from_millis(millis: u64) -> Self {
        Self(Duration::from_millis(millis))
    }

    pub const fn from_days(days: u64) -> Self {
        Self(Duration::from_secs(days * 86_400))
    }

    /// Whole days, rounded down.
    pub fn as_days(self) -> u64 {
        self.0.as_secs() / 86_400
    }
}

impl std::str::FromStr for HumanDuration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        humantime::parse_duration(text.trim())
            .map(Self)
            .map_err(|error| format!("{text:?} is not a duration ({error}); write e.g. \"10ms\", \"5s\" or \"30 days\""))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        humantime::format_duration(self.0).fmt(f)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_duration_reads_common_spellings() {
        assert_eq!("10ms".parse(), Ok(HumanDuration::from_millis(10)));
        assert_eq!("30 days".parse(), Ok(HumanDuration::from_days(30)));
        assert_eq!("2m".parse(), Ok(HumanDuration::from_secs(120)));
        assert!("soon".parse::<HumanDuration>().is_err());
    }
}
