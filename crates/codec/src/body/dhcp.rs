//! DHCP server and client logs: ISC dhcpd, dnsmasq-dhcp and ISC dhclient.
//!
//! - **ISC dhcpd**: `DHCPDISCOVER from 00:11:22:33:44:55 (host) via eth0`, `DHCPOFFER on
//!   10.0.0.50 to 00:11:22:33:44:55 (host) via eth0`, `DHCPREQUEST for 10.0.0.50 (10.0.0.1) from
//!   … via eth0`, `DHCPACK`, `DHCPNAK`, `DHCPRELEASE of …`, `DHCPINFORM from 10.0.0.50 via eth0`,
//!   `DHCPDECLINE`, `BOOTREQUEST`/`BOOTREPLY`, with an optional `: detail` (`: network
//!   10.0.0.0/24: no free leases`); and `uid lease 10.0.0.5 for client … is duplicate on …`.
//! - **dnsmasq-dhcp**: `[xid ]DHCPACK(eth0) 10.0.0.50 00:11:22:33:44:55 host`, with or without
//!   the address, host name or an error text (`no address available`); DHCPv6 client DUIDs.
//! - **dhclient**: `DHCPREQUEST of 10.0.0.5 on eth0 to 10.0.0.1 port 67 (xid=0x1a2b)`,
//!   `DHCPACK of 10.0.0.5 from 10.0.0.1`, `bound to 10.0.0.5 -- renewal in 1234 seconds.`
//!
//! Fields: `client.ip` (the address leased, offered, requested or released), `client.mac` (ECS
//! form `AA-BB-CC-DD-EE-FF`), `client.domain` (the client's host name), `server.ip` (the server
//! identifier, or for dhclient the server it talks to), `observer.ingress.interface.name`,
//! `dhcpd.relay_ip` (a relay agent in `via`), `dnsmasq.dhcp.client_id` (a DHCPv6 DUID),
//! `dnsmasq.dhcp.xid`, `error.message` (the detail), `event.action` (the message type in lower
//! case: `dhcpack`), `event.category` network, `event.type` protocol, `event.outcome` (success
//! for ACK, failure for NAK and DECLINE), `network.protocol` dhcp. Not handled: ISC dhcpd's
//! DHCPv6 (`Reply NA:` …) and failover messages, Kea, Windows DHCP audit logs.

use std::net::IpAddr;

use super::search::Search;
use super::{Input, Output};

/// The longest message type name taken as one (`DHCPLEASEUNASSIGNED` is 19).
const MAX_KIND_LEN: usize = 24;
/// Octets in an Ethernet address.
const MAC_OCTETS: usize = 6;

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = input.message.trimmed();
    let message = strip_dnsmasq_xid(message, out);
    let recognised = if let Some(rest) = message.strip_prefix("uid lease ") {
        duplicate_uid(rest, out)
    } else if let Some(rest) = message.strip_prefix("bound to ") {
        dhclient_bound(rest, out)
    } else {
        let (head, _) = message.split_once_char(' ').unwrap_or((message, ""));
        if head.contains_char('(') {
            dnsmasq(message, out)
        } else {
            let client_side = input.app == Some("dhclient") || message.contains_str("(xid=");
            isc(message, client_side, out)
        }
    };
    if recognised {
        out.put("event.category", "network");
        out.put("event.type", "protocol");
        out.put("network.protocol", "dhcp");
    }
    recognised
}

/// `DHCPACK`, `DHCPREQUEST`, `BOOTREPLY`, …: the action, and the outcome it implies.
fn put_kind(out: &mut Output, kind: &str) -> bool {
    let known_family = kind.starts_with("DHCP") || kind.starts_with("BOOT");
    if !known_family
        || kind.len() <= 4
        || kind.len() > MAX_KIND_LEN
        || !kind.bytes().all(|b| b.is_ascii_uppercase())
    {
        return false;
    }
    out.put("event.action", kind.to_ascii_lowercase());
    match kind {
        "DHCPACK" => out.put("event.outcome", "success"),
        "DHCPNAK" | "DHCPDECLINE" => out.put("event.outcome", "failure"),
        _ => {}
    }
    true
}

/// `AA-BB-CC-DD-EE-FF` from `aa:bb:cc:dd:ee:ff`, `0:11:2:33:44:5` (dhcpd drops leading zeros) or
/// `aa-bb-…`; `None` unless six hex octets.
pub(super) fn normalize_mac(text: &str) -> Option<String> {
    let octets: Vec<&str> = text.split([':', '-']).collect();
    if octets.len() != MAC_OCTETS {
        return None;
    }
    let mut mac = String::with_capacity(3 * MAC_OCTETS - 1);
    for (index, octet) in octets.iter().enumerate() {
        if octet.is_empty() || octet.len() > 2 || !octet.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        if index > 0 {
            mac.push('-');
        }
        if octet.len() == 1 {
            mac.push('0');
        }
        mac.push_str(&octet.to_ascii_uppercase());
    }
    Some(mac)
}

fn is_ip(text: &str) -> bool {
    text.parse::<IpAddr>().is_ok()
}

/// ISC dhcpd and dhclient: `KIND (keyword value [(extra)])… [: detail]`.
fn isc(message: &str, client_side: bool, out: &mut Output) -> bool {
    let (main, detail) = message.split_once_str(": ").unwrap_or((message, ""));
    let mut tokens = main.split_ascii_whitespace().peekable();
    let Some(kind) = tokens.next() else {
        return false;
    };
    if !put_kind(out, kind) {
        return false;
    }
    let mut recognised_any = false;
    while let Some(keyword) = tokens.next() {
        if let Some(extra) = keyword.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
            put_parenthesised(out, extra);
            continue;
        }
        let Some(value) = tokens.peek().copied() else {
            break;
        };
        let used = match keyword {
            "from" | "on" | "to" | "for" | "of" | "via" => {
                put_isc_value(out, keyword, value, client_side)
            }
            "port" => out.put_int("server.port", value),
            _ => false,
        };
        if used {
            tokens.next();
            recognised_any = true;
        }
    }
    out.put_str("error.message", detail.trim_end_matches('.'));
    recognised_any
}

/// The value after `from`/`on`/`to`/`for`/`of`/`via`.
fn put_isc_value(out: &mut Output, keyword: &str, value: &str, client_side: bool) -> bool {
    if let Some(mac) = normalize_mac(value) {
        out.put("client.mac", mac);
        return true;
    }
    if is_ip(value) {
        let field = match keyword {
            "via" => "dhcpd.relay_ip",
            "from" | "to" if client_side => "server.ip",
            _ if out.get("client.ip").is_some() => "server.ip",
            _ => "client.ip",
        };
        return out.put_ip(field, value);
    }
    if matches!(keyword, "via" | "on") && is_interface_name(value) {
        out.put_str("observer.ingress.interface.name", value);
        return true;
    }
    false
}

/// `(host)`, `(10.0.0.1)` (the server identifier), `(00:11:…)` (dhcpd's DHCPACK to an INFORM),
/// `(xid=0x1a2b)`.
fn put_parenthesised(out: &mut Output, extra: &str) {
    if let Some(mac) = normalize_mac(extra) {
        out.put("client.mac", mac);
    } else if is_ip(extra) {
        out.put_ip("server.ip", extra);
    } else if let Some(xid) = extra.strip_prefix("xid=") {
        out.put_str("dhclient.xid", xid);
    } else if !matches!(
        extra,
        "found" | "not" | "RENEW" | "REBIND" | "INIT-REBOOT" | "SELECTING"
    ) {
        out.put_str("client.domain", extra);
    }
}

fn is_interface_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 32
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'@'))
}

/// `uid lease 10.0.0.5 for client 00:11:22:33:44:55 is duplicate on 10.0.0.0/24`.
fn duplicate_uid(rest: &str, out: &mut Output) -> bool {
    let parts: Vec<&str> = rest.split_char(' ').collect();
    let [address, "for", "client", mac, "is", "duplicate", "on", network] = parts.as_slice() else {
        return false;
    };
    let Some(mac) = normalize_mac(mac) else {
        return false;
    };
    if !out.put_ip("client.ip", address) {
        return false;
    }
    out.put("client.mac", mac);
    out.put_str("dhcpd.network", network);
    out.put("event.action", "duplicate-uid-lease");
    true
}

/// dhclient's `bound to 10.0.0.5 -- renewal in 1234 seconds.`
fn dhclient_bound(rest: &str, out: &mut Output) -> bool {
    let Some((address, renewal)) = rest.split_once_str(" -- renewal in ") else {
        return false;
    };
    if !out.put_ip("client.ip", address) {
        return false;
    }
    let seconds = renewal.trim_end_matches('.').trim_end_matches(" seconds");
    out.put_int("dhclient.renewal_seconds", seconds);
    out.put("event.action", "dhcp-bound");
    true
}

/// `1234567890 ` before a dnsmasq line (`log-dhcp`): the transaction id.
fn strip_dnsmasq_xid<'a>(message: &'a str, out: &mut Output) -> &'a str {
    match message.split_once_char(' ') {
        Some((xid, rest))
            if !xid.is_empty()
                && xid.bytes().all(|b| b.is_ascii_digit())
                && rest.starts_with("DHCP") =>
        {
            out.put_int("dnsmasq.dhcp.xid", xid);
            rest
        }
        _ => message,
    }
}

/// dnsmasq: `KIND(iface) [address] [mac|duid] [host | error text]`.
fn dnsmasq(message: &str, out: &mut Output) -> bool {
    let (head, mut rest) = message.split_once_char(' ').unwrap_or((message, ""));
    let Some((kind, interface)) = head
        .strip_suffix(')')
        .and_then(|head| head.split_once_char('('))
    else {
        return false;
    };
    if !put_kind(out, kind) || !is_interface_name(interface) {
        return false;
    }
    out.put_str("observer.ingress.interface.name", interface);
    let mut found_client = false;
    while let Some((token, after)) = next_token(rest) {
        if out.get("client.ip").is_none() && !found_client && is_ip(token) {
            out.put_ip("client.ip", token);
        } else if let Some(mac) = normalize_mac(token).filter(|_| !found_client) {
            out.put("client.mac", mac);
            found_client = true;
        } else if !found_client && is_duid(token) {
            out.put_str("dnsmasq.dhcp.client_id", token);
            found_client = true;
        } else {
            break;
        }
        rest = after;
    }
    if !found_client && out.get("client.ip").is_none() {
        return false;
    }
    let rest = rest.trimmed();
    match next_token(rest) {
        Some((host, "")) if is_host_name(host) && !matches!(host, "ignored" | "disabled") => {
            out.put_str("client.domain", host)
        }
        _ => out.put_str("error.message", rest),
    }
    true
}

fn next_token(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    if text.is_empty() {
        return None;
    }
    Some(text.split_once_char(' ').unwrap_or((text, "")))
}

/// A DHCPv6 DUID (`00:01:00:01:2a:3b:…`): more hex octets than a MAC.
fn is_duid(text: &str) -> bool {
    let mut octets = 0;
    for octet in text.split_char(':') {
        if octet.len() != 2 || !octet.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
        octets += 1;
    }
    octets > MAC_OCTETS
}

fn is_host_name(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

#[cfg(test)]
mod tests;
