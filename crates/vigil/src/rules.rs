//! `vigil rules lint|test|backtest`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use vigil_event::{Alert, Event, Timestamp};
use vigil_rules::{testing, Correlator, Library, Options, RuleSet};
use vigil_store::archive::{ArchivePosition, BatchCursor};
use vigil_store::list_partitions;
use vigil_store::search::parse_time_bound;

use crate::cli::{BacktestArgs, RulesArgs, RulesTestArgs};
use crate::data_dir::load_config;

/// The correlation settings from the config.
pub fn options(config: &vigil_config::ServerConfig) -> Options {
    Options {
        tolerance: i64::try_from(config.rules.tolerance.0.as_nanos()).unwrap_or(i64::MAX),
        max_keys_per_rule: config.rules.max_keys_per_rule,
    }
}

fn rules_dir(args: &RulesArgs) -> anyhow::Result<(vigil_config::ServerConfig, PathBuf)> {
    let config = load_config(&args.location)?;
    let dir = args
        .rules
        .clone()
        .unwrap_or_else(|| config.rules.dir.clone());
    Ok((config, dir))
}

/// Loads the folder; the rule set, or every error printed and exit 1.
fn load(dir: &std::path::Path) -> Result<Arc<RuleSet>, ExitCode> {
    if !dir.is_dir() {
        eprintln!("vigil rules: no folder {}", dir.display());
        return Err(ExitCode::from(1));
    }
    let library = Library::open(dir);
    let errors = library.errors();
    for error in &errors {
        eprintln!("{error}");
    }
    match library.rule_set() {
        Ok(_) if !errors.is_empty() => Err(ExitCode::from(1)),
        Ok(set) => Ok(Arc::new(set)),
        Err(error) => {
            eprintln!("vigil rules: {error}");
            Err(ExitCode::from(1))
        }
    }
}

pub fn lint(args: RulesArgs) -> anyhow::Result<ExitCode> {
    let (_, dir) = rules_dir(&args)?;
    let set = match load(&dir) {
        Ok(set) => set,
        Err(code) => return Ok(code),
    };
    let files: std::collections::BTreeSet<&str> =
        set.rules.iter().map(|rule| rule.file.as_str()).collect();
    println!(
        "{} rules in {} files: no errors",
        set.rules.len(),
        files.len()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn test(args: RulesTestArgs) -> anyhow::Result<ExitCode> {
    let (_, dir) = rules_dir(&args.rules)?;
    let set = match load(&dir) {
        Ok(set) => set,
        Err(code) => return Ok(code),
    };
    let outcomes: Vec<testing::Outcome> = testing::run_all(&set)
        .into_iter()
        .filter(|outcome| {
            args.only
                .as_deref()
                .is_none_or(|prefix| outcome.rule.starts_with(prefix))
        })
        .collect();
    let untested: Vec<&str> = set
        .rules
        .iter()
        .filter(|rule| rule.tests.is_empty())
        .map(|rule| rule.id.as_str())
        .collect();
    let width = outcomes
        .iter()
        .map(|outcome| outcome.rule.len())
        .max()
        .unwrap_or(4);
    println!("{:<6} {:<width$}  test", "result", "rule");
    for outcome in &outcomes {
        if outcome.passed && !args.verbose {
            continue;
        }
        let mark = if outcome.passed { "pass" } else { "FAIL" };
        println!("{mark:<6} {:<width$}  {}", outcome.rule, outcome.test);
        if !outcome.passed || args.verbose {
            println!(
                "{:<6} {:<width$}    {} ({})",
                "", "", outcome.detail, outcome.file
            );
        }
    }
    let failed = outcomes.iter().filter(|outcome| !outcome.passed).count();
    println!(
        "{} tests of {} rules: {} passed, {failed} failed",
        outcomes.len(),
        set.rules.len(),
        outcomes.len() - failed
    );
    if !untested.is_empty() {
        println!("rules without tests: {}", untested.join(", "));
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn backtest(args: BacktestArgs) -> anyhow::Result<ExitCode> {
    let (config, dir) = rules_dir(&args.rules)?;
    let set = match load(&dir) {
        Ok(set) => set,
        Err(code) => return Ok(code),
    };
    let now = Timestamp::now();
    let from = parse_time_bound(&args.from, now).context("--from")?;
    let to = match &args.to {
        Some(text) => parse_time_bound(text, now).context("--to")?,
        None => now,
    };
    let mut correlator = Correlator::new(set, options(&config));
    let mut alerts: Vec<Alert> = Vec::new();
    let mut events = 0u64;
    let partitions = list_partitions(&config.data_dir)?;
    let mut days: Vec<chrono::NaiveDate> = partitions.iter().map(|key| key.day).collect();
    days.sort_unstable();
    days.dedup();
    // A day at a time, every level of it together, in event-time order.
    for day in days
        .into_iter()
        .filter(|day| *day >= from.utc_day() && *day <= to.utc_day())
    {
        let mut batch: Vec<Event> = Vec::new();
        for key in partitions.iter().filter(|key| key.day == day) {
            let start = ArchivePosition {
                segment: 0,
                offset: 0,
            };
            let mut cursor = BatchCursor::new(&key.archive_dir(&config.data_dir), start)?;
            while let Some((_, _, read)) = cursor.next()? {
                batch.extend(read.events.into_iter().filter(|event| {
                    event.timestamp >= from && event.timestamp < to && !Alert::is_alert_event(event)
                }));
            }
        }
        batch.sort_by_key(|event| event.timestamp);
        for event in &batch {
            alerts.extend(correlator.process(event, event.timestamp));
        }
        events += batch.len() as u64;
    }
    alerts.extend(correlator.tick(to));
    alerts.retain(|alert| {
        args.only
            .as_deref()
            .is_none_or(|prefix| alert.rule_id.starts_with(prefix))
    });
    if args.json {
        for alert in &alerts {
            println!("{}", alert.to_json());
        }
    } else {
        for alert in &alerts {
            println!(
                "{}  {:<8} {:<36} {}",
                alert.last_seen, alert.severity, alert.rule_id, alert.summary
            );
        }
    }
    let mut per_rule: std::collections::BTreeMap<&str, usize> = Default::default();
    for alert in &alerts {
        *per_rule.entry(alert.rule_id.as_str()).or_default() += 1;
    }
    eprintln!(
        "replayed {events} events from {from} to {to}: {} alerts would have fired",
        alerts.len()
    );
    for (rule, count) in per_rule {
        eprintln!("  {count:>6}  {rule}");
    }
    Ok(ExitCode::SUCCESS)
}
