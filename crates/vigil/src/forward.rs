//! Forwarding upstream: each `[[forward]]` reads this node's archive as it becomes durable,
//! keeps the events its filter chooses, and sends them on: to another Vigil over the channel,
//! to an HTTPS endpoint as JSON batches, or as syslog over TLS
//! (`vigil_channel::upstream`; the syslog receiver gets each batch at least once).
//!
//! ```text
//! DATA_DIR/forward/NAME/outbox/     batches not yet acknowledged by the receiver
//! DATA_DIR/forward/NAME/positions   per partition, how far the archive has been read (MarkLog)
//! ```
//!
//! Exactly once: a batch and the archive position after its last event are one outbox record
//! (a mark), so after a kill -9 reading resumes where the last stored batch ended; the
//! receiver's ledger drops a batch resent after a lost ack. Reading stops at the durable end
//! the archive thread publishes, so nothing is forwarded that a crash here could still undo.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use vigil_channel::link::{run_sender, Outgoing, SenderMetrics, SenderOptions};
use vigil_channel::upstream::{
    run_http_sender, run_syslog_sender, ContentEncoding, HttpOptions, SyslogOptions,
};
use vigil_channel::{encode_batch, Outbox, OutboxError, OutboxOptions};
use vigil_config::{ContentEncodingConfig, ForwardConfig, ForwardKind, ForwardStart};
use vigil_event::Event;
use vigil_pipeline::marks::MarkLog;
use vigil_pipeline::{Counter, DeliveryMark, Metrics, ShutdownSignal};
use vigil_store::archive::{ArchivePosition, BatchCursor};
use vigil_store::{DurableEnds, PartitionKey};

pub const FORWARD_DIR: &str = "forward";
/// Events read from the archive per outbox batch, at most.
const MAX_BATCH_EVENTS: usize = 10_000;
/// When nothing new is durable, look again after this (a group commit wakes it sooner).
const IDLE_POLL: Duration = Duration::from_millis(200);

/// A partition as a mark key: level, then the day.
fn partition_mark(key: &PartitionKey) -> [u8; 16] {
    use chrono::Datelike;
    let mut mark = [0u8; 16];
    mark[0] = key.level.get();
    mark[1..5].copy_from_slice(&key.day.num_days_from_ce().to_le_bytes());
    mark
}

/// An archive position as a mark value: segment in the high 24 bits, offset below.
fn position_value(position: ArchivePosition) -> u64 {
    (u64::from(position.segment) << 40) | (position.offset & ((1 << 40) - 1))
}

fn value_position(value: u64) -> ArchivePosition {
    ArchivePosition {
        segment: (value >> 40) as u32,
        offset: value & ((1 << 40) - 1),
    }
}

/// One term of a forward's query.
#[derive(Debug, PartialEq)]
enum Term {
    /// `field:value`, compared case-insensitively with the field of the event's JSON.
    Field(String, String),
    /// A bare word: in the message, case-insensitively.
    Word(String),
}

/// Which events a forward sends.
#[derive(Debug)]
pub struct EventFilter {
    tenants: Vec<String>,
    levels: Vec<u8>,
    terms: Vec<Term>,
}

impl EventFilter {
    pub fn new(config: &ForwardConfig) -> Self {
        let terms = config
            .query
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .filter(|word| *word != "AND")
            .map(|word| match word.split_once(':') {
                Some((field, value)) if !field.is_empty() => {
                    Term::Field(field.to_owned(), value.trim_matches('"').to_lowercase())
                }
                _ => Term::Word(word.trim_matches('"').to_lowercase()),
            })
            .collect();
        Self {
            tenants: config.tenants.clone(),
            levels: config
                .levels
                .iter()
                .filter_map(|level| u8::try_from(*level).ok())
                .collect(),
            terms,
        }
    }

    pub fn matches(&self, event: &Event) -> bool {
        if !self.tenants.is_empty() && !self.tenants.iter().any(|t| **t == *event.tenant) {
            return false;
        }
        if !self.levels.is_empty() && !self.levels.contains(&event.level.get()) {
            return false;
        }
        let mut json = None;
        self.terms.iter().all(|term| match term {
            Term::Word(word) => event.message.to_lowercase().contains(word.as_str()),
            Term::Field(field, value) => {
                let json = json.get_or_insert_with(|| event.to_json());
                let found = json.get(field.as_str());
                let equal = |candidate: &serde_json::Value| match candidate {
                    serde_json::Value::String(text) => text.to_lowercase() == *value,
                    other => value.as_str() == other.to_string().as_str(),
                };
                match found {
                    Some(serde_json::Value::Array(items)) => items.iter().any(equal),
                    Some(found) => equal(found),
                    None => false,
                }
            }
        })
    }
}

struct ForwardMetrics {
    read: Counter,
    forwarded: Counter,
    errors: Counter,
}

/// One forward's reading side.
struct Reader {
    name: String,
    data_dir: PathBuf,
    filter: Arc<EventFilter>,
    zstd_level: i32,
    durable: Arc<DurableEnds>,
    outgoing: Arc<Outgoing>,
    positions: MarkLog,
    metrics: ForwardMetrics,
}

/// Reads a partition from `from` up to `end`: the events the filter keeps, and where reading
/// stopped (at most [`MAX_BATCH_EVENTS`] events read).
fn read_step(
    data_dir: &Path,
    key: &PartitionKey,
    from: ArchivePosition,
    end: ArchivePosition,
    filter: &EventFilter,
) -> vigil_store::Result<(Vec<Event>, ArchivePosition, u64)> {
    let mut cursor = BatchCursor::new(&key.archive_dir(data_dir), from)?.until(end);
    let mut kept = Vec::new();
    let mut position = from;
    let mut read = 0u64;
    while let Some((_, batch_end, batch)) = cursor.next()? {
        read += batch.events.len() as u64;
        kept.extend(
            batch
                .events
                .into_iter()
                .filter(|event| filter.matches(event)),
        );
        position = batch_end;
        if read as usize >= MAX_BATCH_EVENTS {
            break;
        }
    }
    Ok((kept, position, read))
}

impl Reader {
    fn position(&self, key: &PartitionKey) -> ArchivePosition {
        value_position(self.positions.get(&partition_mark(key)))
    }

    /// One step over every partition; whether anything was read.
    async fn step(&mut self) -> bool {
        let mut progressed = false;
        for (key, end) in self.durable.all() {
            let from = self.position(&key);
            // A partition the retention janitor deleted has nothing left to forward.
            if from >= end || !key.archive_dir(&self.data_dir).exists() {
                continue;
            }
            let (data_dir, filter) = (self.data_dir.clone(), self.filter.clone());
            let stepped =
                tokio::task::spawn_blocking(move || read_step(&data_dir, &key, from, end, &filter))
                    .await;
            let result = match stepped {
                Ok(result) => result,
                Err(error) => {
                    self.metrics.errors.inc();
                    tracing::error!(forward = %self.name, %error, "archive reading panicked");
                    return false;
                }
            };
            let (events, position, read) = match result {
                Ok(step) => step,
                Err(error) => {
                    // A partition deleted by retention meanwhile, or damage: `vigil verify`.
                    self.metrics.errors.inc();
                    tracing::warn!(forward = %self.name, partition = %key, %error, "cannot read the archive to forward it; retrying");
                    continue;
                }
            };
            self.metrics.read.add(read);
            let mark = DeliveryMark {
                stream: partition_mark(&key),
                seq: position_value(position),
            };
            if !events.is_empty() && !self.store(events, mark).await {
                return progressed;
            }
            if let Err(error) = self.positions.append(&[mark]) {
                // The outbox holds the mark of a stored batch: a restart resumes from it.
                self.metrics.errors.inc();
                tracing::error!(forward = %self.name, %error, "cannot record the forward position");
            }
            progressed = true;
        }
        progressed
    }

    /// Appends one batch with its mark, waiting while the outbox is full. `false` if it could
    /// not be encoded (then the position does not move and the next step tries again).
    async fn store(&mut self, events: Vec<Event>, mark: DeliveryMark) -> bool {
        let count = events.len() as u64;
        let frame = match encode_batch(0, &events, self.zstd_level) {
            Ok(frame) => frame,
            Err(error) => {
                self.metrics.errors.inc();
                tracing::error!(forward = %self.name, %error, "cannot encode a batch to forward");
                return false;
            }
        };
        let mut frames = [frame];
        let mut full = false;
        loop {
            match self.outgoing.append_marked(&mut frames, &[mark]) {
                Ok(()) => break,
                Err(OutboxError::Full { .. }) => {
                    if !full {
                        full = true;
                        self.outgoing.set_full(true);
                        tracing::warn!(forward = %self.name, "forward outbox full: reading the archive waits for acknowledgements");
                    }
                    let _ =
                        tokio::time::timeout(Duration::from_secs(1), self.outgoing.room.notified())
                            .await;
                }
                Err(error) => {
                    self.metrics.errors.inc();
                    tracing::error!(forward = %self.name, %error, "forward outbox append failed; retrying in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        if full {
            self.outgoing.set_full(false);
        }
        self.metrics.forwarded.add(count);
        true
    }

    async fn run(mut self, mut shutdown: ShutdownSignal) {
        loop {
            if self.step().await {
                continue;
            }
            tokio::select! {
                () = self.durable.changed() => {}
                () = tokio::time::sleep(IDLE_POLL) => {}
                () = shutdown.wait() => return,
            }
        }
    }
}

/// Starts every configured forward: its archive reader and its sender.
pub async fn start(
    forwards: &[ForwardConfig],
    data_dir: &Path,
    node: &str,
    durable: &Arc<DurableEnds>,
    metrics: &Metrics,
    signal: &ShutdownSignal,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let mut tasks = Vec::new();
    for config in forwards {
        let name = &config.name;
        let state = data_dir.join(FORWARD_DIR).join(name);
        std::fs::create_dir_all(&state)
            .with_context(|| format!("cannot create {}", state.display()))?;
        let positions_path = state.join("positions");
        let first_start = !positions_path.exists();
        let (outbox, _) = Outbox::open(
            &state.join("outbox"),
            OutboxOptions {
                max_bytes: config.outbox_max_mib.max(1) * 1024 * 1024,
                ..OutboxOptions::default()
            },
        )?;
        let (mut positions, _) = MarkLog::open(&positions_path)
            .with_context(|| format!("cannot open {}", positions_path.display()))?;
        // The outbox holds the newest positions if a kill came between it and the log.
        let newer: Vec<DeliveryMark> = outbox
            .marks()
            .iter()
            .filter(|(key, value)| positions.get(key) < **value)
            .map(|(key, value)| DeliveryMark {
                stream: *key,
                seq: *value,
            })
            .collect();
        positions.append(&newer)?;
        if first_start && config.start == ForwardStart::Now {
            let now: Vec<DeliveryMark> = durable
                .all()
                .iter()
                .map(|(key, end)| DeliveryMark {
                    stream: partition_mark(key),
                    seq: position_value(*end),
                })
                .collect();
            positions.append(&now)?;
            tracing::info!(forward = %name, "new forward: starting from what is archived from now on");
        }
        let outgoing = Outgoing::new(outbox, SenderMetrics::new(metrics, name));
        let sender = sender(config, node, outgoing.clone(), signal.clone())
            .await
            .with_context(|| format!("forward {name:?}"))?;
        let labels = [("forward", name.as_str())];
        let reader = Reader {
            name: name.clone(),
            data_dir: data_dir.to_path_buf(),
            filter: Arc::new(EventFilter::new(config)),
            zstd_level: config.zstd_level,
            durable: durable.clone(),
            outgoing: outgoing.clone(),
            positions,
            metrics: ForwardMetrics {
                read: metrics.counter(
                    "vigil_forward_events_read_total",
                    "Archived events a forward read (before its filter).",
                    &labels,
                ),
                forwarded: metrics.counter(
                    "vigil_forward_events_total",
                    "Events a forward's filter chose and stored in its outbox.",
                    &labels,
                ),
                errors: metrics.counter(
                    "vigil_forward_errors_total",
                    "Failed archive reads or outbox writes of a forward (each retried).",
                    &labels,
                ),
            },
        };
        tasks.push(tokio::spawn(reader.run(signal.clone())));
        tasks.push(sender);
    }
    Ok(tasks)
}

/// `https://HOST[:PORT]/PATH` → (HOST, PORT, PATH).
fn parse_url(url: &str) -> anyhow::Result<(String, u16, String)> {
    let rest = url
        .strip_prefix("https://")
        .context("the url must start with https://")?;
    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    // An IPv6 address is bracketed: its colons are not the port's.
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed
                .split_once(']')
                .with_context(|| format!("unclosed [ in {url:?}"))?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port = match port {
        Some(port) => port
            .parse::<u16>()
            .with_context(|| format!("bad port in {url:?}"))?,
        None => 443,
    };
    anyhow::ensure!(!host.is_empty(), "no host in {url:?}");
    Ok((host.to_owned(), port, path.to_owned()))
}

/// The sending side of one forward, by its type, started.
async fn sender(
    config: &ForwardConfig,
    node: &str,
    outgoing: Arc<Outgoing>,
    signal: ShutdownSignal,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let identity = config.cert.as_deref().zip(config.key.as_deref());
    let server_name = |host: &str| {
        let name = config
            .server_name
            .clone()
            .unwrap_or_else(|| host.to_owned());
        rustls::pki_types::ServerName::try_from(name.clone())
            .with_context(|| format!("{name:?} is not a server name"))
    };
    let (backoff_min, backoff_max) = (Duration::from_millis(200), Duration::from_secs(30));
    match config.kind {
        ForwardKind::Channel => {
            let (cert, key) = identity.context("the channel needs cert and key")?;
            let servers = crate::agent::resolve(&config.servers).await?;
            let options = SenderOptions {
                server_name: server_name(crate::agent::host_of(&config.servers[0]))?,
                tls: vigil_tls::channel_client_config(&config.ca, cert, key)
                    .context("TLS setup failed")?,
                servers,
                node: node.to_owned(),
                window: 8,
                connect_timeout: Duration::from_secs(10),
                backoff_min,
                backoff_max,
            };
            tracing::info!(forward = %config.name, servers = ?options.servers, "forwarding over the channel");
            Ok(tokio::spawn(run_sender(outgoing, options, signal)))
        }
        ForwardKind::Https => {
            let url = config.url.as_deref().context("no url")?;
            let (host, port, path) = parse_url(url)?;
            let bearer_token = match &config.bearer_token_file {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {}", path.display()))?
                        .trim()
                        .to_owned(),
                ),
                None => None,
            };
            let options = HttpOptions {
                addresses: crate::agent::resolve(&[format!("{host}:{port}")]).await?,
                server_name: server_name(&host)?,
                host: if port == 443 {
                    host.clone()
                } else {
                    format!("{host}:{port}")
                },
                path,
                tls: vigil_tls::client_config(&config.ca, identity).context("TLS setup failed")?,
                bearer_token,
                encoding: match config.content_encoding {
                    ContentEncodingConfig::Zstd => ContentEncoding::Zstd,
                    ContentEncodingConfig::Gzip => ContentEncoding::Gzip,
                },
                node: node.to_owned(),
                timeout: Duration::from_secs(30),
                backoff_min,
                backoff_max,
            };
            tracing::info!(forward = %config.name, %url, "forwarding over HTTPS");
            Ok(tokio::spawn(run_http_sender(outgoing, options, signal)))
        }
        ForwardKind::SyslogTls => {
            let options = SyslogOptions {
                addresses: crate::agent::resolve(&config.servers).await?,
                server_name: server_name(crate::agent::host_of(&config.servers[0]))?,
                tls: vigil_tls::client_config(&config.ca, identity).context("TLS setup failed")?,
                node: node.to_owned(),
                timeout: Duration::from_secs(30),
                backoff_min,
                backoff_max,
            };
            tracing::info!(forward = %config.name, servers = ?config.servers, "forwarding as syslog over TLS");
            Ok(tokio::spawn(run_syslog_sender(outgoing, options, signal)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(query: &str, tenants: &[&str], levels: &[i64]) -> ForwardConfig {
        ForwardConfig {
            name: "up".into(),
            kind: ForwardKind::Channel,
            servers: vec!["127.0.0.1:1".into()],
            url: None,
            ca: "ca".into(),
            cert: Some("c".into()),
            key: Some("k".into()),
            bearer_token_file: None,
            content_encoding: ContentEncodingConfig::Zstd,
            server_name: None,
            tenants: tenants.iter().map(|t| t.to_string()).collect(),
            levels: levels.to_vec(),
            query: Some(query.into()),
            start: ForwardStart::Now,
            zstd_level: 3,
            outbox_max_mib: 1,
        }
    }

    fn event(message: &str, tenant: &str, level: i64, host: &str) -> Event {
        let mut event = Event::new(vigil_event::Timestamp::now(), message.as_bytes().to_vec());
        event.message = message.into();
        event.tenant = Arc::from(tenant);
        event.level = vigil_event::SecurityLevel::new(level).expect("level");
        event.host_name = Some(host.into());
        event.severity = Some(2);
        event
    }

    #[test]
    fn a_filter_takes_tenants_levels_fields_and_words() {
        let filter = EventFilter::new(&config(
            "host.name:FW-1 log.syslog.severity.code:2 Denied",
            &["mof"],
            &[4, 5],
        ));
        assert!(filter.matches(&event("Packet denied by rule", "mof", 4, "fw-1")));
        assert!(!filter.matches(&event("Packet denied by rule", "moh", 4, "fw-1")));
        assert!(!filter.matches(&event("Packet denied by rule", "mof", 3, "fw-1")));
        assert!(!filter.matches(&event("Packet denied by rule", "mof", 4, "fw-2")));
        assert!(!filter.matches(&event("Packet allowed", "mof", 4, "fw-1")));
        let everything = EventFilter::new(&config("", &[], &[]));
        assert!(everything.matches(&event("anything", "x", 1, "h")));
    }

    #[test]
    fn https_urls_split_into_host_port_and_path() {
        assert_eq!(
            parse_url("https://govsoc.example/api/ingest").expect("url"),
            ("govsoc.example".into(), 443, "/api/ingest".into())
        );
        assert_eq!(
            parse_url("https://127.0.0.1:8443").expect("url"),
            ("127.0.0.1".into(), 8443, "/".into())
        );
        assert_eq!(
            parse_url("https://[::1]:9000/x").expect("url"),
            ("::1".into(), 9000, "/x".into())
        );
        assert!(parse_url("http://plain.example/").is_err());
        assert!(parse_url("https://host:notaport/").is_err());
    }

    #[test]
    fn positions_round_trip_through_mark_values() {
        let position = ArchivePosition {
            segment: 42,
            offset: 123_456_789_012,
        };
        assert_eq!(value_position(position_value(position)), position);
        let later = ArchivePosition {
            segment: 43,
            offset: 10,
        };
        assert!(position_value(later) > position_value(position));
    }
}
