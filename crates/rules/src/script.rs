//! The rhai engine, hardened in one place, and the values that cross between it and Vigil.
//!
//! Rule files run with no file, network or module access (the `no_module` build has no
//! `import`; rhai's core has no I/O), with `eval` disabled, and under the limits in
//! [`crate::limits`]: a script that loops forever, allocates without end or recurses too deep
//! is stopped with an error, reported, and nothing else is affected.

use std::collections::BTreeMap;
use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, FnPtr, Map, AST};
use vigil_event::Event;

use crate::limits;

/// Shared value lists from `rules/lists/NAME.txt`, by name.
pub type Lists = BTreeMap<String, Vec<String>>;

/// The engine every rule file and every `where` runs in.
pub fn engine(lists: Arc<Lists>) -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_operations(limits::MAX_OPERATIONS)
        .set_max_call_levels(limits::MAX_CALL_LEVELS)
        .set_max_expr_depths(limits::MAX_EXPR_DEPTH, limits::MAX_FUNCTION_EXPR_DEPTH)
        .set_max_string_size(limits::MAX_STRING_BYTES)
        .set_max_array_size(limits::MAX_ARRAY_ITEMS)
        .set_max_map_size(limits::MAX_MAP_ITEMS)
        .set_max_variables(limits::MAX_VARIABLES)
        .set_max_functions(limits::MAX_FUNCTIONS);
    engine.disable_symbol("eval");
    engine.on_print(|text| tracing::info!(target: "vigil_rules::script", "{text}"));
    engine.on_debug(
        |text, _, position| tracing::debug!(target: "vigil_rules::script", %position, "{text}"),
    );
    engine.register_fn(
        "list",
        move |name: &str| -> Result<Array, Box<EvalAltResult>> {
            match lists.get(name) {
                Some(values) => Ok(values
                    .iter()
                    .map(|value| Dynamic::from(value.clone()))
                    .collect()),
                None => Err(format!("no list {name:?} in rules/lists/").into()),
            }
        },
    );
    // `times(5)` is `[0, 1, 2, 3, 4]`: `times(5).map(|i| ...)` builds test events.
    engine.register_fn("times", |count: i64| -> Result<Array, Box<EvalAltResult>> {
        if !(0..=limits::MAX_ARRAY_ITEMS as i64).contains(&count) {
            return Err(
                format!("times({count}): at most {} items", limits::MAX_ARRAY_ITEMS).into(),
            );
        }
        Ok((0..count).map(Dynamic::from).collect())
    });
    engine.register_fn("entropy", |text: &str| shannon_entropy(text));
    engine.register_fn("longest_label", |name: &str| {
        name.split('.').map(str::len).max().unwrap_or(0) as i64
    });
    engine.register_fn("in_cidr", |address: &str, network: &str| {
        match (
            address.trim().parse::<std::net::IpAddr>(),
            crate::condition::parse_network(network),
        ) {
            (Ok(address), Some(network)) => network.contains(&address),
            _ => false,
        }
    });
    engine
}

/// Bits per character of `text` (0 for empty text).
pub fn shannon_entropy(text: &str) -> f64 {
    if text.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for byte in text.bytes() {
        counts[usize::from(byte)] += 1;
    }
    let length = text.len() as f64;
    counts
        .iter()
        .filter(|count| **count > 0)
        .map(|count| {
            let share = f64::from(*count) / length;
            -share * share.log2()
        })
        .sum()
}

/// The event as the flat map a `where` sees: `e["source.ip"]`, `e["message"]`, …
pub fn event_map(event: &Event) -> Map {
    match event.to_json() {
        serde_json::Value::Object(object) => object
            .into_iter()
            .map(|(key, value)| (key.into(), json_to_dynamic(value)))
            .collect(),
        _ => Map::new(),
    }
}

pub fn json_to_dynamic(value: serde_json::Value) -> Dynamic {
    match value {
        serde_json::Value::Null => Dynamic::UNIT,
        serde_json::Value::Bool(flag) => Dynamic::from(flag),
        serde_json::Value::Number(number) => match number.as_i64() {
            Some(integer) => Dynamic::from(integer),
            None => Dynamic::from(number.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(text) => Dynamic::from(text),
        serde_json::Value::Array(items) => {
            Dynamic::from_array(items.into_iter().map(json_to_dynamic).collect())
        }
        serde_json::Value::Object(object) => Dynamic::from_map(
            object
                .into_iter()
                .map(|(key, value)| (key.into(), json_to_dynamic(value)))
                .collect(),
        ),
    }
}

/// A closure from a rule file, with the file's compiled script it belongs to.
#[derive(Clone)]
pub struct Closure {
    pub function: FnPtr,
    pub ast: Arc<AST>,
}

impl std::fmt::Debug for Closure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "Closure({})", self.function.fn_name())
    }
}

impl Closure {
    /// Calls it with one map; an error (limit reached, wrong type, …) comes back as text.
    pub fn call<T: Clone + Send + Sync + 'static>(
        &self,
        engine: &Engine,
        argument: Map,
    ) -> Result<T, String> {
        self.function
            .call::<T>(engine, &self.ast, (argument,))
            .map_err(|error| describe(&error))
    }
}

/// An evaluation error as one line, with its position when it has one.
pub fn describe(error: &EvalAltResult) -> String {
    let position = error.position();
    let text = error.to_string();
    match position.line() {
        Some(line) if !text.contains("line ") => format!("line {line}: {text}"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(script: &str) -> Result<Dynamic, String> {
        let engine = engine(Arc::new(Lists::new()));
        engine
            .eval::<Dynamic>(script)
            .map_err(|error| describe(&error))
    }

    #[test]
    fn the_limits_stop_hostile_scripts() {
        let endless = run("let n = 0; loop { n += 1; }").unwrap_err();
        assert!(endless.contains("operations"), "{endless}");
        let huge = run(r#"let s = "xxxxxxxx"; loop { s += s; }"#).unwrap_err();
        assert!(
            huge.to_lowercase().contains("too large") || huge.contains("length"),
            "{huge}"
        );
        let deep = run("fn f(n) { f(n + 1) } f(0)").unwrap_err();
        assert!(
            deep.to_lowercase().contains("stack") || deep.contains("levels"),
            "{deep}"
        );
        let evaluated = run(r#"eval("1 + 1")"#).unwrap_err();
        assert!(!evaluated.is_empty());
    }

    #[test]
    fn helpers_are_there() {
        assert_eq!(
            run(r#"longest_label("a.bbbb.cc")"#).unwrap().as_int(),
            Ok(4)
        );
        assert_eq!(
            run(r#"in_cidr("10.1.2.3", "10.0.0.0/8")"#)
                .unwrap()
                .as_bool(),
            Ok(true)
        );
        assert!(shannon_entropy("aaaa") < 0.01);
        assert!(shannon_entropy("a8Fq2zX9kLm3") > 3.0);
        let missing = run(r#"list("nope")"#).unwrap_err();
        assert!(missing.contains("nope"), "{missing}");
    }
}
