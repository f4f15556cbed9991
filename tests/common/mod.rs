//! What the end-to-end tests share: start the real `vigil` binary on free loopback ports in a
//! temp folder, talk to its API, stop or kill it. Every wait has a deadline.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const VIGIL: &str = env!("CARGO_BIN_EXE_vigil");

/// A running `vigil serve`.
pub struct Server {
    pub child: Child,
    pub root: PathBuf,
    pub data: PathBuf,
    pub config: PathBuf,
    pub addresses: HashMap<String, SocketAddr>,
    pub token: String,
}

/// Writes `vigil.toml` in `root`: data in `root/data`, the API on a free loopback port, quick
/// commits, then `listeners`.
fn write_with(root: &Path, listeners: &str) -> PathBuf {
    let text = format!(
        "data_dir = \"{data}\"\nnode_name = \"test-node\"\n[api]\nlisten = \"127.0.0.1:0\"\n\
         [index]\ncommit_interval = \"200ms\"\n{listeners}",
        data = root.join("data").display()
    );
    let path = root.join("vigil.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// A config on loopback port 0 with quick commits, plus whatever the test adds.
pub fn write_config(root: &Path, extra: &str) -> PathBuf {
    let text = format!(
        r#"[[listeners]]
type = "syslog_udp"
name = "syslog-udp"
address = "127.0.0.1:0"
[[listeners]]
type = "syslog_tcp"
name = "syslog-tcp"
address = "127.0.0.1:0"
idle_timeout = "60s"
{extra}
"#
    );
    write_with(root, &text)
}

/// A config with syslog over TCP and over TLS, both taking zlib streams; the TLS listener uses
/// the certificates `vigil certs init PKI` made, requires client certificates, and ends with
/// `clients` (its `[[listeners.clients]]` tables).
pub fn write_tls_config(root: &Path, pki: &Path, clients: &str) -> PathBuf {
    let text = format!(
        r#"[[listeners]]
type = "syslog_tcp"
name = "syslog-tcp"
address = "127.0.0.1:0"
compression = "zlib"
[[listeners]]
type = "syslog_tls"
name = "syslog-tls"
address = "127.0.0.1:0"
compression = "zlib"
cert = "{pki}/server.crt"
key = "{pki}/server.key"
client_ca = "{pki}/ca.crt"
client_auth = "required"
handshake_timeout = "2s"
{clients}
"#,
        pki = pki.display(),
    );
    write_with(root, &text)
}

/// Runs `vigil certs init DIR --client NAME…` and checks it printed the CA's fingerprint.
pub fn certs_init(dir: &Path, clients: &[&str]) {
    let mut command = Command::new(VIGIL);
    command.args(["certs", "init"]).arg(dir);
    for client in clients {
        command.args(["--client", client]);
    }
    let output = command.output().expect("run vigil certs init");
    assert!(
        output.status.success(),
        "vigil certs init failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains("SHA-256"), "{printed}");
}

impl Server {
    /// Starts `vigil serve --config` and waits (≤ 30 s) for `listening.json`.
    pub fn start(root: &Path, config: &Path) -> Server {
        let data = root.join("data");
        let _ = std::fs::remove_file(data.join("listening.json"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join("server.log"))
            .expect("server log");
        let child = Command::new(VIGIL)
            .arg("serve")
            .arg("--config")
            .arg(config)
            .env("VIGIL_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start vigil serve");
        let mut server = Server {
            child,
            root: root.to_owned(),
            data: data.clone(),
            config: config.to_owned(),
            addresses: HashMap::new(),
            token: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(text) = std::fs::read_to_string(data.join("listening.json")) {
                let parsed: HashMap<String, String> =
                    serde_json::from_str(&text).expect("listening.json");
                server.addresses = parsed
                    .into_iter()
                    .map(|(name, address)| (name, address.parse().expect("address")))
                    .collect();
                break;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "vigil serve exited with {status} before it was ready:\n{}",
                    server.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "vigil serve not ready in 30 s:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server.token = std::fs::read_to_string(data.join("secrets/api-token"))
            .expect("api token")
            .trim()
            .to_owned();
        server
    }

    /// The local CA `serve` made on first start; the API's certificate chains to it.
    pub fn ca(&self) -> PathBuf {
        self.data.join("tls/ca.crt")
    }

    pub fn address(&self, name: &str) -> SocketAddr {
        self.addresses[name]
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default()
    }

    /// GET with the token; returns status and body.
    pub fn get(&self, path_and_query: &str) -> (u16, String) {
        http_get(
            self.address("api"),
            path_and_query,
            Some(&self.token),
            &self.ca(),
        )
    }

    /// POST `body` with the token; returns status and body.
    pub fn post(&self, path_and_query: &str, body: &[u8]) -> (u16, String) {
        http_request(
            self.address("api"),
            "POST",
            path_and_query,
            Some(&self.token),
            &self.ca(),
            Some(body),
        )
    }

    pub fn get_json(&self, path_and_query: &str) -> serde_json::Value {
        let (status, body) = self.get(path_and_query);
        assert_eq!(status, 200, "GET {path_and_query}: {body}");
        serde_json::from_str(&body).expect("JSON body")
    }

    pub fn search(&self, query: &str, limit: usize) -> serde_json::Value {
        self.get_json(&format!(
            "/api/v1/search?q={}&from=7d&limit={limit}",
            encode(query)
        ))
    }

    /// Polls until the search total reaches `expected` (≤ `seconds`); returns the last answer.
    pub fn wait_for_total(
        &self,
        query: &str,
        expected: u64,
        limit: usize,
        seconds: u64,
    ) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let answer = self.search(query, limit);
            let total = answer["total"].as_u64().unwrap_or(0);
            if total >= expected || Instant::now() > deadline {
                return answer;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A counter's value from `/metrics` (the series must match all `labels`).
    pub fn metric(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        let (status, text) = self.get("/metrics");
        assert_eq!(status, 200);
        sum_series(&text, name, labels)
    }

    pub fn wait_for_metric(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        at_least: u64,
        seconds: u64,
    ) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let value = self.metric(name, labels);
            if value >= at_least || Instant::now() > deadline {
                return value;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then wait (≤ 60 s) for the exit.
    pub fn stop(&mut self) -> ExitStatus {
        terminate(&mut self.child, 60, &self.root.join("server.log"))
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SIGTERM to `child`, then wait (≤ `seconds`) for its exit; past that, kill it and fail
/// with its log.
fn terminate(child: &mut Child, seconds: u64, log: &Path) -> ExitStatus {
    // SAFETY: signalling our own child by its pid.
    unsafe {
        libc_kill(child.id() as i32, 15);
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{} did not stop in {seconds} s:\n{log}", VIGIL);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

/// A minimal HTTP/1.1 GET (the API is local and plain).
pub fn http_get(
    address: SocketAddr,
    path_and_query: &str,
    token: Option<&str>,
    ca: &Path,
) -> (u16, String) {
    http_request(address, "GET", path_and_query, token, ca, None)
}

/// One HTTPS request with an optional body; returns status and body. A server that answers
/// before it has read the whole body (413) may close early: a failed write is not an error.
pub fn http_request(
    address: SocketAddr,
    method: &str,
    path_and_query: &str,
    token: Option<&str>,
    ca: &Path,
    body: Option<&[u8]>,
) -> (u16, String) {
    let tcp = TcpStream::connect_timeout(&address, Duration::from_secs(5)).expect("connect to API");
    tcp.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let config = vigil_tls::client_config(ca, None).expect("TLS client config");
    let name = rustls::pki_types::ServerName::IpAddress(address.ip().into());
    let connection = rustls::ClientConnection::new(config, name).expect("TLS client");
    let mut stream = rustls::StreamOwned::new(connection, tcp);
    let auth = token
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    let length = body
        .map(|body| format!("Content-Length: {}\r\n", body.len()))
        .unwrap_or_default();
    let request = format!(
        "{method} {path_and_query} HTTP/1.1\r\nHost: {address}\r\n{auth}{length}Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("send request");
    if let Some(body) = body {
        let _ = stream.write_all(body).and_then(|()| stream.flush());
    }
    let mut response = Vec::new();
    if let Err(error) = stream.read_to_end(&mut response) {
        // A server that closes without close_notify after the whole response is fine here.
        assert!(
            error.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty(),
            "read response: {error}"
        );
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// Percent-encodes a query-string value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// Runs `vigil` with arguments; returns exit code and stdout.
pub fn vigil(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(VIGIL).args(args).output().expect("run vigil");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// This machine's host name, as `logger` puts it in messages.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("kernel host name")
        .trim()
        .to_owned()
}

/// Runs `logger` with `lines` on its standard input; panics if it fails.
pub fn logger(args: &[&str], lines: &str) {
    let mut child = Command::new("logger")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("logger (util-linux) must be installed");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(lines.as_bytes())
        .expect("feed logger");
    let output = child.wait_with_output().expect("logger");
    assert!(
        output.status.success(),
        "logger {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Whether `program` is on the PATH (a real client a test drives).
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A loopback port that was free a moment ago (for a server that must come back on the same
/// port after a kill).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// A config whose one listener is the channel on `127.0.0.1:port`, with the certificates
/// `vigil certs init PKI` made, plus `extra` (its `[[listeners.clients]]`, more listeners).
pub fn write_channel_config(root: &Path, pki: &Path, port: u16, extra: &str) -> PathBuf {
    let text = format!(
        r#"[[listeners]]
type = "channel"
name = "channel"
address = "127.0.0.1:{port}"
cert = "{pki}/server.crt"
key = "{pki}/server.key"
client_ca = "{pki}/ca.crt"
handshake_timeout = "2s"
{extra}
"#,
        pki = pki.display(),
    );
    write_with(root, &text)
}

/// What the channel tests start from: `vigil certs init ROOT/pki --client agent-1`, a port
/// for the channel, and a config whose one listener is the channel there.
pub fn channel_setup(root: &Path) -> (PathBuf, u16, PathBuf) {
    let pki = root.join("pki");
    certs_init(&pki, &["agent-1"]);
    let port = free_port();
    let config = write_channel_config(root, &pki, port, "");
    (pki, port, config)
}

/// A running `vigil agent`.
pub struct Agent {
    pub child: Child,
    pub root: PathBuf,
    pub data: PathBuf,
    pub args: Vec<String>,
    pub addresses: HashMap<String, SocketAddr>,
}

impl Agent {
    /// Starts `vigil agent` with its data in `root/agent`, metrics on a free loopback port, the
    /// client certificate `client-NAME` from `pki`, and `args`; waits (≤ 30 s) until it listens.
    pub fn start(root: &Path, pki: &Path, name: &str, server_port: u16, args: &[&str]) -> Agent {
        let data = root.join("agent");
        let mut all: Vec<String> = vec![
            "agent".into(),
            "--server".into(),
            format!("127.0.0.1:{server_port}"),
            "--ca".into(),
            pki.join("ca.crt").display().to_string(),
            "--cert".into(),
            pki.join(format!("client-{name}.crt")).display().to_string(),
            "--key".into(),
            pki.join(format!("client-{name}.key")).display().to_string(),
            "--name".into(),
            name.into(),
            "--data-dir".into(),
            data.display().to_string(),
            "--metrics".into(),
            "127.0.0.1:0".into(),
        ];
        all.extend(args.iter().map(|arg| arg.to_string()));
        let mut agent = Agent {
            child: Self::spawn(root, &all),
            root: root.to_owned(),
            data,
            args: all,
            addresses: HashMap::new(),
        };
        agent.wait_ready();
        agent
    }

    fn spawn(root: &Path, args: &[String]) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join("agent.log"))
            .expect("agent log");
        Command::new(VIGIL)
            .args(args)
            .env("VIGIL_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start vigil agent")
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(text) = std::fs::read_to_string(self.data.join("listening.json")) {
                let parsed: HashMap<String, String> =
                    serde_json::from_str(&text).expect("listening.json");
                self.addresses = parsed
                    .into_iter()
                    .map(|(name, address)| (name, address.parse().expect("address")))
                    .collect();
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("vigil agent exited with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "vigil agent not ready in 30 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the same agent again (after a kill).
    pub fn restart(&mut self) {
        let _ = std::fs::remove_file(self.data.join("listening.json"));
        self.child = Self::spawn(&self.root, &self.args);
        self.wait_ready();
    }

    pub fn address(&self, name: &str) -> SocketAddr {
        self.addresses[name]
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("agent.log")).unwrap_or_default()
    }

    /// A metric's value (summed over the series that match `labels`).
    pub fn metric(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        let mut tcp = TcpStream::connect_timeout(&self.address("metrics"), Duration::from_secs(5))
            .expect("connect to agent metrics");
        tcp.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        tcp.write_all(b"GET /metrics HTTP/1.1\r\nhost: agent\r\n\r\n")
            .expect("request");
        let mut text = String::new();
        tcp.read_to_string(&mut text).expect("response");
        sum_series(&text, name, labels)
    }

    /// SIGKILL.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait (≤ 60 s).
    pub fn stop(&mut self) -> ExitStatus {
        terminate(&mut self.child, 60, &self.root.join("agent.log"))
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The sum of the series of metric `name` whose labels include all of `labels`.
pub fn sum_series(text: &str, name: &str, labels: &[(&str, &str)]) -> u64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            let series = line.split_whitespace().next().unwrap_or("");
            let series_name = series.split('{').next().unwrap_or("");
            series_name == name
                && labels
                    .iter()
                    .all(|(key, value)| series.contains(&format!("{key}=\"{value}\"")))
        })
        .filter_map(|line| line.split_whitespace().last()?.parse::<u64>().ok())
        .sum()
}

/// `logs/` of the shared corpus: `VIGIL_CORPUS`, else `../shared/corpus` beside the project
/// (the opt-in corpus tests).
pub fn corpus_logs() -> PathBuf {
    let corpus = match std::env::var_os("VIGIL_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus"
        )),
    };
    assert!(
        corpus.join("logs").is_dir(),
        "the corpus is not at {} (set VIGIL_CORPUS)",
        corpus.display()
    );
    corpus.join("logs")
}
