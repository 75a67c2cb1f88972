//! Stakeholder notices: filled from the record with the templates in `assets/notices/`, printed
//! or posted to a Slack-compatible incoming webhook. The webhook URL is a secret: it is never
//! printed, logged or put in an error message.

use crate::sanitize;
use crate::state::{Audience, IncidentId, Model, Rejection, ReleaseId, Stage};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::time::Duration;

/// A filled notice: a one-line title and a body in Slack mrkdwn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
    pub audience: Audience,
}

/// The line a notice ends with: the log's head when it was written, which the recipient can
/// later check with `hotfix verify --witness`.
pub fn witness_line(head: &crate::store::Head) -> String {
    format!("hotfix log at event {} (witness {head})", head.seq)
}

impl Notice {
    /// The notice ending with the log's head (see [`witness_line`]), for the operations team
    /// only: an end user has no use for a log hash.
    pub fn witnessed(mut self, head: &crate::store::Head) -> Notice {
        if self.audience == Audience::Ops {
            self.body = format!("{}\n\n{}", self.body, witness_line(head));
        }
        self
    }
}

/// What a notice is about: a release (its stages), or an incident before any hotfix
/// (investigating).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Release(ReleaseId),
    Incident(IncidentId),
}

impl From<ReleaseId> for Subject {
    fn from(id: ReleaseId) -> Subject {
        Subject::Release(id)
    }
}

impl From<IncidentId> for Subject {
    fn from(id: IncidentId) -> Subject {
        Subject::Incident(id)
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Release(id) => id.fmt(f),
            Subject::Incident(id) => id.fmt(f),
        }
    }
}

fn template(stage: Stage, audience: Audience) -> &'static str {
    match (stage, audience) {
        (Stage::Investigating, Audience::Ops) => {
            include_str!("../assets/notices/investigating.ops.md")
        }
        (Stage::Investigating, Audience::Users) => {
            include_str!("../assets/notices/investigating.users.md")
        }
        (Stage::Planned, Audience::Ops) => include_str!("../assets/notices/planned.ops.md"),
        (Stage::Planned, Audience::Users) => include_str!("../assets/notices/planned.users.md"),
        (Stage::Deploying, Audience::Ops) => include_str!("../assets/notices/deploying.ops.md"),
        (Stage::Deploying, Audience::Users) => include_str!("../assets/notices/deploying.users.md"),
        (Stage::Deployed, Audience::Ops) => include_str!("../assets/notices/deployed.ops.md"),
        (Stage::Deployed, Audience::Users) => include_str!("../assets/notices/deployed.users.md"),
        (Stage::Resolved, Audience::Ops) => include_str!("../assets/notices/resolved.ops.md"),
        (Stage::Resolved, Audience::Users) => include_str!("../assets/notices/resolved.users.md"),
        (Stage::RolledBack, Audience::Ops) => include_str!("../assets/notices/rolled-back.ops.md"),
        (Stage::RolledBack, Audience::Users) => {
            include_str!("../assets/notices/rolled-back.users.md")
        }
    }
}

/// Fills the template for `stage` and `audience` from the record of `subject`.
pub fn render(
    model: &Model,
    subject: impl Into<Subject>,
    stage: Stage,
    audience: Audience,
    now: DateTime<Utc>,
) -> Result<Notice, Rejection> {
    render_as(model, subject.into(), stage, audience, now, |s| s)
}

/// Slack's escaping for text it formats (`text` and mrkdwn): `&`, `<` and `>` as entities, so
/// data can never make a mention (`<!channel>`), a link or a user reference.
pub fn slack_escape(text: String) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The notice with every value taken from the store passed through `escape` (the templates'
/// own formatting is kept).
fn render_as(
    model: &Model,
    subject: Subject,
    stage: Stage,
    audience: Audience,
    now: DateTime<Utc>,
    escape: fn(String) -> String,
) -> Result<Notice, Rejection> {
    let values = match subject {
        Subject::Release(id) => release_values(model, id, stage, audience, now)?,
        Subject::Incident(id) => incident_values(model, id, stage, audience, now)?,
    };
    let mut text = template(stage, audience).to_string();
    for (key, value) in values {
        text = text.replace(&format!("{{{{{key}}}}}"), &escape(value));
    }
    let (title, body) = text.split_once('\n').unwrap_or((&text, ""));
    Ok(Notice {
        title: title.trim().to_string(),
        body: body.trim().to_string(),
        audience,
    })
}

type Values = Vec<(&'static str, String)>;

/// End users read only what was written for them: no ids, services or internal impact. Each
/// incident's public text, or why the notice cannot be made.
fn public_texts(
    incidents: &[&crate::state::Incident],
    audience: Audience,
) -> Result<String, Rejection> {
    if audience == Audience::Users
        && let Some(i) = incidents.iter().find(|i| i.public.trim().is_empty())
    {
        return Err(Rejection::new(format!(
            "{} has no public text, and end users read nothing else: write what customers see in their words with `hotfix incident edit {} --public \"...\"` (in the cockpit: p on the incident), then notify them",
            i.id, i.id
        )));
    }
    let texts: Vec<&str> = incidents.iter().map(|i| i.public.trim()).collect();
    Ok(texts.join("\n\n"))
}

/// When end users hear next, as the policy promises for `severity`, while `open`.
fn next_update_for(
    model: &Model,
    severity: Option<crate::state::Severity>,
    open: bool,
    now: DateTime<Utc>,
) -> String {
    severity
        .filter(|_| open)
        .and_then(|s| model.policy.update_every.get(&s))
        .map(|every| {
            format!(
                "\n\nNext update by {}.",
                crate::present::stamp(now + every.duration())
            )
        })
        .unwrap_or_default()
}

/// An incident's investigating notice: before any hotfix, what is known and when more comes.
fn incident_values(
    model: &Model,
    id: IncidentId,
    stage: Stage,
    audience: Audience,
    now: DateTime<Utc>,
) -> Result<Values, Rejection> {
    let i = model.incident(id)?;
    if stage != Stage::Investigating {
        return Err(Rejection::new(format!(
            "an incident's own notice is the investigating one; a \"{stage}\" notice is about its hotfix: `hotfix notify HF-n --stage {stage}`"
        )));
    }
    let one = |s: &str| sanitize::line(s.trim()).into_owned();
    let open = i.status != crate::state::IncidentStatus::Resolved;
    Ok(vec![
        ("id", id.to_string()),
        ("title", one(&i.title)),
        ("severity", i.severity.to_string()),
        (
            "services",
            if i.services.is_empty() {
                "–".into()
            } else {
                i.services.join(", ")
            },
        ),
        (
            "impact",
            if i.impact.trim().is_empty() {
                "–".into()
            } else {
                one(&i.impact)
            },
        ),
        ("status", i.status.to_string()),
        ("public", public_texts(&[i], audience)?),
        ("time", crate::present::stamp(now)),
        ("reported", crate::present::stamp(i.reported_at)),
        (
            "next_update",
            next_update_for(model, Some(i.severity), open, now),
        ),
    ])
}

fn release_values(
    model: &Model,
    id: ReleaseId,
    stage: Stage,
    audience: Audience,
    now: DateTime<Utc>,
) -> Result<Values, Rejection> {
    let r = model.release(id)?;
    if stage == Stage::Investigating {
        return Err(Rejection::new(
            "an investigating notice is about an incident before its hotfix: `hotfix notify INC-n --stage investigating`",
        ));
    }
    let incidents: Vec<&crate::state::Incident> = model.incidents_of(r).collect();
    let public = public_texts(&incidents, audience)?;
    let one = |s: &str| sanitize::line(s.trim()).into_owned();
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "–".to_string()
        } else {
            items.join(", ")
        }
    };
    let mut services: Vec<String> = incidents
        .iter()
        .flat_map(|i| i.services.iter().map(ToString::to_string))
        .collect();
    services.dedup();
    let impact: Vec<String> = incidents
        .iter()
        .filter(|i| !i.impact.is_empty())
        .map(|i| one(&i.impact))
        .collect();
    let approvers: Vec<String> = model
        .checklist(r)
        .iter()
        .filter_map(|c| match c {
            crate::state::RoleCheck::Approved { approval, .. } => {
                Some(format!("{} ({})", approval.by(), approval.role))
            }
            _ => None,
        })
        .collect();
    let passed = r
        .tests
        .iter()
        .filter(|t| t.status == crate::state::TestStatus::Passed)
        .count();
    let critical = r
        .tests
        .iter()
        .filter(|t| t.priority == crate::state::Priority::Critical)
        .count();
    let reason = r
        .milestones
        .iter()
        .rev()
        .find_map(|m| m.reason.clone())
        .unwrap_or_default();
    // Who reached the stage, as the log says (never a claim the log does not hold).
    let phase = match stage {
        Stage::Investigating | Stage::Planned => crate::state::Phase::Pending,
        Stage::Deploying => crate::state::Phase::Deploying,
        Stage::Deployed => crate::state::Phase::Deployed,
        Stage::Resolved => crate::state::Phase::Verified,
        Stage::RolledBack => crate::state::Phase::RolledBack,
    };
    let by = r
        .milestone(phase)
        .map_or_else(|| "–".to_string(), |m| one(&m.by));
    let deployed_at = r
        .milestone(crate::state::Phase::Deployed)
        .map_or(now, |m| m.at);
    // Each incident as it stands when the notice is made, not as it stood at the rollback.
    let states: Vec<String> = incidents
        .iter()
        .map(|i| match &i.resolution {
            Some(res) if i.status == crate::state::IncidentStatus::Resolved => format!(
                "{} ({}): resolved at {}",
                i.id,
                one(&i.title),
                crate::present::stamp(res.at)
            ),
            _ => format!("{} ({}): still open", i.id, one(&i.title)),
        })
        .collect();
    let when = match stage {
        Stage::Investigating | Stage::Planned => now,
        Stage::Deploying => r
            .milestone(crate::state::Phase::Deploying)
            .map_or(now, |m| m.at),
        Stage::Deployed => r
            .milestone(crate::state::Phase::Deployed)
            .map_or(now, |m| m.at),
        Stage::Resolved => r
            .milestone(crate::state::Phase::Verified)
            .map_or(now, |m| m.at),
        Stage::RolledBack => r
            .milestone(crate::state::Phase::RolledBack)
            .map_or(now, |m| m.at),
    };
    Ok(vec![
        ("id", id.to_string()),
        ("version", one(&r.scope.version)),
        ("summary", one(&r.scope.summary)),
        (
            "severity",
            model
                .release_severity(r)
                .map(|s| s.to_string())
                .unwrap_or_default(),
        ),
        (
            "incidents",
            list(
                incidents
                    .iter()
                    .map(|i| format!("{} ({})", i.id, one(&i.title)))
                    .collect(),
            ),
        ),
        ("services", list(services)),
        ("impact", list(impact)),
        ("changes", one(&r.scope.changes)),
        ("risks", one(&r.scope.risks)),
        ("rollback", one(&r.scope.rollback)),
        ("approvers", list(approvers)),
        ("tests", tests_line(r, passed, critical)),
        ("reason", one(&reason)),
        ("time", crate::present::stamp(when)),
        ("by", by),
        ("now", crate::present::stamp(now)),
        ("deployed_time", crate::present::stamp(deployed_at)),
        ("incident_states", list(states)),
        // For end users, when they will hear next, counted from when the notice is made:
        // nothing once every incident is resolved.
        (
            "next_update",
            next_update_for(
                model,
                model.release_severity(r),
                incidents
                    .iter()
                    .any(|i| i.status != crate::state::IncidentStatus::Resolved),
                now,
            ),
        ),
        ("public", public),
    ])
}

/// The Slack incoming-webhook message: `text` as the fallback, and blocks for a rich view.
pub fn slack_payload(
    model: &Model,
    id: impl Into<Subject>,
    stage: Stage,
    audience: Audience,
    now: DateTime<Utc>,
    head: &crate::store::Head,
) -> Result<serde_json::Value, Rejection> {
    // The header is plain text, which Slack shows as is; `text` and the section are formatted,
    // so the data in them is escaped.
    let id = id.into();
    let plain = render(model, id, stage, audience, now)?;
    let formatted = render_as(model, id, stage, audience, now, slack_escape)?;
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&plain.title, 150)}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&formatted.body, 3000)}}),
    ];
    // Where it came from, for the operations team; end users get the message alone.
    if audience == Audience::Ops {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("{id} · {stage} notice for {audience} · sent by hotfix · {}", witness_line(head))}]}));
    }
    Ok(json!({
        "text": format!("{}\n{}", formatted.title, formatted.body),
        "blocks": blocks,
    }))
}

/// At most `max` characters (Slack's limits: a header 150, a section 3,000), ending with `…`
/// when cut. Never inside an entity: one cut part-way is dropped whole.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    if let Some(amp) = out.rfind('&')
        && !out[amp..].contains(';')
    {
        out.truncate(amp);
    }
    out.push('…');
    out
}

/// Posts `payload` to the webhook. Success is HTTP 2xx; anything else is an error whose
/// message never contains the URL.
pub fn post(url: &str, payload: &serde_json::Value, timeout: Duration) -> Result<(), String> {
    post_to("the webhook", url, payload, timeout)
}

/// Posts `payload` as JSON to `url` of `service` ("the webhook", "PagerDuty"), never
/// following a redirect; an error names the service and never the URL (it holds a secret).
pub fn post_to(
    service: &str,
    url: &str,
    payload: &serde_json::Value,
    timeout: Duration,
) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        // A redirect would be followed as a GET without the body, and its 200 taken for
        // delivery: a 3xx is reported as not sent instead.
        .max_redirects(0)
        .build()
        .into();
    let body = payload.to_string();
    match agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(body)
    {
        Ok(mut response) => {
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                return Ok(());
            }
            let text = response.body_mut().read_to_string().unwrap_or_default();
            let text: String = sanitize::line(text.trim()).chars().take(200).collect();
            let hint = match status {
                429 => " (rate limited: try again shortly)",
                300..=399 => " (a redirect, which hotfix does not follow: configure the final URL)",
                _ => "",
            };
            Err(format!(
                "{service} answered HTTP {status}{hint}: {}",
                if text.is_empty() { "(no body)" } else { &text }
            ))
        }
        Err(ureq::Error::Timeout(_)) => Err(format!(
            "{service} did not answer within {} s",
            timeout.as_secs_f32()
        )),
        Err(ureq::Error::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err(format!("{service} refused the connection"))
        }
        Err(ureq::Error::Io(e)) => Err(format!("{service} could not be reached ({})", e.kind())),
        Err(ureq::Error::HostNotFound) => Err(format!("{service}'s host was not found")),
        Err(ureq::Error::ConnectionFailed) => Err(format!("{service} refused the connection")),
        Err(ureq::Error::BadUri(_) | ureq::Error::Http(_)) => {
            Err(format!("{service}'s URL is not a valid http(s) URL"))
        }
        Err(_) => Err(format!("{service} could not be reached")),
    }
}

/// Where `audience`'s notices are posted: `flag` (`--webhook`), else the audience's own
/// setting, `$HOTFIX_WEBHOOK_URL` / `"webhook_url"` in `config.json` for operations and
/// `$HOTFIX_WEBHOOK_URL_USERS` / `"webhook_url_users"` for end users. The two never stand in
/// for each other: the engineers' channel is not the customers'.
pub fn webhook_url(flag: Option<&str>, audience: Audience) -> Option<String> {
    if let Some(url) = flag.filter(|u| !u.is_empty()) {
        return Some(url.to_string());
    }
    let (var, key) = webhook_setting(audience);
    setting(var, key)
}

/// A setting from the environment variable `var`, else `"key"` in `config.json` in the config
/// directory; empty counts as unset.
pub fn setting(var: &str, key: &str) -> Option<String> {
    if let Some(value) = std::env::var(var).ok().filter(|u| !u.is_empty()) {
        return Some(value);
    }
    let path = crate::settings::config_dir()?.join("config.json");
    let bytes = crate::fsio::read_regular(&path, CONFIG_LIMIT).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value
        .get(key)?
        .as_str()
        .filter(|u| !u.is_empty())
        .map(String::from)
}

/// The environment variable and the `config.json` key of `audience`'s webhook.
pub fn webhook_setting(audience: Audience) -> (&'static str, &'static str) {
    match audience {
        Audience::Ops => ("HOTFIX_WEBHOOK_URL", "webhook_url"),
        Audience::Users => ("HOTFIX_WEBHOOK_URL_USERS", "webhook_url_users"),
    }
}

/// Which audiences have a webhook configured (the cockpit asks once, at start).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Webhooks {
    pub ops: bool,
    pub users: bool,
}

impl Webhooks {
    pub fn configured() -> Webhooks {
        Webhooks {
            ops: webhook_url(None, Audience::Ops).is_some(),
            users: webhook_url(None, Audience::Users).is_some(),
        }
    }

    pub fn has(self, audience: Audience) -> bool {
        match audience {
            Audience::Ops => self.ops,
            Audience::Users => self.users,
        }
    }
}

/// The most `config.json` may hold.
const CONFIG_LIMIT: u64 = 256 << 10;

/// How long a post may take: `$HOTFIX_WEBHOOK_TIMEOUT` seconds (0.1 to 600), else 10.
pub fn timeout() -> Result<Duration, String> {
    crate::settings::env_seconds(
        "HOTFIX_WEBHOOK_TIMEOUT",
        Duration::from_secs(10),
        0.1,
        600.0,
    )
}

/// The channel a notice written to `path` (to be sent by hand) is recorded under: `file:` and
/// the file's name.
pub fn file_channel(path: &std::path::Path) -> String {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    format!("file:{name}")
}

/// The tests in one line for a notice: how many passed, and every failure by name (waived or
/// not), so a notice never reads "2/6 passed" and hides three failures.
fn tests_line(r: &crate::state::Release, passed: usize, critical: usize) -> String {
    let mut line = format!("{passed}/{} passed, {critical} critical", r.tests.len());
    let failed: Vec<String> = r
        .tests
        .iter()
        .filter(|t| t.status == crate::state::TestStatus::Failed)
        .map(|t| {
            let waived = if t.waiver.is_some() { ", waived" } else { "" };
            format!("{} ({}{waived})", t.name, t.priority)
        })
        .collect();
    if !failed.is_empty() {
        line.push_str(&format!("; {} failed: {}", failed.len(), failed.join(", ")));
    }
    line
}

/// The command recording a notice about `subject`, sent (or written to `channel`) or failed.
pub fn record(
    subject: Subject,
    stage: Stage,
    audience: Audience,
    channel: String,
    error: Option<String>,
) -> crate::state::Command {
    use crate::state::Command;
    match subject {
        Subject::Release(id) => Command::RecordNotice {
            id,
            stage,
            audience,
            channel,
            error,
        },
        Subject::Incident(id) => Command::RecordIncidentNotice {
            id,
            stage,
            audience,
            channel,
            error,
        },
    }
}

/// The notice that is true of a release now (see `Phase::notice_stage`).
pub fn next_stage(model: &Model, id: ReleaseId) -> Option<Stage> {
    model.releases.get(&id)?.phase.notice_stage()
}
