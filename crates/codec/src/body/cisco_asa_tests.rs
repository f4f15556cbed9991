//! ASA fixtures: real lines from Elastic's cisco_asa integration pipeline tests
//! (test-additional-messages.log, test-asa.log) and Cisco's "ASA Series Syslog Messages"
//! examples.

use super::*;

fn run(message: &str) -> Option<Output> {
    let mut out = Output::default();
    decode(&Input::new(message), &mut out).then_some(out)
}

fn run_tagged(app: &str, message: &str) -> Option<Output> {
    let mut out = Output::default();
    decode(&Input::new(message).app(app), &mut out).then_some(out)
}

use crate::body::test_support::{int, text};

use crate::body::test_support::types;

#[test]
fn built_inbound_tcp_from_the_message() {
    let out = run("%ASA-6-302013: Built inbound TCP connection 123 for outside:10.0.0.1/1234 (10.0.0.1/1234) to inside:192.168.1.1/80 (198.51.100.1/8080)").unwrap();
    assert_eq!(text(&out, "observer.vendor"), Some("Cisco"));
    assert_eq!(text(&out, "observer.product"), Some("ASA"));
    assert_eq!(text(&out, "event.code"), Some("302013"));
    assert_eq!(int(&out, "event.severity"), Some(6));
    assert_eq!(text(&out, "log.level"), Some("informational"));
    assert_eq!(text(&out, "event.action"), Some("connection-built"));
    assert_eq!(types(&out), ["connection", "start", "allowed"]);
    assert_eq!(text(&out, "network.direction"), Some("inbound"));
    assert_eq!(text(&out, "network.transport"), Some("tcp"));
    assert_eq!(int(&out, "cisco.asa.connection_id"), Some(123));
    assert_eq!(text(&out, "source.ip"), Some("10.0.0.1"));
    assert_eq!(int(&out, "source.port"), Some(1234));
    assert_eq!(
        text(&out, "observer.ingress.interface.name"),
        Some("outside")
    );
    assert_eq!(text(&out, "destination.ip"), Some("192.168.1.1"));
    assert_eq!(int(&out, "destination.port"), Some(80));
    assert_eq!(text(&out, "observer.egress.interface.name"), Some("inside"));
    assert!(out.get("source.nat.ip").is_none());
    assert_eq!(text(&out, "destination.nat.ip"), Some("198.51.100.1"));
    assert_eq!(int(&out, "destination.nat.port"), Some(8080));
}

#[test]
fn built_outbound_from_the_tag_swaps_sides() {
    let out = run_tagged(
        "%ASA-6-302013",
        "Built outbound TCP connection 1588662 for intfacename:192.168.2.2/80 (81.2.69.144/80) to net:10.10.10.10/54839 (81.2.69.144/54839)",
    )
    .unwrap();
    assert_eq!(text(&out, "event.code"), Some("302013"));
    assert_eq!(text(&out, "network.direction"), Some("outbound"));
    assert_eq!(text(&out, "source.ip"), Some("10.10.10.10"));
    assert_eq!(int(&out, "source.port"), Some(54839));
    assert_eq!(text(&out, "source.nat.ip"), Some("81.2.69.144"));
    assert_eq!(text(&out, "destination.ip"), Some("192.168.2.2"));
    assert_eq!(int(&out, "destination.port"), Some(80));
    assert_eq!(text(&out, "observer.ingress.interface.name"), Some("net"));
}

#[test]
fn built_udp_on_ftd() {
    let out = run("%FTD-6-302015: Built inbound UDP connection 111111111 for net:10.10.10.10/53500 (81.2.69.144/53500) to fw111:192.168.2.2/53500 (81.2.69.144/53500)").unwrap();
    assert_eq!(text(&out, "observer.product"), Some("FTD"));
    assert_eq!(text(&out, "network.transport"), Some("udp"));
    assert_eq!(text(&out, "source.nat.ip"), Some("81.2.69.144"));
}

#[test]
fn teardown_tcp_and_udp() {
    let out = run("%ASA-6-302014: Teardown TCP connection 2960892904 for out111:10.10.10.10/443 to fw111:192.168.2.2/55225 duration 0:00:00 bytes 0 TCP Reset-I").unwrap();
    assert_eq!(text(&out, "event.action"), Some("connection-teardown"));
    assert_eq!(types(&out), ["connection", "end"]);
    assert_eq!(int(&out, "cisco.asa.connection_id"), Some(2960892904));
    assert_eq!(text(&out, "source.ip"), Some("10.10.10.10"));
    assert_eq!(int(&out, "destination.port"), Some(55225));
    assert_eq!(int(&out, "network.bytes"), Some(0));
    assert_eq!(int(&out, "event.duration"), Some(0));
    assert_eq!(text(&out, "event.reason"), Some("TCP Reset-I"));

    let out = run("%ASA-4-302016: Teardown UDP connection 123364823 for OUTSIDE:67.43.156.13/500 to identity:216.160.83.61/500 duration 92:24:20 bytes 4671944").unwrap();
    assert_eq!(int(&out, "event.severity"), Some(4));
    assert_eq!(text(&out, "network.transport"), Some("udp"));
    assert_eq!(int(&out, "network.bytes"), Some(4671944));
    assert_eq!(
        int(&out, "event.duration"),
        Some((92 * 3600 + 24 * 60 + 20) * 1_000_000_000)
    );
    assert!(out.get("event.reason").is_none());
}

#[test]
fn deny_by_access_group() {
    let out = run("%ASA-4-106023: Deny tcp src fw111:10.10.10.10/64388 dst out111:192.168.2.2/443 by access-group \"out1111_access_out\" [0x47e21ef4, 0x47e21ef4]").unwrap();
    assert_eq!(types(&out), ["connection", "denied"]);
    assert_eq!(text(&out, "event.action"), Some("firewall-deny"));
    assert_eq!(text(&out, "rule.name"), Some("out1111_access_out"));
    assert_eq!(text(&out, "source.ip"), Some("10.10.10.10"));
    assert_eq!(int(&out, "source.port"), Some(64388));
    assert_eq!(text(&out, "destination.ip"), Some("192.168.2.2"));
    assert_eq!(int(&out, "destination.port"), Some(443));
    assert_eq!(text(&out, "observer.ingress.interface.name"), Some("fw111"));
    assert_eq!(text(&out, "observer.egress.interface.name"), Some("out111"));

    let out = run("%ASA-4-106023: Deny protocol 47 src outside:81.2.69.144 dst inside:172.31.98.44 by access-group \"inbound\"").unwrap();
    assert_eq!(int(&out, "network.iana_number"), Some(47));
    assert!(out.get("source.port").is_none());

    let out = run("%ASA-4-106023: Deny icmp src OUTSIDE:2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6 dst OUTSIDE:2a02:cf40:add:4002:91f2:a9b2:e09a:6fc7 (type 128, code 0) by access-group \"OUTSIDE_in\"").unwrap();
    assert_eq!(
        text(&out, "source.ip"),
        Some("2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6")
    );
    assert_eq!(
        text(&out, "destination.ip"),
        Some("2a02:cf40:add:4002:91f2:a9b2:e09a:6fc7")
    );
    assert_eq!(text(&out, "network.transport"), Some("icmp"));

    let out = run("%ASA-4-106023: Deny tcp src outside:10.10.10.2/56444 dst srv:192.168.2.2/51635(testhostname.domain) by access-group \"global_access_1\"").unwrap();
    assert_eq!(int(&out, "destination.port"), Some(51635));
}

#[test]
fn other_denies() {
    let out = run("%ASA-2-106001: Inbound TCP connection denied from 192.168.2.2/43803 to 10.10.10.10/14322 flags SYN  on interface out111").unwrap();
    assert_eq!(types(&out), ["connection", "denied"]);
    assert_eq!(text(&out, "network.transport"), Some("tcp"));
    assert_eq!(int(&out, "source.port"), Some(43803));
    assert_eq!(int(&out, "destination.port"), Some(14322));
    assert_eq!(text(&out, "cisco.asa.tcp_flags"), Some("SYN"));
    assert_eq!(
        text(&out, "observer.ingress.interface.name"),
        Some("out111")
    );

    let out = run("%ASA-2-106006: Deny inbound UDP from 192.168.2.2/65020 to 10.10.10.10/65020 on interface fw111").unwrap();
    assert_eq!(text(&out, "network.transport"), Some("udp"));
    assert_eq!(text(&out, "destination.ip"), Some("10.10.10.10"));

    let out = run("%ASA-6-106015: Deny TCP (no connection) from 192.168.2.2/53089 to 10.10.10.10/443 flags FIN PSH ACK  on interface out111").unwrap();
    assert_eq!(text(&out, "cisco.asa.tcp_flags"), Some("FIN PSH ACK"));

    let out = run("%ASA-6-106015: Deny TCP (no connection) from myComputer1.myDomain.se/11946 to myComputer2.myDomain.se/389 flags FIN ACK  on interface inside").unwrap();
    assert_eq!(text(&out, "source.domain"), Some("myComputer1.myDomain.se"));
    assert_eq!(int(&out, "destination.port"), Some(389));

    let out = run("%ASA-4-106021: Deny TCP reverse path check from 192.168.2.2 to 10.10.10.10 on interface fw111").unwrap();
    assert_eq!(text(&out, "source.ip"), Some("192.168.2.2"));
    assert_eq!(text(&out, "destination.ip"), Some("10.10.10.10"));
}

#[test]
fn access_list_hits() {
    let out = run("%ASA-6-106100: access-list fw111_out permitted tcp ptaaac/192.168.2.2(62157) -> fw111/10.10.10.10(3452) hit-cnt 1 first hit [0x38ff326b, 0x00000000]").unwrap();
    assert_eq!(types(&out), ["connection", "allowed"]);
    assert_eq!(text(&out, "rule.name"), Some("fw111_out"));
    assert_eq!(text(&out, "source.ip"), Some("192.168.2.2"));
    assert_eq!(int(&out, "source.port"), Some(62157));
    assert_eq!(
        text(&out, "observer.ingress.interface.name"),
        Some("ptaaac")
    );
    assert_eq!(int(&out, "destination.port"), Some(3452));
    assert_eq!(int(&out, "cisco.asa.hit_count"), Some(1));

    let out = run("%ASA-5-106100: access-list testrulename denied tcp insideintf/somedomainname.local(27218) -> OUTSIDE/192.168.157.61(53) hit-cnt 1 first hit [0x16847359, 0x00000000]").unwrap();
    assert_eq!(types(&out), ["connection", "denied"]);
    assert_eq!(text(&out, "source.domain"), Some("somedomainname.local"));
}

#[test]
fn management_logins() {
    let out = run("%ASA-6-605005: Login permitted from 10.10.0.87/6651 to FCD-FS-LAN:10.10.1.254/ssh for user \"admin\"").unwrap();
    assert_eq!(text(&out, "event.category"), Some("authentication"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));
    assert_eq!(text(&out, "user.name"), Some("admin"));
    assert_eq!(text(&out, "source.ip"), Some("10.10.0.87"));
    assert_eq!(int(&out, "source.port"), Some(6651));
    assert_eq!(text(&out, "destination.ip"), Some("10.10.1.254"));
    assert_eq!(text(&out, "network.protocol"), Some("ssh"));
    assert_eq!(
        text(&out, "observer.ingress.interface.name"),
        Some("FCD-FS-LAN")
    );

    let out = run("%ASA-6-605004: Login denied from 10.10.1.212/51923 to FCD-FS-LAN:10.10.1.254/https for user \"*****\"").unwrap();
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(types(&out), ["start", "denied"]);
    assert_eq!(text(&out, "network.protocol"), Some("https"));
}

#[test]
fn aaa_results() {
    let out = run(
        "%ASA-6-113004: AAA user authentication Successful : server = 10.1.206.99 : user = alice",
    )
    .unwrap();
    assert_eq!(text(&out, "event.category"), Some("authentication"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));
    assert_eq!(text(&out, "event.action"), Some("aaa-authentication"));
    assert_eq!(text(&out, "user.name"), Some("alice"));
    assert_eq!(text(&out, "cisco.asa.aaa.server"), Some("10.1.206.99"));

    let out = run(
        "%ASA-6-113004: AAA user authorization Successful: server = 81.2.69.144 , User = alice",
    )
    .unwrap();
    assert_eq!(text(&out, "event.action"), Some("aaa-authorization"));
    assert_eq!(text(&out, "user.name"), Some("alice"));
    assert_eq!(text(&out, "cisco.asa.aaa.server"), Some("81.2.69.144"));

    let out = run("%ASA-6-113005: AAA user authentication Rejected : reason = Invalid password : server = 81.2.69.144 : user = a2bcde : user IP = 81.2.69.143").unwrap();
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(text(&out, "event.reason"), Some("Invalid password"));
    assert_eq!(text(&out, "user.name"), Some("a2bcde"));
    assert_eq!(text(&out, "source.ip"), Some("81.2.69.143"));

    let out = run("%ASA-6-113005: AAA user authentication Rejected: reason = AAA failure: server = 81.2.69.144 : user = alice: user IP = 172.31.98.44").unwrap();
    assert_eq!(text(&out, "event.reason"), Some("AAA failure"));
    assert_eq!(text(&out, "user.name"), Some("alice"));
    assert_eq!(text(&out, "source.ip"), Some("172.31.98.44"));

    // With a logging class in the tag.
    let out = run("%ASA-auth-4-113005: AAA user authentication Rejected : reason = AAA failure : server = myservername : user = myusername : user IP = 10.11.74.55").unwrap();
    assert_eq!(int(&out, "event.severity"), Some(4));
    assert_eq!(text(&out, "cisco.asa.aaa.server"), Some("myservername"));
}

#[test]
fn commands_sessions_and_threats() {
    let out =
        run("%ASA-5-111010: User 'enable_15', running 'CLI' from IP 10.10.0.87, executed 'clear'")
            .unwrap();
    assert_eq!(text(&out, "event.category"), Some("configuration"));
    assert_eq!(text(&out, "event.type"), Some("change"));
    assert_eq!(text(&out, "user.name"), Some("enable_15"));
    assert_eq!(text(&out, "cisco.asa.command"), Some("clear"));
    assert_eq!(text(&out, "source.ip"), Some("10.10.0.87"));

    let out = run("%ASA-5-111008: User 'admin' executed the 'write memory' command.").unwrap();
    assert_eq!(text(&out, "cisco.asa.command"), Some("write memory"));

    let out =
        run("%ASA-7-111009: User 'aaaa' executed cmd: show access-list aaa_out brief").unwrap();
    assert_eq!(text(&out, "event.type"), Some("info"));
    assert_eq!(
        text(&out, "cisco.asa.command"),
        Some("show access-list aaa_out brief")
    );

    let out = run("%ASA-4-722051: Group <VPN5Policy> User <john> IP <192.168.50.3> IPv4 Address <192.168.50.5> IPv6 address <::> assigned to session").unwrap();
    assert_eq!(text(&out, "user.name"), Some("john"));
    assert_eq!(text(&out, "source.ip"), Some("192.168.50.3"));
    assert_eq!(text(&out, "cisco.asa.assigned_ip"), Some("192.168.50.5"));
    assert_eq!(text(&out, "cisco.asa.group_policy"), Some("VPN5Policy"));

    let out = run("%ASA-4-733100: [192.168.2.2] drop rate-1 exceeded. Current burst rate is 0 per second, max configured rate is -4; Current average rate is 7 per second, max configured rate is -4; Cumulative total count is 9063").unwrap();
    assert_eq!(text(&out, "event.category"), Some("intrusion_detection"));
    assert_eq!(text(&out, "source.ip"), Some("192.168.2.2"));
    assert_eq!(text(&out, "rule.name"), Some("rate-1"));
    assert_eq!(
        int(&out, "cisco.asa.threat_detection.total_count"),
        Some(9063)
    );

    let out = run("%ASA-4-733100: [ Scanning] drop rate-2 exceeded. Current burst rate is 0 per second, max configured rate is 8; Current average rate is 5 per second, max configured rate is 4; Cumulative total count is 19269").unwrap();
    assert_eq!(
        text(&out, "cisco.asa.threat_detection.object"),
        Some("Scanning")
    );
}

#[test]
fn absurd_durations_do_not_overflow() {
    assert_eq!(parse_duration("1:02:03"), Some(3723 * 1_000_000_000));
    assert_eq!(parse_duration("9223372036854775807:00:00"), None);
    assert_eq!(parse_duration("0:9223372036854775807:00"), None);
    assert_eq!(parse_duration("1:2"), None);
    assert_eq!(parse_duration("1:2:3:4"), None);
}

#[test]
fn unknown_ids_keep_code_and_severity() {
    let out = run("%ASA-7-609001: Built local-host net:10.10.10.10").unwrap();
    assert_eq!(text(&out, "event.code"), Some("609001"));
    assert_eq!(int(&out, "event.severity"), Some(7));
    assert_eq!(text(&out, "log.level"), Some("debugging"));
    assert!(out.get("source.ip").is_none());
}

#[test]
fn near_misses_are_refused() {
    assert!(run("%SYS-5-CONFIG_I: Configured from console by admin on vty0").is_none());
    assert!(run("%ASA-9-302013: Built inbound TCP connection").is_none());
    assert!(run("%ASA-6-30201: Built").is_none());
    assert!(run("%ASA-6-3020134: Built").is_none());
    assert!(run("%ASA6-302013: Built").is_none());
    assert!(run("Built inbound TCP connection 123 for outside:10.0.0.1/1234").is_none());
    assert!(run_tagged("%ASA-x-302013", "Built inbound").is_none());
    assert!(run("%ASA-").is_none());
    assert!(run("").is_none());
    // Truncated lines of known ids are still the ASA's, without their fields.
    let out = run("%ASA-6-302013: Built inbound TCP").unwrap();
    assert!(out.get("source.ip").is_none());
}

#[test]
fn dispatcher_routes_both_shapes_here() {
    let mut out = Output::default();
    let tagged = Input::new("Deny tcp src a:1.2.3.4/5 dst b:5.6.7.8/22 by access-group \"x\"")
        .app("%ASA-4-106023");
    assert_eq!(super::super::decode(&tagged, &mut out), Some("cisco_asa"));
    assert_eq!(text(&out, "rule.name"), Some("x"));
    let inline = Input::new("%ASA-6-302014: Teardown TCP connection 1 for a:1.2.3.4/5 to b:5.6.7.8/22 duration 0:00:01 bytes 10 TCP FINs");
    assert_eq!(super::super::decode(&inline, &mut out), Some("cisco_asa"));
    assert_eq!(int(&out, "network.bytes"), Some(10));
}
