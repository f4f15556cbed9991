//! Normalisation in the running SOC: real `logger` lines decoded into ECS fields, user
//! mappings reloaded while it runs (a broken file keeps the previous version), zones, uploads
//! through `POST /api/v1/import` (durable before the answer, 413 past the limit), and
//! `vigil import` into a stopped node's data directory, each event in its own day.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{logger, vigil, write_config, Server};

const ACME_V1: &str = r#"[[mapping]]
name = "acme login"
when = { "process.name" = "acme*" }
dissect = "user %{user.name} did %{event.action} from %{client.ip}"
convert = { "client.ip" = "ip" }
"#;

const ACME_BROKEN: &str = r#"[[mapping]]
name = "acme login"
when = { "process.name" = "acme*" }
regex = 'user (?P<user.name>\w+'
"#;

const ACME_V2: &str = r#"[[mapping]]
name = "acme login"
when = { "process.name" = "acme*" }
dissect = "user %{user.name} did %{event.action} from %{client.ip}"
set = { "observer.vendor" = "Acme Corp" }

[[mapping]]
name = "heartbeat-noise"
when = { "process.name" = "acme-heartbeat" }
drop = true
"#;

fn udp_logger(server: &Server, tag: &str, line: &str) {
    let port = server.address("syslog-udp").port().to_string();
    logger(
        &["-d", "-n", "127.0.0.1", "-P", &port, "--rfc5424", "-t", tag],
        line,
    );
}

fn first_event(server: &Server, query: &str) -> serde_json::Value {
    let answer = server.wait_for_total(query, 1, 5, 20);
    assert_eq!(answer["total"], 1, "{query}: {answer}\n{}", server.log());
    answer["events"][0].clone()
}

/// Waits until `/api/v1/normalize` satisfies `ready` (the watcher looks every second).
fn wait_for_status(
    server: &Server,
    ready: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = server.get_json("/api/v1/normalize");
        if ready(&status) || Instant::now() > deadline {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn live_lines_mappings_uploads_and_imports_are_normalised() {
    let root = tempfile::tempdir().unwrap();
    let mappings = root.path().join("normalize");
    std::fs::create_dir_all(&mappings).unwrap();
    std::fs::write(mappings.join("acme.toml"), ACME_V1).unwrap();
    let config = write_config(
        root.path(),
        &format!(
            "[normalize]\ndir = \"{}\"\n[normalize.zones]\ninternal = [\"10.0.0.0/8\"]\n",
            mappings.display()
        ),
    );
    let config_text = std::fs::read_to_string(&config).unwrap();
    let config_text = config_text.replace(
        "[api]\nlisten = \"127.0.0.1:0\"\n",
        "[api]\nlisten = \"127.0.0.1:0\"\nimport_max_bytes = 65536\n",
    );
    std::fs::write(&config, config_text).unwrap();
    let mut server = Server::start(root.path(), &config);

    // A built-in decoder: sshd's failed password, sent by the real logger.
    udp_logger(
        &server,
        "sshd",
        "Failed password for invalid user admin from 10.9.8.7 port 50022 ssh2",
    );
    let event = first_event(&server, "vigil.decoder:sshd");
    assert_eq!(event["user.name"], "admin", "{event}");
    assert_eq!(event["source.ip"], "10.9.8.7", "{event}");
    assert_eq!(event["source.port"], 50022, "{event}");
    assert_eq!(event["event.outcome"], "failure", "{event}");
    assert_eq!(
        event["observer.ip"], "127.0.0.1",
        "the sender moves to observer.ip: {event}"
    );
    assert_eq!(event["source.zone"], "internal", "{event}");
    assert_eq!(server.search("source.ip:\"10.9.8.7\"", 5)["total"], 1);

    // A user mapping, then a broken version of it (the old one keeps running), then a fix.
    udp_logger(&server, "acme-auth", "user bob did login from 192.0.2.1");
    let event = first_event(&server, "user.name:bob");
    assert_eq!(event["event.action"], "login", "{event}");
    assert_eq!(event["client.ip"], "192.0.2.1", "{event}");

    std::fs::write(mappings.join("acme.toml"), ACME_BROKEN).unwrap();
    let status = wait_for_status(&server, |status| {
        status["mapping_errors"]
            .as_array()
            .is_some_and(|errors| !errors.is_empty())
    });
    let error = status["mapping_errors"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        error.contains("acme.toml:4: mapping \"acme login\": regex"),
        "{status}"
    );
    udp_logger(&server, "acme-auth", "user carol did logout from 192.0.2.2");
    let event = first_event(&server, "user.name:carol");
    assert_eq!(
        event["event.action"], "logout",
        "the previous version runs: {event}"
    );

    std::fs::write(mappings.join("acme.toml"), ACME_V2).unwrap();
    wait_for_status(&server, |status| {
        status["mapping_errors"]
            .as_array()
            .is_some_and(Vec::is_empty)
    });
    udp_logger(&server, "acme-auth", "user dave did login from 192.0.2.3");
    udp_logger(&server, "acme-heartbeat", "still alive");
    let event = first_event(&server, "user.name:dave");
    assert_eq!(event["observer.vendor"], "Acme Corp", "{event}");
    assert_eq!(
        server.wait_for_metric(
            "vigil_normalize_dropped_total",
            &[("mapping", "heartbeat-noise")],
            1,
            10
        ),
        1
    );
    assert_eq!(
        server.search("process.name:\"acme-heartbeat\"", 5)["total"],
        0
    );

    // An upload: gzip'd access log lines from two hours ago keep their own times.
    let when = chrono::Utc::now() - chrono::Duration::hours(2);
    let stamp = when.format("%d/%b/%Y:%H:%M:%S +0000");
    let mut lines = String::new();
    for index in 0..50 {
        lines.push_str(&format!(
            "203.0.113.{index} - - [{stamp}] \"GET /upload/{index} HTTP/1.1\" 404 153 \"-\" \"curl/8.0\"\n"
        ));
    }
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(lines.as_bytes()).unwrap();
    let (status, body) = server.post(
        "/api/v1/import?format=lines&tenant=ministry&level=3&name=access.log.gz",
        &gzip.finish().unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    let summary: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(summary["events_stored"], 50, "{summary}");
    assert_eq!(summary["decoders"]["web"], 50, "{summary}");
    // Durable when answered; searchable after the next index commit.
    let answer = server.wait_for_total("url.path:\"/upload/7\"", 1, 5, 20);
    let event = &answer["events"][0];
    assert_eq!(event["vigil.tenant"], "ministry", "{event}");
    assert_eq!(event["http.response.status_code"], 404, "{event}");
    let expected_time = when.format("%Y-%m-%dT%H:%M:%S").to_string();
    assert!(
        event["@timestamp"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&expected_time),
        "{event}"
    );
    let (status, _) = server.post("/api/v1/import", &vec![b'x'; 100_000]);
    assert_eq!(status, 413);

    // `vigil import` refuses while serve holds the data directory, and says what to do.
    let file = root.path().join("auth.log");
    let three_days_ago = chrono::Utc::now() - chrono::Duration::days(3);
    let syslog_time = three_days_ago.format("%Y-%m-%dT%H:%M:%SZ");
    // Older than any level keeps events: counted, never stored.
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(800)).format("%Y-%m-%dT%H:%M:%SZ");
    std::fs::write(
        &file,
        format!(
            "{syslog_time} bastion sshd[811]: Accepted publickey for deploy from 10.1.1.1 port 40000 ssh2\n\
             {syslog_time} bastion sshd[812]: Invalid user oracle from 198.51.100.9 port 41000\n\
             {long_ago} bastion sshd[813]: Invalid user ancient from 198.51.100.10 port 42000\n"
        ),
    )
    .unwrap();
    let args = [
        "import",
        "--quiet",
        "--config",
        config.to_str().unwrap(),
        file.to_str().unwrap(),
    ];
    let (code, _, stderr) = vigil(&args);
    assert_ne!(code, 0);
    assert!(stderr.contains("/api/v1/import"), "{stderr}");
    assert!(server.stop().success(), "{}", server.log());

    let (code, _, stderr) = vigil(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("events stored       2"), "{stderr}");
    assert!(stderr.contains("past retention      1"), "{stderr}");
    // Filed under the day the lines happened, not the day of the import.
    let day = three_days_ago.format("%Y-%m-%d").to_string();
    let partitions = walk(&root.path().join("data/partitions"));
    assert!(
        partitions
            .iter()
            .any(|path| path.ends_with(&format!("/{day}"))),
        "no partition for {day}: {partitions:?}"
    );
    let server = Server::start(root.path(), &config);
    let event = first_event(&server, "user.name:oracle");
    let ancient = server.get_json("/api/v1/search?q=user.name:ancient&from=1000d&limit=5");
    assert_eq!(ancient["total"], 0, "{ancient}");
    let oracle = server.get_json("/api/v1/search?q=user.name:oracle&from=1000d&limit=5");
    assert_eq!(
        oracle["total"], 1,
        "the wide range finds what is stored: {oracle}"
    );
    assert_eq!(event["source.ip"], "198.51.100.9", "{event}");
    assert!(
        event["vigil.flags"].to_string().contains("imported"),
        "{event}"
    );
}

/// Every path under `dir`.
fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut paths = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            paths.push(path.display().to_string());
            if path.is_dir() {
                paths.extend(walk(&path));
            }
        }
    }
    paths
}
