//! One constructor per dialog: its fields, their first values, and what it is about.

use super::{
    Audience, Decision, Form, Grant, IncidentId, Kind, Person, Pick, Priority, ReleaseId, Review,
    Risk, Scope, Severity, Stage, Step, TestKind, TestStatus, Text, Vote, status_letter, text,
};

impl Form {
    pub fn new_incident() -> Form {
        Form::new(Kind::NewIncident {
            title: text("Title"),
            severity: Pick::new("Severity", Severity::ALL, Some(&Severity::P2)),
            services: text("Services (comma-separated)"),
            impact: text("Impact"),
        })
    }

    pub fn severity(id: IncidentId, current: Severity) -> Form {
        Form::new(Kind::Severity {
            id,
            severity: Pick::new("Severity", Severity::ALL, Some(&current)),
            reason: text("Reason"),
        })
    }

    /// `public` prefills what customers are told: asked for here, as the incident earns a
    /// hotfix, so the first users notice has words of its own.
    pub fn qualify(id: IncidentId, current: Severity, hotfixable: bool, public: &str) -> Form {
        let decision = if hotfixable {
            Decision::Hotfix
        } else {
            Decision::RegularRelease
        };
        Form::new(Kind::Qualify {
            id,
            current,
            decision: Pick::new("Decision", Decision::ALL, Some(&decision)),
            risk: Pick::new("Risk of the fix", Risk::ALL, Some(&Risk::Medium)),
            impact: text("Impact assessment"),
            rationale: text("Rationale"),
            public: Text::new("Public text", public),
        })
    }

    pub fn edit_incident(i: &crate::state::Incident) -> Form {
        let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default()
        };
        let was = [time(i.impact_since), time(i.impact_until)];
        Form::new(Kind::EditIncident {
            id: i.id,
            public: Text::new("Public text", &i.public),
            since: Text::new("Impact since (YYYY-MM-DD HH:MM UTC)", &was[0]),
            until: Text::new("Impact until (YYYY-MM-DD HH:MM UTC)", &was[1]),
            was,
        })
    }

    /// Prefilled with the review on record, so a rewrite changes what it must.
    pub fn review(i: &crate::state::Incident) -> Form {
        let t = i
            .review
            .as_ref()
            .map(|r| r.text.clone())
            .unwrap_or_default();
        let actions: Vec<String> = t
            .actions
            .iter()
            .map(|a| {
                let mut s = format!("{}|{}|{}", a.what, a.owner, a.due);
                if let Some(ticket) = &a.ticket {
                    s.push('|');
                    s.push_str(ticket);
                }
                s
            })
            .collect();
        Form::new(Kind::Review {
            id: i.id,
            summary: Text::new("Summary", &t.summary),
            trigger: Text::new("Trigger", &t.trigger),
            root_cause: Text::new("Root cause", &t.root_cause),
            factors: Text::new("Contributing factors", &t.factors),
            lessons: Text::new("Lessons", &t.lessons),
            actions: Text::new("Actions: what|owner|YYYY-MM-DD; …", &actions.join("; ")),
        })
    }

    /// `version` is prefilled with the next patch version the store suggests.
    pub fn create_hotfix(id: IncidentId, version: &str) -> Form {
        Form::new(Kind::CreateHotfix {
            id,
            version: Text::new("Version", version),
            summary: text("Summary"),
            changes: text("Changes"),
            risks: text("Risks"),
            rollback: text("Rollback plan"),
        })
    }

    pub fn resolve(id: IncidentId) -> Form {
        Form::new(Kind::Resolve {
            id,
            note: text("Note"),
        })
    }

    pub fn edit(id: ReleaseId, scope: &Scope) -> Form {
        if !id.is_hotfix() {
            return Form::new(Kind::EditRegular {
                id,
                version: Text::new("Version", &scope.version),
                summary: Text::new("Summary", &scope.summary),
            });
        }
        Form::new(Kind::EditHotfix {
            id,
            version: Text::new("Version", &scope.version),
            summary: Text::new("Summary", &scope.summary),
            changes: Text::new("Changes", &scope.changes),
            risks: Text::new("Risks", &scope.risks),
            rollback: Text::new("Rollback plan", &scope.rollback),
            add: text("Add incidents (comma-separated ids)"),
        })
    }

    pub fn plan_release(version: &str) -> Form {
        Form::new(Kind::PlanRelease {
            version: Text::new("Version", version),
            summary: text("Summary"),
            planned: text("Planned (RFC 3339, optional)"),
        })
    }

    pub fn roles(roles: &[String]) -> Form {
        Form::new(Kind::Roles {
            grant: Pick::new("Action", &[Grant::Grant, Grant::Revoke], None),
            user: text("User"),
            role: Pick::new("Role", roles, None),
        })
    }

    pub fn switch_user(people: &[Person], current: &str) -> Form {
        let at = people.iter().find(|p| p.name == current);
        Form::new(Kind::SwitchUser {
            person: Pick::new("Act as", people, at),
        })
    }

    pub fn policy() -> Form {
        Form::new(Kind::Policy {
            file: text("Policy JSON file"),
        })
    }

    /// Approve or reject `id` as one of `roles`, bound to the revision in `shown`.
    pub fn decide(id: ReleaseId, vote: Vote, roles: &[String], shown: Review) -> Form {
        let label = match vote {
            Vote::Approve => "Comment (optional)",
            Vote::Reject => "Reason",
        };
        Form::new(Kind::Decide {
            id,
            vote,
            shown: Box::new(shown),
            role: Pick::new("Role", roles, None),
            text: text(label),
        })
    }

    pub fn step(id: ReleaseId, step: Step) -> Form {
        Form::new(Kind::Step { id, step })
    }

    pub fn verify(id: ReleaseId) -> Form {
        Form::new(Kind::Verify {
            id,
            note: text("How it was verified"),
        })
    }

    pub fn end(id: ReleaseId, rollback: bool) -> Form {
        Form::new(Kind::End {
            id,
            rollback,
            reason: text("Reason"),
        })
    }

    pub fn add_test(id: ReleaseId, user: &str) -> Form {
        Form::new(Kind::AddTest {
            id,
            name: text("Name"),
            priority: Pick::new("Priority", Priority::ALL, None),
            kind: Pick::new("Kind", &[TestKind::Automated, TestKind::Manual], None),
            owner: Text::new("Owner", user),
        })
    }

    pub fn import_tests(id: ReleaseId) -> Form {
        Form::new(Kind::ImportTests {
            id,
            files: text("JUnit XML files (comma-separated)"),
        })
    }

    pub fn import_alert() -> Form {
        Form::new(Kind::ImportAlert {
            file: text("Alertmanager or PagerDuty JSON file"),
        })
    }

    /// A notice about a release (its stages) or an incident before its hotfix (investigating).
    pub fn notify(
        id: impl Into<crate::notify::Subject>,
        stage: Stage,
        webhooks: crate::notify::Webhooks,
    ) -> Form {
        Form::new(Kind::Notify {
            id: id.into(),
            webhooks,
            text: Vec::new(),
            stage: Pick::new("Stage", Stage::ALL, Some(&stage)),
            audience: Pick::new("Audience", Audience::ALL, None),
        })
    }

    /// The status picker: opens on the next status a tester usually records.
    pub fn set_test(id: ReleaseId, name: &str, current: TestStatus) -> Form {
        let next = match current {
            TestStatus::Pending => TestStatus::Running,
            TestStatus::Running => TestStatus::Passed,
            other => other,
        };
        Form::new(Kind::SetTest {
            id,
            name: name.to_string(),
            status: Pick::new(
                "Status (p passed, f failed, s skipped, r running, n pending)",
                TestStatus::ALL,
                Some(&next),
            )
            .lettered(
                &TestStatus::ALL
                    .iter()
                    .map(|s| status_letter(*s))
                    .collect::<Vec<_>>(),
            ),
            note: text("Note"),
        })
    }

    pub fn withdraw(id: ReleaseId, roles: &[String]) -> Form {
        Form::new(Kind::Withdraw {
            id,
            reason: text("Reason"),
            role: Pick::new("Role", roles, roles.first()),
        })
    }

    pub fn break_glass(id: ReleaseId) -> Form {
        Form::new(Kind::BreakGlass {
            id,
            reason: text("Reason (who could not be reached, and why it cannot wait)"),
        })
    }

    /// The approving `roles`, `held` first chosen, lent by `user` until `until` (prefilled:
    /// the text of a time).
    pub fn delegate(user: &str, roles: &[String], held: Option<&String>, until: &str) -> Form {
        Form::new(Kind::Delegate {
            user: Text::new("Holder", user),
            to: text("Deputy"),
            role: Pick::new("Role", roles, held.or(roles.first())),
            until: Text::new("Until (UTC, YYYY-MM-DD HH:MM, or RFC 3339)", until),
        })
    }

    pub fn remove_test(id: ReleaseId, name: &str) -> Form {
        Form::new(Kind::RemoveTest {
            id,
            name: name.to_string(),
            reason: text("Reason"),
        })
    }

    pub fn waive(id: ReleaseId, name: &str) -> Form {
        Form::new(Kind::Waive {
            id,
            name: name.to_string(),
            reason: text("Reason"),
        })
    }
}
