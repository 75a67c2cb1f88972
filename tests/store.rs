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
        public: String::new(),
        impact_since: None,
    };
    s.execute("quinn", now(), c).unwrap();
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
fn a_torn_last_line_is_left_by_reads_then_set_aside_verbatim_by_a_write() {
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
    let damaged = fs::read(log_of(dir.path())).unwrap();

    let out = hotfix(dir.path(), "quinn")
        .args(["incident", "list", "--json"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("incomplete") && stderr.contains("left in place"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("kept"));
    assert_eq!(
        fs::read(log_of(dir.path())).unwrap(),
        damaged,
        "a read changes nothing"
    );
    // The next write sets it aside, verbatim, and is recorded after the complete lines.
    let out = hotfix(dir.path(), "quinn")
        .args(["incident", "new", "--title", "after", "--severity", "P3"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("events.jsonl.torn-"), "{stderr}");
    assert!(fs::read(log_of(dir.path())).unwrap().starts_with(&before));
    let side: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".torn-"))
        .collect();
    assert_eq!(side.len(), 1);
    assert_eq!(fs::read(side[0].path()).unwrap(), torn);
    hotfix(dir.path(), "quinn").arg("verify").assert().success();
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
fn an_open_handle_meeting_a_damaged_line_keeps_what_came_before_and_applies_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = new_store(dir.path());
    let mut reader = common::open(dir.path()).unwrap();
    report(&mut writer, "before the damage");
    let mut log = fs::OpenOptions::new()
        .append(true)
        .open(log_of(dir.path()))
        .unwrap();
    log.write_all(b"not json at all\n").unwrap();
    for _ in 0..2 {
        let err = reader.refresh().unwrap_err().to_string();
        assert!(err.contains("line 4"), "{err}");
        assert_eq!(reader.model.incidents.len(), 1, "applied once, never twice");
    }
    assert_eq!(reader.model, writer.model);
}

// ---- the snapshot ----

/// A generated store of `incidents` incidents, with its snapshot written by the generator.
fn generated(incidents: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    hotfix::demo::generate(&path, "you", now(), incidents).unwrap();
    (dir, path)
}

fn snapshot_of(dir: &std::path::Path) -> hotfix::store::snapshot::Snapshot {
    let bytes = fs::read(dir.join(hotfix::store::SNAPSHOT_FILE)).unwrap();
    hotfix::store::snapshot::read(&bytes).expect("a snapshot this hotfix reads")
}

fn rewrite_snapshot(
    dir: &std::path::Path,
    edit: impl FnOnce(&mut hotfix::store::snapshot::Snapshot),
) {
    let mut snap = snapshot_of(dir);
    edit(&mut snap);
    let mut bytes = Vec::new();
    hotfix::store::snapshot::write(&mut bytes, &snap.mark, &snap.model, None).unwrap();
    fs::write(dir.join(hotfix::store::SNAPSHOT_FILE), bytes).unwrap();
}

#[test]
fn a_store_opened_from_its_snapshot_holds_the_same_state_and_is_unchecked_until_adopted() {
    let (_dir, path) = generated(150);
    let full = common::open(&path).unwrap();
    assert!(
        full.model.seq >= hotfix::store::SNAPSHOT_EVERY,
        "the generator wrote a snapshot"
    );
    let mut fast = common::open_for_cockpit(&path).unwrap();
    assert_eq!(fast.snapshot_covers(), Some(full.model.seq));
    assert_eq!(fast.integrity, Integrity::Unchecked);
    assert_eq!(
        fast.model, full.model,
        "the snapshot round-trips the whole model"
    );
    fast.adopt(common::open(&path).unwrap()).unwrap();
    assert_eq!(fast.integrity, Integrity::Verified);
    assert!(fast.notices.is_empty(), "{:?}", fast.notices);
    assert_eq!(fast.snapshot_covers(), None);
}

#[test]
fn events_after_the_snapshot_are_read_and_the_first_write_checks_the_whole_log() {
    let (_dir, path) = generated(120);
    let mut writer = common::open(&path).unwrap();
    report(&mut writer, "after the snapshot");
    let mut fast = common::open_for_cockpit(&path).unwrap();
    assert_eq!(fast.model, writer.model, "the tail was folded on top");
    assert_eq!(fast.integrity, Integrity::Unchecked);
    report(&mut fast, "written from the snapshot's store");
    assert_eq!(
        fast.integrity,
        Integrity::Verified,
        "the write verified everything first"
    );
    assert!(common::open(&path).unwrap().verify().unwrap().integrity == Integrity::Verified);
}

#[test]
fn a_snapshot_that_does_not_match_the_log_is_named_replaced_by_the_log_and_rewritten() {
    let (_dir, path) = generated(120);
    let truth = common::open(&path).unwrap().model;
    let id = *truth.incidents.keys().next().unwrap();
    rewrite_snapshot(&path, |s| {
        s.model.incidents.get_mut(&id).unwrap().title = "forged".into();
    });
    let mut fast = common::open_for_cockpit(&path).unwrap();
    assert_eq!(
        fast.model.incidents[&id].title, "forged",
        "read before verification"
    );
    // `verify` names it and exits 1, and (like any full read) rewrites it from the log.
    let out = hotfix(&path, "you").arg("verify").assert().code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("did not match the log"), "{stderr}");
    assert_eq!(
        snapshot_of(&path).model,
        truth,
        "rewritten by the full read"
    );
    hotfix(&path, "you").arg("verify").assert().success();
    rewrite_snapshot(&path, |s| {
        s.model.incidents.get_mut(&id).unwrap().title = "forged".into();
    });
    fast.adopt(common::open(&path).unwrap()).unwrap();
    assert_eq!(fast.model, truth, "the log's own fold replaced it");
    assert!(
        fast.notices
            .iter()
            .any(|n| n.contains("did not match the log") && n.contains("rewritten")),
        "{:?}",
        fast.notices
    );
    assert_eq!(snapshot_of(&path).model, truth, "rewritten from the log");
}

#[test]
fn a_snapshot_the_log_no_longer_holds_or_that_is_damaged_is_ignored() {
    let (_dir, path) = generated(120);
    let truth = common::open(&path).unwrap().model;
    rewrite_snapshot(&path, |s| s.mark.last_hash = "0".repeat(64));
    let store = common::open_for_cockpit(&path).unwrap();
    assert_eq!(store.snapshot_covers(), None, "read whole instead");
    assert_eq!(store.model, truth);
    fs::write(path.join(hotfix::store::SNAPSHOT_FILE), b"\x01garbage").unwrap();
    let store = common::open_for_cockpit(&path).unwrap();
    assert_eq!(
        (store.snapshot_covers(), store.integrity),
        (None, Integrity::Verified)
    );
    assert_eq!(store.model, truth);
}

#[test]
fn damage_before_the_snapshot_is_caught_before_any_write() {
    let (_dir, path) = generated(120);
    let text = fs::read_to_string(log_of(&path)).unwrap();
    let edited = text.replacen("\"actor\":\"morgan\"", "\"actor\":\"norgan\"", 1);
    assert_ne!(text, edited);
    fs::write(log_of(&path), &edited).unwrap();
    let mut fast = common::open_for_cockpit(&path).unwrap();
    assert_eq!(
        fast.integrity,
        Integrity::Unchecked,
        "the snapshot's own line is intact"
    );
    let c = Command::ReportIncident {
        title: "x".into(),
        severity: Severity::P2,
        services: vec![],
        impact: String::new(),
        public: String::new(),
        impact_since: None,
    };
    let err = fast.execute("quinn", now(), c).unwrap_err().to_string();
    assert!(err.contains("read-only") && err.contains("line 1"), "{err}");
    assert!(matches!(fast.integrity, Integrity::Broken { line: 1, .. }));
    assert_eq!(
        fs::read_to_string(log_of(&path)).unwrap(),
        edited,
        "nothing written"
    );
}

#[test]
fn whichever_process_reads_the_whole_log_checkpoints_a_lagging_snapshot_once() {
    let (_dir, path) = generated(120);
    let snapshot = path.join(hotfix::store::SNAPSHOT_FILE);
    fs::remove_file(&snapshot).unwrap();
    hotfix(&path, "you")
        .args(["incident", "list"])
        .assert()
        .success();
    let first = fs::read(&snapshot).expect("the CLI wrote a snapshot");
    assert_eq!(snapshot_of(&path).model, common::open(&path).unwrap().model);
    hotfix(&path, "quinn")
        .args(["incident", "new", "--title", "one more", "--severity", "P3"])
        .assert()
        .success();
    assert_eq!(
        fs::read(&snapshot).unwrap(),
        first,
        "not rewritten for one event"
    );
}

#[test]
fn the_head_is_one_fixed_size_record_naming_the_newest_event() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = new_store(dir.path());
    // A head as an earlier hotfix wrote it (shorter, not padded) is overwritten whole.
    fs::write(dir.path().join("head.json"), b"{\"seq\":2,\"hash\":\"x\"}").unwrap();
    for i in 0..3 {
        report(&mut s, &format!("incident {i}"));
        let bytes = fs::read(dir.path().join("head.json")).unwrap();
        assert_eq!(bytes.len(), 160);
        let head: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(head["seq"], s.model.seq);
        assert_eq!(head["hash"], s.head_hash());
    }
    assert_eq!(
        common::open(dir.path()).unwrap().integrity,
        Integrity::Verified
    );
}

#[test]
fn reads_from_the_snapshot_still_name_damage_anywhere_in_the_log() {
    let (_dir, path) = generated(120);
    let listed = |path: &std::path::Path| {
        let out = hotfix(path, "you")
            .args(["incident", "list", "--all"])
            .assert()
            .success();
        let o = out.get_output();
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (clean, warnings) = listed(&path);
    assert!(warnings.is_empty(), "{warnings}");
    // The snapshot is used for reads, and gives what the whole log gives.
    assert!(
        common::open_to_verify_again(&path)
            .unwrap()
            .snapshot_covers()
            .is_some()
    );
    assert_eq!(
        common::open_to_verify_again(&path).unwrap().model,
        common::open(&path).unwrap().model
    );

    // A damaged snapshot is not used; the answer is the same.
    let snapshot = path.join(hotfix::store::SNAPSHOT_FILE);
    let mut bytes = fs::read(&snapshot).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    fs::write(&snapshot, &bytes).unwrap();
    assert_eq!(
        common::open_to_verify_again(&path)
            .unwrap()
            .snapshot_covers(),
        None
    );
    assert_eq!(listed(&path), (clean.clone(), String::new()));
    common::open(&path).unwrap().write_snapshot().unwrap();

    // An edit early in the log (same length, so the snapshot's own line still matches). This
    // user's reads start from their checkpoint, verified within the day, and do not see it;
    // someone without one reads the whole log, and `verify` always does.
    let text = fs::read_to_string(log_of(&path)).unwrap();
    let edited = text.replacen("\"actor\":\"morgan\"", "\"actor\":\"norgan\"", 1);
    fs::write(log_of(&path), &edited).unwrap();
    assert_eq!(listed(&path).1, "", "from this user's checkpoint");
    let elsewhere = tempfile::tempdir().unwrap();
    let out = hotfix(&path, "you")
        .env("XDG_CACHE_HOME", elsewhere.path())
        .env("XDG_STATE_HOME", elsewhere.path())
        .args(["incident", "list"])
        .assert()
        .success();
    let warnings = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        warnings.contains("line 1") && warnings.contains("read-only"),
        "{warnings}"
    );
    hotfix(&path, "you").arg("verify").assert().code(1);
    // What `verify` found, this user's next command finds too: the checkpoint no longer
    // vouches for the log.
    let (_, warnings) = listed(&path);
    assert!(
        warnings.contains("line 1") && warnings.contains("read-only"),
        "{warnings}"
    );
}

// ---- on both backends: the same tests on a directory and on a database store ----

use common::place::{Place, User};

crate::on_both_backends!(
    reopening_gives_the_same_model_as_the_writer_had,
    a_second_store_handle_catches_up_before_deciding,
    an_edited_line_is_named_reads_warn_and_writes_are_refused,
    an_unknown_format_version_is_refused_clearly,
    two_processes_appending_concurrently_lose_nothing,
    two_processes_cannot_fill_one_role_twice,
    writes_start_from_the_users_checkpoint_and_the_whole_log_is_read_again_after_a_day,
    a_missing_or_damaged_checkpoint_means_a_full_read_and_a_new_one,
    verify_finding_damage_makes_the_next_command_read_the_whole_log,
    a_checkpoint_forged_with_its_digests_recomputed_is_never_used,
    lines_appended_around_the_rules_are_inert_and_named,
);

fn report_by(s: &mut Store, who: &User, title: &str) {
    let c = Command::ReportIncident {
        title: title.into(),
        severity: Severity::P2,
        services: vec![],
        impact: String::new(),
        public: String::new(),
        impact_since: None,
    };
    s.execute(&who.name, now(), c).unwrap();
}

fn stderr_of(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stderr).into_owned()
}

/// The sequence number of the first event whose line holds `text`.
fn seq_holding(s: &Store, text: &str) -> u64 {
    s.model
        .incidents
        .values()
        .find(|i| i.title == text)
        .map(|i| s.trail(&s.model, None, Some(i.id)).unwrap()[0].seq)
        .unwrap()
}

fn reopening_gives_the_same_model_as_the_writer_had(place: Place) {
    let admin = place.init();
    let mut s = admin.open();
    for i in 0..20 {
        report_by(&mut s, &admin, &format!("incident {i}"));
    }
    let reopened = admin.open();
    assert_eq!(reopened.model, s.model);
    assert_eq!(reopened.integrity, Integrity::Verified);
    assert_eq!(reopened.head_hash(), s.head_hash());
    assert!(
        s.model
            .incidents
            .values()
            .all(|i| i.reported_by == admin.name)
    );
}

fn a_second_store_handle_catches_up_before_deciding(place: Place) {
    let admin = place.init();
    let quinn = place.user("quinn");
    let mut a = admin.open();
    let mut b = quinn.open();
    report_by(&mut a, &admin, "from a");
    report_by(&mut b, &quinn, "from b");
    let ids: Vec<u64> = b.model.incidents.keys().map(|i| i.0).collect();
    assert_eq!(ids, vec![1, 2]);
    assert!(a.refresh().unwrap());
    assert_eq!(a.model, b.model);
}

fn an_edited_line_is_named_reads_warn_and_writes_are_refused(place: Place) {
    let admin = place.init();
    let mut s = admin.open();
    report_by(&mut s, &admin, "original title");
    report_by(&mut s, &admin, "second");
    let line = format!("line {}", seq_holding(&s, "original title"));
    place.edit_log("original title", "forged title");

    let out = admin.cli().arg("verify").assert().code(1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(&line) && stderr.contains("edited"),
        "{stderr}"
    );

    let out = admin.cli().args(["incident", "list"]).assert().success();
    assert!(
        stderr_of(&out).contains(&format!("{line} of the event log fails verification")),
        "{}",
        stderr_of(&out)
    );
    let out = admin
        .cli()
        .args(["incident", "new", "--title", "x", "--severity", "P1"])
        .assert()
        .code(1);
    assert!(stderr_of(&out).contains("read-only"));
    assert_eq!(admin.open().model.incidents.len(), 2, "nothing was written");
}

fn an_unknown_format_version_is_refused_clearly(place: Place) {
    let admin = place.init();
    place.edit_log("{\"v\":1,", "{\"v\":2,");
    let out = admin.cli().args(["incident", "list"]).assert().code(1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("line 1") && stderr.contains("format version 2"),
        "{stderr}"
    );
}

fn two_processes_appending_concurrently_lose_nothing(place: Place) {
    let admin = place.init();
    let per_writer = 100;
    let writers: Vec<User> = ["w1", "w2"].into_iter().map(|n| place.user(n)).collect();
    std::thread::scope(|scope| {
        for w in &writers {
            scope.spawn(move || {
                for i in 0..per_writer {
                    w.cli()
                        .args([
                            "incident",
                            "new",
                            "--title",
                            &format!("{}-{i}", w.name),
                            "--severity",
                            "P3",
                        ])
                        .assert()
                        .success();
                }
            });
        }
    });
    let store = admin.open();
    assert_eq!(store.integrity, Integrity::Verified);
    assert_eq!(store.model.incidents.len(), 2 * per_writer);
    let ids: Vec<u64> = store.model.incidents.keys().map(|i| i.0).collect();
    assert_eq!(
        ids,
        (1..=2 * per_writer as u64).collect::<Vec<_>>(),
        "ids are unique and dense"
    );
    for w in &writers {
        let mine: Vec<String> = store
            .model
            .incidents
            .values()
            .filter(|i| i.reported_by == w.name)
            .map(|i| i.title.clone())
            .collect();
        let expected: Vec<String> = (0..per_writer).map(|i| format!("{}-{i}", w.name)).collect();
        assert_eq!(
            mine, expected,
            "{}'s events are all there, in order",
            w.name
        );
    }
    admin.cli().arg("verify").assert().success();
}

fn two_processes_cannot_fill_one_role_twice(place: Place) {
    let admin = place.init();
    let [avery, ana, ben, sam] = ["avery", "ana", "ben", "sam"].map(|n| place.user(n));
    let mut s = admin.open();
    for u in [&avery, &ana, &ben] {
        s.execute(
            &admin.name,
            now(),
            Command::GrantRole {
                user: u.name.clone(),
                role: "sre-avp".into(),
            },
        )
        .unwrap();
    }
    report_by(&mut s, &admin, "x");
    avery
        .open()
        .execute(
            &avery.name,
            now(),
            Command::QualifyIncident {
                id: hotfix::state::IncidentId(1),
                decision: hotfix::state::Decision::Hotfix,
                risk: hotfix::state::Risk::Low,
                impact: "i".into(),
                rationale: "r".into(),
                public: String::new(),
            },
        )
        .unwrap();
    sam.open()
        .execute(
            &sam.name,
            now(),
            Command::CreateHotfix {
                incidents: vec![hotfix::state::IncidentId(1)],
                scope: common::scope(),
            },
        )
        .unwrap();
    let codes: Vec<i32> = std::thread::scope(|scope| {
        let racers: Vec<_> = [&ana, &ben]
            .into_iter()
            .map(|u| {
                scope.spawn(move || {
                    u.cli()
                        .args(["approve", "HF-1", "--role", "sre-avp"])
                        .output()
                        .unwrap()
                })
            })
            .collect();
        racers
            .into_iter()
            .map(|r| r.join().unwrap().status.code().unwrap())
            .collect()
    });
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(sorted, vec![0, 3], "{codes:?}");
    let store = admin.open();
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

/// This user's checkpoint files of the store (model and meta), named by its identity.
fn checkpoint_files(user: &User) -> [std::path::PathBuf; 2] {
    use sha2::Digest;
    let identity = user.open().identity();
    let key: String = sha2::Sha256::digest(identity.as_bytes())
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    let base = common::state_home().join("hotfix").join("checkpoints");
    [
        base.join(format!("{key}.bin")),
        base.join(format!("{key}.json")),
    ]
}

fn write_one(user: &User, title: &str) -> std::process::Output {
    user.cli()
        .args(["incident", "new", "--title", title, "--severity", "P4"])
        .output()
        .unwrap()
}

fn writes_start_from_the_users_checkpoint_and_the_whole_log_is_read_again_after_a_day(
    place: Place,
) {
    let admin = place.init();
    let mut s = admin.open();
    report_by(&mut s, &admin, "first");
    report_by(&mut s, &admin, "second");
    assert!(write_one(&admin, "full read").status.success());
    let [model, meta] = checkpoint_files(&admin);
    assert!(
        model.is_file() && meta.is_file(),
        "the first write checkpoints"
    );
    // A casual edit of an old line: a write within the day, from the checkpoint, does not read
    // it; `verify` (which always reads the whole log) names it.
    place.edit_log("\"title\":\"first\"", "\"title\":\"FIRST\"");
    assert!(write_one(&admin, "from the checkpoint").status.success());
    // Once the last full verification is over a day old, the next write reads it all, finds
    // the edit and refuses: the store is read-only, as always.
    let mut m: serde_json::Value = serde_json::from_slice(&fs::read(&meta).unwrap()).unwrap();
    m["verified_at"] = serde_json::json!("2020-01-01T00:00:00Z");
    fs::write(&meta, serde_json::to_vec(&m).unwrap()).unwrap();
    let out = write_one(&admin, "after a day");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("read-only"));
    admin.cli().arg("verify").assert().code(1);
    assert!(
        !meta.exists(),
        "verify's finding ends what the checkpoint vouches for"
    );
}

fn verify_finding_damage_makes_the_next_command_read_the_whole_log(place: Place) {
    let admin = place.init();
    let mut s = admin.open();
    report_by(&mut s, &admin, "first");
    report_by(&mut s, &admin, "second");
    // The checkpoint this user's first write makes covers both (and names "second").
    assert!(write_one(&admin, "third").status.success());
    place.edit_log("\"title\":\"first\"", "\"title\":\"FIRST\"");
    assert!(write_one(&admin, "within the day").status.success());
    admin.cli().arg("verify").assert().code(1);
    let out = write_one(&admin, "after verify");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("read-only"));
}

fn a_missing_or_damaged_checkpoint_means_a_full_read_and_a_new_one(place: Place) {
    let admin = place.init();
    assert!(write_one(&admin, "a").status.success());
    let [model, meta] = checkpoint_files(&admin);
    let other_version = || {
        let mut bytes = fs::read(&model).unwrap();
        let version = env!("CARGO_PKG_VERSION").as_bytes();
        let at = bytes
            .windows(version.len())
            .position(|w| w == version)
            .unwrap();
        bytes[at] = b'9'; // the header's hotfix version: another release wrote it
        bytes
    };
    for damage in [b"\x01garbage".to_vec(), Vec::new(), other_version()] {
        fs::write(&model, damage).unwrap();
        assert!(write_one(&admin, "b").status.success());
        // Rewritten by the full read, as the log stood before this write.
        let snap = hotfix::store::snapshot::read(&fs::read(&model).unwrap()).expect("rewritten");
        let now = admin.open();
        assert_eq!(snap.mark.lines + 1, now.model.seq);
        assert_eq!(snap.model.seq, snap.mark.lines);
    }
    fs::remove_file(&meta).unwrap();
    assert!(write_one(&admin, "c").status.success());
    assert!(meta.is_file());
    // The same answers whichever way the store was opened.
    admin.cli().arg("verify").assert().success();
}

#[test]
fn statistics_read_the_kept_facts_back_to_the_period_and_agree_with_the_whole_model() {
    use hotfix::state::insights;
    // 1,500 incidents over about 100 days: hundreds of archived hotfixes, several chunks.
    let (_dir, path) = generated(1500);
    let checkpoints = tempfile::tempdir().unwrap();
    let at = now();
    common::open_for_command(&path, checkpoints.path(), at).unwrap();
    let mut part = common::open_for_command(&path, checkpoints.path(), at).unwrap();
    assert!(
        !part.model.is_complete(),
        "opened from the checkpoint, closed work left out"
    );
    let whole = common::open(&path).unwrap();
    let all = insights::facts(&whole.model);
    for days in [None, Some(1), Some(20), Some(45), Some(90), Some(400)] {
        let since = days.map(|d| at - chrono::Duration::days(d));
        let got = part.facts(since).unwrap();
        // Everything from the period's start is there, as the whole model has it.
        for (id, f) in all
            .iter()
            .filter(|(_, f)| since.is_none_or(|s| f.created >= s))
        {
            assert_eq!(got.get(id), Some(f), "{id} for {days:?} days");
        }
        let filter = insights::Filter {
            since,
            service: None,
        };
        assert_eq!(
            insights::stats(&got, &part.model.policy, &filter, at),
            insights::stats(&all, &whole.model.policy, &filter, at),
            "{days:?} days"
        );
    }
    assert!(
        !part.model.is_complete(),
        "and the archive was never loaded"
    );
}

fn a_checkpoint_forged_with_its_digests_recomputed_is_never_used(place: Place) {
    let admin = place.init();
    assert!(write_one(&admin, "the real title").status.success());
    assert!(write_one(&admin, "another").status.success());
    let [model, meta] = checkpoint_files(&admin);
    // Someone who can write this user's cache rewrites the checkpoint: mallory made admin,
    // every digest recomputed (through hotfix's own writer). The meta keeps its MAC, which
    // the forger cannot make without the key in the state directory.
    let mut snap = hotfix::store::snapshot::read(&fs::read(&model).unwrap()).expect("a checkpoint");
    snap.model
        .users
        .insert("mallory".into(), ["admin".to_string()].into());
    let mut forged = Vec::new();
    hotfix::store::snapshot::write(&mut forged, &snap.mark, &snap.model, None).unwrap();
    fs::write(&model, &forged).unwrap();
    assert!(meta.is_file());
    let out = admin.cli().args(["user", "list"]).assert().success();
    let shown = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(!shown.contains("mallory"), "{shown}");
    // The full read wrote a checkpoint of its own again.
    let snap = hotfix::store::snapshot::read(&fs::read(&model).unwrap()).expect("rewritten");
    assert!(!snap.model.users.contains_key("mallory"));
}

fn lines_appended_around_the_rules_are_inert_and_named(place: Place) {
    use hotfix::state::{Event, IncidentStatus, ReleaseId};
    let admin = place.init();
    let avery = place.user("avery");
    let sam = place.user("sam");
    for (user, role) in [
        (&avery, "sre-avp"),
        (&avery, "prod-owner"),
        (&sam, "dev-lead"),
    ] {
        admin
            .cli()
            .args(["user", "grant", &user.name, role])
            .assert()
            .success();
    }
    let run = |user: &User, args: &[&str]| user.cli().args(args).assert().success();
    run(
        &avery,
        &["incident", "new", "--title", "Down", "--severity", "P1"],
    );
    run(
        &avery,
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
            "down",
        ],
    );
    run(
        &sam,
        &[
            "release",
            "new",
            "--incident",
            "INC-1",
            "--version",
            "1.0.1",
            "--summary",
            "fix",
            "--changes",
            "c",
            "--risks",
            "r",
            "--rollback",
            "b",
        ],
    );
    run(&avery, &["approve", "HF-1", "--role", "sre-avp"]);
    let before = admin.open().model;
    let hf1 = ReleaseId::Hotfix(1);
    let rel = &before.releases[&hf1];
    // A sample of what the property test forges, on a real store: a second role, a deploy and
    // a close on a shut gate, power taken, and an event no reader can take.
    let forged = [
        avery.append_by_hand(Event::ApprovalGiven {
            id: hf1,
            role: "prod-owner".into(),
            comment: String::new(),
            revision: rel.revision,
            fingerprint: rel.scope.fingerprint(),
            signature: None,
            on_behalf: None,
        }),
        sam.append_by_hand(Event::DeployStarted {
            id: hf1,
            severity: before.release_severity(rel),
            required_roles: before.required_roles(rel),
            exempted: None,
        }),
        sam.append_by_hand(Event::ReleaseDeployed {
            id: hf1,
            commit: None,
            artifact: None,
        }),
        sam.append_by_hand(Event::ReleaseClosed {
            id: hf1,
            carried_to: None,
        }),
        avery.append_by_hand(Event::RoleGranted {
            user: avery.name.clone(),
            role: "admin".into(),
        }),
    ];
    // Everyone goes on: a legal write after them, by the user they would have served.
    run(
        &sam,
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
    for user in [&admin, &avery] {
        let m = user.open().model;
        let named: Vec<u64> = m.illegal.iter().map(|i| i.seq).collect();
        assert_eq!(named, forged, "{:?}", m.illegal);
        let hf = &m.releases[&hf1];
        assert_eq!(hf.approvals.len(), 1);
        assert_eq!(hf.phase, hotfix::state::Phase::Pending);
        assert_eq!(hf.tests.len(), 1);
        assert!(!m.holds(&avery.name, "admin"));
        assert_ne!(
            m.incidents[&hotfix::state::IncidentId(1)].status,
            IncidentStatus::Resolved
        );
        assert!(!m.gate(hf1).unwrap().ready);
    }
    let out = avery.cli().arg("verify").assert().code(1);
    let why = stderr_of(&out);
    assert!(
        why.contains("5 line(s) record what the rules refuse"),
        "{why}"
    );
}

#[test]
fn a_records_trail_is_read_from_its_own_lines_and_is_what_a_walk_of_the_log_finds() {
    let (_dir, store) = common::demo();
    let model = &store.model;
    let log = store.trail(model, None, None).unwrap();
    let walk = |release, incident| -> Vec<u64> {
        log.iter()
            .filter(|r| model.in_trail(r, release, incident))
            .map(|r| r.seq)
            .collect()
    };
    let seqs =
        |trail: Vec<hotfix::state::Recorded>| trail.iter().map(|r| r.seq).collect::<Vec<_>>();
    for id in model.releases.keys() {
        let trail = seqs(store.trail(model, Some(*id), None).unwrap());
        assert!(!trail.is_empty());
        assert_eq!(trail, walk(Some(*id), None), "{id}");
    }
    for id in model.incidents.keys() {
        let trail = seqs(store.trail(model, None, Some(*id)).unwrap());
        assert_eq!(trail, walk(None, Some(*id)), "{id}");
        if let Some(r) = model
            .releases
            .values()
            .find(|r| r.scope.incidents.contains(id))
        {
            let both = seqs(store.trail(model, Some(r.id), Some(*id)).unwrap());
            assert_eq!(both, walk(Some(r.id), Some(*id)), "{} and {id}", r.id);
        }
    }
}

#[test]
fn a_line_is_found_by_its_sequence_number_in_a_large_log() {
    use hotfix::store::{AnyLog, Backend};
    let dir = tempfile::tempdir().unwrap();
    hotfix::demo::generate(dir.path(), "you", common::noon(), 400).unwrap();
    let backend = AnyLog::open(&dir.path().into()).unwrap();
    let lock = backend.lock(std::time::Duration::from_secs(5)).unwrap();
    let end = std::fs::metadata(common::log_of(dir.path())).unwrap().len();
    let text = std::fs::read_to_string(common::log_of(dir.path())).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        end > 1 << 20,
        "large enough for the search to halve many times"
    );
    let wanted: Vec<u64> = (1..=lines.len() as u64)
        .step_by(7)
        .chain([lines.len() as u64])
        .collect();
    let within = hotfix::store::Position {
        lines: lines.len() as u64,
        bytes: end,
    };
    let found = backend.read_lines(&lock, &wanted, within).unwrap();
    assert_eq!(found.len(), wanted.len());
    for (seq, raw) in wanted.iter().zip(&found) {
        assert_eq!(
            std::str::from_utf8(raw).unwrap(),
            format!("{}\n", lines[*seq as usize - 1])
        );
    }
    // Past the end, or not yet read: not found, never another line.
    let beyond = backend
        .read_lines(&lock, &[lines.len() as u64 + 1], within)
        .unwrap();
    assert!(beyond.is_empty());
    // With where it starts: there and nowhere else.
    let second = lines[0].len() as u64 + 1;
    assert!(
        backend
            .read_line(&lock, 2, Some(second), within)
            .unwrap()
            .is_some()
    );
    assert!(
        backend
            .read_line(&lock, 3, Some(second), within)
            .unwrap()
            .is_none()
    );
}

#[test]
fn lists_of_everything_read_the_closed_records_a_chunk_at_a_time_and_say_the_same() {
    // 600 incidents over about 40 days: most of them closed, in many chunks.
    let (_dir, path) = generated(600);
    let state = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = hotfix(&path, "you")
            .env("XDG_STATE_HOME", state.path())
            .env("XDG_CACHE_HOME", state.path())
            .args(args)
            .assert()
            .success();
        String::from_utf8_lossy(&out.get_output().stdout).into_owned()
    };
    for args in [
        &["incident", "list", "--all", "--json"][..],
        &["release", "list", "--all", "--json"],
        &["incident", "list", "--all"],
        &["release", "list", "--all"],
    ] {
        // The first run reads the log whole (and writes this user's checkpoint); the second
        // starts from the checkpoint, with the closed records left out until listed.
        fs::remove_dir_all(state.path()).unwrap();
        fs::create_dir(state.path()).unwrap();
        let whole = run(args);
        let from_checkpoint = run(args);
        assert_eq!(whole, from_checkpoint, "{args:?}");
        assert!(
            whole.lines().count() > 100,
            "{args:?}: everything is listed"
        );
    }
    // In process: a store from the checkpoint folds the same records, part by part, without
    // ever holding them all.
    let checkpoints = tempfile::tempdir().unwrap();
    common::open_for_command(&path, checkpoints.path(), now()).unwrap();
    let mut part = common::open_for_command(&path, checkpoints.path(), now()).unwrap();
    assert!(
        !part.model.is_complete(),
        "the closed records were left out"
    );
    let ids = |m: &hotfix::state::Model| m.incidents.keys().copied().collect::<Vec<_>>();
    let mut parts = 0;
    let mut folded = part
        .fold_parts(Vec::new, |acc, m| {
            parts += 1;
            acc.extend(ids(m));
        })
        .unwrap();
    folded.sort();
    assert!(parts > 3, "{parts} parts");
    assert!(!part.model.is_complete(), "and stay out");
    assert_eq!(folded, ids(&common::open(&path).unwrap().model));
}
