//! Insights: how fast hotfixes move, where they wait, and how often they go wrong, from the
//! timestamps the log already holds.
//!
//! Two steps. [`Facts`] are what one release's record says about time (when its incidents were
//! reported and qualified, when each role approved what it was shown, when it deployed...),
//! read from the record alone, never from the policy, so the facts of a closed release never
//! change: a checkpoint keeps them beside its archive, and statistics need no closed record
//! loaded. [`stats`] then judges the facts of a period against the policy of today.
//!
//! Arithmetic is exact: durations are whole seconds, and a percentile is the nearest-rank one
//! (the smallest value with at least p% of the values at or below it), so it is always one of
//! the durations measured; the median is the 50th percentile by that rule. Rates are counts
//! (`failed` of `deployed`), with the percentage rounded half up to one decimal. Calendar
//! figures (hour of day, weekday, ISO week) are in UTC: the policy has no time zone, so there is
//! no daylight-saving shift to account for.

use super::kinds::{IncidentId, Priority, ReleaseId, Severity, TestStatus};
use super::release::Phase;
use super::{Model, Name, Policy, Release};
use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A change failed when it was rolled back, or another hotfix followed it within this long: for
/// one of the same incidents, or for a new incident (reported after the deploy) on one of the
/// same services.
pub const FOLLOW_UP_DAYS: i64 = 7;

/// One approval that counts: by whom, for which role, and when the revision it approved was put
/// up for approval (`asked`) and approved (`at`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Wait {
    pub role: Name,
    pub approver: Name,
    #[serde(with = "super::stamp")]
    pub asked: DateTime<Utc>,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
}

/// What one release's record says about time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub id: ReleaseId,
    #[serde(with = "super::stamp")]
    pub created: DateTime<Utc>,
    #[serde(with = "super::stamp::option")]
    pub planned: Option<DateTime<Utc>>,
    /// The most severe of its incidents, or as frozen when deploying started.
    pub severity: Option<Severity>,
    /// The roles frozen when deploying started (`None` before: today's policy decides).
    pub frozen_roles: Option<Vec<Name>>,
    pub incidents: Vec<IncidentId>,
    pub services: Vec<Name>,
    /// The earliest report of its incidents.
    #[serde(with = "super::stamp::option")]
    pub reported: Option<DateTime<Utc>>,
    /// The latest qualification of its incidents.
    #[serde(with = "super::stamp::option")]
    pub qualified: Option<DateTime<Utc>>,
    /// The approvals of the current revision, one per role (the latest).
    pub approvals: Vec<Wait>,
    /// Approvals given to earlier revisions: made stale by an edit.
    pub stale: u32,
    /// When the last critical or high test the gate needs passed or was waived, if all have.
    #[serde(with = "super::stamp::option")]
    pub tests_done: Option<DateTime<Utc>>,
    #[serde(with = "super::stamp::option")]
    pub deploying: Option<DateTime<Utc>>,
    #[serde(with = "super::stamp::option")]
    pub deployed: Option<DateTime<Utc>>,
    #[serde(with = "super::stamp::option")]
    pub verified: Option<DateTime<Utc>>,
    #[serde(with = "super::stamp::option")]
    pub rolled_back: Option<DateTime<Utc>>,
    /// When it finished, however (closed, cancelled or rolled back).
    #[serde(with = "super::stamp::option")]
    pub finished: Option<DateTime<Utc>>,
    /// Tests whose last result passed only after a rerun.
    pub flaky: Vec<Name>,
    pub waived: Vec<Name>,
    /// Medium and low tests never run (still pending) once it deployed.
    pub deferred: Vec<Name>,
    /// It deployed through a broken glass, without some approvals (see `state::glass`).
    #[serde(default)]
    pub break_glass: bool,
}

fn milestone(r: &Release, phase: Phase) -> Option<DateTime<Utc>> {
    r.milestones.iter().find(|m| m.phase == phase).map(|m| m.at)
}

impl Facts {
    /// The facts of `r`, whose incidents `model` holds (a release and its incidents are always
    /// loaded together, see `state::archive`).
    pub fn of(model: &Model, r: &Release) -> Facts {
        let incidents: Vec<_> = model.incidents_of(r).collect();
        let mut services: Vec<Name> = incidents
            .iter()
            .flat_map(|i| i.services.iter().cloned())
            .collect();
        services.sort();
        services.dedup();
        // When each revision was put up for approval.
        let asked = |revision: u32| {
            r.edits
                .iter()
                .rev()
                .find(|e| e.revision == revision)
                .map_or(r.created_at, |e| e.at)
        };
        let mut roles: BTreeSet<&str> = BTreeSet::new();
        let mut approvals = Vec::new();
        for a in r.approvals.iter().rev() {
            if roles.insert(a.role.as_str()) && r.is_current(a) {
                approvals.push(Wait {
                    role: a.role.clone(),
                    approver: a.approver.clone(),
                    asked: asked(a.revision),
                    at: a.at,
                });
            }
        }
        approvals.reverse();
        let stale = r.approvals.iter().filter(|a| !r.is_current(a)).count();
        let gate_tests: Vec<_> = r
            .tests
            .iter()
            .filter(|t| matches!(t.priority, Priority::Critical | Priority::High))
            .collect();
        let tests_done = gate_tests
            .iter()
            .map(|t| match (t.status, &t.waiver) {
                (TestStatus::Passed, _) => Some(t.updated_at),
                (_, Some(w)) if t.priority == Priority::High => Some(w.at),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .and_then(|times| times.into_iter().max());
        let deployed = milestone(r, Phase::Deployed);
        let names = |keep: &dyn Fn(&super::TestCase) -> bool| {
            r.tests
                .iter()
                .filter(|t| keep(t))
                .map(|t| t.name.clone())
                .collect::<Vec<_>>()
        };
        Facts {
            id: r.id,
            created: r.created_at,
            planned: r.planned_at,
            severity: model.release_severity(r),
            frozen_roles: r
                .frozen
                .as_ref()
                .map(|(_, roles)| roles.iter().map(Name::from).collect()),
            incidents: r.scope.incidents.clone(),
            services,
            reported: incidents.iter().map(|i| i.reported_at).min(),
            qualified: incidents
                .iter()
                .filter_map(|i| i.qualification.as_ref().map(|q| q.at))
                .max(),
            approvals,
            stale: u32::try_from(stale).unwrap_or(u32::MAX),
            tests_done,
            deploying: milestone(r, Phase::Deploying),
            deployed,
            verified: milestone(r, Phase::Verified),
            rolled_back: milestone(r, Phase::RolledBack),
            finished: r.finished_at(),
            flaky: names(&|t| t.flaky),
            waived: names(&|t| t.waiver.is_some()),
            deferred: if deployed.is_some() {
                names(&|t| {
                    matches!(t.priority, Priority::Medium | Priority::Low)
                        && t.status == TestStatus::Pending
                })
            } else {
                Vec::new()
            },
            break_glass: !r.owed.is_empty(),
        }
    }
}

/// The facts of every release `model` holds, by id.
pub fn facts(model: &Model) -> BTreeMap<ReleaseId, Facts> {
    model
        .releases
        .values()
        .map(|r| (r.id, Facts::of(model, r)))
        .collect()
}

/// The start of a period as people write it: `90d`, `12w`, a date (`2026-10-01`, midnight UTC)
/// or an RFC 3339 time; `all` for no start.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("all") {
        return Ok(None);
    }
    let bad = || {
        format!(
            "--since {t:?} is not a period: use a number of days or weeks (90d, 12w), a date (2026-10-01), or all"
        )
    };
    for (suffix, days) in [("d", 1), ("w", 7)] {
        if let Some(n) = t.strip_suffix(suffix) {
            let n: i64 = n.parse().map_err(|_| bad())?;
            if !(1..=36_500).contains(&(n * days)) {
                return Err(format!(
                    "--since {t}: the period must be 1 day to 100 years"
                ));
            }
            return Ok(Some(now - Duration::days(n * days)));
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).map(|d| d.and_utc()));
    }
    DateTime::parse_from_rfc3339(t)
        .map(|d| Some(d.with_timezone(&Utc)))
        .map_err(|_| bad())
}

/// Which hotfixes the statistics cover.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// Created at or after this.
    pub since: Option<DateTime<Utc>>,
    /// Fixing an incident of this service.
    pub service: Option<String>,
}

/// Median and 90th percentile (nearest rank) of some durations, in seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Spread {
    pub count: usize,
    pub median: Option<i64>,
    pub p90: Option<i64>,
}

/// The `p`th percentile (nearest rank) of `values`: the smallest value with at least `p`% of
/// them at or below it. `None` for no values.
pub fn percentile(values: &[i64], p: u32) -> Option<i64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    // ceil(p * n / 100), at least 1: integers only.
    let rank = (p as usize * n).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

impl Spread {
    pub fn of(values: &[i64]) -> Spread {
        Spread {
            count: values.len(),
            median: percentile(values, 50),
            p90: percentile(values, 90),
        }
    }
}

/// A share: `part` of `whole`, with the percentage to one decimal (rounded half up).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Share {
    pub part: usize,
    pub whole: usize,
    /// `None` when there is nothing to divide (an empty period says so).
    pub percent: Option<String>,
}

impl Share {
    pub fn of(part: usize, whole: usize) -> Share {
        let percent = (whole > 0).then(|| {
            let tenths = (part * 1000 * 2 + whole) / (whole * 2);
            format!("{}.{}%", tenths / 10, tenths % 10)
        });
        Share {
            part,
            whole,
            percent,
        }
    }
}

/// The stages, each timed from the first report of the hotfix's incidents.
pub const STAGES: [&str; 5] = [
    "qualified",
    "approved",
    "gate ready",
    "deployed",
    "verified",
];

/// One hotfix's journey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Journey {
    pub id: ReleaseId,
    pub severity: Option<Severity>,
    pub services: Vec<String>,
    /// Seconds from the first report to each of [`STAGES`], where reached.
    pub stages: [Option<i64>; 5],
    /// The policy's target from report to deployed, in seconds.
    pub target: Option<i64>,
    /// Over its target: deployed late, or still not deployed past it.
    pub breached: bool,
    pub rolled_back: bool,
    /// Another hotfix for the same incident or service followed within a week of its deploy.
    pub followed_up: bool,
    /// Seconds from the first report to now, while it is neither deployed nor finished.
    pub in_flight: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TargetStat {
    pub severity: Severity,
    pub hours: u32,
    /// Hotfixes deployed within the target, of those deployed or past it.
    pub met: Share,
    pub breaches: Vec<ReleaseId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaitStat {
    /// The role, the approver, the hour (`00`-`23`) or the weekday.
    pub by: String,
    pub wait: Spread,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Deployed hotfixes that failed, of those deployed.
    pub rate: Share,
    pub failed: Vec<ReleaseId>,
    /// From a failed change's deploy to the next deploy, for the same incident or service, of
    /// a hotfix that was not rolled back.
    pub time_to_restore: Spread,
    /// Failed changes with no such deploy yet.
    pub unrestored: Vec<ReleaseId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Count {
    pub name: String,
    pub count: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Week {
    /// ISO week, `2026-W48`.
    pub week: String,
    pub hotfixes: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeldBack {
    pub release: ReleaseId,
    /// Seconds it waited, while pending, with a hotfix in flight.
    pub held: i64,
}

/// Everything `hotfix stats` and the Insights view show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub since: Option<DateTime<Utc>>,
    pub service: Option<String>,
    pub now: DateTime<Utc>,
    pub hotfixes: Vec<Journey>,
    /// Per stage of [`STAGES`], over the hotfixes that reached it.
    pub stages: Vec<(String, Spread)>,
    /// The medians of each step between stages (report to qualified, qualified to approved,
    /// ...), for the stacked bar.
    pub steps: Vec<(String, Option<i64>)>,
    pub targets: Vec<TargetStat>,
    pub failure: Failure,
    pub wait_by_role: Vec<WaitStat>,
    pub wait_by_approver: Vec<WaitStat>,
    pub wait_by_hour: Vec<WaitStat>,
    pub wait_by_weekday: Vec<WaitStat>,
    /// Approvals that went stale after an edit, and were given again.
    pub stale_approvals: usize,
    pub flaky_tests: Vec<Count>,
    pub waived_tests: Vec<Count>,
    /// (hotfix, test): medium and low tests deferred at deploy and never run since.
    pub deferred_tests: Vec<(ReleaseId, String)>,
    pub weeks: Vec<Week>,
    pub held_back: Vec<HeldBack>,
    /// Hotfixes of the period that deployed by break-glass.
    pub break_glass: Vec<ReleaseId>,
    /// (hotfix, role): approvals owed after a break-glass deploy and past due now, whatever
    /// the period (see `Model::overdue_debts`).
    pub overdue_debts: Vec<(ReleaseId, String)>,
}

fn secs(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_seconds()
}

/// How long two intervals overlap, in seconds.
fn overlap(a: (DateTime<Utc>, DateTime<Utc>), b: (DateTime<Utc>, DateTime<Utc>)) -> i64 {
    let start = a.0.max(b.0);
    let end = a.1.min(b.1);
    secs(start, end).max(0)
}

/// Counts by name, most first, then by name.
fn counted<'a>(names: impl Iterator<Item = &'a Name>) -> Vec<Count> {
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for n in names {
        *by.entry(n.as_str()).or_default() += 1;
    }
    let mut list: Vec<Count> = by
        .into_iter()
        .map(|(name, count)| Count {
            name: name.to_string(),
            count,
        })
        .collect();
    list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    list
}

fn spreads<K: Ord + ToString>(groups: BTreeMap<K, Vec<i64>>) -> Vec<WaitStat> {
    groups
        .into_iter()
        .map(|(k, v)| WaitStat {
            by: k.to_string(),
            wait: Spread::of(&v),
        })
        .collect()
}

/// One hotfix's journey from its facts, judged by `policy` at `now` (without looking at other
/// hotfixes: `followed_up` is left false).
pub fn journey(f: &Facts, policy: &Policy, now: DateTime<Utc>) -> Journey {
    let required: Vec<String> = match &f.frozen_roles {
        Some(roles) => roles.iter().map(ToString::to_string).collect(),
        None => f
            .severity
            .and_then(|s| policy.approvers_for(s))
            .map(<[String]>::to_vec)
            .unwrap_or_default(),
    };
    let approved = required
        .iter()
        .map(|role| f.approvals.iter().find(|a| a.role == *role).map(|a| a.at))
        .collect::<Option<Vec<_>>>()
        .and_then(|t| t.into_iter().max());
    let gate = match (approved, f.tests_done) {
        (Some(a), Some(t)) => Some(a.max(t)),
        _ => None,
    };
    // A deploy that was rolled back did not stay: it counts for no stage after the gate, and
    // its target is not met (see `Incident::fix_that_stayed`).
    let stayed = f.rolled_back.is_none();
    let deployed = f.deployed.filter(|_| stayed);
    let at = [
        f.qualified,
        approved,
        gate,
        deployed,
        f.verified.filter(|_| stayed),
    ];
    let stages = at.map(|t| f.reported.zip(t).map(|(r, t)| secs(r, t)));
    let target = f
        .severity
        .and_then(|s| policy.target_hours.get(&s))
        .map(|h| i64::from(*h) * 3600);
    let breached = match (target, f.reported) {
        (Some(_), Some(_)) if !stayed => true,
        (Some(limit), Some(r)) => match deployed {
            Some(d) => secs(r, d) > limit,
            None => f.finished.is_none() && secs(r, now) > limit,
        },
        _ => false,
    };
    Journey {
        id: f.id,
        severity: f.severity,
        services: f.services.iter().map(ToString::to_string).collect(),
        stages,
        target,
        breached,
        rolled_back: f.rolled_back.is_some(),
        followed_up: false,
        in_flight: match (f.deployed, f.finished, f.reported) {
            (None, None, Some(r)) => Some(secs(r, now)),
            _ => None,
        },
    }
}

/// The lists of hotfixes sharing an incident (`true`) or a service (`false`) with `f`.
fn related<'m>(
    f: &Facts,
    by_incident: &'m BTreeMap<IncidentId, Vec<&'m Facts>>,
    by_service: &'m BTreeMap<&'m str, Vec<&'m Facts>>,
) -> Vec<(bool, &'m [&'m Facts])> {
    let incidents = f
        .incidents
        .iter()
        .filter_map(|i| by_incident.get(i))
        .map(|l| (true, l.as_slice()));
    let services = f
        .services
        .iter()
        .filter_map(|s| by_service.get(s.as_str()))
        .map(|l| (false, l.as_slice()));
    incidents.chain(services).collect()
}

/// The statistics of the hotfixes `filter` picks from `facts`, judged by `policy` at `now`.
pub fn stats(
    facts: &BTreeMap<ReleaseId, Facts>,
    policy: &Policy,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Stats {
    let serves = |f: &Facts| {
        filter
            .service
            .as_deref()
            .is_none_or(|s| f.services.iter().any(|x| x == s))
    };
    let picked: Vec<&Facts> = facts
        .values()
        .filter(|f| f.id.is_hotfix())
        .filter(|f| filter.since.is_none_or(|s| f.created >= s))
        .filter(|f| serves(f))
        .collect();
    let all_hotfixes: Vec<&Facts> = facts.values().filter(|f| f.id.is_hotfix()).collect();
    // Hotfixes by incident and by service, oldest first: follow-ups and restores are looked up
    // there, not by scanning every hotfix for each one.
    let mut by_incident: BTreeMap<IncidentId, Vec<&Facts>> = BTreeMap::new();
    let mut by_service: BTreeMap<&str, Vec<&Facts>> = BTreeMap::new();
    for g in &all_hotfixes {
        for i in &g.incidents {
            by_incident.entry(*i).or_default().push(g);
        }
        for s in &g.services {
            by_service.entry(s.as_str()).or_default().push(g);
        }
    }
    for list in by_incident.values_mut().chain(by_service.values_mut()) {
        list.sort_by_key(|g| (g.created, g.id));
    }
    // The hotfixes sharing an incident (`true`) or a service (`false`) with `f`.
    let related = |f: &Facts| related(f, &by_incident, &by_service);
    // A later hotfix, created within a week of this deploy, for one of the same incidents, or
    // for a new incident (reported after the deploy) on one of the same services.
    let follow_up = |f: &Facts, deployed: DateTime<Utc>| {
        let until = deployed + Duration::days(FOLLOW_UP_DAYS);
        related(f).into_iter().any(|(same_incident, list)| {
            let from = list.partition_point(|g| g.created <= deployed);
            list[from..]
                .iter()
                .take_while(|g| g.created <= until)
                .any(|g| {
                    g.id != f.id && (same_incident || g.reported.is_some_and(|r| r > deployed))
                })
        })
    };
    let journeys: Vec<Journey> = picked
        .iter()
        .map(|f| Journey {
            followed_up: f.deployed.is_some_and(|d| follow_up(f, d)),
            ..journey(f, policy, now)
        })
        .collect();
    let stages = STAGES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let v: Vec<i64> = journeys.iter().filter_map(|j| j.stages[i]).collect();
            (name.to_string(), Spread::of(&v))
        })
        .collect();
    let steps = (0..STAGES.len())
        .map(|i| {
            let v: Vec<i64> = journeys
                .iter()
                .filter_map(|j| {
                    let to = j.stages[i]?;
                    let from = if i == 0 { 0 } else { j.stages[i - 1]? };
                    Some(to - from)
                })
                .collect();
            let from = if i == 0 { "reported" } else { STAGES[i - 1] };
            (format!("{from} → {}", STAGES[i]), percentile(&v, 50))
        })
        .collect();
    let targets = policy
        .target_hours
        .iter()
        .map(|(severity, hours)| {
            let judged: Vec<&Journey> = journeys
                .iter()
                .filter(|j| j.severity == Some(*severity))
                .filter(|j| j.stages[3].is_some() || j.breached)
                .collect();
            let met = judged.iter().filter(|j| !j.breached).count();
            TargetStat {
                severity: *severity,
                hours: *hours,
                met: Share::of(met, judged.len()),
                breaches: judged.iter().filter(|j| j.breached).map(|j| j.id).collect(),
            }
        })
        .collect();
    // Change failure and time to restore, over the deployed hotfixes.
    let deployed: Vec<&&Facts> = picked.iter().filter(|f| f.deployed.is_some()).collect();
    let followed_up: std::collections::BTreeSet<ReleaseId> = journeys
        .iter()
        .filter(|j| j.followed_up)
        .map(|j| j.id)
        .collect();
    let failed: Vec<&&Facts> = deployed
        .iter()
        .copied()
        .filter(|f| f.rolled_back.is_some() || followed_up.contains(&f.id))
        .collect();
    // The deploys that could restore a failed one, by incident and by service, in time order:
    // the next one after a failure is a binary search, not a walk of every hotfix.
    let mut deploys_by_incident: BTreeMap<IncidentId, Vec<(DateTime<Utc>, ReleaseId)>> =
        BTreeMap::new();
    let mut deploys_by_service: BTreeMap<&str, Vec<(DateTime<Utc>, ReleaseId)>> = BTreeMap::new();
    for g in all_hotfixes.iter().filter(|g| g.rolled_back.is_none()) {
        let Some(at) = g.deployed else { continue };
        for i in &g.incidents {
            deploys_by_incident.entry(*i).or_default().push((at, g.id));
        }
        for s in &g.services {
            deploys_by_service
                .entry(s.as_str())
                .or_default()
                .push((at, g.id));
        }
    }
    for list in deploys_by_incident
        .values_mut()
        .chain(deploys_by_service.values_mut())
    {
        list.sort();
    }
    let mut restore = Vec::new();
    let mut unrestored = Vec::new();
    for f in &failed {
        let Some(start) = f.deployed else { continue };
        let lists = f
            .incidents
            .iter()
            .filter_map(|i| deploys_by_incident.get(i))
            .chain(
                f.services
                    .iter()
                    .filter_map(|s| deploys_by_service.get(s.as_str())),
            );
        let next = lists
            .filter_map(|list| {
                let from = list.partition_point(|(at, _)| *at <= start);
                list[from..]
                    .iter()
                    .find(|(_, id)| *id != f.id)
                    .map(|(at, _)| *at)
            })
            .min();
        match next {
            Some(d) => restore.push(secs(start, d)),
            None => unrestored.push(f.id),
        }
    }
    let failure = Failure {
        rate: Share::of(failed.len(), deployed.len()),
        failed: failed.iter().map(|f| f.id).collect(),
        time_to_restore: Spread::of(&restore),
        unrestored,
    };
    // Approval waits.
    let mut by_role: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut by_approver: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut by_hour: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut by_weekday: BTreeMap<(u32, String), Vec<i64>> = BTreeMap::new();
    for w in picked.iter().flat_map(|f| &f.approvals) {
        let wait = secs(w.asked, w.at).max(0);
        by_role.entry(w.role.to_string()).or_default().push(wait);
        by_approver
            .entry(w.approver.to_string())
            .or_default()
            .push(wait);
        by_hour
            .entry(format!("{:02}", w.asked.hour()))
            .or_default()
            .push(wait);
        let day = w.asked.weekday();
        by_weekday
            .entry((day.num_days_from_monday(), day.to_string()))
            .or_default()
            .push(wait);
    }
    let wait_by_weekday = by_weekday
        .into_iter()
        .map(|((_, name), v)| WaitStat {
            by: name,
            wait: Spread::of(&v),
        })
        .collect();
    // Weeks, from the first hotfix of the period to now (empty weeks included).
    let mut weeks = Vec::new();
    if let Some(first) = picked.iter().map(|f| f.created).min() {
        let mut counts: BTreeMap<(i32, u32), usize> = BTreeMap::new();
        for f in &picked {
            let w = f.created.iso_week();
            *counts.entry((w.year(), w.week())).or_default() += 1;
        }
        let monday = |t: DateTime<Utc>| {
            t.date_naive() - Duration::days(i64::from(t.weekday().num_days_from_monday()))
        };
        let (mut day, last) = (monday(first), monday(now.max(first)));
        while day <= last {
            let w = day.iso_week();
            weeks.push(Week {
                week: format!("{}-W{:02}", w.year(), w.week()),
                hotfixes: counts.get(&(w.year(), w.week())).copied().unwrap_or(0),
            });
            day += Duration::days(7);
        }
    }
    // Regular releases held back: pending while a hotfix of the period was in flight.
    // The flights merged once into disjoint spans, in order: each regular release then looks
    // up only the spans its pending time meets, not every hotfix of the period.
    let mut flights: Vec<(DateTime<Utc>, DateTime<Utc>)> = picked
        .iter()
        .map(|f| (f.created, f.verified.or(f.finished).unwrap_or(now)))
        .filter(|(a, b)| a < b)
        .collect();
    flights.sort();
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for f in flights {
        match spans.last_mut() {
            Some(last) if f.0 <= last.1 => last.1 = last.1.max(f.1),
            _ => spans.push(f),
        }
    }
    let mut held_back = Vec::new();
    for r in facts.values().filter(|f| !f.id.is_hotfix()) {
        let pending = (r.created, r.deploying.or(r.finished).unwrap_or(now));
        let first = spans.partition_point(|s| s.1 <= pending.0);
        let held: i64 = spans[first..]
            .iter()
            .take_while(|s| s.0 < pending.1)
            .map(|s| overlap(*s, pending))
            .sum();
        if held > 0 {
            held_back.push(HeldBack {
                release: r.id,
                held,
            });
        }
    }
    Stats {
        since: filter.since,
        service: filter.service.clone(),
        now,
        stages,
        steps,
        targets,
        failure,
        wait_by_role: spreads(by_role),
        wait_by_approver: spreads(by_approver),
        wait_by_hour: spreads(by_hour),
        wait_by_weekday,
        stale_approvals: picked.iter().map(|f| f.stale as usize).sum(),
        break_glass: picked
            .iter()
            .filter(|f| f.break_glass)
            .map(|f| f.id)
            .collect(),
        overdue_debts: Vec::new(),
        flaky_tests: counted(picked.iter().flat_map(|f| &f.flaky)),
        waived_tests: counted(picked.iter().flat_map(|f| &f.waived)),
        deferred_tests: picked
            .iter()
            .flat_map(|f| f.deferred.iter().map(|n| (f.id, n.to_string())))
            .collect(),
        weeks,
        held_back,
        hotfixes: journeys,
    }
}
