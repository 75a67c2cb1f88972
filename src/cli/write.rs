//! Write verbs: decide, append durably, then say what was recorded; making a store (init, copy,
//! migrate) and the demo store.

use super::Out;
use crate::clock::now;
use crate::error::Error;
use crate::present;
use crate::state::{Command, Event, Recorded};
use crate::store::{For, Integrity, Location, Store};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
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
pub fn open(at: &Location) -> Result<std::mem::ManuallyDrop<Store>, Error> {
    // Reads and writes start from this user's checkpoint and read only what is new, with
    // closed records left out until an answer needs them (see `Store::open_to_write` for
    // what is checked, and when the whole log is read again).
    let checkpoints = crate::settings::checkpoint_dir();
    let store = Store::open(
        at,
        For::Command {
            checkpoints: checkpoints.as_deref(),
            now: now(),
        },
    )?;
    settle(store)
}

/// The witness, the user told what was found, and a snapshot if one is due.
fn settle(mut store: Store) -> Result<std::mem::ManuallyDrop<Store>, Error> {
    witness(&mut store);
    warn(&mut store);
    // A snapshot is only a cache: a store that cannot take one (read-only, full) works the same.
    let _ = store.snapshot_if_due();
    Ok(std::mem::ManuallyDrop::new(store))
}

/// Who acts on `store`: the database login in team mode (whatever the OS user is called),
/// else `$HOTFIX_USER` or the login name. Checks and signatures made before the store records
/// must name the same person it records.
pub fn acting(store: &Store) -> Result<String, Error> {
    match store.login() {
        Some(login) => Ok(login.to_string()),
        None => Ok(crate::paths::actor()?),
    }
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
pub fn forget_old_store(at: &Location) {
    let Some(identity) = at.identity() else {
        return;
    };
    if let Some(seq) = crate::witness::Witness::load().forget(&identity) {
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

pub fn init(out: &Out, at: &Location) -> Result<(), Error> {
    let actor = crate::paths::actor()?;
    // Team mode records the first event as the login that ran init, its first admin.
    let made = crate::store::init(at, &actor, now())?;
    for note in &made.notes {
        eprintln!("hotfix: {}", crate::sanitize::line(note));
    }
    forget_old_store(at);
    if out.json {
        let entries: Vec<Entry> = made.recorded.iter().map(Entry::from).collect();
        return out.json(&entries);
    }
    out.line(&format!(
        "Initialised a hotfix store at {at}; {} is its admin.",
        made.admin
    ));
    out.line("Next: grant roles, e.g. `hotfix user grant dana dev-lead`, then report an incident.");
    Ok(())
}

/// `hotfix store migrate`: a database store's schema brought to this hotfix's version.
pub fn migrate(out: &Out, at: &Location) -> Result<(), Error> {
    let (from, to) = crate::store::migrate(at)?;
    if out.json {
        return out.json(&serde_json::json!({"from": from, "to": to}));
    }
    out.line(&if from == to {
        format!("{at} is at schema version {to} already: nothing to do")
    } else {
        format!("migrated {at} from schema version {from} to {to}")
    });
    Ok(())
}

/// `hotfix store copy`: a directory store's verified history into a new database store,
/// verified again there.
pub fn copy(out: &Out, from: &Location, to: &Location) -> Result<(), Error> {
    let copied = crate::store::copy_into_database(from, to)?;
    if out.json {
        return out
            .json(&serde_json::json!({"events": copied.events, "last_hash": copied.last_hash}));
    }
    out.line(&format!(
        "copied {} events into {to}; both verify, last hash {}",
        copied.events, copied.last_hash
    ));
    Ok(())
}

pub fn execute(out: &Out, at: &Location, command: Command) -> Result<(), Error> {
    execute_with(out, at, |_| Ok(command))
}

/// Records the command `build` makes from the open store (what a command needs of the
/// outside world besides the store, such as git, is read in `build`, before anything is
/// recorded).
pub fn execute_with(
    out: &Out,
    at: &Location,
    build: impl FnOnce(&crate::state::Model) -> Result<Command, Error>,
) -> Result<(), Error> {
    let mut store = open(at)?;
    let actor = acting(&store)?;
    let mut command = build(&store.model)?;
    crate::sign::sign_command(&store.model, &actor, crate::clock::now(), &mut command)
        .map_err(Error::Refused)?;
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
pub fn demo(out: &Out, dir: &Path, incidents: Option<u64>) -> Result<(), Error> {
    let actor = crate::paths::actor()?;
    let summary = match incidents {
        Some(n) => crate::demo::generate(dir, &actor, crate::clock::now(), n)?,
        None => crate::demo::write(dir, &actor, crate::clock::now())?,
    };
    forget_old_store(&Location::Directory(dir.to_path_buf()));
    if out.json {
        return out.json(&json!({"store": dir, "events": summary}));
    }
    out.line(&format!(
        "Wrote a demo store with {summary} events to {}",
        dir.display()
    ));
    out.line(&format!(
        "You are {actor}: admin, sre-avp and prod-owner there. Explore it with:"
    ));
    out.line(&format!(
        "  hotfix --store {} release show HF-1",
        dir.display()
    ));
    out.line(&format!(
        "  hotfix --store {}            (the cockpit)",
        dir.display()
    ));
    Ok(())
}
