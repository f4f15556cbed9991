use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinSet;
use vigil_codec::limits::Limits;
use vigil_codec::syslog::{FrameError, FrameOutcome, SyslogFramer};
use vigil_config::TcpLimits;
use vigil_event::{Batch, Timestamp};
use vigil_pipeline::{BatchSender, BoxFuture, Metrics, ShutdownSignal, Source};

use super::ListenerMetrics;
use crate::{CollectError, Stamper};

/// Bytes read from a connection at a time; one read becomes at most one batch.
const READ_BUFFER_BYTES: usize = 64 * 1024;
/// Pending connections the kernel holds for us.
const LISTEN_BACKLOG: u32 = 4096;

/// Syslog over TCP (RFC 6587), octet-counted and LF-delimited frames on one port.
pub struct SyslogTcpSource {
    name: Arc<str>,
    listener: TcpListener,
    limits: TcpLimits,
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
                connection.read_stream(stream, peer, out, shutdown).await;
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
}

impl ConnectionContext {
    async fn read_stream(
        &self,
        mut stream: TcpStream,
        peer: SocketAddr,
        out: BatchSender,
        mut shutdown: ShutdownSignal,
    ) {
        let mut framer = SyslogFramer::new(&self.framer_limits);
        let mut buffer = vec![0u8; READ_BUFFER_BYTES];
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
            framer.push(&buffer[..length]);
            let received = Timestamp::now();
            let mut batch = Vec::new();
            while let Some(outcome) = framer.next_frame() {
                self.take(outcome, peer, received, &mut batch);
            }
            if !self.send(&out, batch).await {
                return;
            }
        }
        let mut batch = Vec::new();
        while let Some(outcome) = framer.finish() {
            self.take(outcome, peer, Timestamp::now(), &mut batch);
        }
        self.send(&out, batch).await;
    }

    fn take(
        &self,
        outcome: FrameOutcome,
        peer: SocketAddr,
        received: Timestamp,
        batch: &mut Batch,
    ) {
        match outcome {
            FrameOutcome::Frame(frame) => {
                let event = self.stamper.syslog_event(
                    &frame.bytes,
                    frame.truncated,
                    peer,
                    &self.name,
                    received,
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
        if out.send(batch).await.is_err() {
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
