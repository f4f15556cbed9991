use std::net::IpAddr;
use std::sync::Arc;

use chrono::FixedOffset;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use vigil_event::SecurityLevel;

/// `[[systems]]`: one monitored information system, the senders that belong to it, and what
/// their events are tagged with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {
    /// The information system's name, e.g. `"mof-core-network"`.
    pub name: String,
    /// The agency that owns it: `vigil.tenant`.
    pub tenant: String,
    /// Its security level, 1-5: `vigil.level`, which decides retention.
    pub level: i64,
    /// Senders: CIDR ranges (`"10.1.0.0/16"`, `"192.0.2.7"`) or host-name globs
    /// (`"fw-*.mof.gov.vn"`, matched against the syslog HOSTNAME, case-insensitive).
    pub sources: Vec<String>,
    /// The zone of timestamps that carry none (RFC 3164), e.g. `"+07:00"`. Default UTC.
    pub timezone: Option<String>,
}

/// `[unmapped]`: what senders that match no system get. They are also counted and listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnmappedConfig {
    /// Default `"unmapped"`.
    #[serde(default = "default_unmapped_tenant")]
    pub tenant: String,
    /// Default 3 (kept 90 days).
    #[serde(default = "default_unmapped_level")]
    pub level: i64,
    /// Default `"+00:00"`.
    pub timezone: Option<String>,
}

impl Default for UnmappedConfig {
    fn default() -> Self {
        Self {
            tenant: default_unmapped_tenant(),
            level: default_unmapped_level(),
            timezone: None,
        }
    }
}

fn default_unmapped_tenant() -> String {
    "unmapped".into()
}

fn default_unmapped_level() -> i64 {
    3
}

/// What a sender maps to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceMatch {
    /// `None` for unmapped senders.
    pub system: Option<Arc<str>>,
    pub tenant: Arc<str>,
    pub level: SecurityLevel,
    pub timezone: FixedOffset,
}

enum Matcher {
    Network(IpNet),
    HostGlob(String),
}

/// The compiled `[[systems]]` table: first match wins, CIDR ranges before host names.
pub struct SourceMap {
    rules: Vec<(Matcher, SourceMatch)>,
    unmapped: SourceMatch,
}

pub(crate) fn parse_timezone(text: &str) -> Result<FixedOffset, String> {
    if text.eq_ignore_ascii_case("utc") || text == "Z" {
        return Ok(utc());
    }
    text.parse::<FixedOffset>()
        .map_err(|_| format!("time zone {text:?} is not an offset like \"+07:00\" or \"UTC\""))
}

fn utc() -> FixedOffset {
    FixedOffset::east_opt(0).expect("zero offset is valid")
}

impl SourceMap {
    /// Compiles the table, or lists every entry that is wrong.
    pub fn build(systems: &[SystemConfig], unmapped: &UnmappedConfig) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let mut rules = Vec::new();
        for system in systems {
            let level = SecurityLevel::new(system.level)
                .map_err(|error| format!("systems {:?}: {error}", system.name));
            let timezone = system.timezone.as_deref().map(parse_timezone).transpose();
            let (level, timezone) = match (level, timezone) {
                (Ok(level), Ok(timezone)) => (level, timezone.unwrap_or_else(utc)),
                (level, timezone) => {
                    errors.extend(level.err());
                    errors.extend(
                        timezone
                            .err()
                            .map(|e| format!("systems {:?}: {e}", system.name)),
                    );
                    continue;
                }
            };
            let target = SourceMatch {
                system: Some(Arc::from(system.name.as_str())),
                tenant: Arc::from(system.tenant.as_str()),
                level,
                timezone,
            };
            if system.sources.is_empty() {
                errors.push(format!("systems {:?}: sources is empty", system.name));
            }
            for source in &system.sources {
                match parse_matcher(source) {
                    Ok(matcher) => rules.push((matcher, target.clone())),
                    Err(error) => errors.push(format!("systems {:?}: {error}", system.name)),
                }
            }
        }
        let unmapped_level = SecurityLevel::new(unmapped.level)
            .map_err(|error| errors.push(format!("unmapped: {error}")))
            .unwrap_or_default();
        let unmapped_timezone = match unmapped.timezone.as_deref().map(parse_timezone).transpose() {
            Ok(timezone) => timezone.unwrap_or_else(utc),
            Err(error) => {
                errors.push(format!("unmapped: {error}"));
                utc()
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        // CIDR rules first: an address is known before the line is decoded.
        rules.sort_by_key(|(matcher, _)| matches!(matcher, Matcher::HostGlob(_)));
        Ok(Self {
            rules,
            unmapped: SourceMatch {
                system: None,
                tenant: Arc::from(unmapped.tenant.as_str()),
                level: unmapped_level,
                timezone: unmapped_timezone,
            },
        })
    }

    /// The system a sender's address belongs to, if a CIDR rule says so.
    pub fn match_address(&self, address: IpAddr) -> Option<&SourceMatch> {
        self.rules
            .iter()
            .find_map(|(matcher, target)| match matcher {
                Matcher::Network(network) if network.contains(&address) => Some(target),
                _ => None,
            })
    }

    /// The system a host name belongs to, if a glob rule says so.
    pub fn match_host(&self, host_name: &str) -> Option<&SourceMatch> {
        self.rules
            .iter()
            .find_map(|(matcher, target)| match matcher {
                Matcher::HostGlob(glob) if glob_matches(glob, host_name) => Some(target),
                _ => None,
            })
    }

    /// Address first, then host name, then the unmapped default.
    pub fn lookup(&self, address: Option<IpAddr>, host_name: Option<&str>) -> &SourceMatch {
        address
            .and_then(|address| self.match_address(address))
            .or_else(|| host_name.and_then(|host| self.match_host(host)))
            .unwrap_or(&self.unmapped)
    }

    pub fn unmapped(&self) -> &SourceMatch {
        &self.unmapped
    }

    pub fn has_host_rules(&self) -> bool {
        self.rules
            .iter()
            .any(|(matcher, _)| matches!(matcher, Matcher::HostGlob(_)))
    }
}

fn parse_matcher(source: &str) -> Result<Matcher, String> {
    if let Ok(network) = source.parse::<IpNet>() {
        return Ok(Matcher::Network(network));
    }
    if let Ok(address) = source.parse::<IpAddr>() {
        return Ok(Matcher::Network(IpNet::from(address)));
    }
    let looks_like_address = source
        .chars()
        .all(|c| c.is_ascii_digit() || ".:/".contains(c));
    if source.is_empty() || looks_like_address {
        return Err(format!(
            "source {source:?} is neither a CIDR range nor a host-name glob"
        ));
    }
    Ok(Matcher::HostGlob(source.to_ascii_lowercase()))
}

/// `*` matches any run of characters, `?` one; ASCII case is ignored. Iterative, so a hostile
/// pattern cannot blow the stack.
fn glob_matches(glob: &str, text: &str) -> bool {
    let pattern = glob.as_bytes();
    let text = text.as_bytes();
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t].to_ascii_lowercase() => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, matched)) => {
                    p = star + 1;
                    t = matched + 1;
                    backtrack = Some((star, matched + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system(name: &str, level: i64, sources: &[&str]) -> SystemConfig {
        SystemConfig {
            name: name.into(),
            tenant: format!("{name}-agency"),
            level,
            sources: sources.iter().map(|s| s.to_string()).collect(),
            timezone: Some("+07:00".into()),
        }
    }

    #[test]
    fn source_map_matches_cidr_then_host_glob_then_default() {
        let map = SourceMap::build(
            &[
                system("core", 4, &["fw-*.gov"]),
                system("dc", 5, &["10.0.0.0/8"]),
            ],
            &UnmappedConfig::default(),
        )
        .unwrap();
        let by_ip = map.lookup(Some("10.1.2.3".parse().unwrap()), Some("fw-1.gov"));
        assert_eq!(by_ip.system.as_deref(), Some("dc"));
        let by_host = map.lookup(Some("192.0.2.1".parse().unwrap()), Some("FW-9.gov"));
        assert_eq!(by_host.system.as_deref(), Some("core"));
        assert_eq!(by_host.timezone, FixedOffset::east_opt(7 * 3600).unwrap());
        let neither = map.lookup(Some("192.0.2.1".parse().unwrap()), Some("web"));
        assert_eq!(neither.system, None);
        assert_eq!(neither.tenant.as_ref(), "unmapped");
    }

    #[test]
    fn source_map_reports_every_bad_entry() {
        let errors = SourceMap::build(
            &[
                system("a", 9, &["10.0.0.0/8"]),
                system("b", 2, &["300.1.1.1/8"]),
            ],
            &UnmappedConfig {
                level: 0,
                ..UnmappedConfig::default()
            },
        )
        .err()
        .unwrap();
        assert_eq!(errors.len(), 3, "{errors:?}");
    }

    #[test]
    fn glob_matching_handles_stars_and_question_marks() {
        assert!(glob_matches("fw-*.gov", "fw-a.b.gov"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("h?st", "host"));
        assert!(!glob_matches("h?st", "hoost"));
        assert!(!glob_matches("*.gov", "gov"));
        assert!(glob_matches("a*b*c", "aXbYbZc"));
    }
}
