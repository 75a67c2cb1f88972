//! Property tests over random command sequences: replay equals incremental folding, the gate never
//! opens without the policy's approvals and passed critical tests, and ids are never handed out twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::World;
use hotfix::state::archive::Record;
use hotfix::state::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

const ACTORS: &[&str] = &["admin", "avery", "dana", "sam", "priya", "quinn", "eve"];
const ROLES: &[&str] = &["admin", "sre-avp", "dev-lead", "prod-owner", "qa", "bogus"];
const TESTS: &[&str] = &["t1", "t2", "t3"];

fn pick<T: Clone + std::fmt::Debug + 'static>(items: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(items)
}

fn severity() -> impl Strategy<Value = Severity> {
    pick(Severity::ALL)
}

fn release_id() -> impl Strategy<Value = ReleaseId> {
    prop_oneof![
        (1u64..4).prop_map(ReleaseId::Hotfix),
        (1u64..3).prop_map(ReleaseId::Regular)
    ]
}

fn incident_id() -> impl Strategy<Value = IncidentId> {
    (1u64..6).prop_map(IncidentId)
}

fn role() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(pick(ROLES).prop_map(String::from))
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (pick(ACTORS), pick(ROLES)).prop_map(|(u, r)| Command::GrantRole {
            user: u.into(),
            role: r.into()
        }),
        (pick(ACTORS), pick(ROLES)).prop_map(|(u, r)| Command::RevokeRole {
            user: u.into(),
            role: r.into()
        }),
        severity().prop_map(|severity| Command::ReportIncident {
            title: "t".into(),
            severity,
            services: vec![],
            impact: String::new(),
            public: String::new(),
            impact_since: None,
        }),
        (incident_id(), severity()).prop_map(|(id, severity)| Command::ChangeSeverity {
            id,
            severity,
            reason: "r".into()
        }),
        (incident_id(), pick(Decision::ALL)).prop_map(|(id, decision)| Command::QualifyIncident {
            id,
            decision,
            risk: Risk::Low,
            impact: "i".into(),
            rationale: "r".into(),
            public: String::new(),
        }),
        incident_id().prop_map(|id| Command::ResolveIncident {
            id,
            note: String::new()
        }),
        (incident_id(), "[a-c]").prop_map(|(id, p)| Command::EditIncident {
            id,
            public: Some(p),
            impact_since: None,
            impact_until: None,
        }),
        (incident_id(), pick(&["dana", "nobody"])).prop_map(|(id, owner)| Command::RecordReview {
            id,
            review: Box::new(review::ReviewText {
                summary: "s".into(),
                root_cause: "r".into(),
                actions: vec![review::ActionInput {
                    what: "w".into(),
                    owner: owner.into(),
                    due: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                    ticket: None,
                }],
                ..Default::default()
            }),
        }),
        incident_id().prop_map(|id| Command::WaiveReview {
            id,
            reason: "duplicate".into()
        }),
        (incident_id(), 0usize..3).prop_map(|(id, item)| Command::CompleteAction { id, item }),
        proptest::collection::vec(incident_id(), 1..3).prop_map(|incidents| {
            Command::CreateHotfix {
                incidents,
                scope: common::scope(),
            }
        }),
        Just(Command::PlanRegularRelease {
            version: "9.0.0".into(),
            summary: "s".into(),
            planned_at: None,
            code: None,
            artifact: None,
        }),
        (release_id(), "[a-c]").prop_map(|(id, r)| Command::EditRelease {
            id,
            edit: ScopeEdit {
                rollback: Some(r),
                ..ScopeEdit::default()
            }
        }),
        (release_id(), role()).prop_map(|(id, role)| Command::Decide {
            vote: Vote::Approve,
            seen: None,
            id,
            role,
            text: String::new(),
            signature: None,
        }),
        (release_id(), role()).prop_map(|(id, role)| Command::Decide {
            vote: Vote::Reject,
            seen: None,
            id,
            role,
            text: "no".into(),
            signature: None,
        }),
        release_id().prop_map(|id| Command::StartDeploy { id }),
        release_id().prop_map(|id| Command::MarkDeployed {
            id,
            commit: None,
            artifact: None,
        }),
        release_id().prop_map(|id| Command::VerifyRelease {
            id,
            note: String::new()
        }),
        release_id().prop_map(|id| Command::CloseRelease {
            id,
            carried_to: None,
        }),
        release_id().prop_map(|id| Command::RollBack {
            id,
            reason: "r".into()
        }),
        release_id().prop_map(|id| Command::CancelRelease {
            id,
            reason: "r".into()
        }),
        (release_id(), pick(TESTS), pick(Priority::ALL)).prop_map(|(id, n, priority)| {
            Command::AddTest {
                id,
                name: n.into(),
                priority,
                automated: true,
                owner: None,
            }
        }),
        (release_id(), pick(TESTS), pick(TestStatus::ALL)).prop_map(|(id, n, status)| {
            Command::SetTestStatus {
                id,
                name: n.into(),
                status,
                note: None,
            }
        }),
        (release_id(), pick(TESTS)).prop_map(|(id, n)| Command::WaiveTest {
            id,
            name: n.into(),
            reason: "r".into()
        }),
    ]
}

fn steps() -> impl Strategy<Value = Vec<(&'static str, Command)>> {
    proptest::collection::vec((pick(ACTORS), command()), 1..80)
}

/// Steps weighted towards what moves a release through the gate.
fn gate_steps() -> impl Strategy<Value = Vec<(&'static str, Command)>> {
    let hf = (1u64..3).prop_map(ReleaseId::Hotfix);
    let focused = prop_oneof![
        4 => (hf.clone(), role()).prop_map(|(id, role)| Command::Decide { vote: Vote::Approve, seen: None, id, role, text: String::new(), signature: None, }),
        3 => (hf.clone(), pick(TESTS), pick(TestStatus::ALL)).prop_map(|(id, n, status)| Command::SetTestStatus { id, name: n.into(), status, note: None }),
        3 => hf.clone().prop_map(|id| Command::StartDeploy { id }),
        1 => (hf, pick(TESTS), pick(Priority::ALL)).prop_map(|(id, n, priority)| Command::AddTest { id, name: n.into(), priority, automated: true, owner: None }),
        3 => command(),
    ];
    proptest::collection::vec((pick(ACTORS), focused), 1..60)
}

/// The gate's promise, checked independently of `Model::gate`: every role the policy needs for the
/// release's severity holds a current approval by someone other than the author, no rejection
/// stands, and at least one critical test exists and every critical test passed.
fn deploy_is_justified(model: &Model, id: ReleaseId) -> Result<(), String> {
    let r = model.release(id).map_err(|e| e.message)?;
    if !id.is_hotfix() {
        return match model.hotfixes_in_flight().first() {
            Some(hf) => Err(format!(
                "regular release deployed while {} in flight",
                hf.id
            )),
            None => Ok(()),
        };
    }
    let severity = r
        .scope
        .incidents
        .iter()
        .map(|i| model.incidents[i].severity)
        .min()
        .ok_or("no incidents")?;
    let needed = model
        .policy
        .approvers_for(severity)
        .ok_or("severity not hotfixable")?;
    for role in needed {
        let a = r
            .approvals
            .iter()
            .rev()
            .find(|a| a.role == role)
            .ok_or(format!("no {role} approval"))?;
        if a.revision != r.revision || a.approver == r.author {
            return Err(format!("{role} approval not valid: {a:?}"));
        }
    }
    if r.rejections.iter().any(|x| x.revision == r.revision) {
        return Err("a rejection stands".into());
    }
    let critical: Vec<&TestCase> = r
        .tests
        .iter()
        .filter(|t| t.priority == Priority::Critical)
        .collect();
    if critical.is_empty() || critical.iter().any(|t| t.status != TestStatus::Passed) {
        return Err("critical tests not all passed".into());
    }
    if r.tests.iter().any(|t| {
        t.priority == Priority::High && t.status != TestStatus::Passed && t.waiver.is_none()
    }) {
        return Err("a high test neither passed nor waived".into());
    }
    Ok(())
}

/// Runs the steps from `w`, recording what the rules accept and skipping what they refuse.
fn walk(mut w: World, steps: Vec<(&'static str, Command)>) -> World {
    for (actor, command) in steps {
        if let Ok(events) = w.when(actor, command) {
            w.record(actor, &events);
        }
    }
    w
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn replaying_the_log_gives_the_same_model(steps in steps()) {
        let w = walk(World::new(), steps);
        prop_assert_eq!(Model::replay(&w.log), w.model);
    }

    #[test]
    fn a_snapshot_round_trips_any_model(steps in steps()) {
        let w = walk(World::new(), steps);
        let mark = hotfix::store::snapshot::Mark {
            lines: w.model.seq,
            cursor: 2,
            last_line: 1,
            last_hash: "0".repeat(64),
            first_batch: 1,
        };
        let mut bytes = Vec::new();
        hotfix::store::snapshot::write(&mut bytes, &mark, &w.model, None).unwrap();
        let read = hotfix::store::snapshot::read(&bytes).expect("reads back");
        prop_assert_eq!(read.mark, mark);
        prop_assert_eq!(read.model, w.model);
    }

    #[test]
    fn no_sequence_opens_the_gate_without_approvals_and_passed_critical_tests(steps in steps()) {
        let mut w = World::new();
        for (actor, command) in steps {
            let Ok(events) = w.when(actor, command) else { continue };
            for e in &events {
                match e {
                    Event::DeployStarted { id, .. } => {
                        if let Err(why) = deploy_is_justified(&w.model, *id) {
                            prop_assert!(false, "{} started deploying unjustified: {}", id, why);
                        }
                    }
                    Event::ApprovalGiven { role, .. } => prop_assert!(w.model.holds(actor, role), "{actor} approved as {role} without holding it"),
                    _ => {}
                }
            }
            w.record(actor, &events);
        }
    }

    #[test]
    fn ids_are_never_handed_out_twice(steps in steps()) {
        let mut w = World::new();
        let mut incidents = BTreeSet::new();
        let mut releases = BTreeSet::new();
        for (actor, command) in steps {
            let Ok(events) = w.when(actor, command) else { continue };
            for e in &events {
                match e {
                    Event::IncidentReported { id, .. } => prop_assert!(incidents.insert(*id), "{id} twice"),
                    Event::HotfixCreated { id, .. } | Event::RegularReleasePlanned { id, .. } => prop_assert!(releases.insert(*id), "{id} twice"),
                    _ => {}
                }
            }
            w.record(actor, &events);
        }
    }
}

/// A world where the random walk starts close to the gate, so deploys really happen in the runs.
fn near_the_gate() -> World {
    let mut w = World::new();
    let p1 = w.hotfix(Severity::P1);
    w.approve("avery", p1, "sre-avp");
    w.approve("dana", p1, "dev-lead");
    w.add_test(p1, "t1", Priority::Critical);
    let p2 = w.hotfix(Severity::P2);
    w.approve("avery", p2, "sre-avp");
    w.add_test(p2, "t1", Priority::Critical);
    w.set_test(p2, "t1", TestStatus::Passed);
    w
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn near_the_gate_every_deploy_is_justified(steps in gate_steps()) {
        let mut w = near_the_gate();
        for (actor, command) in steps {
            let Ok(events) = w.when(actor, command) else { continue };
            for e in &events {
                if let Event::DeployStarted { id, .. } = e
                    && let Err(why) = deploy_is_justified(&w.model, *id)
                {
                    prop_assert!(false, "{} started deploying unjustified: {}", id, why);
                }
            }
            w.record(actor, &events);
        }
        prop_assert_eq!(Model::replay(&w.log), w.model);
    }

    #[test]
    fn every_event_the_rules_decide_passes_the_folds_legality_check(steps in gate_steps()) {
        let w = walk(near_the_gate(), steps);
        let mut m = Model::default();
        for r in &w.log {
            if let Err(why) = hotfix::state::legal(&m, r) {
                prop_assert!(false, "event {} ({}) judged illegal: {}", r.seq, r.event.kind(), why);
            }
            hotfix::state::apply(&mut m, r);
        }
    }
}

/// A line as a hostile writer would append it: at the next sequence number, in `w`'s time.
fn forged(w: &World, actor: &str, event: Event) -> Recorded {
    Recorded {
        seq: w.model.seq + 1,
        at: w.now,
        actor: actor.into(),
        event,
    }
}

#[test]
fn the_folds_legality_check_refuses_power_taken_around_the_rules() {
    let w = near_the_gate();
    let judge = |actor: &str, event: Event| legal(&w.model, &forged(&w, actor, event));
    let grant = Event::RoleGranted {
        user: "dana".into(),
        role: "admin".into(),
    };
    assert!(
        judge("dana", grant.clone())
            .unwrap_err()
            .contains("only an admin may grant roles")
    );
    assert!(judge("admin", grant).is_ok());
    let id = *w.model.releases.keys().next().unwrap();
    let rel = &w.model.releases[&id];
    let deploy = Event::DeployStarted {
        id,
        severity: w.model.release_severity(rel),
        required_roles: w.model.required_roles(rel),
        exempted: None,
    };
    assert!(
        judge("admin", deploy)
            .unwrap_err()
            .contains("cannot deploy")
    );
    // Marking deployed or closing a release that never started deploying (a shut gate).
    for event in [
        Event::ReleaseDeployed {
            id,
            commit: None,
            artifact: None,
        },
        Event::ReleaseClosed {
            id,
            carried_to: None,
        },
        Event::ReleaseVerified {
            id,
            note: String::new(),
        },
    ] {
        let why = judge("admin", event).unwrap_err();
        assert!(why.contains(", not "), "{why}");
    }
    let approve = |role: &str, revision: u32, fingerprint: String| Event::ApprovalGiven {
        id,
        role: role.into(),
        comment: String::new(),
        revision,
        fingerprint,
        signature: None,
        on_behalf: None,
    };
    let fp = rel.scope.fingerprint();
    assert!(
        judge("quinn", approve("prod-owner", 1, fp.clone()))
            .unwrap_err()
            .contains("does not hold the prod-owner role")
    );
    assert!(
        judge("sam", approve("dev-lead", 1, fp.clone()))
            .unwrap_err()
            .contains("wrote")
    );
    // A scope other than the release's: a forged revision or fingerprint.
    assert!(
        judge("priya", approve("prod-owner", 1, "0".repeat(64)))
            .unwrap_err()
            .contains("fingerprint")
    );
    let qualify = Event::IncidentQualified {
        id: IncidentId(1),
        decision: Decision::Hotfix,
        risk: Risk::Low,
        impact: "i".into(),
        rationale: "r".into(),
    };
    assert!(
        judge("quinn", qualify)
            .unwrap_err()
            .contains("may qualify incidents")
    );
    let waive = Event::TestWaived {
        id,
        name: "t1".into(),
        reason: "r".into(),
    };
    assert!(judge("quinn", waive).unwrap_err().contains("waived"));
}

#[test]
fn one_person_fills_one_role_even_on_a_hand_written_line() {
    let mut w = World::new();
    w.run(
        "admin",
        Command::GrantRole {
            user: "avery".into(),
            role: "prod-owner".into(),
        },
    );
    let id = w.hotfix(Severity::P1);
    w.approve("avery", id, "sre-avp");
    let rel = &w.model.releases[&id];
    let second = Event::ApprovalGiven {
        id,
        role: "prod-owner".into(),
        comment: String::new(),
        revision: rel.revision,
        fingerprint: rel.scope.fingerprint(),
        signature: None,
        on_behalf: None,
    };
    let line = forged(&w, "avery", second);
    let before = w.model.clone();
    let mut after = w.model.clone();
    let illegal = fold(&mut after, &line).expect("the second role is refused");
    assert!(
        illegal.reason.contains("one person fills at most one role"),
        "{illegal:?}"
    );
    assert_eq!((illegal.seq, illegal.actor.as_str()), (line.seq, "avery"));
    assert_eq!(after.illegal, vec![illegal]);
    assert_eq!(after.releases, before.releases);
    assert!(!after.gate(id).unwrap().ready);
}

/// The event(s) `command` would record if the rules were ignored: what a hostile writer appends
/// by hand with the frame right. `None` when there is nothing to forge it about.
fn forge(m: &Model, command: &Command) -> Option<Vec<Event>> {
    let rel = |id: &ReleaseId| m.releases.get(id);
    Some(match command.clone() {
        Command::GrantRole { user, role } => vec![Event::RoleGranted { user, role }],
        Command::RevokeRole { user, role } => vec![Event::RoleRevoked { user, role }],
        Command::ChangeSeverity {
            id,
            severity,
            reason,
        } => vec![Event::IncidentSeverityChanged {
            id,
            from: m.incidents.get(&id)?.severity,
            to: severity,
            reason,
        }],
        Command::QualifyIncident {
            id,
            decision,
            risk,
            impact,
            rationale,
            ..
        } => vec![Event::IncidentQualified {
            id,
            decision,
            risk,
            impact,
            rationale,
        }],
        Command::ResolveIncident { id, note } => vec![Event::IncidentResolved {
            id,
            note,
            release: None,
        }],
        Command::CreateHotfix { incidents, scope } => vec![Event::HotfixCreated {
            id: m.next_release_id(true),
            incidents,
            version: scope.version,
            summary: scope.summary,
            changes: scope.changes,
            risks: scope.risks,
            rollback: scope.rollback,
            code: scope.code.map(|c| *c),
            artifact: scope.artifact,
        }],
        Command::Decide {
            vote: Vote::Approve,
            id,
            role,
            text: comment,
            ..
        } => {
            // A command without a role may be refused only for naming none (the actor holds
            // several): the event names one, so it could be legal. Forge only what names it.
            let r = rel(&id)?;
            vec![Event::ApprovalGiven {
                id,
                role: role?,
                comment,
                revision: r.revision,
                fingerprint: r.scope.fingerprint(),
                signature: None,
                on_behalf: None,
            }]
        }
        Command::Decide {
            vote: Vote::Reject,
            id,
            role,
            text: reason,
            ..
        } => {
            let r = rel(&id)?;
            vec![Event::ApprovalRejected {
                id,
                role: role?,
                reason,
                revision: r.revision,
                fingerprint: r.scope.fingerprint(),
                signature: None,
                on_behalf: None,
            }]
        }
        Command::StartDeploy { id } => {
            let r = rel(&id)?;
            vec![Event::DeployStarted {
                id,
                severity: m.release_severity(r),
                required_roles: m.required_roles(r),
                exempted: None,
            }]
        }
        Command::MarkDeployed {
            id,
            commit,
            artifact,
        } => vec![Event::ReleaseDeployed {
            id,
            commit,
            artifact,
        }],
        Command::VerifyRelease { id, note } => vec![Event::ReleaseVerified { id, note }],
        Command::CloseRelease { id, carried_to } => vec![Event::ReleaseClosed { id, carried_to }],
        Command::RollBack { id, reason } => vec![Event::ReleaseRolledBack { id, reason }],
        Command::CancelRelease { id, reason } => vec![Event::ReleaseCancelled { id, reason }],
        Command::AddTest {
            id,
            name,
            priority,
            automated,
            owner,
        } => vec![Event::TestAdded {
            id,
            name,
            priority,
            automated,
            owner,
        }],
        Command::SetTestStatus {
            id,
            name,
            status,
            note,
        } => vec![Event::TestStatusSet {
            id,
            name,
            status,
            note,
            flaky: false,
        }],
        Command::WaiveTest { id, name, reason } => vec![Event::TestWaived { id, name, reason }],
        Command::WaiveReview { id, reason } => vec![Event::ReviewWaived { id, reason }],
        Command::CompleteAction { id, item } => vec![Event::ActionDone { id, item }],
        Command::RecordReview { id, review } => vec![Event::ReviewRecorded {
            id,
            review: *review,
        }],
        _ => return None,
    })
}

/// The model without what illegal lines leave in it: their names and the sequence numbers
/// they took.
fn without_illegal(mut m: Model, seq: u64) -> Model {
    m.illegal.clear();
    m.seq = seq;
    m
}

/// `m` without the line numbers its records remember, for comparing folds of logs numbered
/// differently.
fn without_lines(mut m: Model) -> Model {
    m.incidents.values_mut().for_each(|i| i.lines.clear());
    m.releases.values_mut().for_each(|r| r.lines.clear());
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Random valid streams with a refused command's events forged into them: every fold
    /// names the forged lines and ignores them, and the rest folds as if they were not there.
    #[test]
    fn a_forged_line_is_inert_and_named(steps in gate_steps(), forgeries in gate_steps()) {
        let mut w = near_the_gate();
        let mut forged_seqs = Vec::new();
        let mut forgeries = forgeries.into_iter();
        for (actor, command) in steps {
            // Between valid steps, a command the rules refuse, appended anyway.
            if let Some((f_actor, f_command)) = forgeries.next()
                && w.when(f_actor, f_command.clone()).is_err()
                && let Some(events) = forge(&w.model, &f_command)
            {
                for event in events {
                    let line = forged(&w, f_actor, event);
                    let before = w.model.clone();
                    let illegal = fold(&mut w.model, &line);
                    prop_assert!(illegal.is_some(), "{:?} by {} was folded", line.event, f_actor);
                    let seq = before.seq;
                    prop_assert_eq!(without_illegal(w.model.clone(), seq), without_illegal(before, seq));
                    forged_seqs.push(line.seq);
                    w.log.push(line);
                }
            }
            if let Ok(events) = w.when(actor, command) {
                w.record(actor, &events);
            }
        }
        // Every fold from the first line names the same lines and agrees with the log
        // without them (renumbered).
        let replayed = Model::replay(&w.log);
        let named: Vec<u64> = replayed.illegal.iter().map(|i| i.seq).collect();
        prop_assert_eq!(&named, &forged_seqs);
        prop_assert_eq!(&replayed, &w.model);
        let mut renumbered: Vec<Recorded> = w
            .log
            .iter()
            .filter(|r| !forged_seqs.contains(&r.seq))
            .cloned()
            .collect();
        for (n, r) in renumbered.iter_mut().enumerate() {
            r.seq = n as u64 + 1;
        }
        let without = Model::replay(&renumbered);
        prop_assert!(without.illegal.is_empty());
        prop_assert_eq!(without_lines(without_illegal(replayed, without.seq)), without_lines(without));
    }
}

#[test]
fn the_random_walk_does_reach_deploys() {
    // Guards the property above against silently testing nothing.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut deploys = 0;
    for _ in 0..400 {
        let mut w = near_the_gate();
        for (actor, command) in gate_steps().new_tree(&mut runner).unwrap().current() {
            if let Ok(events) = w.when(actor, command) {
                deploys += events
                    .iter()
                    .filter(|e| matches!(e, Event::DeployStarted { .. }))
                    .count();
                w.record(actor, &events);
            }
        }
    }
    assert!(deploys >= 20, "only {deploys} deploys in 400 walks");
}

// ---- the active/archive split (see `state::archive`) ----

/// A command, or time passing (so that work finishes long enough ago to be archived).
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // a test's steps, built once
enum Step {
    Run(&'static str, Command),
    Wait(i64),
}

fn split_steps(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        8 => (pick(ACTORS), command()).prop_map(|(a, c)| Step::Run(a, c)),
        1 => (1i64..30).prop_map(Step::Wait),
    ];
    proptest::collection::vec(step, len)
}

/// What every list, record, gate, report and trail says, for the records `shown` holds.
fn answers(m: &Model, shown: &Model, log: &[Recorded]) -> serde_json::Value {
    let ids = |list: Vec<&Release>| list.iter().map(|r| r.id).collect::<Vec<_>>();
    let incidents: Vec<_> = shown.incidents.keys().copied().collect();
    let releases: Vec<_> = shown.releases.keys().copied().collect();
    let now = common::t0() + chrono::Duration::days(400);
    serde_json::json!({
        "queue": m.incident_queue(false).iter().map(|i| i.id).collect::<Vec<_>>(),
        "releases": ids(m.release_queue(false)),
        "recent": ids(m.release_queue_recent()),
        "in_flight": ids(m.hotfixes_in_flight()),
        "next": [m.next_incident_id(), m.next_release_id(true), m.next_release_id(false)],
        "waiting": ACTORS.iter().map(|a| {
            let w = m.waiting_on(a, common::t0());
            (w.approvals.clone(), w.tests.iter().map(|(id, t)| (*id, t.name.clone())).collect::<Vec<_>>())
        }).collect::<Vec<_>>(),
        "incidents": incidents.iter().map(|id| {
            let i = m.incident(*id).unwrap();
            serde_json::json!([i, format!("{:?}", i.target(m)), m.hotfixes_for(*id).map(|r| r.id).collect::<Vec<_>>()])
        }).collect::<Vec<_>>(),
        "records": releases.iter().map(|id| {
            let r = m.release(*id).unwrap();
            serde_json::json!([
                m.release_status(r), m.held_back_by(r), m.required_roles(r),
                m.gate(*id).map(|g| (g.ready, g.blockers)).ok(),
                hotfix::report::build(m, *id, now).ok(),
            ])
        }).collect::<Vec<_>>(),
        "trails": releases.iter().map(|id| log.iter().filter(|r| m.in_trail(r, Some(*id), None)).map(|r| r.seq).collect::<Vec<_>>())
            .chain(incidents.iter().map(|id| log.iter().filter(|r| m.in_trail(r, None, Some(*id))).map(|r| r.seq).collect::<Vec<_>>()))
            .collect::<Vec<_>>(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// The split never changes an answer: the active part (written and read back through the
    /// snapshot format) answers every list, record, gate, report and trail of what it holds as
    /// the whole model does; and carrying on from it, loading the archive only when a command
    /// or an event asks for it (as the store does), decides and folds exactly as the whole
    /// model, with `--all` lists equal once loaded.
    #[test]
    fn the_archive_split_never_changes_an_answer(history in split_steps(1..120), more in split_steps(0..40)) {
        let mut w = World::new();
        let mut log = w.log.clone();
        let play = |w: &mut World, steps: &[Step], log: &mut Vec<Recorded>| {
            for s in steps {
                match s {
                    Step::Wait(days) => w.now += chrono::Duration::days(*days),
                    Step::Run(a, c) => if let Ok(events) = w.when(a, c.clone()) {
                        w.record(a, &events);
                    }
                }
            }
            log.clone_from(&w.log);
        };
        play(&mut w, &history, &mut log);
        let full = w.model.clone();
        let mark = hotfix::store::snapshot::Mark {
            lines: full.seq, cursor: 2, last_line: 1, last_hash: "0".repeat(64), first_batch: 1,
        };
        let mut bytes = Vec::new();
        hotfix::store::snapshot::write(&mut bytes, &mark, &full, None).unwrap();
        let active = hotfix::store::snapshot::read_active(|max| {
            Some(bytes[..(max as usize).min(bytes.len())].to_vec())
        }).expect("the active part reads back");
        let mut part = active.model;
        let archived = hotfix::store::snapshot::read_archive(&bytes, &active.archive).expect("the archive reads back");
        let mut split = full.clone();
        prop_assert_eq!(&split.split(), &archived, "the format holds what the split moves");
        prop_assert_eq!(&split, &part);
        prop_assert!(full.agrees_with(&part));
        prop_assert_eq!(answers(&full, &part, &log), answers(&part, &part, &log));
        // Statistics need no closed record: the facts kept beside the archive, with those of
        // the active part, are the whole model's.
        let kept_facts = hotfix::store::snapshot::read_facts(|max| Some(bytes[..(max as usize).min(bytes.len())].to_vec()), &active.archive, None).expect("the facts read back");
        let facts_of = |part: &Model| {
            let mut f = kept_facts.clone();
            f.extend(hotfix::state::insights::facts(part));
            f
        };
        prop_assert_eq!(facts_of(&part), hotfix::state::insights::facts(&full));

        // One closed record reads with the index and its chunk alone, and the open work with
        // that chunk answers for the chunk's records as the whole model does.
        let at = |from: u64, max: u64| {
            let rest = bytes.get(from as usize..)?;
            Some(rest[..(max as usize).min(rest.len())].to_vec())
        };
        let records = archived.incidents.keys().map(|i| Record::Incident(*i))
            .chain(archived.releases.keys().map(|r| Record::Release(*r)));
        for record in records.take(6) {
            let chunk = hotfix::store::snapshot::read_record(at, &active.archive, record)
                .expect("a closed record reads alone");
            let one = part.with_part(chunk.clone());
            prop_assert!(!one.archived(record));
            let shown = Model::default().with_part(chunk);
            prop_assert_eq!(answers(&full, &shown, &log), answers(&one, &shown, &log));
        }

        // Carrying on: the archive comes in only when asked for.
        let mut archive = Some(archived);
        for s in &more {
            let (actor, command) = match s {
                Step::Wait(days) => { w.now += chrono::Duration::days(*days); continue; }
                Step::Run(a, c) => (*a, c.clone()),
            };
            if part.needs_archive(&command) && let Some(a) = archive.take() {
                part.merge(a);
            }
            let want = decide(&w.model, actor, w.now, command.clone());
            let got = decide(&part, actor, w.now, command);
            prop_assert_eq!(&got, &want);
            if let Ok(events) = want {
                for e in &events {
                    if part.touches_archive(e) && let Some(a) = archive.take() {
                        part.merge(a);
                    }
                }
                w.record(actor, &events);
                for r in &w.log[w.log.len() - events.len()..] {
                    hotfix::state::apply(&mut part, r);
                }
            }
            prop_assert!(w.model.agrees_with(&part));
        }
        log.clone_from(&w.log);
        prop_assert_eq!(answers(&w.model, &part, &log), answers(&part, &part, &log));
        if archive.is_some() {
            prop_assert_eq!(facts_of(&part), hotfix::state::insights::facts(&w.model));
        }
        if let Some(a) = archive.take() {
            part.merge(a);
        }
        prop_assert_eq!(&part, &w.model, "loaded, the whole model");
        prop_assert_eq!(answers(&w.model, &w.model, &log), answers(&part, &part, &log));
    }
}

#[test]
fn the_split_walk_does_archive_something() {
    // The property above is only worth its name if closed work does get archived.
    let mut w = World::new();
    let inc = w.incident(Severity::P2);
    w.qualify(inc, Decision::Hotfix);
    let hf = w.hotfix_for(&[inc]);
    w.run(
        "sam",
        Command::CancelRelease {
            id: hf,
            reason: "r".into(),
        },
    );
    w.run(
        "avery",
        Command::ResolveIncident {
            id: inc,
            note: String::new(),
        },
    );
    w.now += chrono::Duration::days(15);
    w.incident(Severity::P3);
    let mut part = w.model.clone();
    let archived = part.split();
    assert_eq!((archived.incidents.len(), archived.releases.len()), (1, 1));
    assert!(part.incident_archived(inc) && part.release_archived(hf));
    assert!(part.needs_archive(&Command::CloseRelease {
        id: hf,
        carried_to: None,
    }));
    assert!(!part.needs_archive(&Command::CloseRelease {
        id: ReleaseId::Hotfix(9),
        carried_to: None,
    }));
    assert_eq!(part.next_incident_id(), IncidentId(3));
    assert_eq!(part.next_release_id(true), ReleaseId::Hotfix(2));
}

#[test]
fn a_closed_record_is_read_with_its_own_chunk_not_the_archive() {
    // 300 closed incidents, each with its cancelled hotfix: a report on one must not read them all.
    let mut w = World::new();
    let mut pairs = Vec::new();
    for _ in 0..300 {
        let inc = w.incident(Severity::P2);
        w.qualify(inc, Decision::Hotfix);
        let hf = w.hotfix_for(&[inc]);
        w.run(
            "sam",
            Command::CancelRelease {
                id: hf,
                reason: "r".into(),
            },
        );
        w.run(
            "avery",
            Command::ResolveIncident {
                id: inc,
                note: String::new(),
            },
        );
        pairs.push((inc, hf));
    }
    w.now += chrono::Duration::days(15);
    w.incident(Severity::P3);
    let mark = hotfix::store::snapshot::Mark {
        lines: w.model.seq,
        cursor: 2,
        last_line: 1,
        last_hash: "0".repeat(64),
        first_batch: 1,
    };
    let mut bytes = Vec::new();
    hotfix::store::snapshot::write(&mut bytes, &mark, &w.model, None).unwrap();
    let active = hotfix::store::snapshot::read_active(|max| {
        Some(bytes[..(max as usize).min(bytes.len())].to_vec())
    })
    .unwrap();
    let read = std::cell::Cell::new(0u64);
    let at = |from: u64, max: u64| {
        let rest = bytes.get(from as usize..)?;
        let got = rest[..(max as usize).min(rest.len())].to_vec();
        read.set(read.get() + got.len() as u64);
        Some(got)
    };
    let (inc, hf) = pairs[150];
    let chunk =
        hotfix::store::snapshot::read_record(at, &active.archive, Record::Release(hf)).unwrap();
    assert!(chunk.releases.contains_key(&hf) && chunk.incidents.contains_key(&inc));
    assert!(
        chunk.incidents.len() + chunk.releases.len() < 100,
        "a chunk, not the archive"
    );
    let archive_len = bytes.len() as u64 - active.archive.offset;
    assert!(
        read.get() * 4 < archive_len,
        "read {} of an archive of {archive_len} bytes",
        read.get()
    );
    let one = active.model.with_part(chunk);
    let now = common::t0() + chrono::Duration::days(400);
    let report = |m: &Model| hotfix::report::markdown(&hotfix::report::build(m, hf, now).unwrap());
    assert_eq!(report(&one), report(&w.model));
    // A damaged chunk is never read as the record.
    let mut damaged = bytes.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    let at = |from: u64, max: u64| {
        let rest = damaged.get(from as usize..)?;
        Some(rest[..(max as usize).min(rest.len())].to_vec())
    };
    let (_, last_hf) = pairs[299];
    assert!(
        hotfix::store::snapshot::read_record(at, &active.archive, Record::Release(last_hf))
            .is_none()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever engineers write about an incident (ids, hashes, services, revenue at risk),
    /// end users read the public text and the stage's own words, at every stage.
    #[test]
    fn users_notices_carry_only_the_public_text(
        title in "[A-Za-z0-9 ]{0,20}(INC-7|HF-3|deadbeefcafe0123)[A-Za-z0-9 ]{0,20}",
        impact in "(EUR [0-9]{2}k/hour at risk|HTTP 50[0-4] on svc-[a-z]{3})",
        service in "svc-[a-z]{5}",
        public in "[A-Z][a-z]{2,12}( [a-z]{2,10}){1,8}\\.",
        rolled_back in any::<bool>(),
    ) {
        use hotfix::state::{Audience, Stage};
        let mut w = World::new();
        let inc = w.model.next_incident_id();
        w.run("quinn", Command::ReportIncident {
            title: format!("T {title}"),
            severity: Severity::P1,
            services: vec![service.clone()],
            impact: impact.clone(),
            public: String::new(),
            impact_since: None,
        });
        w.public(inc, &public);
        let check = |w: &World, subject: hotfix::notify::Subject, stage: Stage| {
            let n = hotfix::notify::render(&w.model, subject, stage, Audience::Users, w.now).unwrap();
            let text = format!("{}\n{}", n.title, n.body);
            for leak in ["INC-", "HF-", "REL-", "deadbeef", "witness", "svc-", "EUR", "HTTP", &service] {
                assert!(!text.contains(leak), "{leak} in the {stage} notice: {text}");
            }
            assert!(text.contains(&public), "{text}");
            let hex_run = text
                .split(|c: char| !c.is_ascii_hexdigit())
                .any(|w| w.len() >= 16);
            assert!(!hex_run, "a hash in {text}");
        };
        check(&w, inc.into(), Stage::Investigating);
        w.qualify(inc, Decision::Hotfix);
        let id = w.hotfix_for(&[inc]);
        check(&w, id.into(), Stage::Planned);
        w.approve("avery", id, "sre-avp");
        w.approve("dana", id, "dev-lead");
        w.approve("priya", id, "prod-owner");
        w.add_test(id, "smoke", Priority::Critical);
        w.set_test(id, "smoke", TestStatus::Passed);
        w.run("sam", Command::StartDeploy { id });
        check(&w, id.into(), Stage::Deploying);
        w.run("sam", Command::MarkDeployed { id, commit: None, artifact: None, });
        check(&w, id.into(), Stage::Deployed);
        if rolled_back {
            w.run("sam", Command::RollBack { id, reason: format!("HF-9 {impact}") });
            check(&w, id.into(), Stage::RolledBack);
        } else {
            w.run("avery", Command::VerifyRelease { id, note: String::new() });
            check(&w, id.into(), Stage::Resolved);
        }
    }
}
