//! Tailing log files: each line a syslog event, positions kept across restarts, rotation and
//! truncation followed.
//!
//! A file is known by its device and inode, so a rotated file (renamed, a new one created at
//! the path) is read to its end before the new one is opened, and a restarted agent resumes the
//! right file. Each delivery carries a mark, (device, inode) → the offset its last line ends
//! at; the sink stores the mark with the batch it lands in, so a position is durable exactly
//! when the lines before it are (no line lost or sent twice across a kill -9). Only whole lines
//! are read: an unfinished last line waits for its newline (or for the file to be rotated away).
//! A file shorter than its position was truncated (copytruncate) and is read from the start.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use vigil_event::{Event, Timestamp, Value};
use vigil_pipeline::{
    BatchSender, BoxFuture, Counter, Delivery, DeliveryMark, Metrics, ShutdownSignal, Source,
};

use crate::syslog::ListenerMetrics;
use crate::Stamper;

/// `log.file.path`: the file a line was read from.
pub const LOG_FILE_PATH: &str = "log.file.path";
/// Bytes read from a file per step.
const READ_CHUNK_BYTES: usize = 1024 * 1024;

#[derive(Clone, Debug)]
pub struct TailOptions {
    pub paths: Vec<PathBuf>,
    /// How often files are checked for new lines and rotation.
    pub poll_interval: Duration,
    /// Longer lines are cut to this and flagged `truncated`.
    pub max_line_bytes: usize,
}

impl Default for TailOptions {
    fn default() -> Self {
        Self {
            paths: Vec::new(),
            poll_interval: Duration::from_millis(250),
            max_line_bytes: 64 * 1024,
        }
    }
}

/// The mark key of a file: its device and inode.
pub fn file_key(metadata: &std::fs::Metadata) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&metadata.dev().to_le_bytes());
    key[8..].copy_from_slice(&metadata.ino().to_le_bytes());
    key
}

struct Tailed {
    path: PathBuf,
    path_text: String,
    open: Option<OpenFile>,
}

struct OpenFile {
    file: File,
    key: [u8; 16],
    offset: u64,
}

struct TailMetrics {
    lines: ListenerMetrics,
    rotations: Counter,
    truncations: Counter,
    read_errors: Counter,
}

/// See the module docs.
pub struct FileTailSource {
    name: Arc<str>,
    options: TailOptions,
    /// Where each known file was left: (device, inode) → offset.
    positions: HashMap<[u8; 16], u64>,
    stamper: Arc<Stamper>,
    metrics: TailMetrics,
}

impl FileTailSource {
    pub fn new(
        name: &str,
        options: TailOptions,
        positions: HashMap<[u8; 16], u64>,
        stamper: Arc<Stamper>,
        metrics: &Metrics,
    ) -> Self {
        let labels = [("listener", name)];
        Self {
            name: Arc::from(name),
            options,
            positions,
            stamper,
            metrics: TailMetrics {
                lines: ListenerMetrics::new(metrics, name),
                rotations: metrics.counter(
                    "vigil_tail_rotations_total",
                    "Tailed files replaced at their path (rotated); the old one was read to its end.",
                    &labels,
                ),
                truncations: metrics.counter(
                    "vigil_tail_truncations_total",
                    "Tailed files found shorter than their position (truncated); read again from the start.",
                    &labels,
                ),
                read_errors: metrics.counter(
                    "vigil_tail_read_errors_total",
                    "Failed opens or reads of tailed files (retried at the next poll).",
                    &labels,
                ),
            },
        }
    }

    /// Lines of `bytes` as events; `end_of_file` makes a last line without newline count.
    /// Returns the events and how many bytes they consumed.
    fn lines(&self, bytes: &[u8], end_of_file: bool, path: &str) -> (Vec<Event>, usize) {
        let mut events = Vec::new();
        let mut consumed = 0;
        let listener = &self.name;
        let local = SocketAddr::from(([127, 0, 0, 1], 0));
        let received = Timestamp::now();
        let emit = |line: &[u8], events: &mut Vec<Event>| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                return;
            }
            let truncated = line.len() > self.options.max_line_bytes;
            let line = &line[..line.len().min(self.options.max_line_bytes)];
            self.metrics.lines.bytes_received.add(line.len() as u64);
            let mut event = self
                .stamper
                .syslog_event(line, truncated, local, listener, received);
            // A file has no sender address: the line's host name says where it came from.
            event.source = None;
            event.fields.insert(LOG_FILE_PATH.into(), Value::from(path));
            self.metrics.lines.count_event(&event);
            events.push(event);
        };
        while let Some(newline) = bytes[consumed..].iter().position(|byte| *byte == b'\n') {
            emit(&bytes[consumed..consumed + newline], &mut events);
            consumed += newline + 1;
        }
        let rest = &bytes[consumed..];
        if !rest.is_empty() && (end_of_file || rest.len() >= self.options.max_line_bytes) {
            emit(rest, &mut events);
            consumed = bytes.len();
        }
        (events, consumed)
    }

    /// Reads what `open` has past its offset, delivering it in chunks. `rotated_away` says the
    /// path now names another file, so a last line without newline is complete.
    async fn drain(
        &self,
        open: &mut OpenFile,
        path: &str,
        rotated_away: bool,
        out: &BatchSender,
    ) -> bool {
        let mut buffer = vec![0u8; READ_CHUNK_BYTES];
        loop {
            let read = open
                .file
                .seek(SeekFrom::Start(open.offset))
                .and_then(|_| read_up_to(&mut open.file, &mut buffer));
            let read = match read {
                Ok(read) => read,
                Err(error) => {
                    self.metrics.read_errors.inc();
                    tracing::warn!(listener = %self.name, path, %error, "cannot read a tailed file");
                    return true;
                }
            };
            if read == 0 {
                return true;
            }
            let end_of_file = rotated_away && read < buffer.len();
            let (events, consumed) = self.lines(&buffer[..read], end_of_file, path);
            if consumed == 0 {
                return true;
            }
            open.offset += consumed as u64;
            let mut delivery = Delivery::from(events);
            delivery.mark = Some(DeliveryMark {
                stream: open.key,
                seq: open.offset,
            });
            if out.send(delivery).await.is_err() {
                self.metrics.lines.dropped.inc();
                return false;
            }
        }
    }

    /// One poll of one path: follow rotation and truncation, read what is new.
    async fn poll(&mut self, tailed: &mut Tailed, out: &BatchSender) -> bool {
        let current = std::fs::metadata(&tailed.path).ok();
        let current_key = current.as_ref().map(file_key);
        if let Some(open) = &mut tailed.open {
            if current_key != Some(open.key) {
                // Rotated (or removed): finish the old file before anything else.
                if !self.drain(open, &tailed.path_text, true, out).await {
                    return false;
                }
                self.positions.insert(open.key, open.offset);
                if current_key.is_some() {
                    self.metrics.rotations.inc();
                    tracing::info!(listener = %self.name, path = %tailed.path.display(), "tailed file rotated; following the new one");
                }
                tailed.open = None;
            }
        }
        let (Some(metadata), Some(key)) = (current, current_key) else {
            return true;
        };
        if tailed.open.is_none() {
            match File::open(&tailed.path) {
                Ok(file) => {
                    let offset = self.positions.get(&key).copied().unwrap_or(0);
                    tailed.open = Some(OpenFile { file, key, offset });
                }
                Err(error) => {
                    self.metrics.read_errors.inc();
                    tracing::warn!(listener = %self.name, path = %tailed.path.display(), %error, "cannot open a tailed file");
                    return true;
                }
            }
        }
        let Some(open) = &mut tailed.open else {
            return true;
        };
        if metadata.len() < open.offset {
            self.metrics.truncations.inc();
            tracing::info!(listener = %self.name, path = %tailed.path.display(), "tailed file was truncated; reading it from the start");
            open.offset = 0;
        }
        let alive = self.drain(open, &tailed.path_text, false, out).await;
        self.positions.insert(open.key, open.offset);
        alive
    }
}

/// Fills as much of `buffer` as the file has.
fn read_up_to(file: &mut File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            read => filled += read,
        }
    }
    Ok(filled)
}

impl Source for FileTailSource {
    fn run(
        mut self: Box<Self>,
        out: BatchSender,
        mut shutdown: ShutdownSignal,
    ) -> BoxFuture<vigil_pipeline::Result<()>> {
        Box::pin(async move {
            let mut files: Vec<Tailed> = self
                .options
                .paths
                .iter()
                .map(|path| Tailed {
                    path: path.clone(),
                    path_text: path.display().to_string(),
                    open: None,
                })
                .collect();
            let mut ticker = tokio::time::interval(self.options.poll_interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticker.tick() => {}
                    () = shutdown.wait() => return Ok(()),
                }
                for tailed in &mut files {
                    if !self.poll(tailed, &out).await {
                        return Ok(());
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UnmappedSources;
    use vigil_config::{SourceMap, UnmappedConfig};
    use vigil_pipeline::{batch_channel, Shutdown};

    fn source(paths: Vec<PathBuf>, positions: HashMap<[u8; 16], u64>) -> FileTailSource {
        let map = SourceMap::build(&[], &UnmappedConfig::default()).expect("map");
        let metrics = Metrics::default();
        let stamper = Arc::new(Stamper::new(
            map,
            "agent",
            Arc::new(UnmappedSources::new(&metrics)),
        ));
        FileTailSource::new(
            "tail",
            TailOptions {
                paths,
                poll_interval: Duration::from_millis(10),
                max_line_bytes: 100,
            },
            positions,
            stamper,
            &metrics,
        )
    }

    /// Collects messages and the last mark until `count` lines arrived.
    async fn collect(
        input: &mut vigil_pipeline::BatchReceiver,
        count: usize,
    ) -> (Vec<String>, Option<DeliveryMark>) {
        let mut messages = Vec::new();
        let mut mark = None;
        while messages.len() < count {
            let delivery = tokio::time::timeout(Duration::from_secs(10), input.recv())
                .await
                .expect("lines in time")
                .expect("open channel");
            messages.extend(delivery.events.iter().map(|event| event.message.clone()));
            mark = delivery.mark.or(mark);
        }
        (messages, mark)
    }

    #[tokio::test]
    async fn tail_follows_appends_rotation_and_resumes_from_a_mark() {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.log");
        let mut file = File::create(&path).expect("create");
        file.write_all(b"one\ntwo\nthr").expect("write");
        let (shutdown, signal) = Shutdown::new();
        let (sender, mut input) = batch_channel(16);
        let task =
            tokio::spawn(Box::new(source(vec![path.clone()], HashMap::new())).run(sender, signal));

        let (messages, mark) = collect(&mut input, 2).await;
        assert_eq!(messages, ["one", "two"], "the unfinished line waits");
        let key = file_key(&std::fs::metadata(&path).expect("stat"));
        assert_eq!(
            mark,
            Some(DeliveryMark {
                stream: key,
                seq: 8
            })
        );

        file.write_all(b"ee\n").expect("finish the line");
        let (messages, _) = collect(&mut input, 1).await;
        assert_eq!(messages, ["three"]);

        // Rotation: the old file gets a last line (no newline) after the rename.
        std::fs::rename(&path, dir.path().join("app.log.1")).expect("rotate");
        file.write_all(b"last of old").expect("write");
        drop(file);
        std::fs::write(&path, b"new one\n").expect("new file");
        let (messages, _) = collect(&mut input, 2).await;
        assert_eq!(messages, ["last of old", "new one"]);

        // Truncation: read again from the start.
        std::fs::write(&path, b"x\n").expect("truncate");
        let (messages, mark) = collect(&mut input, 1).await;
        assert_eq!(messages, ["x"]);
        shutdown.trigger();
        task.await.expect("join").expect("tail");

        // A restart from the last mark reads only what came after it.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        file.write_all(b"after restart\n").expect("write");
        let mark = mark.expect("a mark");
        let (shutdown, signal) = Shutdown::new();
        let (sender, mut input) = batch_channel(16);
        let positions = HashMap::from([(mark.stream, mark.seq)]);
        let task =
            tokio::spawn(Box::new(source(vec![path.clone()], positions)).run(sender, signal));
        let (messages, _) = collect(&mut input, 1).await;
        assert_eq!(messages, ["after restart"]);
        shutdown.trigger();
        task.await.expect("join").expect("tail");
    }

    #[test]
    fn overlong_lines_are_cut_and_flagged() {
        let tail = source(Vec::new(), HashMap::new());
        let long = vec![b'a'; 250];
        let (events, consumed) = tail.lines(&long, false, "f");
        assert_eq!((events.len(), consumed), (1, 250));
        assert!(events[0].flags.contains(vigil_event::EventFlags::TRUNCATED));
    }
}
