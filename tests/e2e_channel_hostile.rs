//! Hostile input on the channel, against the real server: a zstd bomb (a few hundred KiB that
//! expand to 10 GiB), a batch declaring more than the limit, an oversized frame, garbage after
//! the handshake, a slowloris before and after the handshake, plain TCP on the TLS port. Each
//! is refused or closed and counted; the server's memory stays bounded; an agent sending
//! alongside loses nothing.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{channel_setup, Agent, Server};
use vigil_channel::frame::{self, BatchFrame, Frame, Hello};

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// A TLS 1.3 connection with the agent's client certificate.
fn connect(port: u16, pki: &std::path::Path) -> Tls {
    let config = vigil_tls::channel_client_config(
        &pki.join("ca.crt"),
        &pki.join("client-agent-1.crt"),
        &pki.join("client-agent-1.key"),
    )
    .expect("client config");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let connection = rustls::ClientConnection::new(config, name).expect("connection");
    let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).expect("TLS handshake");
    }
    tls
}

fn hello(stream: u8) -> Vec<u8> {
    frame::encode(&Frame::Hello(Hello {
        min_version: 1,
        max_version: 1,
        node: "hostile".into(),
        stream: [stream; 16],
    }))
    .expect("hello")
}

/// Reads until the server closes the connection (an alert or more may come first) or the read
/// timeout passes; true if it closed.
fn closed_by_server(stream: &mut impl Read) -> bool {
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(error) => {
                return !matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                )
            }
        }
    }
}

/// A zstd frame of RLE blocks: `blocks` × 128 KiB of zeros, 4 bytes each.
fn zstd_bomb(blocks: usize) -> Vec<u8> {
    let mut bomb = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3];
    for block in 0..blocks {
        let last = u32::from(block + 1 == blocks);
        let header = (128 * 1024) << 3 | 1 << 1 | last;
        bomb.extend_from_slice(&header.to_le_bytes()[..3]);
        bomb.push(0);
    }
    bomb
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("status")
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .expect("VmRSS")
}

#[test]
fn hostile_channel_input_is_refused_counted_and_hurts_no_other_sender() {
    let root = tempfile::tempdir().expect("temp dir");
    let (pki, port, config) = channel_setup(root.path());
    let server = Server::start(root.path(), &config);
    let agent = Agent::start(
        root.path(),
        &pki,
        "agent-1",
        port,
        &["--syslog-tcp", "127.0.0.1:0"],
    );
    let count = 20_000u64;
    let sender = {
        let address = agent.address("syslog-tcp");
        std::thread::spawn(move || {
            let mut connection = TcpStream::connect(address).expect("connect");
            for seq in 0..count {
                let line = format!(
                    "<134>1 2026-11-27T10:00:00.000Z good-host good - - - goodtraffic seq={seq}\n"
                );
                connection.write_all(line.as_bytes()).expect("write");
                if seq % 1000 == 0 {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        })
    };
    let errors = |kind: &str| {
        server.metric(
            "vigil_channel_errors_total",
            &[("listener", "channel"), ("kind", kind)],
        )
    };
    let rss_before = rss_kib(server.child.id());

    // A zstd bomb: 10 GiB of zeros in 320 KiB, declared as 1 KiB, then declared at the limit.
    for (stream, declared) in [(1u8, 1024u32), (2, 60 * 1024 * 1024)] {
        let mut tls = connect(port, &pki);
        tls.write_all(&hello(stream)).expect("hello");
        let bomb = Frame::Batch(BatchFrame {
            seq: 1,
            events: 1,
            raw_bytes: declared,
            compressed: zstd_bomb(10 * 1024 * 8),
        });
        let _ = tls.write_all(&frame::encode(&bomb).expect("encode"));
        assert!(
            closed_by_server(&mut tls),
            "the bomb's connection is closed"
        );
    }
    // A batch that declares more than the limit is refused before any decompression.
    let mut tls = connect(port, &pki);
    tls.write_all(&hello(3)).expect("hello");
    let huge = Frame::Batch(BatchFrame {
        seq: 1,
        events: 1,
        raw_bytes: u32::MAX,
        compressed: vec![0; 16],
    });
    let _ = tls.write_all(&frame::encode(&huge).expect("encode"));
    assert!(closed_by_server(&mut tls));
    let deadline = Instant::now() + Duration::from_secs(10);
    while errors("batch") < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(errors("batch"), 3, "{}", server.log());

    // An oversized frame: its length alone refuses it.
    let mut tls = connect(port, &pki);
    tls.write_all(&hello(4)).expect("hello");
    let _ = tls.write_all(&(1u32 << 30).to_be_bytes());
    let _ = tls.write_all(&[3u8; 1024]);
    assert!(closed_by_server(&mut tls));
    // Garbage after the handshake, where the hello belongs.
    let mut tls = connect(port, &pki);
    let _ = tls.write_all(b"\x00\x00\x00\x05\x09garbage garbage garbage");
    assert!(closed_by_server(&mut tls));
    let deadline = Instant::now() + Duration::from_secs(10);
    while errors("frame") < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(errors("frame"), 2, "{}", server.log());

    // Slowloris after the handshake: one byte of the hello, then nothing.
    let mut tls = connect(port, &pki);
    tls.write_all(&hello(5)[..1]).expect("one byte");
    let started = Instant::now();
    assert!(closed_by_server(&mut tls));
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(errors("timeout"), 1);
    // Slowloris before it: a TCP connection that never starts TLS.
    let mut idle = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    idle.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    assert!(closed_by_server(&mut idle));
    // Plain TCP (syslog) on the TLS port.
    let mut plain = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    plain
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let _ = plain.write_all(b"<13>1 - host app - - - plain text on the TLS port\n");
    assert!(closed_by_server(&mut plain));
    let failures = |reason: &str| {
        server.metric(
            "vigil_channel_tls_handshake_failures_total",
            &[("listener", "channel"), ("reason", reason)],
        )
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while (failures("timeout") < 1 || failures("not_tls") < 1) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!((failures("timeout"), failures("not_tls")), (1, 1));

    // Memory stayed bounded: the bombs were stopped at their declared size.
    let rss_after = rss_kib(server.child.id());
    eprintln!("server RSS: {rss_before} KiB before the attacks, {rss_after} KiB after");
    assert!(
        rss_after < rss_before + 256 * 1024,
        "RSS grew from {rss_before} to {rss_after} KiB"
    );

    // The agent alongside lost nothing.
    sender.join().expect("sender");
    let answer = server.wait_for_total("goodtraffic", count, 1, 120);
    assert_eq!(answer["total"].as_u64(), Some(count), "{}", server.log());
}
