//! Subcommands that read the data directory directly: `search`, `verify`, `retention plan`.
//! They work whether or not `vigil serve` runs (they only read).

use std::process::ExitCode;
use std::sync::Arc;

use vigil_config::RetentionMinimums;
use vigil_event::Timestamp;
use vigil_store::archive::verify_partition;
use vigil_store::index::IndexCatalog;
use vigil_store::list_partitions;
use vigil_store::retention::plan_deletions;
use vigil_store::search::{parse_time_bound, SearchRequest, Searcher};

use crate::cli::{RetentionPlanArgs, SearchArgs, VerifyArgs};
use crate::data_dir::load_config;

pub fn search(args: SearchArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args.location)?;
    let now = Timestamp::now();
    let request = SearchRequest {
        query: args.query,
        from: Some(parse_time_bound(&args.from, now)?),
        to: args
            .to
            .as_deref()
            .map(|text| parse_time_bound(text, now))
            .transpose()?,
        limit: args.limit,
    };
    let searcher = Searcher::new(Arc::new(IndexCatalog::open(&config.data_dir)?));
    let result = searcher.search(&request)?;
    if args.json {
        for event in &result.events {
            println!("{}", event.to_json());
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<30} {:<20} {:<16} {:<8} MESSAGE",
        "@TIMESTAMP", "HOST", "APP", "SEVERITY"
    );
    for event in &result.events {
        let mut message: String = event.message.chars().take(120).collect();
        message = message.replace(['\n', '\r'], " ");
        println!(
            "{:<30} {:<20} {:<16} {:<8} {}",
            event.timestamp.to_string(),
            event.host_name.as_deref().unwrap_or("-"),
            event.process_name.as_deref().unwrap_or("-"),
            event.severity_name().unwrap_or("-"),
            message
        );
    }
    println!(
        "{} of {} matching events",
        result.events.len(),
        result.total
    );
    Ok(ExitCode::SUCCESS)
}

pub fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args.location)?;
    let partitions: Vec<_> = list_partitions(&config.data_dir)?
        .into_iter()
        .filter(|key| {
            args.from.is_none_or(|from| key.day >= from) && args.to.is_none_or(|to| key.day <= to)
        })
        .collect();
    let (mut batches, mut events) = (0u64, 0u64);
    for key in &partitions {
        let report = verify_partition(&config.data_dir, key)?;
        batches += report.batches;
        events += report.events;
        if let Some(broken) = report.first_break {
            println!(
                "BROKEN {key}: segment {} at byte {}, events {}..{} of the partition: {}",
                broken.segment.display(),
                broken.offset,
                broken.first_seq,
                broken.end_seq,
                broken.reason
            );
            println!(
                "verified {} good batches ({} events) before the break",
                report.batches, report.events
            );
            return Ok(ExitCode::from(1));
        }
        println!(
            "ok {key}: {} segments, {} batches, {} events, {} bytes",
            report.segments, report.batches, report.events, report.bytes
        );
    }
    println!(
        "archive intact: {} partitions, {batches} batches, {events} events",
        partitions.len()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn retention_plan(args: RetentionPlanArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args.location)?;
    let policy = config.retention.policy(&RetentionMinimums::shipped());
    let today = args.today.unwrap_or_else(|| Timestamp::now().utc_day());
    let partitions = list_partitions(&config.data_dir)?;
    let deletions = plan_deletions(&partitions, &policy, today);
    for level in vigil_event::SecurityLevel::all() {
        println!("level {level}: keep {} days", policy.days(level));
    }
    if deletions.is_empty() {
        println!(
            "nothing to delete as of {today}: {} partitions, all within their period",
            partitions.len()
        );
    }
    for deletion in &deletions {
        println!("delete {}: {}", deletion.partition, deletion.reason);
    }
    Ok(ExitCode::SUCCESS)
}
