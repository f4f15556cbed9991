//! Real syslog clients against `vigil serve`: rsyslog over TLS with the GnuTLS and the OpenSSL
//! drivers, each with and without zlib stream compression; rsyslog with zlib over plain TCP;
//! syslog-ng over TLS. All with mutual TLS, certificates from `vigil certs init`. Every message
//! arrives once with its host, app, severity, time and text.
//!
//! The clients come from `tests/clients/install.sh` (CI runs it and sets
//! `VIGIL_REQUIRE_CLIENTS=1`, which turns a missing client into a failure). Without them, and
//! without that variable, the test says so and passes.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Server;

const MESSAGES: usize = 200;

fn clients_env() -> Option<HashMap<String, String>> {
    let dir = std::env::var("VIGIL_CLIENTS_DIR").unwrap_or_else(|_| "/tmp/vigil-clients".into());
    let text = std::fs::read_to_string(Path::new(&dir).join("env")).ok()?;
    Some(
        text.lines()
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect(),
    )
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

struct Client {
    name: &'static str,
    template: &'static str,
    compression: Option<&'static str>,
    to_tls: bool,
    syslog_ng: bool,
}

/// A client process feeding Vigil, killed when dropped.
struct Running {
    child: Child,
    work: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    fn internal_log(&self) -> String {
        [
            "rsyslog-internal.log",
            "syslog-ng-internal.log",
            "stderr.log",
        ]
        .iter()
        .map(|name| std::fs::read_to_string(self.work.join(name)).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
    }
}

#[allow(clippy::too_many_arguments)]
fn start(
    client: &Client,
    env: &HashMap<String, String>,
    root: &Path,
    pki: &Path,
    port: u16,
    input_port: u16,
) -> Running {
    let work = root.join(client.name);
    std::fs::create_dir_all(&work).expect("work dir");
    let template_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/clients")
        .join(client.template);
    let (mode, level) = match client.compression {
        Some(level) => ("stream:always", level),
        None => ("none", "0"),
    };
    let text = std::fs::read_to_string(&template_path)
        .expect("client template")
        .replace("@PORT@", &port.to_string())
        .replace("@INPUT_PORT@", &input_port.to_string())
        .replace("@WORKDIR@", &work.display().to_string())
        .replace("@CA_FILE@", &pki.join("ca.crt").display().to_string())
        .replace(
            "@CLIENT_CERT@",
            &pki.join("client-agency-a.crt").display().to_string(),
        )
        .replace(
            "@CLIENT_KEY@",
            &pki.join("client-agency-a.key").display().to_string(),
        )
        .replace("@COMPRESSION_MODE@", mode)
        .replace("@ZIPLEVEL@", level);
    let conf = work.join("client.conf");
    std::fs::write(&conf, text).expect("client config");
    let stderr = std::fs::File::create(work.join("stderr.log")).expect("stderr log");
    let mut command = if client.syslog_ng {
        let mut command = Command::new(&env["SYSLOG_NG"]);
        command
            .env("LD_LIBRARY_PATH", &env["SYSLOG_NG_LD_LIBRARY_PATH"])
            .arg("-F")
            .arg("--no-caps")
            .arg("-f")
            .arg(&conf)
            .arg(format!("--module-path={}", env["SYSLOG_NG_MODULE_PATH"]))
            .arg("-p")
            .arg(work.join("sng.pid"))
            .arg("-R")
            .arg(work.join("sng.persist"))
            .arg("-c")
            .arg(work.join("sng.ctl"));
        command
    } else {
        let mut command = Command::new(&env["RSYSLOGD"]);
        command
            .arg("-n")
            .arg("-f")
            .arg(&conf)
            .arg("-i")
            .arg(work.join("rsyslogd.pid"));
        command
    };
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start the client");
    Running { child, work }
}

/// Connects to the client's input (≤ 15 s while it starts) and writes LF-framed RFC 5424 lines.
fn feed(input_port: u16, app: &str, running: &Running) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut stream = loop {
        match TcpStream::connect(("127.0.0.1", input_port)) {
            Ok(stream) => break stream,
            Err(error) => {
                assert!(
                    Instant::now() < deadline,
                    "{app}: input port never opened ({error}):\n{}",
                    running.internal_log()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    };
    let mut text = String::new();
    for n in 0..MESSAGES {
        text.push_str(&format!(
            "<165>1 2026-11-27T01:02:03.123456Z client-host {app} 4242 ID47 - message {n} via {app}\n"
        ));
    }
    stream.write_all(text.as_bytes()).expect("feed the client");
}

#[test]
fn rsyslog_and_syslog_ng_deliver_everything_over_tls_and_zlib() {
    let Some(env) = clients_env() else {
        assert!(
            std::env::var("VIGIL_REQUIRE_CLIENTS").is_err(),
            "VIGIL_REQUIRE_CLIENTS is set but the clients are missing: run tests/clients/install.sh"
        );
        eprintln!("skipped: no real clients (run tests/clients/install.sh as root)");
        return;
    };
    let root = tempfile::tempdir().expect("temp dir");
    let pki = root.path().join("pki");
    common::certs_init(&pki, &["agency-a"]);
    let config = common::write_tls_config(
        root.path(),
        &pki,
        "[[listeners.clients]]\nidentity = \"agency-a\"\ntenant = \"agency-a\"\n",
    );
    let mut server = Server::start(root.path(), &config);

    let clients = [
        Client {
            name: "rs-gtls",
            template: "rsyslog-gtls.conf.in",
            compression: None,
            to_tls: true,
            syslog_ng: false,
        },
        Client {
            name: "rs-gtls-zlib",
            template: "rsyslog-gtls.conf.in",
            compression: Some("6"),
            to_tls: true,
            syslog_ng: false,
        },
        Client {
            name: "rs-ossl",
            template: "rsyslog-ossl.conf.in",
            compression: None,
            to_tls: true,
            syslog_ng: false,
        },
        Client {
            name: "rs-ossl-zlib",
            template: "rsyslog-ossl.conf.in",
            compression: Some("6"),
            to_tls: true,
            syslog_ng: false,
        },
        Client {
            name: "rs-tcp-zlib",
            template: "rsyslog-tcp-zlib.conf.in",
            compression: None,
            to_tls: false,
            syslog_ng: false,
        },
        Client {
            name: "sng-tls",
            template: "syslog-ng-tls.conf.in",
            compression: None,
            to_tls: true,
            syslog_ng: true,
        },
    ];
    for client in &clients {
        let port = server
            .address(if client.to_tls {
                "syslog-tls"
            } else {
                "syslog-tcp"
            })
            .port();
        let input_port = free_port();
        let running = start(client, &env, root.path(), &pki, port, input_port);
        feed(input_port, client.name, &running);
        let query = format!("process.name:\"{}\"", client.name);
        let answer = server.wait_for_total(&query, MESSAGES as u64, 5, 60);
        assert_eq!(
            answer["total"],
            MESSAGES,
            "{}: client log:\n{}\nserver log:\n{}",
            client.name,
            running.internal_log(),
            server.log()
        );
        for event in answer["events"].as_array().expect("events") {
            assert_eq!(event["host.name"], "client-host", "{event}");
            assert_eq!(event["log.syslog.severity.code"], 5, "{event}");
            assert_eq!(event["log.syslog.facility.code"], 20, "{event}");
            let time = event["@timestamp"].as_str().expect("timestamp");
            assert!(time.starts_with("2026-11-27T01:02:03"), "{event}");
            let message = event["message"].as_str().expect("message");
            assert!(
                message.starts_with("message ")
                    && message.ends_with(&format!("via {}", client.name)),
                "{}: {message:?}",
                client.name
            );
            if client.to_tls {
                assert_eq!(event["vigil.tenant"], "agency-a", "{event}");
            }
        }
        drop(running);
    }
    let zlib_streams = server.metric("vigil_collect_zlib_streams_total", &[]);
    assert!(
        zlib_streams >= 3,
        "three clients compress; {zlib_streams} zlib streams"
    );
    assert_eq!(
        server.metric(
            "vigil_collect_tls_handshake_failures_total",
            &[("listener", "syslog-tls")]
        ),
        0,
        "{}",
        server.log()
    );
    assert!(server.stop().success());
}
