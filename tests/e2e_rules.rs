//! Rules in the running SOC: `logger` lines raise an alert that reaches the live stream, the
//! alert API, the alert log, the index and `/metrics`; a rule file rewritten 100 times (some
//! versions broken) while events stream costs no event its alerts; `vigil rules lint`, `test`
//! and `backtest` on a folder and an archive.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{logger, vigil, write_config, Server};

const BRUTE: &str = r#"#{
    id: "test.ssh_brute",
    title: "SSH brute force",
    severity: "high",
    description: "Three failed logins from one address within a minute.",
    attack: ["T1110.001"],
    select: #{ "process.name": "sshd", "event.action": "ssh-login", "event.outcome": "failure" },
    threshold: #{ count: 3, within: "60s", by: ["source.ip"] },
    summary: "{count} failed SSH logins from {source.ip}",
}"#;

fn rules_config(root: &Path) -> std::path::PathBuf {
    let rules = root.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    write_config(root, &format!("[rules]\ndir = \"{}\"\n", rules.display()))
}

fn tcp_logger(server: &Server, tag: &str, lines: &str) {
    let port = server.address("syslog-tcp").port().to_string();
    logger(
        &[
            "-T",
            "-n",
            "127.0.0.1",
            "-P",
            &port,
            "--rfc5424",
            "--octet-count",
            "-t",
            tag,
        ],
        lines,
    );
}

/// Follows `GET /api/v1/alerts/stream` with curl (a real SSE client); its output arrives on
/// the returned channel line by line.
fn follow_stream(server: &Server) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let mut child = std::process::Command::new("curl")
        .args(["-s", "-N", "--max-time", "60", "--cacert"])
        .arg(server.ca())
        .arg("-H")
        .arg(format!("Authorization: Bearer {}", server.token))
        .arg(format!(
            "https://{}/api/v1/alerts/stream",
            server.address("api")
        ))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("curl must be installed");
    let stdout = child.stdout.take().unwrap();
    let (lines, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (child, receiver)
}

/// Lines from `receiver` until one contains `needle` (≤ 20 s); all of them.
fn lines_until(receiver: &std::sync::mpsc::Receiver<String>, needle: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match receiver.recv_timeout(left) {
            Ok(line) => {
                let done = line.contains(needle);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no line with {needle:?} in 20 s; saw {seen:?}");
}

#[test]
fn an_alert_reaches_the_stream_the_api_the_log_the_index_and_metrics() {
    let root = tempfile::tempdir().unwrap();
    let config = rules_config(root.path());
    std::fs::write(root.path().join("rules/ssh.rhai"), BRUTE).unwrap();
    let mut server = Server::start(root.path(), &config);
    let status = server.get_json("/api/v1/rules");
    assert_eq!(status["rules"][0]["id"], "test.ssh_brute", "{status}");
    assert_eq!(status["errors"].as_array().unwrap().len(), 0, "{status}");

    let (mut curl, stream) = follow_stream(&server);
    lines_until(&stream, ": ok");
    let failures: String = (0..3)
        .map(|at| {
            format!(
                "Failed password for root from 203.0.113.9 port {} ssh2\n",
                40000 + at
            )
        })
        .collect();
    tcp_logger(&server, "sshd", &failures);
    // Another address's two failures do not fire.
    tcp_logger(
        &server,
        "sshd",
        "Failed password for root from 198.51.100.1 port 1 ssh2\nFailed password for root from 198.51.100.1 port 2 ssh2\n",
    );
    lines_until(&stream, "event: alert");
    let data = lines_until(&stream, "data: ");
    let streamed: serde_json::Value =
        serde_json::from_str(data.last().unwrap().trim_start_matches("data: ")).unwrap();
    assert_eq!(streamed["summary"], "3 failed SSH logins from 203.0.113.9");
    let _ = curl.kill();
    let _ = curl.wait();

    let alerts = server.get_json("/api/v1/alerts?limit=10");
    let alerts = alerts["alerts"].as_array().unwrap().clone();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert["rule_id"], "test.ssh_brute");
    assert_eq!(alert["id"], streamed["id"]);
    assert_eq!(alert["key_fields"]["source.ip"], "203.0.113.9");
    assert_eq!(alert["count"], 3);
    assert_eq!(alert["events"].as_array().unwrap().len(), 3);
    assert_eq!(alert["attack"][0], "T1110.001");
    assert_eq!(alert["severity"], "high");

    let log = std::fs::read_to_string(server.data.join("alerts.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains(alert["id"].as_str().unwrap()));

    // The alert is an event: archived, indexed, searchable, and its contributing events too.
    let found = server.wait_for_total("rule.id:\"test.ssh_brute\"", 1, 5, 20);
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["events"][0]["event.kind"], "alert");
    assert_eq!(found["events"][0]["event.id"], alert["id"]);
    let contributing = server.search("process.name:sshd AND source.ip:203.0.113.9", 10);
    assert_eq!(contributing["total"], 3, "{contributing}");
    assert_eq!(
        server.metric("vigil_rules_alerts_total", &[("rule", "test.ssh_brute")]),
        1
    );
    assert!(server.metric("vigil_rules_events_total", &[]) >= 5);
    assert!(server.stop().success());
}

/// A stable rule in one file and a rule in another file rewritten 100 times, some versions
/// broken, while `logger` streams lines both match: every line raises both alerts.
#[test]
fn a_rule_file_rewritten_100_times_under_load_costs_no_event_its_alerts() {
    let root = tempfile::tempdir().unwrap();
    let config = rules_config(root.path());
    let rules = root.path().join("rules");
    let stable = r#"#{ id: "steady.stable", title: "Stable", severity: "low", description: "d",
        select: #{ "process.name": "steady" } }"#;
    let changing = |version: usize| {
        format!(
            r#"#{{ id: "steady.changing", title: "Version {version}", severity: "low", description: "d",
                 select: #{{ "process.name": "steady" }}, summary: "v{version} {{message}}" }}"#
        )
    };
    std::fs::write(rules.join("stable.rhai"), stable).unwrap();
    std::fs::write(rules.join("changing.rhai"), changing(0)).unwrap();
    let server = Server::start(root.path(), &config);

    let sending = Arc::new(AtomicBool::new(true));
    let port = server.address("syslog-tcp").port();
    let sender = {
        let sending = sending.clone();
        std::thread::spawn(move || {
            let mut sent = 0usize;
            while sending.load(Ordering::Relaxed) {
                let lines: String = (0..20).map(|at| format!("line {}\n", sent + at)).collect();
                logger(
                    &[
                        "-T",
                        "-n",
                        "127.0.0.1",
                        "-P",
                        &port.to_string(),
                        "--octet-count",
                        "-t",
                        "steady",
                    ],
                    &lines,
                );
                sent += 20;
                std::thread::sleep(Duration::from_millis(50));
            }
            sent
        })
    };
    // Every tenth version is broken and stays long enough for the watcher (every second) to
    // see it; the good ones follow each other quickly.
    let mut broken_written = 0;
    let mut titles_seen = std::collections::BTreeSet::new();
    for version in 1..=100 {
        let path = rules.join("changing.rhai");
        if version % 10 == 0 {
            // Each broken version differs, as an author's successive mistakes would.
            std::fs::write(
                &path,
                format!("#{{ id: \"steady.changing\", title: \"Version {version}"),
            )
            .unwrap();
            broken_written += 1;
            let until = Instant::now() + Duration::from_millis(2_000);
            while Instant::now() < until {
                let status = server.get_json("/api/v1/rules");
                let running: Vec<&serde_json::Value> = status["rules"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|rule| rule["id"] == "steady.changing")
                    .collect();
                assert_eq!(
                    running.len(),
                    1,
                    "the changing rule must keep running: {status}"
                );
                titles_seen.insert(running[0]["title"].as_str().unwrap().to_owned());
                std::thread::sleep(Duration::from_millis(200));
            }
        } else {
            std::fs::write(&path, changing(version)).unwrap();
            std::thread::sleep(Duration::from_millis(60));
        }
    }
    std::fs::write(rules.join("changing.rhai"), changing(101)).unwrap();
    std::thread::sleep(Duration::from_millis(2_500));
    sending.store(false, Ordering::Relaxed);
    let sent = sender.join().unwrap() as u64;

    let stable_alerts = server.wait_for_metric(
        "vigil_rules_alerts_total",
        &[("rule", "steady.stable")],
        sent,
        30,
    );
    let changing_alerts = server.wait_for_metric(
        "vigil_rules_alerts_total",
        &[("rule", "steady.changing")],
        sent,
        30,
    );
    assert_eq!(stable_alerts, sent, "the unchanged rule missed events");
    assert_eq!(
        changing_alerts, sent,
        "some event met no version of the changing rule"
    );
    let load_errors = server.metric("vigil_rules_load_errors_total", &[]);
    assert!(
        load_errors >= broken_written,
        "{load_errors} load errors for {broken_written} broken versions:\n{}",
        server
            .log()
            .lines()
            .filter(|line| line.contains("rules reloaded") || line.contains("does not load"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let status = server.get_json("/api/v1/rules");
    let changing_now = status["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|rule| rule["id"] == "steady.changing")
        .unwrap()
        .clone();
    assert_eq!(changing_now["title"], "Version 101", "{status}");
    assert!(status["errors"].as_array().unwrap().is_empty(), "{status}");
    assert!(
        titles_seen
            .iter()
            .all(|title| title.starts_with("Version ")),
        "{titles_seen:?}"
    );
    assert!(
        server.log().contains("changing.rhai:1:"),
        "the broken file is reported with its line"
    );
    assert_eq!(server.metric("vigil_transform_panics_total", &[]), 0);
    let mut server = server;
    assert!(server.stop().success());
}

#[test]
fn lint_test_and_backtest_from_the_command_line() {
    let root = tempfile::tempdir().unwrap();
    let rules = root.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    let dir = rules.display().to_string();
    let with_tests = BRUTE.replace(
        "    summary:",
        r#"    tests: [
        #{ name: "three fire", expect: 1, events: times(3).map(|i| #{ "process.name": "sshd",
           "event.action": "ssh-login", "event.outcome": "failure", "source.ip": "192.0.2.1" }) },
        #{ name: "two do not", expect: 1, events: times(2).map(|i| #{ "process.name": "sshd",
           "event.action": "ssh-login", "event.outcome": "failure", "source.ip": "192.0.2.1" }) },
    ],
    summary:"#,
    );
    std::fs::write(rules.join("ssh.rhai"), &with_tests).unwrap();
    let (code, out, err) = vigil(&["rules", "lint", "--rules", &dir]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 rules in 1 files"), "{out}");
    // The second test expects the wrong count: the table names it and the exit code says so.
    let (code, out, _) = vigil(&["rules", "test", "--rules", &dir]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL") && out.contains("two do not"), "{out}");
    assert!(out.contains("expected 1 alert(s), got 0"), "{out}");
    assert!(
        out.contains("2 tests of 1 rules: 1 passed, 1 failed"),
        "{out}"
    );
    std::fs::write(
        rules.join("ssh.rhai"),
        with_tests.replace("expect: 1, events: times(2)", "expect: 0, events: times(2)"),
    )
    .unwrap();
    let (code, out, _) = vigil(&["rules", "test", "--rules", &dir]);
    assert_eq!(code, 0, "{out}");

    std::fs::write(
        rules.join("broken.rhai"),
        "#{\n  id: \"x\",\n  title: \"t\",\n  severity: \"loud\",\n}",
    )
    .unwrap();
    std::fs::write(rules.join("syntax.rhai"), "#{ id: ").unwrap();
    let (code, _, err) = vigil(&["rules", "lint", "--rules", &dir]);
    assert_eq!(code, 1);
    assert!(
        err.contains("broken.rhai:2: rule \"x\": severity \"loud\""),
        "{err}"
    );
    assert!(err.contains("syntax.rhai:1:"), "{err}");
    std::fs::remove_file(rules.join("broken.rhai")).unwrap();
    std::fs::remove_file(rules.join("syntax.rhai")).unwrap();

    // Events archived by a node with no rules, replayed through the rule afterwards.
    let empty = root.path().join("no-rules");
    std::fs::create_dir_all(&empty).unwrap();
    let config = write_config(
        root.path(),
        &format!("[rules]\ndir = \"{}\"\n", empty.display()),
    );
    let mut server = Server::start(root.path(), &config);
    let failures: String = (0..4)
        .map(|at| format!("Failed password for admin from 192.0.2.44 port {at} ssh2\n"))
        .collect();
    tcp_logger(&server, "sshd", &failures);
    let stored = server.wait_for_total("process.name:sshd", 4, 5, 20);
    assert_eq!(stored["total"], 4, "{stored}");
    assert!(server.get_json("/api/v1/alerts")["alerts"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(server.stop().success());
    let config_text = config.display().to_string();
    let (code, out, err) = vigil(&[
        "rules",
        "backtest",
        "--config",
        &config_text,
        "--rules",
        &dir,
        "--from",
        "1h",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let fired: Vec<serde_json::Value> = out
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(fired.len(), 1, "{out}{err}");
    assert_eq!(fired[0]["key_fields"]["source.ip"], "192.0.2.44");
    assert!(err.contains("replayed 4 events"), "{err}");
    // A backtest raises nothing: no alert log was written.
    assert!(
        !root.path().join("data/alerts.jsonl").exists()
            || std::fs::read_to_string(root.path().join("data/alerts.jsonl"))
                .unwrap()
                .is_empty()
    );
}
