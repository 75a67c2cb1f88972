//! Shell completion through clap_complete's dynamic engine: the shell calls `HOTFIX_COMPLETE=<shell>
//! hotfix -- <words>` on each Tab, so candidates come from the word lists and from the store as
//! it is now (ids, roles, users, a release's tests), not from a script generated once.
//!
//! Completion never fails loudly: a missing or damaged store simply offers no ids.

use crate::sanitize;
use crate::state::{Model, ReleaseId};
use crate::store::Store;
use crate::store::{For, Location};
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use std::ffi::OsString;
use std::fmt::Display;
use std::path::PathBuf;

/// The environment variable that asks for completions: clap_complete's protocol under a name of
/// our own, so a stray `COMPLETE` in the environment changes nothing.
pub const VAR: &str = "HOTFIX_COMPLETE";

/// Prints the script that registers dynamic completion for `shell`.
pub fn registration(shell: clap_complete::Shell) -> std::io::Result<()> {
    let name = shell.to_string();
    let shells = clap_complete::env::Shells::builtins();
    let completer = shells
        .completer(&name)
        .ok_or_else(|| std::io::Error::other(format!("no completion support for {name}")))?;
    let mut out = std::io::stdout().lock();
    completer.write_registration(VAR, "hotfix", "hotfix", &program(), &mut out)
}

/// How the shell should call this program back: as it was called, made absolute when it was a
/// relative path (so `./target/release/hotfix completions bash` keeps working from anywhere).
fn program() -> String {
    let called = std::env::args_os()
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("hotfix"));
    let path = if called.components().count() > 1 && called.is_relative() {
        std::env::current_dir()
            .map(|d| d.join(&called))
            .unwrap_or(called)
    } else {
        called
    };
    path.to_string_lossy().into_owned()
}

/// Candidates from a fixed word list (severity, status, priority...).
pub fn words<T: Display + Sync>(all: &'static [T]) -> ArgValueCandidates {
    ArgValueCandidates::new(move || {
        all.iter()
            .map(|w| CompletionCandidate::new(w.to_string()))
            .collect()
    })
}

fn candidate(value: impl Into<OsString>, help: &str) -> CompletionCandidate {
    let help = sanitize::line(help).chars().take(60).collect::<String>();
    CompletionCandidate::new(value).help(Some(help.into()))
}

/// Release ids, open ones first, each with its status and summary.
pub fn releases() -> ArgValueCandidates {
    ArgValueCandidates::new(|| from_store(release_candidates))
}

/// Incident ids, unresolved ones first, each with its severity and title.
pub fn incidents() -> ArgValueCandidates {
    ArgValueCandidates::new(|| from_store(incident_candidates))
}

/// Release and incident ids, for verbs that take either.
pub fn records() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        from_store(|m| {
            let mut all = release_candidates(m);
            all.extend(incident_candidates(m));
            all
        })
    })
}

/// The roles the policy defines.
pub fn roles() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        from_store(|m| {
            m.policy
                .roles
                .iter()
                .map(|r| CompletionCandidate::new(r.as_str()))
                .collect()
        })
    })
}

/// The users who hold or held a role.
pub fn users() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        from_store(|m| {
            m.users
                .iter()
                .map(|(user, roles)| {
                    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
                    candidate(user.as_str(), &roles.join(", "))
                })
                .collect()
        })
    })
}

/// The tests of the release named earlier on the command line (`test set HF-1 <Tab>`).
pub fn tests() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        let Some(id) = words_typed().iter().find_map(|w| w.to_str()?.parse().ok()) else {
            return Vec::new();
        };
        from_store(|m| {
            m.releases
                .get(&id)
                .map(|r| {
                    r.tests
                        .iter()
                        .map(|t| candidate(t.name.as_str(), t.status.as_str()))
                        .collect()
                })
                .unwrap_or_default()
        })
    })
}

fn release_candidates(m: &Model) -> Vec<CompletionCandidate> {
    let mut all: Vec<(bool, ReleaseId, CompletionCandidate)> = m
        .releases
        .values()
        .map(|r| {
            let status = m.release_status(r);
            let help = format!("{} · {}", status, r.scope.summary);
            (
                r.phase.is_finished(),
                r.id,
                candidate(r.id.to_string(), &help),
            )
        })
        .collect();
    all.sort_by_key(|(done, id, _)| (*done, *id));
    all.into_iter().map(|(_, _, c)| c).collect()
}

fn incident_candidates(m: &Model) -> Vec<CompletionCandidate> {
    let mut all: Vec<_> = m.incidents.values().collect();
    all.sort_by_key(|i| (i.status == crate::state::IncidentStatus::Resolved, i.id));
    all.into_iter()
        .map(|i| {
            let help = format!("{} {} · {}", i.severity, i.status, i.title);
            candidate(i.id.to_string(), &help)
        })
        .collect()
}

/// The words on the command line being completed (after clap_complete's `--`).
fn words_typed() -> Vec<OsString> {
    let args: Vec<OsString> = std::env::args_os().collect();
    match args.iter().position(|a| a == "--") {
        Some(i) => args[i + 1..].to_vec(),
        None => Vec::new(),
    }
}

/// The store the completed command would use: its `--store`, else the usual default.
fn store_location() -> Option<Location> {
    let words = words_typed();
    let mut flag = None;
    for (i, w) in words.iter().enumerate() {
        let Some(s) = w.to_str() else { continue };
        if s == "--store" {
            flag = words.get(i + 1).map(PathBuf::from);
        } else if let Some(dir) = s.strip_prefix("--store=") {
            flag = Some(PathBuf::from(dir));
        }
    }
    crate::paths::store_location(flag.as_deref().map(Location::parse)).ok()
}

fn from_store(f: impl Fn(&Model) -> Vec<CompletionCandidate>) -> Vec<CompletionCandidate> {
    store_location()
        // The open and recent work (a checkpoint's active part): what is worth offering.
        .and_then(|at| {
            let checkpoints = crate::settings::checkpoint_dir();
            let now = crate::clock::now();
            Store::open(
                &at,
                For::Command {
                    checkpoints: checkpoints.as_deref(),
                    now,
                },
            )
            .ok()
        })
        .map(|store| f(&store.model))
        .unwrap_or_default()
}
