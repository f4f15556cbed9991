//! Search across partitions: tantivy query-parser syntax (see [`crate::query`]), a time range,
//! newest first; and histograms of matching events over time.
//!
//! The block index names the blocks that may hold a match; each is read back from the archive
//! and its events confirmed one by one, except blocks the index proves match whole (every event
//! has the queried values and the block lies inside the time range), which are counted as they
//! are and read only when their events are among those returned.

use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::fs::File;
use std::sync::Arc;

use rustc_hash::FxHashSet;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::SegmentReader;
use vigil_event::{Event, Timestamp};

use crate::archive::{read_batch_at, segment_path, ArchivePosition};
use crate::index::{pointer, IndexCatalog, OpenPartition, COUNT, MAX_TIME, MIN_TIME};
use crate::query::{BlockExpr, CompiledQuery, EventWords};
use crate::{PartitionKey, StoreError};

/// The most events one search returns.
pub const MAX_SEARCH_LIMIT: usize = 10_000;
/// The most buckets one histogram returns.
pub const MAX_HISTOGRAM_BUCKETS: usize = 10_000;
/// Decoded archive batches a search keeps at hand (blocks of one batch come close together).
const BATCH_CACHE: usize = 8;
/// The most threads one search confirms blocks on.
const MAX_SEARCH_THREADS: usize = 4;
/// Fewer blocks to confirm than this are not worth a thread each.
const PARALLEL_FROM_BLOCKS: usize = 8;

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
}

/// `[from, to)` in nanoseconds.
#[derive(Clone, Copy, Debug)]
struct TimeRange {
    from: i64,
    to: i64,
}

impl TimeRange {
    fn new(from: Option<Timestamp>, to: Option<Timestamp>) -> Self {
        Self {
            from: from.map_or(i64::MIN, Timestamp::as_nanos),
            to: to.map_or(i64::MAX, Timestamp::as_nanos),
        }
    }

    fn contains(&self, time: i64) -> bool {
        time >= self.from && (time < self.to || self.to == i64::MAX)
    }

    fn overlaps(&self, min: i64, max: i64) -> bool {
        max >= self.from && (min < self.to || self.to == i64::MAX)
    }

    fn covers(&self, min: i64, max: i64) -> bool {
        self.contains(min) && self.contains(max)
    }
}

/// One index document: a block of events in the archive.
#[derive(Clone, Copy, Debug)]
struct BlockInfo {
    pointer: u64,
    count: u64,
    min: i64,
    max: i64,
}

/// A block a search must look at.
#[derive(Clone, Copy, Debug)]
struct Block {
    partition: PartitionKey,
    info: BlockInfo,
    /// Every event of the block matches and lies in the time range.
    certain: bool,
}

impl Searcher {
    pub fn new(catalog: Arc<IndexCatalog>) -> Self {
        Self { catalog }
    }

    /// The partitions whose committed time bounds overlap the request.
    fn partitions(&self, range: TimeRange) -> Vec<Arc<OpenPartition>> {
        self.catalog
            .all()
            .into_iter()
            .filter(|partition| {
                let payload = partition.payload();
                match (payload.min_timestamp_nanos, payload.max_timestamp_nanos) {
                    (Some(min), Some(max)) => range.overlaps(min, max),
                    _ => false,
                }
            })
            .collect()
    }

    /// The blocks that may hold a match, each marked when the index proves it matches whole.
    fn blocks(&self, query: &CompiledQuery, range: TimeRange) -> crate::Result<Vec<Block>> {
        let mut blocks = Vec::new();
        if query.candidate == BlockExpr::Nothing {
            return Ok(blocks);
        }
        for partition in self.partitions(range) {
            let searcher = partition.reader.searcher();
            let candidates = searcher.search(
                &*query.candidate.to_query(&partition.fields),
                &BlockCollector,
            )?;
            let certain: Option<FxHashSet<u64>> = match &query.certain {
                BlockExpr::All | BlockExpr::Nothing => None,
                expr => Some(
                    searcher
                        .search(&*expr.to_query(&partition.fields), &BlockCollector)?
                        .into_iter()
                        .map(|block| block.pointer)
                        .collect(),
                ),
            };
            for info in candidates {
                if !range.overlaps(info.min, info.max) {
                    continue;
                }
                let proven = match (&query.certain, &certain) {
                    (BlockExpr::All, _) => true,
                    (_, Some(pointers)) => pointers.contains(&info.pointer),
                    _ => false,
                };
                blocks.push(Block {
                    partition: partition.key,
                    info,
                    certain: proven && range.covers(info.min, info.max),
                });
            }
        }
        Ok(blocks)
    }

    /// With `limit` 0 it only counts, and reads from the archive only the blocks the index
    /// cannot settle.
    pub fn search(&self, request: &SearchRequest) -> crate::Result<SearchResult> {
        let query = CompiledQuery::parse(&request.query)?;
        let range = TimeRange::new(request.from, request.to);
        let limit = request.limit.min(MAX_SEARCH_LIMIT);
        let mut blocks = self.blocks(&query, range)?;
        // Newest first, so the returned events fill early and whole blocks past them are
        // counted without being read.
        blocks.sort_by_key(|block| std::cmp::Reverse(block.info.max));
        let shards = self.confirm(
            &blocks,
            || (0u64, TopEvents::new(limit)),
            |(total, top), block, reader, words| {
                if block.certain {
                    *total += block.info.count;
                    if !top.wants(block.info.max) {
                        return Ok(());
                    }
                }
                let events = reader.block(block)?;
                for (offset, event) in events.iter().enumerate() {
                    let time = event.timestamp.as_nanos();
                    if !block.certain {
                        if !(range.contains(time) && query.matcher.matches_reusing(event, words)) {
                            continue;
                        }
                        *total += 1;
                    }
                    top.offer(time, block.info.pointer + offset as u64, event);
                }
                Ok(())
            },
        )?;
        let total = shards.iter().map(|(total, _)| total).sum();
        let mut ranked: Vec<Ranked> = shards
            .into_iter()
            .flat_map(|(_, top)| top.heap.into_iter().map(|entry| entry.0))
            .collect();
        ranked.sort_by(|a, b| b.cmp(a));
        ranked.truncate(limit);
        Ok(SearchResult {
            total,
            events: ranked.into_iter().map(|entry| entry.event).collect(),
        })
    }

    /// Runs `visit` over `blocks` on up to [`MAX_SEARCH_THREADS`] threads, each block of one
    /// archive batch on the same thread (so each batch is decoded once), each thread in the
    /// order of `blocks` with its own state from `start`; returns the states.
    fn confirm<S, Start, Visit>(
        &self,
        blocks: &[Block],
        start: Start,
        visit: Visit,
    ) -> crate::Result<Vec<S>>
    where
        S: Send,
        Start: Fn() -> S + Sync,
        Visit:
            Fn(&mut S, &Block, &mut BatchReader<'_>, &mut EventWords) -> crate::Result<()> + Sync,
    {
        let unsettled = blocks.iter().filter(|block| !block.certain).count();
        let threads = if unsettled < PARALLEL_FROM_BLOCKS {
            1
        } else {
            std::thread::available_parallelism()
                .map_or(1, std::num::NonZeroUsize::get)
                .clamp(1, MAX_SEARCH_THREADS)
        };
        let run = |shard: usize| -> crate::Result<S> {
            let mut state = start();
            let mut reader = BatchReader::new(&self.catalog);
            let mut words = EventWords::default();
            for block in blocks
                .iter()
                .filter(|block| threads == 1 || shard_of(block, threads) == shard)
            {
                visit(&mut state, block, &mut reader, &mut words)?;
            }
            Ok(state)
        };
        if threads == 1 {
            return Ok(vec![run(0)?]);
        }
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|shard| scope.spawn(move || run(shard)))
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|_| Err(StoreError::Query("a search thread failed".into())))
                })
                .collect()
        })
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
        let query = CompiledQuery::parse(query)?;
        if interval_nanos <= 0 {
            return Err(StoreError::Query("interval must be positive".into()));
        }
        let range = TimeRange::new(from, to);
        let partitions = self.partitions(range);
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
        let buckets = count as usize;
        let mut totals = vec![0u64; buckets];
        let bucket_of = |time: i64| -> Option<usize> {
            let offset = time.checked_sub(first)?;
            if offset < 0 {
                return None;
            }
            usize::try_from(offset / interval_nanos)
                .ok()
                .filter(|bucket| *bucket < buckets)
        };
        let mut blocks = self.blocks(&query, range)?;
        // Archive order: each batch is read once.
        blocks.sort_by_key(|block| (block.partition, block.info.pointer));
        let shards = self.confirm(
            &blocks,
            || vec![0u64; buckets],
            |counts, block, reader, words| {
                if block.certain {
                    if let (Some(a), Some(b)) =
                        (bucket_of(block.info.min), bucket_of(block.info.max))
                    {
                        if a == b {
                            counts[a] += block.info.count;
                            return Ok(());
                        }
                    }
                }
                for event in reader.block(block)? {
                    let time = event.timestamp.as_nanos();
                    if block.certain
                        || (range.contains(time) && query.matcher.matches_reusing(event, words))
                    {
                        if let Some(bucket) = bucket_of(time) {
                            counts[bucket] += 1;
                        }
                    }
                }
                Ok(())
            },
        )?;
        for counts in shards {
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

/// The newest `limit` hits, by time and then archive position.
struct TopEvents {
    limit: usize,
    heap: BinaryHeap<std::cmp::Reverse<Ranked>>,
}

struct Ranked {
    time: i64,
    pointer: u64,
    event: Event,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.pointer) == (other.time, other.pointer)
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.time, self.pointer).cmp(&(other.time, other.pointer))
    }
}

impl TopEvents {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            heap: BinaryHeap::with_capacity(limit.min(1024)),
        }
    }

    /// Whether an event as new as `time` could still be returned.
    fn wants(&self, time: i64) -> bool {
        if self.limit == 0 {
            return false;
        }
        self.heap.len() < self.limit
            || self
                .heap
                .peek()
                .is_some_and(|std::cmp::Reverse(oldest)| time >= oldest.time)
    }

    fn offer(&mut self, time: i64, pointer: u64, event: &Event) {
        if self.limit == 0 {
            return;
        }
        if self.heap.len() < self.limit {
            self.heap.push(std::cmp::Reverse(Ranked {
                time,
                pointer,
                event: event.clone(),
            }));
            return;
        }
        let newer = self.heap.peek().is_some_and(|std::cmp::Reverse(oldest)| {
            (time, pointer) > (oldest.time, oldest.pointer)
        });
        if newer {
            self.heap.pop();
            self.heap.push(std::cmp::Reverse(Ranked {
                time,
                pointer,
                event: event.clone(),
            }));
        }
    }
}

/// The thread that confirms the blocks of `block`'s archive batch.
fn shard_of(block: &Block, threads: usize) -> usize {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let (position, _) = pointer::unpack(block.info.pointer);
    let hash = BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one((
        block.partition,
        position.segment,
        position.offset,
    ));
    (hash % threads as u64) as usize
}

/// Reads blocks back from the archive, keeping the last few decoded batches.
struct BatchReader<'a> {
    catalog: &'a IndexCatalog,
    files: HashMap<(PartitionKey, u32), File>,
    batches: VecDeque<((PartitionKey, ArchivePosition), Vec<Event>)>,
}

impl<'a> BatchReader<'a> {
    fn new(catalog: &'a IndexCatalog) -> Self {
        Self {
            catalog,
            files: HashMap::new(),
            batches: VecDeque::with_capacity(BATCH_CACHE),
        }
    }

    fn block(&mut self, block: &Block) -> crate::Result<&[Event]> {
        let (position, first) = pointer::unpack(block.info.pointer);
        let key = (block.partition, position);
        let at = match self.batches.iter().position(|(cached, _)| *cached == key) {
            Some(at) => at,
            None => {
                let path = segment_path(
                    &block.partition.archive_dir(self.catalog.data_dir()),
                    position.segment,
                );
                let file = match self.files.entry((block.partition, position.segment)) {
                    std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                    std::collections::hash_map::Entry::Vacant(entry) => {
                        entry.insert(File::open(&path).map_err(StoreError::io("open", &path))?)
                    }
                };
                let events = read_batch_at(file, &path, position.offset)?.events;
                if self.batches.len() == BATCH_CACHE {
                    self.batches.pop_front();
                }
                self.batches.push_back((key, events));
                self.batches.len() - 1
            }
        };
        let events = &self.batches[at].1;
        let end = first.saturating_add(block.info.count as usize);
        events.get(first..end).ok_or_else(|| StoreError::Corrupt {
            path: block.partition.archive_dir(self.catalog.data_dir()),
            offset: position.offset,
            reason: format!(
                "the index points at events {first}..{end}, which the batch of {} does not have",
                events.len()
            ),
        })
    }
}

/// Collects every matching block's pointer, size and time bounds.
struct BlockCollector;

struct BlockSegmentCollector {
    pointer: tantivy::columnar::Column<u64>,
    count: tantivy::columnar::Column<u64>,
    min: tantivy::columnar::Column<i64>,
    max: tantivy::columnar::Column<i64>,
    blocks: Vec<BlockInfo>,
}

impl Collector for BlockCollector {
    type Fruit = Vec<BlockInfo>;
    type Child = BlockSegmentCollector;

    fn for_segment(
        &self,
        _segment_ord: u32,
        segment: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        let fast = segment.fast_fields();
        Ok(BlockSegmentCollector {
            pointer: fast.u64(pointer::FIELD)?,
            count: fast.u64(COUNT)?,
            min: fast.i64(MIN_TIME)?,
            max: fast.i64(MAX_TIME)?,
            blocks: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<BlockInfo>>) -> tantivy::Result<Vec<BlockInfo>> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for BlockSegmentCollector {
    type Fruit = Vec<BlockInfo>;

    fn collect(&mut self, doc: tantivy::DocId, _score: tantivy::Score) {
        let (Some(pointer), Some(count), Some(min), Some(max)) = (
            self.pointer.first(doc),
            self.count.first(doc),
            self.min.first(doc),
            self.max.first(doc),
        ) else {
            return;
        };
        self.blocks.push(BlockInfo {
            pointer,
            count,
            min,
            max,
        });
    }

    fn harvest(self) -> Vec<BlockInfo> {
        self.blocks
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

#[cfg(test)]
mod tests {
    use super::*;

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
