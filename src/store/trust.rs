//! How a store is opened, and how far what it read is trusted: the whole log read and checked,
//! the shared snapshot audited against the log's own fold, this user's checkpoint, or a read
//! that has checked only the chain. [`Store::open`] is the one way in: what the store is
//! opened for decides which, and the cockpit's background check finishes the job.

use super::{
    AnyLog, ArchiveFile, ArchiveSource, Backend, Chain, Duration, FULL_CHECK_EVERY, FileLog,
    Integrity, Location, Model, Reading, SNAPSHOT_EVERY, SNAPSHOT_FILE, Store, StoreError, Trust,
    chain_holds, checkpoint, lock_wait, mark_holds, snapshot, snapshot_header, usable_snapshot,
};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// What a store is opened for, which decides how much of the log is read and how far what is
/// read is trusted. Each carries what it needs from outside (this user's directories, the
/// clock), so tests open stores exactly as the product does.
#[derive(Clone, Copy, Debug)]
pub enum For<'a> {
    /// Every line read and checked, and the snapshot audited against the log's own fold (see
    /// [`Store::audited`]): what a copy is made from, and what the other ways are held to.
    Whole,
    /// A command, read or write: from this user's checkpoint in `checkpoints` when one vouches
    /// for the log (see `open_to_write`), else the whole log read, audited and checkpointed.
    Command {
        checkpoints: Option<&'a Path>,
        now: DateTime<Utc>,
    },
    /// `hotfix verify`: the whole log read once. A snapshot this user has not audited (its
    /// digest remembered in `remembered`), or a database store, means a fold of every line
    /// compared with the snapshot; otherwise the chain goes at hashing speed (see
    /// [`Store::for_reading`]), and anything that does not hold is read whole.
    Verify { remembered: Option<&'a Path> },
    /// The cockpit's first frame: this user's checkpoint in `checkpoints` when it can be used,
    /// else the store's snapshot, else the whole log; [`Store::check_in_background`] then
    /// verifies what was not.
    Cockpit {
        checkpoints: Option<&'a Path>,
        now: DateTime<Utc>,
    },
}

/// The background check's outcome: nothing to change (the chain held), or the store read whole
/// from its first line, to take over from the one shown.
pub type Check = std::sync::mpsc::Receiver<Result<Option<Store>, StoreError>>;

impl Store<AnyLog> {
    /// Opens the store at `location`, which must exist, for `purpose` (see [`For`]).
    pub fn open(location: &Location, purpose: For<'_>) -> Result<Self, StoreError> {
        let backend = AnyLog::open(location)?;
        match purpose {
            For::Whole => Store::audited(backend),
            For::Command { checkpoints, now } => Store::open_to_write(backend, checkpoints, now),
            For::Verify { remembered } => Store::open_to_verify(backend, remembered),
            For::Cockpit { checkpoints, now } => {
                if let Some(dir) = checkpoints {
                    let at = checkpoint::Place::new(dir, &backend.identity());
                    if let Some(store) = Store::open_checkpoint(&backend, &at, now)? {
                        return Ok(store);
                    }
                }
                Store::with_snapshot(backend)
            }
        }
    }

    /// See [`For::Verify`]. A snapshot found to agree with the whole fold is remembered as
    /// audited, so the next `verify` goes at hashing speed.
    fn open_to_verify(backend: AnyLog, remembered: Option<&Path>) -> Result<Self, StoreError> {
        let digests = remembered.map(|dir| Audits::new(dir, &backend.identity()));
        let snapshot = snapshot_header(&backend);
        let folded = matches!(backend, AnyLog::Database(_))
            || snapshot.as_ref().is_some_and(|(_, digest)| {
                digests.as_ref().is_none_or(|d| !d.read().contains(digest))
            });
        if !folded {
            return Store::for_reading(backend);
        }
        let store = Store::audited(backend)?;
        if let (Some((_, digest)), Some(d)) = (&snapshot, &digests)
            && !store.snapshot_disagreed()
            && store.integrity == Integrity::Verified
        {
            d.remember(digest);
        }
        Ok(store)
    }

    /// After the cockpit's first frame, on another thread: a store opened from this user's
    /// checkpoint has the log's hash chain walked up to its newest event at hashing speed (a
    /// broken chain is then read whole, which names the damage); a store opened from the shared
    /// snapshot has the whole log verified and folded again, which also writes this user's
    /// checkpoint in `checkpoints`. A store read whole writes the snapshot when the old one
    /// lags far behind, and this user's checkpoint, then lets go of its closed records.
    pub fn check_in_background(
        &mut self,
        checkpoints: Option<&Path>,
        now: DateTime<Utc>,
    ) -> Option<Check> {
        let (tx, rx) = std::sync::mpsc::channel();
        let backend = self.backend.clone();
        if self.snapshot_covers().is_none() {
            if let Some(mark) = self.mark().filter(|_| self.from_checkpoint()) {
                std::thread::spawn(move || {
                    let outcome = match Store::chain_holds_to(&backend, &mark) {
                        Ok(true) => Ok(None),
                        Ok(false) => Store::with_backend(backend).map(Some),
                        Err(e) => Err(e),
                    };
                    let _ = tx.send(outcome);
                });
                return Some(rx);
            }
            if let Err(e) = self.snapshot_if_due() {
                tracing::warn!("cannot write the snapshot: {e}");
            }
            if let Some(c) = checkpoints
                && self.write_checkpoint(c, now)
            {
                self.release_archive(c);
            }
            return None;
        }
        let checkpoints = checkpoints.map(Path::to_path_buf);
        std::thread::spawn(move || {
            let full = Store::with_backend(backend).map(|mut full| {
                if let Err(e) = full.snapshot_if_due() {
                    tracing::warn!("cannot write the snapshot: {e}");
                }
                if let Some(c) = &checkpoints {
                    full.write_checkpoint(c, now);
                }
                Some(full)
            });
            let _ = tx.send(full);
        });
        Some(rx)
    }

    /// Drops the closed records from memory once this user's checkpoint in `checkpoints` holds
    /// them (see [`Store::unload_archive`]), and hands the memory back to the system: the
    /// cockpit is long-lived.
    pub fn release_archive(&mut self, checkpoints: &Path) {
        if self.unload_archive(checkpoints) {
            // SAFETY: malloc_trim only returns free memory to the system; nothing is in use.
            #[cfg(target_env = "gnu")]
            unsafe {
                libc::malloc_trim(0);
            }
        }
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
    fn open_to_write(
        backend: AnyLog,
        checkpoints: Option<&Path>,
        now: DateTime<Utc>,
    ) -> Result<Self, StoreError> {
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
        store.trust = Trust::Checkpoint;
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

    /// Whether the log still chains, line by line, from its first event to the event `mark`
    /// names, each line hashing to its own hash and agreeing with the head file: the cockpit's
    /// background check of a store opened from a checkpoint, at hashing speed (see
    /// [`Store::verify`] for the whole story).
    fn chain_holds_to(backend: &AnyLog, mark: &snapshot::Mark) -> Result<bool, StoreError> {
        let lock = backend.lock(lock_wait()?)?;
        let head = backend.read_head(&lock)?;
        chain_holds(backend, &lock, mark, head.head())
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
            trust: Trust::Whole,
            snapshot_seq,
            first_batch: 0,
            integrity: Integrity::Verified,
            notices: Vec::new(),
            lock_wait: lock_wait()?,
            torn_seen: None,
            audit,
            snapshot_disagreed: false,
            archive_from: None,
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
                    store.trust = Trust::Chain;
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
            trust: Trust::Snapshot,
            snapshot_seq: Some(mark.lines),
            first_batch: mark.first_batch,
            integrity: Integrity::Unchecked,
            notices: Vec::new(),
            lock_wait,
            torn_seen: None,
            audit: None,
            snapshot_disagreed: false,
            archive_from,
        };
        store.catch_up(lock, Reading)?;
        Ok(store)
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
    pub(super) fn check_whole_log(&mut self) -> Result<(), StoreError> {
        if self.trust.checked() {
            return Ok(());
        }
        let full = Store::with_backend(self.backend.clone())?;
        self.adopt(full)
    }
}

/// The snapshots this user audited in one store (by their digests), so that `verify` folds
/// the whole log again only for a snapshot it has not seen: a file beside the checkpoints.
struct Audits {
    path: PathBuf,
}

impl Audits {
    fn new(dir: &Path, identity: &str) -> Audits {
        Audits {
            path: dir.join(format!("{}.audited", checkpoint::key_of(identity))),
        }
    }

    fn read(&self) -> Vec<String> {
        std::fs::read_to_string(&self.path)
            .map(|t| t.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// Remembers `digest`, keeping the newest few; a file that cannot be written only means
    /// the next `verify` folds again.
    fn remember(&self, digest: &str) {
        let mut known = self.read();
        known.retain(|d| d != digest);
        known.push(digest.to_string());
        let keep = known.len().saturating_sub(AUDITS_KEPT);
        let text: String = known[keep..].iter().map(|d| format!("{d}\n")).collect();
        let _ = crate::fsio::write_private(&self.path, text.as_bytes());
    }
}

/// Snapshot digests remembered per store.
const AUDITS_KEPT: usize = 8;
