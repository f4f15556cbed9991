//! Fixtures: the conn, dns and http records of the Zeek manual, "Zeek Log Formats and
//! Inspection" (docs.zeek.org, `zeek -C -r tm1t.pcap`, TSV and `LogAscii::use_json=T`).

use super::*;
use crate::body::test_support::{int, list, recognised, text, time};

fn zeek(line: &str) -> Option<Output> {
    recognised(decode, line)
}

const CONN_JSON: &str = r#"{"ts":1591367999.430166,"uid":"C5bLoe2Mvxqhawzqqd","id.orig_h":"192.168.4.76","id.orig_p":46378,"id.resp_h":"31.3.245.133","id.resp_p":80,"proto":"tcp","service":"http","duration":0.25411510467529297,"orig_bytes":77,"resp_bytes":295,"conn_state":"SF","missed_bytes":0,"history":"ShADadFf","orig_pkts":6,"orig_ip_bytes":397,"resp_pkts":4,"resp_ip_bytes":511}"#;

/// The manual's first conn.log TSV line (Zeek 3.x; columns as in Zeek 4 to 7.0).
const CONN_TSV: &str = "1591367999.305988\tCazOhH2qDUiJTWMCY\t192.168.4.76\t36844\t192.168.4.1\t53\tudp\tdns\t0.066852\t62\t141\tSF\t-\t-\t0\tDd\t2\t118\t2\t197\t-";

#[test]
fn conn_json() {
    let out = zeek(CONN_JSON).unwrap();
    assert_eq!(time(&out), Some("2020-06-05T14:39:59.430166Z".to_owned()));
    assert_eq!(text(&out, "event.dataset"), Some("zeek.conn"));
    assert_eq!(text(&out, "zeek.session_id"), Some("C5bLoe2Mvxqhawzqqd"));
    assert_eq!(text(&out, "source.ip"), Some("192.168.4.76"));
    assert_eq!(int(&out, "source.port"), Some(46378));
    assert_eq!(text(&out, "destination.ip"), Some("31.3.245.133"));
    assert_eq!(int(&out, "destination.port"), Some(80));
    assert_eq!(text(&out, "network.transport"), Some("tcp"));
    assert_eq!(text(&out, "network.protocol"), Some("http"));
    assert_eq!(text(&out, "event.category"), Some("network"));
    assert_eq!(list(&out, "event.type"), Some(vec!["connection", "end"]));
    assert_eq!(int(&out, "event.duration"), Some(254_115_105));
    assert_eq!(int(&out, "source.bytes"), Some(77));
    assert_eq!(int(&out, "destination.bytes"), Some(295));
    assert_eq!(int(&out, "source.packets"), Some(6));
    assert_eq!(int(&out, "destination.packets"), Some(4));
    assert_eq!(int(&out, "network.bytes"), Some(908));
    assert_eq!(int(&out, "network.packets"), Some(10));
    assert_eq!(text(&out, "zeek.connection.state"), Some("SF"));
    assert_eq!(text(&out, "zeek.connection.history"), Some("ShADadFf"));
    assert_eq!(int(&out, "zeek.connection.missed_bytes"), Some(0));
    assert_eq!(out.get("network.direction"), None);
}

#[test]
fn conn_tsv() {
    let out = zeek(CONN_TSV).unwrap();
    assert_eq!(time(&out), Some("2020-06-05T14:39:59.305988Z".to_owned()));
    assert_eq!(text(&out, "event.dataset"), Some("zeek.conn"));
    assert_eq!(text(&out, "zeek.session_id"), Some("CazOhH2qDUiJTWMCY"));
    assert_eq!(text(&out, "source.ip"), Some("192.168.4.76"));
    assert_eq!(int(&out, "source.port"), Some(36844));
    assert_eq!(text(&out, "destination.ip"), Some("192.168.4.1"));
    assert_eq!(int(&out, "destination.port"), Some(53));
    assert_eq!(text(&out, "network.transport"), Some("udp"));
    assert_eq!(text(&out, "network.protocol"), Some("dns"));
    assert_eq!(int(&out, "event.duration"), Some(66_852_000));
    assert_eq!(int(&out, "source.bytes"), Some(62));
    assert_eq!(int(&out, "destination.bytes"), Some(141));
    assert_eq!(int(&out, "network.bytes"), Some(315));
    assert_eq!(int(&out, "network.packets"), Some(4));
    assert_eq!(text(&out, "zeek.connection.history"), Some("Dd"));

    // Zeek 7.1 appends ip_proto; local_orig/local_resp set when Site::local_nets is.
    let line = "1591367999.430166\tCLqEx41jYPOdfHF586\t192.168.4.76\t46378\t31.3.245.133\t80\ttcp\thttp\t0.254115\t77\t295\tSF\tT\tF\t0\tShADadFf\t6\t397\t4\t511\t(empty)\t6";
    let out = zeek(line).unwrap();
    assert_eq!(text(&out, "network.direction"), Some("outbound"));
    assert_eq!(int(&out, "network.bytes"), Some(908));
    assert_eq!(text(&out, "zeek.connection.state"), Some("SF"));
}

#[test]
fn dns_json() {
    let line = r#"{"ts":1591367999.305988,"uid":"CMdzit1AMNsmfAIiQc","id.orig_h":"192.168.4.76","id.orig_p":36844,"id.resp_h":"192.168.4.1","id.resp_p":53,"proto":"udp","trans_id":19671,"rtt":0.06685185432434082,"query":"testmyids.com","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"answers":["31.3.245.133"],"TTLs":[3600.0],"rejected":false}"#;
    let out = zeek(line).unwrap();
    assert_eq!(text(&out, "event.dataset"), Some("zeek.dns"));
    assert_eq!(text(&out, "network.protocol"), Some("dns"));
    assert_eq!(text(&out, "event.type"), Some("protocol"));
    assert_eq!(text(&out, "dns.id"), Some("19671"));
    assert_eq!(text(&out, "dns.question.name"), Some("testmyids.com"));
    assert_eq!(text(&out, "dns.question.type"), Some("A"));
    assert_eq!(text(&out, "dns.response_code"), Some("NOERROR"));
    assert_eq!(list(&out, "dns.resolved_ip"), Some(vec!["31.3.245.133"]));
    assert_eq!(list(&out, "zeek.dns.answers"), Some(vec!["31.3.245.133"]));

    let unanswered = r#"{"ts":1591367999.306059,"uid":"CMdzit1AMNsmfAIiQc","id.orig_h":"192.168.4.76","id.orig_p":36844,"id.resp_h":"192.168.4.1","id.resp_p":53,"proto":"udp","trans_id":8555,"query":"testmyids.com","qclass":1,"qclass_name":"C_INTERNET","qtype":28,"qtype_name":"AAAA","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":false,"Z":0,"rejected":false}"#;
    let out = zeek(unanswered).unwrap();
    assert_eq!(text(&out, "dns.question.type"), Some("AAAA"));
    assert_eq!(out.get("dns.resolved_ip"), None);
}

#[test]
fn http_json() {
    let line = r#"{"ts":1591367999.512593,"uid":"C5bLoe2Mvxqhawzqqd","id.orig_h":"192.168.4.76","id.orig_p":46378,"id.resp_h":"31.3.245.133","id.resp_p":80,"trans_depth":1,"method":"GET","host":"testmyids.com","uri":"/","version":"1.1","user_agent":"curl/7.47.0","request_body_len":0,"response_body_len":39,"status_code":200,"status_msg":"OK","tags":[],"resp_fuids":["FEEsZS1w0Z0VJIb5x4"],"resp_mime_types":["text/plain"]}"#;
    let out = zeek(line).unwrap();
    assert_eq!(text(&out, "event.dataset"), Some("zeek.http"));
    assert_eq!(text(&out, "event.category"), Some("web"));
    assert_eq!(text(&out, "http.request.method"), Some("GET"));
    assert_eq!(text(&out, "url.domain"), Some("testmyids.com"));
    assert_eq!(text(&out, "url.original"), Some("/"));
    assert_eq!(text(&out, "url.path"), Some("/"));
    assert_eq!(text(&out, "http.version"), Some("1.1"));
    assert_eq!(text(&out, "user_agent.original"), Some("curl/7.47.0"));
    assert_eq!(int(&out, "http.request.body.bytes"), Some(0));
    assert_eq!(int(&out, "http.response.body.bytes"), Some(39));
    assert_eq!(int(&out, "http.response.status_code"), Some(200));
    // No proto in http.log.
    assert_eq!(out.get("network.transport"), None);
}

#[test]
fn path_and_iso_time() {
    // `_path` (as zeek's JSON streaming writer adds) and ISO 8601 `ts` (LogAscii::json_timestamps).
    let line = r#"{"_path":"conn","_write_ts":"2019-03-14T23:59:50.000000Z","ts":"2019-03-14T23:59:49.920582Z","uid":"CPQ9vC2my8sIGasb3a","id.orig_h":"192.168.4.57","id.orig_p":42051,"id.resp_h":"192.168.4.1","id.resp_p":53,"proto":"udp","service":"dns","duration":0.000368,"orig_bytes":0,"resp_bytes":234,"conn_state":"SHR","local_orig":true,"local_resp":true,"missed_bytes":0,"history":"^d","orig_pkts":0,"orig_ip_bytes":0,"resp_pkts":2,"resp_ip_bytes":290}"#;
    let out = zeek(line).unwrap();
    assert_eq!(time(&out), Some("2019-03-14T23:59:49.920582Z".to_owned()));
    assert_eq!(text(&out, "network.direction"), Some("internal"));
    assert_eq!(int(&out, "network.bytes"), Some(290));

    let other = r#"{"_path":"ssl","ts":1591367999.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":443,"version":"TLSv13"}"#;
    let out = zeek(other).unwrap();
    assert_eq!(text(&out, "event.dataset"), Some("zeek.ssl"));
    assert_eq!(int(&out, "destination.port"), Some(443));
    assert_eq!(out.get("event.category"), None);
}

#[test]
fn tsv_near_misses_are_refused() {
    let columns: Vec<&str> = CONN_TSV.split('\t').collect();
    let with = |index: usize, value: &str| {
        let mut changed = columns.clone();
        changed[index] = value;
        changed.join("\t")
    };
    for line in [
        // Too few and too many columns.
        columns[..20].join("\t"),
        format!("{CONN_TSV}\t6\textra"),
        // The manual's dns.log line: 24 columns of another log.
        "1591367999.305988\tCazOhH2qDUiJTWMCY\t192.168.4.76\t36844\t192.168.4.1\t53\tudp\t19671\t0.066852\ttestmyids.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t31.3.245.133\t3600.000000\tF".to_owned(),
        // Values that do not fit their column.
        with(0, "yesterday"),
        with(2, "not-an-address"),
        with(3, "70000"),
        with(6, "sctp"),
        with(12, "yes"),
        with(16, "-3"),
        with(1, "-"),
        // A header line.
        "#fields\tts\tuid".to_owned(),
        "1591367999.305988 no tabs here".to_owned(),
    ] {
        assert!(zeek(&line).is_none(), "{line:?}");
    }
}

#[test]
fn json_near_misses_are_refused() {
    for line in [
        // Not a Zeek record: no _path, and not ts + uid + id.orig_h.
        r#"{"ts":1591367999.5,"uid":"C1"}"#,
        r#"{"uid":"C1","id.orig_h":"10.0.0.1"}"#,
        // A ts that is no time.
        r#"{"ts":"soon","uid":"C1","id.orig_h":"10.0.0.1"}"#,
        r#"{"ts":-5,"uid":"C1","id.orig_h":"10.0.0.1"}"#,
        r#"{"_path":"conn""#,
    ] {
        assert!(zeek(line).is_none(), "{line}");
    }
}

#[test]
fn the_dispatcher_sends_zeek_here() {
    let mut out = Output::default();
    // TSV by its first bytes (a digit, then a tab before any space).
    assert_eq!(
        super::super::decode(&Input::new(CONN_TSV), &mut out),
        Some("zeek")
    );
    assert_eq!(text(&out, "zeek.session_id"), Some("CazOhH2qDUiJTWMCY"));
    // JSON by app name, and by its shape through the JSON decoder.
    let input = Input::new(CONN_JSON).app("zeek");
    assert_eq!(super::super::decode(&input, &mut out), Some("zeek"));
    assert_eq!(
        super::super::decode(&Input::new(CONN_JSON), &mut out),
        Some("json")
    );
    assert_eq!(text(&out, "zeek.connection.state"), Some("SF"));
}
