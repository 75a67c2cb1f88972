//! What waits on one person: approvals they could give now, and tests they own that are not done.

use super::approval::Vote;
use super::kinds::{ReleaseId, TestStatus};
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
            for role in self.open_roles(release, user, Vote::Approve) {
                waiting.approvals.push((release.id, role));
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
