//! IOS fixtures: message parts of real lines from Elastic's cisco_ios integration pipeline tests
//! (test-cisco-ios.log) and Cisco's IOS system message guide examples.

use super::*;

fn received_2021() -> Timestamp {
    Timestamp::from_datetime(Utc.with_ymd_and_hms(2021, 6, 1, 0, 0, 0).unwrap())
}

fn run(message: &str) -> Option<Output> {
    let mut out = Output::default();
    let input = Input::new(message).received(received_2021());
    decode(&input, &mut out).then_some(out)
}

use crate::body::test_support::{int, text};

use crate::body::test_support::types;

#[test]
fn config_i_with_unsynced_clock() {
    let out = run("000123: *Mar  1 00:01:02.345 UTC: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)").unwrap();
    assert_eq!(text(&out, "observer.vendor"), Some("Cisco"));
    assert_eq!(text(&out, "observer.product"), Some("IOS"));
    assert_eq!(text(&out, "event.code"), Some("SYS-5-CONFIG_I"));
    assert_eq!(int(&out, "event.severity"), Some(5));
    assert_eq!(text(&out, "log.level"), Some("notifications"));
    assert_eq!(text(&out, "event.category"), Some("configuration"));
    assert_eq!(text(&out, "event.type"), Some("change"));
    assert_eq!(text(&out, "user.name"), Some("admin"));
    assert_eq!(text(&out, "cisco.ios.line"), Some("vty0"));
    assert_eq!(text(&out, "source.ip"), Some("10.0.0.5"));
    assert_eq!(int(&out, "cisco.ios.sequence"), Some(123));
    // `*`: the router's clock is not trusted.
    assert!(out.timestamp().is_none());

    let out = run("%SYS-5-CONFIG_I: Configured from console by console").unwrap();
    assert!(out.get("user.name").is_none());
    assert_eq!(text(&out, "cisco.ios.line"), Some("console"));
}

#[test]
fn login_success_and_failure() {
    let out = run("1991219: Mar 24 18:06:03.424 UTC: %SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: john.smith] [Source: 10.2.55.3] [localport: 22] at 12:06:03 MST Wed Mar 24 2021").unwrap();
    assert_eq!(text(&out, "event.category"), Some("authentication"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));
    assert_eq!(text(&out, "user.name"), Some("john.smith"));
    assert_eq!(text(&out, "source.ip"), Some("10.2.55.3"));
    assert_eq!(int(&out, "destination.port"), Some(22));
    assert_eq!(
        out.timestamp().unwrap().to_string(),
        "2021-03-24T18:06:03.424Z"
    );

    let out = run("%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: admin] [Source: 192.0.2.44] [localport: 23] [Reason: Login Authentication Failed] at 10:15:00 UTC Mon Jan 4 2021").unwrap();
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(int(&out, "event.severity"), Some(4));
    assert_eq!(
        text(&out, "event.reason"),
        Some("Login Authentication Failed")
    );
    assert_eq!(int(&out, "destination.port"), Some(23));
}

#[test]
fn interface_state_changes() {
    let out = run("%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down").unwrap();
    assert_eq!(
        text(&out, "observer.ingress.interface.name"),
        Some("GigabitEthernet0/1")
    );
    assert_eq!(text(&out, "cisco.ios.interface.state"), Some("down"));
    assert_eq!(text(&out, "event.action"), Some("interface-down"));
    assert_eq!(text(&out, "log.level"), Some("errors"));

    let out =
        run("%LINEPROTO-5-UPDOWN: Line protocol on Interface FastEthernet0/0, changed state to up")
            .unwrap();
    assert_eq!(
        text(&out, "observer.ingress.interface.name"),
        Some("FastEthernet0/0")
    );
    assert_eq!(text(&out, "event.action"), Some("interface-up"));
}

#[test]
fn access_list_logging() {
    let out = run("1663321: Jun 20 02:43:08.454: %SEC-6-IPACCESSLOGP: list 150 denied tcp 192.168.100.12(59832) -> 81.2.69.144(80), 1 packet").unwrap();
    assert_eq!(text(&out, "event.code"), Some("SEC-6-IPACCESSLOGP"));
    assert_eq!(types(&out), ["connection", "denied"]);
    assert_eq!(text(&out, "rule.name"), Some("150"));
    assert_eq!(text(&out, "network.transport"), Some("tcp"));
    assert_eq!(text(&out, "source.ip"), Some("192.168.100.12"));
    assert_eq!(int(&out, "source.port"), Some(59832));
    assert_eq!(text(&out, "destination.ip"), Some("81.2.69.144"));
    assert_eq!(int(&out, "destination.port"), Some(80));
    assert_eq!(int(&out, "network.packets"), Some(1));
    assert_eq!(
        out.timestamp().unwrap().to_string(),
        "2021-06-20T02:43:08.454Z"
    );

    let out = run("585917: Feb  8 04:00:47.272: %SEC-6-IPACCESSLOGRP: list 177 denied igmp 192.168.100.197 -> 224.0.0.22, 1 packet").unwrap();
    assert_eq!(text(&out, "network.transport"), Some("igmp"));
    assert_eq!(text(&out, "destination.ip"), Some("224.0.0.22"));
    assert!(out.get("source.port").is_none());

    let out = run("1663326: Jun 20 02:43:28.403: %SEC-6-IPACCESSLOGDP: list 150 denied icmp 192.168.100.12 -> 192.168.100.1 (3/3), 32 packets").unwrap();
    assert_eq!(text(&out, "network.transport"), Some("icmp"));
    assert_eq!(int(&out, "network.packets"), Some(32));

    let out = run("585920: May  3 19:11:32.619: %IPV6-6-ACCESSLOGP: list ACL-IPv6-E0/0-IN/10 permitted tcp 2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6(1027) -> 2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6(22), 9 packets").unwrap();
    assert_eq!(types(&out), ["connection", "allowed"]);
    assert_eq!(text(&out, "rule.name"), Some("ACL-IPv6-E0/0-IN/10"));
    assert_eq!(int(&out, "destination.port"), Some(22));

    let out = run("1663312: Jul 11 09:34:00.020: %FMANFP-6-IPACCESSLOGP: R0/0: fman_fp_image: list internet_in_gig0 permitted tcp 172.16.0.26(59144) -> 10.100.8.34(1103), 1 packet").unwrap();
    assert_eq!(text(&out, "rule.name"), Some("internet_in_gig0"));
    assert_eq!(text(&out, "source.ip"), Some("172.16.0.26"));

    // The rate-limit summary is not a flow.
    let out = run("1663313: Jun 20 02:42:28.374: %SEC-6-IPACCESSLOGRL: access-list logging rate-limited or missed 18 packets").unwrap();
    assert!(out.get("rule.name").is_none());
}

#[test]
fn ssh_and_logged_commands() {
    let out = run("%SSH-5-SSH2_USERAUTH: User 'admin' authentication for SSH2 Session from 10.1.1.20 (tty = 0) using crypto cipher 'aes256-ctr', hmac 'hmac-sha2-256' Succeeded").unwrap();
    assert_eq!(text(&out, "event.category"), Some("authentication"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));
    assert_eq!(text(&out, "user.name"), Some("admin"));
    assert_eq!(text(&out, "source.ip"), Some("10.1.1.20"));

    let out =
        run("%PARSER-5-CFGLOG_LOGGEDCMD: User:admin  logged command:interface GigabitEthernet0/1")
            .unwrap();
    assert_eq!(text(&out, "event.category"), Some("configuration"));
    assert_eq!(text(&out, "user.name"), Some("admin"));
    assert_eq!(
        text(&out, "cisco.ios.command"),
        Some("interface GigabitEthernet0/1")
    );
}

#[test]
fn other_tags_keep_code_and_severity() {
    let out = run("1991221: Mar 24 17:37:39 UTC: %PIM-SW1-6-INVALID_RP_JOIN: Received (*, 10.36.2.78) Join from 10.4.5.66 for invalid RP 10.3.66.3").unwrap();
    assert_eq!(text(&out, "event.code"), Some("PIM-SW1-6-INVALID_RP_JOIN"));
    assert_eq!(int(&out, "event.severity"), Some(6));
    assert_eq!(out.timestamp().unwrap().to_string(), "2021-03-24T17:37:39Z");
    // A zone other than UTC is left to the syslog header.
    let out = run("1: Jun 26 16:44:58.802 CEST: %SYS-5-RESTART: System restarted --").unwrap();
    assert!(out.timestamp().is_none());
}

#[test]
fn near_misses_are_refused() {
    assert!(run("%ASA-6-302013: Built inbound TCP connection").is_none());
    assert!(run("%SYS-9-CONFIG_I: Configured").is_none());
    assert!(run("%SYS-5-config_i: Configured").is_none());
    assert!(run("%SYS-CONFIG_I: Configured").is_none());
    assert!(run("%SYS-5-CONFIG_I Configured").is_none());
    assert!(run("100% done: %SYS-5-CONFIG_I: x").is_none());
    assert!(run("hello: world: again: %SYS-5-CONFIG_I: x").is_none());
    assert!(run("%").is_none());
    assert!(run("").is_none());
}

#[test]
fn prefixed_lines_are_told_apart() {
    assert!(is_prefixed_message(
        "000123: *Mar  1 00:01:02.345 UTC: %SYS-5-CONFIG_I: x"
    ));
    assert!(is_prefixed_message(
        "585917: Feb  8 04:00:47.272: %SEC-6-IPACCESSLOGRP: list"
    ));
    assert!(is_prefixed_message(
        "Mar 24 18:06:03.424 UTC: %SEC_LOGIN-5-LOGIN_SUCCESS: x"
    ));
    assert!(is_prefixed_message("42: %SYS-5-CONFIG_I: x"));
    assert!(!is_prefixed_message("%SYS-5-CONFIG_I: x"));
    assert!(!is_prefixed_message("5,,,1000000103,em0,match,block,in,4,"));
    assert!(!is_prefixed_message("12: hello: %x"));
}

#[test]
fn dispatcher_routes_percent_lines_here() {
    let mut out = Output::default();
    let input = Input::new("%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to up");
    assert_eq!(super::super::decode(&input, &mut out), Some("cisco_ios"));
    assert_eq!(text(&out, "event.code"), Some("LINK-3-UPDOWN"));
}
