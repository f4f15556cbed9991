use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;
use vigil_event::Timestamp;
use vigil_pipeline::{BatchSender, BoxFuture, Metrics, ShutdownSignal, Source};

use super::ListenerMetrics;
use crate::udp::KernelDrops;
use crate::Stamper;

/// Datagrams read without waiting, after the first, into one batch.
const MAX_DATAGRAMS_PER_BATCH: usize = 512;
/// The largest UDP payload there is; a buffer this big never cuts a datagram silently.
const MAX_DATAGRAM_BYTES: usize = 65_535;

/// Syslog over UDP (RFC 5426). Datagrams over `max_frame_bytes` are cut and flagged.
pub struct SyslogUdpSource {
    name: Arc<str>,
    socket: UdpSocket,
    max_frame_bytes: usize,
    stamper: Arc<Stamper>,
    metrics: ListenerMetrics,
    drops: KernelDrops,
}

impl SyslogUdpSource {
    /// Binds now, so that a taken port is reported before anything starts.
    pub async fn bind(
        name: &str,
        address: SocketAddr,
        max_frame_bytes: usize,
        stamper: Arc<Stamper>,
        metrics: &Metrics,
    ) -> crate::Result<Self> {
        let socket = crate::udp::bind(name, address).await?;
        Ok(Self {
            name: Arc::from(name),
            drops: KernelDrops::new(&socket, metrics, name),
            socket,
            max_frame_bytes,
            stamper,
            metrics: ListenerMetrics::new(metrics, name),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    fn event(&self, datagram: &[u8], peer: SocketAddr) -> vigil_event::Event {
        self.metrics.bytes_received.add(datagram.len() as u64);
        let truncated = datagram.len() > self.max_frame_bytes;
        let frame = &datagram[..datagram.len().min(self.max_frame_bytes)];
        let event = self
            .stamper
            .syslog_event(frame, truncated, peer, &self.name, Timestamp::now());
        self.metrics.count_event(&event);
        event
    }

    async fn serve(
        mut self,
        out: BatchSender,
        mut shutdown: ShutdownSignal,
    ) -> vigil_pipeline::Result<()> {
        let mut buffer = vec![0u8; MAX_DATAGRAM_BYTES];
        let mut tick = tokio::time::interval(crate::udp::DROPS_REFRESH);
        loop {
            let received = tokio::select! {
                received = self.socket.recv_from(&mut buffer) => received,
                _ = tick.tick() => {
                    self.drops.refresh();
                    continue;
                }
                () = shutdown.wait() => return Ok(()),
            };
            let (length, peer) = match received {
                Ok(received) => received,
                Err(error) => {
                    self.metrics.errors_read.inc();
                    tracing::debug!(listener = %self.name, %error, "UDP receive failed");
                    continue;
                }
            };
            let mut batch = vec![self.event(&buffer[..length], peer)];
            while batch.len() < MAX_DATAGRAMS_PER_BATCH {
                match self.socket.try_recv_from(&mut buffer) {
                    Ok((length, peer)) => batch.push(self.event(&buffer[..length], peer)),
                    Err(_) => break,
                }
            }
            let count = batch.len() as u64;
            if out.send(batch.into()).await.is_err() {
                self.metrics.dropped.add(count);
                return Ok(());
            }
        }
    }
}

impl Source for SyslogUdpSource {
    fn run(
        self: Box<Self>,
        out: BatchSender,
        shutdown: ShutdownSignal,
    ) -> BoxFuture<vigil_pipeline::Result<()>> {
        Box::pin(self.serve(out, shutdown))
    }
}
