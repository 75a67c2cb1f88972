//! `hotfix remind` against a local HTTP server standing in for the operations webhook and the
//! PagerDuty Events API: the exact messages, each sent once, failures recorded, and delegation
//! from the command line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::hooks::{Server, overdue_store};
use common::hotfix;
use hotfix::state::ReleaseId;
use serde_json::{Value, json};
use std::path::Path;

fn log_kinds(store: &Path) -> Vec<String> {
    std::fs::read_to_string(common::log_of(store))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["type"].as_str().map(String::from))
        .collect()
}

#[test]
fn remind_sends_the_reminder_the_deputies_notice_and_the_page_then_resolves_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = overdue_store(dir.path());
    let release = store.model.release(ReleaseId::Hotfix(1)).unwrap();
    let key = hotfix::remind::dedup_key(&store.model, release, "prod-owner");
    let since = store.model.waiting_since(release);
    let server = Server::start(200, 202);
    let out = server.remind(dir.path(), "quinn").assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_eq!(
        stdout,
        "sent reminder for prod-owner on HF-1 to priya\nsent deputies' notice for prod-owner on HF-1 to pat\nsent page for prod-owner on HF-1\n"
    );
    let taken = server.taken();
    assert_eq!(taken.len(), 3, "{taken:?}");
    let reminder_text = "HF-1 has waited over 15m (its deadline is 15m) for its prod-owner approval.\nWho can give it: priya.\nApprove with `hotfix approve HF-1 --role prod-owner`, or reject it with a reason.\nHF-1: fix it";
    assert_eq!(taken[0].0, "/hook/SECRET");
    assert_eq!(
        taken[0].1,
        json!({
            "text": format!("Reminder: HF-1 (P1) waits on prod-owner approval\n{reminder_text}"),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "Reminder: HF-1 (P1) waits on prod-owner approval"}},
                {"type": "section", "text": {"type": "mrkdwn", "text": reminder_text}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "HF-1 · reminder for prod-owner · sent by hotfix remind"}]},
            ],
        })
    );
    let deputies = &taken[1].1["blocks"][1]["text"]["text"];
    assert_eq!(
        deputies,
        "pat: you are the policy's deputy for prod-owner. HF-1 has waited over 30m (its deadline is 15m) for its prod-owner approval, and its holders (priya) have not given it.\nIf you hold prod-owner, approve with `hotfix approve HF-1 --role prod-owner`. If not, a holder or an admin can let you stand in: `hotfix user delegate priya --to DEPUTY --role prod-owner --until TIME`.\nHF-1: fix it"
    );
    assert_eq!(taken[2].0, "/v2/enqueue");
    assert_eq!(
        taken[2].1,
        json!({
            "routing_key": "R0UTING-KEY",
            "event_action": "trigger",
            "dedup_key": key,
            "client": "hotfix",
            "payload": {
                "summary": "HF-1 (P1) has waited over 45m (its deadline is 15m) for its prod-owner approval",
                "source": "hotfix HF-1",
                "severity": "critical",
                "component": "prod-owner",
                "class": "approval overdue",
                "custom_details": {
                    "release": "HF-1",
                    "revision": 1,
                    "role": "prod-owner",
                    "waiting_since": since,
                    "incidents": ["INC-1"],
                    "summary": "fix it",
                    "approve": "hotfix approve HF-1 --role prod-owner",
                },
            },
        })
    );
    // Run again: nothing more is due, nothing sent.
    let out = server.remind(dir.path(), "quinn").assert().success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("nothing is due"));
    assert_eq!(server.taken().len(), 3);
    // The approval resolves the page, with the same key, once.
    hotfix(dir.path(), "priya")
        .args(["approve", "HF-1"])
        .assert()
        .success();
    server.remind(dir.path(), "quinn").assert().success();
    server.remind(dir.path(), "quinn").assert().success();
    let taken = server.taken();
    assert_eq!(taken.len(), 4);
    assert_eq!(
        taken[3].1,
        json!({"routing_key": "R0UTING-KEY", "event_action": "resolve", "dedup_key": key})
    );
    // The record holds each step once, and `release show` said so while it waited.
    let kinds = log_kinds(dir.path());
    assert_eq!(
        kinds.iter().filter(|k| *k == "approval_escalated").count(),
        4
    );
    // The report tells it; the policy says the deadlines.
    let out = hotfix(dir.path(), "quinn")
        .args(["report", "HF-1"])
        .assert()
        .success();
    let report = stdout_of(&out);
    for line in [
        "prod-owner approval overdue: reminder to priya | quinn |",
        "prod-owner approval overdue: deputies' notice to pat | quinn |",
        "prod-owner approval overdue: page | quinn |",
        "prod-owner page resolved: the approval no longer waits | quinn |",
    ] {
        assert!(report.contains(line), "{line}\n{report}");
    }
    let out = hotfix(dir.path(), "quinn")
        .args(["policy", "show"])
        .assert()
        .success();
    let policy = stdout_of(&out);
    assert!(
        policy.contains("deadline for P1:   15m per approval"),
        "{policy}"
    );
    assert!(policy.contains("deputies of prod-owner: pat"), "{policy}");
}

#[test]
fn two_reminds_at_once_send_each_message_once() {
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        overdue_store(dir.path());
        let server = Server::start(200, 202);
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hotfix"));
                let template = server.remind(dir.path(), "quinn");
                for (k, v) in template.get_envs() {
                    match v {
                        Some(v) => cmd.env(k, v),
                        None => cmd.env_remove(k),
                    };
                }
                cmd.args(template.get_args())
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for run in runs {
            assert!(run.wait_with_output().unwrap().status.success());
        }
        let taken = server.taken();
        let mut paths: Vec<String> = taken.iter().map(|(p, _)| p.clone()).collect();
        paths.sort();
        assert_eq!(
            paths,
            ["/hook/SECRET", "/hook/SECRET", "/v2/enqueue"],
            "{taken:?}"
        );
    }
}

#[test]
fn a_failed_send_is_recorded_and_exits_non_zero_and_an_unconfigured_one_is_not_claimed() {
    let dir = tempfile::tempdir().unwrap();
    overdue_store(dir.path());
    // Nothing configured: nothing claimed, nothing recorded, exit 1 naming the settings.
    let before = log_kinds(dir.path());
    let out = hotfix(dir.path(), "quinn")
        .env("XDG_CONFIG_HOME", common::state_home())
        .env_remove("HOTFIX_WEBHOOK_URL")
        .env_remove("HOTFIX_PAGERDUTY_ROUTING_KEY")
        .arg("remind")
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        stdout.contains("not sent reminder for prod-owner on HF-1 to priya: no webhook is configured: set HOTFIX_WEBHOOK_URL"),
        "{stdout}"
    );
    assert!(
        stdout.contains("no PagerDuty routing key is configured"),
        "{stdout}"
    );
    assert_eq!(log_kinds(dir.path()), before);
    // A webhook setting that is no URL is found before anything is claimed, and not shown.
    let out = hotfix(dir.path(), "quinn")
        .env("XDG_CONFIG_HOME", common::state_home())
        .env("HOTFIX_WEBHOOK_URL", "hooks.example/SECRET")
        .env_remove("HOTFIX_PAGERDUTY_ROUTING_KEY")
        .arg("remind")
        .assert()
        .code(1);
    let stdout = stdout_of(&out);
    assert!(
        stdout.contains("HOTFIX_WEBHOOK_URL (or \"webhook_url\") is not an http(s) URL"),
        "{stdout}"
    );
    assert!(!stdout.contains("SECRET"), "{stdout}");
    assert_eq!(log_kinds(dir.path()), before);
    // PagerDuty down: the page is recorded as failed; the next run does not retry at once.
    let server = Server::start(200, 500);
    let out = server.remind(dir.path(), "quinn").assert().code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        stdout.contains("failed page for prod-owner on HF-1: PagerDuty answered HTTP 500"),
        "{stdout}"
    );
    assert!(!stdout.contains("SECRET") && !stdout.contains("R0UTING"));
    assert_eq!(log_kinds(dir.path()).last().unwrap(), "escalation_failed");
    let out = server.remind(dir.path(), "quinn").assert().success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("nothing is due"));
    // Someone who is no user of the store cannot send anything.
    let out = Server::start(200, 202)
        .remind(dir.path(), "mallory")
        .assert()
        .code(3);
    assert!(
        String::from_utf8_lossy(&out.get_output().stderr).contains("mallory is not a user"),
        "{out:?}"
    );
    // A demo store's people are play-acted: nobody is reminded or paged from it.
    let demo = tempfile::tempdir().unwrap();
    common::demo_store(demo.path());
    let server = Server::start(200, 202);
    let out = server.remind(demo.path(), "you").assert().code(3);
    assert!(
        String::from_utf8_lossy(&out.get_output().stderr).contains("this is a demo store"),
        "{out:?}"
    );
    assert!(server.taken().is_empty());
}

/// priya lends prod-owner to pat (the end is added).
const DELEGATE: [&str; 7] = [
    "user",
    "delegate",
    "priya",
    "--to",
    "pat",
    "--role",
    "prod-owner",
];

#[test]
fn a_deputy_approves_from_the_command_line_as_pat_for_priya() {
    let dir = tempfile::tempdir().unwrap();
    overdue_store(dir.path());
    let until = (chrono::Utc::now() + chrono::Duration::hours(8))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // Refused before: pat holds none of the roles.
    let out = hotfix(dir.path(), "pat")
        .args(["approve", "HF-1"])
        .assert()
        .code(3);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("hotfix user delegate"));
    // Bad input: no --until, a past one, someone else's role.
    hotfix(dir.path(), "priya").args(DELEGATE).assert().code(2);
    let out = hotfix(dir.path(), "priya")
        .args(DELEGATE)
        .args(["--until", "2020-01-01T00:00:00Z"])
        .assert()
        .code(3);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("not in the future"));
    hotfix(dir.path(), "dana")
        .args(DELEGATE)
        .args(["--until", &until])
        .assert()
        .code(3);
    let out = hotfix(dir.path(), "priya")
        .args(DELEGATE)
        .args(["--until", &until])
        .assert()
        .success();
    assert!(stdout_of(&out).contains("recorded pat stands in for priya as prod-owner until"));
    let out = hotfix(dir.path(), "admin")
        .args(["user", "list", "--json"])
        .assert()
        .success();
    let users: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let pat = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"] == "pat")
        .unwrap();
    assert_eq!(pat["deputy"][0]["role"], "prod-owner");
    assert_eq!(pat["deputy"][0]["for"], "priya");
    let out = hotfix(dir.path(), "pat")
        .args(["approve", "HF-1"])
        .assert()
        .success();
    assert!(stdout_of(&out).contains("approved by pat for priya as prod-owner"));
    let out = hotfix(dir.path(), "pat")
        .args(["release", "show", "HF-1"])
        .assert()
        .success();
    assert!(
        String::from_utf8_lossy(&out.get_output().stdout).contains("prod-owner  pat for priya at")
    );
    // Ended early by priya: nothing left to end after.
    hotfix(dir.path(), "priya")
        .args(DELEGATE)
        .arg("--end")
        .assert()
        .success();
    hotfix(dir.path(), "priya")
        .args(DELEGATE)
        .arg("--end")
        .assert()
        .code(3);
}

fn stdout_of(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stdout).into_owned()
}
