//! Fixtures: vsftpd.log lines as posted in public repositories' notes and tests; ProFTPD and
//! Pure-FTPd lines in the wording of their sources (modules/mod_auth.c, src/log_unix.c);
//! BSD ftpd lines from loghub's Linux sample (logpai/loghub, see shared/corpus/logs/LICENSE).

use super::super::{decode as dispatch, Input, Output};
use super::*;

fn run(app: &str, message: &str) -> Option<Output> {
    let mut out = Output::default();
    decode(&Input::new(message).app(app), &mut out).then_some(out)
}

use crate::body::test_support::{int, text};

#[test]
fn vsftpd_file_lines() {
    let out = run(
        "vsftpd",
        "Sat Nov  6 13:12:47 2021 [pid 931] [xouxou] OK UPLOAD: Client \"::ffff:192.168.56.1\", \"/home/xouxou/Pictures/cien.jpg\", 54961 bytes, 5220.08Kbyte/sec",
    )
    .unwrap();
    assert_eq!(text(&out, "user.name"), Some("xouxou"));
    assert_eq!(text(&out, "source.ip"), Some("192.168.56.1"));
    assert_eq!(
        text(&out, "file.path"),
        Some("/home/xouxou/Pictures/cien.jpg")
    );
    assert_eq!(int(&out, "network.bytes"), Some(54961));
    assert_eq!(text(&out, "ftp.transfer_rate"), Some("5220.08Kbyte/sec"));
    assert_eq!(text(&out, "event.category"), Some("file"));
    assert_eq!(text(&out, "event.action"), Some("ftp-upload"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));
    assert_eq!(
        out.timestamp().map(|time| time.to_string()),
        Some("2021-11-06T13:12:47Z".to_owned())
    );

    let out = run(
        "vsftpd",
        "Tue Jun  8 15:52:05 2021 [pid 9057] CONNECT: Client \"::ffff:112.97.60.144\"",
    )
    .unwrap();
    assert_eq!(text(&out, "source.ip"), Some("112.97.60.144"));
    assert_eq!(text(&out, "event.action"), Some("ftp-connection"));
    assert_eq!(out.get("user.name"), None);

    let out = run(
        "vsftpd",
        "Tue Jun  8 15:52:05 2021 [pid 9056] [ftp] OK LOGIN: Client \"::ffff:112.97.60.144\", anon password \"?\"",
    )
    .unwrap();
    assert_eq!(text(&out, "user.name"), Some("ftp"));
    assert_eq!(text(&out, "event.category"), Some("authentication"));
    assert_eq!(text(&out, "event.action"), Some("ftp-login"));

    let out = run(
        "vsftpd",
        "Tue Jul 20 12:17:14 2010 [pid 6820] [jeffe] OK DELETE: Client \"192.168.2.10\", \"/disk2/temp/test_file.avi\"",
    )
    .unwrap();
    assert_eq!(text(&out, "event.type"), Some("deletion"));
    assert_eq!(text(&out, "file.path"), Some("/disk2/temp/test_file.avi"));
}

#[test]
fn vsftpd_syslog_lines() {
    let out = run("vsftpd", "[bob] FAIL LOGIN: Client \"203.0.113.8\"").unwrap();
    assert_eq!(text(&out, "user.name"), Some("bob"));
    assert_eq!(text(&out, "source.ip"), Some("203.0.113.8"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(text(&out, "event.type"), Some("info"));

    let out = run(
        "vsftpd",
        "[ftpupload] OK DOWNLOAD: Client \"172.25.222.49\", \"/picture/archive/.listing\", 0 bytes",
    )
    .unwrap();
    assert_eq!(int(&out, "network.bytes"), Some(0));
    assert_eq!(text(&out, "event.action"), Some("ftp-download"));
}

#[test]
fn proftpd_lines() {
    let out = run(
        "proftpd",
        "ftp.example.com (client.example.net[198.51.100.23]) - USER alice: Login successful.",
    )
    .unwrap();
    assert_eq!(text(&out, "user.name"), Some("alice"));
    assert_eq!(text(&out, "source.ip"), Some("198.51.100.23"));
    assert_eq!(text(&out, "source.domain"), Some("client.example.net"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));

    let out = run(
        "proftpd",
        "localhost (198.51.100.23[198.51.100.23]) - USER alice (Login failed): Incorrect password",
    )
    .unwrap();
    assert_eq!(text(&out, "event.reason"), Some("Incorrect password"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(out.get("source.domain"), None);

    let out = run(
        "proftpd",
        "localhost (::ffff:198.51.100.23[::ffff:198.51.100.23]) - USER nobody: no such user found from ::ffff:198.51.100.23 [198.51.100.23] to ::ffff:10.0.0.1:21",
    )
    .unwrap();
    assert_eq!(text(&out, "source.ip"), Some("198.51.100.23"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));

    let out = run(
        "proftpd",
        "ftp.example.com (198.51.100.23[198.51.100.23]) - FTP session opened.",
    )
    .unwrap();
    assert_eq!(text(&out, "event.action"), Some("ftp-session-opened"));
    let out = run(
        "proftpd",
        "ftp.example.com (198.51.100.23[198.51.100.23]) - FTP session closed.",
    )
    .unwrap();
    assert_eq!(text(&out, "event.type"), Some("end"));
}

#[test]
fn pure_ftpd_lines() {
    let out = run(
        "pure-ftpd",
        "(?@203.0.113.7) [INFO] New connection from 203.0.113.7",
    )
    .unwrap();
    assert_eq!(text(&out, "source.ip"), Some("203.0.113.7"));
    assert_eq!(text(&out, "log.level"), Some("info"));
    assert_eq!(out.get("user.name"), None);

    let out = run(
        "pure-ftpd",
        "(?@203.0.113.7) [WARNING] Authentication failed for user [bob]",
    )
    .unwrap();
    assert_eq!(text(&out, "user.name"), Some("bob"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));

    let out = run("pure-ftpd", "(bob@203.0.113.7) [INFO] bob is now logged in").unwrap();
    assert_eq!(text(&out, "event.outcome"), Some("success"));

    let out = run(
        "pure-ftpd",
        "(bob@203.0.113.7) [NOTICE] /home/bob//report.pdf uploaded  (48213 bytes, 812.47KB/sec)",
    )
    .unwrap();
    assert_eq!(text(&out, "file.path"), Some("/home/bob//report.pdf"));
    assert_eq!(int(&out, "network.bytes"), Some(48213));

    let out = run("pure-ftpd", "(bob@203.0.113.7) [INFO] Logout.").unwrap();
    assert_eq!(text(&out, "event.action"), Some("ftp-logout"));
}

#[test]
fn bsd_ftpd_lines() {
    let out = run(
        "ftpd",
        "connection from 24.54.76.216 (24-54-76-216.bflony.adelphia.net) at Sun Jul 17 15:09:17 2005 ",
    )
    .unwrap();
    assert_eq!(text(&out, "source.ip"), Some("24.54.76.216"));
    assert_eq!(
        text(&out, "source.domain"),
        Some("24-54-76-216.bflony.adelphia.net")
    );
    assert_eq!(
        text(&out, "ftp.connection_time"),
        Some("Sun Jul 17 15:09:17 2005")
    );
    assert_eq!(text(&out, "event.start"), Some("2005-07-17T15:09:17Z"));
    assert_eq!(text(&out, "event.action"), Some("ftp-connection"));

    let out = run(
        "ftpd",
        "connection from 82.68.222.195 () at Sun Jul  3 04:38:38 2005",
    )
    .unwrap();
    assert_eq!(out.get("source.domain"), None);
    assert_eq!(text(&out, "event.start"), Some("2005-07-03T04:38:38Z"));

    let out = run("ftpd", "ANONYMOUS FTP LOGIN FROM 84.102.20.2,  (anonymous)").unwrap();
    assert_eq!(text(&out, "source.ip"), Some("84.102.20.2"));
    assert_eq!(text(&out, "user.name"), Some("anonymous"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));

    let out = run(
        "ftpd",
        "User unknown timed out after 900 seconds at Sat Jun 18 02:23:10 2005",
    )
    .unwrap();
    assert_eq!(int(&out, "ftp.timeout_secs"), Some(900));
    assert_eq!(
        text(&out, "ftp.timeout_time"),
        Some("Sat Jun 18 02:23:10 2005")
    );
    assert_eq!(text(&out, "event.end"), Some("2005-06-18T02:23:10Z"));
    assert_eq!(out.get("user.name"), None);

    let out = run(
        "ftpd",
        "getpeername (ftpd): Transport endpoint is not connected",
    )
    .unwrap();
    assert_eq!(
        text(&out, "error.message"),
        Some("Transport endpoint is not connected")
    );
}

#[test]
fn near_misses_are_refused() {
    assert!(run("vsftpd", "[bob] MAYBE LOGIN: Client \"1.2.3.4\"").is_none());
    assert!(run("vsftpd", "[bob] OK LOGIN: Server \"1.2.3.4\"").is_none());
    assert!(run("vsftpd", "[bob] OK TELEPORT: Client \"1.2.3.4\"").is_none());
    assert!(run(
        "proftpd",
        "ftp.example.com (client[not-an-ip]) - FTP session opened."
    )
    .is_none());
    assert!(run("pure-ftpd", "(bob@1.2.3.4) [info] lower-case level").is_none());
    assert!(run(
        "ftpd",
        "connection from nowhere () at Sun Jul 17 15:09:17 2005"
    )
    .is_none());
    assert!(run(
        "ftpd",
        "User bob timed out after many seconds at Sun Jul 17 15:09:17 2005"
    )
    .is_none());
    assert!(run("ftpd", "hello").is_none());
    assert!(run("ftpd", "").is_none());
}

#[test]
fn dispatcher_sends_ftp_servers_here() {
    let mut out = Output::default();
    let input =
        Input::new("connection from 24.54.76.216 () at Sun Jul 17 15:09:17 2005").app("ftpd");
    assert_eq!(dispatch(&input, &mut out), Some("ftp"));
    let input = Input::new("[bob] OK LOGIN: Client \"1.2.3.4\"").app("vsftpd");
    assert_eq!(dispatch(&input, &mut out), Some("ftp"));
}
