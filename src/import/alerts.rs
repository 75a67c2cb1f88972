//! Alert payloads: an Alertmanager webhook (version 4) or a PagerDuty v3 webhook event, reduced
//! to an [`AlertInput`]. Only the fields hotfix uses are read; everything else is ignored.

use crate::state::imports::{AlertChange, AlertInput, SeverityHint};
use chrono::{DateTime, Datelike, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Alertmanager {
    #[serde(rename = "groupKey")]
    group_key: String,
    status: String,
    #[serde(default, rename = "commonLabels")]
    common_labels: BTreeMap<String, String>,
    #[serde(default, rename = "commonAnnotations")]
    common_annotations: BTreeMap<String, String>,
    #[serde(default, rename = "groupLabels")]
    group_labels: BTreeMap<String, String>,
    #[serde(default)]
    alerts: Vec<AmAlert>,
}

#[derive(Deserialize)]
struct AmAlert {
    #[serde(default)]
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    fingerprint: String,
    #[serde(default, rename = "startsAt")]
    starts_at: Option<String>,
    #[serde(default, rename = "endsAt")]
    ends_at: Option<String>,
}

/// A time from a payload: RFC 3339, and not Alertmanager's zero time (`0001-01-01…`, "not
/// yet"). Anything else is no time at all, never an error: the rest of the alert still counts.
fn time(text: Option<&str>) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(text?.trim()).ok()?;
    let t = t.with_timezone(&Utc);
    (t.year() > 1).then_some(t)
}

#[derive(Deserialize)]
struct PagerDutyEnvelope {
    event: PdEvent,
}

#[derive(Deserialize)]
struct PdEvent {
    #[serde(default)]
    id: Option<String>,
    event_type: String,
    #[serde(default)]
    occurred_at: Option<String>,
    #[serde(default)]
    data: serde_json::Value,
}

/// PagerDuty's incident object (`data` of most `incident.*` events).
#[derive(Deserialize)]
struct PdIncident {
    id: String,
    #[serde(default)]
    number: Option<u64>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    priority: Option<PdRef>,
    #[serde(default)]
    service: Option<PdRef>,
    #[serde(default)]
    html_url: String,
    #[serde(default)]
    created_at: Option<String>,
}

/// What `incident.annotated` and `incident.responder.*` carry: a reference to the incident.
#[derive(Deserialize)]
struct PdAbout {
    incident: PdRefId,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    user: Option<PdRef>,
}

#[derive(Deserialize)]
struct PdRefId {
    id: String,
}

#[derive(Deserialize)]
struct PdRef {
    #[serde(default)]
    summary: Option<String>,
}

/// An alert payload read: something to record, or an event that concerns no incident.
#[derive(Debug)]
pub enum Alert {
    Input(AlertInput),
    /// Nothing to record, and why (exit 0).
    Ignored(String),
}

/// Reads an Alertmanager or PagerDuty payload. `source` names the file in errors.
pub fn parse(text: &str, source: &str) -> Result<Alert, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("{source} is not valid JSON ({e})"))?;
    if value
        .get("event")
        .and_then(|e| e.get("event_type"))
        .is_some()
    {
        let pd: PagerDutyEnvelope = serde_json::from_value(value).map_err(|e| {
            format!("{source} looks like a PagerDuty webhook but is missing fields ({e})")
        })?;
        return pagerduty(pd.event, source);
    }
    if value.get("groupKey").is_some() && value.get("alerts").is_some() {
        let am: Alertmanager = serde_json::from_value(value).map_err(|e| {
            format!("{source} looks like an Alertmanager webhook but is missing fields ({e})")
        })?;
        return Ok(Alert::Input(alertmanager(am)));
    }
    Err(format!(
        "{source} is neither an Alertmanager webhook payload (groupKey, alerts) nor a PagerDuty v3 webhook event (event.event_type)"
    ))
}

fn alertmanager(am: Alertmanager) -> AlertInput {
    // Alerts de-duplicate by fingerprint within a group.
    let mut alerts: Vec<&AmAlert> = Vec::new();
    for a in &am.alerts {
        if a.fingerprint.is_empty() || !alerts.iter().any(|b| b.fingerprint == a.fingerprint) {
            alerts.push(a);
        }
    }
    let first = alerts.first();
    let title = am
        .common_annotations
        .get("summary")
        .or_else(|| first.and_then(|a| a.annotations.get("summary")))
        .or_else(|| am.common_labels.get("alertname"))
        .or_else(|| am.group_labels.get("alertname"))
        .or_else(|| first.and_then(|a| a.labels.get("alertname")))
        .cloned()
        .unwrap_or_default();
    let severity = am
        .common_labels
        .get("severity")
        .or_else(|| first.and_then(|a| a.labels.get("severity")))
        .cloned();
    let mut services: Vec<String> = alerts
        .iter()
        .filter_map(|a| {
            a.labels
                .get("service")
                .or_else(|| a.labels.get("job"))
                .cloned()
        })
        .collect();
    services.sort();
    services.dedup();
    let firing = alerts.iter().filter(|a| a.status != "resolved").count();
    let description = am
        .common_annotations
        .get("description")
        .or_else(|| first.and_then(|a| a.annotations.get("description")))
        .cloned()
        .unwrap_or_default();
    let impact = if alerts.len() > 1 {
        format!("{description} ({firing} of {} alerts firing)", alerts.len())
    } else {
        description
    };
    // Impact began with the first alert and, once the group resolved, ended with the last.
    let started = alerts
        .iter()
        .filter_map(|a| time(a.starts_at.as_deref()))
        .min();
    let ended = alerts
        .iter()
        .filter_map(|a| time(a.ends_at.as_deref()))
        .max();
    let resolved = am.status == "resolved";
    AlertInput {
        key: format!("alertmanager:{}", am.group_key),
        title,
        severity: SeverityHint::Label(severity),
        services,
        impact: impact.trim().to_string(),
        resolved,
        change: AlertChange::State,
        // Alertmanager has no event id: a repeat is known by its group and state.
        event: None,
        started,
        ended: ended.filter(|_| resolved),
    }
}

/// PagerDuty v3: each incident event type handled by name, keyed by the incident's id; events
/// about anything else (a service, a user) are ignored and said so.
fn pagerduty(e: PdEvent, source: &str) -> Result<Alert, String> {
    let kind = e.event_type.as_str();
    let missing = |err: serde_json::Error| {
        format!("{source}: the PagerDuty {kind} event is missing fields ({err})")
    };
    let about = |data: serde_json::Value| serde_json::from_value::<PdAbout>(data).map_err(missing);
    let change = match kind {
        "incident.triggered"
        | "incident.acknowledged"
        | "incident.unacknowledged"
        | "incident.escalated"
        | "incident.reassigned"
        | "incident.delegated"
        | "incident.priority_updated"
        | "incident.urgency_updated"
        | "incident.reopened"
        | "incident.resolved" => AlertChange::State,
        "incident.service_updated" => AlertChange::Services,
        "incident.annotated" => {
            let a = about(e.data)?;
            let note = a.content.unwrap_or_default();
            return Ok(Alert::Input(reference(
                a.incident.id,
                e.id,
                AlertChange::Note(format!("PagerDuty note: {}", note.trim())),
            )));
        }
        "incident.responder.added" | "incident.responder.replied" => {
            let a = about(e.data)?;
            let who = a
                .user
                .and_then(|u| u.summary)
                .unwrap_or_else(|| "someone".into());
            let what = if kind.ends_with("added") {
                "added as a responder"
            } else {
                "replied as a responder"
            };
            return Ok(Alert::Input(reference(
                a.incident.id,
                e.id,
                AlertChange::Note(format!("PagerDuty: {} {what}", who.trim())),
            )));
        }
        other => {
            return Ok(Alert::Ignored(format!(
                "{source} is a PagerDuty \"{other}\" event, which says nothing hotfix records about an incident: ignored, nothing recorded"
            )));
        }
    };
    let d: PdIncident = serde_json::from_value(e.data).map_err(missing)?;
    let resolved = kind == "incident.resolved" || d.status == "resolved";
    let occurred = time(e.occurred_at.as_deref());
    let number = d
        .number
        .map(|n| format!("PagerDuty #{n}"))
        .unwrap_or_else(|| "PagerDuty".into());
    Ok(Alert::Input(AlertInput {
        key: format!("pagerduty:{}", d.id),
        title: d.title,
        severity: SeverityHint::PagerDuty {
            priority: d.priority.and_then(|p| p.summary),
            urgency: d.urgency,
        },
        services: d.service.and_then(|s| s.summary).into_iter().collect(),
        impact: format!("{number} {}", d.html_url).trim().to_string(),
        resolved,
        change,
        event: e.id,
        started: time(d.created_at.as_deref()),
        ended: occurred.filter(|_| kind == "incident.resolved"),
    }))
}

/// An event about a PagerDuty incident that carries only its id (a note, a responder).
fn reference(incident: String, event: Option<String>, change: AlertChange) -> AlertInput {
    AlertInput {
        key: format!("pagerduty:{incident}"),
        title: String::new(),
        severity: SeverityHint::PagerDuty {
            priority: None,
            urgency: None,
        },
        services: Vec::new(),
        impact: String::new(),
        resolved: false,
        change,
        event,
        started: None,
        ended: None,
    }
}
