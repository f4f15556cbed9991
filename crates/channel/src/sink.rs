//! The sending end as a pipeline sink: deliveries are gathered into batches, compressed, and
//! appended to the outbox (fsynced) that [`crate::link::run_sender`] drains. When the outbox is
//! full the sink stops taking deliveries until acknowledgements make room, so the pipeline fills
//! and the listeners stop reading: backpressure, never a drop.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use vigil_event::Event;
use vigil_pipeline::marks::MarkLog;
use vigil_pipeline::{
    BatchReceiver, BoxFuture, Counter, DeliveryMark, Metrics, PipelineError, Sink,
};

use crate::link::Outgoing;
use crate::{encode_batch, OutboxError};

#[derive(Clone, Debug)]
pub struct OutboxSinkOptions {
    /// A batch closes at this many events...
    pub max_batch_events: usize,
    /// ...or this many bytes of original messages...
    pub max_batch_bytes: usize,
    /// ...or this long after its first event arrived.
    pub linger: Duration,
    pub zstd_level: i32,
}

impl Default for OutboxSinkOptions {
    fn default() -> Self {
        Self {
            max_batch_events: 10_000,
            max_batch_bytes: 4 * 1024 * 1024,
            linger: Duration::from_millis(50),
            zstd_level: 3,
        }
    }
}

/// See the module docs.
pub struct OutboxSink {
    outgoing: Arc<Outgoing>,
    options: OutboxSinkOptions,
    /// Where the inputs' marks are kept once their batch is in the outbox (an agent's tailed
    /// file positions). The outbox keeps them too, so a kill -9 between the two loses nothing.
    positions: Option<Arc<Mutex<MarkLog>>>,
    raw_bytes: Counter,
    compressed_bytes: Counter,
    events: Counter,
    errors: Counter,
}

impl OutboxSink {
    pub fn new(
        outgoing: Arc<Outgoing>,
        options: OutboxSinkOptions,
        positions: Option<Arc<Mutex<MarkLog>>>,
        metrics: &Metrics,
        sender: &str,
    ) -> Self {
        let labels = [("sender", sender)];
        Self {
            outgoing,
            options,
            positions,
            raw_bytes: metrics.counter(
                "vigil_channel_raw_bytes_total",
                "Bytes of batches before compression (raw / compressed is the compression ratio).",
                &labels,
            ),
            compressed_bytes: metrics.counter(
                "vigil_channel_compressed_bytes_total",
                "Bytes of batches after zstd, as stored in the outbox and sent.",
                &labels,
            ),
            events: metrics.counter(
                "vigil_channel_events_queued_total",
                "Events stored in the outbox.",
                &labels,
            ),
            errors: metrics.counter(
                "vigil_channel_outbox_errors_total",
                "Failed outbox writes (each retried; the inputs wait meanwhile).",
                &labels,
            ),
        }
    }

    /// Stores one batch, waiting (and holding the inputs back) while the outbox is full.
    async fn store(&self, events: Vec<Event>, marks: Vec<DeliveryMark>) {
        let frame = {
            let level = self.options.zstd_level;
            let encoded =
                tokio::task::spawn_blocking(move || (encode_batch(0, &events, level), events))
                    .await;
            match encoded {
                Ok((Ok(frame), _)) => frame,
                Ok((Err(error), events)) => {
                    // Only an event over 4 GiB gets here; it cannot be sent, so say so loudly.
                    self.errors.inc();
                    tracing::error!(%error, events = events.len(), "cannot encode a batch for the outbox");
                    return;
                }
                Err(error) => {
                    self.errors.inc();
                    tracing::error!(%error, "batch encoding panicked");
                    return;
                }
            }
        };
        self.raw_bytes.add(u64::from(frame.raw_bytes));
        self.compressed_bytes.add(frame.compressed.len() as u64);
        self.events.add(u64::from(frame.events));
        let mut full_since: Option<std::time::Instant> = None;
        let mut frame = Some(frame);
        loop {
            let Some(batch) = frame.take() else { return };
            let outgoing = self.outgoing.clone();
            let batch_marks = marks.clone();
            let appended = tokio::task::spawn_blocking(move || {
                let mut batches = [batch];
                let result = outgoing.append_marked(&mut batches, &batch_marks);
                let [batch] = batches;
                (result, batch)
            })
            .await;
            let (result, batch) = match appended {
                Ok(appended) => appended,
                Err(error) => {
                    self.errors.inc();
                    tracing::error!(%error, "outbox append panicked");
                    return;
                }
            };
            match result {
                Ok(()) => break,
                Err(OutboxError::Full {
                    unacked_bytes,
                    max_bytes,
                }) => {
                    if full_since.is_none() {
                        full_since = Some(std::time::Instant::now());
                        self.outgoing.set_full(true);
                        tracing::warn!(
                            unacked_bytes,
                            max_bytes,
                            "outbox full: holding the inputs back until the receiver acknowledges"
                        );
                    }
                    let _ =
                        tokio::time::timeout(Duration::from_secs(1), self.outgoing.room.notified())
                            .await;
                }
                Err(error) => {
                    self.errors.inc();
                    tracing::error!(%error, "outbox append failed; retrying in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            frame = Some(batch);
        }
        if let Some(since) = full_since {
            self.outgoing.set_full(false);
            tracing::info!(
                waited_ms = since.elapsed().as_millis() as u64,
                "outbox has room again"
            );
        }
        if let Some(positions) = &self.positions {
            let positions = positions.clone();
            let written = tokio::task::spawn_blocking(move || {
                let mut log = positions
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                log.append(&marks)
            })
            .await;
            if !matches!(written, Ok(Ok(()))) {
                // The outbox holds the marks too: a restart still resumes from them.
                self.errors.inc();
                tracing::error!("cannot record input positions; the outbox keeps them");
            }
        }
    }
}

/// Deliveries gathered into one batch.
#[derive(Default)]
struct Gathered {
    events: Vec<Event>,
    /// Bytes of the events' originals.
    bytes: usize,
    receipts: Vec<tokio::sync::oneshot::Sender<()>>,
    /// The newest mark of each input.
    marks: Vec<DeliveryMark>,
}

impl Gathered {
    fn take(&mut self, delivery: vigil_pipeline::Delivery) {
        self.bytes += delivery
            .events
            .iter()
            .map(|event| event.original.len())
            .sum::<usize>();
        self.events.extend(delivery.events);
        self.receipts.extend(delivery.durable);
        if let Some(mark) = delivery.mark {
            match self
                .marks
                .iter_mut()
                .find(|known| known.stream == mark.stream)
            {
                Some(known) => known.seq = known.seq.max(mark.seq),
                None => self.marks.push(mark),
            }
        }
    }
}

impl Sink for OutboxSink {
    fn run(self: Box<Self>, mut input: BatchReceiver) -> BoxFuture<vigil_pipeline::Result<()>> {
        Box::pin(async move {
            loop {
                let Some(first) = input.recv().await else {
                    return Ok::<(), PipelineError>(());
                };
                let deadline = tokio::time::Instant::now() + self.options.linger;
                let mut gathered = Gathered::default();
                gathered.take(first);
                let mut closed = false;
                while gathered.events.len() < self.options.max_batch_events
                    && gathered.bytes < self.options.max_batch_bytes
                {
                    match tokio::time::timeout_at(deadline, input.recv()).await {
                        Ok(Some(more)) => gathered.take(more),
                        Ok(None) => {
                            closed = true;
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let Gathered {
                    events,
                    receipts,
                    marks,
                    ..
                } = gathered;
                if !events.is_empty() || !marks.is_empty() {
                    self.store(events, marks).await;
                }
                for receipt in receipts {
                    let _ = receipt.send(());
                }
                if closed {
                    return Ok(());
                }
            }
        })
    }
}
