//! The hotfix process as a pure state machine: `decide` turns a command into events or a
//! rejection, `evolve` folds an event into the model. No I/O, no clock, no terminal: time and the
//! actor come in as arguments, so every rule is testable as given events / when command / then.

pub mod approval;
pub mod archive;
pub mod gate;
pub mod imports;
pub mod incident;
pub mod insights;
pub mod kinds;
pub mod legality;
pub mod lifecycle;
pub mod policy;
pub mod release;
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

/// What a person (through the CLI or the cockpit) asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Init,
    /// Initialise a demo store (see [`Model::demo`]).
    InitDemo,
    GrantRole {
        user: String,
        role: String,
    },
    RevokeRole {
        user: String,
        role: String,
    },
    SetPolicy {
        policy: Policy,
    },
    ReportIncident {
        title: String,
        severity: Severity,
        services: Vec<String>,
        impact: String,
    },
    ChangeSeverity {
        id: IncidentId,
        severity: Severity,
        reason: String,
    },
    QualifyIncident {
        id: IncidentId,
        decision: Decision,
        risk: Risk,
        impact: String,
        rationale: String,
    },
    ResolveIncident {
        id: IncidentId,
        note: String,
    },
    CreateHotfix {
        incidents: Vec<IncidentId>,
        scope: ScopeInput,
    },
    PlanRegularRelease {
        version: String,
        summary: String,
        planned_at: Option<DateTime<Utc>>,
    },
    EditRelease {
        id: ReleaseId,
        edit: ScopeEdit,
    },
    /// A role holder's decision on a release: approve (with an optional comment) or reject
    /// (with a required reason), in `text`. `role: None` fills the one role the actor may
    /// take, and asks when there are several. `seen` binds the decision to the revision the
    /// approver was shown: refused if it moved on.
    Decide {
        id: ReleaseId,
        vote: Vote,
        role: Option<String>,
        text: String,
        seen: Option<Seen>,
    },
    /// Takes back the actor's own approval before the deploy: the role waits again. `role:
    /// None` takes the one role the actor's approval fills.
    Withdraw {
        id: ReleaseId,
        role: Option<String>,
        reason: String,
    },
    StartDeploy {
        id: ReleaseId,
    },
    MarkDeployed {
        id: ReleaseId,
    },
    /// Verified in production; the note says how (dashboards, a synthetic check...).
    VerifyRelease {
        id: ReleaseId,
        note: String,
    },
    CloseRelease {
        id: ReleaseId,
    },
    RollBack {
        id: ReleaseId,
        reason: String,
    },
    CancelRelease {
        id: ReleaseId,
        reason: String,
    },
    AddTest {
        id: ReleaseId,
        name: String,
        priority: Priority,
        automated: bool,
        owner: Option<String>,
    },
    SetTestStatus {
        id: ReleaseId,
        name: String,
        status: TestStatus,
        note: Option<String>,
    },
    WaiveTest {
        id: ReleaseId,
        name: String,
        reason: String,
    },
    /// Takes a test off the list before the deploy (added by mistake, misnamed), with why.
    RemoveTest {
        id: ReleaseId,
        name: String,
        reason: String,
    },
    /// Test results from CI: update the matching tests, add the unknown ones.
    ImportTestResults {
        id: ReleaseId,
        results: Vec<imports::TestResult>,
    },
    /// An alert from Alertmanager or PagerDuty: create or update the incident it keys.
    ImportAlert {
        alert: imports::AlertInput,
    },
    /// A stakeholder notice that was sent, or failed to send (`error`).
    RecordNotice {
        id: ReleaseId,
        stage: Stage,
        audience: Audience,
        channel: String,
        error: Option<String>,
    },
}

/// The scope fields of a new hotfix.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScopeInput {
    pub version: String,
    pub summary: String,
    pub changes: String,
    pub risks: String,
    pub rollback: String,
}

/// A change to a release's scope; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScopeEdit {
    pub version: Option<String>,
    pub summary: Option<String>,
    pub changes: Option<String>,
    pub risks: Option<String>,
    pub rollback: Option<String>,
    pub add_incidents: Vec<IncidentId>,
}

/// What happened. The `type` tag names it in the log; the payload is flattened beside the envelope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    StoreInitialized {
        policy: Policy,
        /// A demo store: the cockpit lets one person act as each demo user to try every role.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        demo: bool,
    },
    RoleGranted {
        user: String,
        role: String,
    },
    RoleRevoked {
        user: String,
        role: String,
    },
    PolicyReplaced {
        policy: Policy,
    },
    IncidentReported {
        id: IncidentId,
        title: String,
        severity: Severity,
        services: Vec<String>,
        impact: String,
        /// The alerting source's key (`alertmanager:<groupKey>`, `pagerduty:<id>`) for imports.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<String>,
    },
    /// A remark on an incident from its source, such as an alert that resolved.
    IncidentNoted {
        id: IncidentId,
        note: String,
        /// What the source calls this remark (an event id, or the group key and state), so a
        /// payload imported twice is noted once.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
    /// The services the source now lists for an incident.
    IncidentServicesChanged {
        id: IncidentId,
        services: Vec<String>,
    },
    IncidentSeverityChanged {
        id: IncidentId,
        from: Severity,
        to: Severity,
        reason: String,
    },
    IncidentQualified {
        id: IncidentId,
        decision: Decision,
        risk: Risk,
        impact: String,
        rationale: String,
    },
    IncidentResolved {
        id: IncidentId,
        note: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        release: Option<ReleaseId>,
    },
    HotfixCreated {
        id: ReleaseId,
        incidents: Vec<IncidentId>,
        version: String,
        summary: String,
        changes: String,
        risks: String,
        rollback: String,
    },
    RegularReleasePlanned {
        id: ReleaseId,
        version: String,
        summary: String,
        planned_at: Option<DateTime<Utc>>,
    },
    /// A scope edit: the full new scope, its revision and fingerprint, so the log alone shows what changed.
    ReleaseEdited {
        id: ReleaseId,
        scope: Scope,
        revision: u32,
        fingerprint: String,
    },
    ApprovalGiven {
        id: ReleaseId,
        role: String,
        comment: String,
        revision: u32,
        fingerprint: String,
    },
    ApprovalRejected {
        id: ReleaseId,
        role: String,
        reason: String,
        revision: u32,
        fingerprint: String,
    },
    /// An approver took back their approval before the deploy; the role waits again.
    ApprovalWithdrawn {
        id: ReleaseId,
        role: String,
        reason: String,
    },
    /// Records the severity and roles the release was judged against, which are frozen from here on.
    DeployStarted {
        id: ReleaseId,
        severity: Option<Severity>,
        required_roles: Vec<String>,
    },
    ReleaseDeployed {
        id: ReleaseId,
    },
    ReleaseVerified {
        id: ReleaseId,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        note: String,
    },
    ReleaseClosed {
        id: ReleaseId,
    },
    ReleaseRolledBack {
        id: ReleaseId,
        reason: String,
    },
    ReleaseCancelled {
        id: ReleaseId,
        reason: String,
    },
    TestAdded {
        id: ReleaseId,
        name: String,
        priority: Priority,
        automated: bool,
        owner: Option<String>,
    },
    TestStatusSet {
        id: ReleaseId,
        name: String,
        status: TestStatus,
        note: Option<String>,
        /// Passed only after a rerun.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        flaky: bool,
    },
    TestWaived {
        id: ReleaseId,
        name: String,
        reason: String,
    },
    /// A test taken off the list before the deploy.
    TestRemoved {
        id: ReleaseId,
        name: String,
        reason: String,
    },
    /// A line whose frame and hash are right but whose event cannot be read (a type or a
    /// field this hotfix does not know, written around it): folded as nothing, and named.
    /// Never written: it exists only as what a reader makes of such a line.
    #[serde(skip_deserializing)]
    Unreadable {
        /// The `type` the line gives, if any.
        claimed: String,
        reason: String,
    },
    /// A stakeholder notice: sent, or tried and failed (`error`).
    NoticeRecorded {
        id: ReleaseId,
        stage: Stage,
        audience: Audience,
        channel: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
}

impl Event {
    /// The `type` word this event has in the log.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::StoreInitialized { .. } => "store_initialized",
            Event::RoleGranted { .. } => "role_granted",
            Event::RoleRevoked { .. } => "role_revoked",
            Event::PolicyReplaced { .. } => "policy_replaced",
            Event::IncidentReported { .. } => "incident_reported",
            Event::IncidentSeverityChanged { .. } => "incident_severity_changed",
            Event::IncidentQualified { .. } => "incident_qualified",
            Event::IncidentResolved { .. } => "incident_resolved",
            Event::HotfixCreated { .. } => "hotfix_created",
            Event::RegularReleasePlanned { .. } => "regular_release_planned",
            Event::ReleaseEdited { .. } => "release_edited",
            Event::ApprovalGiven { .. } => "approval_given",
            Event::ApprovalRejected { .. } => "approval_rejected",
            Event::DeployStarted { .. } => "deploy_started",
            Event::ReleaseDeployed { .. } => "release_deployed",
            Event::ReleaseVerified { .. } => "release_verified",
            Event::ReleaseClosed { .. } => "release_closed",
            Event::ReleaseRolledBack { .. } => "release_rolled_back",
            Event::ReleaseCancelled { .. } => "release_cancelled",
            Event::TestAdded { .. } => "test_added",
            Event::TestStatusSet { .. } => "test_status_set",
            Event::TestWaived { .. } => "test_waived",
            Event::IncidentNoted { .. } => "incident_noted",
            Event::IncidentServicesChanged { .. } => "incident_services_changed",
            Event::NoticeRecorded { .. } => "notice_recorded",
            Event::Unreadable { .. } => "unreadable",
            Event::ApprovalWithdrawn { .. } => "approval_withdrawn",
            Event::TestRemoved { .. } => "test_removed",
        }
    }

    /// The release this event is about, if any.
    pub fn release(&self) -> Option<ReleaseId> {
        match self {
            Event::HotfixCreated { id, .. }
            | Event::RegularReleasePlanned { id, .. }
            | Event::ReleaseEdited { id, .. }
            | Event::ApprovalGiven { id, .. }
            | Event::ApprovalRejected { id, .. }
            | Event::DeployStarted { id, .. }
            | Event::ReleaseDeployed { id }
            | Event::ReleaseVerified { id, .. }
            | Event::ReleaseClosed { id }
            | Event::ReleaseRolledBack { id, .. }
            | Event::ReleaseCancelled { id, .. }
            | Event::TestAdded { id, .. }
            | Event::TestStatusSet { id, .. }
            | Event::TestWaived { id, .. }
            | Event::NoticeRecorded { id, .. }
            | Event::ApprovalWithdrawn { id, .. }
            | Event::TestRemoved { id, .. } => Some(*id),
            Event::IncidentResolved { release, .. } => *release,
            Event::StoreInitialized { .. }
            | Event::RoleGranted { .. }
            | Event::RoleRevoked { .. }
            | Event::PolicyReplaced { .. }
            | Event::IncidentReported { .. }
            | Event::IncidentNoted { .. }
            | Event::IncidentServicesChanged { .. }
            | Event::IncidentSeverityChanged { .. }
            | Event::IncidentQualified { .. }
            | Event::Unreadable { .. } => None,
        }
    }

    /// The incidents this event is about.
    pub fn incidents(&self) -> Vec<IncidentId> {
        match self {
            Event::IncidentReported { id, .. }
            | Event::IncidentSeverityChanged { id, .. }
            | Event::IncidentQualified { id, .. }
            | Event::IncidentResolved { id, .. }
            | Event::IncidentNoted { id, .. }
            | Event::IncidentServicesChanged { id, .. } => vec![*id],
            Event::HotfixCreated { incidents, .. } => incidents.clone(),
            Event::ReleaseEdited { scope, .. } => scope.incidents.clone(),
            Event::StoreInitialized { .. }
            | Event::RoleGranted { .. }
            | Event::RoleRevoked { .. }
            | Event::PolicyReplaced { .. }
            | Event::RegularReleasePlanned { .. }
            | Event::ApprovalGiven { .. }
            | Event::ApprovalRejected { .. }
            | Event::DeployStarted { .. }
            | Event::ReleaseDeployed { .. }
            | Event::ReleaseVerified { .. }
            | Event::ReleaseClosed { .. }
            | Event::ReleaseRolledBack { .. }
            | Event::ReleaseCancelled { .. }
            | Event::TestAdded { .. }
            | Event::TestStatusSet { .. }
            | Event::TestWaived { .. }
            | Event::NoticeRecorded { .. }
            | Event::ApprovalWithdrawn { .. }
            | Event::TestRemoved { .. }
            | Event::Unreadable { .. } => Vec::new(),
        }
    }
}

/// An event as the log holds it: who, when, and its place in the sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub event: Event,
}

/// Decides what `actor` asking for `command` at `now` records, judged against `model`.
pub fn decide(
    model: &Model,
    actor: &str,
    now: DateTime<Utc>,
    command: Command,
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
    let ctx = Ctx { model, actor, now };
    match command {
        Command::Init => users::decide_init(&ctx, false),
        Command::InitDemo => users::decide_init(&ctx, true),
        Command::GrantRole { user, role } => users::decide_grant(&ctx, &user, &role),
        Command::RevokeRole { user, role } => users::decide_revoke(&ctx, &user, &role),
        Command::SetPolicy { policy } => users::decide_policy(&ctx, policy),
        Command::ReportIncident {
            title,
            severity,
            services,
            impact,
        } => incident::decide_report(&ctx, &title, severity, &services, &impact),
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
        } => incident::decide_qualify(&ctx, id, decision, risk, &impact, &rationale),
        Command::ResolveIncident { id, note } => incident::decide_resolve(&ctx, id, &note),
        Command::CreateHotfix { incidents, scope } => {
            lifecycle::decide_create_hotfix(&ctx, &incidents, &scope)
        }
        Command::PlanRegularRelease {
            version,
            summary,
            planned_at,
        } => lifecycle::decide_plan_regular(&ctx, &version, &summary, planned_at),
        Command::EditRelease { id, edit } => lifecycle::decide_edit(&ctx, id, &edit),
        Command::Decide {
            id,
            vote,
            role,
            text,
            seen,
        } => approval::decide_vote(&ctx, id, vote, role, &text, seen.as_ref()),
        Command::Withdraw { id, role, reason } => {
            approval::decide_withdraw(&ctx, id, role, &reason)
        }
        Command::StartDeploy { id } => lifecycle::decide_deploy(&ctx, id),
        Command::MarkDeployed { id } => lifecycle::decide_advance(&ctx, id, Phase::Deployed, ""),
        Command::VerifyRelease { id, note } => {
            lifecycle::decide_advance(&ctx, id, Phase::Verified, &note)
        }
        Command::CloseRelease { id } => lifecycle::decide_advance(&ctx, id, Phase::Closed, ""),
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
        Event::StoreInitialized { .. }
        | Event::RoleGranted { .. }
        | Event::RoleRevoked { .. }
        | Event::PolicyReplaced { .. } => users::apply(model, r),
        Event::IncidentReported { .. }
        | Event::IncidentSeverityChanged { .. }
        | Event::IncidentQualified { .. }
        | Event::IncidentResolved { .. }
        | Event::IncidentNoted { .. }
        | Event::IncidentServicesChanged { .. } => incident::apply(model, r),
        Event::TestAdded { .. }
        | Event::TestStatusSet { .. }
        | Event::TestWaived { .. }
        | Event::TestRemoved { .. } => {
            test_plan::apply(model, r);
        }
        Event::HotfixCreated { .. }
        | Event::RegularReleasePlanned { .. }
        | Event::ReleaseEdited { .. }
        | Event::ApprovalGiven { .. }
        | Event::ApprovalRejected { .. }
        | Event::DeployStarted { .. }
        | Event::ReleaseDeployed { .. }
        | Event::ReleaseVerified { .. }
        | Event::ReleaseClosed { .. }
        | Event::ReleaseRolledBack { .. }
        | Event::ReleaseCancelled { .. }
        | Event::NoticeRecorded { .. }
        | Event::ApprovalWithdrawn { .. } => release::apply(model, r),
        // Never legal, so never folded (see legality): nothing to apply.
        Event::Unreadable { .. } => {}
    }
}

/// The arguments every decision reads.
pub(crate) struct Ctx<'a> {
    pub model: &'a Model,
    pub actor: &'a str,
    #[allow(dead_code)] // kept for rules that depend on time (none yet decide by the clock)
    pub now: DateTime<Utc>,
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
        let last = self
            .releases
            .keys()
            .filter(|id| id.is_hotfix() == hotfix)
            .map(|id| match id {
                ReleaseId::Hotfix(n) | ReleaseId::Regular(n) => *n,
            })
            .max()
            .unwrap_or(0)
            .max(if hotfix {
                self.archive.last_hotfix
            } else {
                self.archive.last_regular
            });
        if hotfix {
            ReleaseId::Hotfix(last + 1)
        } else {
            ReleaseId::Regular(last + 1)
        }
    }
}
