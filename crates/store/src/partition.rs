use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use vigil_event::SecurityLevel;

use crate::StoreError;

/// Below the data directory: `partitions/level-<N>/<YYYY-MM-DD>/{archive,index}`.
pub const PARTITIONS_DIR: &str = "partitions";

/// One security level's events received on one UTC day: the unit of archive, index and deletion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionKey {
    pub level: SecurityLevel,
    pub day: NaiveDate,
}

impl PartitionKey {
    pub fn dir(&self, data_dir: &Path) -> PathBuf {
        data_dir
            .join(PARTITIONS_DIR)
            .join(format!("level-{}", self.level))
            .join(self.day.format("%Y-%m-%d").to_string())
    }

    pub fn archive_dir(&self, data_dir: &Path) -> PathBuf {
        self.dir(data_dir).join("archive")
    }

    pub fn index_dir(&self, data_dir: &Path) -> PathBuf {
        self.dir(data_dir).join("index")
    }
}

impl fmt::Display for PartitionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "level-{}/{}", self.level, self.day.format("%Y-%m-%d"))
    }
}

/// Every partition on disk, oldest first. Folders that are not partitions are ignored.
pub fn list_partitions(data_dir: &Path) -> crate::Result<Vec<PartitionKey>> {
    let root = data_dir.join(PARTITIONS_DIR);
    let mut keys = Vec::new();
    let levels = match std::fs::read_dir(&root) {
        Ok(levels) => levels,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(keys),
        Err(error) => return Err(StoreError::io("list", &root)(error)),
    };
    for level_entry in levels {
        let level_entry = level_entry.map_err(StoreError::io("list", &root))?;
        let name = level_entry.file_name();
        let Some(level) = name
            .to_str()
            .and_then(|name| name.strip_prefix("level-"))
            .and_then(|number| number.parse::<i64>().ok())
            .and_then(|number| SecurityLevel::new(number).ok())
        else {
            continue;
        };
        let level_dir = level_entry.path();
        for day_entry in
            std::fs::read_dir(&level_dir).map_err(StoreError::io("list", &level_dir))?
        {
            let day_entry = day_entry.map_err(StoreError::io("list", &level_dir))?;
            let day = day_entry
                .file_name()
                .to_str()
                .and_then(|name| NaiveDate::parse_from_str(name, "%Y-%m-%d").ok());
            if let Some(day) = day {
                keys.push(PartitionKey { level, day });
            }
        }
    }
    keys.sort();
    Ok(keys)
}

/// fsync a directory so that a file created or removed in it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> crate::Result<()> {
    std::fs::File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(StoreError::io("fsync", dir))
}
