//! Correlation: events per second through 100 rules on one core — a realistic mix of 80
//! select-only rules (equality, lists, substrings, regular expressions, CIDR, numbers), 15
//! threshold and distinct-count rules and 5 sequences — then the same 100 rules each with a
//! rhai `where`, and, as the baseline the index is measured against, every rule's conditions
//! checked on every event (what a loop over all rules would cost).
//!
//! `cargo bench -p vigil-benches --bench rules`
//!
//! The events are the loghub samples (Linux, OpenSSH, Apache: 6,000 real lines) decoded and
//! normalised as `vigil serve` would, when the shared corpus is there (`VIGIL_CORPUS`, else
//! `../shared/corpus`); else the per-family sample lines.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigil_codec::syslog::{decode_syslog, DecodeContext};
use vigil_event::{Event, Timestamp};
use vigil_normalize::Normalizer;
use vigil_rules::load::compile_file;
use vigil_rules::script::{self, Lists};
use vigil_rules::view::View;
use vigil_rules::{Correlator, Options, RuleSet};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const START: i64 = 1_764_196_561_000_000_000;

fn events() -> Vec<Event> {
    let context = DecodeContext::utc(Timestamp::from_nanos(START));
    let corpus = std::env::var_os("VIGIL_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus").into());
    let mut lines: Vec<String> = Vec::new();
    for name in ["Linux", "OpenSSH", "Apache"] {
        let path = corpus
            .join("logs")
            .join(name)
            .join(format!("{name}_2k.log"));
        if let Ok(text) = std::fs::read_to_string(path) {
            lines.extend(text.lines().map(str::to_owned));
        }
    }
    if lines.is_empty() {
        eprintln!("rules: no corpus; the per-family sample lines instead");
        lines = vigil_benches::SAMPLE_LINES
            .iter()
            .map(|(_, app, message)| {
                format!("<134>1 2024-05-10T11:37:47Z host {app} 1 - - {message}")
            })
            .collect();
    }
    let mut events: Vec<Event> = lines
        .iter()
        .map(|line| {
            let mut event = decode_syslog(line.as_bytes(), &context);
            event.source = Some("10.0.0.1:514".parse().expect("address"));
            event
        })
        .collect();
    Normalizer::decoders_only(&Default::default()).apply_batch(&mut events);
    // One event per millisecond, in order: live traffic as the windows see it.
    for (at, event) in events.iter_mut().enumerate() {
        event.timestamp = Timestamp::from_nanos(START + at as i64 * 1_000_000);
        event.flags = Default::default();
    }
    events
}

const APPS: [&str; 30] = [
    "sshd",
    "sudo",
    "su",
    "kernel",
    "CRON",
    "cron",
    "systemd",
    "useradd",
    "usermod",
    "passwd",
    "named",
    "dhcpd",
    "postfix/smtpd",
    "dovecot",
    "vsftpd",
    "httpd",
    "nginx",
    "squid",
    "mysqld",
    "postgres",
    "ftpd",
    "xinetd",
    "gdm",
    "rpc.statd",
    "snmpd",
    "ntpd",
    "logrotate",
    "auditd",
    "app-17",
    "app-23",
];
const ACTIONS: [&str; 15] = [
    "ssh-login",
    "ssh-invalid-user",
    "ssh-disconnect",
    "sudo-command",
    "user-created",
    "user-added-to-group",
    "password-changed",
    "session-opened",
    "session-closed",
    "access",
    "query",
    "dhcp-ack",
    "blocked",
    "login",
    "config-change",
];
const SUBSTRINGS: [&str; 10] = [
    "Accepted password for root",
    "kernel panic",
    "segfault",
    "UNION SELECT",
    "../..",
    "<script",
    "Out of memory",
    "Illegal user",
    "POSSIBLE BREAK-IN",
    "Permission denied (publickey)",
];
const PATTERNS: [&str; 5] = [
    r"session opened for user root by \(uid=0\)",
    r"(?i)nmap|nikto|sqlmap",
    r"port \d{5} ssh2: RSA",
    r"UID=0\b",
    r"\bcore dumped\b",
];
/// Documentation and reserved networks, and one that probes the loghub OpenSSH server.
const BAD_NETWORKS: [&str; 10] = [
    "192.0.2.0/24",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "100.64.0.0/24",
    "233.252.0.0/24",
    "198.18.0.0/24",
    "240.0.0.0/24",
    "192.88.99.0/24",
    "5.188.10.0/24",
    "10.255.255.0/24",
];

/// 80 select-only, 15 threshold/distinct, 5 sequence rules; each with a `where` when asked.
fn rule_source(with_where: bool) -> String {
    let filter = if with_where {
        r#"where: |e| e["message"] != "","#
    } else {
        ""
    };
    let mut rules = Vec::new();
    let mut push = |body: String| {
        rules.push(format!(
            "#{{ id: \"bench.{}\", title: \"t\", severity: \"low\", {filter} {body} }}",
            rules.len()
        ))
    };
    // A privileged account succeeding through each service.
    for app in APPS {
        push(format!(
            r#"select: #{{ "process.name": "{app}", "event.outcome": "success",
                          "user.name": ["root", "admin", "administrator", "oracle"] }}"#
        ));
    }
    // Each action from a listed bad network.
    for (action, network) in ACTIONS.iter().zip(BAD_NETWORKS.iter().cycle()) {
        push(format!(
            r#"select: #{{ "event.action": "{action}", "source.ip": #{{ cidr: "{network}" }} }}"#
        ));
    }
    for (at, text) in SUBSTRINGS.iter().enumerate() {
        let operator = if at % 2 == 0 { "contains" } else { "icontains" };
        push(format!(
            r#"select: #{{ "message": #{{ {operator}: "{text}" }} }}"#
        ));
    }
    for pattern in PATTERNS {
        push(format!(
            r#"select: #{{ "message": #{{ regex: {pattern:?} }} }}"#
        ));
    }
    for port in [22, 23, 25, 80, 443, 445, 1433, 3306, 3389, 5900] {
        push(format!(
            r#"select: #{{ "event.category": "network", "destination.port": #{{ gte: {port}, lt: {} }} }}"#,
            port + 1
        ));
    }
    for network in BAD_NETWORKS {
        push(format!(
            r#"select: #{{ "event.category": "authentication", "source.ip": #{{ cidr: "{network}" }} }}"#
        ));
    }
    for (at, app) in APPS.iter().take(8).enumerate() {
        push(format!(
            r#"select: #{{ "process.name": "{app}", "event.outcome": "failure" }},
               threshold: #{{ count: {}, within: "2m", by: ["source.ip"] }}"#,
            20 + at
        ));
    }
    // Shaped like the shipped pack's: a narrow select, then the count.
    for (select, field, by) in [
        (
            r#""process.name": "sshd", "event.outcome": "failure""#,
            "user.name",
            "source.ip",
        ),
        (
            r#""process.name": "sshd", "event.outcome": "failure""#,
            "source.ip",
            "user.name",
        ),
        (
            r#""event.type": "denied", "observer.vendor": #{ exists: true }"#,
            "destination.port",
            "source.ip",
        ),
        (
            r#""event.type": "denied", "observer.vendor": #{ exists: true }"#,
            "destination.ip",
            "source.ip",
        ),
        (
            r#""http.response.status_code": [404, 403]"#,
            "url.original",
            "source.ip",
        ),
        (
            r#""process.name": "su", "event.outcome": "failure""#,
            "user.name",
            "host.name",
        ),
        (
            r#""process.name": "named", "event.action": "query""#,
            "dns.question.name",
            "source.ip",
        ),
    ] {
        push(format!(
            r#"select: #{{ {select} }},
               distinct: #{{ field: "{field}", count: 20, within: "10m", by: ["{by}"] }}"#
        ));
    }
    for (first, second, by) in [
        (
            r#""process.name": "sshd", "event.outcome": "failure""#,
            r#""process.name": "sshd", "event.outcome": "success""#,
            "source.ip",
        ),
        (
            r#""event.action": "ssh-invalid-user""#,
            r#""event.action": "ssh-login", "event.outcome": "success""#,
            "source.ip",
        ),
        (
            r#""event.action": "user-created""#,
            r#""event.action": "user-added-to-group""#,
            "user.name",
        ),
        (
            r#""event.action": "sudo-command""#,
            r#""event.action": "user-created""#,
            "host.name",
        ),
        (
            r#""event.type": "denied""#,
            r#""event.type": "allowed""#,
            "source.ip",
        ),
    ] {
        push(format!(
            r#"sequence: #{{ within: "10m", by: ["{by}"], steps: [
                #{{ select: #{{ {first} }} }},
                #{{ select: #{{ {second} }} }},
            ] }}"#
        ));
    }
    assert_eq!(rules.len(), 100);
    format!("[{}]", rules.join(",\n"))
}

fn rule_set(with_where: bool) -> Arc<RuleSet> {
    let engine = Arc::new(script::engine(Arc::new(Lists::new())));
    let rules = compile_file(&engine, "bench.rhai", &rule_source(with_where), 1)
        .unwrap_or_else(|error| panic!("{error}"));
    Arc::new(RuleSet::new(rules.into_iter().map(Arc::new).collect(), engine).expect("index"))
}

/// Runs every event once per iteration, the clock moving on each time so windows keep sliding.
fn run(correlator: &mut Correlator, events: &mut [Event], span: i64) -> Vec<vigil_event::Alert> {
    let mut alerts = Vec::new();
    for event in events.iter_mut() {
        event.timestamp = Timestamp::from_nanos(event.timestamp.as_nanos() + span);
        alerts.extend(correlator.process(black_box(event), event.timestamp));
    }
    alerts
}

fn correlate(c: &mut Criterion) {
    let mut events = events();
    let span = events.len() as i64 * 1_000_000;
    let mut group = c.benchmark_group("rules/100");
    group.throughput(Throughput::Elements(events.len() as u64));
    for (name, with_where) in [("select_mix", false), ("where_in_every_rule", true)] {
        let mut correlator = Correlator::new(rule_set(with_where), Options::default());
        let raised = run(&mut correlator, &mut events, span);
        let alerts = raised.len();
        let mut per_rule = std::collections::BTreeMap::<&str, usize>::new();
        for alert in &raised {
            *per_rule.entry(alert.rule_id.as_str()).or_default() += 1;
        }
        if !with_where {
            eprintln!("alerts per rule: {per_rule:?}");
        }
        let stats = correlator.stats().clone();
        eprintln!(
            "rules/100/{name}: {} events → {alerts} alerts ({:.2} %), {:.2} candidate rules per event",
            events.len(),
            alerts as f64 * 100.0 / events.len() as f64,
            stats.candidates as f64 / stats.events as f64
        );
        group.bench_function(name, |b| b.iter(|| run(&mut correlator, &mut events, span)));
    }
    // The baseline: every select of every rule on every event, no index, no windows.
    let set = rule_set(false);
    group.bench_function("every_rule_every_event", |b| {
        b.iter(|| {
            let mut matched = 0usize;
            for event in &events {
                let mut view = View::new(black_box(event));
                for rule in &set.rules {
                    if rule
                        .select
                        .iter()
                        .all(|condition| condition.holds(&mut view))
                    {
                        matched += 1;
                    }
                }
            }
            matched
        })
    });
    group.finish();
}

criterion_group!(benches, correlate);
criterion_main!(benches);
