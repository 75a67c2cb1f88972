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

mod archive;
mod backend;
mod chain;
mod checkpoint;
mod error;
mod location;
mod setup;
pub use checkpoint::key_of;
mod file;
pub mod line;
pub mod pg;
mod pg_tls;
pub mod snapshot;
mod trust;
pub use trust::{Check, For};

pub use backend::{AnyLock, AnyLog, AnyReader, Backend, Head, HeadFile, Position};
pub use chain::Integrity;
use chain::{
    Chain, LINE_READ_MAX, chain_holds, encode_batch, line_numbered, mark_holds, scan,
    usable_snapshot,
};
pub use error::{ExecError, StoreError};
pub use file::{FileLog, HEAD_FILE, LOG_FILE, create_whole};
pub use line::{FORMAT_VERSION, GENESIS};
pub use location::Location;
pub use setup::{copy_into_database, init, migrate};
pub use snapshot::{SNAPSHOT_EVERY, SNAPSHOT_FILE};

use crate::state::{self, Command, Model, Recorded};
use chrono::{DateTime, Utc};
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

/// A store opened by one process: the folded model and where in the log it has read up to.
pub struct Store<B: Backend = AnyLog> {
    backend: B,
    pub model: Model,
    cursor: u64,
    /// Where the newest line read starts (a snapshot records it).
    last_line: u64,
    chain: Chain,
    /// How far what was read is trusted.
    trust: Trust,
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
    /// Whether that comparison failed.
    snapshot_disagreed: bool,
    /// For a model opened without its archive: where the archive is (see [`Store::load_archive`]).
    archive_from: Option<ArchiveSource>,
}

/// How far what a store read is trusted, by how it was opened (see [`For`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trust {
    /// Every line read, checked and folded by this process (or a store that took over from one,
    /// see [`Store::adopt`]).
    Whole,
    /// This user's checkpoint, whose lines were read whole within [`FULL_CHECK_EVERY`], and the
    /// lines after it, checked and folded; the mark it names still holds in the log.
    Checkpoint,
    /// The shared snapshot, with every line before it framed, hashed and linked, its state
    /// not folded again (`verify` of a snapshot this user audited before).
    Chain,
    /// The shared snapshot, nothing before it checked yet: writes wait for a whole read.
    Snapshot,
}

impl Trust {
    /// Whether the lines before the snapshot or checkpoint are known good.
    fn checked(self) -> bool {
        match self {
            Trust::Whole | Trust::Checkpoint => true,
            Trust::Chain | Trust::Snapshot => false,
        }
    }
}

/// Why the log is read: only a write may change it (set a torn tail aside).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Reading,
    Writing,
}
use Purpose::{Reading, Writing};

/// The event the backend's snapshot covers and the SHA-256 (hex) of its contents, from its
/// header: what an audit of that snapshot is remembered by.
pub fn snapshot_header<B: Backend>(backend: &B) -> Option<(u64, String)> {
    let prefix = backend.read_snapshot(snapshot::HEADER_MAX)?;
    Some((snapshot::covers(&prefix)?, snapshot::digest(&prefix)?))
}

impl Store<AnyLog> {
    /// Where the store is, as it may be shown: its directory, or the database without any
    /// password.
    pub fn label(&self) -> String {
        match &self.backend {
            AnyLog::File(b) => b.dir().display().to_string(),
            AnyLog::Database(b) => b.shown().display().to_string(),
        }
    }

    /// A directory store's directory (nothing may be written into it but the store's files).
    pub fn directory(&self) -> Option<&Path> {
        match &self.backend {
            AnyLog::File(b) => Some(b.dir()),
            AnyLog::Database(_) => None,
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
        if self.trust.checked() {
            None
        } else {
            self.snapshot_seq
        }
    }

    /// The event the store's snapshot covers and the SHA-256 (hex) that stands for it, from its
    /// header (see [`snapshot_header`]).
    pub fn snapshot_header(&self) -> Option<(u64, String)> {
        snapshot_header(&self.backend)
    }

    /// Whether the log before the snapshot was checked as a chain only (every line framed,
    /// hashed and linked), its state taken from a snapshot this user audited before (see
    /// [`For::Verify`]), rather than folded again.
    pub fn chain_only(&self) -> bool {
        self.trust == Trust::Chain
    }

    /// Whether this store was opened from this user's checkpoint: the log before it was
    /// verified when the checkpoint was made, not now.
    pub fn from_checkpoint(&self) -> bool {
        self.trust == Trust::Checkpoint
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
    pub fn snapshot_if_due(&mut self) -> Result<(), StoreError> {
        if self.trust.checked() && self.snapshot_lag() >= SNAPSHOT_EVERY {
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
        let reader = self.backend.read_after(lock, self.position())?;
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
            let kept = self.backend.set_aside(lock, self.position(), &tail)?;
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
            Integrity::Verified if !self.trust.checked() => Integrity::Unchecked,
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
                self.backend.append(&lock, self.position(), &bytes)?;
                self.cursor += bytes.len() as u64;
                bytes.clear();
            }
        }
        if !bytes.is_empty() {
            self.backend.append(&lock, self.position(), &bytes)?;
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
        self.backend.append(&lock, self.position(), &bytes)?;
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

    /// The audit trail of a release and/or an incident (see [`Model::in_trail`]), in order, as
    /// `model` (this store's, or one from [`Store::model_for`]) knows them. Only the lines the
    /// records name (see `Incident::lines`) and the refused ones are read, each checked to hash
    /// to itself; if any is not where the model says, the log is walked instead.
    pub fn trail(
        &self,
        model: &Model,
        release: Option<state::ReleaseId>,
        incident: Option<state::IncidentId>,
    ) -> Result<Vec<Recorded>, StoreError> {
        let lock = self.backend.lock(self.lock_wait)?;
        if let Some(seqs) = trail_lines(model, release, incident) {
            let raw = self.backend.read_lines(&lock, &seqs, self.position())?;
            let read: Option<Vec<Recorded>> = raw
                .iter()
                .zip(&seqs)
                .map(|(raw, seq)| {
                    let parsed = line::parse(raw, 0).ok()?;
                    line::check_chain(&parsed, raw, *seq, &parsed.prev).ok()?;
                    Some(parsed.recorded)
                })
                .collect();
            if let Some(read) = read.filter(|r| r.len() == seqs.len()) {
                return Ok(read
                    .into_iter()
                    .filter(|r| model.in_trail(r, release, incident))
                    .collect());
            }
        }
        let mut events = Vec::new();
        scan(
            self.backend.read_after(&lock, Position::START)?,
            1,
            |batch| {
                events.extend(
                    batch
                        .lines
                        .iter()
                        .map(|(p, _)| &p.recorded)
                        .filter(|r| model.in_trail(r, release, incident))
                        .cloned(),
                );
                Ok(())
            },
        )?;
        Ok(events)
    }

    /// The whole log's verdict for `hotfix verify`. A store read whole has checked every line
    /// on the way in, so only what was appended since is read (with the head, under one lock);
    /// a store opened from a snapshot has not, and walks the log with [`Store::verify`].
    pub fn verification(&mut self) -> Result<Verification, StoreError> {
        if self.trust == Trust::Snapshot {
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
        scan(
            self.backend.read_after(&lock, Position::START)?,
            1,
            |batch| {
                for (parsed, raw) in batch.lines() {
                    chain.check(parsed, raw, head.head());
                }
                if first_batch == 0 {
                    first_batch = batch.lines.len() as u64;
                }
                Ok(())
            },
        )?;
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

    /// The hash of event `seq` in the log, if the log holds it among the lines read: that one
    /// line, found by its number (the caller verified the chain).
    pub fn hash_at(&self, seq: u64) -> Result<Option<String>, StoreError> {
        let lock = self.backend.lock(self.lock_wait)?;
        let raw = self.backend.read_line(&lock, seq, None, self.position())?;
        Ok(raw
            .as_deref()
            .and_then(line::frame)
            .map(|f| String::from_utf8_lossy(f.hash).into_owned()))
    }

    /// Where this store has read to: the lines read and the bytes they take.
    fn position(&self) -> Position {
        Position {
            lines: self.chain.lines,
            bytes: self.cursor,
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
        let same = line_numbered(
            &self.backend,
            &lock,
            mark.seq,
            Some(mark.offset),
            self.position(),
        )?
        .is_some_and(|(p, _)| p.hash == mark.hash);
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

/// The lines a trail may hold, by sequence number (ascending): those the records name, and
/// every refused line (few, and not folded into any record). `None` when `model` does not hold
/// the records asked for, or no record is asked for (the whole log is the trail).
fn trail_lines(
    model: &Model,
    release: Option<state::ReleaseId>,
    incident: Option<state::IncidentId>,
) -> Option<Vec<u64>> {
    let mut seqs: std::collections::BTreeSet<u64> = model.illegal.iter().map(|i| i.seq).collect();
    match (release, incident) {
        (None, None) => return None,
        (Some(id), _) => seqs.extend(&model.releases.get(&id)?.lines),
        (None, Some(id)) => {
            seqs.extend(&model.incidents.get(&id)?.lines);
            for r in model.releases.values() {
                if r.scope.incidents.contains(&id) {
                    seqs.extend(&r.lines);
                }
            }
        }
    }
    Some(seqs.into_iter().collect())
}
