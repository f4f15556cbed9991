//! `[rules]` in the server config: where the rule files are and how correlation keeps time.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::HumanDuration;

/// `[rules]`: the detection rules (see `rules/README.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Folder of rule files (`**/*.rhai`) and shared lists (`lists/*.txt`), watched and reloaded
    /// on change. Default `"rules"` (relative to the working directory); a missing folder means
    /// no rules.
    #[serde(default = "default_rules_dir")]
    pub dir: PathBuf,
    /// How far out of order event times may arrive and still count at their own time; later
    /// events are counted (`vigil_rules_late_events_total`) and taken at their arrival.
    /// Default `"10s"`.
    #[serde(default = "default_tolerance")]
    pub tolerance: HumanDuration,
    /// Group keys (for example source addresses) one rule keeps window state for; past it the
    /// least recently seen are dropped and counted (`vigil_rules_evictions_total`).
    /// Default 100000.
    #[serde(default = "default_max_keys")]
    pub max_keys_per_rule: usize,
}

fn default_rules_dir() -> PathBuf {
    PathBuf::from("rules")
}

fn default_tolerance() -> HumanDuration {
    HumanDuration(Duration::from_secs(10))
}

fn default_max_keys() -> usize {
    100_000
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self {
            dir: default_rules_dir(),
            tolerance: default_tolerance(),
            max_keys_per_rule: default_max_keys(),
        }
    }
}
