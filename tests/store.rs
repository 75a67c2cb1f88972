//! The event log on real files: concurrency, torn tails, tampering, damage.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{hotfix, log_of};
use hotfix::state::{Command, Severity};
use hotfix::store::{Integrity, Store};
use std::fs;
use std::io::Write;

fn now() -> chrono::DateTime<chrono::Utc> {
    common::t0()
}

fn new_store(dir: &std::path::Path) -> Store {
    let mut s = Store::create(dir).unwrap();
    s.execute("admin", now(), Command::Init).unwrap();
    s
}

fn report(s: &mut Store, title: &str) {
    let c = Command::ReportIncident {
        title: title.into(),
        severity: Severity::P2,
        services: vec![],
        impact: String::new(),
    };
    s.execute("quinn", now(), c).unwrap();
}

#[test]
fn reopening_gives_the_same_model_as_the_writer_had() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = new_store(dir.path());
    for i in 0..20 {
        report(&mut s, &format!("incident {i}"));
    }
    let reopened = Store::open(dir.path()).unwrap();
    assert_eq!(reopened.model, s.model);
    assert_eq!(reopened.integrity, Integrity::Verified);
    assert_eq!(reopened.head_hash(), s.head_hash());
}

#[test]
fn a_second_store_handle_catches_up_before_deciding() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = new_store(dir.path());
    let mut b = Store::open(dir.path()).unwrap();
    report(&mut a, "from a");
    report(&mut b, "from b");
    let ids: Vec<u64> = b.model.incidents.keys().map(|i| i.0).collect();
    assert_eq!(ids, vec![1, 2]);
    assert!(a.refresh().unwrap());
    assert_eq!(a.model, b.model);
}

#[test]
fn files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("new");
    new_store(&store);
    assert_eq!(
        fs::metadata(&store).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        fs::metadata(log_of(&store)).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn a_torn_last_line_is_set_aside_verbatim_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = new_store(dir.path());
    report(&mut s, "kept");
    let before = fs::read(log_of(dir.path())).unwrap();
    let torn = b"{\"v\":1,\"seq\":4,\"at\":\"2026-11-27T09:00:00Z\",\"actor\":\"q\0\0\0";
    fs::OpenOptions::new()
        .append(true)
        .open(log_of(dir.path()))
        .unwrap()
        .write_all(torn)
        .unwrap();

    let out = hotfix(dir.path(), "quinn")
        .args(["incident", "list", "--json"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("incomplete") && stderr.contains("events.jsonl.torn-"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("kept"));
    assert_eq!(
        fs::read(log_of(dir.path())).unwrap(),
        before,
        "the log is back to its complete lines"
    );
    let side: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".torn-"))
        .collect();
    assert_eq!(side.len(), 1);
    assert_eq!(fs::read(side[0].path()).unwrap(), torn);
    // Writing works again and the chain verifies.
    hotfix(dir.path(), "quinn")
        .args(["incident", "new", "--title", "after", "--severity", "P3"])
        .assert()
        .success();
    hotfix(dir.path(), "quinn").arg("verify").assert().success();
}

#[test]
fn an_edited_line_is_named_reads_warn_and_writes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = new_store(dir.path());
    report(&mut s, "original title");
    report(&mut s, "second");
    let text = fs::read_to_string(log_of(dir.path())).unwrap();
    fs::write(
        log_of(dir.path()),
        text.replace("original title", "forged title"),
    )
    .unwrap();
    let before = fs::read(log_of(dir.path())).unwrap();

    let out = hotfix(dir.path(), "quinn").arg("verify").assert().code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("line 3") && stderr.contains("edited"),
        "{stderr}"
    );

    let out = hotfix(dir.path(), "quinn")
        .args(["incident", "list"])
        .assert()
        .success();
    assert!(
        String::from_utf8_lossy(&out.get_output().stderr)
            .contains("line 3 of the event log fails verification")
    );

    let out = hotfix(dir.path(), "quinn")
        .args(["incident", "new", "--title", "x", "--severity", "P1"])
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("read-only"));
    assert_eq!(
        fs::read(log_of(dir.path())).unwrap(),
        before,
        "nothing rewritten"
    );
}

#[test]
fn a_line_that_cannot_be_parsed_fails_every_command_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = new_store(dir.path());
    report(&mut s, "one");
    let mut text = fs::read_to_string(log_of(dir.path())).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    text = format!(
        "{}\n{}\nnot json at all\n{}\n",
        lines[0], lines[1], lines[2]
    );
    fs::write(log_of(dir.path()), &text).unwrap();
    for args in [
        &["incident", "list"][..],
        &["verify"],
        &["incident", "new", "--title", "x", "--severity", "P1"],
    ] {
        let out = hotfix(dir.path(), "quinn").args(args).assert().code(1);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(stderr.contains("line 3"), "{args:?}: {stderr}");
    }
    assert_eq!(fs::read_to_string(log_of(dir.path())).unwrap(), text);
}

#[test]
fn an_unknown_format_version_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    new_store(dir.path());
    let text =
        fs::read_to_string(log_of(dir.path()))
            .unwrap()
            .replacen("{\"v\":1,", "{\"v\":2,", 1);
    fs::write(log_of(dir.path()), text).unwrap();
    let out = hotfix(dir.path(), "quinn")
        .args(["incident", "list"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("line 1") && stderr.contains("format version 2"),
        "{stderr}"
    );
}

#[test]
fn two_processes_appending_concurrently_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    new_store(dir.path());
    let per_writer = 150;
    let writers: Vec<_> = ["w1", "w2"]
        .into_iter()
        .map(|name| {
            let store = dir.path().to_path_buf();
            std::thread::spawn(move || {
                for i in 0..per_writer {
                    hotfix(&store, name)
                        .args([
                            "incident",
                            "new",
                            "--title",
                            &format!("{name}-{i}"),
                            "--severity",
                            "P3",
                        ])
                        .assert()
                        .success();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.integrity, Integrity::Verified);
    assert_eq!(store.model.incidents.len(), 2 * per_writer);
    let ids: Vec<u64> = store.model.incidents.keys().map(|i| i.0).collect();
    assert_eq!(
        ids,
        (1..=2 * per_writer as u64).collect::<Vec<_>>(),
        "ids are unique and dense"
    );
    for name in ["w1", "w2"] {
        let mine: Vec<String> = store
            .model
            .incidents
            .values()
            .filter(|i| i.reported_by == name)
            .map(|i| i.title.clone())
            .collect();
        let expected: Vec<String> = (0..per_writer).map(|i| format!("{name}-{i}")).collect();
        assert_eq!(mine, expected, "{name}'s events are all there, in order");
    }
    hotfix(dir.path(), "quinn").arg("verify").assert().success();
}

#[test]
fn two_processes_cannot_fill_one_role_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = new_store(dir.path());
    for (u, r) in [("avery", "sre-avp"), ("ana", "sre-avp"), ("ben", "sre-avp")] {
        s.execute(
            "admin",
            now(),
            Command::GrantRole {
                user: u.into(),
                role: r.into(),
            },
        )
        .unwrap();
    }
    report(&mut s, "x");
    s.execute(
        "avery",
        now(),
        Command::QualifyIncident {
            id: hotfix::state::IncidentId(1),
            decision: hotfix::state::Decision::Hotfix,
            risk: hotfix::state::Risk::Low,
            impact: "i".into(),
            rationale: "r".into(),
        },
    )
    .unwrap();
    s.execute(
        "sam",
        now(),
        Command::CreateHotfix {
            incidents: vec![hotfix::state::IncidentId(1)],
            scope: common::scope(),
        },
    )
    .unwrap();
    let racers: Vec<_> = ["ana", "ben"]
        .into_iter()
        .map(|u| {
            let store = dir.path().to_path_buf();
            std::thread::spawn(move || {
                hotfix(&store, u)
                    .args(["approve", "HF-1", "--role", "sre-avp"])
                    .output()
                    .unwrap()
            })
        })
        .collect();
    let codes: Vec<i32> = racers
        .into_iter()
        .map(|r| r.join().unwrap().status.code().unwrap())
        .collect();
    assert_eq!(
        {
            let mut c = codes.clone();
            c.sort();
            c
        },
        vec![0, 3],
        "{codes:?}"
    );
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store
            .model
            .releases
            .values()
            .next()
            .unwrap()
            .approvals
            .len(),
        1
    );
}
