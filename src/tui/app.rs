//! The cockpit's UI state and what keys do to it. Pure: it reads the model, and a key yields at
//! most one [`Effect`] for the shell to carry out (execute a command, load an audit trail).

mod dialogs;
mod keys;
mod mouse;

use super::Pane;
use super::action::Action;
use super::form::{Form, FormInput, Input, Kind, Person, Review, Step, Submit};
use super::keymap::{Key, Keymap, Mode};
use crate::load::Load;
use crate::present;
use crate::state::{
    Audience, Command, Incident, IncidentId, Model, Recorded, Release, ReleaseId, Seen, Stage,
    TestCase, Vote, decide,
};
use crate::store::ExecError;
use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use std::borrow::Cow;
use std::cell::Cell;

/// What the shell must do after a key. [`crate::tui::perform`] carries each out; the event
/// loop and the tests call the same function.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    None,
    Execute(Command),
    /// Read the files a dialog named, then record the command they make.
    Load(Load),
    /// Read the log for the details overlay's audit trail.
    LoadTrail,
    /// Load the closed records (see `state::archive`), then show them (see [`App::history`]).
    LoadArchive,
    /// Compute the statistics the Insights view shows (see [`App::insights`]).
    LoadInsights,
    /// Send a stakeholder notice (an HTTP post), then record how it went.
    Notify {
        id: crate::notify::Subject,
        stage: Stage,
        audience: Audience,
    },
    /// No webhook is configured: write the notice to a file instead (records nothing).
    WriteNotice {
        id: crate::notify::Subject,
        stage: Stage,
        audience: Audience,
        path: String,
    },
    /// Write the previewed report to a file.
    WriteReport {
        id: ReleaseId,
        path: String,
    },
    Quit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Incident(IncidentId),
    Release(ReleaseId),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    None,
    Help {
        scroll: u16,
    },
    /// The report of a release as Markdown; `w` writes it to a file.
    Report {
        id: ReleaseId,
        text: String,
        scroll: u16,
    },
    Details {
        target: Target,
        trail: Vec<String>,
        scroll: u16,
    },
    Form(Box<Form>),
    /// The Insights view; `selected` is a hotfix of the period, oldest first.
    Insights {
        selected: usize,
    },
}

/// A message in the status line. Information clears after [`STATUS_SECONDS`] or at the next
/// key; an error stays until a key.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    pub text: String,
    pub error: bool,
    pub at: DateTime<Utc>,
}

pub const STATUS_SECONDS: i64 = 10;

/// How far a scrolling overlay can scroll, as its last frame found: the view writes it, the
/// keys read it, so `j` at the end does not scroll past it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScrollLimit {
    pub max: u16,
    pub page: u16,
}

/// The two lists as ids: sorted for a model version, then filtered for the current filters.
#[derive(Clone, Debug, Default)]
struct Lists {
    seq: Option<u64>,
    all_queue: Vec<IncidentId>,
    all_releases: Vec<ReleaseId>,
    filters: Option<(String, String)>,
    queue: Vec<IncidentId>,
    releases: Vec<ReleaseId>,
    summary: Summary,
    /// The minute the summary was made in: what waits on the user also moves with the clock
    /// (an owed approval falls overdue, a freeze begins), not only with the model.
    summary_minute: i64,
}

/// What the header counts, for one model version and user.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub user: String,
    pub roles: Vec<String>,
    /// Unresolved P1 and P2 incidents.
    pub severe: usize,
    pub in_flight: usize,
    /// (release, role) pairs the user could approve now.
    pub approvals: Vec<(ReleaseId, String)>,
    /// Tests the user owns that still need work.
    pub tests: usize,
    /// The other steps that wait on the user, in words (see `state::waiting`).
    pub steps: Vec<String>,
}

/// The steps as the header says them: the incidents to qualify in one phrase, so the rest
/// still fits.
fn header_steps(steps: &[crate::state::waiting::Step]) -> Vec<String> {
    use crate::state::waiting::Step;
    let qualify: Vec<String> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Qualify(id) => Some(id.to_string()),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    if !qualify.is_empty() {
        out.push(format!("qualify {}", qualify.join(", ")));
    }
    out.extend(
        steps
            .iter()
            .filter(|s| !matches!(s, Step::Qualify(_)))
            .map(|s| s.describe().0),
    );
    out
}

impl Summary {
    pub fn new(model: &Model, user: &str, now: chrono::DateTime<chrono::Utc>) -> Summary {
        use crate::state::{IncidentStatus, Severity};
        let waiting = model.waiting_on(user, now);
        Summary {
            user: user.to_string(),
            roles: model.roles_of(user),
            severe: model
                .incidents
                .values()
                .filter(|i| i.status != IncidentStatus::Resolved && i.severity <= Severity::P2)
                .count(),
            in_flight: model.hotfixes_in_flight().len(),
            tests: waiting.tests.len(),
            steps: header_steps(&waiting.steps),
            approvals: waiting.approvals,
        }
    }
}

pub struct App {
    pub user: String,
    pub store_label: String,
    pub keymap: Keymap,
    pub focus: Pane,
    /// The list (queue or releases) that last had focus: it picks the release the other panes show.
    pub context: Pane,
    pub selected_incident: Option<IncidentId>,
    pub selected_release: Option<ReleaseId>,
    pub selected_test: Option<String>,
    pub approvals_scroll: u16,
    /// A test import read and previewed (what it would record, and the gate after), waiting
    /// for the confirm that records it: the same files read again must give this command.
    pub import_read: Option<(Command, Vec<String>)>,
    /// The furthest the approvals pane can scroll at its last drawn size (the view sets it).
    pub approvals_max: std::cell::Cell<u16>,
    /// Filters by pane: queue, approvals (unused), tests, releases.
    pub filters: [String; 4],
    pub filter_input: Option<Input>,
    pub overlay: Overlay,
    pub status: Option<Status>,
    /// Set when an action was refused before its dialog opened: what is typed next was meant
    /// for that dialog, so keys are held (ignored) until Esc or Enter, never reaching the
    /// main screen's keys.
    pub held: bool,
    /// The sorted, filtered lists, kept between frames (see [`App::sync`]).
    lists: Lists,
    /// Set when the store fails verification: every write would be refused.
    pub read_only: Option<String>,
    /// Rows a page moves in the lists; the view keeps it to the pane height.
    pub page: Cell<usize>,
    /// The open overlay's scroll limit, from its last frame.
    pub scroll_limit: Cell<ScrollLimit>,
    /// Which audiences have a webhook: without one, the notice dialog offers a file instead.
    pub webhooks: crate::notify::Webhooks,
    /// Whether this user can sign a decision here (see `crate::sign`), asked at start.
    pub signing: Result<(), String>,
    /// The log's newest event as last read, which the report preview names (a witness).
    pub log_head: Option<crate::store::Head>,
    /// The time of the last key or tick, for status messages.
    pub clock: DateTime<Utc>,
    /// The lists show closed work too: resolved incidents, and releases finished before the
    /// recent ones (the shell loads them first, see [`Effect::LoadArchive`]).
    pub history: bool,
    /// The Insights view's statistics and the model version they were computed for (the
    /// shell computes them, see [`Effect::LoadInsights`]).
    pub insights: Option<(u64, crate::state::insights::Stats)>,
    /// The Insights selection to return to when the hotfix it opened is closed.
    insights_return: Option<usize>,
}

/// The period the Insights view covers.
pub const INSIGHTS_DAYS: i64 = 90;

const PANES: [Pane; 4] = [Pane::Queue, Pane::Approvals, Pane::Tests, Pane::Releases];

fn pane_index(p: Pane) -> usize {
    PANES.iter().position(|x| *x == p).unwrap_or(0)
}

impl App {
    pub fn new(user: &str, store_label: &str, keymap: Keymap) -> App {
        App {
            user: user.to_string(),
            store_label: store_label.to_string(),
            keymap,
            focus: Pane::Queue,
            context: Pane::Queue,
            selected_incident: None,
            selected_release: None,
            selected_test: None,
            approvals_scroll: 0,
            approvals_max: std::cell::Cell::new(u16::MAX),
            import_read: None,
            filters: Default::default(),
            filter_input: None,
            overlay: Overlay::None,
            status: None,
            held: false,
            read_only: None,
            lists: Lists::default(),
            page: Cell::new(10),
            scroll_limit: Cell::new(ScrollLimit::default()),
            webhooks: crate::notify::Webhooks::default(),
            signing: Ok(()),
            log_head: None,
            clock: DateTime::<Utc>::MIN_UTC,
            history: false,
            insights: None,
            insights_return: None,
        }
    }

    pub fn filter(&self, pane: Pane) -> &str {
        &self.filters[pane_index(pane)]
    }

    fn matches(filter: &str, texts: &[&str]) -> bool {
        filter.is_empty() || {
            let f = filter.to_lowercase();
            texts.iter().any(|t| t.to_lowercase().contains(&f))
        }
    }

    fn queue_matches(&self, i: &Incident) -> bool {
        let f = self.filter(Pane::Queue);
        f.is_empty()
            || Self::matches(
                f,
                &[
                    &i.id.to_string(),
                    &i.title,
                    i.severity.as_str(),
                    i.status.as_str(),
                ],
            )
    }

    fn release_matches(&self, model: &Model, r: &Release) -> bool {
        let f = self.filter(Pane::Releases);
        f.is_empty()
            || Self::matches(
                f,
                &[
                    &r.id.to_string(),
                    &r.scope.summary,
                    &r.scope.version,
                    model.release_status(r).as_str(),
                ],
            )
    }

    /// The model was replaced by another of the same version (a snapshot's by the log's own
    /// fold): the next `sync` sorts afresh.
    pub fn model_replaced(&mut self) {
        self.lists.seq = None;
    }

    /// Rebuilds the lists and the header's summary when the model, the user or a filter
    /// changed, so a frame never scans 10,000 incidents: the sorted order is kept per model
    /// version, and a filter keystroke only re-filters it. The shell calls this before each
    /// frame; without it, views compute afresh (correct, only slower).
    pub fn sync(&mut self, model: &Model) {
        let minute = self.clock.timestamp().div_euclid(60);
        if self.lists.seq != Some(model.seq)
            || self.lists.summary.user != self.user
            || self.lists.summary_minute != minute
        {
            self.lists.summary = Summary::new(model, &self.user, self.clock);
            self.lists.summary_minute = minute;
        }
        if self.lists.seq != Some(model.seq) {
            self.lists.all_queue = model
                .incident_queue(self.history)
                .into_iter()
                .map(|i| i.id)
                .collect();
            self.lists.all_releases = self
                .release_queue(model)
                .into_iter()
                .map(|r| r.id)
                .collect();
            self.lists.seq = Some(model.seq);
            self.lists.filters = None;
        }
        let filters = (
            self.filter(Pane::Queue).to_string(),
            self.filter(Pane::Releases).to_string(),
        );
        if self.lists.filters.as_ref() != Some(&filters) {
            let queue = self
                .lists
                .all_queue
                .iter()
                .filter(|id| {
                    model
                        .incidents
                        .get(id)
                        .is_some_and(|i| self.queue_matches(i))
                })
                .copied()
                .collect();
            let releases = self
                .lists
                .all_releases
                .iter()
                .filter(|id| {
                    model
                        .releases
                        .get(id)
                        .is_some_and(|r| self.release_matches(model, r))
                })
                .copied()
                .collect();
            self.lists.queue = queue;
            self.lists.releases = releases;
            self.lists.filters = Some(filters);
        }
    }

    /// The header's counts for the model and the current user.
    pub fn summary(&self, model: &Model) -> Cow<'_, Summary> {
        if self.lists.seq == Some(model.seq)
            && self.lists.summary.user == self.user
            && self.lists.summary_minute == self.clock.timestamp().div_euclid(60)
        {
            Cow::Borrowed(&self.lists.summary)
        } else {
            Cow::Owned(Summary::new(model, &self.user, self.clock))
        }
    }

    fn fresh(&self, model: &Model) -> bool {
        self.lists.seq == Some(model.seq)
            && self.lists.filters.as_ref().is_some_and(|(q, r)| {
                q == self.filter(Pane::Queue) && r == self.filter(Pane::Releases)
            })
    }

    /// The incident queue's ids as shown: unresolved, most severe then oldest, filtered.
    pub fn queue_ids(&self, model: &Model) -> Cow<'_, [IncidentId]> {
        if self.fresh(model) {
            return Cow::Borrowed(&self.lists.queue);
        }
        Cow::Owned(
            model
                .incident_queue(self.history)
                .into_iter()
                .filter(|i| self.queue_matches(i))
                .map(|i| i.id)
                .collect(),
        )
    }

    /// The releases the pane lists: unfinished and recently finished ones, or with
    /// [`App::history`] every one.
    fn release_queue<'m>(&self, model: &'m Model) -> Vec<&'m crate::state::Release> {
        if self.history {
            model.release_queue(true)
        } else {
            model.release_queue_recent()
        }
    }

    /// The release queue's ids as shown: in flight first, finished last, filtered.
    pub fn release_ids(&self, model: &Model) -> Cow<'_, [ReleaseId]> {
        if self.fresh(model) {
            return Cow::Borrowed(&self.lists.releases);
        }
        Cow::Owned(
            self.release_queue(model)
                .into_iter()
                .filter(|r| self.release_matches(model, r))
                .map(|r| r.id)
                .collect(),
        )
    }

    /// The incident queue as shown.
    pub fn queue<'m>(&self, model: &'m Model) -> Vec<&'m Incident> {
        self.queue_ids(model)
            .iter()
            .filter_map(|id| model.incidents.get(id))
            .collect()
    }

    /// The release queue as shown.
    pub fn releases<'m>(&self, model: &'m Model) -> Vec<&'m Release> {
        self.release_ids(model)
            .iter()
            .filter_map(|id| model.releases.get(id))
            .collect()
    }

    pub fn selected_incident<'m>(&self, model: &'m Model) -> Option<&'m Incident> {
        let ids = self.queue_ids(model);
        let id = self
            .selected_incident
            .filter(|s| ids.contains(s))
            .or(ids.first().copied())?;
        model.incidents.get(&id)
    }

    /// The release the approvals and tests panes show: the selected release, or the hotfix of
    /// the selected incident (its newest unfinished one, else its newest).
    pub fn current_release<'m>(&self, model: &'m Model) -> Option<&'m Release> {
        if self.context == Pane::Releases {
            let ids = self.release_ids(model);
            let id = self
                .selected_release
                .filter(|s| ids.contains(s))
                .or(ids.first().copied())?;
            return model.releases.get(&id);
        }
        let incident = self.selected_incident(model)?;
        let mut linked: Vec<&Release> = model.hotfixes_for(incident.id).collect();
        linked.sort_by_key(|r| (!r.phase.is_finished(), r.created_at));
        linked.last().copied()
    }

    pub fn tests<'m>(&self, model: &'m Model) -> Vec<&'m TestCase> {
        let f = self.filter(Pane::Tests);
        self.current_release(model)
            .map(|r| {
                r.tests_by_priority()
                    .into_iter()
                    .filter(|t| {
                        Self::matches(
                            f,
                            &[
                                &t.name,
                                t.status.as_str(),
                                t.priority.as_str(),
                                t.owner.as_deref().unwrap_or(""),
                            ],
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn selected_test<'m>(&self, model: &'m Model) -> Option<&'m TestCase> {
        let list = self.tests(model);
        self.selected_test
            .as_ref()
            .and_then(|n| list.iter().find(|t| t.name == n).copied())
            .or(list.first().copied())
    }

    /// Shows a message in the status line: an error, or information that clears by itself.
    pub fn tell(&mut self, text: impl Into<String>, error: bool) {
        // Messages quote what people typed and what files hold: shown escaped, never raw.
        let text: String = text.into();
        self.status = Some(Status {
            text: crate::sanitize::line(&text).into_owned(),
            error,
            at: self.clock,
        });
    }

    /// Advances the app's clock: information in the status line clears after ten seconds.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        self.clock = now;
        if let Some(s) = &self.status
            && !s.error
            && (now - s.at).num_seconds() >= STATUS_SECONDS
        {
            self.status = None;
        }
    }

    /// Where keys go now: the open dialog, the open scrolling view, or the focused pane.
    pub fn mode(&self) -> Mode {
        match &self.overlay {
            Overlay::Form(_) => Mode::Dialog,
            Overlay::Help { .. }
            | Overlay::Details { .. }
            | Overlay::Report { .. }
            | Overlay::Insights { .. } => Mode::View,
            Overlay::None if self.filter_input.is_some() => Mode::Dialog,
            Overlay::None => Mode::Pane(self.focus),
        }
    }
}

fn vote_of(action: Action) -> Vote {
    if action == Action::Approve {
        Vote::Approve
    } else {
        Vote::Reject
    }
}

/// The dialogs about the selected incident.
fn incident_form(
    action: Action,
    model: &Model,
    id: IncidentId,
    sev: crate::state::Severity,
) -> Option<Form> {
    match action {
        Action::Severity => Some(Form::severity(id, sev)),
        Action::Qualify => Some(Form::qualify(
            id,
            sev,
            model.policy.hotfix_severities.contains(&sev),
            model.incidents.get(&id).map_or("", |i| i.public.as_str()),
        )),
        Action::CreateHotfix => Some(Form::create_hotfix(id, &next_version(model, true))),
        Action::Resolve => Some(Form::resolve(id)),
        Action::EditIncident => model.incidents.get(&id).map(Form::edit_incident),
        Action::Review => model.incidents.get(&id).map(Form::review),
        _ => None,
    }
}

/// The version a new release most likely has: the next patch (a hotfix) or minor (a regular
/// release) after the highest version in the store; empty when there is none to go by.
pub fn next_version(model: &Model, hotfix: bool) -> String {
    let highest = model
        .releases
        .values()
        .filter_map(|r| semver::Version::parse(&r.scope.version).ok())
        .filter(|v| v.pre.is_empty())
        .max();
    highest
        .map(|v| {
            if hotfix {
                semver::Version::new(v.major, v.minor, v.patch + 1)
            } else {
                semver::Version::new(v.major, v.minor + 1, 0)
            }
            .to_string()
        })
        .unwrap_or_default()
}

/// The demo users with their roles, for the act-as chooser.
fn people(model: &Model) -> Vec<Person> {
    model
        .users
        .iter()
        .map(|(name, roles)| Person {
            name: name.clone(),
            roles: roles.iter().cloned().collect(),
        })
        .collect()
}
