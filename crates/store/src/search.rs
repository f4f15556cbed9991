//! Search across partitions: tantivy query-parser syntax over the index schema, a time range,
//! newest first; and histograms of matching events over time.
//!
//! Bare words search `message`; `field:value` searches a field (`host.name:web-1`,
//! `log.syslog.severity.name:err`, `source.ip:10.0.0.1`), with phrases, `AND`/`OR`/`NOT`,
//! `+`/`-` and ranges (`log.syslog.severity.code:[0 TO 3]`). Words are joined by AND.
//! Fields beyond the core schema (what flow, trap and body decoders add) are searched by their
//! own dotted names too: `destination.port:22`, `event.dataset:ipfix`, `snmp.trap_name:linkDown`.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fs::File;
use std::ops::Bound;
use std::sync::Arc;

use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryParser, RangeQuery};
use tantivy::{DateTime, DocAddress, Order, SegmentReader, Term};
use vigil_event::{Event, Timestamp};

use crate::archive::{read_batch_at, segment_path, ArchivePosition};
use crate::index::{pointer, IndexCatalog, OpenPartition};
use crate::{PartitionKey, StoreError};

/// The most events one search returns.
pub const MAX_SEARCH_LIMIT: usize = 10_000;
/// The most buckets one histogram returns.
pub const MAX_HISTOGRAM_BUCKETS: usize = 10_000;

/// A search: query text, `[from, to)` on `@timestamp`, and how many events to return.
#[derive(Clone, Debug, Default)]
pub struct SearchRequest {
    pub query: String,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// 0: count only.
    pub limit: usize,
}

#[derive(Debug)]
pub struct SearchResult {
    /// All matches, not just those returned.
    pub total: u64,
    /// Newest first, at most `limit`.
    pub events: Vec<Event>,
}

/// Counts per time bucket; `bucket_start` of each is `from + k × interval`.
#[derive(Debug, PartialEq, Eq)]
pub struct Histogram {
    pub interval_nanos: i64,
    pub buckets: Vec<(Timestamp, u64)>,
}

/// Runs searches over an [`IndexCatalog`].
pub struct Searcher {
    catalog: Arc<IndexCatalog>,
    parser: QueryParser,
    fields: crate::index::IndexFields,
    schema: tantivy::schema::Schema,
}

struct Hit {
    timestamp: i64,
    partition: PartitionKey,
    pointer: u64,
}

impl Searcher {
    pub fn new(catalog: Arc<IndexCatalog>) -> Self {
        // The parser needs an index only for its schema and tokenizers: an empty one in memory.
        let (schema, fields) = crate::index::build_schema();
        let index = tantivy::Index::create_in_ram(schema.clone());
        crate::index::register_tokenizers(&index);
        let mut parser = QueryParser::for_index(&index, vec![fields.message]);
        parser.set_conjunction_by_default();
        Self {
            catalog,
            parser,
            fields,
            schema,
        }
    }

    /// The partitions whose committed time bounds overlap the request.
    fn partitions(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Vec<Arc<OpenPartition>> {
        self.catalog
            .all()
            .into_iter()
            .filter(|partition| {
                let payload = partition.payload();
                let (Some(min), Some(max)) =
                    (payload.min_timestamp_nanos, payload.max_timestamp_nanos)
                else {
                    return false;
                };
                from.is_none_or(|from| max >= from.as_nanos())
                    && to.is_none_or(|to| min < to.as_nanos())
            })
            .collect()
    }

    /// The request's query, parsed once: every partition shares the schema, so one query runs
    /// on all of them. Syntax errors come back as [`StoreError::Query`].
    fn compile(
        &self,
        text: &str,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> crate::Result<Box<dyn Query>> {
        let text = text.trim();
        let user: Box<dyn Query> = if text.is_empty() || text == "*" {
            Box::new(AllQuery)
        } else {
            self.parser
                .parse_query(&json_paths(text, &self.schema))
                .map_err(|error| StoreError::Query(error.to_string()))?
        };
        if from.is_none() && to.is_none() {
            return Ok(user);
        }
        let field = self.fields.timestamp;
        let bound = |time: Timestamp| {
            Term::from_field_date(field, DateTime::from_timestamp_nanos(time.as_nanos()))
        };
        let lower = from.map_or(Bound::Unbounded, |time| Bound::Included(bound(time)));
        let upper = to.map_or(Bound::Unbounded, |time| Bound::Excluded(bound(time)));
        let range: Box<dyn Query> = Box::new(RangeQuery::new(lower, upper));
        Ok(Box::new(BooleanQuery::new(vec![
            (Occur::Must, user),
            (Occur::Must, range),
        ])))
    }

    /// With `limit` 0 it only counts: no event is read back from the archive.
    pub fn search(&self, request: &SearchRequest) -> crate::Result<SearchResult> {
        let query = self.compile(&request.query, request.from, request.to)?;
        let limit = request.limit.min(MAX_SEARCH_LIMIT);
        let mut total = 0;
        let mut hits: Vec<Hit> = Vec::new();
        for partition in self.partitions(request.from, request.to) {
            let searcher = partition.reader.searcher();
            // tantivy's TopDocs takes no limit of 0: count alone.
            let (top_docs, count) = if limit == 0 {
                (Vec::new(), searcher.search(&query, &Count)?)
            } else {
                let top = TopDocs::with_limit(limit)
                    .order_by_fast_field::<DateTime>(vigil_event::field::TIMESTAMP, Order::Desc);
                searcher.search(&query, &(top, Count))?
            };
            total += count as u64;
            for (timestamp, address) in top_docs {
                let pointer = read_pointer(searcher.segment_reader(address.segment_ord), address)?;
                hits.push(Hit {
                    timestamp: timestamp.map_or(i64::MIN, DateTime::into_timestamp_nanos),
                    partition: partition.key,
                    pointer,
                });
            }
        }
        hits.sort_by(|a, b| {
            b.timestamp
                .cmp(&a.timestamp)
                .then(b.pointer.cmp(&a.pointer))
        });
        hits.truncate(limit);
        let events = self.fetch(&hits)?;
        Ok(SearchResult { total, events })
    }

    /// Reads hits back from the archive, each batch once.
    fn fetch(&self, hits: &[Hit]) -> crate::Result<Vec<Event>> {
        let mut batches: HashMap<(PartitionKey, ArchivePosition), Vec<Event>> = HashMap::new();
        let mut files: HashMap<(PartitionKey, u32), File> = HashMap::new();
        let mut events = Vec::with_capacity(hits.len());
        for hit in hits {
            let (position, index_in_batch) = pointer::unpack(hit.pointer);
            let batch_key = (hit.partition, position);
            if let Entry::Vacant(slot) = batches.entry(batch_key) {
                let path = segment_path(
                    &hit.partition.archive_dir(self.catalog.data_dir()),
                    position.segment,
                );
                let file = match files.entry((hit.partition, position.segment)) {
                    Entry::Occupied(entry) => entry.into_mut(),
                    Entry::Vacant(entry) => {
                        entry.insert(File::open(&path).map_err(StoreError::io("open", &path))?)
                    }
                };
                slot.insert(read_batch_at(file, &path, position.offset)?.events);
            }
            let event = batches
                .get(&batch_key)
                .and_then(|events| events.get(index_in_batch))
                .ok_or_else(|| StoreError::Corrupt {
                    path: hit.partition.archive_dir(self.catalog.data_dir()),
                    offset: position.offset,
                    reason: format!(
                        "the index points at event {index_in_batch}, which the batch does not have"
                    ),
                })?;
            events.push(event.clone());
        }
        Ok(events)
    }

    /// Counts matching events per `interval` bucket over `[from, to)`. Without bounds, the range
    /// of the data is used.
    pub fn histogram(
        &self,
        query: &str,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
        interval_nanos: i64,
    ) -> crate::Result<Histogram> {
        let query = self.compile(query, from, to)?;
        if interval_nanos <= 0 {
            return Err(StoreError::Query("interval must be positive".into()));
        }
        let partitions = self.partitions(from, to);
        let data_min = partitions
            .iter()
            .filter_map(|p| p.payload().min_timestamp_nanos)
            .min();
        let data_max = partitions
            .iter()
            .filter_map(|p| p.payload().max_timestamp_nanos)
            .max();
        let (Some(start), Some(end)) = (
            from.map(Timestamp::as_nanos).or(data_min),
            to.map(Timestamp::as_nanos)
                .or(data_max.map(|max| max.saturating_add(1))),
        ) else {
            return Ok(Histogram {
                interval_nanos,
                buckets: Vec::new(),
            });
        };
        // Buckets align to multiples of the interval, so two calls agree on their edges.
        let first = start.div_euclid(interval_nanos) * interval_nanos;
        let count = (end.saturating_sub(first) + interval_nanos - 1) / interval_nanos;
        if count < 0 || count as usize > MAX_HISTOGRAM_BUCKETS {
            return Err(StoreError::Query(format!(
                "{count} buckets; at most {MAX_HISTOGRAM_BUCKETS}: widen the interval"
            )));
        }
        let mut totals = vec![0u64; count as usize];
        for partition in &partitions {
            let collector = BucketCollector {
                first,
                interval_nanos,
                buckets: count as usize,
            };
            let counts = partition.reader.searcher().search(&query, &collector)?;
            for (total, add) in totals.iter_mut().zip(counts) {
                *total += add;
            }
        }
        let buckets = totals
            .into_iter()
            .enumerate()
            .map(|(bucket, total)| {
                (
                    Timestamp::from_nanos(first + bucket as i64 * interval_nanos),
                    total,
                )
            })
            .collect();
        Ok(Histogram {
            interval_nanos,
            buckets,
        })
    }
}

fn read_pointer(segment: &SegmentReader, address: DocAddress) -> crate::Result<u64> {
    let column = segment.fast_fields().u64(crate::index::pointer::FIELD)?;
    column
        .first(address.doc_id)
        .ok_or_else(|| StoreError::Query("an indexed event has no archive pointer".into()))
}

struct BucketCollector {
    first: i64,
    interval_nanos: i64,
    buckets: usize,
}

struct BucketSegmentCollector {
    column: tantivy::columnar::Column<DateTime>,
    first: i64,
    interval_nanos: i64,
    counts: Vec<u64>,
}

impl Collector for BucketCollector {
    type Fruit = Vec<u64>;
    type Child = BucketSegmentCollector;

    fn for_segment(
        &self,
        _segment_ord: u32,
        segment: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        Ok(BucketSegmentCollector {
            column: segment.fast_fields().date(vigil_event::field::TIMESTAMP)?,
            first: self.first,
            interval_nanos: self.interval_nanos,
            counts: vec![0; self.buckets],
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<u64>>) -> tantivy::Result<Vec<u64>> {
        let mut total = vec![0; self.buckets];
        for fruit in fruits {
            for (sum, add) in total.iter_mut().zip(fruit) {
                *sum += add;
            }
        }
        Ok(total)
    }
}

impl SegmentCollector for BucketSegmentCollector {
    type Fruit = Vec<u64>;

    fn collect(&mut self, doc: tantivy::DocId, _score: tantivy::Score) {
        if let Some(time) = self.column.first(doc) {
            let offset = time.into_timestamp_nanos().saturating_sub(self.first);
            if offset >= 0 {
                if let Some(count) = self.counts.get_mut((offset / self.interval_nanos) as usize) {
                    *count += 1;
                }
            }
        }
    }

    fn harvest(self) -> Vec<u64> {
        self.counts
    }
}

/// Reads a time bound as people write it: RFC 3339 (`2026-11-26T10:00:00Z`), `now`, or a span
/// back from now (`15m`, `1h`, `7d`, `2w`, `30s`).
pub fn parse_time_bound(text: &str, now: Timestamp) -> crate::Result<Timestamp> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(Timestamp::from_datetime(time));
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds_per_unit: i64 = match unit.trim() {
        "s" | "sec" | "secs" => 1,
        "m" | "min" | "mins" => 60,
        "h" | "hour" | "hours" => 3_600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 604_800,
        _ => return Err(StoreError::Query(format!("{text:?} is not a time: write RFC 3339, \"now\" or a span like \"15m\", \"1h\", \"7d\""))),
    };
    let amount: i64 = number
        .parse()
        .map_err(|_| StoreError::Query(format!("{text:?} is not a time span")))?;
    let nanos = amount
        .checked_mul(seconds_per_unit)
        .and_then(|seconds| seconds.checked_mul(1_000_000_000))
        .ok_or_else(|| StoreError::Query(format!("{text:?} is too far back")))?;
    Ok(now.saturating_add_nanos(-nanos))
}

/// Reads an interval such as `1m`, `30s`, `1h`, `1d` as nanoseconds.
pub fn parse_interval(text: &str) -> crate::Result<i64> {
    let zero = Timestamp::from_nanos(0);
    let back = parse_time_bound(text, zero)?;
    let nanos = -back.as_nanos();
    if nanos <= 0 || text.trim().eq_ignore_ascii_case("now") {
        return Err(StoreError::Query(format!(
            "{text:?} is not an interval like \"1m\" or \"1h\""
        )));
    }
    Ok(nanos)
}

/// Rewrites `name:` for a name the schema does not have into the path of that name inside the
/// JSON field of other fields, with its dots escaped (they are part of the key, not a nesting):
/// `destination.port:22` becomes `fields.destination\\.port:22`. Quoted text is left alone.
fn json_paths<'a>(text: &'a str, schema: &tantivy::schema::Schema) -> std::borrow::Cow<'a, str> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-');
    let mut out = String::with_capacity(text.len() + 16);
    let mut changed = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '"' {
            // A phrase runs to the next unescaped quote.
            let mut end = rest.len();
            let mut escaped = false;
            for (at, inner) in rest.char_indices().skip(1) {
                match inner {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        end = at + 1;
                        break;
                    }
                    _ => escaped = false,
                }
            }
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        let at_word_start = out
            .chars()
            .next_back()
            .is_none_or(|before| before.is_whitespace() || matches!(before, '(' | '+' | '-' | '!'));
        if at_word_start && (c.is_ascii_alphabetic() || c == '@' || c == '_') {
            let length = rest
                .find(|inner: char| !is_name(inner))
                .unwrap_or(rest.len());
            let name = &rest[..length];
            if rest[length..].starts_with(':')
                && schema.get_field(name).is_err()
                && !name.starts_with(crate::index::FIELDS_JSON_PREFIX)
            {
                out.push_str(crate::index::FIELDS_JSON_PREFIX);
                out.push_str(&name.replace('.', "\\."));
                changed = true;
            } else {
                out.push_str(name);
            }
            rest = &rest[length..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if changed {
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_fields_are_searched_by_their_dotted_names() {
        use tantivy::collector::Count;
        use vigil_event::Value;
        let (schema, fields) = crate::index::build_schema();
        let index = tantivy::Index::create_in_ram(schema.clone());
        crate::index::register_tokenizers(&index);
        let mut writer = index.writer(15_000_000).expect("writer");
        let mut event = Event::new(Timestamp::from_nanos(0), Vec::new());
        event.message = "tcp flow dataset:x".into();
        event
            .fields
            .insert("event.dataset".into(), Value::from("ipfix"));
        event
            .fields
            .insert("destination.port".into(), Value::Int(22));
        event
            .fields
            .insert("snmp.trap_name".into(), Value::from("linkDown"));
        event
            .fields
            .insert("event.category".into(), Value::from("network"));
        event
            .fields
            .insert("event.start".into(), Value::from("2026-01-01T00:00:00Z"));
        writer
            .add_document(fields.document(&event, 0))
            .expect("add");
        writer.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        let mut parser = QueryParser::for_index(&index, vec![fields.message]);
        parser.set_conjunction_by_default();
        let count = |text: &str| {
            let query = parser
                .parse_query(&json_paths(text, &schema))
                .unwrap_or_else(|error| panic!("{text}: {error}"));
            searcher.search(&query, &Count).expect("search")
        };
        assert_eq!(count("event.dataset:ipfix"), 1);
        assert_eq!(count("event.dataset:netflow"), 0);
        assert_eq!(count("destination.port:22 AND snmp.trap_name:linkdown"), 1);
        assert_eq!(count("destination.port:23"), 0);
        // Kept in the archive, not in the index (see `NOT_INDEXED`).
        assert_eq!(count("event.start:\"2026-01-01T00:00:00Z\""), 0);
        assert_eq!(
            count("(event.category:network) AND -destination.port:80"),
            1
        );
        assert_eq!(count("\"dataset:x\" AND tcp"), 1);
        assert_eq!(
            json_paths("\"a.b:c\" host.name:x", &schema),
            "\"a.b:c\" host.name:x"
        );
        assert_eq!(
            json_paths("NOT source.ip:10.0.0.1 OR network.transport:tcp", &schema),
            "NOT source.ip:10.0.0.1 OR fields.network\\.transport:tcp"
        );
    }

    #[test]
    fn time_bounds_read_rfc3339_now_and_spans() {
        let now = Timestamp::from_nanos(10_000 * 1_000_000_000);
        assert_eq!(parse_time_bound("now", now).unwrap(), now);
        assert_eq!(
            parse_time_bound("1h", now).unwrap().as_nanos(),
            (10_000 - 3_600) * 1_000_000_000
        );
        assert_eq!(
            parse_time_bound("1970-01-01T00:00:01Z", now)
                .unwrap()
                .as_nanos(),
            1_000_000_000
        );
        assert!(parse_time_bound("yesterday", now).is_err());
        assert!(parse_time_bound("99999999999999999d", now).is_err());
        assert_eq!(parse_interval("1m").unwrap(), 60_000_000_000);
        assert!(parse_interval("0s").is_err());
    }
}
