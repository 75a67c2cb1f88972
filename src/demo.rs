//! A realistic demo store, written through the real state module so it verifies: incidents of
//! every severity, a hotfix awaiting approval with tests in every state, a deployed one, a closed
//! one, and a regular release held back.

mod generate;
mod tour;

pub use generate::generate;
use tour::{hotfix, write_into};

use crate::error::Error;
use crate::state::Vote;
use crate::state::{
    Audience, Command, Decision, IncidentId, Priority, ReleaseId, Risk, ScopeEdit, ScopeInput,
    Severity, Stage, TestStatus,
};
use crate::store::{ExecError, Store, create_whole};
use chrono::{DateTime, Duration, Utc};
use std::path::Path;

/// Writes the demo into `dir`, which must not hold a store yet; `you` gets roles to act with.
/// Returns the number of events written.
pub fn write(dir: &Path, you: &str, now: DateTime<Utc>) -> Result<u64, Error> {
    whole(dir, |tmp| write_into(tmp, you, now))
}

/// Builds the demo in a temporary directory and moves it into `dir` whole (see
/// [`create_whole`]): a killed demo leaves no store rather than half of one, and an existing
/// store is never overwritten.
fn whole(dir: &Path, fill: impl FnOnce(&Path) -> Result<u64, Error>) -> Result<u64, Error> {
    let (events, cleaned) = create_whole(dir, fill)?;
    for c in cleaned {
        eprintln!("hotfix: {}", crate::sanitize::line(&c));
    }
    Ok(events)
}
