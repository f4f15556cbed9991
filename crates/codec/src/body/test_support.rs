//! What the decoders' tests share: reading a field of an [`Output`] as text, integer or list.

use super::{Output, Value};

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
