//! Database server logs: MySQL (5.5–8.x), MariaDB and PostgreSQL (9.x–17), with the
//! authentication and connection lines a SIEM cares about.
//!
//! MySQL/MariaDB error log, through syslog or from the file, with any of its prefixes:
//! `2024-01-01T10:00:00.123456Z 8 [Note] [MY-010926] [Server] …` (8.0),
//! `2024-01-01T10:00:00.123456Z 8 [Note] …` (5.7), `2024-01-01 10:00:00 8 [Warning] …`
//! (MariaDB 10), `240101 10:00:00 [Warning] …` (5.5), or only `[Warning] …`. Recognised bodies:
//! `Access denied for user 'root'@'10.0.0.5' (using password: YES)`, `Aborted connection 12 to
//! db: 'x' user: 'u' host: 'h' (Got an error reading communication packets)`, `Host 'h' is
//! blocked because of many connection errors; …`; other bodies keep only level and code.
//!
//! PostgreSQL, with the usual `log_line_prefix` forms before the severity:
//! `2024-01-01 10:00:00.123 UTC [1234] bob@db FATAL:  …`, `[1234-1] user=bob,db=db,app=psql,
//! client=10.0.0.5 FATAL:  …`, or none. Recognised bodies: `password authentication failed for
//! user "bob"` (and the other methods), `no pg_hba.conf entry for host "h", user "u", database
//! "d", SSL off`, `role "x" does not exist`, `database "x" does not exist`, `connection received:
//! host=h port=p`, `connection authorized: user=u database=d …`, `disconnection: session time: …`;
//! `DETAIL:` lines keep their text in `event.reason`.
//!
//! Fields: `service.type` (`mysql` | `postgresql`), `user.name`, `source.ip`/`source.domain`,
//! `source.port`, `log.level` (lower case), `event.code` (MySQL's `MY-010926`),
//! `event.category` (`authentication`, or `database` for other lines), `event.type`,
//! `event.action` (`database-login`, `database-connection`, `database-disconnect`,
//! `database-connection-aborted`, `database-host-blocked`), `event.outcome`, `event.reason`,
//! `error.message`, `process.pid` (PostgreSQL prefix), `mysql.thread_id`, `mysql.database`,
//! `mysql.using_password`, `postgresql.database`, `postgresql.application_name`; the prefix's
//! time becomes the event's time when it is UTC.
//!
//! Not handled: slow-query and general query logs, PostgreSQL csvlog/jsonlog (the JSON decoder
//! sees the latter), multi-line statements.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use vigil_event::Timestamp;

use super::pam::{put_event, put_ip_or_domain, split_word, FAILURE, SUCCESS};
use super::search::Search;
use super::{Input, Output};

const MYSQL: &str = "mysql";
const POSTGRESQL: &str = "postgresql";

/// PostgreSQL's severities, as they end the line prefix.
const PG_LEVELS: [&str; 13] = [
    "FATAL:",
    "ERROR:",
    "LOG:",
    "WARNING:",
    "DETAIL:",
    "HINT:",
    "STATEMENT:",
    "PANIC:",
    "NOTICE:",
    "INFO:",
    "CONTEXT:",
    "QUERY:",
    "DEBUG:",
];
/// MySQL's `[Level]` words.
const MYSQL_LEVELS: [&str; 5] = ["Note", "Warning", "Error", "System", "ERROR"];

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = input.message.trimmed();
    let postgres_first = input.app.is_some_and(|app| app.starts_with("postgres"));
    if postgres_first {
        decode_postgresql(message, out) || (clear(out) && decode_mysql(message, out))
    } else {
        decode_mysql(message, out) || (clear(out) && decode_postgresql(message, out))
    }
}

/// Empties `out` between two attempts; `true` so it chains.
fn clear(out: &mut Output) -> bool {
    out.clear();
    true
}

// ---------------------------------------------------------------------------------------------
// MySQL / MariaDB

fn decode_mysql(message: &str, out: &mut Output) -> bool {
    let rest = skip_mysql_time_and_thread(message, out);
    let Some(rest) = rest.strip_prefix('[') else {
        return false;
    };
    let Some((level, mut rest)) = rest.split_once_str("] ") else {
        return false;
    };
    if !MYSQL_LEVELS.contains(&level) {
        return false;
    }
    out.put("service.type", MYSQL);
    out.put("log.level", level.to_ascii_lowercase());
    // 8.0: `[MY-010926] [Server] `.
    if let Some((code, after)) = rest
        .strip_prefix("[MY-")
        .and_then(|r| r.split_once_str("] "))
    {
        out.put("event.code", format!("MY-{code}"));
        rest = after;
        if let Some((subsystem, after)) =
            rest.strip_prefix('[').and_then(|r| r.split_once_str("] "))
        {
            out.put_str("mysql.subsystem", subsystem);
            rest = after;
        }
    }
    put_mysql_body(rest.trimmed(), out);
    true
}

/// Skips `2024-01-01T10:00:00.123456Z 8 `, `2024-01-01 10:00:00 8 ` or `240101 10:00:00 `,
/// keeping the time (UTC forms only) and the thread id.
fn skip_mysql_time_and_thread<'a>(message: &'a str, out: &mut Output) -> &'a str {
    let (first, rest) = split_word(message);
    let rest = if let Some(time) = first.strip_suffix('Z') {
        if let Ok(time) = NaiveDateTime::parse_from_str(time, "%Y-%m-%dT%H:%M:%S%.f") {
            out.set_timestamp(Timestamp::from_datetime(time.and_utc()));
        }
        rest
    } else if is_local_date(first) {
        split_word(rest).1 // `240101 10:00:00`, `2024-01-01 10:00:00`: local time, not kept
    } else {
        return message;
    };
    let (thread, after) = split_word(rest.trim_start());
    if out.put_int("mysql.thread_id", thread) {
        after
    } else {
        rest.trim_start()
    }
}

/// `240101` (5.5) or `2024-01-01` (MariaDB): a date in the server's local time.
fn is_local_date(word: &str) -> bool {
    (word.len() == 6 && word.bytes().all(|b| b.is_ascii_digit()))
        || (word.len() == 10 && NaiveDate::parse_from_str(word, "%Y-%m-%d").is_ok())
}

fn put_mysql_body(body: &str, out: &mut Output) {
    if let Some(rest) = body.strip_prefix("Access denied for user '") {
        if let Some((user, rest)) = rest.split_once_str("'@'") {
            let (host, rest) = rest.split_once_char('\'').unwrap_or((rest, ""));
            out.put_str("user.name", user);
            put_ip_or_domain(out, "source.ip", "source.domain", host);
            if let Some(flag) = rest.trimmed().strip_prefix("(using password: ") {
                out.put_str("mysql.using_password", flag.trim_end_matches(')'));
            }
            put_event(out, "authentication", &["info"], "database-login", FAILURE);
            return;
        }
    }
    if let Some(rest) = body.strip_prefix("Aborted connection ") {
        let (id, rest) = split_word(rest);
        out.put_int("mysql.connection_id", id);
        put_quoted_after(rest, "db: '", "mysql.database", out);
        put_quoted_after(rest, "user: '", "user.name", out);
        if let Some((_, host)) = rest.split_once_str("host: '") {
            let host = host.split_char('\'').next().unwrap_or(host);
            put_ip_or_domain(out, "source.ip", "source.domain", host);
        }
        if let Some((_, reason)) = rest.rsplit_once_str(" (") {
            out.put_str("error.message", reason.trim_end_matches(')'));
        }
        put_event(
            out,
            "database",
            &["connection", "end"],
            "database-connection-aborted",
            FAILURE,
        );
        return;
    }
    if let Some(rest) = body.strip_prefix("Host '") {
        if let Some((host, rest)) = rest.split_once_str("' is blocked") {
            put_ip_or_domain(out, "source.ip", "source.domain", host);
            out.put_str("event.reason", rest.trim_start_matches(' '));
            put_event(
                out,
                "database",
                &["connection", "denied"],
                "database-host-blocked",
                FAILURE,
            );
            return;
        }
    }
    out.put_str("error.message", body);
}

/// The `'…'` text that follows `marker` in `text`, into `field`.
fn put_quoted_after(text: &str, marker: &str, field: &'static str, out: &mut Output) {
    if let Some((_, rest)) = text.split_once(marker) {
        out.put_str(field, rest.split_char('\'').next().unwrap_or(rest));
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

fn decode_postgresql(message: &str, out: &mut Output) -> bool {
    let Some((prefix, level, body)) = split_pg_level(message) else {
        return false;
    };
    out.put("service.type", POSTGRESQL);
    out.put("log.level", level.to_ascii_lowercase());
    put_pg_prefix(prefix.trimmed(), out);
    put_pg_body(level, body.trimmed(), out);
    true
}

/// (prefix, severity without `:`, message) at the first severity word.
fn split_pg_level(message: &str) -> Option<(&str, &str, &str)> {
    let mut offset = 0;
    for word in message.split_char(' ') {
        if let Some(level) = PG_LEVELS.iter().find(|level| **level == word) {
            let prefix = &message[..offset];
            let body = &message[offset + word.len()..];
            return Some((prefix, level.trim_end_matches(':'), body));
        }
        offset += word.len() + 1;
        if offset > message.len() {
            break;
        }
    }
    None
}

/// `2024-01-01 10:00:00.123 UTC [1234] bob@db` or `[1234-1] user=bob,db=db,app=psql,client=h`.
fn put_pg_prefix(prefix: &str, out: &mut Output) {
    let mut rest = prefix;
    if let Some(after) = take_pg_time(rest, out) {
        rest = after;
    }
    for word in rest.split_ascii_whitespace() {
        if let Some(pid) = word.strip_prefix('[').and_then(|w| w.strip_suffix(']')) {
            let pid = pid.split_char('-').next().unwrap_or(pid);
            out.put_int("process.pid", pid);
        } else if word.contains_char('=') {
            put_pg_pairs(word, out);
        } else if let Some((user, database)) = word.split_once_char('@') {
            out.put_str("user.name", user);
            out.put_str("postgresql.database", database);
        }
    }
}

/// `2024-01-01 10:00:00.123 UTC ` at the start: the time (kept when UTC) and the rest.
fn take_pg_time<'a>(prefix: &'a str, out: &mut Output) -> Option<&'a str> {
    let (date, rest) = split_word(prefix);
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let (time, rest) = split_word(rest);
    let time = NaiveTime::parse_from_str(time, "%H:%M:%S%.f").ok()?;
    let (zone, after) = split_word(rest);
    if matches!(zone, "UTC" | "GMT" | "+00" | "Z") {
        out.set_timestamp(Timestamp::from_datetime(date.and_time(time).and_utc()));
    }
    if zone.starts_with('[') {
        return Some(rest);
    }
    Some(after)
}

/// `user=bob,db=db,app=psql,client=10.0.0.5` (a `log_line_prefix` of `%u`, `%d`, `%a`, `%h`).
fn put_pg_pairs(pairs: &str, out: &mut Output) {
    for pair in pairs.split_char(',') {
        let Some((key, value)) = pair.split_once_char('=') else {
            continue;
        };
        match key {
            "user" => out.put_str("user.name", value),
            "db" | "database" => out.put_str("postgresql.database", value),
            "app" => out.put_str("postgresql.application_name", value),
            "client" | "host" | "remote" => {
                put_pg_host(value, out);
            }
            _ => {}
        }
    }
}

/// A client as PostgreSQL prints it: an address, a host name, `[local]`, or `h(port)`.
fn put_pg_host(value: &str, out: &mut Output) {
    if value == "[local]" {
        return;
    }
    let (host, port) = match value.split_once_char('(') {
        Some((host, port)) => (host, Some(port.trim_end_matches(')'))),
        None => (value, None),
    };
    put_ip_or_domain(out, "source.ip", "source.domain", host);
    if let Some(port) = port {
        out.put_int("source.port", port);
    }
}

fn put_pg_body(level: &str, body: &str, out: &mut Output) {
    if level == "DETAIL" {
        out.put_str("event.reason", body);
        put_event(out, "authentication", &["info"], "database-login", None);
        return;
    }
    if let Some((_, user)) = body.split_once_str(" authentication failed for user \"") {
        out.put_str("user.name", user.trim_end_matches('"'));
        out.put_str("event.reason", body);
        put_event(out, "authentication", &["info"], "database-login", FAILURE);
        return;
    }
    if let Some(rest) = body.strip_prefix("no pg_hba.conf entry for ") {
        put_pg_quoted(rest, "host \"", out, |out, host| put_pg_host(host, out));
        put_pg_quoted(rest, "user \"", out, |out, user| {
            out.put_str("user.name", user)
        });
        put_pg_quoted(rest, "database \"", out, |out, database| {
            out.put_str("postgresql.database", database)
        });
        out.put_str("event.reason", body);
        put_event(out, "authentication", &["info"], "database-login", FAILURE);
        return;
    }
    for (what, field) in [
        ("role \"", "user.name"),
        ("database \"", "postgresql.database"),
    ] {
        if let Some(rest) = body.strip_prefix(what) {
            if let Some((name, _)) = rest.split_once_str("\" does not exist") {
                out.put_str(field, name);
                out.put_str("event.reason", body);
                put_event(out, "authentication", &["info"], "database-login", FAILURE);
                return;
            }
        }
    }
    if let Some(pairs) = body.strip_prefix("connection received: ") {
        put_pg_spaced_pairs(pairs, out);
        put_event(
            out,
            "database",
            &["connection", "start"],
            "database-connection",
            None,
        );
        return;
    }
    if let Some(pairs) = body.strip_prefix("connection authorized: ") {
        put_pg_spaced_pairs(pairs, out);
        put_event(out, "authentication", &["start"], "database-login", SUCCESS);
        return;
    }
    if let Some(rest) = body.strip_prefix("disconnection: session time: ") {
        let (duration, pairs) = split_word(rest);
        out.put_str("postgresql.session_time", duration);
        put_pg_spaced_pairs(pairs, out);
        put_event(
            out,
            "database",
            &["connection", "end"],
            "database-disconnect",
            None,
        );
        return;
    }
    if matches!(level, "ERROR" | "FATAL" | "PANIC") {
        out.put_str("error.message", body);
    } else {
        out.put_str("event.reason", body);
    }
}

/// `host=10.0.0.5 port=5432`, `user=bob database=db application_name=psql SSL enabled (…)`.
fn put_pg_spaced_pairs(pairs: &str, out: &mut Output) {
    for pair in pairs.split_ascii_whitespace() {
        let Some((key, value)) = pair.split_once_char('=') else {
            continue;
        };
        match key {
            "user" => out.put_str("user.name", value),
            "database" => out.put_str("postgresql.database", value),
            "application_name" => out.put_str("postgresql.application_name", value),
            "host" => put_pg_host(value, out),
            "port" => {
                out.put_int("source.port", value);
            }
            _ => {}
        }
    }
}

/// The `"…"` text after `marker` in `text`, handed to `put`.
fn put_pg_quoted(text: &str, marker: &str, out: &mut Output, put: impl FnOnce(&mut Output, &str)) {
    if let Some((_, rest)) = text.split_once(marker) {
        put(out, rest.split_char('"').next().unwrap_or(rest));
    }
}

#[cfg(test)]
#[path = "database_tests.rs"]
mod tests;
