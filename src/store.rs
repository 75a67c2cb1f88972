//! The event log: an append-only JSON Lines file, one event per line, each chained to the one
//! before by SHA-256. Every command takes the lock, catches up on what other processes appended,
//! decides against that state, appends, fsyncs, and only then reports success.
//!
//! A line is `{"v":1,"seq":…,"at":…,"actor":…,"type":…,<payload>,"prev":…,"hash":…}` where
//! `hash` is the SHA-256 of the line's bytes up to `,"hash":` and `prev` is the previous line's hash.

mod file;
mod line;

pub use file::{FileLog, LOG_FILE};
pub use line::{FORMAT_VERSION, GENESIS};

use crate::state::{self, Command, Model, Recorded, Rejection};
use chrono::{DateTime, Utc};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a command waits for another process to release the lock before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The small interface a backend offers, so a shared database could replace the file later
/// without touching the state module or the shells.
pub trait Backend {
    type Lock;
    /// Takes the exclusive lock, waiting at most `wait`.
    fn lock(&self, wait: Duration) -> Result<Self::Lock, StoreError>;
    /// The raw bytes from `cursor` to the end.
    fn read_since(&self, lock: &Self::Lock, cursor: u64) -> Result<Vec<u8>, StoreError>;
    /// Appends `bytes` at `cursor` (the current end) and makes them durable, or leaves the log as it was.
    fn append(&self, lock: &Self::Lock, cursor: u64, bytes: &[u8]) -> Result<(), StoreError>;
    /// Moves an incomplete tail starting at `cursor` aside, verbatim; returns where it went.
    fn set_aside(&self, lock: &Self::Lock, cursor: u64, tail: &[u8]) -> Result<String, StoreError>;
}

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
    /// The lock stayed taken for the whole wait.
    Locked(PathBuf),
    /// The log's integrity is broken: reads work, writes are refused.
    ReadOnly(String),
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
            StoreError::Locked(path) => write!(
                f,
                "another hotfix process held the store lock ({}) for {} s: try again when it finishes",
                path.display(),
                LOCK_WAIT.as_secs()
            ),
            StoreError::ReadOnly(why) => {
                write!(f, "the store is read-only: {why}; nothing was written")
            }
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

/// The chain's verdict on the log read so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Integrity {
    Verified,
    /// The first line that breaks the chain, and how.
    Broken {
        line: u64,
        reason: String,
    },
}

/// A store opened by one process: the folded model and where in the log it has read up to.
pub struct Store<B: Backend = FileLog> {
    backend: B,
    pub model: Model,
    cursor: u64,
    lines: u64,
    last_hash: String,
    pub integrity: Integrity,
    /// Things the user must be told, such as a torn tail that was set aside; drained by the shell.
    pub notices: Vec<String>,
}

impl Store<FileLog> {
    /// Opens the store in `dir`, which must exist, and reads it.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Store::with_backend(FileLog::open(dir)?)
    }

    /// Creates the store directory and an empty log (owner-only), or opens the existing one.
    pub fn create(dir: &Path) -> Result<Self, StoreError> {
        Store::with_backend(FileLog::create(dir)?)
    }

    pub fn dir(&self) -> &Path {
        self.backend.dir()
    }
}

impl<B: Backend> Store<B> {
    pub fn with_backend(backend: B) -> Result<Self, StoreError> {
        let mut store = Store {
            backend,
            model: Model::default(),
            cursor: 0,
            lines: 0,
            last_hash: GENESIS.to_string(),
            integrity: Integrity::Verified,
            notices: Vec::new(),
        };
        store.refresh()?;
        Ok(store)
    }

    /// Reads what other processes appended since the last read. Returns whether anything changed.
    pub fn refresh(&mut self) -> Result<bool, StoreError> {
        let lock = self.backend.lock(LOCK_WAIT)?;
        self.catch_up(&lock)
    }

    fn catch_up(&mut self, lock: &B::Lock) -> Result<bool, StoreError> {
        let bytes = self.backend.read_since(lock, self.cursor)?;
        if bytes.is_empty() {
            return Ok(false);
        }
        let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let tail = &bytes[complete..];
        if !tail.is_empty() {
            let at = self.cursor + complete as u64;
            let kept = self.backend.set_aside(lock, at, tail)?;
            self.notices.push(format!(
                "the last line of the log was incomplete ({} bytes, from an append that never finished and was never acknowledged); it was moved to {kept}",
                tail.len()
            ));
        }
        let mut changed = false;
        for raw in bytes[..complete].split_inclusive(|b| *b == b'\n') {
            let number = self.lines + 1;
            let parsed = line::parse(raw, number)?;
            if self.integrity == Integrity::Verified
                && let Err(reason) =
                    line::check_chain(&parsed, raw, self.model.seq + 1, &self.last_hash)
            {
                self.integrity = Integrity::Broken {
                    line: number,
                    reason,
                };
            }
            self.last_hash.clone_from(&parsed.hash);
            state::apply(&mut self.model, &parsed.recorded);
            self.lines = number;
            self.cursor += raw.len() as u64;
            changed = true;
        }
        Ok(changed)
    }

    /// Decides `command` against the up-to-date state and appends its events durably.
    pub fn execute(
        &mut self,
        actor: &str,
        now: DateTime<Utc>,
        command: Command,
    ) -> Result<Vec<Recorded>, ExecError> {
        let lock = self.backend.lock(LOCK_WAIT)?;
        self.catch_up(&lock)?;
        if let Integrity::Broken { line, reason } = &self.integrity {
            return Err(StoreError::ReadOnly(format!(
                "line {line} of the log fails verification ({reason})"
            ))
            .into());
        }
        let events = state::decide(&self.model, actor, now, command).map_err(ExecError::Refused)?;
        let mut bytes = Vec::new();
        let mut recorded = Vec::with_capacity(events.len());
        let mut prev = self.last_hash.clone();
        for (i, event) in events.into_iter().enumerate() {
            let r = Recorded {
                seq: self.model.seq + 1 + i as u64,
                at: now,
                actor: actor.to_string(),
                event,
            };
            let (text, hash) = line::encode(&r, &prev);
            bytes.extend_from_slice(text.as_bytes());
            prev = hash;
            recorded.push(r);
        }
        self.backend.append(&lock, self.cursor, &bytes)?;
        self.cursor += bytes.len() as u64;
        self.lines += recorded.len() as u64;
        self.last_hash = prev;
        for r in &recorded {
            state::apply(&mut self.model, r);
        }
        Ok(recorded)
    }

    /// Every event in the log, in order, verified as in [`Store::refresh`].
    pub fn events(&self) -> Result<Vec<Recorded>, StoreError> {
        let lock = self.backend.lock(LOCK_WAIT)?;
        let bytes = self.backend.read_since(&lock, 0)?;
        let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        bytes[..complete]
            .split_inclusive(|b| *b == b'\n')
            .zip(1..)
            .map(|(raw, n)| line::parse(raw, n).map(|p| p.recorded))
            .collect()
    }

    /// Checks the whole log from its first line; returns the number of events and the head hash.
    pub fn verify(&self) -> Result<(u64, String, Integrity), StoreError> {
        let lock = self.backend.lock(LOCK_WAIT)?;
        let bytes = self.backend.read_since(&lock, 0)?;
        let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let mut prev = GENESIS.to_string();
        let mut count = 0;
        for (raw, n) in bytes[..complete].split_inclusive(|b| *b == b'\n').zip(1..) {
            let parsed = line::parse(raw, n)?;
            if let Err(reason) = line::check_chain(&parsed, raw, n, &prev) {
                return Ok((count, prev, Integrity::Broken { line: n, reason }));
            }
            prev = parsed.hash;
            count = n;
        }
        Ok((count, prev, Integrity::Verified))
    }

    /// Hash of the newest event read.
    pub fn head_hash(&self) -> &str {
        &self.last_hash
    }
}
