//! What a key does: the cockpit's keys, by mode, and the actions they stand for.

use super::{
    Action, App, Effect, FormInput, Input, Key, KeyCode, KeyEvent, KeyModifiers, Kind, Mode, Model,
    Overlay, PANES, Pane, Seen, Submit, Target, pane_index,
};
use chrono::{DateTime, Utc};

impl App {
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
    pub(super) fn on_view_key(&mut self, action: Option<Action>) -> Effect {
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
    pub(super) fn on_insights_key(&mut self, action: Option<Action>) -> Effect {
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
    pub(super) fn submit(&mut self, model: &Model) -> Effect {
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

    pub(super) fn focus_pane(&mut self, pane: Pane) {
        self.focus = pane;
        if matches!(pane, Pane::Queue | Pane::Releases) {
            self.context = pane;
        }
    }

    pub(super) fn move_by(&mut self, model: &Model, delta: isize) {
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
    pub(super) fn pin_selection(&mut self, model: &Model) {
        self.selected_incident = self.selected_incident(model).map(|i| i.id);
        self.selected_release = self.current_release(model).map(|r| r.id);
        self.selected_test = self.selected_test(model).map(|t| t.name.to_string());
    }
}
