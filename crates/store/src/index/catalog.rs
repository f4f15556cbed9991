use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, ReloadPolicy};

use super::schema::{build_schema, is_current, register_tokenizers, IndexFields};
use super::writer::CommitPayload;
use crate::{list_partitions, PartitionKey, StoreError};

/// One partition's index, open for search, with what its last commit said.
pub struct OpenPartition {
    pub key: PartitionKey,
    pub index: Index,
    pub reader: IndexReader,
    pub fields: IndexFields,
    payload: RwLock<CommitPayload>,
}

impl OpenPartition {
    pub fn payload(&self) -> CommitPayload {
        self.payload
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Makes the latest commit visible to searches.
    pub fn reload(&self) -> crate::Result<()> {
        self.reader.reload()?;
        let payload = CommitPayload::read(&self.index)?;
        *self
            .payload
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = payload;
        Ok(())
    }
}

/// Every partition index of a data directory, shared by the writer thread and searches.
pub struct IndexCatalog {
    data_dir: PathBuf,
    partitions: RwLock<BTreeMap<PartitionKey, Arc<OpenPartition>>>,
}

impl IndexCatalog {
    /// Opens every partition index found on disk. Partitions without an index yet are left for
    /// the writer ([`IndexCatalog::open_or_create`]); a reader never creates one.
    pub fn open(data_dir: &Path) -> crate::Result<Self> {
        let catalog = Self {
            data_dir: data_dir.to_owned(),
            partitions: RwLock::new(BTreeMap::new()),
        };
        for key in list_partitions(data_dir)? {
            if key.index_dir(data_dir).join("meta.json").exists() {
                catalog.open_or_create(key)?;
            }
        }
        Ok(catalog)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn get(&self, key: &PartitionKey) -> Option<Arc<OpenPartition>> {
        self.partitions
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(key)
            .cloned()
    }

    /// All open partitions, oldest first.
    pub fn all(&self) -> Vec<Arc<OpenPartition>> {
        self.partitions
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// The partition's index, opened or created on first use.
    pub fn open_or_create(&self, key: PartitionKey) -> crate::Result<Arc<OpenPartition>> {
        if let Some(open) = self.get(&key) {
            return Ok(open);
        }
        let dir = key.index_dir(&self.data_dir);
        let (schema, fields) = build_schema();
        if dir.join("meta.json").exists() {
            let directory =
                MmapDirectory::open(&dir).map_err(|error| StoreError::Index(error.into()))?;
            let existing = Index::open(directory)?;
            if !is_current(&existing.schema()) {
                // An index of an earlier version: the archive is the record, so rebuild from it
                // (an empty index covers no archive position; the writer replays it all).
                tracing::warn!(
                    partition = %key,
                    dir = %dir.display(),
                    "the index has an earlier schema; rebuilding it from the archive"
                );
                drop(existing);
                std::fs::remove_dir_all(&dir).map_err(StoreError::io("remove", &dir))?;
            }
        }
        std::fs::create_dir_all(&dir).map_err(StoreError::io("create", &dir))?;
        let directory =
            MmapDirectory::open(&dir).map_err(|error| StoreError::Index(error.into()))?;
        let index = Index::open_or_create(directory, schema)?;
        register_tokenizers(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let payload = CommitPayload::read(&index)?;
        let open = Arc::new(OpenPartition {
            key,
            index,
            reader,
            fields,
            payload: RwLock::new(payload),
        });
        let mut partitions = self
            .partitions
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(partitions.entry(key).or_insert(open).clone())
    }

    /// Forgets a partition (the janitor calls this before deleting its folder).
    pub fn remove(&self, key: &PartitionKey) -> Option<Arc<OpenPartition>> {
        self.partitions
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_event::SecurityLevel;

    #[test]
    fn an_index_of_an_earlier_schema_is_replaced_by_an_empty_current_one() {
        let data = tempfile::tempdir().unwrap();
        let key = PartitionKey {
            level: SecurityLevel::new(3).unwrap(),
            day: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        };
        let dir = key.index_dir(data.path());
        std::fs::create_dir_all(&dir).unwrap();
        {
            // A per-event index as earlier versions wrote it, with one committed document.
            let mut builder = tantivy::schema::Schema::builder();
            let message = builder.add_text_field("message", tantivy::schema::TEXT);
            let index = Index::create_in_dir(&dir, builder.build()).unwrap();
            let mut writer = index
                .writer::<tantivy::TantivyDocument>(15_000_000)
                .unwrap();
            writer
                .add_document(tantivy::doc!(message => "old"))
                .unwrap();
            let mut commit = writer.prepare_commit().unwrap();
            commit.set_payload(r#"{"archive":{"segment":1,"offset":500},"events":1}"#);
            commit.commit().unwrap();
        }
        let catalog = IndexCatalog::open(data.path()).unwrap();
        let partition = catalog.get(&key).expect("the partition is open");
        assert!(is_current(&partition.index.schema()));
        assert_eq!(partition.reader.searcher().num_docs(), 0);
        // Covers no archive position: the writer replays the whole archive into it.
        assert_eq!(partition.payload(), CommitPayload::default());
        // Opening again keeps it.
        drop(catalog);
        let again = IndexCatalog::open(data.path()).unwrap();
        assert!(is_current(&again.get(&key).unwrap().index.schema()));
    }
}
