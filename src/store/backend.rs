//! What a log must offer the store, and the two there are behind one type.

use super::{FileLog, Location, StoreError, chain, file, pg};
use chrono::{DateTime, Utc};
use std::fmt;
use std::time::Duration;

/// What the head file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeadFile {
    Missing,
    Valid(Head),
    /// It exists but is not a head: never written so by hotfix.
    Unreadable(String),
}

impl HeadFile {
    pub(super) fn head(&self) -> Option<&Head> {
        match self {
            HeadFile::Valid(h) => Some(h),
            _ => None,
        }
    }
}

/// The newest event as of the last completed append: its sequence number and hash. Reports
/// and notices name it too, as `SEQ:HASH` (a witness outside the store).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// The small interface a backend offers, so a shared database could replace the file later
/// without touching the state module or the shells.
pub trait Backend: Clone {
    type Lock;
    /// Reads the log from a cursor on.
    type Reader: std::io::Read;
    /// Takes the exclusive lock, waiting at most `wait`.
    fn lock(&self, wait: Duration) -> Result<Self::Lock, StoreError>;
    /// The raw bytes from `cursor` to the end, to be streamed (the log is never read whole).
    fn read_since(&self, lock: &Self::Lock, cursor: u64) -> Result<Self::Reader, StoreError>;
    /// The lines (newline included) whose sequence numbers are in `seqs` (ascending), of the
    /// log's first `end` bytes; a line not found is left out. The default finds each by a binary
    /// search over byte offsets (see [`chain::line_of_seq`]); a database asks by number.
    fn read_lines(
        &self,
        lock: &Self::Lock,
        seqs: &[u64],
        end: u64,
    ) -> Result<Vec<Vec<u8>>, StoreError>
    where
        Self: Sized,
    {
        let mut lines = Vec::with_capacity(seqs.len());
        for seq in seqs {
            if let Some(raw) = chain::line_of_seq(self, lock, *seq, end)? {
                lines.push(raw);
            }
        }
        Ok(lines)
    }
    /// Appends `bytes` at `cursor` (the current end) and makes them durable, or leaves the log as it was.
    fn append(&self, lock: &Self::Lock, cursor: u64, bytes: &[u8]) -> Result<(), StoreError>;
    /// Moves an incomplete tail starting at `cursor` aside, verbatim; returns where it went.
    fn set_aside(&self, lock: &Self::Lock, cursor: u64, tail: &[u8]) -> Result<String, StoreError>;
    /// The recorded head.
    fn read_head(&self, lock: &Self::Lock) -> Result<HeadFile, StoreError>;
    /// Records the head after an append.
    fn write_head(&self, lock: &Self::Lock, head: &Head) -> Result<(), StoreError>;
    /// At most `max` bytes of the snapshot from byte `from` on, if the backend keeps one (a
    /// cache: nothing depends on it).
    fn read_snapshot_at(&self, _from: u64, _max: u64) -> Option<Vec<u8>> {
        None
    }
    /// The snapshot's first `max` bytes.
    fn read_snapshot(&self, max: u64) -> Option<Vec<u8>> {
        self.read_snapshot_at(0, max)
    }
    /// Replaces the snapshot with what `write` produces, whole or not at all (under the lock).
    fn write_snapshot(
        &self,
        _lock: &Self::Lock,
        _write: &mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        Ok(())
    }
    /// Who acts, when the backend knows better than the caller (a database login).
    fn actor(&self) -> Option<String> {
        None
    }
    /// The time every event of the command under `lock` carries, when the backend keeps the
    /// clock (a database server).
    fn now(&self, _lock: &Self::Lock) -> Option<DateTime<Utc>> {
        None
    }
    /// The store's identity for the witness: a canonical path, or server, database and schema.
    fn identity(&self) -> String {
        String::new()
    }
    /// Whether the backend itself refuses a line that breaks the chain, and any change to a
    /// recorded one (a database's append function and triggers): then a read from the snapshot
    /// need not walk the log before it (see [`Store::for_reading`]).
    fn enforces_chain(&self) -> bool {
        false
    }
}

/// A file store or a database store, chosen by what `--store` names.
#[derive(Clone)]
pub enum AnyLog {
    File(FileLog),
    Database(pg::PgLog),
}

pub enum AnyLock {
    File(file::FileLock),
    Database(pg::PgLock),
}

pub enum AnyReader {
    File(std::fs::File),
    Database(std::io::Cursor<Vec<u8>>),
}

impl std::io::Read for AnyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            AnyReader::File(f) => f.read(buf),
            AnyReader::Database(c) => c.read(buf),
        }
    }
}

/// One backend's lock from the other's is a bug: refused rather than trusted.
fn mismatch() -> StoreError {
    StoreError::Io {
        context: "internal".into(),
        source: std::io::Error::other("a lock from another store"),
    }
}

impl AnyLog {
    /// The store at `location`, which must hold one.
    pub fn open(location: &Location) -> Result<AnyLog, StoreError> {
        match location {
            Location::Database(spec) => Ok(AnyLog::Database(pg::PgLog::open(spec)?)),
            Location::Directory(dir) => Ok(AnyLog::File(FileLog::open(dir)?)),
        }
    }
}

impl Backend for AnyLog {
    type Lock = AnyLock;
    type Reader = AnyReader;

    fn lock(&self, wait: Duration) -> Result<AnyLock, StoreError> {
        Ok(match self {
            AnyLog::File(b) => AnyLock::File(b.lock(wait)?),
            AnyLog::Database(b) => AnyLock::Database(b.lock(wait)?),
        })
    }

    fn read_since(&self, lock: &AnyLock, cursor: u64) -> Result<AnyReader, StoreError> {
        match (self, lock) {
            (AnyLog::File(b), AnyLock::File(l)) => Ok(AnyReader::File(b.read_since(l, cursor)?)),
            (AnyLog::Database(b), AnyLock::Database(l)) => {
                Ok(AnyReader::Database(b.read_since(l, cursor)?))
            }
            _ => Err(mismatch()),
        }
    }

    fn read_lines(
        &self,
        lock: &AnyLock,
        seqs: &[u64],
        end: u64,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        match (self, lock) {
            (AnyLog::File(b), AnyLock::File(l)) => b.read_lines(l, seqs, end),
            (AnyLog::Database(b), AnyLock::Database(l)) => b.read_lines(l, seqs, end),
            _ => Err(mismatch()),
        }
    }

    fn append(&self, lock: &AnyLock, cursor: u64, bytes: &[u8]) -> Result<(), StoreError> {
        match (self, lock) {
            (AnyLog::File(b), AnyLock::File(l)) => b.append(l, cursor, bytes),
            (AnyLog::Database(b), AnyLock::Database(l)) => b.append(l, cursor, bytes),
            _ => Err(mismatch()),
        }
    }

    fn set_aside(&self, lock: &AnyLock, cursor: u64, tail: &[u8]) -> Result<String, StoreError> {
        match (self, lock) {
            (AnyLog::File(b), AnyLock::File(l)) => b.set_aside(l, cursor, tail),
            (AnyLog::Database(b), AnyLock::Database(l)) => b.set_aside(l, cursor, tail),
            _ => Err(mismatch()),
        }
    }

    fn read_head(&self, lock: &AnyLock) -> Result<HeadFile, StoreError> {
        match (self, lock) {
            (AnyLog::File(b), AnyLock::File(l)) => b.read_head(l),
            (AnyLog::Database(b), AnyLock::Database(l)) => b.read_head(l),
            _ => Err(mismatch()),
        }
    }

    fn write_head(&self, lock: &AnyLock, head: &Head) -> Result<(), StoreError> {
        match (self, lock) {
            (AnyLog::File(b), AnyLock::File(l)) => b.write_head(l, head),
            (AnyLog::Database(b), AnyLock::Database(l)) => b.write_head(l, head),
            _ => Err(mismatch()),
        }
    }

    fn read_snapshot_at(&self, from: u64, max: u64) -> Option<Vec<u8>> {
        match self {
            AnyLog::File(b) => b.read_snapshot_at(from, max),
            AnyLog::Database(b) => b.read_snapshot_at(from, max),
        }
    }

    fn write_snapshot(
        &self,
        lock: &AnyLock,
        write: &mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        match (self, lock) {
            (AnyLog::File(b), AnyLock::File(l)) => b.write_snapshot(l, write),
            (AnyLog::Database(b), AnyLock::Database(l)) => b.write_snapshot(l, write),
            _ => Err(mismatch()),
        }
    }

    fn actor(&self) -> Option<String> {
        match self {
            AnyLog::File(b) => b.actor(),
            AnyLog::Database(b) => b.actor(),
        }
    }

    fn now(&self, lock: &AnyLock) -> Option<DateTime<Utc>> {
        match (self, lock) {
            (AnyLog::Database(b), AnyLock::Database(l)) => b.now(l),
            _ => None,
        }
    }

    fn identity(&self) -> String {
        match self {
            AnyLog::File(b) => b.identity(),
            AnyLog::Database(b) => b.identity(),
        }
    }

    fn enforces_chain(&self) -> bool {
        matches!(self, AnyLog::Database(_))
    }
}
