//! Releases: hotfixes (`HF-n`) that fix qualified incidents, and regular releases (`REL-n`) that
//! give way to them. What a release is (scope, approvals, tests, milestones), the queries on
//! it; how its events fold in is in `release::fold`, the decisions that move it in `lifecycle`.

mod fold;
pub(crate) use fold::apply;

use super::Model;
use super::Name;
use super::kinds::{IncidentId, ReleaseId, Severity, Stage};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// What a release changes. Approvals are given to one revision of it; editing it makes them stale.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub version: String,
    pub summary: String,
    pub changes: String,
    pub risks: String,
    pub rollback: String,
    pub incidents: Vec<IncidentId>,
    /// The code it ships, bound from git: approvals are given to this exact diff.
    #[serde(default)]
    pub code: Option<super::code::Code>,
    /// The build it ships, an OCI-style digest (`sha256:` and 64 hex digits).
    #[serde(default)]
    pub artifact: Option<String>,
}

impl Scope {
    /// A short SHA-256 fingerprint of the scope, recorded with each approval as evidence of what
    /// was approved. The code and artifact count only when there are some, so a scope without
    /// them keeps the fingerprint it always had.
    pub fn fingerprint(&self) -> String {
        #[derive(Serialize)]
        struct Seen<'a> {
            version: &'a str,
            summary: &'a str,
            changes: &'a str,
            risks: &'a str,
            rollback: &'a str,
            incidents: &'a [IncidentId],
            #[serde(skip_serializing_if = "Option::is_none")]
            code: Option<&'a super::code::Code>,
            #[serde(skip_serializing_if = "Option::is_none")]
            artifact: Option<&'a str>,
        }
        let seen = Seen {
            version: &self.version,
            summary: &self.summary,
            changes: &self.changes,
            risks: &self.risks,
            rollback: &self.rollback,
            incidents: &self.incidents,
            code: self.code.as_ref(),
            artifact: self.artifact.as_deref(),
        };
        let bytes = serde_json::to_vec(&seen).unwrap_or_default();
        let digest = Sha256::digest(&bytes);
        digest.iter().take(8).fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }
}

/// Where a release is in its lifecycle. Before deploying, the status people see
/// ([`ReleaseStatus`]) is derived from approvals, so it can never disagree with them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Pending,
    Deploying,
    Deployed,
    Verified,
    Closed,
    RolledBack,
    Cancelled,
}

impl Phase {
    /// The one stakeholder notice that is true of a release in this phase (the one rule the
    /// notice command, the cockpit's prefill and the tests pane all ask): none once cancelled.
    pub fn notice_stage(self) -> Option<Stage> {
        match self {
            Phase::Pending => Some(Stage::Planned),
            Phase::Deploying => Some(Stage::Deploying),
            Phase::Deployed => Some(Stage::Deployed),
            // Resolved only once verified in production: before that, a fix is being watched.
            Phase::Verified | Phase::Closed => Some(Stage::Resolved),
            Phase::RolledBack => Some(Stage::RolledBack),
            Phase::Cancelled => None,
        }
    }

    /// Whether a `stage` notice is true of a release in this phase: the one [`notice_stage`]
    /// names, and "deployed" still of a verified or closed release (it was deployed; stores
    /// written before the resolved stage recorded it so).
    ///
    /// [`notice_stage`]: Phase::notice_stage
    pub fn allows_notice(self, stage: Stage) -> bool {
        self.notice_stage() == Some(stage)
            || (stage == Stage::Deployed && matches!(self, Phase::Verified | Phase::Closed))
    }

    /// Closed, rolled back and cancelled are final.
    pub fn is_finished(self) -> bool {
        matches!(self, Phase::Closed | Phase::RolledBack | Phase::Cancelled)
    }

    /// A hotfix is in flight from creation until verified, closed, cancelled or rolled back.
    pub fn is_in_flight(self) -> bool {
        matches!(self, Phase::Pending | Phase::Deploying | Phase::Deployed)
    }
}

/// The status shown to people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseStatus {
    AwaitingApproval,
    Approved,
    Rejected,
    Planned,
    Deploying,
    Deployed,
    Verified,
    Closed,
    RolledBack,
    Cancelled,
}

impl ReleaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseStatus::AwaitingApproval => "awaiting-approval",
            ReleaseStatus::Approved => "approved",
            ReleaseStatus::Rejected => "rejected",
            ReleaseStatus::Planned => "planned",
            ReleaseStatus::Deploying => "deploying",
            ReleaseStatus::Deployed => "deployed",
            ReleaseStatus::Verified => "verified",
            ReleaseStatus::Closed => "closed",
            ReleaseStatus::RolledBack => "rolled-back",
            ReleaseStatus::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for ReleaseStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub role: Name,
    pub approver: Name,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
    pub comment: String,
    pub revision: u32,
    pub fingerprint: Name,
    /// Its SSH signature, and the exact bytes signed (see `state::signing`).
    #[serde(default)]
    pub signature: Option<Box<SignedDecision>>,
    /// The holder a deputy approved for (see `state::delegation`).
    #[serde(default)]
    pub on_behalf: Option<Name>,
}

/// A signed decision as the model keeps it: the signature and the bytes it signed, so anyone
/// can check it with `ssh-keygen -Y verify` long after the scope moved on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignedDecision {
    pub signature: String,
    /// The signed bytes (canonical JSON).
    pub signed: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReleaseRejection {
    pub role: Name,
    pub by: Name,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
    pub reason: String,
    pub revision: u32,
    pub fingerprint: Name,
    #[serde(default)]
    pub signature: Option<Box<SignedDecision>>,
    #[serde(default)]
    pub on_behalf: Option<Name>,
}

/// A step of the lifecycle, for the timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    pub phase: Phase,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
    pub by: Name,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub id: ReleaseId,
    pub scope: Scope,
    #[serde(with = "super::stamp::option")]
    pub planned_at: Option<DateTime<Utc>>,
    pub author: Name,
    #[serde(with = "super::stamp")]
    pub created_at: DateTime<Utc>,
    /// Bumped by each scope edit; approvals of an older revision are stale.
    pub revision: u32,
    pub phase: Phase,
    /// Every approval ever given, oldest first; the latest per role is the one that counts.
    pub approvals: Vec<Approval>,
    pub rejections: Vec<ReleaseRejection>,
    pub tests: Vec<super::TestCase>,
    /// Severity and needed roles as judged when deploying started; fixed from then on.
    pub frozen: Option<(Option<Severity>, Vec<String>)>,
    pub milestones: Vec<Milestone>,
    /// Stakeholder notices sent or tried, oldest first.
    pub notices: Vec<Notice>,
    /// Scope edits, oldest first.
    pub edits: Vec<Edit>,
    /// Approvals withdrawn and tests removed, on the record, oldest first.
    #[serde(default)]
    pub corrections: Vec<Correction>,
    /// What the deployer said went out (commit, artifact), checked against the scope.
    #[serde(default)]
    pub shipped: (Option<String>, Option<String>),
    /// The mainline commit its fix was found on when it closed (see `Policy::mainline`).
    #[serde(default)]
    pub carried_to: Option<String>,
    /// Who broke the glass on it, and why (see `state::glass`).
    #[serde(default)]
    pub break_glass: Vec<super::glass::GlassBreak>,
    /// The roles it deployed without, by break-glass: owed after the deploy.
    #[serde(default)]
    pub owed: Vec<Name>,
    /// Its approvals' escalation steps, claimed (see `state::escalation`).
    #[serde(default)]
    pub escalations: Vec<super::escalation::Escalation>,
    /// The sequence numbers of the log lines that name it, oldest first (see
    /// `Incident::lines`).
    #[serde(default)]
    pub lines: Vec<u64>,
    /// Where each test is in `tests`, so that folding a large import stays linear.
    #[serde(skip)]
    pub(crate) test_index: super::test_plan::TestIndex,
}

/// A correction on the record: an approval withdrawn or a test removed, by whom, when, why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    /// What was corrected, in words ("withdrew the prod-owner approval", "removed test t1").
    pub what: String,
    pub by: Name,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
    pub reason: String,
}

/// One scope edit: the revision it made, when, by whom, and which fields it changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Edit {
    pub revision: u32,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
    pub by: Name,
    pub changed: Vec<Name>,
}

impl Scope {
    /// The names of the fields that differ between two scopes, in the order a form shows them.
    pub fn changed_fields(&self, new: &Scope) -> Vec<&'static str> {
        [
            ("version", self.version != new.version),
            ("summary", self.summary != new.summary),
            ("changes", self.changes != new.changes),
            ("risks", self.risks != new.risks),
            ("rollback", self.rollback != new.rollback),
            ("incidents", self.incidents != new.incidents),
            ("code", self.code != new.code),
            ("artifact", self.artifact != new.artifact),
        ]
        .into_iter()
        .filter_map(|(name, differs)| differs.then_some(name))
        .collect()
    }
}

/// A stakeholder notice as recorded: sent, or tried and failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub stage: super::Stage,
    pub audience: super::Audience,
    pub channel: Name,
    pub by: Name,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
    pub error: Option<String>,
}

impl Notice {
    /// The notice a recorded line says was sent (or tried), by its actor at its time.
    pub(crate) fn recorded(
        r: &super::Recorded,
        stage: super::Stage,
        audience: super::Audience,
        channel: &str,
        error: &Option<String>,
    ) -> Notice {
        Notice {
            stage,
            audience,
            channel: channel.into(),
            by: r.actor.as_str().into(),
            at: r.at,
            error: error.clone(),
        }
    }
}

impl Approval {
    /// Who gave it, as people read it: "pat for carol" when a deputy gave it for a holder.
    pub fn by(&self) -> String {
        crate::present::acting(&self.approver, self.on_behalf.as_deref())
    }
}

impl Release {
    /// The latest approval given for `role`.
    pub fn approval_for(&self, role: &str) -> Option<&Approval> {
        self.approvals.iter().rev().find(|a| a.role == role)
    }

    pub fn is_current(&self, approval: &Approval) -> bool {
        approval.revision == self.revision
    }

    /// The rejections given against the current revision; any of them blocks.
    pub fn standing_rejections(&self) -> impl Iterator<Item = &ReleaseRejection> {
        self.rejections
            .iter()
            .filter(|r| r.revision == self.revision)
    }

    /// The fields edited after `revision`, each once, in form order.
    pub fn changed_since(&self, revision: u32) -> Vec<&str> {
        const ORDER: [&str; 6] = [
            "version",
            "summary",
            "changes",
            "risks",
            "rollback",
            "incidents",
        ];
        ORDER
            .into_iter()
            .filter(|field| {
                self.edits
                    .iter()
                    .filter(|e| e.revision > revision)
                    .any(|e| e.changed.iter().any(|c| c == field))
            })
            .collect()
    }

    pub fn milestone(&self, phase: Phase) -> Option<&Milestone> {
        self.milestones.iter().rev().find(|m| m.phase == phase)
    }
}

/// One row of the approval checklist.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum RoleCheck {
    Approved {
        role: String,
        approval: Approval,
    },
    /// Approved, but for an older revision of the scope.
    Stale {
        role: String,
        approval: Approval,
        current_revision: u32,
    },
    Rejected {
        role: String,
        rejection: ReleaseRejection,
    },
    /// Approved by someone who no longer holds the role: shown, not counted.
    Revoked {
        role: String,
        approval: Approval,
    },
    Waiting {
        role: String,
    },
}

impl RoleCheck {
    pub fn role(&self) -> &str {
        match self {
            RoleCheck::Approved { role, .. }
            | RoleCheck::Stale { role, .. }
            | RoleCheck::Rejected { role, .. }
            | RoleCheck::Revoked { role, .. }
            | RoleCheck::Waiting { role } => role,
        }
    }
}

impl Model {
    /// The most severe severity among a hotfix's incidents (`None` for a regular release).
    /// The incidents a release fixes, in the order it names them.
    pub fn incidents_of<'m>(
        &'m self,
        release: &'m Release,
    ) -> impl Iterator<Item = &'m super::Incident> + 'm {
        release
            .scope
            .incidents
            .iter()
            .filter_map(|id| self.incidents.get(id))
    }

    pub fn release_severity(&self, release: &Release) -> Option<Severity> {
        if let Some((severity, _)) = &release.frozen {
            return *severity;
        }
        self.incidents_of(release).map(|i| i.severity).min()
    }

    /// The roles that must approve, from the current severity and policy until deploying starts.
    pub fn required_roles(&self, release: &Release) -> Vec<String> {
        if let Some((_, roles)) = &release.frozen {
            return roles.clone();
        }
        if !release.id.is_hotfix() {
            return Vec::new();
        }
        self.release_severity(release)
            .and_then(|s| self.policy.approvers_for(s))
            .map(<[String]>::to_vec)
            .unwrap_or_default()
    }

    /// One row per needed role: approved, stale, rejected or waiting.
    pub fn checklist(&self, release: &Release) -> Vec<RoleCheck> {
        self.required_roles(release)
            .into_iter()
            .map(|role| {
                if let Some(rej) = release.standing_rejections().find(|r| r.role == role) {
                    return RoleCheck::Rejected {
                        role,
                        rejection: rej.clone(),
                    };
                }
                match release.approval_for(&role) {
                    // Until deploying starts, an approval counts only while its giver holds
                    // the role; after that the record stands as it was.
                    Some(a) if release.phase == Phase::Pending && !self.stands(a) => {
                        RoleCheck::Revoked {
                            role,
                            approval: a.clone(),
                        }
                    }
                    Some(a) if release.is_current(a) => RoleCheck::Approved {
                        role,
                        approval: a.clone(),
                    },
                    Some(a) => RoleCheck::Stale {
                        role,
                        approval: a.clone(),
                        current_revision: release.revision,
                    },
                    None => RoleCheck::Waiting { role },
                }
            })
            .collect()
    }

    pub fn release_status(&self, release: &Release) -> ReleaseStatus {
        match release.phase {
            Phase::Pending if !release.id.is_hotfix() => ReleaseStatus::Planned,
            Phase::Pending if release.standing_rejections().next().is_some() => {
                ReleaseStatus::Rejected
            }
            Phase::Pending => {
                let checks = self.checklist(release);
                if !checks.is_empty()
                    && checks
                        .iter()
                        .all(|c| matches!(c, RoleCheck::Approved { .. }))
                {
                    ReleaseStatus::Approved
                } else {
                    ReleaseStatus::AwaitingApproval
                }
            }
            Phase::Deploying => ReleaseStatus::Deploying,
            Phase::Deployed => ReleaseStatus::Deployed,
            Phase::Verified => ReleaseStatus::Verified,
            Phase::Closed => ReleaseStatus::Closed,
            Phase::RolledBack => ReleaseStatus::RolledBack,
            Phase::Cancelled => ReleaseStatus::Cancelled,
        }
    }

    /// Hotfixes in flight, most urgent first: they hold back every regular release.
    pub fn hotfixes_in_flight(&self) -> Vec<&Release> {
        let mut list: Vec<&Release> = self
            .releases
            .values()
            .filter(|r| r.id.is_hotfix() && r.phase.is_in_flight())
            .collect();
        list.sort_by_key(|r| (self.release_severity(r), r.created_at, r.id));
        list
    }

    /// The release queue: unfinished hotfixes by severity then age, then unfinished regular
    /// releases by plan; `all` appends the finished ones, newest first (all of them: the
    /// caller loads the archive first, see [`super::archive`]).
    pub fn release_queue(&self, all: bool) -> Vec<&Release> {
        self.release_queue_since(all.then_some(DateTime::<Utc>::MIN_UTC))
    }

    /// The queue as the cockpit shows it: unfinished releases, then those finished in the
    /// last [`super::archive::RECENT_DAYS`] before the newest event, newest first. The active
    /// part of a checkpoint holds every one of them, so this needs no archive.
    pub fn release_queue_recent(&self) -> Vec<&Release> {
        self.release_queue_since(Some(
            self.recent_since().unwrap_or(DateTime::<Utc>::MIN_UTC),
        ))
    }

    /// The unfinished releases, then those finished at or after `since`, newest first.
    fn release_queue_since(&self, since: Option<DateTime<Utc>>) -> Vec<&Release> {
        let mut open: Vec<&Release> = self
            .releases
            .values()
            .filter(|r| !r.phase.is_finished())
            .collect();
        open.sort_by_key(|r| {
            let hotfix_key = if r.id.is_hotfix() {
                self.release_severity(r)
            } else {
                None
            };
            (
                !r.id.is_hotfix(),
                hotfix_key,
                r.planned_at.unwrap_or(DateTime::<Utc>::MAX_UTC),
                r.created_at,
                r.id,
            )
        });
        if let Some(since) = since {
            let mut done: Vec<&Release> = self
                .releases
                .values()
                .filter(|r| r.finished_at().is_some_and(|at| at >= since))
                .collect();
            done.sort_by_key(|r| std::cmp::Reverse(r.created_at));
            open.extend(done);
        }
        open
    }

    /// The hotfix that holds back this regular release, if any.
    pub fn held_back_by(&self, release: &Release) -> Option<ReleaseId> {
        if release.id.is_hotfix() || release.phase != Phase::Pending {
            return None;
        }
        self.hotfixes_in_flight().first().map(|r| r.id)
    }
}
