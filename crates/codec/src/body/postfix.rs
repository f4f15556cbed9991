//! Postfix (2.x–3.x) mail log lines, from any `postfix/*` program (smtpd, qmgr, smtp, local,
//! lmtp, virtual, cleanup, pickup, bounce, …).
//!
//! Recognised: `connect from host[ip]`, `disconnect from host[ip] ehlo=1 …`, `lost connection
//! after CMD from host[ip]`, `warning: host[ip]: SASL LOGIN authentication failed: …`,
//! `NOQUEUE: reject: RCPT from host[ip]: 554 5.7.1 <x@y>: Relay access denied; from=<a@b>
//! to=<x@y> proto=ESMTP helo=<h>`, and the queue-id lines `QUEUEID: key=value, …`:
//! `client=host[ip], sasl_method=PLAIN, sasl_username=bob`, `message-id=<…>`,
//! `from=<a@b>, size=1234, nrcpt=1 (queue active)`, `to=<x@y>, relay=mx[ip]:25, delay=1.2,
//! delays=…, dsn=2.0.0, status=sent (250 ok)`, `uid=1000 from=<bob>`, `removed`.
//!
//! Fields: `postfix.queue_id`, `email.from.address`, `email.to.address`, `email.message_id`,
//! `source.ip`/`source.domain` (the SMTP client), `destination.ip`/`destination.domain`/
//! `destination.port` (the relay), `user.name` (SASL user), `user.id` (pickup's uid),
//! `postfix.status`, `postfix.dsn`, `postfix.delay` (seconds, float), `postfix.delays`,
//! `postfix.size`, `postfix.nrcpt`, `postfix.relay` (when not a host), `postfix.helo`,
//! `postfix.proto`, `postfix.sasl_method`, `postfix.reply` (`554 5.7.1`), `event.reason`,
//! `event.category` (`email`; `network` for connects; `authentication` for SASL failures),
//! `event.type`, `event.action` (`email-sent`, `email-bounced`, `email-deferred`,
//! `email-rejected`, `email-queued`, `smtp-connect`, `smtp-auth-failed`, …), `event.outcome`.
//!
//! Not handled: postscreen and anvil statistics lines, milter replies beyond their reason text.

use super::pam::{put_event, put_ip_or_domain, split_word, FAILURE, SUCCESS};
use super::search::Search;
use super::{Input, Output, Value};

/// Postfix queue ids: short hex (`3A1B2C4D5E`) or long base-52 (`4Lz3QF0s2zz1x`) forms.
const MIN_QUEUE_ID_LEN: usize = 5;
const MAX_QUEUE_ID_LEN: usize = 20;

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = input.message.trimmed();
    if let Some(rest) = message.strip_prefix("connect from ") {
        return put_client(rest, out)
            && put_network(out, &["connection", "start"], "smtp-connect", None);
    }
    if let Some(rest) = message.strip_prefix("disconnect from ") {
        let (client, _) = split_word(rest);
        return put_client(client, out)
            && put_network(out, &["connection", "end"], "smtp-disconnect", None);
    }
    if let Some(rest) = message.strip_prefix("lost connection after ") {
        let Some((command, client)) = rest.split_once_str(" from ") else {
            return false;
        };
        out.put_str("event.reason", &format!("lost connection after {command}"));
        return put_client(client, out)
            && put_network(out, &["connection", "end"], "smtp-lost-connection", FAILURE);
    }
    if let Some(rest) = message.strip_prefix("warning: ") {
        return decode_warning(rest, out);
    }
    let Some((queue_id, rest)) = message.split_once_str(": ") else {
        return false;
    };
    if queue_id == "NOQUEUE" {
        return decode_queued(rest, out);
    }
    if !is_queue_id(queue_id) {
        return false;
    }
    out.put_str("postfix.queue_id", queue_id);
    decode_queued(rest, out)
}

fn put_network(
    out: &mut Output,
    kind: &[&'static str],
    action: &'static str,
    outcome: Option<&'static str>,
) -> bool {
    put_event(out, "network", kind, action, outcome);
    true
}

fn is_queue_id(text: &str) -> bool {
    (MIN_QUEUE_ID_LEN..=MAX_QUEUE_ID_LEN).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_alphanumeric())
        && text.bytes().any(|b| b.is_ascii_digit())
}

/// `host[ip]` (or `host[ip]:port`) into `source.*`; `unknown` hosts keep only the address.
fn put_client(text: &str, out: &mut Output) -> bool {
    let Some((host, address, port)) = split_host_address(text) else {
        return false;
    };
    if !out.put_ip("source.ip", address) {
        return false;
    }
    if host != "unknown" {
        out.put_str("source.domain", host);
    }
    if let Some(port) = port {
        out.put_int("source.port", port);
    }
    true
}

/// `host[address]` or `host[address]:port` → (host, address, port).
fn split_host_address(text: &str) -> Option<(&str, &str, Option<&str>)> {
    let text = text.trimmed().trim_end_matches(',');
    let (host, rest) = text.split_once_char('[')?;
    let (address, rest) = rest.split_once_char(']')?;
    let port = rest.strip_prefix(':');
    Some((host, address.trim_start_matches("IPv6:"), port))
}

/// After `warning: `: `host[ip]: SASL LOGIN authentication failed: REASON` or other warnings.
fn decode_warning(rest: &str, out: &mut Output) -> bool {
    let Some((client, text)) = rest.split_once_str(": ") else {
        return false;
    };
    if let Some(after) = text.strip_prefix("SASL ") {
        let Some((method, reason)) = after.split_once_str(" authentication failed") else {
            return false;
        };
        if !put_client(client, out) {
            return false;
        }
        out.put_str("postfix.sasl_method", method);
        out.put_str("event.reason", reason.trim_start_matches(':'));
        put_event(
            out,
            "authentication",
            &["info"],
            "smtp-auth-failed",
            FAILURE,
        );
        return true;
    }
    if let Some(host) = rest.strip_prefix("hostname ") {
        let Some((host, address)) = host.split_once_str(" does not resolve to address ") else {
            return false;
        };
        let address = address.split_char(':').next().unwrap_or(address);
        if !out.put_ip("source.ip", address) {
            return false;
        }
        out.put_str("source.domain", host);
        out.put_str("event.reason", rest);
        return put_network(out, &["info"], "smtp-reverse-lookup-failed", None);
    }
    false
}

/// The part after `QUEUEID: ` (or `NOQUEUE: `).
fn decode_queued(rest: &str, out: &mut Output) -> bool {
    if let Some(reject) = rest
        .strip_prefix("reject: ")
        .or_else(|| rest.strip_prefix("milter-reject: "))
    {
        return decode_reject(reject, out);
    }
    if rest == "removed" {
        put_event(out, "email", &["deletion"], "email-removed", None);
        return true;
    }
    if !rest.contains_char('=') {
        return false;
    }
    put_pairs(rest, out)
}

/// After `reject: `: `RCPT from host[ip]: 554 5.7.1 <x@y>: Relay access denied; from=<a@b>
/// to=<x@y> proto=ESMTP helo=<h>`.
fn decode_reject(text: &str, out: &mut Output) -> bool {
    let Some((stage, rest)) = text.split_once_str(" from ") else {
        return false;
    };
    let Some((client, rest)) = rest.split_once_str(": ") else {
        return false;
    };
    if stage.contains_char(' ') || !put_client(client, out) {
        return false;
    }
    out.put_str("postfix.stage", stage);
    let (reply, envelope) = rest.rsplit_once_str("; ").unwrap_or((rest, ""));
    let (code, after) = split_word(reply);
    let (status, _) = split_word(after);
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) {
        out.put_str("postfix.reply", &format!("{code} {status}"));
    }
    out.put_str("event.reason", reply);
    for pair in envelope.split_ascii_whitespace() {
        if let Some((key, value)) = pair.split_once_char('=') {
            put_pair(key, value, out);
        }
    }
    put_event(out, "email", &["denied"], "email-rejected", FAILURE);
    true
}

/// `key=value, key=value, status=sent (250 ok)`; `true` when a known key was seen.
fn put_pairs(text: &str, out: &mut Output) -> bool {
    let mut rest = text;
    let mut known = false;
    while !rest.is_empty() {
        // `status=` comes last, its free text may hold `, `.
        if let Some(status) = rest.strip_prefix("status=") {
            put_status(status, out);
            return true;
        }
        let (pair, next) = match rest.split_once_str(", ") {
            Some(split) => split,
            None => (rest, ""),
        };
        // pickup writes `uid=1000 from=<bob>` with spaces, qmgr `nrcpt=1 (queue active)`.
        for word in pair.split_char(' ') {
            if let Some((key, value)) = word.split_once_char('=') {
                known |= put_pair(key, value, out);
            }
        }
        rest = next;
    }
    if known {
        put_queue_event(out);
    }
    known
}

fn put_pair(key: &str, value: &str, out: &mut Output) -> bool {
    let address = value.trim_start_matches('<').trim_end_matches('>');
    match key {
        "from" => out.put_str("email.from.address", address),
        "to" => out.put_str("email.to.address", address),
        "orig_to" => out.put_str("postfix.orig_to", address),
        "message-id" => out.put_str("email.message_id", address),
        "helo" => out.put_str("postfix.helo", address),
        "proto" => out.put_str("postfix.proto", value),
        "client" => return put_client(value, out),
        "relay" => put_relay(value, out),
        "sasl_method" => out.put_str("postfix.sasl_method", value),
        "sasl_username" => out.put_str("user.name", value),
        "uid" => return out.put_int("user.id", value),
        "size" => return out.put_int("postfix.size", value),
        "nrcpt" => return out.put_int("postfix.nrcpt", value),
        "delay" => match value.parse::<f64>() {
            Ok(seconds) => out.put("postfix.delay", Value::Float(seconds)),
            Err(_) => return false,
        },
        "delays" => out.put_str("postfix.delays", value),
        "dsn" => out.put_str("postfix.dsn", value),
        _ => return false,
    }
    true
}

/// `mx.example.com[5.6.7.8]:25`, or `local`, `none`, `private/dovecot-lmtp`.
fn put_relay(value: &str, out: &mut Output) {
    match split_host_address(value) {
        Some((host, address, port)) => {
            put_ip_or_domain(out, "destination.ip", "destination.domain", address);
            if !host.is_empty() && host != address {
                out.put_str("destination.domain", host);
            }
            if let Some(port) = port {
                out.put_int("destination.port", port);
            }
        }
        None => out.put_str("postfix.relay", value),
    }
}

/// `sent (250 2.0.0 Ok: queued as 1A2B3C)`.
fn put_status(text: &str, out: &mut Output) {
    let (status, reason) = split_word(text);
    out.put_str("postfix.status", status);
    let reason = reason
        .trimmed()
        .trim_start_matches('(')
        .trim_end_matches(')');
    out.put_str("event.reason", reason);
    let (action, outcome) = match status {
        "sent" | "delivered" => ("email-sent", SUCCESS),
        "bounced" => ("email-bounced", FAILURE),
        "deferred" => ("email-deferred", FAILURE),
        "expired" => ("email-expired", FAILURE),
        _ => ("email-delivery", None),
    };
    put_event(out, "email", &["info"], action, outcome);
}

/// What a queue line without `status=` says, by the keys it had.
fn put_queue_event(out: &mut Output) {
    let action = if out.get("email.message_id").is_some() {
        "email-message-id"
    } else if out.get("source.ip").is_some() {
        "smtp-client"
    } else if out.get("postfix.nrcpt").is_some() || out.get("email.from.address").is_some() {
        "email-queued"
    } else {
        "email-info"
    };
    put_event(out, "email", &["info"], action, None);
}

#[cfg(test)]
#[path = "postfix_tests.rs"]
mod tests;
