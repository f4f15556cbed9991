//! The shipped SSH rules on real lines: `vigil import` of loghub's `OpenSSH_2k.log` through
//! the rule pack, and the brute-force and password-spraying alerts compared with what the
//! ground truth (`OpenSSH_2k.log_structured.csv`) implies with the rules' own thresholds,
//! computed here from the CSV: the same source addresses, no more, no fewer.
//!
//! Opt-in: `cargo test -p vigil --test rules_corpus -- --ignored --nocapture`. The corpus is
//! found through `VIGIL_CORPUS`, else `../shared/corpus` beside the project.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use vigil_rules::rule::Kind;

const BRUTE_FORCE: &str = "auth.ssh_bruteforce";
const SPRAYING: &str = "auth.ssh_password_spraying";

/// One failed login from the ground truth: seconds since the first of the month, address, user.
struct Failure {
    at: i64,
    address: String,
    user: String,
}

/// The failed logins the CSV's templates name: `Failed <method> for [invalid user ]USER from
/// ADDRESS port N`, also inside rsyslog's `message repeated N times: [ … ]`.
fn failures(csv: &Path) -> Vec<Failure> {
    let mut reader = csv::Reader::from_path(csv).unwrap();
    let mut found = Vec::new();
    for row in reader.deserialize::<BTreeMap<String, String>>() {
        let row = row.unwrap();
        let content = row["Content"].as_str();
        let content = match content.strip_prefix("message repeated ") {
            Some(rest) => rest
                .split_once("times: [ ")
                .map_or(content, |(_, inner)| inner.trim_end_matches(']')),
            None => content,
        };
        let Some(rest) = content.strip_prefix("Failed ") else {
            continue;
        };
        let Some((_, rest)) = rest.split_once(" for ") else {
            continue;
        };
        let rest = rest.strip_prefix("invalid user ").unwrap_or(rest);
        let Some((user, rest)) = rest.split_once(" from ") else {
            continue;
        };
        let Some((address, _)) = rest.split_once(" port ") else {
            continue;
        };
        let clock: Vec<i64> = row["Time"]
            .split(':')
            .map(|part| part.parse().unwrap())
            .collect();
        let day: i64 = row["Day"].parse().unwrap();
        found.push(Failure {
            at: day * 86_400 + clock[0] * 3_600 + clock[1] * 60 + clock[2],
            address: address.to_owned(),
            user: user.to_owned(),
        });
    }
    found
}

/// Addresses with at least `count` failures within `within` seconds (inclusive).
fn brute_forcers(failures: &[Failure], count: usize, within: i64) -> BTreeSet<String> {
    let mut by_address: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for failure in failures {
        by_address
            .entry(&failure.address)
            .or_default()
            .push(failure.at);
    }
    by_address
        .into_iter()
        .filter(|(_, times)| {
            times
                .windows(count)
                .any(|run| run[count - 1] - run[0] <= within)
        })
        .map(|(address, _)| address.to_owned())
        .collect()
}

/// Addresses that tried at least `count` different users within `within` seconds.
fn sprayers(failures: &[Failure], count: usize, within: i64) -> BTreeSet<String> {
    let mut by_address: BTreeMap<&str, Vec<(i64, &str)>> = BTreeMap::new();
    for failure in failures {
        by_address
            .entry(&failure.address)
            .or_default()
            .push((failure.at, &failure.user));
    }
    by_address
        .into_iter()
        .filter(|(_, tries)| {
            tries.iter().any(|(at, _)| {
                let users: BTreeSet<&str> = tries
                    .iter()
                    .filter(|(other, _)| *other <= *at && *at - *other <= within)
                    .map(|(_, user)| *user)
                    .collect();
                users.len() >= count
            })
        })
        .map(|(address, _)| address.to_owned())
        .collect()
}

#[test]
#[ignore = "needs the shared corpus: cargo test -p vigil --test rules_corpus -- --ignored"]
fn ssh_rules_fire_for_exactly_the_addresses_the_ground_truth_implies() {
    let rules_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let library = vigil_rules::Library::open(&rules_dir);
    let set = library.rule_set().unwrap();
    let rule = |id: &str| {
        set.rules
            .iter()
            .find(|rule| rule.id == id)
            .unwrap_or_else(|| panic!("no rule {id}"))
            .clone()
    };
    let seconds = |nanos: i64| nanos / 1_000_000_000;
    let (brute_count, brute_within) = match &rule(BRUTE_FORCE).kind {
        Kind::Threshold { count, within } => (*count, seconds(*within)),
        _ => panic!("{BRUTE_FORCE} is not a threshold rule"),
    };
    let (spray_count, spray_within) = match &rule(SPRAYING).kind {
        Kind::Distinct { count, within, .. } => (*count, seconds(*within)),
        _ => panic!("{SPRAYING} is not a distinct-count rule"),
    };

    let dir = common::corpus_logs().join("OpenSSH");
    let failures = failures(&dir.join("OpenSSH_2k.log_structured.csv"));
    assert!(failures.len() > 500, "{} failures", failures.len());
    let expected_brute = brute_forcers(&failures, brute_count, brute_within);
    let expected_spray = sprayers(&failures, spray_count, spray_within);

    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("vigil.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\n[rules]\ndir = \"{}\"\n",
            root.path().join("data").display(),
            rules_dir.display()
        ),
    )
    .unwrap();
    let (code, _, stderr) = common::vigil(&[
        "import",
        "--quiet",
        "--config",
        config.to_str().unwrap(),
        dir.join("OpenSSH_2k.log").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "vigil import failed: {stderr}");
    eprintln!("{stderr}");
    let log = std::fs::read_to_string(root.path().join("data/alerts.jsonl")).unwrap();
    let mut fired: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in log.lines() {
        let alert: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(address) = alert["key_fields"]["source.ip"].as_str() {
            fired
                .entry(alert["rule_id"].as_str().unwrap().to_owned())
                .or_default()
                .insert(address.to_owned());
        }
    }
    let brute = fired.remove(BRUTE_FORCE).unwrap_or_default();
    let spray = fired.remove(SPRAYING).unwrap_or_default();
    eprintln!(
        "OpenSSH_2k: {} failed logins; brute force ({brute_count} in {brute_within} s) from {} \
         addresses, expected {}; spraying ({spray_count} users in {spray_within} s) from {}, \
         expected {}",
        failures.len(),
        brute.len(),
        expected_brute.len(),
        spray.len(),
        expected_spray.len()
    );
    assert!(!expected_brute.is_empty() && !expected_spray.is_empty());
    assert_eq!(brute, expected_brute, "brute force: fired vs expected");
    assert_eq!(
        spray, expected_spray,
        "password spraying: fired vs expected"
    );
}
