//! What a log must offer the store, and the two there are behind one type.

use super::{FileLog, Location, StoreError, file, pg};
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

/// Where a reader has got to in the log: how many lines it has read (the last one's sequence
/// number), and how many bytes those lines take as text. A file is read from the byte count; a
/// database returns the same lines (so the same count), but is asked by number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    pub lines: u64,
    pub bytes: u64,
}

impl Position {
    /// Before the first line.
    pub const START: Position = Position { lines: 0, bytes: 0 };
}

/// What a store needs of a log of events: a lock, the lines after a position, a line by its
/// number, an append of a command's lines, and the head. Each backend implements what it has:
/// a file keeps a head file and may be left with half a line by a crash; a database does
/// neither, so the defaults say so.
pub trait Backend: Clone {
    type Lock;
    /// Reads the lines after a position, as text.
    type Reader: std::io::Read;
    /// Takes the exclusive lock, waiting at most `wait`.
    fn lock(&self, wait: Duration) -> Result<Self::Lock, StoreError>;
    /// The lines after `at` to the end, to be streamed (the log is never read whole).
    fn read_after(&self, lock: &Self::Lock, at: Position) -> Result<Self::Reader, StoreError>;
    /// The line numbered `seq`, newline included, among the lines `within` covers, if the log
    /// holds one. With `start`, only a line starting at that byte will do (a file reads there
    /// and nowhere else: a line that moved is not the one remembered); a database asks by
    /// number.
    fn read_line(
        &self,
        lock: &Self::Lock,
        seq: u64,
        start: Option<u64>,
        within: Position,
    ) -> Result<Option<Vec<u8>>, StoreError>;
    /// The lines numbered `seqs` (ascending) among those `within` covers; a line not found is
    /// left out.
    fn read_lines(
        &self,
        lock: &Self::Lock,
        seqs: &[u64],
        within: Position,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut lines = Vec::with_capacity(seqs.len());
        for seq in seqs {
            if let Some(raw) = self.read_line(lock, *seq, None, within)? {
                lines.push(raw);
            }
        }
        Ok(lines)
    }
    /// Appends `batch` (a command's whole lines) after `at`, the log's end, and makes it
    /// durable, or leaves the log as it was.
    fn append(&self, lock: &Self::Lock, at: Position, batch: &[u8]) -> Result<(), StoreError>;
    /// Moves an unfinished tail after `at` aside, verbatim; returns where it went. Only a log
    /// that a crash can leave with half a command has one; the default says it cannot happen.
    fn set_aside(
        &self,
        _lock: &Self::Lock,
        at: Position,
        tail: &[u8],
    ) -> Result<String, StoreError> {
        Err(StoreError::Corrupt {
            line: at.lines + 1,
            reason: format!(
                "{} bytes after the last whole line, in a log that never holds half of one",
                tail.len()
            ),
        })
    }
    /// The recorded head.
    fn read_head(&self, lock: &Self::Lock) -> Result<HeadFile, StoreError>;
    /// Records the head after an append; a log whose newest line is its head (a database) has
    /// nothing to record.
    fn write_head(&self, _lock: &Self::Lock, _head: &Head) -> Result<(), StoreError> {
        Ok(())
    }
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

/// `$body` with the backend inside `$log`, and with its lock from `$lock` when given: the one
/// place the two kinds meet. A lock of the other kind is a bug, refused.
macro_rules! each {
    ($log:expr, |$b:ident| $body:expr) => {
        match $log {
            AnyLog::File($b) => $body,
            AnyLog::Database($b) => $body,
        }
    };
    ($log:expr, $lock:expr, |$b:ident, $l:ident| $body:expr) => {
        match ($log, $lock) {
            (AnyLog::File($b), AnyLock::File($l)) => $body,
            (AnyLog::Database($b), AnyLock::Database($l)) => $body,
            _ => Err(mismatch()),
        }
    };
}

impl Backend for AnyLog {
    type Lock = AnyLock;
    type Reader = AnyReader;

    fn lock(&self, wait: Duration) -> Result<AnyLock, StoreError> {
        match self {
            AnyLog::File(b) => b.lock(wait).map(AnyLock::File),
            AnyLog::Database(b) => b.lock(wait).map(AnyLock::Database),
        }
    }

    fn read_after(&self, lock: &AnyLock, at: Position) -> Result<AnyReader, StoreError> {
        match (self, lock) {
            (AnyLog::File(b), AnyLock::File(l)) => b.read_after(l, at).map(AnyReader::File),
            (AnyLog::Database(b), AnyLock::Database(l)) => {
                b.read_after(l, at).map(AnyReader::Database)
            }
            _ => Err(mismatch()),
        }
    }

    fn read_line(
        &self,
        lock: &AnyLock,
        seq: u64,
        start: Option<u64>,
        within: Position,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        each!(self, lock, |b, l| b.read_line(l, seq, start, within))
    }

    fn read_lines(
        &self,
        lock: &AnyLock,
        seqs: &[u64],
        within: Position,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        each!(self, lock, |b, l| b.read_lines(l, seqs, within))
    }

    fn append(&self, lock: &AnyLock, at: Position, batch: &[u8]) -> Result<(), StoreError> {
        each!(self, lock, |b, l| b.append(l, at, batch))
    }

    fn set_aside(&self, lock: &AnyLock, at: Position, tail: &[u8]) -> Result<String, StoreError> {
        each!(self, lock, |b, l| b.set_aside(l, at, tail))
    }

    fn read_head(&self, lock: &AnyLock) -> Result<HeadFile, StoreError> {
        each!(self, lock, |b, l| b.read_head(l))
    }

    fn write_head(&self, lock: &AnyLock, head: &Head) -> Result<(), StoreError> {
        each!(self, lock, |b, l| b.write_head(l, head))
    }

    fn read_snapshot_at(&self, from: u64, max: u64) -> Option<Vec<u8>> {
        each!(self, |b| b.read_snapshot_at(from, max))
    }

    fn write_snapshot(
        &self,
        lock: &AnyLock,
        write: &mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        each!(self, lock, |b, l| b.write_snapshot(l, write))
    }

    fn actor(&self) -> Option<String> {
        each!(self, |b| b.actor())
    }

    fn now(&self, lock: &AnyLock) -> Option<DateTime<Utc>> {
        match (self, lock) {
            (AnyLog::File(b), AnyLock::File(l)) => b.now(l),
            (AnyLog::Database(b), AnyLock::Database(l)) => b.now(l),
            _ => None,
        }
    }

    fn identity(&self) -> String {
        each!(self, |b| b.identity())
    }

    fn enforces_chain(&self) -> bool {
        each!(self, |b| b.enforces_chain())
    }
}
