//! Any bytes, pushed in pieces whose sizes the input chooses: the framer must not panic, must keep
//! frames within the limit and must hold no more than a frame and
//! an octet-count header once drained.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_codec::limits::{Limits, MAX_OCTET_COUNT_DIGITS};
use vigil_codec::syslog::{FrameOutcome, SyslogFramer};

/// Small, so that truncation and skipping are exercised often.
const FUZZ_MAX_FRAME_BYTES: usize = 64;

fuzz_target!(|data: &[u8]| {
    let Some((&piece_size, stream)) = data.split_first() else {
        return;
    };
    let piece_size = usize::from(piece_size).max(1);
    let mut framer = SyslogFramer::new(&Limits {
        max_frame_bytes: FUZZ_MAX_FRAME_BYTES,
    });
    let check = |outcome: FrameOutcome| {
        if let FrameOutcome::Frame(frame) = outcome {
            assert!(!frame.bytes.is_empty());
            assert!(frame.bytes.len() <= FUZZ_MAX_FRAME_BYTES);
        }
    };
    for piece in stream.chunks(piece_size) {
        framer.push(piece);
        while let Some(outcome) = framer.next_frame() {
            check(outcome);
        }
        assert!(framer.buffered_bytes() <= FUZZ_MAX_FRAME_BYTES + MAX_OCTET_COUNT_DIGITS);
    }
    while let Some(outcome) = framer.finish() {
        check(outcome);
    }
    assert_eq!(framer.buffered_bytes(), 0);
});
