//! Incidents and their qualification: what is on fire, how bad, and whether it earns a hotfix.

use super::Name;
use super::kinds::{Decision, IncidentId, IncidentStatus, Risk, Severity};
use super::text::{self, MAX_LINE, MAX_TEXT};
use super::{Ctx, Event, Model, Recorded, Rejection, ReleaseId, reject};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub title: String,
    pub severity: Severity,
    pub services: Vec<Name>,
    pub impact: String,
    pub status: IncidentStatus,
    #[serde(with = "super::stamp")]
    pub reported_at: DateTime<Utc>,
    pub reported_by: Name,
    pub qualification: Option<Qualification>,
    pub severity_changes: Vec<SeverityChange>,
    pub resolution: Option<Resolution>,
    /// The alerting source's key when the incident was imported.
    pub source: Option<String>,
    /// Remarks from the source (for example an alert that resolved), oldest first.
    pub notes: Vec<Note>,
    /// What end users are told about it (see [`public_text`]); empty until someone writes it.
    #[serde(default)]
    pub public: String,
    /// When customer impact began and ended, as recorded (an alert's times, or a person's).
    #[serde(default, with = "super::stamp::option")]
    pub impact_since: Option<DateTime<Utc>>,
    #[serde(default, with = "super::stamp::option")]
    pub impact_until: Option<DateTime<Utc>>,
    #[serde(default)]
    pub review: Option<super::review::Review>,
    #[serde(default)]
    pub review_waiver: Option<super::review::ReviewWaiver>,
    /// Its own notices (investigating), oldest first; later ones are its hotfixes'.
    #[serde(default)]
    pub notices: Vec<super::release::Notice>,
    /// The sequence numbers of the log lines that name it, oldest first: its audit trail is
    /// read line by line from these (see `Store::trail`), not by walking the whole log.
    #[serde(default)]
    pub lines: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub note: String,
    /// The source's name for it (see `Event::IncidentNoted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub by: Name,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
}

/// The qualifier's recorded decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Qualification {
    pub decision: Decision,
    pub risk: Risk,
    pub impact: String,
    pub rationale: String,
    pub by: Name,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeverityChange {
    pub from: Severity,
    pub to: Severity,
    pub reason: String,
    pub by: Name,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    pub note: String,
    pub by: Name,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
    /// The hotfix whose closing resolved it, if any.
    pub release: Option<ReleaseId>,
}

/// The policy's target from report to hotfix deployed, as it stands for one incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// No target for this severity, or the incident was resolved without a hotfix deploy.
    None,
    /// Still running: the deadline.
    Running(DateTime<Utc>),
    /// The hotfix `by` was deployed at `at`, and stayed: the first deploy for the incident that
    /// was not rolled back (see [`Incident::fix_that_stayed`]).
    Deployed {
        at: DateTime<Utc>,
        deadline: DateTime<Utc>,
        by: ReleaseId,
    },
}

impl Incident {
    /// When the policy's target from report to hotfix deployed runs out, for severities that have one.
    pub fn deadline(&self, model: &Model) -> Option<DateTime<Utc>> {
        let hours = model.policy.target_hours.get(&self.severity)?;
        Some(self.reported_at + Duration::hours(i64::from(*hours)))
    }

    /// The hotfix whose deploy fixed the incident and stayed, and when it was deployed: the first
    /// deploy of a hotfix for it that was not rolled back. A rolled-back deploy fixed nothing,
    /// so it never counts for the target, the time to deploy or the statistics.
    pub fn fix_that_stayed(&self, model: &Model) -> Option<(ReleaseId, DateTime<Utc>)> {
        model
            .hotfixes_for(self.id)
            .filter(|r| r.phase != super::Phase::RolledBack)
            .filter_map(|r| r.milestone(super::Phase::Deployed).map(|m| (r.id, m.at)))
            .min_by_key(|(id, at)| (*at, *id))
    }

    /// Where the incident stands against its target: running, met or missed by the deploy that
    /// stayed, or none.
    pub fn target(&self, model: &Model) -> Target {
        let Some(deadline) = self.deadline(model) else {
            return Target::None;
        };
        match (self.fix_that_stayed(model), self.status) {
            (Some((by, at)), _) => Target::Deployed { at, deadline, by },
            (None, IncidentStatus::Resolved) => Target::None,
            (None, _) => Target::Running(deadline),
        }
    }
}

impl Model {
    /// Unfinished hotfixes (not closed, cancelled or rolled back) that link `id`.
    pub fn unfinished_hotfixes_for(&self, id: IncidentId) -> impl Iterator<Item = ReleaseId> + '_ {
        self.hotfixes_for(id)
            .filter(|r| !r.phase.is_finished())
            .map(|r| r.id)
    }

    /// Unresolved incidents, most severe then oldest first; `all` adds resolved ones after them.
    pub fn incident_queue(&self, all: bool) -> Vec<&Incident> {
        let mut list: Vec<&Incident> = self
            .incidents
            .values()
            .filter(|i| all || i.status != IncidentStatus::Resolved)
            .collect();
        list.sort_by_key(|i| {
            (
                i.status == IncidentStatus::Resolved,
                i.severity,
                i.reported_at,
                i.id,
            )
        });
        list
    }
}

/// Checks the text end users will read: free text, and never an internal id (`INC-3`,
/// `HF-2`, `REL-1`), which a customer cannot look up and which tells them nothing.
pub fn public_text(value: &str) -> Result<String, Rejection> {
    let v = text::optional("public text", value, MAX_TEXT)?;
    let upper = v.to_ascii_uppercase();
    for prefix in ["INC-", "HF-", "REL-"] {
        let mut from = 0;
        while let Some(at) = upper[from..].find(prefix) {
            let start = from + at;
            let end = start + prefix.len();
            let word_start = start == 0 || !upper[..start].ends_with(|c: char| c.is_alphanumeric());
            if word_start && upper[end..].starts_with(|c: char| c.is_ascii_digit()) {
                let digits: String = upper[end..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                reject!(
                    "the public text names {prefix}{digits}, an internal id customers cannot look up: describe the problem in their words"
                );
            }
            from = end;
        }
    }
    Ok(v)
}

/// A customer-impact time: never in the future.
fn impact_time(
    field: &str,
    at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, Rejection> {
    match at {
        Some(t) if t > now => reject!(
            "{field} {} is in the future (now is {})",
            crate::present::stamp(t),
            crate::present::stamp(now)
        ),
        other => Ok(other),
    }
}

fn services(list: &[String]) -> Result<Vec<String>, Rejection> {
    let mut out: Vec<String> = Vec::new();
    for s in list {
        let s = text::check_name("service", s)?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    if out.len() > 50 {
        reject!("an incident may name at most 50 services");
    }
    Ok(out)
}

/// A new incident, as reported by a person or an alert.
pub(crate) struct Report<'a> {
    pub title: &'a str,
    pub severity: Severity,
    pub services: &'a [String],
    pub impact: &'a str,
    pub public: &'a str,
    pub impact_since: Option<DateTime<Utc>>,
    pub source: Option<String>,
}

pub(crate) fn decide_report(ctx: &Ctx, report: Report) -> Result<Vec<Event>, Rejection> {
    Ok(vec![Event::IncidentReported {
        id: ctx.model.next_incident_id(),
        title: text::required("title", report.title, MAX_LINE)?,
        severity: report.severity,
        services: services(report.services)?,
        impact: text::optional("impact", report.impact, MAX_TEXT)?,
        source: report.source,
        public: public_text(report.public)?,
        impact_since: impact_time("impact since", report.impact_since, ctx.now)?,
    }])
}

/// A correction of what end users are told, or of when customer impact began and ended.
/// Allowed after resolution too: a review often finds the true times.
pub(crate) fn decide_edit(
    ctx: &Ctx,
    id: IncidentId,
    public: Option<&str>,
    impact_since: Option<DateTime<Utc>>,
    impact_until: Option<DateTime<Utc>>,
) -> Result<Vec<Event>, Rejection> {
    let incident = ctx.model.incident(id)?;
    let public = public.map(public_text).transpose()?;
    let impact_since = impact_time("impact since", impact_since, ctx.now)?;
    let impact_until = impact_time("impact until", impact_until, ctx.now)?;
    let since = impact_since.or(incident.impact_since);
    let until = impact_until.or(incident.impact_until);
    if let (Some(s), Some(u)) = (since, until)
        && u < s
    {
        reject!(
            "impact would end ({}) before it began ({}): give both times, or the one that is wrong",
            crate::present::stamp(u),
            crate::present::stamp(s)
        );
    }
    // Only what changes is recorded; nothing at all is refused, so a retry is harmless to see.
    let public = public.filter(|p| *p != incident.public);
    let impact_since = impact_since.filter(|t| Some(*t) != incident.impact_since);
    let impact_until = impact_until.filter(|t| Some(*t) != incident.impact_until);
    if public.is_none() && impact_since.is_none() && impact_until.is_none() {
        reject!(
            "nothing to change on {id}: the public text and impact times given are what it already has"
        );
    }
    Ok(vec![Event::IncidentEdited {
        id,
        public,
        impact_since,
        impact_until,
    }])
}

fn unresolved(model: &Model, id: IncidentId) -> Result<&Incident, Rejection> {
    let incident = model.incident(id)?;
    if incident.status == IncidentStatus::Resolved {
        reject!("{id} is resolved: nothing can change on it");
    }
    Ok(incident)
}

pub(crate) fn decide_severity(
    ctx: &Ctx,
    id: IncidentId,
    severity: Severity,
    reason: &str,
) -> Result<Vec<Event>, Rejection> {
    let incident = unresolved(ctx.model, id)?;
    if incident.severity == severity {
        reject!("{id} is already {severity}: nothing to change");
    }
    Ok(vec![Event::IncidentSeverityChanged {
        id,
        from: incident.severity,
        to: severity,
        reason: text::required("reason", reason, MAX_TEXT)?,
    }])
}

impl Model {
    /// Whether `user` may qualify incident `id` now: they hold the qualifying role, and the
    /// incident is unresolved and not already being fixed by a hotfix.
    pub fn may_qualify(&self, user: &str, id: IncidentId) -> Result<(), Rejection> {
        let role = &self.policy.qualifier_role;
        if !self.holds(user, role) {
            reject!("only the {role} role may qualify incidents; {user} does not hold it");
        }
        unresolved(self, id)?;
        if let Some(hf) = self.unfinished_hotfixes_for(id).next() {
            reject!(
                "{id} is already being fixed by {hf}: cancel or finish {hf} before qualifying it again"
            );
        }
        Ok(())
    }
}

pub(crate) fn decide_qualify(
    ctx: &Ctx,
    id: IncidentId,
    decision: Decision,
    risk: Risk,
    impact: &str,
    rationale: &str,
    public: &str,
) -> Result<Vec<Event>, Rejection> {
    let policy = &ctx.model.policy;
    ctx.model.may_qualify(ctx.actor, id)?;
    let incident = unresolved(ctx.model, id)?;
    if decision == Decision::Hotfix && !policy.hotfix_severities.contains(&incident.severity) {
        let allowed: Vec<String> = policy
            .hotfix_severities
            .iter()
            .map(ToString::to_string)
            .collect();
        reject!(
            "{id} is {}: only {} incidents may be qualified for a hotfix; raise its severity with a reason first, or choose regular-release",
            incident.severity,
            allowed.join("/")
        );
    }

    let mut events = vec![Event::IncidentQualified {
        id,
        decision,
        risk,
        impact: text::required("impact", impact, MAX_TEXT)?,
        rationale: text::required("rationale", rationale, MAX_TEXT)?,
    }];
    // What customers are told is written as the incident is qualified, in the same batch.
    let public = public_text(public)?;
    if !public.is_empty() && public != incident.public {
        events.push(Event::IncidentEdited {
            id,
            public: Some(public),
            impact_since: None,
            impact_until: None,
        });
    }
    Ok(events)
}

pub(crate) fn decide_resolve(
    ctx: &Ctx,
    id: IncidentId,
    note: &str,
) -> Result<Vec<Event>, Rejection> {
    unresolved(ctx.model, id)?;
    if let Some(hf) = ctx.model.unfinished_hotfixes_for(id).next() {
        reject!(
            "{id} is being fixed by {hf}: closing {hf} resolves it; cancel {hf} to resolve it by hand"
        );
    }
    Ok(vec![Event::IncidentResolved {
        id,
        note: text::optional("note", note, MAX_TEXT)?,
        release: None,
    }])
}

pub(crate) fn apply(model: &mut Model, r: &Recorded) {
    match &r.event {
        Event::IncidentReported {
            id,
            title,
            severity,
            services,
            impact,
            source,
            public,
            impact_since,
        } => {
            model.incidents.insert(
                *id,
                Incident {
                    id: *id,
                    title: title.clone(),
                    severity: *severity,
                    services: services.iter().map(|s| s.as_str().into()).collect(),
                    impact: impact.clone(),
                    status: IncidentStatus::Open,
                    reported_at: r.at,
                    reported_by: r.actor.as_str().into(),
                    qualification: None,
                    severity_changes: Vec::new(),
                    resolution: None,
                    source: source.clone(),
                    notes: Vec::new(),
                    public: public.clone(),
                    impact_since: *impact_since,
                    impact_until: None,
                    review: None,
                    review_waiver: None,
                    notices: Vec::new(),
                    lines: Vec::new(),
                },
            );
        }
        Event::IncidentSeverityChanged {
            id,
            from,
            to,
            reason,
        } => {
            if let Some(i) = model.incidents.get_mut(id) {
                i.severity = *to;
                i.severity_changes.push(SeverityChange {
                    from: *from,
                    to: *to,
                    reason: reason.clone(),
                    by: r.actor.as_str().into(),
                    at: r.at,
                });
            }
        }
        Event::IncidentQualified {
            id,
            decision,
            risk,
            impact,
            rationale,
        } => {
            if let Some(i) = model.incidents.get_mut(id) {
                i.status = IncidentStatus::Qualified;
                i.qualification = Some(Qualification {
                    decision: *decision,
                    risk: *risk,
                    impact: impact.clone(),
                    rationale: rationale.clone(),
                    by: r.actor.as_str().into(),
                    at: r.at,
                });
            }
        }
        Event::IncidentResolved { id, note, release } => {
            if let Some(i) = model.incidents.get_mut(id) {
                i.status = IncidentStatus::Resolved;
                i.resolution = Some(Resolution {
                    note: note.clone(),
                    by: r.actor.as_str().into(),
                    at: r.at,
                    release: *release,
                });
            }
        }
        Event::IncidentServicesChanged { id, services } => {
            if let Some(i) = model.incidents.get_mut(id) {
                i.services = services.iter().map(|s| s.as_str().into()).collect();
            }
        }
        Event::IncidentNoted { id, note, key } => {
            if let Some(i) = model.incidents.get_mut(id) {
                i.notes.push(Note {
                    key: key.clone(),
                    note: note.clone(),
                    by: r.actor.as_str().into(),
                    at: r.at,
                });
            }
        }
        Event::IncidentEdited {
            id,
            public,
            impact_since,
            impact_until,
        } => {
            if let Some(i) = model.incidents.get_mut(id) {
                if let Some(p) = public {
                    i.public = p.clone();
                }
                if impact_since.is_some() {
                    i.impact_since = *impact_since;
                }
                if impact_until.is_some() {
                    i.impact_until = *impact_until;
                }
            }
        }
        Event::ReviewRecorded { id, review } => super::review::fold_recorded(model, r, *id, review),
        Event::ReviewWaived { id, reason } => super::review::fold_waived(model, r, *id, reason),
        Event::ActionDone { id, item } => super::review::fold_done(model, r, *id, *item),
        Event::IncidentNoticeRecorded {
            id,
            stage,
            audience,
            channel,
            error,
        } => {
            if let Some(i) = model.incidents.get_mut(id) {
                let notice = super::release::Notice::recorded(r, *stage, *audience, channel, error);
                i.notices.push(notice);
            }
        }
        // Folded by the other parts of the model (see `state::apply`).
        super::event::users_events!()
        | super::event::test_events!()
        | super::event::release_events!()
        | Event::Unreadable { .. } => {}
    }
}
