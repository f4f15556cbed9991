//! `vigil-channel`: the transport from an agent to a SOC, and from a SOC to the one above it.
//!
//! Built so far, sans-IO:
//! - [`frame`]: the wire frames (hello and version negotiation, batches with sequence numbers,
//!   cumulative acks) and a decoder that never buffers more than one bounded frame;
//! - [`batch`]: events as zstd-compressed postcard, decoded within limits (bomb-proof);
//! - [`outbox`]: the sender's disk-backed, bounded, fsynced store of unacknowledged batches
//!   (full means backpressure, never dropping), recovered after a kill -9.
//!
//! Still to come (issue 3): the TLS 1.3 mutual-auth transport on `vigil-tls`, resend with
//! backoff, and deduplication and durable acks at the receiver.

pub mod batch;
pub mod frame;
pub mod outbox;

pub use batch::{decode_batch, encode_batch, BatchError, BatchLimits};
pub use frame::{Frame, FrameDecoder, FrameError};
pub use outbox::{Outbox, OutboxError, OutboxOptions, Recovered};
