//! `vigil-pipeline`: how stages meet.
//!
//! Owns the stage traits ([`Source`], [`Transform`] with [`spawn_transform`], [`Sink`]), the
//! bounded batch channels between them (a full channel is backpressure: TCP sources stop
//! reading), the [`Shutdown`] signal, and the [`Metrics`] registry every stage counts into and
//! `/metrics` renders, and [`marks::MarkLog`], the durable "how far am I in each stream" map that
//! deliveries with a [`DeliveryMark`] are recorded in (the store's ledger, the agent's file
//! positions). Depends only on `vigil-event`; the stage crates depend on it, never on each other.
//!
//! ```
//! let metrics = vigil_pipeline::Metrics::default();
//! let received = metrics.counter("vigil_demo_events_received_total", "Events received.", &[("listener", "a")]);
//! received.add(2);
//! assert!(metrics.render().contains("vigil_demo_events_received_total{listener=\"a\"} 2"));
//! ```

mod error;
pub mod marks;
mod metrics;
mod shutdown;
mod stage;

pub use error::{PipelineError, Result};
pub use metrics::{Counter, Gauge, Metrics};
pub use shutdown::{Shutdown, ShutdownSignal};
pub use stage::{
    batch_channel, spawn_transform, BatchReceiver, BatchSender, BoxFuture, Delivery, DeliveryMark,
    Sink, Source, Transform,
};
