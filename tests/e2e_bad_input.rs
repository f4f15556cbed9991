//! Hostile input on the syslog listeners: random bytes, a 10 MiB frame, truncated octet counts,
//! invalid UTF-8, NUL bytes, 2,000 idle connections. The server keeps serving the good sender
//! beside them, counts every error, and loses none of its messages.

mod common;

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use common::{write_config, Server};

/// A good sender from its own loopback address (127.0.0.2), so the per-address connection limit
/// that the idle flood from 127.0.0.1 hits does not apply to it.
struct GoodSender {
    connection: TcpStream,
    sent: usize,
}

impl GoodSender {
    fn connect(target: SocketAddr) -> Self {
        let socket = std::net::TcpListener::bind((Ipv4Addr::new(127, 0, 0, 2), 0))
            .expect("127.0.0.2 is loopback on Linux");
        let local = socket.local_addr().expect("local address");
        drop(socket);
        let connection = connect_from(local, target);
        Self {
            connection,
            sent: 0,
        }
    }

    fn send(&mut self, count: usize) {
        let mut chunk = Vec::new();
        for _ in 0..count {
            let line = format!("<14>1 2026-11-26T10:00:00Z good-host good-sender - - - good seq={} alongside hostile input", self.sent);
            chunk.extend_from_slice(format!("{} {line}", line.len()).as_bytes());
            self.sent += 1;
        }
        self.connection
            .write_all(&chunk)
            .expect("the good sender is never refused");
    }
}

/// Connects from a chosen local address; std has no bind-before-connect, hence [`raw`].
fn connect_from(local: SocketAddr, target: SocketAddr) -> TcpStream {
    raw::connect_from(local, target).expect("connect from 127.0.0.2")
}

mod raw {
    //! Bind-before-connect with libc calls: the only way std offers none.
    use std::net::{SocketAddr, TcpStream};
    use std::os::fd::FromRawFd;

    #[repr(C)]
    struct SockaddrIn {
        family: u16,
        port: u16,
        address: [u8; 4],
        zero: [u8; 8],
    }

    extern "C" {
        fn socket(domain: i32, kind: i32, protocol: i32) -> i32;
        fn bind(fd: i32, address: *const SockaddrIn, length: u32) -> i32;
        fn connect(fd: i32, address: *const SockaddrIn, length: u32) -> i32;
        fn close(fd: i32) -> i32;
    }

    fn sockaddr(address: SocketAddr) -> SockaddrIn {
        let SocketAddr::V4(v4) = address else {
            panic!("IPv4 only")
        };
        SockaddrIn {
            family: 2,
            port: v4.port().to_be(),
            address: v4.ip().octets(),
            zero: [0; 8],
        }
    }

    pub fn connect_from(local: SocketAddr, target: SocketAddr) -> std::io::Result<TcpStream> {
        // SAFETY: plain socket syscalls on a descriptor we own; closed on every error path.
        unsafe {
            let fd = socket(2, 1, 0);
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let (local, target) = (sockaddr(local), sockaddr(target));
            let length = std::mem::size_of::<SockaddrIn>() as u32;
            if bind(fd, &local, length) != 0 || connect(fd, &target, length) != 0 {
                let error = std::io::Error::last_os_error();
                close(fd);
                return Err(error);
            }
            Ok(TcpStream::from_raw_fd(fd))
        }
    }
}

/// Deterministic noise (xorshift), so a failure can be replayed.
fn random_bytes(count: usize, mut state: u64) -> Vec<u8> {
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

fn send_and_close(target: SocketAddr, bytes: &[u8]) {
    let mut connection = TcpStream::connect(target).expect("connect");
    // The server may cut a hostile stream short; that is its right.
    let _ = connection.write_all(bytes);
    let _ = connection.shutdown(std::net::Shutdown::Write);
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn hostile_input_is_counted_and_never_costs_a_good_message() {
    let root = tempfile::tempdir().expect("temp dir");
    let systems = "[[systems]]\nname = \"good\"\ntenant = \"good-agency\"\nlevel = 5\nsources = [\"127.0.0.2/32\"]";
    let config = write_config(root.path(), systems);
    let mut server = Server::start(root.path(), &config);
    let tcp = server.address("syslog-tcp");
    let udp = server.address("syslog-udp");
    let mut good = GoodSender::connect(tcp);
    good.send(100);

    // 1 MiB of random bytes.
    send_and_close(tcp, &random_bytes(1 << 20, 0x9e37_79b9));
    good.send(100);

    // A 10 MiB octet-counted frame, then a good frame on the same connection.
    let mut bomb = b"10485760 <13>1 - bomb-host bomb - - - ".to_vec();
    bomb.resize(9 + 10 * 1024 * 1024, b'A');
    let after = "<13>1 - bomb-host after-bomb - - - the frame after the bomb";
    bomb.extend_from_slice(format!("{} {after}", after.len()).as_bytes());
    send_and_close(tcp, &bomb);
    good.send(100);

    // Truncated octet counts: the stream ends inside the frame.
    send_and_close(
        tcp,
        b"500 <13>1 - cut-host cut-app - - - this frame is much shorter than 500",
    );
    send_and_close(tcp, b"99999999999 <13>");
    // Invalid UTF-8 and NUL bytes, LF-framed.
    send_and_close(
        tcp,
        b"<13>Nov 26 10:00:00 utf8-host badutf8: bytes \xff\xfe\xc3 here\n",
    );
    send_and_close(tcp, b"<13>Nov 26 10:00:00 nul-host nulapp: before\x00after\n<13>Nov 26 10:00:00 nul-host nulapp: \x00\x00\x00\n");
    // Garbage datagrams.
    let datagrams = UdpSocket::bind("127.0.0.1:0").expect("udp");
    for seed in 0..20u64 {
        datagrams
            .send_to(&random_bytes(1_000 + seed as usize * 50, seed + 1), udp)
            .expect("send datagram");
    }
    good.send(100);

    // Wait until the hostile connections above are gone (the 10 MiB one can still be draining),
    // so that exactly the idle flood below counts against 127.0.0.1's limit.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while server.metric(
        "vigil_collect_connections_open",
        &[("listener", "syslog-tcp")],
    ) > 1
    {
        assert!(
            std::time::Instant::now() < deadline,
            "hostile connections still open:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // 2,000 idle connections from 127.0.0.1: the first 1,000 are held, the rest refused.
    let idle: Vec<TcpStream> = (0..2_000)
        .filter_map(|_| TcpStream::connect(tcp).ok())
        .collect();
    let refused = server.wait_for_metric(
        "vigil_collect_connections_refused_total",
        &[("reason", "per_peer_limit")],
        1_000,
        30,
    );
    assert_eq!(
        refused, 1_000,
        "the connections past the per-address limit are refused and counted"
    );
    for _ in 0..6 {
        good.send(100);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(good.sent, 1_000);
    let open = server.metric("vigil_collect_connections_open", &[]);
    assert!(
        open >= 1_000,
        "the idle connections are held, not dropped: {open}"
    );

    let answer = server.wait_for_total("process.name:good-sender", 1_000, 10_000, 60);
    assert_eq!(
        answer["total"],
        1_000,
        "every good message arrives:\n{}",
        server.log()
    );
    drop(idle);

    // Each error is counted.
    let errors = |kind: &str| server.metric("vigil_collect_errors_total", &[("kind", kind)]);
    assert!(errors("oversized") >= 1, "the 10 MiB frame is counted");
    assert!(
        errors("truncated_at_eof") >= 1,
        "the truncated octet count is counted"
    );
    assert!(server.metric("vigil_collect_truncated_total", &[]) >= 2);
    assert!(server.metric("vigil_collect_invalid_utf8_total", &[]) >= 1);
    assert!(server.metric("vigil_collect_parse_fallbacks_total", &[]) >= 1);

    // What could be kept is kept, flagged, and searchable.
    assert_eq!(
        server.wait_for_total("process.name:after-bomb", 1, 10, 30)["total"],
        1,
        "the frame after the bomb is read"
    );
    let cut = server.wait_for_total("vigil.flags:truncated AND host.name:bomb-host", 1, 10, 30);
    assert_eq!(cut["total"], 1);
    assert_eq!(
        cut["events"][0]["event.original"].as_str().map(str::len),
        Some(64 * 1024),
        "cut at max_frame_bytes"
    );
    let utf8 = server.wait_for_total(
        "vigil.flags:invalid_utf8 AND host.name:utf8-host",
        1,
        10,
        30,
    );
    let event = &utf8["events"][0];
    assert_eq!(event["host.name"], "utf8-host");
    assert!(
        event["vigil.original_base64"].is_string(),
        "the exact bytes are kept: {event}"
    );
    let nul = server.wait_for_total("host.name:nul-host", 2, 10, 30);
    assert_eq!(nul["total"], 2);
    let unparsed = server.wait_for_total(
        "vigil.flags:unparsed AND vigil.listener:syslog-udp",
        20,
        100,
        30,
    );
    assert_eq!(
        unparsed["total"], 20,
        "every garbage datagram is kept whole"
    );

    let rss = rss_kib(server.child.id());
    assert!(rss < 512 * 1024, "memory stays bounded: {rss} KiB");
    let (status, body) = common::http_get(server.address("api"), "/healthz", None, &server.ca());
    assert_eq!((status, body.trim()), (200, "ok"));
    assert!(server.stop().success(), "{}", server.log());
}
