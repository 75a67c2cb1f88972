//! Shared test helpers: a world of users built through the real decide/evolve, and a store dir.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod hooks;
pub mod pg;
pub mod place;
pub mod tmux;

use chrono::{DateTime, Duration, Utc};
use hotfix::state::*;

/// A model built by deciding and evolving commands, with a clock that ticks a minute per command.
#[derive(Clone)]
pub struct World {
    pub model: Model,
    pub now: DateTime<Utc>,
    /// Every event recorded, in order, as the log would hold it.
    pub log: Vec<Recorded>,
    /// Every command run, with its actor and time, to replay into a real store.
    pub commands: Vec<(String, DateTime<Utc>, Command)>,
}

pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-27T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

impl World {
    /// An initialised store: `admin` is admin; avery sre-avp, dana and sam dev-lead, priya prod-owner, quinn qa.
    pub fn new() -> World {
        let mut w = World {
            model: Model::default(),
            now: t0(),
            log: Vec::new(),
            commands: Vec::new(),
        };
        w.run("admin", Command::Init);
        for (user, role) in [
            ("avery", "sre-avp"),
            ("dana", "dev-lead"),
            ("sam", "dev-lead"),
            ("priya", "prod-owner"),
            ("quinn", "qa"),
        ] {
            w.run(
                "admin",
                Command::GrantRole {
                    user: user.into(),
                    role: role.into(),
                },
            );
        }
        w
    }

    /// A world whose policy sets approval deadlines (P1 15m) and escalation (pat, qa, is
    /// prod-owner's deputy; a page after 3 deadlines).
    pub fn escalating() -> World {
        let mut w = World::new();
        w.grant("pat", "qa");
        let mut policy = w.model.policy.clone();
        policy.approval_deadline = [(Severity::P1, "15m".parse().unwrap())].into();
        policy.escalation = Some(hotfix::state::escalation::EscalationPolicy {
            deputies: [("prod-owner".to_string(), vec!["pat".to_string()])].into(),
            page_after: 3,
        });
        w.run(
            "admin",
            Command::SetPolicy {
                policy: Box::new(policy),
            },
        );
        w
    }

    /// This world as it would be at `now`.
    pub fn clone_at(&self, now: DateTime<Utc>) -> World {
        World {
            now,
            ..self.clone()
        }
    }

    /// An admin grants `role` to `user`.
    pub fn grant(&mut self, user: &str, role: &str) {
        self.run(
            "admin",
            Command::GrantRole {
                user: user.into(),
                role: role.into(),
            },
        );
    }

    /// Decides without recording.
    pub fn when(&self, actor: &str, command: Command) -> Result<Vec<Event>, Rejection> {
        decide(&self.model, actor, self.now, command)
    }

    /// Decides and records; panics if refused.
    pub fn run(&mut self, actor: &str, command: Command) -> Vec<Event> {
        let events = self
            .when(actor, command.clone())
            .unwrap_or_else(|r| panic!("{command:?} refused: {r}"));
        self.commands.push((actor.into(), self.now, command));
        self.record(actor, &events);
        events
    }

    /// A real store in `dir` holding what this world ran, command by command.
    pub fn store(&self, dir: &std::path::Path) -> hotfix::store::Store {
        let mut store = hotfix::store::Store::create(dir).unwrap();
        store.execute_all(self.commands.iter().cloned()).unwrap();
        assert_eq!(store.model, self.model);
        store
    }

    pub fn record(&mut self, actor: &str, events: &[Event]) {
        for e in events {
            let r = Recorded {
                seq: self.model.seq + 1,
                at: self.now,
                actor: actor.into(),
                event: e.clone(),
            };
            self.model = evolve(std::mem::take(&mut self.model), &r);
            self.log.push(r);
        }
        self.now += Duration::minutes(1);
    }

    /// Expects a refusal and returns its message; checks nothing would be recorded.
    pub fn refuse(&self, actor: &str, command: Command) -> String {
        match self.when(actor, command.clone()) {
            Ok(events) => panic!("{command:?} by {actor} was accepted: {events:?}"),
            Err(r) => r.message,
        }
    }

    pub fn incident(&mut self, severity: Severity) -> IncidentId {
        let id = self.model.next_incident_id();
        self.run(
            "quinn",
            Command::ReportIncident {
                title: format!("incident {}", id.0),
                severity,
                services: vec!["api".into()],
                impact: "users affected".into(),
                public: String::new(),
                impact_since: None,
            },
        );
        id
    }

    pub fn qualify(&mut self, id: IncidentId, decision: Decision) {
        self.run(
            "avery",
            Command::QualifyIncident {
                id,
                decision,
                risk: Risk::Low,
                impact: "wide".into(),
                rationale: "needed".into(),
                public: String::new(),
            },
        );
    }

    /// Writes what end users are told about `id`.
    pub fn public(&mut self, id: IncidentId, text: &str) {
        self.run(
            "quinn",
            Command::EditIncident {
                id,
                public: Some(text.into()),
                impact_since: None,
                impact_until: None,
            },
        );
    }

    /// A hotfix by sam for a new, qualified incident of `severity`.
    pub fn hotfix(&mut self, severity: Severity) -> ReleaseId {
        let inc = self.incident(severity);
        self.qualify(inc, Decision::Hotfix);
        self.hotfix_for(&[inc])
    }

    pub fn hotfix_for(&mut self, incidents: &[IncidentId]) -> ReleaseId {
        let id = self.model.next_release_id(true);
        self.run(
            "sam",
            Command::CreateHotfix {
                incidents: incidents.to_vec(),
                scope: scope(),
            },
        );
        id
    }

    pub fn approve(&mut self, actor: &str, id: ReleaseId, role: &str) {
        self.run(actor, approve_as(id, role));
    }

    pub fn add_test(&mut self, id: ReleaseId, name: &str, priority: Priority) {
        self.run(
            "quinn",
            Command::AddTest {
                id,
                name: name.into(),
                priority,
                automated: true,
                owner: Some("quinn".into()),
            },
        );
    }

    pub fn set_test(&mut self, id: ReleaseId, name: &str, status: TestStatus) {
        self.run(
            "quinn",
            Command::SetTestStatus {
                id,
                name: name.into(),
                status,
                note: None,
            },
        );
    }

    /// A P1 hotfix with every approval and a passed critical test: its gate is open.
    pub fn ready_p1(&mut self) -> ReleaseId {
        let id = self.hotfix(Severity::P1);
        self.approve("avery", id, "sre-avp");
        self.approve("dana", id, "dev-lead");
        self.approve("priya", id, "prod-owner");
        self.add_test(id, "smoke", Priority::Critical);
        self.set_test(id, "smoke", TestStatus::Passed);
        id
    }

    /// Deploys `id` (its gate open), marks it deployed and verifies it, as sam and avery.
    /// sam deploys `id` and marks it deployed.
    pub fn deploy(&mut self, id: ReleaseId) {
        self.run("sam", Command::StartDeploy { id });
        self.run(
            "sam",
            Command::MarkDeployed {
                id,
                commit: None,
                artifact: None,
            },
        );
    }

    /// sam deploys `id`, and avery verifies it in production.
    pub fn ship(&mut self, id: ReleaseId) {
        self.deploy(id);
        self.run(
            "avery",
            Command::VerifyRelease {
                id,
                note: String::new(),
            },
        );
    }

    pub fn release(&self, id: ReleaseId) -> &Release {
        self.model.release(id).unwrap()
    }
}

pub fn scope() -> ScopeInput {
    ScopeInput {
        version: "1.2.3".into(),
        summary: "fix it".into(),
        changes: "one line".into(),
        risks: "small".into(),
        rollback: "redeploy 1.2.2".into(),
        code: None,
        artifact: None,
    }
}

/// The built binary, run with a fixed user and no inherited store.
pub fn hotfix(store: &std::path::Path, user: &str) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_hotfix"));
    cmd.env("XDG_STATE_HOME", state_home())
        .env("XDG_CACHE_HOME", state_home())
        .env_remove("HOTFIX_STORE")
        .env("HOTFIX_USER", user)
        .env("NO_COLOR", "1")
        .arg("--store")
        .arg(store);
    cmd
}

/// A state directory (the witness, the cockpit's log) of this test process's own, so tests
/// never read or write the real user's.
pub fn state_home() -> &'static std::path::Path {
    static HOME: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    HOME.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// The log file of a store directory.
pub fn log_of(store: &std::path::Path) -> std::path::PathBuf {
    store.join("events.jsonl")
}

/// Noon on the demo day: the fixed clock of the snapshot and golden-file tests.
pub fn noon() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-27T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// The demo store, written with the fixed clock, so every render and report is the same.
pub fn demo() -> (tempfile::TempDir, hotfix::store::Store) {
    let dir = tempfile::tempdir().unwrap();
    hotfix::demo::write(dir.path(), "you", noon()).unwrap();
    let store = open(dir.path()).unwrap();
    (dir, store)
}

/// Writes the demo store (fixed clock) into `dir`, for tests that run the binary on it.
pub fn demo_store(dir: &std::path::Path) {
    hotfix::demo::write(dir, "you", noon()).unwrap();
}

/// The store at `at` (a directory or a database spec), read whole, every line checked and the
/// snapshot audited: `For::Whole`, what the other ways of opening are held to.
pub fn open(
    at: impl AsRef<std::path::Path>,
) -> Result<hotfix::store::Store, hotfix::store::StoreError> {
    let at = hotfix::store::Location::parse(at.as_ref());
    hotfix::store::Store::open(&at, hotfix::store::For::Whole)
}

/// The store at `at` as the cockpit opens it for a user with no checkpoint of it: from the
/// snapshot when one matches the log.
pub fn open_for_cockpit(
    at: impl AsRef<std::path::Path>,
) -> Result<hotfix::store::Store, hotfix::store::StoreError> {
    let at = hotfix::store::Location::parse(at.as_ref());
    let cockpit = hotfix::store::For::Cockpit {
        checkpoints: None,
        now: t0(),
    };
    hotfix::store::Store::open(&at, cockpit)
}

/// The store at `at` as `hotfix verify` opens it for a user who audited its snapshot before:
/// one verify folds the whole log and remembers the snapshot, the next (returned) checks the
/// chain at hashing speed.
pub fn open_to_verify_again(
    at: impl AsRef<std::path::Path>,
) -> Result<hotfix::store::Store, hotfix::store::StoreError> {
    let at = hotfix::store::Location::parse(at.as_ref());
    let remembered = tempfile::tempdir().map_err(|e| hotfix::store::StoreError::Io {
        context: "a temporary directory".into(),
        source: e,
    })?;
    let verify = hotfix::store::For::Verify {
        remembered: Some(remembered.path()),
    };
    hotfix::store::Store::open(&at, verify)?;
    hotfix::store::Store::open(&at, verify)
}

/// The store at `at` as a command opens it, with this user's checkpoints in `checkpoints`.
pub fn open_for_command(
    at: impl AsRef<std::path::Path>,
    checkpoints: &std::path::Path,
    now: DateTime<Utc>,
) -> Result<hotfix::store::Store, hotfix::store::StoreError> {
    let at = hotfix::store::Location::parse(at.as_ref());
    let command = hotfix::store::For::Command {
        checkpoints: Some(checkpoints),
        now,
    };
    hotfix::store::Store::open(&at, command)
}

/// An approval of `id` as `role`, of whatever revision it has.
pub fn approve_as(id: ReleaseId, role: &str) -> Command {
    Command::Decide {
        vote: Vote::Approve,
        seen: None,
        id,
        role: Some(role.into()),
        text: String::new(),
        signature: None,
    }
}

/// Runs the binary on `store` as `user`, expects success, and returns what it printed.
pub fn ok(store: &std::path::Path, user: &str, args: &[&str]) -> String {
    let out = hotfix(store, user).args(args).assert().success();
    String::from_utf8_lossy(&out.get_output().stdout).into_owned()
}

/// A new store in `store`, its admin `admin`, with each (user, role) granted.
pub fn init_with(store: &std::path::Path, grants: &[(&str, &str)]) {
    ok(store, "admin", &["init"]);
    for (user, role) in grants {
        ok(store, "admin", &["user", "grant", user, role]);
    }
}

/// The policy in force, changed by `change`, set by the admin (through a file, as people do).
pub fn change_policy(store: &std::path::Path, change: impl FnOnce(&mut serde_json::Value)) {
    let mut policy: serde_json::Value =
        serde_json::from_str(&ok(store, "admin", &["policy", "show", "--json"])).unwrap();
    change(&mut policy);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), policy.to_string()).unwrap();
    ok(
        store,
        "admin",
        &["policy", "set", file.path().to_str().unwrap()],
    );
}

/// INC-1 of `severity`, reported by `reporter` (with `extra` arguments) and qualified for a
/// hotfix by avery.
pub fn qualified_incident(store: &std::path::Path, reporter: &str, severity: &str, extra: &[&str]) {
    let mut new = vec!["incident", "new", "--title", "t", "--severity", severity];
    new.extend_from_slice(extra);
    ok(store, reporter, &new);
    ok(
        store,
        "avery",
        &[
            "incident",
            "qualify",
            "INC-1",
            "--decision",
            "hotfix",
            "--risk",
            "low",
            "--impact",
            "i",
            "--rationale",
            "r",
        ],
    );
}

/// `release new` of a hotfix 1.0.1 for INC-1 (more arguments follow it).
pub const HOTFIX_NEW: [&str; 14] = [
    "release",
    "new",
    "--incident",
    "INC-1",
    "--version",
    "1.0.1",
    "--summary",
    "s",
    "--changes",
    "c",
    "--risks",
    "r",
    "--rollback",
    "b",
];

/// [`HOTFIX_NEW`] followed by `extra`.
pub fn hotfix_new<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = HOTFIX_NEW.to_vec();
    args.extend_from_slice(extra);
    args
}
