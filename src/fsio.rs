//! Writing files people asked for (a report, a notice): through an exclusive temporary file in
//! the same directory, renamed into place, so a kill never leaves half a file; never onto a file
//! of the store; owner-only unless it replaces a file whose mode it keeps.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Reads the regular file at `path`, at most `limit` bytes (more is an error naming the limit).
/// A FIFO, a device, a socket or a directory is refused without waiting on it: it is opened
/// non-blocking and checked before a byte is read. A symbolic link is followed to a regular file.
pub fn read_regular(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other(format!(
            "it is not a regular file but a {}",
            kind(&meta)
        )));
    }
    if meta.len() > limit {
        return Err(too_large(limit));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

fn too_large(limit: u64) -> std::io::Error {
    std::io::Error::other(format!(
        "it is larger than {} KiB, the most hotfix reads for this kind of file",
        limit >> 10
    ))
}

/// What a file that is not a regular file is, in words.
fn kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "named pipe"
    } else if t.is_char_device() || t.is_block_device() {
        "device"
    } else if t.is_socket() {
        "socket"
    } else if t.is_symlink() {
        "symbolic link"
    } else {
        "special file"
    }
}

/// Writes `bytes` to `path`, replacing it whole or not at all. `store` is the hotfix store in
/// use: a path inside it (or a link to one of its files) is refused, so a report can never
/// replace the log.
pub fn write_new_file(path: &Path, bytes: &[u8], store: Option<&Path>) -> Result<(), String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Some(store) = store {
        refuse_store_file(path, dir, store)?;
    }
    // Only a regular file is ever replaced: a link, a pipe or a device in its place stays.
    let existing = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => Some(m),
        Ok(m) if m.file_type().is_symlink() => {
            return Err(format!(
                "{} is a symbolic link: hotfix replaces only regular files; give the path it points to, or another",
                path.display()
            ));
        }
        Ok(m) => {
            return Err(format!(
                "{} is a {}, not a regular file: hotfix writes only regular files; give another path",
                path.display(),
                kind(&m)
            ));
        }
        Err(_) => None,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| e.to_string())?;
    if let Some(m) = &existing {
        // Replacing a file keeps its mode; a new one stays owner-only (tempfile makes it 0600).
        let mode = std::fs::Permissions::from_mode(m.permissions().mode() & 0o7777);
        tmp.as_file()
            .set_permissions(mode)
            .map_err(|e| e.to_string())?;
    }
    tmp.write_all(bytes).map_err(|e| e.to_string())?;
    tmp.as_file().sync_data().map_err(|e| e.to_string())?;
    tmp.persist(path).map_err(|e| e.error.to_string())?;
    Ok(())
}

/// Writes one of this user's own files (the witness, checkpoints, caches): its directory made
/// owner-only if missing, the file 0600, replaced whole.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    write_new_file(path, bytes, None)
}

fn refuse_store_file(path: &Path, dir: &Path, store: &Path) -> Result<(), String> {
    let Ok(store) = std::fs::canonicalize(store) else {
        return Ok(()); // no store there: nothing to protect
    };
    let inside = |p: &Path| p.starts_with(&store);
    let parent = std::fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let target: PathBuf = std::fs::canonicalize(path)
        .unwrap_or_else(|_| parent.join(path.file_name().unwrap_or_default()));
    let linked = std::fs::metadata(path).ok().is_some_and(|m| {
        std::fs::read_dir(&store)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                e.metadata()
                    .is_ok_and(|s| s.dev() == m.dev() && s.ino() == m.ino())
            })
    });
    if inside(&parent) || inside(&target) || linked {
        return Err(format!(
            "{} is in the hotfix store ({}): write it somewhere else, the store holds only its own files",
            path.display(),
            store.display()
        ));
    }
    Ok(())
}
