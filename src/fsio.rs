//! Writing files people asked for (a report, a notice): through an exclusive temporary file in
//! the same directory, renamed into place, so a kill never leaves half a file.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path`, replacing it whole or not at all.
pub fn write_new_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| e.to_string())?;
    tmp.write_all(bytes).map_err(|e| e.to_string())?;
    tmp.as_file().sync_data().map_err(|e| e.to_string())?;
    tmp.persist(path).map_err(|e| e.error.to_string())?;
    Ok(())
}
