//! The byte layout of segments and batches. All integers little-endian.
//!
//! ```text
//! segment  := SEGMENT_MAGIC (8 bytes) batch*
//! batch    := header (BATCH_HEADER_BYTES) payload
//! header   := "VGB1" payload_len:u32 raw_len:u32 event_count:u32 first_seq:u64 written_nanos:i64
//!             prev_hash:[u8;32] hash:[u8;32] header_crc:u32
//! payload  := zstd frame of the postcard encoding of Vec<CompactEvent> (see `vigil_event::compact`)
//! hash     := SHA-256(prev_hash ‖ header bytes 4..32 ‖ payload)
//! ```
//! `header_crc` (CRC-32 of the header bytes before it) finds torn or damaged headers cheaply; the
//! hash proves content and order.

use sha2::{Digest, Sha256};
use vigil_event::Event;

use vigil_event::compact::{compact_batch, expand_batch, CompactEvent};

use crate::{PartitionKey, StoreError};

pub const SEGMENT_MAGIC: &[u8; 8] = b"VIGILSG1";
pub const BATCH_MAGIC: &[u8; 4] = b"VGB1";
pub const BATCH_HEADER_BYTES: usize = 4 + 4 + 4 + 4 + 8 + 8 + 32 + 32 + 4;
/// Upper bound of one batch's compressed payload; anything larger in a header is damage.
pub const MAX_BATCH_PAYLOAD_BYTES: u32 = 64 * 1024 * 1024;
/// Upper bound of one batch's decoded payload: a reader never allocates more for one batch.
pub const MAX_BATCH_RAW_BYTES: u32 = 256 * 1024 * 1024;
/// Events in one batch at most: the index addresses an event by (batch offset, index < 2^16).
pub const MAX_BATCH_EVENTS: usize = 65_535;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    pub payload_len: u32,
    pub raw_len: u32,
    pub event_count: u32,
    /// Sequence number in the partition of this batch's first event.
    pub first_seq: u64,
    pub written_nanos: i64,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

impl BatchHeader {
    pub fn encode(&self) -> [u8; BATCH_HEADER_BYTES] {
        let mut out = [0u8; BATCH_HEADER_BYTES];
        out[0..4].copy_from_slice(BATCH_MAGIC);
        out[4..32].copy_from_slice(&self.counted_fields());
        out[32..64].copy_from_slice(&self.prev_hash);
        out[64..96].copy_from_slice(&self.hash);
        let crc = crc32fast::hash(&out[0..96]);
        out[96..100].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// The header fields the hash covers (everything but magic, hashes and CRC).
    fn counted_fields(&self) -> [u8; 28] {
        let mut out = [0u8; 28];
        out[0..4].copy_from_slice(&self.payload_len.to_le_bytes());
        out[4..8].copy_from_slice(&self.raw_len.to_le_bytes());
        out[8..12].copy_from_slice(&self.event_count.to_le_bytes());
        out[12..20].copy_from_slice(&self.first_seq.to_le_bytes());
        out[20..28].copy_from_slice(&self.written_nanos.to_le_bytes());
        out
    }

    /// Parses and checks magic, CRC and bounds. The hash is checked against the payload by
    /// [`BatchHeader::expected_hash`].
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() < BATCH_HEADER_BYTES {
            return Err(format!(
                "header needs {BATCH_HEADER_BYTES} bytes, {} left",
                bytes.len()
            ));
        }
        if &bytes[0..4] != BATCH_MAGIC {
            return Err("no batch magic".into());
        }
        let stored_crc = u32::from_le_bytes(take(&bytes[96..100]));
        if crc32fast::hash(&bytes[0..96]) != stored_crc {
            return Err("header checksum mismatch".into());
        }
        let header = BatchHeader {
            payload_len: u32::from_le_bytes(take(&bytes[4..8])),
            raw_len: u32::from_le_bytes(take(&bytes[8..12])),
            event_count: u32::from_le_bytes(take(&bytes[12..16])),
            first_seq: u64::from_le_bytes(take(&bytes[16..24])),
            written_nanos: i64::from_le_bytes(take(&bytes[24..32])),
            prev_hash: take(&bytes[32..64]),
            hash: take(&bytes[64..96]),
        };
        if header.payload_len > MAX_BATCH_PAYLOAD_BYTES || header.raw_len > MAX_BATCH_RAW_BYTES {
            return Err(format!(
                "batch sizes out of bounds ({} / {})",
                header.payload_len, header.raw_len
            ));
        }
        Ok(header)
    }

    pub fn expected_hash(&self, payload: &[u8]) -> [u8; 32] {
        chain_hash(&self.prev_hash, &self.counted_fields(), payload)
    }

    pub fn total_len(&self) -> u64 {
        BATCH_HEADER_BYTES as u64 + u64::from(self.payload_len)
    }
}

fn take<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

fn chain_hash(prev_hash: &[u8; 32], counted_fields: &[u8], payload: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash);
    hasher.update(counted_fields);
    hasher.update(payload);
    hasher.finalize().into()
}

/// The hash a partition's chain starts from: binds the chain to its level and day.
pub fn genesis_hash(key: &PartitionKey) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"vigil archive genesis v1 ");
    hasher.update(key.to_string().as_bytes());
    hasher.finalize().into()
}

/// A batch ready to append: header and payload.
pub struct EncodedBatch {
    pub header: BatchHeader,
    pub payload: Vec<u8>,
}

/// Bytes of decoded fields and framing an event adds to its original when serialised, for
/// sizing the buffer up front (a guess: a short one costs one more growth).
const ESTIMATED_FIELD_BYTES_PER_EVENT: usize = 160;
/// The serialisation buffer is kept between batches up to this capacity.
const MAX_KEPT_ENCODE_BUFFER_BYTES: usize = 16 << 20;

thread_local! {
    static ENCODE_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Serialises and compresses events and chains the batch to `prev_hash`.
pub fn encode_batch(
    events: &[Event],
    first_seq: u64,
    prev_hash: [u8; 32],
    zstd_level: i32,
    written_nanos: i64,
) -> crate::Result<EncodedBatch> {
    debug_assert!(events.len() <= MAX_BATCH_EVENTS);
    let compact = compact_batch(events);
    // The serialised batch goes into a buffer this thread keeps, sized for it up front:
    // growing a fresh vector to a megabyte step by step copied it over and over, and each new
    // one faulted in fresh pages.
    let raw_len_and_payload = ENCODE_BUFFER.with(|buffer| {
        let mut raw = std::mem::take(&mut *buffer.borrow_mut());
        raw.clear();
        let originals: usize = events.iter().map(|event| event.original.len()).sum();
        raw.reserve(originals + events.len() * ESTIMATED_FIELD_BYTES_PER_EVENT);
        let raw = postcard::to_extend(&compact, raw)
            .map_err(|error| StoreError::Encode(error.to_string()))?;
        let payload = zstd::bulk::compress(&raw, zstd_level)
            .map_err(|error| StoreError::Encode(error.to_string()));
        let raw_len = raw.len();
        // A rare huge batch does not pin its buffer for the life of the thread.
        if raw.capacity() <= MAX_KEPT_ENCODE_BUFFER_BYTES {
            *buffer.borrow_mut() = raw;
        }
        payload.map(|payload| (raw_len, payload))
    });
    let (raw_len, payload) = raw_len_and_payload?;
    let mut header = BatchHeader {
        payload_len: u32::try_from(payload.len())
            .map_err(|_| StoreError::Encode("payload over 4 GiB".into()))?,
        raw_len: u32::try_from(raw_len)
            .map_err(|_| StoreError::Encode("batch over 4 GiB".into()))?,
        event_count: u32::try_from(events.len())
            .map_err(|_| StoreError::Encode("too many events".into()))?,
        first_seq,
        written_nanos,
        prev_hash,
        hash: [0; 32],
    };
    header.hash = header.expected_hash(&payload);
    Ok(EncodedBatch { header, payload })
}

/// Decompresses and decodes a payload whose hash was already checked.
pub fn decode_payload(header: &BatchHeader, payload: &[u8]) -> Result<Vec<Event>, String> {
    let raw = zstd::bulk::decompress(payload, header.raw_len as usize)
        .map_err(|error| format!("zstd: {error}"))?;
    let compact: Vec<CompactEvent> =
        postcard::from_bytes(&raw).map_err(|error| format!("decode: {error}"))?;
    let events = expand_batch(compact)?;
    if events.len() != header.event_count as usize {
        return Err(format!(
            "{} events where the header says {}",
            events.len(),
            header.event_count
        ));
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_event::Timestamp;

    #[test]
    fn batch_round_trips_and_any_flipped_header_byte_is_caught() {
        let events = vec![Event::new(Timestamp::from_nanos(5), b"<13>hi".to_vec())];
        let batch = encode_batch(&events, 7, [1; 32], 3, 9).unwrap();
        let header_bytes = batch.header.encode();
        let header = BatchHeader::decode(&header_bytes).unwrap();
        assert_eq!(header, batch.header);
        assert_eq!(header.expected_hash(&batch.payload), header.hash);
        assert_eq!(decode_payload(&header, &batch.payload).unwrap(), events);
        for position in 0..BATCH_HEADER_BYTES {
            let mut damaged = header_bytes;
            damaged[position] ^= 0x10;
            assert!(
                BatchHeader::decode(&damaged).is_err(),
                "flip at {position} went unnoticed"
            );
        }
        let mut payload = batch.payload.clone();
        payload[0] ^= 1;
        assert_ne!(header.expected_hash(&payload), header.hash);
    }
}
