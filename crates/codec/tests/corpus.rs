//! Conformance against the test tables of influxdata/go-syslog (MIT), from the shared corpus.
//!
//! Opt-in: `cargo test -p vigil-codec --test corpus -- --ignored --nocapture`. The corpus is found
//! through `VIGIL_CORPUS`, else `../shared/corpus` beside the project. Findings: `CORPUS.md`.
//!
//! Every case goes through the framer and the decoder; nothing may panic. Valid cases are compared
//! field by field with what go-syslog expects, and the match count per suite may not fall below
//! what was measured (see `MATCH_FLOORS`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use serde_json::{json, Map, Value as Json};
use vigil_codec::limits::Limits;
use vigil_codec::syslog::{decode_syslog, DecodeContext, FrameOutcome, SyslogFramer};
use vigil_event::{Event, EventFlags, Timestamp};

/// The go-syslog fields compared, by their go-syslog names.
const FIELDS: [&str; 11] = [
    "priority",
    "facility",
    "severity",
    "version",
    "timestamp",
    "hostname",
    "appname",
    "procid",
    "msgid",
    "structureddata",
    "message",
];

/// Matching cases per suite as measured (see CORPUS.md): (suite, matched, compared).
const MATCH_FLOORS: [(&str, usize, usize); 4] = [
    ("rfc5424", 527, 527),
    ("rfc3164", 6, 8),
    ("octetcounting", 12, 17),
    ("nontransparent", 7, 9),
];

/// go-syslog's default maximum message length for octet-counting, used when a case gives 0.
const GO_SYSLOG_DEFAULT_MAX_MESSAGE_BYTES: usize = 8192;

fn corpus_dir() -> PathBuf {
    match std::env::var_os("VIGIL_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus"
        )),
    }
}

fn read_cases(file_name: &str) -> Vec<Json> {
    let path = corpus_dir().join("syslog").join(file_name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!("cannot read {}: {error} (set VIGIL_CORPUS)", path.display())
    });
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("corpus line is JSON"))
        .collect()
}

fn context() -> DecodeContext {
    // Any receive time works: RFC 3164 expectations carry no year and are compared without it.
    DecodeContext {
        received: Timestamp::from_nanos(1_750_000_000_000_000_000),
        default_tz: chrono::FixedOffset::east_opt(0).expect("utc"),
    }
}

/// An event in go-syslog's shape; absent fields are left out, as go-syslog leaves them nil.
fn as_go_syslog(event: &Event, without_year: bool) -> Map<String, Json> {
    let mut out = Map::new();
    if event.flags.contains(EventFlags::UNPARSED) {
        return out;
    }
    if let (Some(facility), Some(severity)) = (event.facility, event.severity) {
        out.insert(
            "priority".into(),
            json!(u16::from(facility) * 8 + u16::from(severity)),
        );
    }
    if let Some(facility) = event.facility {
        out.insert("facility".into(), json!(facility));
    }
    if let Some(severity) = event.severity {
        out.insert("severity".into(), json!(severity));
    }
    if let Some(version) = event.syslog_version {
        out.insert("version".into(), json!(version));
    }
    if event.timestamp != event.created {
        out.insert(
            "timestamp".into(),
            json!(normalise_time(&event.timestamp.to_string(), without_year)),
        );
    }
    let text_fields = [
        ("hostname", event.host_name.clone()),
        ("appname", event.process_name.clone()),
        (
            "procid",
            event
                .process_pid
                .map(|pid| pid.to_string())
                .or(event.procid.clone()),
        ),
        ("msgid", event.msgid.clone()),
        (
            "message",
            Some(event.message.clone()).filter(|message| !message.is_empty()),
        ),
    ];
    for (name, value) in text_fields {
        if let Some(value) = value {
            out.insert(name.into(), json!(value));
        }
    }
    if !event.structured_data.is_empty() {
        out.insert("structureddata".into(), event.structured_data_json());
    }
    out
}

/// Both sides' times as one UTC string; without the year for RFC 3164 (go-syslog says 0000).
fn normalise_time(text: &str, without_year: bool) -> String {
    if without_year {
        return text.get(5..).unwrap_or(text).to_owned();
    }
    match chrono::DateTime::parse_from_rfc3339(text) {
        Ok(time) => Timestamp::from_datetime(time).to_string(),
        Err(_) => text.to_owned(),
    }
}

/// go-syslog's expectation with its timestamp normalised like ours; `null`s dropped.
fn expected_fields(expected: &Map<String, Json>, without_year: bool) -> Map<String, Json> {
    expected
        .iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(name, value)| match (name.as_str(), value.as_str()) {
            ("timestamp", Some(text)) => (name.clone(), json!(normalise_time(text, without_year))),
            _ => (name.clone(), value.clone()),
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    compared: usize,
    matched: usize,
    /// Per field: (compared, matched).
    fields: BTreeMap<&'static str, (usize, usize)>,
    misses: Vec<String>,
    panics: usize,
    /// Invalid cases (go-syslog rejects them): how many we keep as unparsed vs decode leniently.
    invalid_unparsed: usize,
    invalid_decoded: usize,
}

impl Tally {
    /// Compares one expectation with one observation; `only_expected_fields` compares only the
    /// fields go-syslog gave (its best-effort partial results name only what it got to).
    fn compare(
        &mut self,
        case: &str,
        expected: &Map<String, Json>,
        observed: &Map<String, Json>,
        only_expected_fields: bool,
    ) {
        self.compared += 1;
        let mut reasons = String::new();
        for field in FIELDS {
            if only_expected_fields && !expected.contains_key(field) {
                continue;
            }
            let (want, got) = (expected.get(field), observed.get(field));
            let counts = self.fields.entry(field).or_default();
            counts.0 += 1;
            if want == got {
                counts.1 += 1;
            } else {
                let _ = write!(reasons, " {field}: want {} got {};", show(want), show(got));
            }
        }
        if reasons.is_empty() {
            self.matched += 1;
        } else {
            self.misses.push(format!("{case}:{reasons}"));
        }
    }

    fn miss(&mut self, case: &str, reason: &str) {
        self.compared += 1;
        self.misses.push(format!("{case}: {reason}"));
    }
}

/// Standard base64 with padding; enough for the corpus without another dependency.
fn decode_base64(encoded: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut bits, mut num_bits) = (0u32, 0u32);
    for byte in encoded.bytes().filter(|&byte| byte != b'=') {
        let value = ALPHABET
            .iter()
            .position(|&letter| letter == byte)
            .expect("base64 letter");
        bits = (bits << 6) | value as u32;
        num_bits += 6;
        if num_bits >= 8 {
            num_bits -= 8;
            out.push((bits >> num_bits) as u8);
            bits &= (1 << num_bits) - 1;
        }
    }
    out
}

fn show(value: Option<&Json>) -> String {
    let text = value.map_or("-".to_owned(), Json::to_string);
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// Frames `stream` completely, decoding every frame; framing errors become `Err(kind)`.
fn frame_and_decode(
    stream: &[u8],
    limits: &Limits,
    without_year: bool,
) -> Vec<Result<Map<String, Json>, String>> {
    let mut framer = SyslogFramer::new(limits);
    framer.push(stream);
    let mut outcomes: Vec<FrameOutcome> = std::iter::from_fn(|| framer.next_frame()).collect();
    outcomes.extend(std::iter::from_fn(|| framer.finish()));
    outcomes
        .into_iter()
        .map(|outcome| match outcome {
            FrameOutcome::Frame(frame) => {
                let event = decode_syslog(&frame.bytes, &context());
                if frame.truncated {
                    Err(format!(
                        "truncated frame {:?}",
                        String::from_utf8_lossy(&frame.bytes)
                    ))
                } else if event.flags.contains(EventFlags::UNPARSED) {
                    Err(format!("unparsed frame {:?}", event.message))
                } else {
                    Ok(as_go_syslog(&event, without_year))
                }
            }
            FrameOutcome::Error(error) => Err(format!("framing error {}", error.kind())),
        })
        .collect()
}

/// RFC 5424 and RFC 3164 suites: one message per case, given as UDP would (one frame).
fn run_message_suite(suite: &str, tally: &mut Tally) {
    let without_year = suite == "rfc3164";
    for case in read_cases(&format!("go-syslog-{suite}.jsonl")) {
        let name = format!("{suite}#{}", case["index"]);
        // Cases whose bytes are not UTF-8 carry them as `message_b64`.
        let message: Vec<u8> = match (case["message"].as_str(), case["message_b64"].as_str()) {
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, Some(encoded)) => decode_base64(encoded),
            (None, None) => Vec::new(),
        };
        let decoded = catch_unwind(AssertUnwindSafe(|| {
            // Also through the framer, as one LF-terminated line: it must not panic either.
            let mut line = message.clone();
            line.push(b'\n');
            let _ = frame_and_decode(&line, &Limits::default(), without_year);
            decode_syslog(&message, &context())
        }));
        let Ok(event) = decoded else {
            tally.panics += 1;
            tally.miss(&name, "PANIC");
            continue;
        };
        if case["valid"] != json!(true) {
            if event.flags.contains(EventFlags::UNPARSED) {
                tally.invalid_unparsed += 1;
            } else {
                tally.invalid_decoded += 1;
            }
            continue;
        }
        let expected = expected_fields(
            case["expected"]
                .as_object()
                .expect("valid case has expected"),
            without_year,
        );
        if event.flags.contains(EventFlags::UNPARSED) {
            tally.miss(&name, "unparsed");
            continue;
        }
        tally.compare(&name, &expected, &as_go_syslog(&event, without_year), false);
    }
}

/// Framing suites: a stream and go-syslog's best-effort results, in order.
fn run_stream_suite(suite: &str, tally: &mut Tally) {
    for case in read_cases(&format!("go-syslog-{suite}.jsonl")) {
        let stream = case["stream"].as_str().unwrap_or_default();
        let streams: Vec<(String, String)> =
            if case["stream_has_%s_trailer_placeholder"] == json!(true) {
                vec![
                    ("LF".into(), stream.replace("%[1]s", "\n")),
                    ("NUL".into(), stream.replace("%[1]s", "\0")),
                ]
            } else {
                vec![(String::new(), stream.to_owned())]
            };
        let max_message_bytes = match case["max_message_length"].as_u64() {
            Some(0) | None => GO_SYSLOG_DEFAULT_MAX_MESSAGE_BYTES,
            Some(bytes) => bytes as usize,
        };
        let limits = Limits {
            max_frame_bytes: max_message_bytes,
        };
        let expected: Vec<&Json> = case["results_best_effort"]
            .as_array()
            .map(|results| results.iter().collect())
            .unwrap_or_default();
        for (trailer, stream) in streams {
            let name = format!(
                "{suite}#{}{}{trailer} {:?}",
                case["index"],
                if trailer.is_empty() { "" } else { "/" },
                case["descr"].as_str().unwrap_or("")
            );
            let Ok(observed) = catch_unwind(AssertUnwindSafe(|| {
                frame_and_decode(stream.as_bytes(), &limits, false)
            })) else {
                tally.panics += 1;
                tally.miss(&name, "PANIC");
                continue;
            };
            compare_stream(tally, &name, &expected, &observed);
        }
    }
}

/// A stream case matches when we yield one decoded message per message go-syslog yields (fully
/// when it had no error, on the fields it got when it had one) and nothing for what it rejects.
fn compare_stream(
    tally: &mut Tally,
    name: &str,
    expected: &[&Json],
    observed: &[Result<Map<String, Json>, String>],
) {
    let wanted: Vec<(Map<String, Json>, bool)> = expected
        .iter()
        .filter_map(|result| {
            let message = result["message"].as_object()?;
            Some((expected_fields(message, false), result["error"].is_null()))
        })
        .collect();
    let got: Vec<&Map<String, Json>> = observed
        .iter()
        .filter_map(|result| result.as_ref().ok())
        .collect();
    let problems: Vec<&String> = observed
        .iter()
        .filter_map(|result| result.as_ref().err())
        .collect();
    if wanted.len() != got.len() {
        tally.miss(
            name,
            &format!(
                "want {} messages, got {} (and {:?})",
                wanted.len(),
                got.len(),
                problems
            ),
        );
        return;
    }
    if wanted.is_empty() {
        // go-syslog yields nothing: we must yield no decoded message either (counted as matched).
        tally.compare(name, &Map::new(), &Map::new(), true);
        return;
    }
    let mut case_tally = Tally::default();
    for ((want, complete), got) in wanted.iter().zip(got) {
        case_tally.compare(name, want, got, !complete);
    }
    tally.compared += 1;
    if case_tally.misses.is_empty() {
        tally.matched += 1;
    } else {
        tally.misses.push(case_tally.misses.join(" | "));
    }
    for (field, (compared, matched)) in case_tally.fields {
        let counts = tally.fields.entry(field).or_default();
        counts.0 += compared;
        counts.1 += matched;
    }
}

fn report(suite: &str, tally: &Tally) -> String {
    let mut out = String::new();
    let percent = |matched: usize, compared: usize| 100.0 * matched as f64 / compared.max(1) as f64;
    let _ = writeln!(
        out,
        "== {suite}: {}/{} matched ({:.1}%), panics {}",
        tally.matched,
        tally.compared,
        percent(tally.matched, tally.compared),
        tally.panics
    );
    if tally.invalid_unparsed + tally.invalid_decoded > 0 {
        let _ = writeln!(
            out,
            "   invalid cases (go-syslog rejects): {} kept as unparsed, {} decoded leniently",
            tally.invalid_unparsed, tally.invalid_decoded
        );
    }
    for (field, (compared, matched)) in &tally.fields {
        let _ = writeln!(
            out,
            "   {field:<15} {matched}/{compared} ({:.1}%)",
            percent(*matched, *compared)
        );
    }
    for miss in &tally.misses {
        let _ = writeln!(out, "   MISS {miss}");
    }
    out
}

#[test]
#[ignore = "needs the shared corpus; run with --ignored"]
fn go_syslog_corpus_matches_at_least_as_well_as_measured() {
    let mut failures = Vec::new();
    for (suite, floor, expected_compared) in MATCH_FLOORS {
        let mut tally = Tally::default();
        match suite {
            "rfc5424" | "rfc3164" => run_message_suite(suite, &mut tally),
            _ => run_stream_suite(suite, &mut tally),
        }
        println!("{}", report(suite, &tally));
        if tally.panics > 0 {
            failures.push(format!("{suite}: {} panics", tally.panics));
        }
        if tally.matched < floor || tally.compared != expected_compared {
            failures.push(format!(
                "{suite}: matched {}/{} cases, floor is {floor}/{expected_compared}",
                tally.matched, tally.compared
            ));
        }
    }
    assert!(failures.is_empty(), "corpus regressions: {failures:#?}");
}
