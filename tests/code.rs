//! A release's code, against a real git repository built in each test: binding and staleness,
//! the diff and its bound, `gate check` from CI, `deployed` checked against what was
//! approved, the carry-forward at close, and a regular release that must carry the fixes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{change_policy, hotfix, hotfix_new, init_with, log_of, ok, qualified_incident};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A throwaway repository: `main` with A (payments) and C (docs), a `hotfix` branch off A with
/// B (the fix). Returns the directory and the ids of A, B, C.
struct Repo {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        std::fs::create_dir(&path).unwrap();
        let repo = Repo { _dir: dir, path };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.email", "t@example.org"]);
        repo.git(&["config", "user.name", "T"]);
        repo.commit(
            "pay.rs",
            "fn pay(t: Option<&str>) {\n    t.unwrap();\n}\n",
            "A: payments",
        );
        repo.git(&["checkout", "-q", "-b", "hotfix"]);
        repo.commit(
            "pay.rs",
            "fn pay(t: Option<&str>) {\n    let Some(t) = t else { return };\n}\n",
            "B: handle a missing token",
        );
        repo.git(&["checkout", "-q", "main"]);
        repo.commit("README", "docs\n", "C: docs");
        repo
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.path)
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn commit(&self, file: &str, text: &str, message: &str) -> String {
        std::fs::write(self.path.join(file), text).unwrap();
        self.git(&["add", file]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn id(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev])
    }
}

/// A store whose policy names `main` as the mainline, with the usual people, and a qualified
/// P2 incident INC-1.
fn store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path();
    init_with(
        s,
        &[
            ("avery", "sre-avp"),
            ("dana", "dev-lead"),
            ("sam", "dev-lead"),
            ("quinn", "qa"),
        ],
    );
    change_policy(s, |policy| policy["mainline"] = "main".into());
    qualified_incident(s, "quinn", "P2", &["--service", "checkout"]);
    dir
}

fn code(store: &Path, user: &str, args: &[&str], code: i32) -> String {
    let before = std::fs::read(log_of(store)).unwrap();
    let out = hotfix(store, user).args(args).assert().code(code);
    assert_eq!(
        std::fs::read(log_of(store)).unwrap(),
        before,
        "{args:?} changed the store"
    );
    String::from_utf8_lossy(&out.get_output().stderr).into_owned()
}

const DIGEST: &str = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// HF-1 for INC-1, bound to `rev` in `repo`.
fn hotfix_for(s: &Path, repo: &Repo, rev: &str) {
    let repo_dir = repo.path.to_str().unwrap();
    ok(
        s,
        "sam",
        &hotfix_new(&["--commit", rev, "--repo", repo_dir, "--artifact", DIGEST]),
    );
}

fn approve_and_test(s: &Path) {
    ok(s, "avery", &["approve", "HF-1"]);
    ok(s, "dana", &["approve", "HF-1"]);
    ok(
        s,
        "quinn",
        &[
            "test",
            "add",
            "HF-1",
            "--name",
            "smoke",
            "--priority",
            "critical",
        ],
    );
    ok(
        s,
        "quinn",
        &["test", "set", "HF-1", "smoke", "--status", "passed"],
    );
}

#[test]
fn a_release_binds_the_full_commit_its_base_and_diff_and_a_new_commit_makes_approvals_stale() {
    let repo = Repo::new();
    let dir = store();
    let s = dir.path();
    let b = repo.id("hotfix");
    // An abbreviation resolves to the full id; the base is the merge base with main (A).
    hotfix_for(s, &repo, &b[..8]);
    let shown: Value =
        serde_json::from_str(&ok(s, "sam", &["release", "diff", "HF-1", "--json"])).unwrap();
    assert_eq!(shown["commit"], b.as_str());
    assert_eq!(shown["base"], repo.id("main~1").as_str());
    assert_eq!(shown["files"][0]["path"], "pay.rs");
    assert_eq!(
        (
            shown["files"][0]["added"].as_u64(),
            shown["files"][0]["removed"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let diff = ok(s, "sam", &["release", "diff", "HF-1"]);
    assert!(
        diff.contains("-    t.unwrap();") && diff.contains("+    let Some(t) = t else { return };"),
        "{diff}"
    );
    // Unknown revisions and repositories are refused as what was typed (exit 2).
    let repo_dir = repo.path.to_str().unwrap();
    for (rev, at) in [("no-such-branch", repo_dir), ("hotfix", "/nonexistent")] {
        let err = code(
            s,
            "sam",
            &["release", "edit", "HF-1", "--commit", rev, "--repo", at],
            2,
        );
        assert!(
            err.contains("not a commit") || err.contains("git in"),
            "{err}"
        );
    }
    // An abbreviation that names more than one object is refused, never guessed.
    let mut seen = std::collections::HashMap::new();
    let prefix = (0..5000)
        .find_map(|i| {
            let blob = repo.path.join("blob");
            std::fs::write(&blob, format!("blob {i}\n")).unwrap();
            let id = repo.git(&["hash-object", "-w", "blob"]);
            seen.insert(id[..4].to_string(), id.clone())
                .map(|_| id[..4].to_string())
        })
        .expect("two objects share a 4-digit prefix");
    let err = code(
        s,
        "sam",
        &[
            "release", "edit", "HF-1", "--commit", &prefix, "--repo", repo_dir,
        ],
        2,
    );
    assert!(err.contains("names more than one"), "{err}");
    // Approved, then bound to another commit: the approval is stale.
    ok(s, "avery", &["approve", "HF-1"]);
    let c = repo.id("main");
    ok(
        s,
        "sam",
        &[
            "release", "edit", "HF-1", "--commit", &c, "--repo", repo_dir,
        ],
    );
    let gate: Value =
        serde_json::from_str(&ok(s, "sam", &["release", "show", "HF-1", "--json"])).unwrap();
    let blockers = gate["gate"]["blockers"].to_string();
    assert!(
        blockers.contains("the sre-avp approval by avery is stale"),
        "{blockers}"
    );
}

#[test]
fn a_diff_over_the_bound_is_cut_and_says_so() {
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "hotfix"]);
    let big: String = (0..40_000)
        .map(|i| format!("line {i} of a generated table\n"))
        .collect();
    repo.commit("table.txt", &big, "D: a generated table");
    let dir = store();
    let s = dir.path();
    hotfix_for(s, &repo, "hotfix");
    let shown: Value =
        serde_json::from_str(&ok(s, "sam", &["release", "diff", "HF-1", "--json"])).unwrap();
    assert_eq!(shown["truncated"], true);
    assert!(shown["diff"].as_str().unwrap().len() <= hotfix::state::code::DIFF_LIMIT);
    assert_eq!(
        shown["files"].as_array().unwrap().len(),
        2,
        "the files are whole"
    );
    assert!(ok(s, "sam", &["release", "diff", "HF-1"]).contains("the diff was cut at"));
}

#[test]
fn ci_asks_the_gate_by_commit_or_artifact() {
    let repo = Repo::new();
    let dir = store();
    let s = dir.path();
    let b = repo.id("hotfix");
    let check = |args: &[&str]| {
        let mut all = vec!["gate", "check"];
        all.extend(args);
        hotfix(s, "ci").args(&all).assert()
    };
    // Nothing names it yet.
    let err = check(&["--commit", &b]).code(3);
    assert!(
        String::from_utf8_lossy(&err.get_output().stderr)
            .contains("no open or recent release names commit")
    );
    hotfix_for(s, &repo, "hotfix");
    // Named, but its gate is shut: every blocker, as JSON too.
    let out = check(&["--commit", &b, "--json"]).code(3);
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["cleared"], false);
    let blockers = v["releases"][0]["blockers"].to_string();
    assert!(
        blockers.contains("waiting for approval from sre-avp")
            && blockers.contains("no critical test"),
        "{blockers}"
    );
    approve_and_test(s);
    check(&["--commit", &b]).success();
    check(&["--commit", &b[..12]]).success();
    check(&["--artifact", DIGEST]).success();
    check(&["--commit", &b, "--service", "checkout"]).success();
    check(&["--commit", &b, "--service", "search"]).code(3);
    // Another commit, a malformed one, a digest that is not one.
    check(&["--commit", &repo.id("main")]).code(3);
    check(&["--commit", "xyz"]).code(2);
    check(&["--artifact", "sha256:abc"]).code(2);
    check(&[]).code(2);
    // Deployed, then rolled back: what it names is not to be deployed again.
    ok(s, "sam", &["release", "deploy", "HF-1"]);
    check(&["--commit", &b]).success();
    ok(
        s,
        "sam",
        &["release", "rollback", "HF-1", "--reason", "errors"],
    );
    let err = check(&["--commit", &b]).code(3);
    assert!(String::from_utf8_lossy(&err.get_output().stderr).contains("HF-1 was rolled-back"));
}

#[test]
fn deployed_is_refused_for_anything_but_what_was_approved() {
    let repo = Repo::new();
    let dir = store();
    let s = dir.path();
    hotfix_for(s, &repo, "hotfix");
    approve_and_test(s);
    ok(s, "sam", &["release", "deploy", "HF-1"]);
    let other = repo.id("main");
    let err = code(
        s,
        "sam",
        &["release", "deployed", "HF-1", "--commit", &other],
        3,
    );
    assert!(err.contains("HF-1 was approved for commit"), "{err}");
    let wrong = format!("sha256:{}", "0".repeat(64));
    let err = code(
        s,
        "sam",
        &["release", "deployed", "HF-1", "--artifact", &wrong],
        3,
    );
    assert!(err.contains("was approved for artifact"), "{err}");
    let b = repo.id("hotfix");
    let out = ok(
        s,
        "sam",
        &[
            "release",
            "deployed",
            "HF-1",
            "--commit",
            &b[..9],
            "--artifact",
            DIGEST,
        ],
    );
    assert!(out.contains("as approved"), "{out}");
}

/// HF-1 bound to the hotfix branch, approved, deployed and verified.
fn verified(s: &Path, repo: &Repo) {
    hotfix_for(s, repo, "hotfix");
    approve_and_test(s);
    for verb in ["deploy", "deployed", "verify"] {
        ok(s, "sam", &["release", verb, "HF-1"]);
    }
}

#[test]
fn a_hotfix_closes_only_once_its_fix_is_on_the_mainline_by_ancestry_or_by_patch() {
    let repo_dir;
    {
        // By patch: a cherry-pick has another id and the same patch.
        let repo = Repo::new();
        repo_dir = repo.path.to_str().unwrap().to_string();
        let dir = store();
        let s = dir.path();
        verified(s, &repo);
        let close = ["release", "close", "HF-1", "--repo", &repo_dir];
        let err = code(s, "sam", &close, 3);
        assert!(
            err.contains("HF-1's fix is not on main yet")
                && err.contains("B: handle a missing token"),
            "{err}"
        );
        repo.git(&["cherry-pick", "hotfix"]);
        assert_ne!(repo.id("main"), repo.id("hotfix"));
        let out = ok(s, "sam", &close);
        assert!(
            out.contains(&format!(
                "its fix is on the mainline at {}",
                &repo.id("main")[..12]
            )),
            "{out}"
        );
    }
    // By ancestry: the hotfix branch merged.
    let repo = Repo::new();
    let dir = store();
    let s = dir.path();
    verified(s, &repo);
    repo.git(&["merge", "-q", "--no-edit", "hotfix"]);
    ok(
        s,
        "sam",
        &[
            "release",
            "close",
            "HF-1",
            "--repo",
            repo.path.to_str().unwrap(),
        ],
    );
}

#[test]
fn a_regular_release_must_carry_every_deployed_fix() {
    let repo = Repo::new();
    let dir = store();
    let s = dir.path();
    verified(s, &repo);
    let repo_dir = repo.path.to_str().unwrap();
    // Bound to main before the fix reached it: blocked, naming the hotfix.
    ok(
        s,
        "dana",
        &[
            "release",
            "new",
            "--regular",
            "--version",
            "4.13.0",
            "--summary",
            "December",
            "--commit",
            "main",
            "--repo",
            repo_dir,
        ],
    );
    let err = code(s, "dana", &["release", "gate", "REL-1"], 3);
    let shown = ok(s, "dana", &["release", "show", "REL-1"]);
    assert!(
        shown.contains("HF-1's fix") && shown.contains("is not in REL-1's commit"),
        "{shown} {err}"
    );
    // Merged and rebound: the gate opens; the edit survives a fold from the first line.
    repo.git(&["merge", "-q", "--no-edit", "hotfix"]);
    ok(
        s,
        "dana",
        &[
            "release", "edit", "REL-1", "--commit", "main", "--repo", repo_dir,
        ],
    );
    ok(s, "dana", &["release", "gate", "REL-1"]);
    let verify = ok(s, "dana", &["verify"]);
    assert!(
        !verify.contains("INERT") && !verify.contains("refused"),
        "{verify}"
    );
}
