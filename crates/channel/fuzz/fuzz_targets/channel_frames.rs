//! Whatever bytes a peer sends: frames decode or fail cleanly, and batch payloads decode within
//! small limits or fail cleanly. Never a panic, never an allocation past the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_channel::{decode_batch, BatchLimits, Frame, FrameDecoder};

fuzz_target!(|data: &[u8]| {
    let limits = BatchLimits {
        max_events: 1000,
        max_raw_bytes: 1 << 20,
    };
    let mut decoder = FrameDecoder::new(1 << 20);
    for piece in data.chunks(97) {
        decoder.push(piece);
        loop {
            match decoder.next_frame() {
                Ok(Some(Frame::Batch(batch))) => {
                    let _ = decode_batch(&batch, &limits);
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
