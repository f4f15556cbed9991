//! Fortinet FortiGate (FortiOS 5.6 – 7.x) syslog in its default key=value form:
//! `date=2019-05-10 time=11:37:47 logid="0000000013" type="traffic" subtype="forward" …`.
//!
//! A line is FortiGate's when its pairs include `date`, `time`, `logid` and `type`. Recognised log
//! types: `traffic` (forward/local sessions: addresses, ports, protocol, policy, bytes, packets,
//! interfaces, NAT), `event` (`system`/`user`/`vpn` …: admin and user logins and logouts with
//! `user`, `ui`, `status`, `reason`; VPN tunnels with `remip`) and `utm` (webfilter, app-ctrl,
//! dns, ips, virus …: hostname/url, DNS query name). The `action` decides `event.type`:
//! accept/close/server-rst/client-rst/timeout/pass/passthrough → allowed; deny/block/blocked/
//! drop/dropped → denied.
//!
//! The time comes from `date` + `time` with `tz` (`-0500`) when present, else from `eventtime`
//! (seconds, milliseconds, microseconds or nanoseconds since the epoch, told apart by magnitude),
//! else `date` + `time` read as UTC.
//!
//! Pairs with no ECS meaning are kept as text under `fortinet.firewall.<key>` (placeholders
//! `N/A` and empty values dropped; at most [`kv::MAX_PAIRS`] pairs read). Not handled: the CSV
//! and CEF output formats of FortiOS (CEF goes to the CEF decoder), FortiAnalyzer re-exports with
//! other field names.

use std::borrow::Cow;

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use vigil_event::{Timestamp, Value};

use super::kv::{self, Token};
use super::search::Search;
use super::{prefixed, Input, Output};

const VENDOR_PREFIX: &str = "fortinet.firewall.";

/// The pairs whose meaning spans several fields, gathered before anything is decided.
#[derive(Default)]
struct Gathered<'a> {
    date: Option<Cow<'a, str>>,
    time: Option<Cow<'a, str>>,
    tz: Option<Cow<'a, str>>,
    eventtime: Option<Cow<'a, str>>,
    logid: bool,
    kind: Option<Cow<'a, str>>,
    subtype: Option<Cow<'a, str>>,
    action: Option<Cow<'a, str>>,
    status: Option<Cow<'a, str>>,
    logdesc: Option<Cow<'a, str>>,
    remip: Option<Cow<'a, str>>,
    sent_bytes: Option<i64>,
    received_bytes: Option<i64>,
    sent_packets: Option<i64>,
    received_packets: Option<i64>,
}

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = input.message.trim_start();
    if !message.starts_with("date=") {
        return false;
    }
    let mut gathered = Gathered::default();
    let pairs = kv::tokens(message).filter_map(|token| match token {
        Token::Pair(key, value) => Some((key, value)),
        Token::Word(_) => None,
    });
    for (key, value) in pairs.take(kv::MAX_PAIRS) {
        put_pair(key, value, &mut gathered, out);
    }
    if gathered.date.is_none() || gathered.time.is_none() || !gathered.logid {
        return false;
    }
    let Some(kind) = gathered.kind.as_deref() else {
        return false;
    };
    out.put("observer.vendor", "Fortinet");
    out.put("observer.product", "FortiGate");
    out.put("observer.type", "firewall");
    put_totals(&gathered, out);
    if out.get("source.ip").is_none() {
        if let Some(remip) = gathered.remip.as_deref() {
            out.put_ip("source.ip", remip);
        }
    }
    categorize(kind, &gathered, out);
    if let Some(time) = timestamp(&gathered) {
        out.set_timestamp(time);
    }
    true
}

/// Routes one pair: into `gathered` when it takes part in a decision, to its ECS field, or under
/// the vendor prefix.
fn put_pair<'a>(key: &'a str, value: Cow<'a, str>, gathered: &mut Gathered<'a>, out: &mut Output) {
    let text = value.as_ref();
    match key {
        "date" => gathered.date = Some(value),
        "time" => gathered.time = Some(value),
        "tz" => gathered.tz = Some(value),
        "eventtime" => gathered.eventtime = Some(value),
        "type" => gathered.kind = Some(value),
        "subtype" => {
            out.put_str("fortinet.firewall.subtype", text);
            gathered.subtype = Some(value);
        }
        "action" => gathered.action = Some(value),
        "status" => {
            out.put_str("fortinet.firewall.status", text);
            gathered.status = Some(value);
        }
        "logdesc" => {
            out.put_str("fortinet.firewall.logdesc", text);
            gathered.logdesc = Some(value);
        }
        "remip" => {
            out.put_str("fortinet.firewall.remip", text);
            gathered.remip = Some(value);
        }
        "logid" => {
            gathered.logid = true;
            out.put_str("event.code", text);
        }
        "sentbyte" => gathered.sent_bytes = put_count("source.bytes", text, out),
        "rcvdbyte" => gathered.received_bytes = put_count("destination.bytes", text, out),
        "sentpkt" => gathered.sent_packets = put_count("source.packets", text, out),
        "rcvdpkt" => gathered.received_packets = put_count("destination.packets", text, out),
        "srcip" => put_ip_or_vendor("source.ip", key, text, out),
        "dstip" => put_ip_or_vendor("destination.ip", key, text, out),
        "transip" => put_ip_or_vendor("source.nat.ip", key, text, out),
        "tranip" => put_ip_or_vendor("destination.nat.ip", key, text, out),
        "srcport" => put_int_or_vendor("source.port", key, text, out),
        "dstport" => put_int_or_vendor("destination.port", key, text, out),
        "transport" => put_int_or_vendor("source.nat.port", key, text, out),
        "tranport" => put_int_or_vendor("destination.nat.port", key, text, out),
        "proto" => {
            let transport = text.parse::<u8>().ok().and_then(kv::iana_transport);
            if let Some(transport) = transport {
                out.put("network.transport", transport);
            }
            out.put_int("network.iana_number", text);
        }
        "policyid" => out.put_str("rule.id", text),
        "policyname" => out.put_str("rule.name", text),
        "devname" => out.put_str("observer.name", text),
        "devid" => out.put_str("observer.serial_number", text),
        "srcintf" => out.put_str("observer.ingress.interface.name", text),
        "dstintf" => out.put_str("observer.egress.interface.name", text),
        "level" => out.put_str("log.level", text),
        "msg" => out.put_str("message", text),
        "user" => put_known("user.name", text, out),
        "group" => put_known("group.name", text, out),
        "reason" => put_known("event.reason", text, out),
        "hostname" => out.put_str("url.domain", text),
        "url" => out.put_str("url.path", text),
        "qname" => out.put_str("dns.question.name", text),
        "qtype" => out.put_str("dns.question.type", text),
        "duration" => {
            if let Ok(seconds) = text.parse::<i64>() {
                out.put("event.duration", seconds.saturating_mul(1_000_000_000));
            }
        }
        "direction" => match text {
            "outgoing" => out.put("network.direction", "outbound"),
            "incoming" => out.put("network.direction", "inbound"),
            _ => out.put_str("fortinet.firewall.direction", text),
        },
        _ => {
            if !is_placeholder(text) {
                out.put_str(prefixed(VENDOR_PREFIX, key), text);
            }
        }
    }
}

/// FortiOS writes `N/A` for absent users, groups, reasons.
fn is_placeholder(text: &str) -> bool {
    text.is_empty() || text.eq_ignore_ascii_case("n/a")
}

fn put_known(name: &'static str, text: &str, out: &mut Output) {
    if !is_placeholder(text) {
        out.put_str(name, text);
    }
}

fn put_count(name: &'static str, text: &str, out: &mut Output) -> Option<i64> {
    let count = text.parse::<i64>().ok()?;
    out.put(name, count);
    Some(count)
}

fn put_ip_or_vendor(name: &'static str, key: &str, text: &str, out: &mut Output) {
    if !out.put_ip(name, text) && !is_placeholder(text) {
        out.put_str(prefixed(VENDOR_PREFIX, key), text);
    }
}

fn put_int_or_vendor(name: &'static str, key: &str, text: &str, out: &mut Output) {
    if !out.put_int(name, text) && !is_placeholder(text) {
        out.put_str(prefixed(VENDOR_PREFIX, key), text);
    }
}

fn put_totals(gathered: &Gathered<'_>, out: &mut Output) {
    if let Some(total) = sum(gathered.sent_bytes, gathered.received_bytes) {
        out.put("network.bytes", total);
    }
    if let Some(total) = sum(gathered.sent_packets, gathered.received_packets) {
        out.put("network.packets", total);
    }
}

fn sum(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
    }
}

/// Whether a FortiGate action let the traffic through (`Some(true)`), stopped it
/// (`Some(false)`), or says neither.
fn action_allows(action: &str) -> Option<bool> {
    match action {
        "accept" | "close" | "server-rst" | "client-rst" | "timeout" | "start" | "pass"
        | "passthrough" | "allow" | "allowed" | "monitored" => Some(true),
        "deny" | "block" | "blocked" | "drop" | "dropped" | "reject" | "reset" => Some(false),
        _ => None,
    }
}

/// event.category / type / action / outcome from `type`, `subtype`, `action` and `status`.
fn categorize(kind: &str, gathered: &Gathered<'_>, out: &mut Output) {
    let action = gathered.action.as_deref().unwrap_or("");
    let subtype = gathered.subtype.as_deref().unwrap_or("");
    if !action.is_empty() {
        out.put("event.action", action.to_ascii_lowercase());
    }
    out.put("fortinet.firewall.type", kind);
    let verdict = action_allows(action).map(|allowed| if allowed { "allowed" } else { "denied" });
    match kind {
        "traffic" => {
            out.put("event.category", "network");
            let phase = match action {
                "start" => Some("start"),
                "close" | "server-rst" | "client-rst" | "timeout" => Some("end"),
                _ => None,
            };
            let types = ["connection"].into_iter().chain(phase).chain(verdict);
            out.put("event.type", list(types));
        }
        "event" => categorize_event(subtype, action, gathered, out),
        "utm" => {
            let category = match subtype {
                "webfilter" => "web",
                "dns" => "network",
                "virus" => "malware",
                "app-ctrl" => "network",
                _ => "intrusion_detection",
            };
            out.put("event.category", category);
            out.put("event.type", list(["info"].into_iter().chain(verdict)));
        }
        _ => {
            out.put("event.category", "host");
            out.put("event.type", "info");
        }
    }
}

fn categorize_event(subtype: &str, action: &str, gathered: &Gathered<'_>, out: &mut Output) {
    let action = action.to_ascii_lowercase();
    let is_login = matches!(action.as_str(), "login" | "auth-logon" | "fsso-logon")
        || action.ends_with("-login");
    let is_logout = matches!(action.as_str(), "logout" | "auth-logout" | "fsso-logoff")
        || action.ends_with("-logout");
    let status = gathered.status.as_deref().unwrap_or("");
    let outcome = match status {
        "success" | "logon" => Some("success"),
        "failed" | "failure" | "negotiate_error" => Some("failure"),
        _ => None,
    };
    if let Some(outcome) = outcome {
        out.put("event.outcome", outcome);
    }
    if is_login || is_logout {
        out.put("event.category", "authentication");
        let phase = if is_login { "start" } else { "end" };
        out.put("event.type", list(["info", phase]));
        return;
    }
    let desc = gathered.logdesc.as_deref().unwrap_or("");
    let (category, kind) = match subtype {
        "vpn" => ("network", "connection"),
        "user" => ("authentication", "info"),
        "system" if desc.contains_str("onfig") || action == "edit" || action == "add" => {
            ("configuration", "change")
        }
        _ => ("host", "info"),
    };
    out.put("event.category", category);
    out.put("event.type", kind);
}

fn list<'a>(items: impl IntoIterator<Item = &'a str>) -> Value {
    Value::List(items.into_iter().map(Value::from).collect())
}

fn timestamp(gathered: &Gathered<'_>) -> Option<Timestamp> {
    let local = || -> Option<NaiveDateTime> {
        let date = NaiveDate::parse_from_str(gathered.date.as_deref()?, "%Y-%m-%d").ok()?;
        let time = NaiveTime::parse_from_str(gathered.time.as_deref()?, "%H:%M:%S").ok()?;
        Some(date.and_time(time))
    };
    if let Some(offset) = gathered.tz.as_deref().and_then(parse_offset) {
        if let Some(time) = local().and_then(|t| offset.from_local_datetime(&t).single()) {
            return Some(Timestamp::from_datetime(time));
        }
    }
    if let Some(time) = gathered.eventtime.as_deref().and_then(epoch) {
        return Some(time);
    }
    local().map(|time| Timestamp::from_datetime(Utc.from_utc_datetime(&time)))
}

/// `-0500`, `+0100`, `+05:30`.
fn parse_offset(text: &str) -> Option<FixedOffset> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// An epoch count in s, ms, µs or ns, told apart by its magnitude.
pub(super) fn epoch(text: &str) -> Option<Timestamp> {
    let value: i64 = text.trimmed().parse().ok()?;
    if value <= 0 {
        return None;
    }
    let nanos = match value {
        v if v >= 100_000_000_000_000_000 => v,
        v if v >= 100_000_000_000_000 => v.checked_mul(1_000)?,
        v if v >= 100_000_000_000 => v.checked_mul(1_000_000)?,
        v => v.checked_mul(1_000_000_000)?,
    };
    Some(Timestamp::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(message: &str) -> Option<Output> {
        let mut out = Output::default();
        decode(&Input::new(message), &mut out).then_some(out)
    }

    use crate::body::test_support::{int, text};

    use crate::body::test_support::types;

    // FortiOS 6.2 log message reference, traffic log "forward" example (logid 0000000013).
    const TRAFFIC_CLOSE: &str = r#"date=2019-05-10 time=11:37:47 logid="0000000013" type="traffic" subtype="forward" level="notice" vd="vdom1" eventtime=1557513467369913239 srcip=10.1.100.11 srcport=58012 srcintf="port12" srcintfrole="undefined" dstip=23.59.154.35 dstport=80 dstintf="port11" dstintfrole="undefined" srcuuid="ae28f494-5735-51e9-f247-d1d2ce663f4b" dstuuid="ae28f494-5735-51e9-f247-d1d2ce663f4b" poluuid="ccb269e0-5735-51e9-a218-a397dd08b7eb" sessionid=105048 proto=6 action="close" policyid=1 policytype="policy" service="HTTP" dstcountry="United States" srccountry="Reserved" trandisp="snat" transip=172.16.200.2 transport=58012 appid=34050 app="HTTP.BROWSER_Firefox" appcat="Web.Client" apprisk="elevated" applist="g-default" duration=116 sentbyte=1188 rcvdbyte=1224 sentpkt=17 rcvdpkt=16 utmaction="allow" countapp=1 osname="Ubuntu" mastersrcmac="a2:e9:00:ec:40:01" srcmac="a2:e9:00:ec:40:01" srcserver=0"#;

    #[test]
    fn traffic_close() {
        let out = run(TRAFFIC_CLOSE).unwrap();
        assert_eq!(text(&out, "observer.vendor"), Some("Fortinet"));
        assert_eq!(text(&out, "observer.product"), Some("FortiGate"));
        assert_eq!(text(&out, "event.code"), Some("0000000013"));
        assert_eq!(text(&out, "event.category"), Some("network"));
        assert_eq!(types(&out), ["connection", "end", "allowed"]);
        assert_eq!(text(&out, "event.action"), Some("close"));
        assert_eq!(text(&out, "source.ip"), Some("10.1.100.11"));
        assert_eq!(int(&out, "source.port"), Some(58012));
        assert_eq!(text(&out, "destination.ip"), Some("23.59.154.35"));
        assert_eq!(int(&out, "destination.port"), Some(80));
        assert_eq!(text(&out, "network.transport"), Some("tcp"));
        assert_eq!(text(&out, "rule.id"), Some("1"));
        assert_eq!(int(&out, "network.bytes"), Some(2412));
        assert_eq!(int(&out, "network.packets"), Some(33));
        assert_eq!(int(&out, "source.bytes"), Some(1188));
        assert_eq!(text(&out, "source.nat.ip"), Some("172.16.200.2"));
        assert_eq!(
            text(&out, "observer.ingress.interface.name"),
            Some("port12")
        );
        assert_eq!(text(&out, "observer.egress.interface.name"), Some("port11"));
        assert_eq!(text(&out, "fortinet.firewall.vd"), Some("vdom1"));
        assert_eq!(text(&out, "fortinet.firewall.service"), Some("HTTP"));
        assert_eq!(int(&out, "event.duration"), Some(116_000_000_000));
        // No tz: the nanosecond eventtime decides.
        assert_eq!(
            out.timestamp().unwrap().to_string(),
            "2019-05-10T18:37:47.369913239Z"
        );
    }

    // Elastic's fortinet_fortigate integration test log (test-fortinet.log), a denied session.
    #[test]
    fn traffic_deny_with_devname_and_second_eventtime() {
        let line = r#"date=2020-04-23 time=01:16:08 devname="testswitch1" devid="somerouterid" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="OPERATIONAL" eventtime=1592961368 srcip=10.10.10.10 srcport=60899 srcintf="srcintfname" srcintfrole="lan" dstip=67.43.156.13 dstport=161 dstintf="dstintfname" dstintfrole="lan" sessionid=155313 proto=17 action="deny" policyid=0 policytype="policy" service="SNMP" dstcountry="Reserved" srccountry="Reserved" trandisp="noop" duration=0 sentbyte=0 rcvdbyte=0 sentpkt=0 appcat="unscanned" crscore=30 craction=131072 crlevel="high""#;
        let out = run(line).unwrap();
        assert_eq!(types(&out), ["connection", "denied"]);
        assert_eq!(text(&out, "event.action"), Some("deny"));
        assert_eq!(text(&out, "network.transport"), Some("udp"));
        assert_eq!(text(&out, "observer.name"), Some("testswitch1"));
        assert_eq!(text(&out, "observer.serial_number"), Some("somerouterid"));
        assert_eq!(int(&out, "network.bytes"), Some(0));
        assert_eq!(int(&out, "network.packets"), Some(0));
        assert_eq!(text(&out, "rule.id"), Some("0"));
        assert_eq!(out.timestamp().unwrap().to_string(), "2020-06-24T01:16:08Z");
    }

    // Same test log: an accepted session with tz, policy name and NAT.
    #[test]
    fn traffic_accept_with_tz() {
        let line = r#"date=2020-04-23 time=12:11:51 devname="newfirewall" devid="newrouterid" logid="0000000020" type="traffic" subtype="forward" level="notice" vd="root" eventtime=1587229911390385486 tz="-0500" srcip=192.168.10.10 srcport=6000 srcintf="port1" srcintfrole="lan" dstip=67.43.156.13 dstport=6000 dstintf="wan1" dstintfrole="wan" sessionid=4352 proto=17 action="accept" policyid=3426 policytype="policy" poluuid="1765de8-5a13-765da73fdsfa1c" policyname="newruleelastic" service="portname" dstcountry="Netherlands" srccountry="Reserved" trandisp="snat" transip=67.43.156.14 transport=60964 appcat="unknown" applist="policylist" duration=5462 sentbyte=438650 rcvdbyte=65446 sentpkt=723417 rcvdpkt=1045601 vwlid=0 sentdelta=576 rcvddelta=728"#;
        let out = run(line).unwrap();
        assert_eq!(types(&out), ["connection", "allowed"]);
        assert_eq!(text(&out, "rule.name"), Some("newruleelastic"));
        assert_eq!(int(&out, "source.nat.port"), Some(60964));
        assert_eq!(int(&out, "network.bytes"), Some(504096));
        assert_eq!(int(&out, "network.packets"), Some(1769018));
        assert_eq!(out.timestamp().unwrap().to_string(), "2020-04-23T17:11:51Z");
    }

    // FortiOS 6.2 log reference, "Event log support for CEF": admin login failed (32002).
    #[test]
    fn admin_login_failed() {
        let line = r#"date=2018-12-27 time=11:15:40 logid="0100032002" type="event" subtype="system" level="alert" vd="vdom1" eventtime=1545938140 logdesc="Admin login failed" sn="0" user="admin1" ui="https(172.16.200.254)" method="https" srcip=172.16.200.254 dstip=172.16.200.1 action="login" status="failed" reason="name_invalid" msg="Administrator admin1 login failed from https(172.16.200.254) because of invalid user name""#;
        let out = run(line).unwrap();
        assert_eq!(text(&out, "event.category"), Some("authentication"));
        assert_eq!(types(&out), ["info", "start"]);
        assert_eq!(text(&out, "event.action"), Some("login"));
        assert_eq!(text(&out, "event.outcome"), Some("failure"));
        assert_eq!(text(&out, "user.name"), Some("admin1"));
        assert_eq!(text(&out, "source.ip"), Some("172.16.200.254"));
        assert_eq!(text(&out, "event.reason"), Some("name_invalid"));
        assert_eq!(
            text(&out, "fortinet.firewall.ui"),
            Some("https(172.16.200.254)")
        );
        assert_eq!(
            text(&out, "fortinet.firewall.logdesc"),
            Some("Admin login failed")
        );
        assert_eq!(
            text(&out, "message"),
            Some("Administrator admin1 login failed from https(172.16.200.254) because of invalid user name")
        );
        assert_eq!(out.timestamp().unwrap().to_string(), "2018-12-27T19:15:40Z");
    }

    // FortiOS 6.0 log reference: admin login successful (32001), unquoted values, no eventtime.
    #[test]
    fn admin_login_success_unquoted() {
        let line = r#"date=2016-02-12 time=10:48:12 logid=0100032001 type=event subtype=system level=information vd="vdom1" logdesc="Admin login successful" sn=1455302892 user="admin" ui=console action=login status=success reason=none profile="super_admin" msg="Administrator admin logged in successfully from console""#;
        let out = run(line).unwrap();
        assert_eq!(text(&out, "event.outcome"), Some("success"));
        assert_eq!(text(&out, "user.name"), Some("admin"));
        assert_eq!(text(&out, "log.level"), Some("information"));
        assert_eq!(text(&out, "fortinet.firewall.profile"), Some("super_admin"));
        assert_eq!(out.timestamp().unwrap().to_string(), "2016-02-12T10:48:12Z");
    }

    // Elastic's test log: SSL VPN tunnel up, the peer in remip.
    #[test]
    fn vpn_tunnel_up() {
        let line = r#"date=2020-04-23 time=12:23:47 devname="testswitch3" devid="someotherrouteridagain" logid="0101039947" type="event" subtype="vpn" level="information" vd="root" eventtime=1587230627698970007 tz="-0500" logdesc="SSL VPN tunnel up" action="tunnel-up" tunneltype="ssl-tunnel" tunnelid=2345 remip=67.43.156.13 tunnelip=10.10.10.10 user="someuser" group="somegroup" dst_host="N/A" reason="tunnel established" msg="SSL tunnel established""#;
        let out = run(line).unwrap();
        assert_eq!(text(&out, "event.category"), Some("network"));
        assert_eq!(text(&out, "event.action"), Some("tunnel-up"));
        assert_eq!(text(&out, "source.ip"), Some("67.43.156.13"));
        assert_eq!(text(&out, "user.name"), Some("someuser"));
        assert_eq!(text(&out, "group.name"), Some("somegroup"));
        assert!(out.get("fortinet.firewall.dst_host").is_none());
    }

    // Elastic's test log: UTM webfilter block.
    #[test]
    fn utm_webfilter_block() {
        let line = r#"date=2020-04-23 time=12:17:48 devname="testswitch1" devid="somerouterid" logid="0316013056" type="utm" subtype="webfilter" eventtype="ftgd_blk" level="warning" vd="root" eventtime=1587230269052907555 tz="-0500" policyid=100602 sessionid=1234 user="elasticuser" group="elasticgroup" authserver="elasticauth" srcip=192.168.2.1 srcport=61930 srcintf="port1" srcintfrole="lan" dstip=67.43.156.13 dstport=443 dstintf="wan1" dstintfrole="wan" proto=6 service="HTTPS" hostname="elastic.co" profile="elasticruleset" action="blocked" reqtype="direct" url="/config/" sentbyte=1152 rcvdbyte=1130 direction="outgoing" msg="URL belongs to a denied category in policy" method="domain" cat=76 catdesc="Internet Telephony""#;
        let out = run(line).unwrap();
        assert_eq!(text(&out, "event.category"), Some("web"));
        assert_eq!(types(&out), ["info", "denied"]);
        assert_eq!(text(&out, "url.domain"), Some("elastic.co"));
        assert_eq!(text(&out, "url.path"), Some("/config/"));
        assert_eq!(text(&out, "network.direction"), Some("outbound"));
        assert_eq!(
            text(&out, "fortinet.firewall.catdesc"),
            Some("Internet Telephony")
        );
    }

    #[test]
    fn epoch_magnitudes() {
        let second = "2019-05-10T18:37:47Z";
        assert_eq!(epoch("1557513467").unwrap().to_string(), second);
        assert_eq!(epoch("1557513467000").unwrap().to_string(), second);
        assert_eq!(epoch("1557513467000000").unwrap().to_string(), second);
        assert_eq!(epoch("1557513467000000000").unwrap().to_string(), second);
        assert!(epoch("-5").is_none());
        assert!(epoch("99999999999999999999").is_none());
    }

    #[test]
    fn near_misses_are_refused() {
        // Not starting with date=.
        assert!(
            run(r#"logid="0000000013" type="traffic" date=2019-05-10 time=11:37:47"#).is_none()
        );
        // No logid: some other date=-led key=value line.
        assert!(run("date=2019-05-10 time=11:37:47 type=traffic host=x").is_none());
        // No type.
        assert!(run(r#"date=2019-05-10 time=11:37:47 logid="0000000013" devname=fw"#).is_none());
        assert!(run("date=").is_none());
        assert!(run("date=\"").is_none());
    }

    #[test]
    fn dispatcher_routes_date_lines_here() {
        let mut out = Output::default();
        assert_eq!(
            super::super::decode(&Input::new(TRAFFIC_CLOSE), &mut out),
            Some("fortigate")
        );
        assert_eq!(text(&out, "observer.product"), Some("FortiGate"));
    }
}
