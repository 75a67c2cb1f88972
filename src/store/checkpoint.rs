//! This user's checkpoint of a store, for writes: a fold of the log that this user's hotfix
//! verified, kept in the user's cache directory (0700, files 0600), so no other member of a
//! shared store can forge it, beside the time of the last full verification it stands for.
//! The shared `snapshot.bin` in a store directory stays what it was: a cache that never decides.
//!
//! A checkpoint's header (what it covers and each section's digest) is authenticated with
//! HMAC-SHA256 under a key kept outside the cache, in this user's state directory: a
//! checkpoint forged with its digests recomputed, by anyone who can write the cache but has
//! not the key, is never used (the log is read whole instead).

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
    /// HMAC-SHA256 (hex) of the checkpoint's header under this user's key (see [`key`]).
    #[serde(default)]
    pub mac: String,
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
    /// [`Store::load_archive`]), if its header carries this user's MAC.
    pub fn read_active(&self) -> Option<snapshot::Active> {
        self.read_active_with(&self.meta()?)
    }

    /// [`Place::read_active`] with the meta already read.
    pub fn read_active_with(&self, meta: &Meta) -> Option<snapshot::Active> {
        let prefix = read_regular(&self.model, snapshot::HEADER_MAX)?;
        let header = prefix.get(..snapshot::header_len(&prefix)?)?;
        let expected = mac(&key()?, header);
        // Compared in constant time, as a MAC should be.
        let same = !expected.is_empty()
            && expected.len() == meta.mac.len()
            && expected
                .bytes()
                .zip(meta.mac.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return None;
        }
        // The header read again with the rest must be the one vouched for.
        snapshot::read_active(|max| {
            if max <= prefix.len() as u64 {
                return Some(prefix.clone());
            }
            let bytes = read_regular(&self.model, max)?;
            bytes.starts_with(header).then_some(bytes)
        })
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
        let key = key().ok_or_else(|| std::io::Error::other("no checkpoint key"))?;
        let header = snapshot::header_len(&bytes)
            .and_then(|len| bytes.get(..len))
            .ok_or_else(|| std::io::Error::other("a checkpoint without its header"))?;
        let meta = serde_json::to_vec(&Meta {
            verified_at,
            through: mark.lines,
            mac: mac(&key, header),
        })
        .map_err(std::io::Error::other)?;
        // The model first: a meta file never names a checkpoint that is not there.
        crate::fsio::write_private(&self.model, &bytes).map_err(std::io::Error::other)?;
        crate::fsio::write_private(&self.meta, &meta).map_err(std::io::Error::other)
    }
}

/// This user's checkpoint key: 32 random bytes in `checkpoint.key` in the state directory
/// (0600), made once. `None` where there is no state directory or it cannot be written: then
/// no checkpoint is used or written.
fn key() -> Option<[u8; 32]> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = crate::settings::state_dir()?;
    let path = dir.join("checkpoint.key");
    let existing = |p: &Path| read_regular(p, 64).and_then(|b| <[u8; 32]>::try_from(b).ok());
    if let Some(key) = existing(&path) {
        return Some(key);
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).ok()?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .ok()?;
    // Created exclusively: two processes at once never replace each other's key (the loser
    // reads the winner's).
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
    {
        Ok(mut file) => {
            file.write_all(&key).ok()?;
            file.sync_data().ok()?;
            Some(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => existing(&path),
        Err(_) => None,
    }
}

/// HMAC-SHA256 of `bytes` under `key`, in hex.
fn mac(key: &[u8; 32], bytes: &[u8]) -> String {
    use hmac::Mac;
    let mut m = match hmac::Hmac::<sha2::Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(), // any key length is accepted by HMAC
    };
    m.update(bytes);
    m.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
    read_regular_at(path, 0, max)
}

/// At most `max` bytes of the regular file at `path` from byte `from` on (never a link).
pub(super) fn read_regular_at(path: &Path, from: u64, max: u64) -> Option<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    read_open_at(file, from, max)
}

/// At most `max` bytes of `file`, a regular file, from byte `from` on: never more than it held
/// when this looked, even if it grows meanwhile.
pub(super) fn read_open_at(mut file: std::fs::File, from: u64, max: u64) -> Option<Vec<u8>> {
    use std::io::{Read, Seek};
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let len = meta.len().saturating_sub(from).min(max);
    file.seek(std::io::SeekFrom::Start(from)).ok()?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).ok()?);
    file.take(len).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}
