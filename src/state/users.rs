//! Identity and roles, and the policy: who may do what. Only `admin` grants, revokes and
//! replaces the policy.

use super::policy::ADMIN_ROLE;
use super::{Ctx, Event, Model, Policy, Recorded, Rejection, reject, text};

pub(crate) fn decide_init(ctx: &Ctx, demo: bool) -> Result<Vec<Event>, Rejection> {
    if ctx.model.initialized {
        reject!("this store is already initialised: nothing was changed");
    }
    let actor = text::check_name("user", ctx.actor)?;
    Ok(vec![
        Event::StoreInitialized {
            policy: Policy::default(),
            demo,
        },
        Event::RoleGranted {
            user: actor,
            role: ADMIN_ROLE.into(),
        },
    ])
}

fn require_admin(ctx: &Ctx, what: &str) -> Result<(), Rejection> {
    ctx.model.require_admin(ctx.actor, what)
}

impl Model {
    /// Whether `user` is an admin, who alone may `what` (grant roles, replace the policy).
    pub fn require_admin(&self, user: &str, what: &str) -> Result<(), Rejection> {
        if !self.holds(user, ADMIN_ROLE) {
            reject!("only an admin may {what}; {user} does not hold the admin role");
        }
        Ok(())
    }
}

fn known_role(model: &Model, role: &str) -> Result<String, Rejection> {
    let role = text::check_name("role", role)?;
    if !model.policy.roles.contains(&role) {
        reject!(
            "there is no role \"{role}\": the policy's roles are {}",
            model.policy.roles.join(", ")
        );
    }
    Ok(role)
}

pub(crate) fn decide_grant(ctx: &Ctx, user: &str, role: &str) -> Result<Vec<Event>, Rejection> {
    require_admin(ctx, "grant roles")?;
    let user = text::check_name("user", user)?;
    let role = known_role(ctx.model, role)?;
    if ctx.model.holds(&user, &role) {
        reject!("{user} already holds {role}: nothing to grant");
    }
    Ok(vec![Event::RoleGranted { user, role }])
}

pub(crate) fn decide_revoke(ctx: &Ctx, user: &str, role: &str) -> Result<Vec<Event>, Rejection> {
    require_admin(ctx, "revoke roles")?;
    let user = text::check_name("user", user)?;
    if !ctx.model.holds(&user, role) {
        reject!("{user} does not hold {role}: nothing to revoke");
    }
    if role == ADMIN_ROLE {
        let admins = ctx
            .model
            .users
            .values()
            .filter(|r| r.contains(ADMIN_ROLE))
            .count();
        if admins <= 1 {
            reject!("{user} is the last admin: grant admin to someone else first");
        }
    }
    Ok(vec![Event::RoleRevoked {
        user,
        role: role.to_string(),
    }])
}

pub(crate) fn decide_policy(ctx: &Ctx, policy: Policy) -> Result<Vec<Event>, Rejection> {
    require_admin(ctx, "replace the policy")?;
    policy.validate()?;
    if policy == ctx.model.policy {
        reject!("the new policy is the same as the current one: nothing to change");
    }
    // Every role someone holds must survive, or grants would silently point at nothing.
    for (user, roles) in &ctx.model.users {
        if let Some(role) = roles.iter().find(|r| !policy.roles.contains(r)) {
            reject!("the new policy drops role \"{role}\", which {user} holds: revoke it first");
        }
    }
    Ok(vec![Event::PolicyReplaced { policy }])
}

pub(crate) fn apply(model: &mut Model, r: &Recorded) {
    match &r.event {
        Event::StoreInitialized { policy, demo } => {
            model.initialized = true;
            model.demo = *demo;
            model.policy = policy.clone();
            model.origin = Some(super::signing::origin(r));
        }
        Event::KeyAdded { user, key } => super::signing::fold_added(model, user, key),
        Event::KeyRemoved { user, fingerprint } => {
            super::signing::fold_removed(model, user, fingerprint);
        }
        Event::RoleGranted { user, role } => {
            model
                .users
                .entry(user.clone())
                .or_default()
                .insert(role.clone());
        }
        Event::RoleRevoked { user, role } => {
            if let Some(roles) = model.users.get_mut(user) {
                roles.remove(role);
            }
        }
        Event::PolicyReplaced { policy } => model.policy = policy.clone(),
        Event::RoleDelegated {
            user,
            to,
            role,
            until,
        } => super::delegation::fold(model, r, user, to, role, *until),
        // Folded by the other parts of the model (see `state::apply`).
        super::event::incident_events!()
        | super::event::test_events!()
        | super::event::release_events!()
        | Event::Unreadable { .. } => {}
    }
}
