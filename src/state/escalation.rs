//! Approval deadlines and escalation: a hotfix's approval that waits past the policy's
//! `approval_deadline` for its severity is escalated one step per deadline passed: a reminder
//! to those who can give it, then a notice to the role's deputies, then a page. Each step is
//! claimed on the record before it is sent (`hotfix remind` runs them): the record is the lock,
//! so two reminders running at once send each message once. A page is resolved once the role
//! no longer waits.

use super::kinds::ReleaseId;
use super::policy::Every;
use super::release::{Phase, Release};
use super::{Ctx, Event, Model, Name, Recorded, Rejection, reject, text};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How soon a step whose sending failed may be claimed again: 5 minutes after the first
/// failure, doubling with each one after, up to an hour.
pub fn retry_after(failures: usize) -> Duration {
    let doublings = u32::try_from(failures.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(4);
    Duration::minutes((5 * 2i64.pow(doublings)).min(60))
}

/// The policy's `"escalation": {"deputies": {"prod-owner": ["pat"]}, "page_after": 3}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicy {
    /// Who is asked, per role, after two deadlines.
    #[serde(default)]
    pub deputies: BTreeMap<String, Vec<String>>,
    /// After how many deadlines someone is paged (PagerDuty Events API v2).
    #[serde(default = "three")]
    pub page_after: u32,
}

fn three() -> u32 {
    3
}

/// A step of escalation, in the order they come.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// After one deadline: a reminder to those who can give the role.
    Reminder,
    /// After two: a notice to the role's deputies.
    Deputies,
    /// After `page_after`: a PagerDuty trigger.
    Page,
    /// The role no longer waits: the page resolved.
    Resolve,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Reminder => "reminder",
            Step::Deputies => "deputies' notice",
            Step::Page => "page",
            Step::Resolve => "page resolve",
        })
    }
}

/// A step claimed on the record, and whether sending it failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    pub role: Name,
    pub revision: u32,
    pub step: Step,
    pub to: Vec<Name>,
    pub by: Name,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
    /// Why sending failed, and when it was recorded: claimed again after
    /// [`RETRY_AFTER_MINUTES`].
    #[serde(default)]
    pub failed: Option<Failure>,
}

/// Why sending a step failed, and when that was recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub error: String,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
}

/// A step due now: what `hotfix remind` claims and sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    pub release: ReleaseId,
    pub role: String,
    pub revision: u32,
    pub step: Step,
    pub to: Vec<String>,
}

impl Model {
    /// The approval deadline of a hotfix, by its severity, if the policy sets one.
    pub fn approval_deadline(&self, release: &Release) -> Option<Every> {
        if !release.id.is_hotfix() {
            return None;
        }
        let severity = self.release_severity(release)?;
        self.policy.approval_deadline.get(&severity).copied()
    }

    /// Since when the roles of `release` have waited on its current revision: its creation, or
    /// the edit that made the revision (which made every approval stale).
    pub fn waiting_since(&self, release: &Release) -> DateTime<Utc> {
        release
            .edits
            .iter()
            .rev()
            .find(|e| e.revision == release.revision)
            .map_or(release.created_at, |e| e.at)
    }

    /// Every escalation step due at `now`, in release then role order.
    pub fn due_escalations(&self, now: DateTime<Utc>) -> Vec<Due> {
        self.releases
            .values()
            .flat_map(|r| self.due_for(r, now))
            .collect()
    }

    /// The steps due on one release at `now`.
    pub fn due_for(&self, release: &Release, now: DateTime<Utc>) -> Vec<Due> {
        let mut due = Vec::new();
        let waiting = if release.phase == Phase::Pending && !release.glass_open() {
            self.missing_roles(release)
        } else {
            Vec::new()
        };
        // Pages still open for a role that no longer waits: resolved.
        let mut paged: Vec<&Name> = Vec::new();
        for e in release.escalations.iter().filter(|e| e.failed.is_none()) {
            match e.step {
                Step::Page if !paged.contains(&&e.role) => paged.push(&e.role),
                Step::Resolve => paged.retain(|r| **r != e.role),
                _ => {}
            }
        }
        for role in paged
            .into_iter()
            .filter(|r| !waiting.iter().any(|w| w == r.as_str()))
        {
            due.push(Due {
                release: release.id,
                role: role.to_string(),
                revision: release.revision,
                step: Step::Resolve,
                to: Vec::new(),
            });
        }
        let Some(deadline) = self.approval_deadline(release) else {
            return due;
        };
        let since = self.waiting_since(release);
        let passed = (now - since).num_seconds() / i64::from(deadline.seconds.max(1));
        let escalation = self.policy.escalation.as_ref();
        for role in waiting {
            let deputies: Vec<String> = escalation
                .and_then(|e| e.deputies.get(&role))
                .cloned()
                .unwrap_or_default();
            let mut steps = Vec::new();
            if passed >= 1 {
                steps.push((Step::Reminder, self.who_can_give(release, &role, now)));
            }
            if passed >= 2 && !deputies.is_empty() {
                steps.push((Step::Deputies, deputies));
            }
            if let Some(e) = escalation
                && passed >= i64::from(e.page_after)
            {
                steps.push((Step::Page, Vec::new()));
            }
            for (step, to) in steps {
                if self.may_claim(release, &role, release.revision, step, now) {
                    due.push(Due {
                        release: release.id,
                        role: role.clone(),
                        revision: release.revision,
                        step,
                        to,
                    });
                }
            }
        }
        due
    }

    /// Whether `user` may send escalations: any user of the store (the account that runs
    /// `hotfix remind` needs a role), never from a demo store.
    pub fn may_remind(&self, user: &str) -> Result<(), Rejection> {
        if self.demo {
            reject!(
                "this is a demo store: its people are play-acted, so nobody is reminded or paged from it"
            );
        }
        if !self.users.contains_key(user) {
            reject!(
                "{user} is not a user of this store: escalations are sent by a user with a role (an admin can grant one to the account that runs `hotfix remind`)"
            );
        }
        Ok(())
    }

    /// What escalation did for `role` on the current revision, in words ("reminded, deputies
    /// asked, paged"), failures named; empty when nothing was sent.
    pub fn escalation_note(&self, release: &Release, role: &str) -> String {
        release
            .escalations
            .iter()
            .filter(|e| e.role == role && e.revision == release.revision && e.step != Step::Resolve)
            .map(|e| {
                let done = match e.step {
                    Step::Reminder => "reminded",
                    Step::Deputies => "deputies asked",
                    Step::Page | Step::Resolve => "paged",
                };
                match &e.failed {
                    Some(_) => format!("{} failed", e.step),
                    None => done.to_string(),
                }
            })
            .fold(Vec::<String>::new(), |mut notes, n| {
                notes.retain(|m| *m != n);
                notes.push(n);
                notes
            })
            .join(", ")
    }

    /// Who could give `role` on `release` at `now` (holders, then deputies by delegation);
    /// every holder when none could, so the reminder still reaches someone.
    fn who_can_give(&self, release: &Release, role: &str, now: DateTime<Utc>) -> Vec<String> {
        let holders = self
            .users
            .iter()
            .filter(|(_, roles)| roles.contains(role))
            .map(|(u, _)| u.clone());
        let deputies = self
            .deputies_of(role, now)
            .into_iter()
            .map(|(d, _)| d.to_string());
        let mut can: Vec<String> = Vec::new();
        for user in holders.clone().chain(deputies) {
            if !can.contains(&user) && self.may_approve(release, &user, role, now).is_ok() {
                can.push(user);
            }
        }
        if can.is_empty() {
            can = holders.collect();
        }
        can
    }

    /// Whether the step has not been claimed, or its sending failed long enough ago.
    fn may_claim(
        &self,
        release: &Release,
        role: &str,
        revision: u32,
        step: Step,
        now: DateTime<Utc>,
    ) -> bool {
        let mut claims = release.escalations.iter().filter(|e| {
            e.role == role && e.step == step && (step == Step::Resolve || e.revision == revision)
        });
        let last = claims.next_back();
        match (step, last) {
            (_, None) => true,
            (
                _,
                Some(Escalation {
                    failed: Some(f), ..
                }),
            ) => {
                // Backing off while a channel stays down, so the log does not fill with tries.
                let failures = 1 + claims.filter(|e| e.failed.is_some()).count();
                now - f.at >= retry_after(failures)
            }
            // A resolve is claimed once per page: `due_for` asks only while a page is open.
            (Step::Resolve, Some(_)) => true,
            (Step::Reminder | Step::Deputies | Step::Page, Some(_)) => false,
        }
    }
}

/// Claims one due step on the record, before it is sent.
pub(crate) fn decide_escalate(
    ctx: &Ctx,
    id: ReleaseId,
    role: &str,
    step: Step,
) -> Result<Vec<Event>, Rejection> {
    ctx.model.may_remind(ctx.actor)?;
    let release = ctx.model.release(id)?;
    let Some(due) = ctx
        .model
        .due_for(release, ctx.now)
        .into_iter()
        .find(|d| d.role == role && d.step == step)
    else {
        reject!(
            "no {step} for {} on {id} is due now: it was sent already, or the approval does not wait long enough",
            text::check_name("role", role).unwrap_or_default()
        );
    };
    Ok(vec![Event::ApprovalEscalated {
        id,
        role: due.role,
        revision: due.revision,
        step,
        to: due.to,
    }])
}

/// Records that sending a claimed step failed, by whoever claimed it: claimed again later.
pub(crate) fn decide_failed(
    ctx: &Ctx,
    id: ReleaseId,
    role: &str,
    step: Step,
    error: &str,
) -> Result<Vec<Event>, Rejection> {
    let release = ctx.model.release(id)?;
    let Some(claim) = release
        .escalations
        .iter()
        .rev()
        .find(|e| e.role == role && e.step == step)
    else {
        reject!("no {step} for {role} on {id} was claimed: there is nothing to mark failed");
    };
    if claim.failed.is_some() || claim.by != ctx.actor {
        reject!(
            "the last {step} for {role} on {id} is not {}'s to mark failed",
            ctx.actor
        );
    }
    Ok(vec![Event::EscalationFailed {
        id,
        role: role.to_string(),
        revision: claim.revision,
        step,
        error: text::required("error", error, text::MAX_TEXT)?,
    }])
}

pub(crate) fn fold_escalated(
    model: &mut Model,
    r: &Recorded,
    id: ReleaseId,
    role: &str,
    revision: u32,
    step: Step,
    to: &[String],
) {
    if let Some(rel) = model.releases.get_mut(&id) {
        rel.escalations.push(Escalation {
            role: role.into(),
            revision,
            step,
            to: to.iter().map(|u| Name::from(u.as_str())).collect(),
            by: r.actor.as_str().into(),
            at: r.at,
            failed: None,
        });
    }
}

pub(crate) fn fold_failed(
    model: &mut Model,
    r: &Recorded,
    id: ReleaseId,
    role: &str,
    step: Step,
    error: &str,
) {
    if let Some(e) = model.releases.get_mut(&id).and_then(|rel| {
        rel.escalations
            .iter_mut()
            .rev()
            .find(|e| e.role == role && e.step == step)
    }) {
        e.failed = Some(Failure {
            error: error.to_string(),
            at: r.at,
        });
    }
}
