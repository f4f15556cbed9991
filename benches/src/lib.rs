//! `vigil-benches`: shared helpers of the benchmarks and the load generator.
//!
//! [`LineGenerator`] makes realistic RFC 5424 syslog lines (a few dozen hosts and apps, sshd,
//! firewall, web access, sudo, kernel, cron, mail and database templates with varying addresses,
//! ports, users and paths), so compression and index figures are honest rather than the result
//! of identical padding. Deterministic: a seed gives the same lines. [`SAMPLE_LINES`] holds
//! real-format lines of every body decoder family, for the normalisation bench and
//! `vigil-importgen`.

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

/// (family, app-name, message) — one to three real-format lines per family.
pub const SAMPLE_LINES: &[(&str, &str, &str)] = &[
    ("sshd", "sshd", "Failed password for invalid user admin from 203.0.113.9 port 50022 ssh2"),
    ("sshd", "sshd", "Accepted publickey for deploy from 10.1.1.1 port 40000 ssh2: RSA SHA256:abcdefghijklmnop"),
    ("sshd", "sshd", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=173.234.31.186  user=root"),
    ("pam", "su(pam_unix)", "session opened for user news by (uid=0)"),
    ("sudo", "sudo", "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update"),
    ("accounts", "useradd", "new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash, from=/dev/pts/0"),
    ("netfilter", "kernel", "[UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:12:34:56:00:16:3e:65:43:21:08:00 SRC=198.51.100.7 DST=10.0.0.5 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=4242 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0"),
    ("cisco_asa", "", "%ASA-6-302013: Built inbound TCP connection 123456 for outside:198.51.100.7/51234 (198.51.100.7/51234) to inside:10.0.0.5/443 (10.0.0.5/443)"),
    ("cisco_asa", "", "%ASA-4-106023: Deny tcp src outside:198.51.100.7/51234 dst inside:10.0.0.5/23 by access-group \"outside_in\" [0x0, 0x0]"),
    ("cisco_ios", "", "%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: admin] [Source: 10.0.0.9] [localport: 22] [Reason: Login Authentication Failed] at 10:00:00 UTC Mon Jan 1 2024"),
    ("fortigate", "", "date=2024-05-10 time=11:37:47 devname=\"FGT60E\" devid=\"FGT60E4Q16000000\" logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" level=\"notice\" vd=\"root\" eventtime=1715340867 srcip=10.1.100.11 srcport=58012 srcintf=\"port12\" dstip=23.59.154.35 dstport=80 dstintf=\"port11\" sessionid=1234 proto=6 action=\"close\" policyid=1 service=\"HTTP\" sentbyte=1024 rcvdbyte=4096 sentpkt=8 rcvdpkt=9"),
    ("paloalto", "", "1,2024/05/10 11:37:47,001801000000,TRAFFIC,end,2561,2024/05/10 11:37:47,10.0.0.5,198.51.100.7,0.0.0.0,0.0.0.0,allow-web,,,web-browsing,vsys1,trust,untrust,ethernet1/2,ethernet1/1,Forward,2024/05/10 11:37:47,12345,1,51234,80,0,0,0x400000,tcp,allow,5000,1000,4000,20,2024/05/10 11:37:30,15,any,0,1234567,0x0,10.0.0.0-10.255.255.255,United States,0,10,10,tcp-fin"),
    ("filterlog", "filterlog", "5,,,1000000103,em0,match,block,in,4,0x0,,64,12345,0,DF,6,tcp,60,198.51.100.7,10.0.0.5,51234,22,0,S,1234567890,,64240,,mss;sackOK;TS;nop;wscale"),
    ("cef", "", "CEF:0|Trend Micro|Deep Security Agent|10.0|4000000|Eicar_test_file|6|cn1=1 cn1Label=Host ID dvchost=hostname src=10.0.0.5 suser=alice act=Quarantine filePath=C:\\\\eicar.exe"),
    ("leef", "", "LEEF:1.0|Microsoft|MSExchange|2016|15345|src=10.50.1.1\tdst=2.10.20.20\tspt=1200\tdpt=25\tusrName=bob\tproto=TCP\tsev=5"),
    ("json", "", "{\"@timestamp\":\"2024-05-10T11:37:47Z\",\"level\":\"warn\",\"user\":{\"name\":\"bob\"},\"source\":{\"ip\":\"10.0.0.5\"},\"msg\":\"quota exceeded\"}"),
    ("windows", "", "{\"EventTime\":\"2024-05-10 11:37:47\",\"Hostname\":\"DC01.corp.example\",\"EventID\":4625,\"SourceName\":\"Microsoft-Windows-Security-Auditing\",\"Channel\":\"Security\",\"TargetUserName\":\"administrator\",\"TargetDomainName\":\"CORP\",\"LogonType\":\"3\",\"IpAddress\":\"198.51.100.7\",\"IpPort\":\"51234\",\"Status\":\"0xc000006d\",\"SubStatus\":\"0xc000006a\"}"),
    ("suricata", "suricata", "{\"timestamp\":\"2024-05-10T11:37:47.123456+0000\",\"flow_id\":1234567,\"in_iface\":\"eth0\",\"event_type\":\"alert\",\"src_ip\":\"198.51.100.7\",\"src_port\":51234,\"dest_ip\":\"10.0.0.5\",\"dest_port\":80,\"proto\":\"TCP\",\"alert\":{\"action\":\"allowed\",\"gid\":1,\"signature_id\":2010935,\"rev\":3,\"signature\":\"ET SCAN Suspicious inbound to MSSQL port 1433\",\"category\":\"Potentially Bad Traffic\",\"severity\":2}}"),
    ("zeek", "", "{\"_path\":\"conn\",\"ts\":1715340867.123,\"uid\":\"CAbc123\",\"id.orig_h\":\"10.0.0.5\",\"id.orig_p\":51234,\"id.resp_h\":\"198.51.100.7\",\"id.resp_p\":443,\"proto\":\"tcp\",\"service\":\"ssl\",\"duration\":1.5,\"orig_bytes\":1024,\"resp_bytes\":4096,\"conn_state\":\"SF\"}"),
    ("web", "", "203.0.113.9 - - [10/May/2024:11:37:47 +0000] \"GET /index.php?id=1%27%20OR%201=1 HTTP/1.1\" 200 5120 \"-\" \"sqlmap/1.7\""),
    ("web", "", "[Sun Dec 04 04:51:08 2005] [notice] jk2_init() Found child 6725 in scoreboard slot 10"),
    ("squid", "squid", "1715340867.123    123 10.0.0.5 TCP_MISS/200 1234 GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html"),
    ("dns", "named", "client @0x7f9c2c0 10.0.0.5#53324 (example.com): query: example.com IN A +E(0)K (10.0.0.1)"),
    ("dhcp", "dhcpd", "DHCPACK on 10.0.0.50 to 00:11:22:33:44:55 (laptop-7) via eth0"),
    ("postfix", "postfix/smtpd", "NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 <x@example.com>: Relay access denied; from=<a@example.org> to=<x@example.com> proto=ESMTP helo=<spam>"),
    ("ftp", "vsftpd", "[bob] FAIL LOGIN: Client \"198.51.100.7\""),
    ("database", "postgres", "2024-05-10 11:37:47.123 UTC [1234] bob@db FATAL:  password authentication failed for user \"bob\""),
    ("kv", "app", "level=info msg=\"user login\" user=bob src=10.0.0.5 action=login status=ok"),
    ("unrecognised", "myapp", "cache warmed in 123 ms, 4567 entries"),
];

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
