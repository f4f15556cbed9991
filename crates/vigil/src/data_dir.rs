//! The data directory: config loading, the one-server lock, the API token.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use vigil_config::ServerConfig;

use crate::cli::Location;

/// The file `serve` writes once every listener is bound: name → actual address.
pub const LISTENING_FILE: &str = "listening.json";
const TOKEN_FILE: &str = "secrets/api-token";
const LOCK_FILE: &str = "vigil.lock";
pub const AUDIT_FILE: &str = "audit.log";
/// The local CA and server certificate made on first start when no certificate is configured.
pub const TLS_DIR: &str = "tls";

/// The config file's contents (or the defaults), with `--data-dir` applied, validated.
pub fn load_config(location: &Location) -> anyhow::Result<ServerConfig> {
    let mut config = match &location.config {
        Some(path) => ServerConfig::load(path)?,
        None => ServerConfig::default(),
    };
    if let Some(dir) = &location.data_dir {
        config.data_dir = dir.clone();
    }
    config.validate()?;
    Ok(config)
}

/// An exclusive lock on the data directory for this process's life: two servers on one archive
/// would corrupt it.
pub struct DataDirLock {
    _file: File,
}

pub fn lock(data_dir: &Path) -> anyhow::Result<DataDirLock> {
    let path = data_dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // SAFETY: flock on a descriptor we own; no memory is shared.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if locked != 0 {
        bail!("{} is in use by another vigil process", data_dir.display());
    }
    Ok(DataDirLock { _file: file })
}

/// The API token, made on first start (32 random bytes, hex) in a file only the owner reads.
pub fn api_token(data_dir: &Path) -> anyhow::Result<(String, PathBuf)> {
    let path = data_dir.join(TOKEN_FILE);
    if let Ok(token) = std::fs::read_to_string(&path) {
        let token = token.trim().to_owned();
        if !token.is_empty() {
            return Ok((token, path));
        }
    }
    let mut random = [0u8; 32];
    File::open("/dev/urandom")
        .and_then(|mut source| source.read_exact(&mut random))
        .context("cannot read /dev/urandom for the API token")?;
    let token: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(token.as_bytes())?;
    file.sync_all()?;
    Ok((token, path))
}

/// Lets 2,000+ concurrent senders in: the soft limit on open files goes up to the hard one.
pub fn raise_open_files_limit() {
    // SAFETY: getrlimit/setrlimit with a valid, owned struct.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                tracing::warn!("cannot raise the open-files limit");
            }
        }
    }
}
