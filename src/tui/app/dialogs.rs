//! The dialogs an action opens, checked before they open, and what comes back from them.

use super::{
    Action, App, Command, ExecError, Form, IncidentId, Kind, Mode, Model, Overlay, Pane, Recorded,
    Release, ReleaseId, Review, Seen, Stage, Step, Submit, Target, decide, incident_form,
    next_version, people, present, vote_of,
};
use chrono::{DateTime, Utc};

impl App {
    /// Why `self.user` cannot take `action` at all now, before any field is filled, from the
    /// same rules `decide` applies. `Ok` means the dialog may open.
    pub(super) fn precheck(
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
            (Action::Approve | Action::Reject, Some(_), _)
                if model.policy.signatures == crate::state::signing::Signatures::Required
                    && self.signing.is_err() =>
            {
                Err(format!(
                    "the policy requires signed decisions, and {}",
                    self.signing.clone().err().unwrap_or_default()
                ))
            }
            (Action::Approve | Action::Reject, Some(r), _) => {
                let vote = vote_of(action);
                if model.open_roles(r, &self.user, vote, now).is_empty() {
                    // Nothing is open: the same rule says why.
                    model
                        .choose_role(r, &self.user, None, vote, now)
                        .map_err(|why| why.message)?;
                }
                Ok(())
            }
            (Action::Deploy, Some(r), _) => probe(Command::StartDeploy { id: r.id }),
            (Action::Deployed, Some(r), _) => probe(Command::MarkDeployed {
                id: r.id,
                commit: None,
                artifact: None,
            }),
            (Action::Close, Some(r), _) => probe(Command::CloseRelease {
                id: r.id,
                carried_to: None,
            }),
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
            (Action::BreakGlass, Some(r), _) => probe(Command::BreakGlass {
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
    pub(super) fn form_for(
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
            Action::Delegate => {
                // The approving roles this user holds (an admin may name another holder).
                let approving: Vec<String> = model
                    .policy
                    .roles
                    .iter()
                    .filter(|r| model.policy.approvals.values().any(|rs| rs.contains(r)))
                    .cloned()
                    .collect();
                let until = (now + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M");
                let held = approving.iter().find(|r| model.holds(&self.user, r));
                Some(Form::delegate(
                    &self.user,
                    &approving,
                    held,
                    &until.to_string(),
                ))
            }
            Action::Policy => Some(Form::policy()),
            Action::SwitchUser => Some(Form::switch_user(&people(model), &self.user)),
            Action::ImportAlert => Some(Form::import_alert()),
            // An incident no hotfix is fixing yet: its own notice, investigating.
            Action::Notify if release.is_none() && self.focus == Pane::Queue => {
                let i = self
                    .selected_incident(model)
                    .ok_or("select an incident in the queue first")?;
                Some(Form::notify(i.id, Stage::Investigating, self.webhooks))
            }
            Action::Severity
            | Action::Qualify
            | Action::CreateHotfix
            | Action::Resolve
            | Action::EditIncident
            | Action::Review => {
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
                self.release_form(action, model, r, now)?
            }
        })
    }

    /// The dialogs about the current release.
    pub(super) fn release_form(
        &self,
        action: Action,
        model: &Model,
        r: &Release,
        now: DateTime<Utc>,
    ) -> Result<Option<Form>, String> {
        let id = r.id;
        Ok(match action {
            Action::Approve | Action::Reject => {
                let vote = vote_of(action);
                let roles = model.open_roles(r, &self.user, vote, now);
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
                Some(Form::notify(id, stage, self.webhooks))
            }
            Action::BreakGlass => Some(Form::break_glass(id)),
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
    pub(super) fn review(&self, r: &Release) -> Review {
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
                // A decision signed on confirm is previewed as it will be: signed.
                let judge = if matches!(command, Command::Decide { .. }) && self.signing.is_ok() {
                    crate::state::decide_before_signing
                } else {
                    decide
                };
                judge(model, &user, now, command)
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
}
