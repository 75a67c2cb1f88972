//! The release lifecycle's decisions: creating a hotfix or planning a regular release, editing
//! the scope, and moving a release from the gate to closed, rolled back or cancelled. (What a
//! release is, and how events fold into it, is in `release`.)

use super::code::{Code, DIFF_LIMIT};
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

fn check_scope(
    ctx: &Ctx,
    input: &ScopeInput,
    incidents: Vec<IncidentId>,
) -> Result<Scope, Rejection> {
    Ok(Scope {
        version: text::check_version(&input.version)?,
        summary: text::required("summary", &input.summary, MAX_LINE)?,
        changes: text::required("changes", &input.changes, MAX_DOC)?,
        risks: text::required("risks", &input.risks, MAX_DOC)?,
        rollback: text::required("rollback plan", &input.rollback, MAX_DOC)?,
        incidents,
        code: input
            .code
            .as_deref()
            .map(|c| check_code(ctx, c, false))
            .transpose()?,
        artifact: input.artifact.as_deref().map(digest).transpose()?,
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
    let scope = check_scope(ctx, input, linked)?;
    let Scope {
        version,
        summary,
        changes,
        risks,
        rollback,
        incidents,
        code,
        artifact,
    } = scope;
    Ok(vec![Event::HotfixCreated {
        id: ctx.model.next_release_id(true),
        incidents,
        version,
        summary,
        changes,
        risks,
        rollback,
        code,
        artifact,
    }])
}

pub(crate) fn decide_plan_regular(
    ctx: &Ctx,
    version: &str,
    summary: &str,
    planned_at: Option<DateTime<Utc>>,
    code: Option<&Code>,
    artifact: Option<&str>,
) -> Result<Vec<Event>, Rejection> {
    Ok(vec![Event::RegularReleasePlanned {
        id: ctx.model.next_release_id(false),
        version: text::check_version(version)?,
        summary: text::required("summary", summary, MAX_LINE)?,
        planned_at,
        code: code.map(|c| check_code(ctx, c, true)).transpose()?,
        artifact: artifact.map(digest).transpose()?,
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
        code: edit.code.clone().or_else(|| old.code.clone().map(Box::new)),
        artifact: edit.artifact.clone().or_else(|| old.artifact.clone()),
    };
    let scope = if id.is_hotfix() {
        check_scope(ctx, &input, incidents)?
    } else {
        Scope {
            version: text::check_version(&input.version)?,
            summary: text::required("summary", &input.summary, MAX_LINE)?,
            code: input
                .code
                .as_deref()
                .map(|c| check_code(ctx, c, true))
                .transpose()?,
            artifact: input.artifact.as_deref().map(digest).transpose()?,
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
    // A freeze holds regular releases; a hotfix goes, recorded as the exemption it is.
    let frozen = ctx.model.frozen_for(release, ctx.now);
    if let Some(w) = &frozen
        && !id.is_hotfix()
    {
        reject!(
            "{id} cannot deploy: the {} holds deploys until {}; only hotfixes of {} incidents go during it",
            w.name,
            w.until(),
            ctx.model
                .policy
                .hotfix_severities
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("/")
        );
    }
    Ok(vec![Event::DeployStarted {
        id,
        severity: ctx.model.release_severity(release),
        required_roles: ctx.model.required_roles(release),
        exempted: frozen.filter(|_| id.is_hotfix()).map(|w| w.name),
    }])
}

/// The release `id`, if it is in the phase before `to` (deploying -> deployed -> verified ->
/// closed).
fn next_step<'m>(ctx: &Ctx<'m>, id: ReleaseId, to: Phase) -> Result<&'m Release, Rejection> {
    let release = ctx.model.release(id)?;
    let (from, hint) = match to {
        Phase::Deployed => (Phase::Deploying, "start with `hotfix release deploy`"),
        Phase::Verified => (Phase::Deployed, "mark it deployed first"),
        _ => (Phase::Verified, "verify it first"),
    };
    if release.phase != from {
        reject!(
            "{id} is {}, not {}: {hint}",
            ctx.model.release_status(release),
            status_word(from)
        );
    }
    Ok(release)
}

/// Deployed. What the deployer names as shipped must be what was approved: the commit (a
/// prefix of at least 7 digits) and the artifact digest.
pub(crate) fn decide_deployed(
    ctx: &Ctx,
    id: ReleaseId,
    commit: Option<&str>,
    artifact: Option<&str>,
) -> Result<Vec<Event>, Rejection> {
    let release = next_step(ctx, id, Phase::Deployed)?;
    let commit = match commit {
        None => None,
        Some(c) => {
            let c = hex_id("commit", c, 7)?;
            let Some(code) = &release.scope.code else {
                reject!(
                    "{id} names no commit, so it cannot be checked against {c}: bind its code with `hotfix release edit {id} --commit REV` (approvals go stale), or mark it deployed without --commit"
                );
            };
            if !code.commit.starts_with(&c) {
                reject!(
                    "{id} was approved for commit {}, not {c}: deploy what was approved, or bind the new commit with `hotfix release edit {id} --commit REV` and have it approved",
                    code.commit
                );
            }
            Some(code.commit.clone())
        }
    };
    let artifact = match artifact {
        None => None,
        Some(a) => {
            let a = digest(a)?;
            match &release.scope.artifact {
                Some(approved) if *approved == a => Some(a),
                Some(approved) => reject!(
                    "{id} was approved for artifact {approved}, not {a}: deploy what was approved, or bind the new build with `hotfix release edit {id} --artifact DIGEST` and have it approved"
                ),
                None => reject!(
                    "{id} names no artifact, so it cannot be checked against {a}: bind it with `hotfix release edit {id} --artifact DIGEST` (approvals go stale)"
                ),
            }
        }
    };
    Ok(vec![Event::ReleaseDeployed {
        id,
        commit,
        artifact,
    }])
}

/// Verified in production; `note` says how (dashboards, a synthetic check...).
pub(crate) fn decide_verify(ctx: &Ctx, id: ReleaseId, note: &str) -> Result<Vec<Event>, Rejection> {
    next_step(ctx, id, Phase::Verified)?;
    let note = text::optional("note", note, MAX_TEXT)?;
    Ok(vec![Event::ReleaseVerified { id, note }])
}

/// Closed, resolving the incidents no other hotfix is fixing. The last hotfix of an incident
/// the policy wants reviewed closes only with its review (or a waiver) on record; a hotfix
/// with a commit closes only once its fix is on the policy's mainline (`carried_to`, found by
/// the client with git).
pub(crate) fn decide_close(
    ctx: &Ctx,
    id: ReleaseId,
    carried_to: Option<&str>,
) -> Result<Vec<Event>, Rejection> {
    let release = next_step(ctx, id, Phase::Closed)?;
    let resolves = resolved_by_closing(ctx.model, release);
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
    let carried_to = carried_to
        .map(|c| hex_id("mainline commit", c, 40))
        .transpose()?;
    if let (Some(code), Some(mainline), None) =
        (&release.scope.code, &ctx.model.policy.mainline, &carried_to)
        && id.is_hotfix()
    {
        reject!(
            "{id}'s fix ({}) must reach {mainline} before it closes, or the next regular release ships the bug again: cherry-pick it onto {mainline}, then close it with `hotfix release close {id} --repo DIR`, which checks",
            code.short()
        );
    }
    let mut events = vec![Event::ReleaseClosed { id, carried_to }];
    events.extend(resolves);
    Ok(events)
}

/// A commit id as given: hex, at least `min` digits, at most 40, in lower case.
fn hex_id(what: &str, value: &str, min: usize) -> Result<String, Rejection> {
    let v = value.trim().to_ascii_lowercase();
    if v.len() < min || v.len() > 40 || !v.chars().all(|c| c.is_ascii_hexdigit()) {
        reject!(
            "the {what} \"{}\" is not a commit id: {min} to 40 hex digits",
            crate::sanitize::line(value)
        );
    }
    Ok(v)
}

/// An artifact digest: `sha256:` and 64 hex digits, as OCI registries name an image.
pub fn digest(value: &str) -> Result<String, Rejection> {
    let v = value.trim().to_ascii_lowercase();
    let ok = v
        .strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()));
    if !ok {
        reject!(
            "the artifact \"{}\" is not a digest: sha256: followed by 64 hex digits, as `docker inspect --format '{{{{.RepoDigests}}}}'` prints it",
            crate::sanitize::line(value)
        );
    }
    Ok(v)
}

/// The bound code, checked: full commit ids, a bounded diff, sane paths; a hotfix's code
/// includes nothing, a regular release's only hotfixes with code.
fn check_code(ctx: &Ctx, code: &Code, regular: bool) -> Result<Code, Rejection> {
    let commit = hex_id("commit", &code.commit, 40)?;
    let base = hex_id("base", &code.base, 40)?;
    if code.diff.len() > DIFF_LIMIT {
        reject!(
            "the diff is {} bytes: a scope holds at most {DIFF_LIMIT} (cut it and say so)",
            code.diff.len()
        );
    }
    if code.files.len() > 10_000 {
        reject!("the diff names {} files: at most 10,000", code.files.len());
    }
    if let Some(f) = code
        .files
        .iter()
        .find(|f| f.path.is_empty() || f.path.len() > 4096 || f.path.contains(['\n', '\0']))
    {
        reject!(
            "the diff's file \"{}\" is not a path",
            crate::sanitize::line(&f.path)
        );
    }
    if !regular && !code.includes.is_empty() {
        reject!("a hotfix's code includes no other hotfix");
    }
    for hf in &code.includes {
        let has_code = ctx
            .model
            .releases
            .get(hf)
            .is_some_and(|r| hf.is_hotfix() && r.scope.code.is_some());
        if !has_code {
            reject!("{hf} is not a hotfix with bound code: nothing of it can be included");
        }
    }
    Ok(Code {
        commit,
        base,
        ..code.clone()
    })
}

impl Model {
    /// The freeze that holds `release`'s deploy at `now`, if any: by its incidents' services.
    pub fn frozen_for(
        &self,
        release: &Release,
        now: DateTime<Utc>,
    ) -> Option<super::freeze::Window> {
        let services: Vec<&str> = self
            .incidents_of(release)
            .flat_map(|i| i.services.iter().map(|s| s.as_str()))
            .collect();
        self.policy.frozen(now, &services)
    }

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
