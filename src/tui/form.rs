//! Dialogs: each a typed set of fields (text inputs and choices of typed values) that builds a
//! [`Submit`]. The app previews every dialog by running `decide` on what it would record, so a
//! dialog says exactly what the store will say before anything is written.
//!
//! Key rules, the same in every dialog: the focus starts in the first field; a printable
//! character in a text field is always text; Enter and Tab move on, and the last field's Enter
//! reaches the confirm step, where a further Enter (or `y`) confirms. Nothing is recorded
//! without that step.

mod dialogs;
mod widget;

use widget::status_letter;
pub use widget::{Input, Pick, Shown, Text, Widget};

use super::action::Action;
use crate::load::Load;
use crate::state::{
    Audience, Command, Decision, IncidentId, Priority, ReleaseId, Risk, Scope, ScopeEdit,
    ScopeInput, Seen, Severity, Stage, TestStatus, Vote,
};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt;

/// Grant or revoke, in the roles dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    Grant,
    Revoke,
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Grant::Grant => "grant",
            Grant::Revoke => "revoke",
        })
    }
}

/// How a test is run, in the add-test dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestKind {
    Automated,
    Manual,
}

impl fmt::Display for TestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TestKind::Automated => "automated",
            TestKind::Manual => "manual",
        })
    }
}

/// A demo user and the roles they hold, in the act-as chooser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub roles: Vec<String>,
}

impl fmt::Display for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.roles.is_empty() {
            write!(f, "{} (no roles)", self.name)
        } else {
            write!(f, "{} ({})", self.name, self.roles.join(", "))
        }
    }
}

/// A lifecycle step that needs nothing but a confirmation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Deploy,
    Deployed,
    Close,
}

/// What an approve or reject dialog showed, and what happened to the scope since.
#[derive(Clone, Debug, PartialEq)]
pub struct Review {
    /// The revision the dialog binds the decision to.
    pub seen: Seen,
    /// The scope on screen (the newest, once a change was noticed).
    pub scope: Scope,
    /// The revision this user last approved, and the fields changed since, when older.
    pub since_mine: Option<(u32, Vec<String>)>,
    /// The scope moved on to this revision while the dialog was open: confirming first needs
    /// the deliberate step of accepting it.
    pub moved: Option<(u32, Vec<String>)>,
    /// How far the scope is scrolled (PageUp/PageDown): every line of it can be read.
    pub scroll: u16,
}

/// What confirming a dialog asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Submit {
    Command(Command),
    /// Read files, then record the command they make.
    Load(Load),
    /// Demo stores only: act as another user (records nothing).
    SwitchUser(String),
    /// Send a notice to the webhook and record how it went; without a webhook, write the
    /// notice to a file instead, recorded as written there.
    Notice {
        id: crate::notify::Subject,
        stage: Stage,
        audience: Audience,
        send: bool,
    },
    /// The scope changed while an approve/reject dialog was open: show the new one as what
    /// the decision binds to. Records nothing.
    AcceptRevision,
}

/// Declares the dialogs: each variant's data, then its fields in the order they are shown.
/// Generates the enum and the two field accessors from one list, so they cannot drift.
macro_rules! dialogs {
    ($( $(#[$doc:meta])* $variant:ident { $($data:ident : $dty:ty),* ; $($w:ident : $wty:ty),* } )*) => {
        /// Every dialog, with its own data and typed fields.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Kind {
            $( $(#[$doc])* $variant { $($data: $dty,)* $($w: $wty,)* }, )*
        }

        impl Kind {
            pub fn widgets(&self) -> Vec<&dyn Widget> {
                match self {
                    $( Kind::$variant { $($w,)* .. } => vec![$($w as &dyn Widget),*], )*
                }
            }

            fn widgets_mut(&mut self) -> Vec<&mut dyn Widget> {
                match self {
                    $( Kind::$variant { $($w,)* .. } => vec![$($w as &mut dyn Widget),*], )*
                }
            }
        }
    };
}

dialogs! {
    NewIncident { ; title: Text, severity: Pick<Severity>, services: Text, impact: Text }
    Severity { id: IncidentId ; severity: Pick<Severity>, reason: Text }
    Qualify { id: IncidentId, current: Severity ;
        decision: Pick<Decision>, risk: Pick<Risk>, impact: Text, rationale: Text, public: Text }
    /// `was` holds the times as first shown: one left as it was is not a change (the field
    /// shows minutes, the record may hold seconds).
    EditIncident { id: IncidentId, was: [String; 2] ; public: Text, since: Text, until: Text }
    Review { id: IncidentId ;
        summary: Text, trigger: Text, root_cause: Text, factors: Text, lessons: Text, actions: Text }
    CreateHotfix { id: IncidentId ;
        version: Text, summary: Text, changes: Text, risks: Text, rollback: Text }
    Resolve { id: IncidentId ; note: Text }
    EditHotfix { id: ReleaseId ;
        version: Text, summary: Text, changes: Text, risks: Text, rollback: Text, add: Text }
    EditRegular { id: ReleaseId ; version: Text, summary: Text }
    PlanRelease { ; version: Text, summary: Text, planned: Text }
    Roles { ; grant: Pick<Grant>, user: Text, role: Pick<String> }
    Policy { ; file: Text }
    /// Demo stores only: act as another demo user. Changes the view, records nothing.
    SwitchUser { ; person: Pick<Person> }
    /// Approve or reject, bound to the revision shown.
    Decide { id: ReleaseId, vote: Vote, shown: Box<Review> ; role: Pick<String>, text: Text }
    Step { id: ReleaseId, step: Step ; }
    Verify { id: ReleaseId ; note: Text }
    /// Roll back (`rollback`) or cancel.
    End { id: ReleaseId, rollback: bool ; reason: Text }
    AddTest { id: ReleaseId ; name: Text, priority: Pick<Priority>, kind: Pick<TestKind>, owner: Text }
    ImportTests { id: ReleaseId ; files: Text }
    ImportAlert { ; file: Text }
    /// `text` is the notice as it would go out, filled in by the app's preview.
    Notify { id: crate::notify::Subject, webhooks: crate::notify::Webhooks, text: Vec<String> ; stage: Pick<Stage>, audience: Pick<Audience> }
    SetTest { id: ReleaseId, name: String ; status: Pick<TestStatus>, note: Text }
    Waive { id: ReleaseId, name: String ; reason: Text }
    Withdraw { id: ReleaseId ; reason: Text, role: Pick<String> }
    BreakGlass { id: ReleaseId ; reason: Text }
    Delegate { ; user: Text, to: Text, role: Pick<String>, until: Text }
    RemoveTest { id: ReleaseId, name: String ; reason: Text }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Form {
    pub kind: Kind,
    /// The focused row: a field index, or the number of fields for the confirm step.
    pub focus: usize,
    /// What `decide` says now: the events that would be recorded, or why it would be refused.
    pub preview: Result<Vec<String>, String>,
}

/// What happened to a dialog after a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormInput {
    Nothing,
    Moved,
    Changed,
    Submit,
    Cancel,
}

fn text(label: &'static str) -> Text {
    Text::new(label, "")
}

/// A time typed in a dialog: empty for none, `YYYY-MM-DD HH:MM` in UTC, or RFC 3339.
fn time_field(label: &str, field: &Text) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
    let v = field.value();
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.with_timezone(&chrono::Utc)));
    }
    chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M")
        .map(|t| Some(t.and_utc()))
        .map_err(|_| format!("{label} \"{v}\" is not a time such as 2026-12-05 09:12 (UTC)"))
}

impl Form {
    fn new(kind: Kind) -> Form {
        let mut form = Form {
            kind,
            focus: 0,
            preview: Ok(Vec::new()),
        };
        form.focus = form.first_focus();
        form
    }

    /// Where the focus starts: the first field, except in an approve or reject dialog, which
    /// starts in its comment or reason (the role is preselected, one field up), so that what
    /// is typed first is never taken by the role choice.
    pub fn first_focus(&self) -> usize {
        match self.kind {
            Kind::Decide { .. } => 1,
            _ => 0,
        }
    }

    pub fn fields(&self) -> Vec<&dyn Widget> {
        self.kind.widgets()
    }

    /// A confirm was refused: show why, and put the focus back on the fields, so what is typed
    /// next corrects them (on the confirm step it would do nothing, or `n` would cancel).
    pub fn refused(&mut self, why: String) {
        self.preview = Err(why);
        self.focus = self.first_focus();
    }

    /// Whether the focus is on the confirm step.
    pub fn on_button(&self) -> bool {
        self.focus >= self.kind.widgets().len()
    }

    pub fn title(&self) -> String {
        match &self.kind {
            Kind::NewIncident { .. } => "Report an incident".into(),
            Kind::Severity { id, .. } => format!("Change the severity of {id}"),
            Kind::Qualify { id, current, .. } => format!("Qualify {id} ({current})"),
            Kind::EditIncident { id, .. } => format!("What customers are told about {id}"),
            Kind::Review { id, .. } => format!("Post-incident review of {id}"),
            Kind::CreateHotfix { id, .. } => format!("Create a hotfix for {id}"),
            Kind::Resolve { id, .. } => format!("Resolve {id}"),
            Kind::EditHotfix { id, .. } | Kind::EditRegular { id, .. } => {
                format!("Edit {id} (approvals so far become stale)")
            }
            Kind::PlanRelease { .. } => "Plan a regular release".into(),
            Kind::Roles { .. } => "Grant or revoke a role (admin)".into(),
            Kind::Policy { .. } => "Replace the policy (admin)".into(),
            Kind::SwitchUser { .. } => "Act as another demo user (demo stores only)".into(),
            Kind::Decide {
                id, vote, shown, ..
            } => format!(
                "{} {id} revision {}?",
                match vote {
                    Vote::Approve => "Approve",
                    Vote::Reject => "Reject",
                },
                shown.seen.revision
            ),
            Kind::Step { id, step, .. } => match step {
                Step::Deploy => format!("Start deploying {id}?"),
                Step::Deployed => format!("Mark {id} deployed?"),
                Step::Close => format!("Close {id}?"),
            },
            Kind::Verify { id, .. } => format!("Mark {id} verified in production?"),
            Kind::End { id, rollback, .. } => {
                if *rollback {
                    format!("Roll back {id}?")
                } else {
                    format!("Cancel {id}?")
                }
            }
            Kind::AddTest { id, .. } => format!("Add a test to {id}"),
            Kind::ImportTests { id, .. } => format!("Import test results into {id}"),
            Kind::ImportAlert { .. } => "Import an alert".into(),
            Kind::Notify {
                id,
                webhooks,
                audience,
                ..
            } => match audience.value() {
                Some(a) if webhooks.has(*a) => {
                    format!("Send a notice about {id} to the {a} webhook")
                }
                Some(a) => format!("Notice about {id} (no webhook configured for {a})"),
                None => format!("Send a notice about {id}"),
            },
            Kind::SetTest { name, .. } => {
                format!("Set the status of {}", crate::sanitize::line(name))
            }
            Kind::Waive { name, .. } => format!("Waive {}", crate::sanitize::line(name)),
            Kind::Withdraw { id, .. } => format!("Withdraw your approval of {id}"),
            Kind::BreakGlass { id, .. } => {
                format!("Break the glass on {id}: open its gate without the missing approvals?")
            }
            Kind::Delegate { .. } => "Let a deputy approve as a role until a time".into(),
            Kind::RemoveTest { name, .. } => {
                format!("Remove {} from the list", crate::sanitize::line(name))
            }
        }
    }

    /// The confirm step's label: what Enter there does.
    pub fn button(&self) -> String {
        match &self.kind {
            Kind::Decide { vote, shown, .. } => match (&shown.moved, vote) {
                (Some((rev, _)), _) => format!("Review revision {rev} instead"),
                (None, Vote::Approve) => format!("Approve revision {}", shown.seen.revision),
                (None, Vote::Reject) => format!("Reject revision {}", shown.seen.revision),
            },
            Kind::SwitchUser { .. } => "Switch".into(),
            Kind::Notify {
                webhooks, audience, ..
            } if audience.value().is_some_and(|a| !webhooks.has(*a)) => "Write to a file".into(),
            Kind::Notify { .. } => "Send".into(),
            Kind::Policy { .. } | Kind::ImportTests { .. } | Kind::ImportAlert { .. } => {
                "Read and record".into()
            }
            _ => "Confirm".into(),
        }
    }

    /// What confirming asks for, or why the fields cannot make it.
    pub fn submit(&self) -> Result<Submit, String> {
        let command = match &self.kind {
            Kind::NewIncident {
                title,
                severity,
                services,
                impact,
            } => Command::ReportIncident {
                title: title.value(),
                severity: severity.chosen()?,
                services: services.list(),
                impact: impact.value(),
                public: String::new(),
                impact_since: None,
            },
            Kind::Severity {
                id,
                severity,
                reason,
            } => Command::ChangeSeverity {
                id: *id,
                severity: severity.chosen()?,
                reason: reason.value(),
            },
            Kind::Qualify {
                id,
                decision,
                risk,
                impact,
                rationale,
                public,
                ..
            } => Command::QualifyIncident {
                id: *id,
                decision: decision.chosen()?,
                risk: risk.chosen()?,
                impact: impact.value(),
                rationale: rationale.value(),
                public: public.value(),
            },
            Kind::EditIncident {
                id,
                was,
                public,
                since,
                until,
            } => {
                let changed = |field: &Text, was: &str, label: &str| {
                    if field.value().trim() == was {
                        Ok(None)
                    } else {
                        time_field(label, field)
                    }
                };
                Command::EditIncident {
                    id: *id,
                    public: Some(public.value()),
                    impact_since: changed(since, &was[0], "Impact since")?,
                    impact_until: changed(until, &was[1], "Impact until")?,
                }
            }
            Kind::Review {
                id,
                summary,
                trigger,
                root_cause,
                factors,
                lessons,
                actions,
            } => Command::RecordReview {
                id: *id,
                review: Box::new(crate::state::review::ReviewText {
                    summary: summary.value(),
                    trigger: trigger.value(),
                    root_cause: root_cause.value(),
                    factors: factors.value(),
                    lessons: lessons.value(),
                    actions: actions
                        .value()
                        .split(';')
                        .filter(|a| !a.trim().is_empty())
                        .map(str::parse)
                        .collect::<Result<_, String>>()?,
                }),
            },
            Kind::CreateHotfix {
                id,
                version,
                summary,
                changes,
                risks,
                rollback,
            } => Command::CreateHotfix {
                incidents: vec![*id],
                scope: ScopeInput {
                    version: version.value(),
                    summary: summary.value(),
                    changes: changes.value(),
                    risks: risks.value(),
                    rollback: rollback.value(),
                    code: None,
                    artifact: None,
                },
            },
            Kind::Resolve { id, note } => Command::ResolveIncident {
                id: *id,
                note: note.value(),
            },
            Kind::EditHotfix {
                id,
                version,
                summary,
                changes,
                risks,
                rollback,
                add,
            } => Command::EditRelease {
                id: *id,
                edit: ScopeEdit {
                    version: Some(version.value()),
                    summary: Some(summary.value()),
                    changes: Some(changes.value()),
                    risks: Some(risks.value()),
                    rollback: Some(rollback.value()),
                    add_incidents: add
                        .list()
                        .iter()
                        .map(|s| s.parse())
                        .collect::<Result<Vec<IncidentId>, _>>()?,
                    code: None,
                    artifact: None,
                },
            },
            Kind::EditRegular {
                id,
                version,
                summary,
            } => Command::EditRelease {
                id: *id,
                edit: ScopeEdit {
                    version: Some(version.value()),
                    summary: Some(summary.value()),
                    ..ScopeEdit::default()
                },
            },
            Kind::PlanRelease {
                version,
                summary,
                planned,
            } => {
                let planned_at = match planned.optional() {
                    None => None,
                    Some(t) => Some(
                        chrono::DateTime::parse_from_rfc3339(t.trim())
                            .map_err(|e| {
                                format!(
                                    "planned time \"{}\" is not RFC 3339 ({e}), e.g. 2026-12-01T09:00:00Z",
                                    crate::sanitize::line(&t)
                                )
                            })?
                            .with_timezone(&chrono::Utc),
                    ),
                };
                Command::PlanRegularRelease {
                    version: version.value(),
                    summary: summary.value(),
                    planned_at,
                    code: None,
                    artifact: None,
                }
            }
            Kind::Roles { grant, user, role } => {
                let (user, role) = (user.value().trim().to_string(), role.chosen()?);
                match grant.chosen()? {
                    Grant::Grant => Command::GrantRole { user, role },
                    Grant::Revoke => Command::RevokeRole { user, role },
                }
            }
            Kind::Policy { file } => {
                let mut path =
                    file.paths("a policy JSON file (see `hotfix policy show --json`)")?;
                return Ok(Submit::Load(Load::Policy(path.remove(0))));
            }
            Kind::SwitchUser { person } => return Ok(Submit::SwitchUser(person.chosen()?.name)),
            Kind::Decide { shown, .. } if shown.moved.is_some() => {
                return Ok(Submit::AcceptRevision);
            }
            Kind::Decide {
                id,
                vote,
                shown,
                role,
                text,
            } => Command::Decide {
                id: *id,
                vote: *vote,
                role: role.value().cloned(),
                text: text.value(),
                seen: Some(shown.seen.clone()),
                signature: None,
            },
            Kind::Step { id, step } => match step {
                Step::Deploy => Command::StartDeploy { id: *id },
                Step::Deployed => Command::MarkDeployed {
                    id: *id,
                    commit: None,
                    artifact: None,
                },
                Step::Close => Command::CloseRelease {
                    id: *id,
                    carried_to: None,
                },
            },
            Kind::Verify { id, note } => Command::VerifyRelease {
                id: *id,
                note: note.value(),
            },
            Kind::End {
                id,
                rollback,
                reason,
            } => {
                if *rollback {
                    Command::RollBack {
                        id: *id,
                        reason: reason.value(),
                    }
                } else {
                    Command::CancelRelease {
                        id: *id,
                        reason: reason.value(),
                    }
                }
            }
            Kind::AddTest {
                id,
                name,
                priority,
                kind,
                owner,
            } => Command::AddTest {
                id: *id,
                name: name.value(),
                priority: priority.chosen()?,
                automated: kind.chosen()? == TestKind::Automated,
                owner: owner.optional().map(|o| o.trim().to_string()),
            },
            Kind::ImportTests { id, files } => {
                let files = files.paths("at least one JUnit XML file")?;
                return Ok(Submit::Load(Load::TestResults(*id, files)));
            }
            Kind::ImportAlert { file } => {
                let mut path = file.paths("an Alertmanager or PagerDuty JSON file")?;
                return Ok(Submit::Load(Load::Alert(path.remove(0))));
            }
            Kind::Notify {
                id,
                webhooks,
                stage,
                audience,
                ..
            } => {
                let audience = audience.chosen()?;
                return Ok(Submit::Notice {
                    id: *id,
                    stage: stage.chosen()?,
                    audience,
                    send: webhooks.has(audience),
                });
            }
            Kind::SetTest {
                id,
                name,
                status,
                note,
            } => Command::SetTestStatus {
                id: *id,
                name: name.clone(),
                status: status.chosen()?,
                note: note.optional(),
            },
            Kind::BreakGlass { id, reason } => Command::BreakGlass {
                id: *id,
                reason: reason.value(),
            },
            Kind::Delegate {
                user,
                to,
                role,
                until,
            } => Command::Delegate {
                user: user.value().trim().to_string(),
                to: to.value().trim().to_string(),
                role: role.chosen()?,
                until: Some(time_field("Until", until)?.ok_or(
                    "Until is empty: give the time the delegation ends, such as 2026-12-06 08:00 (UTC)",
                )?),
            },
            Kind::Withdraw { id, reason, role } => Command::Withdraw {
                id: *id,
                role: role.value().cloned(),
                reason: reason.value(),
            },
            Kind::RemoveTest { id, name, reason } => Command::RemoveTest {
                id: *id,
                name: name.clone(),
                reason: reason.value(),
            },
            Kind::Waive { id, name, reason } => Command::WaiveTest {
                id: *id,
                name: name.clone(),
                reason: reason.value(),
            },
        };
        Ok(Submit::Command(command))
    }

    /// What a key does inside the dialog. `action` is the key's meaning in the key map's
    /// dialog section; a printable character in a text field is text whatever it is bound to.
    pub fn on_key(&mut self, key: KeyEvent, action: Option<Action>) -> FormInput {
        let count = self.kind.widgets().len();
        let rows = count + 1;
        let plain_char =
            matches!(key.code, KeyCode::Char(_)) && !key.modifiers.contains(KeyModifiers::CONTROL);
        let in_text = self
            .kind
            .widgets()
            .get(self.focus)
            .is_some_and(|w| w.is_text());
        if !(in_text && plain_char) {
            match action {
                Some(Action::PageDown | Action::PageUp) => {
                    if let Kind::Decide { shown, .. } = &mut self.kind {
                        // A page is ten lines; the view keeps it within the scope's length.
                        shown.scroll = if action == Some(Action::PageDown) {
                            shown.scroll.saturating_add(10)
                        } else {
                            shown.scroll.saturating_sub(10)
                        };
                        return FormInput::Moved;
                    }
                }
                Some(Action::Back) => return FormInput::Cancel,
                Some(Action::NextField) => {
                    self.focus = (self.focus + 1) % rows;
                    return FormInput::Moved;
                }
                Some(Action::PrevField) => {
                    self.focus = (self.focus + rows - 1) % rows;
                    return FormInput::Moved;
                }
                Some(Action::Submit) if self.on_button() => return FormInput::Submit,
                Some(Action::Submit) => {
                    self.focus += 1;
                    return FormInput::Moved;
                }
                Some(Action::Confirm) if self.on_button() => return FormInput::Submit,
                Some(Action::Dismiss) if self.on_button() => return FormInput::Cancel,
                _ => {}
            }
        }
        let mut widgets = self.kind.widgets_mut();
        let changed = widgets.get_mut(self.focus).is_some_and(|w| w.edit(key));
        if changed {
            FormInput::Changed
        } else {
            FormInput::Nothing
        }
    }

    /// The dialog's notice text, when it is a notice dialog (the preview fills it).
    pub fn notice_text_mut(&mut self) -> Option<&mut Vec<String>> {
        match &mut self.kind {
            Kind::Notify { text, .. } => Some(text),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
