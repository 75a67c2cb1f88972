//! Read verbs about releases: the list, one release with its checklist, tests and gate, the
//! gate alone, and the tests alone.

use super::super::Out;
use super::super::output::pretty;
use super::super::write::open;
use super::list_all;
use crate::error::Error;
use crate::present::stamp;
use crate::sanitize::{block, line};
use crate::state::archive::Record;
use crate::state::{Model, Release, ReleaseId, RoleCheck};
use crate::store::Location;
use serde_json::{Value, json};

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
    let store = open(at)?;
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
