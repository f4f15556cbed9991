//! The rules stage of `vigil serve` (and of `vigil import`): the rule folder watched and
//! reloaded, a correlator fed every event, and alerts written to the alert log, published on a
//! broadcast, kept in a short in-memory list, and passed on as events (so they are archived,
//! indexed and forwarded like any other event).

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use vigil_event::{Alert, Batch, Timestamp};
use vigil_pipeline::{BatchReceiver, BatchSender, Counter, Delivery, Gauge, Metrics};

use crate::engine::{Correlator, Options, Stats};
use crate::load::{FileStatus, Library};

/// How often absence rules are checked against the clock.
pub const TICK: Duration = Duration::from_millis(250);
/// How often the rules folder is checked for changes.
pub const RELOAD_EVERY: Duration = Duration::from_secs(1);
/// Alerts kept in memory for `GET /api/v1/alerts`.
pub const RECENT_ALERTS: usize = 1_000;
/// Alerts a slow subscriber may fall behind before it misses some.
pub const BROADCAST_CAPACITY: usize = 4_096;
/// The alert log's name in the data folder.
pub const ALERT_LOG: &str = "alerts.jsonl";

pub struct RuleService {
    library: Mutex<Library>,
    correlator: Mutex<Correlator>,
    alerts: broadcast::Sender<Arc<Alert>>,
    recent: Mutex<VecDeque<Arc<Alert>>>,
    log: Option<Mutex<std::fs::File>>,
    status: RwLock<Status>,
    counters: Counters,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
struct Status {
    rules: Vec<serde_json::Value>,
    files: Vec<FileStatus>,
    errors: Vec<String>,
}

struct Counters {
    metrics: Metrics,
    events: Counter,
    candidates: Counter,
    late: Counter,
    evictions: Counter,
    where_errors: Counter,
    suppressed: Counter,
    reloads: Counter,
    reload_errors: Counter,
    loaded: Gauge,
    broken: Gauge,
    seen: Mutex<Stats>,
    per_rule: Mutex<HashMap<String, Counter>>,
}

impl RuleService {
    /// Loads `dir`; alerts go to `DATA_DIR/alerts.jsonl` when `data_dir` is given.
    pub fn open(
        dir: &Path,
        data_dir: Option<&Path>,
        options: Options,
        metrics: &Metrics,
    ) -> std::io::Result<Arc<Self>> {
        let library = Library::open(dir);
        let set = Arc::new(library.rule_set().map_err(std::io::Error::other)?);
        let log = match data_dir {
            Some(data) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(data.join(ALERT_LOG))?,
            )),
            None => None,
        };
        let counter = |name: &'static str, help: &'static str| metrics.counter(name, help, &[]);
        let counters = Counters {
            metrics: metrics.clone(),
            events: counter("vigil_rules_events_total", "Events the rules saw."),
            candidates: counter(
                "vigil_rules_candidates_total",
                "Rule checks the prefilter index asked for (events × candidate rules).",
            ),
            late: counter(
                "vigil_rules_late_events_total",
                "Events older than the out-of-order tolerance, evaluated at arrival.",
            ),
            evictions: counter(
                "vigil_rules_evictions_total",
                "Group keys dropped from a full rule window.",
            ),
            where_errors: counter(
                "vigil_rules_where_errors_total",
                "`where` calls that failed (limits reached, wrong types); the event did not match.",
            ),
            suppressed: counter(
                "vigil_rules_suppressed_total",
                "Alerts not raised because the same rule and key fired within its suppress period.",
            ),
            reloads: counter("vigil_rules_reloads_total", "Rule folder changes applied."),
            reload_errors: counter(
                "vigil_rules_load_errors_total",
                "Rule file versions that did not load (the previous version kept running).",
            ),
            loaded: metrics.gauge("vigil_rules_loaded", "Rules running.", &[]),
            broken: metrics.gauge(
                "vigil_rules_broken_files",
                "Rule files whose current text does not load.",
                &[],
            ),
            seen: Mutex::new(Stats::default()),
            per_rule: Mutex::new(HashMap::new()),
        };
        let (alerts, _) = broadcast::channel(BROADCAST_CAPACITY);
        let service = Arc::new(RuleService {
            correlator: Mutex::new(Correlator::new(set, options)),
            library: Mutex::new(library),
            alerts,
            recent: Mutex::new(VecDeque::new()),
            log,
            status: RwLock::new(Status::default()),
            counters,
        });
        service.refresh_status();
        for error in service.errors() {
            tracing::error!(%error, "a rule file does not load");
        }
        Ok(service)
    }

    /// New alerts as they are raised.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Alert>> {
        self.alerts.subscribe()
    }

    pub fn errors(&self) -> Vec<String> {
        read(&self.status).errors.clone()
    }

    /// `GET /api/v1/rules`: the running rules, the files and their errors.
    pub fn status_json(&self) -> serde_json::Value {
        let status = read(&self.status).clone();
        let stats = lock(&self.correlator).stats().clone();
        serde_json::json!({
            "rules": status.rules,
            "files": status.files,
            "errors": status.errors,
            "stats": {
                "events": stats.events,
                "alerts": stats.alerts,
                "late": stats.late,
                "evictions": stats.evictions,
                "where_errors": stats.where_errors,
                "suppressed": stats.suppressed,
            },
        })
    }

    /// The latest alerts, newest first.
    pub fn recent(&self, limit: usize) -> Vec<Arc<Alert>> {
        lock(&self.recent)
            .iter()
            .rev()
            .take(limit)
            .cloned()
            .collect()
    }

    /// Re-reads the rules folder and swaps in what changed; whether anything did.
    pub fn reload(&self) -> bool {
        let mut library = lock(&self.library);
        let (changed, failed) = library.reload_counting();
        self.counters.reload_errors.add(failed as u64);
        if changed {
            match library.rule_set() {
                Ok(set) => {
                    lock(&self.correlator).replace(Arc::new(set));
                    self.counters.reloads.inc();
                    tracing::info!(dir = %library.dir().display(), "rules reloaded");
                }
                Err(error) => {
                    self.counters.reload_errors.inc();
                    tracing::error!(%error, "the reloaded rules do not index; the previous set keeps running");
                }
            }
        }
        drop(library);
        self.refresh_status();
        changed
    }

    fn refresh_status(&self) {
        let library = lock(&self.library);
        let correlator = lock(&self.correlator);
        let rules = correlator
            .rules()
            .rules
            .iter()
            .map(|rule| {
                serde_json::json!({
                    "id": rule.id,
                    "version": rule.version,
                    "title": rule.title,
                    "severity": rule.severity,
                    "kind": rule.kind.name(),
                    "file": rule.file,
                    "line": rule.line,
                    "attack": rule.attack,
                    "kill_chain": rule.kill_chain,
                    "description": rule.description,
                    "references": rule.references,
                    "false_positives": rule.false_positives,
                    "keys": correlator.keys(&rule.id),
                    "where_errors": correlator.where_errors(&rule.id),
                })
            })
            .collect::<Vec<_>>();
        self.counters.loaded.set(rules.len() as i64);
        self.counters.broken.set(library.broken_files() as i64);
        *self
            .status
            .write()
            .unwrap_or_else(|poison| poison.into_inner()) = Status {
            rules,
            files: library.files(),
            errors: library.errors(),
        };
    }

    /// Runs a batch through the rules at processing time `now`; alerts are published and their
    /// events appended to the batch. Returns the alerts raised.
    pub fn process(&self, events: &mut Batch, now: Timestamp) -> Vec<Arc<Alert>> {
        let mut raised = Vec::new();
        {
            let mut correlator = lock(&self.correlator);
            for event in events.iter() {
                raised.extend(correlator.process(event, now));
            }
            self.count(correlator.stats());
        }
        let raised: Vec<Arc<Alert>> = raised.into_iter().map(Arc::new).collect();
        events.extend(raised.iter().map(|alert| alert.to_event()));
        self.publish(&raised);
        raised
    }

    /// Fires absence rules at processing time `now`; the alerts as events.
    pub fn tick(&self, now: Timestamp) -> Batch {
        let raised = {
            let mut correlator = lock(&self.correlator);
            let raised = correlator.tick(now);
            self.count(correlator.stats());
            raised
        };
        let raised: Vec<Arc<Alert>> = raised.into_iter().map(Arc::new).collect();
        self.publish(&raised);
        raised.iter().map(|alert| alert.to_event()).collect()
    }

    fn count(&self, stats: &Stats) {
        let mut seen = lock(&self.counters.seen);
        let add =
            |counter: &Counter, now: u64, before: u64| counter.add(now.saturating_sub(before));
        add(&self.counters.events, stats.events, seen.events);
        add(&self.counters.candidates, stats.candidates, seen.candidates);
        add(&self.counters.late, stats.late, seen.late);
        add(&self.counters.evictions, stats.evictions, seen.evictions);
        add(
            &self.counters.where_errors,
            stats.where_errors,
            seen.where_errors,
        );
        add(&self.counters.suppressed, stats.suppressed, seen.suppressed);
        *seen = stats.clone();
    }

    fn publish(&self, raised: &[Arc<Alert>]) {
        if raised.is_empty() {
            return;
        }
        let mut lines = Vec::new();
        {
            let mut per_rule = lock(&self.counters.per_rule);
            for alert in raised {
                per_rule
                    .entry(alert.rule_id.clone())
                    .or_insert_with(|| {
                        self.counters.metrics.counter(
                            "vigil_rules_alerts_total",
                            "Alerts raised, per rule.",
                            &[
                                ("rule", &alert.rule_id),
                                ("severity", alert.severity.name()),
                            ],
                        )
                    })
                    .inc();
                tracing::debug!(
                    rule = %alert.rule_id,
                    severity = %alert.severity,
                    key = %alert.key,
                    alert = %alert.id,
                    "{}",
                    alert.summary
                );
                if let Ok(mut line) = serde_json::to_vec(&**alert) {
                    line.push(b'\n');
                    lines.extend_from_slice(&line);
                }
                let _ = self.alerts.send(alert.clone());
            }
        }
        if let Some(log) = &self.log {
            let mut file = lock(log);
            if let Err(error) = file.write_all(&lines).and_then(|()| file.sync_data()) {
                tracing::error!(%error, "cannot write the alert log");
            }
        }
        let mut recent = lock(&self.recent);
        for alert in raised {
            if recent.len() == RECENT_ALERTS {
                recent.pop_front();
            }
            recent.push_back(alert.clone());
        }
    }

    /// Checks the rules folder every [`RELOAD_EVERY`] on a thread of its own (so that a
    /// reload never waits for a batch, nor a batch for a reload longer than the swap), for as
    /// long as the service lives.
    pub fn watch(self: &Arc<Self>) -> std::io::Result<()> {
        let service = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("vigil-rules-watch".into())
            .spawn(move || loop {
                std::thread::sleep(RELOAD_EVERY);
                match service.upgrade() {
                    Some(service) => {
                        service.reload();
                    }
                    None => break,
                }
            })
            .map(drop)
    }

    /// Runs the stage on a thread of its own: every delivery from `input` goes through the rules
    /// and on to `output` with its alerts appended; absence rules are checked every [`TICK`].
    /// Ends when `input` closes.
    pub fn spawn(
        self: &Arc<Self>,
        mut input: BatchReceiver,
        output: BatchSender,
        runtime: tokio::runtime::Handle,
        metrics: &Metrics,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        let panics = metrics.counter(
            "vigil_transform_panics_total",
            "Batches a transform panicked on (passed on as they were, not lost).",
            &[("transform", "rules")],
        );
        let service = self.clone();
        std::thread::Builder::new()
            .name("vigil-rules".into())
            .spawn(move || {
                let mut last_tick = Instant::now();
                loop {
                    let next =
                        runtime.block_on(async { tokio::time::timeout(TICK, input.recv()).await });
                    match next {
                        Ok(Some(mut delivery)) => {
                            let applied =
                                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                    service.process(&mut delivery.events, Timestamp::now());
                                }));
                            if applied.is_err() {
                                panics.inc();
                                tracing::error!(
                                    "the rules panicked on a batch; it goes on as it was"
                                );
                            }
                            if output.blocking_send(delivery).is_err() {
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(_) => {}
                    }
                    if last_tick.elapsed() >= TICK {
                        last_tick = Instant::now();
                        let ticked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            service.tick(Timestamp::now())
                        }));
                        let raised = ticked.unwrap_or_else(|_| {
                            panics.inc();
                            tracing::error!("the rules panicked on a clock tick; it is skipped");
                            Batch::new()
                        });
                        if !raised.is_empty()
                            && output.blocking_send(Delivery::from(raised)).is_err()
                        {
                            break;
                        }
                    }
                }
            })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poison| poison.into_inner())
}
