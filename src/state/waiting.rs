//! What waits on one person: approvals they could give now, and tests they own that are not done.

use super::kinds::{ReleaseId, TestStatus};
use super::release::{Phase, RoleCheck};
use super::{Model, TestCase};

#[derive(Debug, Default)]
pub struct Waiting<'m> {
    /// (release, role) pairs the user could approve now.
    pub approvals: Vec<(ReleaseId, String)>,
    /// Tests the user owns that have not passed and are not waived.
    pub tests: Vec<(ReleaseId, &'m TestCase)>,
}

impl Model {
    pub fn waiting_on(&self, user: &str) -> Waiting<'_> {
        let mut waiting = Waiting::default();
        for release in self.release_queue(false) {
            if release.phase == Phase::Pending
                && release.id.is_hotfix()
                && release.author != user
                && release.standing_rejections().next().is_none()
            {
                let checks = self.checklist(release);
                let fills_other = |role: &str| {
                    checks.iter().any(|c| match c {
                        RoleCheck::Approved { approval, .. }
                        | RoleCheck::Stale { approval, .. } => {
                            approval.approver == user && approval.role != role
                        }
                        _ => false,
                    })
                };
                for check in &checks {
                    let open = matches!(check, RoleCheck::Waiting { .. } | RoleCheck::Stale { .. });
                    if open && self.holds(user, check.role()) && !fills_other(check.role()) {
                        waiting
                            .approvals
                            .push((release.id, check.role().to_string()));
                    }
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
        }
        waiting
    }
}
