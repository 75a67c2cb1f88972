//! How a run of hotfix failed, and so its exit code. Shared by the CLI, the cockpit, the demo
//! writer and the path lookups, so none of them depends on another to report a failure.

use crate::store::{ExecError, StoreError};

/// A failure, by the exit code it gives.
#[derive(Debug)]
pub enum Error {
    /// The way it was called cannot work (no terminal for the cockpit, say): exit 2.
    Usage(String),
    /// Refused by a rule: exit 3, nothing recorded.
    Refused(String),
    /// Anything else: exit 1.
    Failed(String),
}

impl Error {
    pub fn code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::Refused(_) => 3,
            Error::Failed(_) => 1,
        }
    }

    /// The message without the "refused: " prefix that `Display` adds.
    pub fn message(&self) -> &str {
        match self {
            Error::Usage(m) | Error::Refused(m) | Error::Failed(m) => m,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Refused(m) => write!(f, "refused: {m}"),
            Error::Failed(m) | Error::Usage(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Setting(why) => Error::Usage(why),
            e @ StoreError::Exists(_) => Error::Refused(e.to_string()),
            e => Error::Failed(e.to_string()),
        }
    }
}

impl From<ExecError> for Error {
    fn from(e: ExecError) -> Self {
        match e {
            ExecError::Refused(r) => Error::Refused(r.message),
            ExecError::Store(s) => s.into(),
        }
    }
}

impl From<crate::state::Rejection> for Error {
    fn from(r: crate::state::Rejection) -> Self {
        Error::Refused(r.message)
    }
}
