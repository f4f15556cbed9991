//! `vigil import` and the import API: files read into events, normalised, filtered by
//! retention, and archived through the same ingest as live events.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::NaiveDate;
use serde_json::json;
use vigil_collect::import::{FileImporter, ImportFormat, ImportOptions, ReadReport};
use vigil_collect::{Stamper, UnmappedSources};
use vigil_config::{RetentionMinimums, RetentionPolicy, ServerConfig};
use vigil_event::{Batch, SecurityLevel, Timestamp, Value};
use vigil_normalize::{Normalizer, DECODER_FIELD, MAPPING_FIELD};
use vigil_pipeline::{batch_channel, BatchSender, Delivery, Metrics, Sink};
use vigil_store::index::IndexCatalog;
use vigil_store::Ingest;

use crate::cli::ImportArgs;
use crate::data_dir::{self, load_config};

/// What an import needs besides its files: the normaliser, the stamper and the retention
/// policy of the node it imports into.
pub struct ImportContext {
    pub normalizer: Arc<Normalizer>,
    pub stamper: Arc<Stamper>,
    pub policy: RetentionPolicy,
}

impl ImportContext {
    pub fn new(config: &ServerConfig, normalizer: Arc<Normalizer>, stamper: Arc<Stamper>) -> Self {
        Self {
            normalizer,
            stamper,
            policy: config.retention.policy(&RetentionMinimums::shipped()),
        }
    }

    /// Normalises a batch and takes out what drop mappings remove and what is already past
    /// its level's retention (only counted when `keep_expired`, for a dry run); tallies both
    /// in `summary`.
    fn process(
        &self,
        mut batch: Batch,
        summary: &mut ImportSummary,
        today: NaiveDate,
        keep_expired: bool,
    ) -> Batch {
        let read = batch.len();
        self.normalizer.apply_batch(&mut batch);
        summary.dropped += (read - batch.len()) as u64;
        // The oldest day each level still keeps; `None` when its period reaches back before
        // the calendar (nothing has expired). Worked out once, not per event.
        let oldest_kept: Vec<Option<NaiveDate>> = SecurityLevel::all()
            .map(|level| {
                today.checked_sub_days(chrono::Days::new(u64::from(self.policy.days(level))))
            })
            .collect();
        batch.retain(|event| {
            match event.fields.get(DECODER_FIELD).and_then(Value::as_str) {
                // Counted without copying the name, but for the first of each decoder.
                Some(decoder) => match summary.decoders.get_mut(decoder) {
                    Some(count) => *count += 1,
                    None => {
                        summary.decoders.insert(decoder.to_owned(), 1);
                    }
                },
                None if event.fields.contains_key(MAPPING_FIELD) => summary.mapped += 1,
                None => summary.unrecognised += 1,
            }
            let oldest = oldest_kept
                .get(usize::from(event.level.get() - SecurityLevel::MIN.get()))
                .copied()
                .flatten();
            let current = oldest.is_none_or(|oldest| event.partition_day() >= oldest);
            if !current {
                summary.past_retention += 1;
            }
            current || keep_expired
        });
        if !keep_expired {
            summary.stored += batch.len() as u64;
        }
        batch
    }
}

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportSummary {
    pub read: ReadReport,
    /// Events kept (archived, unless a dry run).
    pub stored: u64,
    pub decoders: BTreeMap<String, u64>,
    /// Recognised by a user mapping only.
    pub mapped: u64,
    pub unrecognised: u64,
    /// Removed by drop mappings.
    pub dropped: u64,
    /// Older than their level's retention: never stored.
    pub past_retention: u64,
    /// Alerts the rules raised on the imported events, per rule (`vigil import` only; an
    /// upload's events go through the running node's rules stage).
    pub alerts: BTreeMap<String, u64>,
    pub elapsed: Duration,
}

impl ImportSummary {
    pub fn to_json(&self) -> serde_json::Value {
        let seconds = self.elapsed.as_secs_f64();
        json!({
            "bytes": self.read.bytes,
            "lines": self.read.lines,
            "events_read": self.read.events,
            "events_stored": self.stored,
            "decoders": self.decoders,
            "mapped_only": self.mapped,
            "unrecognised": self.unrecognised,
            "dropped_by_mapping": self.dropped,
            "past_retention": self.past_retention,
            "alerts": self.alerts,
            "errors": self.read.errors,
            "formats": self.read.formats,
            "seconds": seconds,
            "events_per_second": if seconds > 0.0 { self.read.events as f64 / seconds } else { 0.0 },
        })
    }

    fn print(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let seconds = self.elapsed.as_secs_f64();
        let rate = if seconds > 0.0 {
            self.read.events as f64 / seconds
        } else {
            0.0
        };
        writeln!(
            out,
            "imported {} lines, {} bytes in {seconds:.2} s ({rate:.0} events/s)",
            self.read.lines, self.read.bytes
        )?;
        writeln!(out, "  events stored       {}", self.stored)?;
        writeln!(out, "  events read         {}", self.read.events)?;
        writeln!(out, "  by mappings only    {}", self.mapped)?;
        writeln!(out, "  unrecognised        {}", self.unrecognised)?;
        writeln!(out, "  dropped by mapping  {}", self.dropped)?;
        writeln!(out, "  past retention      {}", self.past_retention)?;
        for (format, files) in &self.read.formats {
            writeln!(out, "  format {format:<13}{files} file(s)")?;
        }
        for (decoder, events) in &self.decoders {
            writeln!(out, "  decoder {decoder:<12}{events}")?;
        }
        if self.read.errors.is_empty() {
            writeln!(out, "  errors              0")?;
        }
        for (kind, count) in &self.read.errors {
            writeln!(out, "  error {kind:<14}{count}")?;
        }
        writeln!(
            out,
            "  alerts              {}",
            self.alerts.values().sum::<u64>()
        )?;
        for (rule, count) in &self.alerts {
            writeln!(out, "    {count:>8}  {rule}")?;
        }
        Ok(())
    }
}

/// Parses the options the CLI and the API share.
pub fn import_options(
    format: &str,
    tenant: Option<&str>,
    level: Option<i64>,
    source: Option<&str>,
) -> Result<ImportOptions, String> {
    let format = ImportFormat::parse(format).ok_or_else(|| {
        format!("format {format:?} is not one of auto, syslog, lines, cef, ndjson, json, csv")
    })?;
    let level = level
        .map(|level| SecurityLevel::new(level).map_err(|error| error.to_string()))
        .transpose()?;
    Ok(ImportOptions {
        format,
        tenant: tenant.map(Arc::from),
        level,
        source: source.map(str::to_owned),
        ..ImportOptions::default()
    })
}

/// Reads `input` with `importer` and hands the processed batches to `store`; `false` from
/// `store` stops. `dry_run` keeps (and only counts) what is past retention.
pub fn import_one(
    context: &ImportContext,
    importer: &FileImporter<'_>,
    input: impl std::io::Read,
    name: &str,
    summary: &mut ImportSummary,
    dry_run: bool,
    store: &mut dyn FnMut(Batch) -> bool,
) -> std::io::Result<()> {
    let started = Instant::now();
    let today = Timestamp::now().utc_day();
    let mut read = std::mem::take(&mut summary.read);
    let result = importer.read(input, name, &mut read, &mut |batch| {
        let batch = context.process(batch, summary, today, dry_run);
        batch.is_empty() || store(batch)
    });
    summary.read = read;
    summary.elapsed += started.elapsed();
    result
}

/// `vigil import FILE...`.
pub fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    crate::serve::init_tracing();
    let config = load_config(&args.location)?;
    let options = import_options(
        &args.format,
        args.tenant.as_deref(),
        args.level,
        args.source.as_deref(),
    )
    .map_err(anyhow::Error::msg)?;
    let metrics = Metrics::default();
    let normalizer = Normalizer::new(&config.normalize, &metrics)
        .map_err(|errors| anyhow::anyhow!("{}", errors.join("\n")))?;
    for error in normalizer.mappings().errors() {
        eprintln!("vigil import: mapping left out: {error}");
    }
    let stamper = Arc::new(Stamper::new(
        config.source_map()?,
        &crate::serve::node_name(&config),
        Arc::new(UnmappedSources::new(&metrics)),
    ));
    let context = ImportContext::new(&config, Arc::new(normalizer), stamper);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let store = if args.dry_run {
        None
    } else {
        Some(open_store(&config, &metrics, &runtime)?)
    };
    // The rules see imported events at their own (event) time; alerts go to the alert log of
    // the data folder (not for a dry run) and into the archive beside the events.
    let rules = vigil_rules::RuleService::open(
        &config.rules.dir,
        (!args.dry_run).then_some(config.data_dir.as_path()),
        crate::rules::options(&config),
        &metrics,
    )?;
    for error in rules.errors() {
        eprintln!("vigil import: rule file left out: {error}");
    }
    let mut alerts: BTreeMap<String, u64> = BTreeMap::new();
    let importer = FileImporter::new(&context.stamper, &options);
    let done = Arc::new(AtomicBool::new(false));
    let progress = (std::io::stderr().is_terminal() && !args.quiet)
        .then(|| show_progress(&args.files, importer.progress.clone(), done.clone()));

    let mut summary = ImportSummary::default();
    let mut failed_files = 0;
    let stdout = std::io::stdout();
    for path in &args.files {
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(error) => {
                eprintln!("vigil import: {}: {error}", path.display());
                failed_files += 1;
                continue;
            }
        };
        let name = path.display().to_string();
        let sender = store.as_ref().map(|(sender, _, _)| sender);
        let mut store_batch = |mut batch: Batch| {
            for alert in rules.process(&mut batch, Timestamp::now()) {
                *alerts.entry(alert.rule_id.clone()).or_default() += 1;
            }
            if args.print {
                let mut out = stdout.lock();
                for event in &batch {
                    if writeln_json(&mut out, &event.to_json()).is_err() {
                        return false;
                    }
                }
            }
            match sender {
                Some(sender) => sender.blocking_send(Delivery::from(batch)).is_ok(),
                None => true,
            }
        };
        if let Err(error) = import_one(
            &context,
            &importer,
            file,
            &name,
            &mut summary,
            args.dry_run,
            &mut store_batch,
        ) {
            // The other files still go in, and what was read is still flushed below.
            eprintln!("vigil import: {name}: {error}");
            failed_files += 1;
        }
    }
    if let Some((sender, sink, _lock)) = store {
        drop(sender);
        runtime
            .block_on(sink)
            .context("the ingest task panicked")??;
    }
    summary.alerts = alerts;
    done.store(true, Ordering::Relaxed);
    if let Some(progress) = progress {
        let _ = progress.join();
    }
    if args.json_summary {
        eprintln!("{}", summary.to_json());
    } else {
        summary.print(&mut std::io::stderr())?;
    }
    Ok(if failed_files > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn writeln_json(out: &mut dyn std::io::Write, value: &serde_json::Value) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

type StoreHandles = (
    BatchSender,
    tokio::task::JoinHandle<vigil_pipeline::Result<()>>,
    data_dir::DataDirLock,
);

/// The data directory's ingest, as `serve` runs it; refused while `serve` holds the directory.
fn open_store(
    config: &ServerConfig,
    metrics: &Metrics,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<StoreHandles> {
    let data = &config.data_dir;
    std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    let lock = data_dir::lock(data).with_context(|| {
        format!(
            "vigil serve runs on {}: send the file to it instead, e.g. curl --data-binary @FILE \
             -H \"Authorization: Bearer $(cat {}/secrets/api-token)\" https://HOST:PORT/api/v1/import",
            data.display(),
            data.display()
        )
    })?;
    let catalog = Arc::new(IndexCatalog::open(data)?);
    let ingest = Ingest::new(crate::serve::ingest_options(config), catalog, metrics);
    ingest.recover(&|_| false)?;
    let (sender, input) = batch_channel(crate::serve::PIPELINE_BATCHES);
    let sink = runtime.spawn(Box::new(ingest).run(input));
    Ok((sender, sink, lock))
}

/// A progress line on stderr, redrawn every quarter second until `done`.
fn show_progress(
    files: &[std::path::PathBuf],
    read: Arc<std::sync::atomic::AtomicU64>,
    done: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let total: u64 = files
        .iter()
        .filter_map(|path| std::fs::metadata(Path::new(path)).ok())
        .map(|metadata| metadata.len())
        .sum();
    let started = Instant::now();
    std::thread::spawn(move || {
        while !done.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(250));
            let bytes = read.load(Ordering::Relaxed);
            let share = if total > 0 {
                bytes as f64 * 100.0 / total as f64
            } else {
                100.0
            };
            let rate = bytes as f64 / started.elapsed().as_secs_f64().max(0.001) / 1e6;
            let width = 30;
            let filled = ((share / 100.0) * width as f64).round() as usize;
            eprint!(
                "\r[{}{}] {share:5.1}%  {:.1}/{:.1} MB  {rate:.1} MB/s ",
                "#".repeat(filled.min(width)),
                " ".repeat(width - filled.min(width)),
                bytes as f64 / 1e6,
                total as f64 / 1e6
            );
        }
        eprintln!();
    })
}

/// `POST /api/v1/import` in `vigil serve`: uploads go through the same reading and
/// normalisation as `vigil import`, then straight to the ingest (past the live normaliser), and
/// the answer waits until they are durable.
pub struct ServeImporter {
    pub context: ImportContext,
    /// The ingest's input.
    pub output: BatchSender,
    /// An upload stops (counted `too_large`) past this many bytes once decompressed.
    pub max_decompressed_bytes: u64,
    /// One upload at a time: each holds its body in memory.
    pub one_at_a_time: std::sync::Mutex<()>,
}

/// How far an upload may inflate, as a multiple of the largest body the API takes.
pub const UPLOAD_INFLATION_LIMIT: u64 = 16;

impl vigil_api::Importer for ServeImporter {
    fn import(
        &self,
        body: &[u8],
        request: &vigil_api::ImportRequest,
    ) -> Result<serde_json::Value, vigil_api::ApiError> {
        let options = import_options(
            &request.format,
            request.tenant.as_deref(),
            request.level,
            request.source.as_deref(),
        )
        .map_err(vigil_api::ApiError::BadRequest)?;
        let options = ImportOptions {
            max_decompressed_bytes: Some(self.max_decompressed_bytes),
            ..options
        };
        let _turn = self
            .one_at_a_time
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut summary = ImportSummary::default();
        let mut receipts = Vec::new();
        let mut store = |batch: Batch| {
            let (delivery, receipt) = Delivery::with_receipt(batch);
            receipts.push(receipt);
            self.output.blocking_send(delivery).is_ok()
        };
        import_one(
            &self.context,
            &FileImporter::new(&self.context.stamper, &options),
            body,
            &request.name,
            &mut summary,
            false,
            &mut store,
        )
        .map_err(|error| vigil_api::ApiError::BadRequest(error.to_string()))?;
        let durable = receipts
            .into_iter()
            .all(|receipt| receipt.blocking_recv().is_ok());
        if !durable {
            return Err(vigil_api::ApiError::Internal(
                "the archive did not confirm every batch; import again (duplicates are not \
                 detected for uploads)"
                    .into(),
            ));
        }
        tracing::info!(
            name = %request.name,
            events = summary.stored,
            "import through the API is durable"
        );
        Ok(summary.to_json())
    }

    fn normalize_status(&self) -> serde_json::Value {
        let mappings = self.context.normalizer.mappings();
        let files: Vec<serde_json::Value> = mappings
            .files()
            .into_iter()
            .map(|(path, count, ok)| {
                json!({ "file": path.display().to_string(), "mappings": count, "ok": ok })
            })
            .collect();
        let unrecognised: Vec<serde_json::Value> = self
            .context
            .normalizer
            .unrecognised_sources()
            .into_iter()
            .map(|(source, events)| json!({ "source": source, "events": events }))
            .collect();
        json!({
            "mapping_files": files,
            "mapping_errors": mappings.errors(),
            "unrecognised_sources": unrecognised,
        })
    }
}
