//! The search language (tantivy's query-parser syntax) compiled three ways:
//!
//! - a [`Matcher`] that decides exactly whether one event matches, run on events read back from
//!   the archive;
//! - a *candidate* block query: every block that may hold a match (a superset), run on the
//!   block index;
//! - a *certain* block query: blocks whose every event matches (a subset), counted without
//!   reading them.
//!
//! Bare words search `message` and are joined by AND; `field:value` matches a field whole and
//! case-insensitively (`host.name:web-1`, `source.ip:10.0.0.1`, `destination.port:22`); a quoted
//! phrase on `message` matches consecutive words (`"a b"~2`: with up to two words between),
//! `"sess"*` takes its last word as a prefix;
//! `AND`/`OR`/`NOT`, `+`/`-`, parentheses, ranges (`log.syslog.severity.code:[0 TO 3]`, on
//! numbers, addresses, RFC 3339 times and text), sets (`process.name: IN [sshd sudo]`), field
//! existence (`user.name:*`) and regular expressions over whole values (`user.name:/adm.*/`).

pub(crate) mod fields;

use std::net::IpAddr;

use tantivy::query::{AllQuery, BooleanQuery, EmptyQuery, Occur as TantivyOccur, Query, TermQuery};
use tantivy::query_grammar::{Delimiter, Occur, UserInputAst, UserInputBound, UserInputLeaf};
use tantivy::schema::IndexRecordOption;
use tantivy::Term;
use vigil_event::{Event, Timestamp};

use crate::index::{every_event_term, term_into, IndexFields, MAX_WORD_BYTES};
use crate::StoreError;
use fields::{
    any_value, canonical_ip, ip_as_u128, lower_into, lowercase, words, FieldRef, FieldValue,
};

/// A range small enough on a whole-number field is listed as its terms in the block query.
const MAX_LISTED_RANGE: i64 = 64;
/// Parentheses nested deeper than this are refused before parsing: the grammar and the three
/// compilations recurse once per level, and 50,000 levels overflowed the stack (an abort of
/// the whole server, from one request).
pub const MAX_QUERY_DEPTH: usize = 64;

/// A query, parsed and compiled.
#[derive(Debug)]
pub struct CompiledQuery {
    pub matcher: Matcher,
    pub candidate: BlockExpr,
    pub certain: BlockExpr,
}

impl CompiledQuery {
    /// Empty text and `*` match everything.
    pub fn parse(text: &str) -> crate::Result<Self> {
        let text = text.trim();
        if text.is_empty() || text == "*" {
            return Ok(Self {
                matcher: Matcher::All,
                candidate: BlockExpr::All,
                certain: BlockExpr::All,
            });
        }
        let depth = nesting(text);
        if depth > MAX_QUERY_DEPTH {
            return Err(StoreError::Query(format!(
                "parentheses nested {depth} deep; at most {MAX_QUERY_DEPTH}"
            )));
        }
        let ast = tantivy::query_grammar::parse_query(text)
            .map_err(|_| StoreError::Query(format!("{text:?} is not a valid query")))?;
        compile(&ast)
    }
}

/// How deep the parentheses of `text` nest, outside quoted phrases.
fn nesting(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut quoted, mut escaped) = (false, false);
    for c in text.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '(' if !quoted => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' if !quoted => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Terms over the block index, simplified as they are built.
#[derive(Clone, Debug, PartialEq)]
pub enum BlockExpr {
    All,
    Nothing,
    /// A word of `message`.
    Word(String),
    /// A `name=value` term (with a `!` in front when every event of the block must have it).
    Term(String),
    And(Vec<BlockExpr>),
    Or(Vec<BlockExpr>),
    AndNot(Box<BlockExpr>, Vec<BlockExpr>),
}

impl BlockExpr {
    fn and(parts: Vec<BlockExpr>) -> BlockExpr {
        let mut kept = Vec::new();
        for part in parts {
            match part {
                BlockExpr::All => {}
                BlockExpr::Nothing => return BlockExpr::Nothing,
                BlockExpr::And(inner) => kept.extend(inner),
                other => kept.push(other),
            }
        }
        match kept.len() {
            0 => BlockExpr::All,
            1 => kept.pop().unwrap_or(BlockExpr::All),
            _ => BlockExpr::And(kept),
        }
    }

    fn or(parts: Vec<BlockExpr>) -> BlockExpr {
        let mut kept = Vec::new();
        for part in parts {
            match part {
                BlockExpr::All => return BlockExpr::All,
                BlockExpr::Nothing => {}
                BlockExpr::Or(inner) => kept.extend(inner),
                other => kept.push(other),
            }
        }
        match kept.len() {
            0 => BlockExpr::Nothing,
            1 => kept.pop().unwrap_or(BlockExpr::Nothing),
            _ => BlockExpr::Or(kept),
        }
    }

    fn and_not(base: BlockExpr, excluded: Vec<BlockExpr>) -> BlockExpr {
        if base == BlockExpr::Nothing {
            return BlockExpr::Nothing;
        }
        let mut kept = Vec::new();
        for part in excluded {
            match part {
                BlockExpr::All => return BlockExpr::Nothing,
                BlockExpr::Nothing => {}
                other => kept.push(other),
            }
        }
        if kept.is_empty() {
            base
        } else {
            BlockExpr::AndNot(Box::new(base), kept)
        }
    }

    /// The tantivy query over a partition's block index.
    pub fn to_query(&self, fields: &IndexFields) -> Box<dyn Query> {
        let term = |field, text: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::Basic,
            ))
        };
        let all = |parts: &[BlockExpr], occur| -> Vec<(TantivyOccur, Box<dyn Query>)> {
            parts
                .iter()
                .map(|part| (occur, part.to_query(fields)))
                .collect()
        };
        match self {
            BlockExpr::All => Box::new(AllQuery),
            BlockExpr::Nothing => Box::new(EmptyQuery),
            BlockExpr::Word(word) => term(fields.message, word),
            BlockExpr::Term(text) => term(fields.terms, text),
            BlockExpr::And(parts) => Box::new(BooleanQuery::new(all(parts, TantivyOccur::Must))),
            BlockExpr::Or(parts) => Box::new(BooleanQuery::new(all(parts, TantivyOccur::Should))),
            BlockExpr::AndNot(base, excluded) => {
                let mut clauses = vec![(TantivyOccur::Must, base.to_query(fields))];
                clauses.extend(all(excluded, TantivyOccur::MustNot));
                Box::new(BooleanQuery::new(clauses))
            }
        }
    }
}

/// Decides whether one event matches.
#[derive(Debug)]
pub enum Matcher {
    All,
    Nothing,
    Bool {
        must: Vec<Matcher>,
        should: Vec<Matcher>,
        must_not: Vec<Matcher>,
    },
    /// Consecutive words of `message`; with `prefix`, the last one starts a word.
    Phrase {
        words: Vec<String>,
        prefix: bool,
        slop: u32,
        /// Each word as a case-insensitive substring search: a message without one of them
        /// cannot match, and is passed over without being cut into words.
        contains: Vec<regex::Regex>,
    },
    Equals {
        field: FieldRef,
        value: Literal,
        prefix: bool,
    },
    Range {
        field: FieldRef,
        lower: std::ops::Bound<RangeValue>,
        upper: std::ops::Bound<RangeValue>,
    },
    Regex {
        field: FieldRef,
        regex: regex::Regex,
    },
    Exists(FieldRef),
}

/// A literal read every way a field's value may be compared with it.
#[derive(Debug)]
pub struct Literal {
    lower: String,
    int: Option<i64>,
    float: Option<f64>,
    ip: Option<IpAddr>,
    flag: Option<bool>,
    time: Option<i64>,
}

impl Literal {
    fn new(text: &str) -> Self {
        let trimmed = text.trim();
        Self {
            lower: lowercase(text).into_owned(),
            int: trimmed.parse().ok(),
            float: trimmed
                .parse::<f64>()
                .ok()
                .filter(|number| number.is_finite()),
            ip: trimmed.parse().ok().map(canonical_ip),
            flag: match trimmed.to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            time: parse_time(trimmed),
        }
    }

    fn matches(&self, value: FieldValue<'_>) -> bool {
        match value {
            FieldValue::Text(text) => lowered_is(text, &self.lower, false),
            FieldValue::Int(number) => {
                self.int == Some(number) || self.float == Some(number as f64)
            }
            FieldValue::Float(number) => self.float == Some(number),
            FieldValue::Ip(address) => self.ip == Some(canonical_ip(address)),
            FieldValue::Bool(flag) => self.flag == Some(flag),
            FieldValue::Time(nanos) => self.time == Some(nanos),
        }
    }

    /// The indexed forms a value equal to this literal may have.
    fn forms(&self) -> Vec<String> {
        let mut forms = vec![self.lower.clone()];
        let mut push = |form: String| {
            if !forms.contains(&form) {
                forms.push(form);
            }
        };
        if let Some(number) = self.int {
            push(number.to_string());
        }
        if let Some(number) = self.float {
            push(number.to_string());
        }
        if let Some(address) = self.ip {
            push(address.to_string());
        }
        forms
    }
}

/// A range bound, typed by what both bounds read as.
#[derive(Debug, Clone)]
pub enum RangeValue {
    Number(f64),
    Ip(u128),
    Time(i64),
    Text(String),
}

fn parse_time(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| Timestamp::from_datetime(time).as_nanos())
}

fn compile(ast: &UserInputAst) -> crate::Result<CompiledQuery> {
    match ast {
        UserInputAst::Boost(inner, _) => compile(inner),
        UserInputAst::Leaf(leaf) => compile_leaf(leaf),
        UserInputAst::Clause(children) => {
            if children.is_empty() {
                return Ok(CompiledQuery {
                    matcher: Matcher::Nothing,
                    candidate: BlockExpr::Nothing,
                    certain: BlockExpr::Nothing,
                });
            }
            let (mut must, mut should, mut must_not) = (Vec::new(), Vec::new(), Vec::new());
            for (occur, child) in children {
                let compiled = compile(child)?;
                match occur.unwrap_or(Occur::Must) {
                    Occur::Must => must.push(compiled),
                    Occur::Should => should.push(compiled),
                    Occur::MustNot => must_not.push(compiled),
                }
            }
            // Tantivy's rule: with a required clause, optional ones only score.
            if !must.is_empty() {
                should.clear();
            }
            // The required parts all, else one of the optional ones, else every block.
            let combine = |pick: fn(&CompiledQuery) -> &BlockExpr| {
                let parts =
                    |list: &[CompiledQuery]| list.iter().map(|part| pick(part).clone()).collect();
                if !must.is_empty() {
                    BlockExpr::and(parts(&must))
                } else if !should.is_empty() {
                    BlockExpr::or(parts(&should))
                } else {
                    BlockExpr::All
                }
            };
            let candidate = combine(|part| &part.candidate);
            let certain_base = combine(|part| &part.certain);
            // A block none of whose events can match an excluded clause satisfies its NOT.
            let certain = BlockExpr::and_not(
                certain_base,
                must_not.iter().map(|part| part.candidate.clone()).collect(),
            );
            let matcher = Matcher::Bool {
                must: must.into_iter().map(|part| part.matcher).collect(),
                should: should.into_iter().map(|part| part.matcher).collect(),
                must_not: must_not.into_iter().map(|part| part.matcher).collect(),
            };
            Ok(CompiledQuery {
                matcher,
                candidate,
                certain,
            })
        }
    }
}

fn compile_leaf(leaf: &UserInputLeaf) -> crate::Result<CompiledQuery> {
    let unsure = |matcher| CompiledQuery {
        matcher,
        candidate: BlockExpr::All,
        certain: BlockExpr::Nothing,
    };
    match leaf {
        UserInputLeaf::All => Ok(CompiledQuery {
            matcher: Matcher::All,
            candidate: BlockExpr::All,
            certain: BlockExpr::All,
        }),
        UserInputLeaf::Literal(literal) => {
            let field = FieldRef::resolve(literal.field_name.as_deref());
            if field == FieldRef::Message {
                return Ok(compile_phrase(
                    &literal.phrase,
                    literal.prefix,
                    literal.slop,
                ));
            }
            let value = Literal::new(&literal.phrase);
            if field == FieldRef::Timestamp && value.time.is_none() {
                return Err(StoreError::Query(format!(
                    "{:?} is not an RFC 3339 time for @timestamp",
                    literal.phrase
                )));
            }
            let (candidate, certain) = if field.has_terms() && !literal.prefix {
                let terms: Vec<(String, bool)> = value
                    .forms()
                    .iter()
                    .map(|form| term_text(&field, form))
                    .collect();
                let candidate = BlockExpr::or(
                    terms
                        .iter()
                        .map(|(term, _)| BlockExpr::Term(term.clone()))
                        .collect(),
                );
                // A cut term stands for every value that starts the same: it proves nothing.
                let certain = if terms.iter().all(|(_, whole)| *whole) {
                    BlockExpr::or(
                        terms
                            .iter()
                            .map(|(term, _)| BlockExpr::Term(every_event_term(term)))
                            .collect(),
                    )
                } else {
                    BlockExpr::Nothing
                };
                (candidate, certain)
            } else {
                (BlockExpr::All, BlockExpr::Nothing)
            };
            Ok(CompiledQuery {
                matcher: Matcher::Equals {
                    field,
                    value,
                    prefix: literal.prefix,
                },
                candidate,
                certain,
            })
        }
        // `field: IN [a b]` is `field:a OR field:b`.
        UserInputLeaf::Set { field, elements } => compile(&UserInputAst::Clause(
            elements
                .iter()
                .map(|element| {
                    let literal = tantivy::query_grammar::UserInputLiteral {
                        field_name: field.clone(),
                        phrase: element.clone(),
                        delimiter: Delimiter::None,
                        slop: 0,
                        prefix: false,
                    };
                    let leaf = UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(literal)));
                    (Some(Occur::Should), leaf)
                })
                .collect(),
        )),
        UserInputLeaf::Range {
            field,
            lower,
            upper,
        } => compile_range(FieldRef::resolve(field.as_deref()), lower, upper),
        UserInputLeaf::Exists { field } => {
            Ok(unsure(Matcher::Exists(FieldRef::resolve(Some(field)))))
        }
        UserInputLeaf::Regex { field, pattern } => {
            let regex = regex::Regex::new(&format!("^(?:{pattern})$"))
                .map_err(|error| StoreError::Query(format!("regular expression: {error}")))?;
            Ok(unsure(Matcher::Regex {
                field: FieldRef::resolve(field.as_deref()),
                regex,
            }))
        }
    }
}

/// The block term for `field` = `form`, and whether it is whole (not cut).
fn term_text(field: &FieldRef, form: &str) -> (String, bool) {
    let mut text = String::new();
    let whole = term_into(&mut text, field.name(), form);
    (text, whole)
}

fn compile_phrase(phrase: &str, prefix: bool, slop: u32) -> CompiledQuery {
    let mut buffer = String::new();
    let phrase_words: Vec<String> = words(phrase)
        .map(|word| lower_into(word, &mut buffer).to_owned())
        .collect();
    if phrase_words.is_empty() {
        return CompiledQuery {
            matcher: Matcher::Nothing,
            candidate: BlockExpr::Nothing,
            certain: BlockExpr::Nothing,
        };
    }
    let whole = if prefix {
        &phrase_words[..phrase_words.len() - 1]
    } else {
        &phrase_words[..]
    };
    let candidate = BlockExpr::and(
        whole
            .iter()
            .filter(|word| word.len() < MAX_WORD_BYTES)
            .map(|word| BlockExpr::Word(word.clone()))
            .collect(),
    );
    let contains = phrase_words
        .iter()
        .filter_map(|word| regex::Regex::new(&format!("(?i){}", regex::escape(word))).ok())
        .collect();
    CompiledQuery {
        matcher: Matcher::Phrase {
            words: phrase_words,
            prefix,
            slop,
            contains,
        },
        candidate,
        certain: BlockExpr::Nothing,
    }
}

fn compile_range(
    field: FieldRef,
    lower: &UserInputBound,
    upper: &UserInputBound,
) -> crate::Result<CompiledQuery> {
    let texts: Vec<&str> = [lower, upper]
        .into_iter()
        .filter_map(|bound| match bound {
            UserInputBound::Inclusive(text) | UserInputBound::Exclusive(text) => {
                Some(text.as_str())
            }
            UserInputBound::Unbounded => None,
        })
        .collect();
    let all = |read: &dyn Fn(&str) -> bool| texts.iter().all(|text| read(text));
    type Reader = fn(&str) -> Option<RangeValue>;
    let reader: Reader = if field == FieldRef::Timestamp {
        if !all(&|text| parse_time(text).is_some()) {
            return Err(StoreError::Query(
                "@timestamp ranges take RFC 3339 times".into(),
            ));
        }
        |text| parse_time(text).map(RangeValue::Time)
    } else if all(&|text| text.parse::<f64>().is_ok()) {
        |text| text.parse().ok().map(RangeValue::Number)
    } else if all(&|text| text.parse::<IpAddr>().is_ok()) {
        |text| text.parse().ok().map(|ip| RangeValue::Ip(ip_as_u128(ip)))
    } else {
        |text| Some(RangeValue::Text(lowercase(text).into_owned()))
    };
    let bound = |bound: &UserInputBound| match bound {
        UserInputBound::Inclusive(text) => {
            reader(text).map_or(std::ops::Bound::Unbounded, std::ops::Bound::Included)
        }
        UserInputBound::Exclusive(text) => {
            reader(text).map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded)
        }
        UserInputBound::Unbounded => std::ops::Bound::Unbounded,
    };
    let (lower, upper) = (bound(lower), bound(upper));
    let candidate = listed_range(&field, &lower, &upper).unwrap_or(BlockExpr::All);
    Ok(CompiledQuery {
        matcher: Matcher::Range {
            field,
            lower,
            upper,
        },
        candidate,
        certain: BlockExpr::Nothing,
    })
}

/// A short range of whole numbers on an integer field, as the terms of its members.
fn listed_range(
    field: &FieldRef,
    lower: &std::ops::Bound<RangeValue>,
    upper: &std::ops::Bound<RangeValue>,
) -> Option<BlockExpr> {
    use std::ops::Bound;
    if !field.is_integer() {
        return None;
    }
    let first = match lower {
        Bound::Included(RangeValue::Number(number)) => number.ceil(),
        Bound::Excluded(RangeValue::Number(number)) => number.floor() + 1.0,
        _ => return None,
    };
    let last = match upper {
        Bound::Included(RangeValue::Number(number)) => number.floor(),
        Bound::Excluded(RangeValue::Number(number)) => number.ceil() - 1.0,
        _ => return None,
    };
    if !(first.abs() < 1e15 && last.abs() < 1e15) {
        return None;
    }
    let (first, last) = (first as i64, last as i64);
    if last.saturating_sub(first) > MAX_LISTED_RANGE {
        return None;
    }
    Some(BlockExpr::or(
        (first..=last)
            .map(|number| BlockExpr::Term(term_text(field, &number.to_string()).0))
            .collect(),
    ))
}

/// Per-event state the matcher computes at most once: where the words of `message` are.
/// Kept by a search and reused from event to event, so matching allocates nothing per event.
#[derive(Default)]
pub struct EventWords {
    spans: Vec<(usize, usize)>,
    ready: bool,
}

impl EventWords {
    /// Byte ranges of the words of the event's message.
    fn spans(&mut self, event: &Event) -> &[(usize, usize)] {
        if !self.ready {
            let message = event.message.as_str();
            self.spans.clear();
            let base = message.as_ptr() as usize;
            self.spans.extend(words(message).map(|word| {
                let start = word.as_ptr() as usize - base;
                (start, start + word.len())
            }));
            self.ready = true;
        }
        &self.spans
    }

    fn any(&mut self, event: &Event, mut test: impl FnMut(&str) -> bool) -> bool {
        let message = event.message.as_str();
        self.spans(event)
            .iter()
            .any(|&(start, end)| test(&message[start..end]))
    }
}

/// Whether `text` lowercased is `wanted` (or, with `prefix`, starts with it), without
/// allocating when it is ASCII.
#[inline]
fn lowered_is(text: &str, wanted: &str, prefix: bool) -> bool {
    if text.is_ascii() {
        let word = text.as_bytes();
        let wanted = wanted.as_bytes();
        let compared = if prefix {
            if word.len() < wanted.len() {
                return false;
            }
            &word[..wanted.len()]
        } else {
            if word.len() != wanted.len() {
                return false;
            }
            word
        };
        compared
            .iter()
            .zip(wanted)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
    } else {
        let lowered = lowercase(text);
        if prefix {
            lowered.starts_with(wanted)
        } else {
            lowered == wanted
        }
    }
}

impl Matcher {
    /// Whether `event` matches.
    pub fn matches(&self, event: &Event) -> bool {
        self.matches_reusing(event, &mut EventWords::default())
    }

    /// [`Matcher::matches`] with state reused across the events of one search.
    pub fn matches_reusing(&self, event: &Event, words: &mut EventWords) -> bool {
        words.ready = false;
        self.matches_with(event, words)
    }

    fn matches_with(&self, event: &Event, cache: &mut EventWords) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Nothing => false,
            Matcher::Bool {
                must,
                should,
                must_not,
            } => {
                must.iter().all(|part| part.matches_with(event, cache))
                    && (should.is_empty()
                        || should.iter().any(|part| part.matches_with(event, cache)))
                    && !must_not.iter().any(|part| part.matches_with(event, cache))
            }
            Matcher::Phrase {
                words,
                prefix,
                slop,
                contains,
            } => {
                contains.iter().all(|word| word.is_match(&event.message))
                    && phrase_in(cache, event, words, *prefix, *slop)
            }
            Matcher::Equals {
                field,
                value,
                prefix,
            } => {
                if *prefix {
                    let mut buffer = String::new();
                    any_value(event, field, &mut |found| {
                        found.write_indexed(&mut buffer);
                        buffer.starts_with(&value.lower)
                    })
                } else {
                    any_value(event, field, &mut |found| value.matches(found))
                }
            }
            Matcher::Range {
                field,
                lower,
                upper,
            } => {
                if *field == FieldRef::Message {
                    return cache.any(event, |word| {
                        in_range(
                            &RangeValue::Text(lowercase(word).into_owned()),
                            lower,
                            upper,
                        )
                    });
                }
                any_value(event, field, &mut |found| {
                    range_value(found, lower, upper)
                        .is_some_and(|value| in_range(&value, lower, upper))
                })
            }
            Matcher::Regex { field, regex } => {
                if *field == FieldRef::Message {
                    return cache.any(event, |word| regex.is_match(&lowercase(word)));
                }
                let mut buffer = String::new();
                any_value(event, field, &mut |found| {
                    found.write_indexed(&mut buffer);
                    regex.is_match(&buffer)
                })
            }
            Matcher::Exists(field) => {
                if *field == FieldRef::Message {
                    return !event.message.is_empty();
                }
                any_value(event, field, &mut |_| true)
            }
        }
    }
}

/// The value in the range's own terms, or `None` when the two cannot be compared.
fn range_value(
    value: FieldValue<'_>,
    lower: &std::ops::Bound<RangeValue>,
    upper: &std::ops::Bound<RangeValue>,
) -> Option<RangeValue> {
    use std::ops::Bound;
    let kind = match (lower, upper) {
        (Bound::Included(kind) | Bound::Excluded(kind), _)
        | (Bound::Unbounded, Bound::Included(kind) | Bound::Excluded(kind)) => kind,
        (Bound::Unbounded, Bound::Unbounded) => {
            return Some(RangeValue::Number(0.0));
        }
    };
    match (kind, value) {
        (RangeValue::Number(_), FieldValue::Int(number)) => Some(RangeValue::Number(number as f64)),
        (RangeValue::Number(_), FieldValue::Float(number)) => Some(RangeValue::Number(number)),
        (RangeValue::Ip(_), FieldValue::Ip(address)) => Some(RangeValue::Ip(ip_as_u128(address))),
        (RangeValue::Ip(_), FieldValue::Text(text)) => text
            .parse::<IpAddr>()
            .ok()
            .map(|address| RangeValue::Ip(ip_as_u128(address))),
        (RangeValue::Time(_), FieldValue::Time(nanos)) => Some(RangeValue::Time(nanos)),
        (RangeValue::Text(_), FieldValue::Text(text)) => {
            Some(RangeValue::Text(lowercase(text).into_owned()))
        }
        _ => None,
    }
}

fn compare(a: &RangeValue, b: &RangeValue) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (RangeValue::Number(a), RangeValue::Number(b)) => a.partial_cmp(b),
        (RangeValue::Ip(a), RangeValue::Ip(b)) => Some(a.cmp(b)),
        (RangeValue::Time(a), RangeValue::Time(b)) => Some(a.cmp(b)),
        (RangeValue::Text(a), RangeValue::Text(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

fn in_range(
    value: &RangeValue,
    lower: &std::ops::Bound<RangeValue>,
    upper: &std::ops::Bound<RangeValue>,
) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    use std::ops::Bound;
    let above = match lower {
        Bound::Included(bound) => matches!(compare(value, bound), Some(Greater | Equal)),
        Bound::Excluded(bound) => matches!(compare(value, bound), Some(Greater)),
        Bound::Unbounded => true,
    };
    let below = match upper {
        Bound::Included(bound) => matches!(compare(value, bound), Some(Less | Equal)),
        Bound::Excluded(bound) => matches!(compare(value, bound), Some(Less)),
        Bound::Unbounded => true,
    };
    above && below
}

/// Whether `phrase` occurs in the event's words: consecutively, or with `slop` extra words in
/// all between its words (in order); with `prefix`, its last word may be the start of a word.
fn phrase_in(
    cache: &mut EventWords,
    event: &Event,
    phrase: &[String],
    prefix: bool,
    slop: u32,
) -> bool {
    if phrase.is_empty() {
        return false;
    }
    let message = event.message.as_str();
    let found = cache.spans(event);
    let word = |at: usize| found.get(at).map(|&(start, end)| &message[start..end]);
    let fits = |word: &str, index: usize| {
        lowered_is(word, &phrase[index], prefix && index + 1 == phrase.len())
    };
    (0..found.len()).any(|start| {
        if !word(start).is_some_and(|first| fits(first, 0)) {
            return false;
        }
        let mut at = start;
        let mut spare = slop as usize;
        for index in 1..phrase.len() {
            at += 1;
            loop {
                match word(at) {
                    Some(next) if fits(next, index) => break,
                    Some(_) if spare > 0 => {
                        spare -= 1;
                        at += 1;
                    }
                    _ => return false,
                }
            }
        }
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::MAX_TERM_BYTES;
    use proptest::prelude::*;
    use std::net::SocketAddr;
    use tantivy::collector::DocSetCollector;
    use vigil_event::Value;

    fn event(message: &str, host: &str, app: &str, port: i64) -> Event {
        let mut event = Event::new(Timestamp::from_nanos(1_000), Vec::new());
        event.message = message.into();
        event.host_name = Some(host.into());
        event.process_name = Some(app.into());
        event.severity = Some(3);
        event.source = Some(SocketAddr::from(([10, 0, 0, 7], 514)));
        event
            .fields
            .insert("destination.port".into(), Value::Int(port));
        event
            .fields
            .insert("event.dataset".into(), Value::from("ipfix"));
        event
            .fields
            .insert("event.category".into(), Value::from("network"));
        event
            .fields
            .insert("event.start".into(), Value::from("2026-01-01T00:00:00Z"));
        event.fields.insert(
            "snmp.oid.1.3.6.1.2.1.2.2.1.2.2".into(),
            Value::from("GigabitEthernet0/2"),
        );
        event
    }

    /// The blocks (by index in `blocks`) a block query selects, built the way the writer does.
    fn selected(blocks: &[Vec<Event>], expr: &BlockExpr) -> Vec<usize> {
        let (schema, fields) = crate::index::build_schema();
        let index = tantivy::Index::create_in_ram(schema);
        crate::index::register_tokenizers(&index);
        let mut writer = index.writer(15_000_000).expect("writer");
        for (number, block) in blocks.iter().enumerate() {
            writer
                .add_document(fields.block_document(block, number as u64))
                .expect("add");
        }
        writer.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        let found = searcher
            .search(&*expr.to_query(&fields), &DocSetCollector)
            .expect("search");
        let mut numbers: Vec<usize> = found
            .into_iter()
            .map(|address| {
                let column = searcher
                    .segment_reader(address.segment_ord)
                    .fast_fields()
                    .u64(crate::index::pointer::FIELD)
                    .expect("pointer");
                column.first(address.doc_id).expect("pointer value") as usize
            })
            .collect();
        numbers.sort_unstable();
        numbers
    }

    fn matches(query: &str, event: &Event) -> bool {
        CompiledQuery::parse(query)
            .unwrap_or_else(|error| panic!("{query}: {error}"))
            .matcher
            .matches(event)
    }

    #[test]
    fn fields_words_phrases_and_booleans_match_as_documented() {
        let e = event(
            "Failed password for root from 203.0.113.9 port 22 ssh2",
            "Web-1",
            "sshd",
            22,
        );
        for query in [
            "failed",
            "FAILED password",
            "\"password for root\"",
            "\"203.0.113.9\"",
            "\"from 203.0\"*",
            "\"failed root\"~2",
            "host.name:web-1",
            "process.name:SSHD",
            "process.name: IN [sudo sshd]",
            "log.syslog.severity.code:3",
            "log.syslog.severity.code:[0 TO 3]",
            "log.syslog.severity.name:err",
            "source.ip:10.0.0.7",
            "source.ip:\"::ffff:10.0.0.7\"",
            "source.ip:[10.0.0.0 TO 10.0.0.255]",
            "source.port:514",
            "destination.port:22",
            "destination.port:[1 TO 1024]",
            "fields.destination\\.port:22",
            "event.dataset:ipfix AND event.category:network",
            "snmp.oid.1.3.6.1.2.1.2.2.1.2.2:\"gigabitethernet0/2\"",
            "event.start:\"2026-01-01T00:00:00Z\"",
            "user.name:* OR host.name:*",
            "process.name:/ss.d/",
            "-process.name:sudo",
            "failed AND NOT host.name:web-2",
            "(event.category:network) AND -destination.port:80",
            "vigil.tenant:default AND vigil.level:3",
            "@timestamp:[1970-01-01T00:00:00Z TO 1970-01-01T00:00:01Z]",
        ] {
            assert!(matches(query, &e), "{query} should match");
        }
        for query in [
            "accepted",
            "\"root password\"",
            "\"failed root\"",
            "host.name:web",
            "process.name: IN [sudo su]",
            "log.syslog.severity.code:[4 TO 7]",
            "source.ip:10.0.0.8",
            "destination.port:23",
            "destination.port:{22 TO 80]",
            "user.name:*",
            "failed AND -process.name:sshd",
            "accepted OR denied",
            "event.dataset:netflow",
            "@timestamp:[1970-01-01T00:00:01Z TO *]",
        ] {
            assert!(!matches(query, &e), "{query} should not match");
        }
        assert!(CompiledQuery::parse("host.name:(").is_err());
        let nested = |depth: usize| format!("{}failed{}", "(".repeat(depth), ")".repeat(depth));
        assert!(matches(&nested(MAX_QUERY_DEPTH), &e));
        assert!(CompiledQuery::parse(&nested(MAX_QUERY_DEPTH + 1)).is_err());
        // Refused, not a stack overflow.
        assert!(CompiledQuery::parse(&nested(100_000)).is_err());
        assert!(matches(&format!("\"{}\" OR failed", "(".repeat(500)), &e));
        assert!(CompiledQuery::parse("@timestamp:yesterday").is_err());
        assert!(CompiledQuery::parse("user.name:/(/").is_err());
    }

    #[test]
    fn candidates_hold_every_match_and_certain_blocks_match_whole() {
        let blocks = vec![
            vec![
                event("failed password for root", "web-1", "sshd", 22),
                event("accepted publickey for alice", "web-1", "sshd", 22),
            ],
            vec![event("session opened for root", "db-1", "sudo", 443)],
        ];
        let check = |query: &str, candidates: &[usize], certain: &[usize]| {
            let compiled = CompiledQuery::parse(query).expect("query");
            assert_eq!(
                selected(&blocks, &compiled.candidate),
                candidates,
                "{query}"
            );
            assert_eq!(
                selected(&blocks, &compiled.certain),
                certain,
                "{query} (certain)"
            );
        };
        check("root", &[0, 1], &[]);
        check("host.name:web-1", &[0], &[0]);
        check("process.name:sshd AND destination.port:22", &[0], &[0]);
        check("-process.name:sshd", &[0, 1], &[1]);
        check("host.name:web-1 OR host.name:db-1", &[0, 1], &[0, 1]);
        check("\"for root\"", &[0, 1], &[]);
        check("event.start:x", &[0, 1], &[]);
        check("log.syslog.severity.code:[3 TO 4]", &[0, 1], &[]);
        check("log.syslog.severity.code:[4 TO 7]", &[], &[]);
        check("nowhere", &[], &[]);
    }

    fn arbitrary_event() -> impl Strategy<Value = Event> {
        let words = prop::sample::select(vec![
            "Failed", "password", "root", "alice", "from", "port", "22", "Über",
        ]);
        (
            prop::collection::vec(words, 0..6),
            prop::sample::select(vec!["web-1", "WEB-1", "db-1"]),
            prop::sample::select(vec!["sshd", "sudo"]),
            0i64..4,
            prop::option::of(prop::sample::select(vec!["alice", "Root"])),
            prop::option::of(prop::sample::select(vec!["Paris", "Oslo"])),
            prop::sample::select(vec!["x", "y"]),
        )
            .prop_map(|(words, host, app, port, user, city, tail)| {
                let mut e = event(&words.join(" "), host, app, port);
                if let Some(user) = user {
                    e.fields.insert("user.name".into(), Value::from(user));
                }
                if let Some(city) = city {
                    // A map inside a list: indexed and matched as `geo.city`.
                    let place =
                        std::collections::BTreeMap::from([("city".to_owned(), Value::from(city))]);
                    e.fields
                        .insert("geo".into(), Value::List(vec![Value::Map(place)]));
                }
                // Values longer than a term: two of them share the cut term.
                e.fields.insert(
                    "long".into(),
                    Value::from(format!("{}{tail}", "a".repeat(MAX_TERM_BYTES))),
                );
                e
            })
    }

    fn arbitrary_query() -> impl Strategy<Value = String> {
        let leaf = prop::sample::select(vec![
            "failed",
            "root",
            "\"failed password\"",
            "\"pass\"*",
            "host.name:web-1",
            "process.name:sudo",
            "destination.port:2",
            "destination.port:[1 TO 2]",
            "user.name:root",
            "user.name:*",
            "über",
            "log.syslog.severity.code:[2 TO 3]",
            "user.name:/a.*/",
            "geo.city:paris",
            "LONG_X",
        ])
        .prop_map(|leaf| leaf.replace("LONG_X", &format!("long:{}x", "a".repeat(MAX_TERM_BYTES))));
        leaf.prop_recursive(3, 12, 3, |inner| {
            (
                inner.clone(),
                prop::sample::select(vec![" AND ", " OR ", " AND NOT ", " "]),
                inner,
            )
                .prop_map(|(a, op, b)| format!("({a}{op}{b})"))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The block index never hides a match and never vouches for a miss.
        #[test]
        fn block_queries_bound_the_exact_matches(
            blocks in prop::collection::vec(prop::collection::vec(arbitrary_event(), 1..5), 1..6),
            query in arbitrary_query(),
        ) {
            let compiled = CompiledQuery::parse(&query).expect("query");
            let candidates = selected(&blocks, &compiled.candidate);
            let certain = selected(&blocks, &compiled.certain);
            for (number, block) in blocks.iter().enumerate() {
                let matching = block.iter().filter(|e| compiled.matcher.matches(e)).count();
                if matching > 0 {
                    prop_assert!(candidates.contains(&number), "{query}: block {number} has a match");
                }
                if certain.contains(&number) {
                    prop_assert_eq!(matching, block.len(), "{}: block {} is certain", query, number);
                }
            }
        }
    }
}
