//! Forms and confirmation dialogs: a few fields, validated live by running `decide` on what
//! would be recorded, so a form says exactly what the store will say before anything is written.

use crate::state::{
    Audience, Command, Decision, IncidentId, Priority, ReleaseId, Risk, ScopeEdit, ScopeInput,
    Severity, Stage, TestStatus,
};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A one-line text input with a cursor (in characters).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Input {
    pub text: String,
    pub cursor: usize,
}

impl Input {
    pub fn new(text: &str) -> Input {
        Input {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_index)
            .map_or(self.text.len(), |(i, _)| i)
    }

    /// Applies an editing key; returns whether it was one.
    pub fn edit(&mut self, key: KeyEvent) -> bool {
        let len = self.text.chars().count();
        match key.code {
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.text.clear();
                self.cursor = 0;
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                let at = self.byte(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Delete if self.cursor < len => {
                let at = self.byte(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(len),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = len,
            KeyCode::Backspace | KeyCode::Delete => {}
            _ => return false,
        }
        true
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(Input),
    /// One of `options`; Left/Right or Space change it.
    Choice(Vec<String>, usize),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub label: &'static str,
    pub value: Value,
}

impl Field {
    fn text(label: &'static str, initial: &str) -> Field {
        Field {
            label,
            value: Value::Text(Input::new(initial)),
        }
    }

    fn choice<T: ToString>(label: &'static str, options: &[T], selected: usize) -> Field {
        Field {
            label,
            value: Value::Choice(options.iter().map(ToString::to_string).collect(), selected),
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.value {
            Value::Text(i) => &i.text,
            Value::Choice(options, i) => options.get(*i).map_or("", String::as_str),
        }
    }
}

/// What a form asks for; with the field values it becomes a [`Command`].
#[derive(Clone, Debug, PartialEq)]
pub enum FormKind {
    NewIncident,
    Severity(IncidentId),
    Qualify(IncidentId),
    CreateHotfix(IncidentId),
    Resolve(IncidentId),
    Edit(ReleaseId),
    PlanRelease,
    Roles,
    Policy,
    /// Demo stores only: act as another demo user. Changes the view, records nothing.
    SwitchUser,
    Approve(ReleaseId),
    Reject(ReleaseId),
    Deploy(ReleaseId),
    Deployed(ReleaseId),
    Verify(ReleaseId),
    Close(ReleaseId),
    Rollback(ReleaseId),
    Cancel(ReleaseId),
    AddTest(ReleaseId),
    ImportTests(ReleaseId),
    ImportAlert,
    /// Records a notice after the shell sent it; the form only chooses stage and audience.
    Notify(ReleaseId),
    SetTest(ReleaseId, String),
    Waive(ReleaseId, String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Form {
    pub kind: FormKind,
    pub title: String,
    pub fields: Vec<Field>,
    /// The focused row: a field index, or `fields.len()` for the confirm button.
    pub focus: usize,
    /// What `decide` says now: the events that would be recorded, or why it would be refused.
    pub preview: Result<Vec<String>, String>,
    /// Confirmation dialogs start on the button, where `y`/Enter confirm and `n`/Esc cancel.
    pub confirm: bool,
}

impl Form {
    fn new(kind: FormKind, title: String, fields: Vec<Field>, confirm: bool) -> Form {
        let focus = if confirm { fields.len() } else { 0 };
        Form {
            kind,
            title,
            fields,
            focus,
            preview: Ok(Vec::new()),
            confirm,
        }
    }

    pub fn on_button(&self) -> bool {
        self.focus >= self.fields.len()
    }

    pub fn new_incident() -> Form {
        let fields = vec![
            Field::text("Title", ""),
            Field::choice("Severity", Severity::ALL, 1),
            Field::text("Services (comma-separated)", ""),
            Field::text("Impact", ""),
        ];
        Form::new(
            FormKind::NewIncident,
            "Report an incident".into(),
            fields,
            false,
        )
    }

    pub fn severity(id: IncidentId, current: Severity) -> Form {
        let idx = Severity::ALL
            .iter()
            .position(|s| *s == current)
            .unwrap_or(0);
        let fields = vec![
            Field::choice("Severity", Severity::ALL, idx),
            Field::text("Reason", ""),
        ];
        Form::new(
            FormKind::Severity(id),
            format!("Change the severity of {id}"),
            fields,
            false,
        )
    }

    pub fn qualify(id: IncidentId, severity: Severity, hotfixable: bool) -> Form {
        let decision = if hotfixable { 0 } else { 1 };
        let fields = vec![
            Field::choice("Decision", Decision::ALL, decision),
            Field::choice("Risk of the fix", Risk::ALL, 1),
            Field::text("Impact assessment", ""),
            Field::text("Rationale", ""),
        ];
        Form::new(
            FormKind::Qualify(id),
            format!("Qualify {id} ({severity})"),
            fields,
            false,
        )
    }

    pub fn create_hotfix(id: IncidentId) -> Form {
        let fields = vec![
            Field::text("Version", ""),
            Field::text("Summary", ""),
            Field::text("Changes", ""),
            Field::text("Risks", ""),
            Field::text("Rollback plan", ""),
        ];
        Form::new(
            FormKind::CreateHotfix(id),
            format!("Create a hotfix for {id}"),
            fields,
            false,
        )
    }

    pub fn resolve(id: IncidentId) -> Form {
        Form::new(
            FormKind::Resolve(id),
            format!("Resolve {id}"),
            vec![Field::text("Note", "")],
            false,
        )
    }

    pub fn edit(id: ReleaseId, scope: &crate::state::Scope) -> Form {
        let mut fields = vec![
            Field::text("Version", &scope.version),
            Field::text("Summary", &scope.summary),
        ];
        if id.is_hotfix() {
            fields.extend([
                Field::text("Changes", &scope.changes),
                Field::text("Risks", &scope.risks),
                Field::text("Rollback plan", &scope.rollback),
                Field::text("Add incidents (comma-separated ids)", ""),
            ]);
        }
        Form::new(
            FormKind::Edit(id),
            format!("Edit {id} (approvals so far become stale)"),
            fields,
            false,
        )
    }

    pub fn plan_release() -> Form {
        let fields = vec![
            Field::text("Version", ""),
            Field::text("Summary", ""),
            Field::text("Planned (RFC 3339, optional)", ""),
        ];
        Form::new(
            FormKind::PlanRelease,
            "Plan a regular release".into(),
            fields,
            false,
        )
    }

    pub fn roles(roles: &[String]) -> Form {
        let fields = vec![
            Field::choice("Action", &["grant", "revoke"], 0),
            Field::text("User", ""),
            Field::choice("Role", roles, 0),
        ];
        Form::new(
            FormKind::Roles,
            "Grant or revoke a role (admin)".into(),
            fields,
            false,
        )
    }

    pub fn switch_user(users: &[String], current: &str) -> Form {
        let idx = users.iter().position(|u| u == current).unwrap_or(0);
        let fields = vec![Field::choice("Act as", users, idx)];
        Form::new(
            FormKind::SwitchUser,
            "Act as another demo user (demo stores only)".into(),
            fields,
            false,
        )
    }

    /// The user chosen in a switch-user form.
    pub fn chosen_user(&self) -> Option<String> {
        (self.kind == FormKind::SwitchUser).then(|| self.field("Act as").to_string())
    }

    pub fn policy() -> Form {
        Form::new(
            FormKind::Policy,
            "Replace the policy (admin)".into(),
            vec![Field::text("Policy JSON file", "")],
            false,
        )
    }

    /// Approve, offering a choice only when the user holds several open roles.
    pub fn approve(id: ReleaseId, roles: &[String]) -> Form {
        let mut fields = Vec::new();
        if roles.len() > 1 {
            fields.push(Field::choice("Role", roles, 0));
        }
        fields.push(Field::text("Comment (optional)", ""));
        Form::new(
            FormKind::Approve(id),
            format!("Approve {id}?"),
            fields,
            true,
        )
    }

    pub fn reject(id: ReleaseId, roles: &[String]) -> Form {
        let mut fields = Vec::new();
        if roles.len() > 1 {
            fields.push(Field::choice("Role", roles, 0));
        }
        fields.push(Field::text("Reason", ""));
        let mut form = Form::new(FormKind::Reject(id), format!("Reject {id}?"), fields, true);
        form.focus = form.fields.len() - 1; // the reason is required: start there
        form
    }

    /// A plain confirmation (deploy and the later lifecycle steps).
    pub fn step(kind: FormKind, title: String) -> Form {
        Form::new(kind, title, Vec::new(), true)
    }

    /// Rollback and cancel: a reason is required, so the form starts in it.
    pub fn with_reason(kind: FormKind, title: String) -> Form {
        let confirm = matches!(kind, FormKind::Rollback(_));
        let mut form = Form::new(kind, title, vec![Field::text("Reason", "")], confirm);
        form.focus = 0;
        form
    }

    pub fn add_test(id: ReleaseId, user: &str) -> Form {
        let fields = vec![
            Field::text("Name", ""),
            Field::choice("Priority", Priority::ALL, 0),
            Field::choice("Kind", &["automated", "manual"], 0),
            Field::text("Owner", user),
        ];
        Form::new(
            FormKind::AddTest(id),
            format!("Add a test to {id}"),
            fields,
            false,
        )
    }

    pub fn import_tests(id: ReleaseId) -> Form {
        let fields = vec![Field::text("JUnit XML files (comma-separated)", "")];
        Form::new(
            FormKind::ImportTests(id),
            format!("Import test results into {id}"),
            fields,
            false,
        )
    }

    pub fn import_alert() -> Form {
        let fields = vec![Field::text("Alertmanager or PagerDuty JSON file", "")];
        Form::new(
            FormKind::ImportAlert,
            "Import an alert".into(),
            fields,
            false,
        )
    }

    pub fn notify(id: ReleaseId, stage: Stage) -> Form {
        let idx = Stage::ALL.iter().position(|s| *s == stage).unwrap_or(0);
        let fields = vec![
            Field::choice("Stage", Stage::ALL, idx),
            Field::choice("Audience", Audience::ALL, 0),
        ];
        Form::new(
            FormKind::Notify(id),
            format!("Send a notice about {id} to the webhook"),
            fields,
            true,
        )
    }

    pub fn set_test(id: ReleaseId, name: &str, current: TestStatus) -> Form {
        let idx = TestStatus::ALL
            .iter()
            .position(|s| *s == current)
            .unwrap_or(0);
        let fields = vec![
            Field::choice("Status", TestStatus::ALL, idx),
            Field::text("Note", ""),
        ];
        Form::new(
            FormKind::SetTest(id, name.to_string()),
            format!("Set the status of {name}"),
            fields,
            false,
        )
    }

    pub fn waive(id: ReleaseId, name: &str) -> Form {
        Form::new(
            FormKind::Waive(id, name.to_string()),
            format!("Waive {name}"),
            vec![Field::text("Reason", "")],
            false,
        )
    }

    fn field(&self, label: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.label.starts_with(label))
            .map_or("", Field::as_str)
    }

    fn role(&self) -> Option<String> {
        self.fields
            .iter()
            .find(|f| f.label == "Role")
            .map(|f| f.as_str().to_string())
    }

    /// The command the form asks for, or why the fields cannot make one.
    pub fn command(&self) -> Result<Command, String> {
        let f = |label: &str| self.field(label).to_string();
        let list = |text: &str| -> Vec<String> {
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        };
        let optional = |label: &str| {
            let v = f(label);
            (!v.is_empty()).then_some(v)
        };
        Ok(match &self.kind {
            FormKind::NewIncident => Command::ReportIncident {
                title: f("Title"),
                severity: f("Severity").parse()?,
                services: list(self.field("Services")),
                impact: f("Impact"),
            },
            FormKind::Severity(id) => Command::ChangeSeverity {
                id: *id,
                severity: f("Severity").parse()?,
                reason: f("Reason"),
            },
            FormKind::Qualify(id) => Command::QualifyIncident {
                id: *id,
                decision: f("Decision").parse()?,
                risk: f("Risk").parse()?,
                impact: f("Impact"),
                rationale: f("Rationale"),
            },
            FormKind::CreateHotfix(id) => Command::CreateHotfix {
                incidents: vec![*id],
                scope: ScopeInput {
                    version: f("Version"),
                    summary: f("Summary"),
                    changes: f("Changes"),
                    risks: f("Risks"),
                    rollback: f("Rollback"),
                },
            },
            FormKind::Resolve(id) => Command::ResolveIncident {
                id: *id,
                note: f("Note"),
            },
            FormKind::Edit(id) => {
                let add_incidents = list(self.field("Add incidents"))
                    .iter()
                    .map(|s| s.parse())
                    .collect::<Result<Vec<IncidentId>, _>>()?;
                let keep = |label: &str| {
                    Some(f(label))
                        .filter(|_| self.fields.iter().any(|x| x.label.starts_with(label)))
                };
                Command::EditRelease {
                    id: *id,
                    edit: ScopeEdit {
                        version: keep("Version"),
                        summary: keep("Summary"),
                        changes: keep("Changes"),
                        risks: keep("Risks"),
                        rollback: keep("Rollback"),
                        add_incidents,
                    },
                }
            }
            FormKind::PlanRelease => {
                let planned_at = match optional("Planned") {
                    None => None,
                    Some(t) => Some(
                        chrono::DateTime::parse_from_rfc3339(&t)
                            .map_err(|e| format!("planned time \"{t}\" is not RFC 3339 ({e}), e.g. 2026-12-01T09:00:00Z"))?
                            .with_timezone(&chrono::Utc),
                    ),
                };
                Command::PlanRegularRelease {
                    version: f("Version"),
                    summary: f("Summary"),
                    planned_at,
                }
            }
            FormKind::Roles => {
                let (user, role) = (f("User"), f("Role"));
                if f("Action") == "grant" {
                    Command::GrantRole { user, role }
                } else {
                    Command::RevokeRole { user, role }
                }
            }
            FormKind::Policy => {
                let path = f("Policy");
                if path.is_empty() {
                    return Err(
                        "give the path of a policy JSON file (see `hotfix policy show --json`)"
                            .into(),
                    );
                }
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {path}: {e}"))?;
                Command::SetPolicy {
                    policy: crate::state::Policy::from_json(&text).map_err(|r| r.message)?,
                }
            }
            FormKind::SwitchUser => return Err("switching user records nothing".into()),
            FormKind::Approve(id) => Command::Approve {
                id: *id,
                role: self.role(),
                comment: f("Comment"),
            },
            FormKind::Reject(id) => Command::Reject {
                id: *id,
                role: self.role(),
                reason: f("Reason"),
            },
            FormKind::Deploy(id) => Command::StartDeploy { id: *id },
            FormKind::Deployed(id) => Command::MarkDeployed { id: *id },
            FormKind::Verify(id) => Command::VerifyRelease { id: *id },
            FormKind::Close(id) => Command::CloseRelease { id: *id },
            FormKind::Rollback(id) => Command::RollBack {
                id: *id,
                reason: f("Reason"),
            },
            FormKind::Cancel(id) => Command::CancelRelease {
                id: *id,
                reason: f("Reason"),
            },
            FormKind::AddTest(id) => Command::AddTest {
                id: *id,
                name: f("Name"),
                priority: f("Priority").parse()?,
                automated: f("Kind") == "automated",
                owner: optional("Owner"),
            },
            FormKind::SetTest(id, name) => Command::SetTestStatus {
                id: *id,
                name: name.clone(),
                status: f("Status").parse()?,
                note: optional("Note"),
            },
            FormKind::ImportTests(id) => {
                let mut results = Vec::new();
                let files = list(self.field("JUnit"));
                if files.is_empty() {
                    return Err("give the path of at least one JUnit XML file".into());
                }
                for file in files {
                    let text = std::fs::read_to_string(&file)
                        .map_err(|e| format!("cannot read {file}: {e}"))?;
                    results.extend(crate::import::junit::parse(&text, &file)?);
                }
                Command::ImportTestResults { id: *id, results }
            }
            FormKind::ImportAlert => {
                let file = f("Alertmanager");
                if file.is_empty() {
                    return Err("give the path of an Alertmanager or PagerDuty JSON file".into());
                }
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| format!("cannot read {file}: {e}"))?;
                Command::ImportAlert {
                    alert: crate::import::alerts::parse(&text, &file)?,
                }
            }
            FormKind::Notify(id) => Command::RecordNotice {
                id: *id,
                stage: f("Stage").parse()?,
                audience: f("Audience").parse()?,
                channel: "webhook".into(),
                error: None,
            },
            FormKind::Waive(id, name) => Command::WaiveTest {
                id: *id,
                name: name.clone(),
                reason: f("Reason"),
            },
        })
    }

    /// What a key does inside the form.
    pub fn on_key(&mut self, key: KeyEvent) -> FormInput {
        let rows = self.fields.len() + 1;
        match key.code {
            KeyCode::Esc => return FormInput::Cancel,
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % rows,
            KeyCode::BackTab | KeyCode::Up => self.focus = (self.focus + rows - 1) % rows,
            KeyCode::Enter if self.on_button() || self.focus + 1 == self.fields.len() => {
                return FormInput::Submit;
            }
            KeyCode::Enter => self.focus += 1,
            KeyCode::Char('y') if self.on_button() => return FormInput::Submit,
            KeyCode::Char('n') if self.on_button() => return FormInput::Cancel,
            _ => {
                let Some(field) = self.fields.get_mut(self.focus) else {
                    return FormInput::Nothing;
                };
                match &mut field.value {
                    Value::Text(input) => {
                        if !input.edit(key) {
                            return FormInput::Nothing;
                        }
                    }
                    Value::Choice(options, i) => match key.code {
                        KeyCode::Left => *i = (*i + options.len() - 1) % options.len().max(1),
                        KeyCode::Right | KeyCode::Char(' ') => *i = (*i + 1) % options.len().max(1),
                        // A letter picks the next option starting with it, as in a select box.
                        KeyCode::Char(c) => {
                            let n = options.len();
                            let starts = |k: usize| {
                                options[k]
                                    .to_lowercase()
                                    .starts_with(c.to_ascii_lowercase())
                            };
                            match (1..=n).map(|d| (*i + d) % n).find(|k| starts(*k)) {
                                Some(k) => *i = k,
                                None => return FormInput::Nothing,
                            }
                        }
                        _ => return FormInput::Nothing,
                    },
                }
                return FormInput::Changed;
            }
        }
        FormInput::Moved
    }
}

/// What happened to a form after a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormInput {
    Nothing,
    Moved,
    Changed,
    Submit,
    Cancel,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(form: &mut Form, code: KeyCode) -> FormInput {
        form.on_key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn typed(form: &mut Form, text: &str) {
        for c in text.chars() {
            press(form, KeyCode::Char(c));
        }
    }

    #[test]
    fn a_new_incident_form_builds_the_command() {
        let mut form = Form::new_incident();
        typed(&mut form, "DB down");
        press(&mut form, KeyCode::Tab);
        press(&mut form, KeyCode::Left); // P2 -> P1
        press(&mut form, KeyCode::Enter);
        typed(&mut form, "db, api");
        assert_eq!(
            form.command(),
            Ok(Command::ReportIncident {
                title: "DB down".into(),
                severity: Severity::P1,
                services: vec!["db".into(), "api".into()],
                impact: String::new()
            })
        );
        press(&mut form, KeyCode::Enter);
        assert_eq!(press(&mut form, KeyCode::Enter), FormInput::Submit);
    }

    #[test]
    fn confirmation_dialogs_start_on_the_button() {
        let mut form = Form::approve(ReleaseId::Hotfix(1), &["prod-owner".into()]);
        assert!(form.on_button());
        assert_eq!(press(&mut form, KeyCode::Char('n')), FormInput::Cancel);
        assert_eq!(press(&mut form, KeyCode::Char('y')), FormInput::Submit);
        press(&mut form, KeyCode::Up);
        typed(&mut form, "yes");
        assert!(
            matches!(form.command(), Ok(Command::Approve { comment, role: None, .. }) if comment == "yes")
        );
    }

    #[test]
    fn input_edits_with_a_cursor() {
        let mut i = Input::new("héllo");
        i.edit(KeyEvent::new(KeyCode::Left, KeyModifiers::NONE));
        i.edit(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
        i.edit(KeyEvent::new(KeyCode::Char('L'), KeyModifiers::NONE));
        assert_eq!(i.text, "hélLo");
        i.edit(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(i.text, "");
    }

    #[test]
    fn bad_planned_times_are_explained() {
        let mut form = Form::plan_release();
        form.fields[2].value = Value::Text(Input::new("tomorrow"));
        assert!(form.command().unwrap_err().contains("RFC 3339"));
    }
}
