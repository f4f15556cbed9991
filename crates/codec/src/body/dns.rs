//! DNS server logs: BIND 9 `named`, dnsmasq and unbound.
//!
//! - **BIND query log** (9.3 to 9.18), with or without the `DD-Mon-YYYY HH:MM:SS.mmm` time of a
//!   log file and the `category: severity:` prefix: `client @0x7f9c… 10.0.0.5#53324 (example.com):
//!   view internal: query: example.com IN A +E(0)K (10.0.0.1)`, the older `client
//!   10.0.0.5#53324: query: example.com IN A +`. Fields: `source.ip`/`source.port`,
//!   `dns.question.name`/`type`/`class`, `dns.header_flags` (RD, DO, CD from BIND's `+`, `D`,
//!   `C`), `network.transport` (`T` is TCP), `destination.ip` (the server address that got the
//!   query), `bind.view`, `bind.query.flags`.
//! - Other BIND client messages: `query (cache) 'name/A/IN' denied`, `query failed (REFUSED) for
//!   name/IN/A at query.c:…`, `update 'zone/IN' denied`, `zone transfer 'zone/AXFR/IN' denied`,
//!   `received notify for zone 'zone'`; and server messages: `… resolving 'name/A/IN':
//!   192.0.2.1#53` (lame servers, unexpected RCODEs, network errors: `destination.*`,
//!   `dns.response_code`), `notify question section contains no SOA`.
//! - **dnsmasq** (`log-queries`, optionally `=extra`): `query[A] name from 10.0.0.5`, `forwarded
//!   name to 8.8.8.8`, `reply|cached|config|/etc/hosts name is 93.184.216.34|NXDOMAIN|<CNAME>|…`:
//!   `dns.type` query or answer, `dns.resolved_ip`, `dns.response_code`, `dns.answers.data`.
//!   dnsmasq's DHCP lines under the `dnsmasq` tag go to the DHCP decoder.
//! - **unbound** `log-queries`/`log-replies`: `[1234:0] info: 10.0.0.5 example.com. A IN
//!   [NOERROR 0.000123 0 45]`.
//!
//! Every recognised line gets `event.category` network, `event.type` protocol and
//! `network.protocol` dns. Not handled: BIND `dnstap`, the statistics and zone-maintenance
//! messages, Windows DNS debug logs.

use vigil_event::Value;

use super::search::Search;
use super::web::{date_time, month_number};
use super::{dhcp, Input, Output};

/// BIND logging categories that may prefix a message (`print-category yes`).
const BIND_CATEGORIES: [&str; 20] = [
    "queries",
    "query-errors",
    "security",
    "lame-servers",
    "resolver",
    "xfer-in",
    "xfer-out",
    "notify",
    "update",
    "update-security",
    "edns-disabled",
    "dnssec",
    "general",
    "network",
    "client",
    "config",
    "database",
    "default",
    "cname",
    "rate-limit",
];
/// Severities that may prefix a message (`print-severity yes`, and unbound's own).
const SEVERITIES: [&str; 7] = [
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "debug",
    "operational",
];

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = input.message.trimmed();
    if message.starts_with("DHCP") && input.app == Some("dnsmasq") {
        return dhcp::decode(input, out);
    }
    let message = strip_file_time(message, out);
    let message = strip_unbound_thread(message);
    let message = strip_category(message, out);
    let recognised = match message.strip_prefix("client ") {
        Some(rest) => bind_client(rest, out),
        None => bind_server(message, out) || dnsmasq(message, out) || unbound(message, out),
    };
    if recognised {
        out.put("event.category", "network");
        out.put("network.protocol", "dns");
        if out.get("event.type").is_none() {
            out.put("event.type", "protocol");
        }
    }
    recognised
}

/// `04-Nov-2021 10:11:12.123 ` (BIND writing to its own file): sets the time.
fn strip_file_time<'a>(message: &'a str, out: &mut Output) -> &'a str {
    let mut parts = message.splitn(3, ' ');
    let (Some(date), Some(clock), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return message;
    };
    let mut date_parts = date.split_char('-');
    let time = (|| {
        let day = date_parts.next()?.parse().ok()?;
        let month = month_number(date_parts.next()?)?;
        let year = date_parts.next()?.parse().ok()?;
        date_time(year, month, day, clock)
    })();
    match time {
        Some(time) => {
            out.set_timestamp(vigil_event::Timestamp::from_datetime(time.and_utc()));
            rest
        }
        None => message,
    }
}

/// unbound's `[pid:thread] ` prefix.
fn strip_unbound_thread(message: &str) -> &str {
    let Some(inner) = message.strip_prefix('[') else {
        return message;
    };
    match inner.split_once_str("] ") {
        Some((ids, rest)) if ids.bytes().all(|b| b.is_ascii_digit() || b == b':') => rest,
        _ => message,
    }
}

/// `queries: info: `, `security: error: `, `info: ` (severity into `log.level`).
fn strip_category<'a>(message: &'a str, out: &mut Output) -> &'a str {
    let mut rest = message;
    if let Some((category, after)) = rest.split_once_str(": ") {
        if BIND_CATEGORIES.contains(&category) {
            out.put_str("bind.category", category);
            rest = after;
        }
    }
    if let Some((severity, after)) = rest.split_once_str(": ") {
        // `debug 3` carries its level; any other severity is one word.
        let level = match severity.split_once_char(' ') {
            Some(("debug", number)) if number.bytes().all(|b| b.is_ascii_digit()) => "debug",
            Some(_) => "",
            None => severity,
        };
        if SEVERITIES.contains(&level) {
            out.put_str("log.level", level);
            rest = after;
        }
    }
    rest
}

/// After `client `: `[@0x… ]ip#port[ (name)]: [view v: ]body`.
fn bind_client(rest: &str, out: &mut Output) -> bool {
    let rest = match rest.strip_prefix("@0x") {
        Some(after) => after.split_once_char(' ').map_or("", |(_, rest)| rest),
        None => rest,
    };
    let Some((peer, body)) = rest.split_once_str(": ") else {
        return false;
    };
    let peer = peer
        .split_once_str(" (")
        .map_or(peer, |(address, _)| address);
    if !put_address_port(out, peer, "source.ip", "source.port") {
        return false;
    }
    let body = match body
        .strip_prefix("view ")
        .and_then(|rest| rest.split_once_str(": "))
    {
        Some((view, body)) => {
            out.put_str("bind.view", view);
            body
        }
        None => body,
    };
    if let Some(query) = body.strip_prefix("query: ") {
        return bind_query(query, out);
    }
    out.put_str("error.message", body);
    bind_client_event(body, out);
    true
}

/// `ip#port` (BIND's address notation).
fn put_address_port(out: &mut Output, text: &str, ip: &'static str, port: &'static str) -> bool {
    let Some((address, number)) = text.split_once_char('#') else {
        return false;
    };
    out.put_ip(ip, address) && out.put_int(port, number)
}

/// `example.com IN A +E(0)K (10.0.0.1)`.
fn bind_query(query: &str, out: &mut Output) -> bool {
    let mut parts = query.split_char(' ');
    let (Some(name), Some(class), Some(kind), Some(flags)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    if !flags.starts_with(['+', '-']) {
        return false;
    }
    out.put("dns.type", "query");
    put_question(out, name, kind, class);
    out.put_str("bind.query.flags", flags);
    put_header_flags(out, flags);
    if let Some(server) = parts
        .next()
        .and_then(|text| text.strip_prefix('('))
        .and_then(|text| text.strip_suffix(')'))
    {
        out.put_ip("destination.ip", server);
    }
    true
}

/// BIND's flag letters: `+` recursion desired, `T` TCP, `D` DNSSEC OK, `C` checking disabled.
fn put_header_flags(out: &mut Output, flags: &str) {
    let mut header = Vec::new();
    if flags.starts_with('+') {
        header.push(Value::from("RD"));
    }
    // `E(0)`: the EDNS version in parentheses is not a flag.
    let letters = match (flags.find_char('('), flags.find_char(')')) {
        (Some(open), Some(close)) if open < close => [&flags[..open], &flags[close + 1..]].concat(),
        _ => flags.to_owned(),
    };
    if letters.contains_char('D') {
        header.push(Value::from("DO"));
    }
    if letters.contains_char('C') {
        header.push(Value::from("CD"));
    }
    if !header.is_empty() {
        out.put("dns.header_flags", Value::List(header));
    }
    out.put(
        "network.transport",
        if letters.contains_char('T') {
            "tcp"
        } else {
            "udp"
        },
    );
}

/// `dns.question.*` (the name without its root dot).
fn put_question(out: &mut Output, name: &str, kind: &str, class: &str) {
    let name = if name.len() > 1 {
        name.trim_end_matches('.')
    } else {
        name
    };
    out.put_str("dns.question.name", name);
    out.put_str("dns.question.type", kind);
    out.put_str("dns.question.class", class);
}

/// `'name/TYPE/CLASS'` of BIND's messages; `class_first` for `name/CLASS/TYPE`.
fn put_quoted_question(out: &mut Output, text: &str, class_first: bool) {
    let mut parts = text.rsplitn(3, '/');
    let (last, middle, name) = (parts.next(), parts.next(), parts.next());
    match (name, middle, last) {
        (Some(name), Some(middle), Some(last)) if class_first => {
            put_question(out, name, last, middle)
        }
        (Some(name), Some(middle), Some(last)) => put_question(out, name, middle, last),
        (None, Some(name), Some(class)) => {
            put_question(out, name, "", class);
        }
        _ => put_question(out, text, "", ""),
    }
}

/// The text between the first pair of `'` quotes.
fn single_quoted(text: &str) -> Option<&str> {
    let start = text.find_char('\'')? + 1;
    let length = text[start..].find_char('\'')?;
    Some(&text[start..start + length])
}

/// The text between the first `(` and the following `)`.
fn parenthesised(text: &str) -> Option<&str> {
    let start = text.find_char('(')? + 1;
    let length = text[start..].find_char(')')?;
    Some(&text[start..start + length])
}

/// Client messages other than queries: refusals, updates, transfers, notifies.
fn bind_client_event(body: &str, out: &mut Output) {
    let action = if body.starts_with("query failed") {
        if let Some(code) = parenthesised(body) {
            out.put_str("dns.response_code", code);
        }
        if let Some(question) = body
            .split_once_str(" for ")
            .and_then(|(_, rest)| rest.split_char(' ').next())
        {
            put_quoted_question(out, question, true);
        }
        "query-failed"
    } else {
        if let Some(question) = single_quoted(body) {
            put_quoted_question(out, question, false);
        }
        match body {
            _ if body.starts_with("query") => "query",
            _ if body.starts_with("update") => "update",
            _ if body.starts_with("zone transfer") || body.starts_with("transfer of") => {
                "zone-transfer"
            }
            _ if body.starts_with("received notify") => "notify",
            _ => "client-message",
        }
    };
    if body.ends_with(" denied") {
        out.put(
            "event.type",
            Value::List(vec!["protocol".into(), "denied".into()]),
        );
        out.put("event.outcome", "failure");
        out.put("event.action", format!("{action}-denied"));
    } else {
        out.put("event.action", action);
    }
}

/// Server-side messages: `… resolving 'name/A/IN': 192.0.2.1#53` and
/// `notify question section contains no SOA`.
fn bind_server(message: &str, out: &mut Output) -> bool {
    if message == "notify question section contains no SOA" {
        out.put("event.action", "notify-malformed");
        out.put_str("error.message", message);
        return true;
    }
    let Some((before, after)) = message.split_once_str(" resolving '") else {
        return false;
    };
    let Some((question, server)) = after.split_once_char('\'') else {
        return false;
    };
    put_quoted_question(out, question, false);
    let server = server
        .trim_start_matches(|c| c != ':')
        .trim_start_matches(": ");
    put_address_port(out, server, "destination.ip", "destination.port");
    if before.starts_with("unexpected RCODE") {
        if let Some(code) = parenthesised(before) {
            out.put_str("dns.response_code", code);
        }
    }
    out.put("event.action", "resolve-error");
    out.put_str("error.message", message);
    true
}

/// dnsmasq's `log-queries` lines.
fn dnsmasq(message: &str, out: &mut Output) -> bool {
    let message = strip_dnsmasq_extra(message, out);
    let mut parts = message.split_char(' ');
    let (Some(verb), Some(name), Some(link), Some(value)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    if parts.next().is_some() {
        return false;
    }
    if let Some(kind) = verb
        .strip_prefix("query[")
        .or_else(|| verb.strip_prefix("dnssec-query["))
        .and_then(|rest| rest.strip_suffix(']'))
    {
        if link != "from" || !out.put_ip("source.ip", value) {
            return false;
        }
        out.put("dns.type", "query");
        put_question(out, name, kind, "");
        out.put("event.action", "dns-query");
        return true;
    }
    match (verb, link) {
        ("forwarded", "to") => {
            if !out.put_ip("destination.ip", value) {
                return false;
            }
            out.put("dns.type", "query");
            out.put("event.action", "dns-forward");
        }
        ("reply" | "cached" | "config", "is") => put_dnsmasq_answer(out, verb, value),
        _ if verb.starts_with('/') && link == "is" => put_dnsmasq_answer(out, "hosts-file", value),
        _ => return false,
    }
    put_question(out, name, "", "");
    true
}

/// `1234 10.0.0.5/53324 ` of `log-queries=extra`: the query's serial and the client.
fn strip_dnsmasq_extra<'a>(message: &'a str, out: &mut Output) -> &'a str {
    let mut parts = message.splitn(3, ' ');
    let (Some(serial), Some(client), Some(rest)) = (parts.next(), parts.next(), parts.next())
    else {
        return message;
    };
    let Some((address, port)) = client.rsplit_once_char('/') else {
        return message;
    };
    if !serial.bytes().all(|b| b.is_ascii_digit()) || !out.put_ip("source.ip", address) {
        return message;
    }
    out.put_int("source.port", port);
    out.put_int("dnsmasq.query_id", serial);
    rest
}

/// `reply name is 93.184.216.34 | NXDOMAIN | NODATA-IPv6 | <CNAME> | other.name`.
fn put_dnsmasq_answer(out: &mut Output, source: &str, value: &str) {
    out.put("dns.type", "answer");
    out.put("event.action", format!("dns-{source}"));
    if value.parse::<std::net::IpAddr>().is_ok() {
        out.put("dns.resolved_ip", Value::List(vec![Value::from(value)]));
    } else if value == "NXDOMAIN" {
        out.put("dns.response_code", "NXDOMAIN");
    } else {
        out.put_str("dns.answers.data", value);
    }
}

/// unbound `log-queries` (`10.0.0.5 example.com. A IN`) and `log-replies` (… `NOERROR 0.000123 0
/// 45`: rcode, seconds, from cache, size).
fn unbound(message: &str, out: &mut Output) -> bool {
    let parts: Vec<&str> = message.split_char(' ').collect();
    let (client, name, kind, class, reply) = match parts.as_slice() {
        [client, name, kind, class] => (*client, *name, *kind, *class, None),
        [client, name, kind, class, rcode, seconds, _cached, _size] => {
            (*client, *name, *kind, *class, Some((*rcode, *seconds)))
        }
        _ => return false,
    };
    if !name.ends_with('.') || !is_dns_class(class) || !out.put_ip("source.ip", client) {
        return false;
    }
    put_question(out, name, kind, class);
    match reply {
        Some((rcode, seconds)) => {
            out.put("dns.type", "answer");
            out.put_str("dns.response_code", rcode);
            if let Ok(seconds) = seconds.parse::<f64>() {
                out.put("event.duration", (seconds * 1e9).round() as i64);
            }
        }
        None => out.put("dns.type", "query"),
    }
    true
}

fn is_dns_class(class: &str) -> bool {
    matches!(class, "IN" | "CH" | "HS" | "ANY" | "NONE") || class.starts_with("CLASS")
}

#[cfg(test)]
mod tests;
