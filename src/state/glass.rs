//! Break-glass: when an approver cannot be reached, two different holders of the qualifying
//! role (neither of them the author) open the gate for the roles still missing, each with a
//! reason on the record. Critical tests must still pass and a standing rejection still blocks.
//! The missing approvals become a debt, owed within the policy's `break_glass.owed_within`
//! after the deploy, listed to their role holders until paid.

use super::Name;
use super::kinds::ReleaseId;
use super::policy::Every;
use super::release::{Phase, Release, RoleCheck};
use super::text::{self, MAX_TEXT};
use super::{Ctx, Event, Model, Recorded, Rejection, reject};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How long approvals skipped by break-glass may stay owed after the deploy, by default.
pub const OWED_WITHIN_DEFAULT: &str = "24h";

/// The policy's `"break_glass": {"owed_within": "24h"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassPolicy {
    pub owed_within: Every,
}

/// One holder's break of the glass, with why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GlassBreak {
    pub by: Name,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
    pub reason: String,
}

/// An approval owed after a break-glass deploy, and where it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Debt {
    pub release: ReleaseId,
    pub role: String,
    pub due: DateTime<Utc>,
    /// Who paid it and when, once approved after the deploy.
    pub paid: Option<(Name, DateTime<Utc>)>,
}

impl Release {
    /// Whether two different people broke the glass on it.
    pub fn glass_open(&self) -> bool {
        let mut by = self.break_glass.iter().map(|g| &g.by);
        let Some(first) = by.next() else {
            return false;
        };
        by.any(|b| b != first)
    }
}

impl Model {
    fn owed_within(&self) -> chrono::Duration {
        self.policy
            .break_glass
            .map(|b| b.owed_within.duration())
            .unwrap_or_else(|| chrono::Duration::hours(24))
    }

    /// The approvals `release` owes since a break-glass deploy, paid or not.
    pub fn debts(&self, release: &Release) -> Vec<Debt> {
        let Some(start) = release.milestone(Phase::Deploying).map(|m| m.at) else {
            return Vec::new();
        };
        let due = start + self.owed_within();
        release
            .owed
            .iter()
            .map(|role| Debt {
                release: release.id,
                role: role.to_string(),
                due,
                paid: release
                    .approvals
                    .iter()
                    .find(|a| a.role == *role && a.at >= start)
                    .map(|a| (a.approver.clone(), a.at)),
            })
            .collect()
    }

    /// Every approval owed after a break-glass deploy and past due at `now`, by release. They
    /// are all in the active part: a release owing one is never archived.
    pub fn overdue_debts(&self, now: DateTime<Utc>) -> Vec<(ReleaseId, String)> {
        self.releases
            .values()
            .filter(|r| !r.owed.is_empty())
            .flat_map(|r| self.debts(r))
            .filter(|d| d.paid.is_none() && d.due < now)
            .map(|d| (d.release, d.role))
            .collect()
    }

    /// The roles the gate waits on that break-glass lets it go without (not a rejection).
    pub fn missing_roles(&self, release: &Release) -> Vec<String> {
        self.checklist(release)
            .into_iter()
            .filter_map(|c| match c {
                RoleCheck::Waiting { role }
                | RoleCheck::Stale { role, .. }
                | RoleCheck::Revoked { role, .. } => Some(role),
                RoleCheck::Approved { .. } | RoleCheck::Rejected { .. } => None,
            })
            .collect()
    }
}

pub(crate) fn decide_break(
    ctx: &Ctx,
    id: ReleaseId,
    reason: &str,
) -> Result<Vec<Event>, Rejection> {
    let release = ctx.model.release(id)?;
    if !id.is_hotfix() {
        reject!("{id} is a regular release: break-glass is for hotfixes");
    }
    if release.phase != Phase::Pending {
        reject!(
            "{id} is {}: break-glass opens a gate before the deploy",
            ctx.model.release_status(release)
        );
    }
    let role = &ctx.model.policy.qualifier_role;
    if !ctx.holds(role) {
        reject!(
            "only the {role} role may break the glass; {} does not hold it",
            ctx.actor
        );
    }
    if release.author == ctx.actor {
        reject!(
            "{} wrote {id} and cannot break the glass for it: two other {role}s must",
            ctx.actor
        );
    }
    if release.break_glass.iter().any(|g| g.by == ctx.actor) {
        reject!(
            "{} already broke the glass on {id}: a second, different {role} must too",
            ctx.actor
        );
    }
    if ctx.model.missing_roles(release).is_empty() {
        reject!("{id} waits on no approval: there is no glass to break");
    }
    Ok(vec![Event::GlassBroken {
        id,
        reason: text::required("reason", reason, MAX_TEXT)?,
    }])
}

pub(crate) fn fold_broken(model: &mut Model, r: &Recorded, id: ReleaseId, reason: &str) {
    if let Some(rel) = model.releases.get_mut(&id) {
        rel.break_glass.push(GlassBreak {
            by: r.actor.as_str().into(),
            at: r.at,
            reason: reason.to_string(),
        });
    }
}

/// The default policy's setting, for a store that names none.
pub fn default_policy() -> BreakGlassPolicy {
    BreakGlassPolicy {
        owed_within: OWED_WITHIN_DEFAULT
            .parse()
            .unwrap_or(Every { seconds: 24 * 3600 }),
    }
}
