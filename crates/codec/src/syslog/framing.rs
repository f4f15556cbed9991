//! Syslog over a TCP stream: bytes in, frames out.
//!
//! Two framings share one stream and are told apart per frame
//! ([RFC 6587 §3.4](https://www.rfc-editor.org/rfc/rfc6587#section-3.4)):
//! - **octet-counting**: `MSG-LEN SP SYSLOG-MSG`, recognised by 1 to
//!   [`MAX_OCTET_COUNT_DIGITS`] ASCII digits followed by a space at the start of a frame;
//! - **non-transparent**: anything else, ended by LF or NUL (a trailing CR is dropped too).
//!
//! rsyslog and syslog-ng put a trailing LF (or CR LF) inside octet-counted frames; it is stripped.
//! Empty frames are skipped.
//!
//! # Truncation and its report
//!
//! A frame is never dropped and never grows the buffer past the limit. Whenever the framer has to
//! cut a frame, it yields two outcomes, in this order:
//! 1. `FrameOutcome::Frame` with the first `max_frame_bytes` bytes (or, at end of stream, what
//!    arrived) and `truncated: true`: decode it and flag the event truncated;
//! 2. `FrameOutcome::Error` saying why ([`FrameError::Oversized`], [`FrameError::LineTooLong`] or
//!    [`FrameError::TruncatedAtEof`]): count it (label it with [`FrameError::kind`]).
//!
//! So a caller counts truncated frames on the `Frame` and framing errors on the `Error`, and each
//! cut frame is counted once in each. The rest of an oversized frame is skipped as it streams in
//! (the octet count says how much; a long line is skipped up to its LF), without being buffered.
//! Once drained, the framer holds at most `max_frame_bytes + MAX_OCTET_COUNT_DIGITS` bytes (a
//! partial frame and its header); between a `push` and the drain, that plus the push.
//!
//! A zero octet count (`0 `) yields only [`FrameError::InvalidOctetCount`]; the header is dropped
//! and framing goes on with the next byte.

use crate::limits::{Limits, MAX_OCTET_COUNT_DIGITS};

/// Splits a TCP byte stream into syslog frames. Sans-IO: feed it what the socket gave with
/// [`push`](Self::push), then drain [`next_frame`](Self::next_frame) until `None`; at end of
/// stream drain [`finish`](Self::finish) until `None`.
#[derive(Debug)]
pub struct SyslogFramer {
    max_frame_bytes: usize,
    /// Bytes received and not yet framed start at `read_cursor`; bytes before it are spent and
    /// dropped by `compact` once that is cheap (amortised O(1) per byte).
    buffer: Vec<u8>,
    read_cursor: usize,
    /// How many unread bytes were already searched for a delimiter, so a line arriving in many
    /// small pieces is scanned once, not once per piece.
    scanned_bytes: usize,
    skip: Skip,
    /// The report that follows a truncated frame (see the module docs).
    pending_error: Option<FrameError>,
    /// Buffer capacity kept across pushes; a larger capacity left by one huge push is released.
    retained_capacity_bytes: usize,
}

/// One result of framing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameOutcome {
    Frame(Frame),
    Error(FrameError),
}

/// One syslog message's bytes, without its framing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub bytes: Vec<u8>,
    pub framing: Framing,
    /// The frame was cut; an [`FrameOutcome::Error`] saying why comes next.
    pub truncated: bool,
}

/// How a frame was delimited on the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Framing {
    /// RFC 6587 §3.4.1: `MSG-LEN SP SYSLOG-MSG`.
    OctetCounting,
    /// RFC 6587 §3.4.2: ended by LF (or NUL).
    NonTransparent,
}

/// Why a frame was cut or a header dropped. Each is reported once, after the frame it concerns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The octet count was larger than the limit: the frame was cut and the rest skipped.
    #[error(
        "octet-counted frame of {declared_bytes} bytes exceeds the limit of {max_frame_bytes}"
    )]
    Oversized {
        declared_bytes: u64,
        max_frame_bytes: usize,
    },
    /// An LF-delimited line was longer than the limit: it was cut and the rest skipped.
    #[error("line exceeds the limit of {max_frame_bytes} bytes")]
    LineTooLong { max_frame_bytes: usize },
    /// The stream ended inside an octet-counted frame: what arrived was yielded, cut.
    #[error("stream ended after {received_bytes} of {declared_bytes} declared bytes")]
    TruncatedAtEof {
        declared_bytes: u64,
        received_bytes: usize,
    },
    /// An octet count of zero, which RFC 6587 forbids; the header was dropped.
    #[error("invalid octet count")]
    InvalidOctetCount,
}

impl FrameError {
    /// A short fixed name, for a bounded metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            FrameError::Oversized { .. } => "oversized",
            FrameError::LineTooLong { .. } => "line_too_long",
            FrameError::TruncatedAtEof { .. } => "truncated_at_eof",
            FrameError::InvalidOctetCount => "invalid_octet_count",
        }
    }
}

/// The rest of a cut frame still to be thrown away as it arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Skip {
    Nothing,
    /// This many more bytes of an oversized octet-counted frame.
    Octets(u64),
    /// Everything up to and including the next LF or NUL.
    ToDelimiter,
}

/// What the bytes at the start of a frame say about its framing.
enum Header {
    /// Digits so far and no space yet: cannot tell.
    NeedMore,
    OctetCount {
        header_bytes: usize,
        declared_bytes: u64,
    },
    NonTransparent,
}

/// What one framing step did.
enum Step {
    Emit(FrameOutcome),
    /// Consumed something that yields nothing (an empty frame); try again.
    Continue,
    NeedMore,
}

impl SyslogFramer {
    pub fn new(limits: &Limits) -> Self {
        let max_frame_bytes = limits.max_frame_bytes.max(1);
        Self {
            max_frame_bytes,
            buffer: Vec::new(),
            read_cursor: 0,
            scanned_bytes: 0,
            skip: Skip::Nothing,
            pending_error: None,
            retained_capacity_bytes: max_frame_bytes.saturating_mul(2),
        }
    }

    /// Hands in bytes read from the socket. Bytes that belong to a frame being skipped are dropped
    /// here without being copied.
    pub fn push(&mut self, bytes: &[u8]) {
        let mut bytes = bytes;
        if self.read_cursor == self.buffer.len() {
            let skipped = skip_prefix(&mut self.skip, bytes);
            bytes = &bytes[skipped..];
        }
        self.compact();
        self.buffer.extend_from_slice(bytes);
    }

    /// The next frame or report, or `None` when more bytes are needed. Call until `None` after
    /// each [`push`](Self::push).
    pub fn next_frame(&mut self) -> Option<FrameOutcome> {
        loop {
            if let Some(error) = self.pending_error.take() {
                return Some(FrameOutcome::Error(error));
            }
            if !self.skip_buffered() {
                return None;
            }
            let unread = &self.buffer[self.read_cursor..];
            if unread.is_empty() {
                return None;
            }
            let step = match classify(unread) {
                Header::NeedMore => Step::NeedMore,
                Header::OctetCount {
                    header_bytes,
                    declared_bytes,
                } => self.take_octet_counted(header_bytes, declared_bytes),
                Header::NonTransparent => self.take_line(),
            };
            match step {
                Step::Emit(outcome) => return Some(outcome),
                Step::Continue => continue,
                Step::NeedMore => return None,
            }
        }
    }

    /// At end of stream: the frames still complete, then what is left (an unterminated line as a
    /// frame; a partial octet-counted frame as a truncated frame plus
    /// [`FrameError::TruncatedAtEof`]). Call until `None`; the framer is then empty and reusable.
    pub fn finish(&mut self) -> Option<FrameOutcome> {
        if let Some(outcome) = self.next_frame() {
            return Some(outcome);
        }
        let unread = &self.buffer[self.read_cursor..];
        let frame = match classify(unread) {
            _ if unread.is_empty() => None,
            Header::OctetCount {
                header_bytes,
                declared_bytes,
            } => {
                // Complete frames were taken by `next_frame`, so this body is short.
                let body = &unread[header_bytes..];
                self.pending_error = Some(FrameError::TruncatedAtEof {
                    declared_bytes,
                    received_bytes: body.len(),
                });
                (!body.is_empty()).then(|| Frame {
                    bytes: body.to_vec(),
                    framing: Framing::OctetCounting,
                    truncated: true,
                })
            }
            Header::NeedMore | Header::NonTransparent => {
                // The sender closed without a final LF: common (`nc`, `logger --tcp`), not an error.
                let line = strip_trailing_cr(unread);
                if line.len() > self.max_frame_bytes {
                    self.pending_error = Some(FrameError::LineTooLong {
                        max_frame_bytes: self.max_frame_bytes,
                    });
                }
                let kept = &line[..line.len().min(self.max_frame_bytes)];
                (!kept.is_empty()).then(|| Frame {
                    bytes: kept.to_vec(),
                    framing: Framing::NonTransparent,
                    truncated: line.len() > self.max_frame_bytes,
                })
            }
        };
        self.buffer.clear();
        self.read_cursor = 0;
        self.scanned_bytes = 0;
        self.skip = Skip::Nothing;
        self.compact();
        match frame {
            Some(frame) => Some(FrameOutcome::Frame(frame)),
            None => self.pending_error.take().map(FrameOutcome::Error),
        }
    }

    /// Bytes held that are not framed yet: what a connection costs in memory right now.
    pub fn buffered_bytes(&self) -> usize {
        self.buffer.len() - self.read_cursor
    }

    fn take_octet_counted(&mut self, header_bytes: usize, declared_bytes: u64) -> Step {
        if declared_bytes == 0 {
            self.consume(header_bytes);
            return Step::Emit(FrameOutcome::Error(FrameError::InvalidOctetCount));
        }
        let unread = &self.buffer[self.read_cursor..];
        let max_frame_bytes = self.max_frame_bytes;
        let oversized = declared_bytes > max_frame_bytes as u64;
        // Not oversized, so the count fits in usize.
        let kept_bytes = if oversized {
            max_frame_bytes
        } else {
            declared_bytes as usize
        };
        let end = header_bytes + kept_bytes;
        if unread.len() < end {
            return Step::NeedMore;
        }
        let body = &unread[header_bytes..end];
        if oversized {
            let frame = Frame {
                bytes: body.to_vec(),
                framing: Framing::OctetCounting,
                truncated: true,
            };
            self.consume(end);
            self.skip = Skip::Octets(declared_bytes - max_frame_bytes as u64);
            self.pending_error = Some(FrameError::Oversized {
                declared_bytes,
                max_frame_bytes,
            });
            return Step::Emit(FrameOutcome::Frame(frame));
        }
        let body = strip_trailing_newline(body);
        if body.is_empty() {
            self.consume(end);
            return Step::Continue;
        }
        let frame = Frame {
            bytes: body.to_vec(),
            framing: Framing::OctetCounting,
            truncated: false,
        };
        self.consume(end);
        Step::Emit(FrameOutcome::Frame(frame))
    }

    fn take_line(&mut self) -> Step {
        let unread = &self.buffer[self.read_cursor..];
        let max_frame_bytes = self.max_frame_bytes;
        // A line of exactly the limit may still be followed by CR LF.
        let search_end = unread.len().min(max_frame_bytes.saturating_add(2));
        let search_start = self.scanned_bytes.min(search_end);
        let found = unread[search_start..search_end]
            .iter()
            .position(|&byte| is_delimiter(byte))
            .map(|offset| search_start + offset);
        match found {
            Some(delimiter) => {
                let line = strip_trailing_cr(&unread[..delimiter]);
                let truncated = line.len() > max_frame_bytes;
                let kept = &line[..line.len().min(max_frame_bytes)];
                if truncated {
                    self.pending_error = Some(FrameError::LineTooLong { max_frame_bytes });
                }
                let frame = (!kept.is_empty()).then(|| Frame {
                    bytes: kept.to_vec(),
                    framing: Framing::NonTransparent,
                    truncated,
                });
                self.consume(delimiter + 1);
                match frame {
                    Some(frame) => Step::Emit(FrameOutcome::Frame(frame)),
                    None => Step::Continue,
                }
            }
            None if unread.len() >= max_frame_bytes.saturating_add(2) => {
                let frame = Frame {
                    bytes: unread[..max_frame_bytes].to_vec(),
                    framing: Framing::NonTransparent,
                    truncated: true,
                };
                self.consume(max_frame_bytes);
                self.skip = Skip::ToDelimiter;
                self.pending_error = Some(FrameError::LineTooLong { max_frame_bytes });
                Step::Emit(FrameOutcome::Frame(frame))
            }
            None => {
                self.scanned_bytes = search_end;
                Step::NeedMore
            }
        }
    }

    /// Applies a skip in progress to the buffered bytes; `false` while it still needs more.
    fn skip_buffered(&mut self) -> bool {
        if self.skip == Skip::Nothing {
            return true;
        }
        let skipped = skip_prefix(&mut self.skip, &self.buffer[self.read_cursor..]);
        self.consume(skipped);
        self.skip == Skip::Nothing
    }

    fn consume(&mut self, num_bytes: usize) {
        debug_assert!(self.read_cursor + num_bytes <= self.buffer.len());
        self.read_cursor += num_bytes;
        self.scanned_bytes = 0;
    }

    /// Drops spent bytes when moving the unread ones costs no more than the bytes already spent,
    /// so each byte is moved O(1) times on average.
    fn compact(&mut self) {
        let unread_bytes = self.buffer.len() - self.read_cursor;
        if self.read_cursor > 0 && self.read_cursor >= unread_bytes {
            self.buffer.drain(..self.read_cursor);
            self.read_cursor = 0;
        }
        if self.buffer.capacity() > self.retained_capacity_bytes
            && self.buffer.len() <= self.retained_capacity_bytes / 2
        {
            self.buffer.shrink_to(self.retained_capacity_bytes);
        }
    }
}

/// How many leading bytes of `bytes` the skip in progress throws away; updates the skip.
fn skip_prefix(skip: &mut Skip, bytes: &[u8]) -> usize {
    match *skip {
        Skip::Nothing => 0,
        Skip::Octets(remaining) => {
            let skipped = remaining.min(bytes.len() as u64);
            *skip = match remaining - skipped {
                0 => Skip::Nothing,
                left => Skip::Octets(left),
            };
            // skipped <= bytes.len(), so it fits.
            skipped as usize
        }
        Skip::ToDelimiter => match bytes.iter().position(|&byte| is_delimiter(byte)) {
            Some(delimiter) => {
                *skip = Skip::Nothing;
                delimiter + 1
            }
            None => bytes.len(),
        },
    }
}

fn classify(unread: &[u8]) -> Header {
    let digits = unread
        .iter()
        .take(MAX_OCTET_COUNT_DIGITS + 1)
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    if digits == 0 || digits > MAX_OCTET_COUNT_DIGITS {
        return Header::NonTransparent;
    }
    match unread.get(digits) {
        None => Header::NeedMore,
        Some(b' ') => Header::OctetCount {
            header_bytes: digits + 1,
            // At most 10 digits: fits in u64 without overflow.
            declared_bytes: unread[..digits]
                .iter()
                .fold(0, |count, digit| count * 10 + u64::from(digit - b'0')),
        },
        Some(_) => Header::NonTransparent,
    }
}

fn is_delimiter(byte: u8) -> bool {
    byte == b'\n' || byte == 0
}

fn strip_trailing_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The LF or CR LF that rsyslog and syslog-ng put at the end of an octet-counted frame.
fn strip_trailing_newline(body: &[u8]) -> &[u8] {
    match body.strip_suffix(b"\n") {
        Some(line) => strip_trailing_cr(line),
        None => body,
    }
}

#[cfg(test)]
mod tests;
