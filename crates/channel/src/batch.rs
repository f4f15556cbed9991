//! Event batches on the wire: the compact form the archive uses (`vigil_event::compact`) laid
//! out in columns, then zstd. Protocol 1 sent rows (postcard of the compact events); a receiver
//! still reads those, as an outbox written before an upgrade holds them. Decoding is bounded
//! before any work: the event count and the declared decompressed size are checked against
//! limits, and zstd stops at the declared size, so a small frame cannot expand into a large
//! allocation (a zstd bomb).

use vigil_event::compact::{
    columnar_batch, expand_batch, expand_columnar, is_columnar, ColumnarError, CompactEvent,
};
use vigil_event::Event;

use crate::frame::BatchFrame;

/// What a receiver accepts in one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
    pub max_events: u32,
    pub max_raw_bytes: u32,
}

impl Default for BatchLimits {
    fn default() -> Self {
        Self {
            max_events: 100_000,
            max_raw_bytes: 64 * 1024 * 1024,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("batch of {events} events is over the limit of {max}")]
    TooManyEvents { events: u32, max: u32 },
    #[error("batch declares {raw_bytes} bytes decompressed, over the limit of {max}")]
    TooLarge { raw_bytes: u32, max: u32 },
    #[error("batch does not decompress to its declared {declared} bytes: {reason}")]
    Decompress { declared: u32, reason: String },
    #[error("batch payload is malformed: {0}")]
    Malformed(String),
    #[error("batch holds {found} events, not the declared {declared}")]
    CountMismatch { declared: u32, found: usize },
    #[error("batch cannot be encoded: {0}")]
    Encode(String),
}

impl BatchError {
    /// A closed set of labels for counters.
    pub fn kind(&self) -> &'static str {
        match self {
            BatchError::TooManyEvents { .. } => "too_many_events",
            BatchError::TooLarge { .. } => "too_large",
            BatchError::Decompress { .. } => "decompress",
            BatchError::Malformed(_) => "malformed",
            BatchError::CountMismatch { .. } => "count_mismatch",
            BatchError::Encode(_) => "encode",
        }
    }
}

thread_local! {
    /// A zstd context per thread, kept: making one per batch allocates (and the kernel zeroes)
    /// its megabytes of tables again each time.
    static COMPRESSOR: std::cell::RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
        const { std::cell::RefCell::new(None) };
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

fn compress(raw: &[u8], level: i32) -> std::io::Result<Vec<u8>> {
    COMPRESSOR.with_borrow_mut(|kept| {
        let compressor = match kept {
            Some((kept_level, compressor)) if *kept_level == level => compressor,
            _ => &mut kept.insert((level, zstd::bulk::Compressor::new(level)?)).1,
        };
        compressor.compress(raw)
    })
}

/// At most `capacity` bytes: zstd stops there (a bomb is an error, not an allocation).
fn decompress(compressed: &[u8], capacity: usize) -> std::io::Result<Vec<u8>> {
    DECOMPRESSOR.with_borrow_mut(|kept| {
        let decompressor = match kept {
            Some(decompressor) => decompressor,
            None => kept.insert(zstd::bulk::Decompressor::new()?),
        };
        decompressor.decompress(compressed, capacity)
    })
}

/// `events` as batch `seq`, compressed at `zstd_level`.
pub fn encode_batch(seq: u64, events: &[Event], zstd_level: i32) -> Result<BatchFrame, BatchError> {
    // The archive's compact form (message, host and app name as references into the original),
    // in columns: 0.300 → 0.24 of the raw lines for an agent's relayed lines.
    let raw = columnar_batch(events).map_err(BatchError::Encode)?;
    let raw_bytes =
        u32::try_from(raw.len()).map_err(|_| BatchError::Encode("batch over 4 GiB".into()))?;
    let events = u32::try_from(events.len())
        .map_err(|_| BatchError::Encode("over 4 billion events".into()))?;
    let compressed =
        compress(&raw, zstd_level).map_err(|error| BatchError::Encode(error.to_string()))?;
    Ok(BatchFrame {
        seq,
        events,
        raw_bytes,
        compressed,
    })
}

/// The events of a batch, within `limits`.
pub fn decode_batch(frame: &BatchFrame, limits: &BatchLimits) -> Result<Vec<Event>, BatchError> {
    if frame.events > limits.max_events {
        return Err(BatchError::TooManyEvents {
            events: frame.events,
            max: limits.max_events,
        });
    }
    if frame.raw_bytes > limits.max_raw_bytes {
        return Err(BatchError::TooLarge {
            raw_bytes: frame.raw_bytes,
            max: limits.max_raw_bytes,
        });
    }
    let raw = decompress(&frame.compressed, frame.raw_bytes as usize).map_err(|error| {
        BatchError::Decompress {
            declared: frame.raw_bytes,
            reason: error.to_string(),
        }
    })?;
    if raw.len() != frame.raw_bytes as usize {
        return Err(BatchError::Decompress {
            declared: frame.raw_bytes,
            reason: format!("got {} bytes", raw.len()),
        });
    }
    if is_columnar(&raw) {
        return expand_columnar(&raw, frame.events as usize).map_err(|error| match error {
            ColumnarError::Count { declared, found } => BatchError::CountMismatch {
                declared: declared as u32,
                found,
            },
            ColumnarError::Malformed(reason) => BatchError::Malformed(reason),
        });
    }
    let compact: Vec<CompactEvent> =
        postcard::from_bytes(&raw).map_err(|error| BatchError::Malformed(error.to_string()))?;
    if compact.len() != frame.events as usize {
        return Err(BatchError::CountMismatch {
            declared: frame.events,
            found: compact.len(),
        });
    }
    expand_batch(compact).map_err(BatchError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(count: usize) -> Vec<Event> {
        (0..count)
            .map(|n| {
                let text = format!("event {n} from the agent");
                let mut event =
                    Event::new(vigil_event::Timestamp::now(), text.clone().into_bytes());
                event.message = text;
                event
            })
            .collect()
    }

    #[test]
    fn a_batch_round_trips_and_compresses() {
        let sent = events(1000);
        let frame = encode_batch(7, &sent, 3).unwrap();
        assert_eq!((frame.seq, frame.events), (7, 1000));
        assert!(frame.compressed.len() * 4 < frame.raw_bytes as usize);
        assert_eq!(decode_batch(&frame, &BatchLimits::default()).unwrap(), sent);
    }

    /// Protocol 1's batches (rows) are still read: an outbox written before an upgrade holds
    /// them.
    #[test]
    fn a_row_batch_of_protocol_1_still_decodes() {
        let sent = events(100);
        let raw = postcard::to_stdvec(&vigil_event::compact::compact_batch(&sent)).unwrap();
        let frame = BatchFrame {
            seq: 3,
            events: 100,
            raw_bytes: raw.len() as u32,
            compressed: zstd::bulk::compress(&raw, 3).unwrap(),
        };
        assert_eq!(decode_batch(&frame, &BatchLimits::default()).unwrap(), sent);
        let columnar = encode_batch(3, &sent, 3).unwrap();
        assert!(columnar.compressed.len() < frame.compressed.len());
    }

    #[test]
    fn a_zstd_bomb_stops_at_the_declared_size() {
        // 10 MiB of zeros compresses to a few hundred bytes; the frame claims 1 KiB.
        let bomb = zstd::bulk::compress(&vec![0u8; 10 * 1024 * 1024], 19).unwrap();
        assert!(bomb.len() < 4096);
        let frame = BatchFrame {
            seq: 1,
            events: 1,
            raw_bytes: 1024,
            compressed: bomb,
        };
        let error = decode_batch(&frame, &BatchLimits::default()).unwrap_err();
        assert_eq!(error.kind(), "decompress", "{error}");
        // And a frame that declares the whole 10 GiB is refused before any work.
        let frame = BatchFrame {
            raw_bytes: u32::MAX,
            ..frame
        };
        let error = decode_batch(&frame, &BatchLimits::default()).unwrap_err();
        assert_eq!(error.kind(), "too_large", "{error}");
    }

    #[test]
    fn declared_counts_must_match() {
        let mut frame = encode_batch(1, &events(3), 1).unwrap();
        frame.events = 4;
        let error = decode_batch(&frame, &BatchLimits::default()).unwrap_err();
        assert_eq!(error.kind(), "count_mismatch");
        frame.events = 200_000;
        let error = decode_batch(&frame, &BatchLimits::default()).unwrap_err();
        assert_eq!(error.kind(), "too_many_events");
    }
}
