//! The event log: an append-only JSON Lines file, one event per line, each chained to the one
//! before by SHA-256. Every command takes the lock, catches up on what other processes appended,
//! decides against that state, appends, fsyncs, and only then reports success.
//!
//! A line is `{"v":1,"seq":…,"at":…,"actor":…,"type":…,<payload>,"prev":…,"hash":…}` where
//! `hash` is the SHA-256 of the line's bytes up to `,"hash":` and `prev` is the previous line's hash.
//! The events of one command are appended in one write; all but the last carry `"more":true`, so
//! a command cut short by a crash is set aside whole. A head file records the newest sequence
//! number and hash after each append, so deleting events from the end is detected too. A
//! snapshot of the folded model (see [`snapshot`]) lets the cockpit open a large store at once.

mod checkpoint;
pub use checkpoint::key_of;
mod file;
pub mod line;
pub mod pg;
mod pg_tls;
pub mod snapshot;

pub use file::{FileLog, HEAD_FILE, LOG_FILE, create_whole};
pub use line::{FORMAT_VERSION, GENESIS};
pub use snapshot::{SNAPSHOT_EVERY, SNAPSHOT_FILE};

use crate::state::{self, Command, Model, Recorded, Rejection};
use chrono::{DateTime, Utc};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long writes may start from the user's checkpoint after the last full verification of
/// the whole log (see [`Store::open_to_write`]); the first write after that reads it all again.
pub const FULL_CHECK_EVERY: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// How long a command waits for another process to release the lock, unless `HOTFIX_LOCK_WAIT`
/// (seconds) says otherwise.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

pub(crate) fn lock_wait() -> Result<Duration, StoreError> {
    crate::settings::env_seconds("HOTFIX_LOCK_WAIT", LOCK_WAIT, 0.0, 3600.0)
        .map_err(StoreError::Setting)
}

/// What the head file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeadFile {
    Missing,
    Valid(Head),
    /// It exists but is not a head: never written so by hotfix.
    Unreadable(String),
}

impl HeadFile {
    fn head(&self) -> Option<&Head> {
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
    /// Appends `bytes` at `cursor` (the current end) and makes them durable, or leaves the log as it was.
    fn append(&self, lock: &Self::Lock, cursor: u64, bytes: &[u8]) -> Result<(), StoreError>;
    /// Moves an incomplete tail starting at `cursor` aside, verbatim; returns where it went.
    fn set_aside(&self, lock: &Self::Lock, cursor: u64, tail: &[u8]) -> Result<String, StoreError>;
    /// The recorded head.
    fn read_head(&self, lock: &Self::Lock) -> Result<HeadFile, StoreError>;
    /// Records the head after an append.
    fn write_head(&self, lock: &Self::Lock, head: &Head) -> Result<(), StoreError>;
    /// The snapshot's first `max` bytes, if the backend keeps one (a cache: nothing depends on it).
    fn read_snapshot(&self, _max: u64) -> Option<Vec<u8>> {
        None
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

    fn read_snapshot(&self, max: u64) -> Option<Vec<u8>> {
        match self {
            AnyLog::File(b) => b.read_snapshot(max),
            AnyLog::Database(b) => b.read_snapshot(max),
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

/// The chain's verdict on the log read so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Integrity {
    Verified,
    /// Opened from a snapshot: the events after it are verified, the log before it not yet.
    Unchecked,
    /// The first line that breaks the chain, and how.
    Broken {
        line: u64,
        reason: String,
    },
}

/// Walks the log line by line, checking each against the one before and against the head.
#[derive(Clone, Debug)]
struct Chain {
    lines: u64,
    last_hash: String,
    integrity: Integrity,
}

impl Chain {
    fn new() -> Chain {
        Chain {
            lines: 0,
            last_hash: GENESIS.to_string(),
            integrity: Integrity::Verified,
        }
    }

    fn broken(&mut self, line: u64, reason: String) {
        if self.integrity == Integrity::Verified {
            self.integrity = Integrity::Broken { line, reason };
        }
    }

    /// Checks the next line; the first failure is kept.
    fn check(&mut self, parsed: &line::Parsed, raw: &[u8], head: Option<&Head>) {
        let number = self.lines + 1;
        if let Err(reason) = line::check_chain(parsed, raw, number, &self.last_hash) {
            self.broken(number, reason);
        }
        if let Some(h) = head
            && h.seq == parsed.recorded.seq
            && h.hash != parsed.hash
        {
            self.broken(
                number,
                format!(
                    "the head file records another hash for event {}: the log was rewritten",
                    h.seq
                ),
            );
        }
        self.last_hash.clone_from(&parsed.hash);
        self.lines = number;
    }

    /// Against an exact head (a database's newest row): the log must still hold what was read.
    fn still_holds(&mut self, head: &HeadFile) {
        let read = self.lines;
        match head {
            HeadFile::Valid(h) if h.seq < read => self.broken(
                h.seq + 1,
                format!(
                    "the store now ends at event {}, but this process read up to event {read}: events were deleted",
                    h.seq
                ),
            ),
            HeadFile::Valid(h) if h.seq == read && h.hash != self.last_hash => self.broken(
                read,
                format!("event {read} now has another hash: the log was rewritten"),
            ),
            HeadFile::Missing if read > 0 => self.broken(
                1,
                format!("the store holds no events now, but this process read {read}: events were deleted"),
            ),
            _ => {}
        }
    }

    /// After the last line: the log must reach the head. A missing head is accepted only while
    /// the log holds no more than its first command (a crash before the first head was written).
    fn finish(&mut self, head: &HeadFile, first_batch: u64) {
        match head {
            HeadFile::Valid(h) if h.seq > self.lines => self.broken(
                self.lines + 1,
                format!(
                    "the log ends at event {} but the head file records event {}: events were deleted from the end",
                    self.lines, h.seq
                ),
            ),
            HeadFile::Missing if self.lines > first_batch => {
                self.broken(self.lines, "the head file is missing: it may have been removed to hide deleted events".into());
            }
            HeadFile::Unreadable(why) => self.broken(self.lines, format!("the head file cannot be read ({why})")),
            _ => {}
        }
    }
}

/// Encodes one command's events as lines after event `seq` chained from `prev`, appending them
/// to `out`; all but the last are marked `more`. Returns the events, the last line's hash, and
/// where in `out` the last line starts.
fn encode_batch(
    events: Vec<state::Event>,
    seq: u64,
    actor: &str,
    now: DateTime<Utc>,
    prev: &str,
    out: &mut Vec<u8>,
) -> (Vec<Recorded>, String, usize) {
    let count = events.len();
    let mut prev = prev.to_string();
    let mut recorded = Vec::with_capacity(count);
    let mut last_line = out.len();
    for (i, event) in events.into_iter().enumerate() {
        let r = Recorded {
            seq: seq + 1 + i as u64,
            at: now,
            actor: actor.to_string(),
            event,
        };
        let (text, hash) = line::encode(&r, &prev, i + 1 < count);
        last_line = out.len();
        out.extend_from_slice(text.as_bytes());
        prev = hash;
        recorded.push(r);
    }
    (recorded, prev, last_line)
}

/// One finished command as read: its lines parsed, with each line's range in `raw`.
struct Batch<'a> {
    lines: &'a [(line::Parsed, std::ops::Range<usize>)],
    raw: &'a [u8],
}

impl Batch<'_> {
    fn len(&self) -> usize {
        self.raw.len()
    }

    fn lines(&self) -> impl Iterator<Item = (&line::Parsed, &[u8])> {
        self.lines.iter().map(|(p, r)| (p, &self.raw[r.clone()]))
    }
}

/// Streams the log from `reader` (line `first_line` on) and hands each finished command to
/// `on_command`, so the whole log is never held in memory at once. Returns the bytes after the
/// last finished command: an unfinished command and any incomplete last line, which were never
/// acknowledged. A line that cannot be read at all stops the scan; the commands before it have
/// been handed over already.
fn scan<R: std::io::Read>(
    reader: R,
    first_line: u64,
    mut on_command: impl FnMut(Batch<'_>) -> Result<(), StoreError>,
) -> Result<Vec<u8>, StoreError> {
    use std::io::BufRead;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, reader);
    let mut raw = Vec::new();
    let mut lines = Vec::new();
    let mut number = first_line;
    loop {
        let start = raw.len();
        let read = reader
            .read_until(b'\n', &mut raw)
            .map_err(StoreError::io("cannot read the event log"))?;
        if read == 0 || raw.last() != Some(&b'\n') {
            return Ok(raw); // the end: what is left was never acknowledged
        }
        let parsed = line::parse(&raw[start..], number)?;
        number += 1;
        let more = parsed.more;
        lines.push((parsed, start..raw.len()));
        if !more {
            on_command(Batch {
                lines: &lines,
                raw: &raw,
            })?;
            lines.clear();
            raw.clear();
        }
    }
}

/// The snapshot's active part (see [`snapshot::read_active`]), if it is one this hotfix wrote
/// and its last event is still in the log where it says, with the hash it says.
fn usable_snapshot<B: Backend>(backend: &B, lock: &B::Lock) -> Option<snapshot::Active> {
    let snap = snapshot::read_active(|max| backend.read_snapshot(max))?;
    mark_holds(backend, lock, &snap.mark).then_some(snap)
}

/// The file a model opened without its archive has it in.
#[derive(Clone, Debug)]
enum ArchiveFile {
    /// The backend's snapshot.
    Shared,
    /// This user's checkpoint.
    Checkpoint(PathBuf),
}

/// Where the archive of a model opened without it is, and what it must hash to.
#[derive(Clone, Debug)]
struct ArchiveSource {
    file: ArchiveFile,
    section: snapshot::Section,
}

/// Whether the event `mark` names is still in the log at its place, whole, with its hash: one
/// line read, whatever the log's size.
fn mark_holds<B: Backend>(backend: &B, lock: &B::Lock, mark: &snapshot::Mark) -> bool {
    let len = mark.cursor.saturating_sub(mark.last_line);
    line_at(backend, lock, mark.last_line, len).is_ok_and(|held| {
        held.is_some_and(|(p, raw)| {
            raw.len() as u64 == len
                && !p.more
                && p.recorded.seq == mark.lines
                && p.hash == mark.last_hash
        })
    })
}

/// The line that starts at byte `offset` of the log (at most `max` bytes, newline included),
/// if it is a whole line that parses and hashes to its own hash; `None` for anything else,
/// a log shorter than `offset` included.
fn line_at<B: Backend>(
    backend: &B,
    lock: &B::Lock,
    offset: u64,
    max: u64,
) -> Result<Option<(line::Parsed, Vec<u8>)>, StoreError> {
    use std::io::{BufRead, Read};
    let reader = match backend.read_since(lock, offset) {
        Ok(r) => r,
        Err(StoreError::Corrupt { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut raw = Vec::new();
    std::io::BufReader::new(reader.take(max))
        .read_until(b'\n', &mut raw)
        .map_err(StoreError::io("cannot read the event log"))?;
    if raw.last() != Some(&b'\n') {
        return Ok(None);
    }
    let Ok(parsed) = line::parse(&raw, 0) else {
        return Ok(None);
    };
    let seq = parsed.recorded.seq;
    let whole = line::check_chain(&parsed, &raw, seq, &parsed.prev).is_ok();
    Ok(whole.then_some((parsed, raw)))
}

/// Whether the log's lines up to the snapshot's mark chain from the first, each hashing to its
/// own hash, ending at the mark's hash, and agreeing with the head where it names one of them.
fn chain_holds<B: Backend>(
    backend: &B,
    lock: &B::Lock,
    mark: &snapshot::Mark,
    head: Option<&Head>,
) -> Result<bool, StoreError> {
    use std::io::Read;
    const CHUNK: usize = 8 << 20;
    let mut reader = backend.read_since(lock, 0)?.take(mark.cursor);
    let mut prev = [0u8; 64];
    prev.copy_from_slice(GENESIS.as_bytes());
    let mut seq = 0;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + (1 << 16));
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let n = reader
            .read(&mut chunk)
            .map_err(StoreError::io("cannot read the event log"))?;
        buf.extend_from_slice(&chunk[..n]);
        // The complete lines read so far (all of them at the end).
        let upto = if n == 0 {
            buf.len()
        } else {
            buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1)
        };
        let lines: Vec<&[u8]> = buf[..upto].split_inclusive(|b| *b == b'\n').collect();
        let Some(frames) = lines
            .iter()
            .map(|l| line::frame(l))
            .collect::<Option<Vec<_>>>()
        else {
            return Ok(false);
        };
        // Each line's own hash on every core, then the links in order.
        let halves = frames.split_at(frames.len() / 2);
        let own = std::thread::scope(|s| {
            let first = s.spawn(|| halves.0.iter().all(line::Frame::hashes_to_itself));
            let second = halves.1.iter().all(line::Frame::hashes_to_itself);
            first.join().unwrap_or(false) && second
        });
        if !own {
            return Ok(false);
        }
        for f in &frames {
            seq += 1;
            if f.seq != seq || f.prev != prev {
                return Ok(false);
            }
            if head.is_some_and(|h| h.seq == seq && h.hash.as_bytes() != f.hash) {
                return Ok(false);
            }
            prev.copy_from_slice(f.hash);
        }
        buf.drain(..upto);
        if n == 0 {
            break;
        }
    }
    Ok(seq == mark.lines && prev == mark.last_hash.as_bytes())
}

/// A store opened by one process: the folded model and where in the log it has read up to.
pub struct Store<B: Backend = AnyLog> {
    backend: B,
    pub model: Model,
    cursor: u64,
    /// Where the newest line read starts (a snapshot records it).
    last_line: u64,
    chain: Chain,
    /// False while the log before the snapshot this store was opened from is not verified.
    checked: bool,
    /// The newest event a snapshot is known to cover.
    snapshot_seq: Option<u64>,
    /// How many events the log's first command wrote (see [`Chain::finish`]).
    first_batch: u64,
    pub integrity: Integrity,
    /// Things the user must be told, such as a torn tail that was set aside; drained by the shell.
    pub notices: Vec<String>,
    lock_wait: Duration,
    /// The size of an unacknowledged tail a read has reported (so it is reported once).
    torn_seen: Option<usize>,
    /// The snapshot to compare with the fold when it reaches the event the snapshot covers.
    audit: Option<Box<snapshot::Snapshot>>,
    /// Opened from the snapshot once every line before it was found to chain and hash as it
    /// should (see [`Store::for_reading`]): the chain is verified, the snapshot's state is not.
    chain_checked: bool,
    /// Whether that comparison failed.
    snapshot_disagreed: bool,
    /// For a model opened without its archive: where the archive is (see [`Store::load_archive`]).
    archive_from: Option<ArchiveSource>,
    /// Opened from this user's checkpoint, without a full verification (see
    /// [`Store::open_to_write`]).
    from_checkpoint: bool,
}

/// Why the log is read: only a write may change it (set a torn tail aside).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Reading,
    Writing,
}
use Purpose::{Reading, Writing};

impl AnyLog {
    /// The store `location` names: a database (see [`pg::is_database`]) or a directory, which
    /// must hold a store.
    pub fn open(location: &Path) -> Result<AnyLog, StoreError> {
        match database(location) {
            Some(spec) => Ok(AnyLog::Database(pg::PgLog::open(spec)?)),
            None => Ok(AnyLog::File(FileLog::open(location)?)),
        }
    }
}

/// The event the backend's snapshot covers and the SHA-256 (hex) of its contents, from its
/// header: what an audit of that snapshot is remembered by.
pub fn snapshot_header<B: Backend>(backend: &B) -> Option<(u64, String)> {
    let prefix = backend.read_snapshot(snapshot::HEADER_MAX)?;
    Some((snapshot::covers(&prefix)?, snapshot::digest(&prefix)?))
}

/// The database spec `location` holds, if it names one.
pub fn database(location: &Path) -> Option<&str> {
    location.to_str().filter(|s| pg::is_database(s))
}

/// A store's location as it may be shown anywhere: a database's password is never part of it.
pub fn shown(location: &Path) -> String {
    match database(location) {
        Some(spec) => pg::redacted(spec),
        None => location.display().to_string(),
    }
}

impl Store<AnyLog> {
    /// Opens the store at `location`, which must exist, and reads it whole, auditing the
    /// snapshot on the way (see [`Store::audited`]): for writes, `verify` and answers a write
    /// would act on.
    pub fn open(location: &Path) -> Result<Self, StoreError> {
        Store::audited(AnyLog::open(location)?)
    }

    /// Reads the whole log of the store at `location` without auditing the snapshot: for a
    /// caller that compares the result with a store opened from the snapshot itself
    /// ([`Store::adopt`]), so the snapshot's state is not held a second time.
    pub fn open_whole(location: &Path) -> Result<Self, StoreError> {
        Store::with_backend(AnyLog::open(location)?)
    }

    /// Opens the store at `location` from its snapshot when one matches the log, reading only
    /// the events after it (see [`Store::with_snapshot`]); otherwise the same as [`Store::open`].
    pub fn open_from_snapshot(location: &Path) -> Result<Self, StoreError> {
        Store::with_snapshot(AnyLog::open(location)?)
    }

    /// For `hotfix verify`'s fast path: see [`Store::for_reading`].
    pub fn open_to_read(location: &Path) -> Result<Self, StoreError> {
        Store::for_reading(AnyLog::open(location)?)
    }

    /// Creates the store directory and an empty log (owner-only), or opens the existing one.
    /// (A database store is made by `hotfix init`: see [`pg::PgLog::create`].)
    pub fn create(dir: &Path) -> Result<Self, StoreError> {
        Store::with_backend(AnyLog::File(FileLog::create(dir)?))
    }

    /// For a command, read or write: from this user's checkpoint of the store (in
    /// `checkpoints`, the user's cache directory), when there is one, a full verification was
    /// recorded within [`FULL_CHECK_EVERY`], and the event it names is still in the log at its
    /// place with its hash (one line read). Then only the checkpoint's active part (see
    /// [`crate::state::archive`]) and the events after it are read, verified and folded, and
    /// the head file is checked as always. Otherwise the log is read whole, verified and
    /// audited, and the checkpoint is written (that is the full verification it records).
    pub fn open_to_write(
        location: &Path,
        checkpoints: Option<&Path>,
        now: DateTime<Utc>,
    ) -> Result<Self, StoreError> {
        let backend = AnyLog::open(location)?;
        let Some(dir) = checkpoints else {
            return Store::audited(backend);
        };
        let at = checkpoint::Place::new(dir, &backend.identity());
        if let Some(store) = Store::open_checkpoint(&backend, &at, now)? {
            return Ok(store);
        }
        let store = Store::audited(backend)?;
        if store.integrity == Integrity::Verified {
            let _ = at.write(&store, now);
        }
        Ok(store)
    }

    /// The store as this user's checkpoint at `at` and the events after it give it, when the
    /// checkpoint can be used (see [`Store::open_to_write`]); `None` when it cannot.
    fn open_checkpoint(
        backend: &AnyLog,
        at: &checkpoint::Place,
        now: DateTime<Utc>,
    ) -> Result<Option<Self>, StoreError> {
        let Some(meta) = at.meta().filter(|m| now - m.verified_at < FULL_CHECK_EVERY) else {
            return Ok(None);
        };
        let Some(snap) = at.read_active_with(&meta) else {
            return Ok(None);
        };
        let wait = lock_wait()?;
        let lock = backend.lock(wait)?;
        if !mark_holds(backend, &lock, &snap.mark) {
            return Ok(None);
        }
        let covers = snap.mark.lines;
        let source = ArchiveFile::Checkpoint(at.model_path().to_path_buf());
        let mut store = match Store::from_snapshot(backend.clone(), &lock, snap, source, wait) {
            Err(StoreError::ArchiveGone) => return Ok(None),
            other => other?,
        };
        drop(lock);
        store.checked = true;
        store.from_checkpoint = true;
        store.integrity = store.verdict();
        // Keep the tail short: the checkpoint moves on (it still records the last full
        // verification, not this one).
        if store.integrity == Integrity::Verified
            && store.chain.lines.saturating_sub(covers) >= SNAPSHOT_EVERY
        {
            let _ = at.write(&store, meta.verified_at);
        }
        Ok(Some(store))
    }

    /// For the cockpit: the store from this user's checkpoint (as [`Store::open_to_write`]),
    /// or `None` when there is no usable one.
    pub fn open_from_checkpoint(
        location: &Path,
        checkpoints: &Path,
        now: DateTime<Utc>,
    ) -> Result<Option<Self>, StoreError> {
        let backend = AnyLog::open(location)?;
        let at = checkpoint::Place::new(checkpoints, &backend.identity());
        Store::open_checkpoint(&backend, &at, now)
    }

    /// Whether the log at `location` still chains, line by line, from its first event to the
    /// event `mark` names, each line hashing to its own hash and agreeing with the head file:
    /// the cockpit's background check of a store opened from a checkpoint, at hashing speed
    /// (see [`Store::verify`] for the whole story).
    pub fn chain_holds_to(location: &Path, mark: &snapshot::Mark) -> Result<bool, StoreError> {
        let backend = AnyLog::open(location)?;
        let lock = backend.lock(lock_wait()?)?;
        let head = backend.read_head(&lock)?;
        chain_holds(&backend, &lock, mark, head.head())
    }

    /// Stops this user's checkpoint in `checkpoints` vouching for the log, once damage was
    /// found in it: the next command reads the whole log and is refused as read-only.
    pub fn forget_checkpoint(&self, checkpoints: &Path) {
        checkpoint::Place::new(checkpoints, &self.backend.identity()).forget();
    }

    /// Writes this user's checkpoint of this store (verified, read whole) into `checkpoints`,
    /// recording `verified_at` as its last full verification. Returns whether it was written.
    pub fn write_checkpoint(&self, checkpoints: &Path, verified_at: DateTime<Utc>) -> bool {
        let at = checkpoint::Place::new(checkpoints, &self.backend.identity());
        self.model.is_complete() && self.mark().is_some() && at.write(self, verified_at).is_ok()
    }

    /// Drops the closed records from memory when this user's checkpoint in `checkpoints`
    /// holds this very state (the same event): they are read back from it when something
    /// needs them (see [`Store::load_archive`]). Returns whether they were dropped.
    pub fn unload_archive(&mut self, checkpoints: &Path) -> bool {
        let at = checkpoint::Place::new(checkpoints, &self.backend.identity());
        let Some(active) = at.read_active() else {
            return false;
        };
        let same = Some(&active.mark) == self.mark().as_ref();
        if !same || !self.model.is_complete() || active.model.is_complete() {
            return false;
        }
        self.model = active.model;
        self.archive_from = Some(ArchiveSource {
            file: ArchiveFile::Checkpoint(at.model_path().to_path_buf()),
            section: active.archive,
        });
        true
    }

    /// Where the store is: its directory, or the database (without any password).
    pub fn dir(&self) -> &Path {
        match &self.backend {
            AnyLog::File(b) => b.dir(),
            AnyLog::Database(b) => b.shown(),
        }
    }

    /// For a database store: a stream that receives a byte whenever any client commits (see
    /// [`pg::PgLog::watch`]). A directory store has none: the cockpit re-reads it on a timer.
    pub fn watch(&self) -> Option<std::os::unix::net::UnixStream> {
        match &self.backend {
            AnyLog::File(_) => None,
            AnyLog::Database(b) => b.watch(),
        }
    }

    /// A database store's login, which every event it records is recorded as.
    pub fn login(&self) -> Option<&str> {
        match &self.backend {
            AnyLog::File(_) => None,
            AnyLog::Database(b) => Some(b.login()),
        }
    }
}

impl<B: Backend> Store<B> {
    /// Reads the whole log as [`Store::with_backend`], and compares the snapshot's state with
    /// the log's own fold as it passes the event the snapshot covers. A snapshot that
    /// disagrees (edited, even with its digest recomputed) is rewritten from the log and the
    /// user is told, so it cannot go on deciding what one-shot reads show.
    pub fn audited(backend: B) -> Result<Self, StoreError> {
        let audit = backend
            .read_snapshot(u64::MAX)
            .and_then(|b| snapshot::read(&b))
            .map(Box::new);
        let mut store = Store::unread(backend, audit)?;
        store.refresh()?;
        if store.snapshot_disagreed && store.integrity == Integrity::Verified {
            let rewritten = match store.write_snapshot() {
                Ok(()) => "it was rewritten from the log".to_string(),
                Err(e) => format!("it could not be rewritten ({e})"),
            };
            store.notices.push(format!(
                "the snapshot ({SNAPSHOT_FILE}) did not match the log: {rewritten}"
            ));
        }
        Ok(store)
    }

    pub fn with_backend(backend: B) -> Result<Self, StoreError> {
        let mut store = Store::unread(backend, None)?;
        store.refresh()?;
        Ok(store)
    }

    fn unread(backend: B, audit: Option<Box<snapshot::Snapshot>>) -> Result<Self, StoreError> {
        let snapshot_seq = backend
            .read_snapshot(snapshot::HEADER_MAX)
            .and_then(|b| snapshot::covers(&b));
        let store = Store {
            backend,
            model: Model::default(),
            cursor: 0,
            last_line: 0,
            chain: Chain::new(),
            checked: true,
            snapshot_seq,
            first_batch: 0,
            integrity: Integrity::Verified,
            notices: Vec::new(),
            lock_wait: lock_wait()?,
            torn_seen: None,
            audit,
            snapshot_disagreed: false,
            chain_checked: false,
            archive_from: None,
            from_checkpoint: false,
        };
        Ok(store)
    }

    /// Opens from the snapshot when it still matches the log (its last event is in the log, at
    /// the place and with the hash it names): only the events after it are read and verified,
    /// and the store stays [`Integrity::Unchecked`] until [`Store::adopt`] takes over from a
    /// full read, which the first write does itself if nothing did before. Without a usable
    /// snapshot, the same as [`Store::with_backend`].
    pub fn with_snapshot(backend: B) -> Result<Self, StoreError> {
        let lock_wait = lock_wait()?;
        let lock = backend.lock(lock_wait)?;
        let Some(snap) = usable_snapshot(&backend, &lock) else {
            drop(lock);
            return Store::with_backend(backend);
        };
        match Store::from_snapshot(backend.clone(), &lock, snap, ArchiveFile::Shared, lock_wait) {
            Err(StoreError::ArchiveGone) => {
                drop(lock);
                Store::with_backend(backend)
            }
            other => other,
        }
    }

    /// For `hotfix verify` when this user has audited the snapshot: from the snapshot, as
    /// [`Store::with_snapshot`], once the whole log's hash chain up to it has been checked
    /// without parsing its events (and against the head file). If anything in it does not hold,
    /// the log is read whole instead, which names the damage. The snapshot's state itself is
    /// not compared with a fold of the log here (the cockpit, `hotfix verify` and every write
    /// do that), so the store stays [`Integrity::Unchecked`]: a write through it reads the whole
    /// log first, as with any store opened from a snapshot.
    pub fn for_reading(backend: B) -> Result<Self, StoreError> {
        let lock_wait = lock_wait()?;
        let lock = backend.lock(lock_wait)?;
        let snap = usable_snapshot(&backend, &lock);
        let head = backend.read_head(&lock)?;
        let holds = match &snap {
            Some(_) if backend.enforces_chain() => true,
            Some(s) => chain_holds(&backend, &lock, &s.mark, head.head())?,
            None => false,
        };
        if let Some(snap) = snap.filter(|_| holds) {
            match Store::from_snapshot(backend.clone(), &lock, snap, ArchiveFile::Shared, lock_wait)
            {
                Err(StoreError::ArchiveGone) => {}
                other => {
                    let mut store = other?;
                    store.chain_checked = true;
                    return Ok(store);
                }
            }
        }
        drop(lock);
        Store::with_backend(backend)
    }

    fn from_snapshot(
        backend: B,
        lock: &B::Lock,
        snap: snapshot::Active,
        file: ArchiveFile,
        lock_wait: Duration,
    ) -> Result<Self, StoreError> {
        let mark = snap.mark;
        let archive_from = (!snap.model.is_complete()).then_some(ArchiveSource {
            file,
            section: snap.archive,
        });
        let mut store = Store {
            backend,
            model: snap.model,
            cursor: mark.cursor,
            last_line: mark.last_line,
            chain: Chain {
                lines: mark.lines,
                last_hash: mark.last_hash,
                integrity: Integrity::Verified,
            },
            checked: false,
            snapshot_seq: Some(mark.lines),
            first_batch: mark.first_batch,
            integrity: Integrity::Unchecked,
            notices: Vec::new(),
            lock_wait,
            torn_seen: None,
            audit: None,
            snapshot_disagreed: false,
            chain_checked: false,
            archive_from,
            from_checkpoint: false,
        };
        store.catch_up(lock, Reading)?;
        Ok(store)
    }

    /// The snapshot file the archive of this model is in, if its facts and archive are still
    /// there as they were when the model was opened (see [`snapshot::KeptFile`]). `Ok(None)`
    /// for a complete model.
    pub(crate) fn kept_archive(&self) -> Result<Option<snapshot::KeptFile>, StoreError> {
        let Some(src) = &self.archive_from else {
            return Ok(None);
        };
        let whole = match &src.file {
            ArchiveFile::Shared => self.backend.read_snapshot(u64::MAX),
            ArchiveFile::Checkpoint(path) => checkpoint::read_regular(path, u64::MAX),
        };
        whole
            .and_then(|w| snapshot::KeptFile::check(w, &src.section))
            .map(Some)
            .ok_or(StoreError::ArchiveGone)
    }

    /// The insight facts of every release created at or after `since` (see
    /// [`state::insights`]; more may come): those the model holds, and, for a model opened
    /// without its archive, the archived ones the snapshot keeps beside it, so statistics never
    /// load closed records. If that file was replaced since, the
    /// archive is loaded (or the log read whole) instead.
    pub fn facts(
        &mut self,
        since: Option<DateTime<Utc>>,
    ) -> Result<std::collections::BTreeMap<state::ReleaseId, state::insights::Facts>, StoreError>
    {
        if let Some(src) = &self.archive_from {
            let prefix = |max: u64| match &src.file {
                ArchiveFile::Shared => self.backend.read_snapshot(max),
                ArchiveFile::Checkpoint(path) => checkpoint::read_regular(path, max),
            };
            if let Some(mut archived) = snapshot::read_facts(prefix, &src.section, since) {
                archived.extend(state::insights::facts(&self.model));
                return Ok(archived);
            }
            self.load_archive()?;
        }
        Ok(state::insights::facts(&self.model))
    }

    /// Loads the closed records a checkpoint left out, so the model is complete: for lists of
    /// everything, reports and commands on closed work. If the file they were in has been
    /// replaced since, the log is read whole instead.
    pub fn load_archive(&mut self) -> Result<(), StoreError> {
        match self.merge_archive() {
            Err(StoreError::ArchiveGone) => self.reread_whole(),
            other => other,
        }
    }

    /// [`Store::load_archive`] from the file only (no log read: callable under the lock).
    fn merge_archive(&mut self) -> Result<(), StoreError> {
        let Some(kept) = self.kept_archive()? else {
            return Ok(());
        };
        let archived = kept.archived().ok_or(StoreError::ArchiveGone)?;
        self.model.merge(archived);
        self.archive_from = None;
        Ok(())
    }

    /// Replaces this store with the log read whole (what it tells the user is kept).
    fn reread_whole(&mut self) -> Result<(), StoreError> {
        let mut full = Store::with_backend(self.backend.clone())?;
        let mut notices = std::mem::take(&mut self.notices);
        notices.append(&mut full.notices);
        full.notices = notices;
        full.snapshot_seq = full.snapshot_seq.max(self.snapshot_seq);
        *self = full;
        Ok(())
    }

    /// Takes over from `full`, a store of the same log read from its first line (verified and
    /// folded without the snapshot), once both have read to the same event. If the snapshot's
    /// state was not the log's, the user is told and the snapshot is rewritten.
    pub fn adopt(&mut self, mut full: Store<B>) -> Result<(), StoreError> {
        for _ in 0..5 {
            if full.model.seq < self.model.seq {
                full.refresh()?;
            } else if self.model.seq < full.model.seq {
                self.refresh()?;
            } else {
                break;
            }
        }
        let matched = full.model.seq != self.model.seq || full.model.agrees_with(&self.model);
        let mut notices = std::mem::take(&mut self.notices);
        notices.append(&mut full.notices);
        full.notices = notices;
        full.snapshot_seq = full.snapshot_seq.max(self.snapshot_seq);
        if !matched && full.integrity == Integrity::Verified {
            let rewritten = match full.write_snapshot() {
                Ok(()) => "it was rewritten".to_string(),
                Err(e) => format!("it could not be rewritten ({e})"),
            };
            full.notices.push(format!(
                "the snapshot ({SNAPSHOT_FILE}) did not match the log: what is shown now is folded from the log itself, and {rewritten}"
            ));
        }
        *self = full;
        Ok(())
    }

    /// Before the first write of a store opened from a snapshot: the whole log is verified and
    /// folded again, so nothing is ever decided on a state the log does not hold.
    fn check_whole_log(&mut self) -> Result<(), StoreError> {
        if self.checked {
            return Ok(());
        }
        let full = Store::with_backend(self.backend.clone())?;
        self.adopt(full)
    }

    /// Checkpoints the folded model with the event it covers. Only a verified state is written:
    /// a snapshot must never carry damage forward.
    pub fn write_snapshot(&mut self) -> Result<(), StoreError> {
        let Some(mark) = self.mark() else {
            return Ok(());
        };
        // A model without its archive carries the one it was opened with over; if that is
        // gone, there is nothing whole to write (the snapshot is a cache: it waits).
        let Ok(kept) = self.kept_archive() else {
            return Ok(());
        };
        let model = &self.model;
        let lock = self.backend.lock(self.lock_wait)?;
        self.backend.write_snapshot(&lock, &mut |out| {
            snapshot::write(
                out,
                &mark,
                model,
                kept.as_ref().map(snapshot::KeptFile::kept),
            )
        })?;
        self.snapshot_seq = Some(mark.lines);
        Ok(())
    }

    /// Where a checkpoint of this store's state would sit in the log: only for a verified
    /// state that holds any event (a checkpoint must never carry damage forward).
    pub(crate) fn mark(&self) -> Option<snapshot::Mark> {
        (self.integrity == Integrity::Verified && self.chain.lines > 0).then(|| snapshot::Mark {
            lines: self.chain.lines,
            cursor: self.cursor,
            last_line: self.last_line,
            last_hash: self.chain.last_hash.clone(),
            first_batch: self.first_batch,
        })
    }

    /// The newest event of the snapshot this store was opened from, while the log before it is
    /// not yet verified.
    pub fn snapshot_covers(&self) -> Option<u64> {
        if self.checked {
            None
        } else {
            self.snapshot_seq
        }
    }

    /// Whether this store was opened from this user's checkpoint: the log before it was
    /// verified when the checkpoint was made, not now.
    pub fn from_checkpoint(&self) -> bool {
        self.from_checkpoint
    }

    /// Whether the snapshot disagreed with the log when [`Store::audited`] read it.
    pub fn snapshot_disagreed(&self) -> bool {
        self.snapshot_disagreed
    }

    /// Events read that no known snapshot covers.
    pub fn snapshot_lag(&self) -> u64 {
        self.model.seq - self.snapshot_seq.unwrap_or(0).min(self.model.seq)
    }

    /// Writes a new snapshot when the one on disk lags the log by [`SNAPSHOT_EVERY`] events,
    /// so whichever process reads the whole log keeps the cockpit's start-up short.
    pub fn checkpoint(&mut self) -> Result<(), StoreError> {
        if self.checked && self.snapshot_lag() >= SNAPSHOT_EVERY {
            self.write_snapshot()?;
        }
        Ok(())
    }

    /// Reads what other processes appended since the last read. Returns whether anything changed.
    pub fn refresh(&mut self) -> Result<bool, StoreError> {
        let lock = self.backend.lock(self.lock_wait)?;
        match self.catch_up(&lock, Reading) {
            Err(StoreError::ArchiveGone) => {
                drop(lock);
                self.reread_whole()?;
                Ok(true)
            }
            other => other,
        }
    }

    /// Reads and verifies what was appended since the last read. A tail that no finished
    /// append wrote (a kill mid-append) is skipped by a read, which changes nothing, and set
    /// aside only by a write, under the lock: but a partial line that the head file says was
    /// acknowledged is damage, never a torn append, and is left where it is.
    fn catch_up(&mut self, lock: &B::Lock, purpose: Purpose) -> Result<bool, StoreError> {
        let reader = self.backend.read_since(lock, self.cursor)?;
        let head = self.backend.read_head(lock)?;
        let seq = self.model.seq;
        let scanned = scan(reader, self.chain.lines + 1, |batch| {
            for (parsed, raw) in batch.lines() {
                self.chain.check(parsed, raw, head.head());
                // An event on closed work needs the closed records (see state::archive).
                if self.model.touches_archive(&parsed.recorded.event) {
                    self.merge_archive()?;
                }
                // A line the rules refuse is inert and named, never a stop for anyone.
                if let Some(illegal) = state::fold(&mut self.model, &parsed.recorded) {
                    tracing::warn!(
                        "line {} ({} by {}) is inert: the rules refuse it",
                        illegal.seq,
                        illegal.kind,
                        illegal.actor
                    );
                }
            }
            if self.first_batch == 0 {
                self.first_batch = batch.lines.len() as u64;
            }
            if let Some((_, range)) = batch.lines.last() {
                self.last_line = self.cursor + range.start as u64;
            }
            self.cursor += batch.len() as u64;
            if let Some(snap) = self.audit.take_if(|s| s.mark.lines <= self.chain.lines) {
                self.snapshot_disagreed = snap.mark.lines != self.chain.lines
                    || snap.mark.last_hash != self.chain.last_hash
                    || snap.model != self.model;
            }
            Ok(())
        });
        self.integrity = self.verdict();
        let tail = scanned?;
        let what = if tail.contains(&b'\n') {
            "an unfinished command"
        } else {
            "an incomplete last line"
        };
        let acknowledged = head.head().is_some_and(|h| h.seq > self.chain.lines);
        if tail.is_empty() {
            self.torn_seen = None;
        } else if acknowledged {
            self.chain.broken(
                self.chain.lines + 1,
                format!(
                    "the log ends with {what} ({} bytes) where the head file records acknowledged events: the log was damaged, and nothing was moved",
                    tail.len()
                ),
            );
        } else if purpose == Writing {
            let kept = self.backend.set_aside(lock, self.cursor, &tail)?;
            self.torn_seen = None;
            self.notices.push(format!(
                "the log ended with {what} ({} bytes from an append that never finished and was never acknowledged); it was moved to {kept}",
                tail.len()
            ));
        } else if self.torn_seen != Some(tail.len()) {
            self.torn_seen = Some(tail.len());
            self.notices.push(format!(
                "the log ends with {what} ({} bytes from an append that never finished and was never acknowledged); it is left in place, and the next write moves it aside",
                tail.len()
            ));
        }
        self.chain.finish(&head, self.first_batch);
        // A database's head is its newest row, exact: one behind what this process read, or
        // another hash there, is a deleted or rewritten tail (a superuser's), named at once
        // rather than when the log grows past its old length.
        if self.backend.enforces_chain() {
            self.chain.still_holds(&head);
        }
        self.integrity = self.verdict();
        Ok(self.model.seq != seq)
    }

    fn verdict(&self) -> Integrity {
        match &self.chain.integrity {
            Integrity::Verified if !self.checked => Integrity::Unchecked,
            other => other.clone(),
        }
    }

    /// Before any write: the whole log verified and folded (for a store opened from a
    /// snapshot), the lock taken, other processes' events read, and the chain intact.
    fn lock_to_write(&mut self) -> Result<B::Lock, StoreError> {
        self.check_whole_log()?;
        let mut lock = self.backend.lock(self.lock_wait)?;
        match self.catch_up(&lock, Writing) {
            Err(StoreError::ArchiveGone) => {
                drop(lock);
                self.reread_whole()?;
                lock = self.backend.lock(self.lock_wait)?;
                self.catch_up(&lock, Writing)?;
            }
            other => {
                other?;
            }
        }
        if let Integrity::Broken { line, reason } = &self.integrity {
            return Err(StoreError::ReadOnly(format!(
                "line {line} of the log fails verification ({reason})"
            )));
        }
        // The head file must be writable before anything is appended: a write that could not
        // record its head would silently switch off the detection of deleted events.
        if self.chain.lines > 0 {
            let head = Head {
                seq: self.chain.lines,
                hash: self.chain.last_hash.clone(),
            };
            self.backend.write_head(&lock, &head)?;
        }
        Ok(lock)
    }

    /// Decides many commands in order, each against the state the ones before it left, and
    /// appends their events in large durable writes: for generating big stores. Stops at the
    /// first refusal, after making everything before it durable. If a write fails the store
    /// handle is ahead of the disk and must be dropped.
    pub fn execute_all<I>(&mut self, steps: I) -> Result<u64, ExecError>
    where
        I: IntoIterator<Item = (String, DateTime<Utc>, Command)>,
    {
        const CHUNK: usize = 8 << 20;
        let lock = self.lock_to_write()?;
        let mut bytes = Vec::with_capacity(CHUNK + (1 << 16));
        let mut written = 0u64;
        let mut refusal = None;
        for (actor, now, command) in steps {
            let events = match state::decide(&self.model, &actor, now, command) {
                Ok(events) => events,
                Err(r) => {
                    refusal = Some(r);
                    break;
                }
            };
            let count = events.len();
            let (recorded, last, last_line) = encode_batch(
                events,
                self.model.seq,
                &actor,
                now,
                &self.chain.last_hash,
                &mut bytes,
            );
            self.chain.last_hash = last;
            self.chain.lines += count as u64;
            self.last_line = self.cursor + last_line as u64;
            written += count as u64;
            for r in &recorded {
                state::apply(&mut self.model, r);
            }
            if self.first_batch == 0 {
                self.first_batch = count as u64;
            }
            if bytes.len() >= CHUNK {
                self.backend.append(&lock, self.cursor, &bytes)?;
                self.cursor += bytes.len() as u64;
                bytes.clear();
            }
        }
        if !bytes.is_empty() {
            self.backend.append(&lock, self.cursor, &bytes)?;
            self.cursor += bytes.len() as u64;
        }
        let head = Head {
            seq: self.model.seq,
            hash: self.chain.last_hash.clone(),
        };
        if let Err(e) = self.backend.write_head(&lock, &head) {
            self.notices.push(format!(
                "the events were recorded, but the head file could not be updated ({e})"
            ));
        }
        match refusal {
            Some(r) => Err(ExecError::Refused(r)),
            None => Ok(written),
        }
    }

    /// Decides `command` against the up-to-date state and appends its events durably.
    pub fn execute(
        &mut self,
        actor: &str,
        now: DateTime<Utc>,
        command: Command,
    ) -> Result<Vec<Recorded>, ExecError> {
        if self.model.needs_archive(&command) {
            self.load_archive()?;
        }
        let lock = self.lock_to_write()?;
        // A database says who acts and when; a file store takes the caller's word.
        let login = self.backend.actor();
        let actor = login.as_deref().unwrap_or(actor);
        let now = self.backend.now(&lock).unwrap_or(now);
        let events = state::decide(&self.model, actor, now, command).map_err(ExecError::Refused)?;
        if events.is_empty() {
            return Ok(Vec::new()); // nothing changed (an import that matched what is recorded)
        }
        let mut bytes = Vec::new();
        let (recorded, prev, last_line) = encode_batch(
            events,
            self.model.seq,
            actor,
            now,
            &self.chain.last_hash,
            &mut bytes,
        );
        // Never write a line no reader would take (the rules' text limits keep events far
        // below it; a policy is the one large event).
        if let Some(long) = bytes
            .split(|b| *b == b'\n')
            .find(|l| l.len() > line::MAX_BYTES)
        {
            return Err(ExecError::Refused(state::Rejection::new(format!(
                "the event would be {} bytes in the log, over the limit of {} bytes for one line: make it smaller",
                long.len(),
                line::MAX_BYTES
            ))));
        }
        self.backend.append(&lock, self.cursor, &bytes)?;
        // Durable from here: whatever happens next, the events are acknowledged.
        self.last_line = self.cursor + last_line as u64;
        self.cursor += bytes.len() as u64;
        self.chain.lines += recorded.len() as u64;
        self.chain.last_hash.clone_from(&prev);
        if self.first_batch == 0 {
            self.first_batch = recorded.len() as u64;
        }
        for r in &recorded {
            state::apply(&mut self.model, r);
        }
        let head = Head {
            seq: self.model.seq,
            hash: prev,
        };
        if let Err(e) = self.backend.write_head(&lock, &head) {
            self.notices.push(format!("the events were recorded, but the head file could not be updated ({e}); the next write retries"));
        }
        Ok(recorded)
    }

    /// The audit trail of a release and/or an incident (see [`Model::in_trail`]), in order,
    /// streamed from the log so only the events kept are held.
    pub fn trail(
        &self,
        release: Option<state::ReleaseId>,
        incident: Option<state::IncidentId>,
    ) -> Result<Vec<Recorded>, StoreError> {
        let lock = self.backend.lock(self.lock_wait)?;
        let mut events = Vec::new();
        scan(self.backend.read_since(&lock, 0)?, 1, |batch| {
            events.extend(
                batch
                    .lines
                    .iter()
                    .map(|(p, _)| &p.recorded)
                    .filter(|r| self.model.in_trail(r, release, incident))
                    .cloned(),
            );
            Ok(())
        })?;
        Ok(events)
    }

    /// The whole log's verdict for `hotfix verify`. A store read whole has checked every line
    /// on the way in, so only what was appended since is read (with the head, under one lock);
    /// a store opened from a snapshot has not, and walks the log with [`Store::verify`].
    pub fn verification(&mut self) -> Result<Verification, StoreError> {
        if !self.checked && !self.chain_checked {
            return self.verify();
        }
        let lock = self.backend.lock(self.lock_wait)?;
        self.catch_up(&lock, Reading)?;
        Ok(Verification {
            events: self.chain.lines,
            last_hash: self.chain.last_hash.clone(),
            head: self.backend.read_head(&lock)?,
            integrity: self.chain.integrity.clone(),
        })
    }

    /// Checks the whole log from its first line against the chain and the head file.
    pub fn verify(&self) -> Result<Verification, StoreError> {
        let lock = self.backend.lock(self.lock_wait)?;
        let head = self.backend.read_head(&lock)?;
        let mut chain = Chain::new();
        let mut first_batch = 0;
        scan(self.backend.read_since(&lock, 0)?, 1, |batch| {
            for (parsed, raw) in batch.lines() {
                chain.check(parsed, raw, head.head());
            }
            if first_batch == 0 {
                first_batch = batch.lines.len() as u64;
            }
            Ok(())
        })?;
        chain.finish(&head, first_batch);
        Ok(Verification {
            events: chain.lines,
            last_hash: chain.last_hash,
            head,
            integrity: chain.integrity,
        })
    }

    /// The store's identity (see [`Backend::identity`]).
    pub fn identity(&self) -> String {
        self.backend.identity()
    }

    /// The hash of event `seq` in the log, if the log holds it: the lines are framed, not
    /// parsed (the caller verified the chain), and the scan stops at that event.
    pub fn hash_at(&self, seq: u64) -> Result<Option<String>, StoreError> {
        use std::io::BufRead;
        let lock = self.backend.lock(self.lock_wait)?;
        let mut reader =
            std::io::BufReader::with_capacity(1 << 20, self.backend.read_since(&lock, 0)?);
        let mut raw = Vec::new();
        loop {
            raw.clear();
            let read = reader
                .read_until(b'\n', &mut raw)
                .map_err(StoreError::io("cannot read the event log"))?;
            if read == 0 {
                return Ok(None);
            }
            if let Some(f) = line::frame(&raw).filter(|f| f.seq == seq) {
                return Ok(Some(String::from_utf8_lossy(f.hash).into_owned()));
            }
        }
    }

    /// The newest event read, for reports and notices to name (a witness outside the store).
    pub fn log_head(&self) -> Head {
        Head {
            seq: self.chain.lines,
            hash: self.chain.last_hash.clone(),
        }
    }

    /// Hash of the newest event read.
    pub fn head_hash(&self) -> &str {
        &self.chain.last_hash
    }

    /// The newest event read, and where its line starts: what a witness remembers.
    pub fn newest(&self) -> Option<Mark> {
        (self.chain.lines > 0).then(|| Mark {
            seq: self.chain.lines,
            hash: self.chain.last_hash.clone(),
            offset: self.last_line,
        })
    }

    /// Whether the log still holds `mark`'s event where it was, with its hash: one line read,
    /// whatever the log's size. `None` says yes; otherwise what is wrong.
    pub fn still_holds(&self, mark: &Mark) -> Result<Option<(u64, String)>, StoreError> {
        if mark.seq > self.chain.lines {
            return Ok(Some((
                self.chain.lines + 1,
                format!(
                    "the log ends at event {}, but event {} was seen in it before: events were removed, or the store was put back from an older copy",
                    self.chain.lines, mark.seq
                ),
            )));
        }
        let lock = self.backend.lock(self.lock_wait)?;
        let same = line_at(&self.backend, &lock, mark.offset, LINE_READ_MAX)?
            .is_some_and(|(p, _)| p.recorded.seq == mark.seq && p.hash == mark.hash);
        Ok((!same).then(|| {
            let reason = format!(
                "event {} is no longer the one seen before (hash {}…): the log was rewritten",
                mark.seq,
                mark.hash.get(..12).unwrap_or(&mark.hash)
            );
            (mark.seq, reason)
        }))
    }

    /// Marks the store untrustworthy for a reason found outside it (a witness): reads go on,
    /// with the reason named, and writes are refused.
    pub fn distrust(&mut self, line: u64, reason: String) {
        self.chain.broken(line, reason);
        self.integrity = self.verdict();
    }
}

/// The most read to find one line: the longest a log may hold, and its newline.
const LINE_READ_MAX: u64 = line::MAX_BYTES as u64 + 1;

/// An event by its sequence number and hash, and where its line starts in the log.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mark {
    pub seq: u64,
    pub hash: String,
    pub offset: u64,
}

/// What `hotfix verify` reports.
#[derive(Clone, Debug)]
pub struct Verification {
    pub events: u64,
    pub last_hash: String,
    pub head: HeadFile,
    pub integrity: Integrity,
}
