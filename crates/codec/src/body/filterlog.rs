//! pfSense and OPNsense packet-filter logs (`filterlog`), the CSV format Netgate documents as
//! "Filter Log Format": `5,,,1000000103,em0,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,…`.
//!
//! Fields: rule number, sub rule, anchor, tracker, interface, reason, action (pass/block/reject),
//! direction (in/out), IP version; then for IPv4 TOS, ECN, TTL, id, offset, flags, protocol id,
//! protocol name, length, source, destination, or for IPv6 class, flow label, hop limit, protocol
//! name, protocol id, length, source, destination; then for TCP source port, destination port,
//! data length, flags, sequence, ack, window, urg, options, for UDP the ports and data length, for
//! ICMP the ICMP type, for CARP its type, ttl, vhid, version, advbase and advskew.
//!
//! Which product: both name their program `filterlog`, but OPNsense writes the rule's 32-digit
//! hexadecimal label hash as the tracker where pfSense writes a decimal number, so a hex tracker
//! means Deciso OPNsense, anything else Netgate pfSense.
//!
//! Mapped: `rule.id` (tracker), `event.action` (the action), `event.type` connection +
//! allowed/denied, `event.reason` (match, state …), the interface (`observer.ingress…` for `in`,
//! `observer.egress…` for `out`), `network.direction` (ingress/egress), `network.type`,
//! `network.transport` and `network.iana_number`, addresses and ports; the rest under
//! `pfsense.*`. Not handled: the older pfSense 2.1 text format (`rule 5/0(match): block in …`),
//! ICMP type-specific details beyond the type.

use vigil_event::Value;

use super::kv::iana_transport;
use super::search::Search;
use super::{Input, Output};

/// Common fields.
const RULE_NUMBER: usize = 0;
const SUB_RULE: usize = 1;
const ANCHOR: usize = 2;
const TRACKER: usize = 3;
const INTERFACE: usize = 4;
const REASON: usize = 5;
const ACTION: usize = 6;
const DIRECTION: usize = 7;
const IP_VERSION: usize = 8;

/// Where the IP-version-specific fields put what the rest of the line needs.
struct IpLayout {
    ttl: usize,
    protocol_id: usize,
    protocol_name: usize,
    length: usize,
    source: usize,
    destination: usize,
    /// First protocol-specific field.
    payload: usize,
}

const IPV4: IpLayout = IpLayout {
    ttl: 11,
    protocol_id: 15,
    protocol_name: 16,
    length: 17,
    source: 18,
    destination: 19,
    payload: 20,
};

const IPV6: IpLayout = IpLayout {
    ttl: 11,
    protocol_name: 12,
    protocol_id: 13,
    length: 14,
    source: 15,
    destination: 16,
    payload: 17,
};

/// filterlog lines have at most ~30 fields; stop splitting beyond this.
const MAX_FIELDS: usize = 40;
/// An OPNsense tracker: the MD5 of the rule's label.
const OPNSENSE_TRACKER_LEN: usize = 32;

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = input.message.trimmed();
    let fields: Vec<&str> = message.splitn(MAX_FIELDS, ',').collect();
    let get = |index: usize| fields.get(index).map_or("", |field| field.trimmed());
    if get(RULE_NUMBER).is_empty() || !get(RULE_NUMBER).bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let allowed = match get(ACTION) {
        "pass" => true,
        "block" | "reject" => false,
        _ => return false,
    };
    let (direction, interface_field) = match get(DIRECTION) {
        "in" => ("ingress", "observer.ingress.interface.name"),
        "out" => ("egress", "observer.egress.interface.name"),
        _ => return false,
    };
    let (layout, network_type) = match get(IP_VERSION) {
        "4" => (&IPV4, "ipv4"),
        "6" => (&IPV6, "ipv6"),
        _ => return false,
    };
    if !out.put_ip("source.ip", get(layout.source))
        || !out.put_ip("destination.ip", get(layout.destination))
    {
        return false;
    }
    let tracker = get(TRACKER);
    if is_opnsense_tracker(tracker) {
        out.put("observer.vendor", "Deciso");
        out.put("observer.product", "OPNsense");
    } else {
        out.put("observer.vendor", "Netgate");
        out.put("observer.product", "pfSense");
    }
    out.put("observer.type", "firewall");
    out.put("event.category", "network");
    let verdict = if allowed { "allowed" } else { "denied" };
    out.put(
        "event.type",
        Value::List(vec![Value::from("connection"), Value::from(verdict)]),
    );
    out.put_str("event.action", get(ACTION));
    out.put_str("event.reason", get(REASON));
    out.put_str("rule.id", tracker);
    out.put_int("pfsense.rule_number", get(RULE_NUMBER));
    out.put_str("pfsense.sub_rule", get(SUB_RULE));
    out.put_str("pfsense.anchor", get(ANCHOR));
    out.put_str(interface_field, get(INTERFACE));
    out.put("network.direction", direction);
    out.put("network.type", network_type);
    out.put_int("pfsense.ip.ttl", get(layout.ttl));
    out.put_int("pfsense.ip.length", get(layout.length));
    let protocol_id = get(layout.protocol_id);
    out.put_int("network.iana_number", protocol_id);
    let transport = protocol_id.parse::<u8>().ok().and_then(iana_transport);
    match transport {
        Some(transport) => out.put("network.transport", transport),
        None => out.put_str(
            "network.transport",
            &get(layout.protocol_name).to_ascii_lowercase(),
        ),
    }
    let payload = |offset: usize| get(layout.payload + offset);
    match transport {
        Some("tcp") => {
            out.put_int("source.port", payload(0));
            out.put_int("destination.port", payload(1));
            out.put_int("pfsense.tcp.length", payload(2));
            out.put_str("pfsense.tcp.flags", payload(3));
            out.put_str("pfsense.tcp.seq", payload(4));
            out.put_str("pfsense.tcp.ack", payload(5));
            out.put_int("pfsense.tcp.window", payload(6));
            out.put_str("pfsense.tcp.options", payload(8));
        }
        Some("udp") => {
            out.put_int("source.port", payload(0));
            out.put_int("destination.port", payload(1));
            out.put_int("pfsense.udp.length", payload(2));
        }
        Some("icmp") | Some("ipv6-icmp") => out.put_str("pfsense.icmp.type", payload(0)),
        _ if get(layout.protocol_name).eq_ignore_ascii_case("carp") => {
            out.put_str("pfsense.carp.type", payload(0));
            out.put_int("pfsense.carp.vhid", payload(2));
        }
        _ => {}
    }
    true
}

fn is_opnsense_tracker(tracker: &str) -> bool {
    tracker.len() == OPNSENSE_TRACKER_LEN && tracker.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(message: &str) -> Option<Output> {
        let mut out = Output::default();
        decode(&Input::new(message).app("filterlog"), &mut out).then_some(out)
    }

    use crate::body::test_support::{int, text, types};

    // Fixtures: Elastic's pfsense integration pipeline tests (test-pfsense-bsd.log,
    // test-opensense.log), real pfSense/OPNsense filterlog lines.
    const TCP_BLOCK: &str = "146,,,1535324496,igb1.12,match,block,in,4,0x0,,63,12617,0,DF,6,tcp,60,10.170.12.50,1.1.1.1,49724,853,0,S,1891286705,,64240,,mss;sackOK;TS;nop;wscale";

    #[test]
    fn ipv4_tcp_block() {
        let out = run(TCP_BLOCK).unwrap();
        assert_eq!(text(&out, "observer.vendor"), Some("Netgate"));
        assert_eq!(text(&out, "observer.product"), Some("pfSense"));
        assert_eq!(text(&out, "event.category"), Some("network"));
        assert_eq!(types(&out), ["connection", "denied"]);
        assert_eq!(text(&out, "event.action"), Some("block"));
        assert_eq!(text(&out, "event.reason"), Some("match"));
        assert_eq!(text(&out, "rule.id"), Some("1535324496"));
        assert_eq!(int(&out, "pfsense.rule_number"), Some(146));
        assert_eq!(
            text(&out, "observer.ingress.interface.name"),
            Some("igb1.12")
        );
        assert_eq!(text(&out, "network.direction"), Some("ingress"));
        assert_eq!(text(&out, "network.type"), Some("ipv4"));
        assert_eq!(text(&out, "network.transport"), Some("tcp"));
        assert_eq!(int(&out, "network.iana_number"), Some(6));
        assert_eq!(text(&out, "source.ip"), Some("10.170.12.50"));
        assert_eq!(text(&out, "destination.ip"), Some("1.1.1.1"));
        assert_eq!(int(&out, "source.port"), Some(49724));
        assert_eq!(int(&out, "destination.port"), Some(853));
        assert_eq!(text(&out, "pfsense.tcp.flags"), Some("S"));
        assert_eq!(int(&out, "pfsense.tcp.window"), Some(64240));
        assert_eq!(
            text(&out, "pfsense.tcp.options"),
            Some("mss;sackOK;TS;nop;wscale")
        );
        assert_eq!(int(&out, "pfsense.ip.ttl"), Some(63));
        assert_eq!(int(&out, "pfsense.ip.length"), Some(60));
    }

    #[test]
    fn ipv4_udp_pass() {
        let line = "176,,,1520797901,igb1.27,match,pass,in,4,0xb8,,64,58355,0,none,17,udp,76,10.170.27.27,216.229.4.66,123,123,56";
        let out = run(line).unwrap();
        assert_eq!(types(&out), ["connection", "allowed"]);
        assert_eq!(text(&out, "network.transport"), Some("udp"));
        assert_eq!(int(&out, "source.port"), Some(123));
        assert_eq!(int(&out, "destination.port"), Some(123));
        assert_eq!(int(&out, "pfsense.udp.length"), Some(56));
    }

    #[test]
    fn ipv6_udp_block() {
        let line = "6,,,1000000105,igb1.27,match,block,in,6,0x00,0xf6279,1,UDP,17,32,fe80::208:9bff:fef3:652b,ff02::1:2,546,547,32";
        let out = run(line).unwrap();
        assert_eq!(text(&out, "network.type"), Some("ipv6"));
        assert_eq!(text(&out, "network.transport"), Some("udp"));
        assert_eq!(text(&out, "source.ip"), Some("fe80::208:9bff:fef3:652b"));
        assert_eq!(text(&out, "destination.ip"), Some("ff02::1:2"));
        assert_eq!(int(&out, "source.port"), Some(546));
        assert_eq!(int(&out, "destination.port"), Some(547));
        assert_eq!(int(&out, "pfsense.ip.ttl"), Some(1));
    }

    #[test]
    fn icmp_and_igmp() {
        let line = "176,,,1520797901,igb1.10,match,pass,in,4,0x0,,64,62096,0,DF,1,icmp,84,10.100.10.30,142.250.114.105,request,37728,164";
        let out = run(line).unwrap();
        assert_eq!(text(&out, "network.transport"), Some("icmp"));
        assert_eq!(text(&out, "pfsense.icmp.type"), Some("request"));
        assert!(out.get("source.port").is_none());

        let line = "199,,,1557957510,igb1.12,match,pass,in,4,0xc0,,1,0,0,DF,2,igmp,32,10.170.12.17,239.255.255.250,datalength=8";
        let out = run(line).unwrap();
        assert_eq!(text(&out, "network.transport"), Some("igmp"));
        assert_eq!(int(&out, "network.iana_number"), Some(2));
    }

    #[test]
    fn carp() {
        // From a pfSense log quoted in docker-pfsense-elk's README.
        let line = "48,16777216,,1000000201,em0,match,block,in,4,0x10,,255,53650,0,DF,112,carp,56,192.168.11.1,224.0.0.18,advertise,255,1,2,0,1";
        let out = run(line).unwrap();
        assert_eq!(text(&out, "network.transport"), Some("carp"));
        assert_eq!(text(&out, "pfsense.carp.type"), Some("advertise"));
        assert_eq!(int(&out, "pfsense.carp.vhid"), Some(1));
        assert_eq!(text(&out, "pfsense.sub_rule"), Some("16777216"));
    }

    #[test]
    fn opnsense_outbound_pass() {
        let line = "124,,,fae559338f65e11c53669fc3642c93c2,ixl1_vlan70,match,pass,out,4,0x0,,63,5687,0,DF,6,tcp,60,192.168.1.1,10.10.10.10,40370,80,0,S,3364871769,,65535,,mss;sackOK;TS;nop;wscale";
        let out = run(line).unwrap();
        assert_eq!(text(&out, "observer.vendor"), Some("Deciso"));
        assert_eq!(text(&out, "observer.product"), Some("OPNsense"));
        assert_eq!(
            text(&out, "rule.id"),
            Some("fae559338f65e11c53669fc3642c93c2")
        );
        assert_eq!(
            text(&out, "observer.egress.interface.name"),
            Some("ixl1_vlan70")
        );
        assert_eq!(text(&out, "network.direction"), Some("egress"));
        assert_eq!(types(&out), ["connection", "allowed"]);
    }

    #[test]
    fn near_misses_are_refused() {
        // Palo Alto CSV.
        assert!(run("1,2018/11/30 16:09:07,012801096514,TRAFFIC,end,2049,2018/11/30 16:09:07,192.168.15.207,184.51.253.152").is_none());
        // Unknown action.
        assert!(run(&TCP_BLOCK.replace(",block,", ",maybe,")).is_none());
        // Unknown direction.
        assert!(run(&TCP_BLOCK.replace(",in,4,", ",up,4,")).is_none());
        // Addresses that are not addresses.
        assert!(run(&TCP_BLOCK.replace("10.170.12.50", "10.170.12")).is_none());
        // Truncated.
        assert!(run("146,,,1535324496,igb1.12,match,block,in,4,0x0,,63").is_none());
        assert!(run("").is_none());
        assert!(run("1,2,3").is_none());
    }

    #[test]
    fn dispatcher_routes_filterlog_here() {
        let mut out = Output::default();
        let tagged = Input::new(TCP_BLOCK).app("filterlog");
        assert_eq!(super::super::decode(&tagged, &mut out), Some("filterlog"));
        // Without the tag: a digit-led CSV line that is not Palo Alto's.
        assert_eq!(
            super::super::decode(&Input::new(TCP_BLOCK), &mut out),
            Some("filterlog")
        );
        assert_eq!(text(&out, "observer.product"), Some("pfSense"));
    }
}
