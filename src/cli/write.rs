//! Write verbs: decide, append durably, then say what was recorded.

use super::Out;
use crate::clock::now;
use crate::error::Error;
use crate::present;
use crate::state::{Command, Event, Recorded};
use crate::store::{Integrity, Store};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::Path;

/// A recorded event as the CLI prints it in JSON: the log's fields plus a human summary.
#[derive(Serialize)]
pub struct Entry<'a> {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: &'a str,
    #[serde(flatten)]
    pub event: &'a Event,
    pub summary: String,
    /// Why the rules refused this line, which is so inert (see `state::legality`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub illegal: Option<&'a str>,
}

impl<'a> From<&'a Recorded> for Entry<'a> {
    fn from(r: &'a Recorded) -> Self {
        Entry {
            seq: r.seq,
            at: r.at,
            actor: &r.actor,
            event: &r.event,
            summary: present::describe(r),
            illegal: None,
        }
    }
}

/// Opens an existing store and tells the user (on stderr) anything it found on the way.
///
/// The store is never dropped: a one-shot command ends with the process, which hands the
/// memory back at once, while freeing a large model piece by piece took 15 to 25 ms. (It
/// holds no lock or open file between commands, so nothing is left behind.)
pub fn open(dir: &Path) -> Result<std::mem::ManuallyDrop<Store>, Error> {
    // Reads and writes start from this user's checkpoint and read only what is new, with
    // closed records left out until an answer needs them (see `Store::open_to_write` for
    // what is checked, and when the whole log is read again).
    let checkpoints = crate::settings::checkpoint_dir();
    let store = Store::open_to_write(dir, checkpoints.as_deref(), now())?;
    settle(store)
}

/// The witness, the user told what was found, and a snapshot if one is due.
fn settle(mut store: Store) -> Result<std::mem::ManuallyDrop<Store>, Error> {
    witness(&mut store);
    warn(&mut store);
    // A snapshot is only a cache: a store that cannot take one (read-only, full) works the same.
    let _ = store.checkpoint();
    Ok(std::mem::ManuallyDrop::new(store))
}

/// Runs `command` as `actor` through the store, then tells the user what the store found on
/// the way (a tail it set aside, say): every CLI write goes through here.
pub fn record(store: &mut Store, actor: &str, command: Command) -> Result<Vec<Recorded>, Error> {
    let recorded = store.execute(actor, now(), command);
    if recorded.is_ok()
        && let Err(e) = crate::witness::Witness::load().note(store, now())
    {
        store.notices.push(e);
    }
    // (The store's integrity was told when it was opened.)
    tell(store);
    Ok(recorded?)
}

/// Compares the store with this user's witness (a store behind what they saw refuses writes),
/// then remembers its newest event.
fn witness(store: &mut Store) {
    let mut witness = crate::witness::Witness::load();
    witness.check(store);
    if let Err(e) = witness.note(store, now()) {
        store.notices.push(e);
    }
}

/// A new store where this user saw another before: the witness forgets the old one, and says so.
pub fn forget_old_store(dir: &Path) {
    use crate::store::Backend;
    let Ok(log) = crate::store::AnyLog::open(dir) else {
        return;
    };
    if let Some(seq) = crate::witness::Witness::load().forget(&log.identity()) {
        eprintln!(
            "hotfix: note: you had seen {seq} events in a store at this path before; this is a new store, and your witness now follows it"
        );
    }
}

/// Tells the user (on stderr) what the store found and did on the way.
fn tell(store: &mut Store) {
    for notice in store.notices.drain(..) {
        eprintln!("hotfix: warning: {}", crate::sanitize::line(&notice));
    }
}

/// Tells the notices, and that the store is read-only if it is.
pub fn warn(store: &mut Store) {
    tell(store);
    if let Integrity::Broken { line, reason } = &store.integrity {
        eprintln!(
            "hotfix: warning: line {line} of the event log fails verification ({}); the store is read-only until it is repaired (see `hotfix verify`)",
            crate::sanitize::line(reason)
        );
    }
}

pub fn init(out: &Out, dir: &Path) -> Result<(), Error> {
    let mut actor = crate::paths::actor()?;
    let recorded = match crate::store::database(dir) {
        // Team mode: the schema, its roles and the append function, then the first event in
        // it, recorded as the login that ran init (its first admin).
        Some(spec) => {
            let log = crate::store::pg::PgLog::create(spec)?;
            actor = log.login().to_string();
            let mut store = Store::with_backend(crate::store::AnyLog::Database(log))?;
            let recorded = store.execute(&actor, now(), Command::Init);
            warn(&mut store);
            recorded?
        }
        // Built aside and moved into place whole; the witness follows from the next command.
        None => {
            let (recorded, cleaned) = crate::store::create_whole(dir, |tmp| {
                let mut store = Store::create(tmp)?;
                let recorded = store.execute(&actor, now(), Command::Init);
                warn(&mut store);
                Ok::<_, Error>(recorded?)
            })?;
            for c in cleaned {
                eprintln!("hotfix: {}", crate::sanitize::line(&c));
            }
            recorded
        }
    };
    forget_old_store(dir);
    if out.json {
        let entries: Vec<Entry> = recorded.iter().map(Entry::from).collect();
        return out.json(&entries);
    }
    out.line(&format!(
        "Initialised a hotfix store at {}; {actor} is its admin.",
        crate::store::shown(dir)
    ));
    out.line("Next: grant roles, e.g. `hotfix user grant dana dev-lead`, then report an incident.");
    Ok(())
}

/// `hotfix store copy`: a directory store's verified history into a new database store,
/// verified again there.
/// `hotfix store migrate`: a database store's schema brought to this hotfix's version.
pub fn migrate(out: &Out, store: &Path) -> Result<(), Error> {
    use crate::store::pg;
    let Some(spec) = crate::store::database(store) else {
        return Err(Error::Usage(
            "only a database store has a schema to migrate: --store must name one (postgresql://...); a directory store needs no migration".into(),
        ));
    };
    let (from, to) = pg::migrate(spec)?;
    if out.json {
        return out.json(&serde_json::json!({"from": from, "to": to}));
    }
    out.line(&if from == to {
        format!(
            "{} is at schema version {to} already: nothing to do",
            pg::redacted(spec)
        )
    } else {
        format!(
            "migrated {} from schema version {from} to {to}",
            pg::redacted(spec)
        )
    });
    Ok(())
}

pub fn copy(out: &Out, from: &Path, to: &str) -> Result<(), Error> {
    use crate::store::{AnyLog, Integrity, pg};
    if crate::store::database(from).is_some() {
        return Err(Error::Usage("--from must be a directory store".into()));
    }
    if !pg::is_database(to) {
        return Err(Error::Usage(
            "--to must name a database (postgresql://... or host=... dbname=...)".into(),
        ));
    }
    let source = Store::open(from)?;
    let v = source.verify()?;
    if let Integrity::Broken { line, reason } = v.integrity {
        return Err(Error::Failed(format!(
            "the directory store does not verify (line {line}: {reason}): nothing was copied"
        )));
    }
    let text = std::fs::read_to_string(from.join(crate::store::LOG_FILE))
        .map_err(|e| Error::Failed(format!("cannot read the log: {e}")))?;
    let lines: Vec<&str> = text
        .lines()
        .take(usize::try_from(v.events).unwrap_or(usize::MAX))
        .collect();
    let log = pg::PgLog::create_with_history(to, &lines)?;
    let copied = Store::with_backend(AnyLog::Database(log))?;
    let check = copied.verify()?;
    if check.integrity != Integrity::Verified || check.last_hash != v.last_hash {
        return Err(Error::Failed(format!(
            "the copy does not verify as the original did ({:?}); investigate before using it",
            check.integrity
        )));
    }
    if out.json {
        return out
            .json(&serde_json::json!({"events": check.events, "last_hash": check.last_hash}));
    }
    out.line(&format!(
        "copied {} events into {}; both verify, last hash {}",
        check.events,
        pg::redacted(to),
        check.last_hash
    ));
    Ok(())
}

pub fn execute(out: &Out, dir: &Path, command: Command) -> Result<(), Error> {
    let actor = crate::paths::actor()?;
    let mut store = open(dir)?;
    let recorded = record(&mut store, &actor, command)?;
    if out.json {
        let entries: Vec<Entry> = recorded.iter().map(Entry::from).collect();
        return out.json(&entries);
    }
    for r in &recorded {
        out.line(&format!(
            "{} {}",
            out.good("recorded"),
            present::describe(r)
        ));
    }
    Ok(())
}
