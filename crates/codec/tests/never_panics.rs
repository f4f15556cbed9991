//! Property tests: no input panics the framer or the decoder, memory stays bounded, and framing is
//! a faithful inverse of octet-counting whatever the read boundaries.

use proptest::prelude::*;
use vigil_codec::limits::{Limits, MAX_OCTET_COUNT_DIGITS};
use vigil_codec::syslog::{
    decode_syslog, DecodeContext, Frame, FrameOutcome, Framing, SyslogFramer,
};
use vigil_event::Timestamp;

const MAX_FRAME_BYTES: usize = 256;

fn context(received_nanos: i64, offset_secs: i32) -> DecodeContext {
    DecodeContext {
        received: Timestamp::from_nanos(received_nanos),
        default_tz: chrono::FixedOffset::east_opt(offset_secs)
            .unwrap_or(chrono::FixedOffset::east_opt(0).unwrap()),
    }
}

/// Feeds `stream` to a framer cut at `split_points` (byte offsets, any order), draining after
/// every push and at the end.
fn frame_all(stream: &[u8], split_points: &[usize], max_frame_bytes: usize) -> Vec<FrameOutcome> {
    let mut framer = SyslogFramer::new(&Limits { max_frame_bytes });
    let mut cuts: Vec<usize> = split_points
        .iter()
        .map(|cut| cut % (stream.len() + 1))
        .collect();
    cuts.push(stream.len());
    cuts.sort_unstable();
    let mut outcomes = Vec::new();
    let mut start = 0;
    for cut in cuts {
        framer.push(&stream[start..cut]);
        start = cut;
        outcomes.extend(std::iter::from_fn(|| framer.next_frame()));
        // Once drained: at most a partial frame and its header.
        assert!(framer.buffered_bytes() <= max_frame_bytes + MAX_OCTET_COUNT_DIGITS);
    }
    outcomes.extend(std::iter::from_fn(|| framer.finish()));
    assert_eq!(framer.buffered_bytes(), 0);
    outcomes
}

/// Bytes that look like syslog more often than uniform noise does.
fn syslogish_bytes() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop_oneof![
        Just(b"<13>".to_vec()),
        Just(b"<165>1 ".to_vec()),
        Just(b"2003-10-11T22:14:15.003Z ".to_vec()),
        Just(b"Dec 31 23:59:59 ".to_vec()),
        Just(b"Feb 29 00:00:00 ".to_vec()),
        Just(b"- ".to_vec()),
        Just(b"[id a=\"b\\\"c\"]".to_vec()),
        Just(b"app[12]: ".to_vec()),
        Just(b"12 ".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"\r\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..16),
    ];
    proptest::collection::vec(pieces, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #[test]
    fn decoder_never_panics_on_any_bytes(
        frame in prop_oneof![proptest::collection::vec(any::<u8>(), 0..512), syslogish_bytes()],
        received_nanos in any::<i64>(),
        offset_secs in -86_399i32..86_400,
    ) {
        let event = decode_syslog(&frame, &context(received_nanos, offset_secs));
        prop_assert_eq!(event.original, frame);
    }

    #[test]
    fn framer_never_panics_and_stays_bounded(
        stream in prop_oneof![proptest::collection::vec(any::<u8>(), 0..2048), syslogish_bytes()],
        split_points in proptest::collection::vec(any::<usize>(), 0..8),
        max_frame_bytes in 1usize..64,
    ) {
        for outcome in frame_all(&stream, &split_points, max_frame_bytes) {
            if let FrameOutcome::Frame(frame) = outcome {
                prop_assert!(!frame.bytes.is_empty());
                prop_assert!(frame.bytes.len() <= max_frame_bytes);
                let _ = decode_syslog(&frame.bytes, &context(0, 0));
            }
        }
    }

    #[test]
    fn framer_gives_back_octet_counted_frames_whatever_the_splits(
        frames in proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), 1..MAX_FRAME_BYTES)
                .prop_filter("a trailing LF is framing, not content", |bytes| bytes.last() != Some(&b'\n')),
            0..12,
        ),
        split_points in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut stream = Vec::new();
        for frame in &frames {
            stream.extend_from_slice(format!("{} ", frame.len()).as_bytes());
            stream.extend_from_slice(frame);
        }
        let expected: Vec<FrameOutcome> = frames
            .into_iter()
            .map(|bytes| FrameOutcome::Frame(Frame { bytes, framing: Framing::OctetCounting, truncated: false }))
            .collect();
        prop_assert_eq!(frame_all(&stream, &split_points, MAX_FRAME_BYTES), expected);
    }

    #[test]
    fn framer_gives_back_lines_whatever_the_splits(
        lines in proptest::collection::vec("[a-zA-Z<>: ]{1,40}", 0..12),
        split_points in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        // Lines starting with digits and a space would be octet counts; this alphabet has none.
        let stream: Vec<u8> = lines.iter().flat_map(|line| format!("{line}\n").into_bytes()).collect();
        let expected: Vec<FrameOutcome> = lines
            .into_iter()
            .map(|line| FrameOutcome::Frame(Frame { bytes: line.into_bytes(), framing: Framing::NonTransparent, truncated: false }))
            .collect();
        prop_assert_eq!(frame_all(&stream, &split_points, MAX_FRAME_BYTES), expected);
    }
}
