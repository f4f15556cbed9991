//! Cisco IOS / IOS XE syslog messages: `%FACILITY-SEVERITY-MNEMONIC: text`, optionally after the
//! router's own sequence number and timestamp
//! (`000123: *Mar  1 00:01:02.345 UTC: %SYS-5-CONFIG_I: Configured from console by admin …`).
//!
//! Every well-formed tag is recognised: `event.code` is `FACILITY-SEVERITY-MNEMONIC`,
//! `event.severity` the digit and `log.level` its Cisco name. These mnemonics are also read:
//!
//! - `SYS-5-CONFIG_I`: configuration change (`user.name`, the vty line, `source.ip`);
//! - `SEC_LOGIN-5-LOGIN_SUCCESS` / `SEC_LOGIN-4-LOGIN_FAILED`: `[user: x] [Source: ip]
//!   [localport: 22] [Reason: …]`;
//! - `LINK-3-UPDOWN` / `LINEPROTO-5-UPDOWN`: interface state changes;
//! - access-list logging (`SEC-6-IPACCESSLOGP`, `…LOGDP`, `…LOGNP`, `…LOGRP`, `…LOGSP`,
//!   `IPV6_ACL-6-ACCESSLOGP`, IOS XE `FMANFP-6-IPACCESSLOGP`): list name, verdict, protocol,
//!   addresses, ports, packet count;
//! - `SSH-5-SSH2_USERAUTH`: SSH user authentication result;
//! - `PARSER-5-CFGLOG_LOGGEDCMD`: a logged configuration command.
//!
//! The router's timestamp becomes the event time when it is present, not marked unreliable (a
//! leading `*` means the clock was never synchronised) and in UTC or without a zone; the year
//! comes from the received time. Other zones are left to the syslog header. Not handled: the
//! `hostname:` prefix some IOS versions add, NX-OS formats, per-platform facility variants beyond
//! the ones above.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use vigil_event::{Timestamp, Value};

use super::cisco_asa::SEVERITY_NAMES;
use super::kv::transport_name;
use super::search::{between, Search};
use super::{Input, Output};

/// The `%FACILITY-SEVERITY-MNEMONIC` tag.
struct Tag<'a> {
    /// `FACILITY-SEVERITY-MNEMONIC`, without `%`.
    code: &'a str,
    facility: &'a str,
    severity: u8,
    mnemonic: &'a str,
}

/// Whether `message` is an IOS message with a sequence number and/or timestamp before its tag
/// (`000123: *Mar  1 00:01:02.345 UTC: %SYS-5-CONFIG_I: …`), which a dispatcher looking only at
/// the first byte would not send here. For the dispatcher's digit-led branch.
#[cfg_attr(not(test), allow(dead_code))]
pub(super) fn is_prefixed_message(message: &str) -> bool {
    split_prefix(message.trim_start()).is_some_and(|(prefix, _)| !prefix.is_empty())
}

/// The part before the tag (sequence number, timestamp; possibly empty) and the part from the
/// `%` on, when the prefix is one IOS writes.
fn split_prefix(message: &str) -> Option<(&str, &str)> {
    if message.starts_with('%') {
        return Some(("", message));
    }
    let at = message.find_str(": %")?;
    let prefix = &message[..at];
    let segments: Vec<&str> = prefix.split_str(": ").collect();
    let valid = segments.len() <= 2
        && segments
            .iter()
            .all(|segment| is_sequence(segment) || is_timestamp(segment));
    valid.then(|| (prefix, &message[at + 2..]))
}

fn is_sequence(segment: &str) -> bool {
    !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit())
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `*Mar  1 00:01:02.345 UTC`, `.Jun 20 02:41:39.326`, `Mar 24 18:06:03.424 UTC`.
fn is_timestamp(segment: &str) -> bool {
    let text = segment.trim_start_matches(['*', '.']);
    MONTHS.iter().any(|month| text.starts_with(month)) && text.contains_char(':')
}

fn parse_tag(text: &str) -> Option<(Tag<'_>, &str)> {
    let body = text.strip_prefix('%')?;
    let end = body.find_char(':')?;
    let code = &body[..end];
    let (head, mnemonic) = code.rsplit_once_char('-')?;
    let (facility, severity) = head.rsplit_once_char('-')?;
    let severity = match severity.as_bytes() {
        [digit @ b'0'..=b'7'] => digit - b'0',
        _ => return None,
    };
    let tag_chars = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    };
    if !tag_chars(facility) || !tag_chars(mnemonic) || matches!(facility, "ASA" | "FTD" | "PIX") {
        return None;
    }
    let tag = Tag {
        code,
        facility,
        severity,
        mnemonic,
    };
    Some((tag, body[end + 1..].trimmed()))
}

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let Some((prefix, tagged)) = split_prefix(input.message.trim_start()) else {
        return false;
    };
    let Some((tag, text)) = parse_tag(tagged) else {
        return false;
    };
    out.put("observer.vendor", "Cisco");
    out.put("observer.product", "IOS");
    out.put("event.code", tag.code);
    out.put("event.severity", i64::from(tag.severity));
    if let Some(name) = SEVERITY_NAMES.get(usize::from(tag.severity)) {
        out.put("log.level", *name);
    }
    if let Some(sequence) = prefix.split_str(": ").find(|segment| is_sequence(segment)) {
        out.put_int("cisco.ios.sequence", sequence);
    }
    if let Some(time) = prefix
        .split_str(": ")
        .find(|segment| is_timestamp(segment))
        .and_then(|stamp| parse_timestamp(stamp, input.received))
    {
        out.set_timestamp(time);
    }
    match (tag.facility, tag.mnemonic) {
        ("SYS", "CONFIG_I") => config_i(text, out),
        ("SEC_LOGIN", "LOGIN_SUCCESS") => login(text, true, out),
        ("SEC_LOGIN", "LOGIN_FAILED") => login(text, false, out),
        ("LINK", "UPDOWN") | ("LINEPROTO", "UPDOWN") => updown(text, out),
        ("SSH", "SSH2_USERAUTH") => ssh_userauth(text, out),
        ("PARSER", "CFGLOG_LOGGEDCMD") => logged_command(text, out),
        (_, mnemonic)
            if (mnemonic.starts_with("IPACCESSLOG") || mnemonic.starts_with("ACCESSLOG"))
                && !mnemonic.ends_with("RL") =>
        {
            access_log(text, out)
        }
        _ => {}
    }
    true
}

/// The router's timestamp, when it can be trusted (no `*`) and is in UTC or unzoned.
fn parse_timestamp(stamp: &str, received: Timestamp) -> Option<Timestamp> {
    if stamp.starts_with('*') {
        return None;
    }
    let stamp = stamp.trim_start_matches('.');
    let mut words = stamp.split_whitespace();
    let month = words.next()?;
    let day: u32 = words.next()?.parse().ok()?;
    let mut clock = words.next()?;
    let mut year = received.to_datetime().year();
    if clock.len() == 4 && clock.bytes().all(|b| b.is_ascii_digit()) {
        year = clock.parse().ok()?;
        clock = words.next()?;
    }
    match words.next() {
        None | Some("UTC") | Some("GMT") => {}
        Some(_) => return None,
    }
    let month = MONTHS.iter().position(|name| *name == month)? + 1;
    let date = NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, day)?;
    let time = NaiveTime::parse_from_str(clock, "%H:%M:%S%.f").ok()?;
    let moment = Utc.from_utc_datetime(&NaiveDateTime::new(date, time));
    Some(Timestamp::from_datetime(moment))
}

/// `Configured from console by admin on vty0 (10.0.0.5)`, `Configured from console by vty0
/// (10.0.0.5)`, `Configured from console by console`.
fn config_i(text: &str, out: &mut Output) {
    out.put("event.category", "configuration");
    out.put("event.type", "change");
    out.put("event.action", "configuration-change");
    let Some(by) = text.split_once_str(" by ").map(|(_, by)| by) else {
        return;
    };
    let (who, address) = match by.split_once_str(" (") {
        Some((who, address)) => (who, address.trim_end_matches(')')),
        None => (by, ""),
    };
    let line = match who.split_once_str(" on ") {
        Some((user, line)) => {
            out.put_str("user.name", user);
            line
        }
        None => who,
    };
    out.put_str("cisco.ios.line", line);
    out.put_ip("source.ip", address);
}

/// `Login Success [user: x] [Source: ip] [localport: 22] at …`,
/// `Login failed [user: x] [Source: ip] [localport: 22] [Reason: …] at …`.
fn login(text: &str, success: bool, out: &mut Output) {
    out.put("event.category", "authentication");
    out.put("event.type", "start");
    out.put("event.action", "login");
    out.put("event.outcome", if success { "success" } else { "failure" });
    if let Some(user) = between(text, "[user: ", "]") {
        out.put_str("user.name", user);
    }
    if let Some(source) = between(text, "[Source: ", "]") {
        out.put_ip("source.ip", source);
    }
    if let Some(port) = between(text, "[localport: ", "]") {
        out.put_int("destination.port", port);
    }
    if let Some(reason) = between(text, "[Reason: ", "]") {
        out.put_str("event.reason", reason);
    }
}

/// `Interface Gi0/1, changed state to down`, `Line protocol on Interface Gi0/1, changed state
/// to up`.
fn updown(text: &str, out: &mut Output) {
    out.put("event.category", "host");
    out.put("event.type", "change");
    if let Some(interface) = between(text, "Interface ", ",") {
        out.put_str("observer.ingress.interface.name", interface);
    }
    if let Some(state) = text
        .split_once_str("changed state to ")
        .map(|(_, state)| state.trimmed())
    {
        out.put_str("cisco.ios.interface.state", state);
        match state {
            "up" => out.put("event.action", "interface-up"),
            "down" | "administratively down" => out.put("event.action", "interface-down"),
            _ => {}
        }
    }
}

/// `User 'admin' authentication for SSH2 Session from 10.0.0.5 (tty = 0) using crypto cipher
/// '…', hmac '…' Succeeded` (or `Failed`).
fn ssh_userauth(text: &str, out: &mut Output) {
    out.put("event.category", "authentication");
    out.put("event.type", "start");
    out.put("event.action", "ssh-login");
    if let Some(user) = between(text, "User '", "'") {
        out.put_str("user.name", user);
    }
    if let Some(source) = between(text, " from ", " ") {
        out.put_ip("source.ip", source);
    }
    let outcome = if text.ends_with("Succeeded") {
        Some("success")
    } else if text.ends_with("Failed") {
        Some("failure")
    } else {
        None
    };
    if let Some(outcome) = outcome {
        out.put("event.outcome", outcome);
    }
}

/// `User:admin  logged command:interface GigabitEthernet0/1`.
fn logged_command(text: &str, out: &mut Output) {
    out.put("event.category", "configuration");
    out.put("event.type", "change");
    out.put("event.action", "command-logged");
    if let Some(user) = between(text, "User:", " ") {
        out.put_str("user.name", user);
    }
    if let Some(command) = text
        .split_once_str("logged command:")
        .map(|(_, command)| command)
    {
        out.put_str("cisco.ios.command", command);
    }
}

/// `[R0/0: fman_fp_image: ]list NAME permitted tcp 10.0.0.1(1234) -> 10.0.0.2(80), 1 packet`;
/// ICMP: `… icmp 10.0.0.1 -> 10.0.0.2 (3/4), 32 packets`.
fn access_log(text: &str, out: &mut Output) {
    let Some(list) = text.find_str("list ").map(|at| &text[at + "list ".len()..]) else {
        return;
    };
    let (flow, count) = list.rsplit_once_str(", ").unwrap_or((list, ""));
    let mut words = flow.split_whitespace();
    let (Some(name), Some(verdict), Some(proto), Some(source), Some("->"), Some(destination)) = (
        words.next(),
        words.next(),
        words.next(),
        words.next(),
        words.next(),
        words.next(),
    ) else {
        return;
    };
    let allowed = match verdict {
        "permitted" => true,
        "denied" => false,
        _ => return,
    };
    out.put("event.category", "network");
    let verdict = if allowed { "allowed" } else { "denied" };
    out.put(
        "event.type",
        Value::List(vec![Value::from("connection"), Value::from(verdict)]),
    );
    out.put(
        "event.action",
        if allowed {
            "firewall-allow"
        } else {
            "firewall-deny"
        },
    );
    out.put_str("rule.name", name);
    match transport_name(proto) {
        Some(transport) => out.put("network.transport", transport),
        None => out.put_str("network.transport", proto),
    }
    put_host_port(source, "source.ip", "source.port", out);
    put_host_port(destination, "destination.ip", "destination.port", out);
    if let Some(packets) = count.split_whitespace().next() {
        out.put_int("network.packets", packets);
    }
}

/// `10.0.0.1(1234)` or `10.0.0.1`.
fn put_host_port(text: &str, ip: &'static str, port: &'static str, out: &mut Output) {
    match text.split_once_char('(') {
        Some((host, rest)) => {
            out.put_ip(ip, host);
            out.put_int(port, rest.trim_end_matches(')'));
        }
        None => {
            out.put_ip(ip, text);
        }
    }
}

#[cfg(test)]
#[path = "cisco_ios_tests.rs"]
mod tests;
