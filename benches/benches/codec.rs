//! The syslog hot path: decoding one frame, and framing a TCP stream.
//!
//! `cargo bench -p vigil-benches --bench codec`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigil_codec::limits::Limits;
use vigil_codec::syslog::{decode_syslog, DecodeContext, FrameOutcome, SyslogFramer};
use vigil_event::Timestamp;

/// ~120 bytes, the shape of most Linux auth logs.
const RFC3164_LINE: &[u8] =
    b"<38>Nov 26 22:36:01 bastion-01 sshd[48213]: Accepted publickey for deploy from 10.20.30.40 port 52144 ssh2: ED25519 SHA256:x3Ab";

/// ~300 bytes with two SD-ELEMENTs, one with an escaped quote.
const RFC5424_LINE: &[u8] = br#"<165>1 2025-11-26T22:36:01.123456+01:00 fw-edge-02.agency.example firewalld 2841 AUDIT [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][origin ip="192.0.2.7" software="fw\"d" swVersion="2.4.1"] connection from 198.51.100.23:4431 to 10.0.0.5:443 accepted by policy allow-https"#;

/// Frames of about this many bytes make up the framing benchmark's stream.
const FRAME_BYTES: usize = 250;
/// How many frames the stream holds, and the read size it is pushed in.
const NUM_FRAMES: usize = 4_000;
const READ_BYTES: usize = 64 * 1024;

fn context() -> DecodeContext {
    DecodeContext::utc(Timestamp::from_nanos(1_764_196_561_000_000_000))
}

fn decode(c: &mut Criterion) {
    let context = context();
    let mut group = c.benchmark_group("codec/decode");
    group.throughput(Throughput::Elements(1));
    for (name, line) in [("rfc3164", RFC3164_LINE), ("rfc5424_sd", RFC5424_LINE)] {
        group.bench_function(format!("{name}_{}_bytes", line.len()), |b| {
            b.iter(|| decode_syslog(black_box(line), &context))
        });
    }
    group.finish();
}

fn octet_counted_stream() -> Vec<u8> {
    let mut stream = Vec::new();
    for index in 0..NUM_FRAMES {
        let prefix = format!("<13>1 2025-11-26T22:36:01Z host app {index} - - ");
        let body_bytes = FRAME_BYTES.saturating_sub(prefix.len());
        let frame = format!("{prefix}{}\n", "x".repeat(body_bytes));
        stream.extend_from_slice(format!("{} ", frame.len()).as_bytes());
        stream.extend_from_slice(frame.as_bytes());
    }
    stream
}

fn framing(c: &mut Criterion) {
    let stream = octet_counted_stream();
    let mut group = c.benchmark_group("codec/framing");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function(format!("octet_counted_{FRAME_BYTES}_byte_frames"), |b| {
        b.iter(|| {
            let mut framer = SyslogFramer::new(&Limits::default());
            let mut num_frames = 0usize;
            for read in stream.chunks(READ_BYTES) {
                framer.push(black_box(read));
                while let Some(outcome) = framer.next_frame() {
                    num_frames += usize::from(matches!(outcome, FrameOutcome::Frame(_)));
                }
            }
            assert_eq!(num_frames, NUM_FRAMES);
            num_frames
        })
    });
    group.finish();
}

criterion_group!(benches, decode, framing);
criterion_main!(benches);
