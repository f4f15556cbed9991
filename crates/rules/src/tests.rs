//! Engine tests, one kind at a time, with the edges: windows exactly `within` long, events out
//! of order within and beyond the tolerance, eviction, suppression, sequence abort, absence on
//! silence, reload keeping state, exceptions, and hostile scripts.

use std::sync::Arc;

use vigil_event::{access, Alert, Event, EventFlags, Timestamp, Value};

use crate::engine::{Correlator, Options, RuleSet};
use crate::load::{compile_file, Library};
use crate::script::{self, Lists};

const SECOND: i64 = 1_000_000_000;
const BASE: i64 = 1_704_067_200 * SECOND;

fn set_of(source: &str) -> Arc<RuleSet> {
    let lists = Lists::from([("trusted".to_owned(), vec!["10.9.0.0/16".to_owned()])]);
    let engine = Arc::new(script::engine(Arc::new(lists)));
    let rules =
        compile_file(&engine, "test.rhai", source, 1).unwrap_or_else(|error| panic!("{error}"));
    Arc::new(RuleSet::new(rules.into_iter().map(Arc::new).collect(), engine).unwrap())
}

fn event(at_seconds: i64, pairs: &[(&str, &str)]) -> Event {
    let time = Timestamp::from_nanos(BASE + at_seconds * SECOND);
    let mut event = Event::new(time, Vec::new());
    event.timestamp = time;
    for (name, value) in pairs {
        access::set(&mut event, name, Value::from(*value));
    }
    event
}

fn failure(at: i64, ip: &str) -> Event {
    event(
        at,
        &[
            ("process.name", "sshd"),
            ("event.outcome", "failure"),
            ("source.ip", ip),
        ],
    )
}

/// Feeds events in order, the processing clock at each event's own time.
fn run(correlator: &mut Correlator, events: &[Event]) -> Vec<Alert> {
    let mut alerts = Vec::new();
    for event in events {
        alerts.extend(correlator.process(event, event.timestamp));
    }
    alerts
}

const THRESHOLD: &str = r#"#{
    id: "ssh.brute", title: "SSH brute force", severity: "high",
    select: #{ "process.name": "sshd", "event.outcome": "failure" },
    threshold: #{ count: 3, within: "60s", by: ["source.ip"] },
    summary: "{count} failures from {source.ip}",
}"#;

#[test]
fn threshold_counts_per_key_within_the_window() {
    let mut correlator = Correlator::new(set_of(THRESHOLD), Options::default());
    let alerts = run(
        &mut correlator,
        &[
            failure(0, "192.0.2.1"),
            failure(1, "192.0.2.2"),
            failure(2, "192.0.2.1"),
            failure(3, "192.0.2.1"),
        ],
    );
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].key, "source.ip=192.0.2.1");
    assert_eq!(alerts[0].summary, "3 failures from 192.0.2.1");
    assert_eq!(alerts[0].count, 3);
    assert_eq!(alerts[0].events.len(), 3);
    assert_eq!(alerts[0].first_seen, Timestamp::from_nanos(BASE));
    assert_eq!(
        alerts[0].last_seen,
        Timestamp::from_nanos(BASE + 3 * SECOND)
    );
    // The group starts over after firing.
    assert!(run(&mut correlator, &[failure(4, "192.0.2.1")]).is_empty());
}

#[test]
fn events_exactly_the_window_apart_are_inside_it() {
    let mut correlator = Correlator::new(set_of(THRESHOLD), Options::default());
    let inside = run(
        &mut correlator,
        &[
            failure(0, "192.0.2.1"),
            failure(30, "192.0.2.1"),
            failure(60, "192.0.2.1"),
        ],
    );
    assert_eq!(inside.len(), 1);
    let mut correlator = Correlator::new(set_of(THRESHOLD), Options::default());
    let mut last = failure(60, "192.0.2.1");
    last.timestamp = Timestamp::from_nanos(BASE + 60 * SECOND + 1);
    let outside = run(
        &mut correlator,
        &[failure(0, "192.0.2.1"), failure(30, "192.0.2.1"), last],
    );
    assert!(outside.is_empty());
}

#[test]
fn out_of_order_events_within_the_tolerance_count_at_their_own_time() {
    let mut correlator = Correlator::new(set_of(THRESHOLD), Options::default());
    // 100 and 102 arrive after 105; all three lie in one 60 s window.
    let alerts = run(
        &mut correlator,
        &[
            failure(105, "192.0.2.1"),
            failure(100, "192.0.2.1"),
            failure(102, "192.0.2.1"),
        ],
    );
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].first_seen,
        Timestamp::from_nanos(BASE + 100 * SECOND)
    );
    assert_eq!(correlator.stats().late, 0);
}

#[test]
fn events_later_than_the_tolerance_are_counted_and_taken_at_arrival() {
    let mut correlator = Correlator::new(set_of(THRESHOLD), Options::default());
    // 0 and 1 are 200 s late: counted late and evaluated at 200, so with 200 they fire.
    let alerts = run(
        &mut correlator,
        &[
            failure(200, "192.0.2.1"),
            failure(0, "192.0.2.1"),
            failure(1, "192.0.2.1"),
        ],
    );
    assert_eq!(correlator.stats().late, 2);
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].first_seen,
        Timestamp::from_nanos(BASE + 200 * SECOND)
    );
}

#[test]
fn imported_events_keep_their_own_clock() {
    let mut correlator = Correlator::new(set_of(THRESHOLD), Options::default());
    run(&mut correlator, &[failure(10_000, "192.0.2.9")]);
    let old: Vec<Event> = (0..3)
        .map(|at| {
            let mut event = failure(at, "192.0.2.1");
            event.flags.insert(EventFlags::IMPORTED);
            event
        })
        .collect();
    let alerts = run(&mut correlator, &old);
    assert_eq!(correlator.stats().late, 0);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].first_seen, Timestamp::from_nanos(BASE));
}

#[test]
fn a_full_rule_evicts_its_least_recent_keys_and_counts_them() {
    let options = Options {
        max_keys_per_rule: 2,
        ..Options::default()
    };
    let mut correlator = Correlator::new(set_of(THRESHOLD), options);
    run(
        &mut correlator,
        &[
            failure(0, "192.0.2.1"),
            failure(1, "192.0.2.1"),
            failure(2, "192.0.2.2"),
            failure(3, "192.0.2.3"),
        ],
    );
    assert_eq!(correlator.stats().evictions, 1);
    assert_eq!(correlator.keys("ssh.brute"), 2);
    // 192.0.2.1 was evicted: its two failures are gone, so one more does not fire.
    assert!(run(&mut correlator, &[failure(4, "192.0.2.1")]).is_empty());
}

#[test]
fn suppression_holds_back_a_repeat_for_the_period() {
    let source = THRESHOLD.replace("summary:", r#"suppress: "10m", summary:"#);
    let mut correlator = Correlator::new(set_of(&source), Options::default());
    let burst = |start: i64| (0..3).map(move |at| failure(start + at, "192.0.2.1"));
    let first: Vec<Event> = burst(0).chain(burst(10)).collect();
    assert_eq!(run(&mut correlator, &first).len(), 1);
    assert_eq!(correlator.stats().suppressed, 1);
    let later: Vec<Event> = burst(700).collect();
    assert_eq!(run(&mut correlator, &later).len(), 1);
}

#[test]
fn exceptions_skip_listed_values_and_networks() {
    let source = THRESHOLD.replace(
        "summary:",
        r#"except: #{ "source.ip": list("trusted"), "user.name": ["backup"] }, summary:"#,
    );
    let mut correlator = Correlator::new(set_of(&source), Options::default());
    let trusted: Vec<Event> = (0..3).map(|at| failure(at, "10.9.1.1")).collect();
    assert!(run(&mut correlator, &trusted).is_empty());
    let backup: Vec<Event> = (0..3)
        .map(|at| {
            let mut event = failure(at, "192.0.2.1");
            access::set(&mut event, "user.name", Value::from("backup"));
            event
        })
        .collect();
    assert!(run(&mut correlator, &backup).is_empty());
    let other: Vec<Event> = (0..3).map(|at| failure(at, "192.0.2.1")).collect();
    assert_eq!(run(&mut correlator, &other).len(), 1);
}

#[test]
fn distinct_counts_values_not_events() {
    let source = r#"#{
        id: "scan.ports", title: "Port scan", severity: "medium",
        select: #{ "event.category": "network" },
        distinct: #{ field: "destination.port", count: 3, within: "1m", by: ["source.ip"] },
    }"#;
    let mut correlator = Correlator::new(set_of(source), Options::default());
    let flow = |at: i64, port: &str| {
        event(
            at,
            &[
                ("event.category", "network"),
                ("source.ip", "192.0.2.5"),
                ("destination.port", port),
            ],
        )
    };
    let same = run(
        &mut correlator,
        &[flow(0, "22"), flow(1, "22"), flow(2, "22"), flow(3, "80")],
    );
    assert!(same.is_empty());
    let alerts = run(&mut correlator, &[flow(4, "443")]);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].count, 3);
    // A value older than the window no longer counts.
    let mut correlator = Correlator::new(set_of(source), Options::default());
    assert!(run(
        &mut correlator,
        &[flow(0, "1"), flow(61, "2"), flow(62, "3")]
    )
    .is_empty());
}

const SEQUENCE: &str = r#"[
    #{
        id: "ssh.brute", title: "SSH brute force", severity: "high",
        select: #{ "process.name": "sshd", "event.outcome": "failure" },
        threshold: #{ count: 3, within: "60s", by: ["source.ip"] },
    },
    #{
        id: "ssh.brute_then_success", title: "Brute force then success", severity: "critical",
        sequence: #{
            by: ["source.ip"], within: "5m",
            steps: [
                #{ rule: "ssh.brute" },
                #{ select: #{ "process.name": "sshd", "event.outcome": "success" } },
            ],
            abort: #{ select: #{ "event.action": "blocked" } },
        },
        summary: "{source.ip} got in after a brute force",
    },
]"#;

fn success(at: i64, ip: &str) -> Event {
    event(
        at,
        &[
            ("process.name", "sshd"),
            ("event.outcome", "success"),
            ("source.ip", ip),
        ],
    )
}

#[test]
fn a_sequence_fires_on_its_steps_in_order_and_within_its_window() {
    let brute = |start: i64| (0..3).map(move |at| failure(start + at, "192.0.2.1"));
    let mut correlator = Correlator::new(set_of(SEQUENCE), Options::default());
    let mut events: Vec<Event> = brute(0).collect();
    events.push(success(10, "192.0.2.1"));
    let alerts = run(&mut correlator, &events);
    let ids: Vec<&str> = alerts.iter().map(|alert| alert.rule_id.as_str()).collect();
    assert_eq!(ids, ["ssh.brute", "ssh.brute_then_success"]);
    assert_eq!(alerts[1].summary, "192.0.2.1 got in after a brute force");
    assert_eq!(alerts[1].count, 2);

    // Success first, then the brute force: no sequence.
    let mut correlator = Correlator::new(set_of(SEQUENCE), Options::default());
    let mut events = vec![success(0, "192.0.2.1")];
    events.extend(brute(1));
    assert_eq!(run(&mut correlator, &events).len(), 1);

    // Too late: the success comes after the 5 minutes.
    let mut correlator = Correlator::new(set_of(SEQUENCE), Options::default());
    let mut events: Vec<Event> = brute(0).collect();
    events.push(success(400, "192.0.2.1"));
    assert_eq!(run(&mut correlator, &events).len(), 1);

    // Another source's success does not complete it.
    let mut correlator = Correlator::new(set_of(SEQUENCE), Options::default());
    let mut events: Vec<Event> = brute(0).collect();
    events.push(success(10, "192.0.2.99"));
    assert_eq!(run(&mut correlator, &events).len(), 1);
}

#[test]
fn the_abort_step_starts_a_sequence_over() {
    let mut correlator = Correlator::new(set_of(SEQUENCE), Options::default());
    let mut events: Vec<Event> = (0..3).map(|at| failure(at, "192.0.2.1")).collect();
    events.push(event(
        5,
        &[("event.action", "blocked"), ("source.ip", "192.0.2.1")],
    ));
    events.push(success(10, "192.0.2.1"));
    let alerts = run(&mut correlator, &events);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].rule_id, "ssh.brute");
}

const ABSENCE: &str = r#"#{
    id: "source.silent", title: "Source went silent", severity: "medium",
    select: #{ "vigil.listener": "syslog" },
    absence: #{ within: "10m", by: ["host.name"] },
    summary: "{host.name} sent nothing for 10 minutes",
}"#;

#[test]
fn absence_fires_on_silence_from_the_clock_once() {
    let mut correlator = Correlator::new(set_of(ABSENCE), Options::default());
    let line =
        |at: i64, host: &str| event(at, &[("vigil.listener", "syslog"), ("host.name", host)]);
    run(
        &mut correlator,
        &[line(0, "fw1"), line(0, "fw2"), line(500, "fw2")],
    );
    let at = |seconds: i64| Timestamp::from_nanos(BASE + seconds * SECOND);
    assert!(
        correlator.tick(at(600)).is_empty(),
        "exactly 10 minutes is not yet silence"
    );
    let alerts = correlator.tick(at(601));
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].key, "host.name=fw1");
    assert_eq!(alerts[0].summary, "fw1 sent nothing for 10 minutes");
    assert!(
        correlator.tick(at(700)).is_empty(),
        "fires once per silence"
    );
    assert_eq!(correlator.tick(at(1101)).len(), 1, "fw2 fell silent at 500");
}

#[test]
fn a_reload_keeps_the_state_of_rules_whose_window_is_unchanged() {
    let mut correlator = Correlator::new(set_of(THRESHOLD), Options::default());
    run(
        &mut correlator,
        &[failure(0, "192.0.2.1"), failure(1, "192.0.2.1")],
    );
    // A new title and summary: same window, state kept.
    correlator.replace(set_of(
        &THRESHOLD.replace("SSH brute force", "SSH password guessing"),
    ));
    let alerts = run(&mut correlator, &[failure(2, "192.0.2.1")]);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].title, "SSH password guessing");
    // A new count: the window means something else now, so it starts empty.
    run(
        &mut correlator,
        &[failure(3, "192.0.2.1"), failure(4, "192.0.2.1")],
    );
    correlator.replace(set_of(&THRESHOLD.replace("count: 3", "count: 4")));
    assert_eq!(correlator.keys("ssh.brute"), 0);
}

#[test]
fn where_runs_only_for_candidates_and_a_hostile_where_harms_no_other_rule() {
    let source = r#"[
        #{
            id: "loop", title: "Endless", severity: "low",
            select: #{ "process.name": "sshd" },
            where: |e| { let n = 0; loop { n += 1; } true },
        },
        #{
            id: "grow", title: "Huge", severity: "low",
            select: #{ "process.name": "sshd" },
            where: |e| { let s = "xxxxxxxxxxxxxxxx"; loop { s += s; } true },
        },
        #{
            id: "deep", title: "Recursion", severity: "low",
            select: #{ "process.name": "sshd" },
            where: |e| { fn_deep(1) },
        },
        #{
            id: "fine", title: "Failed password", severity: "low",
            select: #{ "process.name": "sshd" },
            where: |e| e["message"].contains("Failed password"),
        },
        #{
            id: "other", title: "sudo", severity: "low",
            select: #{ "process.name": "sudo" },
            where: |e| true,
        },
    ];
    "#;
    let source = format!("fn fn_deep(n) {{ fn_deep(n + 1) }}\n{source}");
    let mut correlator = Correlator::new(set_of(&source), Options::default());
    let mut line = event(0, &[("process.name", "sshd")]);
    line.message = "Failed password for root from 192.0.2.1 port 22 ssh2".into();
    let alerts = run(&mut correlator, &[line]);
    let ids: Vec<&str> = alerts.iter().map(|alert| alert.rule_id.as_str()).collect();
    assert_eq!(ids, ["fine"]);
    assert_eq!(correlator.stats().where_errors, 3);
    for hostile in ["loop", "grow", "deep"] {
        assert_eq!(correlator.where_errors(hostile), 1, "{hostile}");
    }
    assert_eq!(correlator.where_errors("fine"), 0);
    // The sudo rule's `where` was never asked about the sshd line.
    assert_eq!(correlator.stats().candidates, 4);
}

#[test]
fn hostile_rule_files_are_stopped_at_load_and_reported() {
    let engine = script::engine(Arc::new(Lists::new()));
    for (name, source) in [
        ("endless.rhai", "let n = 0; loop { n += 1; }"),
        ("huge.rhai", "let a = [1]; loop { a += a; }"),
        ("deep.rhai", "fn f(n) { f(n + 1) }\nf(0)"),
    ] {
        let error = compile_file(&engine, name, source, 1).unwrap_err();
        assert!(error.starts_with(&format!("{name}:")), "{error}");
    }
    let error = compile_file(
        &engine,
        "bad.rhai",
        "#{\n id: \"x\",\n title: \"t\",\n severity: \"loud\" }",
        1,
    )
    .unwrap_err();
    assert!(
        error.starts_with("bad.rhai:2: rule \"x\": severity"),
        "{error}"
    );
    let error = compile_file(&engine, "syntax.rhai", "#{\n id: \"x\"\n title: 1 }", 1).unwrap_err();
    assert!(error.starts_with("syntax.rhai:3:"), "{error}");
    let error = compile_file(
        &engine,
        "typo.rhai",
        r#"#{ id: "x", title: "t", severity: "low", selct: #{} }"#,
        1,
    )
    .unwrap_err();
    assert!(error.contains("unknown keys [\"selct\"]"), "{error}");
}

#[test]
fn alerts_of_rules_reach_rules_that_match_alerts() {
    let source = format!(
        r#"[{}, #{{
            id: "meta.many_brute", title: "Brute force alert", severity: "critical",
            select: #{{ "event.kind": "alert", "rule.id": "ssh.brute" }},
        }}]"#,
        THRESHOLD
    );
    let mut correlator = Correlator::new(set_of(&source), Options::default());
    let alerts = run(
        &mut correlator,
        &(0..3)
            .map(|at| failure(at, "192.0.2.1"))
            .collect::<Vec<_>>(),
    );
    let ids: Vec<&str> = alerts.iter().map(|alert| alert.rule_id.as_str()).collect();
    assert_eq!(ids, ["ssh.brute", "meta.many_brute"]);
}

#[test]
fn a_library_keeps_a_broken_files_previous_version() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("ssh.rhai");
    std::fs::write(&path, THRESHOLD).unwrap();
    std::fs::create_dir(folder.path().join("lists")).unwrap();
    std::fs::write(
        folder.path().join("lists/admins.txt"),
        "root # the superuser\n\nadmin\n",
    )
    .unwrap();
    std::fs::write(
        folder.path().join("admins.rhai"),
        r#"#{ id: "admin", title: "Admin", severity: "low", select: #{ "user.name": list("admins") } }"#,
    )
    .unwrap();
    let mut library = Library::open(folder.path());
    assert!(library.errors().is_empty(), "{:?}", library.errors());
    assert_eq!(library.rule_set().unwrap().rules.len(), 2);
    std::fs::write(&path, "#{ id: ").unwrap();
    assert!(!library.reload());
    assert_eq!(library.broken_files(), 1);
    assert!(
        library.errors()[0].starts_with("ssh.rhai:1:"),
        "{:?}",
        library.errors()
    );
    assert_eq!(
        library.rule_set().unwrap().rules.len(),
        2,
        "the previous version runs"
    );
    std::fs::write(&path, THRESHOLD.replace("count: 3", "count: 4")).unwrap();
    assert!(library.reload());
    assert!(library.errors().is_empty());
    std::fs::remove_file(&path).unwrap();
    assert!(library.reload());
    assert_eq!(library.rule_set().unwrap().rules.len(), 1);
}

#[test]
fn a_sum_threshold_adds_up_a_numeric_field() {
    let source = r#"#{
        id: "exfil", title: "Large outbound transfer", severity: "high",
        select: #{ "network.direction": "outbound" },
        threshold: #{ sum: "network.bytes", total: 1000, within: "10m", by: ["source.ip"] },
        summary: "{source.ip} sent {sum} bytes",
    }"#;
    let flow = |at: i64, bytes: i64| {
        let mut flow = event(
            at,
            &[("network.direction", "outbound"), ("source.ip", "10.0.0.5")],
        );
        access::set(&mut flow, "network.bytes", Value::Int(bytes));
        flow
    };
    let mut correlator = Correlator::new(set_of(source), Options::default());
    assert!(run(&mut correlator, &[flow(0, 400), flow(60, 500)]).is_empty());
    let alerts = run(&mut correlator, &[flow(120, 100)]);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].summary, "10.0.0.5 sent 1000 bytes");
    assert_eq!(alerts[0].count, 3);
    // The first 400 bytes leave the window before the rest arrive.
    let mut correlator = Correlator::new(set_of(source), Options::default());
    assert!(run(
        &mut correlator,
        &[flow(0, 400), flow(601, 500), flow(602, 99)]
    )
    .is_empty());
}
