//! nginx error log lines.
//!
//! `2024/01/01 10:00:00 [error] 1234#1234: *5 open() "/usr/share/nginx/html/x" failed (2: No such
//! file or directory), client: 1.2.3.4, server: localhost, request: "GET /x HTTP/1.1", host:
//! "example.com"`. Fields: the time (server local time, taken as UTC), `log.level`, `process.pid`,
//! `process.thread.id`, `nginx.error.connection_id`, `error.message`, `file.path` (the first
//! quoted absolute path of the message), `user.name` (`user "bob" …` of auth_basic), and from the
//! context after the message `source.ip`, `nginx.error.server_name`, the request's method, URL and
//! version, `nginx.error.upstream`, `url.domain` (host) and `http.request.referrer`.

use vigil_event::Timestamp;

use super::super::search::Search;
use super::super::Output;
use super::access::{put_request, quoted, unescape};
use super::{date_time, is_error_level, put_error_log_level};

/// Where the message ends and nginx's `, client: …` context starts.
const CONTEXT_START: &str = ", client: ";

/// `YYYY/MM/DD ` at the start.
pub(super) fn looks_like(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.len() > 11 && bytes[4] == b'/' && bytes[7] == b'/' && bytes[10] == b' '
}

pub(super) fn decode(line: &str, out: &mut Output) -> bool {
    let Some(time) = line.get(..19).and_then(parse_time) else {
        return false;
    };
    let Some(rest) = line[19..].strip_prefix(" [") else {
        return false;
    };
    let Some((level, rest)) = rest.split_once_str("] ") else {
        return false;
    };
    let Some(is_error) = is_error_level(level) else {
        return false;
    };
    let Some((ids, rest)) = rest.split_once_str(": ") else {
        return false;
    };
    let Some((pid, tid)) = ids.split_once_char('#') else {
        return false;
    };
    if !out.put_int("process.pid", pid) || !out.put_int("process.thread.id", tid) {
        return false;
    }
    out.set_timestamp(time);
    put_error_log_level(out, level, is_error);
    let rest = match rest
        .strip_prefix('*')
        .and_then(|rest| rest.split_once_char(' '))
    {
        Some((connection, message)) if out.put_int("nginx.error.connection_id", connection) => {
            message
        }
        _ => rest,
    };
    let (message, context) = match rest.find_str(CONTEXT_START) {
        Some(start) => (&rest[..start], &rest[start + 2..]),
        None => (rest, ""),
    };
    put_message(out, message);
    put_context(out, context);
    true
}

/// `2024/01/01 10:00:00`.
fn parse_time(text: &str) -> Option<Timestamp> {
    let (date, clock) = text.split_once_char(' ')?;
    let mut parts = date.split_char('/');
    let year = parts.next()?.parse().ok()?;
    let month = parts.next()?.parse().ok()?;
    let day = parts.next()?.parse().ok()?;
    Some(Timestamp::from_datetime(
        date_time(year, month, day, clock)?.and_utc(),
    ))
}

fn put_message(out: &mut Output, message: &str) {
    out.put_str("error.message", message);
    if let Some(user) = message
        .strip_prefix("user \"")
        .and_then(|rest| rest.split_once_char('"'))
    {
        out.put_str("user.name", user.0);
    }
    if let Some(start) = message.find_str("\"/") {
        if let Some((path, _)) = quoted(&message[start..]) {
            out.put_str("file.path", &unescape(path));
        }
    }
}

/// `client: 1.2.3.4, server: localhost, request: "GET / HTTP/1.1", host: "example.com"`.
fn put_context(out: &mut Output, context: &str) {
    let mut rest = context;
    while let Some((key, after)) = rest.split_once_str(": ") {
        let (value, after) = match quoted(after) {
            Some((value, after)) => (unescape(value), after),
            None => {
                let end = after.find_str(", ").unwrap_or(after.len());
                (after[..end].into(), &after[end..])
            }
        };
        match key {
            "client" => {
                out.put_ip("source.ip", &value);
            }
            "server" => out.put_str("nginx.error.server_name", &value),
            "request" => put_request(out, &value),
            "upstream" => out.put_str("nginx.error.upstream", &value),
            "host" => out.put_str("url.domain", &value),
            "referrer" => out.put_str("http.request.referrer", &value),
            _ => {}
        }
        rest = after.strip_prefix(", ").unwrap_or("");
    }
}
