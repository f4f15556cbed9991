//! NCSA common / combined access log lines (Apache, nginx, and Squid's combined format).

use std::borrow::Cow;

use chrono::{FixedOffset, TimeZone};
use vigil_event::Timestamp;

use super::super::search::Search;
use super::super::{squid, Output};
use super::{date_time, month_number, put_url};

/// Status codes from this one up are failures.
const FIRST_FAILURE_STATUS: i64 = 400;

/// `[vhost:port] client ident user [time] "request" status bytes ["referrer" "user agent" …]`.
pub(super) fn decode(line: &str, out: &mut Output) -> bool {
    let Some(open) = line.find_str(" [") else {
        return false;
    };
    let Some(identities) = Identities::parse(&line[..open]) else {
        return false;
    };
    let rest = &line[open + 2..];
    let Some(close) = rest.find_char(']') else {
        return false;
    };
    let Some(time) = parse_time(&rest[..close]) else {
        return false;
    };
    let Some((request, rest)) = rest[close + 1..].strip_prefix(' ').and_then(quoted) else {
        return false;
    };
    let mut fields = rest.split_ascii_whitespace();
    let (Some(status), Some(bytes)) = (fields.next(), fields.next()) else {
        return false;
    };
    let Ok(status_code) = status.trimmed().parse::<i64>() else {
        return false;
    };
    let body_bytes = match bytes {
        "-" => None,
        _ => match bytes.trimmed().parse::<i64>() {
            Ok(count) => Some(count),
            Err(_) => return false,
        },
    };
    if status.len() != 3 || !identities.put_source(out) {
        return false;
    }
    out.set_timestamp(time);
    // The rest in name order, as far as the line allows (see `Output`): event, http, url, user.
    put_outcome(out, status_code);
    let trailer = Trailer::parse(rest.trim_start().splitn(3, ' ').nth(2).unwrap_or(""));
    let request = unescape(request);
    let request = Request::parse(&request);
    request.put_http(out);
    if let Some(referrer) = trailer.referrer {
        out.put_str("http.request.referrer", &unescape(referrer));
    }
    if let Some(count) = body_bytes {
        out.put("http.response.body.bytes", count);
    }
    out.put("http.response.status_code", status_code);
    request.put_version(out);
    if let Some((code, hierarchy)) = trailer.squid {
        out.put_str("squid.cache_status", code);
        out.put_str("squid.hierarchy", hierarchy);
    }
    // The virtual host first: an absolute target's host, put after it, wins.
    if let Some(vhost) = identities.vhost {
        out.put_str("url.domain", vhost.0);
        out.put_int("url.port", vhost.1);
    }
    request.put_url(out);
    out.put_str("user.name", identities.user);
    if let Some(agent) = trailer.agent {
        out.put_str("user_agent.original", &unescape(agent));
    }
    true
}

/// `client ident user`, optionally after `vhost:port`.
struct Identities<'a> {
    /// The virtual host and its port (maybe empty).
    vhost: Option<(&'a str, &'a str)>,
    client: &'a str,
    user: &'a str,
}

impl<'a> Identities<'a> {
    fn parse(head: &'a str) -> Option<Self> {
        let mut parts = head.split_char(' ');
        let first = [parts.next(), parts.next(), parts.next(), parts.next()];
        let (vhost, client, user) = match (first, parts.next()) {
            ([Some(client), Some(_ident), Some(user), None], None) => (None, client, user),
            ([Some(vhost), Some(client), Some(_ident), Some(user)], None) => {
                (Some(vhost), client, user)
            }
            _ => return None,
        };
        let vhost = match vhost {
            Some(vhost) => {
                let (host, port) = vhost.rsplit_once_char(':').unwrap_or((vhost, ""));
                if !is_host_name(host) {
                    return None;
                }
                Some((host, port))
            }
            None => None,
        };
        Some(Self {
            vhost,
            client,
            user,
        })
    }

    /// `source.ip`, or `source.domain` for a host name; `false` for anything else.
    fn put_source(&self, out: &mut Output) -> bool {
        if out.put_ip("source.ip", self.client) {
            return true;
        }
        if !is_host_name(self.client) {
            return false;
        }
        out.put_str("source.domain", self.client);
        true
    }
}

fn is_host_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// `10/Oct/2000:13:55:36 -0700` (Apache `%t`, nginx `$time_local`).
fn parse_time(text: &str) -> Option<Timestamp> {
    let (local, zone) = text.split_once_char(' ')?;
    let mut parts = local.splitn(3, '/');
    let day = parts.next()?.parse().ok()?;
    let month = month_number(parts.next()?)?;
    let (year, clock) = parts.next()?.split_once_char(':')?;
    let local = date_time(year.parse().ok()?, month, day, clock)?;
    let offset = parse_offset(zone)?;
    let time = offset.from_local_datetime(&local).single()?;
    Some(Timestamp::from_datetime(time))
}

/// `+hhmm` / `-hhmm`.
fn parse_offset(zone: &str) -> Option<FixedOffset> {
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// A `"…"` field at the start of `text` (with `\"` and `\\` escapes): its raw inside and what
/// follows the closing quote.
pub(in super::super) fn quoted(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'"') {
        return None;
    }
    let mut index = 1;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => return Some((&text[1..index], &text[index + 1..])),
            _ => index += 1,
        }
    }
    None
}

/// A quoted field's text without its `\"` and `\\` escapes (other escapes such as `\x16` stay).
pub(in super::super) fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains_str("\\\"") && !raw.contains_str("\\\\") {
        return Cow::Borrowed(raw);
    }
    let mut text = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some(next @ ('"' | '\\'))) => {
                text.push(next);
                chars.next();
            }
            _ => text.push(c),
        }
    }
    Cow::Owned(text)
}

/// `METHOD target HTTP/x.y` into its parts; anything else (a TLS handshake, `-`) stays whole in
/// `url.original`.
pub(in super::super) fn put_request(out: &mut Output, request: &str) {
    let request = Request::parse(request);
    request.put_http(out);
    request.put_version(out);
    request.put_url(out);
}

/// A request line: `METHOD target HTTP/x.y`, or anything else kept whole.
enum Request<'a> {
    Parsed {
        method: &'a str,
        target: &'a str,
        version: Option<&'a str>,
    },
    Whole(&'a str),
}

impl<'a> Request<'a> {
    fn parse(request: &'a str) -> Self {
        let mut parts = request.split_char(' ');
        let (method, target, protocol) = (parts.next(), parts.next(), parts.next());
        let well_formed = parts.next().is_none()
            && method.is_some_and(is_method)
            && target.is_some_and(|target| !target.is_empty())
            && protocol.is_none_or(|protocol| protocol.starts_with("HTTP/"));
        match (well_formed, method, target) {
            (true, Some(method), Some(target)) => Request::Parsed {
                method,
                target,
                version: protocol.and_then(|protocol| protocol.strip_prefix("HTTP/")),
            },
            _ => Request::Whole(request),
        }
    }

    /// `http.request.method`.
    fn put_http(&self, out: &mut Output) {
        if let Request::Parsed { method, .. } = self {
            out.put_str("http.request.method", method);
        }
    }

    /// `http.version`.
    fn put_version(&self, out: &mut Output) {
        if let Request::Parsed {
            version: Some(version),
            ..
        } = self
        {
            out.put_str("http.version", version);
        }
    }

    /// The `url.*` fields.
    fn put_url(&self, out: &mut Output) {
        match self {
            Request::Parsed { target, .. } => put_url(out, target),
            Request::Whole(request) => out.put_str("url.original", request),
        }
    }
}

fn is_method(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 24
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'-' || b == b'_')
}

/// What follows `status bytes`: `"referrer" "user agent"`, then maybe Squid's
/// `TCP_MISS:HIER_DIRECT`; still escaped.
#[derive(Default)]
struct Trailer<'a> {
    referrer: Option<&'a str>,
    agent: Option<&'a str>,
    squid: Option<(&'a str, &'a str)>,
}

impl<'a> Trailer<'a> {
    fn parse(trailer: &'a str) -> Self {
        let mut parsed = Trailer::default();
        let mut rest = trailer.trim_start();
        if let Some((referrer, after)) = quoted(rest) {
            parsed.referrer = Some(referrer);
            rest = after.trim_start();
            if let Some((agent, after)) = quoted(rest) {
                parsed.agent = Some(agent);
                rest = after.trim_start();
            }
        }
        if let Some((code, hierarchy)) = rest.split_once_char(':') {
            if !hierarchy.contains_char(' ') && squid::is_result_code(code) {
                parsed.squid = Some((code, hierarchy));
            }
        }
        parsed
    }
}

fn put_outcome(out: &mut Output, status: i64) {
    out.put("event.category", "web");
    let failed = status >= FIRST_FAILURE_STATUS;
    out.put("event.outcome", if failed { "failure" } else { "success" });
    out.put("event.type", "access");
}
