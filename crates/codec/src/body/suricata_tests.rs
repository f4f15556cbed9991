//! Fixtures: the examples of the Suricata user guide, "Eve JSON Format" (docs.suricata.io),
//! written on one line as `eve.json` holds them, and the `flow_id` correlation example
//! Suricata's developers published (an http record of the same flow).

use super::*;
use crate::body::test_support::{int, list, recognised, text, time};
use crate::body::{Input, Output};

fn eve(line: &str) -> Option<Output> {
    recognised(super::super::json::decode, line)
}

const ALERT: &str = r#"{"timestamp":"2017-04-07T22:24:37.251547+0100","flow_id":586497171462735,"pcap_cnt":53381,"event_type":"alert","src_ip":"192.168.2.14","src_port":50096,"dest_ip":"209.53.113.5","dest_port":80,"proto":"TCP","metadata":{"flowbits":["http.dottedquadhost"]},"tx_id":4,"alert":{"action":"allowed","gid":1,"signature_id":2018358,"rev":10,"signature":"ET HUNTING GENERIC SUSPICIOUS POST to Dotted Quad with Fake Browser 1","category":"Potentially Bad Traffic","severity":2},"app_proto":"http"}"#;

#[test]
fn alert() {
    let out = eve(ALERT).unwrap();
    assert_eq!(time(&out), Some("2017-04-07T21:24:37.251547Z".to_owned()));
    assert_eq!(text(&out, "observer.vendor"), Some("OISF"));
    assert_eq!(text(&out, "observer.product"), Some("Suricata"));
    assert_eq!(text(&out, "suricata.eve.event_type"), Some("alert"));
    assert_eq!(int(&out, "suricata.eve.flow_id"), Some(586497171462735));
    assert_eq!(text(&out, "source.ip"), Some("192.168.2.14"));
    assert_eq!(int(&out, "source.port"), Some(50096));
    assert_eq!(text(&out, "destination.ip"), Some("209.53.113.5"));
    assert_eq!(int(&out, "destination.port"), Some(80));
    assert_eq!(text(&out, "network.transport"), Some("tcp"));
    assert_eq!(text(&out, "network.protocol"), Some("http"));
    assert_eq!(text(&out, "event.kind"), Some("alert"));
    assert_eq!(text(&out, "event.category"), Some("intrusion_detection"));
    assert_eq!(
        text(&out, "rule.name"),
        Some("ET HUNTING GENERIC SUSPICIOUS POST to Dotted Quad with Fake Browser 1")
    );
    assert_eq!(text(&out, "rule.id"), Some("2018358"));
    assert_eq!(text(&out, "rule.category"), Some("Potentially Bad Traffic"));
    assert_eq!(int(&out, "event.severity"), Some(2));
    assert_eq!(text(&out, "event.type"), Some("allowed"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));
    assert_eq!(int(&out, "suricata.eve.alert.gid"), Some(1));
    assert_eq!(int(&out, "suricata.eve.alert.rev"), Some(10));
}

#[test]
fn blocked_alert_without_offset() {
    // The user guide's older example (its masked address filled in, its action made an IPS
    // drop): no offset in the time, no flow_id.
    let line = r#"{"timestamp":"2009-11-24T21:27:09.534255","event_type":"alert","src_ip":"192.168.2.7","src_port":1041,"dest_ip":"192.0.2.50","dest_port":80,"proto":"TCP","alert":{"action":"blocked","gid":1,"signature_id":2001999,"rev":9,"signature":"ET MALWARE BTGrab.com Spyware Downloading Ads","category":"A Network Trojan was detected","severity":1}}"#;
    let out = eve(line).unwrap();
    assert_eq!(time(&out), Some("2009-11-24T21:27:09.534255Z".to_owned()));
    assert_eq!(text(&out, "event.type"), Some("denied"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(int(&out, "event.severity"), Some(1));
    assert_eq!(out.get("suricata.eve.flow_id"), None);
}

#[test]
fn flow() {
    let line = r#"{"timestamp":"2024-01-02T10:00:00.123456+0000","flow_id":1038930578016525,"in_iface":"eth0","event_type":"flow","src_ip":"10.2.8.101","src_port":49757,"dest_ip":"8.208.10.147","dest_port":80,"proto":"TCP","app_proto":"http","flow":{"pkts_toserver":9,"pkts_toclient":7,"bytes_toserver":1097,"bytes_toclient":1602,"start":"2024-01-02T09:59:52.648463+0000","end":"2024-01-02T09:59:58.020312+0000","age":6,"state":"closed","reason":"timeout","alerted":true},"tcp":{"tcp_flags":"1b","syn":true,"fin":true,"psh":true,"ack":true,"state":"closed"}}"#;
    let out = eve(line).unwrap();
    assert_eq!(time(&out), Some("2024-01-02T10:00:00.123456Z".to_owned()));
    assert_eq!(text(&out, "suricata.eve.in_iface"), Some("eth0"));
    assert_eq!(text(&out, "event.category"), Some("network"));
    assert_eq!(list(&out, "event.type"), Some(vec!["connection", "end"]));
    assert_eq!(int(&out, "source.bytes"), Some(1097));
    assert_eq!(int(&out, "destination.bytes"), Some(1602));
    assert_eq!(int(&out, "source.packets"), Some(9));
    assert_eq!(int(&out, "destination.packets"), Some(7));
    assert_eq!(int(&out, "network.bytes"), Some(2699));
    assert_eq!(int(&out, "network.packets"), Some(16));
    assert_eq!(text(&out, "suricata.eve.flow.state"), Some("closed"));
    assert_eq!(text(&out, "suricata.eve.flow.reason"), Some("timeout"));
    assert_eq!(int(&out, "suricata.eve.flow.age"), Some(6));
    assert_eq!(
        out.get("suricata.eve.flow.alerted"),
        Some(&Value::Bool(true))
    );
    assert_eq!(
        text(&out, "event.start"),
        Some("2024-01-02T09:59:52.648463Z")
    );
}

#[test]
fn dns_query_and_answers() {
    let query = r#"{"timestamp":"2024-01-02T10:00:01.000001+0000","flow_id":412547343494194,"event_type":"dns","src_ip":"192.168.1.10","src_port":53214,"dest_ip":"192.168.1.1","dest_port":53,"proto":"UDP","dns":{"type":"query","id":16000,"rrname":"twitter.com","rrtype":"A","tx_id":0}}"#;
    let out = eve(query).unwrap();
    assert_eq!(text(&out, "network.transport"), Some("udp"));
    assert_eq!(text(&out, "network.protocol"), Some("dns"));
    assert_eq!(text(&out, "event.type"), Some("protocol"));
    assert_eq!(text(&out, "dns.type"), Some("query"));
    assert_eq!(text(&out, "dns.id"), Some("16000"));
    assert_eq!(text(&out, "dns.question.name"), Some("twitter.com"));
    assert_eq!(text(&out, "dns.question.type"), Some("A"));
    assert_eq!(out.get("dns.resolved_ip"), None);

    let detailed = r#"{"timestamp":"2024-01-02T10:00:01.020000+0000","flow_id":412547343494194,"event_type":"dns","src_ip":"192.168.1.1","src_port":53,"dest_ip":"192.168.1.10","dest_port":53214,"proto":"UDP","dns":{"version":2,"type":"answer","id":45444,"flags":"8180","qr":true,"rd":true,"ra":true,"rrname":"www.suricata-ids.org","rrtype":"A","rcode":"NOERROR","answers":[{"rrname":"www.suricata-ids.org","rrtype":"CNAME","ttl":3324,"rdata":"suricata-ids.org"},{"rrname":"suricata-ids.org","rrtype":"A","ttl":10,"rdata":"192.0.78.24"},{"rrname":"suricata-ids.org","rrtype":"A","ttl":10,"rdata":"192.0.78.25"}]}}"#;
    let out = eve(detailed).unwrap();
    assert_eq!(text(&out, "dns.type"), Some("answer"));
    assert_eq!(text(&out, "dns.response_code"), Some("NOERROR"));
    assert_eq!(
        text(&out, "dns.question.name"),
        Some("www.suricata-ids.org")
    );
    assert_eq!(
        list(&out, "dns.resolved_ip"),
        Some(vec!["192.0.78.24", "192.0.78.25"])
    );

    let grouped = r#"{"timestamp":"2024-01-02T10:00:01.020000+0000","flow_id":1,"event_type":"dns","src_ip":"192.168.1.1","dest_ip":"192.168.1.10","proto":"UDP","dns":{"version":2,"type":"answer","id":18523,"rcode":"NOERROR","grouped":{"A":["192.0.78.24","192.0.78.25"],"CNAME":["suricata-ids.org"]}}}"#;
    let out = eve(grouped).unwrap();
    assert_eq!(
        list(&out, "dns.resolved_ip"),
        Some(vec!["192.0.78.24", "192.0.78.25"])
    );

    // EVE v3 (Suricata 8): the question is in `queries`.
    let v3 = r#"{"timestamp":"2025-03-01T12:00:00.000000+0000","flow_id":7,"event_type":"dns","src_ip":"10.0.0.2","src_port":40000,"dest_ip":"10.0.0.1","dest_port":53,"proto":"UDP","dns":{"version":3,"type":"response","id":1,"rcode":"NXDOMAIN","queries":[{"rrname":"nope.example","rrtype":"AAAA"}]}}"#;
    let out = eve(v3).unwrap();
    assert_eq!(text(&out, "dns.question.name"), Some("nope.example"));
    assert_eq!(text(&out, "dns.question.type"), Some("AAAA"));
    assert_eq!(text(&out, "dns.response_code"), Some("NXDOMAIN"));
}

#[test]
fn http() {
    let line = r#"{"timestamp":"2021-02-08T17:00:12.648463+0100","flow_id":1038930578016525,"pcap_cnt":3883,"event_type":"http","src_ip":"10.2.8.101","src_port":49757,"dest_ip":"8.208.10.147","dest_port":80,"proto":"TCP","tx_id":0,"http":{"hostname":"roanokemortgages.com","url":"/0801.bin?x=1","http_user_agent":"Mozilla/5.0 (Windows NT 6.1; Win64; x64; Trident/7.0; rv:11.0) like Gecko","http_content_type":"application/octet-stream","http_refer":"http://www.vg.no/","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":876}}"#;
    let out = eve(line).unwrap();
    assert_eq!(time(&out), Some("2021-02-08T16:00:12.648463Z".to_owned()));
    assert_eq!(text(&out, "event.category"), Some("web"));
    assert_eq!(text(&out, "url.domain"), Some("roanokemortgages.com"));
    assert_eq!(text(&out, "url.original"), Some("/0801.bin?x=1"));
    assert_eq!(text(&out, "url.path"), Some("/0801.bin"));
    assert_eq!(text(&out, "url.query"), Some("x=1"));
    assert_eq!(text(&out, "http.request.method"), Some("GET"));
    assert_eq!(int(&out, "http.response.status_code"), Some(200));
    assert_eq!(int(&out, "http.response.body.bytes"), Some(876));
    assert_eq!(text(&out, "http.version"), Some("1.1"));
    assert_eq!(
        text(&out, "http.request.referrer"),
        Some("http://www.vg.no/")
    );
    assert_eq!(
        text(&out, "user_agent.original"),
        Some("Mozilla/5.0 (Windows NT 6.1; Win64; x64; Trident/7.0; rv:11.0) like Gecko")
    );

    // The user guide's extended example writes the status as a string.
    let line = r#"{"timestamp":"2015-03-25T15:40:41.000000+0000","flow_id":2,"event_type":"http","src_ip":"10.0.0.5","dest_ip":"10.0.0.6","proto":"TCP","http":{"hostname":"direkte.vg.no","url":"/","http_method":"GET","protocol":"HTTP/1.1","status":"200","length":310}}"#;
    let out = eve(line).unwrap();
    assert_eq!(int(&out, "http.response.status_code"), Some(200));
}

#[test]
fn other_event_types_keep_the_common_part() {
    let line = r#"{"timestamp":"2016-01-11T05:10:54.612110-0800","flow_id":412547343494194,"pcap_cnt":1391293,"event_type":"anomaly","src_ip":"192.168.122.149","src_port":49324,"dest_ip":"69.195.71.174","dest_port":443,"proto":"TCP","app_proto":"tls","anomaly":{"type":"applayer","event":"APPLAYER_DETECT_PROTOCOL_ONLY_ONE_DIRECTION","layer":"proto_detect"}}"#;
    let out = eve(line).unwrap();
    assert_eq!(time(&out), Some("2016-01-11T13:10:54.612110Z".to_owned()));
    assert_eq!(text(&out, "suricata.eve.event_type"), Some("anomaly"));
    assert_eq!(text(&out, "network.protocol"), Some("tls"));
    assert_eq!(out.get("event.category"), None);
}

#[test]
fn near_misses_are_not_eve() {
    // No src_ip and no flow_id (Suricata `stats`): the generic decoder takes it.
    let stats = r#"{"timestamp":"2024-01-02T10:00:00.000000+0000","event_type":"stats","stats":{"uptime":60}}"#;
    let mut out = Output::default();
    assert_eq!(
        super::super::decode(&Input::new(stats), &mut out),
        Some("json")
    );
    assert_eq!(out.get("suricata.eve.event_type"), None);
    assert_eq!(int(&out, "json.stats.uptime"), Some(60));

    for line in [
        // event_type is not a string.
        r#"{"timestamp":"2024-01-02T10:00:00+0000","event_type":5,"src_ip":"10.0.0.1"}"#,
        // No timestamp.
        r#"{"event_type":"alert","src_ip":"10.0.0.1","alert":{}}"#,
    ] {
        let root = crate::body::json::parse_object(line).unwrap();
        assert!(!is_eve(&root), "{line}");
    }
    // The shape is right but the time is not a time.
    let root = crate::body::json::parse_object(
        r#"{"timestamp":"yesterday","event_type":"alert","src_ip":"10.0.0.1"}"#,
    )
    .unwrap();
    assert!(is_eve(&root));
    assert!(!decode_object(&root, &mut Output::default()));
}

#[test]
fn the_dispatcher_sends_eve_here_by_app_name() {
    let mut out = Output::default();
    let input = Input::new(ALERT).app("suricata");
    assert_eq!(super::super::decode(&input, &mut out), Some("json"));
    assert_eq!(text(&out, "rule.id"), Some("2018358"));
}
