//! Fixtures: the examples of IBM's LEEF guide ("LEEF event components", also in Juniper JSA's
//! copy and Tenzir's `leef` docs), Trend Micro Deep Security's LEEF 2.0 syslog example, and
//! lines in the shapes SecureAuth and Lastline send (attribute sets as those products'
//! published parsers expect them).

use super::*;
use crate::body::test_support::{int, recognised, text, time};

fn leef(line: &str) -> Option<Output> {
    recognised(decode, line)
}

// IBM LEEF guide: LEEF 1.0, tab-separated attributes.
#[test]
fn ibm_guide_leef_1() {
    let out = leef("LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1\tsev=5\tcat=anomaly\tsrcPort=81\tdstPort=21\tusrName=joe.black").unwrap();
    assert_eq!(text(&out, "leef.version"), Some("1.0"));
    assert_eq!(text(&out, "observer.vendor"), Some("Microsoft"));
    assert_eq!(text(&out, "observer.product"), Some("MSExchange"));
    assert_eq!(text(&out, "observer.version"), Some("4.0 SP1"));
    assert_eq!(text(&out, "event.code"), Some("15345"));
    assert_eq!(text(&out, "source.ip"), Some("192.0.2.0"));
    assert_eq!(text(&out, "destination.ip"), Some("172.50.123.1"));
    assert_eq!(int(&out, "event.severity"), Some(5));
    assert_eq!(text(&out, "leef.cat"), Some("anomaly"));
    assert_eq!(int(&out, "source.port"), Some(81));
    assert_eq!(int(&out, "destination.port"), Some(21));
    assert_eq!(text(&out, "user.name"), Some("joe.black"));
}

// IBM LEEF guide: LEEF 2.0 with `^` as delimiter.
#[test]
fn ibm_guide_leef_2_caret() {
    let out = leef("LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5^srcPort=81^dstPort=21").unwrap();
    assert_eq!(text(&out, "leef.version"), Some("2.0"));
    assert_eq!(text(&out, "observer.vendor"), Some("Lancope"));
    assert_eq!(text(&out, "event.code"), Some("41"));
    assert_eq!(text(&out, "source.ip"), Some("10.0.1.8"));
    assert_eq!(text(&out, "destination.ip"), Some("10.0.0.5"));
    assert_eq!(int(&out, "source.port"), Some(81));
    assert_eq!(int(&out, "destination.port"), Some(21));
}

// IBM LEEF guide: the delimiter as hex (`x09`, `0x5E`).
#[test]
fn hex_delimiters() {
    let out = leef("LEEF:2.0|Vendor|Product|1.0|login|x09|src=10.0.0.1\tusrName=alice\tproto=6\taction=Login Succeeded").unwrap();
    assert_eq!(text(&out, "user.name"), Some("alice"));
    assert_eq!(text(&out, "network.transport"), Some("tcp"));
    assert_eq!(text(&out, "event.action"), Some("login-succeeded"));
    let out = leef("LEEF:2.0|Vendor|Product|1.0|login|0x5E|src=10.0.0.1^usrName=bob").unwrap();
    assert_eq!(text(&out, "user.name"), Some("bob"));
}

// Trend Micro Deep Security Manager syslog documentation: LEEF 2.0 without the delimiter
// field, attributes separated by tabs.
#[test]
fn trend_micro_without_delimiter_field() {
    let out = leef("LEEF:2.0|Trend Micro|Deep Security Manager|20.0.877|192|cat=System\tname=Alert Ended\tdesc=Alert: CPU Warning Threshold Exceeded Subject: 10.201.114.164 Severity: Warning\tsev=3\tsrc=10.201.114.164\tusrName=System\tmsg=Alert: CPUWarning Threshold Exceeded\tTrendMicroDsTenant=Primary\tTrendMicroDsTenantId=0").unwrap();
    assert_eq!(
        text(&out, "observer.product"),
        Some("Deep Security Manager")
    );
    assert_eq!(text(&out, "event.code"), Some("192"));
    assert_eq!(text(&out, "leef.cat"), Some("System"));
    assert_eq!(text(&out, "leef.name"), Some("Alert Ended"));
    assert_eq!(int(&out, "event.severity"), Some(3));
    assert_eq!(text(&out, "source.ip"), Some("10.201.114.164"));
    assert_eq!(text(&out, "user.name"), Some("System"));
    assert_eq!(text(&out, "leef.TrendMicroDsTenant"), Some("Primary"));
}

// SecureAuth IdP: LEEF 1.0 written with spaces, devTime with milliseconds and its format.
#[test]
fn space_separated_with_dev_time_format() {
    let out = leef("LEEF:1.0|SecureAuth|SecureAuth IdP|9.3|Login|devTimeFormat=MMM dd yyyy HH:mm:ss.SSS devTime=Mar 14 2023 08:01:02.345 cat=Audit usrName=jsmith src=198.51.100.9 dst=10.1.2.3 url=https://idp.example.com/SecureAuth2 sev=2 resource=Login Page").unwrap();
    assert_eq!(time(&out), Some("2023-03-14T08:01:02.345Z".to_owned()));
    assert_eq!(text(&out, "user.name"), Some("jsmith"));
    assert_eq!(text(&out, "source.ip"), Some("198.51.100.9"));
    assert_eq!(
        text(&out, "url.original"),
        Some("https://idp.example.com/SecureAuth2")
    );
    assert_eq!(text(&out, "observer.name"), Some("Login Page"));
    assert_eq!(out.get("leef.devTime"), None);
    assert_eq!(out.get("leef.devTimeFormat"), None);
}

// Lastline Enterprise: devTime with a zone name, in the default format.
#[test]
fn lastline_default_dev_time() {
    let out = leef("LEEF:1.0|Lastline|Enterprise|8.1|email-malicious|devTime=Jan 15 2020 10:21:09 UTC\tsev=80\tusrName=victim@example.com\tfname=invoice.doc\tdesc=Malicious document").unwrap();
    assert_eq!(time(&out), Some("2020-01-15T10:21:09Z".to_owned()));
    // 80 is not a LEEF severity (1-10): kept as written.
    assert_eq!(out.get("event.severity"), None);
    assert_eq!(text(&out, "leef.sev"), Some("80"));
    assert_eq!(text(&out, "user.name"), Some("victim@example.com"));
}

#[test]
fn dev_time_forms() {
    let out = leef("LEEF:2.0|V|P|1|e|^|devTime=1700000000123^devTimeFormat=epoch").unwrap();
    assert_eq!(time(&out), Some("2023-11-14T22:13:20.123Z".to_owned()));
    let out = leef("LEEF:2.0|V|P|1|e|^|devTime=2024-01-02T10:00:00.250+0100^devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ").unwrap();
    assert_eq!(time(&out), Some("2024-01-02T09:00:00.250Z".to_owned()));
    let out = leef(
        "LEEF:2.0|V|P|1|e|^|devTime=02/01/2024 10:00:00 PM^devTimeFormat=dd/MM/yyyy hh:mm:ss a",
    )
    .unwrap();
    assert_eq!(time(&out), Some("2024-01-02T22:00:00Z".to_owned()));
    // A time that does not match its format is kept as written.
    let out = leef("LEEF:2.0|V|P|1|e|^|devTime=soon^devTimeFormat=yyyy").unwrap();
    assert_eq!(time(&out), None);
    assert_eq!(text(&out, "leef.devTime"), Some("soon"));
}

#[test]
fn nat_bytes_and_account_names() {
    let out = leef("LEEF:1.0|Palo Alto Networks|PAN-OS Syslog Integration|10.1|allow|cat=TRAFFIC\tsrc=10.0.0.5\tsrcPostNAT=203.0.113.5\tdst=198.51.100.7\tsrcPort=52311\tsrcPostNATPort=41000\tdstPort=443\tproto=tcp\tsrcBytes=1200\tdstBytes=5400\ttotalBytes=6600\ttotalPackets=14\taccountName=corp\\alice\tusrName=alice\tpolicy=allow-web").unwrap();
    assert_eq!(text(&out, "source.nat.ip"), Some("203.0.113.5"));
    assert_eq!(int(&out, "source.nat.port"), Some(41000));
    assert_eq!(int(&out, "source.bytes"), Some(1200));
    assert_eq!(int(&out, "destination.bytes"), Some(5400));
    assert_eq!(int(&out, "network.bytes"), Some(6600));
    assert_eq!(int(&out, "network.packets"), Some(14));
    assert_eq!(text(&out, "user.name"), Some("alice"));
    assert_eq!(text(&out, "rule.name"), Some("allow-web"));
}

#[test]
fn near_misses_are_refused() {
    for line in [
        // Truncated headers.
        "LEEF:1.0|Microsoft|MSExchange|4.0 SP1",
        "LEEF:1.0|Microsoft",
        // Unknown LEEF versions.
        "LEEF:3.0|Vendor|Product|1.0|41|src=10.0.0.1",
        "LEEF:|Vendor|Product|1.0|41|src=10.0.0.1",
        // Not at the start, or another prefix.
        "<13>LEEF:1.0|Vendor|Product|1.0|41|src=10.0.0.1",
        "leef:1.0|Vendor|Product|1.0|41|src=10.0.0.1",
        "LEEF 1.0|Vendor|Product|1.0|41|src=10.0.0.1",
        "",
    ] {
        assert!(leef(line).is_none(), "{line:?}");
    }
}

#[test]
fn arbitrary_text_never_panics() {
    for line in [
        "LEEF:2.0|a|b|c|d|x|",
        "LEEF:2.0|a|b|c|d|xFFFFFF|k=v",
        "LEEF:2.0|a|b|c|d|xD800|k=v",
        "LEEF:2.0|a|b|c|d|\\",
        "LEEF:1.0|a|b|c|d|=\t==\t=x",
        "LEEF:1.0|é|ü|ß|𝄞|名=値\tk=v𝄞",
        "LEEF:1.0|a|b|c|d|devTime=Jan 1 10:00:00\tdevTimeFormat=%Y%%'",
    ] {
        let _ = leef(line);
    }
}

#[test]
fn the_dispatcher_sends_leef_here() {
    let mut out = Output::default();
    let line = "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5";
    assert_eq!(
        super::super::decode(&Input::new(line), &mut out),
        Some("leef")
    );
    assert_eq!(text(&out, "source.ip"), Some("10.0.1.8"));
}
