//! The file backend: `events.jsonl` beside a `hotfix.lock` that is `flock`ed for every command.
//!
//! A store directory may be shared by a group (see the README), so nothing in it is trusted to
//! be what its name says: every file is opened relative to the directory's handle without
//! following symlinks, and checked to be a regular file before it is read. New files are
//! created exclusively (temporaries under unpredictable names, then renamed into place).

use super::{Backend, Head, HeadFile, LINE_READ_MAX, Position, SNAPSHOT_FILE, StoreError, line};
use rustix::fs::{AtFlags, Mode, OFlags};
use std::fs::{self, File};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const LOG_FILE: &str = "events.jsonl";
pub const LOCK_FILE: &str = "hotfix.lock";
pub const HEAD_FILE: &str = "head.json";
/// The head file's fixed size: its JSON padded with spaces, well within one 512-byte sector.
const HEAD_RECORD: usize = 160;
/// Temporary snapshots are named `snapshot.bin.tmp-<random>` until renamed into place.
const SNAPSHOT_TMP: &str = "snapshot.bin.tmp-";
/// Set-aside tails are named `events.jsonl.torn-<time>`.
const TORN: &str = "events.jsonl.torn-";

#[derive(Clone)]
pub struct FileLog {
    dir: PathBuf,
    /// The directory itself, opened once: every file is found relative to it.
    handle: Arc<OwnedFd>,
}

/// Holds the flock until dropped (closing the file releases it, even if the process is killed).
pub struct FileLock {
    file: Option<File>,
}

/// How a store file is opened.
#[derive(Clone, Copy)]
enum How {
    Read,
    Append,
    /// Read and write, created (with the store's mode) when missing.
    Update,
    /// A new file that must not exist yet.
    New,
}

fn open_dir(dir: &Path) -> std::io::Result<OwnedFd> {
    Ok(rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

impl FileLog {
    /// The log from byte `cursor` on.
    fn read_from(&self, cursor: u64) -> Result<File, StoreError> {
        let context = || format!("cannot read {}", self.dir.join(LOG_FILE).display());
        let mut file = self
            .open_file(LOG_FILE, How::Read)
            .map_err(self.error(context()))?;
        let len = file.metadata().map_err(StoreError::io(context()))?.len();
        if len < cursor {
            return Err(StoreError::Corrupt {
                line: 0,
                reason: format!(
                    "the log shrank from {cursor} to {len} bytes while open: events were deleted"
                ),
            });
        }
        file.seek(SeekFrom::Start(cursor))
            .map_err(StoreError::io(context()))?;
        Ok(file)
    }

    /// The whole line starting at byte `start`, newline included, if it ends within the longest
    /// a line may be (and the log reaches that far).
    fn line_from(&self, start: u64) -> Result<Option<Vec<u8>>, StoreError> {
        use std::io::BufRead;
        let file = match self.read_from(start) {
            Ok(f) => f,
            Err(StoreError::Corrupt { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut raw = Vec::new();
        std::io::BufReader::new(file.take(LINE_READ_MAX))
            .read_until(b'\n', &mut raw)
            .map_err(StoreError::io("cannot read the event log"))?;
        Ok((raw.last() == Some(&b'\n')).then_some(raw))
    }

    /// The sequence number the line starting at `start` says it has, from its first bytes.
    fn seq_at(&self, start: u64) -> Result<Option<u64>, StoreError> {
        const START: &[u8] = b"{\"v\":1,\"seq\":";
        let mut head = Vec::with_capacity(40);
        self.read_from(start)?
            .take(40)
            .read_to_end(&mut head)
            .map_err(StoreError::io("cannot read the event log"))?;
        let Some(rest) = head.strip_prefix(START) else {
            return Ok(None);
        };
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        Ok(std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(|d| d.parse().ok()))
    }

    /// Where the first line starting at or after byte `at` starts, before `end`.
    fn line_start_from(&self, at: u64, end: u64) -> Result<Option<u64>, StoreError> {
        use std::io::BufRead;
        if at == 0 {
            return Ok(Some(0));
        }
        // The byte before `at` may be the newline that ends the line before.
        let from = at - 1;
        let mut skipped = Vec::new();
        std::io::BufReader::new(self.read_from(from)?.take(end.saturating_sub(from)))
            .read_until(b'\n', &mut skipped)
            .map_err(StoreError::io("cannot read the event log"))?;
        let start = from + skipped.len() as u64;
        Ok((skipped.last() == Some(&b'\n') && start < end).then_some(start))
    }

    /// Where the line numbered `seq` starts among the log's first `end` bytes, by a binary
    /// search over byte offsets (numbers rise line by line): a few dozen small reads whatever
    /// the log's size. `None` if no line says it is that one; the caller checks what it says.
    fn find_line(&self, seq: u64, end: u64) -> Result<Option<u64>, StoreError> {
        use std::io::BufRead;
        // The line sought starts in [lo, hi); lo is always a line's start.
        let (mut lo, mut hi) = (0u64, end);
        while hi - lo > 1 << 14 {
            let mid = lo + (hi - lo) / 2;
            let Some(start) = self.line_start_from(mid, end)? else {
                hi = mid;
                continue;
            };
            match self.seq_at(start)? {
                Some(s) if s == seq => return Ok(Some(start)),
                Some(s) if s < seq => lo = start,
                Some(_) => hi = mid,
                None => return Ok(None),
            }
        }
        // A few lines left: walk them.
        let mut reader = std::io::BufReader::new(self.read_from(lo)?.take(end.saturating_sub(lo)));
        let mut raw = Vec::new();
        let mut at = lo;
        loop {
            raw.clear();
            let n = (&mut reader)
                .take(LINE_READ_MAX)
                .read_until(b'\n', &mut raw)
                .map_err(StoreError::io("cannot read the event log"))?;
            if n == 0 || raw.last() != Some(&b'\n') {
                return Ok(None);
            }
            match line::frame(&raw).map(|f| f.seq) {
                Some(s) if s == seq => return Ok(Some(at)),
                Some(s) if s < seq => at += n as u64,
                _ => return Ok(None),
            }
        }
    }

    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let handle = open_dir(dir).map_err(|_| StoreError::Missing(dir.to_path_buf()))?;
        let log = FileLog {
            dir: dir.to_path_buf(),
            handle: Arc::new(handle),
        };
        match rustix::fs::statat(&*log.handle, LOG_FILE, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if rustix::fs::FileType::from_raw_mode(st.st_mode).is_file() => Ok(log),
            Ok(_) => Err(log.not_regular(LOG_FILE)),
            Err(_) => Err(StoreError::Missing(dir.to_path_buf())),
        }
    }

    /// Creates the directory and the log owner-only; leaves existing ones as they are.
    pub fn create(dir: &Path) -> Result<Self, StoreError> {
        let log = FileLog::make_dir(dir)?;
        log.open_file(LOG_FILE, How::Update)
            .map_err(log.error(format!("cannot create {LOG_FILE}")))?;
        Ok(log)
    }

    /// The store directory, created owner-only (with its parents) if it does not exist.
    fn make_dir(dir: &Path) -> Result<Self, StoreError> {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(StoreError::io(format!(
                "cannot create the store directory {}",
                dir.display()
            )))?;
        let handle = open_dir(dir).map_err(StoreError::io(format!(
            "cannot open the store directory {}",
            dir.display()
        )))?;
        Ok(FileLog {
            dir: dir.to_path_buf(),
            handle: Arc::new(handle),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn not_regular(&self, name: &str) -> StoreError {
        StoreError::Io {
            context: format!("cannot open {}", self.dir.join(name).display()),
            source: std::io::Error::other(
                "it is not a regular file (hotfix opens no symbolic links, devices or pipes in a store)",
            ),
        }
    }

    /// An I/O error on a store file, with a plain word for a planted symlink.
    fn error(&self, context: String) -> impl FnOnce(std::io::Error) -> StoreError {
        move |e| {
            let source = if e.raw_os_error() == Some(libc::ELOOP) {
                std::io::Error::other(
                    "it is a symbolic link, which hotfix never follows in a store",
                )
            } else {
                e
            };
            StoreError::Io { context, source }
        }
    }

    /// Owner-only files, unless the store directory was made group-writable on purpose (see
    /// the README): then new files are group-writable too, so the team can keep writing.
    fn file_mode(&self) -> u32 {
        match rustix::fs::fstat(&*self.handle) {
            Ok(st) if st.st_mode & 0o020 != 0 => 0o660,
            _ => 0o600,
        }
    }

    /// Opens `name` in the store without following a symlink and without blocking on a pipe,
    /// and refuses anything but a regular file.
    fn open_file(&self, name: &str, how: How) -> std::io::Result<File> {
        let base = OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let flags = match how {
            How::Read => OFlags::RDONLY,
            How::Append => OFlags::WRONLY | OFlags::APPEND,
            How::Update => OFlags::RDWR | OFlags::CREATE,
            How::New => OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL,
        };
        let mode = self.file_mode();
        let fd = rustix::fs::openat(
            &*self.handle,
            name,
            base | flags,
            Mode::from_bits_truncate(mode),
        )?;
        let file = File::from(fd);
        let meta = file.metadata()?;
        if !meta.file_type().is_file() {
            return Err(std::io::Error::other(
                "it is not a regular file (hotfix opens no symbolic links, devices or pipes in a store)",
            ));
        }
        // Clear O_NONBLOCK again: it was only there so that opening a planted FIFO cannot hang.
        rustix::fs::fcntl_setfl(&file, rustix::fs::fcntl_getfl(&file)? - OFlags::NONBLOCK)?;
        if matches!(how, How::Update | How::New) && mode != 0o600 {
            // The umask may have cleared the group bits of a file just created.
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o777 != mode && meta.len() == 0 {
                let _ = file.set_permissions(fs::Permissions::from_mode(mode));
            }
        }
        Ok(file)
    }

    fn sync_dir(&self) -> Result<(), StoreError> {
        rustix::fs::fsync(&*self.handle).map_err(|e| {
            StoreError::io(format!(
                "cannot sync the store directory {}",
                self.dir.display()
            ))(e.into())
        })
    }

    /// Removes what killed processes left behind: temporary snapshots. Called under the lock,
    /// where no other hotfix can be writing one.
    fn remove_leftovers(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            if let Some(name) = entry.file_name().to_str()
                && name.starts_with(SNAPSHOT_TMP)
            {
                let _ = rustix::fs::unlinkat(&*self.handle, name, AtFlags::empty());
            }
        }
    }
}

impl Backend for FileLog {
    type Lock = FileLock;
    type Reader = File;

    fn lock(&self, wait: Duration) -> Result<FileLock, StoreError> {
        let path = self.dir.join(LOCK_FILE);
        let file = match self.open_file(LOCK_FILE, How::Update) {
            Ok(f) => f,
            // A read-only store (a read-only mount, say) can still be read: there is no writer to exclude.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EROFS | libc::EACCES)) => {
                return Ok(FileLock { file: None });
            }
            Err(e) => {
                return Err(self
                    .error(format!("cannot open the lock file {}", path.display()))(
                    e
                ));
            }
        };
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(FileLock { file: Some(file) }),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(fs::TryLockError::WouldBlock) => return Err(StoreError::Locked(path, wait)),
                Err(fs::TryLockError::Error(e)) => {
                    return Err(StoreError::io(format!("cannot lock {}", path.display()))(e));
                }
            }
        }
    }

    fn read_after(&self, _lock: &FileLock, at: Position) -> Result<File, StoreError> {
        self.read_from(at.bytes)
    }

    fn read_line(
        &self,
        _lock: &FileLock,
        seq: u64,
        start: Option<u64>,
        within: Position,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let start = match start {
            Some(start) => start,
            None => match self.find_line(seq, within.bytes)? {
                Some(start) => start,
                None => return Ok(None),
            },
        };
        let raw = self.line_from(start)?;
        Ok(raw.filter(|raw| line::frame(raw).is_some_and(|f| f.seq == seq)))
    }

    fn append(&self, lock: &FileLock, at: Position, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.dir.join(LOG_FILE);
        if lock.file.is_none() {
            return Err(StoreError::ReadOnly(format!(
                "{} cannot be written",
                self.dir.display()
            )));
        }
        let context = format!("cannot write to {}", path.display());
        let mut file =
            self.open_file(LOG_FILE, How::Append)
                .map_err(|e| match e.raw_os_error() {
                    Some(libc::EROFS | libc::EACCES) => {
                        StoreError::ReadOnly(format!("{} cannot be written ({e})", path.display()))
                    }
                    _ => self.error(context.clone())(e),
                })?;
        let written = file.write_all(bytes).and_then(|()| file.sync_data());
        if let Err(e) = written {
            // Undo a partial write so the log stays as it was; the events were never acknowledged.
            let _ = file.set_len(at.bytes).and_then(|()| file.sync_data());
            return Err(StoreError::io(context)(e));
        }
        Ok(())
    }

    fn set_aside(&self, lock: &FileLock, at: Position, tail: &[u8]) -> Result<String, StoreError> {
        if lock.file.is_none() {
            return Err(StoreError::ReadOnly(format!(
                "{} cannot be written",
                self.dir.display()
            )));
        }
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
        let name = format!("{TORN}{stamp}");
        let side = self.dir.join(&name);
        let context = format!("cannot keep the incomplete last line in {}", side.display());
        let mut file = self
            .open_file(&name, How::New)
            .map_err(self.error(context.clone()))?;
        if let Err(e) = file.write_all(tail).and_then(|()| file.sync_all()) {
            // A full disk must not leave an empty copy behind each attempt.
            let _ = rustix::fs::unlinkat(&*self.handle, name.as_str(), AtFlags::empty());
            return Err(StoreError::io(context)(e));
        }
        self.sync_dir()?;
        let log = self
            .open_file(LOG_FILE, How::Update)
            .map_err(self.error(format!("cannot open {LOG_FILE} to set aside its last line")))?;
        log.set_len(at.bytes)
            .and_then(|()| log.sync_all())
            .map_err(StoreError::io(format!(
                "cannot cut the incomplete last line off {LOG_FILE}"
            )))?;
        Ok(side.display().to_string())
    }

    fn read_head(&self, _lock: &FileLock) -> Result<HeadFile, StoreError> {
        let path = self.dir.join(HEAD_FILE);
        let file = match self.open_file(HEAD_FILE, How::Read) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HeadFile::Missing),
            Err(e) => return Err(self.error(format!("cannot read {}", path.display()))(e)),
            Ok(f) => f,
        };
        let mut bytes = Vec::new();
        file.take(4 * HEAD_RECORD as u64)
            .read_to_end(&mut bytes)
            .map_err(StoreError::io(format!("cannot read {}", path.display())))?;
        Ok(match serde_json::from_slice::<Head>(&bytes) {
            Ok(head) => HeadFile::Valid(head),
            Err(e) => HeadFile::Unreadable(e.to_string()),
        })
    }

    /// Overwrites the head in place as one fixed-size record within the file's first disk
    /// sector, which a power loss cannot tear, and without a sync of its own: the log was synced
    /// first, so after a crash the head may lag the log, never lead it. Only the file's creation
    /// (with the first command) is synced, so that it cannot vanish.
    fn write_head(&self, lock: &FileLock, head: &Head) -> Result<(), StoreError> {
        use std::os::unix::fs::FileExt;
        let path = self.dir.join(HEAD_FILE);
        let context = format!("cannot write {}", path.display());
        if lock.file.is_none() {
            return Err(StoreError::ReadOnly(format!(
                "{} cannot be written",
                self.dir.display()
            )));
        }
        let mut record = serde_json::to_vec(head).unwrap_or_default();
        if record.len() < HEAD_RECORD - 1 {
            record.resize(HEAD_RECORD - 1, b' ');
        }
        record.push(b'\n');
        let file = self
            .open_file(HEAD_FILE, How::Update)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::EROFS | libc::EACCES) => {
                    StoreError::ReadOnly(format!("{} cannot be written ({e})", path.display()))
                }
                _ => self.error(context.clone())(e),
            })?;
        let existed = file.metadata().map(|m| m.len() > 0).unwrap_or(true);
        file.write_all_at(&record, 0)
            .map_err(StoreError::io(context.clone()))?;
        if !existed {
            file.sync_all().map_err(StoreError::io(context))?;
            self.sync_dir()?;
        }
        Ok(())
    }

    fn identity(&self) -> String {
        fs::canonicalize(&self.dir)
            .unwrap_or_else(|_| self.dir.clone())
            .to_string_lossy()
            .into_owned()
    }

    fn read_snapshot_at(&self, from: u64, max: u64) -> Option<Vec<u8>> {
        let file = self.open_file(SNAPSHOT_FILE, How::Read).ok()?;
        super::checkpoint::read_open_at(file, from, max)
    }

    /// Through a synced temporary file and a rename: a crash leaves the old snapshot or the new.
    fn write_snapshot(
        &self,
        lock: &FileLock,
        write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        use std::os::unix::fs::PermissionsExt;
        if lock.file.is_none() {
            return Ok(()); // a read-only store keeps the snapshot it has
        }
        self.remove_leftovers();
        let path = self.dir.join(SNAPSHOT_FILE);
        let context = format!("cannot write {}", path.display());
        let tmp = tempfile::Builder::new()
            .prefix(SNAPSHOT_TMP)
            .permissions(fs::Permissions::from_mode(self.file_mode()))
            .tempfile_in(&self.dir)
            .map_err(StoreError::io(context.clone()))?;
        // Exactly the store's mode, whatever the umask.
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(self.file_mode()))
            .map_err(StoreError::io(context.clone()))?;
        let mut out = BufWriter::with_capacity(1 << 20, tmp);
        let written = write(&mut out)
            .and_then(|()| out.flush())
            .and_then(|()| out.get_ref().as_file().sync_data());
        if let Err(e) = written {
            return Err(StoreError::io(context)(e)); // the temporary file is removed on drop
        }
        let tmp = out
            .into_inner()
            .map_err(|e| StoreError::io(context.clone())(e.into_error()))?;
        let name = tmp
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
            .unwrap_or_default();
        let (_, kept) = tmp
            .keep()
            .map_err(|e| StoreError::io(context.clone())(e.error))?;
        if let Err(e) =
            rustix::fs::renameat(&*self.handle, name.as_str(), &*self.handle, SNAPSHOT_FILE)
        {
            let _ = rustix::fs::unlinkat(&*self.handle, name.as_str(), AtFlags::empty());
            return Err(StoreError::io(context)(e.into()));
        }
        drop(kept);
        Ok(())
    }
}

/// Where a new store is built before it appears: `DIR/.hotfix-new-<random>`.
const NEW_PREFIX: &str = ".hotfix-new-";

/// Creates a new store in `dir` whole or not at all: `fill` writes it in a temporary directory
/// inside `dir`, and its files are then renamed into `dir`, the log last, so a kill at any
/// moment leaves either no store or a complete one. Holds `dir`'s lock throughout, so two
/// creations cannot interleave. Refuses a `dir` that already holds a log. Returns `fill`'s
/// result and what was cleaned up on the way (an earlier creation that was killed).
pub fn create_whole<T, E: From<StoreError>>(
    dir: &Path,
    fill: impl FnOnce(&Path) -> Result<T, E>,
) -> Result<(T, Vec<String>), E> {
    use std::os::unix::fs::PermissionsExt;
    let log = FileLog::make_dir(dir)?;
    // A log without one finished command is what an init killed mid-append (by an older
    // hotfix) leaves: no store, and it is set aside below rather than refused.
    let unfinished = rustix::fs::statat(&*log.handle, LOG_FILE, AtFlags::SYMLINK_NOFOLLOW).is_ok()
        && super::Store::with_backend(log.clone()).is_ok_and(|s| s.model.seq == 0);
    let _lock = log.lock(super::lock_wait()?)?;
    let mut cleaned = Vec::new();
    if rustix::fs::statat(&*log.handle, LOG_FILE, AtFlags::SYMLINK_NOFOLLOW).is_ok() {
        if !unfinished {
            return Err(StoreError::Exists(dir.to_path_buf()).into());
        }
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
        let side = format!("{TORN}{stamp}");
        rustix::fs::renameat(&*log.handle, LOG_FILE, &*log.handle, side.as_str())
            .map_err(|e| StoreError::io(format!("cannot set aside {LOG_FILE}"))(e.into()))?;
        cleaned.push(format!(
            "{LOG_FILE} held only an unfinished command (an init that never finished); it was moved to {}",
            dir.join(side).display()
        ));
    }
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(NEW_PREFIX) && fs::remove_dir_all(entry.path()).is_ok() {
            cleaned.push(format!(
                "removed {}, a store creation that never finished (its process was killed)",
                entry.path().display()
            ));
        }
    }
    let building = tempfile::Builder::new()
        .prefix(NEW_PREFIX)
        .tempdir_in(dir)
        .map_err(StoreError::io(format!(
            "cannot create a directory in {}",
            dir.display()
        )))?;
    // The same mode as the store directory (a group-shared one makes group-writable files).
    let mode = rustix::fs::fstat(&*log.handle).map_or(0o700, |st| st.st_mode & 0o2770 | 0o700);
    let _ = fs::set_permissions(building.path(), fs::Permissions::from_mode(mode));
    let made = fill(building.path())?;
    let from = open_dir(building.path()).map_err(StoreError::io("cannot open the new store"))?;
    let mut names: Vec<String> = fs::read_dir(building.path())
        .map_err(StoreError::io("cannot list the new store"))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != LOCK_FILE && n != LOG_FILE)
        .collect();
    names.push(LOG_FILE.to_string());
    for name in &names {
        rustix::fs::renameat(&from, name.as_str(), &*log.handle, name.as_str()).map_err(|e| {
            StoreError::io(format!("cannot move {name} into {}", dir.display()))(e.into())
        })?;
    }
    log.sync_dir()?;
    drop(building); // removes what is left: the temporary lock file
    Ok((made, cleaned))
}
