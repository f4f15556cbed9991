use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use vigil_event::Event;

use super::format::{decode_payload, BatchHeader, BATCH_HEADER_BYTES, SEGMENT_MAGIC};
use super::ArchivePosition;
use crate::StoreError;

pub fn segment_path(archive_dir: &Path, segment: u32) -> PathBuf {
    archive_dir.join(format!("{segment:06}.seg"))
}

/// The segment files of a partition's archive, in order.
pub fn segments_of(archive_dir: &Path) -> crate::Result<Vec<(u32, PathBuf)>> {
    let entries = match std::fs::read_dir(archive_dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(StoreError::io("list", archive_dir)(error)),
    };
    let mut segments = Vec::new();
    for entry in entries {
        let entry = entry.map_err(StoreError::io("list", archive_dir))?;
        let name = entry.file_name();
        let number = name
            .to_str()
            .and_then(|name| name.strip_suffix(".seg"))
            .and_then(|stem| stem.parse::<u32>().ok());
        if let Some(number) = number {
            segments.push((number, entry.path()));
        }
    }
    segments.sort();
    Ok(segments)
}

/// One batch read back, checked against its hash.
pub struct ReadBatch {
    pub header: BatchHeader,
    pub events: Vec<Event>,
}

fn corrupt(path: &Path, offset: u64, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        path: path.to_owned(),
        offset,
        reason: reason.into(),
    }
}

/// Reads one batch through `read_exact(buffer, absolute offset)`, checks its header and hash,
/// and decodes it. The one place a batch is read back, for random access and for the cursor.
fn read_checked(
    path: &Path,
    offset: u64,
    mut read_exact: impl FnMut(&mut [u8], u64) -> std::io::Result<()>,
) -> crate::Result<ReadBatch> {
    let mut header_bytes = [0u8; BATCH_HEADER_BYTES];
    read_exact(&mut header_bytes, offset).map_err(StoreError::io("read", path))?;
    let header =
        BatchHeader::decode(&header_bytes).map_err(|reason| corrupt(path, offset, reason))?;
    let mut payload = vec![0u8; header.payload_len as usize];
    read_exact(&mut payload, offset + BATCH_HEADER_BYTES as u64)
        .map_err(StoreError::io("read", path))?;
    if header.expected_hash(&payload) != header.hash {
        return Err(corrupt(path, offset, "batch hash mismatch"));
    }
    let events =
        decode_payload(&header, &payload).map_err(|reason| corrupt(path, offset, reason))?;
    Ok(ReadBatch { header, events })
}

/// Reads and checks the batch that starts at `offset` in a segment (search results use this).
pub fn read_batch_at(file: &File, path: &Path, offset: u64) -> crate::Result<ReadBatch> {
    read_checked(path, offset, |buffer, at| file.read_exact_at(buffer, at))
}

/// Walks a partition's batches in order from a position, across segments; the index replays the
/// archive tail with it. Stops at the end of the data; a damaged batch is an error.
pub struct BatchCursor {
    segments: Vec<(u32, PathBuf)>,
    segment_index: usize,
    reader: Option<(BufReader<File>, u64, u64)>,
    start_offset: u64,
    /// Stop here (what is known to be durable), when set.
    until: Option<ArchivePosition>,
}

impl BatchCursor {
    pub fn new(archive_dir: &Path, from: ArchivePosition) -> crate::Result<Self> {
        let segments: Vec<(u32, PathBuf)> = segments_of(archive_dir)?
            .into_iter()
            .filter(|(number, _)| *number >= from.segment)
            .collect();
        let start_offset = match segments.first() {
            Some((number, _)) if *number == from.segment => from.offset,
            _ => SEGMENT_MAGIC.len() as u64,
        };
        Ok(Self {
            segments,
            segment_index: 0,
            reader: None,
            start_offset,
            until: None,
        })
    }

    /// A cursor that stops at `until`: readers that must see only synced batches (forwarding)
    /// pass the durable end the archive thread published.
    pub fn until(mut self, until: ArchivePosition) -> Self {
        self.until = Some(until);
        self
    }

    /// The next batch with its start and end positions, or `None` at the end.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> crate::Result<Option<(ArchivePosition, ArchivePosition, ReadBatch)>> {
        loop {
            let Some((segment, path)) = self.segments.get(self.segment_index).cloned() else {
                return Ok(None);
            };
            if self.reader.is_none() {
                let mut file = File::open(&path).map_err(StoreError::io("open", &path))?;
                let length = file
                    .metadata()
                    .map_err(StoreError::io("stat", &path))?
                    .len();
                let offset = self.start_offset.max(SEGMENT_MAGIC.len() as u64);
                file.seek(SeekFrom::Start(offset))
                    .map_err(StoreError::io("seek", &path))?;
                self.reader = Some((BufReader::with_capacity(1 << 20, file), offset, length));
                self.start_offset = 0;
            }
            let Some((reader, offset, length)) = self.reader.as_mut() else {
                continue;
            };
            if *offset >= *length {
                self.reader = None;
                self.segment_index += 1;
                continue;
            }
            let start = *offset;
            if let Some(until) = self.until {
                if (ArchivePosition {
                    segment,
                    offset: start,
                }) >= until
                {
                    return Ok(None);
                }
            }
            // The reader is positioned at `start` and reads on in order.
            let batch = read_checked(&path, start, |buffer, _| reader.read_exact(buffer))?;
            *offset = start + batch.header.total_len();
            let begin = ArchivePosition {
                segment,
                offset: start,
            };
            let end = ArchivePosition {
                segment,
                offset: *offset,
            };
            return Ok(Some((begin, end, batch)));
        }
    }
}
