//! Web server logs: Apache httpd and nginx access and error logs.
//!
//! Recognised, by the shape of the line (whatever the syslog tag, or none):
//! - **Access logs** in the NCSA common and combined formats that Apache (`%h %l %u %t "%r" %>s
//!   %b "%{Referer}i" "%{User-agent}i"`) and nginx (`log_format combined`) write, with an optional
//!   `vhost:port` first field (Apache's `vhost_combined`), IPv4/IPv6 or host-name clients, `-` for
//!   an empty body, request lines that are not HTTP (TLS handshakes sent to a plain port, `-`: kept
//!   raw in `url.original`), and `\"` escapes inside quoted fields. Extra trailing fields are
//!   allowed; a Squid `TCP_MISS:HIER_DIRECT` trailer (Squid's own combined format) is read too.
//!   Fields: `source.ip` (or `source.domain`), `user.name`, `http.request.method`, `url.original`,
//!   `url.path`, `url.query`, `url.domain`/`url.port` (absolute targets and the vhost),
//!   `http.version`, `http.response.status_code`, `http.response.body.bytes`,
//!   `http.request.referrer`, `user_agent.original`, `event.category` `web`, `event.type` `access`,
//!   `event.outcome` (status below 400 is success), and the line's own time.
//! - **Apache error logs** of 1.3, 2.0, 2.2 (`[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4]
//!   message`) and 2.4 (`[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 1:tid 2] [client
//!   1.2.3.4:5] AH00126: message`), also without the time when httpd logs to syslog. See
//!   [`apache_error`].
//! - **nginx error logs** (`2024/01/01 10:00:00 [error] 1234#1234: *5 message, client: …`). See
//!   [`nginx_error`].
//!
//! Not handled: custom `LogFormat`s other than the above, JSON access logs (the JSON decoder's
//! job), IIS W3C logs.

use chrono::{NaiveDate, NaiveDateTime};

use super::search::Search;
use super::{Input, Output};

mod access;
mod apache_error;
mod nginx_error;

#[cfg(test)]
mod tests;

/// Syslog tags under which web servers log.
const WEB_APPS: [&str; 4] = ["httpd", "apache", "apache2", "nginx"];

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = input.message.trimmed();
    let from_web_server = input.app.is_some_and(|app| WEB_APPS.contains(&app));
    match message.as_bytes().first() {
        Some(b'[') => apache_error::decode(message, from_web_server, out),
        Some(b'0'..=b'9') if nginx_error::looks_like(message) => nginx_error::decode(message, out),
        Some(_) => access::decode(message, out),
        None => false,
    }
}

/// The month number (1-12) of an English three-letter abbreviation (`Jan`, `feb`, …).
pub(super) fn month_number(abbreviation: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    MONTHS
        .iter()
        .position(|month| month.eq_ignore_ascii_case(abbreviation))
        .map(|index| index as u32 + 1)
}

/// A local date and a `HH:MM:SS[.fraction]` clock, as one date-time.
pub(super) fn date_time(year: i32, month: u32, day: u32, clock: &str) -> Option<NaiveDateTime> {
    let (whole, fraction) = clock.split_once_char('.').unwrap_or((clock, ""));
    let mut parts = whole.split_char(':');
    let hour = parse_digits(parts.next()?, 2)?;
    let minute = parse_digits(parts.next()?, 2)?;
    let second = parse_digits(parts.next()?, 2)?;
    if parts.next().is_some() {
        return None;
    }
    let nanos = fraction_nanos(fraction)?;
    NaiveDate::from_ymd_opt(year, month, day)?.and_hms_nano_opt(hour, minute, second, nanos)
}

/// A `YYYY-MM-DD` date (with `separator` between the numbers) as `date_time`'s year, month and
/// day: four, two and two digits.
pub(super) fn fixed_date(text: &str, separator: char) -> Option<(i32, u32, u32)> {
    let mut parts = text.split_char(separator);
    let year = parse_digits(parts.next()?, 4)?;
    let month = parse_digits(parts.next()?, 2)?;
    let day = parse_digits(parts.next()?, 2)?;
    if parts.next().is_some() {
        return None;
    }
    Some((i32::try_from(year).ok()?, month, day))
}

/// A number of exactly `width` ASCII digits.
pub(super) fn parse_digits(text: &str, width: usize) -> Option<u32> {
    if text.len() == width && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

/// Nanoseconds of a decimal fraction's digits (`"123"` is 123 ms); `""` is zero.
fn fraction_nanos(digits: &str) -> Option<u32> {
    if digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nanos = 0u32;
    for (position, digit) in digits.bytes().enumerate() {
        nanos += u32::from(digit - b'0') * 10u32.pow(8 - position as u32);
    }
    Some(nanos)
}

/// Fills `url.original`, `url.path`, `url.query` and, for an absolute or `host:port` target (a
/// proxy's request), `url.scheme`, `url.domain` and `url.port`.
pub(super) fn put_url(out: &mut Output, target: &str) {
    out.put_str("url.original", target);
    let mut rest = target;
    if let Some((scheme, after)) = target.split_once_str("://") {
        if !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+')
        {
            out.put_str("url.scheme", scheme);
            let end = after.find(['/', '?']).unwrap_or(after.len());
            put_host_port(out, &after[..end]);
            rest = &after[end..];
        }
    } else if !target.starts_with('/') && !target.contains(['/', '?']) {
        // `CONNECT example.com:443`: only an authority.
        put_host_port(out, target);
        return;
    }
    let (path, query) = rest.split_once_char('?').unwrap_or((rest, ""));
    out.put_str("url.path", path);
    out.put_str("url.query", query);
}

/// `host`, `host:port`, `[v6]:port` (after any `user@`) as `url.domain` and `url.port`.
fn put_host_port(out: &mut Output, authority: &str) {
    let host_port = authority
        .rsplit_once_char('@')
        .map_or(authority, |(_, host)| host);
    let (host, port) = match host_port.rfind_char(':') {
        Some(colon)
            if !host_port[colon + 1..].is_empty()
                && host_port[colon + 1..].bytes().all(|b| b.is_ascii_digit())
                && (host_port.starts_with('[') || host_port[..colon].find_char(':').is_none()) =>
        {
            (&host_port[..colon], &host_port[colon + 1..])
        }
        _ => (host_port, ""),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    out.put_str("url.domain", host);
    out.put_int("url.port", port);
}

/// The level names Apache and nginx use, lowest last; `true` for the ones that are errors.
pub(super) fn is_error_level(level: &str) -> Option<bool> {
    match level {
        "emerg" | "alert" | "crit" | "error" => Some(true),
        "warn" | "notice" | "info" | "debug" => Some(false),
        _ if level.starts_with("trace") && level.len() == 6 => Some(false),
        _ => None,
    }
}

/// `log.level`, and `event.category` web with `event.type` error or info, for an error log line.
fn put_error_log_level(out: &mut Output, level: &str, is_error: bool) {
    out.put_str("log.level", level);
    out.put("event.category", "web");
    out.put("event.type", if is_error { "error" } else { "info" });
}
