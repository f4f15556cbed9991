//! OpenSSH server (`sshd`) messages, as OpenSSH 3.x–9.x writes them to syslog, and the two
//! authentication lines of the Kerberos rlogin daemon `klogind`.
//!
//! Recognised sshd messages (an `error: ` / `fatal: ` prefix becomes `log.level`, a trailing
//! ` [preauth]` becomes `sshd.preauth`):
//! - `Accepted|Failed|Postponed|Partial METHOD for [invalid user ]USER from IP port N ssh2[: KEY FP]`
//! - `Invalid user USER from IP[ port N]`, `input_userauth_request: invalid user USER`
//! - `maximum authentication attempts exceeded for …`, `Disconnecting[: ]… Too many authentication failures …`
//! - `Connection closed|reset by [authenticating |invalid ]user USER] IP[ port N]`,
//!   `Received disconnect from IP[ port N]: CODE: TEXT`, `Disconnected from [user X ]IP port N`
//! - `Did not receive identification string from IP[ port N]`, `Connection from IP port N on IP port N`,
//!   `Timeout before authentication for …`, `Unable to negotiate with …`, `Bad protocol version …`
//! - `reverse mapping checking getaddrinfo for HOST [IP] failed…`, `Address IP maps to HOST, but …`
//! - `User USER [from HOST ]not allowed because …`, `ROOT LOGIN REFUSED FROM …`,
//!   `Authentication refused: …`, `PAM: Authentication failure for USER from HOST`
//! - `Starting session: …`, `Server listening on IP port N.`, `Received signal N; terminating.`
//! - rsyslog's `message repeated N times: [ MESSAGE]` around any of these (`sshd.repeat_count`)
//! - PAM lines (`pam_unix(sshd:auth): …`, `PAM 2 more authentication failures; …`), handed to
//!   the PAM decoder
//! - any other `error: …` / `fatal: …` line, kept as `error.message`.
//!
//! Fields: `user.name`, `source.ip`, `source.port`, `source.domain`, `event.category`
//! (`authentication`; `network` for connections and disconnects; `session`; `process` for the
//! server starting and stopping), `event.type`, `event.action` (`ssh-login`, `ssh-invalid-user`,
//! `ssh-disconnect`, …), `event.outcome`, `event.reason`, `sshd.auth.method`
//! (`password`, `publickey`, `keyboard-interactive/pam`, `none`), `sshd.auth.key_type`,
//! `sshd.auth.key_fingerprint`, `sshd.invalid_user`, `sshd.disconnect.code`,
//! `sshd.disconnect.reason`, `sshd.repeat_count`, `sshd.repeated_message`.
//!
//! klogind: `Authentication failed from IP (HOST): REASON` and `Kerberos authentication failed`.
//!
//! Not handled: debug-level messages (`debug1: …`), sftp-server's own lines.

use super::pam::{self, put_event, put_ip_or_domain, split_word, FAILURE, SUCCESS, UNKNOWN};
use super::search::Search;
use super::{Input, Output, Value};

#[path = "sshd_network.rs"]
mod network;

const KLOGIND: &str = "klogind";
const PREAUTH_SUFFIX: &str = "[preauth]";
/// `message repeated N times: [ …]` nests once; a repeat inside a repeat is refused.
const MAX_REPEAT_DEPTH: u8 = 1;

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = input.message.trimmed();
    if input.app == Some(KLOGIND) {
        return decode_klogind(message, out);
    }
    decode_message(message, out, 0)
}

fn decode_message(message: &str, out: &mut Output, depth: u8) -> bool {
    let (level, message) = match split_level(message) {
        Some((level, rest)) => (Some(level), rest),
        None => (None, message),
    };
    let message = match message.strip_suffix(PREAUTH_SUFFIX) {
        Some(rest) => {
            out.put("sshd.preauth", Value::Bool(true));
            rest.trim_end()
        }
        None => message,
    };
    if let Some(level) = level {
        out.put("log.level", level);
    }
    if decode_known(message, out, depth) {
        return true;
    }
    // Any other error the daemon reports is still an sshd line worth its text.
    if level.is_some() && !message.is_empty() {
        out.put_str("error.message", message);
        return true;
    }
    false
}

fn split_level(message: &str) -> Option<(&'static str, &str)> {
    if let Some(rest) = message.strip_prefix("error: ") {
        return Some(("error", rest));
    }
    message.strip_prefix("fatal: ").map(|rest| ("fatal", rest))
}

fn decode_known(message: &str, out: &mut Output, depth: u8) -> bool {
    let (first, rest) = split_word(message);
    match first {
        "Accepted" => decode_auth_result(rest, out, SUCCESS),
        "Failed" => decode_auth_result(rest, out, FAILURE),
        "Postponed" | "Partial" => decode_auth_result(rest, out, UNKNOWN),
        "Invalid" => decode_invalid_user(rest.strip_prefix("user "), out),
        "input_userauth_request:" => decode_invalid_user_name(rest, out),
        "Connection" => network::decode_connection(rest, out),
        "Received" => network::decode_received(rest, out),
        "Disconnected" => network::decode_disconnected(rest, out),
        "Disconnecting:" | "Disconnecting" => network::decode_disconnecting(rest, out),
        "Did" => network::decode_no_identification(rest, out),
        "reverse" => network::decode_reverse_mapping(rest, out),
        "Address" => network::decode_address_mismatch(rest, out),
        "maximum" => decode_max_attempts(rest, out),
        "message" if depth < MAX_REPEAT_DEPTH => decode_repeated(rest, out, depth),
        "User" => decode_not_allowed(rest, out),
        "ROOT" => decode_root_refused(rest, out),
        "Authentication" => decode_refused(rest, out),
        "PAM:" => decode_pam_failure(rest, out),
        "Timeout" => network::decode_timeout(rest, out),
        "Unable" => network::decode_unable_to_negotiate(rest, out),
        "Bad" => network::decode_bad_version(rest, out),
        "Starting" => decode_starting_session(rest, out),
        "Server" => network::decode_listening(rest, out),
        _ => pam::decode_message(message, out),
    }
}

/// `password for [invalid user ]root from 10.0.0.5 port 4242 ssh2[: RSA SHA256:…]`.
fn decode_auth_result(rest: &str, out: &mut Output, outcome: Option<&'static str>) -> bool {
    let (method, rest) = split_word(rest);
    let Some(rest) = rest.strip_prefix("for ") else {
        return false;
    };
    let Some((user, peer)) = rest.rsplit_once_str(" from ") else {
        return false;
    };
    let (address, rest) = split_word(peer);
    let Some(rest) = rest.strip_prefix("port ") else {
        return false;
    };
    let (port, protocol) = split_word(rest);
    if method.is_empty() || !out.put_ip("source.ip", address) || !out.put_int("source.port", port) {
        return false;
    }
    // Here and below, fields are put in name order (event, sshd, user): see `Output`.
    let kind = if outcome == SUCCESS { "start" } else { "info" };
    put_event(out, "authentication", &[kind], "ssh-login", outcome);
    if let Some((_, key)) = protocol.split_once_str(": ") {
        let (key_type, fingerprint) = split_word(key);
        out.put_str("sshd.auth.key_fingerprint", fingerprint);
        out.put_str("sshd.auth.key_type", key_type);
    }
    out.put_str("sshd.auth.method", method);
    put_user_maybe_invalid(user, out);
    true
}

/// `[invalid user ]NAME`: the name, and `sshd.invalid_user` when the account does not exist.
fn put_user_maybe_invalid(user: &str, out: &mut Output) {
    match user.strip_prefix("invalid user ") {
        Some(name) => {
            out.put("sshd.invalid_user", Value::Bool(true));
            out.put_str("user.name", name);
        }
        None => out.put_str("user.name", user),
    }
}

/// After `Invalid user `: `NAME from IP[ port N]`.
fn decode_invalid_user(rest: Option<&str>, out: &mut Output) -> bool {
    let Some((user, peer)) = rest.and_then(|rest| rest.rsplit_once_str("from ")) else {
        return false;
    };
    if !put_peer(peer, out) {
        return false;
    }
    put_invalid_user(user, out);
    true
}

/// An account name sshd does not know.
fn put_invalid_user(user: &str, out: &mut Output) {
    put_event(
        out,
        "authentication",
        &["info"],
        "ssh-invalid-user",
        FAILURE,
    );
    out.put("sshd.invalid_user", Value::Bool(true));
    out.put_str("user.name", user);
}

/// After `input_userauth_request: `: `invalid user NAME`.
fn decode_invalid_user_name(rest: &str, out: &mut Output) -> bool {
    let Some(user) = rest.strip_prefix("invalid user") else {
        return false;
    };
    put_invalid_user(user, out);
    true
}

/// `IP` or `IP port N` into `source.ip`/`source.port`.
fn put_peer(text: &str, out: &mut Output) -> bool {
    let text = text.trimmed();
    let (address, port) = match text.split_once_str(" port ") {
        Some((address, port)) => (address, Some(port)),
        None => (text, None),
    };
    if !out.put_ip("source.ip", address) {
        return false;
    }
    match port {
        Some(port) => out.put_int("source.port", port),
        None => true,
    }
}

/// `[user X |authenticating user X |invalid user X ]IP[ port N]`: who, then where from.
fn put_user_and_peer(text: &str, out: &mut Output) -> bool {
    let text = text.trimmed();
    let (head, port) = match text.rsplit_once_str(" port ") {
        Some((head, port)) if port.bytes().all(|b| b.is_ascii_digit()) => (head, Some(port)),
        _ => (text, None),
    };
    let (who, address) = head.rsplit_once_char(' ').unwrap_or(("", head));
    if !out.put_ip("source.ip", address) {
        return false;
    }
    if let Some(port) = port {
        out.put_int("source.port", port);
    }
    if let Some(user) = who.strip_prefix("invalid user ") {
        out.put("sshd.invalid_user", Value::Bool(true));
        out.put_str("user.name", user);
    } else if let Some(user) = who
        .strip_prefix("authenticating user ")
        .or_else(|| who.strip_prefix("user "))
    {
        out.put_str("user.name", user);
    } else if !who.is_empty() {
        return false;
    }
    true
}

/// After `maximum `: `authentication attempts exceeded for [invalid user ]X from IP port N ssh2`.
fn decode_max_attempts(rest: &str, out: &mut Output) -> bool {
    let Some(rest) = rest.strip_prefix("authentication attempts exceeded for ") else {
        return false;
    };
    let Some((user, peer)) = rest.rsplit_once_str(" from ") else {
        return false;
    };
    let peer = peer.strip_suffix(" ssh2").unwrap_or(peer);
    if !put_peer(peer, out) {
        return false;
    }
    put_event(
        out,
        "authentication",
        &["info"],
        "ssh-max-auth-attempts",
        FAILURE,
    );
    put_user_maybe_invalid(user, out);
    true
}

/// After `message `: `repeated N times: [ MESSAGE]` (rsyslog's reduction of repeated lines).
fn decode_repeated(rest: &str, out: &mut Output, depth: u8) -> bool {
    let Some(rest) = rest.strip_prefix("repeated ") else {
        return false;
    };
    let Some((count, rest)) = rest.split_once_str(" times: [") else {
        return false;
    };
    let Some(inner) = rest.strip_suffix(']') else {
        return false;
    };
    let inner = inner.trimmed();
    if !out.put_int("sshd.repeat_count", count) || !decode_message(inner, out, depth + 1) {
        return false;
    }
    out.put_str("sshd.repeated_message", inner);
    true
}

/// After `User `: `X from HOST not allowed because REASON` or `X not allowed because REASON`.
fn decode_not_allowed(rest: &str, out: &mut Output) -> bool {
    let Some((who, reason)) = rest.split_once_str(" not allowed because ") else {
        return false;
    };
    put_event(
        out,
        "authentication",
        &["info"],
        "ssh-user-not-allowed",
        FAILURE,
    );
    out.put_str("event.reason", reason);
    match who.rsplit_once_str(" from ") {
        Some((user, host)) => {
            put_ip_or_domain(out, "source.ip", "source.domain", host);
            out.put_str("user.name", user);
        }
        None => out.put_str("user.name", who),
    }
    true
}

/// After `ROOT `: `LOGIN REFUSED FROM IP[ port N]`.
fn decode_root_refused(rest: &str, out: &mut Output) -> bool {
    let Some(peer) = rest.strip_prefix("LOGIN REFUSED FROM ") else {
        return false;
    };
    if !put_peer(peer, out) {
        return false;
    }
    put_event(
        out,
        "authentication",
        &["info"],
        "ssh-root-login-refused",
        FAILURE,
    );
    out.put_str("user.name", "root");
    true
}

/// After `Authentication `: `refused: REASON` / `refused for USER: REASON`.
fn decode_refused(rest: &str, out: &mut Output) -> bool {
    let Some(rest) = rest.strip_prefix("refused") else {
        return false;
    };
    let (user, reason) = match rest.strip_prefix(" for ") {
        Some(rest) => match rest.split_once_str(": ") {
            Some((user, reason)) => (Some(user), reason),
            None => return false,
        },
        None => match rest.strip_prefix(": ") {
            Some(reason) => (None, reason),
            None => return false,
        },
    };
    put_event(
        out,
        "authentication",
        &["info"],
        "ssh-authentication-refused",
        FAILURE,
    );
    out.put_str("event.reason", reason);
    if let Some(user) = user {
        out.put_str("user.name", user);
    }
    true
}

/// After `PAM: `: `Authentication failure for [illegal user ]USER from HOST`.
fn decode_pam_failure(rest: &str, out: &mut Output) -> bool {
    let Some((reason, rest)) = rest.split_once_str(" for ") else {
        return false;
    };
    let Some((user, host)) = rest.rsplit_once_str(" from ") else {
        return false;
    };
    let user = user.strip_prefix("illegal user ").unwrap_or(user);
    put_event(out, "authentication", &["info"], "ssh-login", FAILURE);
    out.put_str("event.reason", reason);
    put_ip_or_domain(out, "source.ip", "source.domain", host);
    put_user_maybe_invalid(user, out);
    true
}

/// After `Starting `: `session: shell on pts/0 for root from IP port N id 0`.
fn decode_starting_session(rest: &str, out: &mut Output) -> bool {
    let Some(rest) = rest.strip_prefix("session: ") else {
        return false;
    };
    let Some((_, rest)) = rest.split_once_str(" for ") else {
        return false;
    };
    let Some((user, peer)) = rest.rsplit_once_str(" from ") else {
        return false;
    };
    let peer = peer.split_str(" id ").next().unwrap_or(peer);
    if !put_peer(peer, out) {
        return false;
    }
    put_event(out, "session", &["start"], "ssh-session-started", SUCCESS);
    out.put_str("user.name", user);
    true
}

/// klogind: `Authentication failed from IP (HOST): REASON`, `Kerberos authentication failed`.
fn decode_klogind(message: &str, out: &mut Output) -> bool {
    if message == "Kerberos authentication failed" {
        put_event(
            out,
            "authentication",
            &["info"],
            "rlogin-authentication-failure",
            FAILURE,
        );
        return true;
    }
    let Some(rest) = message.strip_prefix("Authentication failed from ") else {
        return false;
    };
    let Some((address, rest)) = rest.split_once_str(" (") else {
        return false;
    };
    let Some((host, reason)) = rest.split_once_str("): ") else {
        return false;
    };
    if !out.put_ip("source.ip", address) {
        return false;
    }
    put_event(
        out,
        "authentication",
        &["info"],
        "rlogin-authentication-failure",
        FAILURE,
    );
    out.put_str("event.reason", reason);
    if host != address {
        out.put_str("source.domain", host);
    }
    true
}

#[cfg(test)]
#[path = "sshd_tests.rs"]
mod tests;
