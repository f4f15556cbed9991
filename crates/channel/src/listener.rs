//! The receiving end as a pipeline source: a TLS 1.3 listener with mutual authentication whose
//! connections are served by [`link::receive`]. A received batch goes down the pipeline as one
//! delivery carrying its stream mark; the archive acknowledges it (receipt) once its events are
//! fsynced and the mark recorded, and only then is the batch acknowledged to the sender.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use vigil_event::{Event, EventId};
use vigil_pipeline::{
    BatchSender, BoxFuture, Counter, Delivery, DeliveryMark, Gauge, Metrics, ShutdownSignal, Source,
};

use crate::link::{self, ChannelError, Deliver, Ledger, Peer, Received, ReceiverOptions};

/// What the receiving node knows that the channel does not: which clients may send, and how
/// their events are stamped (tenant, level), and which events it already archived.
pub trait Admission: Send + Sync {
    /// Whether a client whose certificate carries these names may send; `Err` says why not.
    fn admit(&self, identities: &[String]) -> Result<(), String>;
    /// Stamps one event from `peer` before it is archived.
    fn stamp(&self, peer: &Peer, event: &mut Event);
}

/// The receiver's ledger, plus what a crashed run archived without its mark.
pub trait ReceiverLedger: Ledger {
    /// Whether this event is already archived (its batch was caught in a crash).
    fn archived(&self, id: &EventId) -> bool;
}

#[derive(Clone)]
pub struct ChannelListenerOptions {
    pub name: String,
    /// From `vigil_tls::channel_server_config`: TLS 1.3, client certificates required.
    pub tls: Arc<rustls::ServerConfig>,
    pub handshake_timeout: Duration,
    /// Open connections at most; more are closed at once and counted.
    pub max_connections: usize,
    pub receiver: ReceiverOptions,
}

struct ChannelMetrics {
    connections: Counter,
    connections_open: Gauge,
    refused_limit: Counter,
    handshakes: Counter,
    tls_failures: Vec<(&'static str, Counter)>,
    batches: Counter,
    events: Counter,
    bytes: Counter,
    duplicate_batches: Counter,
    duplicate_events: Counter,
    errors: Vec<(&'static str, Counter)>,
}

/// Why a channel connection ended in error: a closed set of metric labels.
const ERROR_KINDS: &[&str] = &[
    "io",
    "frame",
    "batch",
    "protocol",
    "refused",
    "timeout",
    "not_durable",
    "outbox",
];

fn error_kind(error: &ChannelError) -> &'static str {
    match error {
        ChannelError::Io(_) => "io",
        ChannelError::Frame(_) => "frame",
        ChannelError::Batch { .. } => "batch",
        ChannelError::Protocol(_) => "protocol",
        ChannelError::Refused(_) => "refused",
        ChannelError::Timeout(_) => "timeout",
        ChannelError::NotDurable(_) => "not_durable",
        ChannelError::Outbox(_) => "outbox",
    }
}

impl ChannelMetrics {
    fn new(metrics: &Metrics, listener: &str) -> Self {
        let labels = [("listener", listener)];
        Self {
            connections: metrics.counter(
                "vigil_channel_connections_total",
                "Channel connections accepted (before TLS).",
                &labels,
            ),
            connections_open: metrics.gauge(
                "vigil_channel_connections_open",
                "Open channel connections.",
                &labels,
            ),
            refused_limit: metrics.counter(
                "vigil_channel_connections_refused_total",
                "Channel connections closed at once: max_connections was reached.",
                &labels,
            ),
            handshakes: metrics.counter(
                "vigil_channel_tls_handshakes_total",
                "Channel TLS handshakes that succeeded and were admitted.",
                &labels,
            ),
            tls_failures: vigil_tls::peer::FAILURE_REASONS
                .iter()
                .map(|reason| {
                    let counter = metrics.counter(
                        "vigil_channel_tls_handshake_failures_total",
                        "Channel connections refused during or right after the TLS handshake, by reason.",
                        &[("listener", listener), ("reason", reason)],
                    );
                    (*reason, counter)
                })
                .collect(),
            batches: metrics.counter(
                "vigil_channel_batches_received_total",
                "Batches received, made durable and acknowledged.",
                &labels,
            ),
            events: metrics.counter(
                "vigil_channel_events_received_total",
                "Events in the batches received.",
                &labels,
            ),
            bytes: metrics.counter(
                "vigil_channel_bytes_received_total",
                "Compressed batch bytes received.",
                &labels,
            ),
            duplicate_batches: metrics.counter(
                "vigil_channel_duplicate_batches_total",
                "Resent batches already held: acknowledged again, not archived again.",
                &labels,
            ),
            duplicate_events: metrics.counter(
                "vigil_channel_duplicate_events_total",
                "Events of resent batches a crashed run had already archived: skipped.",
                &labels,
            ),
            errors: ERROR_KINDS
                .iter()
                .map(|kind| {
                    let counter = metrics.counter(
                        "vigil_channel_errors_total",
                        "Channel connections that ended in an error, by kind.",
                        &[("listener", listener), ("kind", kind)],
                    );
                    (*kind, counter)
                })
                .collect(),
        }
    }

    fn tls_failure(&self, reason: &str) {
        if let Some((_, counter)) = self.tls_failures.iter().find(|(known, _)| *known == reason) {
            counter.inc();
        }
    }

    fn error(&self, error: &ChannelError) {
        let kind = error_kind(error);
        if let Some((_, counter)) = self.errors.iter().find(|(known, _)| *known == kind) {
            counter.inc();
        }
    }
}

/// The channel listener; see the module docs.
pub struct ChannelSource {
    listener: TcpListener,
    options: ChannelListenerOptions,
    ledger: Arc<dyn ReceiverLedger>,
    admission: Arc<dyn Admission>,
    metrics: Arc<ChannelMetrics>,
}

impl ChannelSource {
    /// Binds now, so that a taken port fails the start.
    pub async fn bind(
        address: SocketAddr,
        options: ChannelListenerOptions,
        ledger: Arc<dyn ReceiverLedger>,
        admission: Arc<dyn Admission>,
        metrics: &Metrics,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let metrics = Arc::new(ChannelMetrics::new(metrics, &options.name));
        Ok(Self {
            listener,
            options,
            ledger,
            admission,
            metrics,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// Sends a batch down the pipeline with its mark and waits for the archive's receipt.
struct PipelineDeliver {
    out: BatchSender,
    ledger: Arc<dyn ReceiverLedger>,
    admission: Arc<dyn Admission>,
    metrics: Arc<ChannelMetrics>,
}

impl Deliver for PipelineDeliver {
    // Handing on is awaited now, in order; the receipt it yields is awaited later.
    #[allow(clippy::async_yields_async)]
    fn deliver(&self, peer: &Peer, seq: u64, events: Vec<Event>) -> BoxFuture<BoxFuture<bool>> {
        let before = events.len();
        let mut events: Vec<Event> = events
            .into_iter()
            .filter(|event| !self.ledger.archived(&event.id))
            .collect();
        let skipped = before - events.len();
        if skipped > 0 {
            self.metrics.duplicate_events.add(skipped as u64);
            tracing::info!(node = %peer.node, seq, skipped, "a resent batch held events a crashed run had archived; skipped them");
        }
        // Stamping decodes the lines an agent relayed undecoded: milliseconds for a large
        // batch, so a worker of a multi-threaded runtime hands its other tasks on meanwhile.
        let mut stamp = || {
            for event in &mut events {
                self.admission.stamp(peer, event);
            }
        };
        match tokio::runtime::Handle::try_current().map(|handle| handle.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(stamp),
            _ => stamp(),
        }
        // Sent even when empty: the mark must be recorded.
        let (mut delivery, receipt) = Delivery::with_receipt(events);
        delivery.mark = Some(DeliveryMark {
            stream: peer.stream,
            seq,
        });
        let out = self.out.clone();
        Box::pin(async move {
            let sent = out.send(delivery).await.is_ok();
            let durable: BoxFuture<bool> = Box::pin(async move { sent && receipt.await.is_ok() });
            durable
        })
    }
}

struct Connection {
    options: ChannelListenerOptions,
    deliver: Arc<PipelineDeliver>,
    metrics: Arc<ChannelMetrics>,
}

impl Connection {
    async fn serve(&self, tcp: tokio::net::TcpStream, peer: SocketAddr) {
        let _ = tcp.set_nodelay(true);
        let acceptor = tokio_rustls::TlsAcceptor::from(self.options.tls.clone());
        let tls = match tokio::time::timeout(self.options.handshake_timeout, acceptor.accept(tcp))
            .await
        {
            Ok(Ok(tls)) => tls,
            Ok(Err(error)) => {
                let reason = vigil_tls::failure_reason(&error);
                self.metrics.tls_failure(reason);
                tracing::debug!(listener = %self.options.name, %peer, reason, %error, "channel TLS handshake failed");
                return;
            }
            Err(_) => {
                self.metrics.tls_failure("timeout");
                tracing::debug!(listener = %self.options.name, %peer, "channel TLS handshake timed out");
                return;
            }
        };
        let identities: Vec<String> = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first())
            .map(vigil_tls::identities)
            .unwrap_or_default();
        if let Err(why) = self.deliver.admission.admit(&identities) {
            self.metrics.tls_failure("identity_not_allowed");
            tracing::warn!(listener = %self.options.name, %peer, ?identities, %why, "channel client refused");
            return;
        }
        self.metrics.handshakes.inc();
        let mut received = Received::default();
        let ended = link::receive(
            tls,
            identities,
            &self.options.receiver,
            self.deliver.ledger.as_ref(),
            self.deliver.as_ref(),
            &mut received,
        )
        .await;
        self.metrics.batches.add(received.batches);
        self.metrics.events.add(received.events);
        self.metrics.bytes.add(received.bytes);
        self.metrics.duplicate_batches.add(received.duplicates);
        match ended {
            Ok(()) => {
                tracing::debug!(listener = %self.options.name, %peer, batches = received.batches, "channel sender closed")
            }
            Err(error) => {
                self.metrics.error(&error);
                tracing::info!(listener = %self.options.name, %peer, %error, batches = received.batches, "channel connection ended");
            }
        }
    }
}

impl Source for ChannelSource {
    fn run(
        self: Box<Self>,
        out: BatchSender,
        mut shutdown: ShutdownSignal,
    ) -> BoxFuture<vigil_pipeline::Result<()>> {
        Box::pin(async move {
            let deliver = Arc::new(PipelineDeliver {
                out,
                ledger: self.ledger.clone(),
                admission: self.admission.clone(),
                metrics: self.metrics.clone(),
            });
            let connection = Arc::new(Connection {
                options: self.options.clone(),
                deliver,
                metrics: self.metrics.clone(),
            });
            let open = Arc::new(AtomicUsize::new(0));
            let mut tasks = JoinSet::new();
            loop {
                let accepted = tokio::select! {
                    accepted = self.listener.accept() => accepted,
                    () = shutdown.wait() => break,
                    Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
                };
                let (tcp, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: wait, do not spin.
                        tracing::warn!(listener = %self.options.name, %error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                self.metrics.connections.inc();
                if open.load(Ordering::SeqCst) >= self.options.max_connections {
                    self.metrics.refused_limit.inc();
                    continue;
                }
                open.fetch_add(1, Ordering::SeqCst);
                self.metrics.connections_open.add(1);
                let (connection, open, metrics) =
                    (connection.clone(), open.clone(), self.metrics.clone());
                tasks.spawn(async move {
                    connection.serve(tcp, peer).await;
                    open.fetch_sub(1, Ordering::SeqCst);
                    metrics.connections_open.add(-1);
                });
            }
            // Connections stop where they are: a batch not yet acknowledged is resent by its
            // sender, and what was delivered is recorded as held, so nothing doubles.
            tasks.shutdown().await;
            Ok(())
        })
    }
}
