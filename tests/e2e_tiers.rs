//! Three tiers: `vigil agent` → agency `vigil serve` → national `vigil serve`. A rule at the
//! agency raises an alert on each intrusion attempt; the agency forwards its alerts
//! (`vigil.flags:alert`) over the channel with its own client certificate from the national CA.
//! An alert raised at the agency reaches the national SOC with its id and origin (tenant, level,
//! the agency SOC); with the inter-SOC link cut for 30 s, every alert arrives once it returns,
//! exactly once.

mod common;

use std::collections::HashSet;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{certs_init, free_port, write_channel_config, Agent, Server};

fn critical(seq: u64) -> String {
    format!(
        "<130>1 2026-11-27T10:00:00.000Z fw-1 firewall - - - ALERT intrusion attempt seq={seq}\n"
    )
}

fn routine(seq: u64) -> String {
    format!("<134>1 2026-11-27T10:00:00.000Z fw-1 firewall - - - routine traffic seq={seq}\n")
}

#[test]
fn an_agency_alert_reaches_the_national_soc_with_its_origin_and_survives_a_cut_link() {
    let root = tempfile::tempdir().expect("temp dir");
    let (agency_root, national_root) = (root.path().join("agency"), root.path().join("national"));
    std::fs::create_dir_all(&agency_root).expect("agency dir");
    std::fs::create_dir_all(&national_root).expect("national dir");
    let agency_pki = root.path().join("agency-pki");
    let national_pki = root.path().join("national-pki");
    certs_init(&agency_pki, &["agent-1"]);
    certs_init(&national_pki, &["agency-soc"]);

    let national_port = free_port();
    let national_config = write_channel_config(&national_root, &national_pki, national_port, "");
    let mut national = Server::start(&national_root, &national_config);

    let agency_port = free_port();
    let agency_extra = format!(
        r#"[[systems]]
name = "hq-network"
tenant = "ministry-of-finance"
level = 4
sources = ["127.0.0.0/8"]

[[forward]]
name = "govsoc"
servers = ["127.0.0.1:{national_port}"]
server_name = "localhost"
ca = "{pki}/ca.crt"
cert = "{pki}/client-agency-soc.crt"
key = "{pki}/client-agency-soc.key"
query = "vigil.flags:alert"

[rules]
dir = "{rules}"
"#,
        pki = national_pki.display(),
        rules = agency_root.join("rules").display(),
    );
    std::fs::create_dir_all(agency_root.join("rules")).expect("rules dir");
    std::fs::write(
        agency_root.join("rules/intrusion.rhai"),
        r#"#{
            id: "fw.intrusion", title: "Intrusion attempt", severity: "critical",
            description: "The firewall reports an intrusion attempt.",
            select: #{ "message": #{ contains: "intrusion attempt" } },
            by: ["host.name"],
            summary: "{message}",
        }"#,
    )
    .expect("rule");
    let agency_config = write_channel_config(&agency_root, &agency_pki, agency_port, &agency_extra);
    // `node_name` is the node's name on the channel: the agency SOC is "agency-soc".
    let text = std::fs::read_to_string(&agency_config)
        .expect("config")
        .replace("node_name = \"test-node\"", "node_name = \"agency-soc\"");
    std::fs::write(&agency_config, text).expect("config");
    let agency = Server::start(&agency_root, &agency_config);
    let agent = Agent::start(
        &agency_root,
        &agency_pki,
        "agent-1",
        agency_port,
        &["--syslog-tcp", "127.0.0.1:0"],
    );
    let mut device = TcpStream::connect(agent.address("syslog-tcp")).expect("connect to agent");

    // One intrusion attempt, among routine traffic: one alert, the only thing forwarded.
    let raised = Instant::now();
    let mut lines = String::new();
    for seq in 0..50 {
        lines.push_str(&routine(seq));
    }
    lines.push_str(&critical(0));
    device.write_all(lines.as_bytes()).expect("send");
    let found = national.wait_for_total("intrusion", 1, 10, 30);
    let latency = raised.elapsed();
    eprintln!("agency → national: the alert was searchable at the national SOC after {latency:?}");
    assert_eq!(found["total"].as_u64(), Some(1), "{}", national.log());
    let event = &found["events"][0];
    assert_eq!(event["rule.id"], "fw.intrusion");
    assert_eq!(event["event.kind"], "alert");
    assert_eq!(event["message"], "ALERT intrusion attempt seq=0");
    assert_eq!(event["vigil.tenant"], "ministry-of-finance");
    assert_eq!(event["vigil.level"], 4);
    assert_eq!(
        event["vigil.via"],
        serde_json::json!(["agency-soc"]),
        "the SOC it came from"
    );
    assert_eq!(event["host.name"], "fw-1");
    // The alert keeps the id the agency gave it.
    let raised_here =
        std::fs::read_to_string(agency_root.join("data/alerts.jsonl")).expect("alert log");
    let first: serde_json::Value =
        serde_json::from_str(raised_here.lines().next().expect("one alert")).expect("JSON");
    assert_eq!(event["event.id"], first["id"]);
    // The agency has every line and the alert; the national SOC only the alert.
    assert_eq!(
        agency.wait_for_total("seq", 52, 1, 30)["total"].as_u64(),
        Some(52)
    );
    assert_eq!(national.search("routine", 10)["total"].as_u64(), Some(0));
    assert_eq!(national.search("seq", 10)["total"].as_u64(), Some(1));

    // The link is cut for 30 s: the national SOC is gone, the agency keeps forwarding to disk.
    national.kill9();
    let mut lines = String::new();
    for seq in 1..=200 {
        lines.push_str(&critical(seq));
        lines.push_str(&routine(1000 + seq));
    }
    device.write_all(lines.as_bytes()).expect("send while cut");
    assert_eq!(
        agency.wait_for_total("seq", 652, 1, 30)["total"].as_u64(),
        Some(652)
    );
    std::thread::sleep(Duration::from_secs(30));
    national = Server::start(&national_root, &national_config);
    // The agency's forward retries with backoff (up to 30 s, plus jitter): give it room.
    let answer = national.wait_for_total("intrusion", 201, 500, 120);
    assert_eq!(answer["total"].as_u64(), Some(201), "{}", national.log());
    let ids: HashSet<&str> = answer["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["event.id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.len(), 201, "each alert once");
    assert!(agency.metric("vigil_forward_events_total", &[("forward", "govsoc")]) >= 201);
}
