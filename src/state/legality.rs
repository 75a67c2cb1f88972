//! Whether a line of the log obeys the rules: it is legal exactly when a command by its actor,
//! against the state just before it, would have produced it. Each event type names the
//! commands that produce it, rebuilt from the event's own fields, and [`decide`] judges them:
//! one source of truth for "who may do what, when", so the fold and the commands cannot drift.
//!
//! A line the rules refuse (written around hotfix: an append made by hand, with its frame and
//! chain right) is inert. [`fold`] leaves the model as it was, but for the sequence number and
//! the line named in [`Model::illegal`]; every view, gate, report and notice so ignores it,
//! and everyone goes on reading and writing.

use super::Vote;
use super::imports::{AlertChange, AlertInput, SeverityHint, TestResult};
use super::{
    Command, Event, Model, Recorded, Rejection, ScopeEdit, ScopeInput, Seen, TestStatus, apply,
    decide, stamp,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A line the rules refused: what it was and why, kept so every face can name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Illegal {
    pub seq: u64,
    pub actor: String,
    /// The event's `type` word.
    pub kind: String,
    /// When the line says it was written (its own claim, like everything in it).
    #[serde(with = "stamp")]
    pub at: DateTime<Utc>,
    pub reason: String,
}

/// Folds `r` into `model` if the rules allow it; otherwise only advances the sequence number
/// and names the line. Returns the refusal, if any.
pub fn fold(model: &mut Model, r: &Recorded) -> Option<Illegal> {
    match legal(model, r) {
        Ok(()) => {
            apply(model, r);
            None
        }
        Err(reason) => {
            let illegal = Illegal {
                seq: r.seq,
                actor: r.actor.clone(),
                kind: r.event.kind().to_string(),
                at: r.at,
                reason,
            };
            model.seq = r.seq;
            model.illegal.push(illegal.clone());
            Some(illegal)
        }
    }
}

/// Whether `r` is what some command by its actor would have recorded in `model`, the state just
/// before it; if not, why not.
pub fn legal(model: &Model, r: &Recorded) -> Result<(), String> {
    let actor = r.actor.as_str();
    let e = &r.event;
    let outcome = match e {
        Event::StoreInitialized { policy, demo } => {
            // The default policy belongs to the version that wrote the line: judged on the
            // store's state and the actor, and the policy only for being valid.
            let init = if *demo {
                Command::InitDemo
            } else {
                Command::Init
            };
            decide(model, actor, r.at, init)
                .and_then(|_| policy.validate())
                .map(|()| true)
        }
        // The grant that comes with initialising a store: its first admin, by themself.
        Event::RoleGranted { user, role }
            if model.initialized
                && model.users.is_empty()
                && user == actor
                && role == super::policy::ADMIN_ROLE =>
        {
            Ok(true)
        }
        Event::RoleGranted { user, role } => first_of(
            model,
            r,
            [Command::GrantRole {
                user: user.clone(),
                role: role.clone(),
            }],
        ),
        Event::RoleDelegated {
            user,
            to,
            role,
            until,
        } => first_of(
            model,
            r,
            [Command::Delegate {
                user: user.clone(),
                to: to.clone(),
                role: role.clone(),
                until: (*until > r.at).then_some(*until),
            }],
        ),
        Event::RoleRevoked { user, role } => first_of(
            model,
            r,
            [Command::RevokeRole {
                user: user.clone(),
                role: role.clone(),
            }],
        ),
        Event::PolicyReplaced { policy } => first_of(
            model,
            r,
            [Command::SetPolicy {
                policy: Box::new(policy.clone()),
            }],
        ),
        Event::IncidentReported {
            title,
            severity,
            services,
            impact,
            source,
            public,
            impact_since,
            ..
        } => match source {
            None => first_of(
                model,
                r,
                [Command::ReportIncident {
                    title: title.clone(),
                    severity: *severity,
                    services: services.clone(),
                    impact: impact.clone(),
                    public: public.clone(),
                    impact_since: *impact_since,
                }],
            ),
            Some(key) => first_of(
                model,
                r,
                [alert(key, AlertChange::State, |a| {
                    a.title = title.clone();
                    a.severity = pagerduty(severity.as_str());
                    a.services = services.clone();
                    a.impact = impact.clone();
                    a.started = *impact_since;
                })],
            ),
        },
        Event::IncidentNoted { id, note, key } => {
            let source = model.incident(*id).map(|i| i.source.clone());
            match source {
                Ok(Some(source)) => first_of(
                    model,
                    r,
                    [alert(&source, AlertChange::Note(note.clone()), |a| {
                        a.event = key.clone();
                    })],
                ),
                Ok(None) => Err(Rejection::new(format!(
                    "{id} has no alerting source: only an alert import notes an incident"
                ))),
                Err(why) => Err(why),
            }
        }
        Event::IncidentServicesChanged { id, services } => match model.incident(*id) {
            Ok(incident) => match &incident.source {
                Some(source) => first_of(
                    model,
                    r,
                    [alert(source, AlertChange::Services, |a| {
                        a.services = services.clone();
                    })],
                ),
                None => Err(Rejection::new(format!(
                    "{id} has no alerting source: only an alert import changes its services"
                ))),
            },
            Err(why) => Err(why),
        },
        Event::IncidentSeverityChanged { id, to, reason, .. } => {
            let mut commands = vec![Command::ChangeSeverity {
                id: *id,
                severity: *to,
                reason: reason.clone(),
            }];
            if let Some(source) = model.incidents.get(id).and_then(|i| i.source.as_ref()) {
                commands.push(alert(source, AlertChange::State, |a| {
                    a.severity = pagerduty(to.as_str());
                }));
            }
            first_of(model, r, commands)
        }
        Event::IncidentQualified {
            id,
            decision,
            risk,
            impact,
            rationale,
        } => first_of(
            model,
            r,
            [Command::QualifyIncident {
                id: *id,
                decision: *decision,
                risk: *risk,
                impact: impact.clone(),
                rationale: rationale.clone(),
                public: String::new(),
            }],
        ),
        Event::IncidentEdited {
            id,
            public,
            impact_since,
            impact_until,
        } => first_of(
            model,
            r,
            [Command::EditIncident {
                id: *id,
                public: public.clone(),
                impact_since: *impact_since,
                impact_until: *impact_until,
            }],
        ),
        Event::ReviewRecorded { id, review } => first_of(
            model,
            r,
            [Command::RecordReview {
                id: *id,
                review: Box::new(review.clone()),
            }],
        ),
        Event::ReviewWaived { id, reason } => first_of(
            model,
            r,
            [Command::WaiveReview {
                id: *id,
                reason: reason.clone(),
            }],
        ),
        Event::IncidentNoticeRecorded {
            id,
            stage,
            audience,
            channel,
            error,
        } => first_of(
            model,
            r,
            [Command::RecordIncidentNotice {
                id: *id,
                stage: *stage,
                audience: *audience,
                channel: channel.clone(),
                error: error.clone(),
            }],
        ),
        Event::ActionDone { id, item } => first_of(
            model,
            r,
            [Command::CompleteAction { id: *id, item: *item }],
        ),
        Event::IncidentResolved {
            id,
            note,
            release: None,
        } => {
            let mut commands = vec![Command::ResolveIncident {
                id: *id,
                note: note.clone(),
            }];
            if let Some(source) = model.incidents.get(id).and_then(|i| i.source.as_ref()) {
                commands.push(alert(source, AlertChange::State, |a| a.resolved = true));
            }
            first_of(model, r, commands)
        }
        // Resolved by closing its hotfix: follows that release's close, by the same person.
        Event::IncidentResolved {
            release: Some(release),
            ..
        } => model.release(*release).and_then(|rel| {
            let closed_by_actor = rel.phase == super::Phase::Closed
                && rel
                    .milestones
                    .last()
                    .is_some_and(|m| m.phase == super::Phase::Closed && m.by == actor);
            if !closed_by_actor {
                return Err(Rejection::new(format!(
                    "{release} was not just closed by {actor}: only closing a hotfix resolves its incidents"
                )));
            }
            Ok(super::lifecycle::resolved_by_closing(model, rel).contains(e))
        }),
        Event::HotfixCreated {
            incidents,
            version,
            summary,
            changes,
            risks,
            rollback,
            code,
            artifact,
            ..
        } => first_of(
            model,
            r,
            [Command::CreateHotfix {
                incidents: incidents.clone(),
                scope: ScopeInput {
                    version: version.clone(),
                    summary: summary.clone(),
                    changes: changes.clone(),
                    risks: risks.clone(),
                    rollback: rollback.clone(),
                    code: code.clone().map(Box::new),
                    artifact: artifact.clone(),
                },
            }],
        ),
        Event::RegularReleasePlanned {
            version,
            summary,
            planned_at,
            code,
            artifact,
            ..
        } => first_of(
            model,
            r,
            [Command::PlanRegularRelease {
                version: version.clone(),
                summary: summary.clone(),
                planned_at: *planned_at,
                code: code.clone().map(Box::new),
                artifact: artifact.clone(),
            }],
        ),
        Event::ReleaseEdited { id, scope, .. } => {
            let before = model
                .releases
                .get(id)
                .map(|rel| rel.scope.incidents.clone())
                .unwrap_or_default();
            first_of(
                model,
                r,
                [Command::EditRelease {
                    id: *id,
                    edit: ScopeEdit {
                        version: Some(scope.version.clone()),
                        summary: Some(scope.summary.clone()),
                        // A regular release has no such fields to edit (its edit names none).
                        changes: id.is_hotfix().then(|| scope.changes.clone()),
                        risks: id.is_hotfix().then(|| scope.risks.clone()),
                        rollback: id.is_hotfix().then(|| scope.rollback.clone()),
                        add_incidents: scope
                            .incidents
                            .iter()
                            .filter(|i| !before.contains(i))
                            .copied()
                            .collect(),
                        code: scope.code.clone().map(Box::new),
                        artifact: scope.artifact.clone(),
                    },
                }],
            )
        }
        Event::ApprovalGiven {
            id,
            role,
            comment,
            revision,
            fingerprint,
            signature,
            ..
        } => first_of(
            model,
            r,
            [Command::Decide { vote: Vote::Approve, id: *id, role: Some(role.clone()), text: comment.clone(), seen: Some(seen(*revision, fingerprint)), signature: signature.clone().map(Box::new) }],
        ),
        Event::ApprovalRejected {
            id,
            role,
            reason,
            revision,
            fingerprint,
            signature,
            ..
        } => first_of(
            model,
            r,
            [Command::Decide { vote: Vote::Reject, id: *id, role: Some(role.clone()), text: reason.clone(), seen: Some(seen(*revision, fingerprint)), signature: signature.clone().map(Box::new) }],
        ),
        Event::ApprovalEscalated { id, role, step, .. } => first_of(
            model,
            r,
            [Command::Escalate {
                id: *id,
                role: role.clone(),
                step: *step,
            }],
        ),
        Event::EscalationFailed {
            id,
            role,
            step,
            error,
            ..
        } => first_of(
            model,
            r,
            [Command::EscalationFailed {
                id: *id,
                role: role.clone(),
                step: *step,
                error: error.clone(),
            }],
        ),
        Event::GlassBroken { id, reason } => first_of(
            model,
            r,
            [Command::BreakGlass {
                id: *id,
                reason: reason.clone(),
            }],
        ),
        Event::KeyAdded { user, key } => first_of(
            model,
            r,
            [Command::AddKey {
                user: user.clone(),
                key: key.clone(),
            }],
        ),
        Event::KeyRemoved { user, fingerprint } => first_of(
            model,
            r,
            [Command::RemoveKey {
                user: user.clone(),
                fingerprint: fingerprint.clone(),
            }],
        ),
        Event::DeployStarted { id, .. } => first_of(model, r, [Command::StartDeploy { id: *id }]),
        Event::ReleaseDeployed {
            id,
            commit,
            artifact,
        } => first_of(
            model,
            r,
            [Command::MarkDeployed {
                id: *id,
                commit: commit.clone(),
                artifact: artifact.clone(),
            }],
        ),
        Event::ReleaseVerified { id, note } => first_of(
            model,
            r,
            [Command::VerifyRelease {
                id: *id,
                note: note.clone(),
            }],
        ),
        Event::ReleaseClosed { id, carried_to } => first_of(
            model,
            r,
            [Command::CloseRelease {
                id: *id,
                carried_to: carried_to.clone(),
            }],
        ),
        Event::ReleaseRolledBack { id, reason } => first_of(
            model,
            r,
            [Command::RollBack {
                id: *id,
                reason: reason.clone(),
            }],
        ),
        Event::ReleaseCancelled { id, reason } => first_of(
            model,
            r,
            [Command::CancelRelease {
                id: *id,
                reason: reason.clone(),
            }],
        ),
        Event::TestAdded {
            id,
            name,
            priority,
            automated,
            owner,
        } => first_of(
            model,
            r,
            [
                Command::AddTest {
                    id: *id,
                    name: name.clone(),
                    priority: *priority,
                    automated: *automated,
                    owner: owner.clone(),
                },
                import(*id, name, TestStatus::Pending, false, None),
            ],
        ),
        Event::TestStatusSet {
            id,
            name,
            status,
            note,
            flaky,
        } => first_of(
            model,
            r,
            [
                Command::SetTestStatus {
                    id: *id,
                    name: name.clone(),
                    status: *status,
                    note: note.clone(),
                },
                import(*id, name, *status, *flaky, note.as_deref()),
            ],
        ),
        Event::TestWaived { id, name, reason } => first_of(
            model,
            r,
            [Command::WaiveTest {
                id: *id,
                name: name.clone(),
                reason: reason.clone(),
            }],
        ),
        Event::NoticeRecorded {
            id,
            stage,
            audience,
            channel,
            error,
        } => first_of(
            model,
            r,
            [Command::RecordNotice {
                id: *id,
                stage: *stage,
                audience: *audience,
                channel: channel.clone(),
                error: error.clone(),
            }],
        ),
        Event::ApprovalWithdrawn { id, role, reason } => first_of(
            model,
            r,
            [Command::Withdraw {
                id: *id,
                role: Some(role.clone()),
                reason: reason.clone(),
            }],
        ),
        Event::TestRemoved { id, name, reason } => first_of(
            model,
            r,
            [Command::RemoveTest {
                id: *id,
                name: name.clone(),
                reason: reason.clone(),
            }],
        ),
        Event::Unreadable { claimed, reason } => Err(Rejection::new(format!(
            "its event (type \"{}\") cannot be read: {}",
            crate::sanitize::line(claimed),
            crate::sanitize::line(reason)
        ))),
    };
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!(
            "{actor} recorded a {} that differs from what the rules would record",
            e.kind()
        )),
        Err(why) => Err(why.message),
    }
}

/// Whether one of `commands`, decided for the line's actor in `model`, records the line's
/// event first. The first command's refusal is the reason given when none does.
fn first_of(
    model: &Model,
    r: &Recorded,
    commands: impl IntoIterator<Item = Command>,
) -> Result<bool, Rejection> {
    let mut refusal = None;
    for command in commands {
        match decide(model, &r.actor, r.at, command) {
            Ok(events) if events.first() == Some(&r.event) => return Ok(true),
            Ok(_) => {}
            Err(why) => {
                refusal.get_or_insert(why);
            }
        }
    }
    refusal.map_or(Ok(false), Err)
}

fn seen(revision: u32, fingerprint: &str) -> Seen {
    Seen {
        revision,
        fingerprint: Some(fingerprint.to_string()),
    }
}

/// A severity as a PagerDuty priority, which maps to it whatever the policy says.
fn pagerduty(severity: &str) -> SeverityHint {
    SeverityHint::PagerDuty {
        priority: Some(severity.to_string()),
        urgency: None,
    }
}

/// An alert for the incident keyed `key`, shaped by `set`.
fn alert(key: &str, change: AlertChange, set: impl FnOnce(&mut AlertInput)) -> Command {
    let mut alert = AlertInput {
        key: key.to_string(),
        title: String::new(),
        severity: SeverityHint::Label(None),
        services: Vec::new(),
        impact: String::new(),
        resolved: false,
        change,
        event: None,
        started: None,
        ended: None,
    };
    set(&mut alert);
    Command::ImportAlert {
        alert: Box::new(alert),
    }
}

/// An import of one test's result.
fn import(
    id: super::ReleaseId,
    name: &str,
    status: TestStatus,
    flaky: bool,
    note: Option<&str>,
) -> Command {
    Command::ImportTestResults {
        id,
        results: vec![TestResult {
            id: name.to_string(),
            name: name.to_string(),
            status,
            flaky,
            message: note.unwrap_or_default().to_string(),
        }],
    }
}
