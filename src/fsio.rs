//! Writing files people asked for (a report, a notice): through an exclusive temporary file in
//! the same directory, renamed into place, so a kill never leaves half a file; never onto a file
//! of the store; owner-only unless it replaces a file whose mode it keeps.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

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
    let existing = std::fs::metadata(path).ok();
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
