//! Any bytes as one frame: the decoder must not panic and must keep the bytes exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_codec::syslog::{decode_syslog, DecodeContext};
use vigil_event::Timestamp;

fuzz_target!(|data: &[u8]| {
    // The first bytes choose the receive time and the default zone, the rest is the frame.
    let (head, frame) = data.split_at(data.len().min(12));
    let mut nanos = [0u8; 8];
    nanos[..head.len().min(8)].copy_from_slice(&head[..head.len().min(8)]);
    let offset_secs = head.get(8..12).map_or(0, |bytes| {
        i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) % 86_400
    });
    let Some(default_tz) = chrono::FixedOffset::east_opt(offset_secs) else {
        return;
    };
    let context = DecodeContext {
        received: Timestamp::from_nanos(i64::from_le_bytes(nanos)),
        default_tz,
    };
    let event = decode_syslog(frame, &context);
    assert_eq!(event.original, frame);
});
