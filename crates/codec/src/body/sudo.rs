//! `sudo` (1.8–1.9) and `su` (util-linux and shadow-utils) messages.
//!
//! sudo: `alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update`, with
//! an optional problem in front of the pairs (`3 incorrect password attempts`, `user NOT in
//! sudoers`, `command not allowed`, `a password is required`) and the optional `GROUP=`, `ENV=`,
//! `TSID=` pairs; also `alice : unable to resolve host …` style notes without pairs.
//!
//! su: `(to root) alice on pts/0`, `FAILED SU (to root) alice on pts/0` (util-linux),
//! `Successful su for root by alice`, `FAILED su for root by alice`, `+ pts/0 alice:root`,
//! `- pts/0 alice:root` (shadow-utils).
//!
//! Both: `pam_unix(sudo:session): …` and `pam_unix(su:auth): …` lines go to the PAM decoder.
//!
//! Fields: `user.name` (who ran sudo/su), `user.effective.name` (whom they became: `USER=`,
//! `(to root)`), `group.name` (`GROUP=`), `process.command_line`, `process.working_directory`,
//! `sudo.tty`/`su.tty`, `sudo.failed_attempts`, `event.reason` (sudo's problem text),
//! `event.category` (`process` for a command run, `authentication` for su and sudo's refusals),
//! `event.type`, `event.action` (`sudo-command`, `sudo-password-failed`,
//! `sudo-not-in-sudoers`, `sudo-command-denied`, `sudo-refused`, `su`), `event.outcome`.
//!
//! Not handled: sudo's I/O log and JSON (sudo_logsrvd) formats.

use super::pam::{self, put_event, split_word, FAILURE, SUCCESS};
use super::search::Search;
use super::{Input, Output};

const SUDO: &str = "sudo";
const SU: &str = "su";
/// Between the invoking user and the rest of a sudo line.
const USER_SEPARATOR: &str = " : ";
const PAIR_SEPARATOR: &str = " ; ";

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = input.message.trimmed();
    if pam::decode_message(message, out) {
        return true;
    }
    match input.app {
        Some(SU) => decode_su(message, out),
        Some(SUDO) => decode_sudo(message, out),
        _ => decode_sudo(message, out) || decode_su(message, out),
    }
}

/// `alice : [PROBLEM ; ]TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id`.
fn decode_sudo(message: &str, out: &mut Output) -> bool {
    let Some((user, rest)) = message.split_once_str(USER_SEPARATOR) else {
        return false;
    };
    if user.is_empty() || user.contains_char(' ') || rest.is_empty() {
        return false;
    }
    let (problem, pairs) = match rest.split_once_str(PAIR_SEPARATOR) {
        Some((first, pairs)) if !is_pair(first) => (Some(first), pairs),
        Some(_) => (None, rest),
        None if is_pair(rest) => (None, rest),
        None => (Some(rest), ""),
    };
    if problem.is_none() && !pairs.contains_str("COMMAND=") {
        return false;
    }
    out.put_str("user.name", user);
    put_sudo_pairs(pairs, out);
    match problem {
        None => put_event(out, "process", &["start"], "sudo-command", SUCCESS),
        Some(problem) => put_sudo_problem(problem, out),
    }
    true
}

/// `KEY=value` with an upper-case key, the shape of sudo's pairs.
fn is_pair(text: &str) -> bool {
    match text.split_once_char('=') {
        Some((key, _)) => !key.is_empty() && key.bytes().all(|b| b.is_ascii_uppercase()),
        None => false,
    }
}

fn put_sudo_pairs(pairs: &str, out: &mut Output) {
    let mut rest = pairs;
    while !rest.is_empty() {
        // The command comes last and may itself hold ` ; `.
        if let Some(command) = rest.strip_prefix("COMMAND=") {
            out.put_str("process.command_line", command);
            return;
        }
        let (pair, next) = rest.split_once_str(PAIR_SEPARATOR).unwrap_or((rest, ""));
        if let Some((key, value)) = pair.split_once_char('=') {
            match key {
                "TTY" => out.put_str("sudo.tty", value),
                "PWD" => out.put_str("process.working_directory", value),
                "USER" => out.put_str("user.effective.name", value),
                "GROUP" => out.put_str("group.name", value),
                "ENV" => out.put_str("sudo.env", value),
                "TSID" => out.put_str("sudo.tsid", value),
                _ => {}
            }
        }
        rest = next;
    }
}

fn put_sudo_problem(problem: &str, out: &mut Output) {
    out.put_str("event.reason", problem);
    let (count, rest) = split_word(problem);
    if rest.starts_with("incorrect password attempt") && out.put_int("sudo.failed_attempts", count)
    {
        put_event(
            out,
            "authentication",
            &["info"],
            "sudo-password-failed",
            FAILURE,
        );
    } else if problem.contains_str("NOT in sudoers") {
        put_event(
            out,
            "authentication",
            &["denied"],
            "sudo-not-in-sudoers",
            FAILURE,
        );
    } else if problem == "command not allowed" {
        put_event(
            out,
            "authentication",
            &["denied"],
            "sudo-command-denied",
            FAILURE,
        );
    } else {
        put_event(out, "authentication", &["info"], "sudo-refused", FAILURE);
    }
}

fn decode_su(message: &str, out: &mut Output) -> bool {
    if let Some(rest) = message.strip_prefix("(to ") {
        return put_su_to(rest, out, SUCCESS);
    }
    if let Some(rest) = message.strip_prefix("FAILED SU (to ") {
        return put_su_to(rest, out, FAILURE);
    }
    if let Some(rest) = message.strip_prefix("Successful su for ") {
        return put_su_for(rest, out, SUCCESS);
    }
    if let Some(rest) = message.strip_prefix("FAILED su for ") {
        return put_su_for(rest, out, FAILURE);
    }
    if let Some(rest) = message.strip_prefix("+ ") {
        return put_su_tty_line(rest, out, SUCCESS);
    }
    if let Some(rest) = message.strip_prefix("- ") {
        return put_su_tty_line(rest, out, FAILURE);
    }
    false
}

/// After `(to `: `root) alice on pts/0`.
fn put_su_to(rest: &str, out: &mut Output, outcome: Option<&'static str>) -> bool {
    let Some((target, rest)) = rest.split_once_str(") ") else {
        return false;
    };
    let Some((user, tty)) = rest.split_once_str(" on ") else {
        return false;
    };
    if target.is_empty() || user.is_empty() || user.contains_char(' ') {
        return false;
    }
    out.put_str("user.name", user);
    out.put_str("user.effective.name", target);
    out.put_str("su.tty", tty);
    put_su_event(out, outcome);
    true
}

/// After `Successful su for `: `root by alice`.
fn put_su_for(rest: &str, out: &mut Output, outcome: Option<&'static str>) -> bool {
    let Some((target, user)) = rest.split_once_str(" by ") else {
        return false;
    };
    if target.is_empty() || user.is_empty() {
        return false;
    }
    out.put_str("user.name", user);
    out.put_str("user.effective.name", target);
    put_su_event(out, outcome);
    true
}

/// After `+ ` or `- `: `pts/0 alice:root`.
fn put_su_tty_line(rest: &str, out: &mut Output, outcome: Option<&'static str>) -> bool {
    let (tty, users) = split_word(rest);
    let Some((user, target)) = users.split_once_char(':') else {
        return false;
    };
    if tty.is_empty() || user.is_empty() || target.is_empty() || target.contains_char(' ') {
        return false;
    }
    out.put_str("su.tty", tty);
    out.put_str("user.name", user);
    out.put_str("user.effective.name", target);
    put_su_event(out, outcome);
    true
}

fn put_su_event(out: &mut Output, outcome: Option<&'static str>) {
    let kind = if outcome == SUCCESS { "start" } else { "info" };
    put_event(out, "authentication", &[kind], "su", outcome);
}

#[cfg(test)]
mod tests {
    //! Fixtures: sudo lines as sudo's own docs and Debian/Ubuntu auth.log show them; su lines
    //! from util-linux `su` (login-utils/su-common.c) and shadow-utils `su` (src/su.c) wordings.

    use super::super::{decode as dispatch, Value};
    use super::*;

    fn run(app: &str, message: &str) -> Option<Output> {
        let mut out = Output::default();
        decode(&Input::new(message).app(app), &mut out).then_some(out)
    }

    use crate::body::test_support::text;

    #[test]
    fn sudo_command() {
        let out = run(
            "sudo",
            "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update",
        )
        .unwrap();
        assert_eq!(text(&out, "user.name"), Some("alice"));
        assert_eq!(text(&out, "user.effective.name"), Some("root"));
        assert_eq!(text(&out, "sudo.tty"), Some("pts/0"));
        assert_eq!(text(&out, "process.working_directory"), Some("/home/alice"));
        assert_eq!(
            text(&out, "process.command_line"),
            Some("/usr/bin/apt update")
        );
        assert_eq!(text(&out, "event.category"), Some("process"));
        assert_eq!(text(&out, "event.action"), Some("sudo-command"));
        assert_eq!(text(&out, "event.outcome"), Some("success"));
    }

    #[test]
    fn sudo_command_with_group_env_and_semicolons() {
        let out = run(
            "sudo",
            "bob : TTY=unknown ; PWD=/ ; USER=postgres ; GROUP=postgres ; ENV=PGDATA=/srv ; COMMAND=/bin/sh -c echo a ; echo b",
        )
        .unwrap();
        assert_eq!(text(&out, "group.name"), Some("postgres"));
        assert_eq!(text(&out, "sudo.env"), Some("PGDATA=/srv"));
        assert_eq!(
            text(&out, "process.command_line"),
            Some("/bin/sh -c echo a ; echo b")
        );
    }

    #[test]
    fn sudo_refusals() {
        let out = run(
            "sudo",
            "alice : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash",
        )
        .unwrap();
        assert_eq!(out.get("sudo.failed_attempts"), Some(&Value::Int(3)));
        assert_eq!(text(&out, "event.action"), Some("sudo-password-failed"));
        assert_eq!(text(&out, "event.outcome"), Some("failure"));
        assert_eq!(text(&out, "process.command_line"), Some("/bin/bash"));

        let out = run(
            "sudo",
            "mallory : user NOT in sudoers ; TTY=pts/2 ; PWD=/tmp ; USER=root ; COMMAND=/bin/cat /etc/shadow",
        )
        .unwrap();
        assert_eq!(text(&out, "user.name"), Some("mallory"));
        assert_eq!(text(&out, "event.action"), Some("sudo-not-in-sudoers"));
        assert_eq!(text(&out, "event.reason"), Some("user NOT in sudoers"));

        let out = run(
            "sudo",
            "bob : command not allowed ; TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/sbin/reboot",
        )
        .unwrap();
        assert_eq!(text(&out, "event.action"), Some("sudo-command-denied"));

        let out = run(
            "sudo",
            "alice : unable to resolve host web01: Name or service not known",
        )
        .unwrap();
        assert_eq!(text(&out, "event.action"), Some("sudo-refused"));
    }

    #[test]
    fn sudo_pam_lines_are_delegated() {
        let out = run(
            "sudo",
            "pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)",
        )
        .unwrap();
        assert_eq!(text(&out, "pam.service"), Some("sudo"));
        assert_eq!(text(&out, "user.name"), Some("root"));
        assert_eq!(text(&out, "pam.by.name"), Some("alice"));
    }

    #[test]
    fn su_lines() {
        let out = run("su", "(to root) alice on pts/0").unwrap();
        assert_eq!(text(&out, "user.name"), Some("alice"));
        assert_eq!(text(&out, "user.effective.name"), Some("root"));
        assert_eq!(text(&out, "su.tty"), Some("pts/0"));
        assert_eq!(text(&out, "event.action"), Some("su"));
        assert_eq!(text(&out, "event.outcome"), Some("success"));

        let out = run("su", "FAILED SU (to root) alice on pts/0").unwrap();
        assert_eq!(text(&out, "event.outcome"), Some("failure"));

        let out = run("su", "Successful su for root by alice").unwrap();
        assert_eq!(text(&out, "user.name"), Some("alice"));
        assert_eq!(text(&out, "user.effective.name"), Some("root"));

        let out = run("su", "FAILED su for postgres by bob").unwrap();
        assert_eq!(text(&out, "event.outcome"), Some("failure"));

        let out = run("su", "+ pts/0 alice:root").unwrap();
        assert_eq!(text(&out, "su.tty"), Some("pts/0"));
        assert_eq!(text(&out, "user.effective.name"), Some("root"));

        let out = run("su", "- pts/3 bob:root").unwrap();
        assert_eq!(text(&out, "event.outcome"), Some("failure"));

        let out = run(
            "su",
            "pam_unix(su:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=root",
        )
        .unwrap();
        assert_eq!(text(&out, "user.name"), Some("root"));
        assert_eq!(text(&out, "pam.ruser"), Some("alice"));
    }

    #[test]
    fn near_misses_are_refused() {
        assert!(run("sudo", "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root").is_none());
        assert!(run("sudo", "two words : TTY=pts/0 ; COMMAND=/bin/ls").is_none());
        assert!(run("sudo", "sudo: 1 incorrect password attempt").is_none());
        assert!(run("su", "(to root alice on pts/0").is_none());
        assert!(run("su", "+ pts/0 alice").is_none());
        assert!(run("su", "Successful su for root").is_none());
        assert!(run("su", "").is_none());
    }

    #[test]
    fn dispatcher_sends_sudo_and_su_here() {
        let mut out = Output::default();
        let input =
            Input::new("alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/id").app("sudo");
        assert_eq!(dispatch(&input, &mut out), Some("sudo"));
        let input = Input::new("(to root) alice on pts/0").app("su");
        assert_eq!(dispatch(&input, &mut out), Some("sudo"));
    }
}
