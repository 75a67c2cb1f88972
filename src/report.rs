//! The record of a hotfix for people who were not there: the problem, the qualification, the
//! change, the approvals, the tests with their evidence, the notices, the timeline and whether the
//! policy's target was met. Built purely from the model; rendered as Markdown or JSON
//! (schema: `assets/report.schema.json`), and as a Keep a Changelog entry.

pub mod changelog;
mod markdown;

pub use markdown::markdown;

use crate::present::span;
use crate::state::{Model, Phase, Priority, Rejection, ReleaseId, RoleCheck, TestStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;

pub const SCHEMA: &str = "hotfix-report/1";

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub generated_at: DateTime<Utc>,
    pub release: ReleaseFacts,
    pub incidents: Vec<IncidentFacts>,
    pub approvals: Vec<ApprovalFacts>,
    pub rejections: Vec<RejectionFacts>,
    pub tests: Vec<PriorityGroup>,
    pub deferred: Vec<String>,
    pub notices: Vec<NoticeFacts>,
    /// Approvals withdrawn and tests removed, each with who, when and why.
    pub corrections: Vec<crate::state::release::Correction>,
    pub timeline: Vec<Step>,
    pub target: Option<TargetFacts>,
    /// The hotfix's stages as durations, for charts and statistics (see `state::insights`).
    pub durations: Durations,
    pub gate: GateFacts,
    /// Who broke the glass and why, and the approvals owed since (see `state::glass`).
    pub break_glass: Vec<crate::state::glass::GlassBreak>,
    pub owed: Vec<OwedFacts>,
    /// The log's newest event when the report was made: a witness outside the store, which
    /// `hotfix verify --witness SEQ:HASH` checks later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<crate::store::Head>,
}

impl Report {
    /// The report naming the log's head at this moment.
    pub fn witnessed(mut self, head: crate::store::Head) -> Report {
        self.log = Some(head);
        self
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ReleaseFacts {
    pub id: ReleaseId,
    pub kind: &'static str,
    pub status: String,
    pub severity: Option<crate::state::Severity>,
    pub version: String,
    pub summary: String,
    pub changes: String,
    pub risks: String,
    pub rollback: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub revision: u32,
    pub fingerprint: String,
    pub required_roles: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct IncidentFacts {
    pub id: crate::state::IncidentId,
    pub title: String,
    pub severity: crate::state::Severity,
    pub status: String,
    pub services: Vec<String>,
    pub impact: String,
    pub reported_at: DateTime<Utc>,
    pub reported_by: String,
    pub source: Option<String>,
    pub qualification: Option<crate::state::Qualification>,
    pub severity_changes: Vec<crate::state::incident::SeverityChange>,
    /// What end users are told about it (empty: nothing written).
    pub public: String,
    /// When customer impact began and ended, as recorded, and how long it lasted in seconds
    /// (the time to restore, from the customers' side).
    pub impact_since: Option<DateTime<Utc>>,
    pub impact_until: Option<DateTime<Utc>>,
    pub impact_seconds: Option<i64>,
    /// The post-incident review, or the qualifier's waiver of it, and whether one is still due.
    pub review: Option<crate::state::review::Review>,
    pub review_waiver: Option<crate::state::review::ReviewWaiver>,
    pub review_due: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct OwedFacts {
    pub role: String,
    pub due: DateTime<Utc>,
    pub paid_by: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ApprovalFacts {
    pub role: String,
    pub approver: String,
    pub at: DateTime<Utc>,
    pub comment: String,
    pub revision: u32,
    pub fingerprint: String,
    /// Given to an older revision of the scope: shown, not counted.
    pub stale: bool,
    /// The latest approval for its role, which the gate counts (if not stale).
    pub counts: bool,
    /// Its giver no longer holds the role (before deploying): shown, not counted.
    pub revoked: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct RejectionFacts {
    pub role: String,
    pub by: String,
    pub at: DateTime<Utc>,
    pub reason: String,
    /// Against the current revision: it still blocks.
    pub standing: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct PriorityGroup {
    pub priority: Priority,
    pub passed: usize,
    pub waived: usize,
    pub total: usize,
    pub tests: Vec<crate::state::TestCase>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NoticeFacts {
    pub stage: crate::state::Stage,
    pub audience: crate::state::Audience,
    pub channel: String,
    pub by: String,
    pub at: DateTime<Utc>,
    pub sent: bool,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub at: DateTime<Utc>,
    pub what: String,
    pub by: String,
    /// Seconds since the first incident was reported.
    pub since_report_seconds: i64,
    pub since_report: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct TargetFacts {
    pub severity: crate::state::Severity,
    pub hours: u32,
    pub deadline: DateTime<Utc>,
    /// This hotfix's own deploy, and its rollback if it was rolled back.
    pub deployed_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolled_back_at: Option<DateTime<Utc>>,
    /// Whether this hotfix's deploy met the target: `None` while not deployed yet, `false` when
    /// it was rolled back (a deploy that did not stay fixed nothing).
    pub met: Option<bool>,
    /// The incident's fix that stayed, when it is another hotfix's deploy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_by: Option<FixFacts>,
}

/// Another hotfix's deploy that fixed the incident and stayed.
#[derive(Clone, Debug, Serialize)]
pub struct FixFacts {
    pub release: ReleaseId,
    pub deployed_at: DateTime<Utc>,
    pub met: bool,
}

/// Seconds from the first report of its incidents to each stage (`null` until reached), each
/// role's wait for the approval that counts, and the target.
#[derive(Clone, Debug, Serialize)]
pub struct Durations {
    pub reported_at: Option<DateTime<Utc>>,
    pub to_qualified_seconds: Option<i64>,
    pub to_approved_seconds: Option<i64>,
    pub to_gate_ready_seconds: Option<i64>,
    pub to_deployed_seconds: Option<i64>,
    pub to_verified_seconds: Option<i64>,
    pub target_seconds: Option<i64>,
    pub breached: bool,
    pub approval_waits: Vec<WaitFacts>,
    /// A deploy that did not stay: when it went out and when it was rolled back. (The stages
    /// above count only a deploy that stayed.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolled_back: Option<RolledBackFacts>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RolledBackFacts {
    pub deployed_seconds: Option<i64>,
    pub rolled_back_seconds: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct WaitFacts {
    pub role: String,
    pub approver: String,
    /// When the revision it approved was put up for approval.
    pub asked_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
    pub seconds: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct GateFacts {
    pub ready: bool,
    pub blockers: Vec<String>,
}

/// A milestone in the timeline's words.
fn milestone_words(m: &crate::state::release::Milestone) -> String {
    let reason = || m.reason.clone().unwrap_or_default();
    match m.phase {
        Phase::Pending => "created".into(),
        Phase::Deploying => match &m.reason {
            Some(why) => format!("deploy started ({why})"),
            None => "deploy started".into(),
        },
        Phase::Deployed => "deployed".into(),
        Phase::Verified => match &m.reason {
            Some(note) => format!("verified in production: {note}"),
            None => "verified in production".into(),
        },
        Phase::Closed => "closed".into(),
        Phase::RolledBack => format!("rolled back: {}", reason()),
        Phase::Cancelled => format!("cancelled: {}", reason()),
    }
}

/// Builds the report of `id` as the model stands at `now`.
pub fn build(model: &Model, id: ReleaseId, now: DateTime<Utc>) -> Result<Report, Rejection> {
    let r = model.release(id)?;
    let incidents: Vec<&crate::state::Incident> = model.incidents_of(r).collect();
    let first_report = incidents
        .iter()
        .map(|i| i.reported_at)
        .min()
        .unwrap_or(r.created_at);
    // Before the report (customer impact often is) reads as minus.
    let since = |at: DateTime<Utc>| {
        let d = at - first_report;
        let sign = if d < chrono::Duration::zero() {
            "-"
        } else {
            ""
        };
        (d, format!("{sign}{}", span(d)))
    };

    let mut timeline: Vec<(DateTime<Utc>, String, String)> = Vec::new();
    for i in &incidents {
        timeline.push((
            i.reported_at,
            format!("{} reported ({})", i.id, i.severity),
            i.reported_by.to_string(),
        ));
        for c in &i.severity_changes {
            timeline.push((
                c.at,
                format!("{} severity {} -> {}", i.id, c.from, c.to),
                c.by.to_string(),
            ));
        }
        if let Some(q) = &i.qualification {
            timeline.push((
                q.at,
                format!("{} qualified: {} (risk {})", i.id, q.decision, q.risk),
                q.by.to_string(),
            ));
        }
    }
    for m in &r.milestones {
        let what = match m.phase {
            Phase::Pending => format!("{id} created"),
            _ => milestone_words(m),
        };
        timeline.push((m.at, what, m.by.to_string()));
    }
    for e in &r.edits {
        timeline.push((
            e.at,
            format!(
                "scope edited (revision {}, changed {}): earlier approvals are stale",
                e.revision,
                e.changed.join(", ")
            ),
            e.by.to_string(),
        ));
    }
    for a in &r.approvals {
        timeline.push((a.at, format!("approved as {}", a.role), a.by()));
    }
    for x in &r.rejections {
        timeline.push((x.at, format!("rejected as {}", x.role), x.by.to_string()));
    }
    // Approvals that waited past their deadline: who was reminded, asked or paged.
    for e in &r.escalations {
        let to = if e.to.is_empty() {
            String::new()
        } else {
            format!(
                " to {}",
                e.to.iter()
                    .map(|u| u.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let failed = e
            .failed
            .as_ref()
            .map(|f| format!(" (not sent: {})", f.error))
            .unwrap_or_default();
        let what = match e.step {
            crate::state::escalation::Step::Resolve => {
                format!(
                    "{} page resolved: the approval no longer waits{failed}",
                    e.role
                )
            }
            _ => format!("{} approval overdue: {}{to}{failed}", e.role, e.step),
        };
        timeline.push((e.at, what, e.by.to_string()));
    }
    for n in &r.notices {
        let result = if n.error.is_some() { "failed" } else { "sent" };
        timeline.push((
            n.at,
            format!("{} notice to {} {result}", n.stage, n.audience),
            n.by.to_string(),
        ));
    }
    // The tests as they ended (the log keeps each step; the record keeps the last), and waivers.
    for t in &r.tests {
        if t.status != crate::state::TestStatus::Pending {
            timeline.push((
                t.updated_at,
                format!("{} test {}: {}", t.priority, t.name, t.status),
                t.updated_by.to_string(),
            ));
        }
        if let Some(w) = &t.waiver {
            timeline.push((
                w.at,
                format!("{} test {} waived: {}", t.priority, t.name, w.reason),
                w.by.to_string(),
            ));
        }
    }
    // One incident, one story: the other hotfixes for its incidents (earlier attempts and
    // their rollbacks, the fix that stayed), and how each incident ended.
    let mut others: Vec<&crate::state::Release> = incidents
        .iter()
        .flat_map(|i| model.hotfixes_for(i.id))
        .filter(|h| h.id != id)
        .collect();
    others.sort_by_key(|h| h.id);
    others.dedup_by_key(|h| h.id);
    for h in others {
        for m in &h.milestones {
            let what = milestone_words(m);
            timeline.push((m.at, format!("{} {what}", h.id), m.by.to_string()));
        }
    }
    for i in &incidents {
        if let Some(res) = &i.resolution {
            let by = res
                .release
                .map(|r| format!(" (closing {r})"))
                .unwrap_or_default();
            let note = if res.note.is_empty() {
                String::new()
            } else {
                format!(": {}", res.note)
            };
            timeline.push((
                res.at,
                format!("{} resolved{by}{note}", i.id),
                res.by.to_string(),
            ));
        }
    }
    // The customers' side, and what was learned afterwards.
    for i in &incidents {
        for n in &i.notices {
            let result = if n.error.is_some() { "failed" } else { "sent" };
            timeline.push((
                n.at,
                format!("{} {} notice to {} {result}", i.id, n.stage, n.audience),
                n.by.to_string(),
            ));
        }
        if let Some(at) = i.impact_since {
            timeline.push((at, format!("{} customer impact began", i.id), String::new()));
        }
        if let Some(at) = i.impact_until {
            timeline.push((at, format!("{} customer impact ended", i.id), String::new()));
        }
        if let Some(rv) = &i.review {
            timeline.push((
                rv.at,
                format!(
                    "{} post-incident review recorded (revision {})",
                    i.id, rv.revision
                ),
                rv.by.to_string(),
            ));
            for (a, done) in rv.text.actions.iter().zip(&rv.done) {
                if let Some(d) = done {
                    timeline.push((
                        d.at,
                        format!("{} review action done: {}", i.id, a.what),
                        d.by.to_string(),
                    ));
                }
            }
        }
        if let Some(w) = &i.review_waiver {
            timeline.push((
                w.at,
                format!("{} post-incident review waived: {}", i.id, w.reason),
                w.by.to_string(),
            ));
        }
    }
    // Stable: at one instant, the order the rows were written in (cause before effect).
    timeline.sort_by_key(|(at, _, _)| *at);

    let checks = model.checklist(r);
    let approvals_that = |wanted: fn(&RoleCheck) -> Option<&crate::state::Approval>| {
        checks
            .iter()
            .filter_map(wanted)
            .map(|a| (a.role.as_str(), a.approver.as_str(), a.at))
            .collect::<Vec<(&str, &str, DateTime<Utc>)>>()
    };
    let counted = approvals_that(|c| match c {
        RoleCheck::Approved { approval, .. } => Some(approval),
        _ => None,
    });
    let revoked = approvals_that(|c| match c {
        RoleCheck::Revoked { approval, .. } => Some(approval),
        _ => None,
    });

    let tests = Priority::ALL
        .iter()
        .filter_map(|p| {
            let list: Vec<crate::state::TestCase> = r
                .tests_by_priority()
                .into_iter()
                .filter(|t| t.priority == *p)
                .cloned()
                .collect();
            (!list.is_empty()).then(|| PriorityGroup {
                priority: *p,
                passed: list
                    .iter()
                    .filter(|t| t.status == TestStatus::Passed)
                    .count(),
                waived: list
                    .iter()
                    .filter(|t| t.waiver.is_some() && t.status != TestStatus::Passed)
                    .count(),
                total: list.len(),
                tests: list,
            })
        })
        .collect();
    let gate = model.gate(id)?;
    let severity = model.release_severity(r);
    let target = incidents
        .iter()
        .min_by_key(|i| (i.severity, i.reported_at))
        .and_then(|i| {
            let hours = *model.policy.target_hours.get(&i.severity)?;
            let deadline = i.deadline(model)?;
            // This hotfix's own deploy counts only if it stayed; the incident's fix that
            // stayed is named when it is another hotfix's.
            let deployed_at = r.milestone(Phase::Deployed).map(|m| m.at);
            let rolled_back_at = r.milestone(Phase::RolledBack).map(|m| m.at);
            let met = match (deployed_at, rolled_back_at) {
                (Some(_), Some(_)) => Some(false),
                (Some(at), None) => Some(at <= deadline),
                (None, _) => None,
            };
            let fixed_by =
                i.fix_that_stayed(model)
                    .filter(|(by, _)| *by != r.id)
                    .map(|(by, at)| FixFacts {
                        release: by,
                        deployed_at: at,
                        met: at <= deadline,
                    });
            Some(TargetFacts {
                severity: i.severity,
                hours,
                deadline,
                deployed_at,
                rolled_back_at,
                met,
                fixed_by,
            })
        });

    let facts = crate::state::insights::Facts::of(model, r);
    let journey = crate::state::insights::journey(&facts, &model.policy, now);
    let durations = Durations {
        reported_at: facts.reported,
        to_qualified_seconds: journey.stages[0],
        to_approved_seconds: journey.stages[1],
        to_gate_ready_seconds: journey.stages[2],
        to_deployed_seconds: journey.stages[3],
        to_verified_seconds: journey.stages[4],
        target_seconds: journey.target,
        breached: journey.breached,
        approval_waits: facts
            .approvals
            .iter()
            .map(|w| WaitFacts {
                role: w.role.to_string(),
                approver: w.approver.to_string(),
                asked_at: w.asked,
                at: w.at,
                seconds: (w.at - w.asked).num_seconds(),
            })
            .collect(),
        rolled_back: facts
            .reported
            .zip(facts.rolled_back)
            .map(|(reported, back)| RolledBackFacts {
                deployed_seconds: facts.deployed.map(|d| (d - reported).num_seconds()),
                rolled_back_seconds: (back - reported).num_seconds(),
            }),
    };

    // When the gate opened (the last approval and test it needed), and long silences: a gap
    // between steps of over a tenth of the target is named where it ends.
    if let (Some(reported), Some(gate)) = (durations.reported_at, durations.to_gate_ready_seconds) {
        timeline.push((
            reported + chrono::Duration::seconds(gate),
            "gate open: every approval and test it needs".into(),
            String::new(),
        ));
        timeline.sort_by_key(|(at, _, _)| *at);
    }
    if let Some(target) = durations.target_seconds {
        let mut gaps = Vec::new();
        // Only while the hotfix was under way: after it finished (a review days later, an
        // action item done) nothing was waiting.
        let finished = r.finished_at();
        for pair in timeline.windows(2) {
            let gap = (pair[1].0 - pair[0].0).num_seconds();
            if gap * 10 > target && finished.is_none_or(|f| pair[1].0 <= f) {
                gaps.push((
                    pair[1].0,
                    format!(
                        "waited {} since the step before (over a tenth of the {} target)",
                        span(pair[1].0 - pair[0].0),
                        span(chrono::Duration::seconds(target))
                    ),
                    String::new(),
                ));
            }
        }
        timeline.extend(gaps);
        // Stable: a gap's row comes before the step that ended it.
        timeline.sort_by_key(|(at, what, _)| (*at, !what.starts_with("waited ")));
    }
    Ok(Report {
        schema: SCHEMA,
        generated_at: now,
        durations,
        release: ReleaseFacts {
            id,
            kind: if id.is_hotfix() { "hotfix" } else { "regular" },
            status: model.release_status(r).to_string(),
            severity,
            version: r.scope.version.clone(),
            summary: r.scope.summary.clone(),
            changes: r.scope.changes.clone(),
            risks: r.scope.risks.clone(),
            rollback: r.scope.rollback.clone(),
            author: r.author.to_string(),
            created_at: r.created_at,
            revision: r.revision,
            fingerprint: r.scope.fingerprint(),
            required_roles: model.required_roles(r),
        },
        incidents: incidents
            .iter()
            .map(|i| IncidentFacts {
                id: i.id,
                title: i.title.clone(),
                severity: i.severity,
                status: i.status.to_string(),
                services: i.services.iter().map(ToString::to_string).collect(),
                impact: i.impact.clone(),
                reported_at: i.reported_at,
                reported_by: i.reported_by.to_string(),
                source: i.source.clone(),
                qualification: i.qualification.clone(),
                severity_changes: i.severity_changes.clone(),
                public: i.public.clone(),
                impact_since: i.impact_since,
                impact_until: i.impact_until,
                impact_seconds: i
                    .impact_since
                    .zip(i.impact_until)
                    .map(|(s, u)| (u - s).num_seconds()),
                review: i.review.clone(),
                review_waiver: i.review_waiver.clone(),
                review_due: i.review_due(model),
            })
            .collect(),
        approvals: r
            .approvals
            .iter()
            .map(|a| ApprovalFacts {
                role: a.role.to_string(),
                approver: a.by(),
                at: a.at,
                comment: a.comment.clone(),
                revision: a.revision,
                fingerprint: a.fingerprint.to_string(),
                stale: !r.is_current(a),
                counts: counted.contains(&(a.role.as_str(), a.approver.as_str(), a.at)),
                revoked: revoked.contains(&(a.role.as_str(), a.approver.as_str(), a.at)),
            })
            .collect(),
        rejections: r
            .rejections
            .iter()
            .map(|x| RejectionFacts {
                role: x.role.to_string(),
                by: x.by.to_string(),
                at: x.at,
                reason: x.reason.clone(),
                standing: x.revision == r.revision,
            })
            .collect(),
        tests,
        deferred: gate.deferred.clone(),
        // The incidents' own (investigating) notices first: they came before the hotfix's.
        notices: incidents
            .iter()
            .flat_map(|i| &i.notices)
            .chain(&r.notices)
            .map(|n| NoticeFacts {
                stage: n.stage,
                audience: n.audience,
                channel: n.channel.to_string(),
                by: n.by.to_string(),
                at: n.at,
                sent: n.error.is_none(),
                error: n.error.clone(),
            })
            .collect(),
        corrections: r.corrections.clone(),
        break_glass: r.break_glass.clone(),
        owed: model
            .debts(r)
            .into_iter()
            .map(|d| OwedFacts {
                role: d.role,
                due: d.due,
                paid_by: d.paid.as_ref().map(|(by, _)| by.to_string()),
                paid_at: d.paid.map(|(_, at)| at),
            })
            .collect(),
        timeline: timeline
            .into_iter()
            .map(|(at, what, by)| {
                let (d, text) = since(at);
                Step {
                    at,
                    what,
                    by,
                    since_report_seconds: d.num_seconds(),
                    since_report: text,
                }
            })
            .collect(),
        target,
        gate: GateFacts {
            ready: gate.ready,
            blockers: gate.blockers,
        },
        log: None,
    })
}
