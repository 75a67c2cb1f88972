//! Why the store could not do what was asked.

use crate::state::Rejection;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Why the store cannot be used, read or written.
#[derive(Debug)]
pub enum StoreError {
    /// There is no store at this path.
    Missing(PathBuf),
    Io {
        context: String,
        source: std::io::Error,
    },
    /// A line that cannot be read at all: every command fails.
    Corrupt { line: u64, reason: String },
    /// The lock stayed taken for the whole wait (how long it was).
    Locked(PathBuf, Duration),
    /// A setting from the environment that cannot be used.
    Setting(String),
    /// A new store was asked for where one exists.
    Exists(PathBuf),
    /// The log's integrity is broken: reads work, writes are refused.
    ReadOnly(String),
    /// The snapshot a model was opened from no longer holds the archive it was opened with
    /// (another process replaced it), and an event needs it: the store is read whole instead.
    ArchiveGone,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Missing(dir) => write!(
                f,
                "no hotfix store at {}: run `hotfix init` to create one, or `hotfix demo` to explore",
                dir.display()
            ),
            StoreError::Io { context, source } => write!(f, "{context}: {source}"),
            StoreError::Corrupt { line, reason } => write!(
                f,
                "the event log is damaged at line {line}: {reason}; nothing was changed (see `hotfix verify`)"
            ),
            StoreError::Locked(path, wait) => write!(
                f,
                "another hotfix process held the store lock ({}) for {:.1} s: try again when it finishes, or wait longer with HOTFIX_LOCK_WAIT=SECONDS",
                path.display(),
                wait.as_secs_f64()
            ),
            StoreError::Setting(why) => f.write_str(why),
            StoreError::Exists(dir) => write!(
                f,
                "{} already holds a hotfix store: nothing was changed (choose another --store for a new one)",
                dir.display()
            ),
            StoreError::ReadOnly(why) => {
                write!(f, "the store is read-only: {why}; nothing was written")
            }
            StoreError::ArchiveGone => f.write_str(
                "the snapshot was replaced while its archive was needed: run the command again",
            ),
        }
    }
}

impl std::error::Error for StoreError {}

impl StoreError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
        let context = context.into();
        move |source| StoreError::Io { context, source }
    }
}

/// Why a command did not happen: a rule refused it, or the store could not do it.
#[derive(Debug)]
pub enum ExecError {
    Refused(Rejection),
    Store(StoreError),
}

impl From<StoreError> for ExecError {
    fn from(e: StoreError) -> Self {
        ExecError::Store(e)
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecError::Refused(r) => r.fmt(f),
            ExecError::Store(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ExecError {}
