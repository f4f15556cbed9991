//! What the decoders' tests share: running a decoder on a line, and reading a field of an
//! [`Output`] as text, integer or list.

use super::{Input, Output, Value};

/// Runs `decode` on `line` (no app-name); the output when it recognised the line.
pub(crate) fn recognised(
    decode: fn(&Input<'_>, &mut Output) -> bool,
    line: &str,
) -> Option<Output> {
    let mut out = Output::default();
    decode(&Input::new(line), &mut out).then_some(out)
}

pub(crate) fn text<'a>(out: &'a Output, name: &str) -> Option<&'a str> {
    out.get(name).and_then(Value::as_str)
}

pub(crate) fn int(out: &Output, name: &str) -> Option<i64> {
    match out.get(name) {
        Some(Value::Int(number)) => Some(*number),
        _ => None,
    }
}

/// `event.type` as a list of its values (one value counts as a list of one).
pub(crate) fn types(out: &Output) -> Vec<&str> {
    match out.get("event.type") {
        Some(Value::List(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::Str(one)) => vec![one.as_str()],
        _ => vec![],
    }
}

pub(crate) fn list<'a>(out: &'a Output, name: &str) -> Option<Vec<&'a str>> {
    match out.get(name) {
        Some(Value::List(items)) => Some(items.iter().filter_map(Value::as_str).collect()),
        _ => None,
    }
}

/// The event time the decoder set, as RFC 3339.
pub(crate) fn time(out: &Output) -> Option<String> {
    out.timestamp().map(|time| time.to_string())
}
