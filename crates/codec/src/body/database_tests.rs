//! Fixtures: MySQL/MariaDB error-log lines in the wording of the MySQL reference manual's
//! error-log section and server error message reference (ER_ACCESS_DENIED_ERROR,
//! ER_ABORTING_USER_CONNECTION), and PostgreSQL lines in the wording of its auth.c/postmaster.c
//! messages with the prefixes of the documentation's `log_line_prefix` examples.

use super::super::{decode as dispatch, Input, Output};
use super::*;

fn run(app: &str, message: &str) -> Option<Output> {
    let mut out = Output::default();
    decode(&Input::new(message).app(app), &mut out).then_some(out)
}

use crate::body::test_support::{int, text};

#[test]
fn mysql8_access_denied() {
    let out = run(
        "mysqld",
        "2024-01-01T10:00:00.123456Z 8 [Note] [MY-010926] [Server] Access denied for user 'root'@'10.0.0.5' (using password: YES)",
    )
    .unwrap();
    assert_eq!(text(&out, "service.type"), Some("mysql"));
    assert_eq!(text(&out, "log.level"), Some("note"));
    assert_eq!(text(&out, "event.code"), Some("MY-010926"));
    assert_eq!(text(&out, "mysql.subsystem"), Some("Server"));
    assert_eq!(int(&out, "mysql.thread_id"), Some(8));
    assert_eq!(text(&out, "user.name"), Some("root"));
    assert_eq!(text(&out, "source.ip"), Some("10.0.0.5"));
    assert_eq!(text(&out, "mysql.using_password"), Some("YES"));
    assert_eq!(text(&out, "event.category"), Some("authentication"));
    assert_eq!(text(&out, "event.action"), Some("database-login"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(
        out.timestamp().map(|time| time.to_string()),
        Some("2024-01-01T10:00:00.123456Z".to_owned())
    );
}

#[test]
fn mysql_older_prefixes() {
    let out = run(
        "mysqld",
        "240101 10:00:00 [Warning] Access denied for user 'app'@'web01.example.com' (using password: NO)",
    )
    .unwrap();
    assert_eq!(text(&out, "log.level"), Some("warning"));
    assert_eq!(text(&out, "source.domain"), Some("web01.example.com"));
    assert_eq!(text(&out, "mysql.using_password"), Some("NO"));

    let out = run(
        "mariadbd",
        "2024-01-01 10:00:00 12 [Warning] Aborted connection 12 to db: 'shop' user: 'web' host: '10.0.0.7' (Got an error reading communication packets)",
    )
    .unwrap();
    assert_eq!(int(&out, "mysql.connection_id"), Some(12));
    assert_eq!(text(&out, "mysql.database"), Some("shop"));
    assert_eq!(text(&out, "user.name"), Some("web"));
    assert_eq!(text(&out, "source.ip"), Some("10.0.0.7"));
    assert_eq!(
        text(&out, "error.message"),
        Some("Got an error reading communication packets")
    );
    assert_eq!(
        text(&out, "event.action"),
        Some("database-connection-aborted")
    );

    let out = run(
        "mysqld",
        "[Warning] Host '10.0.0.9' is blocked because of many connection errors; unblock with 'mysqladmin flush-hosts'",
    )
    .unwrap();
    assert_eq!(text(&out, "source.ip"), Some("10.0.0.9"));
    assert_eq!(text(&out, "event.action"), Some("database-host-blocked"));

    let out = run(
        "mysqld",
        "2024-01-01T10:00:01.000000Z 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections.",
    )
    .unwrap();
    assert_eq!(text(&out, "event.code"), Some("MY-010931"));
    assert_eq!(text(&out, "log.level"), Some("system"));
}

#[test]
fn postgresql_auth_failures() {
    let out = run(
        "postgres",
        "2024-01-01 10:00:00.123 UTC [1234] bob@shop FATAL:  password authentication failed for user \"bob\"",
    )
    .unwrap();
    assert_eq!(text(&out, "service.type"), Some("postgresql"));
    assert_eq!(text(&out, "log.level"), Some("fatal"));
    assert_eq!(int(&out, "process.pid"), Some(1234));
    assert_eq!(text(&out, "user.name"), Some("bob"));
    assert_eq!(text(&out, "postgresql.database"), Some("shop"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(
        out.timestamp().map(|time| time.to_string()),
        Some("2024-01-01T10:00:00.123Z".to_owned())
    );

    let out = run(
        "postgres",
        "[1234-1] user=bob,db=shop,app=psql,client=10.0.0.5 FATAL:  no pg_hba.conf entry for host \"10.0.0.5\", user \"bob\", database \"shop\", SSL off",
    )
    .unwrap();
    assert_eq!(text(&out, "source.ip"), Some("10.0.0.5"));
    assert_eq!(text(&out, "user.name"), Some("bob"));
    assert_eq!(text(&out, "postgresql.application_name"), Some("psql"));
    assert_eq!(text(&out, "event.action"), Some("database-login"));

    let out = run(
        "postgres",
        "2024-01-01 10:00:00.123 UTC [1235] FATAL:  role \"mallory\" does not exist",
    )
    .unwrap();
    assert_eq!(text(&out, "user.name"), Some("mallory"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));

    let out = run(
        "postgres",
        "2024-01-01 10:00:00.124 UTC [1234] bob@shop DETAIL:  Connection matched pg_hba.conf line 99: \"host all all 0.0.0.0/0 md5\"",
    )
    .unwrap();
    assert_eq!(text(&out, "log.level"), Some("detail"));
    assert_eq!(
        text(&out, "event.reason"),
        Some("Connection matched pg_hba.conf line 99: \"host all all 0.0.0.0/0 md5\"")
    );
}

#[test]
fn postgresql_connections() {
    let out = run(
        "postgres",
        "2024-01-01 10:00:00.100 UTC [1236] [unknown]@[unknown] LOG:  connection received: host=10.0.0.5 port=52814",
    )
    .unwrap();
    assert_eq!(text(&out, "source.ip"), Some("10.0.0.5"));
    assert_eq!(int(&out, "source.port"), Some(52814));
    assert_eq!(text(&out, "event.action"), Some("database-connection"));

    let out = run(
        "postgres",
        "2024-01-01 10:00:00.200 UTC [1236] bob@shop LOG:  connection authorized: user=bob database=shop application_name=psql",
    )
    .unwrap();
    assert_eq!(text(&out, "event.outcome"), Some("success"));
    assert_eq!(text(&out, "postgresql.application_name"), Some("psql"));

    let out = run(
        "postgres",
        "2024-01-01 10:05:00.200 UTC [1236] bob@shop LOG:  disconnection: session time: 0:05:00.001 user=bob database=shop host=10.0.0.5 port=52814",
    )
    .unwrap();
    assert_eq!(text(&out, "postgresql.session_time"), Some("0:05:00.001"));
    assert_eq!(text(&out, "event.action"), Some("database-disconnect"));

    let out = run(
        "postgres",
        "ERROR:  relation \"users\" does not exist at character 15",
    )
    .unwrap();
    assert_eq!(
        text(&out, "error.message"),
        Some("relation \"users\" does not exist at character 15")
    );
}

#[test]
fn near_misses_are_refused() {
    assert!(run("mysqld", "Access denied for user 'root'@'localhost'").is_none());
    assert!(run("mysqld", "[Debugging] something").is_none());
    assert!(run("mysqld", "2024-01-01T10:00:00Z 8 Note Access denied").is_none());
    assert!(run("postgres", "FATAL password authentication failed").is_none());
    assert!(run("postgres", "checkpoint starting: time").is_none());
    assert!(run("postgres", "").is_none());
}

#[test]
fn dispatcher_sends_database_lines_here() {
    let mut out = Output::default();
    let input = Input::new("[Warning] Access denied for user 'a'@'10.0.0.1' (using password: YES)")
        .app("mysqld");
    assert_eq!(dispatch(&input, &mut out), Some("database"));
    let input = Input::new("[3-1] FATAL:  role \"x\" does not exist").app("postgres");
    assert_eq!(dispatch(&input, &mut out), Some("database"));
}
