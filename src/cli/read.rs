//! Read verbs: the users and the policy, lists of incidents and releases, one record, the
//! gate, a release's tests, and what waits on you. (The log and `verify` are in `audit.rs`.)

use super::Out;
use super::output::pretty;
use super::write::open;
use crate::error::Error;
use crate::present::{self, stamp};
use crate::sanitize::{block, line};
use crate::state::archive::Record;
use crate::state::{IncidentId, Model, Release, ReleaseId, RoleCheck};
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
fn list_all<K: Ord, R>(
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

fn release_row(m: &Model, r: &Release) -> Value {
    json!({
        "id": r.id,
        "kind": if r.id.is_hotfix() { "hotfix" } else { "regular" },
        "status": m.release_status(r),
        "severity": m.release_severity(r),
        "version": r.scope.version,
        "summary": r.scope.summary,
        "incidents": r.scope.incidents,
        "author": r.author,
        "created_at": r.created_at,
        "planned_at": r.planned_at,
        "held_back_by": m.held_back_by(r),
    })
}

/// A row of a list, as it is printed.
enum Shown {
    Json(String),
    Cells(Vec<String>),
}

fn release_cells(m: &Model, r: &Release) -> Vec<String> {
    let note = match m.held_back_by(r) {
        Some(hf) => format!("held back by {hf}"),
        None => r
            .planned_at
            .map(|p| format!("planned {}", stamp(p)))
            .unwrap_or_default(),
    };
    vec![
        r.id.to_string(),
        m.release_severity(r)
            .map(|s| s.to_string())
            .unwrap_or_else(|| "-".into()),
        m.release_status(r).to_string(),
        line(&r.scope.version).into_owned(),
        line(&r.scope.summary).into_owned(),
        note,
    ]
}

pub fn releases(out: &Out, at: &Location, all: bool) -> Result<(), Error> {
    let mut store = open(at)?;
    // The queue's order: the unfinished ones as the open work orders them (they are all in
    // it), then every finished one, newest first, read from the closed records a chunk at a time.
    type Key = (
        bool,
        usize,
        std::cmp::Reverse<chrono::DateTime<chrono::Utc>>,
        ReleaseId,
    );
    let rows = |m: &Model| -> Vec<(Key, Result<Shown, Error>)> {
        m.release_queue(all)
            .into_iter()
            .enumerate()
            .map(|(k, r)| {
                let finished = r.phase.is_finished();
                let at = if finished { 0 } else { k };
                let key = (finished, at, std::cmp::Reverse(r.created_at), r.id);
                let shown = if out.json {
                    pretty(&release_row(m, r)).map(Shown::Json)
                } else {
                    Ok(Shown::Cells(release_cells(m, r)))
                };
                (key, shown)
            })
            .collect()
    };
    let listed = if all {
        list_all(&mut store, rows)?
    } else {
        let mut open = rows(&store.model);
        open.sort_by_key(|a| a.0);
        open.into_iter().map(|(_, r)| r).collect()
    };
    let listed = listed.into_iter().collect::<Result<Vec<_>, _>>()?;
    if out.json {
        let items = listed.into_iter().filter_map(|s| match s {
            Shown::Json(text) => Some(text),
            Shown::Cells(_) => None,
        });
        return out.json_array(items.collect::<Vec<_>>().into_iter());
    }
    let rows: Vec<Vec<String>> = listed
        .into_iter()
        .filter_map(|s| match s {
            Shown::Cells(cells) => Some(cells),
            Shown::Json(_) => None,
        })
        .collect();
    if rows.is_empty() {
        out.line("No releases in the queue. (`--all` includes finished ones.)");
        return Ok(());
    }
    out.table(
        &["ID", "SEV", "STATUS", "VERSION", "SUMMARY", "NOTE"],
        &rows,
        |col, cell| match col {
            1 => cell
                .parse()
                .map_or_else(|_| cell.to_string(), |s| out.severity(s)),
            _ => cell.to_string(),
        },
    );
    Ok(())
}

fn approvals_json(r: &Release) -> Vec<Value> {
    // The latest approval per role, oldest first.
    let mut seen = Vec::new();
    let mut list = Vec::new();
    for a in r.approvals.iter().rev() {
        if !seen.contains(&&a.role) {
            seen.push(&a.role);
            list.push(json!({
                "role": a.role, "approver": a.approver, "for": a.on_behalf, "at": a.at, "comment": a.comment,
                "stale": !r.is_current(a), "revision": a.revision, "fingerprint": a.fingerprint,
                // For `ssh-keygen -Y verify -n hotfix -I APPROVER -s SIG < signed-bytes`.
                "signature": a.signature.as_ref().map(|s| &s.signature),
                "signed": a.signature.as_ref().map(|s| &s.signed),
            }));
        }
    }
    list.reverse();
    list
}

pub fn release(out: &Out, at: &Location, id: ReleaseId) -> Result<(), Error> {
    let mut store = open(at)?;
    let part = store.model_for(Record::Release(id))?;
    let m = part.as_ref().unwrap_or(&store.model);
    let r = m.release(id)?;
    let gate = m.gate(id)?;
    if out.json {
        let mut v = release_row(m, r);
        v["changes"] = json!(r.scope.changes);
        v["risks"] = json!(r.scope.risks);
        v["rollback"] = json!(r.scope.rollback);
        v["revision"] = json!(r.revision);
        v["fingerprint"] = json!(r.scope.fingerprint());
        v["required_roles"] = json!(m.required_roles(r));
        v["approvals"] = json!(approvals_json(r));
        v["rejections"] = json!(r.rejections.iter().map(|x| json!({
            "role": x.role, "by": x.by, "at": x.at, "reason": x.reason, "standing": x.revision == r.revision
        })).collect::<Vec<_>>());
        v["checklist"] = json!(m.checklist(r));
        v["tests"] = json!(r.tests_by_priority());
        v["gate"] = json!(gate);
        v["milestones"] = json!(r.milestones);
        return out.json(&v);
    }
    let sev = m
        .release_severity(r)
        .map(|s| out.severity(s))
        .unwrap_or_default();
    out.line(&format!(
        "{} {sev}  {}  {}",
        out.bold(&id.to_string()),
        line(&r.scope.version),
        m.release_status(r)
    ));
    out.line(&format!("summary:   {}", line(&r.scope.summary)));
    if id.is_hotfix() {
        let incidents: Vec<String> = r.scope.incidents.iter().map(ToString::to_string).collect();
        out.line(&format!("fixes:     {}", incidents.join(", ")));
        out.line(&format!("changes:   {}", block(&r.scope.changes)));
        out.line(&format!("risks:     {}", block(&r.scope.risks)));
        out.line(&format!("rollback:  {}", block(&r.scope.rollback)));
    }
    if let Some(p) = r.planned_at {
        out.line(&format!("planned:   {}", stamp(p)));
    }
    out.line(&format!(
        "author:    {} at {}",
        r.author,
        stamp(r.created_at)
    ));
    out.line(&format!(
        "revision:  {} (fingerprint {}){}",
        r.revision,
        r.scope.fingerprint(),
        r.edits
            .last()
            .map(|e| format!(
                ", edited by {} at {}: {}",
                e.by,
                stamp(e.at),
                e.changed.join(", ")
            ))
            .unwrap_or_default()
    ));
    if r.phase == crate::state::Phase::Pending && id.is_hotfix() {
        out.line(&format!(
            "decide:    hotfix approve {id} --revision {}   (or: hotfix reject {id} --revision {} --reason ...)",
            r.revision, r.revision
        ));
    }
    let checks = m.checklist(r);
    if !checks.is_empty() {
        out.line(&out.bold("approvals:"));
        let owed = m.debts(r);
        let now = crate::clock::now();
        for c in checks {
            let note = m.escalation_note(r, c.role());
            let debt = owed.iter().find(|d| d.role == c.role() && d.paid.is_none());
            let note = match debt {
                Some(d) if now > d.due => {
                    format!(
                        " {}",
                        out.bad(&format!("OVERDUE since {} (break-glass)", stamp(d.due)))
                    )
                }
                Some(d) => format!(" (owed by {}, break-glass)", stamp(d.due)),
                None if note.is_empty() || !matches!(c, RoleCheck::Waiting { .. }) => String::new(),
                None => format!(" ({note})"),
            };
            out.line(&format!("  {}{note}", checklist_line(out, &c)));
        }
    }
    if !r.tests.is_empty() {
        out.line(&out.bold("tests:"));
        print_tests(out, r);
    }
    print_gate(out, &gate);
    Ok(())
}

fn checklist_line(out: &Out, c: &RoleCheck) -> String {
    match c {
        RoleCheck::Approved { role, approval: a } => {
            let comment = if a.comment.is_empty() {
                String::new()
            } else {
                format!(": {}", line(&a.comment))
            };
            format!(
                "{} {role:<11} {} at {}{comment}",
                out.good("[x]"),
                a.by(),
                stamp(a.at)
            )
        }
        RoleCheck::Stale {
            role,
            approval: a,
            current_revision,
        } => format!(
            "{} {role:<11} {} at {} is STALE: it approved revision {}, the scope is now revision {current_revision}",
            out.bad("[~]"),
            a.by(),
            stamp(a.at),
            a.revision
        ),
        RoleCheck::Revoked { role, approval: a } => format!(
            "{} {role:<11} {} at {} no longer counts: role revoked",
            out.bad("[~]"),
            a.by(),
            stamp(a.at)
        ),
        RoleCheck::Rejected { role, rejection: x } => {
            format!(
                "{} {role:<11} REJECTED by {} at {}: {}",
                out.bad("[!]"),
                x.by,
                stamp(x.at),
                line(&x.reason)
            )
        }
        RoleCheck::Waiting { role } => format!("[ ] {role:<11} waiting"),
    }
}

fn print_tests(out: &Out, r: &Release) {
    let rows: Vec<Vec<String>> = r
        .tests_by_priority()
        .iter()
        .map(|t| {
            let waiver = t
                .waiver
                .as_ref()
                .map(|w| format!("waived by {}: {}", w.by, line(&w.reason)))
                .unwrap_or_default();
            let note = [line(&t.note).into_owned(), waiver]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>();
            vec![
                t.priority.to_string(),
                t.status.to_string(),
                line(&t.name).into_owned(),
                if t.automated {
                    "auto".into()
                } else {
                    "manual".into()
                },
                t.owner.as_deref().unwrap_or("-").to_string(),
                note.join("; "),
            ]
        })
        .collect();
    out.table(
        &["PRIORITY", "STATUS", "TEST", "KIND", "OWNER", "NOTE"],
        &rows,
        |col, cell| match (col, cell) {
            (1, "passed") => out.good(cell),
            (1, "failed") => out.bad(cell),
            _ => cell.to_string(),
        },
    );
}

fn print_gate(out: &Out, gate: &crate::state::Gate) {
    if gate.ready {
        out.line(&format!("gate:      {}", out.good("READY")));
    } else {
        out.line(&format!("gate:      {}", out.bad("BLOCKED")));
        for b in &gate.blockers {
            out.line(&format!("  - {b}"));
        }
    }
    for d in &gate.deferred {
        out.line(&format!("  deferred: {d}"));
    }
    if let Some(f) = gate.freeze.as_ref().filter(|_| gate.ready) {
        out.line(&format!("  frozen:   {f}"));
    }
}

pub fn gate(out: &Out, at: &Location, id: ReleaseId) -> Result<(), Error> {
    // The exit code is what a pipeline deploys on: decided as a write is, from this user's own
    // checkpoint (a verified fold, within a day of the last full verification) and the newer
    // lines, never on the shared snapshot.
    let store = super::write::open(at)?;
    let gate = store.model.gate_at(id, crate::clock::now())?;
    if out.json {
        out.json(&gate)?;
    } else {
        print_gate(out, &gate);
    }
    match gate.blockers.len() {
        0 => Ok(()),
        1 => Err(Error::Refused(format!(
            "{id} is blocked: {}",
            gate.blockers[0]
        ))),
        n => Err(Error::Refused(format!(
            "{id} is blocked by {n} things (listed above)"
        ))),
    }
}

pub fn tests(out: &Out, at: &Location, id: ReleaseId) -> Result<(), Error> {
    let mut store = open(at)?;
    let part = store.model_for(Record::Release(id))?;
    let r = part.as_ref().unwrap_or(&store.model).release(id)?;
    if out.json {
        return out.json(&r.tests_by_priority());
    }
    if r.tests.is_empty() {
        out.line(&format!("{id} has no tests yet: add one with `hotfix test add {id} --name N --priority critical`"));
        return Ok(());
    }
    print_tests(out, r);
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
