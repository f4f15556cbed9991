//! Generic `key=value` messages: logfmt (`level=info msg="hello world" user=bob`), plain
//! `k1=v1 k2=v2` lines and the comma-separated variant (`k1="v 1", k2=v2`).
//!
//! This is the dispatcher's last resort for every line nothing else recognised, so rejecting is
//! cheap: a line needs at least [`MIN_PAIRS`] pairs, and pairs must be at least two thirds of its
//! whitespace-separated tokens. A key is `[A-Za-z_][A-Za-z0-9_.-]*`; a value is either bare (up to
//! the next whitespace, a trailing comma dropped) or double-quoted with `\"` and `\\` escapes (an
//! unterminated quote runs to the end of the line).
//!
//! Every pair is kept as text under `kv.<key>` (the first [`MAX_PAIRS`] only). Keys that plainly
//! name an ECS concept are also mapped: `src`/`srcip`/`src_ip` → `source.ip`,
//! `dst`/`dstip`/`dst_ip` → `destination.ip`, `sport`/`srcport`/`src_port` → `source.port`,
//! `dport`/`dstport`/`dst_port` → `destination.port`, `user`/`username` → `user.name`, `proto` →
//! `network.transport`, `action` → `event.action`, `status` → `event.outcome` (when it says
//! success or failure), `msg` → `message`, `level` → `log.level`.
//!
//! Not handled: nested structures, values spanning lines, single-quoted values (kept verbatim,
//! quotes included), duplicate keys (the last one wins).
//!
//! The tokenizer ([`tokens`]) is shared with the FortiGate decoder.

use std::borrow::Cow;

use super::search::find_whitespace;
use super::search::Search;
use super::{Input, Output};

/// Fewer pairs than this is not a key=value line.
const MIN_PAIRS: usize = 3;
/// Pairs kept under `kv.*`; further pairs still count for recognition but are not stored.
pub(super) const MAX_PAIRS: usize = 64;

/// One whitespace-separated token of a key=value line.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Token<'a> {
    /// `key=value`, the value unquoted and unescaped.
    Pair(&'a str, Cow<'a, str>),
    /// Anything else: a word with no `=`, or with a key that is not a sane key.
    Word(&'a str),
}

/// The tokens of `text`, left to right.
pub(super) fn tokens(text: &str) -> Tokens<'_> {
    Tokens { rest: text }
}

pub(super) struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let text = self
            .rest
            .trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if text.is_empty() {
            self.rest = text;
            return None;
        }
        let word_end = find_whitespace(text).unwrap_or(text.len());
        let key_end = match memchr::memchr(b'=', &text.as_bytes()[..word_end]) {
            Some(equals) if is_key(&text[..equals]) => equals,
            _ => {
                self.rest = &text[word_end..];
                return Some(Token::Word(&text[..word_end]));
            }
        };
        let key = &text[..key_end];
        let after = &text[key_end + 1..];
        let (value, rest) = match after.strip_prefix('"') {
            Some(quoted) => quoted_value(quoted),
            None => {
                let end = find_whitespace(after).unwrap_or(after.len());
                let bare = &after[..end];
                let bare = bare.strip_suffix(',').unwrap_or(bare);
                (Cow::Borrowed(bare), &after[end..])
            }
        };
        self.rest = rest;
        Some(Token::Pair(key, value))
    }
}

/// Whether `key` is `[A-Za-z_][A-Za-z0-9_.-]*`.
pub(super) fn is_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The value inside quotes (`text` starts just after the opening quote) and what follows the
/// closing quote. Escapes are resolved only when there are any.
fn quoted_value(text: &str) -> (Cow<'_, str>, &str) {
    let bytes = text.as_bytes();
    let mut escaped = false;
    let mut index = 0;
    while let Some(offset) = memchr::memchr2(b'"', b'\\', &bytes[index..]) {
        let at = index + offset;
        if bytes[at] == b'\\' {
            escaped = true;
            index = at + 2;
            if index > bytes.len() {
                break;
            }
            continue;
        }
        let inner = &text[..at];
        let value = if escaped {
            Cow::Owned(unescape(inner))
        } else {
            Cow::Borrowed(inner)
        };
        return (value, &text[at + 1..]);
    }
    // Unterminated: the rest of the line is the value.
    let value = if escaped {
        Cow::Owned(unescape(text))
    } else {
        Cow::Borrowed(text)
    };
    (value, "")
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Whether `message` is mostly key=value pairs, at least [`MIN_PAIRS`] of them.
fn mostly_pairs(message: &str) -> bool {
    let (mut pairs, mut words) = (0usize, 0usize);
    for token in tokens(message) {
        match token {
            Token::Pair(..) => pairs += 1,
            Token::Word(_) => words += 1,
        }
    }
    pairs >= MIN_PAIRS && pairs * 3 >= (pairs + words) * 2
}

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = input.message;
    // Cheapest rejection first: too few `=` to hold enough pairs.
    if memchr::memchr_iter(b'=', message.as_bytes())
        .take(MIN_PAIRS)
        .count()
        < MIN_PAIRS
    {
        return false;
    }
    if !mostly_pairs(message) {
        return false;
    }
    let pairs = tokens(message).filter_map(|token| match token {
        Token::Pair(key, value) => Some((key, value)),
        Token::Word(_) => None,
    });
    for (key, value) in pairs.take(MAX_PAIRS) {
        map_ecs(key, &value, out);
        out.put_str(format!("kv.{key}"), &value);
    }
    true
}

/// Sets the ECS field a well-known key names, if any.
fn map_ecs(key: &str, value: &str, out: &mut Output) {
    match key.to_ascii_lowercase().as_str() {
        "src" | "srcip" | "src_ip" => {
            out.put_ip("source.ip", value);
        }
        "dst" | "dstip" | "dst_ip" => {
            out.put_ip("destination.ip", value);
        }
        "sport" | "srcport" | "src_port" => {
            out.put_int("source.port", value);
        }
        "dport" | "dstport" | "dst_port" => {
            out.put_int("destination.port", value);
        }
        "user" | "username" => out.put_str("user.name", value),
        "proto" => {
            if let Some(transport) = transport_name(value) {
                out.put("network.transport", transport);
            }
        }
        "action" if !value.is_empty() && !value.contains(char::is_whitespace) => {
            out.put("event.action", value.to_ascii_lowercase());
        }
        "status" => {
            if let Some(outcome) = outcome_of(value) {
                out.put("event.outcome", outcome);
            }
        }
        "msg" => out.put_str("message", value),
        "level" => out.put_str("log.level", &value.to_ascii_lowercase()),
        _ => {}
    }
}

/// `network.transport` for a protocol given by name or IANA number (`tcp`, `6`, `UDP`, `17` …).
pub(super) fn transport_name(proto: &str) -> Option<&'static str> {
    let proto = proto.trimmed();
    if let Ok(number) = proto.parse::<u8>() {
        return iana_transport(number);
    }
    let name = match proto.to_ascii_lowercase().as_str() {
        "tcp" => "tcp",
        "udp" => "udp",
        "icmp" => "icmp",
        "ipv6-icmp" | "icmpv6" | "icmp6" => "ipv6-icmp",
        "igmp" => "igmp",
        "gre" => "gre",
        "esp" => "esp",
        "ah" => "ah",
        "sctp" => "sctp",
        _ => return None,
    };
    Some(name)
}

/// `network.transport` for an IANA protocol number.
pub(super) fn iana_transport(number: u8) -> Option<&'static str> {
    let name = match number {
        1 => "icmp",
        2 => "igmp",
        6 => "tcp",
        17 => "udp",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        132 => "sctp",
        _ => return None,
    };
    Some(name)
}

/// `event.outcome` for a status word, when it is plainly one.
fn outcome_of(status: &str) -> Option<&'static str> {
    match status.to_ascii_lowercase().as_str() {
        "success" | "succeeded" | "successful" | "ok" | "pass" | "passed" => Some("success"),
        "fail" | "failed" | "failure" | "error" | "denied" | "rejected" => Some("failure"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_event::Value;

    fn run(message: &str) -> Option<Output> {
        let mut out = Output::default();
        decode(&Input::new(message), &mut out).then_some(out)
    }

    use crate::body::test_support::text;

    #[test]
    fn tokenizer_reads_quotes_escapes_and_words() {
        let got: Vec<_> = tokens(r#"a=1 b="x \"y\" z", c= word d="open"#).collect();
        assert_eq!(
            got,
            vec![
                Token::Pair("a", Cow::Borrowed("1")),
                Token::Pair("b", Cow::Owned(r#"x "y" z"#.to_owned())),
                Token::Pair("c", Cow::Borrowed("")),
                Token::Word("word"),
                Token::Pair("d", Cow::Borrowed("open")),
            ]
        );
        let got: Vec<_> = tokens("1a=b =c x=\"unterminated \\").collect();
        assert_eq!(
            got,
            vec![
                Token::Word("1a=b"),
                Token::Word("=c"),
                Token::Pair("x", Cow::Owned("unterminated \\".to_owned())),
            ]
        );
    }

    // Logfmt lines as Heroku's logfmt description and Grafana Loki's docs show them.
    #[test]
    fn logfmt_lines() {
        let out = run(r#"level=info msg="hello world" user=bob"#).unwrap();
        assert_eq!(text(&out, "log.level"), Some("info"));
        assert_eq!(text(&out, "message"), Some("hello world"));
        assert_eq!(text(&out, "user.name"), Some("bob"));
        assert_eq!(text(&out, "kv.msg"), Some("hello world"));

        let out = run(r#"at=info method=GET path=/ host=myapp.herokuapp.com fwd="204.204.204.204" dyno=web.1 connect=1ms service=18ms status=200 bytes=13"#).unwrap();
        assert_eq!(text(&out, "kv.path"), Some("/"));
        assert_eq!(text(&out, "kv.fwd"), Some("204.204.204.204"));
        assert_eq!(text(&out, "kv.status"), Some("200"));
        assert!(out.get("event.outcome").is_none());

        let out = run(r#"ts=2024-01-02T03:04:05.678Z caller=main.go:42 level=warn msg="disk \"sda\" almost full" pct=93"#).unwrap();
        assert_eq!(text(&out, "message"), Some(r#"disk "sda" almost full"#));
        assert_eq!(text(&out, "log.level"), Some("warn"));
        assert_eq!(text(&out, "kv.caller"), Some("main.go:42"));
    }

    #[test]
    fn network_pairs_map_to_ecs() {
        let out = run(
            "src=10.0.0.1 dst=192.0.2.7 sport=51515 dport=443 proto=tcp action=Drop status=failed",
        )
        .unwrap();
        assert_eq!(text(&out, "source.ip"), Some("10.0.0.1"));
        assert_eq!(text(&out, "destination.ip"), Some("192.0.2.7"));
        assert_eq!(out.get("source.port"), Some(&Value::Int(51515)));
        assert_eq!(out.get("destination.port"), Some(&Value::Int(443)));
        assert_eq!(text(&out, "network.transport"), Some("tcp"));
        assert_eq!(text(&out, "event.action"), Some("drop"));
        assert_eq!(text(&out, "event.outcome"), Some("failure"));

        let out = run(r#"src_ip="2001:db8::1", dst_ip="2001:db8::2", dst_port=53, proto=17, username="alice smith""#).unwrap();
        assert_eq!(text(&out, "source.ip"), Some("2001:db8::1"));
        assert_eq!(text(&out, "destination.ip"), Some("2001:db8::2"));
        assert_eq!(out.get("destination.port"), Some(&Value::Int(53)));
        assert_eq!(text(&out, "network.transport"), Some("udp"));
        assert_eq!(text(&out, "user.name"), Some("alice smith"));
    }

    #[test]
    fn a_bad_ip_stays_only_under_kv() {
        let out = run("src=not-an-ip dst=host.example sport=x").unwrap();
        assert!(out.get("source.ip").is_none());
        assert!(out.get("source.port").is_none());
        assert_eq!(text(&out, "kv.src"), Some("not-an-ip"));
    }

    #[test]
    fn pairs_beyond_the_cap_are_not_stored() {
        let line: Vec<String> = (0..100).map(|i| format!("k{i}=v{i}")).collect();
        let out = run(&line.join(" ")).unwrap();
        assert_eq!(out.len(), MAX_PAIRS);
        assert_eq!(text(&out, "kv.k63"), Some("v63"));
        assert!(out.get("kv.k64").is_none());
    }

    #[test]
    fn prose_and_near_misses_are_refused() {
        // Too few pairs.
        assert!(run("a=1 b=2").is_none());
        // Pairs are a minority of the words.
        assert!(
            run("Connection closed by user=root from host=1.2.3.4 port=22 after a long while")
                .is_none()
        );
        // `=` inside prose and values, not keys.
        assert!(run("x == y and 2+2=4 so 3*3=9 and 1=1").is_none());
        // Keys that are not sane keys.
        assert!(run("9a=1 $b=2 -c=3 [d]=4").is_none());
        assert!(run("").is_none());
        assert!(run("\"unterminated=1 a=\"").is_none());
    }

    /// The firewall-family decoders (this module's and its siblings' that reuse its helpers)
    /// never panic, whatever the bytes: random text, and real-shaped lines cut anywhere.
    mod no_panic {
        use super::super::super::{
            cisco_asa, cisco_ios, filterlog, fortigate, netfilter, paloalto,
        };
        use super::*;
        use proptest::prelude::*;

        const SHAPES: [&str; 7] = [
            "date=2019-05-10 time=11:37:47 logid=\"0000000013\" type=\"traffic\" srcip=10.1.100.11 tz=\"-0500\" eventtime=1557513467369913239 sentbyte=1 action=\"close\"",
            "1,2018/11/30 16:09:07,012801096514,TRAFFIC,end,2049,2018/11/30 16:09:07,192.168.15.207,184.51.253.152,0.0.0.0,0.0.0.0,r,,,app,vsys1,t,u,e1,e2,l,x,1,1,1,2,0,0,0x0,tcp,allow,1,2,3,4,\"q\"\"x\"",
            "146,,,1535324496,igb1.12,match,block,in,4,0x0,,63,12617,0,DF,6,tcp,60,10.170.12.50,1.1.1.1,49724,853,0,S,1,,64240,,mss",
            "[ 12.5] [UFW BLOCK] IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=1.2.3.4 DST=5.6.7.8 PROTO=TCP SPT=1 DPT=2 SYN",
            "%ASA-6-302013: Built outbound TCP connection 1 for a:1.2.3.4/5 (6.7.8.9/10) to b:2001:db8::1/22 (x)",
            "%ASA-6-113005: AAA user authentication Rejected : reason = x : server = y : user = z : user IP = 1.2.3.4",
            "000123: *Mar  1 00:01:02.345 UTC: %SEC-6-IPACCESSLOGP: list A permitted tcp 1.2.3.4(1) -> 5.6.7.8(2), 3 packets",
        ];

        fn all(message: &str) {
            let decoders: [fn(&Input<'_>, &mut Output) -> bool; 7] = [
                decode,
                fortigate::decode,
                paloalto::decode,
                filterlog::decode,
                netfilter::decode,
                cisco_asa::decode,
                cisco_ios::decode,
            ];
            for app in [None, Some("%ASA-4-106023"), Some("kernel")] {
                let mut input = Input::new(message);
                input.app = app;
                for decode in decoders {
                    let mut out = Output::default();
                    let _ = decode(&input, &mut out);
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn random_text(message in "\\PC{0,200}") {
                all(&message);
            }

            #[test]
            fn real_lines_cut_and_spliced(shape in 0usize..7, cut in 0usize..400, junk in "\\PC{0,8}") {
                let line = SHAPES[shape];
                let mut end = cut.min(line.len());
                while !line.is_char_boundary(end) {
                    end -= 1;
                }
                all(&line[..end]);
                all(&format!("{}{junk}{}", &line[..end], &line[end..]));
            }
        }
    }

    #[test]
    fn dispatcher_falls_back_to_kv() {
        let mut out = Output::default();
        let input = Input::new("level=error msg=\"boom\" component=db").app("myapp");
        assert_eq!(super::super::decode(&input, &mut out), Some("kv"));
        assert_eq!(text(&out, "kv.component"), Some("db"));
    }
}
