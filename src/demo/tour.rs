//! The tour: a small store that shows every part of the process, written command by command
//! through the store, so it verifies like any other.

use super::{
    Audience, Command, Decision, Duration, Error, ExecError, IncidentId, Priority, ReleaseId, Risk,
    ScopeEdit, ScopeInput, Severity, Stage, Store, TestStatus, Vote,
};
use chrono::{DateTime, Utc};
use std::path::Path;

pub(super) struct Script {
    store: Store,
    now: DateTime<Utc>,
}

impl Script {
    /// Runs `command` as `actor`, `minutes_ago` before now.
    fn run(&mut self, actor: &str, minutes_ago: i64, command: Command) -> Result<(), Error> {
        let at = self.now - Duration::minutes(minutes_ago);
        self.store
            .execute(actor, at, command)
            .map(|_| ())
            .map_err(|e| match e {
                ExecError::Refused(r) => Error::Failed(format!("the demo script was refused: {r}")),
                ExecError::Store(s) => s.into(),
            })
    }

    fn incident(
        &mut self,
        by: &str,
        ago: i64,
        title: &str,
        severity: Severity,
        services: &[&str],
        impact: &str,
    ) -> Result<(), Error> {
        let services = services.iter().map(ToString::to_string).collect();
        self.run(
            by,
            ago,
            Command::ReportIncident {
                title: title.into(),
                severity,
                services,
                impact: impact.into(),
                public: String::new(),
                // Customers were hit a few minutes before anyone reported it.
                impact_since: Some(self.now - Duration::minutes(ago + 7)),
            },
        )
    }

    fn qualify(
        &mut self,
        ago: i64,
        id: u64,
        decision: Decision,
        risk: Risk,
        [impact, rationale, public]: [&str; 3],
    ) -> Result<(), Error> {
        let command = Command::QualifyIncident {
            id: IncidentId(id),
            decision,
            risk,
            impact: impact.into(),
            rationale: rationale.into(),
            public: public.into(),
        };
        self.run("avery", ago, command)
    }

    fn test(
        &mut self,
        ago: i64,
        hf: u64,
        name: &str,
        priority: Priority,
        automated: bool,
        owner: &str,
    ) -> Result<(), Error> {
        let command = Command::AddTest {
            id: ReleaseId::Hotfix(hf),
            name: name.into(),
            priority,
            automated,
            owner: Some(owner.into()),
        };
        self.run("sam", ago, command)
    }

    fn set(
        &mut self,
        by: &str,
        ago: i64,
        hf: u64,
        name: &str,
        status: TestStatus,
        note: &str,
    ) -> Result<(), Error> {
        let note = (!note.is_empty()).then(|| note.to_string());
        self.run(
            by,
            ago,
            Command::SetTestStatus {
                id: ReleaseId::Hotfix(hf),
                name: name.into(),
                status,
                note,
            },
        )
    }

    fn notice(
        &mut self,
        by: &str,
        ago: i64,
        hf: u64,
        stage: Stage,
        audience: Audience,
        error: Option<&str>,
    ) -> Result<(), Error> {
        let command = Command::RecordNotice {
            id: ReleaseId::Hotfix(hf),
            stage,
            audience,
            channel: "webhook".into(),
            error: error.map(String::from),
        };
        self.run(by, ago, command)
    }

    fn approve(
        &mut self,
        by: &str,
        ago: i64,
        hf: u64,
        role: &str,
        comment: &str,
    ) -> Result<(), Error> {
        let command = Command::Decide {
            vote: Vote::Approve,
            seen: None,
            id: ReleaseId::Hotfix(hf),
            role: Some(role.into()),
            text: comment.into(),
            signature: None,
        };
        self.run(by, ago, command)
    }
}

pub(super) fn hotfix(
    incident: u64,
    version: &str,
    summary: &str,
    changes: &str,
    risks: &str,
    rollback: &str,
) -> Command {
    Command::CreateHotfix {
        incidents: vec![IncidentId(incident)],
        scope: ScopeInput {
            version: version.into(),
            summary: summary.into(),
            changes: changes.into(),
            risks: risks.into(),
            rollback: rollback.into(),
            code: None,
            artifact: None,
        },
    }
}

pub(super) fn write_into(dir: &Path, you: &str, now: DateTime<Utc>) -> Result<u64, Error> {
    let store = Store::create(dir)?;
    let mut s = Script { store, now };
    let day = 24 * 60;
    s.run("morgan", 7 * day, Command::InitDemo)?;
    for (user, role) in [
        ("avery", "sre-avp"),
        ("dana", "dev-lead"),
        ("sam", "dev-lead"),
        ("priya", "prod-owner"),
        ("quinn", "qa"),
        (you, "admin"),
        (you, "sre-avp"),
        (you, "prod-owner"),
    ] {
        if !s.store.model.holds(user, role) {
            s.run(
                "morgan",
                7 * day - 5,
                Command::GrantRole {
                    user: user.into(),
                    role: role.into(),
                },
            )?;
        }
    }

    // HF-1: an older hotfix, taken all the way to closed.
    let t = 6 * day;
    s.incident(
        "quinn",
        t,
        "Password reset e-mails delayed by 40 minutes",
        Severity::P2,
        &["auth", "mailer"],
        "Users locked out cannot reset passwords; support queue x3",
    )?;
    s.qualify(
        t - 30,
        1,
        Decision::Hotfix,
        Risk::Low,
        [
            "All password resets; about 2,000 users a day",
            "Queue consumer misconfigured in 4.11.1; a config-only fix",
            "Password reset e-mails are arriving late, some by up to an hour.",
        ],
    )?;
    s.run(
        "sam",
        t - 60,
        hotfix(
            1,
            "4.11.2",
            "Restore mailer queue concurrency",
            "mailer: concurrency 1 -> 16 (config)",
            "Higher SMTP rate; provider limit is 50/s",
            "Redeploy 4.11.1 config",
        ),
    )?;
    s.test(
        t - 70,
        1,
        "mailer::reset_mail_under_60s",
        Priority::Critical,
        true,
        "quinn",
    )?;
    s.set(
        "quinn",
        t - 100,
        1,
        "mailer::reset_mail_under_60s",
        TestStatus::Passed,
        "p95 14 s on staging",
    )?;
    s.approve("avery", t - 110, 1, "sre-avp", "Low risk, config only")?;
    s.approve("dana", t - 115, 1, "dev-lead", "")?;
    let hf1 = ReleaseId::Hotfix(1);
    s.notice("sam", t - 116, 1, Stage::Planned, Audience::Ops, None)?;
    s.run("sam", t - 120, Command::StartDeploy { id: hf1 })?;
    s.notice("sam", t - 121, 1, Stage::Deploying, Audience::Ops, None)?;
    s.run(
        "sam",
        t - 135,
        Command::MarkDeployed {
            id: hf1,
            commit: None,
            artifact: None,
        },
    )?;
    s.notice("sam", t - 140, 1, Stage::Deployed, Audience::Ops, None)?;
    s.notice("sam", t - 141, 1, Stage::Deployed, Audience::Users, None)?;
    s.run(
        "sam",
        t - 200,
        Command::VerifyRelease {
            id: hf1,
            note: String::new(),
        },
    )?;
    s.run(
        "quinn",
        t - 210,
        Command::EditIncident {
            id: IncidentId(1),
            public: None,
            impact_since: None,
            impact_until: Some(now - Duration::minutes(t - 150)),
        },
    )?;
    // Reviewed though a P2 needs no review: the team writes one when there is a lesson.
    let action = |what: &str, owner: &str, days: i64, ticket: Option<&str>| {
        crate::state::review::ActionInput {
            what: what.into(),
            owner: owner.into(),
            due: (now - Duration::minutes(t) + Duration::days(days)).date_naive(),
            ticket: ticket.map(String::from),
        }
    };
    s.run(
        "avery",
        t - 280,
        Command::RecordReview {
            id: IncidentId(1),
            review: Box::new(crate::state::review::ReviewText {
                summary: "Password reset e-mails queued for up to 40 minutes after 4.11.1 set the mailer's consumer concurrency to 1.".into(),
                trigger: "The 4.11.1 deploy, which carried a test configuration into production.".into(),
                root_cause: "Mailer settings live in one file for every environment, and nothing checks the production values.".into(),
                factors: "No alert on the mail queue's age; the support queue noticed first.".into(),
                lessons: "Configuration is code: review it and test it like code.\nAlert on what users wait for, not only on errors.".into(),
                actions: vec![
                    action("Alert when the oldest queued mail is older than 5 minutes", "avery", 2, Some("OPS-412")),
                    action("Split mailer settings per environment, with a check in CI", "sam", 14, Some("MAIL-77")),
                ],
            }),
        },
    )?;
    s.run(
        "sam",
        t - 300,
        Command::CloseRelease {
            id: hf1,
            carried_to: None,
        },
    )?;
    s.run(
        "avery",
        t - 2 * day,
        Command::CompleteAction {
            id: IncidentId(1),
            item: 1,
        },
    )?;

    // Open incidents of every severity, one of them past its target.
    s.incident(
        "quinn",
        3 * day,
        "Dark-mode contrast too low on the settings page",
        Severity::P4,
        &["web"],
        "Accessibility complaint; no outage",
    )?;
    s.incident(
        "priya",
        2 * day,
        "Invoice e-mail footer shows last year's address",
        Severity::P3,
        &["billing"],
        "Legal asked for a fix this month",
    )?;
    s.qualify(
        2 * day - 60,
        3,
        Decision::RegularRelease,
        Risk::Low,
        [
            "Cosmetic, every invoice",
            "Not urgent: ship with 4.13.0",
            "",
        ],
    )?;
    s.incident(
        "quinn",
        30 * 60,
        "Mobile push notifications delivered twice",
        Severity::P2,
        &["notifications"],
        "Duplicate pushes for about 8% of Android users",
    )?;

    // HF-2: deployed yesterday's P2, not verified yet, so still in flight.
    s.incident(
        "quinn",
        20 * 60,
        "Search p99 latency above 2 s in eu-west",
        Severity::P2,
        &["search"],
        "Search timeouts for EU customers",
    )?;
    s.qualify(
        19 * 60,
        5,
        Decision::Hotfix,
        Risk::Medium,
        [
            "EU search, about 30% of traffic",
            "Index settings regression in 3.8.4",
            "Search is slow or times out for some customers in Europe.",
        ],
    )?;
    s.run(
        "dana",
        18 * 60,
        hotfix(
            5,
            "3.8.5",
            "Revert the eu-west index refresh interval",
            "search: refresh_interval 1s -> 30s in eu-west",
            "Fresher results arrive 30 s later",
            "Re-apply 3.8.4 settings",
        ),
    )?;
    for (name, priority) in [
        ("search::p99_under_budget", Priority::Critical),
        ("search::eu_west_failover", Priority::High),
        ("search::facet_counts", Priority::Medium),
    ] {
        s.test(18 * 60 - 5, 2, name, priority, true, "quinn")?;
    }
    s.set(
        "quinn",
        6 * 60,
        2,
        "search::p99_under_budget",
        TestStatus::Passed,
        "p99 740 ms",
    )?;
    s.set(
        "quinn",
        6 * 60,
        2,
        "search::eu_west_failover",
        TestStatus::Passed,
        "",
    )?;
    s.approve("avery", 5 * 60, 2, "sre-avp", "Medium risk accepted")?;
    s.approve("sam", 5 * 60 - 10, 2, "dev-lead", "Reviewed the diff")?;
    s.run(
        "dana",
        4 * 60,
        Command::StartDeploy {
            id: ReleaseId::Hotfix(2),
        },
    )?;
    s.notice("dana", 4 * 60 - 1, 2, Stage::Deploying, Audience::Ops, None)?;
    s.run(
        "dana",
        3 * 60 + 40,
        Command::MarkDeployed {
            id: ReleaseId::Hotfix(2),
            commit: None,
            artifact: None,
        },
    )?;
    s.notice("dana", 3 * 60 + 35, 2, Stage::Deployed, Audience::Ops, None)?;
    let failed = "the webhook answered HTTP 500: internal_error";
    s.notice(
        "dana",
        3 * 60 + 34,
        2,
        Stage::Deployed,
        Audience::Users,
        Some(failed),
    )?;

    // HF-3: a P1 awaiting approval, tests in every state, one approval made stale by an edit.
    s.incident(
        "quinn",
        3 * 60 + 10,
        "Card payments fail with HTTP 500 at checkout",
        Severity::P1,
        &["checkout", "payments"],
        "About 30% of card orders fail; revenue loss ~12k EUR/hour",
    )?;
    s.qualify(
        2 * 60 + 50,
        6,
        Decision::Hotfix,
        Risk::Medium,
        [
            "Every card checkout in all regions",
            "Null card token after the 4.12.0 adapter change; small fix, cannot wait for 4.13.0",
            "Some card payments fail at checkout. Orders paid by other methods are not affected.",
        ],
    )?;
    s.run(
        "sam",
        2 * 60 + 20,
        hotfix(
            6,
            "4.12.1",
            "Handle a missing card token in the payment adapter",
            "payments/adapter: treat a null token as re-tokenise; add a guard test",
            "Touches the payments path; re-tokenising adds ~80 ms",
            "Redeploy 4.12.0 (blue/green switch back, 2 min)",
        ),
    )?;
    s.approve("dana", 2 * 60, 3, "dev-lead", "Diff reviewed")?;
    let edit = ScopeEdit {
        rollback: Some(
            "Flag payments.retokenise off, then redeploy 4.12.0 if errors persist".into(),
        ),
        ..ScopeEdit::default()
    };
    s.run(
        "sam",
        100,
        Command::EditRelease {
            id: ReleaseId::Hotfix(3),
            edit,
        },
    )?;
    s.approve(
        "avery",
        95,
        3,
        "sre-avp",
        "Risk accepted; rollback via flag is faster",
    )?;
    type Row<'a> = (
        &'a str,
        Priority,
        bool,
        &'a str,
        Option<(TestStatus, &'a str)>,
    );
    let tests: [Row; 6] = [
        (
            "payments::card_checkout_e2e",
            Priority::Critical,
            true,
            "quinn",
            Some((TestStatus::Passed, "nextest run 8812: 42/42")),
        ),
        (
            "payments::token_refresh_under_load",
            Priority::Critical,
            true,
            "quinn",
            Some((TestStatus::Running, "load run started 14:05")),
        ),
        (
            "checkout::retry_is_idempotent",
            Priority::High,
            true,
            "sam",
            Some((TestStatus::Failed, "timeout on the staging runner")),
        ),
        (
            "checkout::3ds_challenge_flow",
            Priority::High,
            false,
            "priya",
            None,
        ),
        (
            "ui::receipt_shows_card_brand",
            Priority::Medium,
            false,
            "quinn",
            Some((TestStatus::Skipped, "no staging card of that brand")),
        ),
        (
            "docs::status_page_copy",
            Priority::Low,
            false,
            "priya",
            None,
        ),
    ];
    for (name, priority, automated, owner, _) in &tests {
        s.test(90, 3, name, *priority, *automated, owner)?;
    }
    for (name, _, _, owner, result) in &tests {
        if let Some((status, note)) = result {
            s.set(owner, 40, 3, name, *status, note)?;
        }
    }
    s.run(
        "avery",
        30,
        Command::WaiveTest {
            id: ReleaseId::Hotfix(3),
            name: "docs::status_page_copy".into(),
            reason: "Copy reviewed in the incident channel".into(),
        },
    )?;

    // A fresh P1 nobody has qualified yet, and a regular release held back by the hotfixes.
    s.incident(
        "quinn",
        25,
        "SSO logins rejected: SAML assertion clock skew",
        Severity::P1,
        &["auth"],
        "Enterprise customers cannot log in",
    )?;
    s.run(
        "dana",
        day,
        Command::PlanRegularRelease {
            version: "4.13.0".into(),
            summary: "November feature release".into(),
            planned_at: Some(now + Duration::hours(18)),
            code: None,
            artifact: None,
        },
    )?;
    Ok(s.store.model.seq)
}
