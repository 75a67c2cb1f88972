//! What happened: the events the log holds, one per line, and how each names its records.

use super::code::Code;
use super::kinds::{
    Audience, Decision, IncidentId, Priority, ReleaseId, Risk, Severity, Stage, TestStatus,
};
use super::review::ReviewText;
use super::signing::Signed;
use super::{Policy, Scope};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
        /// What end users are told about it: the only incident text their notices carry.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        public: String,
        /// When customer impact began (an alert's `startsAt`), if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        impact_since: Option<DateTime<Utc>>,
    },
    /// A change to an incident's public text or customer-impact window; `None` leaves a field.
    IncidentEdited {
        id: IncidentId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        public: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        impact_since: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        impact_until: Option<DateTime<Utc>>,
    },
    /// A post-incident review, whole: a rewrite replaces the one before.
    ReviewRecorded {
        id: IncidentId,
        review: ReviewText,
    },
    /// A qualifier's decision that an incident needs no post-incident review.
    ReviewWaived {
        id: IncidentId,
        reason: String,
    },
    /// A stakeholder notice about an incident itself (before any hotfix: investigating).
    IncidentNoticeRecorded {
        id: IncidentId,
        stage: Stage,
        audience: Audience,
        channel: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A review's action item (1-based) is done.
    ActionDone {
        id: IncidentId,
        item: usize,
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<Code>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        artifact: Option<String>,
    },
    RegularReleasePlanned {
        id: ReleaseId,
        version: String,
        summary: String,
        planned_at: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<Code>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        artifact: Option<String>,
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<Signed>,
        /// The holder a deputy decided for (see `state::delegation`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_behalf: Option<String>,
    },
    ApprovalRejected {
        id: ReleaseId,
        role: String,
        reason: String,
        revision: u32,
        fingerprint: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<Signed>,
        /// The holder a deputy decided for (see `state::delegation`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_behalf: Option<String>,
    },
    /// A holder of the qualifying role broke the glass on a hotfix (see `state::glass`).
    GlassBroken {
        id: ReleaseId,
        reason: String,
    },
    /// A step of an approval's escalation, claimed before it is sent (see
    /// `state::escalation`).
    ApprovalEscalated {
        id: ReleaseId,
        role: String,
        revision: u32,
        step: super::escalation::Step,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        to: Vec<String>,
    },
    /// Sending a claimed escalation step failed: it is claimed again later.
    EscalationFailed {
        id: ReleaseId,
        role: String,
        revision: u32,
        step: super::escalation::Step,
        error: String,
    },
    /// An admin recorded a user's SSH public key.
    KeyAdded {
        user: String,
        key: String,
    },
    /// A holder's approving role, delegated to a deputy until `until` (an end when `until` is
    /// the line's own time).
    RoleDelegated {
        user: String,
        to: String,
        role: String,
        until: DateTime<Utc>,
    },
    /// An admin removed a user's key (by its SHA-256 fingerprint).
    KeyRemoved {
        user: String,
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
        /// The freeze a hotfix deployed through, as the exemption it is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exempted: Option<String>,
    },
    /// Deployed; with what the deployer said went out, checked against what was approved.
    ReleaseDeployed {
        id: ReleaseId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        commit: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        artifact: Option<String>,
    },
    ReleaseVerified {
        id: ReleaseId,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        note: String,
    },
    /// Closed; a hotfix with a commit names the mainline commit its fix was found on.
    ReleaseClosed {
        id: ReleaseId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        carried_to: Option<String>,
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
            Event::IncidentEdited { .. } => "incident_edited",
            Event::ReviewRecorded { .. } => "review_recorded",
            Event::ReviewWaived { .. } => "review_waived",
            Event::ActionDone { .. } => "action_done",
            Event::IncidentNoticeRecorded { .. } => "incident_notice_recorded",
            Event::KeyAdded { .. } => "key_added",
            Event::GlassBroken { .. } => "glass_broken",
            Event::KeyRemoved { .. } => "key_removed",
            Event::RoleDelegated { .. } => "role_delegated",
            Event::ApprovalEscalated { .. } => "approval_escalated",
            Event::EscalationFailed { .. } => "escalation_failed",
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
            | Event::ReleaseDeployed { id, .. }
            | Event::ReleaseVerified { id, .. }
            | Event::ReleaseClosed { id, .. }
            | Event::ReleaseRolledBack { id, .. }
            | Event::ReleaseCancelled { id, .. }
            | Event::TestAdded { id, .. }
            | Event::TestStatusSet { id, .. }
            | Event::TestWaived { id, .. }
            | Event::NoticeRecorded { id, .. }
            | Event::ApprovalWithdrawn { id, .. }
            | Event::TestRemoved { id, .. }
            | Event::GlassBroken { id, .. }
            | Event::ApprovalEscalated { id, .. }
            | Event::EscalationFailed { id, .. } => Some(*id),
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
            | Event::IncidentEdited { .. }
            | Event::ReviewRecorded { .. }
            | Event::ReviewWaived { .. }
            | Event::ActionDone { .. }
            | Event::IncidentNoticeRecorded { .. }
            | Event::KeyAdded { .. }
            | Event::KeyRemoved { .. }
            | Event::RoleDelegated { .. }
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
            | Event::IncidentServicesChanged { id, .. }
            | Event::IncidentEdited { id, .. }
            | Event::ReviewRecorded { id, .. }
            | Event::ReviewWaived { id, .. }
            | Event::ActionDone { id, .. }
            | Event::IncidentNoticeRecorded { id, .. } => vec![*id],
            Event::HotfixCreated { incidents, .. } => incidents.clone(),
            Event::ReleaseEdited { scope, .. } => scope.incidents.clone(),
            Event::StoreInitialized { .. }
            | Event::RoleGranted { .. }
            | Event::RoleRevoked { .. }
            | Event::PolicyReplaced { .. }
            | Event::KeyAdded { .. }
            | Event::KeyRemoved { .. }
            | Event::RoleDelegated { .. }
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
            | Event::GlassBroken { .. }
            | Event::ApprovalEscalated { .. }
            | Event::EscalationFailed { .. }
            | Event::Unreadable { .. } => Vec::new(),
        }
    }
}

// The events each part of the model folds, as patterns. `state::apply` routes by them and each
// part's fold names the others' by them, so a new event does not compile until it is given to
// exactly one part, and then not until that part folds it: no arm passes it by unseen.
macro_rules! users_events {
    () => {
        $crate::state::Event::StoreInitialized { .. }
            | $crate::state::Event::RoleGranted { .. }
            | $crate::state::Event::RoleRevoked { .. }
            | $crate::state::Event::PolicyReplaced { .. }
            | $crate::state::Event::KeyAdded { .. }
            | $crate::state::Event::KeyRemoved { .. }
            | $crate::state::Event::RoleDelegated { .. }
    };
}
macro_rules! incident_events {
    () => {
        $crate::state::Event::IncidentReported { .. }
            | $crate::state::Event::IncidentSeverityChanged { .. }
            | $crate::state::Event::IncidentQualified { .. }
            | $crate::state::Event::IncidentResolved { .. }
            | $crate::state::Event::IncidentNoted { .. }
            | $crate::state::Event::IncidentServicesChanged { .. }
            | $crate::state::Event::IncidentEdited { .. }
            | $crate::state::Event::ReviewRecorded { .. }
            | $crate::state::Event::ReviewWaived { .. }
            | $crate::state::Event::ActionDone { .. }
            | $crate::state::Event::IncidentNoticeRecorded { .. }
    };
}
macro_rules! test_events {
    () => {
        $crate::state::Event::TestAdded { .. }
            | $crate::state::Event::TestStatusSet { .. }
            | $crate::state::Event::TestWaived { .. }
            | $crate::state::Event::TestRemoved { .. }
    };
}
macro_rules! release_events {
    () => {
        $crate::state::Event::HotfixCreated { .. }
            | $crate::state::Event::RegularReleasePlanned { .. }
            | $crate::state::Event::ReleaseEdited { .. }
            | $crate::state::Event::ApprovalGiven { .. }
            | $crate::state::Event::ApprovalRejected { .. }
            | $crate::state::Event::ApprovalWithdrawn { .. }
            | $crate::state::Event::DeployStarted { .. }
            | $crate::state::Event::ReleaseDeployed { .. }
            | $crate::state::Event::ReleaseVerified { .. }
            | $crate::state::Event::ReleaseClosed { .. }
            | $crate::state::Event::ReleaseRolledBack { .. }
            | $crate::state::Event::ReleaseCancelled { .. }
            | $crate::state::Event::NoticeRecorded { .. }
            | $crate::state::Event::GlassBroken { .. }
            | $crate::state::Event::ApprovalEscalated { .. }
            | $crate::state::Event::EscalationFailed { .. }
    };
}
pub(crate) use {incident_events, release_events, test_events, users_events};

/// An event as the log holds it: who, when, and its place in the sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub event: Event,
}
