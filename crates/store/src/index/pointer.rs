//! An event's address in its partition's archive, packed in one u64 fast field:
//! `segment (16 bits) | batch offset (32 bits) | index in batch (16 bits)`.
//! Config keeps segments under 4 GiB and batches under 2^16 events, so the parts fit.

use crate::archive::ArchivePosition;

/// The fast field that holds the pointer.
pub const FIELD: &str = super::schema::POINTER;

pub fn pack(batch_start: ArchivePosition, index_in_batch: usize) -> u64 {
    debug_assert!(batch_start.segment <= u32::from(u16::MAX));
    debug_assert!(batch_start.offset <= u64::from(u32::MAX));
    debug_assert!(index_in_batch <= usize::from(u16::MAX));
    (u64::from(batch_start.segment) << 48)
        | ((batch_start.offset & 0xffff_ffff) << 16)
        | (index_in_batch as u64 & 0xffff)
}

pub fn unpack(pointer: u64) -> (ArchivePosition, usize) {
    let position = ArchivePosition {
        segment: (pointer >> 48) as u32,
        offset: (pointer >> 16) & 0xffff_ffff,
    };
    (position, (pointer & 0xffff) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_round_trips_at_the_edges() {
        for (segment, offset, index) in [
            (1, 8, 0),
            (65_535, u64::from(u32::MAX), 65_535),
            (7, 123_456, 42),
        ] {
            let position = ArchivePosition { segment, offset };
            assert_eq!(unpack(pack(position, index)), (position, index));
        }
    }
}
