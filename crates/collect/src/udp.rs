//! What the datagram listeners (syslog, flows, traps) share: [`DatagramSource`], the socket
//! (bound with a large kernel receive buffer) and its loop around what a listener makes of each
//! datagram ([`Datagrams`]), and [`KernelDrops`], the datagrams the kernel dropped because that
//! buffer was full.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use tokio::net::UdpSocket;
use vigil_event::Event;
use vigil_pipeline::{BatchSender, BoxFuture, Counter, Metrics, ShutdownSignal, Source};

use crate::syslog::ListenerMetrics;
use crate::CollectError;

/// The largest UDP payload there is; a buffer this big never cuts a datagram silently.
const MAX_DATAGRAM_BYTES: usize = 65_535;

/// A datagram listener: its socket, the kernel's drop count for it, and what it makes of each
/// datagram (`D`: syslog lines, flow records, traps).
pub struct DatagramSource<D> {
    socket: UdpSocket,
    drops: KernelDrops,
    listener: D,
    max_datagrams: usize,
}

impl<D> DatagramSource<D> {
    /// Binds now, so that a taken port is reported before anything starts.
    pub(crate) async fn open(
        name: &str,
        address: SocketAddr,
        metrics: &Metrics,
        max_datagrams: usize,
        listener: D,
    ) -> crate::Result<Self> {
        let socket = bind(name, address).await?;
        Ok(Self {
            drops: KernelDrops::new(&socket, metrics, name),
            socket,
            listener,
            max_datagrams,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }
}

impl<D: Datagrams + Send + 'static> Source for DatagramSource<D> {
    fn run(
        self: Box<Self>,
        out: BatchSender,
        shutdown: ShutdownSignal,
    ) -> BoxFuture<vigil_pipeline::Result<()>> {
        let this = *self;
        Box::pin(serve(
            this.socket,
            this.drops,
            this.listener,
            this.max_datagrams,
            out,
            shutdown,
        ))
    }
}

/// What a datagram listener makes of each datagram; [`DatagramSource`] runs the socket around it.
pub trait Datagrams {
    fn name(&self) -> &str;
    fn metrics(&self) -> &ListenerMetrics;
    /// One datagram from `peer`: its events go to `batch`; returns the reply `peer` is due
    /// (an SNMP inform's Response), if any.
    fn take(
        &mut self,
        datagram: &[u8],
        peer: SocketAddr,
        batch: &mut Vec<Event>,
    ) -> Option<Vec<u8>>;
    /// Housekeeping, once every [`DROPS_REFRESH`].
    fn tick(&mut self) {}
    /// Whether a reply [`Datagrams::take`] asked for could be sent.
    fn replied(&mut self, _peer: SocketAddr, _sent: bool) {}
}

/// A datagram listener's loop: waits for a datagram, takes it and whatever else is already
/// queued (up to `max_datagrams`) into one batch, hands the batch on (waiting while the pipeline
/// is full: the kernel buffer holds what arrives meanwhile, and counts what it must drop), then
/// sends the replies.
async fn serve<D: Datagrams>(
    socket: UdpSocket,
    mut drops: KernelDrops,
    mut listener: D,
    max_datagrams: usize,
    out: BatchSender,
    mut shutdown: ShutdownSignal,
) -> vigil_pipeline::Result<()> {
    let mut buffer = vec![0u8; MAX_DATAGRAM_BYTES];
    let mut tick = tokio::time::interval(DROPS_REFRESH);
    let mut last_batch_events = 0;
    loop {
        let received = tokio::select! {
            received = socket.recv_from(&mut buffer) => received,
            _ = tick.tick() => {
                drops.refresh();
                listener.tick();
                continue;
            }
            () = shutdown.wait() => return Ok(()),
        };
        let (length, peer) = match received {
            Ok(received) => received,
            Err(error) => {
                listener.metrics().errors_read.inc();
                tracing::debug!(listener = listener.name(), %error, "UDP receive failed");
                continue;
            }
        };
        // Sized like the last batch: growing it record by record would move every event again
        // at each doubling (a NetFlow datagram carries dozens).
        let mut batch = Vec::with_capacity(last_batch_events);
        let mut replies = Vec::new();
        let mut next = Some((length, peer));
        let mut taken = 0;
        while let Some((length, peer)) = next {
            if let Some(reply) = listener.take(&buffer[..length], peer, &mut batch) {
                replies.push((reply, peer));
            }
            taken += 1;
            next = if taken < max_datagrams {
                socket.try_recv_from(&mut buffer).ok()
            } else {
                None
            };
        }
        last_batch_events = (batch.len() + batch.len() / 4).min(MAX_BATCH_CAPACITY_EVENTS);
        if !batch.is_empty() {
            let count = batch.len() as u64;
            if out.send(batch.into()).await.is_err() {
                listener.metrics().dropped.add(count);
                return Ok(());
            }
        }
        for (reply, peer) in replies {
            let sent = socket.send_to(&reply, peer).await;
            if let Err(error) = &sent {
                tracing::debug!(listener = listener.name(), %peer, %error, "cannot send a reply");
            }
            listener.replied(peer, sent.is_ok());
        }
    }
}

/// Kernel receive buffer asked for, so bursts wait in the kernel rather than being dropped.
/// The kernel caps it at `net.core.rmem_max` unless the process may exceed that.
pub const RECEIVE_BUFFER_BYTES: usize = 8 * 1024 * 1024;

/// A datagram listener sizes its next batch like its last one, up to this many events.
const MAX_BATCH_CAPACITY_EVENTS: usize = 16_384;

/// How often listeners read the kernel's drop count.
pub const DROPS_REFRESH: std::time::Duration = std::time::Duration::from_secs(1);

/// Binds `address` and asks for [`RECEIVE_BUFFER_BYTES`] of receive buffer.
pub async fn bind(listener: &str, address: SocketAddr) -> crate::Result<UdpSocket> {
    let socket = UdpSocket::bind(address)
        .await
        .map_err(|source| CollectError::Bind { address, source })?;
    let reference = socket2::SockRef::from(&socket);
    // With CAP_NET_ADMIN, SO_RCVBUFFORCE passes net.core.rmem_max; without it the kernel caps
    // SO_RCVBUF there, and the capped size is what we get.
    if !force_receive_buffer(&socket, RECEIVE_BUFFER_BYTES)
        && reference
            .set_recv_buffer_size(RECEIVE_BUFFER_BYTES)
            .is_err()
    {
        tracing::warn!(listener, "cannot enlarge the UDP receive buffer");
    }
    if let Ok(size) = reference.recv_buffer_size() {
        tracing::debug!(listener, bytes = size, "UDP receive buffer");
    }
    Ok(socket)
}

fn force_receive_buffer(socket: &UdpSocket, bytes: usize) -> bool {
    let Ok(size) = libc::c_int::try_from(bytes) else {
        return false;
    };
    // SAFETY: the descriptor is a live socket owned by `socket`; the option value is a c_int
    // whose size is passed with it.
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    result == 0
}

/// One counter per kind of a closed set (a decoder's error kinds), labelled with the listener:
/// each registered on first use, then found without the metrics registry's lock, so that a
/// flood of bad datagrams costs a short scan per datagram, not a registry lookup.
pub(crate) struct CountersByKind {
    metrics: Metrics,
    name: &'static str,
    help: &'static str,
    listener: String,
    counters: Vec<(&'static str, Counter)>,
}

impl CountersByKind {
    pub(crate) fn new(
        metrics: &Metrics,
        name: &'static str,
        help: &'static str,
        listener: &str,
    ) -> Self {
        Self {
            metrics: metrics.clone(),
            name,
            help,
            listener: listener.to_owned(),
            counters: Vec::new(),
        }
    }

    pub(crate) fn get(&mut self, kind: &'static str) -> &Counter {
        let index = match self.counters.iter().position(|(known, _)| *known == kind) {
            Some(index) => index,
            None => {
                let counter = self.metrics.counter(
                    self.name,
                    self.help,
                    &[("listener", self.listener.as_str()), ("kind", kind)],
                );
                self.counters.push((kind, counter));
                self.counters.len() - 1
            }
        };
        &self.counters[index].1
    }
}

/// The kernel's count of datagrams this socket dropped (its receive buffer was full), read from
/// `/proc/net/udp` and `/proc/net/udp6` by the socket's inode, and added to a counter as it
/// grows.
pub struct KernelDrops {
    inode: Option<u64>,
    seen: u64,
    counter: Counter,
}

impl KernelDrops {
    pub fn new(socket: &UdpSocket, metrics: &Metrics, listener: &str) -> Self {
        use std::os::unix::fs::MetadataExt;
        let inode = std::fs::metadata(format!("/proc/self/fd/{}", socket.as_raw_fd()))
            .ok()
            .map(|metadata| metadata.ino());
        Self {
            inode,
            seen: 0,
            counter: metrics.counter(
                "vigil_collect_socket_drops_total",
                "Datagrams the kernel dropped because the listener's receive buffer was full.",
                &[("listener", listener)],
            ),
        }
    }

    /// Reads the kernel's figure and counts what is new. Cheap enough to call every second.
    pub fn refresh(&mut self) {
        let Some(inode) = self.inode else { return };
        let Some(drops) = ["/proc/net/udp", "/proc/net/udp6"]
            .iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .find_map(|table| drops_of(&table, inode))
        else {
            return;
        };
        if drops > self.seen {
            self.counter.add(drops - self.seen);
            self.seen = drops;
        }
    }
}

/// The `drops` column (the last) of the row whose `inode` column (the tenth) is `inode`.
fn drops_of(table: &str, inode: u64) -> Option<u64> {
    table.lines().skip(1).find_map(|row| {
        let columns: Vec<&str> = row.split_whitespace().collect();
        let row_inode: u64 = columns.get(9)?.parse().ok()?;
        if row_inode != inode {
            return None;
        }
        columns.last()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_are_read_from_the_row_of_the_inode() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
  1: 0100007F:0807 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 0\n\
  2: 00000000:0801 00000000:0000 07 00000000:00003400 00:00000000 00000000     0        0 777 2 0000000000000000 17\n";
        assert_eq!(drops_of(table, 777), Some(17));
        assert_eq!(drops_of(table, 4242), Some(0));
        assert_eq!(drops_of(table, 1), None);
    }

    #[tokio::test]
    async fn a_bound_socket_finds_its_row() {
        let socket = bind("test", "127.0.0.1:0".parse().expect("address"))
            .await
            .expect("bind");
        let metrics = Metrics::default();
        let mut drops = KernelDrops::new(&socket, &metrics, "test");
        let inode = drops.inode.expect("the socket's inode");
        let table = std::fs::read_to_string("/proc/net/udp").expect("/proc/net/udp");
        assert_eq!(drops_of(&table, inode), Some(0));
        drops.refresh();
        assert_eq!(drops.counter.get(), 0);
    }
}
