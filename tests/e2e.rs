//! End to end in a real terminal: the binary runs inside tmux, keys are typed and the screen is
//! read as a person would. Needs tmux (`.ci/run` installs it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::tmux::Tmux;
use hotfix::state::ReleaseId;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn demo_store(dir: &Path) {
    common::hotfix(dir, "you").arg("demo").assert().success();
}

/// The cockpit as `user` with extra environment, then (once it exits) whether the terminal is back in canonical mode with echo.
fn cockpit(store: &Path, user: &str) -> String {
    cockpit_env(store, user, "")
}

fn cockpit_env(store: &Path, user: &str, env: &str) -> String {
    format!(
        "env {env} XDG_STATE_HOME={home} XDG_CACHE_HOME={home} HOTFIX_USER={user} NO_COLOR=1 TERM=xterm-256color {bin} --store {store}; echo EXITED $?; stty -a | tr ' ' '\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo STTY-DONE; sleep 60",
        home = common::state_home().display(),
        bin = env!("CARGO_BIN_EXE_hotfix"),
        store = store.display()
    )
}

/// The newest approval of the demo's HF-3, as the store on disk has it.
fn last_approval_of_hf3(dir: &Path) -> hotfix::state::Approval {
    let store = common::open(dir).unwrap();
    let hf3 = store.model.release(ReleaseId::Hotfix(3)).unwrap();
    hf3.approvals.last().unwrap().clone()
}

fn terminal_restored(screen: &str) -> bool {
    screen.contains("icanon echo") && !screen.contains("-icanon") && !screen.contains("-echo ")
}

#[test]
fn a_scope_edited_while_the_dialog_is_open_is_shown_and_never_approved_unseen() {
    let dir = tempfile::tempdir().unwrap();
    demo_store(dir.path());
    let tmux = Tmux::start("moved", &cockpit(dir.path(), "priya"));
    tmux.wait_for("Waiting on you: approve HF-3 as prod-owner", 10);
    tmux.keys(&["a"]);
    tmux.wait_for("Approve revision 2", 5);
    // The dialog opens in the comment: `y`, `e` and `s` are text here.
    tmux.keys(&["-l", "yes"]);
    tmux.keys(&["Enter"]);
    // Meanwhile, in another terminal, the author changes the scope.
    common::hotfix(dir.path(), "sam")
        .args(["release", "edit", "HF-3", "--risks", "also touches refunds"])
        .assert()
        .success();
    let screen = tmux.wait_for("changed to revision 3 while this was open", 5);
    assert!(screen.contains("also touches refunds"), "{screen}");
    // A confirming Enter now records nothing: it only shows revision 3 as what to decide.
    tmux.keys(&["Enter", "Enter"]);
    tmux.wait_for("Approve revision 3", 5);
    let hf3 = common::open(dir.path()).unwrap();
    let approvals = &hf3.model.release(ReleaseId::Hotfix(3)).unwrap().approvals;
    assert!(
        approvals.iter().all(|a| a.approver != "priya"),
        "nothing recorded for the revision priya did not see: {approvals:?}"
    );
    // The deliberate second step records revision 3, with what was typed.
    tmux.keys(&["Enter", "Enter"]);
    tmux.wait_for("[x] prod-owner priya", 5);
    let last = last_approval_of_hf3(dir.path());
    assert_eq!(
        (last.approver.as_str(), last.revision, last.comment.as_str()),
        ("priya", 3, "yes")
    );
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED 0", 5);
    // The cockpit's log is owner-only and names what happened, never what was written.
    use std::os::unix::fs::PermissionsExt;
    let log = common::state_home().join("hotfix").join("hotfix.log");
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("priya recorded"), "{text}");
    assert!(
        !text.contains("refunds") && !text.contains("\"yes\""),
        "{text}"
    );
}

#[test]
fn ctrl_c_inside_a_form_exits_and_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    demo_store(dir.path());
    let tmux = Tmux::start("ctrlc", &cockpit(dir.path(), "you"));
    tmux.wait_for("Incident queue", 10);
    tmux.keys(&["n"]);
    tmux.wait_for("Report an incident", 5);
    tmux.keys(&["-l", "half typed"]);
    tmux.keys(&["C-c"]);
    let screen = tmux.wait_for("STTY-DONE", 5);
    assert!(
        screen.contains("EXITED 0") && terminal_restored(&screen),
        "{screen}"
    );
}

#[test]
fn approve_in_the_cockpit_then_see_another_process_approve_live() {
    let dir = tempfile::tempdir().unwrap();
    demo_store(dir.path());
    let tmux = Tmux::start("approve", &cockpit(dir.path(), "priya"));
    tmux.wait_for("Waiting on you: approve HF-3 as prod-owner", 10);
    tmux.wait_for("[ ] prod-owner waiting", 5);

    tmux.keys(&["a"]);
    tmux.wait_for("HF-3 revision 2 approved by priya as prod-owner", 5);
    // From the comment to the confirm step; the second Enter records.
    tmux.keys(&["Enter", "Enter"]);
    tmux.wait_for("[x] prod-owner priya", 5);
    let approval = last_approval_of_hf3(dir.path());
    assert_eq!(
        (approval.role.as_str(), approval.approver.as_str()),
        ("prod-owner", "priya")
    );

    // Another process approves; the open screen shows it without a key press.
    assert!(tmux.screen().contains("STALE"));
    common::hotfix(dir.path(), "dana")
        .args(["approve", "HF-3", "--role", "dev-lead"])
        .assert()
        .success();
    tmux.wait_for("[x] dev-lead   dana", 3);

    tmux.keys(&["q"]);
    let screen = tmux.wait_for("STTY-DONE", 5);
    assert!(
        screen.contains("EXITED 0") && terminal_restored(&screen),
        "{screen}"
    );
}

#[test]
fn signals_restore_the_terminal() {
    for signal in ["TERM", "HUP", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        demo_store(dir.path());
        let tmux = Tmux::start(&format!("sig{signal}"), &cockpit(dir.path(), "you"));
        tmux.wait_for("Incident queue", 10);
        let pid = tmux.child_pid();
        assert!(
            Command::new("kill")
                .args([&format!("-{signal}"), &pid])
                .status()
                .unwrap()
                .success()
        );
        let screen = tmux.wait_for("STTY-DONE", 5);
        assert!(terminal_restored(&screen), "SIG{signal}: {screen}");
    }
}

#[test]
fn without_a_store_the_cockpit_offers_to_create_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("fresh");
    let tmux = Tmux::start("fresh", &cockpit(&store, "ops"));
    tmux.wait_for("There is no hotfix store", 10);
    tmux.keys(&["i"]);
    tmux.wait_for("ops (admin)", 5);
    tmux.keys(&["n"]);
    tmux.wait_for("Report an incident", 5);
    for c in ["D", "B", " ", "d", "o", "w", "n"] {
        tmux.keys(&["-l", c]);
    }
    tmux.keys(&["Enter", "Left", "Enter", "Enter", "Enter", "Enter"]);
    tmux.wait_for("recorded: INC-1 reported (P1): DB down", 5);
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED 0", 5);
    let s = common::open(&store).unwrap();
    assert_eq!(s.model.incidents.len(), 1);
}

#[test]
fn without_a_terminal_the_cockpit_says_so_plainly() {
    let dir = tempfile::tempdir().unwrap();
    demo_store(dir.path());
    let out = common::hotfix(dir.path(), "you").assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("needs a terminal"), "{stderr}");
    assert!(!stderr.contains('\u{1b}') && out.get_output().stdout.is_empty());
}

#[test]
fn a_panic_mid_render_restores_the_terminal_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    demo_store(dir.path());
    let tmux = Tmux::start(
        "panic",
        &cockpit_env(
            dir.path(),
            "you",
            "HOTFIX_DEBUG_PANIC_IN_RENDER=1 RUST_BACKTRACE=0",
        ),
    );
    let screen = tmux.wait_for("STTY-DONE", 10);
    assert!(
        screen.contains("panicking mid-render as asked"),
        "the report is printed: {screen}"
    );
    assert!(
        screen.contains("EXITED 101") && terminal_restored(&screen),
        "{screen}"
    );
}

#[test]
fn a_resize_storm_never_breaks_the_cockpit() {
    let dir = tempfile::tempdir().unwrap();
    demo_store(dir.path());
    let tmux = Tmux::start("resize", &cockpit(dir.path(), "you"));
    tmux.wait_for("Incident queue", 10);
    for i in 0..60u16 {
        let (w, h) = [
            (1, 1),
            (2, 1),
            (20, 3),
            (59, 15),
            (60, 16),
            (80, 24),
            (200, 60),
            (31 + i, 7 + i / 3),
        ][usize::from(i % 8)];
        let _ = tmux
            .cmd(&[
                "resize-window",
                "-t",
                "e2e",
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string(),
            ])
            .status();
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = tmux
        .cmd(&["resize-window", "-t", "e2e", "-x", "30", "-y", "10"])
        .status();
    tmux.wait_for("Terminal too small", 5);
    let _ = tmux
        .cmd(&["resize-window", "-t", "e2e", "-x", "100", "-y", "30"])
        .status();
    tmux.wait_for("Incident queue", 5);
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("STTY-DONE", 5);
    assert!(
        screen.contains("EXITED 0") && terminal_restored(&screen),
        "{screen}"
    );
}

#[test]
fn closing_the_terminal_ends_the_cockpit() {
    // crossterm alone would spin at full CPU on a hung-up terminal; the cockpit must exit.
    let dir = tempfile::tempdir().unwrap();
    demo_store(dir.path());
    let tmux = Tmux::start("hangup", &cockpit(dir.path(), "you"));
    tmux.wait_for("Incident queue", 10);
    let pid = tmux.child_pid();
    let _ = tmux.cmd(&["kill-server"]).status();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the cockpit (pid {pid}) outlived its terminal"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_large_store_opens_from_its_snapshot_and_a_forged_snapshot_is_caught_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    common::hotfix(dir.path(), "you")
        .args(["demo", "--incidents", "150"])
        .assert()
        .success();
    let snapshot = dir.path().join(hotfix::store::SNAPSHOT_FILE);
    let mut snap = hotfix::store::snapshot::read(&std::fs::read(&snapshot).unwrap())
        .expect("the generator wrote a snapshot");
    let first = snap.model.incident_queue(false)[0].id;
    snap.model.incidents.get_mut(&first).unwrap().title = "FORGED TITLE".into();
    let mut bytes = Vec::new();
    hotfix::store::snapshot::write(&mut bytes, &snap.mark, &snap.model, None).unwrap();
    std::fs::write(&snapshot, bytes).unwrap();

    let tmux = Tmux::start("snapshot", &cockpit(dir.path(), "you"));
    let screen = tmux.wait_for("did not match the log", 15);
    assert!(!screen.contains("FORGED TITLE"), "{screen}");
    let rewritten = hotfix::store::snapshot::read(&std::fs::read(&snapshot).unwrap()).unwrap();
    assert_eq!(rewritten.model, common::open(dir.path()).unwrap().model);
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("STTY-DONE", 5);
    assert!(screen.contains("EXITED 0"), "{screen}");
}

#[test]
fn the_cockpits_background_check_names_an_old_casual_edit_and_the_store_turns_read_only() {
    let dir = tempfile::tempdir().unwrap();
    common::hotfix(dir.path(), "you")
        .args(["demo", "--incidents", "150"])
        .assert()
        .success();
    // A command makes this user's checkpoint: the cockpit starts from it.
    common::hotfix(dir.path(), "you")
        .args(["incident", "list"])
        .assert()
        .success();
    let log = common::log_of(dir.path());
    let text = std::fs::read_to_string(&log).unwrap();
    let edited = text.replacen("\"actor\":\"morgan\"", "\"actor\":\"norgan\"", 1);
    assert_ne!(text, edited);
    std::fs::write(&log, edited).unwrap();
    let tmux = Tmux::start("casual-edit", &cockpit(dir.path(), "you"));
    let screen = tmux.wait_for("fails verification", 15);
    assert!(screen.contains("line 1"), "{screen}");
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("STTY-DONE", 5);
    assert!(screen.contains("EXITED 0"), "{screen}");
    // What the cockpit found, the next command finds too: the checkpoint no longer vouches.
    let out = common::hotfix(dir.path(), "you")
        .args(["incident", "new", "--title", "x", "--severity", "P4"])
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("read-only"));
}

#[test]
fn an_import_is_read_off_the_screen_and_esc_stops_it_with_no_key_falling_through() {
    let dir = tempfile::tempdir().unwrap();
    demo_store(dir.path());
    // A large report (a million test cases): reading it takes a while in any build.
    let big = dir.path().join("big.xml");
    let mut xml = String::from("<testsuite name=\"big\">");
    for i in 0..1_000_000 {
        xml.push_str(&format!("<testcase classname=\"p\" name=\"t{i}\"/>"));
    }
    xml.push_str("</testsuite>");
    std::fs::write(&big, xml).unwrap();
    let before = std::fs::read(dir.path().join("events.jsonl")).unwrap();
    let tmux = Tmux::start("reading", &cockpit(dir.path(), "you"));
    tmux.wait_for("Incident queue", 10);
    tmux.keys(&["3", "I"]);
    tmux.wait_for("Import test results into HF-3", 5);
    tmux.keys(&["-l", big.to_str().unwrap()]);
    tmux.keys(&["Enter", "Enter"]);
    tmux.wait_for("reading…", 5);
    // Keys typed meanwhile go nowhere: `n` would open a new incident, `q` would quit.
    tmux.keys(&["n", "q"]);
    let screen = tmux.wait_for("Esc stops", 5);
    assert!(!screen.contains("Report an incident"), "{screen}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("stopped: nothing was recorded", 5);
    // The dialog is still there; a second Esc closes it, and the cockpit goes on.
    tmux.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("STTY-DONE", 10);
    assert!(
        screen.contains("EXITED 0") && terminal_restored(&screen),
        "{screen}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("events.jsonl")).unwrap(),
        before
    );
}

#[test]
fn a_notice_is_posted_off_the_screen_and_recorded_when_the_webhook_answers() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    demo_store(dir.path());
    // A webhook that takes two seconds to answer.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            let mut buf = [0u8; 65536];
            let _ = conn.read(&mut buf);
            std::thread::sleep(Duration::from_secs(2));
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        }
    });
    let env = format!("HOTFIX_WEBHOOK_URL=http://127.0.0.1:{port}/hook");
    let tmux = Tmux::start("posting", &cockpit_env(dir.path(), "you", &env));
    tmux.wait_for("Incident queue", 10);
    tmux.keys(&["4", "N"]);
    tmux.wait_for("Send a notice about HF-3", 5);
    tmux.keys(&["Enter", "Enter", "Enter"]);
    tmux.wait_for("sending the planned notice for ops", 5);
    // The screen goes on meanwhile, and typed keys fall nowhere.
    tmux.keys(&["n"]);
    let screen = tmux.screen();
    assert!(!screen.contains("Report an incident"), "{screen}");
    tmux.wait_for("HF-3 planned notice for ops sent", 10);
    let store = common::open(dir.path()).unwrap();
    let hf3 = store.model.release(ReleaseId::Hotfix(3)).unwrap();
    assert!(
        hf3.notices.iter().any(|n| n.error.is_none()),
        "{:?}",
        hf3.notices
    );
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("STTY-DONE", 10);
    assert!(
        screen.contains("EXITED 0") && terminal_restored(&screen),
        "{screen}"
    );
}

#[test]
fn at_80x24_a_refusal_swallows_what_is_typed_p_records_passed_and_the_scope_scrolls_whole() {
    let dir = tempfile::tempdir().unwrap();
    demo_store(dir.path());
    // The author rewrites HF-3's changes at length: 14 lines.
    let changes: String = (1..=14)
        .map(|i| format!("- item {i}: change number {i}\n"))
        .collect();
    common::hotfix(dir.path(), "sam")
        .args(["release", "edit", "HF-3", &format!("--changes={changes}")])
        .assert()
        .success();
    let tmux = Tmux::start("at80", &cockpit(dir.path(), "quinn"));
    tmux.resize(80, 24);
    tmux.wait_for("Incident queue", 10);
    // quinn (qa) may not qualify: refused in the status line, and what is typed next, Enter
    // included, reaches nothing.
    tmux.keys(&["Q"]);
    tmux.wait_for("refused (Esc or Enter to go on", 5);
    tmux.keys(&["-l", "resolve this"]);
    std::thread::sleep(Duration::from_millis(300));
    let screen = tmux.screen();
    assert!(
        !screen.contains("Resolve INC") && !screen.contains("Report an incident"),
        "{screen}"
    );
    tmux.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    // The status picker: `p` is passed, and passed is recorded.
    tmux.keys(&["3"]);
    tmux.keys(&["Space"]);
    tmux.wait_for("Set the status of", 5);
    tmux.keys(&["f"]);
    tmux.wait_for("‹ failed ›", 5);
    tmux.keys(&["p"]);
    tmux.wait_for("‹ passed ›", 5);
    tmux.keys(&["Enter", "Enter", "Enter"]);
    tmux.wait_for("passed", 5);
    let store = common::open(dir.path()).unwrap();
    let hf3 = store.model.release(ReleaseId::Hotfix(3)).unwrap();
    assert!(
        hf3.tests
            .iter()
            .any(|t| t.updated_by == "quinn" && t.status == hotfix::state::TestStatus::Passed),
        "{:?}",
        hf3.tests
    );
    tmux.keys(&["q"]);
    tmux.wait_for("STTY-DONE", 10);
    // priya reads the whole scope at 80x24: PgDn reaches its last line.
    let tmux = Tmux::start("at80b", &cockpit(dir.path(), "priya"));
    tmux.resize(80, 24);
    tmux.wait_for("Incident queue", 10);
    tmux.keys(&["a"]);
    tmux.wait_for("scope lines 1-", 5);
    tmux.keys(&["PageDown"]);
    tmux.keys(&["PageDown"]);
    tmux.wait_for("- item 14: change number 14", 5);
    tmux.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    // The approvals pane scrolled at 80x24 shows every row again at 200x50.
    tmux.keys(&["2"]);
    for _ in 0..12 {
        tmux.keys(&["j"]);
    }
    std::thread::sleep(Duration::from_millis(300));
    tmux.resize(200, 50);
    tmux.wait_for("[~] sre-avp    avery STALE", 5);
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("STTY-DONE", 10);
    assert!(
        screen.contains("EXITED 0") && terminal_restored(&screen),
        "{screen}"
    );
}

#[test]
fn at_80x24_the_approve_dialog_shows_the_diff_and_scrolls_to_its_last_hunk() {
    // A repository whose hotfix changes three places in one file: three hunks.
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    let file = |changed: &[(usize, &str)]| {
        let mut lines: Vec<String> = (0..200).map(|i| format!("line {i}")).collect();
        for (at, text) in changed {
            lines[*at] = (*text).to_string();
        }
        std::fs::write(repo.join("big.rs"), lines.join("\n") + "\n").unwrap();
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.email", "t@example.org"]);
    git(&["config", "user.name", "T"]);
    file(&[]);
    git(&["add", "big.rs"]);
    git(&["commit", "-q", "-m", "A"]);
    git(&["checkout", "-q", "-b", "hotfix"]);
    file(&[
        (5, "line 5 fixed"),
        (100, "line 100 fixed"),
        (190, "the last hunk"),
    ]);
    git(&["commit", "-q", "-a", "-m", "B"]);
    let store = dir.path().join("store");
    common::init_with(&store, &[("avery", "sre-avp"), ("sam", "dev-lead")]);
    common::qualified_incident(&store, "avery", "P2", &[]);
    let repo_dir = repo.to_str().unwrap();
    common::ok(
        &store,
        "sam",
        &common::hotfix_new(&["--commit", "hotfix", "--repo", repo_dir]),
    );
    let tmux = Tmux::start("diff80", &cockpit(&store, "avery"));
    tmux.resize(80, 24);
    tmux.wait_for("Waiting on you: approve HF-1", 10);
    tmux.keys(&["a"]);
    let screen = tmux.wait_for("Approve revision 1", 5);
    assert!(
        screen.contains("+1    -1") || screen.contains("+3    -3"),
        "{screen}"
    );
    for _ in 0..10 {
        tmux.keys(&["PageDown"]);
    }
    let screen = tmux.wait_for("+the last hunk", 5);
    assert!(screen.contains("-line 190"), "{screen}");
    tmux.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED 0", 5);
}

#[test]
fn a_freeze_in_force_shows_frozen_in_the_header_with_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    common::init_with(&store, &[]);
    let now = chrono::Utc::now();
    let to = now + chrono::Duration::hours(2);
    common::change_policy(&store, |policy| {
        policy["freezes"] = serde_json::json!([{
            "name": "year-end freeze",
            "from": (now - chrono::Duration::hours(1)).to_rfc3339(),
            "to": to.to_rfc3339(),
        }]);
    });
    let tmux = Tmux::start("frozen", &cockpit(&store, "admin"));
    let screen = tmux.wait_for("FROZEN until", 10);
    assert!(
        screen.contains(&hotfix::present::stamp(to)),
        "the end of the freeze: {screen}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED 0", 5);
}

#[test]
fn an_approval_owed_past_its_day_is_marked_overdue_in_the_cockpit() {
    use hotfix::state::{Command as Cmd, Priority, Severity, TestStatus};
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    // A P1 deployed by break-glass days ago (the world's clock): its approvals a day overdue.
    let mut w = common::World::new();
    w.grant("ana", "sre-avp");
    let hf = w.hotfix(Severity::P1);
    w.approve("avery", hf, "sre-avp");
    w.add_test(hf, "smoke", Priority::Critical);
    w.set_test(hf, "smoke", TestStatus::Passed);
    for who in ["avery", "ana"] {
        w.run(
            who,
            Cmd::BreakGlass {
                id: hf,
                reason: "prod-owner unreachable".into(),
            },
        );
    }
    w.run("sam", Cmd::StartDeploy { id: hf });
    std::fs::create_dir_all(&store).unwrap();
    w.store(&store);
    let tmux = Tmux::start("overdue", &cockpit(&store, "priya"));
    let screen = tmux.wait_for("[!] prod-owner OVERDUE since", 10);
    assert!(
        screen.contains(
            "Waiting on you: give the prod-owner approval HF-1 deployed without (break-glass)"
        ),
        "{screen}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED 0", 5);
}

#[test]
fn the_open_cockpit_sends_the_escalations_due_and_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir_all(&store).unwrap();
    common::hooks::overdue_store(&store);
    let server = common::hooks::Server::start(200, 202);
    let env = format!(
        "XDG_CONFIG_HOME={home} HOTFIX_WEBHOOK_URL={base}/hook/SECRET HOTFIX_PAGERDUTY_URL={base}/v2/enqueue HOTFIX_PAGERDUTY_ROUTING_KEY=R0UTING-KEY",
        home = common::state_home().display(),
        base = server.base
    );
    let tmux = Tmux::start("reminders", &cockpit_env(&store, "quinn", &env));
    let screen = tmux.wait_for("escalation: sent reminder for prod-owner on HF-1", 15);
    assert!(
        screen.contains("[ ] prod-owner waiting · reminded, deputies"),
        "{screen}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED 0", 5);
    let paths: Vec<String> = server.taken().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["/hook/SECRET", "/hook/SECRET", "/v2/enqueue"]);
}
