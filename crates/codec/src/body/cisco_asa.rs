//! Cisco ASA (and FTD, PIX) syslog messages: `%ASA-6-302013: Built inbound TCP connection …`.
//!
//! The `%ASA-<severity>-<id>` tag arrives either as the syslog tag (app-name `%ASA-6-302013`,
//! message `Built inbound …`) or at the start of the message; both work, as does the
//! `%ASA-<class>-<severity>-<id>` form with a logging class (`%ASA-auth-4-113004`). Every tagged
//! line is recognised: `event.code` is the message id, `event.severity` the severity digit and
//! `log.level` its Cisco name. These ids are also read for their fields:
//!
//! - 106001, 106006, 106015, 106021: inbound/no-connection/reverse-path denies (addresses, ports,
//!   protocol, interface);
//! - 106023: `Deny <proto> src if:ip/port dst if:ip/port by access-group "ACL"`;
//! - 106100: `access-list ACL permitted|denied <proto> if/ip(port) -> if/ip(port) hit-cnt N`;
//! - 302013/302015 (built) and 302014/302016 (teardown) TCP/UDP connections: connection id,
//!   direction, real and mapped addresses (inbound: the `for` side is the source; outbound: the
//!   `to` side is), teardown duration, bytes and reason;
//! - 605004/605005: management login denied/permitted (user, source, interface, service);
//! - 113004/113005: AAA authentication/authorization/accounting success/rejection (user, user IP,
//!   server, reason);
//! - 111008/111010 (configuration commands) and 111009 (commands run);
//! - 113039 and 722051: AnyConnect session start and address assignment (group, user, IP);
//! - 733100: threat-detection drop rate exceeded (object, rate, cumulative count).
//!
//! Names that are not addresses (ASA can log host names) go to `source.domain` /
//! `destination.domain`. Not handled: the hundreds of other ids' texts, EMBLEM format, the
//! FTD connection events in key-value form.

use vigil_event::Value;

use super::kv::transport_name;
use super::search::{between, Search};
use super::{Input, Output};

/// Cisco's names for syslog severities 0–7 (IOS uses the same).
pub(super) const SEVERITY_NAMES: [&str; 8] = [
    "emergencies",
    "alerts",
    "critical",
    "errors",
    "warnings",
    "notifications",
    "informational",
    "debugging",
];

/// The parsed `%ASA-6-302013` tag.
struct Tag<'a> {
    product: &'static str,
    severity: u8,
    id: &'a str,
}

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = input.message.trim_start_matches([' ', ':']);
    let (tag, text) = match input.app.and_then(parse_tag) {
        Some((tag, rest)) if rest.trim_matches([':', ' ']).is_empty() => (tag, message),
        _ => match parse_tag(message) {
            Some(found) => found,
            None => return false,
        },
    };
    let text = text.trim_start_matches(':').trimmed();
    out.put("observer.vendor", "Cisco");
    out.put("observer.product", tag.product);
    out.put("observer.type", "firewall");
    out.put("event.code", tag.id);
    out.put("event.severity", i64::from(tag.severity));
    if let Some(name) = SEVERITY_NAMES.get(usize::from(tag.severity)) {
        out.put("log.level", *name);
    }
    match tag.id {
        "106001" | "106006" | "106015" | "106021" => deny_from_to(text, out),
        "106023" => deny_access_group(text, out),
        "106100" => access_list(text, out),
        "302013" | "302015" => connection_built(text, out),
        "302014" | "302016" => connection_teardown(text, out),
        "605004" | "605005" => management_login(text, tag.id == "605005", out),
        "113004" | "113005" => aaa(text, out),
        "111008" | "111009" | "111010" => command(text, tag.id, out),
        "113039" | "722051" => anyconnect(text, tag.id, out),
        "733100" => threat_detection(text, out),
        _ => {}
    }
    true
}

/// `%ASA-6-302013` or `%ASA-auth-6-113004`, then what follows (`: Built …`).
fn parse_tag(text: &str) -> Option<(Tag<'_>, &str)> {
    let rest = text.strip_prefix('%')?;
    let (product, rest) = if let Some(rest) = rest.strip_prefix("ASA-") {
        ("ASA", rest)
    } else if let Some(rest) = rest.strip_prefix("FTD-") {
        ("FTD", rest)
    } else if let Some(rest) = rest.strip_prefix("PIX-") {
        ("PIX", rest)
    } else {
        return None;
    };
    // Optional logging class: letters then '-'.
    let rest = match rest.split_once_char('-') {
        Some((class, after))
            if !class.is_empty() && class.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            after
        }
        _ => rest,
    };
    let (severity, rest) = rest.split_once_char('-')?;
    let severity = match severity.as_bytes() {
        [digit @ b'0'..=b'7'] => digit - b'0',
        _ => return None,
    };
    let id_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    if id_len != 6 {
        return None;
    }
    let (id, rest) = rest.split_at(id_len);
    if !(rest.is_empty() || rest.starts_with(':') || rest.starts_with(' ')) {
        return None;
    }
    Some((
        Tag {
            product,
            severity,
            id,
        },
        rest,
    ))
}

/// One side of a connection as ASA writes it.
#[derive(Default)]
struct Endpoint<'a> {
    interface: &'a str,
    host: &'a str,
    port: &'a str,
}

/// `ip/port`, `ip`, `host/port`; a trailing `(…)` (host name, identity user) dropped.
fn address(text: &str) -> Endpoint<'_> {
    let text = text.split(['(', ')']).next().unwrap_or("").trimmed();
    match text.rsplit_once_char('/') {
        Some((host, port)) => Endpoint {
            interface: "",
            host,
            port,
        },
        None => Endpoint {
            interface: "",
            host: text,
            port: "",
        },
    }
}

/// `interface:ip/port` (IPv6 addresses keep their colons: the interface ends at the first).
fn interface_address(text: &str) -> Endpoint<'_> {
    match text.split_once_char(':') {
        Some((interface, rest)) => Endpoint {
            interface,
            ..address(rest)
        },
        None => address(text),
    }
}

/// `interface/ip(port)` as 106100 writes it.
fn slash_address(text: &str) -> Endpoint<'_> {
    let (interface, rest) = text.split_once_char('/').unwrap_or(("", text));
    let (host, port) = match rest.split_once_char('(') {
        Some((host, port)) => (host, port.trim_end_matches(')')),
        None => (rest, ""),
    };
    Endpoint {
        interface,
        host,
        port,
    }
}

#[derive(Clone, Copy)]
enum Side {
    Source,
    Destination,
}

impl Side {
    fn fields(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Side::Source => (
                "source.ip",
                "source.domain",
                "source.port",
                "observer.ingress.interface.name",
            ),
            Side::Destination => (
                "destination.ip",
                "destination.domain",
                "destination.port",
                "observer.egress.interface.name",
            ),
        }
    }
}

fn put_endpoint(endpoint: &Endpoint<'_>, side: Side, out: &mut Output) {
    let (ip, domain, port, interface) = side.fields();
    if !out.put_ip(ip, endpoint.host) {
        out.put_str(domain, endpoint.host);
    }
    out.put_int(port, endpoint.port);
    out.put_str(interface, endpoint.interface);
}

fn put_transport(proto: &str, out: &mut Output) {
    if let Some(transport) = transport_name(proto) {
        out.put("network.transport", transport);
    } else if let Some(number) = proto.strip_prefix("protocol ") {
        out.put_int("network.iana_number", number);
    }
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().copied().map(Value::from).collect())
}

fn firewall_verdict(allowed: bool, out: &mut Output) {
    out.put("event.category", "network");
    let verdict = if allowed { "allowed" } else { "denied" };
    out.put("event.type", list(&["connection", verdict]));
    let action = if allowed {
        "firewall-allow"
    } else {
        "firewall-deny"
    };
    out.put("event.action", action);
}

/// 106001, 106006, 106015, 106021: `… <PROTO> … from A to B … on interface IF`.
fn deny_from_to(text: &str, out: &mut Output) {
    firewall_verdict(false, out);
    let head = text.split_str(" from ").next().unwrap_or("");
    if let Some(proto) = head
        .split_whitespace()
        .find(|word| transport_name(word).is_some())
    {
        put_transport(proto, out);
    }
    if let Some(from) = between(text, " from ", " to ") {
        put_endpoint(&address(from), Side::Source, out);
    }
    if let Some(to) = between(text, " to ", " ") {
        put_endpoint(&address(to.trim_end_matches(',')), Side::Destination, out);
    }
    if let Some(interface) = between(text, " on interface ", " ") {
        out.put_str("observer.ingress.interface.name", interface);
    }
    if let Some(flags) = between(text, " flags ", " on interface") {
        out.put_str("cisco.asa.tcp_flags", flags);
    }
}

/// 106023: `Deny tcp src if:ip/port dst if:ip/port [(type t, code c)] by access-group "ACL" […]`.
fn deny_access_group(text: &str, out: &mut Output) {
    firewall_verdict(false, out);
    if let Some(proto) = between(text, "Deny ", " src ") {
        put_transport(proto, out);
    }
    if let Some(source) = between(text, " src ", " ") {
        put_endpoint(&interface_address(source), Side::Source, out);
    }
    if let Some(destination) = between(text, " dst ", " ") {
        put_endpoint(&interface_address(destination), Side::Destination, out);
    }
    if let Some(acl) = between(text, "access-group \"", "\"") {
        out.put_str("rule.name", acl);
    }
}

/// 106100: `access-list ACL permitted tcp if/ip(port) -> if/ip(port) hit-cnt N …`.
fn access_list(text: &str, out: &mut Output) {
    let mut words = text.split_whitespace();
    if words.next() != Some("access-list") {
        return;
    }
    let acl = words.next().unwrap_or("");
    let verdict = words.next().unwrap_or("");
    let proto = words.next().unwrap_or("");
    let source = words.next().unwrap_or("");
    let arrow = words.next();
    let destination = words.next().unwrap_or("");
    if arrow != Some("->") {
        return;
    }
    firewall_verdict(verdict != "denied", out);
    out.put_str("rule.name", acl);
    put_transport(proto, out);
    put_endpoint(&slash_address(source), Side::Source, out);
    put_endpoint(&slash_address(destination), Side::Destination, out);
    if let Some(count) = between(text, "hit-cnt ", " ") {
        out.put_int("cisco.asa.hit_count", count);
    }
}

/// One side of a built connection: `if:ip/port (mapped_ip/mapped_port)[(user)]`.
fn connection_side(text: &str) -> (Endpoint<'_>, Option<Endpoint<'_>>) {
    let text = text.trimmed();
    let (real, mapped) = match text.split_once_str(" (") {
        Some((real, mapped)) => (real, Some(address(mapped))),
        None => (text, None),
    };
    (interface_address(real), mapped)
}

fn put_mapped(real: &Endpoint<'_>, mapped: Option<&Endpoint<'_>>, side: Side, out: &mut Output) {
    let Some(mapped) = mapped else {
        return;
    };
    if mapped.host == real.host && mapped.port == real.port {
        return;
    }
    let (ip, port) = match side {
        Side::Source => ("source.nat.ip", "source.nat.port"),
        Side::Destination => ("destination.nat.ip", "destination.nat.port"),
    };
    out.put_ip(ip, mapped.host);
    out.put_int(port, mapped.port);
}

/// 302013/302015: `Built {inbound|outbound} {TCP|UDP} connection ID for A (A') to B (B')`.
fn connection_built(text: &str, out: &mut Output) {
    let mut words = text.split_whitespace();
    if words.next() != Some("Built") {
        return;
    }
    let direction = words.next().unwrap_or("");
    let proto = words.next().unwrap_or("");
    let _connection = words.next();
    let id = words.next().unwrap_or("");
    out.put("event.category", "network");
    out.put("event.type", list(&["connection", "start", "allowed"]));
    out.put("event.action", "connection-built");
    put_transport(proto, out);
    out.put_int("cisco.asa.connection_id", id);
    let (Some(first), Some(second)) = (
        between(text, " for ", " to "),
        text.split_str(" to ").nth(1),
    ) else {
        return;
    };
    let (first, second) = (connection_side(first), connection_side(second));
    // Inbound: the `for` side started it; outbound: the `to` side did.
    let (source, destination) = match direction {
        "outbound" => (second, first),
        _ => (first, second),
    };
    match direction {
        "inbound" | "outbound" => out.put("network.direction", direction),
        _ => {}
    }
    put_endpoint(&source.0, Side::Source, out);
    put_endpoint(&destination.0, Side::Destination, out);
    put_mapped(&source.0, source.1.as_ref(), Side::Source, out);
    put_mapped(
        &destination.0,
        destination.1.as_ref(),
        Side::Destination,
        out,
    );
}

/// 302014/302016: `Teardown TCP connection ID for A to B duration H:MM:SS bytes N [reason]`.
fn connection_teardown(text: &str, out: &mut Output) {
    let mut words = text.split_whitespace();
    if words.next() != Some("Teardown") {
        return;
    }
    let proto = words.next().unwrap_or("");
    let _connection = words.next();
    let id = words.next().unwrap_or("");
    out.put("event.category", "network");
    out.put("event.type", list(&["connection", "end"]));
    out.put("event.action", "connection-teardown");
    put_transport(proto, out);
    out.put_int("cisco.asa.connection_id", id);
    if let Some(source) = between(text, " for ", " to ") {
        put_endpoint(&interface_address(source.trimmed()), Side::Source, out);
    }
    if let Some(destination) = between(text, " to ", " duration ") {
        put_endpoint(
            &interface_address(destination.trimmed()),
            Side::Destination,
            out,
        );
    }
    if let Some(duration) = between(text, " duration ", " ").and_then(parse_duration) {
        out.put("event.duration", duration);
    }
    if let Some(bytes) = between(text, " bytes ", " ") {
        out.put_int("network.bytes", bytes);
    }
    if let Some(after_bytes) = text.split_str(" bytes ").nth(1) {
        let reason = after_bytes
            .split_once_char(' ')
            .map_or("", |(_, reason)| reason);
        out.put_str("event.reason", reason);
    }
}

/// `H:MM:SS` (hours unbounded) as nanoseconds.
fn parse_duration(text: &str) -> Option<i64> {
    let mut parts = text.split_char(':');
    let hours: i64 = parts.next()?.parse().ok()?;
    let minutes: i64 = parts.next()?.parse().ok()?;
    let seconds: i64 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    let total = hours
        .checked_mul(3600)?
        .checked_add(minutes.checked_mul(60)?)?
        .checked_add(seconds)?;
    total.checked_mul(1_000_000_000)
}

/// 605004/605005: `Login denied|permitted from IP/PORT to IF:IP/SERVICE for user "NAME"`.
fn management_login(text: &str, permitted: bool, out: &mut Output) {
    out.put("event.category", "authentication");
    out.put(
        "event.type",
        list(&["start", if permitted { "allowed" } else { "denied" }]),
    );
    out.put("event.action", "management-login");
    out.put(
        "event.outcome",
        if permitted { "success" } else { "failure" },
    );
    if let Some(from) = between(text, " from ", " ") {
        put_endpoint(&address(from), Side::Source, out);
    }
    if let Some(to) = between(text, " to ", " ") {
        let endpoint = interface_address(to);
        out.put_ip("destination.ip", endpoint.host);
        out.put_str("observer.ingress.interface.name", endpoint.interface);
        out.put_str("network.protocol", endpoint.port);
    }
    if let Some(user) = between(text, "for user \"", "\"") {
        out.put_str("user.name", user);
    }
}

/// A `key = value` item of 113004/113005, in any of the separators ASA versions use
/// (`: server = x : user = y`, `: server = x , User = y`).
fn aaa_item<'a>(text: &'a str, keys: &[&str]) -> Option<&'a str> {
    let start = keys.iter().find_map(|key| {
        text.match_indices(key)
            .find(|(at, _)| *at == 0 || matches!(text.as_bytes()[at - 1], b' ' | b':' | b','))
            .map(|(at, key)| at + key.len())
    })?;
    let rest = &text[start..];
    let end = [": ", " :", " ,", ", "]
        .iter()
        .filter_map(|separator| rest.find(separator))
        .min()
        .unwrap_or(rest.len());
    Some(rest[..end].trimmed())
}

/// 113004/113005: `AAA user authentication Successful : server = S : user = U`,
/// `AAA user authentication Rejected : reason = R : server = S : user = U : user IP = I`.
fn aaa(text: &str, out: &mut Output) {
    let Some(rest) = text.strip_prefix("AAA user ") else {
        return;
    };
    let (kind, rest) = rest.split_once_char(' ').unwrap_or((rest, ""));
    let success = rest.starts_with("Successful");
    if !success && !rest.starts_with("Rejected") {
        return;
    }
    out.put("event.category", "authentication");
    out.put("event.type", "info");
    out.put("event.action", format!("aaa-{kind}"));
    out.put("event.outcome", if success { "success" } else { "failure" });
    if let Some(user) = aaa_item(rest, &["user = ", "User = "]) {
        out.put_str("user.name", user);
    }
    if let Some(user_ip) = aaa_item(rest, &["user IP = "]) {
        out.put_ip("source.ip", user_ip);
    }
    if let Some(server) = aaa_item(rest, &["server = "]) {
        out.put_str("cisco.asa.aaa.server", server);
    }
    if let Some(reason) = aaa_item(rest, &["reason = "]) {
        out.put_str("event.reason", reason);
    }
}

/// 111008 `User 'U' executed the 'CMD' command.`, 111010 `User 'U', running 'CLI' from IP A,
/// executed 'CMD'`, 111009 `User 'U' executed cmd: CMD`.
fn command(text: &str, id: &str, out: &mut Output) {
    let Some(user) = between(text, "User '", "'") else {
        return;
    };
    out.put_str("user.name", user);
    out.put("event.category", "configuration");
    let changes = id != "111009";
    out.put("event.type", if changes { "change" } else { "info" });
    out.put("event.action", "command-executed");
    let command = if let Some(command) = between(text, "executed the '", "' command") {
        Some(command)
    } else if let Some(command) = between(text, "executed '", "'") {
        Some(command)
    } else {
        text.split_once_str("executed cmd: ")
            .map(|(_, command)| command)
    };
    if let Some(command) = command {
        out.put_str("cisco.asa.command", command);
    }
    if let Some(ip) = between(text, " from IP ", ",") {
        out.put_ip("source.ip", ip);
    }
}

/// 113039 `Group <G> User <U> IP <A> AnyConnect parent session started.`, 722051 `Group <G>
/// User <U> IP <A> IPv4 Address <B> IPv6 address <C> assigned to session`.
fn anyconnect(text: &str, id: &str, out: &mut Output) {
    let Some(user) = between(text, "User <", ">") else {
        return;
    };
    out.put_str("user.name", user);
    if let Some(group) = between(text, "Group <", ">") {
        out.put_str("cisco.asa.group_policy", group);
    }
    if let Some(ip) = between(text, " IP <", ">") {
        out.put_ip("source.ip", ip);
    }
    if id == "722051" {
        out.put("event.category", "network");
        out.put("event.type", "info");
        out.put("event.action", "vpn-address-assigned");
        if let Some(assigned) = between(text, "IPv4 Address <", ">") {
            out.put_ip("cisco.asa.assigned_ip", assigned);
        }
    } else {
        out.put("event.category", "session");
        out.put("event.type", "start");
        out.put("event.action", "vpn-session-started");
    }
}

/// 733100: `[OBJECT] drop rate-N exceeded. … Cumulative total count is N`.
fn threat_detection(text: &str, out: &mut Output) {
    let Some(object) = between(text, "[", "]") else {
        return;
    };
    let object = object.trimmed();
    out.put("event.category", "intrusion_detection");
    out.put("event.type", "info");
    out.put("event.action", "threat-detected");
    if !out.put_ip("source.ip", object) {
        out.put_str("cisco.asa.threat_detection.object", object);
    }
    if let Some(rate) = between(text, "] drop ", " exceeded") {
        out.put_str("rule.name", rate);
    }
    if let Some(count) = between(text, "Cumulative total count is ", " ") {
        out.put_int("cisco.asa.threat_detection.total_count", count);
    }
}

#[cfg(test)]
#[path = "cisco_asa_tests.rs"]
mod tests;
