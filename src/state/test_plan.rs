//! The test list of a release: critical tests first, each with an owner, a status and evidence.
//! Critical tests gate the deploy and can never be waived; high tests must pass or be waived.

use super::Name;
use super::kinds::{Priority, ReleaseId, TestStatus};
use super::text::{self, MAX_TEXT};
use super::{Ctx, Event, Model, Recorded, Rejection, Release, reject};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    pub name: Name,
    pub priority: Priority,
    pub automated: bool,
    pub owner: Option<Name>,
    pub status: TestStatus,
    pub note: String,
    pub waiver: Option<Waiver>,
    /// The last result passed only after a rerun.
    pub flaky: bool,
    #[serde(with = "super::stamp")]
    pub updated_at: DateTime<Utc>,
    pub updated_by: Name,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Waiver {
    pub by: Name,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
    pub reason: String,
}

impl TestCase {
    /// Whether this test stands in the way of the gate: critical unless passed, high unless
    /// passed or waived, and (with `failed_block`, see `Policy::rules`) medium and
    /// low while failed and not waived. Medium and low tests not yet run are deferred.
    pub fn blocks(&self, failed_block: bool) -> bool {
        let open = self.status != TestStatus::Passed && self.waiver.is_none();
        match self.priority {
            Priority::Critical => self.status != TestStatus::Passed,
            Priority::High => open,
            Priority::Medium | Priority::Low => {
                failed_block && open && self.status == TestStatus::Failed
            }
        }
    }

    /// Order within a priority: failing first, then what is still to do, passed last.
    fn urgency(&self) -> u8 {
        match self.status {
            TestStatus::Failed => 0,
            TestStatus::Running => 1,
            TestStatus::Pending => 2,
            TestStatus::Skipped => 3,
            TestStatus::Passed => 4,
        }
    }
}

impl Release {
    /// The test list as people work it: critical first, failing first within a priority.
    pub fn tests_by_priority(&self) -> Vec<&TestCase> {
        let mut list: Vec<&TestCase> = self.tests.iter().collect();
        list.sort_by(|a, b| {
            (a.priority, a.urgency(), &a.name).cmp(&(b.priority, b.urgency(), &b.name))
        });
        list
    }

    pub fn test(&self, name: &str) -> Result<&TestCase, Rejection> {
        self.tests.iter().find(|t| t.name == name).ok_or_else(|| {
            Rejection::new(format!(
                "{} has no test named \"{}\": see `hotfix test list {}`",
                self.id,
                crate::sanitize::line(name),
                self.id
            ))
        })
    }
}

fn open_release(model: &Model, id: ReleaseId) -> Result<&Release, Rejection> {
    let release = model.release(id)?;
    if release.phase.is_finished() {
        reject!(
            "{id} is {}: its tests can no longer change",
            model.release_status(release)
        );
    }
    Ok(release)
}

pub(crate) fn decide_add(
    ctx: &Ctx,
    id: ReleaseId,
    name: &str,
    priority: Priority,
    automated: bool,
    owner: Option<&str>,
) -> Result<Vec<Event>, Rejection> {
    let release = open_release(ctx.model, id)?;
    let name = text::required("test name", name, text::MAX_TEST_NAME)?;
    if release.tests.iter().any(|t| t.name == name) {
        reject!(
            "{id} already has a test named \"{}\"",
            crate::sanitize::line(&name)
        );
    }
    if release.tests.len() >= text::MAX_TESTS {
        reject!(
            "{id} already has {} tests, the most one release may list",
            text::MAX_TESTS
        );
    }
    let owner = owner.map(|o| text::check_name("owner", o)).transpose()?;
    if let Some(o) = &owner
        && ctx.model.policy.owners_known()
        && !ctx.model.users.contains_key(o)
    {
        reject!(
            "the owner \"{o}\" is not a user of this store: name one who holds a role (see `hotfix user list`), or none"
        );
    }
    Ok(vec![Event::TestAdded {
        id,
        name,
        priority,
        automated,
        owner,
    }])
}

pub(crate) fn decide_set(
    ctx: &Ctx,
    id: ReleaseId,
    name: &str,
    status: TestStatus,
    note: Option<&str>,
) -> Result<Vec<Event>, Rejection> {
    let release = open_release(ctx.model, id)?;
    let test = release.test(name)?;
    let note = note
        .map(|n| text::optional("note", n, MAX_TEXT))
        .transpose()?;
    if test.status == status && note.as_ref().is_none_or(|n| *n == test.note) {
        reject!(
            "\"{}\" is already {status}: nothing to change",
            crate::sanitize::line(name)
        );
    }
    Ok(vec![Event::TestStatusSet {
        id,
        name: test.name.to_string(),
        status,
        note,
        flaky: false,
    }])
}

/// Whether the actor holds one of the policy's waiver roles, which may `verb` tests.
fn waiver_role(ctx: &Ctx, verb: &str) -> Result<(), Rejection> {
    let roles = &ctx.model.policy.waiver_roles;
    if !roles.iter().any(|r| ctx.holds(r)) {
        reject!(
            "only {} may {verb} tests; {} holds none of these roles",
            roles.join(" or "),
            ctx.actor
        );
    }
    Ok(())
}

pub(crate) fn decide_waive(
    ctx: &Ctx,
    id: ReleaseId,
    name: &str,
    reason: &str,
) -> Result<Vec<Event>, Rejection> {
    let release = open_release(ctx.model, id)?;
    let test = release.test(name)?;
    let shown = crate::sanitize::line(name);
    if test.priority == Priority::Critical {
        reject!("\"{shown}\" is critical: critical tests can never be waived, they must pass");
    }
    waiver_role(ctx, "waive")?;
    if test.status == TestStatus::Passed {
        reject!("\"{shown}\" already passed: there is nothing to waive");
    }
    if let Some(w) = &test.waiver {
        reject!("\"{shown}\" was already waived by {}", w.by);
    }
    Ok(vec![Event::TestWaived {
        id,
        name: test.name.to_string(),
        reason: text::required("reason", reason, MAX_TEXT)?,
    }])
}

/// Takes a test off a release's list before deploying starts, with a reason. Who may waive
/// may remove (it is as much a judgement), and a critical test that failed stays: it must pass,
/// not disappear.
pub(crate) fn decide_remove(
    ctx: &Ctx,
    id: ReleaseId,
    name: &str,
    reason: &str,
) -> Result<Vec<Event>, Rejection> {
    let release = open_release(ctx.model, id)?;
    if release.phase != super::Phase::Pending {
        reject!(
            "{id} is {}: tests can be removed only before deploying starts",
            ctx.model.release_status(release)
        );
    }
    let test = release.test(name)?;
    let shown = crate::sanitize::line(name);
    waiver_role(ctx, "remove")?;
    if test.priority == Priority::Critical && test.status == TestStatus::Failed {
        reject!("\"{shown}\" is a critical test that failed: it must pass, it cannot be removed");
    }
    Ok(vec![Event::TestRemoved {
        id,
        name: test.name.to_string(),
        reason: text::required("reason", reason, MAX_TEXT)?,
    }])
}

/// A release's tests by name: a cache of positions in `Release::tests`, kept as tests are
/// added and rebuilt whenever it does not cover them all (a release read from a snapshot).
/// Never part of the state: it compares equal and is not serialised.
#[derive(Clone, Debug, Default)]
pub struct TestIndex {
    /// The first test of each name (as a scan from the start finds).
    by_name: std::collections::HashMap<Name, usize>,
    /// How many of the release's tests it covers.
    covered: usize,
}

impl PartialEq for TestIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Release {
    /// The position of the test named `name`, through the index.
    fn test_position(&mut self, name: &str) -> Option<usize> {
        let index = &mut self.test_index;
        if index.covered > self.tests.len() {
            *index = TestIndex::default();
        }
        for (i, t) in self.tests.iter().enumerate().skip(index.covered) {
            index.by_name.entry(t.name.clone()).or_insert(i);
        }
        index.covered = self.tests.len();
        index.by_name.get(name).copied()
    }

    fn test_mut(&mut self, name: &str) -> Option<&mut TestCase> {
        let at = self.test_position(name)?;
        self.tests.get_mut(at)
    }
}

pub(crate) fn apply(model: &mut Model, r: &Recorded) {
    let Some(release) = r.event.release().and_then(|id| model.releases.get_mut(&id)) else {
        return;
    };
    match &r.event {
        Event::TestRemoved { name, reason, .. } => {
            if let Some(at) = release.test_position(name) {
                release.tests.remove(at);
            }
            // Positions moved: the index starts again.
            release.test_index = TestIndex::default();
            release.corrections.push(super::release::Correction {
                what: format!("removed test {name}"),
                by: r.actor.as_str().into(),
                at: r.at,
                reason: reason.clone(),
            });
        }
        Event::TestAdded {
            name,
            priority,
            automated,
            owner,
            ..
        } => {
            release.tests.push(TestCase {
                name: name.as_str().into(),
                priority: *priority,
                automated: *automated,
                owner: owner.as_deref().map(Into::into),
                status: TestStatus::Pending,
                note: String::new(),
                waiver: None,
                flaky: false,
                updated_at: r.at,
                updated_by: r.actor.as_str().into(),
            });
        }
        Event::TestStatusSet {
            name,
            status,
            note,
            flaky,
            ..
        } => {
            if let Some(t) = release.test_mut(name) {
                t.status = *status;
                t.flaky = *flaky;
                if let Some(note) = note {
                    t.note.clone_from(note);
                }
                t.updated_at = r.at;
                t.updated_by = r.actor.as_str().into();
            }
        }
        Event::TestWaived { name, reason, .. } => {
            if let Some(t) = release.test_mut(name) {
                t.waiver = Some(Waiver {
                    by: r.actor.as_str().into(),
                    at: r.at,
                    reason: reason.clone(),
                });
            }
        }
        // Folded by the other parts of the model (see `state::apply`).
        super::event::users_events!()
        | super::event::incident_events!()
        | super::event::release_events!()
        | Event::Unreadable { .. } => {}
    }
}
