//! Linux-PAM `pam_unix` messages, and the small helpers the other Unix authentication decoders
//! (sshd, sudo/su, account tools, FTP, mail, databases) share.
//!
//! Two shapes reach this decoder:
//! - the modern one, where the module and service prefix the message:
//!   `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.5  user=root`
//!   (sshd, sudo, su, login, passwd, … pass such lines here through [`decode_message`]);
//! - the old Red Hat one, where the service sits in the syslog tag, `sshd(pam_unix)[1234]:`,
//!   `su(pam_unix)`, `login(pam_unix)`, `gdm(pam_unix)`, and the message is only the body:
//!   `authentication failure; …`, `check pass; user unknown`,
//!   `session opened for user news by (uid=0)`, `session opened for user root by LOGIN(uid=0)`,
//!   `session closed for user news`.
//!
//! Also the lines libpam itself writes through sshd: `PAM 2 more authentication failures; …`
//! and `PAM service(sshd) ignoring max retries; 6 > 3`.
//!
//! Fields: `user.name` (the `user=` of a failure, the session's user), `user.id` (its uid when
//! printed, `root(uid=0)`), `source.ip` or `source.domain` (`rhost=`), `pam.module`,
//! `pam.service`, `pam.type` (`auth`, `session`, `password`, `account`), `pam.tty`, `pam.ruser`,
//! `pam.logname`, and `pam.uid`/`pam.euid`: the ids of the *calling process* (sshd runs as 0),
//! kept apart from `user.id` because they are not the account being authenticated. A session's
//! opener (`by alice(uid=1000)`) is `pam.by.name`/`pam.by.id`; `pam.failures` and
//! `pam.retries`/`pam.max_retries` count repeated failures. `event.category` is
//! `authentication`, `session` for sessions, `iam` for password changes.
//!
//! Not handled: other modules' own wording (pam_sss, pam_faillock, pam_systemd messages), which
//! are left to the generic decoders.

use super::search::Search;
use super::{Input, Output, Value};

pub(super) const SUCCESS: Option<&str> = Some("success");
pub(super) const FAILURE: Option<&str> = Some("failure");
pub(super) const UNKNOWN: Option<&str> = Some("unknown");

/// Tag suffix of the old Red Hat PAM lines: `sshd(pam_unix)`.
const OLD_TAG_SUFFIX: &str = "(pam_unix)";
const MODULE_PREFIX: &str = "pam_";

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = input.message.trimmed();
    if let Some(service) = input.app.and_then(|app| app.strip_suffix(OLD_TAG_SUFFIX)) {
        if service.is_empty() {
            return false;
        }
        let head = Head {
            module: "pam_unix",
            service,
            kind: None,
        };
        return decode_body(message, head, out);
    }
    decode_message(message, out)
}

/// A PAM line inside another program's log: `pam_unix(sshd:auth): …`, `PAM 2 more
/// authentication failures; …` or `PAM service(sshd) ignoring max retries; 6 > 3`.
pub(super) fn decode_message(message: &str, out: &mut Output) -> bool {
    let message = message.trimmed();
    if let Some(rest) = message.strip_prefix("PAM ") {
        return decode_libpam(rest, out);
    }
    if !message.starts_with(MODULE_PREFIX) {
        return false;
    }
    let Some((head, body)) = message.split_once_str("): ") else {
        return false;
    };
    let Some((module, context)) = head.split_once_char('(') else {
        return false;
    };
    let Some((service, kind)) = context.split_once_char(':') else {
        return false;
    };
    if module.contains_char(' ') || service.is_empty() || kind.is_empty() {
        return false;
    }
    let head = Head {
        module,
        service,
        kind: Some(kind),
    };
    decode_body(body.trimmed(), head, out)
}

/// What a line names before its message: `pam_unix(sshd:auth)`, or `sshd(pam_unix)` in the
/// syslog tag.
#[derive(Clone, Copy)]
struct Head<'a> {
    module: &'a str,
    service: &'a str,
    kind: Option<&'a str>,
}

impl Head<'_> {
    /// Put after the `event.*` fields, which the message decides: the output stays in name
    /// order (see `Output`).
    fn put(self, out: &mut Output) {
        out.put_str("pam.module", self.module);
        out.put_str("pam.service", self.service);
        if let Some(kind) = self.kind {
            out.put_str("pam.type", kind);
        }
    }
}

/// `2 more authentication failures; logname= …` and `service(sshd) ignoring max retries; 6 > 3`.
fn decode_libpam(rest: &str, out: &mut Output) -> bool {
    if let Some(rest) = rest.strip_prefix("service(") {
        let Some((service, rest)) = rest.split_once_str(") ignoring max retries; ") else {
            return false;
        };
        let Some((retries, max)) = rest.split_once_str(" > ") else {
            return false;
        };
        if !out.put_int("pam.retries", retries) || !out.put_int("pam.max_retries", max) {
            return false;
        }
        put_event(
            out,
            "authentication",
            &["info"],
            "max-retries-exceeded",
            FAILURE,
        );
        out.put_str("pam.service", service);
        return true;
    }
    let Some((count, rest)) = rest.split_once_str(" more authentication failure") else {
        return false;
    };
    let Some((_, pairs)) = rest.split_once_str("; ") else {
        return false;
    };
    if !out.put_int("pam.failures", count) {
        return false;
    }
    put_failure_pairs(pairs, out);
    put_event(
        out,
        "authentication",
        &["info"],
        "authentication-failure",
        FAILURE,
    );
    true
}

/// The message after `pam_unix(service:type): ` (or after an old `service(pam_unix)` tag).
fn decode_body(body: &str, head: Head<'_>, out: &mut Output) -> bool {
    // `authentication failure; logname= uid=0 …`, or the bare `authentication failure;`.
    let failure_pairs = match body {
        "authentication failure;" => Some(""),
        _ => body.strip_prefix("authentication failure; "),
    };
    if let Some(pairs) = failure_pairs {
        put_event(
            out,
            "authentication",
            &["info"],
            "authentication-failure",
            FAILURE,
        );
        head.put(out);
        if !pairs.is_empty() {
            put_failure_pairs(pairs, out);
        }
        return true;
    }
    if body.starts_with("check pass; user unknown") {
        put_event(out, "authentication", &["info"], "user-unknown", FAILURE);
        head.put(out);
        return true;
    }
    if let Some(rest) = body.strip_prefix("session opened for user ") {
        return decode_session_opened(rest, head, out);
    }
    if let Some(rest) = body.strip_prefix("session closed for user ") {
        put_event(out, "session", &["end"], "session-closed", SUCCESS);
        head.put(out);
        put_user(rest, out);
        return true;
    }
    if let Some(user) = body.strip_prefix("password changed for ") {
        put_event(out, "iam", &["user", "change"], "password-changed", SUCCESS);
        head.put(out);
        out.put_str("user.target.name", user);
        return true;
    }
    if let Some(rest) = body.strip_prefix("auth could not identify password for [") {
        put_event(
            out,
            "authentication",
            &["info"],
            "authentication-failure",
            FAILURE,
        );
        head.put(out);
        out.put_str("user.name", rest.trim_end_matches(']'));
        return true;
    }
    if let Some(rest) = body.strip_prefix("account ") {
        let Some((user, _)) = rest.split_once_str(" has expired") else {
            return false;
        };
        put_event(out, "authentication", &["info"], "account-expired", FAILURE);
        head.put(out);
        out.put_str("user.name", user);
        return true;
    }
    false
}

/// `logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.5  user=root`.
fn put_failure_pairs(pairs: &str, out: &mut Output) {
    for pair in pairs.split_ascii_whitespace() {
        let Some((key, value)) = pair.split_once_char('=') else {
            continue;
        };
        match key {
            "user" => out.put_str("user.name", value),
            "rhost" => {
                put_ip_or_domain(out, "source.ip", "source.domain", value);
            }
            "uid" => {
                out.put_int("pam.uid", value);
            }
            "euid" => {
                out.put_int("pam.euid", value);
            }
            "tty" => out.put_str("pam.tty", value),
            "ruser" => out.put_str("pam.ruser", value),
            "logname" => out.put_str("pam.logname", value),
            _ => {}
        }
    }
}

/// `news by (uid=0)`, `root by LOGIN(uid=0)`, `root(uid=0) by alice(uid=1000)`.
fn decode_session_opened(rest: &str, head: Head<'_>, out: &mut Output) -> bool {
    let (user, opener) = match rest.rsplit_once_str(" by ") {
        Some((user, opener)) => (user, Some(opener)),
        None => (rest, None),
    };
    put_event(out, "session", &["start"], "session-opened", SUCCESS);
    if let Some(opener) = opener {
        let (name, uid) = split_name_uid(opener);
        if let Some(uid) = uid {
            out.put_int("pam.by.id", uid);
        }
        out.put_str("pam.by.name", name);
    }
    head.put(out);
    put_user(user, out);
    true
}

/// `root` or `root(uid=0)` into `user.name` and `user.id`.
fn put_user(text: &str, out: &mut Output) {
    let (name, uid) = split_name_uid(text);
    if let Some(uid) = uid {
        out.put_int("user.id", uid);
    }
    out.put_str("user.name", name);
}

/// `alice(uid=1000)` → (`alice`, `1000`); `(uid=0)` → (``, `0`); `alice` → (`alice`, none).
fn split_name_uid(text: &str) -> (&str, Option<&str>) {
    let text = text.trimmed();
    match text.split_once_str("(uid=") {
        Some((name, rest)) => (name, Some(rest.trim_end_matches(')'))),
        None => (text, None),
    }
}

/// Sets `event.category`, `event.type` (a list when several), `event.action` and, when given,
/// `event.outcome`.
pub(super) fn put_event(
    out: &mut Output,
    category: &'static str,
    types: &[&'static str],
    action: &'static str,
    outcome: Option<&'static str>,
) {
    // In name order, like the callers' other fields: the event's map then has nothing to sort.
    out.put("event.action", action);
    out.put("event.category", category);
    if let Some(outcome) = outcome {
        out.put("event.outcome", outcome);
    }
    match types {
        [one] => out.put("event.type", *one),
        many => out.put(
            "event.type",
            Value::List(many.iter().map(|kind| Value::from(*kind)).collect()),
        ),
    }
}

/// A peer named by address or by host name: the address into `ip_field`, anything else into
/// `domain_field`. `false` when the text is empty or a placeholder.
pub(super) fn put_ip_or_domain(
    out: &mut Output,
    ip_field: &'static str,
    domain_field: &'static str,
    text: &str,
) -> bool {
    let text = text.trimmed();
    if text.is_empty() || text == "-" || text == "unknown" {
        return false;
    }
    if !out.put_ip(ip_field, text) {
        out.put_str(domain_field, text);
    }
    true
}

/// The first space-separated word and the rest after it (`""` when there is no space).
pub(super) fn split_word(text: &str) -> (&str, &str) {
    match text.split_once_char(' ') {
        Some((word, rest)) => (word, rest),
        None => (text, ""),
    }
}

#[cfg(test)]
#[path = "pam_tests.rs"]
mod tests;
