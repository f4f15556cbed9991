//! Fixtures: lines from loghub's Linux and OpenSSH samples (logpai/loghub, see
//! shared/corpus/logs/LICENSE) and from Ubuntu/Debian auth.log as posted in public bug reports.

use super::super::{decode as dispatch, Input, Output, Value};
use super::*;

fn run(app: &str, message: &str) -> Option<Output> {
    let mut out = Output::default();
    decode(&Input::new(message).app(app), &mut out).then_some(out)
}

use crate::body::test_support::{int, text};

#[test]
fn old_tag_authentication_failure_with_user_and_hostname() {
    let out = run(
        "sshd(pam_unix)",
        "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=220-135-151-1.hinet-ip.hinet.net  user=root ",
    )
    .unwrap();
    assert_eq!(text(&out, "pam.service"), Some("sshd"));
    assert_eq!(text(&out, "pam.module"), Some("pam_unix"));
    assert_eq!(text(&out, "user.name"), Some("root"));
    assert_eq!(
        text(&out, "source.domain"),
        Some("220-135-151-1.hinet-ip.hinet.net")
    );
    assert_eq!(out.get("source.ip"), None);
    assert_eq!(text(&out, "pam.tty"), Some("NODEVssh"));
    assert_eq!(int(&out, "pam.uid"), Some(0));
    assert_eq!(int(&out, "pam.euid"), Some(0));
    assert_eq!(out.get("pam.ruser"), None);
    assert_eq!(text(&out, "event.category"), Some("authentication"));
    assert_eq!(text(&out, "event.action"), Some("authentication-failure"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
}

#[test]
fn old_tag_authentication_failure_with_address_and_no_user() {
    let out = run(
        "sshd(pam_unix)",
        "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ",
    )
    .unwrap();
    assert_eq!(text(&out, "source.ip"), Some("218.188.2.4"));
    assert_eq!(out.get("user.name"), None);
}

#[test]
fn gdm_failure_with_empty_rhost() {
    let out = run(
        "gdm(pam_unix)",
        "authentication failure; logname= uid=0 euid=0 tty=:0 ruser= rhost=",
    )
    .unwrap();
    assert_eq!(text(&out, "pam.service"), Some("gdm"));
    assert_eq!(text(&out, "pam.tty"), Some(":0"));
    assert_eq!(out.get("source.ip"), None);
    assert_eq!(out.get("source.domain"), None);
}

#[test]
fn check_pass_user_unknown() {
    let out = run("sshd(pam_unix)", "check pass; user unknown").unwrap();
    assert_eq!(text(&out, "event.action"), Some("user-unknown"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
}

#[test]
fn old_tag_sessions() {
    let out = run("su(pam_unix)", "session opened for user cyrus by (uid=0)").unwrap();
    assert_eq!(text(&out, "pam.service"), Some("su"));
    assert_eq!(text(&out, "user.name"), Some("cyrus"));
    assert_eq!(int(&out, "pam.by.id"), Some(0));
    assert_eq!(out.get("pam.by.name"), None);
    assert_eq!(text(&out, "event.category"), Some("session"));
    assert_eq!(text(&out, "event.type"), Some("start"));
    assert_eq!(text(&out, "event.action"), Some("session-opened"));

    let out = run(
        "login(pam_unix)",
        "session opened for user root by LOGIN(uid=0)",
    )
    .unwrap();
    assert_eq!(text(&out, "user.name"), Some("root"));
    assert_eq!(text(&out, "pam.by.name"), Some("LOGIN"));
    assert_eq!(int(&out, "pam.by.id"), Some(0));

    let out = run("sshd(pam_unix)", "session closed for user test").unwrap();
    assert_eq!(text(&out, "user.name"), Some("test"));
    assert_eq!(text(&out, "event.type"), Some("end"));
    assert_eq!(text(&out, "event.action"), Some("session-closed"));
}

#[test]
fn module_prefixed_lines() {
    let mut out = Output::default();
    assert!(decode_message(
        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=173.234.31.186",
        &mut out
    ));
    assert_eq!(text(&out, "pam.service"), Some("sshd"));
    assert_eq!(text(&out, "pam.type"), Some("auth"));
    assert_eq!(text(&out, "source.ip"), Some("173.234.31.186"));

    let mut out = Output::default();
    assert!(decode_message(
        "pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)",
        &mut out
    ));
    assert_eq!(text(&out, "user.name"), Some("root"));
    assert_eq!(int(&out, "user.id"), Some(0));
    assert_eq!(text(&out, "pam.by.name"), Some("alice"));
    assert_eq!(int(&out, "pam.by.id"), Some(1000));

    let mut out = Output::default();
    assert!(decode_message(
        "pam_unix(passwd:chauthtok): password changed for bob",
        &mut out
    ));
    assert_eq!(text(&out, "user.target.name"), Some("bob"));
    assert_eq!(text(&out, "event.category"), Some("iam"));
    assert_eq!(
        out.get("event.type"),
        Some(&Value::List(vec![
            Value::from("user"),
            Value::from("change")
        ]))
    );

    let mut out = Output::default();
    assert!(decode_message(
        "pam_unix(sudo:auth): auth could not identify password for [alice]",
        &mut out
    ));
    assert_eq!(text(&out, "user.name"), Some("alice"));
}

#[test]
fn libpam_repeat_lines() {
    let mut out = Output::default();
    assert!(decode_message(
        "PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=5.36.59.76.dynamic-dsl-ip.omantel.net.om  user=root",
        &mut out
    ));
    assert_eq!(int(&out, "pam.failures"), Some(5));
    assert_eq!(text(&out, "user.name"), Some("root"));
    assert_eq!(
        text(&out, "source.domain"),
        Some("5.36.59.76.dynamic-dsl-ip.omantel.net.om")
    );

    let mut out = Output::default();
    assert!(decode_message(
        "PAM 1 more authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=5.188.10.180",
        &mut out
    ));
    assert_eq!(int(&out, "pam.failures"), Some(1));

    let mut out = Output::default();
    assert!(decode_message(
        "PAM service(sshd) ignoring max retries; 6 > 3",
        &mut out
    ));
    assert_eq!(text(&out, "pam.service"), Some("sshd"));
    assert_eq!(int(&out, "pam.retries"), Some(6));
    assert_eq!(int(&out, "pam.max_retries"), Some(3));
}

#[test]
fn near_misses_are_refused() {
    assert!(run("sshd(pam_unix)", "authentication succeeded for root").is_none());
    assert!(run("(pam_unix)", "check pass; user unknown").is_none());
    assert!(run(
        "cron",
        "pam_unix(cron:session) session opened for user root"
    )
    .is_none());
    assert!(run("cron", "pam_unix(cron): session opened for user root").is_none());
    assert!(run("cron", "PAM two more authentication failures; logname=").is_none());
    assert!(run("sshd", "PAM service(sshd) ignoring max retries; six > 3").is_none());
    assert!(run("sshd(pam_unix)", "").is_none());
}

#[test]
fn dispatcher_sends_old_tags_here() {
    let mut out = Output::default();
    let input = Input::new("session opened for user news by (uid=0)").app("su(pam_unix)");
    assert_eq!(dispatch(&input, &mut out), Some("pam"));
    assert_eq!(text(&out, "user.name"), Some("news"));
}

/// Every truncation of real lines, and odd Unicode, through all the Unix authentication and
/// service decoders (sshd, PAM, sudo/su, accounts, FTP, databases, Postfix): none may panic.
#[test]
fn truncated_and_odd_lines_never_panic() {
    use super::super::{accounts, database, ftp, postfix, sshd, sudo};
    type Decode = fn(&Input<'_>, &mut Output) -> bool;
    let decoders: [(&str, Decode); 8] = [
        ("sshd", sshd::decode),
        ("klogind", sshd::decode),
        ("sshd(pam_unix)", decode),
        ("sudo", sudo::decode),
        ("useradd", accounts::decode),
        ("ftpd", ftp::decode),
        ("postgres", database::decode),
        ("postfix/smtp", postfix::decode),
    ];
    let lines = [
        "Accepted publickey for alice from 2001:db8::7 port 50022 ssh2: RSA SHA256:abc",
        "message repeated 5 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]",
        "Received disconnect from 198.51.100.4 port 53312:11: disconnected by user",
        "Connection from 192.0.2.1 port 5555 on 192.0.2.2 port 22 rdomain \"\"",
        "Authentication failed from 163.27.187.39 (163.27.187.39): Permission denied",
        "session opened for user root(uid=0) by alice(uid=1000)",
        "PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=h  user=root",
        "alice : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/sh",
        "new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash, from=/dev/pts/0",
        "change user `bob' shell from `/bin/sh' to `/bin/bash'",
        "Tue Jun  8 15:52:05 2021 [pid 9056] [ftp] OK LOGIN: Client \"::ffff:112.97.60.144\"",
        "localhost (::ffff:1.2.3.4[::ffff:1.2.3.4]) - USER a (Login failed): Incorrect password",
        "connection from 24.54.76.216 (h.example) at Sun Jul 17 15:09:17 2005",
        "2024-01-01 10:00:00.123 UTC [1234] bob@db FATAL:  no pg_hba.conf entry for host \"h\"",
        "2024-01-01T10:00:00.123456Z 8 [Note] [MY-010926] [Server] Access denied for user 'r'@'h'",
        "NOQUEUE: reject: RCPT from unknown[192.0.2.10]: 554 5.7.1 <v@e>: Relay; from=<s@e> to=<v@e>",
        "3A1B2C4D5E: to=<c@e>, relay=mx[203.0.113.25]:25, delay=1.2, dsn=2.0.0, status=sent (250)",
        "ünïcödé 🦀 : TTY=ß ; COMMAND=ĳ",
        "[é] OK LOGIN: Client \"é\"",
        "(é@é) [É] é",
        "add 'é' to group '",
    ];
    for line in lines {
        for (end, _) in line.char_indices().chain([(line.len(), ' ')]) {
            let truncated = &line[..end];
            for (app, decode) in decoders {
                let mut out = Output::default();
                decode(&Input::new(truncated).app(app), &mut out);
            }
        }
    }
}
