//! Linux kernel firewall packet logs: iptables/ip6tables `LOG` target, nftables `log` statement
//! and UFW, all in the kernel's `KEY=value` form:
//! `[UFW BLOCK] IN=eth0 OUT= MAC=… SRC=1.2.3.4 DST=5.6.7.8 LEN=60 … PROTO=TCP SPT=51234 DPT=22 …`.
//!
//! Reached with app-name `kernel` or `ufw`. A line is netfilter's when, after an optional kernel
//! uptime stamp (`[  123.456789]`), it has `IN=`, `OUT=` and `SRC=` keys; any other kernel line is
//! not. The log prefix (the text before `IN=`, trimmed of spaces, brackets and a trailing colon)
//! is `rule.name` and decides the verdict: BLOCK/DROP/REJECT/DENY → denied, ACCEPT/ALLOW →
//! allowed, otherwise none (UFW AUDIT, plain LOG rules).
//!
//! Mapped: interfaces (`observer.ingress/egress.interface.name`), the source and destination MAC
//! (from the 14-byte `MAC=` header), addresses, ports, protocol (`network.transport`), the packet
//! length (`network.bytes`), TTL / hop limit, IP id, TCP flags and window, ICMP type and code.
//! The uptime stamp is not a wall-clock time and is ignored. Not handled: `PHYSIN`/`PHYSOUT`
//! bridge details beyond keeping them, the nested packet of ICMP errors (`[SRC=… ]`).

use vigil_event::Value;

use super::kv::transport_name;
use super::search::Search;
use super::{Input, Output};

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = strip_uptime(input.message.trim_start());
    let Some(start) = find_key(message, "IN=") else {
        return false;
    };
    let (prefix, fields) = message.split_at(start);
    if find_key(fields, "OUT=").is_none() || find_key(fields, "SRC=").is_none() {
        return false;
    }
    let mut flags: Vec<&str> = Vec::new();
    let mut seen_length = false;
    let mut after_proto = false;
    for token in fields.split_whitespace() {
        let Some((key, value)) = token.split_once_char('=') else {
            // Bare words after PROTO= are TCP flags (SYN, ACK …); before it, IP flags (DF).
            if after_proto && token.bytes().all(|b| b.is_ascii_uppercase()) {
                flags.push(token);
            }
            continue;
        };
        match key {
            "IN" => out.put_str("observer.ingress.interface.name", value),
            "OUT" => out.put_str("observer.egress.interface.name", value),
            "MAC" => put_macs(value, out),
            // An unreadable SRC leaves source.ip unset, which refuses the line below.
            "SRC" => {
                out.put_ip("source.ip", value);
            }
            "DST" => {
                out.put_ip("destination.ip", value);
            }
            "SPT" => {
                out.put_int("source.port", value);
            }
            "DPT" => {
                out.put_int("destination.port", value);
            }
            "PROTO" => {
                after_proto = true;
                match transport_name(value) {
                    Some(transport) => out.put("network.transport", transport),
                    None => out.put_str("network.transport", &value.to_ascii_lowercase()),
                }
            }
            // The first LEN is the IP packet's; UDP repeats it for the datagram.
            "LEN" if !seen_length => {
                seen_length = true;
                out.put_int("network.bytes", value);
            }
            "TTL" | "HOPLIMIT" => {
                out.put_int("netfilter.ttl", value);
            }
            "ID" if !after_proto => {
                out.put_int("netfilter.ip.id", value);
            }
            "WINDOW" => {
                out.put_int("netfilter.tcp.window", value);
            }
            "TYPE" => {
                out.put_int("netfilter.icmp.type", value);
            }
            "CODE" => {
                out.put_int("netfilter.icmp.code", value);
            }
            _ => {
                if let Some(name) = vendor_key(key) {
                    out.put_str(name, value);
                }
            }
        }
    }
    if out.get("source.ip").is_none() {
        return false;
    }
    if !flags.is_empty() {
        out.put("netfilter.tcp.flags", flags.join(" "));
    }
    let rule = prefix
        .trimmed()
        .trim_start_matches('[')
        .trim_end_matches(':')
        .trim_end_matches(']')
        .trimmed();
    out.put_str("rule.name", rule);
    let ufw = input.app == Some("ufw") || rule.starts_with("UFW");
    out.put("observer.vendor", "Linux");
    out.put("observer.product", if ufw { "ufw" } else { "netfilter" });
    out.put("observer.type", "firewall");
    out.put("event.category", "network");
    let verdict = verdict(rule);
    let mut types = vec![Value::from("connection")];
    types.extend(verdict.map(Value::from));
    out.put("event.type", Value::List(types));
    let action = match verdict {
        Some("denied") => "firewall-deny",
        Some(_) => "firewall-allow",
        None => "firewall-log",
    };
    out.put("event.action", action);
    put_direction(out);
    true
}

/// `[  123.456789] rest` → `rest`; anything else unchanged.
fn strip_uptime(message: &str) -> &str {
    let Some(inner) = message.strip_prefix('[') else {
        return message;
    };
    match inner.split_once_char(']') {
        Some((stamp, rest))
            if !stamp.trimmed().is_empty()
                && stamp
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'.' || b == b' ') =>
        {
            rest.trim_start()
        }
        _ => message,
    }
}

/// Where `key` (e.g. `IN=`) starts as a token of its own: at the start or after whitespace, so
/// that `PHYSIN=` is not `IN=`.
fn find_key(text: &str, key: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(offset) = text[from..].find_str(key) {
        let at = from + offset;
        if at == 0 || text.as_bytes()[at - 1].is_ascii_whitespace() {
            return Some(at);
        }
        from = at + key.len();
    }
    None
}

/// `netfilter.<key in lower case>` for the keys kept as they are; `None` for the others.
fn vendor_key(key: &str) -> Option<&'static str> {
    Some(match key {
        "TOS" => "netfilter.tos",
        "PREC" => "netfilter.prec",
        "TC" => "netfilter.tc",
        "FLOWLBL" => "netfilter.flowlbl",
        "RES" => "netfilter.res",
        "URGP" => "netfilter.urgp",
        "PHYSIN" => "netfilter.physin",
        "PHYSOUT" => "netfilter.physout",
        "MARK" => "netfilter.mark",
        "UID" => "netfilter.uid",
        "GID" => "netfilter.gid",
        _ => return None,
    })
}

/// `MAC=` holds the Ethernet header: destination (6 bytes), source (6), ethertype (2).
fn put_macs(value: &str, out: &mut Output) {
    // Twelve `xx:` octets of two hex digits (the twelfth ends the text or a `:`).
    let bytes = value.as_bytes();
    let valid = (0..12).all(|octet| {
        let at = octet * 3;
        bytes.get(at).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(at + 1).is_some_and(u8::is_ascii_hexdigit)
            && matches!(bytes.get(at + 2), Some(b':') | None)
    });
    if !valid {
        return;
    }
    // As ECS writes a MAC: `AA-BB-CC-DD-EE-FF`.
    let ecs_mac = |first: usize| {
        let mut mac = String::with_capacity(17);
        for octet in first..first + 6 {
            if octet > first {
                mac.push('-');
            }
            let at = octet * 3;
            mac.push(char::from(bytes[at].to_ascii_uppercase()));
            mac.push(char::from(bytes[at + 1].to_ascii_uppercase()));
        }
        mac
    };
    out.put("destination.mac", ecs_mac(0));
    out.put("source.mac", ecs_mac(6));
}

/// The verdict a log prefix names, if it names one.
fn verdict(prefix: &str) -> Option<&'static str> {
    let names = |word: &str| {
        prefix
            .as_bytes()
            .windows(word.len())
            .any(|window| window.eq_ignore_ascii_case(word.as_bytes()))
    };
    if ["BLOCK", "DROP", "REJECT", "DENY"].into_iter().any(names) {
        Some("denied")
    } else if ["ACCEPT", "ALLOW"].into_iter().any(names) {
        Some("allowed")
    } else {
        None
    }
}

/// Only IN → the packet came in to this host (ingress); only OUT → it left (egress).
fn put_direction(out: &mut Output) {
    let ingress = out.get("observer.ingress.interface.name").is_some();
    let egress = out.get("observer.egress.interface.name").is_some();
    match (ingress, egress) {
        (true, false) => out.put("network.direction", "ingress"),
        (false, true) => out.put("network.direction", "egress"),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_as(app: &str, message: &str) -> Option<Output> {
        let mut out = Output::default();
        decode(&Input::new(message).app(app), &mut out).then_some(out)
    }

    fn run(message: &str) -> Option<Output> {
        run_as("kernel", message)
    }

    use crate::body::test_support::{int, text, types};

    // Ubuntu's UFW documentation (help.ubuntu.com, "UFW" logging) and typical kern.log lines.
    const UFW_BLOCK: &str = "[UFW BLOCK] IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=203.0.113.9 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=4126 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=29200 RES=0x00 SYN URGP=0";

    #[test]
    fn mac_header_needs_twelve_two_digit_hex_octets() {
        let macs = |value: &str| {
            let mut out = Output::default();
            put_macs(value, &mut out);
            (
                text(&out, "destination.mac").map(str::to_owned),
                text(&out, "source.mac").map(str::to_owned),
            )
        };
        let both = (
            Some("00-11-22-33-44-55".to_owned()),
            Some("66-77-88-99-AA-BB".to_owned()),
        );
        assert_eq!(macs("00:11:22:33:44:55:66:77:88:99:aa:bb"), both);
        assert_eq!(macs("00:11:22:33:44:55:66:77:88:99:aa:bb:08:00"), both);
        assert_eq!(macs("00:11:22:33:44:55:66:77:88:99:aa:bb:"), both);
        for refused in [
            "",
            "00:11:22:33:44:55:66:77:88:99:aa",
            "00:11:22:33:44:55:66:77:88:99:aa:bbb",
            "00:11:22:33:44:55:66:77:88:99:aa:b",
            "00:11:22:33:44:55:66:77:88:99:aa:bg",
            "00:11:22:33:44:55:66:77:88:99:aa-bb",
            "00:11:22:33:44:55:66:77:88:99:aa:é",
        ] {
            assert_eq!(macs(refused), (None, None), "{refused:?}");
        }
    }

    #[test]
    fn ufw_block_tcp() {
        let out = run(UFW_BLOCK).unwrap();
        assert_eq!(text(&out, "rule.name"), Some("UFW BLOCK"));
        assert_eq!(text(&out, "observer.product"), Some("ufw"));
        assert_eq!(text(&out, "event.category"), Some("network"));
        assert_eq!(types(&out), ["connection", "denied"]);
        assert_eq!(text(&out, "event.action"), Some("firewall-deny"));
        assert_eq!(text(&out, "observer.ingress.interface.name"), Some("eth0"));
        assert!(out.get("observer.egress.interface.name").is_none());
        assert_eq!(text(&out, "network.direction"), Some("ingress"));
        assert_eq!(text(&out, "destination.mac"), Some("00-11-22-33-44-55"));
        assert_eq!(text(&out, "source.mac"), Some("66-77-88-99-AA-BB"));
        assert_eq!(text(&out, "source.ip"), Some("203.0.113.9"));
        assert_eq!(text(&out, "destination.ip"), Some("192.0.2.10"));
        assert_eq!(int(&out, "source.port"), Some(51234));
        assert_eq!(int(&out, "destination.port"), Some(22));
        assert_eq!(text(&out, "network.transport"), Some("tcp"));
        assert_eq!(int(&out, "network.bytes"), Some(60));
        assert_eq!(int(&out, "netfilter.ttl"), Some(52));
        assert_eq!(int(&out, "netfilter.ip.id"), Some(4126));
        assert_eq!(int(&out, "netfilter.tcp.window"), Some(29200));
        assert_eq!(text(&out, "netfilter.tcp.flags"), Some("SYN"));
    }

    #[test]
    fn ufw_allow_with_uptime_stamp() {
        let line = "[ 5012.345678] [UFW ALLOW] IN=enp3s0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=10.0.0.5 DST=10.0.0.1 LEN=52 TOS=0x00 PREC=0x00 TTL=64 ID=0 DF PROTO=TCP SPT=40000 DPT=443 WINDOW=501 RES=0x00 ACK FIN URGP=0";
        let out = run_as("ufw", line).unwrap();
        assert_eq!(text(&out, "rule.name"), Some("UFW ALLOW"));
        assert_eq!(types(&out), ["connection", "allowed"]);
        assert_eq!(text(&out, "netfilter.tcp.flags"), Some("ACK FIN"));
    }

    #[test]
    fn ufw_audit_udp_has_no_verdict() {
        let line = "[UFW AUDIT] IN= OUT=eth0 SRC=192.168.1.20 DST=192.168.1.1 LEN=73 TOS=0x00 PREC=0x00 TTL=64 ID=2461 DF PROTO=UDP SPT=43021 DPT=53 LEN=53";
        let out = run(line).unwrap();
        assert_eq!(types(&out), ["connection"]);
        assert_eq!(text(&out, "event.action"), Some("firewall-log"));
        assert_eq!(text(&out, "network.transport"), Some("udp"));
        assert_eq!(int(&out, "network.bytes"), Some(73));
        assert_eq!(text(&out, "network.direction"), Some("egress"));
        assert!(out.get("source.mac").is_none());
    }

    #[test]
    fn iptables_prefix_and_icmp() {
        let line = "IPTables-Dropped: IN=eth0 OUT= MAC=08:00:27:d3:8b:35:52:54:00:12:35:02:08:00 SRC=10.0.2.2 DST=10.0.2.15 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=46131 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1";
        let out = run(line).unwrap();
        assert_eq!(text(&out, "rule.name"), Some("IPTables-Dropped"));
        assert_eq!(text(&out, "observer.product"), Some("netfilter"));
        assert_eq!(types(&out), ["connection", "denied"]);
        assert_eq!(text(&out, "network.transport"), Some("icmp"));
        assert_eq!(int(&out, "netfilter.icmp.type"), Some(8));
        assert_eq!(int(&out, "netfilter.icmp.code"), Some(0));
        // The ICMP echo ID after PROTO is not the IP id.
        assert_eq!(int(&out, "netfilter.ip.id"), Some(46131));
    }

    #[test]
    fn nftables_ipv6_and_forwarded() {
        let line = "nft accept fwd: IN=br0 OUT=eth1 MAC=aa:bb:cc:dd:ee:ff:11:22:33:44:55:66:86:dd SRC=2001:db8::10 DST=2001:db8:1::20 LEN=80 TC=0 HOPLIMIT=63 FLOWLBL=372918 PROTO=TCP SPT=55000 DPT=8443 WINDOW=64800 RES=0x00 SYN URGP=0";
        let out = run(line).unwrap();
        assert_eq!(text(&out, "rule.name"), Some("nft accept fwd"));
        assert_eq!(types(&out), ["connection", "allowed"]);
        assert_eq!(text(&out, "source.ip"), Some("2001:db8::10"));
        assert_eq!(int(&out, "netfilter.ttl"), Some(63));
        assert_eq!(text(&out, "netfilter.flowlbl"), Some("372918"));
        assert!(out.get("network.direction").is_none());
    }

    #[test]
    fn no_prefix_at_all() {
        let line = "IN=eth0 OUT= SRC=198.51.100.7 DST=192.0.2.1 LEN=40 TOS=0x00 PREC=0x00 TTL=241 ID=54321 PROTO=TCP SPT=41414 DPT=3389 WINDOW=1024 RES=0x00 SYN URGP=0";
        let out = run(line).unwrap();
        assert!(out.get("rule.name").is_none());
        assert_eq!(int(&out, "destination.port"), Some(3389));
    }

    #[test]
    fn other_kernel_lines_are_refused() {
        assert!(
            run("[    0.000000] Linux version 5.15.0-91-generic (buildd@lcy02-amd64-045)")
                .is_none()
        );
        assert!(
            run("e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx").is_none()
        );
        assert!(run(
            "audit: type=1400 audit(1700000000.123:42): apparmor=\"DENIED\" operation=\"open\""
        )
        .is_none());
        // IN= but no SRC= / OUT=.
        assert!(run("[UFW BLOCK] IN=eth0 OUT= MAC=00:11").is_none());
        assert!(run("PHYSIN=eth0 OUT= SRC=1.2.3.4").is_none());
        // SRC is not an address.
        assert!(run("[UFW BLOCK] IN=eth0 OUT= SRC=somewhere DST=1.2.3.4").is_none());
        assert!(run("").is_none());
        assert!(run("[").is_none());
    }

    #[test]
    fn dispatcher_routes_kernel_lines_here() {
        let mut out = Output::default();
        let input = Input::new(UFW_BLOCK).app("kernel");
        assert_eq!(super::super::decode(&input, &mut out), Some("netfilter"));
        assert_eq!(text(&out, "rule.name"), Some("UFW BLOCK"));
    }
}
