use std::future::Future;
use std::pin::Pin;

use tokio::sync::{mpsc, oneshot};
use vigil_event::Batch;

use crate::ShutdownSignal;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
pub type BatchSender = mpsc::Sender<Delivery>;
pub type BatchReceiver = mpsc::Receiver<Delivery>;

/// A batch on its way to the sink, with an optional receipt: the sink fires it once every event
/// of the batch is durable (fsynced in the archive). A source that acknowledges to its sender
/// (the agent channel) waits for it; syslog listeners, whose senders get no acknowledgement,
/// send without one.
#[derive(Debug)]
pub struct Delivery {
    pub events: Batch,
    pub durable: Option<oneshot::Sender<()>>,
    /// Where the batch came from in an acknowledged stream (the agent channel). The sink
    /// records the mark durably together with the events, so a receiver restarted after a
    /// crash knows what it holds without trusting a separate, later write.
    pub mark: Option<DeliveryMark>,
}

/// A batch's place in a sender's stream: the stream id and the batch's sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeliveryMark {
    pub stream: [u8; 16],
    pub seq: u64,
}

impl Delivery {
    /// A delivery and the receipt that resolves once it is durable (and errs if the sink stopped
    /// before that).
    pub fn with_receipt(events: Batch) -> (Self, oneshot::Receiver<()>) {
        let (durable, receipt) = oneshot::channel();
        (
            Self {
                events,
                durable: Some(durable),
                mark: None,
            },
            receipt,
        )
    }
}

impl From<Batch> for Delivery {
    fn from(events: Batch) -> Self {
        Self {
            events,
            durable: None,
            mark: None,
        }
    }
}

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

/// Changes batches on their way from the sources to the sink: decodes message bodies, maps
/// fields, enriches, and may remove events (a transform counts what it removes). Runs on a
/// thread of its own, so it may take CPU without holding up the async runtime.
pub trait Transform: Send + Sync + 'static {
    fn apply(&self, events: &mut Batch);
}

/// Runs `transform` on every delivery from `input` and passes it on to `output` (receipts and
/// marks travel with their batch), until `input` closes. The thread ends when the sink stops.
///
/// A transform that panics on a batch does not stop the pipeline or lose the batch: the batch
/// goes on as the transform left it (events it had not reached yet untransformed), the panic
/// is logged and counted in `vigil_transform_panics_total`.
pub fn spawn_transform(
    name: &str,
    transform: std::sync::Arc<dyn Transform>,
    mut input: BatchReceiver,
    output: BatchSender,
    metrics: &crate::Metrics,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let panics = metrics.counter(
        "vigil_transform_panics_total",
        "Batches a transform panicked on (passed on as they were, not lost).",
        &[("transform", name)],
    );
    std::thread::Builder::new()
        .name(format!("vigil-{name}"))
        .spawn(move || {
            while let Some(mut delivery) = input.blocking_recv() {
                let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    transform.apply(&mut delivery.events)
                }));
                if applied.is_err() {
                    panics.inc();
                    tracing::error!(
                        events = delivery.events.len(),
                        "a transform panicked on a batch; it goes on as it was"
                    );
                }
                if output.blocking_send(delivery).is_err() {
                    break;
                }
            }
        })
}
