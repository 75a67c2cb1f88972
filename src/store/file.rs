//! The file backend: `events.jsonl` beside a `hotfix.lock` that is `flock`ed for every command.

use super::{Backend, Head, HeadFile, SNAPSHOT_FILE, StoreError};
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const LOG_FILE: &str = "events.jsonl";
pub const LOCK_FILE: &str = "hotfix.lock";
pub const HEAD_FILE: &str = "head.json";
/// The head file's fixed size: its JSON padded with spaces, well within one 512-byte sector.
const HEAD_RECORD: usize = 160;

#[derive(Clone)]
pub struct FileLog {
    dir: PathBuf,
}

/// Holds the flock until dropped (closing the file releases it, even if the process is killed).
pub struct FileLock {
    _file: Option<File>,
}

impl FileLog {
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        if !dir.join(LOG_FILE).is_file() {
            return Err(StoreError::Missing(dir.to_path_buf()));
        }
        Ok(FileLog {
            dir: dir.to_path_buf(),
        })
    }

    /// Creates the directory and files owner-only; leaves existing ones as they are.
    pub fn create(dir: &Path) -> Result<Self, StoreError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(StoreError::io(format!(
                "cannot create the store directory {}",
                dir.display()
            )))?;
        let log = dir.join(LOG_FILE);
        OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&log)
            .map_err(StoreError::io(format!("cannot create {}", log.display())))?;
        Ok(FileLog {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Owner-only files, unless the store directory was made group-writable on purpose (see
    /// the README): then new files are group-writable too, so the team can keep writing.
    fn file_mode(&self) -> u32 {
        // (The umask may still clear bits here; `share` sets them exactly.)
        use std::os::unix::fs::PermissionsExt;
        match fs::metadata(&self.dir) {
            Ok(m) if m.permissions().mode() & 0o020 != 0 => 0o660,
            _ => 0o600,
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join(LOG_FILE)
    }
}

/// Gives a new file exactly the store's mode, whatever the umask.
fn share(file: &File, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    if mode != 0o600 {
        let _ = file.set_permissions(fs::Permissions::from_mode(mode));
    }
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::io(format!(
            "cannot sync the store directory {}",
            dir.display()
        )))
}

impl Backend for FileLog {
    type Lock = FileLock;
    type Reader = File;

    fn lock(&self, wait: Duration) -> Result<FileLock, StoreError> {
        let path = self.dir.join(LOCK_FILE);
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(self.file_mode())
            .open(&path)
        {
            Ok(f) => f,
            // A read-only store (a read-only mount, say) can still be read: there is no writer to exclude.
            Err(e) if matches!(e.raw_os_error(), Some(30 | 13)) => {
                return Ok(FileLock { _file: None });
            }
            Err(e) => {
                return Err(StoreError::io(format!(
                    "cannot open the lock file {}",
                    path.display()
                ))(e));
            }
        };
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(FileLock { _file: Some(file) }),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(fs::TryLockError::WouldBlock) => return Err(StoreError::Locked(path)),
                Err(fs::TryLockError::Error(e)) => {
                    return Err(StoreError::io(format!("cannot lock {}", path.display()))(e));
                }
            }
        }
    }

    fn read_since(&self, _lock: &FileLock, cursor: u64) -> Result<File, StoreError> {
        let path = self.log_path();
        let context = || format!("cannot read {}", path.display());
        let mut file = File::open(&path).map_err(StoreError::io(context()))?;
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

    fn append(&self, lock: &FileLock, cursor: u64, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.log_path();
        if lock._file.is_none() {
            return Err(StoreError::ReadOnly(format!(
                "{} cannot be written",
                self.dir.display()
            )));
        }
        let context = format!("cannot write to {}", path.display());
        let mut file =
            OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(|e| match e.raw_os_error() {
                    Some(30 | 13) => {
                        StoreError::ReadOnly(format!("{} cannot be written ({e})", path.display()))
                    }
                    _ => StoreError::io(context.clone())(e),
                })?;
        let written = file.write_all(bytes).and_then(|()| file.sync_data());
        if let Err(e) = written {
            // Undo a partial write so the log stays as it was; the events were never acknowledged.
            let _ = file.set_len(cursor).and_then(|()| file.sync_data());
            return Err(StoreError::io(context)(e));
        }
        Ok(())
    }

    fn set_aside(&self, _lock: &FileLock, cursor: u64, tail: &[u8]) -> Result<String, StoreError> {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
        let side = self.dir.join(format!("{LOG_FILE}.torn-{stamp}"));
        let context = format!("cannot keep the incomplete last line in {}", side.display());
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(self.file_mode())
            .open(&side)
            .map_err(StoreError::io(context.clone()))?;
        share(&file, self.file_mode());
        file.write_all(tail)
            .and_then(|()| file.sync_all())
            .map_err(StoreError::io(context))?;
        sync_dir(&self.dir)?;
        let log = OpenOptions::new()
            .write(true)
            .open(self.log_path())
            .map_err(StoreError::io(format!(
                "cannot open {} to set aside its last line",
                LOG_FILE
            )))?;
        log.set_len(cursor)
            .and_then(|()| log.sync_all())
            .map_err(StoreError::io(format!(
                "cannot cut the incomplete last line off {LOG_FILE}"
            )))?;
        Ok(side.display().to_string())
    }

    fn read_head(&self, _lock: &FileLock) -> Result<HeadFile, StoreError> {
        let path = self.dir.join(HEAD_FILE);
        match fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HeadFile::Missing),
            Err(e) => Err(StoreError::io(format!("cannot read {}", path.display()))(e)),
            Ok(bytes) => Ok(match serde_json::from_slice::<Head>(&bytes) {
                Ok(head) => HeadFile::Valid(head),
                Err(e) => HeadFile::Unreadable(e.to_string()),
            }),
        }
    }

    /// Overwrites the head in place as one fixed-size record within the file's first disk
    /// sector, which a power loss cannot tear, and without a sync of its own: the log was synced
    /// first, so after a crash the head may lag the log, never lead it. Only the file's creation
    /// (with the first command) is synced, so that it cannot vanish.
    fn write_head(&self, _lock: &FileLock, head: &Head) -> Result<(), StoreError> {
        use std::os::unix::fs::FileExt;
        let path = self.dir.join(HEAD_FILE);
        let context = format!("cannot write {}", path.display());
        let mut record = serde_json::to_vec(head).unwrap_or_default();
        if record.len() < HEAD_RECORD - 1 {
            record.resize(HEAD_RECORD - 1, b' ');
        }
        record.push(b'\n');
        let existed = path.exists();
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(self.file_mode())
            .open(&path)
            .map_err(StoreError::io(context.clone()))?;
        file.write_all_at(&record, 0)
            .map_err(StoreError::io(context.clone()))?;
        if !existed {
            share(&file, self.file_mode());
            file.sync_all().map_err(StoreError::io(context))?;
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    fn read_snapshot(&self, max: u64) -> Option<Vec<u8>> {
        use std::io::Read;
        let mut bytes = Vec::new();
        File::open(self.dir.join(SNAPSHOT_FILE))
            .ok()?
            .take(max)
            .read_to_end(&mut bytes)
            .ok()?;
        Some(bytes)
    }

    /// Through a synced temporary file and a rename: a crash leaves the old snapshot or the new.
    fn write_snapshot(
        &self,
        write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        let path = self.dir.join(SNAPSHOT_FILE);
        let tmp = self
            .dir
            .join(format!("{SNAPSHOT_FILE}.tmp-{}", std::process::id()));
        let context = format!("cannot write {}", path.display());
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(self.file_mode())
            .open(&tmp)
            .map_err(StoreError::io(context.clone()))?;
        share(&file, self.file_mode());
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let written = write(&mut out)
            .and_then(|()| out.flush())
            .and_then(|()| out.get_ref().sync_data())
            .and_then(|()| fs::rename(&tmp, &path));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(StoreError::io(context)(e));
        }
        Ok(())
    }
}
