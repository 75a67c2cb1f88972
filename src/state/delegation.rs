//! Delegation: a holder of an approving role (or an admin for them) lets a deputy approve as
//! that role until a given time, as backup approvers do in approval tools. The deputy's
//! decision is recorded as theirs, for the holder ("pat for carol"), and counts while the
//! holder still holds the role. It ends exactly at its `until`: from that second on, the
//! deputy is back to their own roles.

use super::Name;
use super::policy::ADMIN_ROLE;
use super::release::Release;
use super::{Ctx, Event, Model, Recorded, Rejection, reject, text};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The longest a delegation may run: a standing deputy is a grant, which an admin makes.
pub const LONGEST_DAYS: i64 = 90;

/// `from`'s `role`, delegated to `to` from `since` until (not including) `until`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegation {
    pub from: Name,
    pub to: Name,
    pub role: Name,
    #[serde(with = "super::stamp")]
    pub since: DateTime<Utc>,
    #[serde(with = "super::stamp")]
    pub until: DateTime<Utc>,
}

impl Delegation {
    pub fn active_at(&self, at: DateTime<Utc>) -> bool {
        self.since <= at && at < self.until
    }
}

impl Model {
    /// The holders `deputy` may act for as `role` at `at` (whose delegation is in force and
    /// who still hold the role), in the order delegated.
    pub fn delegators(&self, deputy: &str, role: &str, at: DateTime<Utc>) -> Vec<&str> {
        self.delegations
            .iter()
            .filter(|d| {
                d.to == deputy && d.role == role && d.active_at(at) && self.holds(&d.from, role)
            })
            .map(|d| d.from.as_str())
            .collect()
    }

    /// The deputies who may act as `role` at `at`, for whom.
    pub fn deputies_of(&self, role: &str, at: DateTime<Utc>) -> Vec<(&str, &str)> {
        self.delegations
            .iter()
            .filter(|d| d.role == role && d.active_at(at) && self.holds(&d.from, role))
            .map(|d| (d.to.as_str(), d.from.as_str()))
            .collect()
    }

    /// Whom `user` would act for as `role` on `release` at `at`: `None` when they hold the
    /// role themselves, the holder who delegated it to them otherwise. Refused when neither,
    /// or when the holder could not give the role on this release either.
    pub fn acting_for(
        &self,
        release: &Release,
        user: &str,
        role: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<Name>, Rejection> {
        if self.holds(user, role) {
            return Ok(None);
        }
        let id = release.id;
        let from = self.delegators(user, role, at);
        let Some(first) = from.first() else {
            reject!(
                "{user} does not hold the {role} role: an admin can grant it, or a holder can delegate it (`hotfix user delegate HOLDER --to {user} --role {role} --until TIME`)"
            );
        };
        // A holder who could give the role is the one the deputy stands in for.
        let mut why = None;
        for holder in &from {
            if release.author == *holder {
                why.get_or_insert(format!(
                    "{user} acts for {holder} as {role}, and {holder} wrote {id}: another {role} must approve"
                ));
            } else if let Some(other) = self.role_filled_by(release, holder).filter(|r| *r != role)
            {
                why.get_or_insert(format!(
                    "{user} acts for {holder} as {role}, and {holder} already fills {other} on {id}: one person fills at most one role"
                ));
            } else {
                return Ok(Some((*holder).into()));
            }
        }
        reject!(
            "{}",
            why.unwrap_or_else(|| format!("{user} may not act for {first}"))
        )
    }
}

/// `hotfix user delegate USER --to DEPUTY --role ROLE --until TIME`, by an admin or by USER;
/// `until: None` ends the delegation now.
pub(crate) fn decide_delegate(
    ctx: &Ctx,
    user: &str,
    to: &str,
    role: &str,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<Event>, Rejection> {
    let user = text::check_name("user", user)?;
    let to = text::check_name("deputy", to)?;
    let role = text::check_name("role", role)?;
    let model = ctx.model;
    if ctx.actor != user && !ctx.holds(ADMIN_ROLE) {
        reject!(
            "only {user} or an admin may delegate {user}'s roles; {} is neither",
            ctx.actor
        );
    }
    let approving = model
        .policy
        .approvals
        .values()
        .any(|roles| roles.contains(&role));
    if !approving {
        reject!(
            "{role} approves no hotfix under the policy: only approving roles are delegated (an admin grants the others)"
        );
    }
    if !model.holds(&user, &role) {
        reject!("{user} does not hold {role}: there is nothing to delegate");
    }
    if user == to {
        reject!("{user} cannot be their own deputy: name someone else with --to");
    }
    if !model.users.contains_key(&to) {
        reject!("{to} is not a user of this store: an admin grants them a role first");
    }
    let current = model
        .delegations
        .iter()
        .rev()
        .find(|d| d.from == user && d.to == to && d.role == role && d.active_at(ctx.now));
    let Some(until) = until else {
        if current.is_none() {
            reject!("{to} is not {user}'s deputy as {role} now: there is nothing to end");
        }
        return Ok(vec![Event::RoleDelegated {
            user,
            to,
            role,
            until: ctx.now,
        }]);
    };
    if until <= ctx.now {
        reject!(
            "--until {} is not in the future: a delegation runs from now until a later time (end one with --end)",
            until.format("%Y-%m-%dT%H:%M:%SZ")
        );
    }
    if until > ctx.now + Duration::days(LONGEST_DAYS) {
        reject!(
            "--until is more than {LONGEST_DAYS} days away: a standing deputy needs the role granted by an admin"
        );
    }
    if current.is_some_and(|d| d.until == until) {
        reject!("{to} is already {user}'s deputy as {role} until then: nothing to change");
    }
    Ok(vec![Event::RoleDelegated {
        user,
        to,
        role,
        until,
    }])
}

/// A delegation replaces any earlier one between the same two people for the same role.
/// Ended ones are dropped (the log keeps them).
pub(crate) fn fold(
    model: &mut Model,
    r: &Recorded,
    user: &str,
    to: &str,
    role: &str,
    until: DateTime<Utc>,
) {
    model
        .delegations
        .retain(|d| d.until > r.at && !(d.from == user && d.to == to && d.role == role));
    if until <= r.at {
        return;
    }
    model.delegations.push(Delegation {
        from: user.into(),
        to: to.into(),
        role: role.into(),
        since: r.at,
        until,
    });
}
