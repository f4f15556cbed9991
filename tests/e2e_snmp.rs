//! SNMP traps from the real net-snmp `snmptrap` and `snmpinform`: v1, v2c, a v2c inform, v3
//! authNoPriv and v3 authPriv (SHA/AES) each decode to the OIDs and values that net-snmp's own
//! `snmptrapd -f -Lo` prints for the same trap; the inform is answered (snmpinform succeeds
//! only on Vigil's Response); a wrong v3 password is counted as an authentication failure.
//!
//! The clients come from Debian's `snmp` and `snmptrapd` (`.ci/run` installs them and sets
//! `VIGIL_REQUIRE_CLIENTS=1`, which turns a missing client into a failure); without them, and
//! without that variable, the test says so and passes.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Server;

const ENGINE_ID: &str = "0x8000000001020304";
const USER: &str = "vigil";
const AUTH_PASSWORD: &str = "authpass123";
const PRIV_PASSWORD: &str = "privpass123";

/// One trap as a list of `(numeric OID without the leading dot, value)`, in order; a v1 trap
/// starts with its enterprise, generic and specific numbers and uptime.
type Bindings = Vec<(String, String)>;

/// A test case: its name, its uptime (which finds the trap in Vigil), the tool's options
/// (before the target) and the trap (after it).
type Case = (&'static str, u32, Vec<String>, Vec<String>);

/// The test cases.
fn cases() -> Vec<Case> {
    let v3 = |level: &str| {
        let mut args: Vec<String> = [
            "-v",
            "3",
            "-e",
            ENGINE_ID,
            "-u",
            USER,
            "-l",
            level,
            "-a",
            "SHA",
            "-A",
            AUTH_PASSWORD,
        ]
        .map(String::from)
        .to_vec();
        if level == "authPriv" {
            args.extend(["-x", "AES", "-X", PRIV_PASSWORD].map(String::from));
        }
        args
    };
    let strings = |items: &[&str]| {
        items
            .iter()
            .map(|item| item.to_string())
            .collect::<Vec<_>>()
    };
    vec![
        (
            "v2c linkDown",
            1_001,
            strings(&["-v", "2c", "-c", "public"]),
            strings(&[
                "1001",
                "1.3.6.1.6.3.1.1.5.3",
                "1.3.6.1.2.1.2.2.1.1.2",
                "i",
                "2",
                "1.3.6.1.2.1.2.2.1.2.2",
                "s",
                "eth0 uplink",
                "1.3.6.1.2.1.2.2.1.8.2",
                "i",
                "2",
                "1.3.6.1.4.1.99.1.1",
                "a",
                "192.0.2.7",
                "1.3.6.1.4.1.99.1.2",
                "c",
                "4000000000",
                "1.3.6.1.4.1.99.1.3",
                "o",
                "1.3.6.1.4.1.99.7",
            ]),
        ),
        (
            "v1 linkUp",
            1_002,
            strings(&["-v", "1", "-c", "public"]),
            strings(&[
                "1.3.6.1.4.1.8072.2.3",
                "10.1.2.3",
                "3",
                "0",
                "1002",
                "1.3.6.1.2.1.2.2.1.1.7",
                "i",
                "7",
            ]),
        ),
        (
            "v2c inform",
            1_003,
            strings(&["-v", "2c", "-c", "public"]),
            strings(&[
                "1003",
                "1.3.6.1.6.3.1.1.5.4",
                "1.3.6.1.2.1.2.2.1.1.3",
                "i",
                "3",
            ]),
        ),
        (
            "v3 authNoPriv",
            1_004,
            v3("authNoPriv"),
            strings(&[
                "1004",
                "1.3.6.1.6.3.1.1.5.2",
                "1.3.6.1.2.1.1.5.0",
                "s",
                "router-7",
            ]),
        ),
        (
            "v3 authPriv",
            1_005,
            v3("authPriv"),
            strings(&[
                "1005",
                "1.3.6.1.6.3.1.1.5.1",
                "1.3.6.1.2.1.1.5.0",
                "s",
                "core-switch",
                "1.3.6.1.2.1.1.1.0",
                "s",
                "Vigil test agent",
            ]),
        ),
    ]
}

/// Sends one case to `target`: `snmpinform` for the inform case (it waits for the Response),
/// else `snmptrap`. No MIBs are loaded: OIDs stay numeric on both sides.
fn send(name: &str, options: &[String], trap: &[String], target: SocketAddr) -> bool {
    let tool = if name.contains("inform") {
        "snmpinform"
    } else {
        "snmptrap"
    };
    Command::new(tool)
        .args(["-M", "/dev/null", "-m", "", "-r", "1", "-t", "2"])
        .args(options)
        .arg(format!("udp:{target}"))
        .args(trap)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run net-snmp")
        .success()
}

/// snmptrapd on a free loopback port, printing numeric OIDs, raw timeticks and numeric enums.
fn snmptrapd(dir: &Path, port: u16) -> Child {
    let config = dir.join("snmptrapd.conf");
    std::fs::write(
        &config,
        format!(
            "authCommunity log public\ncreateUser -e {ENGINE_ID} {USER} SHA {AUTH_PASSWORD} AES {PRIV_PASSWORD}\nauthUser log {USER}\n"
        ),
    )
    .expect("write snmptrapd.conf");
    Command::new("snmptrapd")
        .args([
            "-f",
            "-Lo",
            "-On",
            "-Ot",
            "-Oe",
            "-C",
            "-M",
            "/dev/null",
            "-m",
            "",
        ])
        .arg("-c")
        .arg(&config)
        .arg("-p")
        .arg(dir.join("snmptrapd.pid"))
        .arg(format!("udp:127.0.0.1:{port}"))
        .env("SNMP_PERSISTENT_DIR", dir)
        .stdout(std::fs::File::create(dir.join("snmptrapd.out")).expect("output file"))
        .stderr(Stdio::null())
        .spawn()
        .expect("start snmptrapd")
}

/// snmptrapd's printed value, without its type and quotes, OIDs without the leading dot.
fn reference_value(text: &str) -> String {
    let value = text
        .split_once(": ")
        .filter(|(kind, _)| kind.chars().all(|c| c.is_ascii_alphanumeric()))
        .map_or(text, |(_, value)| value);
    let value = value.trim().trim_matches('"');
    value.strip_prefix('.').unwrap_or(value).to_owned()
}

/// How snmptrapd names the generic traps of SNMPv1, by number.
const GENERIC_TRAPS: [&str; 7] = [
    "Cold Start Trap",
    "Warm Start Trap",
    "Link Down Trap",
    "Link Up Trap",
    "Authentication Failure Trap",
    "EGP Neighbor Loss Trap",
    "Enterprise Specific Trap",
];

/// The traps in snmptrapd's output, in order.
fn parse_snmptrapd(output: &str) -> Vec<Bindings> {
    let mut traps: Vec<Bindings> = Vec::new();
    let mut lines = output.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with("20") {
            continue;
        }
        let mut bindings = Bindings::new();
        if line.contains("TRAP, SNMP v1") {
            // "\t.ENTERPRISE Generic Name (SPECIFIC) Uptime: N", then "\t.OID = TYPE: VALUE" lines.
            let Some(header) = lines.next() else { break };
            let header = header.trim();
            let (enterprise, rest) = header.split_once(' ').expect("v1 header");
            let specific = rest
                .rsplit_once('(')
                .and_then(|(_, tail)| tail.split_once(')'))
                .map(|(number, _)| number.to_owned())
                .expect("specific trap");
            let uptime = rest.rsplit_once("Uptime: ").expect("uptime").1;
            let generic = GENERIC_TRAPS
                .iter()
                .position(|name| rest.starts_with(name))
                .expect("generic trap name");
            bindings.push(("enterprise".into(), reference_value(enterprise)));
            bindings.push(("generic".into(), generic.to_string()));
            bindings.push(("specific".into(), specific));
            bindings.push(("uptime".into(), uptime.trim().to_owned()));
            while let Some(next) = lines.peek() {
                if !next.starts_with('\t') {
                    break;
                }
                let (oid, value) = next.trim().split_once(" = ").expect("v1 varbind");
                bindings.push((reference_value(oid), reference_value(value)));
                lines.next();
            }
        } else {
            let Some(body) = lines.next() else { break };
            for binding in body.split('\t') {
                let (oid, value) = binding.split_once(" = ").expect("varbind");
                bindings.push((reference_value(oid), reference_value(value)));
            }
        }
        traps.push(bindings);
    }
    traps
}

/// Vigil's event of a trap in the same form.
fn vigil_bindings(event: &serde_json::Value) -> Bindings {
    let text = |value: &serde_json::Value| match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let mut bindings = Bindings::new();
    if event["snmp.version"] == "1" {
        bindings.push(("enterprise".into(), text(&event["snmp.enterprise"])));
        bindings.push(("generic".into(), text(&event["snmp.generic_trap"])));
        bindings.push(("specific".into(), text(&event["snmp.specific_trap"])));
        bindings.push(("uptime".into(), text(&event["snmp.uptime"])));
    }
    let varbinds = event["snmp.varbinds"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if event["snmp.version"] != "1"
        && varbinds.first().map(|first| text(&first["oid"])) != Some("1.3.6.1.2.1.1.3.0".into())
    {
        bindings.push(("1.3.6.1.2.1.1.3.0".into(), text(&event["snmp.uptime"])));
        bindings.push((
            "1.3.6.1.6.3.1.1.4.1.0".into(),
            text(&event["snmp.trap_oid"]),
        ));
    }
    for varbind in &varbinds {
        bindings.push((text(&varbind["oid"]), text(&varbind["value"])));
    }
    bindings
}

#[test]
fn net_snmp_traps_decode_as_snmptrapd_prints_them() {
    if !["snmptrap", "snmpinform", "snmptrapd"]
        .iter()
        .all(|tool| common::have(tool))
    {
        assert!(
            std::env::var("VIGIL_REQUIRE_CLIENTS").is_err(),
            "VIGIL_REQUIRE_CLIENTS is set but net-snmp's snmptrap or snmptrapd is missing"
        );
        eprintln!("skipped: net-snmp's snmptrap and snmptrapd are not installed");
        return;
    }
    let root = tempfile::tempdir().expect("temp dir");
    let config = common::write_config(
        root.path(),
        &format!(
            "[[listeners]]\ntype = \"snmp_trap\"\nname = \"traps\"\naddress = \"127.0.0.1:0\"\n\
             communities = [\"public\"]\n[[listeners.users]]\nname = \"{USER}\"\n\
             engine_id = \"{ENGINE_ID}\"\nauth_protocol = \"sha\"\nauth_password = \"{AUTH_PASSWORD}\"\n\
             priv_protocol = \"aes\"\npriv_password = \"{PRIV_PASSWORD}\"\n"
        ),
    );
    let mut server = Server::start(root.path(), &config);
    let vigil = server.address("traps");
    let reference_port = common::free_port();
    let reference: SocketAddr = format!("127.0.0.1:{reference_port}")
        .parse()
        .expect("address");
    let mut trapd = snmptrapd(root.path(), reference_port);
    std::thread::sleep(Duration::from_millis(500));

    let cases = cases();
    for (name, _, options, trap) in &cases {
        assert!(
            send(name, options, trap, reference),
            "{name}: snmptrapd did not take it"
        );
    }
    let output_path = root.path().join("snmptrapd.out");
    let deadline = Instant::now() + Duration::from_secs(20);
    let printed = loop {
        let output = std::fs::read_to_string(&output_path).unwrap_or_default();
        let traps = parse_snmptrapd(&output);
        if traps.len() >= cases.len() {
            break traps;
        }
        assert!(
            Instant::now() < deadline,
            "snmptrapd printed only:\n{output}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = trapd.kill();
    let _ = trapd.wait();

    for ((name, uptime, options, trap), expected) in cases.iter().zip(&printed) {
        // snmpinform exits 0 only once it has Vigil's Response.
        assert!(
            send(name, options, trap, vigil),
            "{name}: Vigil did not take it"
        );
        let answer = server.wait_for_total(&format!("snmp.uptime:{uptime}"), 1, 5, 20);
        assert_eq!(answer["total"], 1, "{name}: {answer}");
        let event = &answer["events"][0];
        assert_eq!(&vigil_bindings(event), expected, "{name}: {event}");
        assert!(
            !event.to_string().contains("public") && !event.to_string().contains(AUTH_PASSWORD),
            "{name}: a secret in the event: {event}"
        );
    }

    // A varbind's value is searchable under its numeric OID (ifDescr.2 of the linkDown).
    let by_oid = server.search("snmp.oid.1.3.6.1.2.1.2.2.1.2.2:\"eth0 uplink\"", 5);
    assert_eq!(by_oid["total"], 1, "{by_oid}");
    assert_eq!(by_oid["events"][0]["snmp.trap_name"], "linkDown");

    // A wrong v3 password: refused, counted, kept as an unparsed event.
    let (_, _, mut options, trap) = cases.into_iter().nth(3).expect("the authNoPriv case");
    options[11] = "wrongpass99".into();
    send("v3 authNoPriv", &options, &trap, vigil);
    let kept = server.wait_for_total("snmp.error:authentication_failed", 1, 5, 20);
    assert_eq!(kept["total"], 1, "{kept}");
    let metrics = server.get("/metrics").1;
    assert_eq!(
        common::sum_series(
            &metrics,
            "vigil_snmp_errors_total",
            &[("kind", "authentication_failed")]
        ),
        1,
        "{metrics}"
    );
    assert_eq!(
        common::sum_series(&metrics, "vigil_snmp_notifications_total", &[]),
        5
    );

    // Hostile datagrams: a BER length of 2^31, BER nested 10,000 deep, garbage. Each is
    // refused and counted; a good trap sent right after still arrives.
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("socket");
    let mut huge_length = vec![0x30, 0x84, 0x80, 0, 0, 0];
    huge_length.extend_from_slice(&[0x02, 0x01, 0x01]);
    let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 10_000)
        .flatten()
        .chain(std::iter::repeat_n(0u8, 8))
        .collect();
    let mut nested = Vec::new();
    for _ in 0..10_000 {
        // A SEQUENCE of one SEQUENCE of …, with long-form lengths that add up.
        let length = nested.len();
        let mut outer = vec![0x30, 0x83];
        outer.extend_from_slice(&u32::try_from(length).expect("length").to_be_bytes()[1..]);
        outer.extend_from_slice(&nested);
        nested = outer;
        if nested.len() > 60_000 {
            break;
        }
    }
    for datagram in [
        &huge_length[..],
        &deep[..],
        &nested[..],
        b"\xff\xfe garbage",
    ] {
        socket.send_to(datagram, vigil).expect("send");
    }
    let (name, uptime, options, trap) = &crate::cases()[0];
    assert!(send(name, options, trap, vigil), "the good trap after");
    let after = server.wait_for_total(&format!("snmp.uptime:{uptime}"), 2, 5, 20);
    assert_eq!(after["total"], 2, "{after}");
    let metrics = server.get("/metrics").1;
    let refused = common::sum_series(&metrics, "vigil_snmp_errors_total", &[]);
    assert_eq!(refused, 1 + 4, "{metrics}");
    for kind in ["truncated", "too_deep"] {
        assert!(
            common::sum_series(&metrics, "vigil_snmp_errors_total", &[("kind", kind)]) >= 1,
            "{kind}: {metrics}"
        );
    }
    assert_eq!(
        common::sum_series(&metrics, "vigil_snmp_informs_answered_total", &[]),
        1
    );
    server.stop();
}
