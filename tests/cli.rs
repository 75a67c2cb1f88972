//! The binary, run as people run it: the whole flow, each refusal's exit code and message, JSON shapes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{hotfix, log_of, ok};
use serde_json::Value;
use std::path::Path;

fn json(store: &Path, user: &str, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&ok(store, user, &all)).unwrap()
}

/// Runs a command that must be refused (exit 3), checks the message and that the store is untouched.
fn refused(store: &Path, user: &str, args: &[&str], expect: &str) {
    let before = std::fs::read(log_of(store)).unwrap();
    let out = hotfix(store, user).args(args).assert().code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains(expect),
        "{args:?}: expected {expect:?} in {stderr:?}"
    );
    assert!(!stderr.contains('\u{1b}'), "no escape codes off a terminal");
    assert_eq!(
        std::fs::read(log_of(store)).unwrap(),
        before,
        "{args:?} changed the store"
    );
}

#[test]
fn the_whole_flow_from_init_to_close() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path();
    assert!(ok(s, "admin", &["init"]).contains("admin is its admin"));
    refused(s, "admin", &["init"], "already holds a hotfix store");
    for (u, r) in [
        ("avery", "sre-avp"),
        ("dana", "dev-lead"),
        ("sam", "dev-lead"),
        ("priya", "prod-owner"),
        ("quinn", "qa"),
    ] {
        ok(s, "admin", &["user", "grant", u, r]);
    }
    refused(s, "dana", &["user", "grant", "eve", "qa"], "only an admin");

    let out = ok(
        s,
        "quinn",
        &[
            "incident",
            "new",
            "--title",
            "Checkout 500s",
            "--severity",
            "P1",
            "--service",
            "checkout",
            "--impact",
            "30% of orders",
        ],
    );
    assert!(out.contains("INC-1 reported (P1)"), "{out}");
    ok(
        s,
        "quinn",
        &["incident", "new", "--title", "Typo", "--severity", "P4"],
    );
    let list = json(s, "quinn", &["incident", "list"]);
    assert_eq!(list[0]["id"], "INC-1");
    assert_eq!(list[0]["severity"], "P1");
    assert_eq!(list[0]["status"], "open");
    assert_eq!(list[0]["services"][0], "checkout");
    assert!(list[0]["reported_at"].is_string());

    refused(
        s,
        "dana",
        &[
            "incident",
            "qualify",
            "INC-1",
            "--decision",
            "hotfix",
            "--risk",
            "low",
            "--impact",
            "all",
            "--rationale",
            "r",
        ],
        "only the sre-avp role",
    );
    refused(
        s,
        "avery",
        &[
            "incident",
            "qualify",
            "INC-2",
            "--decision",
            "hotfix",
            "--risk",
            "low",
            "--impact",
            "i",
            "--rationale",
            "r",
        ],
        "only P1/P2",
    );
    ok(
        s,
        "avery",
        &[
            "incident",
            "qualify",
            "INC-1",
            "--decision",
            "hotfix",
            "--risk",
            "medium",
            "--impact",
            "all card payments",
            "--rationale",
            "revenue loss",
        ],
    );

    let new_hf = [
        "release",
        "new",
        "--incident",
        "INC-1",
        "--version",
        "4.12.1",
        "--summary",
        "Fix token",
        "--changes",
        "null check",
        "--risks",
        "payments path",
        "--rollback",
        "redeploy 4.12.0",
    ];
    assert!(ok(s, "sam", &new_hf).contains("HF-1 created"));
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
            "November",
            "--planned",
            "2026-12-01T09:00:00Z",
        ],
    );
    let queue = json(s, "sam", &["release", "list"]);
    assert_eq!(queue[0]["id"], "HF-1");
    assert_eq!(queue[1]["held_back_by"], "HF-1");
    refused(
        s,
        "dana",
        &["release", "deploy", "REL-1"],
        "hotfix HF-1 is in flight",
    );

    let gate = hotfix(s, "sam")
        .args(["release", "gate", "HF-1", "--json"])
        .assert()
        .code(3);
    let gate: Value = serde_json::from_slice(&gate.get_output().stdout).unwrap();
    assert_eq!(gate["ready"], false);
    assert_eq!(gate["blockers"].as_array().unwrap().len(), 4, "{gate}");

    refused(
        s,
        "sam",
        &["approve", "HF-1", "--role", "dev-lead"],
        "cannot approve",
    );
    refused(
        s,
        "quinn",
        &["approve", "HF-1", "--role", "sre-avp"],
        "does not hold",
    );
    ok(s, "avery", &["approve", "HF-1", "--comment", "risk ok"]);
    ok(s, "dana", &["approve", "HF-1", "--role", "dev-lead"]);
    ok(
        s,
        "priya",
        &[
            "reject",
            "HF-1",
            "--role",
            "prod-owner",
            "--reason",
            "no status page note",
        ],
    );
    refused(s, "priya", &["approve", "HF-1"], "edit the release");
    ok(
        s,
        "sam",
        &[
            "release",
            "edit",
            "HF-1",
            "--rollback",
            "flag off, then redeploy 4.12.0",
        ],
    );
    let show = json(s, "sam", &["release", "show", "HF-1"]);
    assert_eq!(show["id"], "HF-1");
    assert_eq!(show["status"], "awaiting-approval");
    assert_eq!(show["version"], "4.12.1");
    let approvals = show["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 2);
    assert!(approvals.iter().all(|a| a["stale"] == true
        && a["role"].is_string()
        && a["approver"].is_string()
        && a["at"].is_string()));
    assert_eq!(approvals[0]["comment"], "risk ok");
    for (u, r) in [
        ("avery", "sre-avp"),
        ("dana", "dev-lead"),
        ("priya", "prod-owner"),
    ] {
        ok(s, u, &["approve", "HF-1", "--role", r]);
    }

    refused(s, "sam", &["release", "deploy", "HF-1"], "no critical test");
    ok(
        s,
        "quinn",
        &[
            "test",
            "add",
            "HF-1",
            "--name",
            "card_e2e",
            "--priority",
            "critical",
            "--automated",
            "--owner",
            "quinn",
        ],
    );
    ok(
        s,
        "quinn",
        &["test", "add", "HF-1", "--name", "3ds", "--priority", "high"],
    );
    ok(
        s,
        "quinn",
        &[
            "test",
            "add",
            "HF-1",
            "--name",
            "receipt",
            "--priority",
            "low",
        ],
    );
    refused(
        s,
        "avery",
        &["test", "waive", "HF-1", "card_e2e", "--reason", "x"],
        "can never be waived",
    );
    refused(
        s,
        "quinn",
        &["test", "waive", "HF-1", "3ds", "--reason", "x"],
        "may waive",
    );
    assert!(ok(s, "quinn", &["waiting"]).contains("card_e2e"));
    ok(
        s,
        "quinn",
        &[
            "test", "set", "HF-1", "card_e2e", "--status", "passed", "--note", "run 8812",
        ],
    );
    ok(
        s,
        "avery",
        &[
            "test",
            "waive",
            "HF-1",
            "3ds",
            "--reason",
            "manual check done",
        ],
    );
    let tests = json(s, "quinn", &["test", "list", "HF-1"]);
    assert_eq!(tests[0]["name"], "card_e2e");
    assert_eq!(tests[0]["priority"], "critical");
    assert_eq!(tests[0]["status"], "passed");
    assert_eq!(tests[0]["automated"], true);
    assert_eq!(tests[0]["owner"], "quinn");
    assert_eq!(tests[0]["note"], "run 8812");
    assert_eq!(tests[1]["waiver"]["by"], "avery");

    let gate = json(s, "sam", &["release", "gate", "HF-1"]);
    assert_eq!(gate["ready"], true);
    assert_eq!(gate["blockers"].as_array().unwrap().len(), 0);
    refused(s, "sam", &["release", "deployed", "HF-1"], "not deploying");
    for verb in ["deploy", "deployed", "verify"] {
        ok(s, "sam", &["release", verb, "HF-1"]);
    }
    // A P1's last hotfix closes only with the post-incident review on record.
    refused(
        s,
        "sam",
        &["release", "close", "HF-1"],
        "INC-1 is P1: closing HF-1 resolves it, and the policy wants a post-incident review first",
    );
    refused(
        s,
        "sam",
        &["review", "INC-1", "--waive", "busy"],
        "only the sre-avp role",
    );
    let review = |action: &str| {
        hotfix(s, "sam")
            .args([
                "review",
                "INC-1",
                "--summary",
                "Card checkout failed for 40 minutes",
            ])
            .args(["--root-cause", "null token from the new adapter"])
            .args(["--lesson", "canary the payments path", "--action", action])
            .assert()
    };
    let bad = review("add a contract test|dana|next week");
    let err = String::from_utf8_lossy(&bad.code(2).get_output().stderr).into_owned();
    assert!(err.contains("\"next week\" is not a date"), "{err}");
    review("add a contract test|dana|2026-12-20|PAY-88").success();
    let shown = ok(s, "sam", &["review", "INC-1"]);
    assert!(shown.contains("root cause: null token"), "{shown}");
    assert!(
        shown.contains("action 1:   add a contract test (owner dana, due 2026-12-20) [PAY-88]"),
        "{shown}"
    );
    ok(s, "sam", &["release", "close", "HF-1"]);
    let inc = json(s, "sam", &["incident", "show", "INC-1"]);
    assert_eq!(inc["review"]["text"]["actions"][0]["ticket"], "PAY-88");
    assert_eq!(inc["status"], "resolved");
    ok(s, "dana", &["release", "deploy", "REL-1"]);

    let log = json(s, "sam", &["log", "--release", "HF-1"]);
    let log = log.as_array().unwrap();
    assert_eq!(log[0]["type"], "hotfix_created");
    assert!(
        log.iter()
            .all(|e| e["seq"].is_u64() && e["at"].is_string() && e["actor"].is_string())
    );
    let tail: Vec<&str> = log
        .iter()
        .rev()
        .take(2)
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(tail, ["incident_resolved", "release_closed"]);
    assert!(ok(s, "sam", &["verify"]).contains("hash chain intact"));
}

#[test]
fn usage_errors_exit_2_and_missing_stores_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here");
    let out = hotfix(&missing, "x")
        .args(["incident", "list"])
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("hotfix init"));
    assert!(!missing.exists(), "reads never create a store");
    hotfix(dir.path(), "x")
        .args(["incident", "new", "--title", "t", "--severity", "P9"])
        .assert()
        .code(2);
    hotfix(dir.path(), "x")
        .args(["release", "show", "HF-x"])
        .assert()
        .code(2);
    hotfix(dir.path(), "x")
        .args(["frobnicate"])
        .assert()
        .code(2);
    hotfix(dir.path(), "x")
        .args(["release", "new", "--version", "1.0.0", "--summary", "s"])
        .assert()
        .code(2);
    for n in ["0", "abc", "99999999999"] {
        let demo = dir.path().join(format!("demo-{n}"));
        let out = hotfix(&demo, "x")
            .args(["demo", "--incidents", n])
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(stderr.contains("--incidents"), "{stderr}");
        assert!(!demo.exists(), "nothing written for {n}");
    }
}

#[test]
fn store_flag_works_before_or_after_the_verb_and_env_is_the_fallback() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), "admin", &["init"]);
    let bin = env!("CARGO_BIN_EXE_hotfix");
    let after = std::process::Command::new(bin)
        .env("HOTFIX_USER", "admin")
        .args(["user", "list", "--store"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(after.status.success());
    let env = std::process::Command::new(bin)
        .env("HOTFIX_USER", "admin")
        .env("HOTFIX_STORE", dir.path())
        .args(["user", "list", "--json"])
        .output()
        .unwrap();
    let users: Value = serde_json::from_slice(&env.stdout).unwrap();
    assert_eq!(users[0]["user"], "admin");
}

#[test]
fn policy_set_validates_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path();
    ok(s, "admin", &["init"]);
    let mut policy = json(s, "admin", &["policy", "show"]);
    policy["target_hours"]["P1"] = 2.into();
    let file = s.join("p.json");
    std::fs::write(&file, policy.to_string()).unwrap();
    refused(
        s,
        "dana",
        &["policy", "set", file.to_str().unwrap()],
        "only an admin",
    );
    ok(s, "admin", &["policy", "set", file.to_str().unwrap()]);
    assert_eq!(
        json(s, "admin", &["policy", "show"])["target_hours"]["P1"],
        2
    );
    std::fs::write(&file, r#"{"roles": ["admin"], "typo": 1}"#).unwrap();
    refused(
        s,
        "admin",
        &["policy", "set", file.to_str().unwrap()],
        "not valid",
    );
}

#[test]
fn stored_escape_sequences_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path();
    ok(s, "admin", &["init"]);
    ok(
        s,
        "admin",
        &[
            "incident",
            "new",
            "--title",
            "evil \u{1b}[2J title",
            "--severity",
            "P3",
        ],
    );
    let out = ok(s, "admin", &["incident", "list"]);
    assert!(
        out.contains("evil \\x1b[2J title") && !out.contains('\u{1b}'),
        "{out}"
    );
}

#[test]
fn demo_writes_a_store_that_verifies_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("demo");
    ok(&s, "you", &["demo"]);
    ok(&s, "you", &["verify"]);
    let before = std::fs::read(log_of(&s)).unwrap();
    hotfix(&s, "you").arg("demo").assert().code(3);
    assert_eq!(std::fs::read(log_of(&s)).unwrap(), before);
    let releases = json(&s, "you", &["release", "list", "--all"]);
    let statuses: Vec<&str> = releases
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    for want in ["awaiting-approval", "deployed", "planned", "closed"] {
        assert!(statuses.contains(&want), "{statuses:?}");
    }
    let tests = json(&s, "you", &["test", "list", "HF-3"]);
    let states: std::collections::BTreeSet<&str> = tests
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(states.len(), 5, "tests in every state: {states:?}");
    // The demo user can approve the waiting role.
    ok(&s, "you", &["approve", "HF-3"]);
}

#[test]
fn every_verb_has_help_with_an_example_and_completions_print() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["incident", "new"][..],
        &["release", "gate"],
        &["approve"],
        &["test", "waive"],
        &["log"],
        &["demo"],
    ] {
        let mut all = args.to_vec();
        all.push("--help");
        let out = ok(dir.path(), "x", &all);
        assert!(out.contains("Example"), "{args:?}: {out}");
    }
    for shell in ["bash", "zsh", "fish"] {
        let script = ok(dir.path(), "x", &["completions", shell]);
        assert!(script.contains("HOTFIX_COMPLETE"), "{shell}: {script}");
    }
}

/// What the shell gets on Tab after `words` (the last word is the one being completed), as the
/// registered bash function asks for it.
fn complete(store: &Path, words: &[&str]) -> Vec<String> {
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_hotfix"))
        .env("HOTFIX_STORE", store)
        .env("HOTFIX_COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", words.len().to_string())
        .env("_CLAP_COMPLETE_COMP_TYPE", "9")
        .env("_CLAP_COMPLETE_SPACE", "true")
        .args(["--", "hotfix"])
        .args(words)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    text.lines().map(str::to_string).collect()
}

#[test]
fn completion_offers_words_and_what_is_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    common::demo_store(dir.path());
    let s = dir.path();
    let has = |words: &[&str], want: &[&str]| {
        let got = complete(s, words);
        for w in want {
            assert!(got.iter().any(|g| g == w), "{words:?}: {w} not in {got:?}");
        }
        got
    };
    // Open releases come before closed ones; only ids matching what is typed.
    let got = has(&["release", "gate", ""], &["HF-2", "HF-3", "HF-1", "REL-1"]);
    assert!(got.iter().position(|g| g == "HF-3") < got.iter().position(|g| g == "HF-1"));
    assert_eq!(complete(s, &["release", "gate", "REL"]), ["REL-1"]);
    has(&["incident", "show", "INC"], &["INC-1", "INC-7"]);
    has(&["log", ""], &["HF-1", "INC-1"]);
    has(
        &["approve", "HF-3", "--role", ""],
        &["sre-avp", "dev-lead", "prod-owner"],
    );
    has(&["user", "revoke", ""], &["dana", "priya"]);
    has(
        &["test", "set", "HF-1", ""],
        &["mailer::reset_mail_under_60s"],
    );
    assert_eq!(
        complete(s, &["test", "set", "HF-1", "x", "--status", "p"]),
        ["pending", "passed"]
    );
    has(
        &["incident", "new", "--severity", ""],
        &["P1", "P2", "P3", "P4"],
    );
    has(
        &["incident", "qualify", "INC-2", "--decision", ""],
        &["hotfix", "no-action"],
    );
    has(
        &["test", "add", "HF-3", "--priority", ""],
        &["critical", "low"],
    );
    has(&["notify", "HF-3", "--stage", ""], &["rolled-back"]);
    // --store on the line being completed wins over $HOTFIX_STORE.
    let elsewhere = tempfile::tempdir().unwrap();
    let at = elsewhere.path().to_str().unwrap();
    assert!(!complete(s, &["--store", at, "release", "gate", ""]).contains(&"HF-1".to_string()));
    // Completion never writes: the store is byte for byte the same.
    let before = std::fs::read(log_of(s)).unwrap();
    complete(s, &["approve", ""]);
    assert_eq!(std::fs::read(log_of(s)).unwrap(), before);
}

#[test]
fn every_option_is_described_and_global_options_appear_once() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if id != "help" && id != "version" && arg.get_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    walk(&hotfix::cli::Cli::command(), "hotfix", &mut missing);
    assert!(
        missing.is_empty(),
        "options without a description: {missing:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let help = ok(dir.path(), "x", &["approve", "--help"]);
    assert_eq!(help.matches("--store").count(), 1, "{help}");
    assert!(help.contains("Global options"), "{help}");
    assert!(
        !help.contains("--mouse"),
        "--mouse is only for the cockpit: {help}"
    );
    assert!(ok(dir.path(), "x", &["--help"]).contains("--mouse"));
}

#[test]
fn an_approval_of_a_revision_that_moved_on_is_refused_and_names_both() {
    let dir = tempfile::tempdir().unwrap();
    common::demo_store(dir.path());
    let d = dir.path();
    // HF-3 is at revision 2 in the demo; priya read revision 2, then sam edits it.
    let show = ok(d, "priya", &["release", "show", "HF-3"]);
    assert!(show.contains("revision 2"), "{show}");
    assert!(show.contains("hotfix approve HF-3 --revision 2"), "{show}");
    ok(
        d,
        "sam",
        &["release", "edit", "HF-3", "--risks", "refunds too"],
    );
    refused(
        d,
        "priya",
        &["approve", "HF-3", "--revision", "2"],
        "you saw revision 2, it is now revision 3",
    );
    refused(
        d,
        "priya",
        &["approve", "HF-3", "--revision", "2"],
        "changed: risks",
    );
    refused(
        d,
        "priya",
        &["approve", "HF-3", "--revision", "9"],
        "has no revision 9",
    );
    let out = ok(d, "priya", &["approve", "HF-3", "--revision", "3"]);
    assert!(out.contains("HF-3 revision 3 approved by priya"), "{out}");
    // Without --revision the current one is approved, and the output names it.
    let out = ok(d, "dana", &["approve", "HF-3"]);
    assert!(out.contains("revision 3"), "{out}");
    refused(
        d,
        "avery",
        &["approve", "HF-3", "--role", "god"],
        "there is no role \"god\"",
    );
    let waiting = ok(d, "avery", &["waiting"]);
    assert!(waiting.contains("--revision 3"), "{waiting}");
    let nobody = ok(d, "nobody", &["waiting"]);
    assert!(nobody.contains("nobody holds no roles"), "{nobody}");
}

#[test]
fn with_json_errors_are_one_json_object_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    common::demo_store(dir.path());
    for (args, exit) in [
        (&["approve", "HF-3", "--revision", "1", "--json"][..], 3),
        (&["release", "show", "HF-99", "--json"], 3),
        (&["log", "--release", "HF-99", "--json"], 3),
        (&["log", "--incident", "INC-99", "--json"], 3),
        (&["release", "show", "nonsense", "--json"], 2),
        (&["--json", "frobnicate"], 2),
    ] {
        let out = hotfix(dir.path(), "priya").args(args).assert().code(exit);
        let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert!(
            stdout.trim().is_empty() || serde_json::from_str::<Value>(&stdout).is_ok(),
            "{args:?}: stdout is JSON or empty: {stdout}"
        );
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        let v: Value = serde_json::from_str(stderr.trim())
            .unwrap_or_else(|e| panic!("{args:?}: stderr is not JSON ({e}): {stderr}"));
        assert_eq!(v["exit"], exit, "{args:?}");
        assert!(v["error"].as_str().is_some_and(|s| !s.is_empty()), "{v}");
    }
}

#[test]
fn log_takes_the_id_as_an_argument() {
    let dir = tempfile::tempdir().unwrap();
    common::demo_store(dir.path());
    let by_arg = ok(dir.path(), "x", &["log", "HF-3"]);
    let by_flag = ok(dir.path(), "x", &["log", "--release", "HF-3"]);
    assert_eq!(by_arg, by_flag);
    assert!(by_arg.contains("HF-3"));
    let inc = ok(dir.path(), "x", &["log", "INC-6"]);
    assert_eq!(inc, ok(dir.path(), "x", &["log", "--incident", "INC-6"]));
}

#[test]
fn stats_prints_the_period_per_hotfix_and_in_aggregate_and_refuses_a_bad_period() {
    let dir = tempfile::tempdir().unwrap();
    common::demo_store(dir.path());
    let out = common::hotfix(dir.path(), "you")
        .args(["stats", "--since", "all"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for wanted in [
        "3 hotfixes created in the whole history",
        "HOTFIX",
        "FROM REPORT TO",
        "target P1 4h",
        "change failure rate",
        "APPROVAL WAIT BY ROLE",
        "regular releases held back: REL-1",
    ] {
        assert!(text.contains(wanted), "{wanted}:\n{text}");
    }
    let json = common::hotfix(dir.path(), "you")
        .args(["stats", "--since", "all", "--json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(v["hotfixes"].as_array().unwrap().len(), 3);
    assert!(v["stages"][0][1]["median"].is_i64(), "{}", v["stages"]);
    let out = common::hotfix(dir.path(), "you")
        .args(["stats", "--service", "nosuch"])
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("nothing to measure"));
    let before = std::fs::read(common::log_of(dir.path())).unwrap();
    let out = common::hotfix(dir.path(), "you")
        .args(["stats", "--since", "lately"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("--since") && stderr.contains("90d"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(common::log_of(dir.path())).unwrap(), before);
}

#[test]
fn withdraw_and_test_remove_are_corrections_on_the_record() {
    let dir = tempfile::tempdir().unwrap();
    common::demo_store(dir.path());
    let run = |user: &str, args: &[&str]| hotfix(dir.path(), user).args(args).output().unwrap();
    // avery's sre-avp approval of HF-3 is withdrawn by avery, with a reason.
    let out = run(
        "avery",
        &["withdraw", "HF-3", "--reason", "approved too early"],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = run("avery", &["withdraw", "HF-3", "--reason", "again"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let out = run(
        "quinn",
        &[
            "test",
            "remove",
            "HF-3",
            "docs::status_page_copy",
            "--reason",
            "x",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "qa may not remove: {out:?}");
    let out = run(
        "dana",
        &[
            "test",
            "remove",
            "HF-3",
            "docs::status_page_copy",
            "--reason",
            "not part of this fix",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = run("you", &["report", "HF-3"]);
    let report = String::from_utf8_lossy(&report.stdout).into_owned();
    assert!(
        report.contains("## Corrections")
            && report.contains("withdrew the sre-avp approval | avery")
            && report.contains("removed test docs::status\\_page\\_copy | dana"),
        "{report}"
    );
    let json = run("you", &["report", "HF-3", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["corrections"].as_array().map(Vec::len), Some(2), "{v}");
}
