//! The transform: built-in body decoders, then user mappings, then enrichment, per event.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, SystemTime};

use vigil_codec::body::{self, Input, Output, DECODER_NAMES};
use vigil_config::NormalizeConfig;
use vigil_event::{field, Batch, Event, EventFlags, Value};
use vigil_pipeline::{Counter, Gauge, Metrics, Transform};

use crate::enrich::{load_assets, Enricher};
use crate::mapping::{compile_file, Applied, Mapping};

/// The field naming the built-in decoder that recognised an event.
pub const DECODER_FIELD: &str = "vigil.decoder";
/// The field naming the (last) user mapping that changed an event.
pub const MAPPING_FIELD: &str = "vigil.mapping";
/// How many distinct sources of unrecognised lines are remembered (the rest are only counted).
pub const MAX_UNRECOGNISED_SOURCES: usize = 1024;
/// How often the mapping folder and asset table are checked for changes.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// Body decoding, user mappings and enrichment, as one [`Transform`].
pub struct Normalizer {
    decoders: bool,
    mapping_dir: Option<PathBuf>,
    assets_path: Option<PathBuf>,
    zones: BTreeMap<String, Vec<ipnet::IpNet>>,
    mappings: RwLock<Arc<MappingSet>>,
    enricher: RwLock<Arc<Enricher>>,
    assets_seen: Mutex<Option<FileStamp>>,
    counters: Counters,
    unrecognised: Mutex<HashMap<String, u64>>,
}

/// The mapping files as last loaded: each file's compiled mappings (its last good version when
/// the file is now broken) and its errors.
#[derive(Debug, Default)]
pub struct MappingSet {
    files: BTreeMap<PathBuf, MappingFileState>,
}

#[derive(Debug)]
struct MappingFileState {
    stamp: FileStamp,
    mappings: Arc<Vec<Mapping>>,
    errors: Vec<String>,
}

/// What tells a changed file: its modification time and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl FileStamp {
    fn of(path: &Path) -> Option<Self> {
        let metadata = std::fs::metadata(path).ok()?;
        Some(Self {
            modified: metadata.modified().ok(),
            len: metadata.len(),
        })
    }
}

impl MappingSet {
    /// Every error of every file, as `FILE:LINE: …`.
    pub fn errors(&self) -> Vec<String> {
        self.files
            .values()
            .flat_map(|file| file.errors.iter().cloned())
            .collect()
    }

    /// The mapping files with how many mappings run from each.
    pub fn files(&self) -> Vec<(PathBuf, usize, bool)> {
        self.files
            .iter()
            .map(|(path, file)| (path.clone(), file.mappings.len(), file.errors.is_empty()))
            .collect()
    }

    fn mappings(&self) -> impl Iterator<Item = &Mapping> {
        self.files.values().flat_map(|file| file.mappings.iter())
    }
}

struct Counters {
    metrics: Metrics,
    by_decoder: Vec<Counter>,
    unrecognised: Mutex<HashMap<Arc<str>, Counter>>,
    mapped: Mutex<HashMap<String, Counter>>,
    dropped: Mutex<HashMap<String, Counter>>,
    conversion_errors: Counter,
    mapping_errors: Gauge,
    reloads_ok: Counter,
    reloads_failed: Counter,
}

impl Counters {
    fn new(metrics: &Metrics) -> Self {
        Self {
            metrics: metrics.clone(),
            by_decoder: DECODER_NAMES
                .iter()
                .map(|name| {
                    metrics.counter(
                        "vigil_normalize_decoded_total",
                        "Events a built-in body decoder recognised, by decoder.",
                        &[("decoder", name)],
                    )
                })
                .collect(),
            unrecognised: Mutex::default(),
            mapped: Mutex::default(),
            dropped: Mutex::default(),
            conversion_errors: metrics.counter(
                "vigil_normalize_conversion_errors_total",
                "Mapped values that could not be converted to their type (kept as text).",
                &[],
            ),
            mapping_errors: metrics.gauge(
                "vigil_normalize_mapping_errors",
                "Errors in the mapping files now (a broken file keeps its previous version).",
                &[],
            ),
            reloads_ok: metrics.counter(
                "vigil_normalize_reloads_total",
                "Mapping and asset files loaded after a change, by outcome.",
                &[("outcome", "ok")],
            ),
            reloads_failed: metrics.counter(
                "vigil_normalize_reloads_total",
                "Mapping and asset files loaded after a change, by outcome.",
                &[("outcome", "failed")],
            ),
        }
    }

    fn decoded(&self, name: &str) {
        if let Some(index) = DECODER_NAMES.iter().position(|known| *known == name) {
            self.by_decoder[index].inc();
        }
    }

    fn unrecognised(&self, listener: &Arc<str>) {
        let mut counters = lock(&self.unrecognised);
        counters
            .entry(listener.clone())
            .or_insert_with(|| {
                self.metrics.counter(
                    "vigil_normalize_unrecognised_total",
                    "Events no built-in decoder or mapping recognised (kept with their syslog \
                     fields), by listener.",
                    &[("listener", listener)],
                )
            })
            .inc();
    }

    fn by_mapping(&self, which: &Mutex<HashMap<String, Counter>>, mapping: &str, dropped: bool) {
        let mut counters = lock(which);
        if let Some(counter) = counters.get(mapping) {
            counter.inc();
            return;
        }
        let counter = if dropped {
            self.metrics.counter(
                "vigil_normalize_dropped_total",
                "Events a drop mapping removed before the archive, by mapping.",
                &[("mapping", mapping)],
            )
        } else {
            self.metrics.counter(
                "vigil_normalize_mapped_total",
                "Events a user mapping changed, by mapping.",
                &[("mapping", mapping)],
            )
        };
        counter.inc();
        counters.insert(mapping.to_owned(), counter);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What became of one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    Drop,
}

impl Normalizer {
    /// A normalizer as `config` says, with the mapping files and asset table loaded now. Broken
    /// files are reported (logs, metrics, [`Normalizer::mapping_errors`]) and left out; the
    /// error is for an asset table that cannot be read at start.
    pub fn new(config: &NormalizeConfig, metrics: &Metrics) -> Result<Self, Vec<String>> {
        let normalizer = Self {
            decoders: config.decoders,
            mapping_dir: Some(config.dir.clone()),
            assets_path: config.assets.clone(),
            zones: config.zones.clone(),
            mappings: RwLock::default(),
            enricher: RwLock::new(Arc::new(Enricher::new(&config.zones, Vec::new()))),
            assets_seen: Mutex::new(None),
            counters: Counters::new(metrics),
            unrecognised: Mutex::default(),
        };
        normalizer.load_assets(true)?;
        normalizer.reload_mappings();
        let mappings = normalizer.mappings();
        tracing::info!(
            folder = %config.dir.display(),
            found = config.dir.is_dir(),
            files = mappings.files().len(),
            broken = mappings.errors().len(),
            "user mappings"
        );
        Ok(normalizer)
    }

    /// Only the built-in decoders: no mappings, no enrichment.
    pub fn decoders_only(metrics: &Metrics) -> Self {
        Self {
            decoders: true,
            mapping_dir: None,
            assets_path: None,
            zones: BTreeMap::new(),
            mappings: RwLock::default(),
            enricher: RwLock::default(),
            assets_seen: Mutex::new(None),
            counters: Counters::new(metrics),
            unrecognised: Mutex::default(),
        }
    }

    /// Checks the mapping folder and asset table every [`RELOAD_INTERVAL`] on a thread of its
    /// own, until the normalizer is dropped.
    pub fn watch(self: &Arc<Self>) -> std::io::Result<()> {
        let weak: Weak<Self> = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("vigil-normalize-watch".into())
            .spawn(move || loop {
                std::thread::sleep(RELOAD_INTERVAL);
                let Some(normalizer) = weak.upgrade() else {
                    return;
                };
                normalizer.reload_mappings();
                // A broken asset table keeps the previous one; reload_assets logged why.
                let _ = normalizer.reload_assets();
            })?;
        Ok(())
    }

    /// Loads the mapping files that changed since the last look. A file that no longer
    /// compiles keeps its previous version running; a removed file stops applying.
    pub fn reload_mappings(&self) {
        let Some(dir) = &self.mapping_dir else { return };
        let mut found: BTreeMap<PathBuf, FileStamp> = BTreeMap::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|ext| ext == "toml") {
                    if let Some(stamp) = FileStamp::of(&path) {
                        found.insert(path, stamp);
                    }
                }
            }
        }
        let current = self.mappings();
        let unchanged = found.len() == current.files.len()
            && found.iter().all(|(path, stamp)| {
                current
                    .files
                    .get(path)
                    .is_some_and(|file| file.stamp == *stamp)
            });
        if unchanged {
            return;
        }
        let mut next = MappingSet::default();
        for (path, stamp) in found {
            if let Some(file) = current.files.get(&path).filter(|file| file.stamp == stamp) {
                next.files.insert(
                    path,
                    MappingFileState {
                        stamp,
                        mappings: file.mappings.clone(),
                        errors: file.errors.clone(),
                    },
                );
                continue;
            }
            let shown = path.display().to_string();
            let compiled = std::fs::read_to_string(&path)
                .map_err(|error| vec![format!("{shown}: {error}")])
                .and_then(|text| compile_file(&shown, &text));
            let state = match compiled {
                Ok(mappings) => {
                    self.counters.reloads_ok.inc();
                    tracing::info!(file = %shown, mappings = mappings.len(), "mapping file loaded");
                    MappingFileState {
                        stamp,
                        mappings: Arc::new(mappings),
                        errors: Vec::new(),
                    }
                }
                Err(errors) => {
                    self.counters.reloads_failed.inc();
                    for error in &errors {
                        tracing::error!(%error, "mapping file refused; its previous version keeps running");
                    }
                    let previous = current
                        .files
                        .get(&path)
                        .map(|file| file.mappings.clone())
                        .unwrap_or_default();
                    MappingFileState {
                        stamp,
                        mappings: previous,
                        errors,
                    }
                }
            };
            next.files.insert(path, state);
        }
        self.counters.mapping_errors.set(next.errors().len() as i64);
        *self.mappings.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
    }

    /// Reloads the asset table if it changed since the last look (a table that went missing
    /// is reported once, not every second). On error the previous table stays.
    pub fn reload_assets(&self) -> Result<(), Vec<String>> {
        self.load_assets(false)
    }

    /// Loads the asset table; `always` also when it looks unchanged (at start).
    fn load_assets(&self, always: bool) -> Result<(), Vec<String>> {
        let Some(path) = &self.assets_path else {
            return Ok(());
        };
        let stamp = FileStamp::of(path);
        let mut seen = lock(&self.assets_seen);
        if !always && *seen == stamp {
            return Ok(());
        }
        *seen = stamp;
        match load_assets(path) {
            Ok(assets) => {
                tracing::info!(file = %path.display(), assets = assets.len(), "asset table loaded");
                self.counters.reloads_ok.inc();
                *self.enricher.write().unwrap_or_else(|p| p.into_inner()) =
                    Arc::new(Enricher::new(&self.zones, assets));
                Ok(())
            }
            Err(errors) => {
                self.counters.reloads_failed.inc();
                for error in &errors {
                    tracing::error!(%error, "asset table refused; the previous one stays");
                }
                Err(errors)
            }
        }
    }

    /// The mapping files as loaded now.
    pub fn mappings(&self) -> Arc<MappingSet> {
        self.mappings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Sources (host name, else sender address) of unrecognised events, most first.
    pub fn unrecognised_sources(&self) -> Vec<(String, u64)> {
        let mut sources: Vec<(String, u64)> = lock(&self.unrecognised)
            .iter()
            .map(|(source, count)| (source.clone(), *count))
            .collect();
        sources.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        sources
    }

    /// Normalises a batch: the events that drop mappings remove are taken out.
    pub fn apply_batch(&self, events: &mut Batch) {
        let mappings = self.mappings();
        let enricher = self
            .enricher
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut scratch = Scratch::default();
        events.retain_mut(|event| {
            self.apply_with(event, &mappings, &enricher, &mut scratch) == Verdict::Keep
        });
    }

    /// Normalises one event.
    pub fn apply(&self, event: &mut Event) -> Verdict {
        let mappings = self.mappings();
        let enricher = self
            .enricher
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        self.apply_with(event, &mappings, &enricher, &mut Scratch::default())
    }

    fn apply_with(
        &self,
        event: &mut Event,
        mappings: &MappingSet,
        enricher: &Enricher,
        scratch: &mut Scratch,
    ) -> Verdict {
        let mut recognised = false;
        if self.decoders && !event.message.is_empty() {
            let input = Input {
                message: &event.message,
                app: event.process_name.as_deref(),
                received: event.created,
            };
            if let Some(name) = body::decode(&input, &mut scratch.out) {
                self.counters.decoded(name);
                apply_output(event, scratch);
                event.fields.insert(DECODER_FIELD.into(), Value::from(name));
                recognised = true;
            }
        }
        for mapping in mappings.mappings() {
            match mapping.apply(event) {
                Applied::Skipped => {}
                Applied::Drop => {
                    self.counters
                        .by_mapping(&self.counters.dropped, &mapping.name, true);
                    return Verdict::Drop;
                }
                Applied::Mapped { conversion_errors } => {
                    recognised = true;
                    event
                        .fields
                        .insert(MAPPING_FIELD.into(), Value::from(mapping.name.as_str()));
                    self.counters
                        .by_mapping(&self.counters.mapped, &mapping.name, false);
                    self.counters
                        .conversion_errors
                        .add(u64::from(conversion_errors));
                }
            }
        }
        if !recognised && self.decoders {
            self.counters.unrecognised(&event.listener);
            self.tally_unrecognised(event);
        }
        enricher.apply(event);
        Verdict::Keep
    }

    fn tally_unrecognised(&self, event: &Event) {
        let peer;
        let source: &str = match (&event.host_name, event.source) {
            (Some(host), _) => host,
            (None, Some(address)) => {
                peer = address.ip().to_string();
                &peer
            }
            (None, None) => &event.listener,
        };
        let mut sources = lock(&self.unrecognised);
        if let Some(count) = sources.get_mut(source) {
            *count += 1;
        } else if sources.len() < MAX_UNRECOGNISED_SOURCES {
            sources.insert(source.to_owned(), 1);
        }
    }
}

/// Moves a decoder's fields into the event. A decoded `source.ip` (the address the log line
/// is about: an attacker, a client) becomes the event's source; the sender it came from is kept
/// as `observer.ip`, as for flows and traps.
fn apply_output(event: &mut Event, scratch: &mut Scratch) {
    let out = &mut scratch.out;
    if let Some(time) = out.timestamp() {
        if event.flags.contains(EventFlags::UNPARSED) || event.flags.contains(EventFlags::IMPORTED)
        {
            event.timestamp = time;
        }
    }
    let (source_ip, source_port) = out.take_source();
    // The output's vector becomes the map (one sort at most, none when the decoder put its
    // fields in name order), with room for what comes after: vigil.decoder, observer.ip.
    out.move_into(&mut event.fields, 2);
    match (source_ip, source_port) {
        (Some(address), port) => {
            // The sender is the device that logged the line: it stays findable as
            // observer.ip whatever the line says about its source.
            if let Some(peer) = event.source {
                event
                    .fields
                    .entry(field::OBSERVER_IP.into())
                    .or_insert_with(|| scratch.sender.text(peer.ip()));
            }
            event.source = Some(SocketAddr::new(address, port.unwrap_or(0)));
        }
        // A port without an address: kept when the event has no source of its own; next to
        // the sender's address it would name a port the sender never used (the line still has
        // it, in event.original).
        (None, Some(port)) if event.source.is_none() => {
            event
                .fields
                .insert(field::SOURCE_PORT.into(), Value::Int(i64::from(port)));
        }
        (None, _) => {}
    }
}

/// What normalising reuses from one event of a batch to the next.
#[derive(Default)]
struct Scratch {
    /// The decoder's output, cleared for each event.
    out: Output,
    /// The text of the last sender's address, for observer.ip.
    sender: SenderText,
}

/// An address's text, kept for the next event: a batch's events come from few senders, and
/// writing the address again cost more than copying its text.
#[derive(Default)]
struct SenderText(Option<(IpAddr, Value)>);

impl SenderText {
    fn text(&mut self, address: IpAddr) -> Value {
        match &self.0 {
            Some((known, text)) if *known == address => text.clone(),
            _ => {
                let text = Value::ip(address);
                self.0 = Some((address, text.clone()));
                text
            }
        }
    }
}

impl Transform for Normalizer {
    fn apply(&self, events: &mut Batch) {
        self.apply_batch(events);
    }
}
