//! Framer behaviour, one rule per test.

use super::*;

fn framer(max_frame_bytes: usize) -> SyslogFramer {
    SyslogFramer::new(&Limits { max_frame_bytes })
}

fn drain(framer: &mut SyslogFramer) -> Vec<FrameOutcome> {
    std::iter::from_fn(|| framer.next_frame()).collect()
}

fn drain_finish(framer: &mut SyslogFramer) -> Vec<FrameOutcome> {
    std::iter::from_fn(|| framer.finish()).collect()
}

fn frame(bytes: &[u8], framing: Framing, truncated: bool) -> FrameOutcome {
    FrameOutcome::Frame(Frame {
        bytes: bytes.to_vec(),
        framing,
        truncated,
    })
}

use Framing::{NonTransparent as Nt, OctetCounting as Oc};

#[test]
fn framer_mixes_octet_counted_and_lf_frames() {
    let mut framer = framer(1024);
    framer.push(b"5 hello<13>a line\r\n\n\x006 world\n3 abc");
    assert_eq!(
        drain(&mut framer),
        [
            frame(b"hello", Oc, false),
            frame(b"<13>a line", Nt, false),
            frame(b"world", Oc, false),
            frame(b"abc", Oc, false),
        ]
    );
    assert_eq!(framer.buffered_bytes(), 0);
}

#[test]
fn framer_waits_for_the_rest_of_a_frame() {
    let mut framer = framer(1024);
    for piece in [&b"1"[..], b"1 hello", b" worl", b"dpartial", b" line"] {
        framer.push(piece);
        let outcomes = drain(&mut framer);
        if piece == b"dpartial" {
            assert_eq!(outcomes, [frame(b"hello world", Oc, false)]);
        } else {
            assert!(outcomes.is_empty(), "{outcomes:?}");
        }
    }
    assert_eq!(
        drain_finish(&mut framer),
        [frame(b"partial line", Nt, false)]
    );
    assert_eq!(framer.buffered_bytes(), 0);
}

#[test]
fn framer_treats_eleven_digits_as_a_line() {
    let mut framer = framer(1024);
    framer.push(b"12345678901 x\n1234567890 ");
    assert_eq!(drain(&mut framer), [frame(b"12345678901 x", Nt, false)]);
    assert_eq!(framer.buffered_bytes(), 11);
}

#[test]
fn framer_cuts_oversized_octet_frame_and_skips_the_rest_unbuffered() {
    let mut framer = framer(4);
    framer.push(b"10 abcdef");
    assert_eq!(
        drain(&mut framer),
        [
            frame(b"abcd", Oc, true),
            FrameOutcome::Error(FrameError::Oversized {
                declared_bytes: 10,
                max_frame_bytes: 4
            })
        ]
    );
    framer.push(b"gh");
    assert_eq!(framer.buffered_bytes(), 0);
    framer.push(b"ij3 xyz");
    assert_eq!(drain(&mut framer), [frame(b"xyz", Oc, false)]);
}

#[test]
fn framer_skips_ten_mebibytes_in_bounded_memory() {
    let mut framer = framer(1024);
    let declared = 10 * 1024 * 1024;
    framer.push(format!("{declared} ").as_bytes());
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    let mut outcomes = Vec::new();
    while sent < declared {
        let piece = &chunk[..chunk.len().min(declared - sent)];
        framer.push(piece);
        sent += piece.len();
        outcomes.extend(drain(&mut framer));
        assert!(framer.buffer.capacity() <= 2 * 1024 + chunk.len() * 2);
    }
    framer.push(b"2 ok");
    outcomes.extend(drain(&mut framer));
    assert_eq!(outcomes.len(), 3);
    assert_eq!(outcomes[2], frame(b"ok", Oc, false));
}

#[test]
fn framer_cuts_long_line_and_discards_to_next_lf() {
    let mut framer = framer(4);
    framer.push(b"abcdefgh");
    assert_eq!(
        drain(&mut framer),
        [
            frame(b"abcd", Nt, true),
            FrameOutcome::Error(FrameError::LineTooLong { max_frame_bytes: 4 })
        ]
    );
    framer.push(b"ijk\nlmno\r\nz\n");
    assert_eq!(
        drain(&mut framer),
        [frame(b"lmno", Nt, false), frame(b"z", Nt, false)]
    );
}

#[test]
fn framer_returns_partial_octet_frame_at_eof_as_truncated() {
    let mut framer = framer(1024);
    framer.push(b"3 abc16 <1>1");
    assert_eq!(drain(&mut framer), [frame(b"abc", Oc, false)]);
    assert_eq!(
        drain_finish(&mut framer),
        [
            frame(b"<1>1", Oc, true),
            FrameOutcome::Error(FrameError::TruncatedAtEof {
                declared_bytes: 16,
                received_bytes: 4
            })
        ]
    );
    assert_eq!(framer.finish(), None);
}

#[test]
fn framer_reports_zero_octet_count() {
    let mut framer = framer(1024);
    framer.push(b"0 1 a");
    assert_eq!(
        drain(&mut framer),
        [
            FrameOutcome::Error(FrameError::InvalidOctetCount),
            frame(b"a", Oc, false)
        ]
    );
}

#[test]
fn framer_strips_trailing_newline_inside_octet_frame() {
    let mut framer = framer(1024);
    framer.push(b"4 abc\n5 abc\r\n1 \n");
    assert_eq!(
        drain(&mut framer),
        [frame(b"abc", Oc, false), frame(b"abc", Oc, false)]
    );
}

#[test]
fn framer_keeps_line_of_exactly_the_limit_followed_by_crlf() {
    let mut framer = framer(4);
    framer.push(b"abcd\r");
    assert!(drain(&mut framer).is_empty());
    framer.push(b"\n");
    assert_eq!(drain(&mut framer), [frame(b"abcd", Nt, false)]);
}
