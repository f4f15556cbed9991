//! Syslog over TLS (RFC 5425) against the real `vigil serve`: certificates from `vigil certs`,
//! mutual TLS with an allow-list that maps a client to a tenant, rsyslog's zlib stream inside
//! TLS and on plain TCP, TLS 1.2 and 1.3; and every kind of refused client counted by reason,
//! with none of its messages kept.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::Server;
use rustls::pki_types::ServerName;

/// Agency A is allowed (level 4); so is "expired", whose certificate is out of date.
const CLIENTS: &str = r#"[[listeners.clients]]
identity = "agency-a"
tenant = "agency-a"
level = 4
[[listeners.clients]]
identity = "expired"
tenant = "agency-a"
"#;

/// `count` octet-counted RFC 5424 lines from `app`.
fn lines(app: &str, count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for n in 0..count {
        let line = format!(
            "<134>1 2026-11-27T01:02:03.000004Z tls-host {app} 77 - - message {n} from {app}"
        );
        out.extend_from_slice(format!("{} {line}", line.len()).as_bytes());
    }
    out
}

fn client_config(
    pki: &Path,
    client: Option<(&Path, &str)>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in vigil_tls::config::load_certs(&pki.join("ca.crt")).expect("CA") {
        roots.add(cert).expect("root");
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .expect("versions")
    .with_root_certificates(roots);
    let config = match client {
        Some((dir, name)) => builder
            .with_client_auth_cert(
                vigil_tls::config::load_certs(&dir.join(format!("client-{name}.crt")))
                    .expect("client cert"),
                vigil_tls::config::load_key(&dir.join(format!("client-{name}.key")))
                    .expect("client key"),
            )
            .expect("client auth"),
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

/// Connects, sends `payload` over TLS, says close_notify and reads until the server closes.
/// Errors are the point for refused clients, so they are returned, not raised.
fn send_tls(
    address: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    payload: &[u8],
) -> std::io::Result<()> {
    send_tls_then(address, config, payload, true).map(|_| ())
}

/// As [`send_tls`]; with `drain` false, closes without reading anything, as a sender that only
/// ever writes does. Returns how many bytes the server had sent after the handshake by then:
/// any would make the sender's kernel reset the connection on close, and the reset would throw
/// away whatever the server had not read yet.
fn send_tls_then(
    address: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    payload: &[u8],
    drain: bool,
) -> std::io::Result<usize> {
    let tcp = TcpStream::connect(address)?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    let name = ServerName::try_from("localhost").expect("server name");
    let connection = rustls::ClientConnection::new(config, name).map_err(std::io::Error::other)?;
    let mut stream = rustls::StreamOwned::new(connection, tcp);
    stream.write_all(payload)?;
    stream.flush()?;
    stream.conn.send_close_notify();
    stream.flush()?;
    if !drain {
        // Whatever the server sent after its Finished (TLS 1.3 session tickets) is here by now.
        std::thread::sleep(Duration::from_millis(300));
        stream.sock.set_nonblocking(true)?;
        let unread = match stream.sock.peek(&mut [0u8; 1024]) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => 0,
            Err(error) => return Err(error),
        };
        return Ok(unread);
    }
    let mut rest = Vec::new();
    match stream.read_to_end(&mut rest) {
        Ok(_) => Ok(0),
        // The server closes without close_notify of its own once it has read everything.
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
        Err(error) => Err(error),
    }
}

fn zlib(payload: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // rsyslog flushes its stream per batch; two halves, each sync-flushed, do the same.
    let (first, second) = payload.split_at(payload.len() / 2);
    encoder.write_all(first).expect("deflate");
    encoder.flush().expect("sync flush");
    encoder.write_all(second).expect("deflate");
    encoder.finish().expect("finish")
}

#[test]
fn mutual_tls_with_and_without_zlib_and_every_refusal_counted() {
    let root = tempfile::tempdir().expect("temp dir");
    let pki = root.path().join("pki");
    let other = root.path().join("other-pki");
    common::certs_init(&pki, &["agency-a", "stranger"]);
    common::certs_init(&other, &["agency-a"]);
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(pki.join("client-agency-a.key"))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "private keys are owner-only");
    }
    // Expired yesterday, from the right CA and on the allow-list: only its dates are wrong.
    let now = time::OffsetDateTime::now_utc();
    vigil_tls::pki::issue_client(
        &pki,
        "expired",
        vigil_tls::pki::Validity {
            not_before: now - time::Duration::days(30),
            not_after: now - time::Duration::days(1),
        },
    )
    .expect("expired certificate");

    let config = common::write_tls_config(root.path(), &pki, CLIENTS);
    let mut server = Server::start(root.path(), &config);
    let tls = server.address("syslog-tls");
    let tcp = server.address("syslog-tcp");
    let both = &[&rustls::version::TLS13, &rustls::version::TLS12][..];

    // Good clients: TLS 1.3 plain, TLS 1.2 plain, TLS 1.3 with zlib, and zlib on plain TCP.
    let agency = client_config(&pki, Some((&pki, "agency-a")), both);
    send_tls(tls, agency.clone(), &lines("tls13", 300)).expect("TLS 1.3 client");
    let tls12_only = client_config(&pki, Some((&pki, "agency-a")), &[&rustls::version::TLS12]);
    send_tls(tls, tls12_only, &lines("tls12", 200)).expect("TLS 1.2 client");
    send_tls(tls, agency.clone(), &zlib(&lines("tlszlib", 500))).expect("zlib in TLS");
    // A sender that writes 40,000 lines and closes without reading: had the server sent it
    // anything (TLS 1.3 session tickets), the unread bytes would reset the connection and lose
    // the tail of what it wrote.
    let unread =
        send_tls_then(tls, agency, &lines("writeonly", 40_000), false).expect("write-only client");
    assert_eq!(unread, 0, "the server sends nothing after the handshake");
    {
        let mut stream = TcpStream::connect(tcp).expect("connect TCP");
        stream
            .write_all(&zlib(&lines("tcpzlib", 400)))
            .expect("zlib on TCP");
    }

    // Hostile zlib on plain TCP: a bomb (64 MiB of zeros in ~64 KiB) and a corrupt stream. Each
    // connection is closed and counted; nothing else is hurt.
    for hostile in [
        zlib(&vec![0u8; 64 * 1024 * 1024]),
        [&[0x78u8, 0x9c][..], &[0xff; 4096][..]].concat(),
    ] {
        let mut stream = TcpStream::connect(tcp).expect("connect TCP");
        let _ = stream.write_all(&hostile);
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let _ = stream.read(&mut [0u8; 16]);
    }

    // A slowloris: connects to the TLS port and never says hello.
    let silent = TcpStream::connect(tls).expect("connect");

    // Refused clients, each sending lines that must never be kept.
    let refused = lines("refused", 5);
    let _ = send_tls(
        tls,
        client_config(&pki, Some((&other, "agency-a")), both),
        &refused,
    );
    let _ = send_tls(
        tls,
        client_config(&pki, Some((&pki, "expired")), both),
        &refused,
    );
    let _ = send_tls(
        tls,
        client_config(&pki, Some((&pki, "stranger")), both),
        &refused,
    );
    let _ = send_tls(tls, client_config(&pki, None, both), &refused);
    {
        let mut plain = TcpStream::connect(tls).expect("connect");
        let _ = plain.write_all(&refused);
        let _ = plain.read(&mut [0u8; 64]);
    }

    for (app, count) in [
        ("tls13", 300),
        ("tls12", 200),
        ("tlszlib", 500),
        ("tcpzlib", 400),
    ] {
        let answer = server.wait_for_total(&format!("process.name:{app}"), count, 1, 30);
        assert_eq!(answer["total"], count, "{app}:\n{}", server.log());
        if app != "tcpzlib" {
            let event = &answer["events"][0];
            assert_eq!(event["vigil.tenant"], "agency-a", "{event}");
            assert_eq!(event["vigil.level"], 4, "{event}");
            assert_eq!(event["host.name"], "tls-host", "{event}");
        }
    }
    let failures = "vigil_collect_tls_handshake_failures_total";
    for reason in [
        "unknown_ca",
        "certificate_expired",
        "identity_not_allowed",
        "no_client_certificate",
        "not_tls",
        "timeout",
    ] {
        let labels = [("listener", "syslog-tls"), ("reason", reason)];
        assert_eq!(
            server.wait_for_metric(failures, &labels, 1, 10),
            1,
            "{reason}:\n{}\n{}",
            server.get("/metrics").1,
            server.log()
        );
    }
    assert_eq!(server.metric(failures, &[("listener", "syslog-tls")]), 6);
    drop(silent);
    assert_eq!(
        server.metric(
            "vigil_collect_tls_handshakes_total",
            &[("listener", "syslog-tls")]
        ),
        4
    );
    assert_eq!(
        server.metric("vigil_collect_zlib_streams_total", &[]),
        4,
        "one zlib stream in TLS, three on TCP (one good, two hostile)"
    );
    assert_eq!(server.search("process.name:refused", 1)["total"], 0);
    assert_eq!(
        server.wait_for_metric(
            "vigil_collect_errors_total",
            &[("listener", "syslog-tcp"), ("kind", "decompress")],
            2,
            10
        ),
        2,
        "the bomb and the corrupt stream:\n{}",
        server.log()
    );
    assert!(server.stop().success());
}

#[test]
fn serve_makes_a_local_ca_on_first_start_and_reuses_it() {
    let root = tempfile::tempdir().expect("temp dir");
    let config = common::write_config(
        root.path(),
        "[[listeners]]\ntype = \"syslog_tls\"\nname = \"syslog-tls\"\naddress = \"127.0.0.1:0\"\n",
    );
    let mut server = Server::start(root.path(), &config);
    let ca = server.data.join("tls/ca.crt");
    assert!(ca.exists(), "{}", server.log());
    let first = std::fs::read(&ca).expect("CA");
    assert!(server.log().contains("made a local CA"), "{}", server.log());

    // A client that trusts that CA and has no certificate: accepted (client_auth optional).
    let data = server.data.clone();
    let anonymous = client_config(&data.join("tls"), None, &[&rustls::version::TLS13]);
    send_tls(
        server.address("syslog-tls"),
        anonymous,
        &lines("firststart", 10),
    )
    .expect("TLS with the local CA");
    assert_eq!(
        server.wait_for_total("process.name:firststart", 10, 1, 30)["total"],
        10
    );
    // The API is HTTPS with the same local CA (every other test talks to it so); plain HTTP
    // gets no answer.
    assert_eq!(server.get("/healthz"), (200, "ok\n".to_string()));
    {
        let mut plain = TcpStream::connect(server.address("api")).expect("connect");
        plain
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        plain
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("send");
        let mut answer = Vec::new();
        let _ = plain.read_to_end(&mut answer);
        assert!(
            !String::from_utf8_lossy(&answer).contains("200 OK"),
            "plain HTTP must not be served: {answer:?}"
        );
    }
    assert!(server.stop().success());

    let mut again = Server::start(root.path(), &config);
    assert_eq!(std::fs::read(&ca).expect("CA"), first, "the CA is kept");
    assert!(again.log().contains("TLS listeners use the local CA"));
    assert!(again.stop().success());
}
