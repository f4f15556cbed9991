//! PAN-OS fixtures: real lines from Elastic's filebeat panw module tests (traffic.log,
//! threat.log, pan_inc_other.log) and from public parser test suites quoting PA-5050 / PA-5220
//! syslog.

use super::*;

fn run(message: &str) -> Option<Output> {
    let mut out = Output::default();
    decode(&Input::new(message), &mut out).then_some(out)
}

use crate::body::test_support::{int, text};

use crate::body::test_support::types;

const TRAFFIC_END: &str = "1,2018/11/30 16:09:07,012801096514,TRAFFIC,end,2049,2018/11/30 16:09:07,192.168.15.207,184.51.253.152,192.168.1.63,184.51.253.152,new_outbound_from_trust,,,apple-maps,vsys1,trust,untrust,ethernet1/2,ethernet1/1,send_to_mac,2018/11/30 16:09:07,22751,1,55113,443,16418,443,0x400053,tcp,allow,7734,1758,5976,36,2018/11/30 15:59:04,586,computer-and-internet-info,0,32091112,0x0,192.168.0.0-192.168.255.255,United States,0,16,20,tcp-fin,0,0,0,0,,PA-220,from-policy,,,0,,0,,N/A,0,0,0,0";

#[test]
fn traffic_end_allowed() {
    let out = run(TRAFFIC_END).unwrap();
    assert_eq!(text(&out, "observer.vendor"), Some("Palo Alto Networks"));
    assert_eq!(text(&out, "observer.product"), Some("PAN-OS"));
    assert_eq!(text(&out, "observer.serial_number"), Some("012801096514"));
    assert_eq!(text(&out, "observer.name"), Some("PA-220"));
    assert_eq!(text(&out, "event.category"), Some("network"));
    assert_eq!(types(&out), ["connection", "end", "allowed"]);
    assert_eq!(text(&out, "event.action"), Some("allow"));
    assert_eq!(text(&out, "source.ip"), Some("192.168.15.207"));
    assert_eq!(text(&out, "destination.ip"), Some("184.51.253.152"));
    assert_eq!(text(&out, "source.nat.ip"), Some("192.168.1.63"));
    assert_eq!(text(&out, "destination.nat.ip"), Some("184.51.253.152"));
    assert_eq!(int(&out, "source.port"), Some(55113));
    assert_eq!(int(&out, "destination.port"), Some(443));
    assert_eq!(int(&out, "source.nat.port"), Some(16418));
    assert_eq!(int(&out, "destination.nat.port"), Some(443));
    assert_eq!(text(&out, "rule.name"), Some("new_outbound_from_trust"));
    assert_eq!(text(&out, "network.application"), Some("apple-maps"));
    assert_eq!(text(&out, "network.transport"), Some("tcp"));
    assert_eq!(text(&out, "observer.ingress.zone"), Some("trust"));
    assert_eq!(text(&out, "observer.egress.zone"), Some("untrust"));
    assert_eq!(
        text(&out, "observer.ingress.interface.name"),
        Some("ethernet1/2")
    );
    assert_eq!(
        text(&out, "observer.egress.interface.name"),
        Some("ethernet1/1")
    );
    assert_eq!(int(&out, "panw.panos.session_id"), Some(22751));
    assert_eq!(int(&out, "panw.panos.repeat_count"), Some(1));
    assert_eq!(int(&out, "network.bytes"), Some(7734));
    assert_eq!(int(&out, "source.bytes"), Some(1758));
    assert_eq!(int(&out, "destination.bytes"), Some(5976));
    assert_eq!(int(&out, "network.packets"), Some(36));
    assert_eq!(int(&out, "source.packets"), Some(16));
    assert_eq!(int(&out, "destination.packets"), Some(20));
    assert_eq!(text(&out, "panw.panos.session_end_reason"), Some("tcp-fin"));
    assert_eq!(out.timestamp().unwrap().to_string(), "2018-11-30T16:09:07Z");
}

#[test]
fn traffic_icmp_and_deny_subtype() {
    let line = "1,2018/11/30 16:09:33,012801096514,TRAFFIC,deny,2049,2018/11/30 16:09:33,192.168.15.224,175.16.199.1,192.168.1.63,175.16.199.1,new_outbound_from_trust,,,ping,vsys1,trust,untrust,ethernet1/2,ethernet1/1,send_to_mac,2018/11/30 16:09:33,24242,6,0,0,0,0,0x500019,icmp,allow,1176,588,588,12,2018/11/30 16:09:19,0,any,0,32091136,0x0,192.168.0.0-192.168.255.255,United States,0,6,6,aged-out,0,0,0,0,,PA-220,from-policy,,,0,,0,,N/A,0,0,0,0";
    let out = run(line).unwrap();
    assert_eq!(types(&out), ["connection", "denied"]);
    assert_eq!(text(&out, "network.transport"), Some("icmp"));
    assert_eq!(int(&out, "panw.panos.repeat_count"), Some(6));
    assert!(out.get("source.nat.port").is_none());
}

// An older (PAN-OS 4/5) TRAFFIC start line, shorter, with a source user and no NAT.
#[test]
fn traffic_start_old_and_short() {
    let line = "1,2012/10/30 09:46:17,01606001116,TRAFFIC,start,1,2012/04/10 04:39:56,192.168.0.2,204.232.231.46,0.0.0.0,0.0.0.0,rule1,crusher,,web-browsing,vsys1,trust,untrust,ethernet1/2,ethernet1/1,forwardAll,2012/04/10 04:39:57,25149,1,59309,80,0,0,0x200000,tcp,allow,78,78,0,1,2012/04/10 04:39:56,0,any,0,0,0x0,192.168.0.0-192.168.255.255,United States,0,1,0";
    let out = run(line).unwrap();
    assert_eq!(types(&out), ["connection", "start", "allowed"]);
    assert_eq!(text(&out, "user.name"), Some("crusher"));
    assert_eq!(text(&out, "source.user.name"), Some("crusher"));
    assert!(out.get("source.nat.ip").is_none());
    assert!(out.get("observer.name").is_none());
    assert_eq!(out.timestamp().unwrap().to_string(), "2012-04-10T04:39:56Z");
}

#[test]
fn threat_url_block() {
    let line = "1,2018/11/30 16:44:36,012801096514,THREAT,url,2049,2018/11/30 16:44:36,192.168.15.224,152.195.55.192,192.168.1.63,152.195.55.192,new_outbound_from_trust,,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,send_to_mac,2018/11/30 16:44:36,28191,1,52984,443,37679,443,0x403000,tcp,block-url,\"consent.cmp.oath.com/\",(9999),business-and-economy,informational,client-to-server,7726,0x2000000000000000,192.168.0.0-192.168.255.255,United States,0,,0,,,0,,,,,,,,0,0,0,0,0,,PA-220,,,,,0,,0,,N/A,unknown,AppThreat-0-0,0x0,0,4294967295,";
    let out = run(line).unwrap();
    assert_eq!(text(&out, "event.category"), Some("web"));
    assert_eq!(types(&out), ["info", "denied"]);
    assert_eq!(text(&out, "event.action"), Some("block-url"));
    assert_eq!(text(&out, "url.original"), Some("consent.cmp.oath.com/"));
    assert_eq!(text(&out, "rule.id"), Some("9999"));
    assert!(out.get("rule.name").is_none());
    assert_eq!(text(&out, "rule.category"), Some("business-and-economy"));
    assert_eq!(
        text(&out, "panw.panos.ruleset"),
        Some("new_outbound_from_trust")
    );
    assert_eq!(text(&out, "log.level"), Some("informational"));
    assert_eq!(int(&out, "event.severity"), Some(1));
    assert_eq!(text(&out, "panw.panos.direction"), Some("client-to-server"));
    assert_eq!(text(&out, "observer.name"), Some("PA-220"));
}

// A PA-5220 vulnerability log quoted in a public SIEM parser's tests (users with domains).
#[test]
fn threat_vulnerability_alert() {
    let line = "1,2018/08/22 11:21:04,013201001141,THREAT,vulnerability,0,2018/08/22 11:21:02,10.0.190.116,10.0.2.225,0.0.0.0,0.0.0.0,DMZ-to-LAN_hq-direct-access,dart\\abluitt,dart\\kmendoza_admin,msrpc,vsys1,DMZ-2_L3,LAN_L3,ethernet1/3,ethernet1/6,Panorama,2018/08/22 11:21:02,398906,1,26475,135,0,0,0x2000,tcp,alert,\"\",Microsoft RPC Endpoint Mapper Detection(30845),any,informational,client-to-server,6585310726021616818,0x8000000000000000,10.0.0.0-10.255.255.255,10.0.0.0-10.255.255.255,0,,0,,,0,,,,,,,,0,346,12,0,0,,pa5220-hq-mdf-1,,,,,0,,0,,N/A,info-leak";
    let out = run(line).unwrap();
    assert_eq!(text(&out, "event.category"), Some("intrusion_detection"));
    assert_eq!(types(&out), ["info", "allowed"]);
    assert_eq!(
        text(&out, "rule.name"),
        Some("Microsoft RPC Endpoint Mapper Detection")
    );
    assert_eq!(text(&out, "rule.id"), Some("30845"));
    assert_eq!(text(&out, "source.user.name"), Some("dart\\abluitt"));
    assert_eq!(
        text(&out, "destination.user.name"),
        Some("dart\\kmendoza_admin")
    );
    assert_eq!(int(&out, "destination.port"), Some(135));
    assert!(out.get("panw.panos.misc").is_none());
    assert_eq!(text(&out, "observer.name"), Some("pa5220-hq-mdf-1"));
    assert_eq!(out.timestamp().unwrap().to_string(), "2018-08-22T11:21:02Z");
}

// A PA-5050 virus log (Eicar) from a public PAN syslog parser's tests.
#[test]
fn threat_virus_deny() {
    let line = "1,2018/02/12 15:10:06,0009C103236,THREAT,virus,1,2015/02/12 15:10:06,188.40.238.250,10.128.50.2,0.0.0.0,0.0.0.0,rule2,,,web-browsing,vsys1,vwire1-untrust,vwire1-trust,ethernet1/2,ethernet1/1,Threat log fws to Arista,2015/02/12 15:10:06,33606445,1,80,45608,0,0,0x0,tcp,deny,\"eicar.com\",Eicar Test File(100000),any,medium,server-to-client,222,0x0,DE,10.0.0.0-10.255.255.255,0,,0,,";
    let out = run(line).unwrap();
    assert_eq!(text(&out, "event.category"), Some("malware"));
    assert_eq!(types(&out), ["info", "denied"]);
    assert_eq!(text(&out, "file.name"), Some("eicar.com"));
    assert_eq!(text(&out, "rule.name"), Some("Eicar Test File"));
    assert_eq!(text(&out, "rule.id"), Some("100000"));
    assert_eq!(int(&out, "event.severity"), Some(3));
    assert_eq!(text(&out, "observer.ingress.zone"), Some("vwire1-untrust"));
}

#[test]
fn config_and_system() {
    let config = "1,2013/03/25 23:58:57,1606001116,CONFIG,0,0,2012/02/25 00:51:50,192.168.0.2,,set,admin,Web,Succeeded, config shared local-user-database user  badguy,0,0x0";
    let out = run(config).unwrap();
    assert_eq!(text(&out, "event.category"), Some("configuration"));
    assert_eq!(text(&out, "event.type"), Some("change"));
    assert_eq!(text(&out, "event.action"), Some("set"));
    assert_eq!(text(&out, "user.name"), Some("admin"));
    assert_eq!(text(&out, "source.ip"), Some("192.168.0.2"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));
    assert_eq!(text(&out, "panw.panos.client"), Some("Web"));
    assert_eq!(
        text(&out, "panw.panos.config_path"),
        Some("config shared local-user-database user  badguy")
    );

    let system = "1,2013/03/25 23:59:07,1606001116,SYSTEM,general,0,2012/02/25 00:59:36,,general,,0,0,general,informational,Log type config cleared by user badguy ,0,0x0";
    let out = run(system).unwrap();
    assert_eq!(text(&out, "event.category"), Some("host"));
    assert_eq!(text(&out, "event.code"), Some("general"));
    assert_eq!(
        text(&out, "message"),
        Some("Log type config cleared by user badguy")
    );
    assert_eq!(text(&out, "log.level"), Some("informational"));

    let system = "1,2013/03/25 23:59:02,1606001116,SYSTEM,routing,0,2012/02/25 00:53:53,,routed-config-p1-success,,0,0,general,informational,Route daemon configuration load phase-1 succeeded.,0,0x0";
    let out = run(system).unwrap();
    assert_eq!(text(&out, "event.category"), Some("configuration"));
    assert_eq!(text(&out, "event.code"), Some("routed-config-p1-success"));
}

#[test]
fn csv_quotes() {
    let fields = split_csv("a,\"b,c\",\"say \"\"hi\"\"\",,\"open").unwrap();
    assert_eq!(fields, ["a", "b,c", "say \"hi\"", "", "open"]);
    let fields = split_csv("\"\"").unwrap();
    assert_eq!(fields, [""]);
    assert!(split_csv(&",".repeat(MAX_FIELDS + 5)).is_none());
}

#[test]
fn near_misses_are_refused() {
    // filterlog CSV.
    assert!(run("5,,,1000000103,em0,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,1.2.3.4,5.6.7.8,1,2,0,S,1,,1,,").is_none());
    // Right type, too few fields (truncated).
    assert!(run(
        "1,2018/11/30 16:09:07,012801096514,TRAFFIC,end,2049,2018/11/30 16:09:07,192.168.15.207"
    )
    .is_none());
    // Receive time is not a time.
    assert!(run(&TRAFFIC_END.replacen("2018/11/30 16:09:07", "yesterday", 1)).is_none());
    // Source is not an address.
    assert!(run(&TRAFFIC_END.replacen("192.168.15.207", "host-a", 1)).is_none());
    // Unhandled log type.
    assert!(
        run("1,2018/11/30 16:09:07,012801096514,HIPMATCH,0,2049,2018/11/30 16:09:07,x").is_none()
    );
    assert!(run("").is_none());
}

#[test]
fn dispatcher_routes_pan_csv_here() {
    let mut out = Output::default();
    assert_eq!(
        super::super::decode(&Input::new(TRAFFIC_END), &mut out),
        Some("paloalto")
    );
    assert_eq!(text(&out, "observer.product"), Some("PAN-OS"));
}

#[test]
fn fixed_width_times_read_as_chrono_reads_them() {
    for text in [
        "2024/05/10 11:37:47",
        "2018/11/30 16:09:37",
        "2024/02/29 23:59:59",
        "2023/02/29 10:00:00",
        "2024/13/01 10:00:00",
        "2024/05/10 24:00:00",
        "2024/05/10 11:37:60",
        "2024/5/10 11:37:47",
        "2024/05/10 11:37:47.5",
        "2024-05-10 11:37:47",
        "2024/05/10T11:37:47",
        "+2024/05/10 11:37:4",
        "",
    ] {
        assert_eq!(
            parse_time(text),
            NaiveDateTime::parse_from_str(text, TIME_FORMAT).ok(),
            "{text:?}"
        );
    }
}
