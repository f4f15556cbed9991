use super::super::{decode as dispatch, Input, Output};
use super::{decode, normalize_mac};

fn decoded(line: &str, app: &str) -> Output {
    let mut out = Output::default();
    assert!(
        decode(&Input::new(line).app(app), &mut out),
        "not recognised: {line}"
    );
    out
}

fn refused(line: &str, app: &str) {
    let mut out = Output::default();
    assert!(
        !decode(&Input::new(line).app(app), &mut out),
        "recognised: {line}"
    );
}

use crate::body::test_support::{int, text};

#[test]
fn macs_are_normalized_to_the_ecs_form() {
    assert_eq!(
        normalize_mac("00:0c:29:2e:d6:1b").as_deref(),
        Some("00-0C-29-2E-D6-1B")
    );
    assert_eq!(
        normalize_mac("0:11:2:33:44:5").as_deref(),
        Some("00-11-02-33-44-05")
    );
    assert_eq!(normalize_mac("00:11:22:33:44"), None);
    assert_eq!(normalize_mac("00:11:22:33:44:5g"), None);
    assert_eq!(normalize_mac("001:11:22:33:44:55"), None);
}

// ISC dhcpd 4.x lines, in the wording of its sources (server/dhcp.c) and as they appear in
// /var/log/syslog.

#[test]
fn isc_discover_offer_request_ack() {
    let out = decoded("DHCPDISCOVER from 00:0c:29:2e:d6:1b via eth1", "dhcpd");
    assert_eq!(text(&out, "event.action"), Some("dhcpdiscover"));
    assert_eq!(text(&out, "client.mac"), Some("00-0C-29-2E-D6-1B"));
    assert_eq!(text(&out, "observer.ingress.interface.name"), Some("eth1"));
    assert_eq!(text(&out, "event.category"), Some("network"));
    assert_eq!(text(&out, "event.type"), Some("protocol"));
    assert_eq!(text(&out, "network.protocol"), Some("dhcp"));

    let out = decoded(
        "DHCPOFFER on 192.168.1.100 to 00:0c:29:2e:d6:1b (client-pc) via eth1",
        "dhcpd",
    );
    assert_eq!(text(&out, "event.action"), Some("dhcpoffer"));
    assert_eq!(text(&out, "client.ip"), Some("192.168.1.100"));
    assert_eq!(text(&out, "client.mac"), Some("00-0C-29-2E-D6-1B"));
    assert_eq!(text(&out, "client.domain"), Some("client-pc"));

    let out = decoded(
        "DHCPREQUEST for 192.168.1.100 (192.168.1.1) from 00:0c:29:2e:d6:1b (client-pc) via eth1",
        "dhcpd",
    );
    assert_eq!(text(&out, "client.ip"), Some("192.168.1.100"));
    assert_eq!(text(&out, "server.ip"), Some("192.168.1.1"));
    assert_eq!(text(&out, "client.domain"), Some("client-pc"));

    let out = decoded(
        "DHCPACK on 192.168.1.100 to 00:0c:29:2e:d6:1b (client-pc) via eth1",
        "dhcpd",
    );
    assert_eq!(text(&out, "event.action"), Some("dhcpack"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));
    assert_eq!(text(&out, "client.ip"), Some("192.168.1.100"));
}

#[test]
fn isc_failures_and_details() {
    let out = decoded(
        "DHCPNAK on 10.0.0.60 to 00:11:22:33:44:55 via eth0",
        "dhcpd",
    );
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(text(&out, "client.ip"), Some("10.0.0.60"));

    let out = decoded(
        "DHCPDISCOVER from 00:11:22:33:44:55 via eth0: network 10.0.0.0/24: no free leases",
        "dhcpd",
    );
    assert_eq!(
        text(&out, "error.message"),
        Some("network 10.0.0.0/24: no free leases")
    );

    let out = decoded(
        "DHCPREQUEST for 10.0.0.60 from 00:11:22:33:44:55 via eth0: wrong network.",
        "dhcpd",
    );
    assert_eq!(text(&out, "error.message"), Some("wrong network"));

    let out = decoded(
        "DHCPDECLINE of 10.0.0.5 from 0:11:22:33:44:5 via eth0: abandoned",
        "dhcpd",
    );
    assert_eq!(text(&out, "client.mac"), Some("00-11-22-33-44-05"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
}

#[test]
fn isc_release_inform_relay_and_duplicate_uid() {
    let out = decoded(
        "DHCPRELEASE of 192.168.1.100 from 00:0c:29:2e:d6:1b (client-pc) via eth1 (found)",
        "dhcpd",
    );
    assert_eq!(text(&out, "event.action"), Some("dhcprelease"));
    assert_eq!(text(&out, "client.ip"), Some("192.168.1.100"));
    assert_eq!(text(&out, "client.domain"), Some("client-pc"));

    let out = decoded("DHCPINFORM from 192.168.1.50 via eth1", "dhcpd");
    assert_eq!(text(&out, "client.ip"), Some("192.168.1.50"));

    let out = decoded(
        "DHCPACK to 192.168.1.50 (00:0c:29:2e:d6:1b) via eth1",
        "dhcpd",
    );
    assert_eq!(text(&out, "client.ip"), Some("192.168.1.50"));
    assert_eq!(text(&out, "client.mac"), Some("00-0C-29-2E-D6-1B"));

    let out = decoded("DHCPDISCOVER from 00:11:22:33:44:55 via 10.1.0.1", "dhcpd");
    assert_eq!(text(&out, "dhcpd.relay_ip"), Some("10.1.0.1"));
    assert_eq!(out.get("client.ip"), None);

    let out = decoded(
        "uid lease 10.0.0.5 for client 00:11:22:33:44:55 is duplicate on 10.0.0.0/24",
        "dhcpd",
    );
    assert_eq!(text(&out, "event.action"), Some("duplicate-uid-lease"));
    assert_eq!(text(&out, "client.ip"), Some("10.0.0.5"));
    assert_eq!(text(&out, "client.mac"), Some("00-11-22-33-44-55"));
    assert_eq!(text(&out, "dhcpd.network"), Some("10.0.0.0/24"));
}

#[test]
fn isc_near_misses_are_refused() {
    refused("DHCPACK to nowhere", "dhcpd");
    refused("DHCP packet received on eth0 which has no address", "dhcpd");
    refused("Internet Systems Consortium DHCP Server 4.4.1", "dhcpd");
    refused("DHCPack on 10.0.0.5 to 00:11:22:33:44:55", "dhcpd");
    refused(
        "uid lease 10.0.0.5 for client nobody is duplicate on x",
        "dhcpd",
    );
}

// dhclient (ISC 4.x client).

#[test]
fn dhclient_request_ack_bound() {
    let out = decoded(
        "DHCPREQUEST of 192.168.1.100 on eth0 to 192.168.1.1 port 67 (xid=0x5a3b2c1d)",
        "dhclient",
    );
    assert_eq!(text(&out, "client.ip"), Some("192.168.1.100"));
    assert_eq!(text(&out, "observer.ingress.interface.name"), Some("eth0"));
    assert_eq!(text(&out, "server.ip"), Some("192.168.1.1"));
    assert_eq!(int(&out, "server.port"), Some(67));
    assert_eq!(text(&out, "dhclient.xid"), Some("0x5a3b2c1d"));

    let out = decoded("DHCPACK of 192.168.1.100 from 192.168.1.1", "dhclient");
    assert_eq!(text(&out, "client.ip"), Some("192.168.1.100"));
    assert_eq!(text(&out, "server.ip"), Some("192.168.1.1"));

    let out = decoded(
        "bound to 192.168.1.100 -- renewal in 1234 seconds.",
        "dhclient",
    );
    assert_eq!(text(&out, "client.ip"), Some("192.168.1.100"));
    assert_eq!(int(&out, "dhclient.renewal_seconds"), Some(1234));
    assert_eq!(text(&out, "event.action"), Some("dhcp-bound"));
}

#[test]
fn dhclient_near_misses_are_refused() {
    refused("bound to nowhere -- renewal in 5 seconds.", "dhclient");
    refused("bound to 10.0.0.5", "dhclient");
    refused("No DHCPOFFERS received.", "dhclient");
}

// dnsmasq-dhcp, as dnsmasq 2.x logs it (src/rfc2131.c, rfc3315.c log_packet).

#[test]
fn dnsmasq_dhcp_lines() {
    let out = decoded("DHCPDISCOVER(eth0) 00:11:22:33:44:55", "dnsmasq-dhcp");
    assert_eq!(text(&out, "event.action"), Some("dhcpdiscover"));
    assert_eq!(text(&out, "observer.ingress.interface.name"), Some("eth0"));
    assert_eq!(text(&out, "client.mac"), Some("00-11-22-33-44-55"));

    let out = decoded(
        "DHCPACK(eth0) 192.168.1.100 00:11:22:33:44:55 laptop",
        "dnsmasq-dhcp",
    );
    assert_eq!(text(&out, "client.ip"), Some("192.168.1.100"));
    assert_eq!(text(&out, "client.mac"), Some("00-11-22-33-44-55"));
    assert_eq!(text(&out, "client.domain"), Some("laptop"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));

    let out = decoded(
        "DHCPREQUEST(eth0) 192.168.1.100 00:11:22:33:44:55",
        "dnsmasq-dhcp",
    );
    assert_eq!(text(&out, "event.action"), Some("dhcprequest"));
    assert_eq!(out.get("client.domain"), None);

    let out = decoded(
        "DHCPDISCOVER(eth0) 00:11:22:33:44:55 no address available",
        "dnsmasq-dhcp",
    );
    assert_eq!(text(&out, "error.message"), Some("no address available"));

    let out = decoded(
        "DHCPNAK(br0) 192.168.1.5 00:11:22:33:44:55 wrong network",
        "dnsmasq-dhcp",
    );
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(text(&out, "error.message"), Some("wrong network"));

    let out = decoded(
        "3482739382 DHCPACK(eth0) 192.168.1.100 00:11:22:33:44:55 laptop",
        "dnsmasq-dhcp",
    );
    assert_eq!(int(&out, "dnsmasq.dhcp.xid"), Some(3482739382));

    let out = decoded(
        "DHCPREPLY(br0) fd00::1:5 00:01:00:01:2a:3b:4c:5d:00:11:22:33:44:55 laptop",
        "dnsmasq-dhcp",
    );
    assert_eq!(text(&out, "client.ip"), Some("fd00::1:5"));
    assert_eq!(
        text(&out, "dnsmasq.dhcp.client_id"),
        Some("00:01:00:01:2a:3b:4c:5d:00:11:22:33:44:55")
    );
    assert_eq!(text(&out, "client.domain"), Some("laptop"));
}

#[test]
fn dnsmasq_dhcp_near_misses_are_refused() {
    refused("DHCPDISCOVER(eth0) not-a-mac", "dnsmasq-dhcp");
    refused("DHCPDISCOVER(eth 0) 00:11:22:33:44:55", "dnsmasq-dhcp");
    refused("DHCP(eth0) 00:11:22:33:44:55", "dnsmasq-dhcp");
    refused(
        "3482739382 available DHCP range: 10.0.0.10 -- 10.0.0.200",
        "dnsmasq-dhcp",
    );
}

#[test]
fn dhcp_lines_reach_dhcp_through_the_dispatcher() {
    let mut out = Output::default();
    for (line, app) in [
        (
            "DHCPACK on 10.0.0.50 to 00:11:22:33:44:55 (host) via eth0",
            "dhcpd",
        ),
        (
            "DHCPACK(eth0) 10.0.0.50 00:11:22:33:44:55 host",
            "dnsmasq-dhcp",
        ),
        ("DHCPACK of 10.0.0.50 from 10.0.0.1", "dhclient"),
    ] {
        assert_eq!(dispatch(&Input::new(line).app(app), &mut out), Some("dhcp"));
        assert_eq!(text(&out, "client.ip"), Some("10.0.0.50"));
    }
}

#[test]
fn arbitrary_text_never_panics() {
    for line in [
        "DHCP",
        "DHCPACK(",
        "DHCPACK()",
        "DHCPACK(é) é",
        "uid lease ",
        "bound to ",
        "1 DHCP",
        "DHCPACK on",
        "DHCPACK (",
        "DHCPACK ()",
        "DHCPACK on é: é",
    ] {
        let mut out = Output::default();
        let _ = decode(&Input::new(line), &mut out);
    }
}
