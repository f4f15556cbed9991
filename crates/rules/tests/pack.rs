//! The rule pack in `rules/` at the workspace root: every file loads, there are at least 30
//! rules, every rule has a positive and a negative test, and every test passes.

use std::path::Path;
use std::sync::Arc;

use vigil_rules::rule::Expect;
use vigil_rules::{testing, Library};

#[test]
fn every_rule_in_the_pack_passes_its_tests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let library = Library::open(&dir);
    assert!(
        library.errors().is_empty(),
        "{}",
        library.errors().join("\n")
    );
    let set = Arc::new(library.rule_set().unwrap());
    for rule in &set.rules {
        let positive = rule.tests.iter().any(|test| match &test.expect {
            Expect::Count(count) => *count > 0,
            Expect::Alerts(alerts) => !alerts.is_empty(),
        });
        let negative = rule.tests.iter().any(|test| match &test.expect {
            Expect::Count(count) => *count == 0,
            Expect::Alerts(alerts) => alerts.is_empty(),
        });
        assert!(
            positive && negative,
            "{} ({}) needs a positive and a negative test",
            rule.id,
            rule.file
        );
        assert!(
            !rule.description.is_empty(),
            "{} has no description",
            rule.id
        );
    }
    let outcomes = testing::run_all(&set);
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|outcome| !outcome.passed)
        .map(|outcome| {
            format!(
                "{} / {} ({}): {}",
                outcome.rule, outcome.test, outcome.file, outcome.detail
            )
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} tests failed:\n{}",
        failed.len(),
        outcomes.len(),
        failed.join("\n")
    );
    assert!(set.rules.len() >= 30, "only {} rules", set.rules.len());
}
