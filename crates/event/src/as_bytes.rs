//! `#[serde(with = "vigil_event::as_bytes")]` for a `Vec<u8>` or `Cow<[u8]>`: written and read
//! as one run of bytes. postcard writes bytes exactly as it writes a sequence of `u8` (a length,
//! then the bytes), so the encoding does not change, but serde's default reads a sequence a
//! byte at a time, growing the vector as it goes: for a channel batch or an archived line that
//! was most of the cost of reading it.

use std::borrow::Cow;
use std::fmt;

use serde::de::{SeqAccess, Visitor};
use serde::{Deserializer, Serializer};

pub fn serialize<S: Serializer, B: AsRef<[u8]> + ?Sized>(
    bytes: &B,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_bytes(bytes.as_ref())
}

pub fn deserialize<'de, D: Deserializer<'de>, B: From<Vec<u8>>>(
    deserializer: D,
) -> Result<B, D::Error> {
    deserializer.deserialize_byte_buf(BytesVisitor).map(B::from)
}

/// For a `Cow<'a, [u8]>` field: what [`deserialize`] gives, owned.
pub fn deserialize_cow<'de, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Cow<'a, [u8]>, D::Error> {
    deserialize::<D, Vec<u8>>(deserializer).map(Cow::Owned)
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("bytes")
    }

    fn visit_bytes<E>(self, bytes: &[u8]) -> Result<Vec<u8>, E> {
        Ok(bytes.to_vec())
    }

    fn visit_byte_buf<E>(self, bytes: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(bytes)
    }

    /// A format that writes bytes as a sequence (JSON's array of numbers).
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        // The length is the sender's claim: cap what is reserved on its word.
        let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64 * 1024));
        while let Some(byte) = seq.next_element()? {
            bytes.push(byte);
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Plain {
        before: u32,
        bytes: Vec<u8>,
        after: String,
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct AsBytes {
        before: u32,
        #[serde(with = "super")]
        bytes: Vec<u8>,
        after: String,
    }

    #[test]
    fn the_encoding_is_a_sequences_and_reads_back() {
        for bytes in [Vec::new(), vec![0, 255, 7], vec![9u8; 300]] {
            let plain = Plain {
                before: 300,
                bytes: bytes.clone(),
                after: "x".into(),
            };
            let fast = AsBytes {
                before: 300,
                bytes,
                after: "x".into(),
            };
            let encoded = postcard::to_allocvec(&plain).unwrap();
            assert_eq!(postcard::to_allocvec(&fast).unwrap(), encoded);
            assert_eq!(postcard::from_bytes::<AsBytes>(&encoded).unwrap(), fast);
            let json = serde_json::to_string(&fast).unwrap();
            assert_eq!(json, serde_json::to_string(&plain).unwrap());
            assert_eq!(serde_json::from_str::<AsBytes>(&json).unwrap(), fast);
        }
        // A length past the end is an error, not a large allocation.
        assert!(postcard::from_bytes::<AsBytes>(&[1, 0xff, 0xff, 0xff, 0x0f, 1]).is_err());
    }
}
