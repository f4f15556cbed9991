//! A fast, non-cryptographic hasher for the engine's own tables (field values in the index,
//! group keys). The keys come from events, so a sender could aim for collisions: every table
//! it fills is bounded (keys per rule), which caps what a collision flood can cost.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// The multiply-rotate hash rustc uses for its own tables (FxHash).
#[derive(Clone, Copy, Default)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, mut bytes: &[u8]) {
        while bytes.len() >= 8 {
            let (word, rest) = bytes.split_at(8);
            self.add(u64::from_le_bytes(word.try_into().unwrap_or([0; 8])));
            bytes = rest;
        }
        if bytes.len() >= 4 {
            let (word, rest) = bytes.split_at(4);
            self.add(u64::from(u32::from_le_bytes(
                word.try_into().unwrap_or([0; 4]),
            )));
            bytes = rest;
        }
        for byte in bytes {
            self.add(u64::from(*byte));
        }
    }

    #[inline]
    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    #[inline]
    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    #[inline]
    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    /// The multiply leaves the low bits weak (they depend only on the inputs' low bits), and
    /// hashbrown picks buckets by the low bits: keys that differ only higher up (addresses,
    /// ports) crowded a few buckets, and probing full tables took 29 % of the rules thread on
    /// flow traffic. Rotating brings the strong high bits down (as rustc-hash 2 does).
    #[inline]
    fn finish(&self) -> u64 {
        self.hash.rotate_left(26)
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
pub type FastSet<T> = HashSet<T, BuildHasherDefault<FxHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_hash_alike_and_tables_work() {
        let mut map: FastMap<String, u32> = FastMap::default();
        map.insert("sshd".into(), 1);
        map.insert("sudo".into(), 2);
        assert_eq!(map.get("sshd"), Some(&1));
        assert_eq!(map.get("sudo"), Some(&2));
        assert_eq!(map.get("su"), None);
    }

    #[test]
    fn keys_that_differ_only_in_high_bytes_spread_over_the_low_bits() {
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<FxHasher>::default();
        let mut low_bits = HashSet::new();
        for third in 0..=255u8 {
            let address = std::net::Ipv4Addr::new(10, 0, third, 1);
            low_bits.insert(build.hash_one(address) & 0xff);
        }
        // 256 addresses into 256 buckets: without the final rotation they all land in one.
        assert!(low_bits.len() > 128, "{} distinct buckets", low_bits.len());
    }
}
