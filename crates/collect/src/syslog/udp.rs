use std::net::SocketAddr;
use std::sync::Arc;

use vigil_event::{Event, Timestamp};
use vigil_pipeline::Metrics;

use super::ListenerMetrics;
use crate::udp::{DatagramSource, Datagrams};
use crate::Stamper;

/// Datagrams read without waiting, after the first, into one batch.
const MAX_DATAGRAMS_PER_BATCH: usize = 512;

/// Syslog over UDP (RFC 5426). Datagrams over `max_frame_bytes` are cut and flagged.
pub type SyslogUdpSource = DatagramSource<SyslogDatagrams>;

/// One datagram, one syslog event.
pub struct SyslogDatagrams {
    name: Arc<str>,
    max_frame_bytes: usize,
    stamper: Arc<Stamper>,
    metrics: ListenerMetrics,
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
        let lines = SyslogDatagrams {
            name: Arc::from(name),
            max_frame_bytes,
            stamper,
            metrics: ListenerMetrics::new(metrics, name),
        };
        Self::open(name, address, metrics, MAX_DATAGRAMS_PER_BATCH, lines).await
    }
}

impl Datagrams for SyslogDatagrams {
    fn name(&self) -> &str {
        &self.name
    }

    fn metrics(&self) -> &ListenerMetrics {
        &self.metrics
    }

    fn take(
        &mut self,
        datagram: &[u8],
        peer: SocketAddr,
        batch: &mut Vec<Event>,
    ) -> Option<Vec<u8>> {
        self.metrics.bytes_received.add(datagram.len() as u64);
        let truncated = datagram.len() > self.max_frame_bytes;
        let frame = &datagram[..datagram.len().min(self.max_frame_bytes)];
        let event = self
            .stamper
            .syslog_event(frame, truncated, peer, &self.name, Timestamp::now());
        self.metrics.count_event(&event);
        batch.push(event);
        None
    }
}
