//! `vigil agent` → `vigil serve` over the channel, with real processes and `kill -9`:
//! every event an agent accepted arrives exactly once (counted by `event.id` and by the
//! sequence number each line carries) whether the server is killed, down for a minute, or the
//! agent itself is killed while tailing a file; a full outbox holds its inputs back.

mod common;

use std::collections::HashSet;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{channel_setup, Agent, Server};

/// Events per verification query (the search API returns at most 10,000).
const CHUNK: u64 = 5_000;

/// One line: `seq` and its chunk are words of the message, so a chunk can be searched.
fn line(tag: &str, seq: u64, padding: &str) -> String {
    format!(
        "<134>1 2026-11-27T10:00:00.000Z load-host {tag} - - - {tag} seq={seq} k{} {padding}\n",
        seq / CHUNK
    )
}

/// Writes lines `0..count` to `address` over TCP (LF framing), `pace` lines at a time with a
/// short pause between, and counts what it wrote.
fn send(address: SocketAddr, tag: &str, count: u64, pace: u64, written: &AtomicU64) {
    let mut connection = TcpStream::connect(address).expect("connect to the agent");
    let mut seq = 0;
    while seq < count {
        let mut chunk = String::new();
        let end = (seq + pace).min(count);
        for n in seq..end {
            chunk.push_str(&line(tag, n, "payload of the agent channel test"));
        }
        connection
            .write_all(chunk.as_bytes())
            .expect("the agent takes every line");
        seq = end;
        written.store(seq, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(5));
    }
    connection.flush().expect("flush");
}

/// Every line `0..count` of `tag` is at the server exactly once: per chunk, the search total
/// equals the chunk's size, and the ids and sequence numbers are distinct and complete.
fn assert_exactly_once(server: &Server, tag: &str, count: u64) {
    let total = server.wait_for_total(tag, count, 1, 120)["total"]
        .as_u64()
        .expect("total");
    assert_eq!(
        total,
        count,
        "every accepted event arrives, and only once:\n{}",
        server.log()
    );
    let mut ids = HashSet::new();
    for chunk in 0..count.div_ceil(CHUNK) {
        let expected = (count - chunk * CHUNK).min(CHUNK);
        let answer = server.search(&format!("{tag} AND k{chunk}"), 2 * CHUNK as usize);
        assert_eq!(answer["total"].as_u64(), Some(expected), "chunk {chunk}");
        let mut seqs = HashSet::new();
        for event in answer["events"].as_array().expect("events") {
            ids.insert(event["event.id"].as_str().expect("id").to_owned());
            let message = event["message"].as_str().expect("message");
            let seq = message
                .split_whitespace()
                .find_map(|word| word.strip_prefix("seq="))
                .and_then(|seq| seq.parse::<u64>().ok())
                .expect("seq in the message");
            assert!(seqs.insert(seq), "seq {seq} twice");
            assert_eq!(seq / CHUNK, chunk);
        }
        assert_eq!(seqs.len() as u64, expected, "chunk {chunk} complete");
    }
    assert_eq!(ids.len() as u64, count, "one id per event");
}

#[test]
fn server_killed_three_times_while_an_agent_streams_200k_events_loses_and_doubles_none() {
    let root = tempfile::tempdir().expect("temp dir");
    let (pki, port, config) = channel_setup(root.path());
    let mut server = Server::start(root.path(), &config);
    let agent = Agent::start(
        root.path(),
        &pki,
        "agent-1",
        port,
        &["--syslog-tcp", "127.0.0.1:0"],
    );
    let count = 200_000;
    let written = Arc::new(AtomicU64::new(0));
    let sender = {
        let (address, written) = (agent.address("syslog-tcp"), written.clone());
        std::thread::spawn(move || send(address, "killload", count, 500, &written))
    };
    for kill in 1..=3u64 {
        // Kill while the server is taking the stream: at a quarter, a half, three quarters.
        let deadline = Instant::now() + Duration::from_secs(120);
        while server.search("killload", 1)["total"].as_u64().unwrap_or(0) < kill * count / 4 {
            assert!(
                Instant::now() < deadline,
                "the stream stalled:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server.kill9();
        std::thread::sleep(Duration::from_millis(300));
        server = Server::start(root.path(), &config);
    }
    sender.join().expect("sender");
    assert_exactly_once(&server, "killload", count);
    assert!(
        agent.metric("vigil_channel_sessions_failed_total", &[]) >= 3,
        "each kill ended a session:\n{}",
        agent.log()
    );
    // The agent drained its outbox.
    let deadline = Instant::now() + Duration::from_secs(30);
    while agent.metric("vigil_channel_outbox_batches", &[]) > 0 {
        assert!(Instant::now() < deadline, "outbox not drained");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn server_down_a_minute_the_agent_buffers_on_disk_and_delivers_everything() {
    let root = tempfile::tempdir().expect("temp dir");
    let (pki, port, config) = channel_setup(root.path());
    let agent = Agent::start(
        root.path(),
        &pki,
        "agent-1",
        port,
        &["--syslog-tcp", "127.0.0.1:0"],
    );
    let count = 20_000;
    let written = AtomicU64::new(0);
    send(
        agent.address("syslog-tcp"),
        "download",
        count,
        1_000,
        &written,
    );
    let down_since = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(30);
    while agent.metric("vigil_channel_events_queued_total", &[]) < count {
        assert!(
            Instant::now() < deadline,
            "agent did not queue: {}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(agent.metric("vigil_channel_outbox_batches", &[]) > 0);
    assert_eq!(agent.metric("vigil_channel_connected", &[]), 0);
    let outbox_files = std::fs::read_dir(root.path().join("agent/outbox"))
        .expect("outbox dir")
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "obx"))
        .count();
    assert!(outbox_files > 0, "the batches are on disk");
    std::thread::sleep(Duration::from_secs(60).saturating_sub(down_since.elapsed()));

    let server = Server::start(root.path(), &config);
    assert_exactly_once(&server, "download", count);
}

#[test]
fn agent_killed_while_tailing_a_file_resumes_without_loss_or_duplicates() {
    let root = tempfile::tempdir().expect("temp dir");
    let (pki, port, config) = channel_setup(root.path());
    let server = Server::start(root.path(), &config);
    let log_path = root.path().join("app.log");
    std::fs::write(&log_path, "").expect("create the log");
    let mut agent = Agent::start(
        root.path(),
        &pki,
        "agent-1",
        port,
        &["--tail", log_path.to_str().expect("path")],
    );
    let count = 30_000u64;
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (path, stop) = (log_path.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .expect("open the log");
            for seq in 0..count {
                file.write_all(line("tailload", seq, "tailed line").as_bytes())
                    .expect("append");
                if seq % 300 == 0 {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if stop.load(Ordering::Relaxed) {
                    return;
                }
            }
        })
    };
    for _ in 0..2 {
        std::thread::sleep(Duration::from_millis(700));
        agent.kill9();
        agent.restart();
    }
    writer.join().expect("writer");
    stop.store(true, Ordering::Relaxed);
    assert_exactly_once(&server, "tailload", count);
    // A clean stop keeps what is acknowledged acknowledged: a restart sends nothing again.
    assert!(agent.stop().success(), "{}", agent.log());
}

/// A NetFlow v5 packet of `bytes.len()` TCP flows from 10.9.0.N:40000 to 192.0.2.1:22, exported now.
fn netflow_v5(bytes: &[u32]) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut packet = Vec::new();
    packet.extend_from_slice(&5u16.to_be_bytes());
    packet.extend_from_slice(&u16::try_from(bytes.len()).expect("count").to_be_bytes());
    packet.extend_from_slice(&100_000u32.to_be_bytes());
    packet.extend_from_slice(&u32::try_from(now).expect("secs").to_be_bytes());
    packet.extend_from_slice(&[0; 4 + 4 + 4]);
    for (n, octets) in bytes.iter().enumerate() {
        packet.extend_from_slice(&[10, 9, 0, u8::try_from(n).expect("n"), 192, 0, 2, 1]);
        packet.extend_from_slice(&[0; 4 + 2 + 2]);
        packet.extend_from_slice(&3u32.to_be_bytes());
        packet.extend_from_slice(&octets.to_be_bytes());
        packet.extend_from_slice(&99_000u32.to_be_bytes());
        packet.extend_from_slice(&99_500u32.to_be_bytes());
        packet.extend_from_slice(&40_000u16.to_be_bytes());
        packet.extend_from_slice(&22u16.to_be_bytes());
        packet.extend_from_slice(&[0, 0x1b, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    }
    packet
}

#[test]
fn an_agent_takes_syslog_over_tls_and_udp_and_flows_too() {
    let root = tempfile::tempdir().expect("temp dir");
    let (pki, port, config) = channel_setup(root.path());
    let server = Server::start(root.path(), &config);
    let agent = Agent::start(
        root.path(),
        &pki,
        "agent-1",
        port,
        &[
            "--syslog-tls",
            "127.0.0.1:0",
            "--syslog-tls-cert",
            pki.join("server.crt").to_str().expect("path"),
            "--syslog-tls-key",
            pki.join("server.key").to_str().expect("path"),
            "--syslog-udp",
            "127.0.0.1:0",
            "--netflow",
            "127.0.0.1:0",
        ],
    );
    let tls = vigil_tls::client_config(&pki.join("ca.crt"), None).expect("client config");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let connection = rustls::ClientConnection::new(tls, name).expect("connection");
    let tcp = TcpStream::connect(agent.address("syslog-tls")).expect("connect");
    let mut stream = rustls::StreamOwned::new(connection, tcp);
    for seq in 0..100 {
        stream
            .write_all(line("tlsload", seq, "over TLS to the agent").as_bytes())
            .expect("write");
    }
    stream.flush().expect("flush");
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    for seq in 0..10 {
        udp.send_to(
            line("udpload", seq, "over UDP").trim_end().as_bytes(),
            agent.address("syslog-udp"),
        )
        .expect("send");
    }
    assert_exactly_once(&server, "tlsload", 100);
    let udp_total = server.wait_for_total("udpload", 10, 1, 30)["total"].as_u64();
    assert_eq!(udp_total, Some(10));
    // Flows through the agent keep their exporter (observer.ip) and flow fields.
    udp.send_to(&netflow_v5(&[1_000, 2_000]), agent.address("netflow"))
        .expect("send flows");
    let flows = server.wait_for_total(
        "event.dataset:\"netflow.v5\" AND destination.port:22",
        2,
        2,
        30,
    );
    assert_eq!(flows["total"], 2, "{flows}");
    let mut bytes: Vec<u64> = flows["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| {
            assert_eq!(event["observer.ip"], "127.0.0.1", "{event}");
            assert_eq!(event["observer.hostname"], "agent-1", "{event}");
            event["network.bytes"].as_u64().expect("bytes")
        })
        .collect();
    bytes.sort_unstable();
    assert_eq!(bytes, [1_000, 2_000]);
    stream.conn.send_close_notify();
    let _ = stream.flush();
}

#[test]
fn a_full_outbox_holds_the_inputs_back_and_drops_nothing() {
    let root = tempfile::tempdir().expect("temp dir");
    let (pki, port, config) = channel_setup(root.path());
    let agent = Agent::start(
        root.path(),
        &pki,
        "agent-1",
        port,
        &["--syslog-tcp", "127.0.0.1:0", "--outbox-max-mib", "1"],
    );
    // Lines that compress poorly: 30 MB, more than the outbox (1 MiB), the pipeline and the
    // socket buffers hold.
    let count = 30_000u64;
    let written = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let sender = {
        let (address, written, done) = (agent.address("syslog-tcp"), written.clone(), done.clone());
        std::thread::spawn(move || {
            let mut connection = TcpStream::connect(address).expect("connect");
            let mut state = 0x9e37_79b9_7f4a_7c15u64;
            for seq in 0..count {
                let mut padding = String::with_capacity(1_000);
                for _ in 0..60 {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    padding.push_str(&format!("{state:016x}"));
                }
                connection
                    .write_all(line("fullload", seq, &padding).as_bytes())
                    .expect("write");
                written.store(seq + 1, Ordering::SeqCst);
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while agent.metric("vigil_channel_outbox_full", &[]) == 0 {
        assert!(
            Instant::now() < deadline,
            "outbox never full:\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Held back: the sender cannot finish while the outbox is full.
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !done.load(Ordering::SeqCst),
        "backpressure reached the sender"
    );
    let held = written.load(Ordering::SeqCst);
    assert!(held < count);
    assert!(agent.log().contains("outbox full"), "{}", agent.log());

    let server = Server::start(root.path(), &config);
    sender.join().expect("sender");
    assert_exactly_once(&server, "fullload", count);
    assert_eq!(agent.metric("vigil_channel_outbox_full", &[]), 0);
}
