use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flate2::{Decompress, FlushDecompress, Status};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::JoinSet;
use vigil_codec::limits::Limits;
use vigil_codec::syslog::{FrameError, FrameOutcome, SyslogFramer};
use vigil_config::TcpLimits;
use vigil_event::{Batch, Timestamp};
use vigil_pipeline::{BatchSender, BoxFuture, Metrics, ShutdownSignal, Source};

use super::ListenerMetrics;
use crate::{CollectError, Origin, Stamper};

/// Bytes read from a connection at a time; one read becomes at most one batch.
const READ_BUFFER_BYTES: usize = 64 * 1024;
/// Bytes inflated at a time from a zlib stream. A batch is sent once it holds this many events,
/// so a stream that inflates without end (a zlib bomb) never piles up in memory.
const INFLATE_CHUNK_BYTES: usize = 64 * 1024;
const MAX_BATCH_EVENTS: usize = 4096;
/// Past this much inflated output, a stream that inflates more than [`MAX_INFLATE_RATIO`] times
/// its compressed size is a bomb, not logs (text logs compress 5-50 times; deflate's ceiling
/// is about 1,032), and its connection is closed.
const INFLATE_RATIO_AFTER_BYTES: u64 = 16 * 1024 * 1024;
const MAX_INFLATE_RATIO: u64 = 500;

/// Why a zlib stream was given up.
#[derive(Debug)]
enum InflateError {
    Corrupt(flate2::DecompressError),
    Bomb { inflated: u64, compressed: u64 },
}

impl std::fmt::Display for InflateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InflateError::Corrupt(error) => write!(f, "corrupt zlib stream: {error}"),
            InflateError::Bomb {
                inflated,
                compressed,
            } => write!(
                f,
                "zlib stream inflated {inflated} bytes from {compressed}: over the ratio limit"
            ),
        }
    }
}

/// How a stream listener reads its connections.
#[derive(Clone, Default)]
pub struct StreamOptions {
    /// Take rsyslog's zlib stream compression when a connection starts with a zlib header.
    pub zlib: bool,
    /// TLS before anything is read (RFC 5425).
    pub tls: Option<TlsOptions>,
}

/// The TLS side of a stream listener.
#[derive(Clone)]
pub struct TlsOptions {
    pub config: Arc<rustls::ServerConfig>,
    pub handshake_timeout: Duration,
    /// Allowed client identities and whom their events belong to. Empty: every client the
    /// config accepts, with the tenant of its address.
    pub clients: Vec<(String, Origin)>,
}

impl TlsOptions {
    /// The origin of a connection from its client certificate, or `Err` when an allow-list
    /// exists and the certificate (if any) names no one on it.
    fn admit(
        &self,
        certificates: Option<&[rustls::pki_types::CertificateDer<'_>]>,
    ) -> Result<Option<Origin>, ()> {
        if self.clients.is_empty() {
            return Ok(None);
        }
        let Some(leaf) = certificates.and_then(<[_]>::first) else {
            return Err(());
        };
        let names = vigil_tls::identities(leaf);
        self.clients
            .iter()
            .find(|(identity, _)| names.iter().any(|name| name == identity))
            .map(|(_, origin)| Some(origin.clone()))
            .ok_or(())
    }
}
/// Pending connections the kernel holds for us.
const LISTEN_BACKLOG: u32 = 4096;

/// Syslog over TCP (RFC 6587) or TLS (RFC 5425), octet-counted and LF-delimited frames on one
/// port, optionally zlib-compressed.
pub struct SyslogTcpSource {
    name: Arc<str>,
    listener: TcpListener,
    limits: TcpLimits,
    options: StreamOptions,
    stamper: Arc<Stamper>,
    metrics: ListenerMetrics,
}

/// Open connections per peer address and in all.
struct ConnectionLimits {
    per_peer: Mutex<HashMap<IpAddr, usize>>,
    total: AtomicUsize,
    max_per_peer: usize,
    max_total: usize,
}

/// Holds a connection's place in [`ConnectionLimits`] until dropped.
struct ConnectionSlot {
    limits: Arc<ConnectionLimits>,
    peer: IpAddr,
}

enum Refusal {
    PerPeer,
    Total,
}

impl ConnectionLimits {
    fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<ConnectionSlot, Refusal> {
        let mut per_peer = self
            .per_peer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.total.load(Ordering::Relaxed) >= self.max_total {
            return Err(Refusal::Total);
        }
        let count = per_peer.entry(peer).or_insert(0);
        if *count >= self.max_per_peer {
            return Err(Refusal::PerPeer);
        }
        *count += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
        Ok(ConnectionSlot {
            limits: self.clone(),
            peer,
        })
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut per_peer = self
            .limits
            .per_peer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = per_peer.get_mut(&self.peer) {
            *count -= 1;
            if *count == 0 {
                per_peer.remove(&self.peer);
            }
        }
        self.limits.total.fetch_sub(1, Ordering::Relaxed);
    }
}

impl SyslogTcpSource {
    /// Binds now, so that a taken port is reported before anything starts.
    pub fn bind(
        name: &str,
        address: SocketAddr,
        limits: TcpLimits,
        options: StreamOptions,
        stamper: Arc<Stamper>,
        metrics: &Metrics,
    ) -> crate::Result<Self> {
        let bind_error = |source| CollectError::Bind { address, source };
        let socket = if address.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(bind_error)?;
        socket.set_reuseaddr(true).map_err(bind_error)?;
        socket.bind(address).map_err(bind_error)?;
        let listener = socket.listen(LISTEN_BACKLOG).map_err(bind_error)?;
        Ok(Self {
            name: Arc::from(name),
            listener,
            limits,
            options,
            stamper,
            metrics: ListenerMetrics::new(metrics, name),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    async fn serve(
        self,
        out: BatchSender,
        mut shutdown: ShutdownSignal,
    ) -> vigil_pipeline::Result<()> {
        let limits = Arc::new(ConnectionLimits {
            per_peer: Mutex::new(HashMap::new()),
            total: AtomicUsize::new(0),
            max_per_peer: self.limits.max_connections_per_peer,
            max_total: self.limits.max_connections,
        });
        let connection = Arc::new(ConnectionContext {
            name: self.name.clone(),
            stamper: self.stamper.clone(),
            metrics: self.metrics.clone(),
            framer_limits: Limits {
                max_frame_bytes: self.limits.max_frame_bytes,
            },
            idle_timeout: self.limits.idle_timeout.0,
            options: self.options.clone(),
        });
        let mut connections = JoinSet::new();
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                () = shutdown.wait() => break,
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: count, breathe, go on.
                    self.metrics.errors_read.inc();
                    tracing::warn!(listener = %self.name, %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let slot = match limits.admit(peer.ip()) {
                Ok(slot) => slot,
                Err(Refusal::PerPeer) => {
                    self.metrics.connections_refused_per_peer.inc();
                    continue;
                }
                Err(Refusal::Total) => {
                    self.metrics.connections_refused_total.inc();
                    continue;
                }
            };
            self.metrics.connections_accepted.inc();
            let (connection, out, shutdown) = (connection.clone(), out.clone(), shutdown.clone());
            connections.spawn(async move {
                connection.metrics.connections_open.add(1);
                connection.handle(stream, peer, out, shutdown).await;
                connection.metrics.connections_open.add(-1);
                drop(slot);
            });
        }
        // Connections flush what they have read, then end; the pipeline drains after them.
        while connections.join_next().await.is_some() {}
        Ok(())
    }
}

struct ConnectionContext {
    name: Arc<str>,
    stamper: Arc<Stamper>,
    metrics: ListenerMetrics,
    framer_limits: Limits,
    idle_timeout: Duration,
    options: StreamOptions,
}

/// A zlib stream being inflated, with its output buffer.
struct Inflater {
    zlib: Decompress,
    chunk: Vec<u8>,
    /// Over the whole connection, across streams (a reset zeroes zlib's own totals).
    inflated: u64,
    compressed: u64,
}

/// Whether `bytes` start a zlib stream (RFC 1950: deflate, a window of at most 32 KiB, and a
/// header check that is a multiple of 31). `0x78` is `x`, which no syslog frame starts with.
fn starts_zlib(bytes: &[u8]) -> bool {
    match bytes {
        [first, second, ..] => {
            first & 0x0f == 8
                && first >> 4 <= 7
                && (u16::from(*first) << 8 | u16::from(*second)) % 31 == 0
        }
        [first] => *first == 0x78,
        [] => false,
    }
}

impl ConnectionContext {
    /// TLS first when the listener asks for it, then the stream.
    async fn handle(
        &self,
        stream: tokio::net::TcpStream,
        peer: SocketAddr,
        out: BatchSender,
        mut shutdown: ShutdownSignal,
    ) {
        let Some(tls) = &self.options.tls else {
            self.read_stream(stream, peer, None, out, shutdown).await;
            return;
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.config.clone());
        let accepted = tokio::select! {
            accepted = tokio::time::timeout(tls.handshake_timeout, acceptor.accept(stream)) => accepted,
            () = shutdown.wait() => return,
        };
        let stream = match accepted {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => {
                let reason = vigil_tls::failure_reason(&error);
                self.metrics.tls_failure(reason).inc();
                tracing::debug!(listener = %self.name, %peer, reason, %error, "TLS handshake failed");
                return;
            }
            Err(_elapsed) => {
                self.metrics.tls_failure("timeout").inc();
                tracing::debug!(listener = %self.name, %peer, "TLS handshake timed out");
                return;
            }
        };
        let origin = match tls.admit(stream.get_ref().1.peer_certificates()) {
            Ok(origin) => origin,
            Err(()) => {
                self.metrics.tls_failure("identity_not_allowed").inc();
                tracing::info!(listener = %self.name, %peer, "TLS client refused: its certificate names no allowed client");
                return;
            }
        };
        self.metrics.tls_handshakes.inc();
        self.read_stream(stream, peer, origin, out, shutdown).await;
    }

    async fn read_stream<S: AsyncRead + Unpin>(
        &self,
        mut stream: S,
        peer: SocketAddr,
        origin: Option<Origin>,
        out: BatchSender,
        mut shutdown: ShutdownSignal,
    ) {
        let origin = origin.as_ref();
        let mut framer = SyslogFramer::new(&self.framer_limits);
        let mut buffer = vec![0u8; READ_BUFFER_BYTES];
        let mut inflater: Option<Inflater> = None;
        let mut first_read = true;
        let mut last_batch_events = 0;
        loop {
            let read = tokio::select! {
                read = tokio::time::timeout(self.idle_timeout, stream.read(&mut buffer)) => read,
                () = shutdown.wait() => break,
            };
            let length = match read {
                Ok(Ok(0)) => break,
                Ok(Ok(length)) => length,
                Ok(Err(error)) => {
                    self.metrics.errors_read.inc();
                    tracing::debug!(listener = %self.name, %error, "TCP read failed");
                    break;
                }
                Err(_idle) => {
                    self.metrics.connections_idle_closed.inc();
                    break;
                }
            };
            self.metrics.bytes_received.add(length as u64);
            let data = &buffer[..length];
            if std::mem::take(&mut first_read) && self.options.zlib && starts_zlib(data) {
                self.metrics.zlib_streams.inc();
                inflater = Some(Inflater {
                    zlib: Decompress::new(true),
                    chunk: vec![0u8; INFLATE_CHUNK_BYTES],
                    inflated: 0,
                    compressed: 0,
                });
            }
            let received = Timestamp::now();
            // Sized like the last read's batch: growing it event by event would move every
            // event again at each doubling.
            let mut batch = Vec::with_capacity(last_batch_events.min(MAX_BATCH_EVENTS));
            match &mut inflater {
                None => {
                    framer.push(data);
                    while let Some(outcome) = framer.next_frame() {
                        self.take(outcome, peer, origin, received, &mut batch);
                    }
                }
                Some(inflater) => {
                    match self
                        .inflate(inflater, data, &mut framer, peer, origin, &out, &mut batch)
                        .await
                    {
                        Ok(true) => {}
                        Ok(false) => return,
                        Err(error) => {
                            self.metrics.errors_decompress.inc();
                            tracing::debug!(listener = %self.name, %peer, %error, "closing the connection");
                            self.send(&out, batch).await;
                            break;
                        }
                    }
                }
            }
            last_batch_events = batch.len() + batch.len() / 4;
            if !self.send(&out, batch).await {
                return;
            }
        }
        let mut batch = Vec::new();
        while let Some(outcome) = framer.finish() {
            self.take(outcome, peer, origin, Timestamp::now(), &mut batch);
        }
        self.send(&out, batch).await;
    }

    /// Inflates `input` a chunk at a time into the framer, sending full batches on the way.
    /// `Ok(false)` once the pipeline has stopped.
    #[allow(clippy::too_many_arguments)]
    async fn inflate(
        &self,
        inflater: &mut Inflater,
        mut input: &[u8],
        framer: &mut SyslogFramer,
        peer: SocketAddr,
        origin: Option<&Origin>,
        out: &BatchSender,
        batch: &mut Batch,
    ) -> Result<bool, InflateError> {
        loop {
            let (before_in, before_out) = (inflater.zlib.total_in(), inflater.zlib.total_out());
            let status = inflater
                .zlib
                .decompress(input, &mut inflater.chunk, FlushDecompress::None)
                .map_err(InflateError::Corrupt)?;
            let consumed = (inflater.zlib.total_in() - before_in) as usize;
            let produced = (inflater.zlib.total_out() - before_out) as usize;
            inflater.compressed += consumed as u64;
            inflater.inflated += produced as u64;
            if inflater.inflated > INFLATE_RATIO_AFTER_BYTES
                && inflater.inflated > inflater.compressed.saturating_mul(MAX_INFLATE_RATIO)
            {
                return Err(InflateError::Bomb {
                    inflated: inflater.inflated,
                    compressed: inflater.compressed,
                });
            }
            input = &input[consumed..];
            framer.push(&inflater.chunk[..produced]);
            let received = Timestamp::now();
            while let Some(outcome) = framer.next_frame() {
                self.take(outcome, peer, origin, received, batch);
            }
            if batch.len() >= MAX_BATCH_EVENTS && !self.send(out, std::mem::take(batch)).await {
                return Ok(false);
            }
            if status == Status::StreamEnd {
                // A sender may start a new stream on the same connection.
                inflater.zlib.reset(true);
                if input.is_empty() {
                    return Ok(true);
                }
                continue;
            }
            if consumed == 0 && produced == 0 {
                return Ok(true);
            }
        }
    }

    fn take(
        &self,
        outcome: FrameOutcome,
        peer: SocketAddr,
        origin: Option<&Origin>,
        received: Timestamp,
        batch: &mut Batch,
    ) {
        match outcome {
            FrameOutcome::Frame(frame) => {
                let event = self.stamper.syslog_event_from(
                    &frame.bytes,
                    frame.truncated,
                    peer,
                    &self.name,
                    received,
                    origin,
                );
                self.metrics.count_event(&event);
                batch.push(event);
            }
            FrameOutcome::Error(error) => {
                let counter = match error {
                    FrameError::Oversized { .. } | FrameError::LineTooLong { .. } => {
                        &self.metrics.errors_oversized
                    }
                    FrameError::TruncatedAtEof { .. } => &self.metrics.errors_truncated_at_eof,
                    FrameError::InvalidOctetCount => &self.metrics.errors_invalid_octet_count,
                };
                counter.inc();
                tracing::debug!(listener = %self.name, peer = %peer, error = error.kind(), "frame error");
            }
        }
    }

    /// Waits while the pipeline is full (backpressure). False once the pipeline has stopped.
    async fn send(&self, out: &BatchSender, batch: Batch) -> bool {
        if batch.is_empty() {
            return true;
        }
        let count = batch.len() as u64;
        if out.send(batch.into()).await.is_err() {
            self.metrics.dropped.add(count);
            return false;
        }
        true
    }
}

impl Source for SyslogTcpSource {
    fn run(
        self: Box<Self>,
        out: BatchSender,
        shutdown: ShutdownSignal,
    ) -> BoxFuture<vigil_pipeline::Result<()>> {
        Box::pin(self.serve(out, shutdown))
    }
}
