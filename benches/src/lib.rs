//! `vigil-benches`: shared helpers of the benchmarks and the load generator.
//!
//! [`LineGenerator`] makes realistic RFC 5424 syslog lines (a few dozen hosts and apps, sshd,
//! firewall, web access, sudo, kernel, cron, mail and database templates with varying addresses,
//! ports, users and paths), so compression and index figures are honest rather than the result
//! of identical padding. Deterministic: a seed gives the same lines.

use std::fmt::Write as _;

/// A small, fast, deterministic pseudo-random generator (SplitMix64); no dependency needed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound > 0`).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

pub const HOSTS: &[&str] = &[
    "fw-edge-01.mof.example",
    "fw-edge-02.mof.example",
    "fw-core-01.moh.example",
    "bastion-01",
    "bastion-02",
    "web-01.portal.gov.example",
    "web-02.portal.gov.example",
    "web-03.portal.gov.example",
    "api-gw-01",
    "api-gw-02",
    "db-pg-01.internal",
    "db-pg-02.internal",
    "db-mysql-01.internal",
    "mail-01.mof.example",
    "mail-02.mof.example",
    "dc-01.ad.example",
    "dc-02.ad.example",
    "vpn-01.mof.example",
    "vpn-02.moh.example",
    "k8s-node-01",
    "k8s-node-02",
    "k8s-node-03",
    "k8s-node-04",
    "lb-01",
    "lb-02",
    "dns-01",
    "dns-02",
    "backup-01",
    "siem-relay-01",
    "jump-hanoi-01",
    "jump-hcm-01",
    "file-01.moj.example",
];

pub const APPS: &[&str] = &[
    "sshd",
    "firewalld",
    "nginx",
    "sudo",
    "kernel",
    "CRON",
    "postfix",
    "postgres",
    "httpd",
    "systemd",
    "openvpn",
    "named",
    "haproxy",
    "auditd",
    "dockerd",
    "kubelet",
];

const USERS: &[&str] = &[
    "root",
    "admin",
    "deploy",
    "oracle",
    "postgres",
    "ubuntu",
    "test",
    "guest",
    "nguyenvan",
    "tranthi",
    "backup",
    "jenkins",
    "ansible",
    "svc-monitor",
    "www-data",
    "operator",
];

const PATHS: &[&str] = &[
    "/",
    "/login",
    "/api/v1/citizens",
    "/api/v1/tax/declarations",
    "/static/app.js",
    "/static/style.css",
    "/wp-login.php",
    "/admin",
    "/api/v1/health",
    "/search?q=passport",
    "/.env",
    "/api/v2/documents/upload",
    "/favicon.ico",
    "/robots.txt",
    "/portal/dashboard",
    "/cgi-bin/luci",
];

const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "curl/8.4.0",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Safari/604.1",
];

/// Words appended to reach the requested size: the kind of key=value tails real logs carry.
const TAIL_WORDS: &[&str] = &[
    "session=",
    "trace=",
    "req=",
    "bytes=",
    "dur_ms=",
    "policy=",
    "zone=",
    "rule=",
    "user=",
    "tid=",
    "status=ok",
    "status=fail",
    "retry=0",
    "retry=1",
    "tls=1.3",
    "tls=1.2",
    "proto=tcp",
    "proto=udp",
    "country=VN",
    "country=US",
    "country=CN",
    "action=allow",
    "action=drop",
    "cache=hit",
    "cache=miss",
];

fn ip(rng: &mut Rng, out: &mut String) {
    let a = rng.pick(&[10u64, 10, 10, 172, 192, 203, 198, 45, 185, 113]);
    let _ = write!(
        out,
        "{a}.{}.{}.{}",
        rng.below(256),
        rng.below(256),
        1 + rng.below(254)
    );
}

/// Appends one message body (after the RFC 5424 header and the seq).
fn body(rng: &mut Rng, app: &str, out: &mut String) {
    match app {
        "sshd" => match rng.below(4) {
            0 | 1 => {
                let invalid = if rng.below(3) == 0 {
                    "invalid user "
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    "Failed password for {invalid}{} from ",
                    rng.pick(USERS)
                );
                ip(rng, out);
                let _ = write!(out, " port {} ssh2", 1024 + rng.below(64_000));
            }
            2 => {
                let _ = write!(out, "Accepted publickey for {} from ", rng.pick(USERS));
                ip(rng, out);
                let _ = write!(
                    out,
                    " port {} ssh2: ED25519 SHA256:{:016x}",
                    1024 + rng.below(64_000),
                    rng.next_u64()
                );
            }
            _ => {
                out.push_str("Disconnected from authenticating user ");
                out.push_str(rng.pick(USERS));
                out.push(' ');
                ip(rng, out);
                let _ = write!(out, " port {} [preauth]", 1024 + rng.below(64_000));
            }
        },
        "firewalld" | "kernel" | "haproxy" => {
            let action = if rng.below(4) == 0 { "ACCEPT" } else { "DROP" };
            let _ = write!(
                out,
                "FINAL_REJECT: {action} IN=eth{} OUT= SRC=",
                rng.below(3)
            );
            ip(rng, out);
            out.push_str(" DST=");
            ip(rng, out);
            let proto = rng.pick(&["TCP", "TCP", "UDP", "ICMP"]);
            let _ = write!(
                out,
                " LEN={} TTL={} PROTO={proto} SPT={} DPT={}",
                40 + rng.below(1400),
                32 + rng.below(96),
                1024 + rng.below(64_000),
                rng.pick(&[22u64, 23, 80, 443, 445, 3389, 3306, 5432, 8080, 53])
            );
        }
        "nginx" | "httpd" => {
            ip(rng, out);
            let method = rng.pick(&["GET", "GET", "GET", "POST", "PUT", "HEAD"]);
            let status = rng.pick(&[200u64, 200, 200, 301, 304, 401, 403, 404, 500, 502]);
            let _ = write!(
                out,
                " - - \"{method} {} HTTP/1.1\" {status} {} \"-\" \"{}\" rt={}.{:03}",
                rng.pick(PATHS),
                rng.below(90_000),
                rng.pick(AGENTS),
                rng.below(3),
                rng.below(1000)
            );
        }
        "sudo" => {
            let _ = write!(
                out,
                "{} : TTY=pts/{} ; PWD=/home/{} ; USER=root ; COMMAND=/usr/bin/{}",
                rng.pick(USERS),
                rng.below(8),
                rng.pick(USERS),
                rng.pick(&[
                    "systemctl restart nginx",
                    "journalctl -xe",
                    "apt-get upgrade",
                    "cat /etc/shadow",
                    "tcpdump -i eth0"
                ])
            );
        }
        "postfix" => {
            let _ = write!(
                out,
                "{:010X}: to=<{}@mof.example>, relay=",
                rng.next_u64() & 0xff_ffff_ffff,
                rng.pick(USERS)
            );
            ip(rng, out);
            let _ = write!(
                out,
                ":25, delay={}.{}, dsn=2.0.0, status={}",
                rng.below(10),
                rng.below(100),
                rng.pick(&[
                    "sent (250 2.0.0 OK)",
                    "deferred (connection timed out)",
                    "bounced (user unknown)"
                ])
            );
        }
        "postgres" => {
            let _ = write!(
                out,
                "FATAL:  password authentication failed for user \"{}\" connection from ",
                rng.pick(USERS)
            );
            ip(rng, out);
        }
        "openvpn" => {
            let _ = write!(out, "{}/", rng.pick(USERS));
            ip(rng, out);
            let _ = write!(
                out,
                ":{} TLS: Initial packet, peer-id={} cipher AES-256-GCM",
                1024 + rng.below(64_000),
                rng.below(4096)
            );
        }
        "named" => {
            let _ = write!(out, "client @0x{:012x} ", rng.next_u64() & 0xffff_ffff_ffff);
            ip(rng, out);
            let _ = write!(
                out,
                "#{} ({}): query: {} IN {} +E(0)",
                1024 + rng.below(64_000),
                rng.pick(&[
                    "portal.gov.example",
                    "update.microsoft.com",
                    "x7f3.badcdn.example",
                    "mail.mof.example"
                ]),
                rng.pick(&[
                    "portal.gov.example",
                    "update.microsoft.com",
                    "x7f3.badcdn.example",
                    "mail.mof.example"
                ]),
                rng.pick(&["A", "AAAA", "TXT", "MX"])
            );
        }
        "auditd" => {
            let _ = write!(
                out,
                "type=SYSCALL arch=c000003e syscall={} success={} exit={} uid={} comm=\"{}\" exe=\"/usr/bin/{}\"",
                rng.below(330),
                rng.pick(&["yes", "no"]),
                rng.below(4),
                rng.below(2000),
                rng.pick(&["bash", "python3", "curl", "nc", "ssh"]),
                rng.pick(&["bash", "python3", "curl", "nc", "ssh"])
            );
        }
        _ => {
            let _ = write!(
                out,
                "{} {} unit={}.service pid={} result={}",
                rng.pick(&["Started", "Stopped", "Reloaded", "Failed"]),
                rng.pick(&["job", "task", "container", "pod"]),
                rng.pick(&["nginx", "docker", "kubelet", "cron", "backup", "logrotate"]),
                rng.below(65_536),
                rng.pick(&["done", "exit-code", "timeout"])
            );
        }
    }
}

/// Makes RFC 5424 lines of about `size` bytes.
#[derive(Clone, Debug)]
pub struct LineGenerator {
    rng: Rng,
    size: usize,
    app: Option<String>,
}

impl LineGenerator {
    /// `app`: a fixed APP-NAME (the load generator's tag); `None` picks one per line.
    pub fn new(seed: u64, size: usize, app: Option<String>) -> Self {
        Self {
            rng: Rng::new(seed),
            size,
            app,
        }
    }

    /// Appends one line (no framing, no newline) carrying `seq=<seq>` first in its message.
    /// `timestamp` is RFC 3339. The line is padded with key=value words up to `size` bytes and
    /// cut at `size`, never below the header and the seq.
    pub fn write_line(&mut self, seq: &str, timestamp: &str, out: &mut String) {
        let start = out.len();
        let rng = &mut self.rng;
        let pri = 8 * rng.pick(&[1u64, 3, 4, 4, 10, 16, 20]) + rng.below(8);
        let host = rng.pick(HOSTS);
        let template_app = rng.pick(APPS);
        let app = self.app.as_deref().unwrap_or(template_app);
        let msgid = rng.pick(&["-", "-", "AUTH", "NET", "ACCESS", "AUDIT"]);
        let _ = write!(
            out,
            "<{pri}>1 {timestamp} {host} {app} {} {msgid} - seq={seq} ",
            100 + rng.below(60_000)
        );
        let keep = out.len() - start;
        body(rng, template_app, out);
        while out.len() - start < self.size {
            out.push(' ');
            let word = rng.pick(TAIL_WORDS);
            out.push_str(word);
            if word.ends_with('=') {
                let _ = write!(out, "{}", rng.below(10_000));
            }
        }
        out.truncate(start + self.size.max(keep));
        // Never end a line on a space: some relays trim it, and the size would differ.
        while out.len() > start + keep && out.ends_with(' ') {
            out.pop();
        }
    }

    /// One line as a new string.
    pub fn line(&mut self, seq: &str, timestamp: &str) -> String {
        let mut out = String::with_capacity(self.size + 64);
        self.write_line(seq, timestamp, &mut out);
        out
    }
}

/// `count` decoded events of about `size` bytes each, as `vigil serve` would hand them to the
/// store (decoded by `vigil_codec::syslog::decode_syslog`, received now).
pub fn sample_events(seed: u64, count: usize, size: usize) -> Vec<vigil_event::Event> {
    use vigil_codec::syslog::{decode_syslog, DecodeContext};
    let now = vigil_event::Timestamp::now();
    let timestamp = now
        .to_datetime()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let context = DecodeContext::utc(now);
    let mut generator = LineGenerator::new(seed, size, None);
    (0..count)
        .map(|n| {
            let line = generator.line(&format!("0-{n}"), &timestamp);
            decode_syslog(line.as_bytes(), &context)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_sized_varied_and_parse_as_rfc5424() {
        let mut generator = LineGenerator::new(7, 250, Some("loadgen".into()));
        let lines: Vec<String> = (0..200)
            .map(|n| generator.line(&format!("1-{n}"), "2026-01-02T03:04:05.678Z"))
            .collect();
        assert!(
            lines.iter().all(|line| (240..=250).contains(&line.len())),
            "{lines:?}"
        );
        let distinct: std::collections::HashSet<_> = lines.iter().map(|line| &line[40..]).collect();
        assert_eq!(distinct.len(), lines.len());
        let events = sample_events(3, 100, 250);
        assert!(events
            .iter()
            .all(|event| event.flags.is_empty() && event.message.starts_with("seq=0-")));
        assert!(events
            .iter()
            .all(|event| event.process_name.is_some() && event.host_name.is_some()));
    }
}
