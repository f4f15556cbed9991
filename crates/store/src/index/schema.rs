//! The index schema: one tantivy document per *block* of events (a run of at most
//! [`BLOCK_EVENTS`] events of one archive batch), holding the block's distinct words and
//! field values. A search finds the blocks that may hold a match and confirms each event
//! against the archive (`crate::query`); see `docs/adr/0002-block-index.md`.

use std::borrow::Cow;

use rustc_hash::{FxHashMap, FxHashSet};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{RawTokenizer, TextAnalyzer, WhitespaceTokenizer};
use tantivy::{Index, TantivyDocument};
use vigil_event::Event;

use crate::query::fields::{each_indexed_value, lower_into, words, FieldValue};

/// The most events one index document stands for. Larger blocks index faster and smaller
/// (fewer distinct terms per event) but make a search confirm more events per candidate.
pub const BLOCK_EVENTS: usize = 1024;

/// `vigil.terms` takes each value whole.
pub const KEYWORD_TOKENIZER: &str = "vigil_keyword";
/// `message` holds the block's distinct words, already split and lowercased, joined by spaces.
pub const WORDS_TOKENIZER: &str = "vigil_words";

/// The fast field that points into the archive: the block's first event.
pub const POINTER: &str = "vigil.ptr";
/// How many events the block stands for.
pub const COUNT: &str = "vigil.count";
/// `@timestamp` bounds of the block's events, in nanoseconds.
pub const MIN_TIME: &str = "vigil.min_ts";
pub const MAX_TIME: &str = "vigil.max_ts";
/// The field of `name=value` terms.
pub const TERMS: &str = "vigil.terms";

/// Terms longer than this are cut (at a character boundary) on both the indexing and the query
/// side, so equal values still meet; the confirmation against the archive compares them whole.
pub const MAX_TERM_BYTES: usize = 250;
/// Words of `message` this long or longer are left out of the index (as tantivy's
/// `RemoveLongFilter` did); a query word that long narrows nothing and is confirmed instead.
pub const MAX_WORD_BYTES: usize = 256;
/// Marks a term that every event of the block has: such blocks need no confirmation.
pub const EVERY_EVENT_MARK: char = '!';

/// Handles of the schema's fields.
#[derive(Clone, Debug)]
pub struct IndexFields {
    pub pointer: Field,
    pub count: Field,
    pub min_time: Field,
    pub max_time: Field,
    pub message: Field,
    pub terms: Field,
}

fn indexed_text(tokenizer: &str) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    )
}

/// The schema of every partition index. Changing it means a new index version: the catalog
/// rebuilds an older partition's index from its archive ([`is_current`]).
pub fn build_schema() -> (Schema, IndexFields) {
    let mut builder = Schema::builder();
    let fast = NumericOptions::default().set_fast();
    let fields = IndexFields {
        pointer: builder.add_u64_field(POINTER, fast.clone()),
        count: builder.add_u64_field(COUNT, fast.clone()),
        min_time: builder.add_i64_field(MIN_TIME, fast.clone()),
        max_time: builder.add_i64_field(MAX_TIME, fast),
        message: builder.add_text_field(vigil_event::field::MESSAGE, indexed_text(WORDS_TOKENIZER)),
        terms: builder.add_text_field(TERMS, indexed_text(KEYWORD_TOKENIZER)),
    };
    (builder.build(), fields)
}

/// Whether an index on disk has this version's schema.
pub fn is_current(schema: &Schema) -> bool {
    let (current, _) = build_schema();
    let names = |schema: &Schema| {
        schema
            .fields()
            .map(|(_, entry)| (entry.name().to_owned(), entry.field_type().clone()))
            .collect::<Vec<_>>()
    };
    names(schema) == names(&current)
}

/// Tokenizers are not persisted with an index: register them whenever one is opened.
pub fn register_tokenizers(index: &Index) {
    index.tokenizers().register(
        KEYWORD_TOKENIZER,
        TextAnalyzer::builder(RawTokenizer::default()).build(),
    );
    index.tokenizers().register(
        WORDS_TOKENIZER,
        TextAnalyzer::builder(WhitespaceTokenizer::default()).build(),
    );
}

/// Cuts `text` to at most [`MAX_TERM_BYTES`] at a character boundary.
pub(crate) fn cut_term(text: &str) -> &str {
    if text.len() <= MAX_TERM_BYTES {
        return text;
    }
    let mut end = MAX_TERM_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Writes the term of `name` = `value` (value already in its indexed form) into `out`;
/// whether it is whole (not cut to [`MAX_TERM_BYTES`]).
pub(crate) fn term_into(out: &mut String, name: &str, value: &str) -> bool {
    out.clear();
    out.push_str(name);
    out.push('=');
    out.push_str(value);
    let cut = cut_term(out).len();
    let whole = cut == out.len();
    out.truncate(cut);
    whole
}

/// `term` as the term of a block every event of which has it.
pub(crate) fn every_event_term(term: &str) -> String {
    let mut every = String::with_capacity(term.len() + EVERY_EVENT_MARK.len_utf8());
    every.push(EVERY_EVENT_MARK);
    every.push_str(term);
    every
}

/// One field's distinct values in a block: value (indexed form) → (events that have it,
/// 1 + the last event counted, so an event's repeated value counts once).
type ValueCounts<'a> = FxHashMap<Cow<'a, str>, (u32, u32)>;

impl IndexFields {
    /// The index document of one block of events; `pointer` addresses its first event.
    ///
    /// Words and values are deduplicated here, borrowed from the events where they are
    /// already lowercase, so tantivy sees each distinct term of the block once.
    pub fn block_document(&self, events: &[Event], pointer: u64) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_u64(self.pointer, pointer);
        doc.add_u64(self.count, events.len() as u64);
        let (min, max) = events
            .iter()
            .fold((i64::MAX, i64::MIN), |(min, max), event| {
                let time = event.timestamp.as_nanos();
                (min.min(time), max.max(time))
            });
        doc.add_i64(self.min_time, min);
        doc.add_i64(self.max_time, max);

        let mut distinct_words: FxHashSet<Cow<'_, str>> = FxHashSet::default();
        // Names come in the same order for every event: `next` guesses where the next one is.
        let mut fields: Vec<(Cow<'_, str>, ValueCounts<'_>)> = Vec::new();
        // Where each name is in `fields`, for when the guess misses (a block of mixed sources
        // has dozens of names; scanning them all for each miss was the index thread's top cost).
        let mut positions: FxHashMap<Cow<'_, str>, usize> = FxHashMap::default();
        let mut next = 0;
        let mut lower = String::new();
        for (number, event) in (1u32..).zip(events) {
            for word in words(&event.message) {
                if word.len() >= MAX_WORD_BYTES {
                    continue;
                }
                let lowered = lower_into(word, &mut lower);
                if !distinct_words.contains(lowered) {
                    distinct_words.insert(key_of(word, lowered));
                }
            }
            each_indexed_value(event, &mut |name, value| {
                let at = match fields.get(next) {
                    Some((known, _)) if same_name(known, name.as_str()) => next,
                    _ => match positions.get(name.as_str()) {
                        Some(&at) => at,
                        None => {
                            let name = name.to_cow();
                            positions.insert(name.clone(), fields.len());
                            fields.push((name, ValueCounts::default()));
                            fields.len() - 1
                        }
                    },
                };
                next = at + 1;
                let values = &mut fields[at].1;
                // Text is looked up lowercased (borrowed when that changed nothing), other
                // values in their written form.
                let (text, indexed): (&str, &str) = match value {
                    FieldValue::Text(text) => (text, lower_into(text, &mut lower)),
                    other => {
                        other.write_indexed(&mut lower);
                        ("", lower.as_str())
                    }
                };
                match values.get_mut(indexed) {
                    Some(seen) => {
                        if seen.1 != number {
                            seen.0 += 1;
                            seen.1 = number;
                        }
                    }
                    None => {
                        values.insert(key_of(text, indexed), (1, number));
                    }
                }
            });
        }
        let mut joined =
            String::with_capacity(distinct_words.iter().map(|word| word.len() + 1).sum());
        for word in &distinct_words {
            joined.push_str(word);
            joined.push(' ');
        }
        doc.add_text(self.message, joined);
        let mut term = String::new();
        for (name, values) in &fields {
            for (value, (count, _)) in values {
                term_into(&mut term, name, value);
                if *count as usize == events.len() {
                    doc.add_text(self.terms, every_event_term(&term));
                }
                doc.add_text(self.terms, term.as_str());
            }
        }
        doc
    }
}

/// Names are mostly the same constant (same address) from event to event: compare addresses
/// before bytes.
#[inline]
fn same_name(a: &str, b: &str) -> bool {
    std::ptr::eq(a, b) || a == b
}

/// `indexed` (what `text` became when lowercased, or another value's written form) as a key:
/// `text` itself when it is the same string, so nothing is copied.
#[inline]
fn key_of<'a>(text: &'a str, indexed: &str) -> Cow<'a, str> {
    if std::ptr::eq(text, indexed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(indexed.to_owned())
    }
}
