//! Who acts and on which store: the store directory, the actor's name, a demo's directory.
//! (Where this user's own files live, and numbers from the environment, are in `settings`.)

use crate::error::Error;
use crate::store::Location;
use std::path::{Path, PathBuf};

use crate::settings::project_dirs;

/// `--store DIR`, else `$HOTFIX_STORE`, else the user's data directory.
pub fn store_location(flag: Option<Location>) -> Result<Location, Error> {
    if let Some(at) = flag {
        return Ok(at);
    }
    if let Some(raw) = std::env::var_os("HOTFIX_STORE").filter(|d| !d.is_empty()) {
        return Ok(Location::parse(Path::new(&raw)));
    }
    project_dirs().map(|d| Location::Directory(d.data_dir().to_path_buf())).ok_or_else(|| {
        Error::Failed("cannot find a home directory for the default store: pass --store DIR or set HOTFIX_STORE".into())
    })
}

/// `$HOTFIX_USER`, else the OS login name.
/// The name must be one `hotfix user grant` would accept: it is recorded in the log as is.
pub fn actor() -> Result<String, Error> {
    let (name, source) = match std::env::var_os("HOTFIX_USER").filter(|u| !u.is_empty()) {
        Some(user) => (user.to_string_lossy().into_owned(), "HOTFIX_USER"),
        None => (
            whoami::username().map_err(|e| {
                Error::Failed(format!(
                    "cannot tell who you are ({e}): set HOTFIX_USER to your user name"
                ))
            })?,
            "your login name",
        ),
    };
    match crate::state::text::check_name("user", &name) {
        Ok(valid) if valid == name => Ok(valid),
        _ => Err(Error::Usage(format!(
            "{source} \"{}\" cannot be recorded as a user: a user name is 1 to {} letters, digits and . _ @ + - (no spaces or control characters); set HOTFIX_USER to one",
            crate::sanitize::line(&name.chars().take(80).collect::<String>()),
            crate::state::text::MAX_NAME
        ))),
    }
}

/// A new, empty, kept temporary directory for a demo store.
pub fn fresh_demo_dir() -> Result<PathBuf, Error> {
    tempfile::Builder::new()
        .prefix("hotfix-demo-")
        .tempdir()
        .map(tempfile::TempDir::keep)
        .map_err(|e| {
            Error::Failed(format!(
                "cannot create a temporary directory for the demo: {e}"
            ))
        })
}
