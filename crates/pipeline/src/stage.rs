use std::future::Future;
use std::pin::Pin;

use tokio::sync::mpsc;
use vigil_event::Batch;

use crate::ShutdownSignal;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
pub type BatchSender = mpsc::Sender<Batch>;
pub type BatchReceiver = mpsc::Receiver<Batch>;

/// A bounded channel of batches. When it is full, senders wait: that is the backpressure that
/// makes TCP listeners stop reading rather than drop.
pub fn batch_channel(capacity_batches: usize) -> (BatchSender, BatchReceiver) {
    mpsc::channel(capacity_batches)
}

/// Produces batches until shutdown. Per-event failures are counted, not returned; an `Err` means
/// the source could not run at all (e.g. its address is taken).
pub trait Source: Send + 'static {
    fn run(
        self: Box<Self>,
        out: BatchSender,
        shutdown: ShutdownSignal,
    ) -> BoxFuture<crate::Result<()>>;
}

/// Drains its input until every sender is gone, and returns once everything it took is durable.
pub trait Sink: Send + 'static {
    fn run(self: Box<Self>, input: BatchReceiver) -> BoxFuture<crate::Result<()>>;
}
