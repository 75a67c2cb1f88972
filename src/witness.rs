//! A witness the store cannot roll back: each user's hotfix remembers, in its own state
//! directory (owner-only), the newest event it has seen in each store. Someone who can write
//! the store can delete its newest events and roll `head.json` back with them, and the chain
//! still verifies; they cannot reach this file. Every command compares the store with it: a
//! store behind it, or with another event at the remembered place, is named and refuses writes.
//!
//! What it cannot do: a user who wipes their own state directory forgets what they saw, and a
//! rollback to before a user's first look at a store is invisible to that user.

use crate::store::{Mark, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

const FILE: &str = "witness.json";
/// Stores remembered at most; the least recently seen are forgotten first.
const MAX_STORES: usize = 500;

#[derive(Default, Serialize, Deserialize)]
struct Seen {
    /// By the store directory's canonical path.
    stores: BTreeMap<String, Entry>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Entry {
    #[serde(flatten)]
    mark: Mark,
    /// When this user last saw the store (to forget the oldest first).
    seen_at: chrono::DateTime<chrono::Utc>,
}

/// This user's witness file, and what it said when it was read.
pub struct Witness {
    path: Option<PathBuf>,
    seen: Seen,
}

impl Witness {
    /// The witness in the user's state directory (none when there is no home directory).
    pub fn load() -> Witness {
        let path = crate::settings::state_dir().map(|d| d.join(FILE));
        let seen = path
            .as_deref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Witness { path, seen }
    }

    fn key(store: &Store) -> Option<String> {
        Some(store.identity()).filter(|k| !k.is_empty())
    }

    /// Compares `store` with what was seen in it before; if it is behind or rewritten, the
    /// store is marked untrustworthy (writes refused) with the reason.
    pub fn check(&self, store: &mut Store) {
        let Some(entry) = Self::key(store).and_then(|k| self.seen.stores.get(&k).cloned()) else {
            return;
        };
        // Another process of this user may have written (and noted) an event after this store
        // read the log: catch up once before calling the store behind.
        let mut held = store.still_holds(&entry.mark);
        if matches!(held, Ok(Some(_))) && store.refresh().is_ok() {
            held = store.still_holds(&entry.mark);
        }
        let found = match held {
            Ok(found) => found,
            Err(e) => Some((
                entry.mark.seq,
                format!("the remembered event cannot be read ({e})"),
            )),
        };
        if let Some((line, why)) = found {
            store.distrust(
                line,
                format!(
                    "{why}; you saw event {} on {} (your witness: {})",
                    entry.mark.seq,
                    entry.seen_at.format("%Y-%m-%d %H:%M UTC"),
                    self.path
                        .as_deref()
                        .map_or_else(|| FILE.into(), |p| p.display().to_string())
                ),
            );
        }
    }

    /// Remembers the newest event of `store` if it is newer than what was seen, and the store
    /// is trusted. A witness that cannot be written is said once, never fatal: the store's own
    /// checks still hold.
    pub fn note(
        &mut self,
        store: &Store,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), String> {
        if matches!(store.integrity, crate::store::Integrity::Broken { .. }) {
            return Ok(());
        }
        let (Some(key), Some(mark)) = (Self::key(store), store.newest()) else {
            return Ok(());
        };
        if self
            .seen
            .stores
            .get(&key)
            .is_some_and(|e| e.mark.seq >= mark.seq)
        {
            return Ok(());
        }
        // Another hotfix of this user may have noted a newer event meanwhile, or another store:
        // read, change and write the file under its lock, so no process undoes another's note.
        let _lock = self.lock();
        let on_disk = Witness::load();
        self.seen = on_disk.seen;
        if let Some(e) = self.seen.stores.get(&key)
            && e.mark.seq >= mark.seq
        {
            return Ok(());
        }
        self.seen.stores.insert(key, Entry { mark, seen_at: now });
        while self.seen.stores.len() > MAX_STORES {
            let oldest = self
                .seen
                .stores
                .iter()
                .min_by_key(|(_, e)| e.seen_at)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.seen.stores.remove(&k),
                None => break,
            };
        }
        self.save()
    }

    /// Forgets a store (a new store made where an old one was): said to the user by the caller.
    pub fn forget(&mut self, identity: &str) -> Option<u64> {
        let _lock = self.lock();
        self.seen = Witness::load().seen;
        let entry = self.seen.stores.remove(identity)?;
        self.save().ok()?;
        Some(entry.mark.seq)
    }

    /// The witness's lock (`witness.lock` beside it), held until dropped; `None` when there is
    /// no state directory or the lock cannot be had (the note is then made without it).
    fn lock(&self) -> Option<std::fs::File> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let path = self.path.as_deref()?.with_file_name("witness.lock");
        if let Some(dir) = path.parent() {
            let _ = std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir);
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .ok()?;
        file.lock().ok()?;
        Some(file)
    }

    fn save(&self) -> Result<(), String> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let fail = |e: &dyn std::fmt::Display| {
            format!("cannot update your witness {}: {e}", path.display())
        };
        let bytes = serde_json::to_vec_pretty(&self.seen).map_err(|e| fail(&e))?;
        crate::fsio::write_private(path, &bytes).map_err(|e| fail(&e))
    }
}

/// The witness over a long session (the cockpit), said to the store as it moves on. The
/// comparison reads a line of the log under the lock, so it runs when the store has moved on,
/// not on every re-read; a store found behind is compared every time (a store replaced by the
/// background check must be marked again). A witness that cannot be written is said once.
pub struct Follow {
    witness: Witness,
    told: bool,
    /// The newest event at the last comparison that found nothing wrong.
    fine_at: Option<u64>,
}

impl Follow {
    pub fn new() -> Follow {
        Follow {
            witness: Witness::load(),
            told: false,
            fine_at: None,
        }
    }

    /// Compares `store` with what this user saw in it, and remembers its newest event.
    pub fn follow(&mut self, store: &mut Store) {
        let seq = store.model.seq;
        if self.fine_at == Some(seq) {
            return;
        }
        self.witness.check(store);
        self.fine_at =
            (!matches!(store.integrity, crate::store::Integrity::Broken { .. })).then_some(seq);
        if let Err(e) = self.witness.note(store, crate::clock::now())
            && !std::mem::replace(&mut self.told, true)
        {
            store.notices.push(e);
        }
    }
}

impl Default for Follow {
    fn default() -> Follow {
        Follow::new()
    }
}
