//! BER (X.690) as SNMP uses it: definite lengths only (short form, or long form of at most
//! [`MAX_LENGTH_OCTETS`] octets), single-octet tags, every length checked against the bytes that
//! are actually there before anything is sliced or allocated.
//!
//! Two passes read a message. [`check_structure`] walks the whole TLV tree once, iteratively, to
//! refuse deep nesting and lengths that overrun their parent, whatever the grammar; then a
//! [`Reader`] follows the SNMP grammar, which is fixed-depth, so nothing here recurses.

use std::ops::Range;

use crate::snmp::error::SnmpError;
use crate::snmp::limits::{MAX_LENGTH_OCTETS, MAX_OID_SUBIDENTIFIERS};
use crate::snmp::oid::Oid;

pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_NULL: u8 = 0x05;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;
pub(crate) const TAG_IP_ADDRESS: u8 = 0x40;
pub(crate) const TAG_COUNTER32: u8 = 0x41;
pub(crate) const TAG_GAUGE32: u8 = 0x42;
pub(crate) const TAG_TIMETICKS: u8 = 0x43;
pub(crate) const TAG_OPAQUE: u8 = 0x44;
pub(crate) const TAG_COUNTER64: u8 = 0x46;
pub(crate) const TAG_NO_SUCH_OBJECT: u8 = 0x80;
pub(crate) const TAG_NO_SUCH_INSTANCE: u8 = 0x81;
pub(crate) const TAG_END_OF_MIB_VIEW: u8 = 0x82;

/// The identifier bit of a constructed encoding (SEQUENCE, PDUs).
const CONSTRUCTED: u8 = 0x20;
/// Tag number 31 in the low bits announces a multi-octet tag, which SNMP never uses.
const HIGH_TAG_NUMBER: u8 = 0x1f;

/// One tag-length-value, borrowed from the message.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    /// Where `content` starts in the outermost buffer.
    pub content_offset: usize,
    /// Where the whole TLV, header included, lies in the outermost buffer.
    pub start: usize,
}

impl Tlv<'_> {
    pub fn content_range(&self) -> Range<usize> {
        self.content_offset..self.content_offset + self.content.len()
    }

    pub fn whole_range(&self) -> Range<usize> {
        self.start..self.content_offset + self.content.len()
    }

    pub fn is_constructed(&self) -> bool {
        self.tag & CONSTRUCTED != 0
    }
}

/// Reads the header at the start of `bytes`: (tag, header bytes, content bytes), with the
/// content known to fit in `bytes`.
fn read_header(bytes: &[u8], what: &'static str) -> Result<(u8, usize, usize), SnmpError> {
    let Some((&tag, after_tag)) = bytes.split_first() else {
        return Err(SnmpError::Truncated(what));
    };
    if tag & HIGH_TAG_NUMBER == HIGH_TAG_NUMBER {
        return Err(SnmpError::Malformed("multi-octet BER tag"));
    }
    let Some((&first, after_first)) = after_tag.split_first() else {
        return Err(SnmpError::Truncated(what));
    };
    let (length, num_length_octets) = if first < 0x80 {
        (usize::from(first), 0)
    } else if first == 0x80 {
        return Err(SnmpError::Malformed("indefinite BER length"));
    } else {
        let num_octets = usize::from(first & 0x7f);
        if num_octets > MAX_LENGTH_OCTETS {
            return Err(SnmpError::Malformed("BER length of more than 4 octets"));
        }
        let Some(octets) = after_first.get(..num_octets) else {
            return Err(SnmpError::Truncated(what));
        };
        let length = octets
            .iter()
            .fold(0u64, |length, &octet| (length << 8) | u64::from(octet));
        (
            usize::try_from(length).map_err(|_| SnmpError::Truncated(what))?,
            num_octets,
        )
    };
    let header_bytes = 2 + num_length_octets;
    // Checked before anything is sliced or allocated: a claimed 2^31 stops here.
    let available = bytes.len().saturating_sub(header_bytes);
    if length > available {
        return Err(SnmpError::Truncated(what));
    }
    Ok((tag, header_bytes, length))
}

/// Walks the one TLV that must make up `bytes` and every TLV inside it, descending into constructed ones, without recursion: each length
/// must fit inside its parent and no nesting may be deeper than `max_depth`. Memory is one end
/// offset per open level, so at most `max_depth` of them.
pub(crate) fn check_structure(bytes: &[u8], max_depth: usize) -> Result<(), SnmpError> {
    // One message, nothing after it.
    let (_, header_bytes, length) = read_header(bytes, "message")?;
    if header_bytes + length != bytes.len() {
        return Err(SnmpError::Malformed("bytes after the message"));
    }
    let mut open_ends: Vec<usize> = Vec::new();
    let mut position = 0;
    let mut end = bytes.len();
    loop {
        if position >= end {
            match open_ends.pop() {
                Some(outer_end) => {
                    end = outer_end;
                    continue;
                }
                None => return Ok(()),
            }
        }
        let remaining = bytes
            .get(position..end)
            .ok_or(SnmpError::Malformed("BER structure"))?;
        let (tag, header_bytes, length) = read_header(remaining, "BER value")?;
        let content_start = position + header_bytes;
        if tag & CONSTRUCTED != 0 {
            if open_ends.len() >= max_depth {
                return Err(SnmpError::TooDeep { max_depth });
            }
            open_ends.push(end);
            end = content_start + length;
            position = content_start;
        } else {
            position = content_start + length;
        }
    }
}

/// A cursor over consecutive TLVs, following the grammar.
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    /// Where `rest` starts in the outermost buffer.
    offset: usize,
    depth: usize,
    max_depth: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8], max_depth: usize) -> Self {
        Self {
            rest: bytes,
            offset: 0,
            depth: 0,
            max_depth,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub fn read_any(&mut self, what: &'static str) -> Result<Tlv<'a>, SnmpError> {
        let (tag, header_bytes, length) = read_header(self.rest, what)?;
        let Some((whole, rest)) = self.rest.split_at_checked(header_bytes + length) else {
            return Err(SnmpError::Truncated(what));
        };
        let tlv = Tlv {
            tag,
            content: whole.get(header_bytes..).unwrap_or_default(),
            content_offset: self.offset + header_bytes,
            start: self.offset,
        };
        self.offset += whole.len();
        self.rest = rest;
        Ok(tlv)
    }

    pub fn read(&mut self, tag: u8, what: &'static str) -> Result<Tlv<'a>, SnmpError> {
        let tlv = self.read_any(what)?;
        if tlv.tag != tag {
            return Err(SnmpError::UnexpectedTag {
                expected: what,
                tag: tlv.tag,
            });
        }
        Ok(tlv)
    }

    /// A reader over the content of `tlv` (a SEQUENCE, a PDU, or an OCTET STRING that wraps BER),
    /// one level deeper.
    pub fn enter(&self, tlv: &Tlv<'a>) -> Result<Reader<'a>, SnmpError> {
        if self.depth >= self.max_depth {
            return Err(SnmpError::TooDeep {
                max_depth: self.max_depth,
            });
        }
        Ok(Reader {
            rest: tlv.content,
            offset: tlv.content_offset,
            depth: self.depth + 1,
            max_depth: self.max_depth,
        })
    }

    pub fn read_sequence(&mut self, what: &'static str) -> Result<Reader<'a>, SnmpError> {
        let tlv = self.read(TAG_SEQUENCE, what)?;
        self.enter(&tlv)
    }

    /// Refuses bytes left over after the last element the grammar expects.
    pub fn finish(&self, what: &'static str) -> Result<(), SnmpError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(SnmpError::Malformed(what))
        }
    }

    pub fn read_i32(&mut self, what: &'static str) -> Result<i32, SnmpError> {
        let tlv = self.read(TAG_INTEGER, what)?;
        decode_i32(tlv.content, what)
    }

    pub fn read_octets(&mut self, what: &'static str) -> Result<Tlv<'a>, SnmpError> {
        self.read(TAG_OCTET_STRING, what)
    }

    pub fn read_oid(&mut self, what: &'static str) -> Result<Oid, SnmpError> {
        let tlv = self.read(TAG_OID, what)?;
        decode_oid(tlv.content, what)
    }
}

/// A two's-complement INTEGER of at most 8 content octets.
pub(crate) fn decode_i64(content: &[u8], what: &'static str) -> Result<i64, SnmpError> {
    let Some(&first) = content.first() else {
        return Err(SnmpError::Malformed(what));
    };
    if content.len() > 8 {
        return Err(SnmpError::ValueTooLong(what));
    }
    let sign_extension = if first & 0x80 != 0 { -1i64 } else { 0 };
    Ok(content.iter().fold(sign_extension, |value, &octet| {
        (value << 8) | i64::from(octet)
    }))
}

/// An INTEGER (Integer32, RFC 2578): 32 bits, signed.
pub(crate) fn decode_i32(content: &[u8], what: &'static str) -> Result<i32, SnmpError> {
    let value = decode_i64(content, what)?;
    i32::try_from(value).map_err(|_| SnmpError::ValueTooLong(what))
}

/// An unsigned integer of at most `max_octets` (4 or 8), with one extra leading zero octet
/// allowed (how 2^32 - 1 is encoded in proper two's complement). A value whose top bit is set
/// without that zero octet is a common encoder bug; it is read as unsigned, as net-snmp does.
pub(crate) fn decode_unsigned(
    content: &[u8],
    max_octets: usize,
    what: &'static str,
) -> Result<u64, SnmpError> {
    let digits = match content {
        [] => return Err(SnmpError::Malformed(what)),
        [0, rest @ ..] if rest.len() == max_octets => rest,
        _ if content.len() > max_octets => return Err(SnmpError::ValueTooLong(what)),
        _ => content,
    };
    Ok(digits
        .iter()
        .fold(0u64, |value, &octet| (value << 8) | u64::from(octet)))
}

pub(crate) fn decode_u32(content: &[u8], what: &'static str) -> Result<u32, SnmpError> {
    let value = decode_unsigned(content, 4, what)?;
    u32::try_from(value).map_err(|_| SnmpError::ValueTooLong(what))
}

/// An OBJECT IDENTIFIER: base-128 sub-identifiers, each at most 32 bits, the first octet(s)
/// holding the first two arcs; at most [`MAX_OID_SUBIDENTIFIERS`] arcs.
pub(crate) fn decode_oid(content: &[u8], what: &'static str) -> Result<Oid, SnmpError> {
    if content.is_empty() {
        return Err(SnmpError::Malformed(what));
    }
    let mut arcs: Vec<u32> = Vec::with_capacity(content.len().min(MAX_OID_SUBIDENTIFIERS) + 1);
    let mut value: u64 = 0;
    let mut in_progress = false;
    for &octet in content {
        value = (value << 7) | u64::from(octet & 0x7f);
        // The first sub-identifier holds two arcs: 40 * X + Y, with Y free for X = 2.
        let limit = if arcs.is_empty() {
            u64::from(u32::MAX) + 80
        } else {
            u64::from(u32::MAX)
        };
        if value > limit {
            return Err(SnmpError::ValueTooLong(what));
        }
        in_progress = octet & 0x80 != 0;
        if in_progress {
            continue;
        }
        if arcs.is_empty() {
            let (first, second) = match value {
                0..40 => (0, value),
                40..80 => (1, value - 40),
                _ => (2, value - 80),
            };
            arcs.push(first);
            arcs.push(u32::try_from(second).map_err(|_| SnmpError::ValueTooLong(what))?);
        } else {
            if arcs.len() >= MAX_OID_SUBIDENTIFIERS {
                return Err(SnmpError::ValueTooLong(what));
            }
            arcs.push(u32::try_from(value).map_err(|_| SnmpError::ValueTooLong(what))?);
        }
        value = 0;
    }
    if in_progress {
        return Err(SnmpError::Malformed(what));
    }
    Ok(Oid::from(arcs))
}

// Encoding, for the Response to an inform.

pub(crate) fn write_length(out: &mut Vec<u8>, length: usize) {
    if length < 0x80 {
        out.push(length as u8);
        return;
    }
    let octets = (length as u64).to_be_bytes();
    let first_significant = octets
        .iter()
        .position(|&octet| octet != 0)
        .unwrap_or(octets.len() - 1);
    let significant = &octets[first_significant..];
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

pub(crate) fn write_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    write_length(out, content.len());
    out.extend_from_slice(content);
}

/// An INTEGER in its shortest two's-complement form.
pub(crate) fn write_integer(out: &mut Vec<u8>, value: i64) {
    let octets = value.to_be_bytes();
    let mut start = 0;
    // Drop a leading octet while the next one still carries the sign.
    while start < octets.len() - 1 {
        let redundant = (octets[start] == 0x00 && octets[start + 1] & 0x80 == 0)
            || (octets[start] == 0xff && octets[start + 1] & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    write_tlv(out, TAG_INTEGER, &octets[start..]);
}

#[cfg(test)]
pub(crate) fn write_oid(out: &mut Vec<u8>, arcs: &[u32]) {
    let mut content = Vec::new();
    let (first, rest) = match arcs {
        [first, second, rest @ ..] => (u64::from(*first) * 40 + u64::from(*second), rest),
        [first] => (u64::from(*first) * 40, &[][..]),
        [] => (0, &[][..]),
    };
    for arc in std::iter::once(first).chain(rest.iter().map(|&arc| u64::from(arc))) {
        let mut groups = Vec::new();
        let mut remaining = arc;
        loop {
            groups.push((remaining & 0x7f) as u8);
            remaining >>= 7;
            if remaining == 0 {
                break;
            }
        }
        for (index, group) in groups.iter().enumerate().rev() {
            content.push(if index == 0 { *group } else { group | 0x80 });
        }
    }
    write_tlv(out, TAG_OID, &content);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_refuses_a_length_of_two_to_the_31_without_allocating() {
        let bytes = [0x30, 0x84, 0x80, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00];
        assert_eq!(
            check_structure(&bytes, 32),
            Err(SnmpError::Truncated("message"))
        );
        let mut reader = Reader::new(&bytes, 32);
        assert_eq!(reader.read_any("message").unwrap_err().kind(), "truncated");
    }

    #[test]
    fn header_refuses_indefinite_and_over_long_lengths() {
        assert_eq!(
            check_structure(&[0x30, 0x80, 0x00, 0x00], 32)
                .unwrap_err()
                .kind(),
            "malformed"
        );
        assert_eq!(
            check_structure(&[0x30, 0x85, 0, 0, 0, 0, 1, 0], 32)
                .unwrap_err()
                .kind(),
            "malformed"
        );
        assert_eq!(
            check_structure(&[0x1f, 0x01, 0x00], 32).unwrap_err().kind(),
            "malformed"
        );
    }

    #[test]
    fn header_accepts_non_minimal_long_form_lengths() {
        let bytes = [0x30, 0x82, 0x00, 0x03, 0x02, 0x01, 0x07];
        check_structure(&bytes, 32).unwrap();
        let mut reader = Reader::new(&bytes, 32);
        let mut sequence = reader.read_sequence("sequence").unwrap();
        assert_eq!(sequence.read_i32("integer").unwrap(), 7);
    }

    #[test]
    fn structure_refuses_ten_thousand_nested_sequences() {
        let depth = 10_000;
        let mut bytes = Vec::new();
        // Innermost first, so each length is known when its header is written.
        for _ in 0..depth {
            let mut outer = Vec::new();
            write_tlv(&mut outer, TAG_SEQUENCE, &bytes);
            bytes = outer;
        }
        assert_eq!(
            check_structure(&bytes, 32),
            Err(SnmpError::TooDeep { max_depth: 32 })
        );
    }

    #[test]
    fn structure_accepts_nesting_up_to_the_limit_and_not_beyond() {
        let nest = |depth: usize| {
            let mut bytes = vec![TAG_NULL, 0];
            for _ in 0..depth {
                let mut outer = Vec::new();
                write_tlv(&mut outer, TAG_SEQUENCE, &bytes);
                bytes = outer;
            }
            bytes
        };
        check_structure(&nest(4), 4).unwrap();
        assert_eq!(check_structure(&nest(5), 4).unwrap_err().kind(), "too_deep");
    }

    #[test]
    fn structure_refuses_a_child_longer_than_its_parent() {
        // The SEQUENCE holds 5 bytes; its INTEGER claims 5 of the 3 left.
        let bytes = [0x30, 0x05, 0x02, 0x05, 0x01, 0x02, 0x03];
        assert_eq!(check_structure(&bytes, 32).unwrap_err().kind(), "truncated");
    }

    #[test]
    fn integers_are_bounded_by_their_type() {
        assert_eq!(
            decode_i32(&[0x7f, 0xff, 0xff, 0xff], "i").unwrap(),
            i32::MAX
        );
        assert_eq!(decode_i32(&[0x80, 0, 0, 0], "i").unwrap(), i32::MIN);
        assert_eq!(decode_i32(&[0xff], "i").unwrap(), -1);
        assert_eq!(
            decode_i32(&[0x00, 0x80, 0, 0, 0], "i").unwrap_err().kind(),
            "too_long"
        );
        assert_eq!(decode_i32(&[], "i").unwrap_err().kind(), "malformed");
        assert_eq!(decode_i64(&[1; 9], "i").unwrap_err().kind(), "too_long");
        assert_eq!(
            decode_u32(&[0, 0xff, 0xff, 0xff, 0xff], "u").unwrap(),
            u32::MAX
        );
        assert_eq!(
            decode_u32(&[0xff, 0xff, 0xff, 0xff], "u").unwrap(),
            u32::MAX
        );
        assert_eq!(
            decode_u32(&[1, 0, 0, 0, 0], "u").unwrap_err().kind(),
            "too_long"
        );
        let counter64_max = [0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(decode_unsigned(&counter64_max, 8, "c").unwrap(), u64::MAX);
        assert_eq!(
            decode_unsigned(&[0; 10], 8, "c").unwrap_err().kind(),
            "too_long"
        );
    }

    #[test]
    fn integer_encoding_is_minimal_and_round_trips() {
        for value in [
            0,
            1,
            127,
            128,
            255,
            256,
            -1,
            -128,
            -129,
            i64::from(i32::MAX),
            i64::MIN,
        ] {
            let mut out = Vec::new();
            write_integer(&mut out, value);
            let mut reader = Reader::new(&out, 1);
            let tlv = reader.read(TAG_INTEGER, "integer").unwrap();
            assert_eq!(decode_i64(tlv.content, "integer").unwrap(), value);
            reader.finish("integer").unwrap();
        }
        let mut out = Vec::new();
        write_integer(&mut out, 128);
        assert_eq!(out, [0x02, 0x02, 0x00, 0x80]);
    }

    #[test]
    fn length_encoding_round_trips() {
        for length in [0, 1, 127, 128, 255, 256, 65_535, 1 << 20] {
            let content = vec![0u8; length];
            let mut out = Vec::new();
            write_tlv(&mut out, TAG_OCTET_STRING, &content);
            let mut reader = Reader::new(&out, 1);
            assert_eq!(reader.read_octets("s").unwrap().content.len(), length);
            assert!(reader.is_empty());
        }
    }

    #[test]
    fn oids_decode_arcs_and_bound_their_size() {
        let oid = decode_oid(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0xbf, 0x08], "oid").unwrap();
        assert_eq!(oid.to_string(), "1.3.6.1.4.1.8072");
        // 2.999: the first sub-identifier is 80 + 999 = 1079.
        assert_eq!(
            decode_oid(&[0x88, 0x37], "oid").unwrap().to_string(),
            "2.999"
        );
        // u32::MAX as the third arc, then one more than that.
        let max = [0x2b, 0x8f, 0xff, 0xff, 0xff, 0x7f];
        assert_eq!(decode_oid(&max, "oid").unwrap().as_slice()[2], u32::MAX);
        let over = [0x2b, 0x90, 0x80, 0x80, 0x80, 0x00];
        assert_eq!(decode_oid(&over, "oid").unwrap_err().kind(), "too_long");
        let endless = [0x2b; 1]
            .iter()
            .chain([0xff; 64].iter())
            .copied()
            .collect::<Vec<_>>();
        assert_eq!(decode_oid(&endless, "oid").unwrap_err().kind(), "too_long");
        assert_eq!(
            decode_oid(&[0x2b, 0x86], "oid").unwrap_err().kind(),
            "malformed"
        );
        assert_eq!(decode_oid(&[], "oid").unwrap_err().kind(), "malformed");
        let arcs_128 = [0x2b].into_iter().chain([1u8; 126]).collect::<Vec<_>>();
        assert_eq!(decode_oid(&arcs_128, "oid").unwrap().as_slice().len(), 128);
        let arcs_129 = [0x2b].into_iter().chain([1u8; 127]).collect::<Vec<_>>();
        assert_eq!(decode_oid(&arcs_129, "oid").unwrap_err().kind(), "too_long");
    }

    #[test]
    fn oid_encoding_round_trips() {
        for text in [
            "1.3.6.1.6.3.1.1.5.3",
            "2.999.4294967295",
            "0.0",
            "1.3.6.1.4.1.8072.0.17",
        ] {
            let oid: Oid = text.parse().unwrap();
            let mut out = Vec::new();
            write_oid(&mut out, oid.as_slice());
            let mut reader = Reader::new(&out, 1);
            assert_eq!(reader.read_oid("oid").unwrap(), oid);
        }
    }
}
