//! Alert payloads: an Alertmanager webhook (version 4) or a PagerDuty v3 webhook event, reduced
//! to an [`AlertInput`]. Only the fields hotfix uses are read; everything else is ignored.

use crate::state::imports::{AlertInput, SeverityHint};
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
}

#[derive(Deserialize)]
struct PagerDutyEnvelope {
    event: PdEvent,
}

#[derive(Deserialize)]
struct PdEvent {
    event_type: String,
    data: PdIncident,
}

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
}

#[derive(Deserialize)]
struct PdRef {
    #[serde(default)]
    summary: Option<String>,
}

/// Reads an Alertmanager or PagerDuty payload. `source` names the file in errors.
pub fn parse(text: &str, source: &str) -> Result<AlertInput, String> {
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
        return Ok(pagerduty(pd.event));
    }
    if value.get("groupKey").is_some() && value.get("alerts").is_some() {
        let am: Alertmanager = serde_json::from_value(value).map_err(|e| {
            format!("{source} looks like an Alertmanager webhook but is missing fields ({e})")
        })?;
        return Ok(alertmanager(am));
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
    AlertInput {
        key: format!("alertmanager:{}", am.group_key),
        title,
        severity: SeverityHint::Label(severity),
        services,
        impact: impact.trim().to_string(),
        resolved: am.status == "resolved",
    }
}

fn pagerduty(e: PdEvent) -> AlertInput {
    let d = e.data;
    let resolved = e.event_type == "incident.resolved" || d.status == "resolved";
    let number = d
        .number
        .map(|n| format!("PagerDuty #{n}"))
        .unwrap_or_else(|| "PagerDuty".into());
    AlertInput {
        key: format!("pagerduty:{}", d.id),
        title: d.title,
        severity: SeverityHint::PagerDuty {
            priority: d.priority.and_then(|p| p.summary),
            urgency: d.urgency,
        },
        services: d.service.and_then(|s| s.summary).into_iter().collect(),
        impact: format!("{number} {}", d.html_url).trim().to_string(),
        resolved,
    }
}
