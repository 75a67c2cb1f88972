//! `hotfix remind`: sends the approval escalations due now (see `state::escalation`). Each step
//! is claimed on the record first, under the store's write lock, then sent, so two reminders
//! running at once (cron and an open cockpit) send each message once; a send that fails is
//! recorded, and claimed again later. Reminders and deputies' notices go to the operations
//! webhook, pages to the PagerDuty Events API v2.

use crate::notify::slack_escape;
use crate::state::escalation::{Due, Step};
use crate::state::{Command, Model, Release, Severity};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// PagerDuty's Events API v2 endpoint, unless `$HOTFIX_PAGERDUTY_URL` says otherwise (tests).
pub const PAGERDUTY_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// Where escalations go, as configured; the URL and the routing key are secrets, never shown.
#[derive(Clone)]
pub struct Channels {
    pub webhook: Option<String>,
    pub pagerduty: Option<PagerDuty>,
    pub timeout: Duration,
}

#[derive(Clone)]
pub struct PagerDuty {
    pub routing_key: String,
    pub url: String,
}

impl Channels {
    /// The operations webhook (`$HOTFIX_WEBHOOK_URL` / `"webhook_url"`) and PagerDuty's routing
    /// key (`$HOTFIX_PAGERDUTY_ROUTING_KEY` / `"pagerduty_routing_key"` in config.json).
    pub fn configured() -> Result<Channels, String> {
        let pagerduty =
            crate::notify::setting("HOTFIX_PAGERDUTY_ROUTING_KEY", "pagerduty_routing_key").map(
                |routing_key| PagerDuty {
                    routing_key,
                    url: std::env::var("HOTFIX_PAGERDUTY_URL")
                        .ok()
                        .filter(|u| !u.is_empty())
                        .unwrap_or_else(|| PAGERDUTY_URL.to_string()),
                },
            );
        Ok(Channels {
            webhook: crate::notify::webhook_url(None, crate::state::Audience::Ops),
            pagerduty,
            timeout: crate::notify::timeout()?,
        })
    }
}

/// One message to send: to whom (the service's name, for errors), where, and what.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub service: &'static str,
    pub url: String,
    pub payload: Value,
}

impl Outgoing {
    pub fn send(&self, timeout: Duration) -> Result<(), String> {
        crate::notify::post_to(self.service, &self.url, &self.payload, timeout)
    }
}

/// The command that claims `due` on the record.
pub fn claim(due: &Due) -> Command {
    Command::Escalate {
        id: due.release,
        role: due.role.clone(),
        step: due.step,
    }
}

/// The command that records that sending `due` failed.
pub fn failed(due: &Due, error: String) -> Command {
    Command::EscalationFailed {
        id: due.release,
        role: due.role.clone(),
        step: due.step,
        error,
    }
}

/// The message for `due`, or why it cannot be sent here (its channel is not configured).
pub fn outgoing(model: &Model, due: &Due, channels: &Channels) -> Result<Outgoing, String> {
    let release = model.release(due.release).map_err(|r| r.message)?;
    match due.step {
        Step::Reminder | Step::Deputies => {
            let url = channels.webhook.clone().ok_or(
                "no webhook is configured: set HOTFIX_WEBHOOK_URL or \"webhook_url\" in config.json",
            )?;
            let url = http_url(url, "HOTFIX_WEBHOOK_URL (or \"webhook_url\")")?;
            Ok(Outgoing {
                service: "the webhook",
                url,
                payload: slack(model, release, due),
            })
        }
        Step::Page | Step::Resolve => {
            let pd = channels.pagerduty.as_ref().ok_or(
                "no PagerDuty routing key is configured: set HOTFIX_PAGERDUTY_ROUTING_KEY or \"pagerduty_routing_key\" in config.json",
            )?;
            Ok(Outgoing {
                service: "PagerDuty",
                url: http_url(pd.url.clone(), "HOTFIX_PAGERDUTY_URL")?,
                payload: pagerduty(model, release, due, &pd.routing_key),
            })
        }
    }
}

/// `url` if it is an http(s) URL: one that is not is a setting to fix, found before anything
/// is claimed (a claim would fail to send, again and again). The URL is never shown.
fn http_url(url: String, setting: &str) -> Result<String, String> {
    let ok = url
        .parse::<ureq::http::Uri>()
        .is_ok_and(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some());
    if ok {
        Ok(url)
    } else {
        Err(format!(
            "{setting} is not an http(s) URL: fix the setting (it is not shown: it may hold a secret)"
        ))
    }
}

/// How long the role has waited when the step falls due: whole deadlines, so a message reads
/// the same whenever the reminder runs.
fn overdue(model: &Model, release: &Release, step: Step) -> String {
    let Some(deadline) = model.approval_deadline(release) else {
        return String::new();
    };
    let n = match step {
        Step::Reminder => 1,
        Step::Deputies => 2,
        Step::Page | Step::Resolve => model.policy.escalation.as_ref().map_or(3, |e| e.page_after),
    };
    let total = crate::state::policy::Every {
        seconds: deadline.seconds.saturating_mul(n),
    };
    format!("over {total} (its deadline is {deadline})")
}

fn severity(model: &Model, release: &Release) -> String {
    model
        .release_severity(release)
        .map_or_else(|| "-".into(), |s| s.to_string())
}

/// The words of a reminder or a deputies' notice: a title and a body, data unescaped.
fn words(model: &Model, release: &Release, due: &Due) -> (String, String) {
    let id = release.id;
    let role = &due.role;
    let sev = severity(model, release);
    let waited = overdue(model, release, due.step);
    let approve = format!("`hotfix approve {id} --role {role}`");
    let summary = crate::sanitize::line(&release.scope.summary).into_owned();
    match due.step {
        Step::Deputies => {
            let holders: Vec<&String> = model
                .users
                .iter()
                .filter(|(_, roles)| roles.contains(role))
                .map(|(u, _)| u)
                .collect();
            let holder = holders.first().map_or("HOLDER", |h| h.as_str());
            (
                format!("Escalation: {id} ({sev}) still waits on {role}"),
                format!(
                    "{}: you are the policy's {} for {role}. {id} has waited {waited} for its {role} approval, and its holders ({}) have not given it.\nIf you hold {role}, approve with {approve}. If not, a holder or an admin can let you stand in: `hotfix user delegate {holder} --to DEPUTY --role {role} --until TIME`.\n{id}: {summary}",
                    due.to.join(", "),
                    if due.to.len() == 1 {
                        "deputy"
                    } else {
                        "deputies"
                    },
                    holders
                        .iter()
                        .map(|h| h.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        }
        // (Pages and their resolves go to PagerDuty: see `pagerduty`.)
        Step::Reminder | Step::Page | Step::Resolve => (
            format!("Reminder: {id} ({sev}) waits on {role} approval"),
            format!(
                "{id} has waited {waited} for its {role} approval.\nWho can give it: {}.\nApprove with {approve}, or reject it with a reason.\n{id}: {summary}",
                due.to.join(", ")
            ),
        ),
    }
}

/// The Slack incoming-webhook message, escaped as notices are.
fn slack(model: &Model, release: &Release, due: &Due) -> Value {
    let (title, body) = words(model, release, due);
    let (title, body) = (slack_escape(title), slack_escape(body));
    json!({
        "text": format!("{title}\n{body}"),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title}},
            {"type": "section", "text": {"type": "mrkdwn", "text": body}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": format!("{} · {} for {} · sent by hotfix remind", release.id, due.step, due.role)}]},
        ],
    })
}

/// The page's key: the store, the release and the role, so a page is one PagerDuty incident
/// however often it is triggered, and its resolve finds it.
pub fn dedup_key(model: &Model, release: &Release, role: &str) -> String {
    let store = Sha256::digest(model.origin.clone().unwrap_or_default().as_bytes());
    let store: String = store.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("hotfix/{store}/{}/{role}", release.id)
}

/// A PagerDuty Events API v2 event: a trigger for a page, a resolve once the role is given.
fn pagerduty(model: &Model, release: &Release, due: &Due, routing_key: &str) -> Value {
    let key = dedup_key(model, release, &due.role);
    if due.step == Step::Resolve {
        return json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": key,
        });
    }
    let id = release.id;
    let sev = model.release_severity(release);
    let level = match sev {
        Some(Severity::P1) => "critical",
        Some(Severity::P2) => "error",
        _ => "warning",
    };
    let summary: String = format!(
        "{id} ({}) has waited {} for its {} approval",
        severity(model, release),
        overdue(model, release, Step::Page),
        due.role
    )
    .chars()
    .take(1024)
    .collect();
    let incidents: Vec<String> = release
        .scope
        .incidents
        .iter()
        .map(ToString::to_string)
        .collect();
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": key,
        "payload": {
            "summary": summary,
            "source": format!("hotfix {id}"),
            "severity": level,
            "component": due.role,
            "class": "approval overdue",
            "custom_details": {
                "release": id,
                "revision": due.revision,
                "role": due.role,
                "waiting_since": model.waiting_since(release),
                "incidents": incidents,
                "summary": crate::sanitize::line(&release.scope.summary),
                "approve": format!("hotfix approve {id} --role {}", due.role),
            },
        },
        "client": "hotfix",
    })
}
