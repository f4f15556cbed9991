//! File import: log files of several formats read into events, for `vigil import` and
//! `POST /api/v1/import`.
//!
//! Formats: `syslog` (RFC 5424/3164 lines; a line without a header is kept whole), `lines`
//! (each line is a message, no header expected: web server logs and the like), `cef` (CEF or
//! LEEF lines), `ndjson` (one JSON object per line), `json` (one array of objects, or one
//! object), `csv` (a header row naming the fields). `auto` decides per file from its name and
//! first line. gzip and zstd inputs are recognised by their magic bytes and read transparently.
//!
//! Every event is flagged `imported`: it is stored in the partition of the day it happened.
//! Per-line trouble is counted by kind and never stops the file: an over-long line is cut at
//! the limit and flagged `truncated`; a line with NUL bytes (a binary file) is skipped; a CSV
//! row with the wrong number of cells, a cut CEF header or an NDJSON line that is not JSON (or
//! nests deeper than 128) is kept whole as a line and counted; a decompression error ends that
//! file and is counted.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;

use vigil_event::{field, Batch, Event, EventFlags, SecurityLevel, Timestamp, Value};

use crate::Stamper;

/// Lines longer than this are cut and flagged, as the syslog listeners do with frames.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024;
/// A `json` (whole-document) file larger than this is refused: use `ndjson` for big files.
pub const MAX_JSON_DOCUMENT_BYTES: u64 = 256 * 1024 * 1024;
/// Events per batch handed on.
pub const IMPORT_BATCH_EVENTS: usize = 1024;
/// The listener name imported events carry.
pub const IMPORT_LISTENER: &str = "import";
/// The field naming the file an event was imported from.
pub const IMPORT_FILE_FIELD: &str = "log.file.path";

/// How a file's lines are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    Auto,
    Syslog,
    Lines,
    Cef,
    Ndjson,
    Json,
    Csv,
}

impl ImportFormat {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "auto" => Self::Auto,
            "syslog" => Self::Syslog,
            "lines" => Self::Lines,
            "cef" | "leef" => Self::Cef,
            "ndjson" | "jsonl" => Self::Ndjson,
            "json" => Self::Json,
            "csv" => Self::Csv,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Syslog => "syslog",
            Self::Lines => "lines",
            Self::Cef => "cef",
            Self::Ndjson => "ndjson",
            Self::Json => "json",
            Self::Csv => "csv",
        }
    }

    /// The format `auto` picks from the file's name and its first non-empty line.
    pub fn detect(file_name: &str, first_line: &[u8]) -> Self {
        let name = file_name
            .trim_end_matches(".gz")
            .trim_end_matches(".zst")
            .to_ascii_lowercase();
        if name.ends_with(".csv") {
            return Self::Csv;
        }
        let line = first_line.trim_ascii_start();
        if name.ends_with(".json") {
            // eve.json, Winlogbeat and Zeek `.json` files are one object per line; a document
            // (an array, or one object over several lines) is read whole.
            let one_object_per_line = line.starts_with(b"{")
                && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok();
            return if one_object_per_line {
                Self::Ndjson
            } else {
                Self::Json
            };
        }
        let starts = |prefix: &[u8]| line.starts_with(prefix);
        if starts(b"{") {
            return Self::Ndjson;
        }
        if starts(b"[")
            && matches!(
                line[1..].trim_ascii_start().first(),
                Some(b'{' | b']') | None
            )
        {
            return Self::Json;
        }
        if starts(b"CEF:") || starts(b"LEEF:") {
            return Self::Cef;
        }
        if starts(b"<") && line.get(1).is_some_and(u8::is_ascii_digit) {
            return Self::Syslog;
        }
        const MONTHS: [&[u8]; 12] = [
            b"Jan ", b"Feb ", b"Mar ", b"Apr ", b"May ", b"Jun ", b"Jul ", b"Aug ", b"Sep ",
            b"Oct ", b"Nov ", b"Dec ",
        ];
        let iso_date = line.len() > 10
            && line[..4].iter().all(u8::is_ascii_digit)
            && line[4] == b'-'
            && line[7] == b'-'
            && matches!(line[10], b'T' | b' ');
        if MONTHS.iter().any(|month| starts(month)) || iso_date {
            return Self::Syslog;
        }
        Self::Lines
    }
}

/// What an import is told about its events.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub format: ImportFormat,
    /// Overrides the tenant the source map gives.
    pub tenant: Option<Arc<str>>,
    /// Overrides the level the source map gives.
    pub level: Option<SecurityLevel>,
    /// The host the lines came from, for lines that do not name one: it also picks the
    /// information system (tenant, level) by the source map's host-name rules.
    pub source: Option<String>,
    pub max_line_bytes: usize,
    /// Stop a file past this many bytes after decompression (counted `too_large`): an upload's
    /// size limit is on what is sent, and a small gzip can inflate to fill a disk.
    pub max_decompressed_bytes: Option<u64>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            format: ImportFormat::Auto,
            tenant: None,
            level: None,
            source: None,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_decompressed_bytes: None,
        }
    }
}

/// What reading the files found, before normalisation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadReport {
    /// Bytes read from the files (compressed size for compressed files).
    pub bytes: u64,
    pub lines: u64,
    pub events: u64,
    /// Per-line trouble by kind: `truncated`, `binary`, `ragged_row`, `invalid_json`,
    /// `invalid_cef`, `unreadable` (decompression or I/O error that ended a file), `too_large`.
    pub errors: BTreeMap<&'static str, u64>,
    /// Files by the format they were read as.
    pub formats: BTreeMap<&'static str, u64>,
}

impl ReadReport {
    fn error(&mut self, kind: &'static str) {
        *self.errors.entry(kind).or_default() += 1;
    }
}

/// Counts the bytes read through it (before decompression), for progress and the report.
struct Counting<R> {
    inner: R,
    read: Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// A reader that ends after `left` bytes, noting in `cut` whether there was more.
struct Capped<R> {
    inner: R,
    left: u64,
    cut: std::rc::Rc<std::cell::Cell<bool>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            if !buf.is_empty() && self.inner.read(&mut buf[..1])? > 0 {
                self.cut.set(true);
            }
            return Ok(0);
        }
        let room = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..room])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// `input`, decompressed when it starts with the gzip or zstd magic bytes.
pub fn decompressed<'a>(input: impl Read + 'a) -> io::Result<Box<dyn BufRead + 'a>> {
    let mut buffered = BufReader::with_capacity(256 * 1024, input);
    let head = buffered.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let gzip = flate2::read::MultiGzDecoder::new(buffered);
        return Ok(Box::new(BufReader::with_capacity(256 * 1024, gzip)));
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let zstd = zstd::stream::read::Decoder::with_buffer(buffered)?;
        return Ok(Box::new(BufReader::with_capacity(256 * 1024, zstd)));
    }
    Ok(Box::new(buffered))
}

/// Reads files into batches of stamped events.
pub struct FileImporter<'a> {
    stamper: &'a Stamper,
    options: &'a ImportOptions,
    listener: Arc<str>,
    /// Bytes read so far across files, for a progress display on another thread.
    pub progress: Arc<std::sync::atomic::AtomicU64>,
}

impl<'a> FileImporter<'a> {
    pub fn new(stamper: &'a Stamper, options: &'a ImportOptions) -> Self {
        Self {
            stamper,
            options,
            listener: Arc::from(IMPORT_LISTENER),
            progress: Arc::default(),
        }
    }

    /// Reads one file (`name` is kept as `log.file.path`), handing batches to `emit`; `emit`
    /// returning `false` stops the import. An `Err` only for a file that cannot be read at all.
    pub fn read(
        &self,
        input: impl Read,
        name: &str,
        report: &mut ReadReport,
        emit: &mut dyn FnMut(Batch) -> bool,
    ) -> io::Result<()> {
        let counting = Counting {
            inner: input,
            read: self.progress.clone(),
        };
        let before = self.progress.load(std::sync::atomic::Ordering::Relaxed);
        let decompressed = decompressed(counting)?;
        let cut = std::rc::Rc::new(std::cell::Cell::new(false));
        let mut reader: Box<dyn BufRead + '_> = match self.options.max_decompressed_bytes {
            Some(limit) => Box::new(BufReader::new(Capped {
                inner: decompressed,
                left: limit,
                cut: cut.clone(),
            })),
            None => decompressed,
        };
        let mut file = FileRead {
            importer: self,
            name: Value::from(name),
            batch: Vec::with_capacity(IMPORT_BATCH_EVENTS),
            received: Timestamp::now(),
            stopped: false,
        };
        let result = file.all(&mut reader, name, report, emit);
        if cut.get() {
            report.error("too_large");
            tracing::warn!(
                file = name,
                "import: the file inflates past the limit; what came before it is kept"
            );
        }
        if !file.batch.is_empty() && !file.stopped {
            emit(std::mem::take(&mut file.batch));
        }
        report.bytes += self.progress.load(std::sync::atomic::Ordering::Relaxed) - before;
        if let Err(error) = result {
            report.error("unreadable");
            tracing::warn!(file = name, %error, "import: the file ended with an error; what was read before it is kept");
        }
        Ok(())
    }
}

struct FileRead<'i, 'a> {
    importer: &'i FileImporter<'a>,
    name: Value,
    batch: Batch,
    received: Timestamp,
    stopped: bool,
}

impl FileRead<'_, '_> {
    fn all(
        &mut self,
        reader: &mut dyn BufRead,
        name: &str,
        report: &mut ReadReport,
        emit: &mut dyn FnMut(Batch) -> bool,
    ) -> io::Result<()> {
        let max = self.importer.options.max_line_bytes;
        let mut line = Vec::new();
        let mut format = self.importer.options.format;
        if format == ImportFormat::Auto {
            // Decided on the first line as buffered, before anything is consumed: a JSON
            // document is read whole, never cut at the line limit.
            match first_line(reader)? {
                Some(first) => format = ImportFormat::detect(name, &first),
                None => return Ok(()),
            }
        }
        *report.formats.entry(format.name()).or_default() += 1;
        if format == ImportFormat::Json {
            return self.json_document(reader, report, emit);
        }
        let mut csv_header: Option<Vec<String>> = None;
        loop {
            let Some(truncated) = read_line(reader, &mut line, max)? else {
                return Ok(());
            };
            let text = line.strip_suffix(b"\r").unwrap_or(&line);
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            report.lines += 1;
            if memchr::memchr(0, text).is_some() {
                report.error("binary");
                continue;
            }
            if truncated {
                report.error("truncated");
            }
            let event = match format {
                ImportFormat::Csv => match &csv_header {
                    None => {
                        csv_header = Some(csv_cells(text));
                        continue;
                    }
                    Some(header) => self.csv_event(header, text, truncated, report),
                },
                ImportFormat::Syslog => self.syslog_event(text, truncated),
                ImportFormat::Cef => {
                    if !is_cef_or_leef(text) {
                        report.error("invalid_cef");
                    }
                    self.line_event(text, truncated)
                }
                ImportFormat::Ndjson => {
                    if !json_nesting_within(text, MAX_JSON_DEPTH)
                        || serde_json::from_slice::<serde::de::IgnoredAny>(text).is_err()
                    {
                        report.error("invalid_json");
                    }
                    self.line_event(text, truncated)
                }
                _ => self.line_event(text, truncated),
            };
            self.push(event, report, emit);
            if self.stopped {
                return Ok(());
            }
        }
    }

    fn push(
        &mut self,
        mut event: Event,
        report: &mut ReadReport,
        emit: &mut dyn FnMut(Batch) -> bool,
    ) {
        let options = self.importer.options;
        event.flags.insert(EventFlags::IMPORTED);
        event
            .fields
            .insert(IMPORT_FILE_FIELD.into(), self.name.clone());
        if event.host_name.is_none() {
            event.host_name = options.source.clone();
        }
        self.importer
            .stamper
            .stamp_imported(&mut event, &self.importer.listener);
        if let Some(tenant) = &options.tenant {
            event.tenant = tenant.clone();
            event.flags.remove(EventFlags::UNMAPPED_SOURCE);
        }
        if let Some(level) = options.level {
            event.level = level;
            event.flags.remove(EventFlags::UNMAPPED_SOURCE);
        }
        report.events += 1;
        self.batch.push(event);
        if self.batch.len() >= IMPORT_BATCH_EVENTS {
            let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(IMPORT_BATCH_EVENTS));
            if !emit(batch) {
                self.stopped = true;
            }
        }
    }

    fn syslog_event(&self, line: &[u8], truncated: bool) -> Event {
        self.importer.stamper.imported_syslog(
            line,
            truncated,
            &self.importer.listener,
            self.received,
        )
    }

    fn line_event(&self, line: &[u8], truncated: bool) -> Event {
        let mut event = Event::new(self.received, line.to_vec());
        match std::str::from_utf8(line) {
            Ok(text) => event.message = text.to_owned(),
            Err(_) => {
                event.message = String::from_utf8_lossy(line).into_owned();
                event.flags.insert(EventFlags::INVALID_UTF8);
            }
        }
        if truncated {
            event.flags.insert(EventFlags::TRUNCATED);
        }
        event
    }

    fn csv_event(
        &self,
        header: &[String],
        row: &[u8],
        truncated: bool,
        report: &mut ReadReport,
    ) -> Event {
        let mut event = self.line_event(row, truncated);
        let cells = csv_cells(row);
        if cells.len() != header.len() {
            report.error("ragged_row");
            event.flags.insert(EventFlags::UNPARSED);
            return event;
        }
        let mut message = None;
        for (name, cell) in header.iter().zip(cells) {
            if cell.is_empty() {
                continue;
            }
            match name.as_str() {
                "message" | "msg" => message = Some(cell),
                "@timestamp" | "timestamp" | "time" => {
                    match chrono::DateTime::parse_from_rfc3339(cell.trim()) {
                        Ok(time) => event.timestamp = Timestamp::from_datetime(time),
                        Err(_) => {
                            event.fields.insert(name.clone().into(), Value::from(cell));
                        }
                    }
                }
                field::HOST_NAME | "host" | "hostname" => event.host_name = Some(cell),
                // A column may not pose as what Vigil sets (`vigil.tenant`, `event.id`, …).
                _ if is_reserved_column(name) => {
                    event
                        .fields
                        .insert(format!("csv.{name}").into(), Value::from(cell));
                }
                _ => {
                    event.fields.insert(name.clone().into(), Value::from(cell));
                }
            }
        }
        if let Some(message) = message {
            event.message = message;
        }
        event
    }

    /// A whole-file JSON document: an array of objects (or one object), each an event whose
    /// message is the object's JSON text (the body decoders read it).
    fn json_document(
        &mut self,
        reader: &mut dyn BufRead,
        report: &mut ReadReport,
        emit: &mut dyn FnMut(Batch) -> bool,
    ) -> io::Result<()> {
        let mut document = Vec::new();
        reader
            .take(MAX_JSON_DOCUMENT_BYTES + 1)
            .read_to_end(&mut document)?;
        if document.len() as u64 > MAX_JSON_DOCUMENT_BYTES {
            report.error("too_large");
            return Ok(());
        }
        let items = match serde_json::from_slice::<serde_json::Value>(&document) {
            Ok(serde_json::Value::Array(items)) => items,
            Ok(object @ serde_json::Value::Object(_)) => vec![object],
            Ok(_) | Err(_) => {
                report.lines += 1;
                report.error("invalid_json");
                return Ok(());
            }
        };
        for item in items {
            report.lines += 1;
            let text = item.to_string();
            let event = self.line_event(text.as_bytes(), false);
            self.push(event, report, emit);
            if self.stopped {
                break;
            }
        }
        Ok(())
    }
}

/// The first non-blank line as buffered (up to the buffer's size), without consuming it;
/// `None` for an input with nothing but blanks.
fn first_line(reader: &mut dyn BufRead) -> io::Result<Option<Vec<u8>>> {
    loop {
        let buffered = reader.fill_buf()?;
        if buffered.is_empty() {
            return Ok(None);
        }
        let blank = buffered
            .iter()
            .take_while(|byte| byte.is_ascii_whitespace())
            .count();
        if blank < buffered.len() {
            let line = &buffered[blank..];
            let end = memchr::memchr(b'\n', line).unwrap_or(line.len());
            return Ok(Some(line[..end].to_vec()));
        }
        reader.consume(blank);
    }
}

/// How deep an NDJSON line may nest: what the JSON body decoder (serde_json) reads.
const MAX_JSON_DEPTH: usize = 128;

/// Whether `text`'s brackets nest no deeper than `max` (strings skipped); one pass, no tree.
fn json_nesting_within(text: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &byte in text {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// Whether a line has a whole CEF header (7 `|`-separated fields after `CEF:`) or LEEF header
/// (5 after `LEEF:`); a cut line is kept, and counted as `invalid_cef`.
fn is_cef_or_leef(line: &[u8]) -> bool {
    let pipes = line.iter().filter(|&&byte| byte == b'|').count();
    (line.starts_with(b"CEF:") && pipes >= 7) || (line.starts_with(b"LEEF:") && pipes >= 5)
}

/// Names only Vigil sets: a CSV column of that name is kept as `csv.<name>`.
fn is_reserved_column(name: &str) -> bool {
    name.starts_with("vigil.")
        || matches!(
            name,
            field::EVENT_ID | field::EVENT_CREATED | field::EVENT_ORIGINAL
        )
}

/// The cells of one CSV row (RFC 4180 quoting).
fn csv_cells(row: &[u8]) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(row);
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => record.iter().map(str::to_owned).collect(),
        _ => String::from_utf8_lossy(row)
            .split(',')
            .map(str::to_owned)
            .collect(),
    }
}

/// Reads one line (without its `\n`) into `line`, keeping at most `max` bytes and skipping
/// the rest of a longer line without buffering it. `None` at the end of input; otherwise
/// whether the line was cut.
fn read_line(reader: &mut dyn BufRead, line: &mut Vec<u8>, max: usize) -> io::Result<Option<bool>> {
    line.clear();
    let mut truncated = false;
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok(any.then_some(truncated));
        }
        any = true;
        let (chunk, done) = match memchr::memchr(b'\n', available) {
            Some(at) => (&available[..at], Some(at + 1)),
            None => (available, None),
        };
        let room = max.saturating_sub(line.len());
        if chunk.len() > room {
            truncated = true;
        }
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = done.unwrap_or(available.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(Some(truncated));
        }
    }
}

#[cfg(test)]
mod tests;
