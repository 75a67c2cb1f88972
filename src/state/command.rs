//! What a person (through the CLI or the cockpit) asks for: the commands `decide` judges.

use super::code::Code;
use super::kinds::{
    Audience, Decision, IncidentId, Priority, ReleaseId, Risk, Severity, Stage, TestStatus,
};
use super::review::ReviewText;
use super::signing::Signed;
use super::{Policy, Seen, Vote, imports};
use chrono::{DateTime, Utc};

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
    /// Claims a due escalation step of a waiting approval, before it is sent.
    Escalate {
        id: ReleaseId,
        role: String,
        step: super::escalation::Step,
    },
    /// Records that sending a claimed escalation step failed.
    EscalationFailed {
        id: ReleaseId,
        role: String,
        step: super::escalation::Step,
        error: String,
    },
    /// Lends `user`'s approving `role` to `to` until `until` (`None`: ends it now).
    Delegate {
        user: String,
        to: String,
        role: String,
        until: Option<DateTime<Utc>>,
    },
    SetPolicy {
        policy: Box<Policy>,
    },
    ReportIncident {
        title: String,
        severity: Severity,
        services: Vec<String>,
        impact: String,
        /// What end users are told (may be empty until a qualifier writes it).
        public: String,
        impact_since: Option<DateTime<Utc>>,
    },
    /// Changes an incident's public text or customer-impact window; `None` leaves a field.
    EditIncident {
        id: IncidentId,
        public: Option<String>,
        impact_since: Option<DateTime<Utc>>,
        impact_until: Option<DateTime<Utc>>,
    },
    /// Records (or rewrites) an incident's post-incident review.
    RecordReview {
        id: IncidentId,
        review: Box<ReviewText>,
    },
    /// The qualifier decides an incident needs no review, with why.
    WaiveReview {
        id: IncidentId,
        reason: String,
    },
    /// Marks a review's action item (1-based) done.
    CompleteAction {
        id: IncidentId,
        item: usize,
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
        /// What end users are told, written as the incident is qualified; empty keeps it.
        public: String,
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
        code: Option<Box<Code>>,
        artifact: Option<String>,
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
        /// The decision's SSH signature (see `state::signing`), made over the bytes
        /// `signing::signed_bytes` gives for the role it fills.
        signature: Option<Box<Signed>>,
    },
    /// A holder of the qualifying role breaks the glass: with a second, different one, the
    /// gate opens without the approvals still missing, which become owed (see `state::glass`).
    BreakGlass {
        id: ReleaseId,
        reason: String,
    },
    /// An admin records a user's SSH public key (an OpenSSH `.pub` line).
    AddKey {
        user: String,
        key: String,
    },
    /// An admin removes a user's key, by its SHA-256 fingerprint.
    RemoveKey {
        user: String,
        fingerprint: String,
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
    /// Deployed. `commit` and `artifact` say what went out: refused unless it is what was
    /// approved.
    MarkDeployed {
        id: ReleaseId,
        commit: Option<String>,
        artifact: Option<String>,
    },
    /// Verified in production; the note says how (dashboards, a synthetic check...).
    VerifyRelease {
        id: ReleaseId,
        note: String,
    },
    /// Closed. `carried_to`: the mainline commit the client found the hotfix's fix on (see
    /// `Policy::mainline`).
    CloseRelease {
        id: ReleaseId,
        carried_to: Option<String>,
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
        alert: Box<imports::AlertInput>,
    },
    /// A stakeholder notice about an incident itself (investigating), sent or failed.
    RecordIncidentNotice {
        id: IncidentId,
        stage: Stage,
        audience: Audience,
        channel: String,
        error: Option<String>,
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
    pub code: Option<Box<Code>>,
    pub artifact: Option<String>,
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
    pub code: Option<Box<Code>>,
    pub artifact: Option<String>,
}
