//! Making and moving stores: a new store, a directory store's history copied into a database,
//! a database's schema brought to this hotfix's version.

use super::{
    AnyLog, ExecError, Integrity, LOG_FILE, Location, Store, StoreError, create_whole, pg,
};
use crate::state::{Command, Recorded};
use chrono::{DateTime, Utc};

/// What `init` made.
pub struct Initialised {
    /// Who the first event is recorded as (in a database, the login that ran it), the admin.
    pub admin: String,
    pub recorded: Vec<Recorded>,
    /// What the user should be told: leftovers cleaned away, anything the store noticed.
    pub notes: Vec<String>,
}

/// A new store at `location`, its first event `actor`'s init. A directory store is built aside
/// and moved into place whole. A database gets the schema, its roles and the append function,
/// then the first event, recorded as the login that ran init, whoever `actor` is.
pub fn init(
    location: &Location,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Initialised, ExecError> {
    match location {
        Location::Database(spec) => {
            let log = pg::PgLog::create(spec)?;
            let admin = log.login().to_string();
            let mut store = Store::with_backend(AnyLog::Database(log))?;
            let recorded = store.execute(&admin, now, Command::Init)?;
            Ok(Initialised {
                admin,
                recorded,
                notes: std::mem::take(&mut store.notices),
            })
        }
        Location::Directory(dir) => {
            let ((recorded, mut notes), cleaned) = create_whole(dir, |tmp| {
                let mut store = Store::create(tmp)?;
                let recorded = store.execute(actor, now, Command::Init)?;
                Ok::<_, ExecError>((recorded, std::mem::take(&mut store.notices)))
            })?;
            notes.extend(cleaned);
            Ok(Initialised {
                admin: actor.to_string(),
                recorded,
                notes,
            })
        }
    }
}

/// What a copy holds.
pub struct Copied {
    pub events: u64,
    pub last_hash: String,
}

/// A directory store's verified history into a new database store, verified again there: the
/// copy must end at the same hash, or it is not used.
pub fn copy_into_database(from: &Location, to: &Location) -> Result<Copied, StoreError> {
    let (Location::Directory(dir), Location::Database(spec)) = (from, to) else {
        return Err(StoreError::Setting(if from.is_team() {
            "--from must be a directory store".into()
        } else {
            "--to must name a database (postgresql://... or host=... dbname=...)".into()
        }));
    };
    let source = Store::audited(AnyLog::open(from)?)?;
    let v = source.verify()?;
    if let Integrity::Broken { line, reason } = v.integrity {
        return Err(StoreError::Corrupt {
            line,
            reason: format!("the directory store does not verify ({reason}): nothing was copied"),
        });
    }
    let text = std::fs::read_to_string(dir.join(LOG_FILE)).map_err(StoreError::io(format!(
        "cannot read {}",
        dir.join(LOG_FILE).display()
    )))?;
    let lines: Vec<&str> = text
        .lines()
        .take(usize::try_from(v.events).unwrap_or(usize::MAX))
        .collect();
    let log = pg::PgLog::create_with_history(spec, &lines)?;
    let check = Store::with_backend(AnyLog::Database(log))?.verify()?;
    if check.integrity != Integrity::Verified || check.last_hash != v.last_hash {
        return Err(StoreError::Io {
            context: format!(
                "the copy in {to} does not verify as the original did ({:?}); investigate before using it",
                check.integrity
            ),
            source: std::io::Error::other("copy differs"),
        });
    }
    Ok(Copied {
        events: check.events,
        last_hash: check.last_hash,
    })
}

/// Brings the database store at `location` to this hotfix's schema version: the versions
/// before and after.
pub fn migrate(location: &Location) -> Result<(i32, i32), StoreError> {
    match location {
        Location::Database(spec) => pg::migrate(spec),
        Location::Directory(_) => Err(StoreError::Setting(
            "only a database store has a schema to migrate: --store must name one (postgresql://...); a directory store needs no migration".into(),
        )),
    }
}
