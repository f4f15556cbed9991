//! FTP servers: vsftpd, ProFTPD, Pure-FTPd and the classic BSD/Linux `ftpd`.
//!
//! - vsftpd (2.x–3.x) `vsftpd.log` lines, through syslog (`[bob] OK LOGIN: Client "1.2.3.4"`)
//!   or from the file, with its own ctime date and pid in front
//!   (`Mon Jan  1 00:00:00 2024 [pid 123] [bob] OK UPLOAD: Client "1.2.3.4", "/f", 12 bytes, 3.1Kbyte/sec`);
//!   `CONNECT`, `LOGIN`, `UPLOAD`, `DOWNLOAD`, `MKDIR`, `RMDIR`, `DELETE`, `RENAME`, `CHMOD`.
//! - ProFTPD: `server (host[1.2.3.4]) - USER bob: Login successful.`, `… USER bob (Login
//!   failed): Incorrect password`, `… FTP session opened.`/`closed.` and other messages after the
//!   same `(host[ip]) - ` frame.
//! - Pure-FTPd: `(bob@1.2.3.4) [INFO] bob is now logged in`, `(?@1.2.3.4) [WARNING]
//!   Authentication failed for user [bob]`, uploads, downloads, logouts.
//! - BSD/Linux ftpd: `connection from IP (HOST) at Sun Jul 17 15:09:17 2005`,
//!   `ANONYMOUS FTP LOGIN FROM IP,  (anonymous)`, `FTP LOGIN FROM IP as USER`,
//!   `FTP LOGIN FAILED FROM IP, USER`, `User X timed out after N seconds at DATE`,
//!   `getpeername (ftpd): ERROR`.
//!
//! Fields: `user.name`, `source.ip` (an IPv4-mapped `::ffff:a.b.c.d` is written as `a.b.c.d`),
//! `source.domain`, `file.path`, `network.bytes`, `ftp.transfer_rate`, `event.category`
//! (`authentication`, `file`, `network`, `session`), `event.type`, `event.action`
//! (`ftp-login`, `ftp-upload`, `ftp-download`, `ftp-connection`, …), `event.outcome`,
//! `event.reason`, `log.level`. ftpd's dates (local time, no zone: read as UTC) are kept as
//! written in `ftp.connection_time` / `ftp.timeout_time` and also as RFC 3339 in
//! `event.start` / `event.end`; `ftp.timeout_secs` is the idle limit.
//!
//! Not handled: xferlog transfer lines (`dual_log_enable`), ProFTPD's ExtendedLog formats.

use chrono::{NaiveDateTime, SecondsFormat};
use vigil_event::Timestamp;

use super::pam::{put_event, put_ip_or_domain, split_word, FAILURE, SUCCESS};
use super::search::Search;
use super::{Input, Output};

/// The length of a ctime date: `Mon Jan  1 00:00:00 2024`.
const CTIME_LEN: usize = 24;
const CTIME_FORMAT: &str = "%a %b %e %H:%M:%S %Y";
const MAPPED_V4_PREFIX: &str = "::ffff:";

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = input.message.trimmed();
    let servers: [fn(&str, &mut Output) -> bool; 4] = [
        decode_vsftpd,
        decode_pure_ftpd,
        decode_proftpd,
        decode_bsd_ftpd,
    ];
    for server in servers {
        if server(message, out) {
            return true;
        }
        out.clear();
    }
    false
}

/// A client address, with an IPv4-mapped IPv6 address written as IPv4.
fn put_client(out: &mut Output, text: &str) -> bool {
    let text = text.trimmed();
    let text = match text.strip_prefix(MAPPED_V4_PREFIX) {
        Some(v4) if v4.contains_char('.') => v4,
        _ => text,
    };
    put_ip_or_domain(out, "source.ip", "source.domain", text)
}

/// `Sun Jul 17 15:09:17 2005` (ctime, local time without zone: read as UTC).
fn parse_ctime(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text.trimmed(), CTIME_FORMAT).ok()
}

/// Keeps a ctime date as written in `text_field` and as RFC 3339 in `rfc3339_field`.
fn put_ctime(
    out: &mut Output,
    text_field: &'static str,
    rfc3339_field: &'static str,
    text: &str,
) -> Option<Timestamp> {
    out.put_str(text_field, text);
    let time = parse_ctime(text)?.and_utc();
    out.put(
        rfc3339_field,
        time.to_rfc3339_opts(SecondsFormat::Secs, true),
    );
    Some(Timestamp::from_datetime(time))
}

// ---------------------------------------------------------------------------------------------
// vsftpd

fn decode_vsftpd(message: &str, out: &mut Output) -> bool {
    let mut rest = message;
    // From the log file: `Mon Jan  1 00:00:00 2024 [pid 123] …`.
    if let Some(date) = rest.get(..CTIME_LEN) {
        if let Some(time) = parse_ctime(date) {
            out.set_timestamp(Timestamp::from_datetime(time.and_utc()));
            rest = rest.get(CTIME_LEN..).unwrap_or("").trim_start();
        }
    }
    if let Some(after) = rest.strip_prefix("[pid ") {
        let Some((_, after)) = after.split_once_str("] ") else {
            return false;
        };
        rest = after;
    }
    if let Some(after) = rest.strip_prefix('[') {
        let Some((user, after)) = after.split_once_str("] ") else {
            return false;
        };
        out.put_str("user.name", user);
        rest = after;
    }
    let (status, rest) = match rest.strip_prefix("CONNECT: ") {
        Some(client) => (None, ("CONNECT", client)),
        None => {
            let (status, rest) = split_word(rest);
            let Some((verb, client)) = rest.split_once_str(": ") else {
                return false;
            };
            let outcome = match status {
                "OK" => SUCCESS,
                "FAIL" => FAILURE,
                _ => return false,
            };
            (outcome, (verb, client))
        }
    };
    let (verb, details) = rest;
    let Some(details) = details.strip_prefix("Client \"") else {
        return false;
    };
    let Some((client, details)) = details.split_once_char('"') else {
        return false;
    };
    if !put_client(out, client) {
        return false;
    }
    put_vsftpd_details(details, out);
    put_vsftpd_event(verb, status, out)
}

/// `, "/path", 1234 bytes, 12.3Kbyte/sec` (transfers) or `, anon password "x"` (logins).
fn put_vsftpd_details(details: &str, out: &mut Output) {
    let Some(details) = details.strip_prefix(", \"") else {
        return;
    };
    let Some((path, rest)) = details.split_once_char('"') else {
        return;
    };
    out.put_str("file.path", path);
    for part in rest.split_str(", ") {
        if let Some(bytes) = part.strip_suffix(" bytes") {
            out.put_int("network.bytes", bytes);
        } else if part.ends_with("/sec") {
            out.put_str("ftp.transfer_rate", part);
        }
    }
}

fn put_vsftpd_event(verb: &str, outcome: Option<&'static str>, out: &mut Output) -> bool {
    let (category, kind, action): (&str, &[&str], &str) = match verb {
        "CONNECT" => ("network", &["connection", "start"], "ftp-connection"),
        "LOGIN" => ("authentication", &["start"], "ftp-login"),
        "UPLOAD" => ("file", &["creation"], "ftp-upload"),
        "DOWNLOAD" => ("file", &["access"], "ftp-download"),
        "MKDIR" => ("file", &["creation"], "ftp-mkdir"),
        "RMDIR" => ("file", &["deletion"], "ftp-rmdir"),
        "DELETE" => ("file", &["deletion"], "ftp-delete"),
        "RENAME" => ("file", &["change"], "ftp-rename"),
        "CHMOD" => ("file", &["change"], "ftp-chmod"),
        _ => return false,
    };
    // A refused login starts nothing.
    let kind: &[&'static str] = if verb == "LOGIN" && outcome == FAILURE {
        &["info"]
    } else {
        kind
    };
    put_event(out, category, kind, action, outcome);
    true
}

// ---------------------------------------------------------------------------------------------
// ProFTPD

/// `server (client[1.2.3.4]) - MESSAGE`.
fn decode_proftpd(message: &str, out: &mut Output) -> bool {
    let (server, rest) = split_word(message);
    let Some(rest) = rest.strip_prefix('(') else {
        return false;
    };
    let Some((client, rest)) = rest.split_once_str("]) - ") else {
        return false;
    };
    let Some((host, address)) = client.rsplit_once_char('[') else {
        return false;
    };
    if server.is_empty() || !out.put_ip("source.ip", address.trim_start_matches(MAPPED_V4_PREFIX)) {
        return false;
    }
    if host != address {
        out.put_str("source.domain", host);
    }
    put_proftpd_message(rest.trimmed(), out);
    true
}

fn put_proftpd_message(message: &str, out: &mut Output) {
    match message {
        "FTP session opened." => {
            return put_event(out, "session", &["start"], "ftp-session-opened", SUCCESS)
        }
        "FTP session closed." => {
            return put_event(out, "session", &["end"], "ftp-session-closed", SUCCESS)
        }
        _ => {}
    }
    let login = message
        .strip_prefix("USER ")
        .or_else(|| message.strip_prefix("ANON "));
    if let Some(rest) = login {
        if let Some((user, reason)) = rest.split_once_str(" (Login failed): ") {
            out.put_str("user.name", user);
            out.put_str("event.reason", reason);
            return put_event(out, "authentication", &["info"], "ftp-login", FAILURE);
        }
        if let Some((user, reason)) = rest.split_once_str(": ") {
            out.put_str("user.name", user);
            if reason.starts_with("Login successful") {
                return put_event(out, "authentication", &["start"], "ftp-login", SUCCESS);
            }
            let reason = reason.split_str(" from host ").next().unwrap_or(reason);
            out.put_str("event.reason", reason);
            return put_event(out, "authentication", &["info"], "ftp-login", FAILURE);
        }
    }
    if message.starts_with("Maximum login attempts") {
        out.put_str("event.reason", message);
        return put_event(
            out,
            "authentication",
            &["info"],
            "ftp-too-many-logins",
            FAILURE,
        );
    }
    out.put_str("event.reason", message);
}

// ---------------------------------------------------------------------------------------------
// Pure-FTPd

/// `(user@host) [LEVEL] MESSAGE`, `?` standing for a user not yet logged in.
fn decode_pure_ftpd(message: &str, out: &mut Output) -> bool {
    let Some(rest) = message.strip_prefix('(') else {
        return false;
    };
    let Some((who, rest)) = rest.split_once_str(") [") else {
        return false;
    };
    let Some((level, text)) = rest.split_once_str("] ") else {
        return false;
    };
    let Some((user, host)) = who.rsplit_once_char('@') else {
        return false;
    };
    if level.is_empty() || !level.bytes().all(|b| b.is_ascii_uppercase()) {
        return false;
    }
    if user != "?" {
        out.put_str("user.name", user);
    }
    put_client(out, host);
    out.put("log.level", level.to_ascii_lowercase());
    put_pure_ftpd_message(text.trimmed(), out);
    true
}

fn put_pure_ftpd_message(text: &str, out: &mut Output) {
    if text.starts_with("New connection from ") {
        return put_event(
            out,
            "network",
            &["connection", "start"],
            "ftp-connection",
            None,
        );
    }
    if let Some(user) = text.strip_prefix("Authentication failed for user [") {
        out.put_str("user.name", user.trim_end_matches(']'));
        return put_event(out, "authentication", &["info"], "ftp-login", FAILURE);
    }
    if text.ends_with(" is now logged in") {
        return put_event(out, "authentication", &["start"], "ftp-login", SUCCESS);
    }
    if text == "Logout." {
        return put_event(out, "session", &["end"], "ftp-logout", SUCCESS);
    }
    for (marker, kind, action) in [
        (" uploaded ", "creation", "ftp-upload"),
        (" downloaded ", "access", "ftp-download"),
    ] {
        if let Some((path, stats)) = text.split_once(marker) {
            out.put_str("file.path", path);
            // `(12345 bytes, 1.23KB/sec)`
            let stats = stats
                .trimmed()
                .trim_start_matches('(')
                .trim_end_matches(')');
            if let Some((bytes, rate)) = stats.split_once_str(" bytes, ") {
                out.put_int("network.bytes", bytes);
                out.put_str("ftp.transfer_rate", rate);
            }
            return put_event(out, "file", &[kind], action, SUCCESS);
        }
    }
    out.put_str("event.reason", text);
}

// ---------------------------------------------------------------------------------------------
// BSD / Linux ftpd

fn decode_bsd_ftpd(message: &str, out: &mut Output) -> bool {
    if let Some(rest) = message.strip_prefix("connection from ") {
        return decode_connection_from(rest, out);
    }
    if let Some(rest) = message.strip_prefix("ANONYMOUS FTP LOGIN FROM ") {
        let (host, _) = rest.split_once_char(',').unwrap_or((rest, ""));
        if !put_client(out, host) {
            return false;
        }
        out.put_str("user.name", "anonymous");
        put_event(out, "authentication", &["start"], "ftp-login", SUCCESS);
        return true;
    }
    if let Some(rest) = message.strip_prefix("FTP LOGIN FROM ") {
        let Some((host, user)) = rest.split_once_str(" as ") else {
            return false;
        };
        if !put_client(out, host) {
            return false;
        }
        out.put_str("user.name", user);
        put_event(out, "authentication", &["start"], "ftp-login", SUCCESS);
        return true;
    }
    if let Some(rest) = message
        .strip_prefix("FTP LOGIN FAILED FROM ")
        .or_else(|| message.strip_prefix("FTP LOGIN REFUSED FROM "))
    {
        let (host, user) = rest.split_once_str(", ").unwrap_or((rest, ""));
        if !put_client(out, host) {
            return false;
        }
        out.put_str("user.name", user);
        put_event(out, "authentication", &["info"], "ftp-login", FAILURE);
        return true;
    }
    if let Some(rest) = message.strip_prefix("User ") {
        return decode_timed_out(rest, out);
    }
    if let Some(rest) = message.strip_prefix("getpeername (") {
        let Some((_, error)) = rest.split_once_str("): ") else {
            return false;
        };
        out.put_str("error.message", error);
        put_event(
            out,
            "network",
            &["connection", "error"],
            "ftp-connection-lost",
            FAILURE,
        );
        return true;
    }
    false
}

/// After `connection from `: `IP (HOST) at Sun Jul 17 15:09:17 2005`; HOST may be empty.
fn decode_connection_from(rest: &str, out: &mut Output) -> bool {
    let Some((address, rest)) = rest.split_once_str(" (") else {
        return false;
    };
    let Some((host, time)) = rest.split_once_str(") at ") else {
        return false;
    };
    if !out.put_ip("source.ip", address) {
        return false;
    }
    out.put_str("source.domain", host);
    if let Some(time) = put_ctime(out, "ftp.connection_time", "event.start", time) {
        out.set_timestamp(time);
    }
    put_event(
        out,
        "network",
        &["connection", "start"],
        "ftp-connection",
        None,
    );
    true
}

/// After `User `: `unknown timed out after 900 seconds at Sat Jul 23 01:24:02 2005`.
fn decode_timed_out(rest: &str, out: &mut Output) -> bool {
    let Some((user, rest)) = rest.split_once_str(" timed out after ") else {
        return false;
    };
    let Some((seconds, time)) = rest.split_once_str(" seconds at ") else {
        return false;
    };
    if !out.put_int("ftp.timeout_secs", seconds) {
        return false;
    }
    if user != "unknown" {
        out.put_str("user.name", user);
    }
    put_ctime(out, "ftp.timeout_time", "event.end", time);
    put_event(out, "network", &["connection", "end"], "ftp-timeout", None);
    true
}

#[cfg(test)]
#[path = "ftp_tests.rs"]
mod tests;
