//! The loghub samples (Linux, OpenSSH, Apache; 2,000 real lines each, with per-line ground truth)
//! through `vigil import`: for each line, the parts its template marks variable (`<*>`) must
//! land in decoded fields. Goal ≥ 98% of lines per file; the misses are listed.
//!
//! Opt-in: `cargo test -p vigil --test normalize_corpus -- --ignored --nocapture`. The corpus
//! is found through `VIGIL_CORPUS`, else `../shared/corpus` beside the project.
//!
//! A variable has landed when some field other than the message itself (`message`,
//! `event.original`, `log.file.path`) holds it as a whole token: equal to the value, or inside
//! it bounded by non-alphanumeric characters (a time split by the template at its colons still
//! counts when its parts are in the field that keeps the time).

mod common;

use std::collections::BTreeMap;

use serde_json::Value;

const GOAL: f64 = 0.98;
const NOT_FIELDS: [&str; 4] = [
    "message",
    "event.original",
    "log.file.path",
    "vigil.original_base64",
];

/// The variable parts of `content` by `template` (`<*>` matches as little as it can, the last
/// one up to the template's tail); `None` when the content does not fit the template.
fn variables(template: &str, content: &str) -> Option<Vec<String>> {
    let literals: Vec<&str> = template.split("<*>").collect();
    let mut rest = content.strip_prefix(literals[0])?;
    let mut found = Vec::new();
    for (index, literal) in literals.iter().enumerate().skip(1) {
        let last = index == literals.len() - 1;
        let end = if last {
            if !rest.ends_with(literal) {
                return None;
            }
            rest.len() - literal.len()
        } else if literal.is_empty() {
            // Two variables side by side: the template cannot say where one ends; both are
            // taken as one.
            0
        } else {
            rest.find(literal)?
        };
        found.push(rest[..end].to_owned());
        rest = &rest[end + literal.len()..];
    }
    Some(found)
}

/// Whether `needle` is `haystack`, or inside it bounded by non-alphanumeric characters.
fn holds_token(haystack: &str, needle: &str) -> bool {
    let bytes = haystack.as_bytes();
    haystack.match_indices(needle).any(|(start, _)| {
        let end = start + needle.len();
        let before = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        let after = end == bytes.len() || !bytes[end].is_ascii_alphanumeric();
        before && after
    })
}

fn field_texts(event: &Value) -> Vec<String> {
    let mut texts = Vec::new();
    if let Value::Object(map) = event {
        for (key, value) in map {
            if NOT_FIELDS.contains(&key.as_str()) {
                continue;
            }
            collect(value, &mut texts);
        }
    }
    texts
}

fn collect(value: &Value, texts: &mut Vec<String>) {
    match value {
        Value::String(text) => texts.push(text.clone()),
        Value::Number(number) => texts.push(number.to_string()),
        Value::Array(items) => items.iter().for_each(|item| collect(item, texts)),
        Value::Object(map) => map.values().for_each(|item| collect(item, texts)),
        _ => {}
    }
}

struct Outcome {
    lines: usize,
    landed: usize,
    /// template → (lines missed, one example: the line and the variables that did not land)
    misses: BTreeMap<String, (usize, String)>,
}

fn check(name: &str) -> (Outcome, Vec<Value>, Vec<BTreeMap<String, String>>) {
    let dir = common::corpus_logs().join(name);
    let log = dir.join(format!("{name}_2k.log"));
    let data = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = common::vigil(&[
        "import",
        "--dry-run",
        "--print",
        "--quiet",
        "--data-dir",
        data.path().to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "vigil import failed: {stderr}");
    eprintln!("{name}: {stderr}");
    let events: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON event per line"))
        .collect();
    let mut reader =
        csv::Reader::from_path(dir.join(format!("{name}_2k.log_structured.csv"))).unwrap();
    let rows: Vec<BTreeMap<String, String>> =
        reader.deserialize().map(|row| row.unwrap()).collect();
    assert_eq!(events.len(), rows.len(), "one event per line of {name}");
    let mut outcome = Outcome {
        lines: rows.len(),
        landed: 0,
        misses: BTreeMap::new(),
    };
    for (row, event) in rows.iter().zip(&events) {
        let template = &row["EventTemplate"];
        let content = &row["Content"];
        let texts = field_texts(event);
        let missing: Vec<String> = match variables(template, content.trim()) {
            Some(found) => found
                .into_iter()
                .map(|variable| variable.trim().to_owned())
                .filter(|variable| !variable.is_empty())
                .filter(|variable| !texts.iter().any(|text| holds_token(text, variable)))
                .collect(),
            None => vec!["(the line does not fit its template)".to_owned()],
        };
        if missing.is_empty() {
            outcome.landed += 1;
        } else {
            let entry = outcome
                .misses
                .entry(template.clone())
                .or_insert_with(|| (0, format!("{content}  ⟶ not in fields: {missing:?}")));
            entry.0 += 1;
        }
    }
    (outcome, events, rows)
}

fn report(name: &str, outcome: &Outcome) -> f64 {
    let share = outcome.landed as f64 / outcome.lines as f64;
    eprintln!(
        "{name}: {} of {} lines have every variable part in a field ({:.2}%)",
        outcome.landed,
        outcome.lines,
        share * 100.0
    );
    for (template, (count, example)) in &outcome.misses {
        eprintln!("  miss ×{count}: {template}\n      e.g. {example}");
    }
    share
}

#[test]
#[ignore = "needs the shared corpus: cargo test -p vigil --test normalize_corpus -- --ignored"]
fn linux_openssh_and_apache_lines_land_in_fields() {
    let mut shares = Vec::new();
    for name in ["Linux", "OpenSSH", "Apache"] {
        let (outcome, events, rows) = check(name);
        shares.push((name, report(name, &outcome)));
        if name == "OpenSSH" {
            // Every failed/accepted password and invalid-user line says who, from where, and
            // how it ended.
            let mut checked = 0;
            for (row, event) in rows.iter().zip(&events) {
                let template = &row["EventTemplate"];
                let auth = template.starts_with("Failed password for")
                    || template.starts_with("Accepted password for")
                    || template.starts_with("Failed none for invalid user")
                    || template.starts_with("Invalid user");
                if !auth {
                    continue;
                }
                checked += 1;
                for field in ["user.name", "source.ip", "event.outcome"] {
                    assert!(
                        event.get(field).is_some_and(|value| !value.is_null()),
                        "{field} missing for: {}",
                        row["Content"]
                    );
                }
            }
            assert!(checked > 600, "the OpenSSH sample has {checked} such lines");
        }
    }
    for (name, share) in shares {
        assert!(
            share >= GOAL,
            "{name}: {:.2}% of lines, goal {:.0}%",
            share * 100.0,
            GOAL * 100.0
        );
    }
}

#[test]
fn templates_split_into_their_variables() {
    assert_eq!(
        variables(
            "Failed password for <*> from <*> port <*> ssh2",
            "Failed password for root from 1.2.3.4 port 22 ssh2"
        ),
        Some(vec!["root".into(), "1.2.3.4".into(), "22".into()])
    );
    assert_eq!(variables("a <*> b", "x"), None);
    assert!(holds_token("Sun Jul 17 15:09:17 2005", "09"));
    assert!(!holds_token("2009", "09"));
}
