//! The cockpit's UI state and what keys do to it. Pure: it reads the model, and a key yields at
//! most one [`Effect`] for the shell to carry out (execute a command, load an audit trail).

use super::Pane;
use super::action::Action;
use super::form::{Form, FormInput, FormKind, Input};
use super::keymap::{Key, Keymap};
use crate::present;
use crate::state::{
    Audience, Command, Incident, IncidentId, Model, Recorded, Release, ReleaseId, RoleCheck, Stage,
    TestCase, TestStatus, decide,
};
use crate::store::ExecError;
use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use std::borrow::Cow;

/// What the shell must do after a key.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    None,
    Execute(Command),
    /// Read the log for the details overlay's audit trail.
    LoadTrail,
    /// Send a stakeholder notice (an HTTP post), then record how it went.
    Notify {
        id: ReleaseId,
        stage: Stage,
        audience: Audience,
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
    Form(Form),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    pub text: String,
    pub error: bool,
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
    /// Filters by pane: queue, approvals (unused), tests, releases.
    pub filters: [String; 4],
    pub filter_input: Option<Input>,
    pub overlay: Overlay,
    pub status: Option<Status>,
    /// The sorted, filtered lists, kept between frames (see [`App::sync`]).
    lists: Lists,
    /// Set when the store fails verification: every write would be refused.
    pub read_only: Option<String>,
    /// Rows a page moves; the view sets it from the pane height.
    pub page: usize,
}

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
            filters: Default::default(),
            filter_input: None,
            overlay: Overlay::None,
            status: None,
            read_only: None,
            lists: Lists::default(),
            page: 10,
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
                .incident_queue(false)
                .into_iter()
                .map(|i| i.id)
                .collect();
            self.lists.all_releases = model
                .release_queue(true)
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
                .incident_queue(false)
                .into_iter()
                .filter(|i| self.queue_matches(i))
                .map(|i| i.id)
                .collect(),
        )
    }

    /// The release queue's ids as shown: in flight first, finished last, filtered.
    pub fn release_ids(&self, model: &Model) -> Cow<'_, [ReleaseId]> {
        if self.fresh(model) {
            return Cow::Borrowed(&self.lists.releases);
        }
        Cow::Owned(
            model
                .release_queue(true)
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

    fn say(&mut self, text: impl Into<String>, error: bool) {
        self.status = Some(Status {
            text: text.into(),
            error,
        });
    }

    /// Handles one key against the current model.
    pub fn on_key(&mut self, key: KeyEvent, model: &Model, now: DateTime<Utc>) -> Effect {
        if let Some(input) = &mut self.filter_input {
            match key.code {
                KeyCode::Esc => {
                    self.filters[pane_index(self.focus)].clear();
                    self.filter_input = None;
                }
                KeyCode::Enter => self.filter_input = None,
                _ => {
                    input.edit(key);
                    self.filters[pane_index(self.focus)] = input.text.clone();
                }
            }
            return Effect::None;
        }
        match &mut self.overlay {
            Overlay::Form(form) => {
                return match form.on_key(key) {
                    FormInput::Cancel => {
                        self.overlay = Overlay::None;
                        self.say("cancelled: nothing was recorded", false);
                        Effect::None
                    }
                    FormInput::Submit if matches!(form.kind, FormKind::Notify(_)) => {
                        match form.command() {
                            Ok(Command::RecordNotice {
                                id,
                                stage,
                                audience,
                                ..
                            }) => {
                                self.overlay = Overlay::None;
                                Effect::Notify {
                                    id,
                                    stage,
                                    audience,
                                }
                            }
                            _ => Effect::None,
                        }
                    }
                    FormInput::Submit if form.kind == FormKind::SwitchUser => {
                        if let Some(user) = form.chosen_user() {
                            self.user = user;
                            self.say(format!("now acting as {} (demo store)", self.user), false);
                        }
                        self.overlay = Overlay::None;
                        Effect::None
                    }
                    FormInput::Submit => match form.command() {
                        Ok(command) => Effect::Execute(command),
                        Err(e) => {
                            form.preview = Err(e.clone());
                            self.say(e, true);
                            Effect::None
                        }
                    },
                    FormInput::Changed => {
                        self.preview(model, now);
                        Effect::None
                    }
                    FormInput::Moved | FormInput::Nothing => Effect::None,
                };
            }
            Overlay::Report { id, .. } if key.code == KeyCode::Char('w') => {
                let id = *id;
                self.overlay = Overlay::None;
                return Effect::WriteReport {
                    id,
                    path: format!("{id}-report.md"),
                };
            }
            Overlay::Help { scroll }
            | Overlay::Details { scroll, .. }
            | Overlay::Report { scroll, .. } => {
                match key.code {
                    KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') | KeyCode::Char('?') => {
                        self.overlay = Overlay::None
                    }
                    KeyCode::Down | KeyCode::Char('j') => *scroll = scroll.saturating_add(1),
                    KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
                    KeyCode::PageDown => *scroll = scroll.saturating_add(10),
                    KeyCode::PageUp => *scroll = scroll.saturating_sub(10),
                    KeyCode::Char('g') => *scroll = 0,
                    _ => {}
                }
                return Effect::None;
            }
            Overlay::None => {}
        }
        let Some(action) = Key::of(key).and_then(|k| self.keymap.action(self.focus, &k)) else {
            return Effect::None;
        };
        self.act(action, model, now)
    }

    /// Applies an action (from a key, or directly in tests).
    pub fn act(&mut self, action: Action, model: &Model, now: DateTime<Utc>) -> Effect {
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
            Action::PageDown => self.move_by(model, self.page as isize),
            Action::PageUp => self.move_by(model, -(self.page as isize)),
            Action::Top => self.move_by(model, isize::MIN / 2),
            Action::Bottom => self.move_by(model, isize::MAX / 2),
            Action::Back => {
                self.filters[pane_index(self.focus)].clear();
                self.status = None;
            }
            Action::Filter => {
                if self.focus == Pane::Approvals {
                    self.say("the approvals pane has nothing to filter", false);
                } else {
                    self.filter_input = Some(Input::new(self.filter(self.focus)));
                }
            }
            Action::Help => self.overlay = Overlay::Help { scroll: 0 },
            Action::Report => match self.current_release(model) {
                Some(r) => match crate::report::build(model, r.id, now) {
                    Ok(report) => {
                        let text = crate::report::markdown(&report);
                        self.overlay = Overlay::Report {
                            id: r.id,
                            text,
                            scroll: 0,
                        };
                    }
                    Err(e) => self.say(e.message, true),
                },
                None => self.say("select a release first", true),
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
                    None => self.say("nothing selected to open", false),
                }
            }
            Action::CycleTest => return self.cycle_test(model),
            other => {
                if let Some(form) = self.form_for(other, model) {
                    self.overlay = Overlay::Form(form);
                    self.preview(model, now);
                }
            }
        }
        Effect::None
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
                self.approvals_scroll = (self.approvals_scroll as isize)
                    .saturating_add(delta)
                    .clamp(0, 200) as u16;
            }
        }
    }

    fn cycle_test(&mut self, model: &Model) -> Effect {
        let (Some(release), Some(test)) = (self.current_release(model), self.selected_test(model))
        else {
            self.say("no test selected: add one with the add-test key", true);
            return Effect::None;
        };
        let next = match test.status {
            TestStatus::Pending => TestStatus::Running,
            TestStatus::Running => TestStatus::Passed,
            TestStatus::Passed => TestStatus::Failed,
            TestStatus::Failed => TestStatus::Skipped,
            TestStatus::Skipped => TestStatus::Pending,
        };
        self.selected_test = Some(test.name.to_string());
        Effect::Execute(Command::SetTestStatus {
            id: release.id,
            name: test.name.to_string(),
            status: next,
            note: None,
        })
    }

    /// The needed roles the user holds, and of them those still open (waiting or stale).
    fn roles_for(&self, model: &Model, release: &Release) -> (Vec<String>, Vec<String>) {
        let checks = model.checklist(release);
        let held: Vec<String> = checks
            .iter()
            .map(|c| c.role().to_string())
            .filter(|r| model.holds(&self.user, r))
            .collect();
        let open = checks
            .iter()
            .filter(|c| matches!(c, RoleCheck::Waiting { .. } | RoleCheck::Stale { .. }))
            .map(|c| c.role().to_string())
            .filter(|r| held.contains(r))
            .collect();
        (held, open)
    }

    fn form_for(&mut self, action: Action, model: &Model) -> Option<Form> {
        let incident = self.selected_incident(model).map(|i| (i.id, i.severity));
        let release = self.current_release(model).map(|r| r.id);
        let need_incident = |app: &mut App| {
            app.say("select an incident in the queue first", true);
            None
        };
        let need_release = |app: &mut App| {
            app.say("select a release first: pick an incident with a hotfix, or one in the release queue", true);
            None
        };
        let step = |kind: fn(ReleaseId) -> FormKind, verb: &str| {
            release.map(|id| Form::step(kind(id), format!("{verb} {id}?")))
        };
        let form = match action {
            Action::NewIncident => Some(Form::new_incident()),
            Action::PlanRelease => Some(Form::plan_release()),
            Action::Roles => Some(Form::roles(&model.policy.roles)),
            Action::Policy => Some(Form::policy()),
            Action::SwitchUser if model.demo => {
                let users: Vec<String> = model.users.keys().cloned().collect();
                return Some(Form::switch_user(&users, &self.user));
            }
            Action::SwitchUser => {
                self.say("acting as another user is only possible in a demo store: here you are $HOTFIX_USER or your login", true);
                return None;
            }
            Action::Severity => match incident {
                Some((id, sev)) => Some(Form::severity(id, sev)),
                None => return need_incident(self),
            },
            Action::Qualify => match incident {
                Some((id, sev)) => Some(Form::qualify(
                    id,
                    sev,
                    model.policy.hotfix_severities.contains(&sev),
                )),
                None => return need_incident(self),
            },
            Action::CreateHotfix => match incident {
                Some((id, _)) => Some(Form::create_hotfix(id)),
                None => return need_incident(self),
            },
            Action::Resolve => match incident {
                Some((id, _)) => Some(Form::resolve(id)),
                None => return need_incident(self),
            },
            Action::Approve | Action::Reject => {
                let Some(r) = self.current_release(model) else {
                    return need_release(self);
                };
                let (held, open) = self.roles_for(model, r);
                Some(if action == Action::Approve {
                    Form::approve(r.id, &open)
                } else {
                    Form::reject(r.id, &held)
                })
            }
            Action::Edit => match self.current_release(model) {
                Some(r) => Some(Form::edit(r.id, &r.scope)),
                None => return need_release(self),
            },
            Action::Deploy => step(FormKind::Deploy, "Start deploying"),
            Action::Deployed => step(FormKind::Deployed, "Mark deployed:"),
            Action::Verify => step(FormKind::Verify, "Mark verified in production:"),
            Action::Close => step(FormKind::Close, "Close"),
            Action::Rollback => release
                .map(|id| Form::with_reason(FormKind::Rollback(id), format!("Roll back {id}?"))),
            Action::Cancel => {
                release.map(|id| Form::with_reason(FormKind::Cancel(id), format!("Cancel {id}")))
            }
            Action::AddTest => release.map(|id| Form::add_test(id, &self.user)),
            Action::ImportTests => release.map(Form::import_tests),
            Action::ImportAlert => Some(Form::import_alert()),
            Action::Notify => release.map(|id| {
                let stage = crate::notify::next_stage(model, id).unwrap_or(Stage::Planned);
                Form::notify(id, stage)
            }),
            Action::SetTest | Action::Waive => {
                let (Some(id), Some(test)) = (release, self.selected_test(model)) else {
                    self.say("select a test in the tests pane first", true);
                    return None;
                };
                Some(if action == Action::SetTest {
                    Form::set_test(id, &test.name, test.status)
                } else {
                    Form::waive(id, &test.name)
                })
            }
            _ => None,
        };
        if form.is_none() {
            return need_release(self);
        }
        form
    }

    /// Recomputes the open form's preview: what `decide` would record, or why it would refuse.
    pub fn preview(&mut self, model: &Model, now: DateTime<Utc>) {
        let user = self.user.clone();
        let read_only = self.read_only.clone();
        if let Overlay::Form(form) = &mut self.overlay {
            if form.kind == FormKind::SwitchUser {
                form.preview = Ok(Vec::new());
                return;
            }
            form.preview = form.command().and_then(|command| {
                if let Some(why) = &read_only {
                    return Err(format!("the store is read-only: {why}"));
                }
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
                            .collect()
                    })
                    .map_err(|r| r.message)
            });
        }
    }

    /// Takes the outcome of an executed command: success closes the form; a refusal keeps it
    /// open with what was typed, and says why.
    pub fn executed(&mut self, outcome: Result<Vec<Recorded>, ExecError>) {
        match outcome {
            Ok(recorded) => {
                if let Overlay::Form(_) = self.overlay {
                    self.overlay = Overlay::None;
                }
                for r in &recorded {
                    match &r.event {
                        crate::state::Event::IncidentReported { id, .. } => {
                            self.selected_incident = Some(*id)
                        }
                        crate::state::Event::HotfixCreated { id, .. }
                        | crate::state::Event::RegularReleasePlanned { id, .. } => {
                            self.selected_release = Some(*id);
                        }
                        crate::state::Event::TestAdded { name, .. } => {
                            self.selected_test = Some(name.clone())
                        }
                        _ => {}
                    }
                }
                let text: Vec<String> = recorded.iter().map(present::describe).collect();
                self.say(format!("recorded: {}", text.join("; ")), false);
            }
            Err(e) => {
                let message = e.to_string();
                if let Overlay::Form(form) = &mut self.overlay {
                    form.preview = Err(message.clone());
                }
                self.say(format!("refused: {message}"), true);
            }
        }
    }

    /// Fills the details overlay's audit trail from the log.
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
    pub fn set_trail(&mut self, events: &[Recorded]) {
        if let Overlay::Details { trail, .. } = &mut self.overlay {
            *trail = events
                .iter()
                .map(|r| {
                    format!(
                        "{}  {:<8} {}",
                        present::stamp(r.at),
                        r.actor,
                        present::describe(r)
                    )
                })
                .collect();
        }
    }
}
