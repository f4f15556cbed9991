//! Apache httpd error log lines.
//!
//! 1.3 to 2.2: `[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] message[, referer: url]`.
//! 2.4: `[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 1234:tid 5678] [client 1.2.3.4:5678]
//! AH00126: message`. With `ErrorLog syslog` the time is missing; such lines are accepted only
//! under a web server's syslog tag.
//!
//! Fields: the time (local time of the server, taken as UTC: the line has no zone), `log.level`,
//! `apache.error.module`, `process.pid`, `process.thread.id`, `source.ip`/`source.port` (the
//! client), `error.code` (`AH…`), `error.message`, `http.request.referrer`, `event.category` web
//! and `event.type` error or info. The variable parts of well-known messages become fields too:
//! `file.path` (`…: /path` endings, `workerEnv.init() ok /path`), and the mod_jk2 connector's
//! `process.pid` (the child it looked for), `apache.scoreboard_slot`,
//! `apache.mod_jk.error_state`, `apache.mod_jk.child_init.initialized` and
//! `apache.mod_jk.child_init.status`.

use vigil_event::Timestamp;

use super::super::search::Search;
use super::super::Output;
use super::{date_time, is_error_level, month_number, put_error_log_level};

pub(super) fn decode(line: &str, from_web_server: bool, out: &mut Output) -> bool {
    let mut rest = line;
    let mut has_time = false;
    if let Some((group, after)) = bracket_group(rest) {
        if let Some(time) = parse_time(group) {
            out.set_timestamp(time);
            has_time = true;
            rest = after;
        }
    }
    let Some((level, after)) = bracket_group(rest) else {
        return false;
    };
    if !(has_time || from_web_server) || !put_level(out, level) {
        return false;
    }
    rest = after;
    while let Some((group, after)) = bracket_group(rest) {
        if !put_context(out, group) {
            break;
        }
        rest = after;
    }
    put_message(out, rest);
    true
}

/// `[text] ` at the start of `line`: `text` and what follows (leading spaces trimmed).
fn bracket_group(line: &str) -> Option<(&str, &str)> {
    let inner = line.strip_prefix('[')?;
    let close = inner.find_char(']')?;
    Some((&inner[..close], inner[close + 1..].trim_start()))
}

/// `Sun Dec 04 04:47:44 2005` or, from 2.4, `Wed Oct 11 14:32:52.123456 2000`.
fn parse_time(text: &str) -> Option<Timestamp> {
    let mut parts = text.split_ascii_whitespace();
    let _weekday = parts.next()?;
    let month = month_number(parts.next()?)?;
    let day = parts.next()?.parse().ok()?;
    let clock = parts.next()?;
    let year = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some(Timestamp::from_datetime(
        date_time(year, month, day, clock)?.and_utc(),
    ))
}

/// `[error]` or, from 2.4, `[module:error]`.
fn put_level(out: &mut Output, group: &str) -> bool {
    let (module, level) = group.rsplit_once_char(':').unwrap_or(("", group));
    let Some(is_error) = is_error_level(level) else {
        return false;
    };
    put_error_log_level(out, level, is_error);
    out.put_str("apache.error.module", module);
    true
}

/// `[pid N]`, `[pid N:tid M]`, `[client ip[:port]]`, `[remote ip:port]`; `false` for any other
/// bracket, which then belongs to the message.
fn put_context(out: &mut Output, group: &str) -> bool {
    if let Some(ids) = group.strip_prefix("pid ") {
        let (pid, tid) = ids.split_once_str(":tid ").unwrap_or((ids, ""));
        if !out.put_int("process.pid", pid) {
            return false;
        }
        out.put_int("process.thread.id", tid);
        return true;
    }
    if let Some(address) = group.strip_prefix("client ") {
        return put_address(out, address, "source.ip", "source.port");
    }
    if let Some(address) = group.strip_prefix("remote ") {
        return put_address(out, address, "client.ip", "client.port");
    }
    false
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `2001:db8::1:5678` (2.4 appends the port to IPv6
/// without brackets: a last group that is not hex-sized is the port).
fn put_address(
    out: &mut Output,
    address: &str,
    ip_field: &'static str,
    port_field: &'static str,
) -> bool {
    if let Some((ip, port)) = address.rsplit_once_char(':') {
        if port.bytes().all(|b| b.is_ascii_digit()) && out.put_ip(ip_field, ip) {
            out.put_int(port_field, port);
            return true;
        }
    }
    out.put_ip(ip_field, address)
}

/// The message after the bracket groups: `error.code`, `error.message`, the referrer, and the
/// variable parts of well-known messages.
fn put_message(out: &mut Output, message: &str) {
    let (message, referrer) = message
        .rsplit_once_str(", referer: ")
        .unwrap_or((message, ""));
    out.put_str("http.request.referrer", referrer);
    let message = match split_error_code(message) {
        Some((code, text)) => {
            out.put_str("error.code", code);
            text
        }
        None => message,
    };
    out.put_str("error.message", message);
    if !put_mod_jk(out, message) {
        put_path_suffix(out, message);
    }
}

/// `AH00126: text` (2.4's message ids).
fn split_error_code(message: &str) -> Option<(&str, &str)> {
    let (code, text) = message.split_once_str(": ")?;
    let digits = code.strip_prefix("AH")?;
    (digits.len() == 5 && digits.bytes().all(|b| b.is_ascii_digit())).then_some((code, text))
}

/// The mod_jk2 (Tomcat connector) start-up messages of Apache 1.3/2.0.
fn put_mod_jk(out: &mut Output, message: &str) -> bool {
    if let Some(rest) = message.strip_prefix("jk2_init() Found child ") {
        let Some((pid, slot)) = rest.split_once_str(" in scoreboard slot ") else {
            return false;
        };
        return out.put_int("process.pid", pid) && out.put_int("apache.scoreboard_slot", slot);
    }
    if let Some(rest) = message.strip_prefix("jk2_init() Can't find child ") {
        let pid = rest.strip_suffix(" in scoreboard").unwrap_or(rest);
        return out.put_int("process.pid", pid);
    }
    if let Some(path) = message.strip_prefix("workerEnv.init() ok ") {
        out.put_str("file.path", path);
        return true;
    }
    if let Some(state) = message.strip_prefix("mod_jk child workerEnv in error state ") {
        return out.put_int("apache.mod_jk.error_state", state);
    }
    if let Some(rest) = message.strip_prefix("mod_jk child init ") {
        let (initialized, status) = rest.split_once_char(' ').unwrap_or((rest, ""));
        return out.put_int("apache.mod_jk.child_init.initialized", initialized)
            && out.put_int("apache.mod_jk.child_init.status", status);
    }
    false
}

/// `Directory index forbidden by rule: /var/www/html/`, `File does not exist: /x`, `client
/// denied by server configuration: /x`, …: a path after the last `: `.
fn put_path_suffix(out: &mut Output, message: &str) {
    if let Some((_, path)) = message.rsplit_once_str(": ") {
        if path.starts_with('/') && !path.contains(char::is_whitespace) {
            out.put_str("file.path", path);
        }
    }
}
