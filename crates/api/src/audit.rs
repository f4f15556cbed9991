use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use vigil_event::Timestamp;

/// An append-only JSON-lines record of every API call: who, what, with which parameters, and
/// the outcome. Each line is synced before the call answers.
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
}

#[derive(Serialize)]
struct AuditEntry<'a> {
    time: String,
    actor: &'a str,
    action: &'a str,
    detail: &'a serde_json::Value,
    status: u16,
}

impl AuditLog {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            path: path.to_owned(),
            file: Mutex::new(file),
        })
    }

    pub fn record(&self, actor: &str, action: &str, detail: &serde_json::Value, status: u16) {
        let entry = AuditEntry {
            time: Timestamp::now().to_string(),
            actor,
            action,
            detail,
            status,
        };
        let Ok(mut line) = serde_json::to_vec(&entry) else {
            return;
        };
        line.push(b'\n');
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(error) = file.write_all(&line).and_then(|()| file.sync_data()) {
            tracing::error!(path = %self.path.display(), %error, "cannot write the audit log");
        }
    }
}
