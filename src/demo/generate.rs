//! A large generated store (up to 100,000 incidents) for trying the tool at scale and for the
//! benchmarks, written through the store like the tour.

use super::{
    Audience, Command, Decision, Duration, Error, ExecError, IncidentId, Priority, ReleaseId, Risk,
    ScopeEdit, Severity, Stage, Store, TestStatus, Vote, hotfix, whole,
};
use chrono::{DateTime, Utc};
use std::path::Path;

/// A small deterministic generator (xorshift), so a large store is the same for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// Services are a product area and a component (`checkout-api`): 200 of them, as a company
/// with a few dozen teams runs.
const COMPONENTS: &[&str] = &[
    "api",
    "worker",
    "web",
    "db",
    "cache",
    "gateway",
    "scheduler",
    "index",
    "edge",
    "batch",
    "stream",
    "proxy",
    "ledger",
    "reports",
    "export",
    "import",
    "sync",
    "cron",
    "queue",
    "ui",
];
const SERVICES: &[&str] = &[
    "checkout",
    "payments",
    "search",
    "auth",
    "mailer",
    "web",
    "api",
    "billing",
    "notifications",
    "inventory",
];
const PROBLEMS: &[&str] = &[
    "returns HTTP 500 for some requests",
    "p99 latency above budget",
    "drops messages under load",
    "rejects valid sessions",
    "shows stale data after deploys",
    "leaks connections until restarted",
    "times out talking to the database",
];

/// Writes a large, realistic store: `incidents` incidents with about ten events each on average
/// (qualifications, hotfixes with tests and approvals, edits that make approvals stale, deploys,
/// notices, resolutions), all decided by the real state module, so the store verifies. The last
/// few incidents are left open and in flight, as on a real day.
pub fn generate(dir: &Path, you: &str, now: DateTime<Utc>, incidents: u64) -> Result<u64, Error> {
    whole(dir, |tmp| generate_into(tmp, you, now, incidents))
}

fn generate_into(dir: &Path, you: &str, now: DateTime<Utc>, incidents: u64) -> Result<u64, Error> {
    let slot = Duration::minutes(100);
    // One incident every 100 minutes, ending now: the first must still be a representable time.
    let start = i32::try_from(incidents.saturating_add(1))
        .ok()
        .and_then(|n| slot.checked_mul(n))
        .and_then(|span| now.checked_sub_signed(span))
        .ok_or_else(|| {
            Error::Usage(format!(
                "{incidents} incidents is too many to generate: use at most 100000"
            ))
        })?;
    let mut store = Store::create(dir)?;
    let mut steps = Steps::default();
    let mut push =
        |actor: &str, at: DateTime<Utc>, command: Command| steps.push(actor, at, command);
    push("morgan", start, Command::InitDemo);
    let mut grants: Vec<(&str, &str)> = vec![
        ("avery", "sre-avp"),
        ("ana", "sre-avp"),
        ("dana", "dev-lead"),
        ("sam", "dev-lead"),
        ("lee", "dev-lead"),
        ("priya", "prod-owner"),
        ("pat", "prod-owner"),
        ("quinn", "qa"),
    ];
    for role in ["admin", "sre-avp", "prod-owner"] {
        grants.push((you, role));
    }
    let mut granted: Vec<(&str, &str)> = vec![("morgan", "admin")];
    for (user, role) in grants {
        if !granted.contains(&(user, role)) {
            granted.push((user, role));
            push(
                "morgan",
                start,
                Command::GrantRole {
                    user: user.into(),
                    role: role.into(),
                },
            );
        }
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ incidents);
    let mut hotfixes = 0u64;
    let recent = incidents.saturating_sub(20);
    // When each service last had a hotfix: a healthy team's deploy rarely brings a new incident
    // on the same service within the week (which `stats` counts as a change failure).
    let mut hot: std::collections::HashMap<String, DateTime<Utc>> = Default::default();
    for k in 1..=incidents {
        let t = start + slot * i32::try_from(k).unwrap_or(i32::MAX);
        // Each incident's story is written at the pace it needs, then fitted into its slot.
        steps.fit(t, slot - Duration::minutes(5));
        let mut push =
            |actor: &str, at: DateTime<Utc>, command: Command| steps.push(actor, at, command);
        let m = |minutes: i64| t + Duration::minutes(minutes);
        let id = IncidentId(k);
        let mut severity = *rng.pick(&[
            Severity::P1,
            Severity::P2,
            Severity::P2,
            Severity::P3,
            Severity::P3,
            Severity::P4,
        ]);
        let service = pick_service(&mut rng, &hot, t);
        let title = format!("{service} {} (#{k})", rng.pick(PROBLEMS));
        push(
            "quinn",
            m(0),
            Command::ReportIncident {
                title,
                severity,
                services: vec![service.to_string()],
                impact: format!("{}% of {service} requests affected", 1 + rng.next() % 60),
                public: String::new(),
                impact_since: Some(m(-(2 + (rng.next() % 20) as i64))),
            },
        );
        let open_tail = k > recent;
        if open_tail && rng.chance(30) {
            continue; // not triaged yet
        }
        if rng.chance(10) && severity > Severity::P1 {
            let to = Severity::ALL[Severity::ALL
                .iter()
                .position(|s| *s == severity)
                .unwrap_or(1)
                - 1];
            push(
                "avery",
                m(2),
                Command::ChangeSeverity {
                    id,
                    severity: to,
                    reason: "spreading to more users".into(),
                },
            );
            severity = to;
        }
        let hotfixable = severity <= Severity::P2;
        let decision = if hotfixable && rng.chance(80) {
            Decision::Hotfix
        } else if rng.chance(50) {
            Decision::RegularRelease
        } else {
            Decision::NoAction
        };
        let risk = *rng.pick(&[Risk::Low, Risk::Medium, Risk::High]);
        let qualifier = if rng.chance(50) { "avery" } else { "ana" };
        push(
            qualifier,
            m(3 + (rng.next() % 25) as i64),
            Command::QualifyIncident {
                id,
                decision,
                risk,
                impact: "assessed with the service owner".into(),
                rationale: "weighed impact against the risk of the fix".into(),
                public: if decision == Decision::Hotfix {
                    format!("Some customers see problems with {service}. We are working on a fix.")
                } else {
                    String::new()
                },
            },
        );
        if decision != Decision::Hotfix {
            if !open_tail {
                push(
                    "quinn",
                    m(60),
                    Command::ResolveIncident {
                        id,
                        note: "fixed in a regular release".into(),
                    },
                );
            }
            continue;
        }
        hot.insert(service.clone(), t);
        // A first attempt, and now and then (about one change in eight, as a healthy team's
        // change failure rate) a rollback and a second hotfix that stays.
        let mut attempt = Attempt {
            k,
            service: &service,
            severity,
            open_tail,
            first_minute: 10,
            version_patch: k % 100 + 1,
        };
        let first = ship(&mut push, &mut rng, &mut hotfixes, &attempt, t);
        let replaced = first == Outcome::RolledBack && !open_tail;
        let outcome = if replaced {
            attempt.first_minute = 100 + (rng.next() % 60) as i64;
            attempt.version_patch += 1;
            ship(&mut push, &mut rng, &mut hotfixes, &attempt, t)
        } else {
            first
        };
        let Outcome::Verified(verified) = outcome else {
            continue;
        };
        let hf = ReleaseId::Hotfix(hotfixes);
        let done = |minutes: i64| t + Duration::minutes(verified + minutes);
        if severity == Severity::P1 {
            // The post-incident review comes before the close, as the policy asks of a P1.
            push(
                "avery",
                done(30),
                Command::RecordReview {
                    id,
                    review: Box::new(review(&mut rng, &service, replaced, t)),
                },
            );
            // Action items get done; the last weeks' often not yet (so some are overdue).
            let recent_tail = k + 200 > incidents;
            for item in 1..=2 {
                if !recent_tail || rng.chance(50) {
                    let who = if item == 1 { "dana" } else { "avery" };
                    push(who, done(40), Command::CompleteAction { id, item });
                }
            }
        }
        push(
            if rng.chance(50) { "sam" } else { "lee" },
            done(45),
            Command::CloseRelease {
                id: hf,
                carried_to: None,
            },
        );
    }
    steps.finish();
    store.execute_all(steps.list).map_err(|e| match e {
        ExecError::Refused(r) => Error::Failed(format!("the generator was refused (a bug): {r}")),
        ExecError::Store(s) => s.into(),
    })?;
    // A store this size opens from its snapshot.
    store.snapshot_if_due()?;
    Ok(store.model.seq)
}

/// The generator's steps, each incident's fitted into its slot (see [`Steps::fit`]).
#[derive(Default)]
struct Steps {
    list: Vec<(String, DateTime<Utc>, Command)>,
    /// The first step of the incident being written, its report time and its room.
    from: usize,
    t: Option<(DateTime<Utc>, Duration)>,
}

impl Steps {
    fn push(&mut self, actor: &str, at: DateTime<Utc>, command: Command) {
        self.list.push((actor.to_string(), at, command));
    }

    /// Finishes the incident being written and starts one reported at `t`, whose steps must
    /// all fall within `room` of it (before the next incident's report).
    fn fit(&mut self, t: DateTime<Utc>, room: Duration) {
        self.finish();
        self.from = self.list.len();
        self.t = Some((t, room));
    }

    /// Squeezes the current incident's steps into its room, in proportion: their order and
    /// the shape of the story stay, however long it ran.
    fn finish(&mut self) {
        let Some((t, room)) = self.t else {
            return;
        };
        let steps = &mut self.list[self.from..];
        let span = steps
            .iter()
            .map(|(_, at, _)| *at - t)
            .max()
            .unwrap_or_default();
        if span <= room {
            return;
        }
        let (span, room) = (span.num_seconds().max(1), room.num_seconds());
        for (_, at, _) in steps {
            *at = t + Duration::seconds((*at - t).num_seconds() * room / span);
        }
    }
}

/// A service for a new incident: almost always one without a hotfix in the past week.
fn pick_service(
    rng: &mut Rng,
    hot: &std::collections::HashMap<String, DateTime<Utc>>,
    t: DateTime<Utc>,
) -> String {
    let pick = |rng: &mut Rng| format!("{}-{}", rng.pick(SERVICES), rng.pick(COMPONENTS));
    let cold = |s: &String| hot.get(s).is_none_or(|at| t - *at > Duration::days(8));
    let mut service = pick(rng);
    if rng.chance(95) {
        for _ in 0..20 {
            if cold(&service) {
                break;
            }
            service = pick(rng);
        }
    }
    service
}

/// One incident's hotfix as the generator writes it.
struct Attempt<'a> {
    k: u64,
    service: &'a str,
    severity: Severity,
    open_tail: bool,
    /// Minutes after the report that the hotfix is created.
    first_minute: i64,
    version_patch: u64,
}

/// How far a generated hotfix got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Left in flight (the last incidents, as on a real day).
    InFlight,
    RolledBack,
    /// Verified, this many minutes after the report.
    Verified(i64),
}

const SUMMARIES: &[&str] = &[
    "Guard against a missing value in the request path",
    "Raise the connection pool limit and add a timeout",
    "Revert the cache TTL change",
    "Retry the upstream call with backoff",
    "Fix the session expiry comparison",
    "Drop the slow query from the hot path",
];
const TRIGGERS: &[&str] = &[
    "a routine deploy the day before",
    "a traffic spike after a marketing e-mail",
    "an expired certificate on an upstream",
    "a configuration change rolled out to every region at once",
];
const CAUSES: &[&str] = &[
    "an untested code path for a value that is usually present",
    "a connection pool sized for last year's traffic",
    "a cache entry that outlived the data it described",
    "a timeout longer than the caller's own",
];

fn review(
    rng: &mut Rng,
    service: &str,
    replaced: bool,
    t: DateTime<Utc>,
) -> crate::state::review::ReviewText {
    use crate::state::review::{ActionInput, ReviewText};
    let due = |days: i64| (t + Duration::days(days)).date_naive();
    ReviewText {
        summary: if replaced {
            format!(
                "{service} failed for some customers; the first hotfix made it worse and was rolled back, the second fixed it."
            )
        } else {
            format!("{service} failed for some customers until the hotfix went out.")
        },
        trigger: rng.pick(TRIGGERS).to_string(),
        root_cause: rng.pick(CAUSES).to_string(),
        factors: "the alert fired late; the runbook did not cover this case".into(),
        lessons: "test the rare path; alert on the symptom customers see".into(),
        actions: vec![
            ActionInput {
                what: format!("add a regression test for {service}"),
                owner: "dana".into(),
                due: due(7),
                ticket: Some(format!("OPS-{}", 100 + rng.next() % 900)),
            },
            ActionInput {
                what: format!("alert on {service} error rate per customer"),
                owner: "avery".into(),
                due: due(21),
                ticket: None,
            },
        ],
    }
}

/// Writes one hotfix for `a`'s incident, from creation to verified (or as far as it gets):
/// tests, approvals, sometimes an edit that makes an approval stale, the deploy and notices.
fn ship(
    push: &mut impl FnMut(&str, DateTime<Utc>, Command),
    rng: &mut Rng,
    hotfixes: &mut u64,
    a: &Attempt<'_>,
    t: DateTime<Utc>,
) -> Outcome {
    let (k, service, open_tail) = (a.k, a.service, a.open_tail);
    let m = |minutes: i64| t + Duration::minutes(a.first_minute - 10 + minutes);
    *hotfixes += 1;
    let hf = ReleaseId::Hotfix(*hotfixes);
    let author = if rng.chance(50) { "sam" } else { "lee" };
    let dev = if author == "sam" { "lee" } else { "sam" };
    let summary = *rng.pick::<&str>(SUMMARIES);
    push(
        author,
        m(10),
        hotfix(
            k,
            &format!("4.{}.{}", k / 100, a.version_patch),
            summary,
            "a small, reviewed change",
            "touches a hot path",
            "redeploy the previous version",
        ),
    );
    let tests = [
        ("smoke", Priority::Critical),
        ("regression", Priority::High),
        ("ui", Priority::Medium),
    ];
    for (name, priority) in tests {
        push(
            "quinn",
            m(12),
            Command::AddTest {
                id: hf,
                name: format!("{service}::{name}_{k}"),
                priority,
                automated: true,
                owner: Some("quinn".into()),
            },
        );
    }
    // Approvals and tests take their time, and not the same time each hotfix.
    let wait = |rng: &mut Rng, most: u64| 1 + (rng.next() % most) as i64;
    let mut at = 15 + wait(rng, 20);
    let sre_approves = |text: &str| Command::Decide {
        vote: Vote::Approve,
        seen: None,
        id: hf,
        role: Some("sre-avp".into()),
        text: text.into(),
        signature: None,
    };
    push("avery", m(at), sre_approves("risk accepted"));
    if rng.chance(15) {
        // An edit after the first approval: it goes stale and is given again.
        let edit = ScopeEdit {
            rollback: Some("feature flag off, then redeploy".into()),
            ..ScopeEdit::default()
        };
        at += wait(rng, 10);
        push(author, m(at), Command::EditRelease { id: hf, edit });
        at += wait(rng, 15);
        push("avery", m(at), sre_approves("re-approved after the edit"));
    }
    if open_tail && rng.chance(50) {
        return Outcome::InFlight; // awaiting approval
    }
    at += wait(rng, 30);
    push(
        dev,
        m(at),
        Command::Decide {
            vote: Vote::Approve,
            seen: None,
            id: hf,
            role: Some("dev-lead".into()),
            text: String::new(),
            signature: None,
        },
    );
    if a.severity == Severity::P1 {
        let owner = if rng.chance(50) { "priya" } else { "pat" };
        at += wait(rng, 20);
        push(
            owner,
            m(at),
            Command::Decide {
                vote: Vote::Approve,
                seen: None,
                id: hf,
                role: Some("prod-owner".into()),
                text: String::new(),
                signature: None,
            },
        );
    }
    at += wait(rng, 25);
    for (name, _) in &tests[..2] {
        push(
            "quinn",
            m(at),
            Command::SetTestStatus {
                id: hf,
                name: format!("{service}::{name}_{k}"),
                status: TestStatus::Passed,
                note: Some("CI green".into()),
            },
        );
    }
    if open_tail && rng.chance(40) {
        return Outcome::InFlight; // approved, gate open
    }
    at += wait(rng, 10);
    push(author, m(at), Command::StartDeploy { id: hf });
    push(
        author,
        m(at + 1),
        Command::RecordNotice {
            id: hf,
            stage: Stage::Deploying,
            audience: Audience::Ops,
            channel: "webhook".into(),
            error: None,
        },
    );
    at += 2 + wait(rng, 12);
    push(
        author,
        m(at),
        Command::MarkDeployed {
            id: hf,
            commit: None,
            artifact: None,
        },
    );
    if a.first_minute == 10 && rng.chance(12) {
        push(
            author,
            m(at + 5),
            Command::RollBack {
                id: hf,
                reason: "error rate rose after the deploy".into(),
            },
        );
        return Outcome::RolledBack;
    }
    push(
        author,
        m(at + 1),
        Command::RecordNotice {
            id: hf,
            stage: Stage::Deployed,
            audience: Audience::Users,
            channel: "webhook".into(),
            error: None,
        },
    );
    if open_tail {
        return Outcome::InFlight; // deployed, still in flight
    }
    push(
        "avery",
        m(at + 20),
        Command::VerifyRelease {
            id: hf,
            note: "error rate back to baseline".into(),
        },
    );
    Outcome::Verified(a.first_minute - 10 + at + 20)
}
