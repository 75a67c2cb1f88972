//! Insights on hand-built event streams, every figure with its known answer: given events
//! (at exact times), when `stats`, then these durations, shares and lists.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, Utc};
use common::World;
use hotfix::state::insights::{self, Filter, Share, Spread, percentile};
use hotfix::state::*;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Runs the next command at `when`.
fn at(w: &mut World, when: &str) {
    w.now = t(when);
}

fn stats(w: &World, now: &str) -> insights::Stats {
    insights::stats(
        &insights::facts(&w.model),
        &w.model.policy,
        &Filter::default(),
        t(now),
    )
}

const MIN: i64 = 60;
const HOUR: i64 = 3600;

/// HF-1 (P1) through every stage on one day: reported 09:00, qualified 09:05, created 09:10,
/// approved by sre-avp 09:15, dev-lead 09:20, prod-owner 09:30, critical test passed 09:40
/// (gate ready), deploying 09:45, deployed 09:50, verified 10:10.
fn smooth(w: &mut World) -> ReleaseId {
    at(w, "2026-11-02T09:00:00Z");
    let inc = w.incident(Severity::P1);
    at(w, "2026-11-02T09:05:00Z");
    w.qualify(inc, Decision::Hotfix);
    at(w, "2026-11-02T09:10:00Z");
    let id = w.hotfix_for(&[inc]);
    at(w, "2026-11-02T09:11:00Z");
    w.add_test(id, "smoke", Priority::Critical);
    at(w, "2026-11-02T09:15:00Z");
    w.approve("avery", id, "sre-avp");
    at(w, "2026-11-02T09:20:00Z");
    w.approve("dana", id, "dev-lead");
    at(w, "2026-11-02T09:30:00Z");
    w.approve("priya", id, "prod-owner");
    at(w, "2026-11-02T09:40:00Z");
    w.set_test(id, "smoke", TestStatus::Passed);
    at(w, "2026-11-02T09:45:00Z");
    w.run("sam", Command::StartDeploy { id });
    at(w, "2026-11-02T09:50:00Z");
    w.run(
        "sam",
        Command::MarkDeployed {
            id,
            commit: None,
            artifact: None,
        },
    );
    at(w, "2026-11-02T10:10:00Z");
    w.run(
        "avery",
        Command::VerifyRelease {
            id,
            note: String::new(),
        },
    );
    id
}

#[test]
fn percentiles_are_nearest_rank_and_always_a_measured_value() {
    let ten: Vec<i64> = (1..=10).collect();
    assert_eq!(percentile(&ten, 50), Some(5));
    assert_eq!(percentile(&ten, 90), Some(9));
    assert_eq!(percentile(&[4, 1, 3, 2], 50), Some(2));
    assert_eq!(percentile(&[4, 1, 3, 2], 90), Some(4));
    assert_eq!(percentile(&[7], 90), Some(7));
    assert_eq!(percentile(&[], 50), None);
    assert_eq!(
        Spread::of(&[]),
        Spread {
            count: 0,
            median: None,
            p90: None
        }
    );
    assert_eq!(Share::of(1, 3).percent.as_deref(), Some("33.3%"));
    assert_eq!(Share::of(2, 3).percent.as_deref(), Some("66.7%"));
    assert_eq!(Share::of(1, 8).percent.as_deref(), Some("12.5%"));
    assert_eq!(
        Share::of(0, 0).percent,
        None,
        "an empty period divides nothing"
    );
}

#[test]
fn a_hotfix_through_every_stage_has_each_stage_timed_from_the_first_report() {
    let mut w = World::new();
    let id = smooth(&mut w);
    let s = stats(&w, "2026-11-03T00:00:00Z");
    let j = &s.hotfixes[0];
    assert_eq!(j.id, id);
    assert_eq!(
        j.stages,
        [
            Some(5 * MIN),
            Some(30 * MIN),
            Some(40 * MIN),
            Some(50 * MIN),
            Some(70 * MIN)
        ]
    );
    assert_eq!(j.target, Some(4 * HOUR));
    assert!(!j.breached && !j.rolled_back && !j.followed_up);
    let p1 = s
        .targets
        .iter()
        .find(|t| t.severity == Severity::P1)
        .unwrap();
    assert_eq!((p1.met.part, p1.met.whole), (1, 1));
    assert!(p1.breaches.is_empty());
    // Each role's wait, from when the revision was put up (09:10).
    let role = |r: &str| {
        s.wait_by_role
            .iter()
            .find(|w| w.by == r)
            .unwrap()
            .wait
            .median
    };
    assert_eq!(role("sre-avp"), Some(5 * MIN));
    assert_eq!(role("dev-lead"), Some(10 * MIN));
    assert_eq!(role("prod-owner"), Some(20 * MIN));
    assert_eq!(
        s.steps.iter().map(|(_, m)| *m).collect::<Vec<_>>(),
        vec![
            Some(5 * MIN),
            Some(25 * MIN),
            Some(10 * MIN),
            Some(10 * MIN),
            Some(20 * MIN)
        ]
    );
    assert_eq!(s.failure.rate, Share::of(0, 1));
    assert_eq!(s.weeks.len(), 1);
    assert_eq!(s.weeks[0].week, "2026-W45");
    assert_eq!(s.weeks[0].hotfixes, 1);
}

#[test]
fn a_hotfix_still_open_counts_as_breached_only_once_past_its_target() {
    let mut w = World::new();
    at(&mut w, "2026-11-02T09:00:00Z");
    let id = w.hotfix(Severity::P1);
    let before = stats(&w, "2026-11-02T12:59:00Z");
    assert!(!before.hotfixes[0].breached);
    let p1 = before
        .targets
        .iter()
        .find(|t| t.severity == Severity::P1)
        .unwrap();
    assert_eq!(p1.met.whole, 0, "neither deployed nor due: not judged yet");
    let after = stats(&w, "2026-11-02T13:01:00Z");
    let p1 = after
        .targets
        .iter()
        .find(|t| t.severity == Severity::P1)
        .unwrap();
    assert_eq!((p1.met.part, p1.met.whole), (0, 1));
    assert_eq!(p1.breaches, vec![id]);
    assert_eq!(after.hotfixes[0].stages[3], None);
    assert_eq!(after.stages[3].1.count, 0, "no deploy: nothing to measure");
}

#[test]
fn a_rolled_back_hotfix_is_a_failed_change_restored_by_the_next_deploy_for_its_incident() {
    let mut w = World::new();
    let (first, inc) = deployed_p1(&mut w);
    let deployed = w
        .release(first)
        .milestone(release::Phase::Deployed)
        .unwrap()
        .at;
    at(&mut w, "2026-11-02T11:00:00Z");
    w.run(
        "sam",
        Command::RollBack {
            id: first,
            reason: "errors".into(),
        },
    );
    // The second try, for the same incident, deployed at 14:00.
    second_try(&mut w, inc, "2026-11-02T14:00:00Z");
    let s = stats(&w, "2026-11-03T00:00:00Z");
    assert_eq!(s.failure.failed, vec![first]);
    assert_eq!(s.failure.rate, Share::of(1, 2));
    assert_eq!(s.failure.rate.percent.as_deref(), Some("50.0%"));
    assert_eq!(
        s.failure.time_to_restore.median,
        Some((t("2026-11-02T14:00:00Z") - deployed).num_seconds())
    );
    assert!(s.failure.unrestored.is_empty());
    let j = s.hotfixes.iter().find(|j| j.id == first).unwrap();
    assert!(j.rolled_back);
}

#[test]
fn a_hotfix_for_the_same_incident_within_a_week_marks_the_first_as_failed() {
    // Six days after the deploy it is a follow-up; eight days after, a new change.
    for (when, failed) in [
        ("2026-11-08T09:00:00Z", true),
        ("2026-11-10T11:00:00Z", false),
    ] {
        let mut w = World::new();
        let (first, inc) = deployed_p1(&mut w);
        at(&mut w, when);
        let second = w.hotfix_for(&[inc]);
        let s = stats(&w, "2026-11-11T00:00:00Z");
        assert!(s.hotfixes.iter().any(|j| j.id == second));
        if failed {
            assert_eq!(s.failure.failed, vec![first]);
            assert_eq!(
                s.failure.unrestored,
                vec![first],
                "the follow-up is not deployed yet"
            );
        } else {
            assert!(s.failure.failed.is_empty(), "{when}: {:?}", s.failure);
        }
    }
}

#[test]
fn a_stale_approval_given_again_is_timed_from_the_edit_and_counted_as_stale() {
    let mut w = World::new();
    at(&mut w, "2026-11-02T09:00:00Z");
    let id = w.hotfix(Severity::P2);
    at(&mut w, "2026-11-02T09:30:00Z");
    w.approve("avery", id, "sre-avp");
    at(&mut w, "2026-11-02T10:00:00Z");
    w.run(
        "sam",
        Command::EditRelease {
            id,
            edit: ScopeEdit {
                rollback: Some("flag off".into()),
                ..ScopeEdit::default()
            },
        },
    );
    at(&mut w, "2026-11-02T10:45:00Z");
    w.approve("avery", id, "sre-avp");
    let s = stats(&w, "2026-11-02T12:00:00Z");
    assert_eq!(s.stale_approvals, 1);
    let sre = s.wait_by_role.iter().find(|x| x.by == "sre-avp").unwrap();
    assert_eq!(sre.wait.count, 1, "only the approval that counts");
    assert_eq!(sre.wait.median, Some(45 * MIN), "from the edit at 10:00");
}

#[test]
fn waits_across_midnight_and_the_dst_change_are_exact_and_filed_under_the_hour_asked() {
    let mut w = World::new();
    // Asked 23:50 on Saturday 24 October, approved 00:50 on Sunday, across the night the
    // EU clocks went back (01:00 UTC on 25 October): the policy has no time zone, so it is UTC
    // and exactly one hour.
    at(&mut w, "2026-10-24T23:45:00Z");
    let inc = w.incident(Severity::P2);
    w.qualify(inc, Decision::Hotfix);
    at(&mut w, "2026-10-24T23:50:00Z");
    let id = w.hotfix_for(&[inc]);
    at(&mut w, "2026-10-25T00:50:00Z");
    w.approve("avery", id, "sre-avp");
    at(&mut w, "2026-10-25T02:50:00Z");
    w.approve("dana", id, "dev-lead");
    let s = stats(&w, "2026-10-26T00:00:00Z");
    let sre = s.wait_by_role.iter().find(|x| x.by == "sre-avp").unwrap();
    assert_eq!(sre.wait.median, Some(HOUR));
    let dev = s.wait_by_role.iter().find(|x| x.by == "dev-lead").unwrap();
    assert_eq!(dev.wait.median, Some(3 * HOUR));
    assert_eq!(
        s.wait_by_hour
            .iter()
            .map(|x| (x.by.as_str(), x.wait.count))
            .collect::<Vec<_>>(),
        vec![("23", 2)]
    );
    assert_eq!(s.wait_by_weekday[0].by, "Sat");
    assert_eq!(s.hotfixes[0].stages[1], Some(3 * HOUR + 5 * MIN));
}

#[test]
fn a_regular_release_is_held_back_for_the_time_a_hotfix_is_in_flight() {
    let mut w = World::new();
    at(&mut w, "2026-11-02T08:00:00Z");
    let rel = model_next_regular(&w);
    w.run(
        "dana",
        Command::PlanRegularRelease {
            version: "5.0.0".into(),
            summary: "the monthly release".into(),
            planned_at: None,
            code: None,
            artifact: None,
        },
    );
    at(&mut w, "2026-11-02T09:00:00Z");
    let id = w.hotfix(Severity::P2);
    at(&mut w, "2026-11-02T11:30:00Z");
    w.run(
        "sam",
        Command::CancelRelease {
            id,
            reason: "not needed".into(),
        },
    );
    let s = stats(&w, "2026-11-02T12:00:00Z");
    // In flight from its creation (09:01, after the report and qualification) to 11:30.
    let created = w.release(id).created_at;
    assert_eq!(s.held_back.len(), 1);
    assert_eq!(s.held_back[0].release, rel);
    assert_eq!(
        s.held_back[0].held,
        (t("2026-11-02T11:30:00Z") - created).num_seconds()
    );
}

/// A P1 hotfix with every approval and its critical test passed, deployed at 10:00 on 2 November;
/// with the incident it fixes.
fn deployed_p1(w: &mut World) -> (ReleaseId, IncidentId) {
    let id = w.ready_p1();
    let inc = w.release(id).scope.incidents[0];
    at(w, "2026-11-02T10:00:00Z");
    w.deploy(id);
    (id, inc)
}

/// A P1 reported at 09:00, its hotfix deployed at 10:00 and rolled back at 10:30 for `reason`.
fn rolled_back_at_1030(w: &mut World, reason: &str) -> (ReleaseId, IncidentId) {
    at(w, "2026-11-02T09:00:00Z");
    let (first, inc) = deployed_p1(w);
    at(w, "2026-11-02T10:30:00Z");
    w.run(
        "sam",
        Command::RollBack {
            id: first,
            reason: reason.into(),
        },
    );
    (first, inc)
}

/// Another hotfix for `inc`, approved and tested now, deployed at `deployed`.
fn second_try(w: &mut World, inc: IncidentId, deployed: &str) -> ReleaseId {
    let id = w.hotfix_for(&[inc]);
    w.approve("avery", id, "sre-avp");
    w.approve("dana", id, "dev-lead");
    w.approve("priya", id, "prod-owner");
    w.add_test(id, "smoke", Priority::Critical);
    w.set_test(id, "smoke", TestStatus::Passed);
    w.run("sam", Command::StartDeploy { id });
    at(w, deployed);
    w.run(
        "sam",
        Command::MarkDeployed {
            id,
            commit: None,
            artifact: None,
        },
    );
    id
}

fn model_next_regular(w: &World) -> ReleaseId {
    w.model.next_release_id(false)
}

#[test]
fn the_period_and_the_service_pick_the_hotfixes_and_empty_weeks_are_counted() {
    let mut w = World::new();
    smooth(&mut w);
    at(&mut w, "2026-11-20T09:00:00Z");
    w.hotfix(Severity::P2);
    let all = stats(&w, "2026-11-21T00:00:00Z");
    assert_eq!(all.hotfixes.len(), 2);
    assert_eq!(
        all.weeks
            .iter()
            .map(|x| (x.week.as_str(), x.hotfixes))
            .collect::<Vec<_>>(),
        vec![("2026-W45", 1), ("2026-W46", 0), ("2026-W47", 1)]
    );
    let facts = insights::facts(&w.model);
    let since = Filter {
        since: Some(t("2026-11-10T00:00:00Z")),
        service: None,
    };
    let recent = insights::stats(&facts, &w.model.policy, &since, t("2026-11-21T00:00:00Z"));
    assert_eq!(recent.hotfixes.len(), 1);
    let other = Filter {
        since: None,
        service: Some("billing".into()),
    };
    let none = insights::stats(&facts, &w.model.policy, &other, t("2026-11-21T00:00:00Z"));
    assert!(none.hotfixes.is_empty() && none.weeks.is_empty());
    assert_eq!(none.failure.rate.percent, None);
    assert!(none.stages.iter().all(|(_, s)| s.median.is_none()));
}

#[test]
fn tests_flaky_waived_and_deferred_are_counted_across_hotfixes() {
    let mut w = World::new();
    let id = w.ready_p1();
    w.add_test(id, "ui", Priority::Medium);
    w.add_test(id, "regression", Priority::High);
    w.run(
        "avery",
        Command::WaiveTest {
            id,
            name: "regression".into(),
            reason: "covered by smoke".into(),
        },
    );
    w.run(
        "quinn",
        Command::ImportTestResults {
            id,
            results: vec![imports::TestResult {
                id: "smoke".into(),
                name: "smoke".into(),
                status: TestStatus::Passed,
                flaky: true,
                message: String::new(),
            }],
        },
    );
    w.deploy(id);
    let s = stats(&w, "2026-12-01T00:00:00Z");
    assert_eq!(s.flaky_tests[0].name, "smoke");
    assert_eq!(s.waived_tests[0].name, "regression");
    assert_eq!(s.deferred_tests, vec![(id, "ui".to_string())]);
}

#[test]
fn since_accepts_days_weeks_dates_and_all_and_names_what_is_wrong() {
    let now = t("2026-11-30T12:00:00Z");
    assert_eq!(
        insights::parse_since("90d", now).unwrap(),
        Some(t("2026-09-01T12:00:00Z"))
    );
    assert_eq!(
        insights::parse_since("2w", now).unwrap(),
        Some(t("2026-11-16T12:00:00Z"))
    );
    assert_eq!(
        insights::parse_since("2026-10-01", now).unwrap(),
        Some(t("2026-10-01T00:00:00Z"))
    );
    assert_eq!(insights::parse_since("all", now).unwrap(), None);
    for bad in ["x", "0d", "-3d", "99999w", "2026-13-01"] {
        let e = insights::parse_since(bad, now).unwrap_err();
        assert!(e.contains("--since"), "{bad}: {e}");
    }
}

#[test]
fn a_rolled_back_deploy_meets_no_target_and_the_fix_that_stayed_is_timed_as_its_own() {
    let mut w = World::new();
    let (first, inc) = rolled_back_at_1030(&mut w, "errors");
    let second = second_try(&mut w, inc, "2026-11-02T12:00:00Z");

    // Statistics: the rolled-back deploy met nothing and is not a time to deploy.
    let s = stats(&w, "2026-11-03T00:00:00Z");
    let p1 = s
        .targets
        .iter()
        .find(|x| x.severity == Severity::P1)
        .unwrap();
    assert_eq!(p1.met, Share::of(1, 2));
    assert_eq!(p1.breaches, vec![first]);
    let j1 = s.hotfixes.iter().find(|j| j.id == first).unwrap();
    assert_eq!(
        j1.stages[3], None,
        "a rolled-back deploy is no time to deploy"
    );
    let j2 = s.hotfixes.iter().find(|j| j.id == second).unwrap();
    assert_eq!(j2.stages[3], Some(3 * HOUR));

    // The incident's target: met by the second hotfix, at its deploy.
    match w.model.incident(inc).unwrap().target(&w.model) {
        incident::Target::Deployed { at, by, .. } => {
            assert_eq!((by, at), (second, t("2026-11-02T12:00:00Z")));
        }
        other => panic!("{other:?}"),
    }

    // The reports: the first says it met nothing and names the fix that stayed; the second
    // gives its own deploy time, not the first's.
    let now = t("2026-11-03T00:00:00Z");
    let r1 = hotfix::report::build(&w.model, first, now).unwrap();
    let t1 = r1.target.clone().unwrap();
    assert_eq!(t1.met, Some(false));
    assert_eq!(t1.rolled_back_at, Some(t("2026-11-02T10:30:00Z")));
    assert_eq!(
        t1.fixed_by.as_ref().map(|f| (f.release, f.met)),
        Some((second, true))
    );
    let json = serde_json::to_value(&r1).unwrap();
    assert_eq!(json["target"]["met"], serde_json::json!(false));
    let md = hotfix::report::markdown(&r1);
    assert!(
        md.contains("later: **not met** by this hotfix")
            && md.contains(
                "The incident's fix that stayed is HF-2, deployed 3h00m after the report: **met**."
            ),
        "{md}"
    );
    let r2 = hotfix::report::build(&w.model, second, now).unwrap();
    let t2 = r2.target.clone().unwrap();
    assert_eq!(
        (t2.deployed_at, t2.met, t2.fixed_by.is_none()),
        (Some(t("2026-11-02T12:00:00Z")), Some(true), true)
    );
    assert!(
        hotfix::report::markdown(&r2).contains("deployed 3h00m after the report: **met**"),
        "the second's own deploy, not the first's"
    );
}

#[test]
fn each_hotfix_for_an_incident_tells_its_whole_story() {
    let mut w = World::new();
    let (first, inc) = rolled_back_at_1030(&mut w, "errors doubled");
    let second = second_try(&mut w, inc, "2026-11-02T12:00:00Z");
    w.run(
        "avery",
        Command::VerifyRelease {
            id: second,
            note: String::new(),
        },
    );
    // A P1: its last hotfix closes only once the review is on record.
    let why = w.refuse(
        "sam",
        Command::CloseRelease {
            id: second,
            carried_to: None,
        },
    );
    assert!(why.contains("post-incident review first"), "{why}");
    at(&mut w, "2026-11-02T15:00:00Z");
    w.run(
        "avery",
        Command::EditIncident {
            id: inc,
            public: None,
            impact_since: Some(t("2026-11-02T08:52:00Z")),
            impact_until: Some(t("2026-11-02T12:05:00Z")),
        },
    );
    w.run(
        "avery",
        Command::RecordReview {
            id: inc,
            review: Box::new(hotfix::state::review::ReviewText {
                summary: "checkout failed twice".into(),
                root_cause: "null token".into(),
                actions: vec!["contract test|dana|2026-11-20|PAY-1".parse().unwrap()],
                ..Default::default()
            }),
        },
    );
    w.run(
        "sam",
        Command::CloseRelease {
            id: second,
            carried_to: None,
        },
    );
    let now = t("2026-11-03T00:00:00Z");
    let story = |id| -> Vec<String> {
        hotfix::report::build(&w.model, id, now)
            .unwrap()
            .timeline
            .into_iter()
            .map(|s| s.what)
            .collect()
    };
    let second_story = story(second);
    for row in [
        "HF-1 deployed",
        "HF-1 rolled back: errors doubled",
        "deployed",
        "gate open: every approval and test it needs",
        "critical test smoke: passed",
        "INC-1 customer impact began",
        "INC-1 customer impact ended",
        "INC-1 post-incident review recorded (revision 1)",
    ] {
        assert!(
            second_story.iter().any(|r| r == row),
            "{row} in {second_story:#?}"
        );
    }
    assert!(
        second_story
            .iter()
            .any(|r| r.starts_with(&format!("{inc} resolved (closing HF-2)"))),
        "{second_story:#?}"
    );
    let md = hotfix::report::markdown(&hotfix::report::build(&w.model, second, now).unwrap());
    assert!(
        md.contains("**INC-1 customers affected** from 2026-11-02 08:52 UTC to 2026-11-02 12:05 UTC: **3h13m**.")
            && md.contains("## Review")
            && md.contains("- **Root cause:** null token")
            && md.contains("| 1 | contract test | dana | 2026-11-20 | PAY-1 | open |"),
        "{md}"
    );
    let first_story = story(first);
    assert!(
        first_story.iter().any(|r| r == "HF-2 deployed")
            && first_story.iter().any(|r| r == "HF-2 closed"),
        "the rolled-back hotfix's report tells what fixed the incident: {first_story:#?}"
    );
}
