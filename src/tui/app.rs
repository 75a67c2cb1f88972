//! The cockpit's UI state and what keys do to it. Pure: it reads the model, and a key yields at
//! most one [`Effect`] for the shell to carry out (execute a command, load an audit trail).

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
        id: ReleaseId,
        stage: Stage,
        audience: Audience,
    },
    /// No webhook is configured: write the notice to a file instead (records nothing).
    WriteNotice {
        id: ReleaseId,
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
    pub fn new(model: &Model, user: &str) -> Summary {
        use crate::state::{IncidentStatus, Severity};
        let waiting = model.waiting_on(user);
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
    /// Whether a webhook is configured: without one, the notice dialog offers a file instead.
    pub webhook: bool,
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
            webhook: false,
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
        if self.lists.seq != Some(model.seq) || self.lists.summary.user != self.user {
            self.lists.summary = Summary::new(model, &self.user);
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
        if self.lists.seq == Some(model.seq) && self.lists.summary.user == self.user {
            Cow::Borrowed(&self.lists.summary)
        } else {
            Cow::Owned(Summary::new(model, &self.user))
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

    /// Handles one key against the current model. Keys go to the open dialog or view only;
    /// the main screen sees a key only when nothing is open on top of it.
    pub fn on_key(&mut self, key: KeyEvent, model: &Model, now: DateTime<Utc>) -> Effect {
        self.clock = now;
        if self.held
            && !(key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL))
        {
            if matches!(key.code, KeyCode::Esc | KeyCode::Enter) {
                self.held = false;
                self.status = None;
            }
            return Effect::None;
        }
        self.status = None; // any key dismisses the last message
        let mode = self.mode();
        // Ctrl-C quits from anywhere, whatever keys.json binds (the README promises it).
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            return Effect::Quit;
        }
        let action = Key::of(key).and_then(|k| self.keymap.action(mode, &k));
        if action == Some(Action::Quit)
            && (mode != Mode::Dialog || key.modifiers.contains(KeyModifiers::CONTROL))
        {
            return Effect::Quit;
        }
        if let Some(input) = &mut self.filter_input {
            match action {
                Some(Action::Back) => {
                    self.filters[pane_index(self.focus)].clear();
                    self.filter_input = None;
                }
                Some(Action::Submit) => self.filter_input = None,
                _ => {
                    input.edit(key);
                    self.filters[pane_index(self.focus)] = input.text.clone();
                }
            }
            return Effect::None;
        }
        match &mut self.overlay {
            Overlay::Form(form) => {
                return match form.on_key(key, action) {
                    FormInput::Cancel => {
                        self.overlay = Overlay::None;
                        self.import_read = None;
                        self.tell("cancelled: nothing was recorded", false);
                        Effect::None
                    }
                    FormInput::Submit => self.submit(model),
                    FormInput::Changed => {
                        // Other files: what was read no longer stands.
                        self.import_read = None;
                        self.preview(model, now);
                        Effect::None
                    }
                    FormInput::Moved | FormInput::Nothing => Effect::None,
                };
            }
            Overlay::Insights { .. } => return self.on_insights_key(action),
            Overlay::Help { .. } | Overlay::Details { .. } | Overlay::Report { .. } => {
                return self.on_view_key(action);
            }
            Overlay::None => {}
        }
        match action {
            Some(action) => self.act(action, model, now),
            None => Effect::None,
        }
    }

    /// Keys in the help, details and report views: scroll within the text, never past its end.
    fn on_view_key(&mut self, action: Option<Action>) -> Effect {
        let limit = self.scroll_limit.get();
        let page = limit.page.max(1);
        let (Overlay::Help { scroll }
        | Overlay::Details { scroll, .. }
        | Overlay::Report { scroll, .. }) = &mut self.overlay
        else {
            return Effect::None;
        };
        match action {
            Some(Action::Back) => {
                self.overlay = match self.insights_return.take() {
                    Some(selected) => Overlay::Insights { selected },
                    None => Overlay::None,
                };
            }
            Some(Action::Down) => *scroll = scroll.saturating_add(1).min(limit.max),
            Some(Action::Up) => *scroll = scroll.saturating_sub(1),
            Some(Action::PageDown) => *scroll = scroll.saturating_add(page).min(limit.max),
            Some(Action::PageUp) => *scroll = scroll.saturating_sub(page),
            Some(Action::Top) => *scroll = 0,
            Some(Action::Bottom) => *scroll = limit.max,
            Some(Action::WriteReport) => {
                if let Overlay::Report { id, .. } = self.overlay {
                    self.overlay = Overlay::None;
                    return Effect::WriteReport {
                        id,
                        path: format!("{id}-report.md"),
                    };
                }
            }
            _ => {}
        }
        Effect::None
    }

    /// Keys in the Insights view: move between hotfixes, open one, close.
    fn on_insights_key(&mut self, action: Option<Action>) -> Effect {
        let Overlay::Insights { selected } = &mut self.overlay else {
            return Effect::None;
        };
        let count = self.insights.as_ref().map_or(0, |(_, s)| s.hotfixes.len());
        let last = count.saturating_sub(1);
        let page = 10;
        match action {
            Some(Action::Back) => self.overlay = Overlay::None,
            Some(Action::Down) => *selected = (*selected + 1).min(last),
            Some(Action::Up) => *selected = selected.saturating_sub(1),
            Some(Action::PageDown) => *selected = (*selected + page).min(last),
            Some(Action::PageUp) => *selected = selected.saturating_sub(page),
            Some(Action::Top) => *selected = 0,
            Some(Action::Bottom) => *selected = last,
            Some(Action::Open) => {
                let chosen = self
                    .insights
                    .as_ref()
                    .and_then(|(_, s)| s.hotfixes.get(*selected))
                    .map(|j| j.id);
                let at = *selected;
                if let Some(id) = chosen {
                    self.insights_return = Some(at);
                    self.overlay = Overlay::Details {
                        target: Target::Release(id),
                        trail: Vec::new(),
                        scroll: 0,
                    };
                    return Effect::LoadTrail;
                }
            }
            _ => {}
        }
        Effect::None
    }

    /// The statistics the shell computed for the Insights view (model version `seq`): the
    /// selection starts at the newest hotfix, and stays within the list.
    pub fn set_insights(&mut self, seq: u64, stats: crate::state::insights::Stats) {
        let last = stats.hotfixes.len().saturating_sub(1);
        if let Overlay::Insights { selected } = &mut self.overlay {
            *selected = if self.insights.is_none() {
                last
            } else {
                (*selected).min(last)
            };
        }
        self.insights = Some((seq, stats));
    }

    /// Whether the Insights view is open on statistics older than model version `seq`.
    pub fn insights_stale(&self, seq: u64) -> bool {
        matches!(self.overlay, Overlay::Insights { .. })
            && self.insights.as_ref().is_none_or(|(at, _)| *at != seq)
    }

    /// Confirms the open dialog.
    fn submit(&mut self, model: &Model) -> Effect {
        let Overlay::Form(form) = &mut self.overlay else {
            return Effect::None;
        };
        match form.submit() {
            Err(e) => {
                form.refused(e.clone());
                self.tell(e, true);
                Effect::None
            }
            Ok(Submit::Command(command)) => {
                if let Err(why) = form.preview.clone() {
                    // Known to be refused: say so, keep what was typed, record nothing.
                    form.refused(why.clone());
                    self.tell(format!("refused: {why}"), true);
                    return Effect::None;
                }
                self.pin_selection(model);
                Effect::Execute(command)
            }
            Ok(Submit::Load(load)) => {
                self.pin_selection(model);
                Effect::Load(load)
            }
            Ok(Submit::SwitchUser(user)) => {
                self.user = user;
                self.overlay = Overlay::None;
                self.tell(format!("now acting as {} (demo store)", self.user), false);
                Effect::None
            }
            Ok(Submit::Notice {
                id,
                stage,
                audience,
                send,
            }) => {
                self.overlay = Overlay::None;
                if send {
                    Effect::Notify {
                        id,
                        stage,
                        audience,
                    }
                } else {
                    Effect::WriteNotice {
                        id,
                        stage,
                        audience,
                        path: format!("{id}-notice-{stage}-{audience}.txt"),
                    }
                }
            }
            Ok(Submit::AcceptRevision) => {
                if let Kind::Decide { id, shown, .. } = &mut form.kind
                    && let Some(release) = model.releases.get(id)
                {
                    shown.seen = Seen::current(release);
                    shown.scope = release.scope.clone();
                    shown.moved = None;
                }
                form.focus = form.first_focus();
                self.preview(model, self.clock);
                self.tell(
                    "the dialog now shows the new revision: read it, then confirm again to record",
                    false,
                );
                Effect::None
            }
        }
    }

    /// Applies an action of the main screen (from a key, or directly in tests).
    pub fn act(&mut self, action: Action, model: &Model, now: DateTime<Utc>) -> Effect {
        self.clock = now;
        let page = self.page.get() as isize;
        match action {
            Action::Quit => return Effect::Quit,
            Action::NextPane => self.focus_pane(PANES[(pane_index(self.focus) + 1) % 4]),
            Action::PrevPane => self.focus_pane(PANES[(pane_index(self.focus) + 3) % 4]),
            Action::FocusQueue => self.focus_pane(Pane::Queue),
            Action::FocusApprovals => self.focus_pane(Pane::Approvals),
            Action::FocusTests => self.focus_pane(Pane::Tests),
            Action::FocusReleases => self.focus_pane(Pane::Releases),
            Action::Down => self.move_by(model, 1),
            Action::Up => self.move_by(model, -1),
            Action::PageDown => self.move_by(model, page),
            Action::PageUp => self.move_by(model, -page),
            Action::Top => self.move_by(model, isize::MIN / 2),
            Action::Bottom => self.move_by(model, isize::MAX / 2),
            Action::Back => {
                self.filters[pane_index(self.focus)].clear();
                self.status = None;
            }
            Action::Filter => {
                if self.focus == Pane::Approvals {
                    self.tell("the approvals pane has nothing to filter", false);
                } else {
                    self.filter_input = Some(Input::new(self.filter(self.focus)));
                }
            }
            Action::Help => self.overlay = Overlay::Help { scroll: 0 },
            Action::Insights => {
                self.insights = None;
                self.overlay = Overlay::Insights { selected: 0 };
                return Effect::LoadInsights;
            }
            Action::History if self.history => self.show_history(false),
            Action::History => return Effect::LoadArchive,
            Action::Report => match self.current_release(model) {
                Some(r) => match crate::report::build(model, r.id, now) {
                    Ok(report) => {
                        let report = match self.log_head.clone() {
                            Some(head) => report.witnessed(head),
                            None => report,
                        };
                        let text = crate::report::markdown(&report);
                        self.overlay = Overlay::Report {
                            id: r.id,
                            text,
                            scroll: 0,
                        };
                    }
                    Err(e) => self.tell(e.message, true),
                },
                None => self.tell("select a release first", true),
            },
            Action::Open => {
                let target = match self.focus {
                    Pane::Queue => self
                        .selected_incident(model)
                        .map(|i| Target::Incident(i.id)),
                    _ => self.current_release(model).map(|r| Target::Release(r.id)),
                };
                match target {
                    Some(target) => {
                        self.overlay = Overlay::Details {
                            target,
                            trail: Vec::new(),
                            scroll: 0,
                        };
                        return Effect::LoadTrail;
                    }
                    None => self.tell("nothing selected to open", false),
                }
            }
            Action::NextField
            | Action::PrevField
            | Action::Submit
            | Action::Confirm
            | Action::Dismiss
            | Action::WriteReport => {}
            other => match self.form_for(other, model, now) {
                Ok(Some(form)) => {
                    self.overlay = Overlay::Form(Box::new(form));
                    self.preview(model, now);
                }
                Ok(None) => {}
                Err(why) => {
                    // The way on first: on a narrow screen the reason is what gets cut.
                    self.tell(
                        format!(
                            "refused (Esc or Enter to go on; keys typed now are ignored): {why}"
                        ),
                        true,
                    );
                    self.held = true;
                }
            },
        }
        Effect::None
    }

    /// Shows closed work in the lists, or only open and recent work again.
    pub fn show_history(&mut self, on: bool) {
        self.history = on;
        self.lists.seq = None;
        self.tell(
            if on {
                "the lists show closed work too: resolved incidents and every finished release"
            } else {
                "the lists show open work, and releases finished in the last 14 days"
            },
            false,
        );
    }

    fn focus_pane(&mut self, pane: Pane) {
        self.focus = pane;
        if matches!(pane, Pane::Queue | Pane::Releases) {
            self.context = pane;
        }
    }

    fn move_by(&mut self, model: &Model, delta: isize) {
        fn step<K: Clone + PartialEq>(keys: &[K], current: Option<&K>, delta: isize) -> Option<K> {
            if keys.is_empty() {
                return None;
            }
            let at = current
                .and_then(|c| keys.iter().position(|k| k == c))
                .unwrap_or(0) as isize;
            let to = at.saturating_add(delta).clamp(0, keys.len() as isize - 1);
            keys.get(to as usize).cloned()
        }
        match self.focus {
            Pane::Queue => {
                let next = step(
                    &self.queue_ids(model),
                    self.selected_incident.as_ref(),
                    delta,
                );
                self.selected_incident = next;
                self.selected_test = None;
            }
            Pane::Releases => {
                let next = step(
                    &self.release_ids(model),
                    self.selected_release.as_ref(),
                    delta,
                );
                self.selected_release = next;
                self.selected_test = None;
            }
            Pane::Tests => {
                let keys: Vec<String> = self
                    .tests(model)
                    .iter()
                    .map(|t| t.name.to_string())
                    .collect();
                self.selected_test = step(&keys, self.selected_test.as_ref(), delta);
            }
            Pane::Approvals => {
                let last = self.approvals_max.get().min(200) as isize;
                self.approvals_scroll = (self.approvals_scroll.min(self.approvals_max.get())
                    as isize)
                    .saturating_add(delta)
                    .clamp(0, last) as u16;
            }
        }
    }

    /// Holds the selection on what is on screen, so a record that moves in its list after an
    /// action (a hotfix that closes, an incident that changes severity) stays selected.
    fn pin_selection(&mut self, model: &Model) {
        self.selected_incident = self.selected_incident(model).map(|i| i.id);
        self.selected_release = self.current_release(model).map(|r| r.id);
        self.selected_test = self.selected_test(model).map(|t| t.name.to_string());
    }

    /// Why `self.user` cannot take `action` at all now, before any field is filled, from the
    /// same rules `decide` applies. `Ok` means the dialog may open.
    fn precheck(
        &self,
        action: Action,
        model: &Model,
        now: DateTime<Utc>,
        release: Option<&Release>,
    ) -> Result<(), String> {
        let probe = |command: Command| {
            decide(model, &self.user, now, command)
                .map(|_| ())
                .map_err(|r| r.message)
        };
        if let Some(why) = &self.read_only
            && !matches!(action, Action::SwitchUser)
        {
            return Err(format!("the store is read-only: {why}"));
        }
        let incident = self.selected_incident(model);
        match (action, release, incident) {
            (Action::Roles, ..) => model
                .require_admin(&self.user, "grant or revoke roles")
                .map_err(|r| r.message),
            (Action::Policy, ..) => model
                .require_admin(&self.user, "replace the policy")
                .map_err(|r| r.message),
            (Action::Qualify, _, Some(i)) => {
                model.may_qualify(&self.user, i.id).map_err(|r| r.message)
            }
            (Action::CreateHotfix, _, Some(i)) => model.hotfixable(i.id).map_err(|r| r.message),
            (Action::Resolve, _, Some(i)) => probe(Command::ResolveIncident {
                id: i.id,
                note: String::new(),
            }),
            (Action::Approve | Action::Reject, Some(r), _) => {
                let vote = vote_of(action);
                if model.open_roles(r, &self.user, vote).is_empty() {
                    // Nothing is open: the same rule says why.
                    model
                        .choose_role(r, &self.user, None, vote)
                        .map_err(|why| why.message)?;
                }
                Ok(())
            }
            (Action::Deploy, Some(r), _) => probe(Command::StartDeploy { id: r.id }),
            (Action::Deployed, Some(r), _) => probe(Command::MarkDeployed { id: r.id }),
            (Action::Close, Some(r), _) => probe(Command::CloseRelease { id: r.id }),
            (Action::Verify, Some(r), _) => probe(Command::VerifyRelease {
                id: r.id,
                note: String::new(),
            }),
            // A reason is required; "-" stands in for it to ask whether anything else stops it.
            (Action::Rollback, Some(r), _) => probe(Command::RollBack {
                id: r.id,
                reason: "-".into(),
            }),
            (Action::Cancel, Some(r), _) => probe(Command::CancelRelease {
                id: r.id,
                reason: "-".into(),
            }),
            (Action::Edit, Some(r), _) if r.phase != crate::state::Phase::Pending => Err(format!(
                "{} is {}: it can no longer be edited",
                r.id,
                model.release_status(r)
            )),
            _ => Ok(()),
        }
    }

    /// The dialog an action opens, `Ok(None)` when it opens none, or why it cannot be taken.
    fn form_for(
        &mut self,
        action: Action,
        model: &Model,
        now: DateTime<Utc>,
    ) -> Result<Option<Form>, String> {
        if action == Action::SwitchUser && !model.demo {
            return Err("acting as another user is only possible in a demo store: here you are $HOTFIX_USER or your login".into());
        }
        let release = self.current_release(model);
        self.precheck(action, model, now, release)?;
        Ok(match action {
            Action::NewIncident => Some(Form::new_incident()),
            Action::PlanRelease => Some(Form::plan_release(&next_version(model, false))),
            Action::Roles => Some(Form::roles(&model.policy.roles)),
            Action::Policy => Some(Form::policy()),
            Action::SwitchUser => Some(Form::switch_user(&people(model), &self.user)),
            Action::ImportAlert => Some(Form::import_alert()),
            Action::Severity | Action::Qualify | Action::CreateHotfix | Action::Resolve => {
                let i = self
                    .selected_incident(model)
                    .ok_or("select an incident in the queue first")?;
                incident_form(action, model, i.id, i.severity)
            }
            // Every other action is about the current release.
            _ => {
                let r = release.ok_or(
                    "select a release first: pick an incident with a hotfix, or one in the release queue",
                )?;
                self.release_form(action, model, r)?
            }
        })
    }

    /// The dialogs about the current release.
    fn release_form(
        &self,
        action: Action,
        model: &Model,
        r: &Release,
    ) -> Result<Option<Form>, String> {
        let id = r.id;
        Ok(match action {
            Action::Approve | Action::Reject => {
                let vote = vote_of(action);
                let roles = model.open_roles(r, &self.user, vote);
                Some(Form::decide(id, vote, &roles, self.review(r)))
            }
            Action::Edit => Some(Form::edit(id, &r.scope)),
            Action::Deploy => Some(Form::step(id, Step::Deploy)),
            Action::Deployed => Some(Form::step(id, Step::Deployed)),
            Action::Close => Some(Form::step(id, Step::Close)),
            Action::Verify => Some(Form::verify(id)),
            Action::Rollback => Some(Form::end(id, true)),
            Action::Cancel => Some(Form::end(id, false)),
            Action::AddTest => Some(Form::add_test(id, &self.user)),
            Action::ImportTests => Some(Form::import_tests(id)),
            Action::Notify => {
                let stage = crate::notify::next_stage(model, id).unwrap_or(Stage::Planned);
                Some(Form::notify(id, stage, self.webhook))
            }
            Action::Withdraw => {
                // The roles this user's approval fills now (the latest for its role).
                let mut roles: Vec<String> = Vec::new();
                for a in r
                    .approvals
                    .iter()
                    .filter(|a| a.approver == self.user.as_str())
                {
                    let latest = r
                        .approval_for(&a.role)
                        .is_some_and(|l| l.approver == a.approver);
                    if latest && !roles.iter().any(|x| x == a.role.as_str()) {
                        roles.push(a.role.to_string());
                    }
                }
                if roles.is_empty() {
                    return Err(format!("{} has no approval of {id} to withdraw", self.user));
                }
                Some(Form::withdraw(id, &roles))
            }
            Action::RemoveTest => {
                let Some(test) = self.selected_test(model) else {
                    return Err(format!("{id} has no test selected"));
                };
                Some(Form::remove_test(id, &test.name))
            }
            Action::SetTest | Action::Waive => {
                let Some(test) = self.selected_test(model) else {
                    return Err(format!(
                        "{id} has no test selected: add one first ({} in the tests pane)",
                        self.keymap
                            .keys(Mode::Pane(Pane::Tests), Action::AddTest)
                            .unwrap_or_default()
                    ));
                };
                Some(if action == Action::SetTest {
                    Form::set_test(id, &test.name, test.status)
                } else {
                    Form::waive(id, &test.name)
                })
            }
            _ => None,
        })
    }

    /// What an approve or reject dialog shows of `r`: its current revision and scope, and
    /// what changed since this user last approved it.
    fn review(&self, r: &Release) -> Review {
        let mine = r
            .approvals
            .iter()
            .rev()
            .find(|a| a.approver == self.user)
            .map(|a| a.revision)
            .filter(|rev| *rev < r.revision);
        Review {
            seen: Seen::current(r),
            scope: r.scope.clone(),
            since_mine: mine.map(|rev| {
                (
                    rev,
                    r.changed_since(rev).into_iter().map(String::from).collect(),
                )
            }),
            moved: None,
            scroll: 0,
        }
    }

    /// Recomputes the open dialog's preview: what `decide` would record, or why it would
    /// refuse. An approve or reject dialog whose release moved on to a new revision says so at
    /// once and shows the new scope; it still binds to the revision first shown until the user
    /// takes the step of reviewing the new one.
    pub fn preview(&mut self, model: &Model, now: DateTime<Utc>) {
        let user = self.user.clone();
        let read_only = self.read_only.clone();
        let Overlay::Form(form) = &mut self.overlay else {
            return;
        };
        if let Kind::Decide { id, shown, .. } = &mut form.kind
            && let Some(release) = model.releases.get(id)
            && release.revision != shown.seen.revision
        {
            let changed = release
                .changed_since(shown.seen.revision)
                .into_iter()
                .map(String::from)
                .collect();
            if shown.moved.as_ref().map(|(rev, _)| *rev) != Some(release.revision) {
                shown.moved = Some((release.revision, changed));
                shown.scope = release.scope.clone();
                form.focus = form.first_focus(); // off the confirm step: a pending Enter must not land there
            }
        }
        if let Kind::Notify {
            id,
            stage,
            audience,
            ..
        } = &form.kind
        {
            let (id, stage, audience) = (*id, stage.value().copied(), audience.value().copied());
            let text = match (stage, audience) {
                (Some(s), Some(a)) => match crate::notify::render(model, id, s, a, now) {
                    Ok(n) => std::iter::once(n.title)
                        .chain(n.body.lines().map(String::from))
                        .collect(),
                    Err(r) => vec![r.message],
                },
                _ => Vec::new(),
            };
            if let Some(t) = form.notice_text_mut() {
                *t = text;
            }
        }
        form.preview = match form.submit() {
            Err(e) => Err(e),
            Ok(_) if read_only.is_some() => Err(format!(
                "the store is read-only: {}",
                read_only.unwrap_or_default()
            )),
            Ok(Submit::Command(command)) => {
                // A deploy says what it goes out with: every test not passed (waived or not run).
                let goes_with: Vec<String> = match &command {
                    Command::StartDeploy { id } => model
                        .gate(*id)
                        .map(|g| {
                            g.deferred
                                .into_iter()
                                .map(|d| format!("deploys with {d}"))
                                .collect()
                        })
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                decide(model, &user, now, command)
                    .map(|events| {
                        events
                            .into_iter()
                            .map(|event| {
                                present::describe(&Recorded {
                                    seq: 0,
                                    at: now,
                                    actor: user.clone(),
                                    event,
                                })
                            })
                            .chain(goes_with)
                            .collect()
                    })
                    .map_err(|r| r.message)
            }
            Ok(Submit::Load(load)) => Ok(match &self.import_read {
                Some((_, lines)) => lines.clone(),
                None => vec![format!("will {}", load.describe())],
            }),
            Ok(Submit::AcceptRevision) => Err(match &form.kind {
                Kind::Decide { id, shown, .. } => format!(
                    "{id} changed to revision {} while this was open (changed: {}): nothing was recorded; review the new scope above before deciding",
                    shown.moved.as_ref().map_or(0, |(r, _)| *r),
                    shown
                        .moved
                        .as_ref()
                        .map(|(_, c)| c.join(", "))
                        .unwrap_or_default()
                ),
                _ => String::new(),
            }),
            Ok(Submit::SwitchUser(_) | Submit::Notice { .. }) => Ok(Vec::new()),
        };
    }

    /// Takes the outcome of an executed command: success closes the dialog and keeps the
    /// records it touched selected; a refusal keeps the dialog open with what was typed, and
    /// says why.
    pub fn executed(&mut self, outcome: Result<Vec<Recorded>, ExecError>, model: &Model) {
        match outcome {
            Ok(recorded) => {
                if let Overlay::Form(_) = self.overlay {
                    self.overlay = Overlay::None;
                }
                let before = self.selected_release;
                for r in &recorded {
                    match &r.event {
                        crate::state::Event::IncidentReported { id, .. } => {
                            self.selected_incident = Some(*id);
                        }
                        crate::state::Event::HotfixCreated { id, .. }
                        | crate::state::Event::RegularReleasePlanned { id, .. } => {
                            self.selected_release = Some(*id);
                        }
                        crate::state::Event::TestAdded { name, .. } => {
                            self.selected_test = Some(name.clone());
                        }
                        _ => {}
                    }
                }
                // A release that left the incident queue's view with its incident (closed,
                // resolving it) stays on screen: the panes follow it from the release queue.
                if let Some(id) = before
                    && self.current_release(model).map(|r| r.id) != Some(id)
                    && recorded.iter().any(|r| r.event.release() == Some(id))
                {
                    self.context = Pane::Releases;
                    self.selected_release = Some(id);
                    if self.focus == Pane::Queue {
                        self.focus = Pane::Releases;
                    }
                }
                let text: Vec<String> = recorded.iter().map(present::describe).collect();
                self.tell(format!("recorded: {}", text.join("; ")), false);
            }
            Err(e) => {
                let message = e.to_string();
                if let Overlay::Form(form) = &mut self.overlay {
                    form.refused(message.clone());
                }
                self.tell(format!("refused: {message}"), true);
            }
        }
    }

    /// The trail the details overlay asks for: (release, incident).
    pub fn trail_wanted(&self) -> Option<(Option<ReleaseId>, Option<IncidentId>)> {
        match &self.overlay {
            Overlay::Details { target, .. } => Some(match *target {
                Target::Release(id) => (Some(id), None),
                Target::Incident(id) => (None, Some(id)),
            }),
            _ => None,
        }
    }

    /// Shows the trail (as [`App::trail_wanted`] asked for it) in the details overlay.
    /// Shows `events` as the open record's audit trail; a line the rules refused (see
    /// `state::legality`) is marked inert, with why.
    pub fn set_trail(&mut self, events: &[Recorded], model: &Model) {
        if let Overlay::Details { trail, .. } = &mut self.overlay {
            *trail = events
                .iter()
                .map(|r| {
                    let inert = model
                        .illegal_at(r.seq)
                        .map(|i| {
                            format!(
                                " [INERT: refused by the rules: {}]",
                                crate::sanitize::line(&i.reason)
                            )
                        })
                        .unwrap_or_default();
                    format!(
                        "{}  {:<8} {}{inert}",
                        present::stamp(r.at),
                        crate::sanitize::line(&r.actor),
                        present::describe(r)
                    )
                })
                .collect();
        }
    }

    /// A mouse event on a screen of `area` (`--mouse`): a click focuses the pane under the
    /// pointer and selects the row clicked; the wheel scrolls the pane (or view) under it.
    pub fn on_mouse(&mut self, event: MouseEvent, area: Rect, model: &Model) -> Effect {
        let at = Position::new(event.column, event.row);
        match &self.overlay {
            Overlay::Form(_) => return Effect::None,
            Overlay::Insights { .. } => {
                let action = match event.kind {
                    MouseEventKind::ScrollDown => Some(Action::Down),
                    MouseEventKind::ScrollUp => Some(Action::Up),
                    _ => None,
                };
                return self.on_insights_key(action);
            }
            Overlay::Help { .. } | Overlay::Details { .. } | Overlay::Report { .. } => {
                let action = match event.kind {
                    MouseEventKind::ScrollDown => Some(Action::Down),
                    MouseEventKind::ScrollUp => Some(Action::Up),
                    _ => None,
                };
                return self.on_view_key(action);
            }
            Overlay::None => {}
        }
        let Some((pane, rect)) = super::layout::layout(area)
            .panes()
            .into_iter()
            .find(|(_, r)| r.contains(at))
        else {
            return Effect::None;
        };
        match event.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let keep = self.focus;
                self.focus = pane;
                let delta = if event.kind == MouseEventKind::ScrollDown {
                    1
                } else {
                    -1
                };
                self.move_by(model, delta);
                self.focus = keep;
            }
            MouseEventKind::Down(_) => {
                self.focus_pane(pane);
                // Rows start under the border and the header row; the list keeps the
                // selection in view the way [`super::layout::list_offset`] says.
                let row = usize::from(event.row.saturating_sub(rect.y + 2));
                if event.row < rect.y + 2 || event.row + 1 >= rect.bottom() {
                    return Effect::None;
                }
                self.select_row(model, pane, rect.height, row);
            }
            _ => {}
        }
        Effect::None
    }

    fn select_row(&mut self, model: &Model, pane: Pane, height: u16, row: usize) {
        /// The id on screen row `row` of a list of `height` whose selection is `current`.
        fn row_at<K: Copy + PartialEq>(
            ids: &[K],
            current: Option<K>,
            height: u16,
            row: usize,
        ) -> Option<K> {
            let at = current.and_then(|c| ids.iter().position(|x| *x == c));
            ids.get(super::layout::list_offset(at, height) + row)
                .copied()
        }
        match pane {
            Pane::Queue => {
                let current = self.selected_incident(model).map(|i| i.id);
                if let Some(id) = row_at(&self.queue_ids(model), current, height, row) {
                    self.selected_incident = Some(id);
                    self.selected_test = None;
                }
            }
            Pane::Releases => {
                let current = self.current_release(model).map(|r| r.id);
                if let Some(id) = row_at(&self.release_ids(model), current, height, row) {
                    self.selected_release = Some(id);
                    self.selected_test = None;
                }
            }
            Pane::Tests | Pane::Approvals => {}
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
        )),
        Action::CreateHotfix => Some(Form::create_hotfix(id, &next_version(model, true))),
        Action::Resolve => Some(Form::resolve(id)),
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
