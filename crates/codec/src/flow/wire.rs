//! Checked big-endian reads and the wire formats of time: every read returns `None` past the end
//! of its input instead of panicking.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vigil_event::Timestamp;

pub(crate) const NANOS_PER_MICRO: i64 = 1_000;
pub(crate) const NANOS_PER_MILLI: i64 = 1_000_000;
pub(crate) const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Seconds from the NTP epoch (1900-01-01) to the Unix epoch.
const NTP_TO_UNIX_SECONDS: i64 = 2_208_988_800;

/// A cursor over bytes that never reads past their end.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, position: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.position)
    }

    /// The next `count` bytes, or `None` (reading nothing) if fewer remain.
    pub(crate) fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        let end = self.position.checked_add(count)?;
        let taken = self.bytes.get(self.position..end)?;
        self.position = end;
        Some(taken)
    }

    /// Skips `count` bytes, or to the end if fewer remain.
    pub(crate) fn skip_up_to(&mut self, count: usize) {
        self.position = self.position.saturating_add(count).min(self.bytes.len());
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        let bytes = self.take(2)?;
        be_u16(bytes, 0)
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        let bytes = self.take(4)?;
        be_u32(bytes, 0)
    }
}

pub(crate) fn be_u16(bytes: &[u8], offset: usize) -> Option<u16> {
    let end = offset.checked_add(2)?;
    let array: [u8; 2] = bytes.get(offset..end)?.try_into().ok()?;
    Some(u16::from_be_bytes(array))
}

pub(crate) fn be_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    let end = offset.checked_add(4)?;
    let array: [u8; 4] = bytes.get(offset..end)?.try_into().ok()?;
    Some(u32::from_be_bytes(array))
}

/// An unsigned integer of 1 to 8 bytes, big-endian: RFC 7011 §6.2 lets exporters send an
/// integer in fewer bytes than its type ("reduced-size encoding").
pub(crate) fn uint(bytes: &[u8]) -> Option<u64> {
    // The common sizes without a loop: this runs for most fields of most records.
    match *bytes {
        [byte] => Some(u64::from(byte)),
        [a, b] => Some(u64::from(u16::from_be_bytes([a, b]))),
        [a, b, c, d] => Some(u64::from(u32::from_be_bytes([a, b, c, d]))),
        [a, b, c, d, e, f, g, h] => Some(u64::from_be_bytes([a, b, c, d, e, f, g, h])),
        [] => None,
        _ if bytes.len() > 8 => None,
        _ => Some(
            bytes
                .iter()
                .fold(0u64, |value, byte| (value << 8) | u64::from(*byte)),
        ),
    }
}

pub(crate) fn ipv4(bytes: &[u8]) -> Option<IpAddr> {
    let octets: [u8; 4] = bytes.try_into().ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(octets)))
}

pub(crate) fn ipv6(bytes: &[u8]) -> Option<IpAddr> {
    let octets: [u8; 16] = bytes.try_into().ok()?;
    Some(IpAddr::V6(Ipv6Addr::from(octets)))
}

/// A header's export time: 32-bit Unix seconds always fit in nanoseconds.
pub(crate) fn from_header_seconds(seconds: u32) -> Timestamp {
    Timestamp::from_nanos(i64::from(seconds) * NANOS_PER_SECOND)
}

pub(crate) fn from_seconds(seconds: u64) -> Option<Timestamp> {
    let seconds = i64::try_from(seconds).ok()?;
    Some(Timestamp::from_nanos(
        seconds.checked_mul(NANOS_PER_SECOND)?,
    ))
}

pub(crate) fn from_millis(millis: u64) -> Option<Timestamp> {
    let millis = i64::try_from(millis).ok()?;
    Some(Timestamp::from_nanos(millis.checked_mul(NANOS_PER_MILLI)?))
}

/// An NTP timestamp (RFC 5905 §6: 32 bits of seconds since 1900, 32 bits of fraction), as
/// IPFIX sends `dateTimeMicroseconds` and `dateTimeNanoseconds` (RFC 7011 §6.1.9, §6.1.10).
/// Seconds with the top bit clear are taken to be in NTP era 1 (from 2036), as RFC 4330 §3 says.
pub(crate) fn from_ntp(bytes: &[u8]) -> Option<Timestamp> {
    let seconds = be_u32(bytes, 0)?;
    let fraction = be_u32(bytes, 4)?;
    let mut ntp_seconds = i64::from(seconds);
    if seconds & 0x8000_0000 == 0 {
        ntp_seconds += 1 << 32;
    }
    let unix_seconds = ntp_seconds - NTP_TO_UNIX_SECONDS;
    let nanos = (u64::from(fraction) * 1_000_000_000) >> 32;
    let nanos = i64::try_from(nanos).ok()?;
    Some(Timestamp::from_nanos(
        unix_seconds
            .checked_mul(NANOS_PER_SECOND)?
            .checked_add(nanos)?,
    ))
}

/// The absolute time of an exporter uptime reading (NetFlow v5 First/Last, v9
/// FIRST_SWITCHED/LAST_SWITCHED): `export_time - (header_uptime - value)` milliseconds.
///
/// The uptime is a 32-bit millisecond counter that wraps every ~49.7 days, so the difference is
/// taken modulo 2^32 and read as signed: a flow that started before the counter wrapped is still
/// in the past, and a reading slightly after the header's (exporters that stamp the header
/// first) is slightly in the future rather than 49 days in the past.
pub(crate) fn from_uptime(
    export_time: Timestamp,
    header_uptime_ms: u32,
    value_ms: u32,
) -> Timestamp {
    let age_ms = i64::from(header_uptime_ms.wrapping_sub(value_ms) as i32);
    export_time.saturating_add_nanos(-age_ms * NANOS_PER_MILLI)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint_accepts_every_reduced_size() {
        assert_eq!(uint(&[]), None);
        assert_eq!(uint(&[7]), Some(7));
        assert_eq!(uint(&[1, 2, 3]), Some(0x01_02_03));
        assert_eq!(uint(&[0xff; 8]), Some(u64::MAX));
        assert_eq!(uint(&[0; 9]), None);
    }

    #[test]
    fn reader_stops_at_the_end_without_moving() {
        let mut reader = Reader::new(&[1, 2, 3]);
        assert_eq!(reader.u16(), Some(0x0102));
        assert_eq!(reader.u16(), None);
        assert_eq!(reader.remaining(), 1);
        assert_eq!(reader.take(usize::MAX), None);
        assert_eq!(reader.take(1), Some(&[3][..]));
    }

    #[test]
    fn ntp_times_convert_to_unix() {
        // 2025-11-26T22:36:01Z is 1_764_196_561 Unix seconds; plus half a second.
        let ntp_seconds = (1_764_196_561i64 + NTP_TO_UNIX_SECONDS) as u32;
        let mut bytes = ntp_seconds.to_be_bytes().to_vec();
        bytes.extend_from_slice(&0x8000_0000u32.to_be_bytes());
        let time = from_ntp(&bytes).expect("8 bytes");
        assert_eq!(time.to_string(), "2025-11-26T22:36:01.500Z");
        // Era 1: 0x0000_0010 seconds is 16 s after 2036-02-07T06:28:16Z.
        let era_one = from_ntp(&[0, 0, 0, 16, 0, 0, 0, 0]).expect("8 bytes");
        assert_eq!(era_one.to_string(), "2036-02-07T06:28:32Z");
        assert_eq!(from_ntp(&[0; 7]), None);
    }

    #[test]
    fn uptime_differences_survive_the_counter_wrap() {
        let export = Timestamp::from_nanos(100 * NANOS_PER_SECOND);
        // Plain: 1.5 s before export.
        assert_eq!(
            from_uptime(export, 10_000, 8_500),
            Timestamp::from_nanos(98_500 * NANOS_PER_MILLI)
        );
        // The counter wrapped between the flow's start and the export: 2 s before export.
        assert_eq!(
            from_uptime(export, 1_000, u32::MAX - 999),
            Timestamp::from_nanos(98_000 * NANOS_PER_MILLI)
        );
        // Stamped 20 ms after the header: 20 ms after export, not 49 days before.
        assert_eq!(
            from_uptime(export, 5_000, 5_020),
            Timestamp::from_nanos(100_020 * NANOS_PER_MILLI)
        );
    }
}
