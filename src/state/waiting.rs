//! What waits on one person: every step of the process they could take now. One function
//! serves `hotfix waiting` and the cockpit's header, so the two never disagree.

use super::approval::Vote;
use super::kinds::{Decision, IncidentId, IncidentStatus, ReleaseId, TestStatus};
use super::release::Phase;
use super::{Model, TestCase};

#[derive(Debug, Default)]
pub struct Waiting<'m> {
    /// (release, role) pairs the user could approve now.
    pub approvals: Vec<(ReleaseId, String)>,
    /// Tests the user owns that have not passed and are not waived.
    pub tests: Vec<(ReleaseId, &'m TestCase)>,
    /// The other steps that wait on the user, in the process's order.
    pub steps: Vec<Step>,
}

/// A step of the process that waits on someone, with what moves it on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// An open incident to qualify (the qualifier role).
    Qualify(IncidentId),
    /// A qualified incident without a hotfix (its reporter and qualifier).
    WriteHotfix(IncidentId),
    /// A gate that is open (the release's author).
    Deploy(ReleaseId),
    /// A deploy under way to mark done (who started it).
    MarkDeployed(ReleaseId),
    /// A deployed release to verify in production (who deployed it, and the author).
    Verify(ReleaseId),
    /// A verified release to close (the author, and who verified it).
    Close(ReleaseId),
    /// A role no one can give on a release (an admin grants it to someone who can).
    Unblock(ReleaseId, String),
    /// The notice for the release's stage, not yet sent to the operations team (its author).
    Notify(ReleaseId, super::Stage),
    /// A post-incident review the policy wants, for an incident whose fix is out or that is
    /// resolved (its qualifier, and the authors of its hotfixes).
    Review(IncidentId),
    /// An approval a break-glass deploy went without, owed by `due` (the role's holders).
    Owed {
        release: ReleaseId,
        role: String,
        due: chrono::DateTime<chrono::Utc>,
        overdue: bool,
    },
    /// A review's action item (1-based) past its due date and not done (its owner).
    Action {
        incident: IncidentId,
        item: usize,
        what: String,
        due: chrono::NaiveDate,
    },
}

impl Step {
    /// The step in words, and the command that takes it.
    pub fn describe(&self) -> (String, String) {
        match self {
            Step::Qualify(id) => (
                format!("qualify {id}"),
                format!(
                    "hotfix incident qualify {id} --decision hotfix|regular-release|no-action ..."
                ),
            ),
            Step::WriteHotfix(id) => (
                format!("write the hotfix for {id}"),
                format!("hotfix release new --incident {id} --version ... --summary ..."),
            ),
            Step::Deploy(id) => (
                format!("deploy {id} (its gate is READY)"),
                format!("hotfix release deploy {id}"),
            ),
            Step::MarkDeployed(id) => (
                format!("mark {id} deployed"),
                format!("hotfix release deployed {id}"),
            ),
            Step::Verify(id) => (
                format!("verify {id} in production"),
                format!("hotfix release verify {id} --note ..."),
            ),
            Step::Close(id) => (format!("close {id}"), format!("hotfix release close {id}")),
            Step::Notify(id, stage) => (
                format!("send the {stage} notice for {id}"),
                format!("hotfix notify {id} --stage {stage} --audience ops"),
            ),
            Step::Owed {
                release,
                role,
                due,
                overdue,
            } => (
                format!(
                    "give the {role} approval {release} deployed without (break-glass), {} {}",
                    if *overdue { "OVERDUE since" } else { "owed by" },
                    crate::present::stamp(*due)
                ),
                format!("hotfix approve {release} --role {role}"),
            ),
            Step::Review(id) => (
                format!("write the post-incident review of {id}"),
                format!("hotfix review {id} --summary ... --root-cause ... --action ..."),
            ),
            Step::Action {
                incident,
                item,
                what,
                due,
            } => (
                format!(
                    "action {item} of {incident}'s review was due {due}: {}",
                    crate::sanitize::line(what)
                ),
                format!("hotfix review {incident} --done {item}"),
            ),
            Step::Unblock(id, role) => (
                format!("grant {role} to someone who can approve {id}: no one can now"),
                format!("hotfix user grant USER {role}"),
            ),
        }
    }
}

impl Model {
    /// Everything that waits on `user` at `now`: which action items are overdue, and whether
    /// a freeze holds a deploy, depend on it.
    pub fn waiting_on(&self, user: &str, now: chrono::DateTime<chrono::Utc>) -> Waiting<'_> {
        let today = now.date_naive();
        let mut waiting = Waiting::default();
        // The learning after an incident: reviews due, and action items past their date. An
        // incident with either is never archived (see `Model::archivable`), so this is whole.
        for incident in self.incidents.values() {
            let id = incident.id;
            let fixed = incident.status == IncidentStatus::Resolved
                || incident.fix_that_stayed(self).is_some();
            let concerned = incident
                .qualification
                .as_ref()
                .is_some_and(|q| q.by == user)
                || self.hotfixes_for(id).any(|r| r.author == user);
            if fixed && concerned && incident.review_due(self) {
                waiting.steps.push(Step::Review(id));
            }
            if let Some(review) = &incident.review {
                for o in review.overdue(id, today) {
                    if o.owner == user {
                        waiting.steps.push(Step::Action {
                            incident: id,
                            item: o.item,
                            what: o.what,
                            due: o.due,
                        });
                    }
                }
            }
        }
        for incident in self.incident_queue(false) {
            let id = incident.id;
            match (&incident.status, &incident.qualification) {
                (IncidentStatus::Open, _) if self.may_qualify(user, id).is_ok() => {
                    waiting.steps.push(Step::Qualify(id));
                }
                (IncidentStatus::Qualified, Some(q))
                    if q.decision == Decision::Hotfix
                        && (q.by == user || incident.reported_by == user)
                        && self.unfinished_hotfixes_for(id).next().is_none()
                        && self.hotfixable(id).is_ok() =>
                {
                    waiting.steps.push(Step::WriteHotfix(id));
                }
                _ => {}
            }
        }
        // Approvals owed after break-glass deploys, to those who may give them.
        for release in self.releases.values().filter(|r| !r.owed.is_empty()) {
            for debt in self.debts(release).into_iter().filter(|d| d.paid.is_none()) {
                if self.may_approve(release, user, &debt.role, now).is_ok() {
                    waiting.steps.push(Step::Owed {
                        release: release.id,
                        role: debt.role,
                        due: debt.due,
                        overdue: now > debt.due,
                    });
                }
            }
        }
        for release in self.release_queue(false) {
            // Before the deploy (after it, an approval still owed is its own step, above).
            if release.phase == Phase::Pending {
                for role in self.open_roles(release, user, Vote::Approve, now) {
                    waiting.approvals.push((release.id, role));
                }
            }
            if !release.phase.is_finished() {
                for test in release.tests_by_priority() {
                    if test.owner.as_deref() == Some(user)
                        && test.status != TestStatus::Passed
                        && test.waiver.is_none()
                    {
                        waiting.tests.push((release.id, test));
                    }
                }
            }
            let author = release.author == user;
            let by = |phase: Phase| release.milestone(phase).is_some_and(|m| m.by == user);
            let step = match release.phase {
                Phase::Pending
                    if author && self.gate_at(release.id, now).is_ok_and(|g| g.ready) =>
                {
                    Some(Step::Deploy(release.id))
                }
                Phase::Deploying if by(Phase::Deploying) => Some(Step::MarkDeployed(release.id)),
                Phase::Deployed if author || by(Phase::Deployed) => Some(Step::Verify(release.id)),
                // A close the review must come before is the review's step, not this one.
                Phase::Verified
                    if (author || by(Phase::Verified)) && !self.review_before_close(release) =>
                {
                    Some(Step::Close(release.id))
                }
                _ => None,
            };
            waiting.steps.extend(step);
            // Keeping people informed: the author sends the notice each stage is due.
            if author
                && let Some(stage) = release.phase.notice_stage()
                && !release.notices.iter().any(|n| {
                    n.stage == stage && n.audience == super::Audience::Ops && n.error.is_none()
                })
            {
                waiting.steps.push(Step::Notify(release.id, stage));
            }
            // A deadlock only an admin can break.
            if release.phase == Phase::Pending && self.holds(user, super::policy::ADMIN_ROLE) {
                for check in self.checklist(release) {
                    if let super::RoleCheck::Waiting { role } = check
                        && self.nobody_can_give(release, &role).is_some()
                    {
                        waiting.steps.push(Step::Unblock(release.id, role));
                    }
                }
            }
        }
        waiting
    }
}
