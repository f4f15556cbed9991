//! `vigil-channel`: the transport from an agent to a SOC, and from a SOC to the one above it.
//!
//! Built so far, sans-IO:
//! - [`frame`]: the wire frames (hello and version negotiation, batches with sequence numbers,
//!   cumulative acks) and a decoder that never buffers more than one bounded frame;
//! - [`batch`]: events as zstd-compressed postcard, decoded within limits (bomb-proof).
//!
//! Still to come (issue 3): the TLS 1.3 mutual-auth transport on `vigil-tls`, the disk-backed
//! outbox with backpressure, resend with backoff, and deduplication at the receiver.

pub mod batch;
pub mod frame;

pub use batch::{decode_batch, encode_batch, BatchError, BatchLimits};
pub use frame::{Frame, FrameDecoder, FrameError};
