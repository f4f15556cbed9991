//! Generic JSON tests.

use super::*;

use crate::body::test_support::{int, list, recognised, text, time};

fn json(line: &str) -> Option<Output> {
    recognised(decode, line)
}

#[test]
fn ecs_groups_keep_their_names_and_the_rest_goes_under_json() {
    let out = json(r#"{"@timestamp":"2024-05-01T12:00:00.123Z","source":{"ip":"10.0.0.5","port":4242},"user":{"name":"alice"},"level":"warn","msg":"login failed","ctx":{"attempt":3,"ok":false,"ratio":0.5}}"#).unwrap();
    assert_eq!(time(&out), Some("2024-05-01T12:00:00.123Z".to_owned()));
    assert_eq!(text(&out, "source.ip"), Some("10.0.0.5"));
    assert_eq!(int(&out, "source.port"), Some(4242));
    assert_eq!(text(&out, "user.name"), Some("alice"));
    assert_eq!(text(&out, "json.level"), Some("warn"));
    assert_eq!(text(&out, "json.msg"), Some("login failed"));
    assert_eq!(int(&out, "json.ctx.attempt"), Some(3));
    assert_eq!(out.get("json.ctx.ok"), Some(&Value::Bool(false)));
    assert_eq!(out.get("json.ctx.ratio"), Some(&Value::Float(0.5)));
    assert_eq!(out.get("@timestamp"), None);
}

// A Docker json-file log line (docs.docker.com, "JSON File logging driver").
#[test]
fn docker_json_file_line() {
    let out = json(
        r#"{"log":"Log line is here\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}"#,
    )
    .unwrap();
    assert_eq!(
        time(&out),
        Some("2019-01-01T11:11:11.111111111Z".to_owned())
    );
    assert_eq!(text(&out, "json.log"), Some("Log line is here\n"));
    assert_eq!(text(&out, "json.stream"), Some("stdout"));
}

// A Caddy access log line (caddyserver.com/docs/logging), `ts` in epoch seconds.
#[test]
fn caddy_access_log_line() {
    let out = json(r#"{"level":"info","ts":1646861401.5241024,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"127.0.0.1","remote_port":"41342","proto":"HTTP/2.0","method":"GET","host":"localhost","uri":"/","headers":{"User-Agent":["curl/7.82.0"],"Accept":["*/*"]}},"duration":0.000929675,"size":10900,"status":200}"#).unwrap();
    assert_eq!(
        time(&out),
        Some("2022-03-09T21:30:01.524102400Z".to_owned())
    );
    assert_eq!(text(&out, "json.request.method"), Some("GET"));
    assert_eq!(
        list(&out, "json.request.headers.User-Agent"),
        Some(vec!["curl/7.82.0"])
    );
    assert_eq!(int(&out, "json.status"), Some(200));
}

// An ECS log line as ecs-logging libraries write it (elastic.co ECS logging guide).
#[test]
fn ecs_logging_line() {
    let out = json(r#"{"@timestamp":"2021-01-19T22:51:12.142Z","log.level":"info","message":"Hello world","ecs.version":"1.6.0","log":{"logger":"app"},"process":{"pid":4242,"name":"worker"},"http":{"request":{"method":"POST"},"response":{"status_code":201}},"labels":["a","b"]}"#).unwrap();
    assert_eq!(text(&out, "json.log.level"), Some("info"));
    assert_eq!(text(&out, "log.logger"), Some("app"));
    assert_eq!(int(&out, "process.pid"), Some(4242));
    assert_eq!(text(&out, "http.request.method"), Some("POST"));
    assert_eq!(int(&out, "http.response.status_code"), Some(201));
    assert_eq!(list(&out, "json.labels"), Some(vec!["a", "b"]));
    assert_eq!(text(&out, "json.message"), Some("Hello world"));
}

// A Kubernetes audit-style record with an array of objects and a u64 beyond i64.
#[test]
fn arrays_of_objects_and_big_numbers_keep_their_text() {
    let out = json(r#"{"kind":"Event","items":[{"a":1},{"b":2}],"big":18446744073709551615,"nothing":null,"timestamp":"2024-01-02T10:00:00.123456+0000"}"#).unwrap();
    assert_eq!(text(&out, "json.items"), Some(r#"[{"a":1},{"b":2}]"#));
    assert_eq!(text(&out, "json.big"), Some("18446744073709551615"));
    assert_eq!(out.get("json.nothing"), None);
    assert_eq!(time(&out), Some("2024-01-02T10:00:00.123456Z".to_owned()));
}

#[test]
fn deep_nesting_is_capped() {
    let depth = 40;
    let line = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    let out = json(&line).unwrap();
    assert_eq!(out.len(), 1);
    let (name, value) = out.iter().next().unwrap();
    assert_eq!(name.split('.').count(), MAX_FLATTEN_DEPTH + 1);
    assert!(value.as_str().unwrap().starts_with(r#"{"a":"#));
}

#[test]
fn hostile_nesting_fails_fast() {
    let started = std::time::Instant::now();
    for open in ["[", "{", r#"{"a":"#] {
        let line = format!("{{\"x\":{}", open.repeat(10_000));
        assert!(json(&line).is_none());
        let closed = format!("{{\"x\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(json(&closed).is_none());
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn many_keys_are_capped() {
    let members: Vec<String> = (0..5000).map(|n| format!("\"k{n}\":{n}")).collect();
    let line = format!("{{{}}}", members.join(","));
    let out = json(&line).unwrap();
    assert_eq!(out.len(), MAX_FIELDS);
}

#[test]
fn oversized_messages_are_refused() {
    let line = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_JSON_BYTES));
    assert!(json(&line).is_none());
}

#[test]
fn near_misses_are_refused() {
    for line in [
        "[1,2,3]",
        r#""just a string""#,
        r#"{"a":1"#,
        r#"{"a":1} trailing"#,
        r#"{"a":1}{"b":2}"#,
        "{not json}",
        "",
    ] {
        assert!(json(line).is_none(), "{line:?}");
    }
}

#[test]
fn time_forms() {
    let read = |text: &str| parse_time(text).map(|t| t.to_string());
    assert_eq!(
        read("2024-01-02T10:00:00Z"),
        Some("2024-01-02T10:00:00Z".into())
    );
    assert_eq!(
        read("2024-01-02T10:00:00+01:00"),
        Some("2024-01-02T09:00:00Z".into())
    );
    assert_eq!(
        read("2024-01-02T10:00:00.5-0130"),
        Some("2024-01-02T11:30:00.500Z".into())
    );
    assert_eq!(
        read("2024-01-02 10:00:00"),
        Some("2024-01-02T10:00:00Z".into())
    );
    assert_eq!(
        read("2009-11-24T21:27:09.534255"),
        Some("2009-11-24T21:27:09.534255Z".into())
    );
    assert_eq!(
        read("1591367999.305988"),
        Some("2020-06-05T14:39:59.305988Z".into())
    );
    assert_eq!(read("1700000000000"), Some("2023-11-14T22:13:20Z".into()));
    assert_eq!(read("2024-01-02"), Some("2024-01-02T00:00:00Z".into()));
    assert_eq!(read("yesterday"), None);
    assert_eq!(read("2024-13-45T99:00:00Z"), None);
    assert_eq!(read("1e400"), None);
}

#[test]
fn the_dispatcher_sends_json_objects_here() {
    let mut out = Output::default();
    let line = r#"{"event":{"action":"user-login"},"user":{"name":"bob"}}"#;
    assert_eq!(
        super::super::decode(&Input::new(line), &mut out),
        Some("json")
    );
    assert_eq!(text(&out, "event.action"), Some("user-login"));
}

proptest::proptest! {
    /// The hand-written ISO 8601 reader gives what chrono gives, or leaves the text to it.
    #[test]
    fn iso8601_agrees_with_chrono(
        year in 0u32..10_000,
        month in 0u32..14,
        day in 0u32..33,
        hour in 0u32..26,
        minute in 0u32..62,
        second in 0u32..62,
        fraction in proptest::option::of("[0-9]{0,11}"),
        separator in proptest::sample::select(vec!["T", " ", "t", "_"]),
        offset in proptest::sample::select(vec![
            "", "Z", "z", "+00:00", "+01:00", "-05:30", "+0530", "-1200", "+23:59", "+24:00",
            "+01:60", "+1", "+01:0", "Z ", "UTC",
        ]),
    ) {
        let fraction = fraction.map(|digits| format!(".{digits}")).unwrap_or_default();
        let text = format!(
            "{year:04}-{month:02}-{day:02}{separator}{hour:02}:{minute:02}:{second:02}{fraction}{offset}"
        );
        if let Some(fast) = iso8601(&text) {
            proptest::prop_assert_eq!(Some(fast), parse_time_chrono(&text), "{}", text);
        }
        proptest::prop_assert_eq!(parse_time(&text), parse_time_chrono(text.trim()), "{}", text);
    }
}

#[test]
fn iso8601_reads_the_common_forms_itself() {
    for text in [
        "2024-01-02T10:00:00Z",
        "2024-01-02T10:00:00.123456+01:00",
        "2024-01-02 10:00:00.5-0130",
        "2009-11-24T21:27:09.534255",
        "2024-02-29T23:59:59.999999999Z",
    ] {
        assert!(iso8601(text).is_some(), "{text}");
        assert_eq!(iso8601(text), parse_time_chrono(text), "{text}");
    }
    for text in [
        "2023-02-29T10:00:00Z",
        "2024-01-02T10:00:60Z",
        "2024-01-02T10:00:00.Z",
        // Multi-byte characters where digits belong: refused, never sliced through.
        "2024-01-02T10:00:00+0é0",
        "2024-01-02T10:00:00+é:00",
        "2024-01-0éT10:00:00Z",
        "2024-01-02é10:00:00Z",
    ] {
        assert_eq!(iso8601(text), None, "{text}");
    }
}
