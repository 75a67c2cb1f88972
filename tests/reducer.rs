//! Given events, when a command, then events or a rejection: every rule of the process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{World, approve_as};
use hotfix::state::*;

fn today() -> chrono::DateTime<chrono::Utc> {
    common::t0()
}

fn edit_rollback(text: &str) -> ScopeEdit {
    ScopeEdit {
        rollback: Some(text.into()),
        ..ScopeEdit::default()
    }
}

// ---- identity, roles, policy ----

#[test]
fn init_makes_the_actor_admin_and_refuses_a_second_time() {
    let w = World::new();
    assert!(w.model.holds("admin", "admin"));
    assert!(
        w.refuse("admin", Command::Init)
            .contains("already initialised")
    );
}

#[test]
fn nothing_but_init_works_on_an_empty_store() {
    let err = decide(
        &Model::default(),
        "x",
        common::t0(),
        Command::GrantRole {
            user: "a".into(),
            role: "qa".into(),
        },
    );
    assert!(err.unwrap_err().message.contains("hotfix init"));
}

#[test]
fn only_admin_grants_and_revokes_known_roles() {
    let mut w = World::new();
    let msg = w.refuse(
        "dana",
        Command::GrantRole {
            user: "eve".into(),
            role: "qa".into(),
        },
    );
    assert!(msg.contains("only an admin"), "{msg}");
    let msg = w.refuse(
        "admin",
        Command::GrantRole {
            user: "eve".into(),
            role: "cto".into(),
        },
    );
    assert!(msg.contains("no role \"cto\""), "{msg}");
    assert!(
        w.refuse(
            "admin",
            Command::GrantRole {
                user: "dana".into(),
                role: "dev-lead".into()
            }
        )
        .contains("already holds")
    );
    assert!(
        w.refuse(
            "admin",
            Command::GrantRole {
                user: "bad name".into(),
                role: "qa".into()
            }
        )
        .contains("letters, digits")
    );
    w.run(
        "admin",
        Command::RevokeRole {
            user: "dana".into(),
            role: "dev-lead".into(),
        },
    );
    assert!(!w.model.holds("dana", "dev-lead"));
    assert!(
        w.refuse(
            "admin",
            Command::RevokeRole {
                user: "admin".into(),
                role: "admin".into()
            }
        )
        .contains("last admin")
    );
}

#[test]
fn policy_is_replaced_by_admin_only_and_validated() {
    let w = World::new();
    let mut p = Policy::default();
    p.target_hours.insert(Severity::P1, 2);
    assert!(
        w.refuse(
            "dana",
            Command::SetPolicy {
                policy: Box::new(p.clone())
            }
        )
        .contains("only an admin")
    );
    let mut bad = p.clone();
    bad.qualifier_role = "nobody".into();
    assert!(
        w.refuse(
            "admin",
            Command::SetPolicy {
                policy: Box::new(bad)
            }
        )
        .contains("qualifier_role")
    );
    let mut twice = p.clone();
    twice.roles.push("qa".into());
    assert!(
        w.refuse(
            "admin",
            Command::SetPolicy {
                policy: Box::new(twice)
            }
        )
        .contains("\"qa\" is listed twice")
    );
    let mut twice = p.clone();
    twice
        .approvals
        .get_mut(&Severity::P1)
        .unwrap()
        .push("sre-avp".into());
    assert!(
        w.refuse(
            "admin",
            Command::SetPolicy {
                policy: Box::new(twice)
            }
        )
        .contains("listed twice for P1")
    );
    let mut drops = p.clone();
    drops.roles.retain(|r| r != "qa");
    assert!(
        w.refuse(
            "admin",
            Command::SetPolicy {
                policy: Box::new(drops)
            }
        )
        .contains("drops role \"qa\"")
    );
    assert_eq!(
        w.when(
            "admin",
            Command::SetPolicy {
                policy: Box::new(p.clone())
            }
        )
        .unwrap(),
        vec![Event::PolicyReplaced { policy: p }]
    );
    assert!(
        w.refuse(
            "admin",
            Command::SetPolicy {
                policy: Box::new(Policy::default())
            }
        )
        .contains("same")
    );
}

#[test]
fn an_approval_stops_counting_when_its_giver_loses_the_role_before_deploying() {
    let mut w = World::new();
    let id = w.ready_p1();
    assert!(w.model.gate(id).unwrap().ready);
    w.run(
        "admin",
        Command::RevokeRole {
            user: "dana".into(),
            role: "dev-lead".into(),
        },
    );
    let gate = w.model.gate(id).unwrap();
    assert!(!gate.ready);
    assert!(
        gate.blockers
            .iter()
            .any(|b| b.contains("dev-lead approval by dana no longer counts")),
        "{:?}",
        gate.blockers
    );
    assert!(
        w.refuse("admin", Command::StartDeploy { id })
            .contains("no longer counts")
    );
    // Another holder of the role approves, and the gate opens again.
    w.run(
        "admin",
        Command::GrantRole {
            user: "erin".into(),
            role: "dev-lead".into(),
        },
    );
    w.approve("erin", id, "dev-lead");
    assert!(w.model.gate(id).unwrap().ready);
    w.run("admin", Command::StartDeploy { id });
    // Once deploying, the record stands: revoking erin changes nothing about it.
    w.run(
        "admin",
        Command::RevokeRole {
            user: "erin".into(),
            role: "dev-lead".into(),
        },
    );
    let r = w.release(id);
    assert!(
        w.model
            .checklist(r)
            .iter()
            .all(|c| matches!(c, hotfix::state::RoleCheck::Approved { .. }))
    );
}

#[test]
fn the_acting_user_must_be_a_valid_name() {
    let w = World::new();
    for actor in ["x\u{1b}]52;c;e\u{7}", "dana ", "", &"a".repeat(65)] {
        assert!(
            w.refuse(
                actor,
                Command::ReportIncident {
                    title: "t".into(),
                    severity: Severity::P3,
                    services: vec![],
                    impact: String::new(),
                    public: String::new(),
                    impact_since: None,
                }
            )
            .contains("not a valid user name"),
            "{actor:?}"
        );
    }
}

// ---- incidents and qualification ----

#[test]
fn reporting_hands_out_sequential_ids_and_validates_text() {
    let mut w = World::new();
    assert_eq!(w.incident(Severity::P1), IncidentId(1));
    assert_eq!(w.incident(Severity::P4), IncidentId(2));
    let empty = Command::ReportIncident {
        title: "  ".into(),
        severity: Severity::P2,
        services: vec![],
        impact: String::new(),
        public: String::new(),
        impact_since: None,
    };
    assert!(w.refuse("quinn", empty).contains("title is empty"));
    let huge = Command::ReportIncident {
        title: "x".repeat(10_000),
        severity: Severity::P2,
        services: vec![],
        impact: String::new(),
        public: String::new(),
        impact_since: None,
    };
    assert!(w.refuse("quinn", huge).contains("limit is 200"));
    // NUL is refused in every field (PostgreSQL text cannot hold it).
    for (title, impact) in [("a\0b", ""), ("ok", "x\0y")] {
        let nul = Command::ReportIncident {
            title: title.into(),
            severity: Severity::P2,
            services: vec![],
            impact: impact.into(),
            public: String::new(),
            impact_since: None,
        };
        assert!(w.refuse("quinn", nul).contains("NUL"));
    }
}

#[test]
fn severity_changes_need_a_reason_and_a_change() {
    let mut w = World::new();
    let id = w.incident(Severity::P3);
    assert!(
        w.refuse(
            "quinn",
            Command::ChangeSeverity {
                id,
                severity: Severity::P3,
                reason: "x".into()
            }
        )
        .contains("already P3")
    );
    assert!(
        w.refuse(
            "quinn",
            Command::ChangeSeverity {
                id,
                severity: Severity::P2,
                reason: " ".into()
            }
        )
        .contains("reason is empty")
    );
    let events = w.run(
        "quinn",
        Command::ChangeSeverity {
            id,
            severity: Severity::P2,
            reason: "spreading".into(),
        },
    );
    assert_eq!(
        events,
        vec![Event::IncidentSeverityChanged {
            id,
            from: Severity::P3,
            to: Severity::P2,
            reason: "spreading".into()
        }]
    );
    assert_eq!(w.model.incidents[&id].severity, Severity::P2);
}

#[test]
fn only_the_qualifier_role_qualifies_and_hotfix_needs_p1_or_p2() {
    let mut w = World::new();
    let p1 = w.incident(Severity::P1);
    let p3 = w.incident(Severity::P3);
    let q = |id, decision| Command::QualifyIncident {
        id,
        decision,
        risk: Risk::High,
        impact: "all".into(),
        rationale: "why".into(),
        public: String::new(),
    };
    assert!(
        w.refuse("dana", q(p1, Decision::Hotfix))
            .contains("only the sre-avp role")
    );
    let msg = w.refuse("avery", q(p3, Decision::Hotfix));
    assert!(msg.contains("only P1/P2 incidents"), "{msg}");
    assert!(
        w.refuse(
            "avery",
            Command::QualifyIncident {
                id: p1,
                decision: Decision::Hotfix,
                risk: Risk::Low,
                impact: "".into(),
                rationale: "r".into(),
                public: String::new(),
            }
        )
        .contains("impact is empty")
    );
    w.run("avery", q(p3, Decision::RegularRelease));
    w.run("avery", q(p1, Decision::Hotfix));
    let inc = &w.model.incidents[&p1];
    assert_eq!(inc.status, IncidentStatus::Qualified);
    let qual = inc.qualification.as_ref().unwrap();
    assert_eq!(
        (qual.decision, qual.risk, qual.by.as_str()),
        (Decision::Hotfix, Risk::High, "avery")
    );
}

#[test]
fn an_incident_under_a_hotfix_cannot_be_resolved_or_requalified_by_hand() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P2);
    let inc = w.release(hf).scope.incidents[0];
    assert!(
        w.refuse(
            "quinn",
            Command::ResolveIncident {
                id: inc,
                note: String::new()
            }
        )
        .contains("being fixed by HF-1")
    );
    let requalify = Command::QualifyIncident {
        id: inc,
        decision: Decision::NoAction,
        risk: Risk::Low,
        impact: "i".into(),
        rationale: "r".into(),
        public: String::new(),
    };
    assert!(w.refuse("avery", requalify).contains("already being fixed"));
    w.run(
        "sam",
        Command::CancelRelease {
            id: hf,
            reason: "wrong fix".into(),
        },
    );
    w.run(
        "quinn",
        Command::ResolveIncident {
            id: inc,
            note: "went away".into(),
        },
    );
    assert!(
        w.refuse(
            "quinn",
            Command::ResolveIncident {
                id: inc,
                note: String::new()
            }
        )
        .contains("resolved")
    );
}

// ---- releases ----

#[test]
fn a_hotfix_needs_incidents_qualified_for_a_hotfix() {
    let mut w = World::new();
    let open = w.incident(Severity::P1);
    let regular = w.incident(Severity::P2);
    w.qualify(regular, Decision::RegularRelease);
    let create = |incidents: Vec<IncidentId>| Command::CreateHotfix {
        incidents,
        scope: common::scope(),
    };
    assert!(
        w.refuse("sam", create(vec![]))
            .contains("at least one incident")
    );
    assert!(
        w.refuse("sam", create(vec![open]))
            .contains("not qualified yet")
    );
    assert!(
        w.refuse("sam", create(vec![regular]))
            .contains("qualified regular-release")
    );
    assert!(
        w.refuse("sam", create(vec![IncidentId(99)]))
            .contains("no incident INC-99")
    );
    w.qualify(open, Decision::Hotfix);
    let bad_version = Command::CreateHotfix {
        incidents: vec![open],
        scope: ScopeInput {
            version: "soon".into(),
            ..common::scope()
        },
    };
    assert!(w.refuse("sam", bad_version).contains("semantic version"));
    assert_eq!(w.hotfix_for(&[open]), ReleaseId::Hotfix(1));
    let hf = w.release(ReleaseId::Hotfix(1));
    assert_eq!(hf.author, "sam");
    assert_eq!(w.model.release_status(hf), ReleaseStatus::AwaitingApproval);
}

#[test]
fn severity_is_the_highest_of_the_incidents_and_selects_the_approvers() {
    let mut w = World::new();
    let p2 = w.incident(Severity::P2);
    let p1 = w.incident(Severity::P1);
    w.qualify(p2, Decision::Hotfix);
    w.qualify(p1, Decision::Hotfix);
    let a = w.hotfix_for(&[p2]);
    let b = w.hotfix_for(&[p2, p1]);
    assert_eq!(
        w.model.required_roles(w.release(a)),
        ["sre-avp", "dev-lead"]
    );
    assert_eq!(w.model.release_severity(w.release(b)), Some(Severity::P1));
    assert_eq!(
        w.model.required_roles(w.release(b)),
        ["sre-avp", "dev-lead", "prod-owner"]
    );
}

#[test]
fn approval_rules_hold_role_needed_role_not_author_one_role_each() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P1);
    let approve = |role: &str| approve_as(hf, role);
    assert!(
        w.refuse("quinn", approve("qa"))
            .contains("does not need qa")
    );
    assert!(
        w.refuse("quinn", approve("sre-avp"))
            .contains("does not hold the sre-avp role")
    );
    assert!(
        w.refuse("sam", approve("dev-lead"))
            .contains("wrote HF-1 and cannot approve")
    );
    w.run(
        "admin",
        Command::GrantRole {
            user: "dana".into(),
            role: "sre-avp".into(),
        },
    );
    w.approve("dana", hf, "dev-lead");
    assert!(
        w.refuse("dana", approve("sre-avp"))
            .contains("one person fills at most one role")
    );
    assert!(
        w.refuse("dana", approve("dev-lead"))
            .contains("already approved")
    );
    w.run(
        "admin",
        Command::GrantRole {
            user: "avery".into(),
            role: "dev-lead".into(),
        },
    );
    assert!(
        w.refuse("avery", approve("dev-lead"))
            .contains("already filled by dana")
    );
    let given = w
        .when(
            "avery",
            Command::Decide {
                vote: Vote::Approve,
                seen: None,
                id: hf,
                role: None,
                text: "ok".into(),
                signature: None,
            },
        )
        .unwrap();
    assert!(
        matches!(&given[..], [Event::ApprovalGiven { role, .. }] if role == "sre-avp"),
        "{given:?}"
    );
}

#[test]
fn approving_without_a_role_asks_when_several_are_open() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P1);
    w.run(
        "admin",
        Command::GrantRole {
            user: "priya".into(),
            role: "sre-avp".into(),
        },
    );
    let msg = w.refuse(
        "priya",
        Command::Decide {
            vote: Vote::Approve,
            seen: None,
            id: hf,
            role: None,
            text: String::new(),
            signature: None,
        },
    );
    assert!(
        msg.contains("several roles") && msg.contains("--role"),
        "{msg}"
    );
    assert!(
        w.refuse(
            "quinn",
            Command::Decide {
                vote: Vote::Approve,
                seen: None,
                id: hf,
                role: None,
                text: String::new(),
                signature: None,
            }
        )
        .contains("holds none of the roles")
    );
}

#[test]
fn editing_the_scope_makes_approvals_stale_and_the_gate_says_so() {
    let mut w = World::new();
    let hf = w.ready_p1();
    assert!(w.model.gate(hf).unwrap().ready);
    w.run(
        "sam",
        Command::EditRelease {
            id: hf,
            edit: edit_rollback("feature flag"),
        },
    );
    let gate = w.model.gate(hf).unwrap();
    assert!(!gate.ready);
    assert_eq!(gate.blockers.len(), 3);
    assert!(
        gate.blockers[0].contains("sre-avp approval by avery is stale"),
        "{:?}",
        gate.blockers
    );
    assert!(matches!(
        w.model.checklist(w.release(hf))[1],
        RoleCheck::Stale { .. }
    ));
    assert!(
        w.refuse(
            "sam",
            Command::EditRelease {
                id: hf,
                edit: edit_rollback("feature flag")
            }
        )
        .contains("changes nothing")
    );
    // The same approver may renew their stale approval.
    w.approve("avery", hf, "sre-avp");
    assert_eq!(w.model.gate(hf).unwrap().blockers.len(), 2);
}

#[test]
fn a_rejection_blocks_until_the_release_is_edited() {
    let mut w = World::new();
    let hf = w.ready_p1();
    assert!(
        w.refuse(
            "dana",
            Command::Decide {
                vote: Vote::Reject,
                seen: None,
                id: hf,
                role: Some("dev-lead".into()),
                text: "".into(),
                signature: None,
            }
        )
        .contains("reason is empty")
    );
    w.run(
        "dana",
        Command::Decide {
            vote: Vote::Reject,
            seen: None,
            id: hf,
            role: Some("dev-lead".into()),
            text: "no canary".into(),
            signature: None,
        },
    );
    assert_eq!(
        w.model.release_status(w.release(hf)),
        ReleaseStatus::Rejected
    );
    let gate = w.model.gate(hf).unwrap();
    assert!(
        gate.blockers
            .iter()
            .any(|b| b.contains("rejected by dana (dev-lead): \"no canary\"")),
        "{:?}",
        gate.blockers
    );
    assert!(
        w.refuse("sam", Command::StartDeploy { id: hf })
            .contains("rejected by dana")
    );
    assert!(
        w.refuse(
            "priya",
            Command::Decide {
                vote: Vote::Approve,
                seen: None,
                id: hf,
                role: None,
                text: String::new(),
                signature: None,
            }
        )
        .contains("edit the release")
    );
    w.run(
        "sam",
        Command::EditRelease {
            id: hf,
            edit: edit_rollback("canary first"),
        },
    );
    assert_eq!(
        w.model.release_status(w.release(hf)),
        ReleaseStatus::AwaitingApproval
    );
}

#[test]
fn raising_severity_before_deploy_adds_the_new_roles() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P2);
    w.approve("avery", hf, "sre-avp");
    w.approve("dana", hf, "dev-lead");
    w.add_test(hf, "smoke", Priority::Critical);
    w.set_test(hf, "smoke", TestStatus::Passed);
    assert!(w.model.gate(hf).unwrap().ready);
    let inc = w.release(hf).scope.incidents[0];
    w.run(
        "quinn",
        Command::ChangeSeverity {
            id: inc,
            severity: Severity::P1,
            reason: "all regions".into(),
        },
    );
    assert_eq!(
        w.model.gate(hf).unwrap().blockers,
        vec!["waiting for approval from prod-owner".to_string()]
    );
}

#[test]
fn replacing_the_policy_before_deploy_changes_the_needed_roles() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P2);
    let mut p = Policy::default();
    p.approvals
        .insert(Severity::P2, vec!["sre-avp".into(), "qa".into()]);
    w.run(
        "admin",
        Command::SetPolicy {
            policy: Box::new(p),
        },
    );
    assert_eq!(w.model.required_roles(w.release(hf)), ["sre-avp", "qa"]);
}

#[test]
fn lowering_severity_below_the_hotfix_policy_blocks_the_gate() {
    let mut w = World::new();
    let hf = w.ready_p1();
    let inc = w.release(hf).scope.incidents[0];
    w.run(
        "quinn",
        Command::ChangeSeverity {
            id: inc,
            severity: Severity::P3,
            reason: "contained".into(),
        },
    );
    let gate = w.model.gate(hf).unwrap();
    assert!(
        gate.blockers.iter().any(|b| b.contains("now P3")),
        "{:?}",
        gate.blockers
    );
}

// ---- tests and the gate ----

#[test]
fn the_gate_needs_a_passed_critical_test_and_high_tests_passed_or_waived() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P2);
    w.approve("avery", hf, "sre-avp");
    w.approve("dana", hf, "dev-lead");
    assert_eq!(
        w.model.gate(hf).unwrap().blockers,
        vec!["no critical test: add at least one critical test".to_string()]
    );
    w.add_test(hf, "crit", Priority::Critical);
    w.add_test(hf, "high", Priority::High);
    w.add_test(hf, "med", Priority::Medium);
    w.add_test(hf, "low", Priority::Low);
    w.set_test(hf, "crit", TestStatus::Failed);
    let gate = w.model.gate(hf).unwrap();
    assert_eq!(gate.blockers.len(), 2, "{:?}", gate.blockers);
    assert!(gate.blockers[0].contains("critical test \"crit\" is failed"));
    assert_eq!(gate.deferred.len(), 2);
    w.set_test(hf, "crit", TestStatus::Passed);
    w.run(
        "dana",
        Command::WaiveTest {
            id: hf,
            name: "high".into(),
            reason: "covered by crit".into(),
        },
    );
    let gate = w.model.gate(hf).unwrap();
    assert!(gate.ready, "{:?}", gate.blockers);
    assert_eq!(
        gate.deferred,
        vec![
            "medium test \"med\" is pending".to_string(),
            "low test \"low\" is pending".to_string()
        ]
    );
}

#[test]
fn a_failed_test_of_any_tier_shuts_the_gate_until_it_passes_or_is_waived() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P2);
    w.approve("avery", hf, "sre-avp");
    w.approve("dana", hf, "dev-lead");
    w.add_test(hf, "crit", Priority::Critical);
    w.set_test(hf, "crit", TestStatus::Passed);
    w.add_test(hf, "payments::retry", Priority::Medium);
    w.add_test(hf, "ui::copy", Priority::Low);
    // Not run yet: deferred, the gate open.
    assert!(w.model.gate(hf).unwrap().ready);
    w.set_test(hf, "payments::retry", TestStatus::Failed);
    w.set_test(hf, "ui::copy", TestStatus::Failed);
    let gate = w.model.gate(hf).unwrap();
    assert!(!gate.ready);
    assert_eq!(
        gate.blockers,
        vec![
            "medium test \"payments::retry\" is failed: it must pass or be waived".to_string(),
            "low test \"ui::copy\" is failed: it must pass or be waived".to_string(),
        ]
    );
    let why = w.refuse("admin", Command::StartDeploy { id: hf });
    assert!(why.contains("payments::retry"), "{why}");
    // A re-run that passes opens it for one, a waiver with a reason for the other.
    w.set_test(hf, "payments::retry", TestStatus::Passed);
    w.run(
        "dana",
        Command::WaiveTest {
            id: hf,
            name: "ui::copy".into(),
            reason: "copy fix ships next week".into(),
        },
    );
    let gate = w.model.gate(hf).unwrap();
    assert!(gate.ready, "{:?}", gate.blockers);
    assert_eq!(
        gate.deferred,
        vec!["low test \"ui::copy\" is failed, waived".to_string()]
    );
}

#[test]
fn a_store_whose_policy_predates_the_rule_keeps_failed_medium_tests_deferred() {
    let mut w = World::new();
    let mut policy = w.model.policy.clone();
    policy.rules = 1;
    w.run(
        "admin",
        Command::SetPolicy {
            policy: Box::new(policy),
        },
    );
    let hf = w.hotfix(Severity::P2);
    w.approve("avery", hf, "sre-avp");
    w.approve("dana", hf, "dev-lead");
    w.add_test(hf, "crit", Priority::Critical);
    w.set_test(hf, "crit", TestStatus::Passed);
    w.add_test(hf, "med", Priority::Medium);
    w.set_test(hf, "med", TestStatus::Failed);
    let gate = w.model.gate(hf).unwrap();
    assert!(gate.ready, "{:?}", gate.blockers);
    assert_eq!(
        gate.deferred,
        vec!["medium test \"med\" is failed".to_string()]
    );
    // And a deploy recorded under it stays legal when the log is folded again.
    w.run("admin", Command::StartDeploy { id: hf });
    assert!(Model::replay(&w.log).illegal.is_empty());
}

#[test]
fn waivers_never_for_critical_and_only_by_waiver_roles() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P2);
    w.add_test(hf, "crit", Priority::Critical);
    w.add_test(hf, "high", Priority::High);
    let waive = |name: &str| Command::WaiveTest {
        id: hf,
        name: name.into(),
        reason: "r".into(),
    };
    assert!(
        w.refuse("avery", waive("crit"))
            .contains("can never be waived")
    );
    assert!(
        w.refuse("quinn", waive("high"))
            .contains("only sre-avp or dev-lead may waive")
    );
    assert!(
        w.refuse("avery", waive("nope"))
            .contains("no test named \"nope\"")
    );
    w.run("avery", waive("high"));
    assert!(
        w.refuse("dana", waive("high"))
            .contains("already waived by avery")
    );
}

#[test]
fn test_names_are_unique_and_listed_critical_then_failing_first() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P2);
    w.add_test(hf, "b-high", Priority::High);
    w.add_test(hf, "a-crit", Priority::Critical);
    w.add_test(hf, "c-crit", Priority::Critical);
    w.set_test(hf, "a-crit", TestStatus::Passed);
    w.set_test(hf, "c-crit", TestStatus::Failed);
    let dup = Command::AddTest {
        id: hf,
        name: "b-high".into(),
        priority: Priority::Low,
        automated: false,
        owner: None,
    };
    assert!(w.refuse("quinn", dup).contains("already has a test"));
    let order: Vec<&str> = w
        .release(hf)
        .tests_by_priority()
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(order, ["c-crit", "a-crit", "b-high"]);
    assert!(
        w.refuse(
            "quinn",
            Command::SetTestStatus {
                id: hf,
                name: "a-crit".into(),
                status: TestStatus::Passed,
                note: None
            }
        )
        .contains("already passed")
    );
}

// ---- deployment and lifecycle ----

#[test]
fn deploy_is_refused_with_every_blocker_then_allowed() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P1);
    let msg = w.refuse("sam", Command::StartDeploy { id: hf });
    assert!(
        msg.contains("waiting for approval from sre-avp")
            && msg.contains("prod-owner")
            && msg.contains("no critical test"),
        "{msg}"
    );
    let hf = w.ready_p1();
    let events = w.run("sam", Command::StartDeploy { id: hf });
    assert!(
        matches!(&events[..], [Event::DeployStarted { required_roles, severity: Some(Severity::P1), .. }] if required_roles.len() == 3)
    );
    assert!(
        w.refuse(
            "priya",
            Command::Decide {
                vote: Vote::Approve,
                seen: None,
                id: hf,
                role: None,
                text: String::new(),
                signature: None,
            }
        )
        .contains("is deploying")
    );
    assert!(
        w.refuse(
            "sam",
            Command::EditRelease {
                id: hf,
                edit: edit_rollback("x")
            }
        )
        .contains("can no longer be edited")
    );
}

#[test]
fn roles_freeze_once_deploying_starts() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P2);
    w.approve("avery", hf, "sre-avp");
    w.approve("dana", hf, "dev-lead");
    w.add_test(hf, "smoke", Priority::Critical);
    w.set_test(hf, "smoke", TestStatus::Passed);
    w.run("sam", Command::StartDeploy { id: hf });
    let inc = w.release(hf).scope.incidents[0];
    w.run(
        "quinn",
        Command::ChangeSeverity {
            id: inc,
            severity: Severity::P1,
            reason: "worse".into(),
        },
    );
    assert_eq!(
        w.model.required_roles(w.release(hf)),
        ["sre-avp", "dev-lead"]
    );
}

#[test]
fn the_lifecycle_runs_in_order_and_close_resolves_incidents() {
    let mut w = World::new();
    let hf = w.ready_p1();
    let inc = w.release(hf).scope.incidents[0];
    assert!(
        w.refuse(
            "sam",
            Command::MarkDeployed {
                id: hf,
                commit: None,
                artifact: None,
            }
        )
        .contains("not deploying")
    );
    w.run("sam", Command::StartDeploy { id: hf });
    assert!(
        w.refuse(
            "sam",
            Command::VerifyRelease {
                id: hf,
                note: String::new()
            }
        )
        .contains("mark it deployed first")
    );
    w.run(
        "sam",
        Command::MarkDeployed {
            id: hf,
            commit: None,
            artifact: None,
        },
    );
    assert!(
        w.refuse(
            "sam",
            Command::CloseRelease {
                id: hf,
                carried_to: None,
            }
        )
        .contains("verify it first")
    );
    w.run(
        "sam",
        Command::VerifyRelease {
            id: hf,
            note: String::new(),
        },
    );
    w.run(
        "avery",
        Command::WaiveReview {
            id: inc,
            reason: "reviewed with the quarterly batch".into(),
        },
    );
    let events = w.run(
        "sam",
        Command::CloseRelease {
            id: hf,
            carried_to: None,
        },
    );
    assert_eq!(events.len(), 2);
    assert_eq!(w.model.incidents[&inc].status, IncidentStatus::Resolved);
    assert_eq!(
        w.model.incidents[&inc].resolution.as_ref().unwrap().release,
        Some(hf)
    );
    assert!(
        w.refuse(
            "sam",
            Command::RollBack {
                id: hf,
                reason: "x".into()
            }
        )
        .contains("is closed")
    );
}

#[test]
fn close_leaves_an_incident_open_while_another_unfinished_hotfix_links_it() {
    let mut w = World::new();
    let first = w.ready_p1();
    let inc = w.release(first).scope.incidents[0];
    let second = w.hotfix_for(&[inc]);
    for c in [
        Command::StartDeploy { id: first },
        Command::MarkDeployed {
            id: first,
            commit: None,
            artifact: None,
        },
        Command::VerifyRelease {
            id: first,
            note: String::new(),
        },
    ] {
        w.run("sam", c);
    }
    let events = w.run(
        "sam",
        Command::CloseRelease {
            id: first,
            carried_to: None,
        },
    );
    assert_eq!(
        events,
        vec![Event::ReleaseClosed {
            id: first,
            carried_to: None
        }]
    );
    assert_eq!(w.model.incidents[&inc].status, IncidentStatus::Qualified);
    assert_eq!(
        w.model.unfinished_hotfixes_for(inc).collect::<Vec<_>>(),
        vec![second]
    );
}

#[test]
fn rollback_and_cancel_are_final_and_need_reasons() {
    let mut w = World::new();
    let a = w.ready_p1();
    let b = w.hotfix(Severity::P2);
    assert!(
        w.refuse(
            "sam",
            Command::RollBack {
                id: a,
                reason: "x".into()
            }
        )
        .contains("only a deploying")
    );
    w.run("sam", Command::StartDeploy { id: a });
    assert!(
        w.refuse(
            "sam",
            Command::CancelRelease {
                id: a,
                reason: "x".into()
            }
        )
        .contains("roll it back instead")
    );
    assert!(
        w.refuse(
            "sam",
            Command::RollBack {
                id: a,
                reason: "".into()
            }
        )
        .contains("reason is empty")
    );
    w.run(
        "sam",
        Command::RollBack {
            id: a,
            reason: "errors".into(),
        },
    );
    w.run(
        "sam",
        Command::CancelRelease {
            id: b,
            reason: "dup".into(),
        },
    );
    assert_eq!(
        w.model.release_status(w.release(a)),
        ReleaseStatus::RolledBack
    );
    assert_eq!(
        w.model.release_status(w.release(b)),
        ReleaseStatus::Cancelled
    );
    assert!(
        w.refuse(
            "quinn",
            Command::AddTest {
                id: b,
                name: "t".into(),
                priority: Priority::Low,
                automated: false,
                owner: None
            }
        )
        .contains("can no longer change")
    );
}

#[test]
fn hotfixes_take_precedence_over_regular_releases() {
    let mut w = World::new();
    w.run(
        "dana",
        Command::PlanRegularRelease {
            version: "2.0.0".into(),
            summary: "big".into(),
            planned_at: None,
            code: None,
            artifact: None,
        },
    );
    let rel = ReleaseId::Regular(1);
    assert!(w.model.gate(rel).unwrap().ready);
    let hf = w.ready_p1();
    let msg = w.refuse("dana", Command::StartDeploy { id: rel });
    assert!(msg.contains("hotfix HF-1 is in flight"), "{msg}");
    assert!(
        w.refuse(
            "priya",
            Command::Decide {
                vote: Vote::Approve,
                seen: None,
                id: rel,
                role: None,
                text: String::new(),
                signature: None,
            }
        )
        .contains("needs no approvals")
    );
    let queue: Vec<ReleaseId> = w.model.release_queue(false).iter().map(|r| r.id).collect();
    assert_eq!(queue, vec![hf, rel]);
    for c in [
        Command::StartDeploy { id: hf },
        Command::MarkDeployed {
            id: hf,
            commit: None,
            artifact: None,
        },
    ] {
        w.run("sam", c);
        assert!(w.when("dana", Command::StartDeploy { id: rel }).is_err());
    }
    w.run(
        "sam",
        Command::VerifyRelease {
            id: hf,
            note: String::new(),
        },
    );
    w.run("dana", Command::StartDeploy { id: rel });
}

#[test]
fn the_queue_orders_hotfixes_by_severity_then_age_then_regular_by_plan() {
    let mut w = World::new();
    let late = common::t0() + chrono::Duration::days(3);
    let soon = common::t0() + chrono::Duration::days(1);
    w.run(
        "dana",
        Command::PlanRegularRelease {
            version: "3.0.0".into(),
            summary: "late".into(),
            planned_at: Some(late),
            code: None,
            artifact: None,
        },
    );
    w.run(
        "dana",
        Command::PlanRegularRelease {
            version: "2.9.0".into(),
            summary: "soon".into(),
            planned_at: Some(soon),
            code: None,
            artifact: None,
        },
    );
    let p2 = w.hotfix(Severity::P2);
    let p1 = w.hotfix(Severity::P1);
    let p2b = w.hotfix(Severity::P2);
    let queue: Vec<ReleaseId> = w.model.release_queue(false).iter().map(|r| r.id).collect();
    assert_eq!(
        queue,
        vec![p1, p2, p2b, ReleaseId::Regular(2), ReleaseId::Regular(1)]
    );
}

#[test]
fn adding_an_incident_by_edit_requires_it_qualified_and_bumps_the_revision() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P2);
    let other = w.incident(Severity::P1);
    let add = ScopeEdit {
        add_incidents: vec![other],
        ..ScopeEdit::default()
    };
    assert!(
        w.refuse(
            "sam",
            Command::EditRelease {
                id: hf,
                edit: add.clone()
            }
        )
        .contains("not qualified yet")
    );
    w.qualify(other, Decision::Hotfix);
    w.run(
        "sam",
        Command::EditRelease {
            id: hf,
            edit: add.clone(),
        },
    );
    assert_eq!(w.release(hf).revision, 2);
    assert_eq!(w.model.release_severity(w.release(hf)), Some(Severity::P1));
    assert!(
        w.refuse("sam", Command::EditRelease { id: hf, edit: add })
            .contains("already part of")
    );
}

#[test]
fn waiting_lists_what_a_person_can_do_now() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P1);
    w.add_test(hf, "smoke", Priority::Critical);
    w.approve("avery", hf, "sre-avp");
    let priya = w.model.waiting_on("priya", today());
    assert_eq!(priya.approvals, vec![(hf, "prod-owner".to_string())]);
    assert!(w.model.waiting_on("avery", today()).approvals.is_empty());
    assert!(
        w.model.waiting_on("sam", today()).approvals.is_empty(),
        "the author cannot approve"
    );
    assert_eq!(w.model.waiting_on("quinn", today()).tests.len(), 1);
}

fn seen(revision: u32) -> Option<Seen> {
    Some(Seen::revision(revision))
}

#[test]
fn an_approval_of_an_older_revision_is_refused_naming_both_and_what_changed() {
    // Given a P1 hotfix by sam at revision 1, edited by sam to revision 2 (risks, rollback)
    let mut w = World::new();
    let hf = w.hotfix(Severity::P1);
    w.run(
        "sam",
        Command::EditRelease {
            id: hf,
            edit: ScopeEdit {
                risks: Some("touches refunds".into()),
                rollback: Some("flag off".into()),
                ..ScopeEdit::default()
            },
        },
    );
    // When avery approves the revision she was shown (1), then it is refused
    let approve = |revision| Command::Decide {
        vote: Vote::Approve,
        id: hf,
        role: None,
        text: String::new(),
        seen: seen(revision),
        signature: None,
    };
    let why = w.refuse("avery", approve(1));
    assert!(
        why.contains("you saw revision 1, it is now revision 2"),
        "{why}"
    );
    assert!(why.contains("changed: risks, rollback"), "{why}");
    assert!(w.refuse("avery", approve(3)).contains("has no revision 3"));
    // and a rejection of the old revision too
    let why = w.refuse(
        "dana",
        Command::Decide {
            vote: Vote::Reject,
            id: hf,
            role: None,
            text: "no".into(),
            seen: seen(1),
            signature: None,
        },
    );
    assert!(why.contains("you saw revision 1"), "{why}");
    // When she approves the current one, then it is recorded against revision 2
    let events = w.run("avery", approve(2));
    assert!(matches!(
        &events[..],
        [Event::ApprovalGiven { revision: 2, role, .. }] if role == "sre-avp"
    ));
}

#[test]
fn a_fingerprint_other_than_the_revisions_is_refused() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P2);
    let current = w.release(hf).scope.fingerprint();
    let approve = |fp: &str| Command::Decide {
        vote: Vote::Approve,
        id: hf,
        role: None,
        text: String::new(),
        seen: Some(Seen {
            revision: 1,
            fingerprint: Some(fp.into()),
        }),
        signature: None,
    };
    assert!(
        w.refuse("avery", approve("0000"))
            .contains("fingerprint you were shown")
    );
    w.run("avery", approve(&current));
}

#[test]
fn eligibility_is_one_rule_for_decide_waiting_and_the_reason_given() {
    // Given dana approved a P1 hotfix as dev-lead and also holds qa and prod-owner
    let mut w = World::new();
    let hf = w.hotfix(Severity::P1);
    w.run(
        "admin",
        Command::GrantRole {
            user: "dana".into(),
            role: "prod-owner".into(),
        },
    );
    w.run(
        "dana",
        Command::Decide {
            vote: Vote::Approve,
            id: hf,
            role: Some("dev-lead".into()),
            text: String::new(),
            seen: None,
            signature: None,
        },
    );
    let release = w.release(hf).clone();
    // Then nothing waits on her, no role is open to her, and approving says why
    assert!(
        w.model
            .open_roles(&release, "dana", Vote::Approve, w.now)
            .is_empty()
    );
    assert!(w.model.waiting_on("dana", today()).approvals.is_empty());
    let why = w.refuse(
        "dana",
        Command::Decide {
            vote: Vote::Approve,
            id: hf,
            role: Some("prod-owner".into()),
            text: String::new(),
            seen: None,
            signature: None,
        },
    );
    assert!(why.contains("one person fills at most one role"), "{why}");
    let why = w.refuse(
        "dana",
        Command::Decide {
            vote: Vote::Approve,
            id: hf,
            role: None,
            text: String::new(),
            seen: None,
            signature: None,
        },
    );
    assert!(why.contains("already approved revision 1"), "{why}");
    // And a role that does not exist is named as such
    let why = w.refuse(
        "dana",
        Command::Decide {
            vote: Vote::Approve,
            id: hf,
            role: Some("god".into()),
            text: String::new(),
            seen: None,
            signature: None,
        },
    );
    assert!(why.contains("there is no role \"god\""), "{why}");
}

#[test]
fn a_look_alike_user_name_is_refused() {
    let w = World::new();
    // A Cyrillic `а` before "very": another user who would look like avery.
    let why = w.refuse(
        "admin",
        Command::GrantRole {
            user: "\u{430}very".into(),
            role: "qa".into(),
        },
    );
    assert!(why.contains("ASCII letters"), "{why}");
    let why = w.refuse(
        "admin",
        Command::GrantRole {
            user: "ave\u{200b}ry".into(),
            role: "qa".into(),
        },
    );
    assert!(why.contains("\\u{200b}"), "{why}");
}

#[test]
fn a_role_nobody_can_give_is_named_in_the_gate_not_just_waited_for() {
    let mut w = World::new();
    // sam, the only other dev-lead, is gone: dana is the only one, and she writes the hotfix.
    w.run(
        "admin",
        Command::RevokeRole {
            user: "sam".into(),
            role: "dev-lead".into(),
        },
    );
    let inc = w.incident(Severity::P2);
    w.qualify(inc, Decision::Hotfix);
    let hf = w.model.next_release_id(true);
    w.run(
        "dana",
        Command::CreateHotfix {
            incidents: vec![inc],
            scope: common::scope(),
        },
    );
    let gate = w.model.gate(hf).unwrap();
    assert!(
        gate.blockers.contains(
            &"waiting for approval from dev-lead, and no one can give dev-lead: dana holds it but wrote HF-1; grant dev-lead to another user"
                .to_string()
        ),
        "{:?}",
        gate.blockers
    );
    // A role nobody holds, and one whose only other holder fills another role.
    w.run(
        "admin",
        Command::RevokeRole {
            user: "avery".into(),
            role: "sre-avp".into(),
        },
    );
    let gate = w.model.gate(hf).unwrap();
    assert!(
        gate.blockers
            .iter()
            .any(|b| b.contains("no one holds sre-avp")),
        "{:?}",
        gate.blockers
    );
    // The admins are told: only they can break it.
    let steps = w.model.waiting_on("admin", today()).steps;
    assert!(
        steps.contains(&hotfix::state::waiting::Step::Unblock(
            hf,
            "dev-lead".into()
        )),
        "{steps:?}"
    );
    // Once someone can, it is plain waiting again.
    w.run(
        "admin",
        Command::GrantRole {
            user: "priya".into(),
            role: "dev-lead".into(),
        },
    );
    let gate = w.model.gate(hf).unwrap();
    assert!(
        gate.blockers
            .contains(&"waiting for approval from dev-lead".to_string()),
        "{:?}",
        gate.blockers
    );
}

#[test]
fn every_step_that_waits_on_someone_is_on_their_list() {
    use hotfix::state::waiting::Step;
    let mut w = World::new();
    // The process's steps; the notices due are checked on their own below.
    let steps = |w: &World, user: &str| {
        let mut s = w.model.waiting_on(user, today()).steps;
        s.retain(|s| !matches!(s, Step::Notify(..)));
        s
    };
    let inc = w.incident(Severity::P2); // reported by quinn
    assert_eq!(
        steps(&w, "avery"),
        vec![Step::Qualify(inc)],
        "the qualifier"
    );
    assert!(steps(&w, "quinn").is_empty(), "qa cannot qualify");
    w.qualify(inc, Decision::Hotfix);
    // The qualifier and the reporter are told to write the hotfix.
    assert_eq!(steps(&w, "avery"), vec![Step::WriteHotfix(inc)]);
    assert_eq!(steps(&w, "quinn"), vec![Step::WriteHotfix(inc)]);
    let hf = w.hotfix_for(&[inc]); // by sam
    assert!(steps(&w, "avery").is_empty());
    // Its author is told to send the notice each stage is due, until it is sent.
    let notices = |w: &World| {
        w.model
            .waiting_on("sam", today())
            .steps
            .into_iter()
            .filter(|s| matches!(s, Step::Notify(..)))
            .collect::<Vec<_>>()
    };
    assert_eq!(notices(&w), vec![Step::Notify(hf, Stage::Planned)]);
    w.run(
        "sam",
        Command::RecordNotice {
            id: hf,
            stage: Stage::Planned,
            audience: Audience::Ops,
            channel: "webhook".into(),
            error: None,
        },
    );
    assert!(notices(&w).is_empty());
    w.approve("avery", hf, "sre-avp");
    w.approve("dana", hf, "dev-lead");
    w.add_test(hf, "crit", Priority::Critical);
    assert!(steps(&w, "sam").is_empty(), "the gate is shut");
    w.set_test(hf, "crit", TestStatus::Passed);
    assert_eq!(
        steps(&w, "sam"),
        vec![Step::Deploy(hf)],
        "the author deploys"
    );
    w.run("sam", Command::StartDeploy { id: hf });
    assert_eq!(steps(&w, "sam"), vec![Step::MarkDeployed(hf)]);
    w.run(
        "sam",
        Command::MarkDeployed {
            id: hf,
            commit: None,
            artifact: None,
        },
    );
    assert_eq!(steps(&w, "sam"), vec![Step::Verify(hf)]);
    w.run(
        "priya",
        Command::VerifyRelease {
            id: hf,
            note: "dashboards".into(),
        },
    );
    assert_eq!(steps(&w, "sam"), vec![Step::Close(hf)]);
    assert_eq!(
        steps(&w, "priya"),
        vec![Step::Close(hf)],
        "and who verified"
    );
    w.run(
        "sam",
        Command::CloseRelease {
            id: hf,
            carried_to: None,
        },
    );
    assert!(steps(&w, "sam").is_empty());
}

#[test]
fn an_approver_withdraws_their_own_approval_before_the_deploy_and_the_role_waits_again() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P2);
    w.approve("avery", hf, "sre-avp");
    w.approve("dana", hf, "dev-lead");
    let withdraw = |reason: &str| Command::Withdraw {
        id: hf,
        role: None,
        reason: reason.into(),
    };
    // Only one's own, and with a reason.
    assert!(
        w.refuse("priya", withdraw("no"))
            .contains("no approval of HF-1")
    );
    assert!(
        w.refuse("avery", withdraw("  "))
            .contains("reason is empty")
    );
    w.run("avery", withdraw("approved the wrong revision"));
    let rel = w.release(hf);
    assert!(
        w.model
            .gate(hf)
            .unwrap()
            .blockers
            .contains(&"waiting for approval from sre-avp".to_string())
    );
    assert_eq!(rel.corrections.len(), 1);
    assert_eq!(rel.corrections[0].what, "withdrew the sre-avp approval");
    assert_eq!(rel.corrections[0].by.as_str(), "avery");
    assert!(
        w.refuse("avery", withdraw("again"))
            .contains("no approval of HF-1")
    );
    // Approving again fills it; once deploying, nothing can be withdrawn.
    w.approve("avery", hf, "sre-avp");
    w.add_test(hf, "crit", Priority::Critical);
    w.set_test(hf, "crit", TestStatus::Passed);
    w.run("sam", Command::StartDeploy { id: hf });
    assert!(
        w.refuse("dana", withdraw("too late"))
            .contains("only before deploying starts")
    );
}

#[test]
fn a_test_is_removed_on_the_record_by_a_waiver_role_and_a_failed_critical_one_never() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P2);
    w.add_test(hf, "ui::recipt", Priority::Medium);
    w.add_test(hf, "crit", Priority::Critical);
    w.add_test(hf, "later", Priority::Low);
    let remove = |name: &str| Command::RemoveTest {
        id: hf,
        name: name.into(),
        reason: "misspelt".into(),
    };
    assert!(
        w.refuse("quinn", remove("ui::recipt"))
            .contains("may remove tests")
    );
    w.run("dana", remove("ui::recipt"));
    let names: Vec<&str> = w
        .release(hf)
        .tests
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["crit", "later"]);
    assert_eq!(w.release(hf).corrections[0].what, "removed test ui::recipt");
    // The rest of the list still answers by name after the positions moved.
    w.add_test(hf, "ui::receipt", Priority::Medium);
    w.set_test(hf, "later", TestStatus::Passed);
    assert_eq!(
        w.release(hf).test("later").unwrap().status,
        TestStatus::Passed
    );
    w.set_test(hf, "crit", TestStatus::Failed);
    assert!(w.refuse("dana", remove("crit")).contains("must pass"));
    assert_eq!(Model::replay(&w.log), w.model);
}

#[test]
fn a_tests_owner_must_be_a_user_of_the_store_under_rules_2() {
    let mut w = World::new();
    let hf = w.hotfix(Severity::P2);
    let add = |owner: &str| Command::AddTest {
        id: hf,
        name: "t".into(),
        priority: Priority::Medium,
        automated: false,
        owner: Some(owner.into()),
    };
    let why = w.refuse("quinn", add("quinnpriya"));
    assert!(
        why.contains("\"quinnpriya\" is not a user of this store"),
        "{why}"
    );
    w.run("quinn", add("priya"));
    // A store under the rules before versions keeps what it allowed.
    let mut policy = w.model.policy.clone();
    policy.rules = 1;
    w.run(
        "admin",
        Command::SetPolicy {
            policy: Box::new(policy),
        },
    );
    let hf2 = w.hotfix(Severity::P2);
    w.run(
        "quinn",
        Command::AddTest {
            id: hf2,
            name: "t".into(),
            priority: Priority::Medium,
            automated: false,
            owner: Some("quinnpriya".into()),
        },
    );
    // And rules this hotfix does not know are refused.
    let mut policy = w.model.policy.clone();
    policy.rules = 9;
    assert!(
        w.refuse(
            "admin",
            Command::SetPolicy {
                policy: Box::new(policy)
            }
        )
        .contains("knows rules 1 to 2")
    );
}

fn review_text(actions: &[&str]) -> Box<review::ReviewText> {
    Box::new(review::ReviewText {
        summary: "checkout failed for 40 minutes".into(),
        root_cause: "a null card token".into(),
        actions: actions.iter().map(|a| a.parse().unwrap()).collect(),
        ..Default::default()
    })
}

/// A P1 hotfix deployed and verified, ready to close: the close that resolves its incident.
fn verified_p1(w: &mut World) -> (ReleaseId, IncidentId) {
    let hf = w.ready_p1();
    w.ship(hf);
    (hf, w.release(hf).scope.incidents[0])
}

#[test]
fn closing_a_p1s_last_hotfix_needs_its_review_or_a_qualifiers_waiver() {
    let mut w = World::new();
    let (hf, inc) = verified_p1(&mut w);
    let why = w.refuse(
        "sam",
        Command::CloseRelease {
            id: hf,
            carried_to: None,
        },
    );
    assert!(
        why.contains("INC-1 is P1: closing HF-1 resolves it")
            && why.contains("hotfix review INC-1 --summary")
            && why.contains("the sre-avp role may waive it"),
        "{why}"
    );
    // A review names its owners among the store's users, and needs a summary and a root cause.
    let mut bad = review_text(&["contract test|nobody|2026-12-20"]);
    let why = w.refuse(
        "sam",
        Command::RecordReview {
            id: inc,
            review: bad.clone(),
        },
    );
    assert!(
        why.contains("\"nobody\" is not a user of this store"),
        "{why}"
    );
    bad.actions.clear();
    bad.root_cause = " ".into();
    let why = w.refuse(
        "sam",
        Command::RecordReview {
            id: inc,
            review: bad,
        },
    );
    assert!(why.contains("root cause is empty"), "{why}");
    w.run(
        "sam",
        Command::RecordReview {
            id: inc,
            review: review_text(&[
                "contract test|dana|2026-12-20|PAY-88",
                "canary|avery|2026-12-01",
            ]),
        },
    );
    let events = w.run(
        "sam",
        Command::CloseRelease {
            id: hf,
            carried_to: None,
        },
    );
    assert_eq!(
        events.len(),
        2,
        "closed, and the incident resolved: {events:?}"
    );
    let rv = w.model.incidents[&inc].review.clone().unwrap();
    assert_eq!(
        (rv.revision, rv.by.as_str(), rv.open_actions()),
        (1, "sam", 2)
    );
}

#[test]
fn a_waiver_is_the_qualifiers_and_says_why_and_p2s_need_no_review() {
    let mut w = World::new();
    let (hf, inc) = verified_p1(&mut w);
    let waive = |reason: &str| Command::WaiveReview {
        id: inc,
        reason: reason.into(),
    };
    assert!(
        w.refuse("sam", waive("busy"))
            .contains("only the sre-avp role")
    );
    assert!(w.refuse("avery", waive(" ")).contains("reason is empty"));
    w.run("avery", waive("duplicate of INC-7, reviewed there"));
    assert!(w.refuse("avery", waive("again")).contains("already waived"));
    w.run(
        "sam",
        Command::CloseRelease {
            id: hf,
            carried_to: None,
        },
    );
    let i = &w.model.incidents[&inc];
    assert_eq!(i.review_waiver.as_ref().unwrap().by, "avery");
    assert!(!i.review_due(&w.model));

    let p2 = w.hotfix(Severity::P2);
    w.approve("avery", p2, "sre-avp");
    w.approve("dana", p2, "dev-lead");
    w.add_test(p2, "smoke", Priority::Critical);
    w.set_test(p2, "smoke", TestStatus::Passed);
    w.ship(p2);
    w.run(
        "sam",
        Command::CloseRelease {
            id: p2,
            carried_to: None,
        },
    );
}

#[test]
fn action_items_are_ticked_once_and_a_rewrite_keeps_what_was_done() {
    let mut w = World::new();
    let (_, inc) = verified_p1(&mut w);
    let done = |item| Command::CompleteAction { id: inc, item };
    assert!(w.refuse("dana", done(1)).contains("has no review"));
    w.run(
        "sam",
        Command::RecordReview {
            id: inc,
            review: review_text(&["contract test|dana|2026-12-20", "canary|avery|2026-12-01"]),
        },
    );
    assert!(w.refuse("dana", done(0)).contains("there is no item 0"));
    assert!(
        w.refuse("dana", done(3))
            .contains("2 action items: there is no item 3")
    );
    w.run("dana", done(1));
    assert!(
        w.refuse("dana", done(1))
            .contains("action 1 of INC-1 was done by dana")
    );
    // Items past their due date and not done are overdue; done ones never are.
    let rv = w.model.incidents[&inc].review.clone().unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 25).unwrap();
    let overdue = rv.overdue(inc, today);
    assert_eq!(overdue.len(), 1);
    assert_eq!((overdue[0].item, overdue[0].owner.as_str()), (2, "avery"));
    // A rewrite keeps the done mark of an item it keeps, by its text.
    w.run(
        "sam",
        Command::RecordReview {
            id: inc,
            review: review_text(&["a new item|sam|2027-01-10", "contract test|dana|2026-12-20"]),
        },
    );
    let rv = &w.model.incidents[&inc].review.as_ref().unwrap();
    assert_eq!(rv.revision, 2);
    assert!(rv.done[0].is_none() && rv.done[1].as_ref().unwrap().by == "dana");
}

#[test]
fn an_incidents_public_text_and_impact_window_are_checked_and_corrected() {
    let mut w = World::new();
    let inc = w.incident(Severity::P1);
    let edit =
        |public: Option<&str>, since: Option<&str>, until: Option<&str>| Command::EditIncident {
            id: inc,
            public: public.map(String::from),
            impact_since: since.map(|s| s.parse().unwrap()),
            impact_until: until.map(|s| s.parse().unwrap()),
        };
    // Customers cannot look up an internal id.
    for leak in ["see INC-1", "fixed by hf-2 soon", "REL-10 ships it"] {
        let why = w.refuse("quinn", edit(Some(leak), None, None));
        assert!(
            why.contains("an internal id customers cannot look up"),
            "{leak}: {why}"
        );
    }
    w.run("quinn", edit(Some("Some card payments fail."), None, None));
    assert!(
        w.refuse("quinn", edit(Some("Some card payments fail."), None, None))
            .contains("nothing to change")
    );
    let why = w.refuse("quinn", edit(None, Some("2099-01-01T00:00:00Z"), None));
    assert!(why.contains("is in the future"), "{why}");
    w.run("quinn", edit(None, Some("2026-11-01T09:00:00Z"), None));
    let why = w.refuse("quinn", edit(None, None, Some("2026-11-01T08:00:00Z")));
    assert!(
        why.contains("impact would end (2026-11-01 08:00 UTC) before it began"),
        "{why}"
    );
    w.run("quinn", edit(None, None, Some("2026-11-01T10:30:00Z")));
    let i = &w.model.incidents[&inc];
    assert_eq!(i.public, "Some card payments fail.");
    assert_eq!(
        hotfix::present::impact_window(i).unwrap(),
        "2026-11-01 09:00 UTC to 2026-11-01 10:30 UTC (1h30m)"
    );
    // Written as the incident is qualified, in the same batch, when given.
    let other = w.incident(Severity::P2);
    let events = w.run(
        "avery",
        Command::QualifyIncident {
            id: other,
            decision: Decision::Hotfix,
            risk: Risk::Low,
            impact: "wide".into(),
            rationale: "needed".into(),
            public: "Search is slow for some customers.".into(),
        },
    );
    assert_eq!(events.len(), 2);
    assert_eq!(
        w.model.incidents[&other].public,
        "Search is slow for some customers."
    );
}

#[test]
fn waiting_names_reviews_due_and_action_items_past_their_date() {
    let mut w = World::new();
    let (_, inc) = verified_p1(&mut w);
    let steps = |w: &World, who: &str, day: &str| -> Vec<String> {
        w.model
            .waiting_on(
                who,
                day.parse::<chrono::NaiveDate>()
                    .unwrap()
                    .and_hms_opt(12, 0, 0)
                    .unwrap()
                    .and_utc(),
            )
            .steps
            .iter()
            .map(|s| s.describe().0)
            .collect()
    };
    // The fix is out: the review waits on the qualifier and the hotfix's author.
    for who in ["avery", "sam"] {
        assert!(
            steps(&w, who, "2026-12-01")
                .contains(&"write the post-incident review of INC-1".into()),
            "{who}: {:?}",
            steps(&w, who, "2026-12-01")
        );
    }
    assert!(
        !steps(&w, "quinn", "2026-12-01")
            .iter()
            .any(|s| s.contains("review"))
    );
    w.run(
        "sam",
        Command::RecordReview {
            id: inc,
            review: review_text(&["contract test|dana|2026-12-20"]),
        },
    );
    assert!(
        !steps(&w, "sam", "2026-12-01")
            .iter()
            .any(|s| s.contains("review of"))
    );
    // Its action item waits on its owner once past due, until done.
    assert!(steps(&w, "dana", "2026-12-20").is_empty());
    assert_eq!(
        steps(&w, "dana", "2026-12-21"),
        ["action 1 of INC-1's review was due 2026-12-20: contract test"]
    );
    w.run("dana", Command::CompleteAction { id: inc, item: 1 });
    assert!(steps(&w, "dana", "2026-12-21").is_empty());
}

#[test]
fn a_freeze_holds_regular_releases_and_a_hotfix_goes_through_it_on_the_record() {
    let mut w = World::new();
    let mut policy = w.model.policy.clone();
    policy.freezes.push(freeze::Freeze {
        name: "year-end freeze".into(),
        from: w.now - chrono::Duration::hours(1),
        to: w.now + chrono::Duration::hours(2),
        services: Vec::new(),
    });
    w.run(
        "admin",
        Command::SetPolicy {
            policy: Box::new(policy),
        },
    );
    let hf = w.ready_p1();
    let rel = w.model.next_release_id(false);
    w.run(
        "dana",
        Command::PlanRegularRelease {
            version: "9.0.0".into(),
            summary: "s".into(),
            planned_at: None,
            code: None,
            artifact: None,
        },
    );
    // The gate says so at this time: the hotfix goes through, the regular release waits.
    let gate = w.model.gate_at(hf, w.now).unwrap();
    assert!(gate.ready && gate.freeze.unwrap().contains("deploys through it"));
    let events = w.run("sam", Command::StartDeploy { id: hf });
    assert!(
        matches!(&events[0], Event::DeployStarted { exempted: Some(n), .. } if n == "year-end freeze"),
        "{events:?}"
    );
    for c in [
        Command::MarkDeployed {
            id: hf,
            commit: None,
            artifact: None,
        },
        Command::VerifyRelease {
            id: hf,
            note: String::new(),
        },
    ] {
        w.run("sam", c);
    }
    let why = w.refuse("dana", Command::StartDeploy { id: rel });
    assert!(
        why.contains("the year-end freeze holds deploys until"),
        "{why}"
    );
    assert!(!w.model.gate_at(rel, w.now).unwrap().ready);
    // One second after it ends, the regular release goes.
    w.now += chrono::Duration::hours(2);
    assert!(w.model.gate_at(rel, w.now).unwrap().freeze.is_none());
    w.run("dana", Command::StartDeploy { id: rel });
}

#[test]
fn two_sres_break_the_glass_and_the_missing_approvals_are_owed_after_the_deploy() {
    let mut w = World::new();
    w.run(
        "admin",
        Command::GrantRole {
            user: "ana".into(),
            role: "sre-avp".into(),
        },
    );
    // A P1 with sre-avp given and tests passed; dev-lead and prod-owner unreachable.
    let hf = w.hotfix(Severity::P1);
    w.approve("avery", hf, "sre-avp");
    w.add_test(hf, "smoke", Priority::Critical);
    let glass = |reason: &str| Command::BreakGlass {
        id: hf,
        reason: reason.into(),
    };
    assert!(
        w.refuse("dana", glass("3am"))
            .contains("only the sre-avp role may break the glass")
    );
    assert!(w.refuse("avery", glass(" ")).contains("reason is empty"));
    w.run("avery", glass("prod-owner unreachable, checkout down"));
    assert!(
        w.refuse("avery", glass("again"))
            .contains("a second, different sre-avp must too")
    );
    // One holder is not enough.
    assert!(!w.model.gate(hf).unwrap().ready);
    w.run("ana", glass("confirmed: customers cannot pay"));
    // Two are, but critical tests still must pass.
    let gate = w.model.gate(hf).unwrap();
    assert_eq!(gate.blockers.len(), 1, "{:?}", gate.blockers);
    assert!(gate.blockers[0].contains("critical test \"smoke\""));
    assert!(
        gate.deferred
            .iter()
            .any(|d| d.contains("the dev-lead approval is owed after the deploy"))
    );
    w.set_test(hf, "smoke", TestStatus::Passed);
    w.run("sam", Command::StartDeploy { id: hf });
    let debts = w.model.debts(w.release(hf));
    let roles: Vec<&str> = debts.iter().map(|d| d.role.as_str()).collect();
    assert_eq!(roles, ["dev-lead", "prod-owner"]);
    let started = w.release(hf).milestone(Phase::Deploying).unwrap().at;
    assert_eq!(debts[0].due, started + chrono::Duration::hours(24));
    // Waiting on the role holders; overdue a day later; paid by an approval after the deploy.
    let owed = |w: &World, who: &str, at| -> Vec<String> {
        w.model
            .waiting_on(who, at)
            .steps
            .iter()
            .map(|s| s.describe().0)
            .filter(|s| s.contains("break-glass"))
            .collect()
    };
    assert!(
        owed(&w, "dana", w.now)[0]
            .contains("give the dev-lead approval HF-1 deployed without (break-glass), owed by")
    );
    assert!(owed(&w, "priya", w.now + chrono::Duration::hours(25))[0].contains("OVERDUE since"));
    w.approve("dana", hf, "dev-lead");
    assert!(owed(&w, "dana", w.now).is_empty());
    // stats counts the break-glass deploy, and what is still owed past its day.
    assert!(hotfix::state::insights::Facts::of(&w.model, w.release(hf)).break_glass);
    let late = w.model.overdue_debts(w.now + chrono::Duration::hours(25));
    assert_eq!(late, vec![(hf, "prod-owner".to_string())]);
    assert!(w.model.debts(w.release(hf))[0].paid.is_some());
    // The author may not break the glass on their own hotfix.
    let other = w.hotfix(Severity::P1);
    w.run(
        "admin",
        Command::GrantRole {
            user: "sam".into(),
            role: "sre-avp".into(),
        },
    );
    let why = w.refuse(
        "sam",
        Command::BreakGlass {
            id: other,
            reason: "mine".into(),
        },
    );
    assert!(
        why.contains("sam wrote HF-2 and cannot break the glass"),
        "{why}"
    );
}

fn delegate(
    user: &str,
    to: &str,
    role: &str,
    until: Option<chrono::DateTime<chrono::Utc>>,
) -> Command {
    Command::Delegate {
        user: user.into(),
        to: to.into(),
        role: role.into(),
        until,
    }
}

#[test]
fn a_deputy_approves_for_the_holder_until_exactly_the_end_of_the_delegation() {
    let mut w = World::new();
    w.grant("pat", "qa");
    let hf = w.hotfix(Severity::P1);
    let until = w.now + chrono::Duration::hours(8);
    // Who may delegate: the holder or an admin; only an approving role the holder holds.
    assert!(
        w.refuse("dana", delegate("priya", "pat", "prod-owner", Some(until)))
            .contains("only priya or an admin may delegate")
    );
    assert!(
        w.refuse("priya", delegate("priya", "pat", "dev-lead", Some(until)))
            .contains("priya does not hold dev-lead")
    );
    assert!(
        w.refuse("admin", delegate("priya", "pat", "admin", Some(until)))
            .contains("approves no hotfix")
    );
    assert!(
        w.refuse(
            "priya",
            delegate("priya", "priya", "prod-owner", Some(until))
        )
        .contains("cannot be their own deputy")
    );
    assert!(
        w.refuse(
            "priya",
            delegate("priya", "nobody", "prod-owner", Some(until))
        )
        .contains("nobody is not a user of this store")
    );
    assert!(
        w.refuse("priya", delegate("priya", "pat", "prod-owner", Some(w.now)))
            .contains("is not in the future")
    );
    assert!(
        w.refuse(
            "priya",
            delegate(
                "priya",
                "pat",
                "prod-owner",
                Some(w.now + chrono::Duration::days(91))
            )
        )
        .contains("more than 90 days")
    );
    assert!(
        w.refuse("priya", delegate("priya", "pat", "prod-owner", None))
            .contains("nothing to end")
    );
    // Before the delegation, pat may not approve as prod-owner.
    let approve = |role: &str| approve_as(hf, role);
    assert!(
        w.refuse("pat", approve("prod-owner"))
            .contains("hotfix user delegate HOLDER --to pat --role prod-owner")
    );
    w.run("priya", delegate("priya", "pat", "prod-owner", Some(until)));
    assert!(
        w.model
            .delegators("pat", "prod-owner", w.now)
            .contains(&"priya")
    );
    // One second before the end pat may approve; at the end exactly, not.
    let mut at_end = w.clone_at(until);
    assert!(
        at_end
            .refuse("pat", approve("prod-owner"))
            .contains("pat does not hold the prod-owner role")
    );
    at_end.now = until - chrono::Duration::seconds(1);
    assert!(at_end.when("pat", approve("prod-owner")).is_ok());
    // Recorded as pat for priya; the gate counts it.
    let events = w.run("pat", approve("prod-owner"));
    assert!(
        matches!(&events[0], Event::ApprovalGiven { on_behalf: Some(h), .. } if h == "priya"),
        "{events:?}"
    );
    let filled = w.release(hf).approval_for("prod-owner").unwrap().by();
    assert_eq!(filled, "pat for priya");
    assert!(
        w.model
            .checklist(w.release(hf))
            .iter()
            .any(|c| matches!(c, RoleCheck::Approved { role, .. } if role == "prod-owner"))
    );
    // pat's hand and priya's authority each fill one role: neither approves another.
    w.grant("pat", "dev-lead");
    assert!(
        w.refuse("pat", approve("dev-lead"))
            .contains("pat already fills prod-owner")
    );
    // It counts while the holder holds the role, as any approval does.
    w.run(
        "admin",
        Command::RevokeRole {
            user: "priya".into(),
            role: "prod-owner".into(),
        },
    );
    assert!(
        w.model
            .checklist(w.release(hf))
            .iter()
            .any(|c| matches!(c, RoleCheck::Revoked { role, .. } if role == "prod-owner"))
    );
    // Every line replays as legal.
    let replayed = hotfix::state::Model::replay(&w.log);
    assert!(replayed.illegal.is_empty(), "{:?}", replayed.illegal);
}

#[test]
fn a_deputy_cannot_stand_in_where_the_holder_could_not_and_an_end_is_immediate() {
    let mut w = World::new();
    w.grant("pat", "qa");
    let until = w.now + chrono::Duration::hours(8);
    // sam writes the hotfix and lends dev-lead to pat: pat acts for the author, refused.
    let hf = w.hotfix(Severity::P1);
    w.run("sam", delegate("sam", "pat", "dev-lead", Some(until)));
    let approve = |role: &str| approve_as(hf, role);
    assert!(
        w.refuse("pat", approve("dev-lead"))
            .contains("pat acts for sam as dev-lead, and sam wrote HF-1")
    );
    // A deputy who wrote the release is refused as its author.
    w.run("priya", delegate("priya", "sam", "prod-owner", Some(until)));
    assert!(
        w.refuse("sam", approve("prod-owner"))
            .contains("sam wrote HF-1 and cannot approve it")
    );
    // An admin ends a delegation at once.
    w.run("priya", delegate("priya", "pat", "prod-owner", Some(until)));
    assert!(w.when("pat", approve("prod-owner")).is_ok());
    w.run("admin", delegate("priya", "pat", "prod-owner", None));
    assert!(
        w.refuse("pat", approve("prod-owner"))
            .contains("does not hold the prod-owner role")
    );
    let replayed = hotfix::state::Model::replay(&w.log);
    assert!(replayed.illegal.is_empty(), "{:?}", replayed.illegal);
    // A line claiming pat acted for someone else is inert.
    let mut forged = w.log.clone();
    forged.push(Recorded {
        seq: w.model.seq + 1,
        at: w.now,
        actor: "pat".into(),
        event: Event::ApprovalGiven {
            id: hf,
            role: "prod-owner".into(),
            comment: String::new(),
            revision: 1,
            fingerprint: w.release(hf).scope.fingerprint(),
            signature: None,
            on_behalf: Some("priya".into()),
        },
    });
    let replayed = hotfix::state::Model::replay(&forged);
    assert_eq!(replayed.illegal.len(), 1, "{:?}", replayed.illegal);
}

#[test]
fn a_waiting_approval_is_reminded_then_its_deputies_asked_then_paged_each_once() {
    use hotfix::state::escalation::Step;
    let mut w = World::escalating();
    let hf = w.hotfix(Severity::P1);
    w.approve("avery", hf, "sre-avp");
    w.approve("dana", hf, "dev-lead");
    let since = w.model.waiting_since(w.release(hf));
    let due = |w: &World, at| -> Vec<(String, Step, Vec<String>)> {
        w.model
            .due_escalations(at)
            .into_iter()
            .map(|d| (d.role, d.step, d.to))
            .collect()
    };
    // One second short of the deadline nothing is due; at it, a reminder to priya.
    assert!(due(&w, since + chrono::Duration::seconds(899)).is_empty());
    assert_eq!(
        due(&w, since + chrono::Duration::seconds(900)),
        [(
            "prod-owner".to_string(),
            Step::Reminder,
            vec!["priya".to_string()]
        )]
    );
    // Claimed once: a second claim at the same state is refused (the record is the lock).
    w.now = since + chrono::Duration::seconds(900);
    let escalate = |step| Command::Escalate {
        id: hf,
        role: "prod-owner".into(),
        step,
    };
    let events = w.run("quinn", escalate(Step::Reminder));
    assert!(matches!(&events[0], Event::ApprovalEscalated { to, .. } if to == &["priya"]));
    assert!(
        w.refuse("avery", escalate(Step::Reminder))
            .contains("no reminder for prod-owner on HF-1 is due now")
    );
    // After two deadlines the deputies; after three, a page (each once).
    w.now = since + chrono::Duration::minutes(30);
    assert_eq!(
        due(&w, w.now),
        [(
            "prod-owner".to_string(),
            Step::Deputies,
            vec!["pat".to_string()]
        )]
    );
    w.run("quinn", escalate(Step::Deputies));
    assert!(w.refuse("quinn", escalate(Step::Page)).contains("no page"));
    w.now = since + chrono::Duration::minutes(45);
    w.run("quinn", escalate(Step::Page));
    assert!(due(&w, w.now + chrono::Duration::hours(5)).is_empty());
    // A failed send is claimed again, but not at once.
    w.run(
        "quinn",
        Command::EscalationFailed {
            id: hf,
            role: "prod-owner".into(),
            step: Step::Page,
            error: "PagerDuty answered HTTP 500".into(),
        },
    );
    assert!(
        w.refuse(
            "avery",
            Command::EscalationFailed {
                id: hf,
                role: "prod-owner".into(),
                step: Step::Page,
                error: "x".into(),
            }
        )
        .contains("not avery's to mark failed")
    );
    assert!(due(&w, w.now).is_empty());
    w.now += chrono::Duration::minutes(5);
    assert_eq!(due(&w, w.now).len(), 1);
    w.run("quinn", escalate(Step::Page));
    // A second failure backs off to 10 minutes (then 20, 40, and hourly).
    let failed = Command::EscalationFailed {
        id: hf,
        role: "prod-owner".into(),
        step: Step::Page,
        error: "PagerDuty answered HTTP 503".into(),
    };
    w.run("quinn", failed);
    let after = w.now - chrono::Duration::minutes(1);
    assert!(due(&w, after + chrono::Duration::seconds(599)).is_empty());
    assert_eq!(due(&w, after + chrono::Duration::minutes(10)).len(), 1);
    assert_eq!(
        hotfix::state::escalation::retry_after(9),
        chrono::Duration::hours(1)
    );
    w.now = after + chrono::Duration::minutes(10);
    w.run("quinn", escalate(Step::Page));
    // The approval resolves the page, once.
    w.approve("priya", hf, "prod-owner");
    assert_eq!(
        due(&w, w.now),
        [("prod-owner".to_string(), Step::Resolve, vec![])]
    );
    w.run("quinn", escalate(Step::Resolve));
    assert!(due(&w, w.now + chrono::Duration::hours(9)).is_empty());
    // Someone who is no user of the store cannot claim anything.
    assert!(
        w.refuse("mallory", escalate(Step::Reminder))
            .contains("mallory is not a user of this store")
    );
    let replayed = hotfix::state::Model::replay(&w.log);
    assert!(replayed.illegal.is_empty(), "{:?}", replayed.illegal);
}

#[test]
fn an_edit_restarts_the_deadline_and_no_deadline_means_no_escalation() {
    use hotfix::state::escalation::Step;
    let mut w = World::escalating();
    let hf = w.hotfix(Severity::P1);
    w.now += chrono::Duration::minutes(16);
    w.run(
        "quinn",
        Command::Escalate {
            id: hf,
            role: "sre-avp".into(),
            step: Step::Reminder,
        },
    );
    // The reminder for revision 1 went; an edit makes revision 2, whose clock starts now.
    w.run(
        "sam",
        Command::EditRelease {
            id: hf,
            edit: edit_rollback("redeploy the previous image"),
        },
    );
    let since = w.model.waiting_since(w.release(hf));
    assert_eq!(since, w.now - chrono::Duration::minutes(1));
    assert!(
        w.model
            .due_escalations(since + chrono::Duration::minutes(14))
            .is_empty()
    );
    let due = w
        .model
        .due_escalations(since + chrono::Duration::minutes(15));
    assert_eq!(due.len(), 3, "{due:?}");
    assert!(
        due.iter()
            .all(|d| d.revision == 2 && d.step == Step::Reminder)
    );
    // A P2 has no deadline in this policy: nothing is ever due.
    let p2 = w.hotfix(Severity::P2);
    assert!(
        w.model
            .due_for(w.release(p2), w.now + chrono::Duration::days(3))
            .is_empty()
    );
    // Two SREs breaking the glass stop the escalation too.
    w.grant("ana", "sre-avp");
    for who in ["avery", "ana"] {
        w.run(
            who,
            Command::BreakGlass {
                id: hf,
                reason: "prod-owner unreachable".into(),
            },
        );
    }
    assert!(
        w.model
            .due_for(w.release(hf), w.now + chrono::Duration::hours(3))
            .is_empty()
    );
}
