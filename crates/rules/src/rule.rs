//! A rule as a rule file describes it, checked and compiled: metadata, `select` conditions, the
//! optional `where` closure, exceptions, its kind with its window, suppression, the summary
//! template and its tests.

use std::collections::HashSet;

use ipnet::IpNet;
use rhai::{Dynamic, Map};
use vigil_event::Severity;

use crate::condition::{parse_network, Condition, Written};
use crate::script::Closure;
use crate::view::{FieldRef, View};

/// Nanoseconds, the unit of event time.
pub type Nanos = i64;

#[derive(Debug)]
pub struct Rule {
    pub id: String,
    /// `version` from the file, else a digest of the file's text.
    pub version: String,
    pub title: String,
    pub severity: Severity,
    pub description: String,
    pub attack: Vec<String>,
    pub kill_chain: Option<String>,
    pub references: Vec<String>,
    pub false_positives: Vec<String>,
    /// The file, relative to the rules folder, and the line of the rule's `id`.
    pub file: String,
    pub line: usize,
    pub select: Vec<Condition>,
    pub filter: Option<Closure>,
    pub except: Vec<Exception>,
    pub kind: Kind,
    /// Group-by fields: alerts and window state are per distinct value of these.
    pub by: Vec<FieldRef>,
    pub suppress: Option<Nanos>,
    pub summary: Summary,
    pub tests: Vec<RuleTest>,
    /// Its main `select` names `event.kind` or `rule.id`, so alerts are among its candidates.
    pub sees_alerts: bool,
}

#[derive(Debug)]
pub enum Kind {
    /// Every matching event fires.
    Match,
    /// At least `count` matching events within `within`.
    Threshold { count: usize, within: Nanos },
    /// The values of a numeric `field` add up to at least `total` within `within`.
    Sum {
        field: FieldRef,
        total: f64,
        within: Nanos,
    },
    /// At least `count` distinct values of `field` within `within`.
    Distinct {
        field: FieldRef,
        count: usize,
        within: Nanos,
    },
    /// The steps in order, all within `within`; the abort step, when it matches, starts over.
    Sequence {
        within: Nanos,
        steps: Vec<Step>,
        abort: Option<Step>,
    },
    /// No matching event for a key for `within` (processing time).
    Absence { within: Nanos },
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Match => "match",
            Kind::Threshold { .. } => "threshold",
            Kind::Sum { .. } => "sum",
            Kind::Distinct { .. } => "distinct",
            Kind::Sequence { .. } => "sequence",
            Kind::Absence { .. } => "absence",
        }
    }

    /// The longest time an event stays relevant to the rule's window.
    pub fn window(&self) -> Nanos {
        match self {
            Kind::Match => 0,
            Kind::Threshold { within, .. }
            | Kind::Sum { within, .. }
            | Kind::Distinct { within, .. }
            | Kind::Sequence { within, .. }
            | Kind::Absence { within } => *within,
        }
    }
}

#[derive(Debug)]
pub struct Step {
    pub select: Vec<Condition>,
    pub filter: Option<Closure>,
    pub sees_alerts: bool,
}

/// An allow-list entry: events whose `field` has one of the values, or an address in one of the
/// networks, are never counted by the rule.
#[derive(Debug)]
pub struct Exception {
    pub field: FieldRef,
    pub values: HashSet<String>,
    pub networks: Vec<IpNet>,
}

impl Exception {
    pub fn holds(&self, view: &mut View<'_>) -> bool {
        (!self.values.is_empty() && view.any_text(&self.field, |text| self.values.contains(text)))
            || (!self.networks.is_empty()
                && view.ip(&self.field).is_some_and(|address| {
                    self.networks
                        .iter()
                        .any(|network| network.contains(&address))
                }))
    }
}

#[derive(Debug)]
pub enum Summary {
    /// `{count} failed logins from {source.ip}`: `{count}`, `{key}`, `{title}`, `{rule.id}`, and
    /// any field of the last contributing event.
    Template(String),
    /// `|a| ...` called with the alert as a map (`a.count`, `a.key`, `a.fields`, …).
    Closure(Closure),
}

#[derive(Debug)]
pub struct RuleTest {
    pub name: String,
    pub events: Vec<Map>,
    pub expect: Expect,
    /// After the last event the clock moves on by this much (absence rules fire on silence).
    pub advance: Nanos,
}

#[derive(Debug)]
pub enum Expect {
    Count(usize),
    Alerts(Vec<ExpectedAlert>),
}

#[derive(Debug, Default)]
pub struct ExpectedAlert {
    pub key: Option<String>,
    pub count: Option<u64>,
    pub summary_contains: Option<String>,
}

/// Fields of a rule map that are known; anything else is an error (a typo must not pass).
const KNOWN_KEYS: [&str; 20] = [
    "id",
    "version",
    "title",
    "severity",
    "description",
    "attack",
    "kill_chain",
    "references",
    "false_positives",
    "select",
    "where",
    "except",
    "threshold",
    "distinct",
    "sequence",
    "absence",
    "by",
    "suppress",
    "summary",
    "tests",
];

/// Reads a rule map. `file_digest` is the version when the rule gives none.
pub fn parse(map: Map, ast: &std::sync::Arc<rhai::AST>, file_digest: &str) -> Result<Rule, String> {
    let mut reader = Reader { map, ast };
    let id = reader.text("id")?.ok_or("a rule needs an `id`")?;
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(format!(
            "id {id:?}: use letters, digits, `.`, `_` and `-` only"
        ));
    }
    let prefix = |error: String| format!("rule {id:?}: {error}");
    reader.parse_rest(id.clone(), file_digest).map_err(prefix)
}

struct Reader<'a> {
    map: Map,
    ast: &'a std::sync::Arc<rhai::AST>,
}

impl Reader<'_> {
    fn take(&mut self, key: &str) -> Option<Dynamic> {
        self.map.remove(key).filter(|value| !value.is_unit())
    }

    fn text(&mut self, key: &str) -> Result<Option<String>, String> {
        match self.take(key) {
            None => Ok(None),
            Some(value) => match scalar_text(&value) {
                Some(text) => Ok(Some(text)),
                None => Err(format!("`{key}` must be a string")),
            },
        }
    }

    fn texts(&mut self, key: &str) -> Result<Vec<String>, String> {
        match self.take(key) {
            None => Ok(Vec::new()),
            Some(value) => texts_of(&value).map_err(|error| format!("`{key}`: {error}")),
        }
    }

    fn closure(&mut self, key: &str) -> Result<Option<Closure>, String> {
        match self.take(key) {
            None => Ok(None),
            Some(value) => match value.try_cast::<rhai::FnPtr>() {
                Some(function) => Ok(Some(Closure {
                    function,
                    ast: self.ast.clone(),
                })),
                None => Err(format!("`{key}` must be a closure like |e| ...")),
            },
        }
    }

    fn parse_rest(&mut self, id: String, file_digest: &str) -> Result<Rule, String> {
        let unknown: Vec<String> = self
            .map
            .keys()
            .filter(|key| !KNOWN_KEYS.contains(&key.as_str()))
            .map(|key| key.to_string())
            .collect();
        if !unknown.is_empty() {
            return Err(format!(
                "unknown keys {unknown:?} (known: {})",
                KNOWN_KEYS.join(", ")
            ));
        }
        let version = self
            .text("version")?
            .unwrap_or_else(|| file_digest.to_owned());
        let title = self.text("title")?.ok_or("a rule needs a `title`")?;
        let severity_name = self.text("severity")?.ok_or("a rule needs a `severity`")?;
        let severity = Severity::parse(&severity_name).ok_or_else(|| {
            format!(
                "severity {severity_name:?}: use one of {}",
                Severity::NAMES.join(", ")
            )
        })?;
        let description = self.text("description")?.unwrap_or_default();
        let attack = self.texts("attack")?;
        let kill_chain = self.text("kill_chain")?;
        let references = self.texts("references")?;
        let false_positives = self.texts("false_positives")?;
        let (select, sees_alerts) = match self.take("select") {
            None => (Vec::new(), false),
            Some(value) => select_of(value).map_err(|error| format!("select: {error}"))?,
        };
        let filter = self.closure("where")?;
        let except = match self.take("except") {
            None => Vec::new(),
            Some(value) => exceptions_of(value)?,
        };
        let mut by = self.texts("by")?;
        let kinds: Vec<&str> = ["threshold", "distinct", "sequence", "absence"]
            .into_iter()
            .filter(|key| self.map.contains_key(*key))
            .collect();
        if kinds.len() > 1 {
            return Err(format!("one kind per rule, not {}", kinds.join(" and ")));
        }
        let kind = match kinds.first().copied() {
            None => Kind::Match,
            Some(name) => {
                let value = self.take(name).unwrap_or_default();
                let Some(map) = value.try_cast::<Map>() else {
                    return Err(format!("`{name}` must be a map #{{ ... }}"));
                };
                let mut kind_reader = Reader { map, ast: self.ast };
                let kind = kind_reader
                    .kind(name, &mut by)
                    .map_err(|error| format!("{name}: {error}"))?;
                if let Some(key) = kind_reader.map.keys().next() {
                    return Err(format!("{name}: unknown key `{key}`"));
                }
                kind
            }
        };
        if by.iter().any(String::is_empty) {
            return Err("`by` names an empty field".into());
        }
        let by = by.iter().map(|name| FieldRef::new(name)).collect();
        let suppress = match self.take("suppress") {
            None => None,
            Some(value) => Some(duration_of(&value).map_err(|error| format!("suppress: {error}"))?),
        };
        let summary = match self.take("summary") {
            None => Summary::Template(title.clone()),
            Some(value) if value.is_string() => {
                Summary::Template(value.into_string().unwrap_or_default())
            }
            Some(value) => match value.try_cast::<rhai::FnPtr>() {
                Some(function) => Summary::Closure(Closure {
                    function,
                    ast: self.ast.clone(),
                }),
                None => return Err("`summary` must be a template string or a closure".into()),
            },
        };
        let tests = match self.take("tests") {
            None => Vec::new(),
            Some(value) => tests_of(value)?,
        };
        Ok(Rule {
            id,
            version,
            title,
            severity,
            description,
            attack,
            kill_chain,
            references,
            false_positives,
            file: String::new(),
            line: 0,
            select,
            filter,
            except,
            kind,
            by,
            suppress,
            summary,
            tests,
            sees_alerts,
        })
    }

    fn kind(&mut self, name: &str, by: &mut Vec<String>) -> Result<Kind, String> {
        let within = match self.take("within") {
            Some(value) => duration_of(&value).map_err(|error| format!("within: {error}"))?,
            None => return Err("needs `within` (a duration like \"5m\")".into()),
        };
        if within <= 0 {
            return Err("`within` must be longer than zero".into());
        }
        let kind_by = self.texts("by")?;
        if !kind_by.is_empty() {
            *by = kind_by;
        }
        let count = |reader: &mut Self| -> Result<usize, String> {
            match reader.take("count").map(|value| value.as_int()) {
                Some(Ok(count)) if count >= 1 => Ok(count as usize),
                Some(_) => Err("`count` must be a whole number of at least 1".into()),
                None => Err("needs `count`".into()),
            }
        };
        Ok(match name {
            "threshold" if self.map.contains_key("sum") => {
                let field = FieldRef::new(&self.text("sum")?.ok_or("`sum` names a numeric field")?);
                let total = match self.take("total") {
                    Some(value) => value
                        .as_float()
                        .or_else(|_| value.as_int().map(|total| total as f64))
                        .map_err(|_| "`total` must be a number".to_owned())?,
                    None => return Err("with `sum`, needs `total`".into()),
                };
                if total <= 0.0 {
                    return Err("`total` must be above zero".into());
                }
                Kind::Sum {
                    field,
                    total,
                    within,
                }
            }
            "threshold" => Kind::Threshold {
                count: count(self)?,
                within,
            },
            "distinct" => Kind::Distinct {
                field: FieldRef::new(&self.text("field")?.ok_or("needs `field`")?),
                count: count(self)?,
                within,
            },
            "sequence" => {
                let steps = match self
                    .take("steps")
                    .map(|value| value.try_cast::<rhai::Array>())
                {
                    Some(Some(steps)) if steps.len() >= 2 => steps,
                    _ => return Err("needs `steps`, a list of at least two steps".into()),
                };
                if steps.len() > usize::from(u16::MAX) {
                    return Err("too many steps".into());
                }
                let steps = steps
                    .into_iter()
                    .enumerate()
                    .map(|(at, step)| {
                        step_of(step, self.ast).map_err(|error| format!("step {}: {error}", at + 1))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let abort = match self.take("abort") {
                    None => None,
                    Some(step) => {
                        Some(step_of(step, self.ast).map_err(|error| format!("abort: {error}"))?)
                    }
                };
                Kind::Sequence {
                    within,
                    steps,
                    abort,
                }
            }
            _ => Kind::Absence { within },
        })
    }
}

fn step_of(value: Dynamic, ast: &std::sync::Arc<rhai::AST>) -> Result<Step, String> {
    let Some(map) = value.try_cast::<Map>() else {
        return Err("a step is a map: #{ rule: \"id\" } or #{ select: #{...}, where: ... }".into());
    };
    let mut reader = Reader { map, ast };
    let rule = reader.text("rule")?;
    let (mut select, mut sees_alerts) = match reader.take("select") {
        None => (Vec::new(), false),
        Some(value) => select_of(value).map_err(|error| format!("select: {error}"))?,
    };
    if let Some(rule) = rule {
        select.insert(0, Condition::compile("rule.id", &Written::Text(rule))?);
        // Vigil's alert, not another product's (`event.kind` is `alert` for IDS alerts too).
        select.insert(
            1,
            Condition::compile(
                vigil_event::field::ALERT_KEY,
                &Written::Operators(vec![("exists".into(), Written::Bool(true))]),
            )?,
        );
        sees_alerts = true;
    }
    let filter = reader.closure("where")?;
    if let Some(key) = reader.map.keys().next() {
        return Err(format!("unknown key `{key}` (known: rule, select, where)"));
    }
    if select.is_empty() && filter.is_none() {
        return Err("a step needs `rule`, `select` or `where`".into());
    }
    Ok(Step {
        select,
        filter,
        sees_alerts,
    })
}

fn scalar_text(value: &Dynamic) -> Option<String> {
    if value.is_string() {
        return value.clone().into_string().ok();
    }
    if let Ok(integer) = value.as_int() {
        return Some(integer.to_string());
    }
    if let Ok(number) = value.as_float() {
        return Some(number.to_string());
    }
    if let Ok(flag) = value.as_bool() {
        return Some(flag.to_string());
    }
    None
}

fn texts_of(value: &Dynamic) -> Result<Vec<String>, String> {
    if let Some(items) = value.clone().try_cast::<rhai::Array>() {
        return items
            .iter()
            .map(|item| scalar_text(item).ok_or_else(|| "expected strings".to_owned()))
            .collect();
    }
    scalar_text(value)
        .map(|text| vec![text])
        .ok_or_else(|| "expected a string or a list of strings".to_owned())
}

/// The written form of a condition value.
pub fn written_of(value: &Dynamic) -> Result<Written, String> {
    if value.is_string() {
        return Ok(Written::Text(
            value.clone().into_string().unwrap_or_default(),
        ));
    }
    if let Ok(integer) = value.as_int() {
        return Ok(Written::Number(integer as f64));
    }
    if let Ok(number) = value.as_float() {
        return Ok(Written::Number(number));
    }
    if let Ok(flag) = value.as_bool() {
        return Ok(Written::Bool(flag));
    }
    if let Some(items) = value.clone().try_cast::<rhai::Array>() {
        return Ok(Written::List(
            items.iter().map(written_of).collect::<Result<_, _>>()?,
        ));
    }
    if let Some(map) = value.clone().try_cast::<Map>() {
        return Ok(Written::Operators(
            map.iter()
                .map(|(key, value)| Ok((key.to_string(), written_of(value)?)))
                .collect::<Result<_, String>>()?,
        ));
    }
    Err(format!("a {} cannot be a condition", value.type_name()))
}

/// Conditions from a `select` map, and whether they let alerts in.
fn select_of(value: Dynamic) -> Result<(Vec<Condition>, bool), String> {
    let Some(map) = value.try_cast::<Map>() else {
        return Err("must be a map #{ \"field\": value, ... }".into());
    };
    let mut sees_alerts = false;
    let mut conditions = Vec::with_capacity(map.len());
    for (field, value) in map {
        if field == "event.kind" || field == "rule.id" {
            sees_alerts = true;
        }
        conditions.push(Condition::compile(&field, &written_of(&value)?)?);
    }
    // Equality first: the index anchors on the first, and it is the cheapest to check.
    conditions.sort_by_key(|condition| !matches!(condition.test, crate::condition::Test::Eq(_)));
    Ok((conditions, sees_alerts))
}

fn exceptions_of(value: Dynamic) -> Result<Vec<Exception>, String> {
    let Some(map) = value.try_cast::<Map>() else {
        return Err("`except` must be a map #{ \"field\": [values or networks], ... }".into());
    };
    map.into_iter()
        .map(|(field, value)| {
            let texts = texts_of(&value).map_err(|error| format!("except `{field}`: {error}"))?;
            let mut exception = Exception {
                field: FieldRef::new(&field),
                values: HashSet::new(),
                networks: Vec::new(),
            };
            for text in texts {
                match parse_network(&text) {
                    Some(network) => exception.networks.push(network),
                    None => {
                        exception.values.insert(text);
                    }
                }
            }
            Ok(exception)
        })
        .collect()
}

/// `"90s"`, `"5m"`, `"1h"`, `"2d"`, or a whole number of seconds.
pub fn duration_of(value: &Dynamic) -> Result<Nanos, String> {
    let duration = if let Ok(seconds) = value.as_int() {
        u64::try_from(seconds)
            .map(std::time::Duration::from_secs)
            .map_err(|_| "must not be negative".to_owned())?
    } else if value.is_string() {
        let text = value.clone().into_string().unwrap_or_default();
        humantime::parse_duration(text.trim())
            .map_err(|error| format!("{text:?}: {error} (write e.g. \"90s\", \"5m\", \"1h\")"))?
    } else {
        return Err("expected a duration like \"5m\"".into());
    };
    Nanos::try_from(duration.as_nanos()).map_err(|_| "too long".to_owned())
}

fn tests_of(value: Dynamic) -> Result<Vec<RuleTest>, String> {
    let Some(items) = value.try_cast::<rhai::Array>() else {
        return Err("`tests` must be a list of #{ name, events, expect }".into());
    };
    items
        .into_iter()
        .enumerate()
        .map(|(at, item)| {
            let Some(mut map) = item.try_cast::<Map>() else {
                return Err(format!("test {}: must be a map", at + 1));
            };
            let name = map
                .remove("name")
                .and_then(|name| name.into_string().ok())
                .unwrap_or_else(|| format!("test {}", at + 1));
            let fail = |error: String| format!("test {name:?}: {error}");
            let events = match map
                .remove("events")
                .map(|events| events.try_cast::<rhai::Array>())
            {
                Some(Some(events)) => events
                    .into_iter()
                    .map(|event| event.try_cast::<Map>().ok_or("each event is a map"))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|error| fail(error.into()))?,
                _ => return Err(fail("needs `events`, a list of maps".into())),
            };
            let expect = match map.remove("expect") {
                Some(value) if value.as_int().is_ok() => {
                    Expect::Count(value.as_int().unwrap_or_default().max(0) as usize)
                }
                Some(value) => match value.try_cast::<rhai::Array>() {
                    Some(alerts) => Expect::Alerts(
                        alerts
                            .into_iter()
                            .map(|alert| expected_of(alert).map_err(&fail))
                            .collect::<Result<_, _>>()?,
                    ),
                    None => return Err(fail("`expect` is a number or a list of alerts".into())),
                },
                None => return Err(fail("needs `expect`".into())),
            };
            let advance = match map.remove("advance") {
                None => 0,
                Some(value) => {
                    duration_of(&value).map_err(|error| fail(format!("advance: {error}")))?
                }
            };
            if let Some(key) = map.keys().next() {
                return Err(fail(format!(
                    "unknown key `{key}` (known: name, events, expect, advance)"
                )));
            }
            Ok(RuleTest {
                name,
                events,
                expect,
                advance,
            })
        })
        .collect()
}

fn expected_of(value: Dynamic) -> Result<ExpectedAlert, String> {
    let Some(mut map) = value.try_cast::<Map>() else {
        return Err("an expected alert is a map #{ key: ..., count: ... }".into());
    };
    let expected = ExpectedAlert {
        key: map.remove("key").and_then(|value| scalar_text(&value)),
        count: map
            .remove("count")
            .and_then(|value| value.as_int().ok())
            .map(|count| count.max(0) as u64),
        summary_contains: map.remove("summary").and_then(|value| scalar_text(&value)),
    };
    if let Some(key) = map.keys().next() {
        return Err(format!(
            "unknown key `{key}` in an expected alert (known: key, count, summary)"
        ));
    }
    Ok(expected)
}
