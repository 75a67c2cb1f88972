//! Read verbs: the users and the policy, incidents and their reviews, and what waits on you;
//! releases, their gate and tests are in `read::release`. (The log and `verify` are in
//! `audit.rs`.)

mod release;
pub use release::{gate, release, releases, tests};

use super::Out;
use super::output::pretty;
use super::write::open;
use crate::error::Error;
use crate::present::{self, stamp};
use crate::sanitize::{block, line};
use crate::state::archive::Record;
use crate::state::{IncidentId, Model, Release, ReleaseId};
use crate::store::{Location, Store};
use serde_json::{Value, json};

pub fn users(out: &Out, at: &Location) -> Result<(), Error> {
    let store = open(at)?;
    let users = &store.model.users;
    let keys = |u: &str| -> Vec<String> {
        store
            .model
            .keys
            .get(u)
            .into_iter()
            .flatten()
            .filter_map(|k| crate::state::signing::key_fingerprint(k))
            .collect()
    };
    // Delegations in force now, by deputy: "prod-owner for carol until 12-06 08:00".
    let now = crate::clock::now();
    let standing: Vec<_> = store
        .model
        .delegations
        .iter()
        .filter(|d| d.active_at(now))
        .collect();
    let stands_in = |u: &str| -> Vec<String> {
        standing
            .iter()
            .filter(|d| d.to == u)
            .map(|d| {
                format!(
                    "{} for {} until {}",
                    d.role,
                    d.from,
                    d.until.format("%Y-%m-%d %H:%M UTC")
                )
            })
            .collect()
    };
    if out.json {
        let list: Vec<Value> = users
            .iter()
            .map(|(u, r)| {
                let deputy: Vec<Value> = standing
                    .iter()
                    .filter(|d| d.to == u.as_str())
                    .map(|d| json!({"role": d.role, "for": d.from, "since": d.since, "until": d.until}))
                    .collect();
                json!({"user": u, "roles": r, "keys": keys(u), "deputy": deputy})
            })
            .collect();
        return out.json(&list);
    }
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|(u, r)| {
            vec![
                u.clone(),
                r.iter().cloned().collect::<Vec<_>>().join(", "),
                stands_in(u).join("; "),
                keys(u).join(", "),
            ]
        })
        .collect();
    out.table(
        &["USER", "ROLES", "STANDS IN", "SSH KEYS"],
        &rows,
        |_, c| c.to_string(),
    );
    Ok(())
}

pub fn policy(out: &Out, at: &Location) -> Result<(), Error> {
    let store = open(at)?;
    let p = &store.model.policy;
    if out.json {
        return out.json(p);
    }
    out.line(&format!("roles:             {}", p.roles.join(", ")));
    for (severity, roles) in &p.approvals {
        out.line(&format!("approvers for {severity}:  {}", roles.join(", ")));
    }
    let sevs: Vec<String> = p
        .hotfix_severities
        .iter()
        .map(ToString::to_string)
        .collect();
    out.line(&format!("hotfix severities: {}", sevs.join(", ")));
    out.line(&format!("qualifier role:    {}", p.qualifier_role));
    out.line(&format!("waiver roles:      {}", p.waiver_roles.join(", ")));
    for (severity, hours) in &p.target_hours {
        out.line(&format!(
            "target for {severity}:     {hours} h from report to deployed"
        ));
    }
    for (severity, every) in &p.approval_deadline {
        out.line(&format!(
            "deadline for {severity}:   {every} per approval, then escalated (`hotfix remind`)"
        ));
    }
    if let Some(e) = &p.escalation {
        for (role, deputies) in &e.deputies {
            out.line(&format!("deputies of {role}: {}", deputies.join(", ")));
        }
        out.line(&format!("paged after:       {} deadlines", e.page_after));
    }
    let owed = p
        .break_glass
        .unwrap_or_else(crate::state::glass::default_policy);
    out.line(&format!(
        "break-glass debts: owed within {} of the deploy",
        owed.owed_within
    ));
    for f in &p.freezes {
        out.line(&format!(
            "freeze:            {} from {} to {}",
            crate::sanitize::line(&f.name),
            stamp(f.from),
            stamp(f.to)
        ));
    }
    Ok(())
}

/// Every record of a store for a list of everything, a part at a time (see
/// `Store::fold_parts`): what `row` makes of each, in the order of `key`.
pub(super) fn list_all<K: Ord, R>(
    store: &mut Store,
    rows: impl Fn(&Model) -> Vec<(K, R)>,
) -> Result<Vec<R>, Error> {
    let mut all = store.fold_parts(Vec::new, |acc, m| acc.extend(rows(m)))?;
    all.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(all.into_iter().map(|(_, r)| r).collect())
}

fn incident_cells(
    m: &Model,
    i: &crate::state::Incident,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<String> {
    vec![
        i.id.to_string(),
        i.severity.to_string(),
        i.status.to_string(),
        present::span(now - i.reported_at),
        present::target(i.target(m), now),
        line(&i.title).into_owned(),
    ]
}

pub fn incidents(out: &Out, at: &Location, all: bool) -> Result<(), Error> {
    let mut store = open(at)?;
    let now = crate::clock::now();
    // Resolved incidents come from the closed records too: read a chunk at a time.
    let queue_key = |i: &crate::state::Incident| {
        (
            i.status == crate::state::IncidentStatus::Resolved,
            i.severity,
            i.reported_at,
            i.id,
        )
    };
    if out.json {
        let items: Vec<Result<String, Error>> = if all {
            list_all(&mut store, |m| {
                m.incident_queue(true)
                    .into_iter()
                    .map(|i| (queue_key(i), pretty(i)))
                    .collect()
            })?
        } else {
            store
                .model
                .incident_queue(false)
                .into_iter()
                .map(pretty)
                .collect()
        };
        let items = items.into_iter().collect::<Result<Vec<_>, _>>()?;
        return out.json_array(items.into_iter());
    }
    let rows: Vec<Vec<String>> = if all {
        list_all(&mut store, |m| {
            m.incident_queue(true)
                .into_iter()
                .map(|i| (queue_key(i), incident_cells(m, i, now)))
                .collect()
        })?
    } else {
        let m = &store.model;
        m.incident_queue(false)
            .into_iter()
            .map(|i| incident_cells(m, i, now))
            .collect()
    };
    if rows.is_empty() {
        out.line("No unresolved incidents. (`--all` includes resolved ones.)");
        return Ok(());
    }
    out.table(
        &["ID", "SEV", "STATUS", "AGE", "TARGET", "TITLE"],
        &rows,
        |col, cell| match col {
            1 => cell
                .parse()
                .map_or_else(|_| cell.to_string(), |s| out.severity(s)),
            4 if cell.starts_with("breached") || cell.starts_with("missed") => out.bad(cell),
            4 if cell.starts_with("met") => out.good(cell),
            _ => cell.to_string(),
        },
    );
    Ok(())
}

pub fn incident(out: &Out, at: &Location, id: IncidentId) -> Result<(), Error> {
    let mut store = open(at)?;
    let part = store.model_for(Record::Incident(id))?;
    let m = part.as_ref().unwrap_or(&store.model);
    let i = m.incident(id)?;
    let releases: Vec<&Release> = m
        .releases
        .values()
        .filter(|r| r.scope.incidents.contains(&id))
        .collect();
    if out.json {
        let mut v = serde_json::to_value(i).map_err(|e| Error::Failed(e.to_string()))?;
        v["deadline"] = json!(i.deadline(m));
        v["releases"] = json!(releases.iter().map(|r| r.id).collect::<Vec<_>>());
        return out.json(&v);
    }
    out.line(&format!(
        "{} {}  {}",
        out.bold(&id.to_string()),
        out.severity(i.severity),
        line(&i.title)
    ));
    out.line(&format!("status:    {}", i.status));
    out.line(&format!(
        "reported:  {} by {}",
        stamp(i.reported_at),
        i.reported_by
    ));
    if let Some(d) = i.deadline(m) {
        out.line(&format!(
            "target:    deployed by {} ({})",
            stamp(d),
            present::target(i.target(m), crate::clock::now())
        ));
    }
    if !i.services.is_empty() {
        out.line(&format!("services:  {}", i.services.join(", ")));
    }
    if !i.impact.is_empty() {
        out.line(&format!("impact:    {}", block(&i.impact)));
    }
    if !i.public.is_empty() {
        out.line(&format!("public:    {}", block(&i.public)));
    }
    if let Some(w) = present::impact_window(i) {
        out.line(&format!("customers: affected {w}"));
    }
    for c in &i.severity_changes {
        out.line(&format!(
            "severity:  {} -> {} by {} at {}: {}",
            c.from,
            c.to,
            c.by,
            stamp(c.at),
            line(&c.reason)
        ));
    }
    if let Some(q) = &i.qualification {
        out.line(&format!(
            "qualified: {} (risk {}) by {} at {}",
            q.decision,
            q.risk,
            q.by,
            stamp(q.at)
        ));
        out.line(&format!("  impact assessment: {}", block(&q.impact)));
        out.line(&format!("  rationale:         {}", block(&q.rationale)));
    }
    for r in releases {
        out.line(&format!(
            "release:   {} {} ({})",
            r.id,
            line(&r.scope.version),
            m.release_status(r)
        ));
    }
    if let Some(res) = &i.resolution {
        out.line(&format!(
            "resolved:  by {} at {} {}",
            res.by,
            stamp(res.at),
            line(&res.note)
        ));
    }
    if let Some(state) = present::review_state(m, i) {
        out.line(&format!("review:    {state}"));
    }
    Ok(())
}

/// An incident's post-incident review, whole (`hotfix review INC-1`).
pub fn review(out: &Out, at: &Location, id: IncidentId) -> Result<(), Error> {
    let mut store = open(at)?;
    let part = store.model_for(Record::Incident(id))?;
    let m = part.as_ref().unwrap_or(&store.model);
    let i = m.incident(id)?;
    if out.json {
        return out.json(&json!({
            "incident": id,
            "review": i.review,
            "waiver": i.review_waiver,
            "due": i.review_due(m),
        }));
    }
    let Some(r) = &i.review else {
        let state = match present::review_state(m, i) {
            Some(state) => format!("review {state}"),
            None => format!(
                "no post-incident review on record ({} incidents need none)",
                i.severity
            ),
        };
        out.line(&format!("{id}: {state}."));
        if i.review_waiver.is_none() {
            out.line(&format!(
                "Record one with `hotfix review {id} --summary ... --root-cause ... [--action WHAT|OWNER|YYYY-MM-DD]`."
            ));
        }
        return Ok(());
    };
    out.line(&format!(
        "{} review, revision {} by {} at {}",
        out.bold(&id.to_string()),
        r.revision,
        r.by,
        stamp(r.at)
    ));
    let t = &r.text;
    for (label, text) in [
        ("summary:    ", &t.summary),
        ("trigger:    ", &t.trigger),
        ("root cause: ", &t.root_cause),
        ("factors:    ", &t.factors),
        ("lessons:    ", &t.lessons),
    ] {
        // Continuation lines (one lesson per line) under the first, not at the margin.
        for (n, text_line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            let label = if n == 0 { label } else { "            " };
            out.line(&format!("{label}{}", line(text_line)));
        }
    }
    let today = crate::clock::now().date_naive();
    for (n, (a, done)) in t.actions.iter().zip(&r.done).enumerate() {
        let state = match done {
            Some(d) => format!("done by {} at {}", d.by, stamp(d.at)),
            None if a.due < today => "OVERDUE".to_string(),
            None => "open".to_string(),
        };
        let ticket = a
            .ticket
            .as_ref()
            .map(|t| format!(" [{}]", line(t)))
            .unwrap_or_default();
        out.line(&format!(
            "action {}:   {} (owner {}, due {}){ticket}: {state}",
            n + 1,
            line(&a.what),
            a.owner,
            a.due
        ));
    }
    Ok(())
}

pub fn waiting(out: &Out, at: &Location) -> Result<(), Error> {
    let store = open(at)?;
    // In team mode the one who acts is the database login, whatever the OS user is called.
    let actor = super::write::acting(&store)?;
    let m = &store.model;
    let w = m.waiting_on(&actor, crate::clock::now());
    let revision = |id: &ReleaseId| m.releases.get(id).map_or(0, |r| r.revision);
    if out.json {
        return out.json(&json!({
            "user": actor,
            "roles": m.roles_of(&actor),
            "approvals": w.approvals.iter().map(|(id, role)| json!({"release": id, "role": role, "revision": revision(id)})).collect::<Vec<_>>(),
            "tests": w.tests.iter().map(|(id, t)| json!({"release": id, "name": t.name, "priority": t.priority, "status": t.status})).collect::<Vec<_>>(),
            "steps": w.steps.iter().map(|step| {
                let (what, command) = step.describe();
                json!({"step": what, "command": command})
            }).collect::<Vec<_>>(),
        }));
    }
    if m.roles_of(&actor).is_empty() {
        out.line(&format!(
            "{actor} holds no roles in this store, so no approval can wait on them; an admin grants one with `hotfix user grant {actor} ROLE` (see `hotfix user list`)."
        ));
    }
    if w.approvals.is_empty() && w.tests.is_empty() && w.steps.is_empty() {
        out.line(&format!("Nothing waits on {actor}."));
        return Ok(());
    }
    for step in &w.steps {
        let (what, command) = step.describe();
        out.line(&format!("{what}:  {command}"));
    }
    for (id, role) in &w.approvals {
        let rev = revision(id);
        out.line(&format!(
            "approve {id} revision {rev} as {role}:  hotfix release show {id}; hotfix approve {id} --revision {rev} --role {role}"
        ));
    }
    for (id, t) in &w.tests {
        out.line(&format!(
            "test {id} {} ({}, {})",
            line(&t.name),
            t.priority,
            t.status
        ));
    }
    Ok(())
}
