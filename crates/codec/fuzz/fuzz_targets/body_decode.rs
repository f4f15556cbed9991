//! Any text as a message body, under each app-name the dispatcher knows and under none: no
//! decoder may panic, and a decoder that refuses a line leaves nothing behind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_codec::body::{decode, Input, Output};
use vigil_event::Timestamp;

/// One app-name per dispatch arm, and none.
const APPS: [Option<&str>; 24] = [
    None,
    Some("sshd"),
    Some("sudo"),
    Some("su"),
    Some("useradd"),
    Some("kernel"),
    Some("filterlog"),
    Some("named"),
    Some("dnsmasq"),
    Some("dhcpd"),
    Some("dnsmasq-dhcp"),
    Some("vsftpd"),
    Some("ftpd"),
    Some("mysqld"),
    Some("postgres"),
    Some("squid"),
    Some("httpd"),
    Some("nginx"),
    Some("suricata"),
    Some("zeek"),
    Some("postfix/smtpd"),
    Some("%ASA-6-302013"),
    Some("sshd(pam_unix)"),
    Some("klogind"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let message = String::from_utf8_lossy(rest);
    let app = APPS[usize::from(selector) % APPS.len()];
    let mut input = Input::new(&message).received(Timestamp::from_nanos(1_764_000_000_000_000_000));
    input.app = app;
    let mut out = Output::default();
    if decode(&input, &mut out).is_none() {
        assert!(out.is_empty());
    }
});
