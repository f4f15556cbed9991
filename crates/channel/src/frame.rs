//! The channel's wire frames, sans-IO: bytes in, frames out, and frames to bytes.
//!
//! ```text
//! frame := length (u32, big-endian: bytes of kind + body) | kind (u8) | body (postcard)
//! ```
//!
//! A conversation: the sender says [`Hello`] with the protocol versions it speaks, the receiver
//! answers [`Welcome`] with the one chosen (or [`Frame::Refuse`] and closes); then the sender
//! sends [`BatchFrame`]s with rising sequence numbers and the receiver answers [`Ack`]s, each
//! covering every batch up to its sequence number once they are fsynced on its side.
//!
//! The decoder never buffers more than one frame, refuses a length over its limit before reading
//! the body, and after any error is done: the connection is closed, not resynchronised.

use serde::{Deserialize, Serialize};

/// Versions this build speaks. 2 sends batches in columns (`vigil_event::compact`); a receiver
/// still takes 1 (rows), which an agent not yet upgraded sends.
pub const PROTOCOL_VERSIONS: std::ops::RangeInclusive<u16> = 1..=2;
/// The lowest version this build sends with: its batches are columnar, which a receiver of
/// version 1 cannot read, so such a receiver refuses the hello and says why.
pub const SEND_MIN_VERSION: u16 = 2;
/// Largest frame either side accepts by default (a batch is compressed; its events are capped
/// separately by [`crate::BatchLimits`]).
pub const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;

const KIND_HELLO: u8 = 1;
const KIND_WELCOME: u8 = 2;
const KIND_BATCH: u8 = 3;
const KIND_ACK: u8 = 4;
const KIND_REFUSE: u8 = 5;

/// The sender's opening.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub min_version: u16,
    pub max_version: u16,
    /// The sending node's name (an agent, or a SOC forwarding upstream).
    pub node: String,
    /// Identifies the sender's outbox: sequence numbers are unique within it, so the receiver
    /// deduplicates resent batches by (stream, sequence).
    pub stream: [u8; 16],
}

/// The receiver's answer to [`Hello`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    pub version: u16,
    pub node: String,
    pub max_frame_bytes: u32,
    /// The highest sequence number of this stream the receiver already has durably: the sender
    /// resends only what comes after it.
    pub acked: u64,
}

/// A batch of events, zstd-compressed postcard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchFrame {
    pub seq: u64,
    pub events: u32,
    /// Size of the decompressed payload: decompression stops there (bomb-proof).
    pub raw_bytes: u32,
    #[serde(with = "vigil_event::as_bytes")]
    pub compressed: Vec<u8>,
}

/// Every batch up to and including `seq` is durable at the receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    Hello(Hello),
    Welcome(Welcome),
    Batch(BatchFrame),
    Ack(Ack),
    /// The receiver will not talk (no common version, not allowed); the reason is for logs.
    Refuse(String),
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame of {length} bytes is over the limit of {max}")]
    TooLarge { length: usize, max: usize },
    #[error("empty frame")]
    Empty,
    #[error("unknown frame kind {0}")]
    UnknownKind(u8),
    #[error("malformed frame body: {0}")]
    Malformed(String),
    #[error("frame cannot be encoded: {0}")]
    Encode(String),
}

impl FrameError {
    /// A closed set of labels for counters.
    pub fn kind(&self) -> &'static str {
        match self {
            FrameError::TooLarge { .. } => "too_large",
            FrameError::Empty => "empty",
            FrameError::UnknownKind(_) => "unknown_kind",
            FrameError::Malformed(_) => "malformed",
            FrameError::Encode(_) => "encode",
        }
    }
}

/// The highest version both sides speak.
pub fn negotiate(hello: &Hello) -> Option<u16> {
    let high = hello.max_version.min(*PROTOCOL_VERSIONS.end());
    let low = hello.min_version.max(*PROTOCOL_VERSIONS.start());
    (low <= high).then_some(high)
}

/// A frame's bytes on the wire.
pub fn encode(frame: &Frame) -> Result<Vec<u8>, FrameError> {
    // Room for a batch at once: growing a frame of megabytes step by step copies it each time.
    let body_hint = match frame {
        Frame::Batch(batch) => batch.compressed.len() + 32,
        _ => 64,
    };
    let mut out = Vec::with_capacity(5 + body_hint);
    out.resize(5, 0);
    let body = match frame {
        Frame::Hello(hello) => postcard::to_extend(hello, out),
        Frame::Welcome(welcome) => postcard::to_extend(welcome, out),
        Frame::Batch(batch) => postcard::to_extend(batch, out),
        Frame::Ack(ack) => postcard::to_extend(ack, out),
        Frame::Refuse(reason) => postcard::to_extend(reason, out),
    };
    out = body.map_err(|error| FrameError::Encode(error.to_string()))?;
    let length = u32::try_from(out.len() - 4).map_err(|_| FrameError::TooLarge {
        length: out.len() - 4,
        max: u32::MAX as usize,
    })?;
    out[..4].copy_from_slice(&length.to_be_bytes());
    out[4] = match frame {
        Frame::Hello(_) => KIND_HELLO,
        Frame::Welcome(_) => KIND_WELCOME,
        Frame::Batch(_) => KIND_BATCH,
        Frame::Ack(_) => KIND_ACK,
        Frame::Refuse(_) => KIND_REFUSE,
    };
    Ok(out)
}

/// Splits a byte stream into frames.
#[derive(Debug)]
pub struct FrameDecoder {
    buffer: Vec<u8>,
    /// Bytes of `buffer` already consumed.
    start: usize,
    max_frame_bytes: usize,
}

impl FrameDecoder {
    pub fn new(max_frame_bytes: usize) -> Self {
        Self {
            buffer: Vec::new(),
            start: 0,
            max_frame_bytes,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
        } else if self.start > 64 * 1024 && self.start * 2 > self.buffer.len() {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes received but not yet returned as frames.
    pub fn pending(&self) -> usize {
        self.buffer.len() - self.start
    }

    /// The next whole frame, `Ok(None)` until one has arrived.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        let unread = &self.buffer[self.start..];
        let Some(header) = unread.get(..4) else {
            return Ok(None);
        };
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if length > self.max_frame_bytes {
            return Err(FrameError::TooLarge {
                length,
                max: self.max_frame_bytes,
            });
        }
        if length == 0 {
            return Err(FrameError::Empty);
        }
        let Some(frame) = unread.get(4..4 + length) else {
            return Ok(None);
        };
        let (kind, body) = (frame[0], &frame[1..]);
        let malformed = |error: postcard::Error| FrameError::Malformed(error.to_string());
        let decoded = match kind {
            KIND_HELLO => Frame::Hello(postcard::from_bytes(body).map_err(malformed)?),
            KIND_WELCOME => Frame::Welcome(postcard::from_bytes(body).map_err(malformed)?),
            KIND_BATCH => Frame::Batch(postcard::from_bytes(body).map_err(malformed)?),
            KIND_ACK => Frame::Ack(postcard::from_bytes(body).map_err(malformed)?),
            KIND_REFUSE => Frame::Refuse(postcard::from_bytes(body).map_err(malformed)?),
            other => return Err(FrameError::UnknownKind(other)),
        };
        self.start += 4 + length;
        Ok(Some(decoded))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn frame_strategy() -> impl Strategy<Value = Frame> {
        prop_oneof![
            (any::<u16>(), any::<u16>(), ".{0,20}", any::<[u8; 16]>()).prop_map(
                |(min_version, max_version, node, stream)| Frame::Hello(Hello {
                    min_version,
                    max_version,
                    node,
                    stream
                })
            ),
            (any::<u16>(), ".{0,20}", any::<u32>(), any::<u64>()).prop_map(
                |(version, node, max_frame_bytes, acked)| Frame::Welcome(Welcome {
                    version,
                    node,
                    max_frame_bytes,
                    acked
                })
            ),
            (
                any::<u64>(),
                any::<u32>(),
                any::<u32>(),
                prop::collection::vec(any::<u8>(), 0..300)
            )
                .prop_map(|(seq, events, raw_bytes, compressed)| Frame::Batch(
                    BatchFrame {
                        seq,
                        events,
                        raw_bytes,
                        compressed
                    }
                )),
            any::<u64>().prop_map(|seq| Frame::Ack(Ack { seq })),
            ".{0,40}".prop_map(Frame::Refuse),
        ]
    }

    proptest! {
        #[test]
        fn frames_survive_any_split(
            frames in prop::collection::vec(frame_strategy(), 1..8),
            cut in 1usize..50,
        ) {
            let wire: Vec<u8> = frames.iter().flat_map(|frame| encode(frame).unwrap()).collect();
            let mut decoder = FrameDecoder::new(MAX_FRAME_BYTES);
            let mut got = Vec::new();
            for piece in wire.chunks(cut) {
                decoder.push(piece);
                while let Some(frame) = decoder.next_frame().unwrap() {
                    got.push(frame);
                }
            }
            prop_assert_eq!(got, frames);
            prop_assert_eq!(decoder.pending(), 0);
        }

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
            let mut decoder = FrameDecoder::new(4096);
            decoder.push(&bytes);
            for _ in 0..100 {
                match decoder.next_frame() {
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }

    #[test]
    fn an_oversized_length_is_refused_before_its_body_arrives() {
        let mut decoder = FrameDecoder::new(1024);
        // A length of 2.5 GiB, and nothing after it.
        decoder.push(&2_684_354_560u32.to_be_bytes());
        assert_eq!(
            decoder.next_frame(),
            Err(FrameError::TooLarge {
                length: 2_684_354_560,
                max: 1024
            })
        );
    }

    #[test]
    fn unknown_kinds_and_garbage_bodies_are_errors() {
        let mut decoder = FrameDecoder::new(1024);
        decoder.push(&[0, 0, 0, 2, 99, 0]);
        assert_eq!(decoder.next_frame(), Err(FrameError::UnknownKind(99)));
        let mut decoder = FrameDecoder::new(1024);
        decoder.push(&[0, 0, 0, 2, KIND_ACK, 0xff]);
        assert!(matches!(
            decoder.next_frame(),
            Err(FrameError::Malformed(_))
        ));
    }

    #[test]
    fn versions_are_negotiated_to_the_highest_common() {
        let hello = |min_version, max_version| Hello {
            min_version,
            max_version,
            node: "a".into(),
            stream: [0; 16],
        };
        assert_eq!(negotiate(&hello(1, 9)), Some(2));
        assert_eq!(negotiate(&hello(1, 1)), Some(1));
        assert_eq!(negotiate(&hello(SEND_MIN_VERSION, 2)), Some(2));
        assert_eq!(negotiate(&hello(3, 9)), None);
        assert_eq!(negotiate(&hello(0, 0)), None);
    }
}
