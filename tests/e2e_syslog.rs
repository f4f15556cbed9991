//! End to end with the real `logger` client: RFC 5424 over octet-counted TCP, RFC 3164 over UDP
//! and over LF-framed TCP, each message found by search with the right host, app, severity and
//! timestamp.

mod common;

use std::collections::HashSet;

use common::{hostname, logger, write_config, Server};

/// (tag, logger priority, expected severity name)
const GROUPS: [(&str, &str, &str); 5] = [
    ("app-auth", "auth.err", "err"),
    ("app-kern", "user.crit", "crit"),
    ("app-mail", "mail.warning", "warning"),
    ("app-info", "local3.info", "info"),
    ("app-debug", "daemon.debug", "debug"),
];

fn lines(prefix: &str, count: usize) -> String {
    (0..count)
        .map(|n| format!("{prefix} seq={n} the quick brown fox\n"))
        .collect()
}

/// Checks every event of one tag: count, distinct sequence numbers, host, severity, and a
/// timestamp inside the sending window (RFC 3164 times have whole seconds).
fn check_group(server: &Server, tag: &str, severity: &str, expected: usize, window: (i64, i64)) {
    let answer = server.wait_for_total(
        &format!("process.name:{tag}"),
        expected as u64,
        expected,
        60,
    );
    assert_eq!(answer["total"], expected as u64, "{tag}: {}", server.log());
    let events = answer["events"].as_array().expect("events");
    assert_eq!(events.len(), expected);
    // `limit=0` counts without reading events back.
    let counted = server.search(&format!("process.name:{tag}"), 0);
    assert_eq!(counted["total"], expected as u64);
    assert_eq!(counted["events"].as_array().map(Vec::len), Some(0));
    let host = hostname();
    let mut seen = HashSet::new();
    for event in events {
        assert_eq!(event["host.name"], host.as_str(), "{event}");
        assert_eq!(event["process.name"], tag, "{event}");
        assert_eq!(event["log.syslog.severity.name"], severity, "{event}");
        let message = event["message"].as_str().expect("message");
        let seq = message
            .split_whitespace()
            .find_map(|word| word.strip_prefix("seq="))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("no seq in {message:?}"));
        assert!(seen.insert(seq), "{tag} seq {seq} twice");
        let time =
            chrono::DateTime::parse_from_rfc3339(event["@timestamp"].as_str().expect("time"))
                .expect("RFC 3339 @timestamp")
                .timestamp();
        assert!(
            time >= window.0 - 1 && time <= window.1 + 1,
            "{tag}: @timestamp {time} outside {window:?}"
        );
    }
    assert_eq!(seen.len(), expected);
}

#[test]
fn logger_messages_over_tcp_and_udp_are_all_searchable_with_their_fields() {
    let root = tempfile::tempdir().expect("temp dir");
    let config = write_config(root.path(), "");
    let mut server = Server::start(root.path(), &config);
    let tcp = server.address("syslog-tcp");
    let udp = server.address("syslog-udp");
    let start = chrono::Utc::now().timestamp();

    // 10,000 RFC 5424 messages, octet-counted over TCP: 2,000 for each of five apps.
    for (tag, priority, _) in GROUPS {
        logger(
            &[
                "--tcp",
                "--octet-count",
                "--rfc5424",
                "-n",
                "127.0.0.1",
                "-P",
                &tcp.port().to_string(),
                "-t",
                tag,
                "-p",
                priority,
            ],
            &lines(tag, 2_000),
        );
    }
    // 1,000 RFC 3164 messages LF-framed over TCP.
    logger(
        &[
            "--tcp",
            "--rfc3164",
            "-n",
            "127.0.0.1",
            "-P",
            &tcp.port().to_string(),
            "-t",
            "lf-3164",
            "-p",
            "auth.notice",
        ],
        &lines("lf-3164", 1_000),
    );
    // 1,000 RFC 3164 messages over UDP, 100 per burst so the kernel buffer never overflows.
    for burst in 0..10 {
        let first = burst * 100;
        let text: String = (first..first + 100)
            .map(|n| format!("udp-3164 seq={n} over udp\n"))
            .collect();
        logger(
            &[
                "--udp",
                "--rfc3164",
                "-n",
                "127.0.0.1",
                "-P",
                &udp.port().to_string(),
                "-t",
                "udp-3164",
                "-p",
                "user.err",
            ],
            &text,
        );
        let received = server.wait_for_metric(
            "vigil_collect_events_received_total",
            &[("listener", "syslog-udp")],
            first as u64 + 100,
            30,
        );
        assert_eq!(
            received,
            first as u64 + 100,
            "UDP burst {burst} not received"
        );
    }
    let end = chrono::Utc::now().timestamp();

    for (tag, _, severity) in GROUPS {
        check_group(&server, tag, severity, 2_000, (start, end));
    }
    check_group(&server, "lf-3164", "notice", 1_000, (start, end));
    check_group(&server, "udp-3164", "err", 1_000, (start, end));

    // RFC 5424 keeps the sender's exact time: compare with the original line.
    let sample = server.search("process.name:app-auth AND seq=7", 1);
    let event = &sample["events"][0];
    let original = event["event.original"].as_str().expect("original");
    let sent_time = original.split_whitespace().nth(1).expect("timestamp field");
    let sent = chrono::DateTime::parse_from_rfc3339(sent_time).expect("sent time");
    let stored =
        chrono::DateTime::parse_from_rfc3339(event["@timestamp"].as_str().expect("stored"))
            .expect("stored time");
    assert_eq!(sent, stored);
    assert_eq!(event["log.syslog.facility.name"], "auth");
    assert_eq!(event["vigil.listener"], "syslog-tcp");

    let histogram =
        server.get_json("/api/v1/search/histogram?q=process.name:app-auth&from=1h&interval=1m");
    assert_eq!(histogram["total"], 2_000, "{histogram}");
    let buckets = histogram["buckets"].as_array().expect("buckets");
    assert!(buckets.len() >= 60, "one bucket per minute of the hour");
    let counted: u64 = buckets
        .iter()
        .map(|bucket| bucket["count"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(counted, 2_000);

    let total = server.search("*", 1)["total"].as_u64().expect("total");
    assert_eq!(total, 12_000, "no event twice, none missing");
    assert_eq!(server.metric("vigil_collect_parse_fallbacks_total", &[]), 0);
    assert!(server.stop().success(), "{}", server.log());
}
