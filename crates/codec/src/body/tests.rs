//! Dispatch: which decoder a line reaches. Each decoder's own tests are in its module.

use super::*;

#[test]
fn app_names_choose_their_decoder() {
    let names = |app: &str| by_app(app).iter().map(|d| d.name).collect::<Vec<_>>();
    assert_eq!(names("sshd"), ["sshd"]);
    assert_eq!(names("postfix/smtpd"), ["postfix"]);
    assert_eq!(names("%ASA-6-302013"), ["cisco_asa"]);
    assert_eq!(names("su(pam_unix)"), ["pam"]);
    assert_eq!(names("kernel"), ["netfilter", "linux"]);
    assert_eq!(names("udev"), ["linux"]);
    assert!(names("myapp").is_empty());
}

#[test]
fn message_prefixes_choose_their_decoder() {
    let name = |message: &str| by_prefix(message).map(|d| d.name);
    assert_eq!(name("CEF:0|Vendor|Product|1|100|name|5|"), Some("cef"));
    assert_eq!(name("LEEF:1.0|Vendor|Product|1|id|"), Some("leef"));
    assert_eq!(name("{\"a\":1}"), Some("json"));
    assert_eq!(name("%ASA-6-302013: Built"), Some("cisco_asa"));
    assert_eq!(name("%SYS-5-CONFIG_I: Configured"), Some("cisco_ios"));
    assert_eq!(
        name("date=2024-01-01 time=10:00:00 devname=fw"),
        Some("fortigate")
    );
    assert_eq!(
        name("1,2024/01/01 10:00:00,001801000000,TRAFFIC,end,2561,"),
        Some("paloalto")
    );
    assert_eq!(
        name("5,,,1000000103,em0,match,block,in,4,"),
        Some("filterlog")
    );
    assert_eq!(
        name("10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET"),
        Some("web")
    );
    assert_eq!(name("2024/01/01 10:00:00 [error] 1#1: x"), Some("web"));
    assert_eq!(
        name("1700000000.123    12 10.0.0.1 TCP_MISS/200"),
        Some("squid")
    );
    assert_eq!(name("hello world"), None);
    assert_eq!(name(""), None);
}

#[test]
fn an_unknown_line_leaves_the_output_empty() {
    let mut out = Output::default();
    out.put("stale", "value");
    assert_eq!(decode(&Input::new("just some words"), &mut out), None);
    assert!(out.is_empty());
}

#[test]
fn output_helpers_refuse_what_is_not_their_type() {
    let mut out = Output::default();
    assert!(!out.put_ip("source.ip", "not-an-ip"));
    assert!(out.put_ip("source.ip", "[2001:db8::1]"));
    assert!(!out.put_int("source.port", "80a"));
    out.put_str("user.name", "-");
    out.put_str("user.name", "  ");
    assert_eq!(out.len(), 1);
    assert_eq!(out.get("source.ip"), Some(&Value::from("2001:db8::1")));
}

#[test]
fn the_source_is_kept_apart_typed_and_the_last_one_wins() {
    let mut out = Output::default();
    assert!(out.put_ip("source.ip", "10.0.0.1"));
    assert!(out.put_ip("source.ip", "[2001:db8::1]"));
    assert!(out.put_int("source.port", "443"));
    out.put("user.name", "alice");
    assert_eq!(out.len(), 3);
    assert_eq!(out.get("source.ip"), Some(&Value::from("2001:db8::1")));
    assert_eq!(
        out.take_source(),
        (Some("2001:db8::1".parse().expect("address")), Some(443))
    );
    assert_eq!(out.take_source(), (None, None));
    assert_eq!(out.len(), 1);

    // What is not an address or a port number stays a field, and is no typed source.
    out.put("source.ip", "gateway.example");
    out.put("source.port", 70_000_i64);
    assert_eq!(out.take_source(), (None, None));
    assert_eq!(out.get("source.ip"), Some(&Value::from("gateway.example")));
    assert_eq!(out.get("source.port"), Some(&Value::Int(70_000)));
    out.clear();
    assert!(out.is_empty());
}

#[test]
fn moving_into_a_map_keeps_its_other_fields_and_sorts_once() {
    let mut fields: vigil_event::Fields = [
        ("log.file.path".into(), Value::from("/var/log/a.log")),
        ("user.name".into(), Value::from("held")),
    ]
    .into_iter()
    .collect();
    let mut out = Output::default();
    out.put("user.name", "decoded");
    out.put("event.outcome", "failure");
    out.put("event.action", "login");
    out.put("event.outcome", "success");
    out.move_into(&mut fields, 2);
    let names: Vec<&str> = fields.keys().map(|name| name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "event.action",
            "event.outcome",
            "log.file.path",
            "user.name"
        ]
    );
    assert_eq!(fields["user.name"], Value::from("decoded"));
    assert_eq!(fields["event.outcome"], Value::from("success"));
    assert!(out.is_empty());
    // The output is ready for the next line.
    out.put("event.action", "logout");
    assert_eq!(out.len(), 1);
}

/// The decoders whose output is in name order stay so: the event's map then takes it without a
/// sort (`Output::move_into`), which was a fifth of what normalising cost.
#[test]
fn common_outputs_come_in_name_order() {
    let lines = [
        ("sshd", "Failed password for invalid user admin from 203.0.113.9 port 50022 ssh2"),
        ("sshd", "Accepted publickey for deploy from 10.1.1.1 port 40000 ssh2: RSA SHA256:abcdef"),
        ("sshd", "Invalid user oracle from 10.0.0.7 port 4242"),
        ("su(pam_unix)", "session opened for user news by (uid=0)"),
        ("sshd", "pam_unix(sshd:session): session closed for user root"),
        (
            "",
            "203.0.113.9 - bob [10/May/2024:11:37:47 +0000] \"GET /a?b=1 HTTP/1.1\" 200 5120 \"-\" \"curl/8\"",
        ),
    ];
    for (app, message) in lines {
        let mut input = Input::new(message);
        input.app = (!app.is_empty()).then_some(app);
        let mut out = Output::default();
        assert!(decode(&input, &mut out).is_some(), "{message}");
        out.take_source();
        let names: Vec<&str> = out.iter().map(|(name, _)| name).collect();
        assert!(names.is_sorted(), "{message}: {names:?}");
    }
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    const APPS: [&str; 12] = [
        "sshd",
        "sudo",
        "kernel",
        "filterlog",
        "named",
        "dhcpd",
        "ftpd",
        "postgres",
        "httpd",
        "postfix/smtpd",
        "%ASA-4-106023",
        "su(pam_unix)",
    ];

    /// Real-looking starts that reach each prefix-chosen decoder, then anything.
    fn message() -> impl Strategy<Value = String> {
        let starts = prop::sample::select(vec![
            "",
            "{\"",
            "CEF:0|",
            "LEEF:2.0|",
            "%ASA-6-",
            "%SYS-5-",
            "date=",
            "[",
            "1,2024/",
            "5,,,",
            "10.0.0.1 - - [",
            "2024/01/01 ",
            "1700000000.1 ",
            "Failed password for ",
            "pam_unix(sshd:auth): ",
            "DHCPACK on ",
            "client ",
            "query[A] ",
        ]);
        (starts, ".{0,200}").prop_map(|(start, rest)| format!("{start}{rest}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn any_message_under_any_app(message in message(), app in 0..=APPS.len()) {
            let mut input = Input::new(&message);
            input.app = APPS.get(app).copied();
            let mut out = Output::default();
            if decode(&input, &mut out).is_none() {
                prop_assert!(out.is_empty());
            }
        }
    }
}

/// Lines whose syslog header was missing or split the body where no decoder looks still reach
/// their decoder: the `<PRI>` of an unparsed line, an IOS tag or a PAN-OS record taken for the
/// app-name, a device name before an IOS tag.
#[test]
fn bodies_split_by_the_syslog_header_are_put_back_together() {
    let fortigate = "date=2019-05-10 time=11:37:47 devname=\"FG100E\" devid=\"FG100E3G16000000\" \
        logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" level=\"notice\" vd=\"root\" \
        srcip=10.1.1.5 srcport=51234 dstip=203.0.113.80 dstport=443 action=\"deny\" policyid=3 proto=6";
    let cases: [(Option<&str>, String, &str); 5] = [
        (None, format!("<189>{fortigate}"), "fortigate"),
        (None, "<189>core-rtr1 %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.9)".into(), "cisco_ios"),
        (None, "<189>123: *Mar  1 00:01:02.345 UTC: %SYS-5-CONFIG_I: Configured from console by vty0 (10.0.0.9)".into(), "cisco_ios"),
        (Some("%SYS-5-CONFIG_I"), "Configured from console by admin on vty0 (10.0.0.9)".into(), "cisco_ios"),
        (
            Some("1,2013/03/25"),
            "10:00:00,001606001116,TRAFFIC,drop,1,2013/03/25 10:00:00,10.0.0.5,198.51.100.7,0.0.0.0,0.0.0.0,rule1,,,ssl,vsys1,trust,untrust,ethernet1/1,ethernet1/2,Forward,2013/03/25 10:00:00,0,1,51234,443,0,0,0x0,tcp,deny,60,60,0,1,2013/03/25 10:00:00,0,any,0,1,0x0,10.0.0.0-10.255.255.255,United States,0,1,0,policy-deny".into(),
            "paloalto",
        ),
    ];
    let mut out = Output::default();
    for (app, message, expected) in &cases {
        let mut input = Input::new(message);
        input.app = *app;
        assert_eq!(
            decode(&input, &mut out),
            Some(*expected),
            "{app:?} {message}"
        );
    }
    // A `<…>` that is not a PRI, and ordinary lines, are left as they are.
    assert_eq!(decode(&Input::new("<b>bold</b> text"), &mut out), None);
    let not_a_pri = format!("<1234>{fortigate}");
    assert_ne!(decode(&Input::new(&not_a_pri), &mut out), Some("fortigate"));
}
