//! How a release's events fold into the model: each event changes exactly what it names.

use super::{
    Approval, Correction, Edit, Milestone, Notice, Phase, Release, ReleaseRejection, Scope,
    SignedDecision,
};
use crate::state::kinds::ReleaseId;
use crate::state::{Event, Model, Name, Recorded};
use chrono::{DateTime, Utc};

fn milestone(release: &mut Release, phase: Phase, r: &Recorded, reason: Option<&String>) {
    release.phase = phase;
    release.milestones.push(Milestone {
        phase,
        at: r.at,
        by: r.actor.as_str().into(),
        reason: reason.cloned(),
    });
}

pub(crate) fn apply(model: &mut Model, r: &Recorded) {
    match &r.event {
        Event::HotfixCreated {
            id,
            incidents,
            version,
            summary,
            changes,
            risks,
            rollback,
            code,
            artifact,
        } => {
            let scope = Scope {
                version: version.clone(),
                summary: summary.clone(),
                changes: changes.clone(),
                risks: risks.clone(),
                rollback: rollback.clone(),
                incidents: incidents.clone(),
                code: code.clone(),
                artifact: artifact.clone(),
            };
            for incident in incidents {
                model
                    .hotfixes_by_incident
                    .entry(*incident)
                    .or_default()
                    .push(*id);
            }
            model.releases.insert(*id, new_release(*id, scope, None, r));
        }
        Event::RegularReleasePlanned {
            id,
            version,
            summary,
            planned_at,
            code,
            artifact,
        } => {
            let scope = Scope {
                version: version.clone(),
                summary: summary.clone(),
                code: code.clone(),
                artifact: artifact.clone(),
                ..Scope::default()
            };
            model
                .releases
                .insert(*id, new_release(*id, scope, *planned_at, r));
        }
        Event::ReleaseEdited {
            id,
            scope,
            revision,
            ..
        } => {
            if let Some(rel) = model.releases.get_mut(id) {
                for incident in &scope.incidents {
                    let linked = model.hotfixes_by_incident.entry(*incident).or_default();
                    if !linked.contains(id) {
                        linked.push(*id);
                    }
                }
                let changed = rel.scope.changed_fields(scope);
                rel.scope = scope.clone();
                rel.revision = *revision;
                rel.edits.push(Edit {
                    revision: *revision,
                    at: r.at,
                    by: r.actor.as_str().into(),
                    changed: changed.into_iter().map(Name::from).collect(),
                });
            }
        }
        Event::ApprovalGiven {
            id,
            role,
            comment,
            revision,
            fingerprint,
            signature,
            on_behalf,
        } => {
            let signature =
                signed_decision(model, *id, role, crate::state::Vote::Approve, r, signature);
            if let Some(rel) = model.releases.get_mut(id) {
                rel.approvals.push(Approval {
                    role: role.as_str().into(),
                    approver: r.actor.as_str().into(),
                    at: r.at,
                    comment: comment.clone(),
                    revision: *revision,
                    fingerprint: fingerprint.as_str().into(),
                    signature,
                    on_behalf: on_behalf.as_deref().map(Name::from),
                });
            }
        }
        Event::ApprovalRejected {
            id,
            role,
            reason,
            revision,
            fingerprint,
            signature,
            on_behalf,
        } => {
            let signature =
                signed_decision(model, *id, role, crate::state::Vote::Reject, r, signature);
            if let Some(rel) = model.releases.get_mut(id) {
                rel.rejections.push(ReleaseRejection {
                    role: role.as_str().into(),
                    by: r.actor.as_str().into(),
                    at: r.at,
                    reason: reason.clone(),
                    revision: *revision,
                    fingerprint: fingerprint.as_str().into(),
                    signature,
                    on_behalf: on_behalf.as_deref().map(Name::from),
                });
            }
        }
        Event::DeployStarted {
            id,
            severity,
            required_roles,
            exempted,
        } => {
            // The roles deployed without, when break-glass opened the gate: owed from now.
            let owed: Vec<Name> = model
                .releases
                .get(id)
                .filter(|rel| rel.glass_open())
                .map(|rel| {
                    model
                        .missing_roles(rel)
                        .into_iter()
                        .map(Name::from)
                        .collect()
                })
                .unwrap_or_default();
            if let Some(rel) = model.releases.get_mut(id) {
                rel.owed = owed;
                rel.frozen = Some((*severity, required_roles.clone()));
                let why = exempted.as_ref().map(|n| format!("freeze exempted: {n}"));
                milestone(rel, Phase::Deploying, r, why.as_ref());
            }
        }
        Event::GlassBroken { id, reason } => {
            crate::state::glass::fold_broken(model, r, *id, reason)
        }
        Event::ApprovalEscalated {
            id,
            role,
            revision,
            step,
            to,
        } => crate::state::escalation::fold_escalated(model, r, *id, role, *revision, *step, to),
        Event::EscalationFailed {
            id,
            role,
            step,
            error,
            ..
        } => crate::state::escalation::fold_failed(model, r, *id, role, *step, error),
        Event::ReleaseDeployed {
            id,
            commit,
            artifact,
        } => {
            if let Some(rel) = model.releases.get_mut(id) {
                rel.shipped = (commit.clone(), artifact.clone());
                milestone(rel, Phase::Deployed, r, None);
            }
        }
        Event::ReleaseClosed { id, carried_to } => {
            if let Some(rel) = model.releases.get_mut(id) {
                rel.carried_to = carried_to.clone();
                milestone(rel, Phase::Closed, r, None);
            }
        }
        Event::ReleaseVerified { id, note } => {
            if let Some(rel) = model.releases.get_mut(id) {
                let note = (!note.is_empty()).then_some(note);
                milestone(rel, Phase::Verified, r, note);
            }
        }
        Event::ReleaseRolledBack { id, reason } | Event::ReleaseCancelled { id, reason } => {
            let phase = if matches!(r.event, Event::ReleaseRolledBack { .. }) {
                Phase::RolledBack
            } else {
                Phase::Cancelled
            };
            if let Some(rel) = model.releases.get_mut(id) {
                milestone(rel, phase, r, Some(reason));
            }
        }
        Event::ApprovalWithdrawn { id, role, reason } => {
            if let Some(rel) = model.releases.get_mut(id) {
                // The approver's approvals for the role go; the role waits again.
                rel.approvals
                    .retain(|a| !(a.role == role.as_str() && a.approver == r.actor.as_str()));
                rel.corrections.push(Correction {
                    what: format!("withdrew the {role} approval"),
                    by: r.actor.as_str().into(),
                    at: r.at,
                    reason: reason.clone(),
                });
            }
        }
        Event::NoticeRecorded {
            id,
            stage,
            audience,
            channel,
            error,
        } => {
            if let Some(rel) = model.releases.get_mut(id) {
                let notice = Notice::recorded(r, *stage, *audience, channel, error);
                rel.notices.push(notice);
            }
        }
        // Folded by the other parts of the model (see `state::apply`).
        crate::state::event::users_events!()
        | crate::state::event::incident_events!()
        | crate::state::event::test_events!()
        | Event::Unreadable { .. } => {}
    }
}

/// A decision's signature with the bytes it signed, as the release stood when it was made.
fn signed_decision(
    model: &Model,
    id: ReleaseId,
    role: &str,
    vote: crate::state::Vote,
    r: &Recorded,
    signature: &Option<crate::state::signing::Signed>,
) -> Option<Box<SignedDecision>> {
    use base64::Engine as _;
    let s = signature.as_ref()?;
    let release = model.releases.get(&id)?;
    let bytes = crate::state::signing::signed_bytes(model, release, role, vote, &r.actor, s.at);
    Some(Box::new(SignedDecision {
        signature: s.sig.clone(),
        signed: base64::engine::general_purpose::STANDARD.encode(bytes),
    }))
}

fn new_release(
    id: ReleaseId,
    scope: Scope,
    planned_at: Option<DateTime<Utc>>,
    r: &Recorded,
) -> Release {
    Release {
        id,
        scope,
        planned_at,
        author: r.actor.as_str().into(),
        created_at: r.at,
        revision: 1,
        phase: Phase::Pending,
        approvals: Vec::new(),
        rejections: Vec::new(),
        tests: Vec::new(),
        frozen: None,
        notices: Vec::new(),
        edits: Vec::new(),
        corrections: Vec::new(),
        shipped: (None, None),
        carried_to: None,
        break_glass: Vec::new(),
        owed: Vec::new(),
        escalations: Vec::new(),
        lines: Vec::new(),
        test_index: Default::default(),
        milestones: vec![Milestone {
            phase: Phase::Pending,
            at: r.at,
            by: r.actor.as_str().into(),
            reason: None,
        }],
    }
}
