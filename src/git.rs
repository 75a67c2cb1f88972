//! What a release's code is, read from git: the commit a revision names, the base it is
//! compared with, its files and diff, and whether a fix reached a branch.
//!
//! Through the `git` command, not a library: it is on every machine that has the repository,
//! it reads every repository format and configuration the team's own git does, and `git
//! cherry`'s patch-id comparison (a cherry-pick with another id is still the same fix) is
//! exactly the carry-forward rule. Arguments go as a vector (never a shell), a revision is
//! always after `--end-of-options`, the environment cannot prompt, and output is bounded.

use crate::state::code::{Code, DIFF_LIMIT, FileChange};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

/// The most output one git command may give before it is cut (the diff has its own bound).
const OUTPUT_LIMIT: usize = 8 << 20;

#[derive(Debug)]
pub enum GitError {
    /// git could not be run at all (not installed).
    Missing(String),
    /// git ran and refused: its message, first line.
    Refused(String),
}

impl std::fmt::Display for GitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GitError::Missing(why) => write!(f, "git could not be run ({why}): install git"),
            GitError::Refused(why) => f.write_str(why),
        }
    }
}

/// Runs `git -C repo ARGS...` and returns its standard output, cut at `limit` bytes (and
/// whether it was cut). A failure carries git's own first line of complaint.
fn git(repo: &Path, args: &[&str], limit: usize) -> Result<(String, bool), GitError> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| GitError::Missing(e.kind().to_string()))?;
    let mut out = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        stdout
            .take(limit as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| GitError::Refused(format!("reading git's output failed: {e}")))?;
    }
    let cut = out.len() > limit;
    out.truncate(limit);
    // What is left unread is dropped: git stops on the closed pipe.
    drop(child.stdout.take());
    let mut err = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = (&mut stderr).take(64 << 10).read_to_string(&mut err);
    }
    let status = child
        .wait()
        .map_err(|e| GitError::Refused(format!("git did not finish: {e}")))?;
    if !status.success() && !cut {
        let first = err
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("git failed")
            .trim();
        return Err(GitError::Refused(format!(
            "git in {}: {}",
            crate::sanitize::line(&repo.display().to_string()),
            crate::sanitize::line(first)
        )));
    }
    Ok((String::from_utf8_lossy(&out).into_owned(), cut))
}

/// The full commit id `rev` names (a branch, a tag, an abbreviated id). An ambiguous or
/// unknown one is refused with git's words.
pub fn resolve(repo: &Path, rev: &str) -> Result<String, GitError> {
    let rev = rev.trim();
    if rev.is_empty() {
        return Err(GitError::Refused(
            "the revision is empty: name a commit".into(),
        ));
    }
    let spec = format!("{rev}^{{commit}}");
    let (out, _) = git(
        repo,
        &["rev-parse", "--verify", "--quiet", "--end-of-options", &spec],
        4096,
    )
    .map_err(|e| match e {
        GitError::Refused(_) => GitError::Refused(format!(
            "\"{}\" is not a commit in {} (unknown, or an abbreviation that names more than one: give more digits)",
            crate::sanitize::line(rev),
            crate::sanitize::line(&repo.display().to_string())
        )),
        other => other,
    })?;
    let id = out.trim().to_string();
    if id.len() != 40 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(GitError::Refused(format!(
            "git named \"{}\" for {}, not a commit id",
            crate::sanitize::line(&id),
            crate::sanitize::line(rev)
        )));
    }
    Ok(id)
}

/// The base `commit` is compared with: `base` if given, else its merge base with `mainline`,
/// else its parent.
pub fn base(
    repo: &Path,
    commit: &str,
    base: Option<&str>,
    mainline: Option<&str>,
) -> Result<String, GitError> {
    if let Some(b) = base {
        return resolve(repo, b);
    }
    if let Some(main) = mainline {
        let main = resolve(repo, main)?;
        let (out, _) = git(
            repo,
            &["merge-base", "--end-of-options", &main, commit],
            4096,
        )?;
        if !out.trim().is_empty() && out.trim() != commit {
            return Ok(out.trim().to_string());
        }
    }
    resolve(repo, &format!("{commit}^"))
}

/// The code base..commit: its files with lines added and removed, and the diff, cut at
/// [`DIFF_LIMIT`] (the files are always whole).
pub fn code(repo: &Path, base: &str, commit: &str) -> Result<Code, GitError> {
    let range = ["--no-color", "--no-ext-diff", "--no-renames"];
    let mut args = vec!["diff", "--numstat"];
    args.extend(range);
    args.extend(["--end-of-options", base, commit]);
    let (numstat, _) = git(repo, &args, OUTPUT_LIMIT)?;
    let files = numstat
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            let (a, r, path) = (parts.next()?, parts.next()?, parts.next()?);
            Some(FileChange {
                path: path.to_string(),
                added: a.parse().ok(),
                removed: r.parse().ok(),
            })
        })
        .collect();
    let mut args = vec!["diff"];
    args.extend(range);
    args.extend(["--end-of-options", base, commit]);
    let (mut diff, mut truncated) = git(repo, &args, DIFF_LIMIT)?;
    if truncated {
        // Cut at the last whole line.
        if let Some(end) = diff.rfind('\n') {
            diff.truncate(end + 1);
        }
    }
    // A lossy decode may have grown it past the bound.
    while diff.len() > DIFF_LIMIT {
        let end = diff[..DIFF_LIMIT].rfind('\n').unwrap_or(0);
        diff.truncate(end);
        truncated = true;
    }
    Ok(Code {
        commit: commit.to_string(),
        base: base.to_string(),
        files,
        diff,
        truncated,
        includes: Vec::new(),
    })
}

/// Where a fix stands against a branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Carried {
    /// Every commit of base..commit is on the branch (as itself or as the same patch): the
    /// branch's head, which holds it.
    Done(String),
    /// These commits of base..commit are not (id and subject), to cherry-pick.
    Missing(Vec<(String, String)>),
}

/// Whether the fix base..commit is on `branch`: `commit` is its ancestor, or every commit of
/// base..commit has a patch-equivalent commit there (`git cherry`).
pub fn carried(repo: &Path, branch: &str, base: &str, commit: &str) -> Result<Carried, GitError> {
    let head = resolve(repo, branch)?;
    let ancestor = git(
        repo,
        &[
            "merge-base",
            "--is-ancestor",
            "--end-of-options",
            commit,
            &head,
        ],
        0,
    );
    if ancestor.is_ok() {
        return Ok(Carried::Done(head));
    }
    let (out, _) = git(repo, &["cherry", "-v", &head, commit, base], OUTPUT_LIMIT)?;
    let missing: Vec<(String, String)> = out
        .lines()
        .filter_map(|l| l.strip_prefix("+ "))
        .map(|l| {
            let (id, subject) = l.split_once(' ').unwrap_or((l, ""));
            (id.to_string(), subject.to_string())
        })
        .collect();
    Ok(if missing.is_empty() {
        Carried::Done(head)
    } else {
        Carried::Missing(missing)
    })
}

/// Why a hotfix cannot close yet: git could not tell, or its fix is not on the mainline.
#[derive(Debug)]
pub enum CarryError {
    Git(GitError),
    /// What to cherry-pick, in words.
    Missing(String),
}

/// For closing hotfix `id`: the mainline commit its fix is on, checked in `repo`; `None` when
/// there is nothing to check (no code, no mainline in the policy, a regular release).
pub fn carry_forward(
    model: &crate::state::Model,
    id: crate::state::ReleaseId,
    repo: &Path,
) -> Result<Option<String>, CarryError> {
    let Ok(release) = model.release(id) else {
        return Ok(None);
    };
    let (Some(code), Some(mainline)) = (&release.scope.code, &model.policy.mainline) else {
        return Ok(None);
    };
    if !id.is_hotfix() {
        return Ok(None);
    }
    match carried(repo, mainline, &code.base, &code.commit).map_err(CarryError::Git)? {
        Carried::Done(head) => Ok(Some(head)),
        Carried::Missing(commits) => {
            let list: Vec<String> = commits
                .iter()
                .map(|(c, subject)| {
                    format!(
                        "{} \"{}\"",
                        c.get(..10).unwrap_or(c),
                        crate::sanitize::line(subject)
                    )
                })
                .collect();
            Err(CarryError::Missing(format!(
                "{id}'s fix is not on {mainline} yet, so the next regular release would ship the bug again: cherry-pick {} onto {mainline}, then close {id} again",
                list.join(", ")
            )))
        }
    }
}
