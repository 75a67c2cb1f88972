//! The record and the outside world: golden reports and changelog entries, JUnit and alert
//! fixtures written by the real tools, and notices posted to a local HTTP server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::hotfix;
use hotfix::state::{Command, IncidentStatus, ReleaseId, Severity, TestStatus};
use hotfix::store::Store;
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use common::{demo, noon as now};

fn fixture(path: &str) -> String {
    format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}

// ---- report and changelog (golden files) ----

#[test]
fn report_markdown_of_a_closed_hotfix() {
    let (_d, store) = demo();
    let report = hotfix::report::build(&store.model, ReleaseId::Hotfix(1), now()).unwrap();
    insta::assert_snapshot!(hotfix::report::markdown(&report));
}

#[test]
fn report_markdown_of_a_hotfix_awaiting_approval() {
    let (_d, store) = demo();
    let report = hotfix::report::build(&store.model, ReleaseId::Hotfix(3), now()).unwrap();
    insta::assert_snapshot!(hotfix::report::markdown(&report));
}

#[test]
fn report_json_follows_the_schema() {
    let (_d, store) = demo();
    let report = hotfix::report::build(&store.model, ReleaseId::Hotfix(2), now()).unwrap();
    let json = serde_json::to_value(&report).unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(&json).unwrap());
    // Every top-level field the schema requires is present.
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../assets/report.schema.json")).unwrap();
    for field in schema["required"].as_array().unwrap() {
        assert!(
            json.get(field.as_str().unwrap()).is_some(),
            "{field} missing"
        );
    }
    assert_eq!(json["schema"], "hotfix-report/1");
    assert_eq!(json["target"]["met"], true);
    assert_eq!(json["notices"][2]["sent"], false);
}

#[test]
fn changelog_entries_are_keep_a_changelog() {
    use hotfix::report::changelog::entry;
    let (_d, store) = demo();
    let m = &store.model;
    insta::assert_snapshot!(
        entry(m, ReleaseId::Hotfix(1), false, false)
            .unwrap()
            .markdown()
    );
    assert!(
        entry(m, ReleaseId::Hotfix(1), true, false)
            .unwrap()
            .markdown()
            .contains("### Security")
    );
    // Not deployed yet: refused, unless filed under [Unreleased].
    let e = entry(m, ReleaseId::Hotfix(3), false, false).unwrap_err();
    assert!(e.message.contains("not been deployed"), "{e}");
    let pending = entry(m, ReleaseId::Hotfix(3), false, true).unwrap();
    assert!(pending.markdown().starts_with("## [Unreleased]"));
}

#[test]
fn a_rolled_back_version_is_yanked_and_a_cancelled_hotfix_gets_no_changelog_entry() {
    use hotfix::state::Command as C;
    let mut w = common::World::new();
    let id = w.ready_p1();
    w.run("admin", C::StartDeploy { id });
    w.run(
        "admin",
        C::MarkDeployed {
            id,
            commit: None,
            artifact: None,
        },
    );
    w.run(
        "admin",
        C::RollBack {
            id,
            reason: "error rate doubled".into(),
        },
    );
    let pulled = hotfix::report::changelog::entry(&w.model, id, false, false).unwrap();
    assert!(pulled.yanked);
    assert!(
        pulled.markdown().starts_with("## [1.2.3] - ") && pulled.markdown().contains("[YANKED]"),
        "{}",
        pulled.markdown()
    );
    let cancelled = w.hotfix(Severity::P1);
    w.run(
        "admin",
        C::CancelRelease {
            id: cancelled,
            reason: "not needed".into(),
        },
    );
    let e = hotfix::report::changelog::entry(&w.model, cancelled, false, false).unwrap_err();
    assert!(e.message.contains("before it reached production"), "{e}");
}

/// The demo's hotfixes written into a Keep a Changelog file with `--into`: the demo's store,
/// the folder and the file.
fn demo_changelog() -> (tempfile::TempDir, tempfile::TempDir, std::path::PathBuf) {
    let (dir, _store) = demo();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("CHANGELOG.md");
    std::fs::write(
        &file,
        "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- Dark mode\n\n## [4.11.1] - 2026-10-01\n\n### Fixed\n\n- Login\n\n## [3.8.4] - 2026-09-01\n\n### Fixed\n\n- Search\n\n[Unreleased]: https://example.com/compare/v4.11.1...HEAD\n[4.11.1]: https://example.com/compare/v3.8.4...v4.11.1\n[3.8.4]: https://example.com/releases/tag/v3.8.4\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    for id in ["HF-1", "HF-2"] {
        hotfix(dir.path(), "you")
            .args(["changelog", id, "--into", f])
            .assert()
            .success();
    }
    hotfix(dir.path(), "you")
        .args(["changelog", "HF-3", "--unreleased", "--into", f])
        .assert()
        .success();
    (dir, out, file)
}

#[test]
fn changelog_into_puts_the_entry_in_its_place_and_json_is_json() {
    let (dir, out, file) = demo_changelog();
    let f = file.to_str().unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s} in {text}"));
    assert!(at("## [Unreleased]") < at("### Fixed\n\n- Handle a missing card token"));
    assert!(at("- Handle a missing card token") < at("## [4.11.2]"));
    assert!(
        text.ends_with("[Unreleased]: https://example.com/compare/v4.11.2...HEAD\n[4.11.2]: https://example.com/compare/v4.11.1...v4.11.2\n[4.11.1]: https://example.com/compare/v3.8.4...v4.11.1\n[3.8.5]: https://example.com/compare/v3.8.4...v3.8.5\n[3.8.4]: https://example.com/releases/tag/v3.8.4\n"),
        "the compare links follow the versions: {text}"
    );
    assert!(at("## [4.11.2]") < at("## [4.11.1]"));
    assert!(at("## [4.11.1]") < at("## [3.8.5]"), "{text}");
    assert!(at("## [3.8.5]") < at("## [3.8.4]"));
    assert!(text.ends_with("[3.8.4]: https://example.com/releases/tag/v3.8.4\n"));
    // A second time is refused and leaves the file as it was; so is a file that is not a changelog.
    hotfix(dir.path(), "you")
        .args(["changelog", "HF-1", "--into", f])
        .assert()
        .code(3);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    let notes = out.path().join("NOTES.md");
    std::fs::write(&notes, "random notes\n").unwrap();
    hotfix(dir.path(), "you")
        .args(["changelog", "HF-1", "--into", notes.to_str().unwrap()])
        .assert()
        .code(3);
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "random notes\n");
    // --json is JSON.
    let json = hotfix(dir.path(), "you")
        .args(["changelog", "HF-1", "--json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(
        (v["version"].as_str(), v["section"].as_str()),
        (Some("4.11.2"), Some("Fixed"))
    );
    assert_eq!(v["date"], "2026-11-21");
}

#[test]
#[ignore = "needs python3 with keepachangelog (`pip install keepachangelog`; `.ci/run` installs it)"]
fn a_real_keep_a_changelog_parser_reads_what_changelog_into_wrote() {
    let (_dir, _out, file) = demo_changelog();
    let parsed = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys, keepachangelog; print(json.dumps(list(keepachangelog.to_dict(sys.argv[1]).keys())))",
        ])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        parsed.status.success(),
        "keepachangelog could not read it (is it installed?): {}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let versions: Vec<String> = serde_json::from_slice(&parsed.stdout).unwrap();
    assert_eq!(
        versions,
        ["4.11.2", "4.11.1", "3.8.5", "3.8.4"],
        "{versions:?}"
    );
}

#[test]
#[ignore = "needs python3 with keepachangelog (`pip install keepachangelog`; `.ci/run` installs it)"]
fn a_real_keep_a_changelog_parser_reads_a_yanked_version() {
    use hotfix::report::changelog;
    let mut w = common::World::new();
    let id = w.ready_p1();
    w.deploy(id);
    let written =
        changelog::insert("", &changelog::entry(&w.model, id, false, false).unwrap()).unwrap();
    w.run(
        "sam",
        Command::RollBack {
            id,
            reason: "errors".into(),
        },
    );
    let pulled = changelog::entry(&w.model, id, false, false).unwrap();
    assert!(pulled.yanked);
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("CHANGELOG.md");
    std::fs::write(&file, changelog::insert(&written, &pulled).unwrap()).unwrap();
    let parsed = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys, keepachangelog; print(json.dumps({v: d['metadata']['release_date'] for v, d in keepachangelog.to_dict(sys.argv[1]).items()}))",
        ])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        parsed.status.success(),
        "keepachangelog could not read it: {}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let dates: serde_json::Value = serde_json::from_slice(&parsed.stdout).unwrap();
    let date = dates["1.2.3"].as_str().unwrap_or_default();
    assert!(date.ends_with("[yanked]"), "{dates}");
}

#[test]
fn report_cli_writes_a_file_and_refuses_unknown_releases() {
    let (dir, _store) = demo();
    let elsewhere = tempfile::tempdir().unwrap();
    let out = elsewhere.path().join("HF-1.md");
    hotfix(dir.path(), "you")
        .args(["report", "HF-1", "--output"])
        .arg(&out)
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("# Hotfix HF-1")
    );
    let json = hotfix(dir.path(), "you")
        .args(["report", "HF-2", "--format", "json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(v["release"]["id"], "HF-2");
    hotfix(dir.path(), "you")
        .args(["report", "HF-9"])
        .assert()
        .code(3);
    hotfix(dir.path(), "you")
        .args(["changelog", "REL-1"])
        .assert()
        .code(3);
}

#[test]
fn stored_text_in_a_report_cannot_break_the_markdown_or_the_terminal() {
    let (_d, mut store) = demo();
    let evil = "pipe | and \u{1b}[31mred\u{1b}[0m";
    store
        .execute(
            "you",
            now(),
            Command::ResolveIncident {
                id: hotfix::state::IncidentId(2),
                note: String::new(),
            },
        )
        .unwrap();
    store
        .execute(
            "quinn",
            now(),
            Command::SetTestStatus {
                id: ReleaseId::Hotfix(3),
                name: "checkout::3ds_challenge_flow".into(),
                status: TestStatus::Failed,
                note: Some(evil.into()),
            },
        )
        .unwrap();
    // The author forges sections of the auditor's report in the scope text.
    let forged = "fix\n## Approvals\n| prod-owner | priya | approved |\n## Gate\nREADY\n<img src=x onerror=alert(1)>\n```\n# open fence";
    store
        .execute(
            "sam",
            now(),
            Command::EditRelease {
                id: ReleaseId::Hotfix(3),
                edit: hotfix::state::ScopeEdit {
                    changes: Some(forged.into()),
                    summary: Some("<b>x</b> [link](http://e) | `code`".into()),
                    ..Default::default()
                },
            },
        )
        .unwrap();
    let report = hotfix::report::build(&store.model, ReleaseId::Hotfix(3), now()).unwrap();
    let md = hotfix::report::markdown(&report);
    assert!(
        md.contains("pipe \\| and \\\\x1b\\[31mred\\\\x1b\\[0m") && !md.contains('\u{1b}'),
        "{md}"
    );
    assert!(
        md.contains("&lt;b&gt;x&lt;/b&gt; \\[link\\](http://e) \\| \\`code\\`"),
        "{md}"
    );
    // Outside fenced blocks, the only headings are the report's own, once each, and no
    // HTML; every fence that opens closes.
    let mut fence: Option<usize> = None;
    let mut headings = Vec::new();
    for line in md.lines() {
        let ticks = line.chars().take_while(|c| *c == '`').count();
        match fence {
            Some(open) if ticks >= open && line.trim_start_matches('`').trim().is_empty() => {
                fence = None
            }
            Some(_) => {}
            None if ticks >= 3 => fence = Some(ticks),
            None => {
                assert!(!line.contains("<img"), "raw HTML outside a fence: {line}");
                if line.starts_with('#') {
                    headings.push(line.to_string());
                }
            }
        }
    }
    assert_eq!(fence, None, "a fence was left open:\n{md}");
    for h in ["## Approvals", "## Gate"] {
        assert!(
            headings.iter().filter(|l| l.as_str() == h).count() <= 1,
            "{h} forged:\n{md}"
        );
    }
    assert!(!headings.iter().any(|h| h == "# open fence"), "{md}");
}

// ---- JUnit imports from real runs ----

fn import(store: &mut Store, files: &[&str]) -> usize {
    let reports = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(fixture(f)).unwrap();
            hotfix::import::junit::parse(&text, f).unwrap()
        })
        .collect();
    let results = hotfix::import::junit::merge(reports).results;
    store
        .execute(
            "ci",
            now(),
            Command::ImportTestResults {
                id: ReleaseId::Hotfix(3),
                results,
            },
        )
        .unwrap()
        .len()
}

fn test_of<'a>(store: &'a Store, name: &str) -> &'a hotfix::state::TestCase {
    store
        .model
        .release(ReleaseId::Hotfix(3))
        .unwrap()
        .tests
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no test {name}"))
}

#[test]
fn nextest_junit_updates_and_adds_tests_with_flaky_reruns() {
    let (_d, mut store) = demo();
    assert!(import(&mut store, &["junit/nextest.xml"]) > 0);
    let critical = test_of(&store, "payments::tests::critical_card_checkout");
    assert_eq!(
        (critical.priority, critical.status, critical.automated),
        (hotfix::state::Priority::Critical, TestStatus::Passed, true)
    );
    assert_eq!(
        test_of(&store, "payments::tests::smoke_login").priority,
        hotfix::state::Priority::High
    );
    let flaky = test_of(&store, "payments::tests::retry_is_idempotent");
    assert!(flaky.flaky && flaky.status == TestStatus::Passed);
    let failed = test_of(&store, "payments::tests::token_refresh");
    assert_eq!(failed.status, TestStatus::Failed);
    assert!(failed.note.contains("panicked"), "{}", failed.note);
    // The same file again changes nothing.
    assert_eq!(import(&mut store, &["junit/nextest.xml"]), 0);
}

#[test]
fn pytest_junit_maps_errors_skips_and_classes() {
    let (_d, mut store) = demo();
    import(&mut store, &["junit/pytest.xml"]);
    assert_eq!(
        test_of(&store, "test_checkout::test_cart_total").status,
        TestStatus::Passed
    );
    assert_eq!(
        test_of(&store, "test_checkout::test_inventory_reserve").status,
        TestStatus::Failed,
        "setup error counts as failed"
    );
    let skipped = test_of(&store, "test_checkout::test_receipt_card_brand");
    assert_eq!(
        (skipped.status, skipped.note.as_str()),
        (TestStatus::Skipped, "no staging card of that brand")
    );
    assert_eq!(
        test_of(&store, "test_checkout.TestSmoke::test_smoke_homepage").priority,
        hotfix::state::Priority::High
    );
    // pytest-rerunfailures writes reruns as repeated cases: the last one is the outcome.
    import(&mut store, &["junit/pytest-reruns.xml"]);
    assert_eq!(
        test_of(&store, "test_checkout::test_payment_gateway_retry").status,
        TestStatus::Passed
    );
    assert_eq!(
        test_of(&store, "test_checkout::test_discount_applied").status,
        TestStatus::Failed
    );
}

#[test]
fn surefire_junit_reads_reruns_flakes_errors_and_skips() {
    let (_d, mut store) = demo();
    import(
        &mut store,
        &["junit/TEST-com.example.checkout.CheckoutTest.xml"],
    );
    let name = |n: &str| format!("com.example.checkout.CheckoutTest::{n}");
    assert_eq!(
        test_of(&store, &name("cardCheckoutEndToEnd")).status,
        TestStatus::Passed
    );
    assert_eq!(
        test_of(&store, &name("tokenRefreshUnderLoad")).status,
        TestStatus::Failed
    );
    assert!(test_of(&store, &name("retryIsIdempotent")).flaky);
    assert_eq!(
        test_of(&store, &name("inventoryReserve")).status,
        TestStatus::Failed
    );
    assert_eq!(
        test_of(&store, &name("receiptShowsCardBrand")).status,
        TestStatus::Skipped
    );
}

#[test]
fn a_test_added_by_hand_is_matched_by_its_bare_name() {
    let (_d, mut store) = demo();
    store
        .execute(
            "quinn",
            now(),
            Command::AddTest {
                id: ReleaseId::Hotfix(3),
                name: "tests::token_refresh".into(),
                priority: hotfix::state::Priority::Critical,
                automated: true,
                owner: None,
            },
        )
        .unwrap();
    import(&mut store, &["junit/nextest.xml"]);
    assert_eq!(
        test_of(&store, "tests::token_refresh").status,
        TestStatus::Failed
    );
    assert!(
        store
            .model
            .release(ReleaseId::Hotfix(3))
            .unwrap()
            .tests
            .iter()
            .all(|t| t.name != "payments::tests::token_refresh")
    );
}

#[test]
fn malformed_xml_is_refused_and_changes_nothing() {
    let (dir, _store) = demo();
    let before = std::fs::read(dir.path().join("events.jsonl")).unwrap();
    let out = hotfix(dir.path(), "ci")
        .args([
            "test",
            "import",
            "HF-3",
            &fixture("junit/nextest.xml"),
            &fixture("junit/malformed.xml"),
        ])
        .assert()
        .code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("malformed.xml is not well-formed XML (line 6, column 3)"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("events.jsonl")).unwrap(),
        before
    );
    let out = hotfix(dir.path(), "ci")
        .args(["test", "import", "HF-3", &fixture("junit/nextest.xml")])
        .assert()
        .success();
    assert!(
        String::from_utf8_lossy(&out.get_output().stdout)
            .contains("test added: payments::tests::token_refresh")
    );
}

// ---- alerts ----

fn alert(store: &mut Store, file: &str) -> Vec<hotfix::state::Recorded> {
    let text = std::fs::read_to_string(fixture(file)).unwrap();
    let hotfix::import::alerts::Alert::Input(input) =
        hotfix::import::alerts::parse(&text, file).unwrap()
    else {
        return Vec::new(); // an event about no incident: nothing to record
    };
    store
        .execute(
            "alerts",
            now(),
            Command::ImportAlert {
                alert: Box::new(input),
            },
        )
        .unwrap()
}

#[test]
fn alertmanager_creates_then_deduplicates_and_notes_resolution() {
    let (_d, mut store) = demo();
    let created = alert(&mut store, "alerts/alertmanager-firing.json");
    assert_eq!(created.len(), 1);
    let id = *store.model.incidents.keys().next_back().unwrap();
    let inc = &store.model.incidents[&id];
    assert_eq!(
        (inc.title.as_str(), inc.severity),
        ("Checkout 5xx rate above 5% for 10 minutes", Severity::P1)
    );
    assert_eq!(inc.services, vec!["checkout".to_string()]);
    assert!(
        inc.impact.contains("2 of 2 alerts firing"),
        "fingerprints de-duplicate: {}",
        inc.impact
    );
    // Customer impact began with the group's first alert.
    let t = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    assert_eq!(inc.impact_since, Some(t("2026-11-27T08:50:00Z")));
    assert_eq!(
        inc.impact_until, None,
        "Alertmanager's zero endsAt is no end"
    );
    assert!(
        alert(&mut store, "alerts/alertmanager-firing.json").is_empty(),
        "the same group is not a new incident"
    );
    // Qualified incidents are not auto-resolved: the resolution is noted.
    store
        .execute(
            "avery",
            now(),
            Command::QualifyIncident {
                id,
                decision: hotfix::state::Decision::Hotfix,
                risk: hotfix::state::Risk::Low,
                impact: "i".into(),
                rationale: "r".into(),
                public: String::new(),
            },
        )
        .unwrap();
    alert(&mut store, "alerts/alertmanager-resolved.json");
    let inc = &store.model.incidents[&id];
    assert_eq!(inc.status, IncidentStatus::Qualified);
    assert!(inc.notes[0].note.contains("reports it resolved"));
    // ... and ended with its last: the window is whole, and the report can say how long.
    assert_eq!(inc.impact_until, Some(t("2026-11-27T10:05:00Z")));
    // The same payload again (Alertmanager resends while it stays resolved) notes nothing new.
    assert!(alert(&mut store, "alerts/alertmanager-resolved.json").is_empty());
    assert_eq!(store.model.incidents[&id].notes.len(), 1);
}

#[test]
fn a_real_pytest_report_keeps_long_parameterised_names_whole_and_xfail_skipped() {
    let (dir, _store) = demo();
    let file = fixture("junit/pytest-long-names.xml");
    let (code, _, stderr) = run_import(dir.path(), &["test", "import", "HF-3", &file]);
    assert_eq!(code, 0, "{stderr}");
    let store = common::open(dir.path()).unwrap();
    let r = store.model.release(ReleaseId::Hotfix(3)).unwrap();
    let long = r
        .tests
        .iter()
        .find(|t| {
            t.name
                .starts_with("test_refunds::test_refund_accepts_reason[refund-reason-")
        })
        .expect("the long name is stored");
    assert_eq!(long.name.chars().count(), "test_refunds::".len() + 302);
    let xfail = r
        .test("test_refunds::test_refund_rounds_half_even")
        .unwrap();
    assert_eq!(xfail.status, TestStatus::Skipped);
    let (_, stdout, _) = run_import(dir.path(), &["test", "import", "HF-3", &file]);
    assert!(stdout.contains("no changes"), "{stdout}");
}

#[test]
fn alertmanager_titles_fall_back_to_alertname_and_map_warning_to_p3() {
    let (_d, mut store) = demo();
    alert(&mut store, "alerts/alertmanager-warning-no-summary.json");
    let inc = store.model.incidents.values().next_back().unwrap();
    assert_eq!(
        (inc.title.as_str(), inc.severity),
        ("DiskFillingUp", Severity::P3)
    );
    assert_eq!(inc.services, vec!["node".to_string()]);
}

#[test]
fn pagerduty_priorities_and_urgency_map_and_open_incidents_resolve() {
    let (_d, mut store) = demo();
    alert(&mut store, "alerts/pagerduty-triggered.json");
    let inc = store.model.incidents.values().next_back().unwrap().clone();
    assert_eq!(inc.severity, Severity::P1);
    assert_eq!(inc.services, vec!["identity-provider".to_string()]);
    assert_eq!(inc.source.as_deref(), Some("pagerduty:PT4KHLK"));
    alert(&mut store, "alerts/pagerduty-resolved.json");
    assert_eq!(
        store.model.incidents[&inc.id].status,
        IncidentStatus::Resolved,
        "an unqualified incident resolves with its alert"
    );
    alert(&mut store, "alerts/pagerduty-low-urgency.json");
    assert_eq!(
        store.model.incidents.values().next_back().unwrap().severity,
        Severity::P3
    );
}

#[test]
fn incident_import_reads_stdin_and_refuses_other_json() {
    let (dir, _store) = demo();
    let text = std::fs::read_to_string(fixture("alerts/pagerduty-triggered.json")).unwrap();
    let out = hotfix(dir.path(), "alerts")
        .args(["incident", "import", "-"])
        .write_stdin(text)
        .assert()
        .success();
    assert!(
        String::from_utf8_lossy(&out.get_output().stdout)
            .contains("reported (P1): SSO logins rejected")
    );
    let out = hotfix(dir.path(), "alerts")
        .args(["incident", "import", "-"])
        .write_stdin("{\"hello\": 1}")
        .assert()
        .code(3);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("neither an Alertmanager"));
}

#[test]
fn imported_text_is_length_limited() {
    let (_d, mut store) = demo();
    let input = hotfix::state::imports::AlertInput {
        key: "alertmanager:x".into(),
        title: "t".repeat(100_000),
        severity: hotfix::state::imports::SeverityHint::Label(Some("critical".into())),
        services: vec!["a service with spaces".into(), "\u{1b}[2J".into()],
        impact: "i".repeat(100_000),
        resolved: false,
        change: hotfix::state::imports::AlertChange::State,
        event: None,
        started: None,
        ended: None,
    };
    store
        .execute(
            "alerts",
            now(),
            Command::ImportAlert {
                alert: Box::new(input),
            },
        )
        .unwrap();
    let inc = store.model.incidents.values().next_back().unwrap();
    assert_eq!(inc.title.chars().count(), 200);
    assert!(inc.impact.chars().count() <= 4000);
    assert_eq!(inc.services[0], "a-service-with-spaces");
    assert!(
        inc.services
            .iter()
            .flat_map(|s| s.chars())
            .all(|c| c.is_alphanumeric() || "._@+-".contains(c)),
        "{:?}",
        inc.services
    );
}

// ---- notices posted to a local webhook ----

/// A one-shot HTTP server on 127.0.0.1: answers the first request as told, and hands back the body.
fn server(answer: Option<(u16, &'static str)>) -> (String, std::thread::JoinHandle<String>) {
    let reply = answer.map(|(status, body)| {
        format!(
            "HTTP/1.1 {status} X\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    });
    server_replying(reply)
}

/// As [`server`], with the whole reply given (`None`: never answers in time).
fn server_replying(reply: Option<String>) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/services/T000/B000/SECRET-TOKEN",
        listener.local_addr().unwrap()
    );
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let (_, body) = common::hooks::read_request(&mut conn);
        match reply {
            Some(reply) => conn.write_all(reply.as_bytes()).unwrap(),
            None => std::thread::sleep(Duration::from_secs(3)), // never answers in time
        }
        body
    });
    (url, handle)
}

#[test]
fn a_webhook_that_redirects_is_not_followed_and_the_notice_is_recorded_as_not_sent() {
    let (dir, _s) = demo();
    // Where the redirect points: a server that would say 200 to anything.
    let (elsewhere, _target) = server(Some((200, "ok")));
    for status in [301, 302, 303, 307] {
        let (url, server) = server_replying(Some(format!(
            "HTTP/1.1 {status} Moved\r\nlocation: {elsewhere}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )));
        let a = notify(dir.path(), &url).code(1);
        let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(
            stderr.contains(&format!("HTTP {status}")) && stderr.contains("redirect"),
            "{stderr}"
        );
        server.join().unwrap();
        let n = last_notice(dir.path());
        assert!(n.error.is_some(), "{status} recorded as sent: {n:?}");
    }
}

fn notify(dir: &Path, url: &str) -> assert_cmd::assert::Assert {
    notify_via(dir, "HOTFIX_WEBHOOK_URL_USERS", url)
}

/// HF-2's deployed notice for end users, with `var` set to `url`.
fn notify_via(dir: &Path, var: &str, url: &str) -> assert_cmd::assert::Assert {
    hotfix(dir, "dana")
        .env(var, url)
        .env("HOTFIX_WEBHOOK_TIMEOUT", "0.5")
        .env("HOME", dir) // no stray config file
        .args([
            "notify",
            "HF-2",
            "--stage",
            "deployed",
            "--audience",
            "users",
        ])
        .assert()
}

fn last_notice(dir: &Path) -> hotfix::state::release::Notice {
    common::open(dir)
        .unwrap()
        .model
        .release(ReleaseId::Hotfix(2))
        .unwrap()
        .notices
        .last()
        .unwrap()
        .clone()
}

fn secret_kept(a: &assert_cmd::assert::Assert) {
    let o = a.get_output();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !all.contains("SECRET-TOKEN") && !all.contains("/services/"),
        "the URL leaked: {all}"
    );
}

#[test]
fn a_notice_posted_with_200_ok_is_recorded_as_sent() {
    let (dir, _s) = demo();
    let (url, server) = server(Some((200, "ok")));
    let a = notify(dir.path(), &url).success();
    secret_kept(&a);
    let body: serde_json::Value = serde_json::from_str(&server.join().unwrap()).unwrap();
    // The end users' notice: no engineering summary, service ids or log hash.
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with(
            "Monitoring: a fix is live\nSearch is slow or times out for some customers in Europe."
        ),
        "the status page's stage, then the incident's public text: {text}"
    );
    assert!(
        !text.contains("Revert the eu-west") && !text.contains("witness") && !text.contains("INC-"),
        "{text}"
    );
    assert_eq!(body["blocks"].as_array().map(Vec::len), Some(2), "{body}");
    assert_eq!(body["blocks"][0]["type"], "header");
    assert_eq!(body["blocks"][1]["text"]["type"], "mrkdwn");
    let n = last_notice(dir.path());
    assert_eq!(
        (n.by.as_str(), n.error.is_none(), n.channel.as_str()),
        ("dana", true, "webhook")
    );
}

#[test]
fn a_non_200_answer_fails_visibly_and_is_recorded_as_not_sent() {
    let (dir, _s) = demo();
    let (url, server) = server(Some((500, "internal_error")));
    let a = notify(dir.path(), &url).code(1);
    secret_kept(&a);
    server.join().unwrap();
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        stderr.contains("HTTP 500")
            && stderr.contains("internal_error")
            && stderr.contains("recorded as not sent"),
        "{stderr}"
    );
    assert!(last_notice(dir.path()).error.unwrap().contains("HTTP 500"));
}

#[test]
fn a_timeout_fails_visibly_and_is_recorded() {
    let (dir, _s) = demo();
    let (url, _server) = server(None);
    let a = notify(dir.path(), &url).code(1);
    secret_kept(&a);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("did not answer within"));
    assert!(
        last_notice(dir.path())
            .error
            .unwrap()
            .contains("did not answer")
    );
}

#[test]
fn a_refused_connection_fails_visibly_and_is_recorded() {
    let (dir, _s) = demo();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // closed again
    let url = format!("http://127.0.0.1:{port}/services/SECRET-TOKEN");
    let a = notify(dir.path(), &url).code(1);
    secret_kept(&a);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("refused the connection"));
    assert!(last_notice(dir.path()).error.is_some());
}

#[test]
fn end_users_hear_when_the_next_update_comes_while_the_incident_is_open() {
    use hotfix::state::{Audience, Stage};
    let mut w = common::World::new();
    let id = w.ready_p1();
    let inc = w.release(id).scope.incidents[0];
    let refused = hotfix::notify::render(&w.model, id, Stage::Planned, Audience::Users, w.now)
        .unwrap_err()
        .message;
    assert!(
        refused.contains("INC-1 has no public text, and end users read nothing else")
            && refused.contains("hotfix incident edit INC-1 --public"),
        "{refused}"
    );
    w.public(inc, "Some card payments fail at checkout.");
    let users = |w: &common::World| {
        hotfix::notify::render(&w.model, id, Stage::Planned, Audience::Users, w.now)
            .unwrap()
            .body
    };
    assert!(
        users(&w).starts_with("Some card payments fail at checkout."),
        "{}",
        users(&w)
    );
    let promised = format!(
        "Next update by {}.",
        hotfix::present::stamp(w.now + chrono::Duration::minutes(30))
    );
    assert!(
        users(&w).ends_with(&promised),
        "P1: every 30 minutes: {}",
        users(&w)
    );
    let ops = hotfix::notify::render(&w.model, id, Stage::Planned, Audience::Ops, w.now).unwrap();
    assert!(!ops.body.contains("Next update"), "{}", ops.body);
    // Resolved (the status page's last stage) only once verified; no more updates promised.
    w.deploy(id);
    let early = w.refuse(
        "sam",
        Command::RecordNotice {
            id,
            stage: Stage::Resolved,
            audience: Audience::Users,
            channel: "webhook".into(),
            error: None,
        },
    );
    assert!(
        early.contains("a \"resolved\" notice would not be true now"),
        "{early}"
    );
    w.run(
        "avery",
        Command::VerifyRelease {
            id,
            note: String::new(),
        },
    );
    let resolved =
        hotfix::notify::render(&w.model, id, Stage::Resolved, Audience::Users, w.now).unwrap();
    assert_eq!(resolved.title, "Resolved");
    assert!(
        resolved.body.contains("This has been fixed"),
        "{}",
        resolved.body
    );
    w.run(
        "avery",
        Command::WaiveReview {
            id: inc,
            reason: "a test incident".into(),
        },
    );
    w.run(
        "sam",
        Command::CloseRelease {
            id,
            carried_to: None,
        },
    );
    assert_eq!(
        w.model.incident(inc).unwrap().status,
        IncidentStatus::Resolved
    );
    assert!(
        !users(&w).contains("Next update"),
        "resolved: {}",
        users(&w)
    );
}

#[test]
fn end_users_notices_never_go_to_the_operations_webhook() {
    let (dir, _s) = demo();
    let before = std::fs::read(dir.path().join("events.jsonl")).unwrap();
    let a = notify_via(dir.path(), "HOTFIX_WEBHOOK_URL", "http://127.0.0.1:9/ops").code(2);
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        stderr.contains("no webhook is configured for users")
            && stderr.contains("HOTFIX_WEBHOOK_URL_USERS")
            && stderr.contains("webhook_url_users"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("events.jsonl")).unwrap(),
        before,
        "nothing recorded"
    );
}

#[test]
fn an_untrue_notice_is_refused_before_anything_is_sent() {
    let (dir, _s) = demo();
    let before = std::fs::read(dir.path().join("events.jsonl")).unwrap();
    let a = hotfix(dir.path(), "dana")
        .env("HOTFIX_WEBHOOK_URL", "http://127.0.0.1:9/x")
        .args(["notify", "HF-3", "--stage", "deployed"])
        .assert()
        .code(3);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("would not be true"));
    assert_eq!(
        std::fs::read(dir.path().join("events.jsonl")).unwrap(),
        before
    );
    let printed = hotfix(dir.path(), "dana")
        .args(["notify", "HF-3", "--stage", "planned", "--print"])
        .assert()
        .success();
    assert!(
        String::from_utf8_lossy(&printed.get_output().stdout).contains("We are preparing a fix")
            || String::from_utf8_lossy(&printed.get_output().stdout)
                .contains("Hotfix HF-3 planned")
    );
    assert_eq!(
        std::fs::read(dir.path().join("events.jsonl")).unwrap(),
        before,
        "printing records nothing"
    );
}

// ---- imports that must be right on real-world files ----

/// Runs `hotfix` and returns (exit code, stdout, stderr).
fn run_import(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = hotfix(dir, "ci").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_real_jest_junit_report_imports_whole_names_once_and_reports_unnamed_cases() {
    let (dir, _store) = demo();
    let file = fixture("junit/jest-junit.xml");
    let (code, _, stderr) = run_import(dir.path(), &["test", "import", "HF-3", &file]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("1 unnamed test case not imported"),
        "{stderr}"
    );
    let tests = common::open(dir.path())
        .unwrap()
        .model
        .release(ReleaseId::Hotfix(3))
        .unwrap()
        .tests
        .clone();
    let names: Vec<&str> = tests.iter().map(|t| t.name.as_str()).collect();
    // Stored trimmed and whole: the parameterised name runs past 200 characters.
    assert!(
        names.contains(&"checkout applies a discount::checkout applies a discount"),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n.chars().count() > 400));
    assert!(!names.iter().any(|n| n.is_empty() || n.ends_with(' ')));
    // The same file again changes nothing.
    let before = std::fs::read(dir.path().join("events.jsonl")).unwrap();
    let (code, stdout, _) = run_import(dir.path(), &["test", "import", "HF-3", &file]);
    assert_eq!(code, 0);
    assert!(stdout.contains("no changes"), "{stdout}");
    assert_eq!(
        std::fs::read(dir.path().join("events.jsonl")).unwrap(),
        before
    );
}

#[test]
fn a_disabled_critical_test_is_skipped_and_keeps_the_gate_shut() {
    use hotfix::state::Priority;
    let mut w = common::World::new();
    let id = w.ready_p1();
    w.add_test(id, "disabled_test", Priority::Critical);
    let dir = tempfile::tempdir().unwrap();
    w.store(dir.path());
    let (code, _, stderr) = run_import(
        dir.path(),
        &[
            "test",
            "import",
            &id.to_string(),
            &fixture("junit/tst-disabled.xml"),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let store = common::open(dir.path()).unwrap();
    let t = store
        .model
        .release(id)
        .unwrap()
        .test("disabled_test")
        .unwrap()
        .clone();
    assert_eq!(t.status, TestStatus::Skipped);
    assert!(t.note.contains("disabled"), "{}", t.note);
    let (code, _, stderr) = run_import(dir.path(), &["release", "gate", &id.to_string()]);
    assert_eq!(code, 3, "the gate stays shut: {stderr}");
}

#[test]
fn suites_that_disagree_are_named_and_a_rerun_in_one_suite_is_flaky() {
    let (dir, _store) = demo();
    let (code, _, stderr) = run_import(
        dir.path(),
        &[
            "test",
            "import",
            "HF-3",
            &fixture("junit/two-suites-disagree.xml"),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("payments::card_e2e ran in 2 suites that disagree")
            && stderr.contains("linux")
            && stderr.contains("macos"),
        "{stderr}"
    );
    let store = common::open(dir.path()).unwrap();
    let r = store.model.release(ReleaseId::Hotfix(3)).unwrap();
    assert_eq!(
        r.test("payments::card_e2e").unwrap().status,
        TestStatus::Failed
    );
    let retry = r.test("payments::retry").unwrap();
    assert_eq!((retry.status, retry.flaky), (TestStatus::Passed, true));
}

#[test]
fn an_import_that_would_cross_the_test_limit_is_refused_whole() {
    let (dir, _store) = demo();
    let mut xml = String::from("<testsuite name='big'>");
    for i in 0..10_000 {
        xml.push_str(&format!("<testcase classname='c' name='t{i}'/>"));
    }
    xml.push_str("</testsuite>");
    let file = dir
        .path()
        .join("..")
        .join(format!("big-{}.xml", std::process::id()));
    std::fs::write(&file, xml).unwrap();
    let before = std::fs::read(dir.path().join("events.jsonl")).unwrap();
    let (code, _, stderr) = run_import(
        dir.path(),
        &["test", "import", "HF-3", file.to_str().unwrap()],
    );
    let _ = std::fs::remove_file(&file);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("over the limit of 10000 tests"), "{stderr}");
    assert_eq!(
        std::fs::read(dir.path().join("events.jsonl")).unwrap(),
        before
    );
}

#[test]
fn malformed_xml_of_every_kind_is_refused_with_line_and_column_and_changes_nothing() {
    let (dir, _store) = demo();
    let before = std::fs::read(dir.path().join("events.jsonl")).unwrap();
    for (i, bad) in [
        "<testsuite time=\"<<computed>>\"><testcase name='a'/></testsuite>",
        "<testsuite><testcase name='a'/></testsuite><testsuite/>",
        "<testsuite><testcase name='a' name='b'/></testsuite>",
        "<testsuite><testcase name='a&nbsp;b'/></testsuite>",
    ]
    .into_iter()
    .enumerate()
    {
        let file = dir
            .path()
            .join("..")
            .join(format!("bad-{}-{i}.xml", std::process::id()));
        std::fs::write(&file, bad).unwrap();
        let (code, _, stderr) = run_import(
            dir.path(),
            &["test", "import", "HF-3", file.to_str().unwrap()],
        );
        let _ = std::fs::remove_file(&file);
        assert_eq!(code, 3, "{bad}: {stderr}");
        assert!(
            stderr.contains("not well-formed XML (line 1, column"),
            "{bad}: {stderr}"
        );
    }
    assert_eq!(
        std::fs::read(dir.path().join("events.jsonl")).unwrap(),
        before
    );
}

#[test]
fn pagerduty_events_are_handled_by_type_and_a_repeat_records_nothing() {
    let (dir, _store) = demo();
    let import = |file: &str| run_import(dir.path(), &["incident", "import", &fixture(file)]);
    let log = || std::fs::read(dir.path().join("events.jsonl")).unwrap();
    // Not about an incident: ignored, exit 0, nothing recorded.
    let before = log();
    let (code, _, stderr) = import("alerts/pagerduty-service-event.json");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("\"service.updated\"") && stderr.contains("ignored"),
        "{stderr}"
    );
    assert_eq!(log(), before);
    assert_eq!(import("alerts/pagerduty-triggered.json").0, 0);
    let incidents = || common::open(dir.path()).unwrap().model.incidents.len();
    let pt4 = || {
        common::open(dir.path())
            .unwrap()
            .model
            .incidents
            .values()
            .find(|i| i.source.as_deref() == Some("pagerduty:PT4KHLK"))
            .cloned()
            .unwrap()
    };
    let count = incidents();
    // A note lands on that incident (keyed by the PagerDuty incident id), once.
    assert_eq!(import("alerts/pagerduty-annotated.json").0, 0);
    assert_eq!(incidents(), count, "no second incident");
    let inc = pt4();
    assert!(
        inc.notes.iter().any(|n| n.note.contains("NTP on idp-2")),
        "{:?}",
        inc.notes
    );
    let before = log();
    for file in [
        "alerts/pagerduty-annotated.json",
        "alerts/pagerduty-triggered.json",
    ] {
        let (code, stdout, _) = import(file);
        assert_eq!(code, 0);
        assert!(stdout.contains("no changes"), "{file}: {stdout}");
    }
    assert_eq!(log(), before, "a repeat records nothing");
    // service_updated moves the incident to its new service.
    assert_eq!(import("alerts/pagerduty-service-updated.json").0, 0);
    let inc = pt4();
    assert_eq!(inc.services, vec!["single-sign-on"]);
}

#[test]
fn an_unseen_unresolved_pagerduty_incident_is_created_from_any_event_that_carries_it_whole() {
    // Subscribed mid-incident: the first event hotfix sees is a service change.
    let (dir, _store) = demo();
    let before = common::open(dir.path()).unwrap().model.incidents.len();
    let (code, _, stderr) = run_import(
        dir.path(),
        &[
            "incident",
            "import",
            &fixture("alerts/pagerduty-service-updated.json"),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let model = common::open(dir.path()).unwrap().model;
    assert_eq!(model.incidents.len(), before + 1);
    let created = model
        .incidents
        .values()
        .find(|i| i.source.as_deref() == Some("pagerduty:PT4KHLK"))
        .unwrap();
    assert_eq!(created.services, vec!["single-sign-on"]);
    // A note names only the incident's id: too little to create it from.
    let (dir, _store) = demo();
    let log = std::fs::read(dir.path().join("events.jsonl")).unwrap();
    let (code, _, _) = run_import(
        dir.path(),
        &[
            "incident",
            "import",
            &fixture("alerts/pagerduty-annotated.json"),
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(std::fs::read(dir.path().join("events.jsonl")).unwrap(), log);
}

#[test]
fn slack_formatting_in_data_is_escaped_so_it_cannot_mention_or_link() {
    use hotfix::state::{Audience, Stage};
    let mut w = common::World::new();
    let inc = w.model.next_incident_id();
    w.run(
        "quinn",
        Command::ReportIncident {
            title: "<!channel> checkout & <https://evil.example|click here> down".into(),
            severity: hotfix::state::Severity::P1,
            services: vec!["api".into()],
            impact: "<@U024BE7LH> please look & fix > now".into(),
            public: String::new(),
            impact_since: None,
        },
    );
    w.qualify(inc, hotfix::state::Decision::Hotfix);
    w.public(
        inc,
        "<!channel> payments & <https://evil.example|click> fail",
    );
    let id = w.hotfix_for(&[inc]);
    w.run(
        "sam",
        Command::EditRelease {
            id,
            edit: hotfix::state::ScopeEdit {
                summary: Some(format!("fix <!here> {}", "x".repeat(180))),
                ..Default::default()
            },
        },
    );
    let head = hotfix::store::Head {
        seq: w.model.seq,
        hash: "0".repeat(64),
    };
    for audience in [Audience::Ops, Audience::Users] {
        let p = hotfix::notify::slack_payload(&w.model, id, Stage::Planned, audience, now(), &head)
            .unwrap();
        let text = p["text"].as_str().unwrap();
        let section = p["blocks"][1]["text"]["text"].as_str().unwrap();
        for formatted in [text, section] {
            for raw in ["<!channel>", "<!here>", "<@U024BE7LH>", "<https://evil"] {
                assert!(!formatted.contains(raw), "{raw} in {formatted}");
            }
            assert!(!formatted.contains(" & "), "a raw & in {formatted}");
        }
        if audience == Audience::Ops {
            assert!(text.contains("&lt;!here&gt;") || section.contains("&lt;!here&gt;"));
        }
        let header = p["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(header.chars().count() <= 150, "{header}");
    }
}

#[test]
fn reports_and_notices_name_the_log_head_and_verify_checks_it_later() {
    let (dir, _store) = demo();
    let out = hotfix(dir.path(), "you")
        .args(["report", "HF-1"])
        .assert()
        .success();
    let md = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let witness = md
        .split("hotfix verify --witness ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("the report names the log head")
        .to_string();
    let json = hotfix(dir.path(), "you")
        .args(["report", "HF-1", "--format", "json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(
        format!("{}:{}", v["log"]["seq"], v["log"]["hash"].as_str().unwrap()),
        witness
    );
    let notice = hotfix(dir.path(), "you")
        .args(["notify", "HF-2", "--stage", "deployed", "--print"])
        .assert()
        .success();
    assert!(
        String::from_utf8_lossy(&notice.get_output().stdout)
            .contains(&format!("witness {witness}"))
    );
    // The true history passes, also after more events.
    hotfix(dir.path(), "you")
        .args(["incident", "new", "--title", "later", "--severity", "P4"])
        .assert()
        .success();
    hotfix(dir.path(), "you")
        .args(["verify", "--witness", &witness])
        .assert()
        .success();
    // Another hash at that event: the history was rewritten.
    let seq: u64 = witness.split(':').next().unwrap().parse().unwrap();
    let out = hotfix(dir.path(), "you")
        .args(["verify", "--witness", &format!("{seq}:{}", "a".repeat(64))])
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("rewritten"));
    let out = hotfix(dir.path(), "you")
        .args([
            "verify",
            "--witness",
            &format!("{}:{}", seq + 1000, "b".repeat(64)),
        ])
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("were removed"));
    hotfix(dir.path(), "you")
        .args(["verify", "--witness", "57"])
        .assert()
        .code(2);
}

/// The Mermaid CLI, if installed: `HOTFIX_MMDC` (its path) with `HOTFIX_MMDC_CONFIG` (a
/// puppeteer config, e.g. naming Debian's chromium), else `mmdc` on the PATH.
fn mermaid_cli() -> Option<(String, Option<String>)> {
    let bin = std::env::var("HOTFIX_MMDC").unwrap_or_else(|_| "mmdc".into());
    let found = std::process::Command::new(&bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    found.then(|| (bin, std::env::var("HOTFIX_MMDC_CONFIG").ok()))
}

/// Each demo hotfix's gantt block from its Markdown report, checked for the shape Mermaid
/// reads; the JSON report's durations checked too.
fn demo_gantt_blocks() -> Vec<(&'static str, String)> {
    let (dir, _store) = demo();
    let mut blocks = Vec::new();
    for id in ["HF-1", "HF-2", "HF-3"] {
        let out = hotfix(dir.path(), "you")
            .args(["report", id])
            .assert()
            .success();
        let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        let start = text.find("```mermaid\ngantt\n").expect("a gantt block") + "```mermaid\n".len();
        let end = start + text[start..].find("\n```").expect("closed");
        let block = text[start..end].to_string();
        assert!(block.contains("dateFormat YYYY-MM-DD HH:mm:ss"), "{block}");
        // Every task line is `name :[tags,] id, start, end`, with dates in that format.
        for line in block.lines().filter(|l| l.contains(" :")) {
            let fields: Vec<&str> = line.split(" :").nth(1).unwrap().split(", ").collect();
            for date in &fields[fields.len() - 2..] {
                assert!(
                    chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S").is_ok(),
                    "{line}"
                );
            }
        }
        blocks.push((id, block));
    }
    let json = hotfix(dir.path(), "you")
        .args(["report", "HF-1", "--format", "json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert!(
        v["durations"]["to_deployed_seconds"].is_i64(),
        "{}",
        v["durations"]
    );
    blocks
}

/// The gantt block of `id`'s report in `w`, and the share of the chart's axis its stages fill.
fn gantt_of(w: &common::World, id: ReleaseId) -> (String, f64) {
    let now = w.now + chrono::Duration::hours(2);
    let text = hotfix::report::markdown(&hotfix::report::build(&w.model, id, now).unwrap());
    let start = text.find("```mermaid\ngantt\n").expect("a gantt block") + "```mermaid\n".len();
    let end = start + text[start..].find("\n```").expect("closed");
    let block = text[start..end].to_string();
    let dates = |pick: &dyn Fn(&str) -> bool| -> Vec<chrono::NaiveDateTime> {
        block
            .lines()
            .filter(|l| l.contains(" :") && pick(l))
            .flat_map(|l| {
                let fields: Vec<String> = l
                    .split(" :")
                    .nth(1)
                    .unwrap()
                    .split(", ")
                    .map(str::to_string)
                    .collect();
                fields[fields.len() - 2..].to_vec()
            })
            .map(|d| chrono::NaiveDateTime::parse_from_str(&d, "%Y-%m-%d %H:%M:%S").unwrap())
            .collect()
    };
    let all = dates(&|_| true);
    let stages = dates(&|l: &str| l.contains(":s") || l.contains(":milestone, s"));
    let span = |v: &[chrono::NaiveDateTime]| {
        (*v.iter().max().unwrap() - *v.iter().min().unwrap()).num_seconds() as f64
    };
    (block.clone(), span(&stages) / span(&all).max(1.0))
}

#[test]
fn the_gantt_axis_ends_with_the_work_and_draws_a_rollback() {
    let mut w = common::World::new();
    // A P2 (target 24 h) done in about an hour: the work fills the chart.
    let id = w.hotfix(Severity::P2);
    w.approve("avery", id, "sre-avp");
    w.approve("dana", id, "dev-lead");
    w.add_test(id, "smoke", hotfix::state::Priority::Critical);
    w.set_test(id, "smoke", TestStatus::Passed);
    w.ship(id);
    let (block, filled) = gantt_of(&w, id);
    assert!(
        filled > 0.9,
        "the stages fill {filled:.2} of the axis:\n{block}"
    );
    assert!(
        block.contains("· target 1d0h met") && !block.contains("section Target"),
        "{block}"
    );
    // Deployed, then rolled back: drawn, and never counted as the time to deploy.
    let second = w.hotfix(Severity::P1);
    for (who, role) in [
        ("avery", "sre-avp"),
        ("dana", "dev-lead"),
        ("priya", "prod-owner"),
    ] {
        w.approve(who, second, role);
    }
    w.add_test(second, "smoke", hotfix::state::Priority::Critical);
    w.set_test(second, "smoke", TestStatus::Passed);
    w.deploy(second);
    w.run(
        "sam",
        Command::RollBack {
            id: second,
            reason: "errors".into(),
        },
    );
    let (block, _) = gantt_of(&w, second);
    assert!(
        block.contains("section Rollback")
            && block.contains("deployed, did not stay :crit, b0,")
            && block.contains("rolled back :milestone, crit, b1,")
            && !block.contains("to deployed :"),
        "{block}"
    );
    assert!(block.contains("target 4h00m not met"), "{block}");
}

#[test]
fn the_reports_gantt_block_is_mermaid_shaped() {
    assert_eq!(demo_gantt_blocks().len(), 3);
}

#[test]
#[ignore = "needs the Mermaid CLI: @mermaid-js/mermaid-cli and HOTFIX_MMDC (`.ci/run` installs it)"]
fn the_reports_gantt_block_is_mermaid_that_mermaid_cli_renders() {
    let mut blocks = demo_gantt_blocks();
    // And a rollback, which the demo has none of.
    let mut w = common::World::new();
    let id = w.ready_p1();
    w.deploy(id);
    w.run(
        "sam",
        Command::RollBack {
            id,
            reason: "errors".into(),
        },
    );
    assert_eq!(id, ReleaseId::Hotfix(1));
    blocks.push(("HF-1", gantt_of(&w, id).0));
    let (bin, config) = mermaid_cli().expect(
        "the Mermaid CLI: install @mermaid-js/mermaid-cli (npm) and set HOTFIX_MMDC (and HOTFIX_MMDC_CONFIG for its browser), as .ci/run does",
    );
    let out = tempfile::tempdir().unwrap();
    for (id, block) in blocks {
        let input = out.path().join(format!("{id}.mmd"));
        let image = out.path().join(format!("{id}.svg"));
        std::fs::write(&input, &block).unwrap();
        let mut cmd = std::process::Command::new(&bin);
        if let Some(c) = &config {
            cmd.args(["-p", c]);
        }
        let run = cmd
            .arg("-i")
            .arg(&input)
            .arg("-o")
            .arg(&image)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{id}: mmdc refused the block:\n{block}\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let svg = std::fs::read_to_string(&image).unwrap();
        assert!(svg.contains("<svg") && svg.contains(id), "{id}");
    }
}

#[test]
fn a_notice_written_to_a_file_is_recorded_and_the_report_lists_it() {
    let (dir, _store) = demo();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("hf3-planned.md");
    let f = file.to_str().unwrap();
    hotfix(dir.path(), "you")
        .args([
            "notify",
            "HF-3",
            "--stage",
            "planned",
            "--audience",
            "ops",
            "--output",
            f,
        ])
        .assert()
        .success();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("HF-3"), "{text}");
    let store = common::open(dir.path()).unwrap();
    let hf3 = store.model.release(ReleaseId::Hotfix(3)).unwrap();
    let last = hf3.notices.last().unwrap();
    assert_eq!(last.channel.as_str(), "file:hf3-planned.md");
    assert!(last.error.is_none());
    let report = hotfix(dir.path(), "you")
        .args(["report", "HF-3"])
        .assert()
        .success();
    let report = String::from_utf8_lossy(&report.get_output().stdout).into_owned();
    assert!(
        report.contains("file:hf3-planned.md | you |")
            && report.contains("written, to send by hand"),
        "{report}"
    );
    // A notice that is not true now is refused before anything is written.
    let early = out.path().join("deployed.md");
    hotfix(dir.path(), "you")
        .args([
            "notify",
            "HF-3",
            "--stage",
            "deployed",
            "--output",
            early.to_str().unwrap(),
        ])
        .assert()
        .code(3);
    assert!(!early.exists());
}

#[test]
fn the_deployed_ops_notice_names_every_failed_test() {
    use hotfix::state::{Audience, Priority, Stage, TestStatus};
    let mut w = common::World::new();
    let id = w.ready_p1();
    w.add_test(id, "ui::receipt_copy", Priority::Low);
    w.set_test(id, "ui::receipt_copy", TestStatus::Failed);
    w.run(
        "dana",
        Command::WaiveTest {
            id,
            name: "ui::receipt_copy".into(),
            reason: "copy fix next week".into(),
        },
    );
    w.deploy(id);
    let notice =
        hotfix::notify::render(&w.model, id, Stage::Deployed, Audience::Ops, w.now).unwrap();
    assert!(
        notice
            .body
            .contains("1/2 passed, 1 critical; 1 failed: ui::receipt_copy (low, waived)"),
        "{}",
        notice.body
    );
}

#[test]
fn a_rolled_back_notice_states_the_facts_as_of_when_it_is_made() {
    use hotfix::state::{Audience, Stage};
    let mut w = common::World::new();
    let id = w.ready_p1();
    let inc = w.release(id).scope.incidents[0];
    w.deploy(id);
    let deployed = w
        .release(id)
        .milestone(hotfix::state::Phase::Deployed)
        .unwrap()
        .at;
    w.now += chrono::Duration::minutes(20);
    w.run(
        "dana",
        Command::RollBack {
            id,
            reason: "5xx rose".into(),
        },
    );
    let ops = |w: &common::World| {
        hotfix::notify::render(&w.model, id, Stage::RolledBack, Audience::Ops, w.now)
            .unwrap()
            .body
    };
    let body = ops(&w);
    assert!(
        body.contains("by dana"),
        "who rolled back, as recorded: {body}"
    );
    assert!(
        body.contains(&format!("{inc} (")) && body.contains("still open"),
        "{body}"
    );
    assert!(
        !body.contains("followed") && body.contains("Rollback plan on record"),
        "the plan is on record; nothing recorded that it was followed: {body}"
    );
    // Printed again once the incident was resolved: it says so, not "still open".
    w.now += chrono::Duration::hours(2);
    w.run(
        "avery",
        Command::ResolveIncident {
            id: inc,
            note: "fixed by a config change".into(),
        },
    );
    let body = ops(&w);
    assert!(
        body.contains("resolved at") && !body.contains("still open"),
        "{body}"
    );
    // End users: when the fix went live, and when it was withdrawn (two times, not one).
    w.public(inc, "Some payments fail.");
    let users =
        hotfix::notify::render(&w.model, id, Stage::RolledBack, Audience::Users, w.now).unwrap();
    let rolled_back = w
        .release(id)
        .milestone(hotfix::state::Phase::RolledBack)
        .unwrap()
        .at;
    assert!(
        users.body.contains(&hotfix::present::stamp(deployed))
            && users.body.contains(&hotfix::present::stamp(rolled_back))
            && deployed != rolled_back,
        "{}",
        users.body
    );
}

#[test]
fn an_import_dry_run_shows_each_failure_and_the_gate_after_and_records_nothing() {
    let (dir, _store) = demo();
    let log = || std::fs::read(dir.path().join("events.jsonl")).unwrap();
    let before = log();
    let file = fixture("junit/pytest.xml");
    let (code, stdout, stderr) =
        run_import(dir.path(), &["test", "import", "HF-3", &file, "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(log(), before, "a dry run records nothing");
    assert!(stdout.contains("dry run: nothing was recorded"), "{stdout}");
    assert!(
        stdout.contains("medium   5 new, 1 passed, 3 failed, 1 skipped"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "failed test_checkout::test_payment_gateway_retry (medium; no priority rule matched: medium)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("gate afterwards: BLOCKED")
            && stdout.contains(
                "medium test \"test_checkout::test_payment_gateway_retry\" is failed: it must pass or be waived"
            ),
        "{stdout}"
    );
    // The real import then records what the preview said.
    let (code, _, stderr) = run_import(dir.path(), &["test", "import", "HF-3", &file]);
    assert_eq!(code, 0, "{stderr}");
    let gate = hotfix(dir.path(), "you")
        .args(["release", "gate", "HF-3"])
        .assert()
        .code(3);
    let said = String::from_utf8_lossy(&gate.get_output().stdout).into_owned()
        + &String::from_utf8_lossy(&gate.get_output().stderr);
    assert!(said.contains("test_payment_gateway_retry"), "{said}");
}
