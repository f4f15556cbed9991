use std::path::Path;

use crate::index::IndexCatalog;
use crate::partition::sync_dir;
use crate::{PartitionKey, StoreError, PARTITIONS_DIR};

const DELETING_PREFIX: &str = ".deleting-";

/// Deletes one partition, archive and index together: forget its index, rename its folder out of
/// sight (atomic), then remove it. A crash in between leaves a `.deleting-*` folder that
/// [`remove_leftovers`] finishes at the next start.
pub fn delete_partition(catalog: &IndexCatalog, key: &PartitionKey) -> crate::Result<()> {
    let data_dir = catalog.data_dir();
    catalog.remove(key);
    let dir = key.dir(data_dir);
    let Some(level_dir) = dir.parent() else {
        return Ok(());
    };
    let doomed = level_dir.join(format!("{DELETING_PREFIX}{}", key.day.format("%Y-%m-%d")));
    std::fs::rename(&dir, &doomed).map_err(StoreError::io("rename", &dir))?;
    sync_dir(level_dir)?;
    std::fs::remove_dir_all(&doomed).map_err(StoreError::io("remove", &doomed))?;
    Ok(())
}

/// Finishes deletions a crash interrupted.
pub fn remove_leftovers(data_dir: &Path) -> crate::Result<usize> {
    let root = data_dir.join(PARTITIONS_DIR);
    let Ok(levels) = std::fs::read_dir(&root) else {
        return Ok(0);
    };
    let mut removed = 0;
    for level in levels.flatten() {
        let Ok(days) = std::fs::read_dir(level.path()) else {
            continue;
        };
        for day in days.flatten() {
            if day
                .file_name()
                .to_string_lossy()
                .starts_with(DELETING_PREFIX)
            {
                std::fs::remove_dir_all(day.path())
                    .map_err(StoreError::io("remove", day.path()))?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}
