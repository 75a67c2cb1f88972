//! This user's checkpoint of a store, for writes: a fold of the log that this user's hotfix
//! verified, kept in the user's cache directory (0700, files 0600), so no other member of a
//! shared store can forge it, beside the time of the last full verification it stands for.
//! The shared `snapshot.bin` in a store directory stays what it was: a cache that never decides.

use super::{Backend, Store, snapshot};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the checkpoint stands for.
#[derive(Serialize, Deserialize)]
pub struct Meta {
    /// When the whole log was last read and verified from its first line.
    pub verified_at: DateTime<Utc>,
    /// The newest event the checkpoint covers.
    pub through: u64,
}

/// Where one store's checkpoint lives.
pub struct Place {
    model: PathBuf,
    meta: PathBuf,
}

impl Place {
    pub fn new(dir: &Path, identity: &str) -> Place {
        let key = key_of(identity);
        Place {
            model: dir.join(format!("{key}.bin")),
            meta: dir.join(format!("{key}.json")),
        }
    }

    pub fn meta(&self) -> Option<Meta> {
        serde_json::from_slice(&read_regular(&self.meta, 1 << 16)?).ok()
    }

    /// The checkpoint's active part (the archive is read when needed, see
    /// [`Store::load_archive`]).
    pub fn read_active(&self) -> Option<snapshot::Active> {
        snapshot::read_active(|max| read_regular(&self.model, max))
    }

    /// Stops the checkpoint vouching for the log (damage was found in it): the next command
    /// reads the whole log again.
    pub fn forget(&self) {
        let _ = std::fs::remove_file(&self.meta);
    }

    pub fn model_path(&self) -> &Path {
        &self.model
    }

    /// Writes the checkpoint of `store` (verified) and when its last full verification was.
    pub fn write<B: Backend>(
        &self,
        store: &Store<B>,
        verified_at: DateTime<Utc>,
    ) -> std::io::Result<()> {
        let Some(mark) = store.mark() else {
            return Ok(());
        };
        // A model opened without its archive carries it over; if that is gone, this
        // checkpoint waits for the next full read.
        let Ok(kept) = store.kept_archive() else {
            return Ok(());
        };
        let mut bytes = Vec::new();
        let kept = kept.as_ref().map(snapshot::KeptFile::kept);
        snapshot::write(&mut bytes, &mark, &store.model, kept)?;
        let meta = serde_json::to_vec(&Meta {
            verified_at,
            through: mark.lines,
        })
        .map_err(std::io::Error::other)?;
        // The model first: a meta file never names a checkpoint that is not there.
        crate::fsio::write_private(&self.model, &bytes).map_err(std::io::Error::other)?;
        crate::fsio::write_private(&self.meta, &meta).map_err(std::io::Error::other)
    }
}

/// A file name for a store's identity: no path or secret in it, the same on every run.
pub fn key_of(identity: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(identity.as_bytes())
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A regular file's bytes, at most `max`, never following a link or blocking on a pipe.
pub(super) fn read_regular(path: &Path, max: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(meta.len().min(max))
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}
