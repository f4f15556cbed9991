//! User mappings: `[[mapping]]` tables from `normalize/*.toml`, compiled once and applied to
//! each event after the built-in decoders.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDateTime, Utc};
use ipnet::IpNet;
use regex::Regex;
use vigil_config::{line_of, ConstValue, MappingConfig, MappingFile};
use vigil_event::{Event, Timestamp, ToCompactString, Value};

use crate::dissect::Dissect;
use crate::fields;

/// Fields whose conditions may be a CIDR.
const ADDRESS_FIELDS: [&str; 6] = [
    "source.ip",
    "destination.ip",
    "host.ip",
    "observer.ip",
    "client.ip",
    "server.ip",
];

/// One compiled `[[mapping]]`.
#[derive(Debug)]
pub struct Mapping {
    pub name: String,
    when: Vec<(String, Matcher)>,
    field: String,
    pattern: Option<Pattern>,
    rename: Vec<(String, String)>,
    convert: Vec<(String, Conversion)>,
    set: Vec<(String, Value)>,
    timestamp: Option<String>,
    drop: bool,
}

#[derive(Debug)]
enum Matcher {
    Texts(Vec<Glob>),
    Networks(Vec<IpNet>),
}

#[derive(Debug)]
enum Pattern {
    Dissect(Dissect),
    Regex(Regex),
}

#[derive(Clone, Debug, PartialEq)]
enum Conversion {
    Ip,
    Integer,
    Float,
    Boolean,
    /// RFC 3339 or epoch seconds, or with a strftime format.
    Timestamp(Option<String>),
}

/// What a mapping did to an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Its conditions or pattern did not match.
    Skipped,
    /// It matched and set fields; `conversion_errors` values could not be converted (kept as
    /// text).
    Mapped { conversion_errors: u32 },
    /// It matched a drop rule.
    Drop,
}

impl Mapping {
    pub fn apply(&self, event: &mut Event) -> Applied {
        if !self
            .when
            .iter()
            .all(|(name, matcher)| matcher.holds(event, name))
        {
            return Applied::Skipped;
        }
        if self.drop && self.pattern.is_none() {
            return Applied::Drop;
        }
        if let Some(pattern) = &self.pattern {
            let Some(captured) = self.capture(pattern, event) else {
                return Applied::Skipped;
            };
            if self.drop {
                return Applied::Drop;
            }
            for (name, value) in captured {
                fields::set(event, &name, Value::from(value));
            }
        }
        for (from, to) in &self.rename {
            if let Some(value) = fields::take(event, from) {
                fields::set(event, to, value);
            }
        }
        let mut conversion_errors = 0;
        for (name, conversion) in &self.convert {
            let Some(text) = fields::text(event, name).map(|text| text.into_owned()) else {
                continue;
            };
            match conversion.apply(&text) {
                Some(value) => fields::set(event, name, value),
                None => conversion_errors += 1,
            }
        }
        for (name, value) in &self.set {
            fields::set(event, name, value.clone());
        }
        if let Some(name) = &self.timestamp {
            match fields::text(event, name).and_then(|text| parse_time(&text, None)) {
                Some(time) => event.timestamp = time,
                None => conversion_errors += 1,
            }
        }
        Applied::Mapped { conversion_errors }
    }

    /// The pattern's captures, or `None` when the field is absent or the pattern does not
    /// match it.
    fn capture(&self, pattern: &Pattern, event: &Event) -> Option<Vec<(String, String)>> {
        let text = fields::text(event, &self.field)?;
        let mut captured = Vec::new();
        match pattern {
            Pattern::Dissect(dissect) => {
                let matched = dissect.apply(&text, |name, value| {
                    captured.push((name.to_owned(), value.to_owned()));
                });
                matched.then_some(captured)
            }
            Pattern::Regex(regex) => {
                let captures = regex.captures(&text)?;
                for name in regex.capture_names().flatten() {
                    if let Some(value) = captures.name(name) {
                        captured.push((name.to_owned(), value.as_str().to_owned()));
                    }
                }
                Some(captured)
            }
        }
    }
}

impl Matcher {
    fn holds(&self, event: &Event, name: &str) -> bool {
        match self {
            Matcher::Texts(globs) => fields::any_text(event, name, |text| {
                globs.iter().any(|glob| glob.matches(text))
            }),
            Matcher::Networks(networks) => fields::ip(event, name)
                .is_some_and(|address| networks.iter().any(|net| net.contains(&address))),
        }
    }
}

impl Conversion {
    fn parse(text: &str) -> Result<Self, String> {
        Ok(match text {
            "ip" => Conversion::Ip,
            "integer" => Conversion::Integer,
            "float" => Conversion::Float,
            "boolean" => Conversion::Boolean,
            "timestamp" => Conversion::Timestamp(None),
            _ => match text.strip_prefix("timestamp:") {
                Some(format) if !format.is_empty() => {
                    Conversion::Timestamp(Some(format.to_owned()))
                }
                _ => {
                    return Err(format!(
                        "convert: {text:?} is not one of ip, integer, float, boolean, \
                         timestamp, timestamp:FORMAT"
                    ))
                }
            },
        })
    }

    fn apply(&self, text: &str) -> Option<Value> {
        let text = text.trim();
        match self {
            Conversion::Ip => text.parse::<IpAddr>().ok().map(Value::ip),
            Conversion::Integer => text.parse().ok().map(Value::Int),
            Conversion::Float => text.parse().ok().map(Value::Float),
            Conversion::Boolean => match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" | "on" => Some(Value::Bool(true)),
                "false" | "no" | "0" | "off" => Some(Value::Bool(false)),
                _ => None,
            },
            Conversion::Timestamp(format) => {
                parse_time(text, format.as_deref()).map(|time| Value::Str(time.to_compact_string()))
            }
        }
    }
}

/// A time in RFC 3339, epoch seconds (with a fraction), or the given strftime format (UTC when
/// the format has no zone).
fn parse_time(text: &str, format: Option<&str>) -> Option<Timestamp> {
    let text = text.trim();
    match format {
        Some(format) => DateTime::parse_from_str(text, format)
            .map(Timestamp::from_datetime)
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(text, format)
                    .ok()
                    .map(|naive| Timestamp::from_datetime(naive.and_utc()))
            }),
        None => DateTime::parse_from_rfc3339(text)
            .map(Timestamp::from_datetime)
            .ok()
            .or_else(|| {
                let seconds: f64 = text.parse().ok()?;
                let nanos = seconds * 1e9;
                (nanos.is_finite() && nanos.abs() < i64::MAX as f64)
                    .then(|| Timestamp::from_nanos(nanos as i64))
            })
            .filter(|time| time.to_datetime() > DateTime::<Utc>::UNIX_EPOCH),
    }
}

/// A text pattern where `*` matches any run of characters.
#[derive(Debug)]
struct Glob(Vec<String>);

impl Glob {
    fn new(pattern: &str) -> Self {
        Self(pattern.split('*').map(str::to_owned).collect())
    }

    fn matches(&self, text: &str) -> bool {
        let parts = &self.0;
        if parts.len() == 1 {
            return text == parts[0];
        }
        let (first, last) = (&parts[0], &parts[parts.len() - 1]);
        let Some(mut rest) = text.strip_prefix(first.as_str()) else {
            return false;
        };
        for middle in &parts[1..parts.len() - 1] {
            match rest.find(middle.as_str()) {
                Some(at) => rest = &rest[at + middle.len()..],
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last.as_str())
    }
}

/// Compiles one mapping file; every error, as `FILE:LINE: mapping "NAME": what`.
pub fn compile_file(path: &str, text: &str) -> Result<Vec<Mapping>, Vec<String>> {
    let file: MappingFile = toml::from_str(text).map_err(|error| {
        let line = error.span().map_or(1, |span| line_of(text, span.start));
        vec![format!("{path}:{line}: {}", error.message())]
    })?;
    let mut mappings = Vec::new();
    let mut errors = Vec::new();
    for config in file.mappings {
        match compile(&config, text) {
            Ok(mapping) => mappings.push(mapping),
            Err(found) => {
                errors.extend(found.into_iter().map(|(line, what)| {
                    format!("{path}:{line}: mapping {:?}: {what}", config.name)
                }))
            }
        }
    }
    if errors.is_empty() {
        Ok(mappings)
    } else {
        Err(errors)
    }
}

fn compile(config: &MappingConfig, text: &str) -> Result<Mapping, Vec<(usize, String)>> {
    let mut errors = Vec::new();
    // The line of the mapping itself, for errors without a span of their own.
    let line = config
        .dissect
        .as_ref()
        .or(config.regex.as_ref())
        .map_or(1, |pattern| line_of(text, pattern.span().start));
    let pattern = match (&config.dissect, &config.regex) {
        (Some(_), Some(regex)) => {
            errors.push((
                line_of(text, regex.span().start),
                "give a dissect or a regex pattern, not both".into(),
            ));
            None
        }
        (Some(dissect), None) => match Dissect::compile(dissect.get_ref()) {
            Ok(dissect) => Some(Pattern::Dissect(dissect)),
            Err(error) => {
                errors.push((line_of(text, dissect.span().start), error));
                None
            }
        },
        (None, Some(regex)) => match Regex::new(regex.get_ref()) {
            Ok(compiled) => Some(Pattern::Regex(compiled)),
            Err(error) => {
                errors.push((line_of(text, regex.span().start), format!("regex: {error}")));
                None
            }
        },
        (None, None) => None,
    };
    let mut written: Vec<&str> = Vec::new();
    match &pattern {
        Some(Pattern::Dissect(dissect)) => written.extend(dissect.names()),
        Some(Pattern::Regex(regex)) => written.extend(regex.capture_names().flatten()),
        None => {}
    }
    written.extend(config.rename.values().map(String::as_str));
    written.extend(config.set.keys().map(String::as_str));
    written.extend(config.convert.keys().map(String::as_str));
    for name in written.iter().filter(|name| fields::is_reserved(name)) {
        errors.push((
            line,
            format!("{name:?} is set by Vigil and cannot be mapped"),
        ));
    }
    let mut convert = Vec::new();
    for (name, conversion) in &config.convert {
        match Conversion::parse(conversion.get_ref()) {
            Ok(parsed) => convert.push((name.clone(), parsed)),
            Err(error) => errors.push((line_of(text, conversion.span().start), error)),
        }
    }
    let has_pattern = config.dissect.is_some() || config.regex.is_some();
    if !has_pattern
        && !config.drop
        && config.rename.is_empty()
        && convert.is_empty()
        && config.set.is_empty()
        && config.timestamp.is_none()
    {
        errors.push((
            line,
            "does nothing: give a pattern, rename, convert, set or drop".into(),
        ));
    }
    if config.when.is_empty() && config.drop && !has_pattern {
        errors.push((
            line,
            "would drop every event: give `when` or a pattern".into(),
        ));
    }
    let when = config
        .when
        .iter()
        .map(|(name, condition)| {
            let values = condition.values();
            let networks: Option<Vec<IpNet>> = ADDRESS_FIELDS
                .contains(&name.as_str())
                .then(|| values.iter().map(|value| parse_network(value)).collect())
                .flatten();
            let matcher = match networks {
                Some(networks) => Matcher::Networks(networks),
                None => Matcher::Texts(values.iter().map(|value| Glob::new(value)).collect()),
            };
            (name.clone(), matcher)
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Mapping {
        name: config.name.clone(),
        when,
        field: config.field.clone(),
        pattern,
        rename: config
            .rename
            .iter()
            .map(|(from, to)| (from.clone(), to.clone()))
            .collect(),
        convert,
        set: config
            .set
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    ConstValue::Bool(flag) => Value::Bool(*flag),
                    ConstValue::Int(number) => Value::Int(*number),
                    ConstValue::Float(number) => Value::Float(*number),
                    ConstValue::Text(text) => Value::from(text.clone()),
                };
                (name.clone(), value)
            })
            .collect(),
        timestamp: config.timestamp.clone(),
        drop: config.drop,
    })
}

fn parse_network(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(message: &str, app: &str) -> Event {
        let mut event = Event::new(Timestamp::from_nanos(0), message.as_bytes().to_vec());
        event.message = message.into();
        event.process_name = Some(app.into());
        event.source = Some("10.1.2.3:514".parse().unwrap());
        event
    }

    const ACME: &str = r#"
[[mapping]]
name = "acme login"
when = { "process.name" = "acme*", "source.ip" = "10.0.0.0/8" }
dissect = "login %{user.name} from %{client.ip} at %{ts} port %{client.port}"
convert = { "client.port" = "integer", "ts" = "timestamp:%Y-%m-%d %H:%M:%S" }
set = { "event.category" = "authentication", "event.severity" = 2 }
timestamp = "ts"

[[mapping]]
name = "noise"
when = { "process.name" = "CRON" }
drop = true
"#;

    #[test]
    fn a_dissect_mapping_fills_converts_and_sets() {
        let mappings = compile_file("acme.toml", ACME).unwrap();
        let mut event = event(
            "login bob from 192.0.2.9 at 2024-03-01 10:00:00 port 2222",
            "acme-auth",
        );
        assert_eq!(
            mappings[0].apply(&mut event),
            Applied::Mapped {
                conversion_errors: 0
            }
        );
        assert_eq!(event.fields["user.name"], Value::from("bob"));
        assert_eq!(event.fields["client.port"], Value::Int(2222));
        assert_eq!(event.fields["event.severity"], Value::Int(2));
        assert_eq!(event.timestamp.to_string(), "2024-03-01T10:00:00Z");
        assert_eq!(mappings[1].apply(&mut event), Applied::Skipped);
    }

    #[test]
    fn conditions_and_patterns_that_do_not_hold_skip() {
        let mappings = compile_file("acme.toml", ACME).unwrap();
        let mut other_app = event(
            "login bob from 192.0.2.9 at 2024-03-01 10:00:00 port 1",
            "nginx",
        );
        assert_eq!(mappings[0].apply(&mut other_app), Applied::Skipped);
        let mut outside = event(
            "login bob from 192.0.2.9 at 2024-03-01 10:00:00 port 1",
            "acme",
        );
        outside.source = Some("192.168.0.1:514".parse().unwrap());
        assert_eq!(mappings[0].apply(&mut outside), Applied::Skipped);
        let mut no_fit = event("logout bob", "acme");
        assert_eq!(mappings[0].apply(&mut no_fit), Applied::Skipped);
        assert!(no_fit.fields.is_empty());
        assert_eq!(mappings[1].apply(&mut event("x", "CRON")), Applied::Drop);
    }

    #[test]
    fn a_regex_mapping_takes_named_captures_and_renames() {
        let text = r#"
[[mapping]]
name = "r"
regex = 'user=(?P<kv.usr>\w+) ip=(?P<source.ip>[0-9.]+)'
rename = { "kv.usr" = "user.name" }
convert = { "source.port" = "integer" }
"#;
        let mappings = compile_file("r.toml", text).unwrap();
        let mut event = event("x user=carol ip=203.0.113.5 y", "app");
        mappings[0].apply(&mut event);
        assert_eq!(event.fields["user.name"], Value::from("carol"));
        assert!(!event.fields.contains_key("kv.usr"));
        assert_eq!(event.source.unwrap().ip().to_string(), "203.0.113.5");
    }

    #[test]
    fn a_conversion_that_fails_keeps_the_text_and_is_counted() {
        let text =
            "[[mapping]]\nname = \"c\"\ndissect = \"n=%{n}\"\nconvert = { n = \"integer\" }\n";
        let mappings = compile_file("c.toml", text).unwrap();
        let mut event = event("n=abc", "app");
        assert_eq!(
            mappings[0].apply(&mut event),
            Applied::Mapped {
                conversion_errors: 1
            }
        );
        assert_eq!(event.fields["n"], Value::from("abc"));
    }

    #[test]
    fn every_error_names_its_file_line_and_mapping() {
        let text = "[[mapping]]\nname = \"a\"\nregex = '(?P<x>'\n\n[[mapping]]\nname = \"b\"\ndissect = \"%{a}%{b}\"\n\n[[mapping]]\nname = \"c\"\ndissect = \"%{vigil.tenant} x\"\nconvert = { y = \"money\" }\n";
        let errors = compile_file("bad.toml", text).unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(
            errors[0].starts_with("bad.toml:3: mapping \"a\": regex:"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].starts_with("bad.toml:7: mapping \"b\": dissect:"),
            "{}",
            errors[1]
        );
        assert!(errors
            .iter()
            .any(|e| e.contains("\"vigil.tenant\" is set by Vigil")));
        assert!(errors
            .iter()
            .any(|e| e.starts_with("bad.toml:12:") && e.contains("money")));
        let syntax = compile_file("s.toml", "[[mapping]]\nname = 1\n").unwrap_err();
        assert!(syntax[0].starts_with("s.toml:2:"), "{}", syntax[0]);
    }

    #[test]
    fn globs_match_prefixes_suffixes_and_middles() {
        assert!(Glob::new("acme*").matches("acme-auth"));
        assert!(Glob::new("*-auth").matches("acme-auth"));
        assert!(Glob::new("a*c*e").matches("abcde"));
        assert!(!Glob::new("a*c*e").matches("abcd"));
        assert!(!Glob::new("ab*ba").matches("aba"));
        assert!(Glob::new("exact").matches("exact"));
        assert!(!Glob::new("exact").matches("exactly"));
    }
}
