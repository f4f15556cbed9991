use vigil_event::Value;

use super::super::{decode as dispatch, Input, Output};
use super::decode;

fn decoded(line: &str) -> Output {
    let mut out = Output::default();
    assert!(
        decode(&Input::new(line), &mut out),
        "not recognised: {line}"
    );
    out
}

fn refused(line: &str) {
    let mut out = Output::default();
    assert!(!decode(&Input::new(line), &mut out), "recognised: {line}");
}

use crate::body::test_support::{int, text};

// The first line is from the Squid wiki's access.log page (Squid 2/3, `DIRECT/` hierarchy); the
// others are in the format Squid 4-6 writes (`HIER_` codes, `NONE_NONE/000` for aborted
// transactions).

#[test]
fn squid_3_miss_with_direct_hierarchy() {
    let out = decoded("1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET http://liveupdate.symantecliveupdate.com/minitri.flg - DIRECT/125.23.216.203 text/plain");
    assert_eq!(
        out.timestamp().map(|time| time.to_string()).as_deref(),
        Some("2010-10-08T11:11:48.779Z")
    );
    assert_eq!(int(&out, "event.duration"), Some(180_000_000));
    assert_eq!(text(&out, "source.ip"), Some("192.168.0.224"));
    assert_eq!(text(&out, "squid.cache_status"), Some("TCP_MISS"));
    assert_eq!(int(&out, "http.response.status_code"), Some(200));
    assert_eq!(int(&out, "http.response.bytes"), Some(411));
    assert_eq!(text(&out, "http.request.method"), Some("GET"));
    assert_eq!(
        text(&out, "url.original"),
        Some("http://liveupdate.symantecliveupdate.com/minitri.flg")
    );
    assert_eq!(
        text(&out, "url.domain"),
        Some("liveupdate.symantecliveupdate.com")
    );
    assert_eq!(text(&out, "url.path"), Some("/minitri.flg"));
    assert_eq!(out.get("user.name"), None);
    assert_eq!(text(&out, "squid.hierarchy"), Some("DIRECT"));
    assert_eq!(text(&out, "destination.ip"), Some("125.23.216.203"));
    assert_eq!(text(&out, "http.response.mime_type"), Some("text/plain"));
    assert_eq!(text(&out, "event.category"), Some("web"));
    assert_eq!(text(&out, "event.type"), Some("access"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));
    assert_eq!(text(&out, "observer.product"), Some("Squid"));
}

#[test]
fn squid_denied_is_a_failure() {
    let out = decoded("1546348800.001      0 10.0.0.5 TCP_DENIED/403 3942 GET http://blocked.example/ - HIER_NONE/- text/html");
    assert_eq!(text(&out, "squid.cache_status"), Some("TCP_DENIED"));
    assert_eq!(int(&out, "http.response.status_code"), Some(403));
    assert_eq!(text(&out, "squid.hierarchy"), Some("HIER_NONE"));
    assert_eq!(out.get("destination.ip"), None);
    assert_eq!(
        out.get("event.type"),
        Some(&Value::List(vec!["access".into(), "denied".into()]))
    );
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
}

#[test]
fn squid_connect_tunnel_with_user() {
    let out = decoded("1546348800.002  60023 10.0.0.5 TCP_TUNNEL/200 5523 CONNECT www.google.com:443 alice HIER_DIRECT/172.217.16.4 -");
    assert_eq!(int(&out, "event.duration"), Some(60_023_000_000));
    assert_eq!(text(&out, "http.request.method"), Some("CONNECT"));
    assert_eq!(text(&out, "url.original"), Some("www.google.com:443"));
    assert_eq!(text(&out, "url.domain"), Some("www.google.com"));
    assert_eq!(int(&out, "url.port"), Some(443));
    assert_eq!(text(&out, "user.name"), Some("alice"));
    assert_eq!(text(&out, "squid.hierarchy"), Some("HIER_DIRECT"));
    assert_eq!(text(&out, "destination.ip"), Some("172.217.16.4"));
    assert_eq!(out.get("http.response.mime_type"), None);
}

#[test]
fn squid_aborted_transaction_and_parent_peer() {
    let out = decoded("1546348800.003      0 10.0.0.5 NONE_NONE/000 0 NONE error:transaction-end-before-headers - HIER_NONE/- -");
    assert_eq!(text(&out, "squid.cache_status"), Some("NONE_NONE"));
    assert_eq!(int(&out, "http.response.status_code"), Some(0));
    assert_eq!(
        text(&out, "url.original"),
        Some("error:transaction-end-before-headers")
    );
    assert_eq!(out.get("url.domain"), None);
    assert_eq!(text(&out, "event.outcome"), Some("unknown"));

    let out = decoded("1700000000.123    123 10.0.0.1 TCP_MISS/404 1234 GET http://example.com/x?y=1 - FIRSTUP_PARENT/proxy.example.net text/html");
    assert_eq!(text(&out, "url.query"), Some("y=1"));
    assert_eq!(text(&out, "destination.domain"), Some("proxy.example.net"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
}

#[test]
fn squid_hit_from_ipv6_client() {
    let out = decoded("1700000001.500      2 2001:db8::10 TCP_MEM_HIT/200 15320 GET http://example.com/logo.png - HIER_NONE/- image/png");
    assert_eq!(text(&out, "source.ip"), Some("2001:db8::10"));
    assert_eq!(text(&out, "squid.cache_status"), Some("TCP_MEM_HIT"));
    assert_eq!(text(&out, "http.response.mime_type"), Some("image/png"));
}

#[test]
fn squid_near_misses_are_refused() {
    refused("1700000000.123 123 10.0.0.1 MISS/200 1234 GET http://example.com/ - HIER_DIRECT/1.2.3.4 text/html");
    refused("1700000000 123 10.0.0.1 TCP_MISS/200 1234 GET http://example.com/ - HIER_DIRECT/1.2.3.4 text/html");
    refused("1700000000.123 123 10.0.0.1 TCP_MISS/200 1234 GET http://example.com/");
    refused("1700000000.123 abc 10.0.0.1 TCP_MISS/200 1234 get http://example.com/ - HIER_DIRECT/1.2.3.4 -");
    refused("3.14 is not a squid line at all, nor is this one here ok");
}

#[test]
fn squid_line_reaches_squid_through_the_dispatcher() {
    let line = "1700000000.123    123 10.0.0.1 TCP_MISS/200 1234 GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html";
    let mut out = Output::default();
    assert_eq!(dispatch(&Input::new(line), &mut out), Some("squid"));
    assert_eq!(
        dispatch(&Input::new(line).app("squid"), &mut out),
        Some("squid")
    );
    assert_eq!(text(&out, "destination.ip"), Some("93.184.216.34"));
}
