//! Approvals and rejections: who may fill which role of a release, and binding each decision to
//! the exact revision of the scope the approver was shown.
//!
//! [`Model::may_approve`] is the one rule for "may this person approve as this role now": the
//! reducer, the "waiting on you" list and the cockpit's dialogs all ask it, so they never
//! disagree about who can act or why not.

use super::Name;
use super::kinds::ReleaseId;
use super::release::{Approval, Phase, Release};
use super::text::{self, MAX_TEXT};
use super::{Ctx, Event, Model, Rejection, reject};
use chrono::{DateTime, Utc};

/// What the approver was shown: a revision of the scope and, where known, its fingerprint.
/// An approval or rejection that carries it is refused once the scope has moved on, so nobody
/// approves a scope they did not see (as GitLab's approve API takes the head SHA).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub revision: u32,
    pub fingerprint: Option<String>,
}

impl Seen {
    /// A revision named on the command line (`--revision N`), with no fingerprint.
    pub fn revision(revision: u32) -> Seen {
        Seen {
            revision,
            fingerprint: None,
        }
    }

    /// The revision `release` has now, as a dialog shows it.
    pub fn current(release: &Release) -> Seen {
        Seen {
            revision: release.revision,
            fingerprint: Some(release.scope.fingerprint()),
        }
    }
}

/// Which way a role holder decides on a release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vote {
    Approve,
    Reject,
}

impl Model {
    /// Whether `user` may cast `vote` on `release` as `role` now, and if not, the reason.
    pub fn may_vote(
        &self,
        release: &Release,
        user: &str,
        role: &str,
        vote: Vote,
        now: DateTime<Utc>,
    ) -> Result<Option<Name>, Rejection> {
        match vote {
            Vote::Approve => self.may_approve(release, user, role, now),
            Vote::Reject => self.may_reject(release, user, role, now),
        }
    }

    /// Whether `user` may approve `release` as `role` at `now` (and for whom, when as a
    /// deputy), and if not, the reason in words.
    pub fn may_approve(
        &self,
        release: &Release,
        user: &str,
        role: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Name>, Rejection> {
        let id = release.id;
        let on_behalf = self.may_decide(release, user, role, "be approved", now)?;
        if let Some(rej) = release.standing_rejections().next() {
            reject!(
                "{id} was rejected by {} ({}): \"{}\"; edit the release to address it before approving",
                rej.by,
                rej.role,
                crate::sanitize::line(&rej.reason)
            );
        }
        if release.author == user {
            reject!("{user} wrote {id} and cannot approve it: another {role} must");
        }
        if let Some(other) = self.role_filled_by(release, user).filter(|r| *r != role) {
            reject!("{user} already fills {other} on {id}: one person fills at most one role");
        }
        // An approval fills its role while it is current and its giver still holds the role.
        if let Some(a) = release
            .approval_for(role)
            .filter(|a| release.is_current(a) && self.stands(a))
        {
            if a.approver == user {
                reject!(
                    "{user} already approved revision {} of {id} as {role}: nothing to do",
                    a.revision
                );
            }
            reject!(
                "{role} on {id} is already filled by {} ({})",
                a.approver,
                a.at.format("%Y-%m-%d %H:%M UTC")
            );
        }
        Ok(on_behalf)
    }

    /// Whether `user` may reject `release` as `role` at `now` (and for whom).
    pub fn may_reject(
        &self,
        release: &Release,
        user: &str,
        role: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Name>, Rejection> {
        self.may_decide(release, user, role, "be rejected", now)
    }

    /// Whether an approval still counts for its role: its giver, or the holder a deputy
    /// gave it for, still holds the role.
    pub fn stands(&self, approval: &Approval) -> bool {
        let holder = approval.on_behalf.as_ref().unwrap_or(&approval.approver);
        self.holds(holder, &approval.role)
    }

    /// The needed roles `user` may cast `vote` as on `release` at `now`, in the policy's order.
    pub fn open_roles(
        &self,
        release: &Release,
        user: &str,
        vote: Vote,
        now: DateTime<Utc>,
    ) -> Vec<String> {
        self.required_roles(release)
            .into_iter()
            .filter(|role| self.may_vote(release, user, role, vote, now).is_ok())
            .collect()
    }

    /// The role a vote fills: `role` if named and allowed, else the single role open to
    /// `user`. Refused with the most telling reason when none is open, and asks to choose
    /// when several are.
    pub fn choose_role(
        &self,
        release: &Release,
        user: &str,
        role: Option<String>,
        vote: Vote,
        now: DateTime<Utc>,
    ) -> Result<String, Rejection> {
        if let Some(role) = role {
            self.may_vote(release, user, &role, vote, now)?;
            return Ok(role);
        }
        let id = release.id;
        let needed = self.required_roles(release);
        let mut open = self.open_roles(release, user, vote, now);
        match open.len() {
            1 => Ok(open.remove(0)),
            0 => match needed
                .iter()
                .find(|r| self.holds(user, r) || !self.delegators(user, r, now).is_empty())
            {
                // The reason for a role the user holds (or stands in for) says most.
                Some(role) => self
                    .may_vote(release, user, role, vote, now)
                    .map(|_| role.clone()),
                None if needed.is_empty() => self
                    .may_vote(release, user, "", vote, now)
                    .map(|_| String::new()),
                None => reject!(
                    "{user} holds none of the roles {id} needs ({}): an admin can grant one, or a holder can delegate theirs (`hotfix user delegate HOLDER --to {user} --role ROLE --until TIME`)",
                    needed.join(", ")
                ),
            },
            _ => reject!(
                "{user} may fill several roles of {id} ({}): choose one with --role",
                open.join(", ")
            ),
        }
    }

    /// Why nobody could give `role` on `release` now, if so: nobody holds it, or every holder
    /// wrote the release or already fills another of its roles. The gate says it in words, so
    /// a deadlock is never just "waiting".
    pub fn nobody_can_give(&self, release: &Release, role: &str) -> Option<String> {
        let id = release.id;
        let holders: Vec<&String> = self
            .users
            .iter()
            .filter(|(_, roles)| roles.contains(role))
            .map(|(user, _)| user)
            .collect();
        if holders.is_empty() {
            return Some(format!(
                "no one holds {role}: an admin must grant it to someone who did not write {id}"
            ));
        }
        let mut why = Vec::new();
        for user in holders {
            if release.author == user.as_str() {
                why.push(format!("{user} holds it but wrote {id}"));
            } else if let Some(other) = self.role_filled_by(release, user).filter(|r| *r != role) {
                why.push(format!("{user} holds it but already fills {other}"));
            } else {
                return None;
            }
        }
        Some(format!(
            "no one can give {role}: {}; grant {role} to another user",
            why.join("; ")
        ))
    }

    /// The role `user` fills on `release` with the latest approval for it (stale or not),
    /// given by them or by a deputy for them.
    pub(crate) fn role_filled_by<'r>(&self, release: &'r Release, user: &str) -> Option<&'r str> {
        self.required_roles(release).iter().find_map(|r| {
            release
                .approval_for(r)
                .filter(|a| {
                    (a.approver == user || a.on_behalf.as_deref() == Some(user)) && self.stands(a)
                })
                .map(|a| a.role.as_str())
        })
    }

    /// What approving and rejecting share: a pending hotfix, a role that exists, is needed and held.
    fn may_decide(
        &self,
        release: &Release,
        user: &str,
        role: &str,
        verb: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Name>, Rejection> {
        let id = release.id;
        // After a break-glass deploy, the approvals it went without are still owed.
        let owed = release.owed.iter().any(|r| r == role)
            && !self
                .debts(release)
                .iter()
                .any(|d| d.role == role && d.paid.is_some());
        if release.phase != Phase::Pending && !(owed && verb == "be approved") {
            reject!(
                "{id} is {}: it can no longer {verb}",
                self.release_status(release)
            );
        }
        if !id.is_hotfix() {
            reject!("{id} is a regular release: it needs no approvals");
        }
        let needed = self.required_roles(release);
        if needed.is_empty() {
            reject!(
                "{id} has no roles to approve: its severity may not be hotfixed under the policy"
            );
        }
        if !self.policy.roles.iter().any(|r| r == role) {
            reject!(
                "there is no role \"{}\": the policy's roles are {}",
                crate::sanitize::line(role),
                self.policy.roles.join(", ")
            );
        }
        if !needed.iter().any(|r| r == role) {
            reject!("{id} does not need {role}: it needs {}", needed.join(", "));
        }
        self.acting_for(release, user, role, now)
    }
}

/// Refuses a decision about a scope other than the one the approver was shown, naming both
/// revisions and what changed between them.
fn check_seen(release: &Release, seen: Option<&Seen>, vote: Vote) -> Result<(), Rejection> {
    let verb = match vote {
        Vote::Approve => "approve",
        Vote::Reject => "reject",
    };
    let Some(seen) = seen else {
        return Ok(());
    };
    let id = release.id;
    if seen.revision > release.revision || seen.revision == 0 {
        reject!(
            "{id} has no revision {}: its scope is at revision {}",
            seen.revision,
            release.revision
        );
    }
    if seen.revision < release.revision {
        let changed = release.changed_since(seen.revision);
        let by = release
            .edits
            .last()
            .map(|e| format!(" (last edited by {} at {})", e.by, e.at.format("%H:%M UTC")))
            .unwrap_or_default();
        reject!(
            "{id} changed since you were shown it: you saw revision {}, it is now revision {}{by}; changed: {}. Review it (`hotfix release show {id}`) and {verb} revision {} if it still holds",
            seen.revision,
            release.revision,
            changed.join(", "),
            release.revision
        );
    }
    let current = release.scope.fingerprint();
    if let Some(fp) = &seen.fingerprint
        && *fp != current
    {
        reject!(
            "the scope fingerprint you were shown ({}) is not that of {id} revision {} ({current}): show the release again",
            crate::sanitize::line(fp),
            release.revision
        );
    }
    Ok(())
}

/// Approves (with an optional comment) or rejects (with a required reason) as one role,
/// bound to the revision shown when `seen` is given.
pub(crate) fn decide_vote(
    ctx: &Ctx,
    id: ReleaseId,
    vote: Vote,
    role: Option<String>,
    text: &str,
    seen: Option<&Seen>,
    signature: Option<&super::signing::Signed>,
) -> Result<Vec<Event>, Rejection> {
    let release = ctx.model.release(id)?;
    if release.phase == Phase::Pending {
        check_seen(release, seen, vote)?;
    }
    let role = ctx
        .model
        .choose_role(release, ctx.actor, role, vote, ctx.now)?;
    let on_behalf = ctx
        .model
        .may_vote(release, ctx.actor, &role, vote, ctx.now)?
        .map(|n| n.to_string());
    super::signing::check_decision(ctx, release, &role, vote, signature)?;
    let (revision, fingerprint) = (release.revision, release.scope.fingerprint());
    let signature = signature.cloned();
    Ok(vec![match vote {
        Vote::Approve => Event::ApprovalGiven {
            id,
            role,
            comment: text::optional("comment", text, MAX_TEXT)?,
            revision,
            fingerprint,
            signature,
            on_behalf,
        },
        Vote::Reject => Event::ApprovalRejected {
            id,
            role,
            reason: text::required("reason", text, MAX_TEXT)?,
            revision,
            fingerprint,
            signature,
            on_behalf,
        },
    }])
}

/// Takes back the actor's own approval of a release that has not started deploying, with a
/// reason: the role waits again (GitLab's "revoke approval").
pub(crate) fn decide_withdraw(
    ctx: &Ctx,
    id: ReleaseId,
    role: Option<String>,
    reason: &str,
) -> Result<Vec<Event>, Rejection> {
    let release = ctx.model.release(id)?;
    if release.phase != Phase::Pending {
        reject!(
            "{id} is {}: an approval can be withdrawn only before deploying starts",
            ctx.model.release_status(release)
        );
    }
    let mine: Vec<String> = release
        .approvals
        .iter()
        .filter(|a| {
            a.approver == ctx.actor
                && release
                    .approval_for(&a.role)
                    .is_some_and(|l| l.approver == ctx.actor)
        })
        .map(|a| a.role.to_string())
        .fold(Vec::new(), |mut roles, r| {
            if !roles.contains(&r) {
                roles.push(r);
            }
            roles
        });
    let role = match role {
        Some(r) if mine.contains(&r) => r,
        Some(r) => reject!(
            "{} has no approval of {id} as {} to withdraw",
            ctx.actor,
            crate::sanitize::line(&r)
        ),
        None => match mine.as_slice() {
            [one] => one.clone(),
            [] => reject!("{} has no approval of {id} to withdraw", ctx.actor),
            several => reject!(
                "{} approved {id} as {}: choose one with --role",
                ctx.actor,
                several.join(", ")
            ),
        },
    };
    Ok(vec![Event::ApprovalWithdrawn {
        id,
        role,
        reason: text::required("reason", reason, MAX_TEXT)?,
    }])
}
