//! Crash safety: while a TCP sender streams, `kill -9` the server at a random moment, restart it,
//! five times. Every event the archive holds (it holds exactly the batches fsynced before a kill,
//! the torn tail is cut) is searchable exactly once, counted by `event.id`.

mod common;

use std::collections::HashSet;
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{vigil, write_config, Server};

/// Streams octet-counted RFC 5424 lines (about 2,500/s, so one round stays under the 10,000
/// events one search returns) until the connection breaks or `stop` is set.
fn stream(port: u16, round: usize, stop: Arc<AtomicBool>, sent: Arc<AtomicU64>) {
    let Ok(mut connection) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let mut chunk = Vec::new();
        for _ in 0..50 {
            let line = format!("<134>1 2026-11-26T10:00:00.000Z crash-host round-{round} - - - round {round} seq={seq} payload for the crash test");
            chunk.extend_from_slice(format!("{} {line}", line.len()).as_bytes());
            seq += 1;
        }
        if connection.write_all(&chunk).is_err() {
            return;
        }
        sent.fetch_add(50, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A pseudo-random delay from the clock: each run kills at other moments.
fn random_millis(low: u64, high: u64, salt: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0) as u64;
    low + (nanos ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15)) % (high - low)
}

fn archived_events(data: &std::path::Path) -> u64 {
    let (code, stdout, stderr) = vigil(&["verify", "--data-dir", data.to_str().expect("path")]);
    assert_eq!(
        code, 0,
        "archive chain must be intact after a kill -9:\n{stdout}\n{stderr}"
    );
    let last = stdout.lines().last().expect("summary line");
    last.split(", ")
        .find_map(|part| part.strip_suffix(" events"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the event count from {last:?}"))
}

#[test]
fn kill_nine_during_ingest_loses_nothing_synced_and_indexes_nothing_twice() {
    let root = tempfile::tempdir().expect("temp dir");
    let config = write_config(root.path(), "");
    let mut server = Server::start(root.path(), &config);
    let mut total_sent = 0;
    let mut replayed = 0;
    for round in 0..5 {
        let port = server.address("syslog-tcp").port();
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let sender = {
            let (stop, sent) = (stop.clone(), sent.clone());
            std::thread::spawn(move || stream(port, round, stop, sent))
        };
        std::thread::sleep(Duration::from_millis(random_millis(
            300,
            1_500,
            round as u64,
        )));
        server.kill9();
        stop.store(true, Ordering::Relaxed);
        sender.join().expect("sender");
        total_sent += sent.load(Ordering::Relaxed);
        assert!(
            sent.load(Ordering::Relaxed) > 0,
            "round {round} sent nothing"
        );

        let archived = archived_events(&server.data);
        server = Server::start(root.path(), &config);
        // The restart replays the archive tail; then the index holds exactly the archive.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut ids = HashSet::new();
        let mut indexed = 0;
        while Instant::now() < deadline {
            ids.clear();
            indexed = 0;
            for earlier in 0..=round {
                let answer = server.search(&format!("process.name:round-{earlier}"), 10_000);
                indexed += answer["total"].as_u64().expect("total");
                for event in answer["events"].as_array().expect("events") {
                    ids.insert(event["event.id"].as_str().expect("id").to_owned());
                }
            }
            if indexed >= archived {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(
            indexed,
            archived,
            "round {round}: the index must hold every archived event:\n{}",
            server.log()
        );
        assert_eq!(
            ids.len() as u64,
            archived,
            "round {round}: an event id was indexed twice"
        );
        assert!(archived <= total_sent, "more archived than sent");
        assert!(archived > 0, "round {round}: nothing was archived");
        replayed += server.metric("vigil_index_replayed_events_total", &[]);
    }
    // The kills landed between archive fsync and index commit: the replay path ran.
    assert!(replayed > 0, "no restart replayed the archive tail");
    assert!(server.stop().success(), "{}", server.log());
    // A clean stop after the last restart leaves the chain whole too.
    archived_events(&server.data);
}
