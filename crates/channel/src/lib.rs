//! `vigil-channel`: the transport from an agent to a SOC, and from a SOC to the one above it.
//!
//! Built so far, sans-IO:
//! - [`frame`]: the wire frames (hello and version negotiation, batches with sequence numbers,
//!   cumulative acks) and a decoder that never buffers more than one bounded frame;
//! - [`batch`]: events as zstd-compressed postcard, decoded within limits (bomb-proof);
//! - [`outbox`]: the sender's disk-backed, bounded, fsynced store of unacknowledged batches
//!   (full means backpressure, never dropping), recovered after a kill -9.
//!
//! - [`link`]: the conversation over a stream — [`link::receive`] serves one sender (deliver,
//!   record in the [`link::Ledger`], then ack; a resent batch is only acked), and
//!   [`link::run_sender`] keeps an outbox flowing to a failover list of receivers, resending
//!   after reconnects with backoff and jitter.
//!
//! - [`upstream`]: senders for receivers that do not speak the channel — HTTPS (JSON batches,
//!   zstd or gzip) and syslog over TLS (RFC 5424 lines with a JSON body).
//! - [`listener`]: the receiving end as a pipeline source (TLS 1.3, client certificates
//!   required), each batch delivered with its stream mark and acknowledged after the archive's
//!   receipt.

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
