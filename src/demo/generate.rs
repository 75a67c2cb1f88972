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
    let mut steps: Vec<(String, DateTime<Utc>, Command)> = Vec::new();
    let mut push = |actor: &str, at: DateTime<Utc>, command: Command| {
        steps.push((actor.to_string(), at, command))
    };
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
    for k in 1..=incidents {
        let t = start + slot * i32::try_from(k).unwrap_or(i32::MAX);
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
        let service = *rng.pick(SERVICES);
        let title = format!("{service} {} (#{k})", rng.pick(PROBLEMS));
        push(
            "quinn",
            m(0),
            Command::ReportIncident {
                title,
                severity,
                services: vec![service.to_string()],
                impact: format!("{}% of {service} requests affected", 1 + rng.next() % 60),
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
                m(3),
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
        push(
            "avery",
            m(5),
            Command::QualifyIncident {
                id,
                decision,
                risk,
                impact: "assessed with the service owner".into(),
                rationale: "weighed impact against the risk of the fix".into(),
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
        hotfixes += 1;
        let hf = ReleaseId::Hotfix(hotfixes);
        let author = if rng.chance(50) { "sam" } else { "lee" };
        let dev = if author == "sam" { "lee" } else { "sam" };
        push(
            author,
            m(10),
            hotfix(
                k,
                &format!("4.{}.{}", k / 100, k % 100 + 1),
                &format!("Fix {service} for INC-{k}"),
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
        push(
            "avery",
            m(15),
            Command::Decide {
                vote: Vote::Approve,
                seen: None,
                id: hf,
                role: Some("sre-avp".into()),
                text: "risk accepted".into(),
            },
        );
        if rng.chance(15) {
            // An edit after the first approval: it goes stale and is given again.
            let edit = ScopeEdit {
                rollback: Some("feature flag off, then redeploy".into()),
                ..ScopeEdit::default()
            };
            push(author, m(18), Command::EditRelease { id: hf, edit });
            push(
                "avery",
                m(20),
                Command::Decide {
                    vote: Vote::Approve,
                    seen: None,
                    id: hf,
                    role: Some("sre-avp".into()),
                    text: "re-approved after the edit".into(),
                },
            );
        }
        if open_tail && rng.chance(50) {
            continue; // awaiting approval
        }
        push(
            dev,
            m(22),
            Command::Decide {
                vote: Vote::Approve,
                seen: None,
                id: hf,
                role: Some("dev-lead".into()),
                text: String::new(),
            },
        );
        let needs_owner = severity == Severity::P1;
        if needs_owner {
            let owner = if rng.chance(50) { "priya" } else { "pat" };
            push(
                owner,
                m(25),
                Command::Decide {
                    vote: Vote::Approve,
                    seen: None,
                    id: hf,
                    role: Some("prod-owner".into()),
                    text: String::new(),
                },
            );
        }
        for (name, _) in &tests[..2] {
            push(
                "quinn",
                m(30),
                Command::SetTestStatus {
                    id: hf,
                    name: format!("{service}::{name}_{k}"),
                    status: TestStatus::Passed,
                    note: Some("CI green".into()),
                },
            );
        }
        if open_tail && rng.chance(40) {
            continue; // approved, gate open
        }
        push(author, m(35), Command::StartDeploy { id: hf });
        push(
            author,
            m(36),
            Command::RecordNotice {
                id: hf,
                stage: Stage::Deploying,
                audience: Audience::Ops,
                channel: "webhook".into(),
                error: None,
            },
        );
        push(author, m(45), Command::MarkDeployed { id: hf });
        if rng.chance(3) {
            push(
                author,
                m(50),
                Command::RollBack {
                    id: hf,
                    reason: "error rate rose after the deploy".into(),
                },
            );
            // Fixed another way later, as a real team does: open work stays what is open today.
            if !open_tail {
                push(
                    "quinn",
                    m(90),
                    Command::ResolveIncident {
                        id,
                        note: "fixed by a follow-up change after the rollback".into(),
                    },
                );
            }
            continue;
        }
        push(
            author,
            m(46),
            Command::RecordNotice {
                id: hf,
                stage: Stage::Deployed,
                audience: Audience::Users,
                channel: "webhook".into(),
                error: None,
            },
        );
        if open_tail {
            continue; // deployed, still in flight
        }
        push(
            "avery",
            m(70),
            Command::VerifyRelease {
                id: hf,
                note: String::new(),
            },
        );
        push(author, m(90), Command::CloseRelease { id: hf });
    }
    store.execute_all(steps).map_err(|e| match e {
        ExecError::Refused(r) => Error::Failed(format!("the generator was refused (a bug): {r}")),
        ExecError::Store(s) => s.into(),
    })?;
    // A store this size opens from its snapshot.
    store.snapshot_if_due()?;
    Ok(store.model.seq)
}
