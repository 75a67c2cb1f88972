//! Where things live: the store directory, the actor's name, the config and state directories.

use crate::error::Error;
use std::path::{Path, PathBuf};

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "hotfix")
}

/// `--store DIR`, else `$HOTFIX_STORE`, else the user's data directory.
pub fn store_dir(flag: Option<&Path>) -> Result<PathBuf, Error> {
    if let Some(dir) = flag {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("HOTFIX_STORE").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    project_dirs().map(|d| d.data_dir().to_path_buf()).ok_or_else(|| {
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

/// Where the cockpit's user config (key overrides) lives.
pub fn config_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().to_path_buf())
}

/// Where the cockpit writes its log file.
/// Where this user's checkpoints of stores live (the cache directory: losing it costs one
/// full read, never a record).
pub fn checkpoint_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.cache_dir().join("checkpoints"))
}

pub fn state_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.state_dir().unwrap_or_else(|| d.cache_dir()).to_path_buf())
}

/// A number of seconds from the environment variable `name`, `default` when it is unset or
/// empty; anything that is not a number within `least..=most` is an error naming the variable.
pub fn env_seconds(
    name: &str,
    default: std::time::Duration,
    least: f64,
    most: f64,
) -> Result<std::time::Duration, String> {
    let Some(raw) = std::env::var_os(name).filter(|v| !v.is_empty()) else {
        return Ok(default);
    };
    let text = raw.to_string_lossy();
    match text.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && (least..=most).contains(&n) => {
            Ok(std::time::Duration::from_secs_f64(n))
        }
        _ => Err(format!(
            "{name}={} is not a number of seconds from {least} to {most}: fix or unset it",
            crate::sanitize::line(&text)
        )),
    }
}
