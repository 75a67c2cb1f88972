//! This user's own places and numbers: the config, cache and state directories, and seconds
//! read from the environment. Needs nothing else of hotfix's, so anything may use it.

use std::path::PathBuf;

pub(crate) fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "hotfix")
}

/// Where the cockpit's user config (key overrides) lives.
pub fn config_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().to_path_buf())
}

/// Where this user's checkpoints of stores live (the cache directory: losing it costs one
/// full read, never a record).
pub fn checkpoint_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.cache_dir().join("checkpoints"))
}

/// Where this user's state lives: the witness, the checkpoint key, the cockpit's log.
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
