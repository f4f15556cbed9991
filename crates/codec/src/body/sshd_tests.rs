//! Fixtures: lines from loghub's OpenSSH and Linux samples (logpai/loghub, see
//! shared/corpus/logs/LICENSE), and OpenSSH 7.x–9.x wordings from its source (auth.c, sshd.c,
//! packet.c) as seen in Debian/Ubuntu auth.log.

use super::super::{decode as dispatch, Input, Output, Value};
use super::*;

fn run(message: &str) -> Option<Output> {
    let mut out = Output::default();
    decode(&Input::new(message).app("sshd"), &mut out).then_some(out)
}

use crate::body::test_support::{int, text};

#[test]
fn accepted_password() {
    let out = run("Accepted password for fztu from 119.137.62.142 port 49116 ssh2").unwrap();
    assert_eq!(text(&out, "user.name"), Some("fztu"));
    assert_eq!(text(&out, "source.ip"), Some("119.137.62.142"));
    assert_eq!(int(&out, "source.port"), Some(49116));
    assert_eq!(text(&out, "sshd.auth.method"), Some("password"));
    assert_eq!(text(&out, "event.category"), Some("authentication"));
    assert_eq!(text(&out, "event.type"), Some("start"));
    assert_eq!(text(&out, "event.action"), Some("ssh-login"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));
}

#[test]
fn accepted_publickey_with_fingerprint() {
    let out = run(
        "Accepted publickey for alice from 2001:db8::7 port 50022 ssh2: RSA SHA256:Rg8ZsXh4bVMvO9xq0cd5tQ4cGk3z5eE8h7n1yQ0mJ6Y",
    )
    .unwrap();
    assert_eq!(text(&out, "source.ip"), Some("2001:db8::7"));
    assert_eq!(text(&out, "sshd.auth.method"), Some("publickey"));
    assert_eq!(text(&out, "sshd.auth.key_type"), Some("RSA"));
    assert_eq!(
        text(&out, "sshd.auth.key_fingerprint"),
        Some("SHA256:Rg8ZsXh4bVMvO9xq0cd5tQ4cGk3z5eE8h7n1yQ0mJ6Y")
    );
}

#[test]
fn failed_password_for_invalid_user() {
    let out = run("Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2")
        .unwrap();
    assert_eq!(text(&out, "user.name"), Some("webmaster"));
    assert_eq!(out.get("sshd.invalid_user"), Some(&Value::Bool(true)));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(text(&out, "event.type"), Some("info"));

    let out = run("Failed none for invalid user 0 from 5.188.10.180 port 49811 ssh2").unwrap();
    assert_eq!(text(&out, "user.name"), Some("0"));
    assert_eq!(text(&out, "sshd.auth.method"), Some("none"));

    let out =
        run("Failed keyboard-interactive/pam for root from 10.1.2.3 port 2222 ssh2 [preauth]")
            .unwrap();
    assert_eq!(
        text(&out, "sshd.auth.method"),
        Some("keyboard-interactive/pam")
    );
    assert_eq!(out.get("sshd.preauth"), Some(&Value::Bool(true)));
}

#[test]
fn invalid_user_lines() {
    let out = run("Invalid user webmaster from 173.234.31.186").unwrap();
    assert_eq!(text(&out, "user.name"), Some("webmaster"));
    assert_eq!(text(&out, "source.ip"), Some("173.234.31.186"));
    assert_eq!(text(&out, "event.action"), Some("ssh-invalid-user"));

    let out = run("Invalid user admin from 192.0.2.10 port 51234").unwrap();
    assert_eq!(int(&out, "source.port"), Some(51234));

    let out = run("Invalid user  from 192.0.2.10 port 51234").unwrap();
    assert_eq!(out.get("user.name"), None);

    let out = run("input_userauth_request: invalid user webmaster [preauth]").unwrap();
    assert_eq!(text(&out, "user.name"), Some("webmaster"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
}

#[test]
fn connection_closed_and_disconnects() {
    let out = run("Connection closed by 173.234.31.186 [preauth]").unwrap();
    assert_eq!(text(&out, "source.ip"), Some("173.234.31.186"));
    assert_eq!(text(&out, "event.category"), Some("network"));
    assert_eq!(text(&out, "event.action"), Some("ssh-connection-closed"));
    assert_eq!(
        out.get("event.type"),
        Some(&Value::List(vec![
            Value::from("connection"),
            Value::from("end")
        ]))
    );

    let out = run("Connection closed by authenticating user root 203.0.113.9 port 40022 [preauth]")
        .unwrap();
    assert_eq!(text(&out, "user.name"), Some("root"));
    assert_eq!(int(&out, "source.port"), Some(40022));

    let out = run("Received disconnect from 52.80.34.196: 11: Bye Bye [preauth]").unwrap();
    assert_eq!(text(&out, "source.ip"), Some("52.80.34.196"));
    assert_eq!(int(&out, "sshd.disconnect.code"), Some(11));
    assert_eq!(text(&out, "sshd.disconnect.reason"), Some("Bye Bye"));
    assert_eq!(text(&out, "event.action"), Some("ssh-disconnect"));

    let out =
        run("Received disconnect from 198.51.100.4 port 53312:11: disconnected by user").unwrap();
    assert_eq!(int(&out, "source.port"), Some(53312));
    assert_eq!(int(&out, "sshd.disconnect.code"), Some(11));
    assert_eq!(
        text(&out, "sshd.disconnect.reason"),
        Some("disconnected by user")
    );

    let out = run(
        "error: Received disconnect from 103.99.0.122: 14: No more user authentication methods available. [preauth]",
    )
    .unwrap();
    assert_eq!(text(&out, "log.level"), Some("error"));
    assert_eq!(int(&out, "sshd.disconnect.code"), Some(14));

    let out = run("Received disconnect from 2001:db8::1: 11: Bye Bye").unwrap();
    assert_eq!(text(&out, "source.ip"), Some("2001:db8::1"));

    let out = run("Disconnected from user alice 198.51.100.4 port 53312").unwrap();
    assert_eq!(text(&out, "user.name"), Some("alice"));
    assert_eq!(int(&out, "source.port"), Some(53312));
}

#[test]
fn too_many_failures_and_max_attempts() {
    let out = run("Disconnecting: Too many authentication failures for admin [preauth]").unwrap();
    assert_eq!(text(&out, "user.name"), Some("admin"));
    assert_eq!(
        text(&out, "event.action"),
        Some("ssh-too-many-auth-failures")
    );
    assert_eq!(
        text(&out, "sshd.disconnect.reason"),
        Some("Too many authentication failures")
    );

    let out = run(
        "Disconnecting invalid user test 203.0.113.5 port 41234: Too many authentication failures [preauth]",
    )
    .unwrap();
    assert_eq!(text(&out, "user.name"), Some("test"));
    assert_eq!(text(&out, "source.ip"), Some("203.0.113.5"));

    let out = run(
        "error: maximum authentication attempts exceeded for root from 203.0.113.5 port 41234 ssh2 [preauth]",
    )
    .unwrap();
    assert_eq!(text(&out, "user.name"), Some("root"));
    assert_eq!(int(&out, "source.port"), Some(41234));
    assert_eq!(text(&out, "event.action"), Some("ssh-max-auth-attempts"));
}

#[test]
fn reverse_mapping_and_identification() {
    let out = run(
        "reverse mapping checking getaddrinfo for ns.marryaldkfaczcz.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!",
    )
    .unwrap();
    assert_eq!(text(&out, "source.domain"), Some("ns.marryaldkfaczcz.com"));
    assert_eq!(text(&out, "source.ip"), Some("173.234.31.186"));
    assert_eq!(
        text(&out, "event.action"),
        Some("ssh-reverse-mapping-failed")
    );

    let out = run("Did not receive identification string from 123.235.32.19").unwrap();
    assert_eq!(text(&out, "source.ip"), Some("123.235.32.19"));
    assert_eq!(text(&out, "event.action"), Some("ssh-no-identification"));
}

#[test]
fn repeated_message_decodes_the_inner_line() {
    let out = run(
        "message repeated 5 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]",
    )
    .unwrap();
    assert_eq!(int(&out, "sshd.repeat_count"), Some(5));
    assert_eq!(text(&out, "user.name"), Some("root"));
    assert_eq!(int(&out, "source.port"), Some(42393));
    assert_eq!(text(&out, "event.action"), Some("ssh-login"));
}

#[test]
fn pam_lines_are_delegated() {
    let out = run(
        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=173.234.31.186",
    )
    .unwrap();
    assert_eq!(text(&out, "pam.service"), Some("sshd"));
    assert_eq!(text(&out, "source.ip"), Some("173.234.31.186"));

    let out = run("pam_unix(sshd:session): session opened for user fztu by (uid=0)").unwrap();
    assert_eq!(text(&out, "user.name"), Some("fztu"));
    assert_eq!(text(&out, "event.action"), Some("session-opened"));

    let out = run("PAM service(sshd) ignoring max retries; 6 > 3").unwrap();
    assert_eq!(int(&out, "pam.retries"), Some(6));
}

#[test]
fn fatal_and_server_lines() {
    let out = run("fatal: Write failed: Connection reset by peer [preauth]").unwrap();
    assert_eq!(text(&out, "log.level"), Some("fatal"));
    assert_eq!(
        text(&out, "error.message"),
        Some("Write failed: Connection reset by peer")
    );

    let out = run("Server listening on 0.0.0.0 port 22.").unwrap();
    assert_eq!(text(&out, "server.ip"), Some("0.0.0.0"));
    assert_eq!(int(&out, "server.port"), Some(22));

    let out = run("User root from 192.0.2.1 not allowed because not listed in AllowUsers").unwrap();
    assert_eq!(text(&out, "user.name"), Some("root"));
    assert_eq!(text(&out, "event.reason"), Some("not listed in AllowUsers"));

    let out = run(
        "Unable to negotiate with 192.0.2.1 port 5555: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]",
    )
    .unwrap();
    assert_eq!(int(&out, "source.port"), Some(5555));
    assert_eq!(text(&out, "event.action"), Some("ssh-negotiation-failed"));
}

#[test]
fn klogind_failures() {
    let mut out = Output::default();
    let input = Input::new(
        "Authentication failed from 163.27.187.39 (163.27.187.39): Permission denied in replay cache code ",
    )
    .app("klogind");
    assert!(decode(&input, &mut out));
    assert_eq!(text(&out, "source.ip"), Some("163.27.187.39"));
    assert_eq!(out.get("source.domain"), None);
    assert_eq!(
        text(&out, "event.reason"),
        Some("Permission denied in replay cache code")
    );

    let mut out = Output::default();
    let input = Input::new("Kerberos authentication failed ").app("klogind");
    assert!(decode(&input, &mut out));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
}

#[test]
fn near_misses_are_refused() {
    assert!(run("Accepted password for root from nowhere port 22 ssh2").is_none());
    assert!(run("Failed password for root from 10.0.0.1 port x ssh2").is_none());
    assert!(run("Invalid user bob at 10.0.0.1").is_none());
    assert!(run("Connection closed by somebody").is_none());
    assert!(run("Received disconnect from 10.0.0.1: eleven: Bye").is_none());
    assert!(run("message repeated 2 times: [ hello]").is_none());
    assert!(run(
        "message repeated 2 times: [ message repeated 2 times: [ Invalid user a from 10.0.0.1]]"
    )
    .is_none());
    assert!(run("Server listening on localhost port 22.").is_none());
    assert!(run("Starting OpenBSD Secure Shell server").is_none());
    assert!(run("").is_none());
    let mut out = Output::default();
    assert!(!decode(
        &Input::new("Kerberos authentication succeeded").app("klogind"),
        &mut out
    ));
}

#[test]
fn dispatcher_sends_sshd_lines_here() {
    let mut out = Output::default();
    let input = Input::new("Connection closed by 173.234.31.186 [preauth]").app("sshd");
    assert_eq!(dispatch(&input, &mut out), Some("sshd"));
    let input = Input::new("Kerberos authentication failed").app("klogind");
    assert_eq!(dispatch(&input, &mut out), Some("sshd"));
}

/// Opt-in (`cargo test -p vigil-codec --lib loghub -- --ignored`): every variable part (`<*>`)
/// of each line's ground-truth template in loghub's OpenSSH and Linux samples must land in a
/// decoded field, for every line from the programs these decoders own (sshd, klogind, PAM, su,
/// ftpd); the share over the whole file (kernel and daemon lines included) is printed. Reads the
/// shared corpus at `$VIGIL_CORPUS` (default `../shared/corpus`, relative to the workspace root).
#[test]
#[ignore]
fn loghub_variables_land_in_fields() {
    let corpus = std::env::var("VIGIL_CORPUS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus").into());
    for name in ["OpenSSH/OpenSSH_2k.log", "Linux/Linux_2k.log"] {
        let path = format!("{corpus}/logs/{name}");
        let raw = std::fs::read_to_string(&path).expect("corpus log");
        let structured = std::fs::read_to_string(format!("{path}_structured.csv")).expect("csv");
        let (mut covered, mut total, mut ours, mut ours_missed) = (0, 0, 0, 0);
        for (line, row) in raw.lines().zip(structured.lines().skip(1)) {
            let row = csv_row(row);
            let (content, template) = (&row[row.len() - 3], &row[row.len() - 1]);
            let (app, message) = split_syslog(line);
            let mut out = Output::default();
            dispatch(&Input::new(message).app(app), &mut out);
            let values: Vec<String> = out.iter().map(|(_, value)| flatten(value)).collect();
            total += 1;
            let owned = OWNED_APPS.contains(&app) || app.ends_with("(pam_unix)");
            ours += usize::from(owned);
            let missing: Vec<String> = template_variables(template, content)
                .into_iter()
                .filter(|variable| !values.iter().any(|value| value.contains(variable)))
                .collect();
            if missing.is_empty() {
                covered += 1;
            } else if owned {
                ours_missed += 1;
                eprintln!("{name}: {missing:?} not in fields: {app} {message}");
            }
        }
        eprintln!("{name}: {covered}/{total} lines covered, {ours} from these decoders' programs");
        assert_eq!(
            ours_missed, 0,
            "{name}: {ours_missed} of {ours} lines missed"
        );
    }
}

const OWNED_APPS: [&str; 4] = ["sshd", "klogind", "ftpd", "su"];

fn flatten(value: &Value) -> String {
    match value {
        Value::Str(text) => text.to_string(),
        Value::Int(number) => number.to_string(),
        Value::List(items) => items.iter().map(flatten).collect::<Vec<_>>().join(" "),
        other => format!("{other:?}"),
    }
}

/// `Jun 14 15:16:01 combo sshd(pam_unix)[19939]: message` → (`sshd(pam_unix)`, `message`).
fn split_syslog(line: &str) -> (&str, &str) {
    let mut rest = line;
    for _ in 0..4 {
        rest = rest
            .trim_start()
            .split_once(' ')
            .map_or("", |(_, rest)| rest);
    }
    let (tag, message) = rest.split_once(": ").unwrap_or(("", rest));
    (tag.split('[').next().unwrap_or(tag), message)
}

/// One CSV row, with `"…"` quoting and `""` escapes.
fn csv_row(row: &str) -> Vec<String> {
    let (mut cells, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

/// The text each `<*>` of `template` stands for in `content` (shortest match, left to right).
fn template_variables(template: &str, content: &str) -> Vec<String> {
    let pieces: Vec<&str> = template.split("<*>").collect();
    let mut rest = content.strip_prefix(pieces[0]).unwrap_or(content);
    let mut variables = Vec::new();
    for (index, piece) in pieces.iter().enumerate().skip(1) {
        let last = index == pieces.len() - 1;
        let end = if piece.is_empty() && last {
            rest.len()
        } else if piece.is_empty() {
            // Adjacent `<*><*>`: give the first one a single character.
            rest.char_indices().nth(1).map_or(rest.len(), |(at, _)| at)
        } else if last {
            rest.rfind(piece).unwrap_or(rest.len())
        } else {
            rest.find(piece).unwrap_or(rest.len())
        };
        let variable = rest[..end].trim();
        if !variable.is_empty() {
            variables.push(variable.to_owned());
        }
        rest = rest.get(end + piece.len()..).unwrap_or("");
    }
    variables
}
