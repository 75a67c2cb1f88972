//! The verbs about a release's code: binding it from git (`release new|edit --commit`), the
//! carry-forward check at `release close`, `release diff`, and `gate check`, which CI asks
//! before it deploys.

use super::Out;
use super::args::CodeArgs;
use super::write::open;
use crate::error::Error;
use crate::git::{self, Carried, GitError};
use crate::state::code::Code;
use crate::state::release::Phase;
use crate::state::{Model, Release, ReleaseId};
use crate::store::Location;
use serde_json::json;
use std::path::{Path, PathBuf};

impl From<GitError> for Error {
    fn from(e: GitError) -> Error {
        match e {
            GitError::Missing(_) => Error::Failed(e.to_string()),
            // A revision that names nothing, a path that is no repository: what was typed.
            GitError::Refused(_) => Error::Usage(e.to_string()),
        }
    }
}

fn repo_of(repo: Option<&Path>) -> PathBuf {
    repo.map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The code `args` names, read from git: the full commit, its base, files and diff. For a
/// regular release, also which deployed hotfixes' fixes its history holds.
pub fn bind(model: &Model, args: &CodeArgs, regular: bool) -> Result<Option<Box<Code>>, Error> {
    let Some(rev) = &args.commit else {
        return Ok(None);
    };
    let repo = repo_of(args.repo.as_deref());
    let commit = git::resolve(&repo, rev)?;
    let base = git::base(
        &repo,
        &commit,
        args.base.as_deref(),
        model.policy.mainline.as_deref(),
    )?;
    let mut code = git::code(&repo, &base, &commit)?;
    if regular {
        for hf in fixes_to_carry(model) {
            let Some(fix) = &hf.scope.code else {
                continue;
            };
            if let Carried::Done(_) = git::carried(&repo, &commit, &fix.base, &fix.commit)? {
                code.includes.push(hf.id);
            }
        }
    }
    Ok(Some(Box::new(code)))
}

/// The hotfixes whose fixes a regular release must carry: those with code that reached
/// production and were not rolled back (see `Model::gate`).
fn fixes_to_carry(model: &Model) -> impl Iterator<Item = &Release> {
    model.releases.values().filter(|r| {
        r.id.is_hotfix()
            && r.scope.code.is_some()
            && matches!(r.phase, Phase::Deployed | Phase::Verified | Phase::Closed)
    })
}

/// For `release close`: the mainline commit the hotfix's fix is on (see
/// [`git::carry_forward`]), or why it cannot close yet.
pub fn carried_to(
    model: &Model,
    id: ReleaseId,
    repo: Option<&Path>,
) -> Result<Option<String>, Error> {
    match git::carry_forward(model, id, &repo_of(repo)) {
        Ok(found) => Ok(found),
        Err(git::CarryError::Git(e)) => Err(e.into()),
        Err(git::CarryError::Missing(why)) => Err(Error::Refused(why)),
    }
}

/// `hotfix release diff ID`: the files with lines added and removed, then the diff, coloured
/// as `git diff` colours it on a terminal.
pub fn diff(out: &Out, at: &Location, id: ReleaseId) -> Result<(), Error> {
    let mut store = open(at)?;
    let part = store.model_for(crate::state::archive::Record::Release(id))?;
    let m = part.as_ref().unwrap_or(&store.model);
    let r = m.release(id)?;
    let Some(code) = &r.scope.code else {
        return Err(Error::Refused(format!(
            "{id} names no commit: bind one with `hotfix release edit {id} --commit REV`"
        )));
    };
    if out.json {
        return out.json(code);
    }
    out.line(&out.bold(&format!(
        "{id} revision {}: {} against {}",
        r.revision,
        code.commit,
        code.base.get(..12).unwrap_or(&code.base)
    )));
    for f in &code.files {
        let count = |n: Option<u32>| n.map_or_else(|| "-".to_string(), |n| n.to_string());
        out.line(&format!(
            " {} {}  {}",
            out.good(&format!("+{:<5}", count(f.added))),
            out.bad(&format!("-{:<5}", count(f.removed))),
            crate::sanitize::line(&f.path)
        ));
    }
    out.line("");
    for l in code.diff.lines() {
        let shown = crate::sanitize::line(l);
        out.line(&match l.as_bytes().first() {
            Some(b'+') if !l.starts_with("+++") => out.good(&shown),
            Some(b'-') if !l.starts_with("---") => out.bad(&shown),
            Some(b'@') => out.dim(&shown),
            _ => shown.into_owned(),
        });
    }
    if code.truncated {
        out.line(&format!(
            "(the diff was cut at {} bytes when it was bound: see the commit itself for the rest)",
            crate::state::code::DIFF_LIMIT
        ));
    }
    Ok(())
}

/// One release that names what CI asks about, judged.
struct Row {
    release: ReleaseId,
    version: String,
    status: String,
    cleared: bool,
    blockers: Vec<String>,
}

/// Whether `r` may ship what it names: its gate is open, or it is already on its way or done.
fn judge(m: &Model, r: &Release) -> Row {
    let (cleared, blockers) = match r.phase {
        Phase::Pending => match m.gate_at(r.id, crate::clock::now()) {
            Ok(gate) => (gate.ready, gate.blockers),
            Err(why) => (false, vec![why.message]),
        },
        Phase::Deploying | Phase::Deployed | Phase::Verified | Phase::Closed => (true, Vec::new()),
        Phase::RolledBack | Phase::Cancelled => (
            false,
            vec![format!(
                "{} was {}: what it names is not to be deployed",
                r.id,
                m.release_status(r)
            )],
        ),
    };
    Row {
        release: r.id,
        version: r.scope.version.clone(),
        status: m.release_status(r).to_string(),
        cleared,
        blockers,
    }
}

/// Whether `r` is about `service`: a hotfix fixing an incident on it (a regular release ships
/// every service).
fn serves(m: &Model, r: &Release, service: Option<&str>) -> bool {
    service.is_none_or(|s| {
        !r.id.is_hotfix()
            || m.incidents_of(r)
                .any(|i| i.services.iter().any(|x| x.as_str() == s))
    })
}

/// What CI asks for.
pub enum Ask {
    Commit(String),
    Artifact(String),
}

/// `hotfix gate check`: exit 0 only when an open or recent release whose scope names exactly
/// this commit (or artifact) may deploy it: its gate is open, or it is already deploying,
/// deployed, verified or closed. Every other answer is 3 with each release's blockers. It
/// only reads.
pub fn check(out: &Out, at: &Location, ask: &Ask, service: Option<&str>) -> Result<(), Error> {
    let (what, wanted) = match ask {
        Ask::Commit(c) => {
            let c = c.trim().to_ascii_lowercase();
            if !(7..=40).contains(&c.len()) || !c.chars().all(|ch| ch.is_ascii_hexdigit()) {
                return Err(Error::Usage(format!(
                    "--commit \"{}\" is not a commit id: 7 to 40 hex digits, such as $GITHUB_SHA",
                    crate::sanitize::line(&c)
                )));
            }
            ("commit", c)
        }
        Ask::Artifact(a) => (
            "artifact",
            crate::state::lifecycle::digest(a).map_err(|r| Error::Usage(r.message))?,
        ),
    };
    let store = open(at)?;
    let names = |r: &Release| match ask {
        Ask::Commit(_) => r
            .scope
            .code
            .as_ref()
            .is_some_and(|c| c.commit.starts_with(&wanted)),
        Ask::Artifact(_) => r.scope.artifact.as_deref() == Some(wanted.as_str()),
    };
    // Each release that names it, judged in the model that holds it.
    let rows_in = |m: &Model| -> Vec<Row> {
        m.releases
            .values()
            .filter(|r| names(r) && serves(m, r, service))
            .map(|r| judge(m, r))
            .collect()
    };
    // Open and recently finished releases: what CI deploys, all in the active part, so the
    // answer never waits for the archive (a release closed weeks ago gates nothing now).
    let rows = rows_in(&store.model);
    let cleared = rows.iter().find(|r| r.cleared).map(|r| r.release);
    let rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            json!({
                "release": r.release,
                "version": r.version,
                "status": r.status,
                "cleared": r.cleared,
                "blockers": r.blockers,
            })
        })
        .collect();
    let candidates = rows.len();
    if out.json {
        out.json(&json!({
            what: wanted,
            "cleared": cleared.is_some(),
            "release": cleared,
            "releases": rows,
        }))?;
    }
    if let Some(id) = cleared {
        if !out.json {
            out.line(&format!(
                "{} {what} {wanted}: {id} may deploy it",
                out.good("cleared")
            ));
        }
        return Ok(());
    }
    let mut why = Vec::new();
    if candidates == 0 {
        why.push(format!(
            "no open or recent release names {what} {wanted}{}: bind it with `hotfix release edit HF-n --{what} ...` and have it approved",
            service.map(|s| format!(" for service {s}")).unwrap_or_default()
        ));
    }
    for row in &rows {
        for b in row["blockers"].as_array().into_iter().flatten() {
            why.push(format!(
                "{}: {}",
                row["release"].as_str().unwrap_or("?"),
                b.as_str().unwrap_or("")
            ));
        }
    }
    Err(Error::Refused(format!(
        "{what} {wanted} is not cleared to deploy: {}",
        why.join("; ")
    )))
}
