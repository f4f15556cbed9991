use vigil_event::Value;

use super::super::{decode as dispatch, Input, Output};
use super::decode;

fn decoded(line: &str) -> Output {
    let mut out = Output::default();
    assert!(
        decode(&Input::new(line), &mut out),
        "not recognised: {line}"
    );
    out
}

fn refused(line: &str) {
    let mut out = Output::default();
    assert!(!decode(&Input::new(line), &mut out), "recognised: {line}");
}

use crate::body::test_support::{int, text};

fn time(out: &Output) -> String {
    out.timestamp()
        .map(|time| time.to_string())
        .unwrap_or_default()
}

// Access logs. The first line is the combined-format example of the Apache httpd documentation
// (https://httpd.apache.org/docs/2.4/logs.html); the others are in the formats nginx and Apache
// write.

#[test]
fn combined_access_line_fills_every_field() {
    let out = decoded(
        r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?x=1 HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#,
    );
    assert_eq!(text(&out, "source.ip"), Some("127.0.0.1"));
    assert_eq!(text(&out, "user.name"), Some("frank"));
    assert_eq!(text(&out, "http.request.method"), Some("GET"));
    assert_eq!(text(&out, "url.original"), Some("/apache_pb.gif?x=1"));
    assert_eq!(text(&out, "url.path"), Some("/apache_pb.gif"));
    assert_eq!(text(&out, "url.query"), Some("x=1"));
    assert_eq!(text(&out, "http.version"), Some("1.0"));
    assert_eq!(int(&out, "http.response.status_code"), Some(200));
    assert_eq!(int(&out, "http.response.body.bytes"), Some(2326));
    assert_eq!(
        text(&out, "http.request.referrer"),
        Some("http://www.example.com/start.html")
    );
    assert_eq!(
        text(&out, "user_agent.original"),
        Some("Mozilla/4.08 [en] (Win98; I ;Nav)")
    );
    assert_eq!(text(&out, "event.category"), Some("web"));
    assert_eq!(text(&out, "event.type"), Some("access"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));
    assert_eq!(time(&out), "2000-10-10T20:55:36Z");
}

#[test]
fn common_access_line_with_no_body_and_a_failure_status() {
    let out = decoded(
        r#"192.168.1.100 - - [10/Apr/2025:16:22:11 +0000] "POST /api/login HTTP/2.0" 401 -"#,
    );
    assert_eq!(text(&out, "source.ip"), Some("192.168.1.100"));
    assert_eq!(out.get("user.name"), None);
    assert_eq!(text(&out, "http.request.method"), Some("POST"));
    assert_eq!(text(&out, "http.version"), Some("2.0"));
    assert_eq!(int(&out, "http.response.status_code"), Some(401));
    assert_eq!(out.get("http.response.body.bytes"), None);
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(time(&out), "2025-04-10T16:22:11Z");
}

#[test]
fn nginx_access_line_with_ipv6_client_escaped_quote_and_extra_fields() {
    let out = decoded(
        r#"2001:db8::5 - - [01/Jan/2024:10:00:00 +0100] "GET /search?q=%22a%22 HTTP/1.1" 404 153 "-" "curl/8.0 \"quoted\"" "10.1.1.1""#,
    );
    assert_eq!(text(&out, "source.ip"), Some("2001:db8::5"));
    assert_eq!(text(&out, "url.query"), Some("q=%22a%22"));
    assert_eq!(out.get("http.request.referrer"), None);
    assert_eq!(
        text(&out, "user_agent.original"),
        Some(r#"curl/8.0 "quoted""#)
    );
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(time(&out), "2024-01-01T09:00:00Z");
}

#[test]
fn malformed_request_lines_stay_raw_without_a_method() {
    let out = decoded(
        r#"203.0.113.9 - - [05/Mar/2023:01:02:03 +0000] "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" 400 226 "-" "-""#,
    );
    assert_eq!(
        text(&out, "url.original"),
        Some(r"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    );
    assert_eq!(out.get("http.request.method"), None);
    assert_eq!(int(&out, "http.response.status_code"), Some(400));

    let out = decoded(r#"203.0.113.9 - - [05/Mar/2023:01:02:03 +0000] "-" 408 0 "-" "-""#);
    assert_eq!(out.get("url.original"), None);
    assert_eq!(int(&out, "http.response.body.bytes"), Some(0));
}

#[test]
fn vhost_combined_and_proxy_targets() {
    let out = decoded(
        r#"www.example.com:443 198.51.100.7 - alice [12/Dec/2022:23:59:59 -0500] "GET http://other.example:8080/p?a=b HTTP/1.1" 302 0 "-" "Wget/1.21""#,
    );
    assert_eq!(text(&out, "source.ip"), Some("198.51.100.7"));
    assert_eq!(text(&out, "user.name"), Some("alice"));
    assert_eq!(text(&out, "url.scheme"), Some("http"));
    assert_eq!(text(&out, "url.domain"), Some("other.example"));
    assert_eq!(int(&out, "url.port"), Some(8080));
    assert_eq!(text(&out, "url.path"), Some("/p"));
    assert_eq!(time(&out), "2022-12-13T04:59:59Z");
}

#[test]
fn squid_combined_trailer_is_read() {
    let out = decoded(
        r#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "CONNECT www.example.com:443 HTTP/1.1" 200 5120 "-" "Mozilla/5.0" TCP_TUNNEL:HIER_DIRECT"#,
    );
    assert_eq!(text(&out, "http.request.method"), Some("CONNECT"));
    assert_eq!(text(&out, "url.domain"), Some("www.example.com"));
    assert_eq!(int(&out, "url.port"), Some(443));
    assert_eq!(text(&out, "squid.cache_status"), Some("TCP_TUNNEL"));
    assert_eq!(text(&out, "squid.hierarchy"), Some("HIER_DIRECT"));
}

#[test]
fn access_near_misses_are_refused() {
    refused(r#"10.0.0.1 - - [not a date] "GET / HTTP/1.1" 200 1"#);
    refused(r#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] GET / HTTP/1.1 200 1"#);
    refused(r#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" OK 1"#);
    refused(r#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1"#);
    refused("10.0.0.1 connected to 10.0.0.2 [ok]");
    refused(r#"a b c d e [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1"#);
}

#[test]
fn access_line_reaches_web_through_the_dispatcher() {
    let line = r#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1"#;
    let mut out = Output::default();
    assert_eq!(dispatch(&Input::new(line), &mut out), Some("web"));
    assert_eq!(
        dispatch(&Input::new(line).app("nginx"), &mut out),
        Some("web")
    );
}

// Apache error logs: the Apache 1.3/2.0 lines are from the Loghub Apache data set; the 2.x and
// 2.4 ones from the httpd documentation (logs.html, mod/core.html#errorlogformat).

#[test]
fn apache_13_error_lines_with_mod_jk_messages() {
    let out = decoded("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties");
    assert_eq!(time(&out), "2005-12-04T04:47:44Z");
    assert_eq!(text(&out, "log.level"), Some("notice"));
    assert_eq!(text(&out, "event.type"), Some("info"));
    assert_eq!(
        text(&out, "file.path"),
        Some("/etc/httpd/conf/workers2.properties")
    );

    let out = decoded(
        "[Sun Dec 04 04:51:08 2005] [notice] jk2_init() Found child 6725 in scoreboard slot 10",
    );
    assert_eq!(int(&out, "process.pid"), Some(6725));
    assert_eq!(int(&out, "apache.scoreboard_slot"), Some(10));

    let out = decoded("[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6");
    assert_eq!(text(&out, "log.level"), Some("error"));
    assert_eq!(text(&out, "event.type"), Some("error"));
    assert_eq!(int(&out, "apache.mod_jk.error_state"), Some(6));
    assert_eq!(
        text(&out, "error.message"),
        Some("mod_jk child workerEnv in error state 6")
    );

    let out = decoded("[Sun Dec 04 06:01:00 2005] [error] mod_jk child init 1 -2");
    assert_eq!(int(&out, "apache.mod_jk.child_init.initialized"), Some(1));
    assert_eq!(int(&out, "apache.mod_jk.child_init.status"), Some(-2));

    let out = decoded(
        "[Sun Dec 04 06:01:00 2005] [error] jk2_init() Can't find child 5054 in scoreboard",
    );
    assert_eq!(int(&out, "process.pid"), Some(5054));
}

#[test]
fn apache_2_error_line_with_client_and_path() {
    let out = decoded("[Sun Dec 04 04:52:04 2005] [error] [client 222.166.160.184] Directory index forbidden by rule: /var/www/html/");
    assert_eq!(text(&out, "source.ip"), Some("222.166.160.184"));
    assert_eq!(text(&out, "file.path"), Some("/var/www/html/"));
    assert_eq!(
        text(&out, "error.message"),
        Some("Directory index forbidden by rule: /var/www/html/")
    );

    let out = decoded("[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /export/home/live/ap/htdocs/test, referer: http://example.com/a");
    assert_eq!(
        text(&out, "file.path"),
        Some("/export/home/live/ap/htdocs/test")
    );
    assert_eq!(
        text(&out, "http.request.referrer"),
        Some("http://example.com/a")
    );
}

#[test]
fn apache_24_error_lines() {
    let out = decoded("[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico");
    assert_eq!(time(&out), "2011-09-09T10:42:29.902022Z");
    assert_eq!(text(&out, "apache.error.module"), Some("core"));
    assert_eq!(text(&out, "log.level"), Some("error"));
    assert_eq!(int(&out, "process.pid"), Some(35708));
    assert_eq!(int(&out, "process.thread.id"), Some(4328636416));
    assert_eq!(text(&out, "source.ip"), Some("72.15.99.187"));
    assert_eq!(
        text(&out, "file.path"),
        Some("/usr/local/apache2/htdocs/favicon.ico")
    );

    let out = decoded("[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 1234:tid 5678] [client 1.2.3.4:5678] AH00126: Invalid URI in request GET /x HTTP/1.1");
    assert_eq!(text(&out, "source.ip"), Some("1.2.3.4"));
    assert_eq!(int(&out, "source.port"), Some(5678));
    assert_eq!(text(&out, "error.code"), Some("AH00126"));
    assert_eq!(
        text(&out, "error.message"),
        Some("Invalid URI in request GET /x HTTP/1.1")
    );

    let out = decoded("[Thu Jan 04 09:00:00.000001 2024] [authz_core:error] [pid 99] [client 2001:db8::7:51234] AH01630: client denied by server configuration: /srv/www/private");
    assert_eq!(text(&out, "source.ip"), Some("2001:db8::7"));
    assert_eq!(int(&out, "source.port"), Some(51234));
    assert_eq!(text(&out, "file.path"), Some("/srv/www/private"));
}

#[test]
fn apache_error_via_syslog_needs_the_web_server_tag() {
    let line = "[proxy:warn] [pid 4321] AH01144: No protocol handler was valid for the URL /x";
    let mut out = Output::default();
    assert_eq!(
        dispatch(&Input::new(line).app("apache2"), &mut out),
        Some("web")
    );
    assert_eq!(text(&out, "apache.error.module"), Some("proxy"));
    assert_eq!(text(&out, "log.level"), Some("warn"));
    assert_eq!(dispatch(&Input::new(line), &mut out), None);
}

#[test]
fn apache_error_near_misses_are_refused() {
    refused("[Sun Dec 04 04:47:44 2005] workerEnv.init() ok");
    refused("[Sun Dec 04 04:47:44 2005] [NOTICE-ish] text");
    refused("[INFO] service started");
    refused("[Sun Dec 44 04:47:44 2005] [notice] text");
    refused("[2024-01-01 10:00:00] [error] something");
}

#[test]
fn apache_error_line_reaches_web_through_the_dispatcher() {
    let mut out = Output::default();
    let line = "[Sun Dec 04 04:52:04 2005] [error] [client 222.166.160.184] Directory index forbidden by rule: /var/www/html/";
    assert_eq!(dispatch(&Input::new(line), &mut out), Some("web"));
    assert_eq!(text(&out, "source.ip"), Some("222.166.160.184"));
}

// nginx error logs: the first line is the example of "Mastering Nginx" (Packt, ch. 8); the others
// are real nginx messages.

#[test]
fn nginx_error_lines() {
    let out = decoded(
        r#"2012/10/14 18:50:34 [error] 2632#0: *1 open() "/opt/nginx/html/blog" failed (2: No such file or directory), client: 127.0.0.1, server: www.example.com, request: "GET /blog HTTP/1.0", host: "www.example.com""#,
    );
    assert_eq!(time(&out), "2012-10-14T18:50:34Z");
    assert_eq!(text(&out, "log.level"), Some("error"));
    assert_eq!(int(&out, "process.pid"), Some(2632));
    assert_eq!(int(&out, "process.thread.id"), Some(0));
    assert_eq!(int(&out, "nginx.error.connection_id"), Some(1));
    assert_eq!(text(&out, "file.path"), Some("/opt/nginx/html/blog"));
    assert_eq!(
        text(&out, "error.message"),
        Some(r#"open() "/opt/nginx/html/blog" failed (2: No such file or directory)"#)
    );
    assert_eq!(text(&out, "source.ip"), Some("127.0.0.1"));
    assert_eq!(
        text(&out, "nginx.error.server_name"),
        Some("www.example.com")
    );
    assert_eq!(text(&out, "http.request.method"), Some("GET"));
    assert_eq!(text(&out, "url.original"), Some("/blog"));
    assert_eq!(text(&out, "url.domain"), Some("www.example.com"));

    let out = decoded(r#"2012/10/14 18:56:41 [notice] 2761#0: using inherited sockets from "6;""#);
    assert_eq!(text(&out, "log.level"), Some("notice"));
    assert_eq!(text(&out, "event.type"), Some("info"));
    assert_eq!(out.get("nginx.error.connection_id"), None);

    let out = decoded(
        r#"2024/03/01 08:15:00 [error] 812#812: *77 user "bob": password mismatch, client: 198.51.100.4, server: _, request: "GET /admin HTTP/1.1", host: "10.0.0.2""#,
    );
    assert_eq!(text(&out, "user.name"), Some("bob"));
    assert_eq!(text(&out, "source.ip"), Some("198.51.100.4"));

    let out = decoded(
        r#"2024/03/01 08:15:00 [error] 812#812: *78 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.9, server: api, request: "POST /v1 HTTP/1.1", upstream: "http://127.0.0.1:8080/v1", host: "api.example.com", referrer: "https://app.example.com/""#,
    );
    assert_eq!(
        text(&out, "nginx.error.upstream"),
        Some("http://127.0.0.1:8080/v1")
    );
    assert_eq!(
        text(&out, "http.request.referrer"),
        Some("https://app.example.com/")
    );
    assert_eq!(text(&out, "http.request.method"), Some("POST"));

    let out = decoded("2012/10/14 19:11:50 [crit] 3142#0: the changing binary signal is ignored");
    assert_eq!(text(&out, "log.level"), Some("crit"));
    assert_eq!(text(&out, "event.type"), Some("error"));
}

#[test]
fn nginx_error_near_misses_are_refused() {
    refused("2024/01/01 10:00:00 [fatal] 1#1: nope");
    refused("2024/01/01 10:00:00 [error] oops: no pid");
    refused("2024/13/01 10:00:00 [error] 1#1: bad month");
    refused("2024/01/01 [error] 1#1: no clock");
}

#[test]
fn nginx_error_line_reaches_web_through_the_dispatcher() {
    let mut out = Output::default();
    let line = "2024/01/01 10:00:00 [error] 1234#1234: *5 open() \"/x\" failed (2: No such file or directory), client: 1.2.3.4, server: localhost, request: \"GET /x HTTP/1.1\", host: \"example.com\"";
    assert_eq!(dispatch(&Input::new(line), &mut out), Some("web"));
    assert_eq!(text(&out, "source.ip"), Some("1.2.3.4"));
}

#[test]
fn arbitrary_bytes_never_panic() {
    let lines = [
        "[",
        "[]",
        "[Sun",
        "[Sun Dec 04 04:47:44 2005] [",
        "1.2.3.4 - - [",
        "1.2.3.4 - - [x] \"",
        "2024/01/01 10:00:00 [error] 1#1: a, client: ",
        "2024/01/01 10:00:00 [error] 1#1: *",
        "é - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1 \"\\",
        "[Sun Dec 04 04:47:44 2005] [error] [client ::1:] x: ",
        "2024/01/01 10:00:00 [error] 1#1: x, client: 1, server: \"",
    ];
    for line in lines {
        let mut out = Output::default();
        let _ = decode(&Input::new(line), &mut out);
    }
}

/// The Loghub Apache error log (Apache 1.3/2.0 with mod_jk2): every variable part of each line's
/// template must be in a field. Runs when the corpus is present
/// (`VIGIL_APACHE_EXPECT`: lines of `raw line \t variable \t variable…`).
#[test]
fn loghub_apache_variables_land_in_fields() {
    let Ok(path) = std::env::var("VIGIL_APACHE_EXPECT") else {
        return;
    };
    let expected = std::fs::read_to_string(path).expect("readable expectations");
    let (mut total, mut covered) = (0, 0);
    for row in expected.lines() {
        let mut columns = row.split('\t');
        let line = columns.next().unwrap_or_default();
        let mut out = Output::default();
        total += 1;
        if dispatch(&Input::new(line), &mut out) != Some("web") {
            eprintln!("not decoded: {line}");
            continue;
        }
        let values: Vec<String> = out
            .iter()
            .map(|(_, value)| match value {
                Value::Str(text) => text.to_string(),
                Value::Int(number) => number.to_string(),
                other => format!("{other:?}"),
            })
            .collect();
        if columns.all(|variable| values.iter().any(|value| value.contains(variable))) {
            covered += 1;
        } else {
            eprintln!("missing a variable: {line}");
        }
    }
    eprintln!("{covered}/{total} lines have every variable in a field");
    assert!(covered * 100 >= total * 98);
}
