//! Named limits of the rule engine. Each bounds what a rule file, a `where` closure or window
//! state may cost; reaching one is reported and counted, never a crash.

/// rhai operations per script run (a rule file at load, or one `where` call).
pub const MAX_OPERATIONS: u64 = 200_000;
/// Nested function calls in a script.
pub const MAX_CALL_LEVELS: usize = 32;
/// Expression nesting at global level and inside functions.
pub const MAX_EXPR_DEPTH: usize = 64;
pub const MAX_FUNCTION_EXPR_DEPTH: usize = 32;
/// Longest string a script may build.
pub const MAX_STRING_BYTES: usize = 1024 * 1024;
/// Largest array and map a script may build.
pub const MAX_ARRAY_ITEMS: usize = 100_000;
pub const MAX_MAP_ITEMS: usize = 10_000;
/// Variables in scope and functions per script.
pub const MAX_VARIABLES: usize = 1_000;
pub const MAX_FUNCTIONS: usize = 256;
/// Largest rule file read.
pub const MAX_RULE_FILE_BYTES: u64 = 1024 * 1024;
/// Default: group keys one rule keeps window state for; past it the least recently seen go
/// (counted in `vigil_rules_evictions_total`).
pub const DEFAULT_MAX_KEYS_PER_RULE: usize = 100_000;
/// Default out-of-order tolerance of event time.
pub const DEFAULT_TOLERANCE_SECS: u64 = 10;
/// How deep alerts may feed rules that match alerts (an alert of an alert of an alert…).
pub const MAX_ALERT_DEPTH: usize = 4;
/// Suppression entries kept per rule.
pub const MAX_SUPPRESSED_KEYS: usize = 100_000;
