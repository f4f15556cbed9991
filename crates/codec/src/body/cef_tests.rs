use super::*;
use crate::body::test_support::{int, list, recognised, text, time};

fn cef(line: &str) -> Option<Output> {
    recognised(decode, line)
}

// Elastic beats x-pack/filebeat/module/cef/log/test/cef.log
#[test]
fn elastic_web_request() {
    let out = cef("CEF:0|Elastic|Vaporware|1.0.0-alpha|18|Web request|low|eventId=3457 requestMethod=POST slat=38.915 slong=-77.511 proto=TCP sourceServiceName=httpd requestContext=https://www.google.com src=1.128.3.4 spt=33876 dst=192.168.10.1 dpt=443 request=https://www.example.com/cart").unwrap();
    assert_eq!(text(&out, "cef.version"), Some("0"));
    assert_eq!(text(&out, "observer.vendor"), Some("Elastic"));
    assert_eq!(text(&out, "observer.product"), Some("Vaporware"));
    assert_eq!(text(&out, "observer.version"), Some("1.0.0-alpha"));
    assert_eq!(text(&out, "event.code"), Some("18"));
    assert_eq!(text(&out, "rule.name"), Some("Web request"));
    assert_eq!(int(&out, "event.severity"), Some(3));
    assert_eq!(text(&out, "cef.severity"), Some("low"));
    assert_eq!(text(&out, "http.request.method"), Some("POST"));
    assert_eq!(text(&out, "network.transport"), Some("tcp"));
    assert_eq!(text(&out, "source.ip"), Some("1.128.3.4"));
    assert_eq!(int(&out, "source.port"), Some(33876));
    assert_eq!(text(&out, "destination.ip"), Some("192.168.10.1"));
    assert_eq!(int(&out, "destination.port"), Some(443));
    assert_eq!(
        text(&out, "url.original"),
        Some("https://www.example.com/cart")
    );
    assert_eq!(text(&out, "cef.extensions.eventId"), Some("3457"));
    assert_eq!(
        text(&out, "cef.extensions.requestContext"),
        Some("https://www.google.com")
    );
}

// Elastic beats cef.log: users and a NAT address.
#[test]
fn elastic_authentication_users() {
    let out = cef("CEF:0|Elastic|Vaporware|1.0.0-alpha|18|Authentication|low|eventId=123 src=1.128.3.4 spt=33876 dst=81.2.69.143 dpt=443 duser=alice suser=bob destinationTranslatedAddress=10.10.10.10 fileHash=bc8bbe52f041fd17318f08a0f73762ce oldFileHash=a9796280592f86b74b27e370662d41eb").unwrap();
    assert_eq!(text(&out, "user.name"), Some("bob"));
    assert_eq!(text(&out, "destination.user.name"), Some("alice"));
    assert_eq!(text(&out, "destination.nat.ip"), Some("10.10.10.10"));
    assert_eq!(
        text(&out, "cef.extensions.fileHash"),
        Some("bc8bbe52f041fd17318f08a0f73762ce")
    );
}

// Elastic beats cef.log: a value with spaces, and trailing whitespace.
#[test]
fn values_run_until_the_next_key() {
    let out = cef("CEF:0|Elastic|Vaporware|1.0.0-alpha|18|Authentication|low|message=This event is padded with whitespace dst=192.168.1.2 src=192.168.3.4     ").unwrap();
    assert_eq!(
        text(&out, "cef.extensions.message"),
        Some("This event is padded with whitespace")
    );
    assert_eq!(text(&out, "destination.ip"), Some("192.168.1.2"));
    assert_eq!(text(&out, "source.ip"), Some("192.168.3.4"));
}

// Elastic beats x-pack/filebeat/module/cef/log/test/checkpoint.log (first line).
#[test]
fn check_point_with_custom_labels_and_epoch_rt() {
    let out = cef("CEF:0|Check Point|VPN-1 & FireWall-1|Check Point|Log|https|Unknown|act=Accept destinationTranslatedAddress=0.0.0.0 destinationTranslatedPort=0 deviceDirection=0 rt=1543270652000 sourceTranslatedAddress=192.168.103.254 sourceTranslatedPort=35398 spt=49363 dpt=443 cs2Label=Rule Name layer_name=Network layer_uuid=b406b732-2437-4848-9741-6eae1f5bf112 match_id=4 parent_rule=0 rule_action=Accept rule_uid=9e5e6e74-aa9a-4693-b9fe-53712dd27bea ifname=eth0 logid=0 loguid={0x5bfc70fc,0x1,0xfe65a8c0,0xc0000001} origin=192.168.101.254 originsicname=CN\\=R80,O\\=R80_M..6u6bdo sequencenum=1 version=5 dst=52.173.84.157 inzone=Internal nat_addtnl_rulenum=1 nat_rulenum=4 outzone=External product=VPN-1 & FireWall-1 proto=6 service_id=https src=192.168.101.100 cs5Label=Matched Category cs5=Business / Economy deviceCustomDate2=1508150533713 deviceCustomDate2Label=This field is made up").unwrap();
    assert_eq!(text(&out, "observer.vendor"), Some("Check Point"));
    assert_eq!(text(&out, "observer.product"), Some("VPN-1 & FireWall-1"));
    assert_eq!(text(&out, "event.code"), Some("Log"));
    assert_eq!(text(&out, "rule.name"), Some("https"));
    assert_eq!(out.get("event.severity"), None);
    assert_eq!(text(&out, "event.action"), Some("accept"));
    assert_eq!(text(&out, "network.direction"), Some("inbound"));
    assert_eq!(time(&out), Some("2018-11-26T22:17:32Z".to_owned()));
    assert_eq!(text(&out, "source.nat.ip"), Some("192.168.103.254"));
    assert_eq!(int(&out, "source.nat.port"), Some(35398));
    assert_eq!(text(&out, "network.transport"), Some("tcp"));
    assert_eq!(text(&out, "source.ip"), Some("192.168.101.100"));
    assert_eq!(text(&out, "destination.ip"), Some("52.173.84.157"));
    assert_eq!(
        text(&out, "cef.extensions.Matched_Category"),
        Some("Business / Economy")
    );
    assert_eq!(
        int(&out, "cef.extensions.This_field_is_made_up"),
        Some(1508150533713)
    );
    assert_eq!(
        text(&out, "cef.extensions.originsicname"),
        Some("CN=R80,O=R80_M..6u6bdo")
    );
    assert_eq!(
        text(&out, "cef.extensions.product"),
        Some("VPN-1 & FireWall-1")
    );
    // A label without its value adds nothing.
    assert_eq!(out.get("cef.extensions.Rule_Name"), None);
    assert_eq!(out.get("cef.extensions.cs2Label"), None);
}

// Elastic beats checkpoint.log (third line): word severity in an extension, IPv6 custom fields.
#[test]
fn check_point_custom_numbers_and_addresses() {
    let out = cef("CEF:0|Check Point|VPN-1 & FireWall-1|Check Point|Log|https|Unknown|act=Drop cp_app_risk=High cp_severity=Very-High baseEventCount=12 deviceFacility=4 c6a2=fd00::555 c6a2Label=Source IPv6 Address c6a3=::1 c6a3Label=Destination IPv6 Address fileHash=580a783c1cb2b20613323f715d231a69 cn2=5 cn2Label=Duration in Seconds").unwrap();
    assert_eq!(text(&out, "event.action"), Some("drop"));
    assert_eq!(int(&out, "cef.extensions.baseEventCount"), Some(12));
    assert_eq!(
        text(&out, "cef.extensions.Source_IPv6_Address"),
        Some("fd00::555")
    );
    assert_eq!(
        text(&out, "cef.extensions.Destination_IPv6_Address"),
        Some("::1")
    );
    assert_eq!(int(&out, "cef.extensions.Duration_in_Seconds"), Some(5));
    assert_eq!(text(&out, "cef.extensions.cp_severity"), Some("Very-High"));
}

// ArcSight CEF specification, "Character encoding" examples.
#[test]
fn header_and_extension_escapes() {
    let out = cef(r"CEF:0|security|threatmanager|1.0|100|detected a \| in message|10|src=10.0.0.1 act=blocked a | dst=1.1.1.1").unwrap();
    assert_eq!(text(&out, "rule.name"), Some("detected a | in message"));
    assert_eq!(int(&out, "event.severity"), Some(10));
    assert_eq!(text(&out, "event.action"), Some("blocked-a-|"));
    assert_eq!(text(&out, "destination.ip"), Some("1.1.1.1"));

    let out = cef(r"CEF:0|security|threatmanager|1.0|100|detected a \\ in packet|10|src=10.0.0.1 act=blocked a \\ dst=1.1.1.1").unwrap();
    assert_eq!(text(&out, "rule.name"), Some(r"detected a \ in packet"));
    assert_eq!(text(&out, "event.action"), Some(r"blocked-a-\"));

    let out = cef(r"CEF:0|security|threatmanager|1.0|100|detected a = in message|10|src=10.0.0.1 act=blocked a \= dst=1.1.1.1").unwrap();
    assert_eq!(text(&out, "rule.name"), Some("detected a = in message"));
    assert_eq!(text(&out, "event.action"), Some("blocked-a-="));
    assert_eq!(text(&out, "source.ip"), Some("10.0.0.1"));

    let out =
        cef(r"CEF:0|security|threatmanager|1.0|100|multi line|5|msg=line one\nline two").unwrap();
    assert_eq!(text(&out, "cef.extensions.msg"), Some("line one\nline two"));
}

// Palo Alto Networks Strata Logging Service CEF documentation (shortened).
#[test]
fn palo_alto_month_first_rt() {
    let out = cef("CEF:0|Palo Alto Networks|LF|2.0|SCTP||9|ProfileToken=xxxxx dtz=UTC rt=Mar 01 2021 21:22:02 deviceExternalId=xxxxxxxxxxxxx PanOSDestinationLocation=IN suser=paloaltonetwork\\\\xxxxx").unwrap();
    assert_eq!(text(&out, "observer.vendor"), Some("Palo Alto Networks"));
    assert_eq!(text(&out, "event.code"), Some("SCTP"));
    assert_eq!(out.get("rule.name"), None);
    assert_eq!(int(&out, "event.severity"), Some(9));
    assert_eq!(time(&out), Some("2021-03-01T21:22:02Z".to_owned()));
    assert_eq!(text(&out, "user.name"), Some("paloaltonetwork\\xxxxx"));
    assert_eq!(text(&out, "cef.extensions.dtz"), Some("UTC"));
}

// Progress Kemp LoadMaster CEF documentation.
#[test]
fn kemp_vendor_keys_stay_extensions() {
    let out = cef("CEF:0|Kemp|LM|1.0|0|Accept|0|vs=10.35.46.238:80 event=Accept srcip=10.35.2.98 srcport=61518 msg=Accept").unwrap();
    assert_eq!(int(&out, "event.severity"), Some(0));
    assert_eq!(text(&out, "cef.extensions.vs"), Some("10.35.46.238:80"));
    assert_eq!(text(&out, "cef.extensions.srcip"), Some("10.35.2.98"));
    assert_eq!(text(&out, "cef.extensions.srcport"), Some("61518"));
}

#[test]
fn rt_forms_and_outcome() {
    let received = Timestamp::from_nanos(1_704_067_200_000_000_000); // 2024-01-01
    let line = "CEF:1|Trend Micro|Deep Security Manager|20.0|600|User Signed In|3|src=10.52.116.160 suser=admin target=admin msg=User signed in from 2001:db8::5 rt=Dec 31 23:59:58 outcome=Success";
    let mut out = Output::default();
    assert!(decode(&Input::new(line).received(received), &mut out));
    assert_eq!(time(&out), Some("2023-12-31T23:59:58Z".to_owned()));
    assert_eq!(text(&out, "event.outcome"), Some("success"));
    assert_eq!(text(&out, "cef.version"), Some("1"));

    let out = cef("CEF:0|V|P|1|2|n|Very-High|rt=Jan 02 2024 10:00:00.250 +0100").unwrap();
    assert_eq!(time(&out), Some("2024-01-02T09:00:00.250Z".to_owned()));
    assert_eq!(int(&out, "event.severity"), Some(10));

    let out = cef("CEF:0|V|P|1|2|n|High|rt=Jan 02 2024 10:00:00 UTC").unwrap();
    assert_eq!(time(&out), Some("2024-01-02T10:00:00Z".to_owned()));

    // An rt that is no time is kept as written.
    let out = cef("CEF:0|V|P|1|2|n|Medium|rt=yesterday").unwrap();
    assert_eq!(time(&out), None);
    assert_eq!(text(&out, "cef.extensions.rt"), Some("yesterday"));
    assert_eq!(int(&out, "event.severity"), Some(6));
}

#[test]
fn a_bad_address_is_kept_as_an_extension() {
    let out = cef("CEF:0|V|P|1|2|n|5|src=not-an-ip spt=http").unwrap();
    assert_eq!(out.get("source.ip"), None);
    assert_eq!(text(&out, "cef.extensions.src"), Some("not-an-ip"));
    assert_eq!(text(&out, "cef.extensions.spt"), Some("http"));
}

#[test]
fn header_without_extension() {
    let out = cef("CEF:0|Vendor|Product|1|100|name|5|").unwrap();
    assert_eq!(int(&out, "event.severity"), Some(5));
    let out = cef("CEF:0|Vendor|Product|1|100|name|5").unwrap();
    assert_eq!(text(&out, "rule.name"), Some("name"));
    assert!(list(&out, "event.type").is_none());
}

#[test]
fn near_misses_are_refused() {
    for line in [
        // Truncated headers.
        "CEF:0|Vendor|Product|1|100|name",
        "CEF:0|Vendor|Product|1|100|name|",
        "CEF:0|Vendor|Product",
        // Not at the start, or a different prefix.
        "<134>CEF:0|Vendor|Product|1|100|name|5|src=10.0.0.1",
        "cef:0|Vendor|Product|1|100|name|5|src=10.0.0.1",
        "CEF 0|Vendor|Product|1|100|name|5|src=10.0.0.1",
        // The version is not a number.
        "CEF:x|Vendor|Product|1|100|name|5|src=10.0.0.1",
        // The 6th pipe is escaped, so the header is one field short and the severity invalid.
        r"CEF:0|Vendor|Product|1|100|name\|5",
        "",
    ] {
        assert!(cef(line).is_none(), "{line:?}");
    }
}

#[test]
fn arbitrary_text_never_panics() {
    for line in [
        "CEF:0|a|b|c|d|e|f|=",
        "CEF:0|a|b|c|d|e|f|==== = =",
        "CEF:0|a|b|c|d|e|f|k=\\",
        "CEF:0|a|b|c|d|e|f|\\",
        "CEF:0|\\",
        "CEF:0|é|ü|ß|𝄞|名|7|名=値 k=v𝄞",
        "CEF:0|a|b|c|d|e|7|cs1Label=x cs1Label=y cs1=z",
    ] {
        let _ = cef(line);
    }
    let out = cef("CEF:0|é|ü|ß|𝄞|名|7|名=値 k=v𝄞").unwrap();
    assert_eq!(text(&out, "cef.extensions.k"), Some("v𝄞"));
}

#[test]
fn the_dispatcher_sends_cef_here() {
    let mut out = Output::default();
    let line = "CEF:0|Elastic|Vaporware|1.0.0-alpha|18|Authentication|low|duser=alice suser=bob";
    assert_eq!(
        super::super::decode(&Input::new(line), &mut out),
        Some("cef")
    );
    assert_eq!(text(&out, "user.name"), Some("bob"));
}
