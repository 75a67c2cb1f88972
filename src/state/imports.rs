//! What arrives from the tools a team already runs: test results from CI, alerts from
//! Alertmanager and PagerDuty, and the record of stakeholder notices sent. Parsing the outside
//! formats happens in the shell (`crate::import`); the rules that map them live here.

use super::kinds::{
    Audience, IncidentId, IncidentStatus, Priority, ReleaseId, Severity, Stage, TestStatus,
};
use super::text::{MAX_LINE, MAX_NAME, MAX_TEST_NAME, MAX_TESTS, MAX_TEXT};
use super::{Ctx, Event, Rejection, reject};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A test's identity as imports store and match it: `classname::name`, or `name` when there is
/// no classname, both trimmed; the classname alone when there is no name (JUnit 5 reports a
/// class-level failure, in `@BeforeAll` say, as a case named after its class only). `None`
/// when there is neither.
pub fn test_identity(classname: &str, name: &str) -> Option<String> {
    let (class, name) = (classname.trim(), name.trim());
    match (class.is_empty(), name.is_empty()) {
        (true, true) => None,
        (false, true) => Some(class.to_string()),
        (true, false) => Some(name.to_string()),
        (false, false) => Some(format!("{class}::{name}")),
    }
}

/// One test case's outcome from a JUnit report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestResult {
    /// `classname::name`, the identity a new test is added under.
    pub id: String,
    /// The bare `name`, which also matches a test added by hand under that name.
    pub name: String,
    pub status: TestStatus,
    /// Passed only after a rerun.
    pub flaky: bool,
    /// The failure or skip message, if any.
    pub message: String,
}

/// How an alert says how bad it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeverityHint {
    /// Alertmanager's `severity` label, if any.
    Label(Option<String>),
    /// PagerDuty's `priority.summary` and `urgency`.
    PagerDuty {
        priority: Option<String>,
        urgency: Option<String>,
    },
}

/// An alert reduced to what an incident needs. Text is untrusted: it is cut to the limits here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertInput {
    /// `alertmanager:<groupKey>` or `pagerduty:<incident id>`: the de-duplication key.
    pub key: String,
    pub title: String,
    pub severity: SeverityHint,
    pub services: Vec<String>,
    pub impact: String,
    pub resolved: bool,
    /// What the event changes.
    pub change: AlertChange,
    /// The source's id for this event, if it has one (PagerDuty), to note a repeat once.
    pub event: Option<String>,
    /// When the source says the problem began (`startsAt`, `created_at`) and, once resolved,
    /// ended (`endsAt`, the resolving event's time): the customer-impact window.
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
}

/// What an alert event changes about its incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlertChange {
    /// Its state: create the incident, or follow its severity and resolution.
    State,
    /// A remark from the source (a PagerDuty note or responder).
    Note(String),
    /// The services the source lists for it.
    Services,
}

/// A policy rule giving imported tests their priority: the first whose pattern matches wins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityRule {
    /// `*` matches any run of characters, e.g. `payments::*` or `*::smoke_*`.
    pub pattern: String,
    pub priority: Priority,
}

/// Matches `text` against a pattern where `*` stands for any run of characters.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().unwrap_or((&"", &[]));
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for part in middle {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// Cuts untrusted text to `max` characters on one line.
fn clip(text: &str, max: usize) -> String {
    let one_line: String = text
        .trim()
        .chars()
        .filter(|c| *c != '\0')
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A service name from outside made to fit the name rules (letters, digits, `._@+-`).
fn service_name(raw: &str) -> Option<String> {
    let name: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "._@+-".contains(c) {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(MAX_NAME)
        .collect();
    let name = name.trim_matches('-').to_string();
    (!name.is_empty()).then_some(name)
}

pub(crate) fn decide_tests(
    ctx: &Ctx,
    id: ReleaseId,
    results: &[TestResult],
) -> Result<Vec<Event>, Rejection> {
    let release = ctx.model.release(id)?;
    if release.phase.is_finished() {
        reject!(
            "{id} is {}: its tests can no longer change",
            ctx.model.release_status(release)
        );
    }
    if results.is_empty() {
        reject!("the report has no test cases: nothing to import");
    }
    if let Some(r) = results
        .iter()
        .find(|r| r.id.trim() != r.id || r.id.is_empty() || r.id.chars().count() > MAX_TEST_NAME)
    {
        reject!(
            "the test name \"{}\" is empty, untrimmed or longer than {MAX_TEST_NAME} characters: nothing was imported",
            crate::sanitize::line(&r.id.chars().take(80).collect::<String>())
        );
    }
    let mut events = Vec::new();
    // Looked up by name, so an import is linear in its size (the first test of a name wins,
    // as a scan would find it).
    let mut by_name: std::collections::HashMap<&str, &super::TestCase> =
        std::collections::HashMap::with_capacity(release.tests.len());
    for t in &release.tests {
        by_name.entry(t.name.as_str()).or_insert(t);
    }
    let mut added: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for r in results {
        let note = clip(&r.message, MAX_TEXT);
        let existing = by_name
            .get(r.id.as_str())
            .or_else(|| by_name.get(r.name.as_str()));
        match existing {
            Some(t) => {
                if t.status != r.status
                    || t.flaky != r.flaky
                    || (!note.is_empty() && note != t.note)
                {
                    events.push(Event::TestStatusSet {
                        id,
                        name: t.name.to_string(),
                        status: r.status,
                        note: (!note.is_empty()).then_some(note),
                        flaky: r.flaky,
                    });
                }
            }
            None if added.contains(r.id.as_str()) => {}
            None => {
                let name = r.id.clone();
                let priority = ctx
                    .model
                    .policy
                    .test_priority_rules
                    .iter()
                    .find(|rule| glob(&rule.pattern, &r.id))
                    .map_or(Priority::Medium, |rule| rule.priority);
                events.push(Event::TestAdded {
                    id,
                    name: name.clone(),
                    priority,
                    automated: true,
                    owner: None,
                });
                if r.status != TestStatus::Pending {
                    events.push(Event::TestStatusSet {
                        id,
                        name,
                        status: r.status,
                        note: (!note.is_empty()).then_some(note),
                        flaky: r.flaky,
                    });
                }
                added.insert(r.id.as_str());
            }
        }
    }
    // The per-release limit holds for imports too, whole or not at all.
    if release.tests.len() + added.len() > MAX_TESTS {
        reject!(
            "{id} lists {} tests and this import would add {} more: over the limit of {MAX_TESTS} tests per release; nothing was imported",
            release.tests.len(),
            added.len()
        );
    }
    Ok(events)
}

/// What an import would do, before anything is recorded: per tier, how many tests it adds and
/// how its results fall; every failure by name with the rule that gave its tier; and the gate
/// as it would stand afterwards.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImportPreview {
    pub tiers: Vec<TierCount>,
    pub failures: Vec<PreviewFailure>,
    pub gate: super::Gate,
    /// How many events the import would record (0: nothing would change).
    pub events: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TierCount {
    pub priority: Priority,
    pub new: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub flaky: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PreviewFailure {
    pub name: String,
    pub priority: Priority,
    /// Why it has that tier: the policy rule that matched a new test, or that it was there.
    pub tier_from: String,
}

impl super::Model {
    /// [`ImportPreview`] of importing `results` into `id` as `actor`: the same `decide` the
    /// import runs, folded into a copy of the model. Refused as the import would be.
    pub fn preview_import(
        &self,
        actor: &str,
        now: chrono::DateTime<chrono::Utc>,
        id: ReleaseId,
        results: &[TestResult],
    ) -> Result<ImportPreview, Rejection> {
        let command = super::Command::ImportTestResults {
            id,
            results: results.to_vec(),
        };
        let events = super::decide(self, actor, now, command)?;
        let mut after = self.clone();
        let added: std::collections::HashSet<&str> = events
            .iter()
            .filter_map(|e| {
                let Event::TestAdded { name, .. } = e else {
                    return None;
                };
                Some(name.as_str())
            })
            .collect();
        for (seq, event) in (self.seq + 1..).zip(events.iter()) {
            super::apply(
                &mut after,
                &super::Recorded {
                    seq,
                    at: now,
                    actor: actor.to_string(),
                    event: event.clone(),
                },
            );
        }
        let release = after.release(id)?;
        let mut tiers: Vec<TierCount> = Priority::ALL
            .iter()
            .map(|p| TierCount {
                priority: *p,
                new: 0,
                passed: 0,
                failed: 0,
                skipped: 0,
                flaky: 0,
            })
            .collect();
        let mut failures = Vec::new();
        for r in results {
            let Some(test) = release.test(&r.id).or_else(|_| release.test(&r.name)).ok() else {
                continue;
            };
            let Some(tier) = tiers.iter_mut().find(|t| t.priority == test.priority) else {
                continue;
            };
            let new = added.contains(test.name.as_str());
            tier.new += usize::from(new);
            match r.status {
                TestStatus::Passed => tier.passed += 1,
                TestStatus::Failed => tier.failed += 1,
                TestStatus::Skipped => tier.skipped += 1,
                TestStatus::Pending | TestStatus::Running => {}
            }
            tier.flaky += usize::from(r.flaky);
            if r.status == TestStatus::Failed {
                let tier_from = if new {
                    self.policy
                        .test_priority_rules
                        .iter()
                        .find(|rule| glob(&rule.pattern, &r.id))
                        .map_or_else(
                            || "no priority rule matched: medium".to_string(),
                            |rule| format!("rule {}", rule.pattern),
                        )
                } else {
                    "already in the test list".to_string()
                };
                failures.push(PreviewFailure {
                    name: test.name.to_string(),
                    priority: test.priority,
                    tier_from,
                });
            }
        }
        tiers.retain(|t| t.new + t.passed + t.failed + t.skipped > 0);
        Ok(ImportPreview {
            tiers,
            failures,
            gate: after.gate(id)?,
            events: events.len(),
        })
    }
}

/// The severity an alert maps to under the policy's rules.
pub fn map_severity(policy: &super::Policy, hint: &SeverityHint) -> Severity {
    match hint {
        SeverityHint::Label(label) => label
            .as_deref()
            .and_then(|l| policy.alert_severity.get(&l.to_ascii_lowercase()).copied())
            .unwrap_or(Severity::P4),
        SeverityHint::PagerDuty { priority, urgency } => {
            match priority.as_deref().map(str::to_ascii_uppercase).as_deref() {
                Some("P1") => Severity::P1,
                Some("P2") => Severity::P2,
                Some("P3") => Severity::P3,
                Some("P4" | "P5") => Severity::P4,
                _ => match urgency.as_deref() {
                    Some("high") => Severity::P2,
                    Some("low") => Severity::P3,
                    _ => Severity::P4,
                },
            }
        }
    }
}

pub(crate) fn decide_alert(ctx: &Ctx, alert: &AlertInput) -> Result<Vec<Event>, Rejection> {
    let key = clip(&alert.key, MAX_TEXT);
    if key.is_empty() {
        reject!("the alert has no key to de-duplicate by (groupKey or incident id)");
    }
    let severity = map_severity(&ctx.model.policy, &alert.severity);
    let services = || {
        let mut services: Vec<String> = alert
            .services
            .iter()
            .filter_map(|s| service_name(s))
            .collect();
        services.dedup();
        services.truncate(50);
        services
    };
    let existing = ctx
        .model
        .incidents
        .values()
        .find(|i| i.source.as_deref() == Some(key.as_str()));
    let Some(incident) = existing else {
        // An incident hotfix has not seen (subscribed mid-incident, say) is created from any
        // event that carries the whole incident (a title), unless it is already resolved; a
        // remark that names only its id says too little to create it.
        let whole = alert.change == AlertChange::State || !alert.title.trim().is_empty();
        if alert.resolved || matches!(alert.change, AlertChange::Note(_)) || !whole {
            return Ok(Vec::new());
        }
        let mut title = clip(&alert.title, MAX_LINE);
        if title.is_empty() {
            title = "(untitled alert)".into();
        }
        return Ok(vec![Event::IncidentReported {
            id: ctx.model.next_incident_id(),
            title,
            severity,
            services: services(),
            impact: clip(&alert.impact, MAX_TEXT),
            source: Some(key),
            public: String::new(),
            // A source's clock ahead of ours says nothing true about the past: left out.
            impact_since: alert.started.filter(|t| *t <= ctx.now),
        }]);
    };
    let id = incident.id;
    // A remark is recorded once: by the source's event id, else by the key and what it says.
    let note = |what: &str, text: String| {
        let note_key = clip(
            &alert
                .event
                .clone()
                .unwrap_or_else(|| format!("{key}:{what}")),
            MAX_TEXT,
        );
        if incident
            .notes
            .iter()
            .any(|n| n.key.as_deref() == Some(note_key.as_str()))
        {
            Vec::new()
        } else {
            vec![Event::IncidentNoted {
                id,
                note: clip(&text, MAX_TEXT),
                key: Some(note_key),
            }]
        }
    };
    // The source's end of the problem closes the impact window, if nothing recorded closed it.
    let ended = alert
        .ended
        .filter(|t| *t <= ctx.now && incident.impact_until.is_none())
        .filter(|t| incident.impact_since.is_none_or(|s| s <= *t))
        .map(|t| Event::IncidentEdited {
            id,
            public: None,
            impact_since: None,
            impact_until: Some(t),
        });
    Ok(match &alert.change {
        AlertChange::Note(text) => note("note", text.clone()),
        AlertChange::Services => {
            let now = services();
            let before: Vec<&str> = incident.services.iter().map(|s| s.as_str()).collect();
            if now.is_empty() || now.iter().map(String::as_str).eq(before.iter().copied()) {
                Vec::new()
            } else {
                vec![Event::IncidentServicesChanged { id, services: now }]
            }
        }
        AlertChange::State => match (alert.resolved, incident.status) {
            (_, IncidentStatus::Resolved) if !alert.resolved => note(
                "firing",
                "the source reports it firing again after it was resolved".into(),
            ),
            (true, IncidentStatus::Open) => {
                let mut events = vec![Event::IncidentResolved {
                    id,
                    note: "resolved at the source".into(),
                    release: None,
                }];
                events.extend(ended);
                events
            }
            (true, IncidentStatus::Qualified) => {
                let mut events = note(
                    "resolved",
                    "the source reports it resolved; it stays qualified until its hotfix or a person resolves it".into(),
                );
                events.extend(ended);
                events
            }
            (false, _) if severity < incident.severity => vec![Event::IncidentSeverityChanged {
                id,
                from: incident.severity,
                to: severity,
                reason: format!("the source now reports {severity}"),
            }],
            _ => Vec::new(),
        },
    })
}

/// An incident's own notice: only "investigating", while it is open and no hotfix is under
/// way (from then on its notices are the hotfix's: identified, monitoring, resolved).
pub(crate) fn decide_incident_notice(
    ctx: &Ctx,
    id: IncidentId,
    stage: Stage,
    audience: Audience,
    channel: &str,
    error: Option<String>,
) -> Result<Vec<Event>, Rejection> {
    let incident = ctx.model.incident(id)?;
    if stage != Stage::Investigating {
        reject!(
            "an incident's own notice is the investigating one; a \"{stage}\" notice is about its hotfix: `hotfix notify HF-n --stage {stage}`"
        );
    }
    if incident.status == IncidentStatus::Resolved {
        reject!("{id} is resolved: an investigating notice would not be true now");
    }
    if let Some(hf) = ctx.model.unfinished_hotfixes_for(id).next() {
        reject!(
            "{id} is being fixed by {hf}: its notices now come from {hf} (`hotfix notify {hf}`)"
        );
    }
    Ok(vec![Event::IncidentNoticeRecorded {
        id,
        stage,
        audience,
        channel: clip(channel, MAX_NAME),
        error: error.map(|e| clip(&e, MAX_TEXT)),
    }])
}

pub(crate) fn decide_notice(
    ctx: &Ctx,
    id: ReleaseId,
    stage: Stage,
    audience: Audience,
    channel: &str,
    error: Option<String>,
) -> Result<Vec<Event>, Rejection> {
    let release = ctx.model.release(id)?;
    if stage == Stage::Investigating {
        reject!(
            "an investigating notice is about an incident before its hotfix: `hotfix notify INC-n --stage investigating`"
        );
    }
    if !release.phase.allows_notice(stage) {
        reject!(
            "{id} is {}: a \"{stage}\" notice would not be true now",
            ctx.model.release_status(release)
        );
    }
    let error = error.map(|e| clip(&e, MAX_TEXT));
    Ok(vec![Event::NoticeRecorded {
        id,
        stage,
        audience,
        channel: clip(channel, MAX_NAME),
        error,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("payments::*", "payments::card"));
        assert!(glob("*::smoke_*", "api::smoke_login"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
        assert!(glob("*", ""));
        assert!(!glob("a*b", "ba"));
        assert!(glob("a*b*c", "a-b-c"));
    }

    #[test]
    fn untrusted_text_is_clipped_and_names_made_safe() {
        assert_eq!(clip("a\nb", 10), "a b");
        assert_eq!(clip(&"x".repeat(300), 5).chars().count(), 5);
        assert_eq!(
            service_name("My Mail Service").as_deref(),
            Some("my-mail-service")
        );
        assert_eq!(service_name("   "), None);
    }
}
