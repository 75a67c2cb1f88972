//! The hotfix process as a pure state machine: `decide` turns a command into events or a
//! rejection, `evolve` folds an event into the model. No I/O, no clock, no terminal: time and the
//! actor come in as arguments, so every rule is testable as given events / when command / then.

pub mod approval;
pub mod archive;
pub mod code;
mod command;
pub mod delegation;
pub mod escalation;
mod event;
pub mod freeze;
pub mod gate;
pub mod glass;
pub mod imports;
pub mod incident;
pub mod insights;
pub mod kinds;
pub mod legality;
pub mod lifecycle;
pub mod policy;
pub mod release;
pub mod review;
pub mod signing;
mod stamp;
pub mod test_plan;
pub mod text;
pub mod users;
pub mod waiting;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub use approval::{Seen, Vote};
pub use command::{Command, ScopeEdit, ScopeInput};
pub use event::{Event, Recorded};
pub use gate::Gate;
pub use incident::{Incident, Qualification};
pub use kinds::{
    Audience, Decision, IncidentId, IncidentStatus, Priority, ReleaseId, Risk, Severity, Stage,
    TestStatus,
};
pub use legality::{Illegal, fold, legal};
pub use policy::Policy;
pub use release::{Approval, Edit, Phase, Release, ReleaseStatus, RoleCheck, Scope};
pub use test_plan::TestCase;

/// A short string kept inline (no allocation up to 24 bytes): user names, roles, test names.
/// The model holds hundreds of thousands of them, and each `String` would be an allocation.
pub type Name = compact_str::CompactString;

/// Everything the log says, folded. Ids are never reused, so the next id is one past the last key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Sequence number of the last event folded in (0 for an empty log).
    pub seq: u64,
    pub initialized: bool,
    /// Written by `hotfix demo`: identities there are play-acted, never evidence.
    pub demo: bool,
    pub policy: Policy,
    /// User -> the roles they hold.
    pub users: BTreeMap<String, BTreeSet<String>>,
    pub incidents: BTreeMap<IncidentId, Incident>,
    pub releases: BTreeMap<ReleaseId, Release>,
    /// Incident -> the hotfixes that link it, kept by `evolve` so lookups never scan every release.
    pub hotfixes_by_incident: BTreeMap<IncidentId, Vec<ReleaseId>>,
    /// When the newest event folded in was recorded.
    #[serde(with = "stamp::option")]
    pub at: Option<DateTime<Utc>>,
    /// What this model leaves out (nothing unless it is a checkpoint's active part: see
    /// [`archive`]).
    pub archive: archive::Archive,
    /// Lines the rules refused, in log order: inert, and named (see [`legality`]).
    pub illegal: Vec<Illegal>,
    /// Each user's SSH public keys (OpenSSH lines), which their signed decisions verify
    /// against (see [`signing`]).
    #[serde(default)]
    pub keys: BTreeMap<String, Vec<String>>,
    /// The store's name in signed decisions: when and by whom it was initialised.
    #[serde(default)]
    pub origin: Option<String>,
    /// Approving roles lent to deputies, not yet ended (see [`delegation`]).
    #[serde(default)]
    pub delegations: Vec<delegation::Delegation>,
}

/// A refused command: nothing is recorded, and the message says what to do instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub message: String,
}

impl Rejection {
    pub fn new(message: impl Into<String>) -> Self {
        Rejection {
            message: message.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rejection {}

/// Shorthand for returning a rejection with a formatted message.
macro_rules! reject {
    ($($arg:tt)*) => { return Err($crate::state::Rejection::new(format!($($arg)*))) };
}
pub(crate) use reject;

/// Decides what `actor` asking for `command` at `now` records, judged against `model`.
pub fn decide(
    model: &Model,
    actor: &str,
    now: DateTime<Utc>,
    command: Command,
) -> Result<Vec<Event>, Rejection> {
    decide_in(model, actor, now, command, false)
}

/// [`decide`] for a preview of a decision that will be signed only when confirmed: a
/// signature the policy requires is taken as coming (everything else is judged as ever).
pub fn decide_before_signing(
    model: &Model,
    actor: &str,
    now: DateTime<Utc>,
    command: Command,
) -> Result<Vec<Event>, Rejection> {
    decide_in(model, actor, now, command, true)
}

fn decide_in(
    model: &Model,
    actor: &str,
    now: DateTime<Utc>,
    command: Command,
    sign_later: bool,
) -> Result<Vec<Event>, Rejection> {
    if !model.initialized && !matches!(command, Command::Init | Command::InitDemo) {
        reject!("this store has not been initialised: run `hotfix init` first");
    }
    // Whoever acts is named in the log like any granted user: a name, never a control sequence.
    if text::check_name("user", actor).ok().as_deref() != Some(actor) {
        reject!(
            "the acting user \"{}\" is not a valid user name: use letters, digits and . _ @ + - only (at most {} characters)",
            crate::sanitize::line(actor),
            text::MAX_NAME
        );
    }
    let ctx = Ctx {
        model,
        actor,
        now,
        sign_later,
    };
    match command {
        Command::Init => users::decide_init(&ctx, false),
        Command::InitDemo => users::decide_init(&ctx, true),
        Command::GrantRole { user, role } => users::decide_grant(&ctx, &user, &role),
        Command::RevokeRole { user, role } => users::decide_revoke(&ctx, &user, &role),
        Command::SetPolicy { policy } => users::decide_policy(&ctx, *policy),
        Command::ReportIncident {
            title,
            severity,
            services,
            impact,
            public,
            impact_since,
        } => incident::decide_report(
            &ctx,
            incident::Report {
                title: &title,
                severity,
                services: &services,
                impact: &impact,
                public: &public,
                impact_since,
                source: None,
            },
        ),
        Command::EditIncident {
            id,
            public,
            impact_since,
            impact_until,
        } => incident::decide_edit(&ctx, id, public.as_deref(), impact_since, impact_until),
        Command::RecordReview { id, review } => review::decide_record(&ctx, id, &review),
        Command::WaiveReview { id, reason } => review::decide_waive(&ctx, id, &reason),
        Command::CompleteAction { id, item } => review::decide_done(&ctx, id, item),
        Command::ChangeSeverity {
            id,
            severity,
            reason,
        } => incident::decide_severity(&ctx, id, severity, &reason),
        Command::QualifyIncident {
            id,
            decision,
            risk,
            impact,
            rationale,
            public,
        } => incident::decide_qualify(&ctx, id, decision, risk, &impact, &rationale, &public),
        Command::ResolveIncident { id, note } => incident::decide_resolve(&ctx, id, &note),
        Command::CreateHotfix { incidents, scope } => {
            lifecycle::decide_create_hotfix(&ctx, &incidents, &scope)
        }
        Command::PlanRegularRelease {
            version,
            summary,
            planned_at,
            code,
            artifact,
        } => lifecycle::decide_plan_regular(
            &ctx,
            &version,
            &summary,
            planned_at,
            code.as_deref(),
            artifact.as_deref(),
        ),
        Command::EditRelease { id, edit } => lifecycle::decide_edit(&ctx, id, &edit),
        Command::Decide {
            id,
            vote,
            role,
            text,
            seen,
            signature,
        } => approval::decide_vote(
            &ctx,
            id,
            vote,
            role,
            &text,
            seen.as_ref(),
            signature.as_deref(),
        ),
        Command::BreakGlass { id, reason } => glass::decide_break(&ctx, id, &reason),
        Command::Escalate { id, role, step } => escalation::decide_escalate(&ctx, id, &role, step),
        Command::EscalationFailed {
            id,
            role,
            step,
            error,
        } => escalation::decide_failed(&ctx, id, &role, step, &error),
        Command::Delegate {
            user,
            to,
            role,
            until,
        } => delegation::decide_delegate(&ctx, &user, &to, &role, until),
        Command::AddKey { user, key } => signing::decide_add_key(&ctx, &user, &key),
        Command::RemoveKey { user, fingerprint } => {
            signing::decide_remove_key(&ctx, &user, &fingerprint)
        }
        Command::Withdraw { id, role, reason } => {
            approval::decide_withdraw(&ctx, id, role, &reason)
        }
        Command::StartDeploy { id } => lifecycle::decide_deploy(&ctx, id),
        Command::MarkDeployed {
            id,
            commit,
            artifact,
        } => lifecycle::decide_deployed(&ctx, id, commit.as_deref(), artifact.as_deref()),
        Command::VerifyRelease { id, note } => lifecycle::decide_verify(&ctx, id, &note),
        Command::CloseRelease { id, carried_to } => {
            lifecycle::decide_close(&ctx, id, carried_to.as_deref())
        }
        Command::RollBack { id, reason } => {
            lifecycle::decide_end(&ctx, id, Phase::RolledBack, &reason)
        }
        Command::CancelRelease { id, reason } => {
            lifecycle::decide_end(&ctx, id, Phase::Cancelled, &reason)
        }
        Command::AddTest {
            id,
            name,
            priority,
            automated,
            owner,
        } => test_plan::decide_add(&ctx, id, &name, priority, automated, owner.as_deref()),
        Command::SetTestStatus {
            id,
            name,
            status,
            note,
        } => test_plan::decide_set(&ctx, id, &name, status, note.as_deref()),
        Command::WaiveTest { id, name, reason } => {
            test_plan::decide_waive(&ctx, id, &name, &reason)
        }
        Command::RemoveTest { id, name, reason } => {
            test_plan::decide_remove(&ctx, id, &name, &reason)
        }
        Command::ImportTestResults { id, results } => imports::decide_tests(&ctx, id, &results),
        Command::ImportAlert { alert } => imports::decide_alert(&ctx, &alert),
        Command::RecordNotice {
            id,
            stage,
            audience,
            channel,
            error,
        } => imports::decide_notice(&ctx, id, stage, audience, &channel, error),
        Command::RecordIncidentNotice {
            id,
            stage,
            audience,
            channel,
            error,
        } => imports::decide_incident_notice(&ctx, id, stage, audience, &channel, error),
    }
}

/// Folds one recorded event into the model, if the rules allow it (see [`legality`]): a line
/// they refuse changes nothing but the sequence number, and is named in [`Model::illegal`].
pub fn evolve(mut model: Model, recorded: &Recorded) -> Model {
    fold(&mut model, recorded);
    model
}

/// Folds an event this process just decided (so legal by construction), unchecked. Anything
/// read from a log goes through [`fold`] instead.
pub fn apply(model: &mut Model, r: &Recorded) {
    model.seq = r.seq;
    model.at = Some(r.at);
    match &r.event {
        event::users_events!() => users::apply(model, r),
        event::incident_events!() => incident::apply(model, r),
        event::test_events!() => test_plan::apply(model, r),
        event::release_events!() => release::apply(model, r),
        // Never legal, so never folded (see legality): nothing to apply.
        Event::Unreadable { .. } => {}
    }
    // Each record remembers the lines that name it: its trail, without a walk of the log.
    if let Some(release) = r.event.release().and_then(|id| model.releases.get_mut(&id)) {
        release.lines.push(r.seq);
    }
    for id in r.event.incidents() {
        if let Some(incident) = model.incidents.get_mut(&id) {
            incident.lines.push(r.seq);
        }
    }
}

/// The arguments every decision reads.
pub(crate) struct Ctx<'a> {
    pub model: &'a Model,
    pub actor: &'a str,
    pub now: DateTime<Utc>,
    /// A preview: the decision is signed when confirmed (see [`decide_before_signing`]).
    pub sign_later: bool,
}

impl Ctx<'_> {
    /// Whether the actor holds `role` now.
    pub fn holds(&self, role: &str) -> bool {
        self.model.holds(self.actor, role)
    }
}

impl Model {
    /// Folds a sequence of recorded events from an empty model, checking each.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Recorded>) -> Model {
        let mut model = Model::default();
        for r in events {
            fold(&mut model, r);
        }
        model
    }

    pub fn holds(&self, user: &str, role: &str) -> bool {
        self.users
            .get(user)
            .is_some_and(|roles| roles.contains(role))
    }

    /// The roles `user` holds, in name order.
    /// Whether `r` belongs to the audit trail asked for: a release's own events, and an
    /// incident's with those of the releases that fix it. `None` asks for everything.
    pub fn in_trail(
        &self,
        r: &Recorded,
        release: Option<ReleaseId>,
        incident: Option<IncidentId>,
    ) -> bool {
        release.is_none_or(|id| r.event.release() == Some(id))
            && incident.is_none_or(|id| {
                r.event.incidents().contains(&id)
                    || r.event
                        .release()
                        .and_then(|rid| self.releases.get(&rid))
                        .is_some_and(|rel| rel.scope.incidents.contains(&id))
            })
    }

    /// The refused line at `seq`, if that line was refused (see [`legality`]).
    pub fn illegal_at(&self, seq: u64) -> Option<&Illegal> {
        let i = self.illegal.binary_search_by_key(&seq, |l| l.seq).ok()?;
        self.illegal.get(i)
    }

    pub fn roles_of(&self, user: &str) -> Vec<String> {
        self.users
            .get(user)
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn incident(&self, id: IncidentId) -> Result<&Incident, Rejection> {
        self.incidents.get(&id).ok_or_else(|| {
            Rejection::new(format!(
                "there is no incident {id}: see `hotfix incident list --all`"
            ))
        })
    }

    /// The hotfixes that link an incident, oldest first.
    pub fn hotfixes_for(&self, id: IncidentId) -> impl Iterator<Item = &Release> + '_ {
        self.hotfixes_by_incident
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|r| self.releases.get(r))
    }

    pub fn release(&self, id: ReleaseId) -> Result<&Release, Rejection> {
        self.releases.get(&id).ok_or_else(|| {
            Rejection::new(format!(
                "there is no release {id}: see `hotfix release list --all`"
            ))
        })
    }

    pub fn next_incident_id(&self) -> IncidentId {
        let last = self.incidents.keys().next_back().map_or(0, |id| id.0);
        IncidentId(last.max(self.archive.last_incident) + 1)
    }

    pub fn next_release_id(&self, hotfix: bool) -> ReleaseId {
        // Hotfixes order before regular releases, each by number, so the newest of a kind is
        // the last key of its range: the fold asks this for every hotfix line (see legality),
        // so it must not walk every release.
        let (mut range, archived) = if hotfix {
            (
                self.releases.range(..ReleaseId::Regular(0)),
                self.archive.last_hotfix,
            )
        } else {
            (
                self.releases.range(ReleaseId::Regular(0)..),
                self.archive.last_regular,
            )
        };
        let last = range
            .next_back()
            .map_or(0, |(id, _)| match id {
                ReleaseId::Hotfix(n) | ReleaseId::Regular(n) => *n,
            })
            .max(archived);
        if hotfix {
            ReleaseId::Hotfix(last + 1)
        } else {
            ReleaseId::Regular(last + 1)
        }
    }
}
