//! The release gate: exactly what stands between a release and its deploy, in plain words.

use super::kinds::{Priority, ReleaseId, TestStatus};
use super::release::{Phase, RoleCheck};
use super::{Model, Rejection};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gate {
    pub id: ReleaseId,
    pub ready: bool,
    /// Every reason the deploy is refused; empty when ready.
    pub blockers: Vec<String>,
    /// Medium and low tests not passed that do not block (not run yet, or waived; failed ones
    /// too under rules 1, see `Policy::rules`): reported.
    pub deferred: Vec<String>,
    /// The freeze in force when the gate was judged at a time (see [`Model::gate_at`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freeze: Option<String>,
}

impl Model {
    /// [`Model::gate`] at `now`, with the deploy freeze in force: it blocks a regular release,
    /// and a hotfix deploys through it as the exemption it is (said, not blocked).
    pub fn gate_at(
        &self,
        id: ReleaseId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Gate, Rejection> {
        let mut gate = self.gate(id)?;
        let release = self.release(id)?;
        if release.phase == Phase::Pending
            && let Some(w) = self.frozen_for(release, now)
        {
            if id.is_hotfix() {
                gate.freeze = Some(format!(
                    "the {} holds deploys until {}; {id} is a hotfix and deploys through it, recorded as exempted",
                    w.name,
                    w.until()
                ));
            } else {
                let why = format!("the {} holds deploys until {}", w.name, w.until());
                gate.freeze = Some(why.clone());
                gate.blockers.push(why);
                gate.ready = false;
            }
        }
        Ok(gate)
    }

    /// Judges whether `id` may start deploying now, and lists every blocker.
    pub fn gate(&self, id: ReleaseId) -> Result<Gate, Rejection> {
        let release = self.release(id)?;
        let mut blockers = Vec::new();
        let mut deferred = Vec::new();
        let show = |s: &str| crate::sanitize::line(s).into_owned();

        if release.phase != Phase::Pending {
            blockers.push(format!(
                "{id} is {}: deploying has already started or ended",
                self.release_status(release)
            ));
        }
        if id.is_hotfix() {
            match self.release_severity(release) {
                Some(sev) if self.policy.approvers_for(sev).is_none() && release.frozen.is_none() => blockers
                    .push(format!("{id} is now {sev}, which the policy does not allow a hotfix for: re-qualify or cancel it")),
                _ => {}
            }
            // Two holders of the qualifying role broke the glass: the missing approvals become
            // owed after the deploy instead of holding it (a rejection still holds it).
            let glass = release.glass_open();
            for check in self.checklist(release) {
                match check {
                    RoleCheck::Approved { .. } => {}
                    RoleCheck::Waiting { role }
                    | RoleCheck::Stale { role, .. }
                    | RoleCheck::Revoked { role, .. }
                        if glass =>
                    {
                        let by: Vec<&str> = release.break_glass.iter().map(|g| g.by.as_str()).collect();
                        deferred.push(format!(
                            "the {role} approval is owed after the deploy: the glass was broken by {}",
                            by.join(" and ")
                        ));
                    }
                    RoleCheck::Waiting { role } => blockers.push(match self.nobody_can_give(release, &role) {
                        Some(why) => format!("waiting for approval from {role}, and {why}"),
                        None => format!("waiting for approval from {role}"),
                    }),
                    RoleCheck::Stale { role, approval, current_revision } => blockers.push(format!(
                        "the {role} approval by {} is stale: it approved revision {} and the scope is now at revision {current_revision}",
                        approval.approver, approval.revision
                    )),
                    RoleCheck::Revoked { role, approval } => blockers.push(format!(
                        "the {role} approval by {} no longer counts: the {role} role was revoked from them since; someone who holds it must approve",
                        approval.approver
                    )),
                    RoleCheck::Rejected { role, rejection } => blockers.push(format!(
                        "rejected by {} ({role}): \"{}\"; edit the release to address it",
                        rejection.by,
                        show(&rejection.reason)
                    )),
                }
            }
            if !release
                .tests
                .iter()
                .any(|t| t.priority == Priority::Critical)
            {
                blockers.push("no critical test: add at least one critical test".into());
            }
        } else {
            if let Some(hf) = self.held_back_by(release) {
                let hotfix = self.release(hf)?;
                blockers.push(format!(
                    "hotfix {hf} is in flight ({}): hotfixes take precedence over regular releases",
                    self.release_status(hotfix)
                ));
            }
            // A regular release with code must carry every fix hotfixes took to production,
            // or it ships those bugs again (which fixes its history holds was found when its
            // commit was bound).
            if let Some(code) = &release.scope.code {
                for hf in self.releases.values().filter(|h| {
                    h.id.is_hotfix()
                        && matches!(h.phase, Phase::Deployed | Phase::Verified | Phase::Closed)
                        && !code.includes.contains(&h.id)
                }) {
                    if let Some(fix) = &hf.scope.code {
                        blockers.push(format!(
                            "{}'s fix ({}) is not in {id}'s commit {}: merge it, then bind the new commit with `hotfix release edit {id} --commit REV`",
                            hf.id,
                            fix.short(),
                            code.short()
                        ));
                    }
                }
            }
        }
        for test in release.tests_by_priority() {
            let waived = if test.waiver.is_some() {
                ", waived"
            } else {
                ""
            };
            if test.blocks(self.policy.failed_tests_block()) {
                let what = if test.priority == Priority::Critical {
                    "must pass"
                } else {
                    "must pass or be waived"
                };
                blockers.push(format!(
                    "{} test \"{}\" is {}: it {what}",
                    test.priority,
                    show(&test.name),
                    test.status
                ));
            } else if test.status != TestStatus::Passed && test.priority >= Priority::Medium {
                deferred.push(format!(
                    "{} test \"{}\" is {}{waived}",
                    test.priority,
                    show(&test.name),
                    test.status
                ));
            }
        }
        Ok(Gate {
            id,
            ready: blockers.is_empty(),
            blockers,
            deferred,
            freeze: None,
        })
    }
}
