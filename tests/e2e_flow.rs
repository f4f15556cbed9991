//! NetFlow v5, v9 and IPFIX from the real `softflowd`, replaying the corpus captures, checked
//! against `tshark`'s own decoding of the very datagrams Vigil received: the same number of flow
//! records, the same sums of bytes and packets. Then hostile flow input: templates over every
//! limit and sets that claim more bytes than they have are counted, and the flows sent
//! alongside still arrive.
//!
//! softflowd and tshark come from Debian (`.ci/run` installs them and sets
//! `VIGIL_REQUIRE_CLIENTS=1`, which turns a missing client into a failure); without them, and
//! without that variable, the client test says so and passes.

mod common;

use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Server;

/// What tshark (or Vigil) makes of one exporter run.
#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
struct Totals {
    records: u64,
    bytes: u64,
    packets: u64,
}

fn corpus() -> PathBuf {
    std::env::var_os("VIGIL_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"))
}

/// Receives datagrams on a loopback port, keeps a copy of each, and passes it on to `target`,
/// until `stop` is set and the port has been quiet for half a second.
fn relay(
    target: SocketAddr,
) -> (
    SocketAddr,
    Arc<AtomicBool>,
    std::thread::JoinHandle<Vec<Vec<u8>>>,
) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("relay socket");
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let address = socket.local_addr().expect("relay address");
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let handle = std::thread::spawn(move || {
        let out = UdpSocket::bind("127.0.0.1:0").expect("relay out");
        let mut seen = Vec::new();
        let mut buffer = vec![0u8; 65_535];
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            match socket.recv_from(&mut buffer) {
                Ok((length, _)) => {
                    out.send_to(&buffer[..length], target).expect("relay send");
                    seen.push(buffer[..length].to_vec());
                }
                Err(_) if stopped.load(Ordering::SeqCst) => break,
                Err(_) => {}
            }
        }
        seen
    });
    (address, stop, handle)
}

/// Runs softflowd over `pcap`, exporting `version` to `collector`. softflowd 1.1.0 exits at the
/// end of a capture for v5 and v9, but waits on its control socket for IPFIX: then its flows
/// are expired and it is shut down through `softflowctl`.
fn softflowd(pcap: &Path, version: u8, collector: SocketAddr, dir: &Path) {
    let control = dir.join(format!("softflowd-{version}.ctl"));
    let mut child = Command::new("softflowd")
        .arg("-d")
        .arg("-r")
        .arg(pcap)
        .args(["-n", &collector.to_string(), "-v", &version.to_string()])
        .arg("-c")
        .arg(&control)
        .arg("-p")
        .arg(dir.join(format!("softflowd-{version}.pid")))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start softflowd");
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if child.try_wait().expect("softflowd status").is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for command in ["expire-all", "shutdown"] {
        let status = Command::new("softflowctl")
            .arg("-c")
            .arg(&control)
            .arg(command)
            .stdout(Stdio::null())
            .status()
            .expect("softflowctl");
        assert!(status.success(), "softflowctl {command} failed");
        std::thread::sleep(Duration::from_millis(300));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().expect("softflowd status").is_none() {
        assert!(Instant::now() < deadline, "softflowd did not shut down");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Writes `datagrams` as a capture tshark reads (raw IPv4, linktype 101), each in a UDP packet
/// to `port`.
fn write_pcap(path: &Path, datagrams: &[Vec<u8>], port: u16) {
    let mut out = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    for word in [0u32, 0, 65_535, 101] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    for (number, datagram) in datagrams.iter().enumerate() {
        let udp_length = u16::try_from(8 + datagram.len()).expect("datagram size");
        let ip_length = 20 + udp_length;
        let mut packet = vec![0x45, 0];
        packet.extend_from_slice(&ip_length.to_be_bytes());
        packet.extend_from_slice(&[0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
        packet.extend_from_slice(&40_000u16.to_be_bytes());
        packet.extend_from_slice(&port.to_be_bytes());
        packet.extend_from_slice(&udp_length.to_be_bytes());
        packet.extend_from_slice(&[0, 0]);
        packet.extend_from_slice(datagram);
        let length = u32::try_from(packet.len()).expect("packet size");
        for word in [u32::try_from(number).expect("count"), 0, length, length] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&packet);
    }
    std::fs::File::create(path)
        .and_then(|mut file| file.write_all(&out))
        .expect("write pcap");
}

/// tshark's decoding of a capture: flow records (one per byte count it shows), and the sums of
/// their byte and packet counts.
fn tshark_totals(pcap: &Path, port: u16) -> Totals {
    let output = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-d", &format!("udp.port=={port},cflow")])
        .args(["-T", "fields", "-e", "cflow.octets", "-e", "cflow.packets"])
        .stderr(Stdio::null())
        .output()
        .expect("run tshark");
    assert!(output.status.success(), "tshark failed");
    let mut totals = Totals::default();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let mut columns = line.split('\t');
        let numbers = |column: Option<&str>| -> Vec<u64> {
            column
                .unwrap_or("")
                .split(',')
                .filter(|value| !value.is_empty())
                .map(|value| value.parse().expect("tshark number"))
                .collect()
        };
        let bytes = numbers(columns.next());
        let packets = numbers(columns.next());
        totals.records += bytes.len() as u64;
        totals.bytes += bytes.iter().sum::<u64>();
        totals.packets += packets.iter().sum::<u64>();
    }
    totals
}

/// Vigil's view of the flow records one listener took: the events of `dataset`, summed.
fn vigil_totals(server: &Server, listener: &str, dataset: &str, expected: u64) -> Totals {
    let query = format!(
        "vigil.listener:\"{listener}\" AND event.dataset:\"{dataset}\" AND event.category:network"
    );
    let answer = server.wait_for_total(&query, expected, 10_000, 30);
    let events = answer["events"].as_array().expect("events");
    let mut totals = Totals {
        records: answer["total"].as_u64().expect("total"),
        ..Totals::default()
    };
    for event in events {
        totals.bytes += event["network.bytes"].as_u64().expect("network.bytes");
        totals.packets += event["network.packets"].as_u64().expect("network.packets");
    }
    assert_eq!(events.len() as u64, totals.records, "every event returned");
    totals
}

#[test]
fn softflowd_v5_v9_and_ipfix_arrive_as_tshark_decodes_them() {
    if !(common::have("softflowd") && common::have("softflowctl") && common::have("tshark")) {
        assert!(
            std::env::var("VIGIL_REQUIRE_CLIENTS").is_err(),
            "VIGIL_REQUIRE_CLIENTS is set but softflowd or tshark is missing"
        );
        eprintln!("skipped: softflowd and tshark are not installed");
        return;
    }
    let captures = ["synscan", "ssh"];
    let root = tempfile::tempdir().expect("temp dir");
    let listeners: String = captures
        .iter()
        .map(|name| {
            format!("[[listeners]]\ntype = \"flow\"\nname = \"flow-{name}\"\naddress = \"127.0.0.1:0\"\n")
        })
        .collect();
    let config = common::write_config(root.path(), &listeners);
    let mut server = Server::start(root.path(), &config);
    let mut expected_records = 0;
    for capture in captures {
        let pcap = corpus().join(format!("pcaps/{capture}.pcap"));
        assert!(pcap.exists(), "{} is missing", pcap.display());
        let collector = server.address(&format!("flow-{capture}"));
        for (version, dataset) in [(5u8, "netflow.v5"), (9, "netflow.v9"), (10, "ipfix")] {
            let (address, stop, handle) = relay(collector);
            softflowd(&pcap, version, address, root.path());
            stop.store(true, Ordering::SeqCst);
            let datagrams = handle.join().expect("relay");
            assert!(!datagrams.is_empty(), "softflowd v{version} sent nothing");
            let recorded = root.path().join(format!("{capture}-v{version}.pcap"));
            // softflowd's first v9 packet counts only its templates in the header, and tshark
            // stops at the header's count: its copy says "as many as there are" (65,535), so
            // that it reads every record, as Vigil does by template length.
            let reference_copy: Vec<Vec<u8>> = datagrams
                .iter()
                .map(|datagram| {
                    let mut copy = datagram.clone();
                    if version == 9 && copy.len() >= 4 {
                        copy[2..4].copy_from_slice(&u16::MAX.to_be_bytes());
                    }
                    copy
                })
                .collect();
            write_pcap(&recorded, &reference_copy, collector.port());
            let reference = tshark_totals(&recorded, collector.port());
            assert!(reference.records > 0, "tshark decoded no records");
            let listener = format!("flow-{capture}");
            let received = vigil_totals(&server, &listener, dataset, reference.records);
            eprintln!(
                "{capture} v{version}: {} datagrams; tshark {reference:?}; vigil {received:?}",
                datagrams.len()
            );
            assert_eq!(received, reference, "{capture} v{version}");
            expected_records += reference.records;
        }
    }
    let metrics = server.get("/metrics").1;
    let records = common::sum_series(&metrics, "vigil_flow_records_total", &[]);
    assert_eq!(records, expected_records);
    assert_eq!(
        common::sum_series(&metrics, "vigil_flow_errors_total", &[]),
        0,
        "{metrics}"
    );
    server.stop();
}

/// A v9 packet: header (count as given) and the flowsets after it.
fn v9_packet(source_id: u32, count: u16, sets: &[Vec<u8>]) -> Vec<u8> {
    let mut packet = Vec::new();
    packet.extend_from_slice(&9u16.to_be_bytes());
    packet.extend_from_slice(&count.to_be_bytes());
    packet.extend_from_slice(&1_000u32.to_be_bytes());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    packet.extend_from_slice(&u32::try_from(now).expect("seconds").to_be_bytes());
    packet.extend_from_slice(&1u32.to_be_bytes());
    packet.extend_from_slice(&source_id.to_be_bytes());
    for set in sets {
        packet.extend_from_slice(set);
    }
    packet
}

/// A flowset: id, length, body.
fn flowset(id: u16, body: &[u8]) -> Vec<u8> {
    let mut set = id.to_be_bytes().to_vec();
    set.extend_from_slice(
        &u16::try_from(4 + body.len())
            .expect("set size")
            .to_be_bytes(),
    );
    set.extend_from_slice(body);
    set
}

/// A v9 template of `fields` (element id, length).
fn template(id: u16, fields: &[(u16, u16)]) -> Vec<u8> {
    let mut body = id.to_be_bytes().to_vec();
    body.extend_from_slice(&u16::try_from(fields.len()).expect("fields").to_be_bytes());
    for (element, length) in fields {
        body.extend_from_slice(&element.to_be_bytes());
        body.extend_from_slice(&length.to_be_bytes());
    }
    body
}

/// IPv4 source and destination, ports, protocol, bytes, packets.
const FLOW_FIELDS: [(u16, u16); 7] = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4)];

fn flow_record(host: u8, bytes: u32) -> Vec<u8> {
    let mut record = vec![10, 0, 0, host, 10, 0, 1, host];
    record.extend_from_slice(&40_000u16.to_be_bytes());
    record.extend_from_slice(&443u16.to_be_bytes());
    record.push(6);
    record.extend_from_slice(&bytes.to_be_bytes());
    record.extend_from_slice(&3u32.to_be_bytes());
    record
}

#[test]
fn hostile_flow_input_is_counted_and_bounded_and_good_flows_still_arrive() {
    let root = tempfile::tempdir().expect("temp dir");
    let config = common::write_config(
        root.path(),
        "[[listeners]]\ntype = \"flow\"\nname = \"flow\"\naddress = \"127.0.0.1:0\"\n\
         max_templates_per_exporter = 100\n",
    );
    let mut server = Server::start(root.path(), &config);
    let collector = server.address("flow");
    let socket = UdpSocket::bind("127.0.0.1:0").expect("socket");
    let send = |packet: &[u8]| {
        socket.send_to(packet, collector).expect("send");
        // Loopback drops nothing at this pace; the test counts what arrives.
        std::thread::sleep(Duration::from_micros(200));
    };

    // A template with 65,535 fields (as many as its count can say; the set itself is cut).
    let mut huge = 300u16.to_be_bytes().to_vec();
    huge.extend_from_slice(&u16::MAX.to_be_bytes());
    for _ in 0..16_000 {
        huge.extend_from_slice(&[0, 1, 0, 4]);
    }
    send(&v9_packet(1, 1, &[flowset(0, &huge)]));
    // 10,000 templates from one exporter, 100 per packet.
    for chunk in 0..100u16 {
        let body: Vec<u8> = (0..100u16)
            .flat_map(|n| template(256 + chunk * 100 + n, &FLOW_FIELDS))
            .collect();
        send(&v9_packet(2, 100, &[flowset(0, &body)]));
    }
    // A packet whose set claims more bytes than it carries.
    let mut lying = flowset(0, &template(400, &FLOW_FIELDS));
    lying[2..4].copy_from_slice(&60_000u16.to_be_bytes());
    send(&v9_packet(3, 1, &[lying]));
    // Not flow data at all.
    send(b"\x00\x63garbage");
    // A good exporter alongside: its template and 40 flows.
    let good_template = flowset(0, &template(256, &FLOW_FIELDS));
    send(&v9_packet(7, 1, &[good_template]));
    for host in 0..40u8 {
        let data = flowset(256, &flow_record(host, 1_000 + u32::from(host)));
        send(&v9_packet(7, 1, &[data]));
    }

    let answer = server.wait_for_total(
        "event.dataset:\"netflow.v9\" AND event.category:network",
        40,
        100,
        30,
    );
    let bytes: u64 = answer["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["network.bytes"].as_u64().expect("bytes"))
        .sum();
    assert_eq!(bytes, (0..40).map(|host| 1_000 + host).sum::<u64>());
    let metrics = server.get("/metrics").1;
    let anomaly =
        |kind: &str| common::sum_series(&metrics, "vigil_flow_anomalies_total", &[("kind", kind)]);
    // The 65,535-field template, and the 9,900 past the limit of 100 per exporter.
    assert!(anomaly("template_refused") >= 9_901, "{metrics}");
    assert!(anomaly("malformed_set") >= 1, "{metrics}");
    assert_eq!(
        common::sum_series(
            &metrics,
            "vigil_flow_errors_total",
            &[("kind", "unsupported_version")]
        ),
        1,
        "{metrics}"
    );
    assert!(
        common::sum_series(&metrics, "vigil_flow_templates", &[]) <= 101,
        "{metrics}"
    );
    // The undecodable datagram is kept whole, flagged.
    let kept = server.wait_for_total("vigil.flags:unparsed AND vigil.listener:flow", 1, 10, 10);
    assert_eq!(kept["events"][0]["netflow.error"], "unsupported_version");
    server.stop();
}
