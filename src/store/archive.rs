//! The closed records a model opened from a snapshot or checkpoint left out: read one record's
//! part, the statistics' facts, or the whole archive, when an answer needs them.

use super::{
    AnyLog, ArchiveFile, ArchiveSource, Backend, Model, Store, StoreError, checkpoint, snapshot,
    state,
};
use chrono::{DateTime, Utc};
use std::path::Path;

impl Store<AnyLog> {
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
}

impl<B: Backend> Store<B> {
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

    /// A model to answer a read about `record` from, when this store's does not hold it:
    /// `record` is a closed one left out, and this is a copy of the open work with the records
    /// linked to it beside it, read from the archive's index and that record's chunk alone (see
    /// [`snapshot::read_record`]), so one record costs one record whatever the history. `None`
    /// when the store's own model answers: it holds `record`, or had to load the archive because
    /// the file it is in was replaced since (see [`Store::load_archive`]).
    pub fn model_for(
        &mut self,
        record: state::archive::Record,
    ) -> Result<Option<Model>, StoreError> {
        if !self.model.archived(record) {
            return Ok(None);
        }
        if let Some(src) = &self.archive_from {
            let at = |from: u64, max: u64| match &src.file {
                ArchiveFile::Shared => self.backend.read_snapshot_at(from, max),
                ArchiveFile::Checkpoint(path) => checkpoint::read_regular_at(path, from, max),
            };
            if let Some(part) = snapshot::read_record(at, &src.section, record) {
                return Ok(Some(self.model.with_part(part)));
            }
        }
        self.load_archive()?;
        Ok(None)
    }

    /// Folds `each` over every record the store holds, a part at a time: the model's open
    /// work, then, for a model opened without its closed records, each chunk of them beside
    /// the policy and users (see [`snapshot::for_each_chunk`]). A list of everything so holds
    /// one chunk at a time, never the whole history; each record is in exactly one part. If a
    /// chunk does not hold (the file it is in was replaced since), the archive is loaded and
    /// the fold starts again from `init` over the whole model.
    pub fn fold_parts<T>(
        &mut self,
        init: impl Fn() -> T,
        mut each: impl FnMut(&mut T, &Model),
    ) -> Result<T, StoreError> {
        if let Some(src) = &self.archive_from {
            let at = |from: u64, max: u64| match &src.file {
                ArchiveFile::Shared => self.backend.read_snapshot_at(from, max),
                ArchiveFile::Checkpoint(path) => checkpoint::read_regular_at(path, from, max),
            };
            let mut acc = init();
            each(&mut acc, &self.model);
            let shape = self.model.without_records();
            let whole = snapshot::for_each_chunk(at, &src.section, |chunk| {
                each(&mut acc, &shape.with_part(chunk));
            });
            if whole.is_some() {
                return Ok(acc);
            }
        }
        self.load_archive()?;
        let mut acc = init();
        each(&mut acc, &self.model);
        Ok(acc)
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
    pub(super) fn merge_archive(&mut self) -> Result<(), StoreError> {
        let Some(kept) = self.kept_archive()? else {
            return Ok(());
        };
        let archived = kept.archived().ok_or(StoreError::ArchiveGone)?;
        self.model.merge(archived);
        self.archive_from = None;
        Ok(())
    }

    /// Replaces this store with the log read whole (what it tells the user is kept).
    pub(super) fn reread_whole(&mut self) -> Result<(), StoreError> {
        let mut full = Store::with_backend(self.backend.clone())?;
        let mut notices = std::mem::take(&mut self.notices);
        notices.append(&mut full.notices);
        full.notices = notices;
        full.snapshot_seq = full.snapshot_seq.max(self.snapshot_seq);
        *self = full;
        Ok(())
    }
}
