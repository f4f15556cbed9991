//! Forwarding to receivers that are not Vigil's channel: an HTTPS endpoint (JSON batches, zstd,
//! bearer token; the first answer is a 503, so the batch must be sent again and nothing lost),
//! and syslog over TLS into another `vigil serve` (RFC 5424 lines whose message is the event's
//! JSON). The agency takes syslog over TCP; its two forwards choose by filter.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{certs_init, write_config, write_tls_config, Server};

/// What the test HTTPS endpoint saw.
#[derive(Default)]
struct Seen {
    /// Event ids and messages of accepted batches.
    events: Vec<(String, String)>,
    statuses: Vec<u16>,
    headers: Vec<HashMap<String, String>>,
}

/// A small HTTPS endpoint: answers 503 to the first batch, 200 after; 401 without the token.
fn https_endpoint(pki: &Path, token: &str) -> (u16, Arc<Mutex<Seen>>) {
    let config = vigil_tls::server_config(&vigil_tls::ServerTls {
        cert: pki.join("server.crt"),
        key: pki.join("server.key"),
        client_ca: None,
        client_auth: vigil_tls::ClientAuth::None,
    })
    .expect("server config");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (seen_by_server, token) = (seen.clone(), format!("Bearer {token}"));
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let (config, seen, token) = (config.clone(), seen_by_server.clone(), token.clone());
            std::thread::spawn(move || {
                let connection = rustls::ServerConnection::new(config).expect("connection");
                let mut tls = rustls::StreamOwned::new(connection, tcp);
                let _ = serve_requests(&mut tls, &seen, &token);
            });
        }
    });
    (port, seen)
}

fn serve_requests(
    tls: &mut rustls::StreamOwned<rustls::ServerConnection, TcpStream>,
    seen: &Mutex<Seen>,
    token: &str,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(tls);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        assert!(line.starts_with("POST "), "{line}");
        let mut headers = HashMap::new();
        loop {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.insert(name.trim().to_lowercase(), value.trim().to_owned());
            }
        }
        let length: usize = headers["content-length"].parse().expect("length");
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        let mut seen = seen.lock().expect("lock");
        let status = if headers.get("authorization").map(String::as_str) != Some(token) {
            401
        } else if seen.statuses.is_empty() {
            503
        } else {
            assert_eq!(headers["content-encoding"], "zstd");
            let json: serde_json::Value =
                serde_json::from_slice(&zstd::decode_all(&body[..]).expect("zstd body"))
                    .expect("JSON batch");
            assert_eq!(json["seq"].to_string(), headers["x-vigil-seq"]);
            for event in json["events"].as_array().expect("events") {
                seen.events.push((
                    event["event.id"].as_str().expect("id").to_owned(),
                    event["message"].as_str().expect("message").to_owned(),
                ));
            }
            200
        };
        seen.statuses.push(status);
        seen.headers.push(headers);
        drop(seen);
        let reason = match status {
            200 => "OK",
            401 => "Unauthorized",
            _ => "Service Unavailable",
        };
        let stream = reader.get_mut();
        write!(
            stream,
            "HTTP/1.1 {status} {reason}\r\ncontent-length: 0\r\n\r\n"
        )?;
        stream.flush()?;
    }
}

#[test]
fn forwards_reach_an_https_endpoint_and_a_syslog_tls_receiver() {
    let root = tempfile::tempdir().expect("temp dir");
    let pki = root.path().join("pki");
    certs_init(&pki, &["agency-soc"]);
    let token_file = root.path().join("token");
    std::fs::write(&token_file, "s3cret-token\n").expect("token");
    let (https_port, seen) = https_endpoint(&pki, "s3cret-token");

    // The national receiver: syslog over TLS, no client certificate needed.
    let national_root = root.path().join("national");
    std::fs::create_dir_all(&national_root).expect("dir");
    let national_config = write_tls_config(&national_root, &pki, "");
    let text = std::fs::read_to_string(&national_config)
        .expect("config")
        .replace("client_auth = \"required\"", "client_auth = \"none\"");
    std::fs::write(&national_config, text).expect("config");
    let national = Server::start(&national_root, &national_config);
    let national_tls = national.address("syslog-tls");

    let agency_root = root.path().join("agency");
    std::fs::create_dir_all(&agency_root).expect("dir");
    let forwards = format!(
        r#"[[forward]]
name = "api"
type = "https"
url = "https://127.0.0.1:{https_port}/ingest"
ca = "{pki}/ca.crt"
bearer_token_file = "{token}"
query = "breach"

[[forward]]
name = "siem"
type = "syslog_tls"
servers = ["{national_tls}"]
ca = "{pki}/ca.crt"
query = "log.syslog.severity.code:2"
"#,
        pki = pki.display(),
        token = token_file.display(),
    );
    let agency_config = write_config(&agency_root, &forwards);
    let agency = Server::start(&agency_root, &agency_config);

    let mut device =
        TcpStream::connect(agency.address("syslog-tcp")).expect("connect to the agency");
    let mut lines = String::new();
    for seq in 0..300 {
        let (severity, word) = match seq % 3 {
            0 => (130, "breach"),
            1 => (134, "routine"),
            _ => (131, "other"),
        };
        lines.push_str(&format!(
            "<{severity}>1 2026-11-27T10:00:00.000Z db-1 audit - - - {word} detected seq={seq}\n"
        ));
    }
    device.write_all(lines.as_bytes()).expect("send");

    // HTTPS: every "breach" once, after a 503 made the first batch come again.
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.lock().expect("lock").events.len() < 100 {
        assert!(
            Instant::now() < deadline,
            "HTTPS endpoint got {} events:\n{}",
            seen.lock().expect("lock").events.len(),
            agency.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.statuses[0], 503, "the first batch was refused once");
    assert!(seen.statuses[1..].iter().all(|status| *status == 200));
    assert_eq!(seen.events.len(), 100, "each breach once");
    let ids: HashSet<&str> = seen.events.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), 100);
    assert!(seen
        .events
        .iter()
        .all(|(_, message)| message.contains("breach")));
    assert_eq!(
        seen.headers[0]["x-vigil-seq"],
        seen.headers[1]["x-vigil-seq"]
    );
    assert!(seen.headers[1].contains_key("idempotency-key"));
    drop(seen);
    assert!(
        agency.metric("vigil_channel_batches_resent_total", &[("sender", "api")]) >= 1,
        "the batch sent again after the 503 is counted as a resend"
    );

    // syslog/TLS: the critical events at the national SOC, their JSON as the message.
    let answer = national.wait_for_total("breach", 100, 200, 60);
    assert_eq!(answer["total"].as_u64(), Some(100), "{}", agency.log());
    let event = &answer["events"][0];
    assert_eq!(event["host.name"], "db-1");
    let body: serde_json::Value =
        serde_json::from_str(event["message"].as_str().expect("message")).expect("JSON body");
    assert_eq!(body["log.syslog.severity.code"], 2);
    assert_eq!(body["vigil.tenant"], "unmapped");
    assert!(agency.metric("vigil_forward_events_total", &[("forward", "siem")]) >= 100);
}
