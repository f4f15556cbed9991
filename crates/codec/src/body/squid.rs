//! Squid proxy access log, native format (`logformat squid`, the default of Squid 2 to 6).
//!
//! `1700000000.123    123 10.0.0.1 TCP_MISS/200 1234 GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html`:
//! time (Unix seconds.milliseconds), elapsed milliseconds, client, result code/status, bytes sent
//! to the client, method, URL, user (ident or proxy auth), hierarchy code/peer, content type.
//! Fields: the time, `event.duration` (nanoseconds), `source.ip` (or `source.domain` with
//! `log_fqdn`), `squid.cache_status`, `http.response.status_code`, `http.response.bytes`,
//! `http.request.method`, `url.*`, `user.name`, `squid.hierarchy`, `destination.ip` (or
//! `destination.domain`), `http.response.mime_type`, `event.category` web, `event.type` access
//! (and denied for `TCP_DENIED…`), `event.outcome`, `observer.vendor`/`observer.product` Squid.
//!
//! Squid's `logformat combined` is an NCSA line and goes to the web decoder, which reads its
//! `TCP_MISS:HIER_DIRECT` trailer with [`is_result_code`]. Other custom log formats are not
//! handled.

use vigil_event::Timestamp;

use super::search::Search;
use super::web::put_url;
use super::{Input, Output};

const NANOS_PER_MILLI: i64 = 1_000_000;
/// Status codes from this one up are failures.
const FIRST_FAILURE_STATUS: i64 = 400;
/// Time, elapsed, client, code/status, bytes, method, URL, user, hierarchy (the content type,
/// tenth, may be missing).
const MIN_FIELDS: usize = 9;

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let fields: Vec<&str> = input.message.split_ascii_whitespace().collect();
    let [time, elapsed, client, result, bytes, method, url, user, hierarchy, rest @ ..] =
        fields.as_slice()
    else {
        return false;
    };
    debug_assert!(fields.len() >= MIN_FIELDS);
    let Some(time) = parse_time(time) else {
        return false;
    };
    let Some((code, status)) = result.split_once_char('/') else {
        return false;
    };
    if !is_result_code(code)
        || !is_method(method)
        || !out.put_int("http.response.status_code", status)
    {
        return false;
    }
    let Ok(elapsed) = elapsed.parse::<i64>() else {
        return false;
    };
    if !out.put_int("http.response.bytes", bytes) {
        return false;
    }
    out.set_timestamp(time);
    out.put("event.duration", elapsed.saturating_mul(NANOS_PER_MILLI));
    if !out.put_ip("source.ip", client) {
        out.put_str("source.domain", client);
    }
    out.put_str("squid.cache_status", code);
    out.put_str("http.request.method", method);
    if url.contains_str("://") || url.starts_with('/') || *method == "CONNECT" {
        put_url(out, url);
    } else {
        out.put_str("url.original", url);
    }
    out.put_str("user.name", user);
    put_hierarchy(out, hierarchy);
    if let Some(mime) = rest.first() {
        out.put_str("http.response.mime_type", mime);
    }
    put_event(out, code, status);
    true
}

/// `1700000000.123`.
fn parse_time(text: &str) -> Option<Timestamp> {
    let (seconds, millis) = text.split_once_char('.')?;
    if millis.len() != 3 || !millis.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if seconds.is_empty() || !seconds.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds: i64 = seconds.parse().ok()?;
    let millis: i64 = millis.parse().ok()?;
    let nanos = seconds
        .checked_mul(1_000_000_000)?
        .checked_add(millis * NANOS_PER_MILLI)?;
    Some(Timestamp::from_nanos(nanos))
}

/// A Squid result code: `TCP_MISS`, `TCP_DENIED`, `UDP_HIT`, `TAG_NONE`, `NONE_NONE`, …
pub(super) fn is_result_code(code: &str) -> bool {
    ["TCP_", "UDP_", "TAG_", "NONE"]
        .iter()
        .any(|prefix| code.starts_with(prefix))
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// `GET`, `CONNECT`, `NONE`, `-`.
fn is_method(text: &str) -> bool {
    text == "-"
        || (!text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'-' || b == b'_'))
}

/// `HIER_DIRECT/93.184.216.34`, `FIRSTUP_PARENT/proxy.example.com`, `HIER_NONE/-`.
fn put_hierarchy(out: &mut Output, hierarchy: &str) {
    let (code, peer) = hierarchy.split_once_char('/').unwrap_or((hierarchy, ""));
    out.put_str("squid.hierarchy", code);
    if !out.put_ip("destination.ip", peer) {
        out.put_str("destination.domain", peer);
    }
}

fn put_event(out: &mut Output, code: &str, status: &str) {
    out.put("event.category", "web");
    out.put("observer.vendor", "Squid");
    out.put("observer.product", "Squid");
    let denied = code.contains_str("DENIED");
    let outcome = match status.parse::<i64>() {
        _ if denied => "failure",
        Ok(0) => "unknown",
        Ok(status) if status >= FIRST_FAILURE_STATUS => "failure",
        _ => "success",
    };
    if denied {
        out.put(
            "event.type",
            vigil_event::Value::List(vec!["access".into(), "denied".into()]),
        );
    } else {
        out.put("event.type", "access");
    }
    out.put("event.outcome", outcome);
}

#[cfg(test)]
mod tests;
