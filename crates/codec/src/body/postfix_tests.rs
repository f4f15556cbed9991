//! Fixtures: Postfix maillog lines in the shapes its documentation shows (SMTPD_ACCESS_README,
//! SASL_README, the "mail delivery status" lines of qmgr/smtp/local), with documentation
//! addresses.

use super::super::{decode as dispatch, Input, Output};
use super::*;

fn run(app: &str, message: &str) -> Option<Output> {
    let mut out = Output::default();
    decode(&Input::new(message).app(app), &mut out).then_some(out)
}

use crate::body::test_support::{int, text};

#[test]
fn smtpd_connections() {
    let out = run("postfix/smtpd", "connect from unknown[192.0.2.10]").unwrap();
    assert_eq!(text(&out, "source.ip"), Some("192.0.2.10"));
    assert_eq!(out.get("source.domain"), None);
    assert_eq!(text(&out, "event.category"), Some("network"));
    assert_eq!(text(&out, "event.action"), Some("smtp-connect"));

    let out = run(
        "postfix/smtpd",
        "disconnect from mail.example.com[198.51.100.2] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5",
    )
    .unwrap();
    assert_eq!(text(&out, "source.domain"), Some("mail.example.com"));
    assert_eq!(text(&out, "event.action"), Some("smtp-disconnect"));

    let out = run(
        "postfix/smtpd",
        "lost connection after AUTH from unknown[192.0.2.10]",
    )
    .unwrap();
    assert_eq!(
        text(&out, "event.reason"),
        Some("lost connection after AUTH")
    );
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
}

#[test]
fn smtpd_reject_and_sasl_failure() {
    let out = run(
        "postfix/smtpd",
        "NOQUEUE: reject: RCPT from unknown[192.0.2.10]: 554 5.7.1 <victim@example.org>: Relay access denied; from=<spam@example.net> to=<victim@example.org> proto=ESMTP helo=<ylmf-pc>",
    )
    .unwrap();
    assert_eq!(text(&out, "source.ip"), Some("192.0.2.10"));
    assert_eq!(text(&out, "postfix.stage"), Some("RCPT"));
    assert_eq!(text(&out, "postfix.reply"), Some("554 5.7.1"));
    assert_eq!(text(&out, "email.from.address"), Some("spam@example.net"));
    assert_eq!(text(&out, "email.to.address"), Some("victim@example.org"));
    assert_eq!(text(&out, "postfix.helo"), Some("ylmf-pc"));
    assert_eq!(text(&out, "postfix.proto"), Some("ESMTP"));
    assert_eq!(
        text(&out, "event.reason"),
        Some("554 5.7.1 <victim@example.org>: Relay access denied")
    );
    assert_eq!(text(&out, "event.type"), Some("denied"));
    assert_eq!(text(&out, "event.action"), Some("email-rejected"));

    let out = run(
        "postfix/smtpd",
        "warning: unknown[192.0.2.10]: SASL LOGIN authentication failed: authentication failure",
    )
    .unwrap();
    assert_eq!(text(&out, "source.ip"), Some("192.0.2.10"));
    assert_eq!(text(&out, "postfix.sasl_method"), Some("LOGIN"));
    assert_eq!(text(&out, "event.reason"), Some("authentication failure"));
    assert_eq!(text(&out, "event.category"), Some("authentication"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
}

#[test]
fn queue_lines() {
    let out = run(
        "postfix/smtpd",
        "3A1B2C4D5E: client=mail.example.com[198.51.100.2], sasl_method=PLAIN, sasl_username=bob",
    )
    .unwrap();
    assert_eq!(text(&out, "postfix.queue_id"), Some("3A1B2C4D5E"));
    assert_eq!(text(&out, "source.ip"), Some("198.51.100.2"));
    assert_eq!(text(&out, "user.name"), Some("bob"));
    assert_eq!(text(&out, "postfix.sasl_method"), Some("PLAIN"));
    assert_eq!(text(&out, "event.action"), Some("smtp-client"));

    let out = run(
        "postfix/cleanup",
        "3A1B2C4D5E: message-id=<20240101100000.3A1B2C4D5E@mail.example.com>",
    )
    .unwrap();
    assert_eq!(
        text(&out, "email.message_id"),
        Some("20240101100000.3A1B2C4D5E@mail.example.com")
    );

    let out = run(
        "postfix/qmgr",
        "3A1B2C4D5E: from=<alice@example.com>, size=1234, nrcpt=1 (queue active)",
    )
    .unwrap();
    assert_eq!(text(&out, "email.from.address"), Some("alice@example.com"));
    assert_eq!(int(&out, "postfix.size"), Some(1234));
    assert_eq!(int(&out, "postfix.nrcpt"), Some(1));
    assert_eq!(text(&out, "event.action"), Some("email-queued"));

    let out = run("postfix/pickup", "4Lz3QF0s2zz1x: uid=1000 from=<bob>").unwrap();
    assert_eq!(int(&out, "user.id"), Some(1000));
    assert_eq!(text(&out, "email.from.address"), Some("bob"));

    let out = run("postfix/qmgr", "3A1B2C4D5E: removed").unwrap();
    assert_eq!(text(&out, "event.action"), Some("email-removed"));
}

#[test]
fn delivery_status_lines() {
    let out = run(
        "postfix/smtp",
        "3A1B2C4D5E: to=<carol@example.org>, relay=mx.example.org[203.0.113.25]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9F8E7D6C5B)",
    )
    .unwrap();
    assert_eq!(text(&out, "email.to.address"), Some("carol@example.org"));
    assert_eq!(text(&out, "destination.ip"), Some("203.0.113.25"));
    assert_eq!(text(&out, "destination.domain"), Some("mx.example.org"));
    assert_eq!(int(&out, "destination.port"), Some(25));
    assert_eq!(out.get("postfix.delay"), Some(&Value::Float(1.2)));
    assert_eq!(text(&out, "postfix.delays"), Some("0.1/0/0.5/0.6"));
    assert_eq!(text(&out, "postfix.dsn"), Some("2.0.0"));
    assert_eq!(text(&out, "postfix.status"), Some("sent"));
    assert_eq!(
        text(&out, "event.reason"),
        Some("250 2.0.0 Ok: queued as 9F8E7D6C5B")
    );
    assert_eq!(text(&out, "event.action"), Some("email-sent"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));

    let out = run(
        "postfix/local",
        "3A1B2C4D5E: to=<bob@example.com>, orig_to=<root>, relay=local, delay=0.05, delays=0.02/0/0/0.03, dsn=2.0.0, status=sent (delivered to mailbox)",
    )
    .unwrap();
    assert_eq!(text(&out, "postfix.relay"), Some("local"));
    assert_eq!(text(&out, "postfix.orig_to"), Some("root"));

    let out = run(
        "postfix/smtp",
        "3A1B2C4D5E: to=<dave@example.net>, relay=none, delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to mx.example.net[192.0.2.99]:25: Connection timed out)",
    )
    .unwrap();
    assert_eq!(text(&out, "event.action"), Some("email-deferred"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(
        text(&out, "event.reason"),
        Some("connect to mx.example.net[192.0.2.99]:25: Connection timed out")
    );
}

#[test]
fn near_misses_are_refused() {
    assert!(run("postfix/smtpd", "connect from nowhere").is_none());
    assert!(run("postfix/smtpd", "connect from host[not-an-ip]").is_none());
    assert!(run("postfix/qmgr", "hello: world").is_none());
    assert!(run("postfix/qmgr", "ABCDEF: from=<a@b>").is_none());
    assert!(run(
        "postfix/master",
        "daemon started -- version 3.6.4, configuration /etc/postfix"
    )
    .is_none());
    assert!(run(
        "postfix/smtpd",
        "warning: unknown[192.0.2.10]: something else"
    )
    .is_none());
    assert!(run("postfix/smtpd", "").is_none());
}

#[test]
fn dispatcher_sends_postfix_lines_here() {
    let mut out = Output::default();
    let input = Input::new("connect from unknown[192.0.2.10]").app("postfix/smtpd");
    assert_eq!(dispatch(&input, &mut out), Some("postfix"));
}
