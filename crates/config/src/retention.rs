use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vigil_event::SecurityLevel;

use crate::{ConfigError, HumanDuration};

/// The legal minimums, embedded from `retention/levels.toml` at build time.
const LEVELS_TOML: &str = include_str!("../../../retention/levels.toml");

/// Minimum days to keep events, per security level.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionMinimums {
    minimum_days: BTreeMap<String, u32>,
}

impl RetentionMinimums {
    /// The minimums Vigil ships with (`retention/levels.toml`).
    pub fn shipped() -> Self {
        match Self::parse(LEVELS_TOML) {
            Ok(minimums) => minimums,
            // The file is part of the source tree and checked by a unit test.
            Err(error) => unreachable!("retention/levels.toml is invalid: {error}"),
        }
    }

    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let minimums: Self = toml::from_str(text).map_err(|error| ConfigError::Parse {
            path: "retention/levels.toml".into(),
            message: error.to_string(),
        })?;
        let missing: Vec<String> = SecurityLevel::all()
            .filter(|level| !minimums.minimum_days.contains_key(&level.to_string()))
            .map(|level| format!("retention/levels.toml has no minimum for level {level}"))
            .collect();
        if !missing.is_empty() {
            return Err(ConfigError::Invalid(missing));
        }
        Ok(minimums)
    }

    pub fn days(&self, level: SecurityLevel) -> u32 {
        self.minimum_days
            .get(&level.to_string())
            .copied()
            .unwrap_or(365)
    }
}

/// `[retention]`: how long to keep each level's events. Each key may only lengthen the legal
/// minimum (levels 1-2: 30 days, 3: 90, 4: 180, 5: 365).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Keep level-1 events this long, e.g. `"60 days"`.
    pub level_1: Option<HumanDuration>,
    pub level_2: Option<HumanDuration>,
    pub level_3: Option<HumanDuration>,
    pub level_4: Option<HumanDuration>,
    pub level_5: Option<HumanDuration>,
    /// How often the janitor looks for expired day partitions. Default `"1h"`.
    #[serde(default = "default_janitor_interval")]
    pub janitor_interval: HumanDuration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            level_1: None,
            level_2: None,
            level_3: None,
            level_4: None,
            level_5: None,
            janitor_interval: default_janitor_interval(),
        }
    }
}

fn default_janitor_interval() -> HumanDuration {
    HumanDuration::from_secs(3600)
}

impl RetentionConfig {
    fn configured(&self, level: SecurityLevel) -> Option<HumanDuration> {
        match level.get() {
            1 => self.level_1,
            2 => self.level_2,
            3 => self.level_3,
            4 => self.level_4,
            _ => self.level_5,
        }
    }

    pub(crate) fn errors(&self, minimums: &RetentionMinimums) -> Vec<String> {
        SecurityLevel::all()
            .filter_map(|level| {
                let configured = self.configured(level)?;
                let minimum = minimums.days(level);
                (configured.as_days() < u64::from(minimum)).then(|| {
                    format!(
                        "retention.level_{level} = \"{configured}\" is shorter than the legal minimum of {minimum} days for level {level}"
                    )
                })
            })
            .collect()
    }

    /// The days to keep per level: the configured period where set, else the minimum.
    pub fn policy(&self, minimums: &RetentionMinimums) -> RetentionPolicy {
        let mut days = [0u32; 5];
        for level in SecurityLevel::all() {
            let minimum = minimums.days(level);
            let configured = self
                .configured(level)
                .map(|period| u32::try_from(period.as_days()).unwrap_or(u32::MAX));
            days[usize::from(level.get() - 1)] = configured.unwrap_or(minimum).max(minimum);
        }
        RetentionPolicy { days }
    }
}

/// The days each level's partitions must be kept, after validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionPolicy {
    days: [u32; 5],
}

impl RetentionPolicy {
    pub fn from_days(days: [u32; 5]) -> Self {
        Self { days }
    }

    pub fn days(&self, level: SecurityLevel) -> u32 {
        self.days[usize::from(level.get() - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_minimums_follow_the_guideline() {
        let minimums = RetentionMinimums::shipped();
        let days: Vec<u32> = SecurityLevel::all().map(|l| minimums.days(l)).collect();
        assert_eq!(days, [30, 30, 90, 180, 365]);
    }

    #[test]
    fn retention_shorter_than_minimum_is_an_error_naming_the_minimum() {
        let config: RetentionConfig =
            toml::from_str("level_4 = \"100 days\"\nlevel_2 = \"60 days\"").unwrap();
        let errors = config.errors(&RetentionMinimums::shipped());
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].contains("legal minimum of 180 days"),
            "{errors:?}"
        );
        let policy = config.policy(&RetentionMinimums::shipped());
        assert_eq!(policy.days(SecurityLevel::new(2).unwrap()), 60);
        assert_eq!(policy.days(SecurityLevel::new(1).unwrap()), 30);
    }
}
