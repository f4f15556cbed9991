//! `vigil-channel`: the transport from an agent to a SOC, and from a SOC to the one above it.
//!
//! Sans-IO:
//! - [`frame`]: the wire frames (hello and version negotiation, batches with sequence numbers,
//!   cumulative acks) and a decoder that never buffers more than one bounded frame;
//! - [`batch`]: events in the archive's compact form, postcard then zstd, decoded within
//!   limits (bomb-proof);
//! - [`outbox`]: the sender's disk-backed, bounded, fsynced store of unacknowledged batches
//!   (full means backpressure, never dropping), recovered after a kill -9, with the marks of
//!   the inputs stored beside their batches.
//!
//! Over the network:
//! - [`link`]: the conversation over a stream — [`link::receive`] serves one sender (deliver,
//!   wait until durable and held in the [`link::Ledger`], then ack, in order with batches in
//!   flight; a resent batch is only acked), and [`link::run_sender`] keeps an outbox flowing to
//!   a failover list of receivers, resending after reconnects with backoff and jitter;
//! - [`listener`]: the receiving end as a pipeline source (TLS 1.3, client certificates
//!   required), each batch delivered with its stream mark and acknowledged after the archive's
//!   receipt;
//! - [`sink`]: the sending end as a pipeline sink, batching into the outbox, holding its
//!   inputs back while the outbox is full;
//! - [`upstream`]: senders for receivers that do not speak the channel — HTTPS (JSON batches,
//!   zstd or gzip) and syslog over TLS (RFC 5424 lines with a JSON body).

pub mod batch;
pub mod frame;
pub mod link;
pub mod listener;
pub mod outbox;
pub mod sink;
pub mod upstream;

pub use batch::{decode_batch, encode_batch, BatchError, BatchLimits};
pub use frame::{Frame, FrameDecoder, FrameError};
pub use outbox::{Outbox, OutboxError, OutboxOptions, Recovered};
