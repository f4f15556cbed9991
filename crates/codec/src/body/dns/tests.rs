use vigil_event::Value;

use super::super::{decode as dispatch, Input, Output};
use super::decode;

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

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|item| Value::from(*item)).collect())
}

// BIND query log lines in the formats of 9.3-9.8 (no query name in parentheses), 9.9-9.10 and
// 9.11+ (client object `@0x…`, EDNS/cookie flags), as documented in the BIND ARM's `queries`
// category and seen in distribution logs.

#[test]
fn bind_911_query_line() {
    let out = decoded("client @0x7f1d3c1a2b50 192.168.1.10#53123 (www.example.com): query: www.example.com IN A +E(0)K (192.168.1.1)", "named");
    assert_eq!(text(&out, "source.ip"), Some("192.168.1.10"));
    assert_eq!(int(&out, "source.port"), Some(53123));
    assert_eq!(text(&out, "dns.question.name"), Some("www.example.com"));
    assert_eq!(text(&out, "dns.question.type"), Some("A"));
    assert_eq!(text(&out, "dns.question.class"), Some("IN"));
    assert_eq!(text(&out, "dns.type"), Some("query"));
    assert_eq!(text(&out, "bind.query.flags"), Some("+E(0)K"));
    assert_eq!(out.get("dns.header_flags"), Some(&list(&["RD"])));
    assert_eq!(text(&out, "network.transport"), Some("udp"));
    assert_eq!(text(&out, "destination.ip"), Some("192.168.1.1"));
    assert_eq!(text(&out, "event.category"), Some("network"));
    assert_eq!(text(&out, "event.type"), Some("protocol"));
    assert_eq!(text(&out, "network.protocol"), Some("dns"));
}

#[test]
fn bind_older_query_lines() {
    let out = decoded("client 10.0.0.5#53324: query: example.com IN MX +", "named");
    assert_eq!(text(&out, "source.ip"), Some("10.0.0.5"));
    assert_eq!(text(&out, "dns.question.type"), Some("MX"));
    assert_eq!(out.get("destination.ip"), None);

    let out = decoded(
        "client 2001:db8::5#40000 (example.com): query: example.com IN AXFR -T (2001:db8::1)",
        "named",
    );
    assert_eq!(text(&out, "source.ip"), Some("2001:db8::5"));
    assert_eq!(out.get("dns.header_flags"), None);
    assert_eq!(text(&out, "network.transport"), Some("tcp"));
    assert_eq!(text(&out, "destination.ip"), Some("2001:db8::1"));
}

#[test]
fn bind_query_with_file_time_category_and_view() {
    let out = decoded("04-Nov-2021 10:11:12.123 queries: info: client @0x7fa3b400f2d0 10.0.0.5#35611 (example.com): view internal: query: example.com IN AAAA +EDC (10.0.0.1)", "named");
    assert_eq!(
        out.timestamp().map(|time| time.to_string()).as_deref(),
        Some("2021-11-04T10:11:12.123Z")
    );
    assert_eq!(text(&out, "bind.category"), Some("queries"));
    assert_eq!(text(&out, "log.level"), Some("info"));
    assert_eq!(text(&out, "bind.view"), Some("internal"));
    assert_eq!(text(&out, "dns.question.type"), Some("AAAA"));
    assert_eq!(
        out.get("dns.header_flags"),
        Some(&list(&["RD", "DO", "CD"]))
    );
}

#[test]
fn bind_client_refusals_and_failures() {
    let out = decoded("client @0x7f0b8c0a1234 203.0.113.5#4444 (example.org): query (cache) 'example.org/A/IN' denied", "named");
    assert_eq!(text(&out, "source.ip"), Some("203.0.113.5"));
    assert_eq!(text(&out, "dns.question.name"), Some("example.org"));
    assert_eq!(text(&out, "dns.question.type"), Some("A"));
    assert_eq!(text(&out, "dns.question.class"), Some("IN"));
    assert_eq!(text(&out, "event.action"), Some("query-denied"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(out.get("event.type"), Some(&list(&["protocol", "denied"])));

    let out = decoded("security: error: client 10.0.0.9#5353 (x.example): query failed (REFUSED) for x.example/IN/TXT at query.c:5464", "named");
    assert_eq!(text(&out, "log.level"), Some("error"));
    assert_eq!(text(&out, "dns.response_code"), Some("REFUSED"));
    assert_eq!(text(&out, "dns.question.name"), Some("x.example"));
    assert_eq!(text(&out, "dns.question.type"), Some("TXT"));
    assert_eq!(text(&out, "dns.question.class"), Some("IN"));

    let out = decoded(
        "client 198.51.100.2#33301: zone transfer 'example.com/AXFR/IN' denied",
        "named",
    );
    assert_eq!(text(&out, "event.action"), Some("zone-transfer-denied"));
    assert_eq!(text(&out, "dns.question.type"), Some("AXFR"));

    let out = decoded(
        "client 198.51.100.3#1234: received notify for zone 'example.com'",
        "named",
    );
    assert_eq!(text(&out, "event.action"), Some("notify"));
    assert_eq!(text(&out, "dns.question.name"), Some("example.com"));
}

#[test]
fn bind_server_messages() {
    // Loghub Linux data set, `named[2306]`.
    let out = decoded("notify question section contains no SOA", "named");
    assert_eq!(text(&out, "event.action"), Some("notify-malformed"));

    let out = decoded(
        "unexpected RCODE (REFUSED) resolving 'example.net/A/IN': 192.0.2.53#53",
        "named",
    );
    assert_eq!(text(&out, "dns.response_code"), Some("REFUSED"));
    assert_eq!(text(&out, "dns.question.name"), Some("example.net"));
    assert_eq!(text(&out, "destination.ip"), Some("192.0.2.53"));
    assert_eq!(int(&out, "destination.port"), Some(53));

    let out = decoded(
        "error (network unreachable) resolving './NS/IN': 2001:500:2::c#53",
        "named",
    );
    assert_eq!(text(&out, "dns.question.name"), Some("."));
    assert_eq!(text(&out, "destination.ip"), Some("2001:500:2::c"));

    let out = decoded(
        "lame server resolving 'example.com' (in 'example.com'?): 192.0.2.1#53",
        "named",
    );
    assert_eq!(text(&out, "dns.question.name"), Some("example.com"));
    assert_eq!(text(&out, "destination.ip"), Some("192.0.2.1"));
}

#[test]
fn bind_near_misses_are_refused() {
    refused("client 10.0.0.5: query: example.com IN A +", "named");
    refused("client 10.0.0.5#53324: query: example.com IN A", "named");
    refused("client bogus#53: query: example.com IN A +", "named");
    refused("zone example.com/IN: loaded serial 2021110401", "named");
    refused("starting BIND 9.16.1-Ubuntu", "named");
}

// dnsmasq `log-queries` lines as dnsmasq 2.x writes them.

#[test]
fn dnsmasq_query_forward_and_answers() {
    let out = decoded("query[A] www.google.com from 192.168.1.100", "dnsmasq");
    assert_eq!(text(&out, "dns.type"), Some("query"));
    assert_eq!(text(&out, "dns.question.name"), Some("www.google.com"));
    assert_eq!(text(&out, "dns.question.type"), Some("A"));
    assert_eq!(text(&out, "source.ip"), Some("192.168.1.100"));
    assert_eq!(text(&out, "event.action"), Some("dns-query"));

    let out = decoded("forwarded www.google.com to 8.8.8.8", "dnsmasq");
    assert_eq!(text(&out, "destination.ip"), Some("8.8.8.8"));
    assert_eq!(text(&out, "event.action"), Some("dns-forward"));
    assert_eq!(text(&out, "dns.question.name"), Some("www.google.com"));

    let out = decoded("reply www.google.com is 142.250.185.68", "dnsmasq");
    assert_eq!(text(&out, "dns.type"), Some("answer"));
    assert_eq!(out.get("dns.resolved_ip"), Some(&list(&["142.250.185.68"])));
    assert_eq!(text(&out, "event.action"), Some("dns-reply"));

    let out = decoded("cached www.google.com is <CNAME>", "dnsmasq");
    assert_eq!(text(&out, "dns.answers.data"), Some("<CNAME>"));
    assert_eq!(text(&out, "event.action"), Some("dns-cached"));

    let out = decoded("config local.lan is NXDOMAIN", "dnsmasq");
    assert_eq!(text(&out, "dns.response_code"), Some("NXDOMAIN"));

    let out = decoded("/etc/hosts router.lan is 192.168.1.1", "dnsmasq");
    assert_eq!(text(&out, "event.action"), Some("dns-hosts-file"));
    assert_eq!(out.get("dns.resolved_ip"), Some(&list(&["192.168.1.1"])));
}

#[test]
fn dnsmasq_extra_query_logging() {
    let out = decoded(
        "2134 192.168.1.100/51234 query[AAAA] example.com from 192.168.1.100",
        "dnsmasq",
    );
    assert_eq!(int(&out, "dnsmasq.query_id"), Some(2134));
    assert_eq!(int(&out, "source.port"), Some(51234));
    assert_eq!(text(&out, "dns.question.type"), Some("AAAA"));
}

#[test]
fn dnsmasq_near_misses_are_refused() {
    refused("query[A] www.google.com from nowhere", "dnsmasq");
    refused("forwarded www.google.com to the upstream", "dnsmasq");
    refused("started, version 2.80 cachesize 150", "dnsmasq");
    refused("reply www.google.com was 1.2.3.4", "dnsmasq");
}

#[test]
fn dnsmasq_dhcp_lines_under_the_dnsmasq_tag_go_to_dhcp() {
    let out = decoded(
        "DHCPACK(eth0) 10.0.0.50 00:11:22:33:44:55 laptop",
        "dnsmasq",
    );
    assert_eq!(text(&out, "client.ip"), Some("10.0.0.50"));
    assert_eq!(text(&out, "network.protocol"), Some("dhcp"));
}

// unbound `log-queries` / `log-replies` (unbound 1.x).

#[test]
fn unbound_query_and_reply() {
    let out = decoded("[2114:0] info: 127.0.0.1 www.example.com. A IN", "unbound");
    assert_eq!(text(&out, "source.ip"), Some("127.0.0.1"));
    assert_eq!(text(&out, "dns.question.name"), Some("www.example.com"));
    assert_eq!(text(&out, "dns.question.type"), Some("A"));
    assert_eq!(text(&out, "dns.question.class"), Some("IN"));
    assert_eq!(text(&out, "dns.type"), Some("query"));
    assert_eq!(text(&out, "log.level"), Some("info"));

    let out = decoded(
        "[2114:0] info: 10.0.0.5 example.org. AAAA IN NXDOMAIN 0.023456 0 49",
        "unbound",
    );
    assert_eq!(text(&out, "dns.type"), Some("answer"));
    assert_eq!(text(&out, "dns.response_code"), Some("NXDOMAIN"));
    assert_eq!(int(&out, "event.duration"), Some(23_456_000));
}

#[test]
fn unbound_near_misses_are_refused() {
    refused(
        "[2114:0] info: start of service (unbound 1.9.4).",
        "unbound",
    );
    refused("[2114:0] info: 127.0.0.1 www.example.com A IN", "unbound");
    refused("[2114:0] info: nobody www.example.com. A IN", "unbound");
}

#[test]
fn dns_lines_reach_dns_through_the_dispatcher() {
    let mut out = Output::default();
    let input = Input::new("notify question section contains no SOA").app("named");
    assert_eq!(dispatch(&input, &mut out), Some("dns"));
    let input = Input::new("query[A] example.com from 10.0.0.5").app("dnsmasq");
    assert_eq!(dispatch(&input, &mut out), Some("dns"));
    let input = Input::new("[1:0] info: 10.0.0.5 example.com. A IN").app("unbound");
    assert_eq!(dispatch(&input, &mut out), Some("dns"));
}

#[test]
fn arbitrary_text_never_panics() {
    for line in [
        "client ",
        "client @0x",
        "client 1.2.3.4#",
        "client 1.2.3.4#1: query: ",
        "client 1.2.3.4#1: query failed (",
        "x resolving '",
        "x resolving 'a'",
        "01-Jan-2024 ",
        "[",
        "[1:0] ",
        "query[ a from b",
        "é resolving 'é/é/é': é#é",
        "client 1.2.3.4#1: query: a IN A +E(0",
    ] {
        let mut out = Output::default();
        let _ = decode(&Input::new(line).app("named"), &mut out);
    }
}
