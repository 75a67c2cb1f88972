//! The release lifecycle's decisions: creating a hotfix or planning a regular release, editing
//! the scope, and moving a release from the gate to closed, rolled back or cancelled. (What a
//! release is, and how events fold into it, is in `release`.)

use super::kinds::{Decision, IncidentId, IncidentStatus, ReleaseId};
use super::release::{Phase, Release, Scope};
use super::text::{self, MAX_DOC, MAX_LINE, MAX_TEXT};
use super::{Ctx, Event, Model, Rejection, ScopeEdit, ScopeInput, reject};
use chrono::{DateTime, Utc};

fn pending<'m>(model: &'m Model, id: ReleaseId, verb: &str) -> Result<&'m Release, Rejection> {
    let release = model.release(id)?;
    if release.phase != Phase::Pending {
        reject!(
            "{id} is {}: it can no longer {verb}",
            model.release_status(release)
        );
    }
    Ok(release)
}

impl Model {
    /// Whether incident `id` may be fixed by a hotfix: qualified `hotfix`, unresolved, and of
    /// a severity the policy allows one for.
    pub fn hotfixable(&self, id: IncidentId) -> Result<(), Rejection> {
        let incident = self.incident(id)?;
        if incident.status == IncidentStatus::Resolved {
            reject!("{id} is resolved: a hotfix cannot fix it");
        }
        match &incident.qualification {
            Some(q) if q.decision == Decision::Hotfix => {}
            Some(q) => reject!(
                "{id} was qualified {}, not hotfix: an SRE AVP must qualify it for a hotfix first",
                q.decision
            ),
            None => {
                reject!("{id} is not qualified yet: an SRE AVP must qualify it for a hotfix first")
            }
        }
        if !self.policy.hotfix_severities.contains(&incident.severity) {
            reject!(
                "{id} is now {}, which the policy does not allow a hotfix for",
                incident.severity
            );
        }
        Ok(())
    }
}

fn check_scope(input: &ScopeInput, incidents: Vec<IncidentId>) -> Result<Scope, Rejection> {
    Ok(Scope {
        version: text::check_version(&input.version)?,
        summary: text::required("summary", &input.summary, MAX_LINE)?,
        changes: text::required("changes", &input.changes, MAX_DOC)?,
        risks: text::required("risks", &input.risks, MAX_DOC)?,
        rollback: text::required("rollback plan", &input.rollback, MAX_DOC)?,
        incidents,
    })
}

pub(crate) fn decide_create_hotfix(
    ctx: &Ctx,
    incidents: &[IncidentId],
    input: &ScopeInput,
) -> Result<Vec<Event>, Rejection> {
    if incidents.is_empty() {
        reject!("a hotfix must fix at least one incident: name it with --incident INC-<n>");
    }
    let mut linked = Vec::new();
    for id in incidents {
        ctx.model.hotfixable(*id)?;
        if !linked.contains(id) {
            linked.push(*id);
        }
    }
    let scope = check_scope(input, linked)?;
    let Scope {
        version,
        summary,
        changes,
        risks,
        rollback,
        incidents,
    } = scope;
    Ok(vec![Event::HotfixCreated {
        id: ctx.model.next_release_id(true),
        incidents,
        version,
        summary,
        changes,
        risks,
        rollback,
    }])
}

pub(crate) fn decide_plan_regular(
    ctx: &Ctx,
    version: &str,
    summary: &str,
    planned_at: Option<DateTime<Utc>>,
) -> Result<Vec<Event>, Rejection> {
    Ok(vec![Event::RegularReleasePlanned {
        id: ctx.model.next_release_id(false),
        version: text::check_version(version)?,
        summary: text::required("summary", summary, MAX_LINE)?,
        planned_at,
    }])
}

pub(crate) fn decide_edit(
    ctx: &Ctx,
    id: ReleaseId,
    edit: &ScopeEdit,
) -> Result<Vec<Event>, Rejection> {
    let release = pending(ctx.model, id, "be edited")?;
    let old = &release.scope;
    let pick = |new: &Option<String>, old: &String| new.clone().unwrap_or_else(|| old.clone());
    let mut incidents = old.incidents.clone();
    if !id.is_hotfix()
        && (edit.changes.is_some()
            || edit.risks.is_some()
            || edit.rollback.is_some()
            || !edit.add_incidents.is_empty())
    {
        reject!("{id} is a regular release: only its version and summary can be edited");
    }
    for add in &edit.add_incidents {
        if incidents.contains(add) {
            reject!("{add} is already part of {id}");
        }
        ctx.model.hotfixable(*add)?;
        incidents.push(*add);
    }
    let input = ScopeInput {
        version: pick(&edit.version, &old.version),
        summary: pick(&edit.summary, &old.summary),
        changes: pick(&edit.changes, &old.changes),
        risks: pick(&edit.risks, &old.risks),
        rollback: pick(&edit.rollback, &old.rollback),
    };
    let scope = if id.is_hotfix() {
        check_scope(&input, incidents)?
    } else {
        Scope {
            version: text::check_version(&input.version)?,
            summary: text::required("summary", &input.summary, MAX_LINE)?,
            ..Scope::default()
        }
    };
    if &scope == old {
        reject!("the edit changes nothing in {id}: give a new value");
    }
    let fingerprint = scope.fingerprint();
    Ok(vec![Event::ReleaseEdited {
        id,
        scope,
        revision: release.revision + 1,
        fingerprint,
    }])
}

pub(crate) fn decide_deploy(ctx: &Ctx, id: ReleaseId) -> Result<Vec<Event>, Rejection> {
    let release = pending(ctx.model, id, "start deploying")?;
    let gate = ctx.model.gate(id)?;
    if !gate.ready {
        reject!("{id} cannot deploy: {}", gate.blockers.join("; "));
    }
    Ok(vec![Event::DeployStarted {
        id,
        severity: ctx.model.release_severity(release),
        required_roles: ctx.model.required_roles(release),
    }])
}

/// Moves a release one step along deploying -> deployed -> verified -> closed.
/// `note` is what the verifier saw in production (verification only; may be empty).
pub(crate) fn decide_advance(
    ctx: &Ctx,
    id: ReleaseId,
    to: Phase,
    note: &str,
) -> Result<Vec<Event>, Rejection> {
    let release = ctx.model.release(id)?;
    let note = text::optional("note", note, MAX_TEXT)?;
    let (from, event, hint) = match to {
        Phase::Deployed => (
            Phase::Deploying,
            Event::ReleaseDeployed { id },
            "start with `hotfix release deploy`",
        ),
        Phase::Verified => (
            Phase::Deployed,
            Event::ReleaseVerified { id, note },
            "mark it deployed first",
        ),
        _ => (
            Phase::Verified,
            Event::ReleaseClosed { id },
            "verify it first",
        ),
    };
    if release.phase != from {
        reject!(
            "{id} is {}, not {}: {hint}",
            ctx.model.release_status(release),
            status_word(from)
        );
    }
    let mut events = vec![event];
    if to == Phase::Closed {
        let resolves = resolved_by_closing(ctx.model, release);
        // The last hotfix of an incident the policy wants reviewed closes only with its review
        // (or a qualifier's waiver) on record: the learning is part of the change.
        let due = resolves.iter().filter_map(|e| match e {
            Event::IncidentResolved { id, .. } => ctx.model.incidents.get(id),
            _ => None,
        });
        if let Some(i) = due.into_iter().find(|i| i.review_due(ctx.model)) {
            reject!(
                "{} is {}: closing {id} resolves it, and the policy wants a post-incident review first. Record it with `hotfix review {} --summary ... --root-cause ...`, or the {} role may waive it with `hotfix review {} --waive \"why\"`",
                i.id,
                i.severity,
                i.id,
                ctx.model.policy.qualifier_role,
                i.id
            );
        }
        events.extend(resolves);
    }
    Ok(events)
}

impl Model {
    /// Whether closing `release` must wait for a post-incident review (see `decide_advance`).
    pub fn review_before_close(&self, release: &Release) -> bool {
        resolved_by_closing(self, release).iter().any(|e| match e {
            Event::IncidentResolved { id, .. } => {
                self.incidents.get(id).is_some_and(|i| i.review_due(self))
            }
            _ => false,
        })
    }
}

/// What closing `release` resolves: each of its incidents still open that no other unfinished
/// hotfix is fixing. The same before the close is folded and after (the fold's check).
pub(crate) fn resolved_by_closing(model: &Model, release: &Release) -> Vec<Event> {
    let id = release.id;
    release
        .scope
        .incidents
        .iter()
        .filter(|incident| {
            let open = model
                .incidents
                .get(incident)
                .is_some_and(|i| i.status != IncidentStatus::Resolved);
            open && !model.unfinished_hotfixes_for(**incident).any(|hf| hf != id)
        })
        .map(|incident| Event::IncidentResolved {
            id: *incident,
            note: format!("fixed by {id} ({})", release.scope.version),
            release: Some(id),
        })
        .collect()
}

fn status_word(phase: Phase) -> &'static str {
    match phase {
        Phase::Deploying => "deploying",
        Phase::Deployed => "deployed",
        Phase::Verified => "verified",
        _ => "pending",
    }
}

/// Rolls back a deploying/deployed/verified release, or cancels one that has not started deploying.
pub(crate) fn decide_end(
    ctx: &Ctx,
    id: ReleaseId,
    to: Phase,
    reason: &str,
) -> Result<Vec<Event>, Rejection> {
    let release = ctx.model.release(id)?;
    let status = ctx.model.release_status(release);
    let reason = text::required("reason", reason, MAX_TEXT)?;
    if to == Phase::RolledBack {
        if !matches!(
            release.phase,
            Phase::Deploying | Phase::Deployed | Phase::Verified
        ) {
            reject!(
                "{id} is {status}: only a deploying, deployed or verified release can be rolled back"
            );
        }
        Ok(vec![Event::ReleaseRolledBack { id, reason }])
    } else {
        if release.phase != Phase::Pending {
            reject!(
                "{id} is {status}: only a release that has not started deploying can be cancelled; roll it back instead"
            );
        }
        Ok(vec![Event::ReleaseCancelled { id, reason }])
    }
}
