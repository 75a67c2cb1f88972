//! Where a store is: `--store` (or `HOTFIX_STORE`, or the data directory) parsed once, at the
//! edge, into a directory or a database. Nothing outside `store/` asks which it is by looking
//! at a path; it asks the location or the opened store.

use super::pg;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A directory store: the event log and its files in one directory.
    Directory(PathBuf),
    /// A database store (team mode): a PostgreSQL connection spec, URL or key=value. It may
    /// hold a password, so it is never shown as it is (see `Display`).
    Database(String),
}

impl Location {
    /// What `raw` names: a database when it reads as a connection spec (see
    /// [`pg::is_database`]), else a directory.
    pub fn parse(raw: &Path) -> Location {
        match raw.to_str().filter(|s| pg::is_database(s)) {
            Some(spec) => Location::Database(spec.to_string()),
            None => Location::Directory(raw.to_path_buf()),
        }
    }

    /// Whether this is a team store, where the database login is who acts.
    pub fn is_team(&self) -> bool {
        matches!(self, Location::Database(_))
    }

    /// The store's identity for the witness (a canonical path, or server, database and
    /// schema), if a store is there.
    pub fn identity(&self) -> Option<String> {
        use super::Backend;
        super::AnyLog::open(self).ok().map(|log| log.identity())
    }

    /// The directory of a directory store.
    pub fn directory(&self) -> Option<&Path> {
        match self {
            Location::Directory(dir) => Some(dir),
            Location::Database(_) => None,
        }
    }
}

impl From<&Path> for Location {
    fn from(raw: &Path) -> Location {
        Location::parse(raw)
    }
}

/// The location as it may be shown anywhere: a database's password is never part of it.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Directory(dir) => write!(f, "{}", dir.display()),
            Location::Database(spec) => f.write_str(&pg::redacted(spec)),
        }
    }
}

/// Debug shows what Display does: a location is printed in errors and logs.
impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_shows() {
        for raw in [
            "postgresql://alice:s3cret@db.example/hotfix",
            "host=db.example dbname=hotfix user=alice password=s3cret",
        ] {
            let at = Location::parse(Path::new(raw));
            assert!(at.is_team());
            assert!(!at.to_string().contains("s3cret"), "{at}");
            assert!(!format!("{at:?}").contains("s3cret"), "{at:?}");
        }
        let dir = Location::parse(Path::new("/tmp/store"));
        assert_eq!(dir.directory(), Some(Path::new("/tmp/store")));
        assert_eq!(dir.to_string(), "/tmp/store");
    }
}
