//! The channel over a byte stream (in practice TLS 1.3 with mutual authentication, see
//! `vigil_tls::channel_server_config`): [`receive`] serves one sender's connection, [`run_sender`]
//! keeps one outbox flowing to a list of receivers.
//!
//! Exactly-once rests on three things: the sender resends everything after the sequence number
//! the receiver says it holds (the welcome), the receiver acknowledges a batch only after its
//! [`Deliver`] says the events are durable, and the [`Ledger`] remembers per stream what was
//! delivered, so a resent batch is acknowledged without being delivered twice.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Notify;
use vigil_event::Event;
use vigil_pipeline::{Counter, DeliveryMark, Gauge, Metrics, ShutdownSignal};

use crate::frame::{self, Ack, BatchFrame, Frame, FrameDecoder, Hello, Welcome, PROTOCOL_VERSIONS};
use crate::{decode_batch, BatchError, BatchLimits, FrameError, Outbox, OutboxError};

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("frame: {0}")]
    Frame(#[from] FrameError),
    #[error("batch {seq}: {error}")]
    Batch { seq: u64, error: BatchError },
    #[error("outbox: {0}")]
    Outbox(#[from] OutboxError),
    #[error("protocol: {0}")]
    Protocol(String),
    #[error("refused by the receiver: {0}")]
    Refused(String),
    #[error("timed out: {0}")]
    Timeout(&'static str),
    #[error("the events of batch {0} could not be made durable")]
    NotDurable(u64),
}

/// Who is sending: the names in its client certificate, and from its hello, its node name and
/// stream id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub identities: Vec<String>,
    pub node: String,
    pub stream: [u8; 16],
}

/// What the receiver holds of each stream. For delivery to be exactly once across receiver
/// restarts, what it says must be durable, and recorded in step with the events (the
/// [`Deliver`] implementation does both, see `vigil_store::ledger`).
pub trait Ledger: Send + Sync {
    /// The highest sequence number of `stream` whose events are all durable; 0 for none.
    fn held(&self, stream: &[u8; 16]) -> u64;
}

/// Where received events go. `deliver` hands the batch on (batches must reach the store in the
/// order they are handed on) and resolves to the receipt: a future that resolves `true` once
/// the events are durable and batch `seq` of the peer's stream is recorded as held.
pub trait Deliver: Send + Sync {
    fn deliver(&self, peer: &Peer, seq: u64, events: Vec<Event>) -> BoxFuture<BoxFuture<bool>>;
}

/// Batches a receiver has handed on and not yet acknowledged, at most.
const MAX_IN_FLIGHT: usize = 32;

/// One connection per stream at a time: a sender that reconnects while its old connection
/// still delivers must not have a batch delivered twice side by side.
#[derive(Default)]
pub struct StreamLocks {
    locks: Mutex<HashMap<[u8; 16], Arc<tokio::sync::Mutex<()>>>>,
}

impl StreamLocks {
    fn lock_of(&self, stream: &[u8; 16]) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forget the locks nobody holds, so the map does not grow with every stream ever seen.
        if locks.len() > 1024 {
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        locks.entry(*stream).or_default().clone()
    }
}

/// Reads whole frames from a stream.
struct FrameReader<R> {
    reader: R,
    decoder: FrameDecoder,
    buffer: Vec<u8>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    fn new(reader: R, max_frame_bytes: usize) -> Self {
        Self {
            reader,
            decoder: FrameDecoder::new(max_frame_bytes),
            buffer: vec![0u8; 64 * 1024],
        }
    }

    /// The next frame; `None` at a clean end of stream.
    async fn next(&mut self) -> Result<Option<Frame>, ChannelError> {
        loop {
            if let Some(frame) = self.decoder.next_frame()? {
                return Ok(Some(frame));
            }
            let read = self.reader.read(&mut self.buffer).await?;
            if read == 0 {
                if self.decoder.pending() > 0 {
                    return Err(ChannelError::Protocol("stream ended inside a frame".into()));
                }
                return Ok(None);
            }
            self.decoder.push(&self.buffer[..read]);
        }
    }
}

async fn write_frame<W: AsyncWrite + Unpin>(
    writer: &mut W,
    frame: &Frame,
) -> Result<(), ChannelError> {
    writer.write_all(&frame::encode(frame)?).await?;
    writer.flush().await?;
    Ok(())
}

/// How a receiver serves a connection.
#[derive(Clone)]
pub struct ReceiverOptions {
    pub node: String,
    pub limits: BatchLimits,
    pub max_frame_bytes: usize,
    /// The hello must arrive within this.
    pub hello_timeout: Duration,
    /// Each frame must arrive whole within this of the last one (idle and slow senders are
    /// closed; a sender reconnects when it has something to send).
    pub idle_timeout: Duration,
    /// Shared by every connection of a listener.
    pub streams: Arc<StreamLocks>,
}

impl Default for ReceiverOptions {
    fn default() -> Self {
        Self {
            node: "vigil".into(),
            limits: BatchLimits::default(),
            max_frame_bytes: frame::MAX_FRAME_BYTES,
            hello_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            streams: Arc::default(),
        }
    }
}

/// What one connection brought.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Received {
    pub batches: u64,
    pub events: u64,
    /// Batches the ledger already had (resent after a lost ack): acknowledged, not delivered.
    pub duplicates: u64,
    /// Compressed batch bytes, as on the wire.
    pub bytes: u64,
}

/// Serves one sender until it closes the connection. Each batch is delivered (and with it
/// recorded as held), then acknowledged; a batch the ledger already holds is only acknowledged.
/// `received` counts as it goes, so a connection that ends in an error has its figures too.
pub async fn receive<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    identities: Vec<String>,
    options: &ReceiverOptions,
    ledger: &dyn Ledger,
    deliver: &dyn Deliver,
    received: &mut Received,
) -> Result<(), ChannelError> {
    let (reader, mut writer) = tokio::io::split(stream);
    let mut reader = FrameReader::new(reader, options.max_frame_bytes);
    let hello = match tokio::time::timeout(options.hello_timeout, reader.next()).await {
        Err(_) => return Err(ChannelError::Timeout("hello")),
        Ok(Ok(Some(Frame::Hello(hello)))) => hello,
        Ok(Ok(Some(other))) => {
            return Err(ChannelError::Protocol(format!(
                "expected a hello, got {other:?}"
            )))
        }
        Ok(Ok(None)) => return Err(ChannelError::Protocol("closed before the hello".into())),
        Ok(Err(error)) => return Err(error),
    };
    let Some(version) = frame::negotiate(&hello) else {
        let reason = format!(
            "no common protocol version: sender {}..={}, receiver {}..={}",
            hello.min_version,
            hello.max_version,
            PROTOCOL_VERSIONS.start(),
            PROTOCOL_VERSIONS.end()
        );
        write_frame(&mut writer, &Frame::Refuse(reason.clone())).await?;
        return Err(ChannelError::Refused(reason));
    };
    let peer = Peer {
        identities,
        node: hello.node,
        stream: hello.stream,
    };
    let lock = options.streams.lock_of(&peer.stream);
    let Ok(_only_connection) = tokio::time::timeout(options.hello_timeout, lock.lock_owned()).await
    else {
        let reason = "another connection of this stream is still open".to_owned();
        write_frame(&mut writer, &Frame::Refuse(reason.clone())).await?;
        return Err(ChannelError::Refused(reason));
    };
    let acked = ledger.held(&peer.stream);
    let welcome = Welcome {
        version,
        node: options.node.clone(),
        max_frame_bytes: u32::try_from(options.max_frame_bytes).unwrap_or(u32::MAX),
        acked,
    };
    write_frame(&mut writer, &Frame::Welcome(welcome)).await?;
    // Batches handed on and not yet durable, in order; `None` for a duplicate (only acked).
    // Decoding and handing on the next batch overlaps with the archive's work on the last.
    let mut pending: VecDeque<(u64, Option<BoxFuture<bool>>)> = VecDeque::new();
    let served = serve_batches(
        &mut reader,
        &mut writer,
        &peer,
        acked,
        options,
        deliver,
        received,
        &mut pending,
    )
    .await;
    // Whatever ended the connection, what was handed on is seen through before the stream's
    // lock is released: a reconnecting sender must be welcomed with it held, or it resends it.
    for (_, durable) in pending {
        if let Some(durable) = durable {
            durable.await;
        }
    }
    served
}

/// The batches of one connection, after the welcome.
#[allow(clippy::too_many_arguments)]
async fn serve_batches<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    reader: &mut FrameReader<R>,
    writer: &mut W,
    peer: &Peer,
    mut acked: u64,
    options: &ReceiverOptions,
    deliver: &dyn Deliver,
    received: &mut Received,
    pending: &mut VecDeque<(u64, Option<BoxFuture<bool>>)>,
) -> Result<(), ChannelError> {
    let mut reading = true;
    loop {
        while let Some((seq, None)) = pending.front() {
            let seq = *seq;
            pending.pop_front();
            write_frame(writer, &Frame::Ack(Ack { seq })).await?;
        }
        if !reading && pending.is_empty() {
            return Ok(());
        }
        let waiting = pending
            .front()
            .is_some_and(|(_, durable)| durable.is_some());
        let room = reading && pending.len() < MAX_IN_FLIGHT;
        tokio::select! {
            durable = async {
                match pending.front_mut() {
                    Some((_, Some(durable))) => durable.await,
                    _ => false,
                }
            }, if waiting => {
                let Some((seq, _)) = pending.pop_front() else { continue };
                if !durable {
                    return Err(ChannelError::NotDurable(seq));
                }
                received.batches += 1;
                write_frame(writer, &Frame::Ack(Ack { seq })).await?;
            }
            frame = tokio::time::timeout(options.idle_timeout, reader.next()), if room => {
                let frame = match frame {
                    Err(_) => return Err(ChannelError::Timeout("next frame")),
                    Ok(frame) => frame?,
                };
                let Some(frame) = frame else {
                    // The sender is done: acknowledge what is still on its way, then close.
                    reading = false;
                    continue;
                };
                let Frame::Batch(batch) = frame else {
                    return Err(ChannelError::Protocol(format!(
                        "expected a batch, got {frame:?}"
                    )));
                };
                received.bytes += batch.compressed.len() as u64;
                if batch.seq <= acked {
                    received.duplicates += 1;
                    pending.push_back((batch.seq, None));
                    continue;
                }
                let seq = batch.seq;
                let limits = options.limits;
                let events = tokio::task::spawn_blocking(move || decode_batch(&batch, &limits))
                    .await
                    .map_err(|error| ChannelError::Protocol(format!("decoding panicked: {error}")))?
                    .map_err(|error| ChannelError::Batch { seq, error })?;
                received.events += events.len() as u64;
                let durable = deliver.deliver(peer, seq, events).await;
                acked = seq;
                pending.push_back((seq, Some(durable)));
            }
        }
    }
}

/// Counters of one sender (an agent's channel, a forwarding target), labelled with its name.
pub struct SenderMetrics {
    batches_sent: Counter,
    batches_resent: Counter,
    batches_acked: Counter,
    events_acked: Counter,
    bytes_sent: Counter,
    sessions_failed: Counter,
    pub(crate) connected: Gauge,
    outbox_batches: Gauge,
    outbox_bytes: Gauge,
    outbox_full: Gauge,
}

impl SenderMetrics {
    pub fn new(metrics: &Metrics, sender: &str) -> Self {
        let labels = [("sender", sender)];
        Self {
            batches_sent: metrics.counter(
                "vigil_channel_batches_sent_total",
                "Batches written to the receiver (first sends and resends).",
                &labels,
            ),
            batches_resent: metrics.counter(
                "vigil_channel_batches_resent_total",
                "Batches sent again after a reconnect (unacknowledged when the last session ended).",
                &labels,
            ),
            batches_acked: metrics.counter(
                "vigil_channel_batches_acked_total",
                "Batches the receiver acknowledged as durable.",
                &labels,
            ),
            events_acked: metrics.counter(
                "vigil_channel_events_acked_total",
                "Events in the batches the receiver acknowledged.",
                &labels,
            ),
            bytes_sent: metrics.counter(
                "vigil_channel_bytes_sent_total",
                "Compressed batch bytes written to the receiver.",
                &labels,
            ),
            sessions_failed: metrics.counter(
                "vigil_channel_sessions_failed_total",
                "Sessions that ended in an error (each followed by a reconnect with backoff).",
                &labels,
            ),
            connected: metrics.gauge(
                "vigil_channel_connected",
                "1 while a receiver has welcomed this sender.",
                &labels,
            ),
            outbox_batches: metrics.gauge(
                "vigil_channel_outbox_batches",
                "Batches in the outbox not yet acknowledged.",
                &labels,
            ),
            outbox_bytes: metrics.gauge(
                "vigil_channel_outbox_bytes",
                "Bytes on disk of outbox segments not yet fully acknowledged.",
                &labels,
            ),
            outbox_full: metrics.gauge(
                "vigil_channel_outbox_full",
                "1 while the outbox is full and its inputs are held back (backpressure).",
                &labels,
            ),
        }
    }
}

/// The outbox a sender drains, the signals between its writer and its sender, and their
/// counters.
pub struct Outgoing {
    pub outbox: Mutex<Outbox>,
    /// Something was appended.
    pub appended: Notify,
    /// Acknowledgements made room.
    pub room: Notify,
    pub metrics: SenderMetrics,
    /// The highest sequence number ever sent (in any session): a batch at or below it is a
    /// resend.
    highest_sent: AtomicU64,
}

impl Outgoing {
    pub fn new(outbox: Outbox, metrics: SenderMetrics) -> Arc<Self> {
        let outgoing = Arc::new(Self {
            outbox: Mutex::new(outbox),
            appended: Notify::new(),
            room: Notify::new(),
            metrics,
            highest_sent: AtomicU64::new(0),
        });
        outgoing.update_gauges(&outgoing.lock());
        outgoing
    }

    /// Stores batches in the outbox (fsynced when this returns) and wakes the sender.
    /// [`OutboxError::Full`] means: stop taking input until acks make room.
    pub fn append(&self, batches: &mut [BatchFrame]) -> Result<(), OutboxError> {
        self.append_marked(batches, &[])
    }

    /// As [`Outgoing::append`], with the marks of the inputs (see [`Outbox::append_marked`]).
    pub fn append_marked(
        &self,
        batches: &mut [BatchFrame],
        marks: &[DeliveryMark],
    ) -> Result<(), OutboxError> {
        let mut outbox = self.lock();
        let appended = outbox.append_marked(batches, marks);
        self.update_gauges(&outbox);
        drop(outbox);
        appended?;
        self.appended.notify_one();
        Ok(())
    }

    /// Marks the outbox full (or not), for metrics.
    pub fn set_full(&self, full: bool) {
        self.metrics.outbox_full.set(i64::from(full));
    }

    /// Counts batch `seq` (`bytes` on the wire) as sent, and as resent if it was sent before.
    pub(crate) fn count_sent(&self, seq: u64, bytes: usize) {
        self.metrics.batches_sent.inc();
        self.metrics.bytes_sent.add(bytes as u64);
        if seq <= self.highest_sent.fetch_max(seq, Ordering::Relaxed) {
            self.metrics.batches_resent.inc();
        }
    }

    /// Counts one batch of `events` events as acknowledged by the receiver.
    pub(crate) fn count_acked(&self, events: u64) {
        self.metrics.batches_acked.inc();
        self.metrics.events_acked.add(events);
    }

    /// Every batch up to `seq` is delivered: forget them, and wake a writer waiting for room.
    pub fn ack(&self, seq: u64) -> Result<(), OutboxError> {
        let mut outbox = self.lock();
        let acked = outbox.ack(seq);
        self.update_gauges(&outbox);
        drop(outbox);
        self.room.notify_one();
        acked
    }

    fn update_gauges(&self, outbox: &Outbox) {
        self.metrics
            .outbox_batches
            .set(i64::try_from(outbox.unacked_batches()).unwrap_or(i64::MAX));
        self.metrics
            .outbox_bytes
            .set(i64::try_from(outbox.unacked_bytes()).unwrap_or(i64::MAX));
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, Outbox> {
        self.outbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// How a sender connects and paces itself.
#[derive(Clone)]
pub struct SenderOptions {
    /// Receivers in order of preference; on failure the next one is tried.
    pub servers: Vec<SocketAddr>,
    /// The name the receivers' certificate must carry.
    pub server_name: rustls::pki_types::ServerName<'static>,
    pub tls: Arc<rustls::ClientConfig>,
    pub node: String,
    /// Batches sent and not yet acknowledged, at most.
    pub window: usize,
    pub connect_timeout: Duration,
    /// Reconnect delays grow from `backoff_min` to `backoff_max`, each with up to 50 % jitter.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

/// A small generator for jitter; quality does not matter, spreading reconnects does.
fn jitter(seed: &mut u64, delay: Duration) -> Duration {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    let fraction = (*seed % 1000) as f64 / 2000.0;
    delay.mul_f64(1.0 + fraction)
}

/// Runs `session(attempt, shutdown, got_through)` until one returns `Ok` (shutdown). Errors end
/// a session, never the sender: the next attempt waits with exponential backoff (`min`
/// doubling up to `max`) and up to 50 % jitter, and resends what is unacknowledged. A session
/// that set `got_through` (welcomed, or delivered something) starts the backoff over.
pub(crate) async fn keep_sessions<F, Fut>(
    outgoing: &Outgoing,
    target: &str,
    (min, max): (Duration, Duration),
    mut shutdown: ShutdownSignal,
    mut session: F,
) where
    F: FnMut(usize, ShutdownSignal, Arc<AtomicBool>) -> Fut,
    Fut: Future<Output = Result<(), ChannelError>>,
{
    let mut failures: u32 = 0;
    let mut attempt = 0usize;
    let mut seed = u64::from(std::process::id()) | 1;
    loop {
        let got_through = Arc::new(AtomicBool::new(false));
        let ended = session(attempt, shutdown.clone(), got_through.clone()).await;
        outgoing.metrics.connected.set(0);
        let Err(error) = ended else { return };
        outgoing.metrics.sessions_failed.inc();
        failures = if got_through.load(Ordering::Relaxed) {
            1
        } else {
            failures.saturating_add(1)
        };
        attempt += 1;
        let delay = jitter(
            &mut seed,
            min.saturating_mul(1u32 << failures.min(16)).min(max),
        );
        tracing::warn!(target, %error, retry_in_ms = delay.as_millis() as u64, "sender session ended");
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shutdown.wait() => return,
        }
    }
}

/// Keeps the outbox flowing to the first receiver that answers (trying the list in turn),
/// until `shutdown`.
pub async fn run_sender(outgoing: Arc<Outgoing>, options: SenderOptions, shutdown: ShutdownSignal) {
    if options.servers.is_empty() {
        tracing::error!("channel sender has no server to send to");
        return;
    }
    let (outgoing, options) = (&*outgoing, &options);
    let backoff = (options.backoff_min, options.backoff_max);
    keep_sessions(
        outgoing,
        "channel",
        backoff,
        shutdown,
        |attempt, mut shutdown, welcomed| async move {
            let address = options.servers[attempt % options.servers.len()];
            session(outgoing, options, address, &mut shutdown, &welcomed)
                .await
                .map_err(|error| ChannelError::Protocol(format!("{address}: {error}")))
        },
    )
    .await;
}

/// One connection: hello, resend from what the receiver holds, then stream new batches. `Ok`
/// only on shutdown; `welcomed` says whether the receiver welcomed it.
async fn session(
    outgoing: &Outgoing,
    options: &SenderOptions,
    address: SocketAddr,
    shutdown: &mut ShutdownSignal,
    welcomed: &AtomicBool,
) -> Result<(), ChannelError> {
    let tcp = tokio::time::timeout(
        options.connect_timeout,
        tokio::net::TcpStream::connect(address),
    )
    .await
    .map_err(|_| ChannelError::Timeout("connect"))??;
    tcp.set_nodelay(true)?;
    let connector = tokio_rustls::TlsConnector::from(options.tls.clone());
    let stream = tokio::time::timeout(
        options.connect_timeout,
        connector.connect(options.server_name.clone(), tcp),
    )
    .await
    .map_err(|_| ChannelError::Timeout("TLS handshake"))??;
    let (reader, mut writer) = tokio::io::split(stream);
    let mut reader = FrameReader::new(reader, frame::MAX_FRAME_BYTES);
    let stream_id = outgoing.lock().stream();
    let hello = Hello {
        min_version: frame::SEND_MIN_VERSION,
        max_version: *PROTOCOL_VERSIONS.end(),
        node: options.node.clone(),
        stream: stream_id,
    };
    write_frame(&mut writer, &Frame::Hello(hello)).await?;
    let welcome = match tokio::time::timeout(options.connect_timeout, reader.next())
        .await
        .map_err(|_| ChannelError::Timeout("welcome"))??
    {
        Some(Frame::Welcome(welcome)) => welcome,
        Some(Frame::Refuse(reason)) => return Err(ChannelError::Refused(reason)),
        other => {
            return Err(ChannelError::Protocol(format!(
                "expected a welcome, got {other:?}"
            )))
        }
    };
    welcomed.store(true, Ordering::Relaxed);
    outgoing.metrics.connected.set(1);
    outgoing.ack(welcome.acked)?;
    tracing::info!(%address, receiver = %welcome.node, holds = welcome.acked, "channel connected");
    // Everything after what the receiver holds is (re)sent, in order.
    let mut sent = welcome.acked.max(outgoing.lock().acked());
    let mut acked = sent;
    let window = options.window.max(1) as u64;
    // Events per batch in flight, to count the events acknowledged.
    let mut in_flight: std::collections::VecDeque<(u64, u32)> = Default::default();
    loop {
        while sent - acked < window {
            let batches = outgoing.lock().read_after(sent, 4 * 1024 * 1024)?;
            if batches.is_empty() {
                break;
            }
            for batch in batches {
                if sent - acked >= window {
                    break;
                }
                sent = batch.seq;
                outgoing.count_sent(batch.seq, batch.compressed.len());
                in_flight.push_back((batch.seq, batch.events));
                write_frame(&mut writer, &Frame::Batch(batch)).await?;
            }
        }
        tokio::select! {
            frame = reader.next() => match frame? {
                Some(Frame::Ack(ack)) => {
                    if ack.seq > sent {
                        return Err(ChannelError::Protocol(format!(
                            "ack {} for a batch not sent (last sent {sent})", ack.seq
                        )));
                    }
                    acked = acked.max(ack.seq);
                    while let Some(&(seq, events)) = in_flight.front() {
                        if seq > acked {
                            break;
                        }
                        in_flight.pop_front();
                        outgoing.count_acked(u64::from(events));
                    }
                    outgoing.ack(acked)?;
                }
                Some(Frame::Refuse(reason)) => return Err(ChannelError::Refused(reason)),
                Some(other) => {
                    return Err(ChannelError::Protocol(format!("expected an ack, got {other:?}")))
                }
                None => return Err(ChannelError::Protocol("the receiver closed the connection".into())),
            },
            () = outgoing.appended.notified(), if sent - acked < window => {}
            () = shutdown.wait() => {
                let _ = writer.shutdown().await;
                return Ok(());
            }
        }
    }
}
