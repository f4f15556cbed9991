//! `select` conditions, compiled to native tests, and the index that sends each event only to
//! the rules it can match.
//!
//! A condition tests one field. Its value in a rule file is a string, number or boolean
//! (equality), an array (equal to any), or a map of operators, all of which must hold:
//!
//! | operator | holds when the field … |
//! |---|---|
//! | `eq`, `in` | equals the value, or any of the list |
//! | `prefix`, `suffix`, `contains` | starts with, ends with, contains any of the strings |
//! | `icontains` | contains any of the strings, ignoring ASCII case |
//! | `regex` | matches any of the regular expressions |
//! | `cidr` | is an address inside any of the networks (`10.0.0.0/8`, or one address) |
//! | `gt`, `gte`, `lt`, `lte` | is a number above / at least / below / at most the value |
//! | `exists` | is present (`true`) or absent (`false`) |
//! | `not` | does not satisfy the nested condition |
//!
//! A field with several values (a list) satisfies a text test when any value does.

use std::collections::HashMap;

use crate::hash::{FastMap, FastSet};
use std::net::IpAddr;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use ipnet::IpNet;
use regex::{Regex, RegexSet};
use vigil_event::Event;

use crate::view::{FieldRef, View};

/// One compiled test on one field.
#[derive(Debug)]
pub enum Test {
    Eq(FastSet<String>),
    Prefix(Vec<String>),
    Suffix(Vec<String>),
    Contains(AhoCorasick, Vec<String>),
    IContains(AhoCorasick, Vec<String>),
    Regex(RegexSet, Vec<String>),
    Cidr(Vec<IpNet>),
    Compare(Comparison, f64),
    Exists(bool),
    Not(Box<Test>),
    /// Several operators in one map: all must hold.
    All(Vec<Test>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Comparison {
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

/// A test on a named field.
#[derive(Debug)]
pub struct Condition {
    pub field: FieldRef,
    pub test: Test,
}

/// What a rule file wrote for one field, before compiling.
#[derive(Clone, Debug, PartialEq)]
pub enum Written {
    Text(String),
    Number(f64),
    Bool(bool),
    List(Vec<Written>),
    Operators(Vec<(String, Written)>),
}

impl Written {
    fn as_text(&self) -> Option<String> {
        match self {
            Written::Text(text) => Some(text.clone()),
            Written::Number(number) if number.fract() == 0.0 && number.abs() < 1e15 => {
                Some(format!("{}", *number as i64))
            }
            Written::Number(number) => Some(number.to_string()),
            Written::Bool(flag) => Some(flag.to_string()),
            _ => None,
        }
    }

    /// One string, or every string of a list.
    fn texts(&self) -> Result<Vec<String>, String> {
        match self {
            Written::List(items) => items
                .iter()
                .map(|item| {
                    item.as_text()
                        .ok_or_else(|| "a list may hold only strings and numbers".to_owned())
                })
                .collect(),
            other => other
                .as_text()
                .map(|text| vec![text])
                .ok_or_else(|| "expected a string or a list of strings".to_owned()),
        }
    }
}

impl Condition {
    pub fn compile(field: &str, written: &Written) -> Result<Self, String> {
        let test = compile_test(written).map_err(|error| format!("`{field}`: {error}"))?;
        Ok(Condition {
            field: FieldRef::new(field),
            test,
        })
    }

    pub fn holds(&self, view: &mut View<'_>) -> bool {
        self.test.holds(view, &self.field)
    }

    /// The test on one event alone (tests and tools; the engine reuses one [`View`]).
    pub fn holds_for(&self, event: &Event) -> bool {
        self.holds(&mut View::new(event))
    }
}

fn compile_test(written: &Written) -> Result<Test, String> {
    match written {
        Written::Text(_) | Written::Number(_) | Written::Bool(_) | Written::List(_) => {
            Ok(Test::Eq(written.texts()?.into_iter().collect()))
        }
        Written::Operators(operators) => {
            if operators.is_empty() {
                return Err("an empty map of operators".into());
            }
            let mut tests = operators
                .iter()
                .map(|(operator, value)| {
                    operator_test(operator, value).map_err(|error| format!("{operator}: {error}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if tests.len() == 1 {
                tests.remove(0)
            } else {
                Test::All(tests)
            })
        }
    }
}

fn operator_test(operator: &str, value: &Written) -> Result<Test, String> {
    let automaton = |patterns: &[String], fold: bool| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(fold)
            .kind(Some(AhoCorasickKind::DFA))
            .build(patterns)
            .map_err(|error| error.to_string())
    };
    Ok(match operator {
        "eq" | "in" => Test::Eq(value.texts()?.into_iter().collect()),
        "prefix" => Test::Prefix(value.texts()?),
        "suffix" => Test::Suffix(value.texts()?),
        "contains" => {
            let patterns = value.texts()?;
            Test::Contains(automaton(&patterns, false)?, patterns)
        }
        "icontains" => {
            let patterns = value.texts()?;
            Test::IContains(automaton(&patterns, true)?, patterns)
        }
        "regex" => {
            let patterns = value.texts()?;
            let set = RegexSet::new(&patterns).map_err(|error| error.to_string())?;
            // Each one alone too, so that a bad pattern is named.
            for pattern in &patterns {
                Regex::new(pattern).map_err(|error| format!("{pattern:?}: {error}"))?;
            }
            Test::Regex(set, patterns)
        }
        "cidr" => Test::Cidr(
            value
                .texts()?
                .iter()
                .map(|text| parse_network(text).ok_or_else(|| format!("{text:?} is not a network")))
                .collect::<Result<_, _>>()?,
        ),
        "gt" | "gte" | "lt" | "lte" => {
            let Written::Number(limit) = value else {
                return Err("expected a number".into());
            };
            let comparison = match operator {
                "gt" => Comparison::Greater,
                "gte" => Comparison::GreaterOrEqual,
                "lt" => Comparison::Less,
                _ => Comparison::LessOrEqual,
            };
            Test::Compare(comparison, *limit)
        }
        "exists" => match value {
            Written::Bool(flag) => Test::Exists(*flag),
            _ => return Err("expected true or false".into()),
        },
        "not" => Test::Not(Box::new(compile_test(value)?)),
        other => {
            return Err(format!(
                "unknown operator {other:?} (known: eq, in, prefix, suffix, contains, \
                 icontains, regex, cidr, gt, gte, lt, lte, exists, not)"
            ))
        }
    })
}

/// `10.0.0.0/8`, or one address as a /32 or /128.
pub fn parse_network(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

impl Test {
    pub fn holds(&self, view: &mut View<'_>, field: &FieldRef) -> bool {
        match self {
            Test::Eq(values) => view.any_text(field, |text| values.contains(text)),
            Test::Prefix(prefixes) => view.any_text(field, |text| {
                prefixes
                    .iter()
                    .any(|prefix| text.starts_with(prefix.as_str()))
            }),
            Test::Suffix(suffixes) => view.any_text(field, |text| {
                suffixes
                    .iter()
                    .any(|suffix| text.ends_with(suffix.as_str()))
            }),
            Test::Contains(automaton, _) | Test::IContains(automaton, _) => {
                view.any_text(field, |text| automaton.is_match(text))
            }
            Test::Regex(set, _) => view.any_text(field, |text| set.is_match(text)),
            Test::Cidr(networks) => view
                .ip(field)
                .is_some_and(|address| networks.iter().any(|network| network.contains(&address))),
            Test::Compare(comparison, limit) => {
                view.number(field).is_some_and(|value| match comparison {
                    Comparison::Greater => value > *limit,
                    Comparison::GreaterOrEqual => value >= *limit,
                    Comparison::Less => value < *limit,
                    Comparison::LessOrEqual => value <= *limit,
                })
            }
            Test::Exists(wanted) => view.exists(field) == *wanted,
            Test::Not(inner) => !inner.holds(view, field),
            Test::All(tests) => tests.iter().all(|test| test.holds(view, field)),
        }
    }
}

/// Which part of a rule a prefilter entry stands for: its main `select`, a step of a sequence,
/// or the sequence's abort step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    Main,
    Step(u16),
    Abort,
}

/// A (rule, part) pair the index hands out; the rule is its position in the rule set.
pub type Probe = (u32, Part);

/// Fields with a handful of values: equality on them narrows little, so the index files a rule
/// under them only when it has nothing better.
const NARROW_FIELDS: [&str; 10] = [
    "event.category",
    "event.outcome",
    "event.type",
    "event.kind",
    "network.transport",
    "network.direction",
    "network.type",
    "vigil.level",
    "log.syslog.severity.name",
    "log.level",
];

/// Sends each event to the probes whose anchor condition it satisfies: equality conditions by
/// hash lookup of the field's value, networks by the event's address, substring conditions by
/// one Aho-Corasick scan per field,
/// regular expressions by one `RegexSet` per field. Probes with no such condition are tried on
/// every event.
#[derive(Debug, Default)]
pub struct Index {
    equal: Vec<(FieldRef, FastMap<String, Vec<Probe>>)>,
    /// Per address field: each network with the probe it anchors.
    network: Vec<(FieldRef, Vec<(IpNet, Probe)>)>,
    substring: Vec<SubstringIndex>,
    pattern: Vec<PatternIndex>,
    always: Vec<Probe>,
    /// Probes that may also see Vigil's own alerts; the rest never do.
    alert_probes: FastSet<Probe>,
}

#[derive(Debug)]
struct SubstringIndex {
    field: FieldRef,
    automaton: AhoCorasick,
    /// Per pattern: the probe it anchors.
    probes: Vec<Probe>,
}

#[derive(Debug)]
struct PatternIndex {
    field: FieldRef,
    set: RegexSet,
    probes: Vec<Probe>,
}

/// Builds an [`Index`].
#[derive(Default)]
pub struct IndexBuilder {
    equal: HashMap<FieldRef, FastMap<String, Vec<Probe>>>,
    network: HashMap<FieldRef, Vec<(IpNet, Probe)>>,
    substring: HashMap<FieldRef, Vec<(String, Probe)>>,
    pattern: HashMap<FieldRef, Vec<(String, Probe)>>,
    always: Vec<Probe>,
    alert_probes: FastSet<Probe>,
}

impl IndexBuilder {
    /// Files `probe` under the most selective of its conditions: equality on a field with many
    /// values (`process.name`, `event.action`, …), else a network, else equality on a field of a
    /// few values (`event.category`, `event.outcome`, …), else a substring, else a pattern.
    pub fn add(&mut self, probe: Probe, conditions: &[Condition], sees_alerts: bool) {
        if sees_alerts {
            self.alert_probes.insert(probe);
        }
        let equality = |wide: bool| {
            conditions
                .iter()
                .find_map(|condition| match &condition.test {
                    Test::Eq(values)
                        if wide != NARROW_FIELDS.contains(&condition.field.name.as_str()) =>
                    {
                        Some((condition, values))
                    }
                    _ => None,
                })
        };
        let network = conditions
            .iter()
            .find_map(|condition| match &condition.test {
                Test::Cidr(networks) => Some((condition, networks)),
                _ => None,
            });
        if let Some((condition, values)) = equality(true) {
            self.add_equal(probe, condition, values);
            return;
        }
        if let Some((condition, networks)) = network {
            let entries = self.network.entry(condition.field.clone()).or_default();
            entries.extend(networks.iter().map(|network| (*network, probe)));
            return;
        }
        if let Some((condition, values)) = equality(false) {
            self.add_equal(probe, condition, values);
            return;
        }
        for condition in conditions {
            match &condition.test {
                Test::Prefix(patterns)
                | Test::Suffix(patterns)
                | Test::Contains(_, patterns)
                | Test::IContains(_, patterns) => {
                    let entries = self.substring.entry(condition.field.clone()).or_default();
                    entries.extend(patterns.iter().map(|pattern| (pattern.clone(), probe)));
                    return;
                }
                Test::Regex(_, patterns) => {
                    let entries = self.pattern.entry(condition.field.clone()).or_default();
                    entries.extend(patterns.iter().map(|pattern| (pattern.clone(), probe)));
                    return;
                }
                _ => {}
            }
        }
        self.always.push(probe);
    }

    fn add_equal(&mut self, probe: Probe, condition: &Condition, values: &FastSet<String>) {
        let by_value = self.equal.entry(condition.field.clone()).or_default();
        for value in values {
            by_value.entry(value.clone()).or_default().push(probe);
        }
    }

    pub fn build(self) -> Result<Index, String> {
        let mut substring = Vec::new();
        for (field, entries) in self.substring {
            // Case folded for all: a superset of what each condition accepts, checked after.
            let automaton = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(entries.iter().map(|(pattern, _)| pattern))
                .map_err(|error| error.to_string())?;
            substring.push(SubstringIndex {
                field,
                automaton,
                probes: entries.into_iter().map(|(_, probe)| probe).collect(),
            });
        }
        let mut pattern = Vec::new();
        for (field, entries) in self.pattern {
            let set = RegexSet::new(entries.iter().map(|(pattern, _)| pattern))
                .map_err(|error| error.to_string())?;
            pattern.push(PatternIndex {
                field,
                set,
                probes: entries.into_iter().map(|(_, probe)| probe).collect(),
            });
        }
        Ok(Index {
            equal: self.equal.into_iter().collect(),
            network: self.network.into_iter().collect(),
            substring,
            pattern,
            always: self.always,
            alert_probes: self.alert_probes,
        })
    }
}

impl Index {
    /// The probes the event may satisfy, sorted, each once.
    pub fn candidates(&self, view: &mut View<'_>, is_alert: bool, out: &mut Vec<Probe>) {
        out.clear();
        for (field, by_value) in &self.equal {
            view.any_text(field, |text| {
                if let Some(probes) = by_value.get(text) {
                    out.extend_from_slice(probes);
                }
                false
            });
        }
        for (field, networks) in &self.network {
            if let Some(address) = view.ip(field) {
                out.extend(
                    networks
                        .iter()
                        .filter(|(network, _)| network.contains(&address))
                        .map(|(_, probe)| *probe),
                );
            }
        }
        for index in &self.substring {
            view.any_text(&index.field, |text| {
                for found in index.automaton.find_overlapping_iter(text) {
                    out.push(index.probes[found.pattern().as_usize()]);
                }
                false
            });
        }
        for index in &self.pattern {
            view.any_text(&index.field, |text| {
                out.extend(index.set.matches(text).iter().map(|at| index.probes[at]));
                false
            });
        }
        out.extend_from_slice(&self.always);
        // Vigil's own alerts reach only the probes that ask for alerts; other events reach all.
        if is_alert {
            out.retain(|probe| self.alert_probes.contains(probe));
        }
        out.sort_unstable();
        out.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_event::{access, Timestamp, Value};

    fn event(pairs: &[(&str, &str)]) -> Event {
        let mut event = Event::new(Timestamp::from_nanos(0), Vec::new());
        for (name, value) in pairs {
            access::set(&mut event, name, Value::from(*value));
        }
        event
    }

    fn operators(pairs: &[(&str, Written)]) -> Written {
        Written::Operators(
            pairs
                .iter()
                .map(|(name, value)| (name.to_string(), value.clone()))
                .collect(),
        )
    }

    fn text(value: &str) -> Written {
        Written::Text(value.into())
    }

    #[test]
    fn every_operator_tests_its_field() {
        let line = event(&[
            ("message", "GET /index.php?id=1 UNION SELECT"),
            ("source.ip", "10.1.2.3"),
            ("destination.port", "443"),
        ]);
        let holds = |field: &str, written: Written| {
            Condition::compile(field, &written)
                .unwrap()
                .holds_for(&line)
        };
        assert!(holds("message", operators(&[("prefix", text("GET "))])));
        assert!(!holds("message", operators(&[("prefix", text("POST "))])));
        assert!(holds("message", operators(&[("suffix", text("SELECT"))])));
        assert!(holds("message", operators(&[("contains", text("UNION"))])));
        assert!(!holds("message", operators(&[("contains", text("union"))])));
        assert!(holds(
            "message",
            operators(&[("icontains", text("union select"))])
        ));
        assert!(holds("message", operators(&[("regex", text(r"id=\d+"))])));
        assert!(holds(
            "source.ip",
            operators(&[("cidr", text("10.0.0.0/8"))])
        ));
        assert!(!holds(
            "source.ip",
            operators(&[("cidr", text("192.168.0.0/16"))])
        ));
        assert!(holds(
            "destination.port",
            operators(&[("gte", Written::Number(443.0))])
        ));
        assert!(!holds(
            "destination.port",
            operators(&[("gt", Written::Number(443.0))])
        ));
        assert!(holds("destination.port", Written::Number(443.0)));
        assert!(holds(
            "destination.port",
            Written::List(vec![text("22"), text("443")])
        ));
        assert!(holds(
            "user.name",
            operators(&[("exists", Written::Bool(false))])
        ));
        assert!(holds("message", operators(&[("not", text("x"))])));
        assert!(holds(
            "destination.port",
            operators(&[
                ("gte", Written::Number(1.0)),
                ("lt", Written::Number(1024.0))
            ])
        ));
    }

    #[test]
    fn bad_conditions_are_named() {
        let error = Condition::compile("message", &operators(&[("regex", text("("))])).unwrap_err();
        assert!(
            error.contains("`message`") && error.contains("regex"),
            "{error}"
        );
        let error = Condition::compile("x", &operators(&[("near", text("y"))])).unwrap_err();
        assert!(error.contains("unknown operator"), "{error}");
        assert!(Condition::compile("x", &operators(&[("cidr", text("nope"))])).is_err());
    }

    #[test]
    fn the_index_hands_out_only_candidates() {
        let compile = |pairs: &[(&str, Written)]| {
            pairs
                .iter()
                .map(|(field, written)| Condition::compile(field, written).unwrap())
                .collect::<Vec<_>>()
        };
        let mut builder = IndexBuilder::default();
        builder.add(
            (0, Part::Main),
            &compile(&[("process.name", text("sshd"))]),
            false,
        );
        builder.add(
            (1, Part::Main),
            &compile(&[("process.name", text("sudo"))]),
            false,
        );
        builder.add(
            (2, Part::Main),
            &compile(&[("message", operators(&[("contains", text("DROP"))]))]),
            false,
        );
        builder.add((3, Part::Main), &compile(&[]), false);
        builder.add(
            (5, Part::Main),
            &compile(&[
                ("event.category", text("authentication")),
                ("source.ip", operators(&[("cidr", text("192.0.2.0/24"))])),
            ]),
            false,
        );
        builder.add(
            (4, Part::Step(0)),
            &compile(&[("rule.id", text("a"))]),
            true,
        );
        builder.add(
            (5, Part::Main),
            &compile(&[
                ("event.category", text("authentication")),
                ("source.ip", operators(&[("cidr", text("192.0.2.0/24"))])),
            ]),
            false,
        );
        let index = builder.build().unwrap();
        let candidates = |event: &Event, is_alert: bool| {
            let mut out = Vec::new();
            index.candidates(&mut View::new(event), is_alert, &mut out);
            out
        };
        assert_eq!(
            candidates(&event(&[("process.name", "sshd"), ("message", "x")]), false),
            vec![(0, Part::Main), (3, Part::Main)]
        );
        assert_eq!(
            candidates(&event(&[("message", "kernel: DROP IN=eth0")]), false),
            vec![(2, Part::Main), (3, Part::Main)]
        );
        assert_eq!(
            candidates(&event(&[("rule.id", "a")]), true),
            vec![(4, Part::Step(0))]
        );
        // An event that is not a Vigil alert (a Suricata alert, say) reaches every probe.
        assert_eq!(
            candidates(&event(&[("rule.id", "a")]), false),
            vec![(3, Part::Main), (4, Part::Step(0))]
        );
        // Filed under its network, not under the category every login has.
        let login = |ip: &str| event(&[("event.category", "authentication"), ("source.ip", ip)]);
        assert_eq!(candidates(&login("10.0.0.1"), false), vec![(3, Part::Main)]);
        assert_eq!(
            candidates(&login("192.0.2.77"), false),
            vec![(3, Part::Main), (5, Part::Main)]
        );
    }
}
