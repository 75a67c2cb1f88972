//! The report as Markdown that reads well on a code host, and the changelog entry.

use super::Report;
use crate::present::{span, stamp};
use crate::sanitize;
use std::fmt::Write as _;

/// User text inline (a table cell, a line of prose): one line, control characters escaped, and
/// made inert as Markdown: HTML characters become entities, and the characters that make
/// links, emphasis, code spans or table columns are backslash-escaped. So no stored text can
/// add a section, a row or markup to the report.
pub(super) fn cell(text: &str) -> String {
    let one = sanitize::line(text);
    let mut t = String::with_capacity(one.len() + 8);
    for c in one.chars() {
        match c {
            '&' => t.push_str("&amp;"),
            '<' => t.push_str("&lt;"),
            '>' => t.push_str("&gt;"),
            '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '~' => {
                t.push('\\');
                t.push(c);
            }
            c => t.push(c),
        }
    }
    if t.is_empty() { "–".into() } else { t }
}

/// A block of free text, kept as written (control characters escaped) inside a fenced block
/// longer than any run of backticks in it, where Markdown interprets nothing: no heading, table,
/// HTML or fence in the text can escape it.
fn block(text: &str) -> String {
    let t = sanitize::block(text.trim());
    if t.is_empty() {
        return "_(none given)_".into();
    }
    let (mut longest, mut run) = (0, 0);
    for c in t.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}text\n{t}\n{fence}")
}

pub fn markdown(r: &Report) -> String {
    let mut out = String::new();
    let rel = &r.release;
    let sev = rel
        .severity
        .map(|s| format!(" · severity **{s}**"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "# {} {}: {}\n",
        if rel.kind == "hotfix" {
            "Hotfix"
        } else {
            "Release"
        },
        rel.id,
        cell(&rel.summary)
    );
    let _ = writeln!(
        out,
        "Version **{}** · status **{}**{sev} · author {} · scope revision {} (`{}`)  ",
        cell(&rel.version),
        rel.status,
        cell(&rel.author),
        rel.revision,
        rel.fingerprint
    );
    let _ = writeln!(out, "Report generated {}.\n", stamp(r.generated_at));
    if let Some(head) = &r.log {
        let _ = writeln!(
            out,
            "The hotfix log stood at event {} (SHA-256 `{}`). Anyone holding this report can later check that the history it comes from was not rewritten: `hotfix verify --witness {head}`.\n",
            head.seq, head.hash
        );
    }

    if !r.incidents.is_empty() {
        let _ = writeln!(out, "## Problem\n");
        let _ = writeln!(
            out,
            "| Incident | Severity | Title | Reported | Services | Status |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for i in &r.incidents {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} by {} | {} | {} |",
                i.id,
                i.severity,
                cell(&i.title),
                stamp(i.reported_at),
                cell(&i.reported_by),
                cell(&i.services.join(", ")),
                i.status
            );
        }
        for i in &r.incidents {
            if !i.impact.trim().is_empty() {
                let _ = writeln!(out, "\n**{} impact:**\n\n{}", i.id, block(&i.impact));
            }
            match (i.impact_since, i.impact_until) {
                (Some(s), Some(u)) => {
                    let _ = writeln!(
                        out,
                        "\n**{} customers affected** from {} to {}: **{}**.",
                        i.id,
                        stamp(s),
                        stamp(u),
                        crate::present::span(u - s)
                    );
                }
                (Some(s), None) => {
                    let resolved = if i.status == "resolved" {
                        format!(
                            " (the incident is resolved: record when impact ended with `hotfix incident edit {} --impact-until TIME`)",
                            i.id
                        )
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        out,
                        "\n**{} customers affected** since {}; no end is recorded yet{resolved}.",
                        i.id,
                        stamp(s)
                    );
                }
                _ => {}
            }
            if !i.public.trim().is_empty() {
                let _ = writeln!(
                    out,
                    "\n**{} as customers are told:** {}",
                    i.id,
                    cell(&i.public)
                );
            }
            for c in &i.severity_changes {
                let _ = writeln!(
                    out,
                    "\n{} severity changed {} → {} by {} at {}: {}",
                    i.id,
                    c.from,
                    c.to,
                    cell(&c.by),
                    stamp(c.at),
                    cell(&c.reason)
                );
            }
        }
        let _ = writeln!(out, "\n## Qualification\n");
        for i in &r.incidents {
            match &i.qualification {
                Some(q) => {
                    let _ = writeln!(
                        out,
                        "- **{}**: decision **{}**, risk of the fix **{}**, by {} at {}\n  - Impact assessment: {}\n  - Rationale: {}",
                        i.id,
                        q.decision,
                        q.risk,
                        cell(&q.by),
                        stamp(q.at),
                        cell(&q.impact),
                        cell(&q.rationale)
                    );
                }
                None => {
                    let _ = writeln!(out, "- **{}**: not qualified", i.id);
                }
            }
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## Change\n");
    let _ = writeln!(out, "### Changes\n\n{}\n", block(&rel.changes));
    let _ = writeln!(out, "### Risks\n\n{}\n", block(&rel.risks));
    let _ = writeln!(out, "### Rollback plan\n\n{}\n", block(&rel.rollback));

    if !rel.required_roles.is_empty() || !r.approvals.is_empty() {
        let _ = writeln!(out, "## Approvals\n");
        let _ = writeln!(
            out,
            "Required by the policy: {}.\n",
            if rel.required_roles.is_empty() {
                "none".into()
            } else {
                rel.required_roles.join(", ")
            }
        );
        let _ = writeln!(
            out,
            "| Role | Approver | When | Revision | Comment | State |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for a in &r.approvals {
            let state = if a.revoked {
                "role revoked since: not counted"
            } else if a.stale {
                "stale (scope changed since)"
            } else if a.counts {
                "counted"
            } else {
                "superseded"
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {state} |",
                cell(&a.role),
                cell(&a.approver),
                stamp(a.at),
                a.revision,
                cell(&a.comment)
            );
        }
        for x in &r.rejections {
            let state = if x.standing {
                "rejected (standing)"
            } else {
                "rejected (addressed by an edit)"
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | – | {} | {state} |",
                cell(&x.role),
                cell(&x.by),
                stamp(x.at),
                cell(&x.reason)
            );
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## Tests\n");
    if r.tests.is_empty() {
        let _ = writeln!(out, "No tests were recorded.\n");
    }
    for g in &r.tests {
        let waived = if g.waived > 0 {
            format!(", {} waived", g.waived)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "### {} ({}/{} passed{waived})\n",
            capitalise(g.priority.as_str()),
            g.passed,
            g.total
        );
        let _ = writeln!(out, "| Test | Status | Kind | Owner | Evidence |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for t in &g.tests {
            let mut evidence = Vec::new();
            if !t.note.is_empty() {
                evidence.push(cell(&t.note));
            }
            if t.flaky {
                evidence.push("flaky: passed after a rerun".into());
            }
            if let Some(w) = &t.waiver {
                evidence.push(format!(
                    "waived by {} at {}: {}",
                    cell(&w.by),
                    stamp(w.at),
                    cell(&w.reason)
                ));
            }
            evidence.push(format!(
                "last set by {} at {}",
                cell(&t.updated_by),
                stamp(t.updated_at)
            ));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&t.name),
                t.status,
                if t.automated { "automated" } else { "manual" },
                cell(t.owner.as_deref().unwrap_or("")),
                evidence.join("; ")
            );
        }
        out.push('\n');
    }
    if !r.deferred.is_empty() {
        let _ = writeln!(
            out,
            "Deferred (medium and low tests never block the deploy):\n"
        );
        for d in &r.deferred {
            let _ = writeln!(out, "- {}", cell(d));
        }
        out.push('\n');
    }

    if !r.corrections.is_empty() {
        let _ = writeln!(out, "## Corrections\n");
        let _ = writeln!(out, "| What | By | When | Why |");
        let _ = writeln!(out, "|---|---|---|---|");
        for c in &r.corrections {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&c.what),
                cell(&c.by),
                stamp(c.at),
                cell(&c.reason)
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "## Notices\n");
    if r.notices.is_empty() {
        let _ = writeln!(out, "No notices were recorded.\n");
    } else {
        let _ = writeln!(out, "| Stage | Audience | Channel | By | When | Result |");
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for n in &r.notices {
            let result = match &n.error {
                None if n.channel.starts_with("file:") => "written, to send by hand".to_string(),
                None => "sent".to_string(),
                Some(e) => format!("**not sent**: {}", cell(e)),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {result} |",
                n.stage,
                n.audience,
                cell(&n.channel),
                cell(&n.by),
                stamp(n.at)
            );
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## Timeline\n");
    let _ = writeln!(out, "| When | Since report | What | Who |");
    let _ = writeln!(out, "|---|---|---|---|");
    for s in &r.timeline {
        let _ = writeln!(
            out,
            "| {} | {}{} | {} | {} |",
            stamp(s.at),
            if s.since_report_seconds < 0 { "" } else { "+" },
            s.since_report,
            cell(&s.what),
            cell(&s.by)
        );
    }
    out.push('\n');

    gantt(&mut out, r);

    let _ = writeln!(out, "## Target\n");
    match &r.target {
        None => {
            let _ = writeln!(out, "The policy sets no target for this severity.");
        }
        Some(t) => {
            let first = r
                .incidents
                .iter()
                .map(|i| i.reported_at)
                .min()
                .unwrap_or(t.deadline);
            let verdict = match (t.met, t.deployed_at, t.rolled_back_at) {
                (_, Some(at), Some(back)) => format!(
                    "deployed {} after the report and rolled back {} later: **not met** by this hotfix (a deploy that did not stay fixed nothing).",
                    span(at - first),
                    span(back - at)
                ),
                (Some(true), Some(at), None) => format!(
                    "deployed {} after the report: **met**, {} to spare.",
                    span(at - first),
                    span(t.deadline - at)
                ),
                (Some(false), Some(at), None) => format!(
                    "deployed {} after the report: **missed** by {}.",
                    span(at - first),
                    span(at - t.deadline)
                ),
                _ if r.generated_at > t.deadline => format!(
                    "not deployed; the target passed at {}: **missed**.",
                    stamp(t.deadline)
                ),
                _ => format!("not deployed yet; due by {}.", stamp(t.deadline)),
            };
            let fixed = match &t.fixed_by {
                Some(fix) => format!(
                    " The incident's fix that stayed is {}, deployed {} after the report: {}.",
                    fix.release,
                    span(fix.deployed_at - first),
                    if fix.met {
                        "**met**".to_string()
                    } else {
                        format!("**missed** by {}", span(fix.deployed_at - t.deadline))
                    }
                ),
                None if t.rolled_back_at.is_some() => {
                    " No fix for the incident has stayed yet.".to_string()
                }
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "Policy target for {}: {} h from report to deployed; {verdict}{fixed}",
                t.severity, t.hours
            );
        }
    }
    break_glass(&mut out, r);
    review(&mut out, r);
    if rel.status == "awaiting-approval" || rel.status == "approved" || rel.status == "rejected" {
        let _ = writeln!(out, "\n## Gate\n");
        if r.gate.ready {
            let _ = writeln!(out, "READY to deploy.");
        } else {
            let _ = writeln!(out, "BLOCKED:\n");
            for b in &r.gate.blockers {
                let _ = writeln!(out, "- {}", cell(b));
            }
        }
    }
    out
}

/// Who broke the glass, why, and the approvals owed since, paid or not.
fn break_glass(out: &mut String, r: &Report) {
    if r.break_glass.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## Break-glass\n");
    for g in &r.break_glass {
        let _ = writeln!(
            out,
            "- {} broke the glass at {}: {}",
            cell(&g.by),
            stamp(g.at),
            cell(&g.reason)
        );
    }
    for o in &r.owed {
        let state = match (&o.paid_by, o.paid_at) {
            (Some(by), Some(at)) => format!("given by {} at {}", cell(by), stamp(at)),
            _ if r.generated_at > o.due => format!("**overdue** since {}", stamp(o.due)),
            _ => format!("owed by {}", stamp(o.due)),
        };
        let _ = writeln!(
            out,
            "- the {} approval it deployed without: {state}",
            o.role
        );
    }
}

/// The post-incident review of each incident: what happened, why, what was learned, and the
/// action items with their owners; or who waived it, or that it is still due.
fn review(out: &mut String, r: &Report) {
    let wanted: Vec<&super::IncidentFacts> = r
        .incidents
        .iter()
        .filter(|i| i.review.is_some() || i.review_waiver.is_some() || i.review_due)
        .collect();
    if wanted.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## Review\n");
    for i in wanted {
        if let Some(w) = &i.review_waiver {
            let _ = writeln!(
                out,
                "**{}**: review waived by {} at {}: {}\n",
                i.id,
                cell(&w.by),
                stamp(w.at),
                cell(&w.reason)
            );
        }
        let Some(rv) = &i.review else {
            if i.review_waiver.is_none() {
                let _ = writeln!(
                    out,
                    "**{}**: a post-incident review is due ({} incidents need one before their last hotfix closes): `hotfix review {}`.\n",
                    i.id, i.severity, i.id
                );
            }
            continue;
        };
        let t = &rv.text;
        let _ = writeln!(
            out,
            "**{}**, revision {} by {} at {}.\n",
            i.id,
            rv.revision,
            cell(&rv.by),
            stamp(rv.at)
        );
        for (label, text) in [
            ("Summary", &t.summary),
            ("Trigger", &t.trigger),
            ("Root cause", &t.root_cause),
            ("Contributing factors", &t.factors),
            ("Lessons", &t.lessons),
        ] {
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            match lines.as_slice() {
                [] => {}
                [one] => {
                    let _ = writeln!(out, "- **{label}:** {}", cell(one));
                }
                // One lesson per line: one bullet each.
                many => {
                    let _ = writeln!(out, "- **{label}:**");
                    for l in many {
                        let _ = writeln!(out, "  - {}", cell(l));
                    }
                }
            }
        }
        if !t.actions.is_empty() {
            let _ = writeln!(out, "\n| # | Action item | Owner | Due | Ticket | Status |");
            let _ = writeln!(out, "|---|---|---|---|---|---|");
            for (n, (a, done)) in t.actions.iter().zip(&rv.done).enumerate() {
                let status = match done {
                    Some(d) => format!("done by {} at {}", cell(&d.by), stamp(d.at)),
                    None if a.due < r.generated_at.date_naive() => "**overdue**".to_string(),
                    None => "open".to_string(),
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {status} |",
                    n + 1,
                    cell(&a.what),
                    cell(&a.owner),
                    a.due,
                    a.ticket.as_deref().map(cell).unwrap_or_default()
                );
            }
        }
        out.push('\n');
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// The hotfix's journey as a Mermaid `gantt` block (GitHub and GitLab draw it): a bar per step
/// from the first report, each role's wait for its approval, and the target as a milestone.
/// Every name in it is an id, a role or a login (letters, digits and `._@+-`), so no stored
/// text reaches Mermaid's syntax.
fn gantt(out: &mut String, r: &Report) {
    let d = &r.durations;
    let Some(reported) = d.reported_at else {
        return;
    };
    let at = |secs: i64| (reported + chrono::Duration::seconds(secs)).format("%Y-%m-%d %H:%M:%S");
    let name = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._@+-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let stages = [
        ("reported to qualified", d.to_qualified_seconds),
        ("to approved", d.to_approved_seconds),
        ("to gate ready", d.to_gate_ready_seconds),
        ("to deployed", d.to_deployed_seconds),
        ("to verified", d.to_verified_seconds),
    ];
    // The axis runs to the last thing that happened (or now, while work goes on), never to a
    // target far beyond it, so the work fills the chart; the target is in the title, and drawn
    // only when it falls within that span.
    let waits_end = d
        .approval_waits
        .iter()
        .map(|w| (w.at - reported).num_seconds());
    let last = stages
        .iter()
        .filter_map(|(_, s)| *s)
        .chain(waits_end)
        .chain(d.rolled_back.as_ref().map(|b| b.rolled_back_seconds))
        .max();
    let finished = d.to_verified_seconds.is_some() || d.rolled_back.is_some();
    let end = match last {
        Some(last) if finished => last,
        last => last
            .unwrap_or(0)
            .max((r.generated_at - reported).num_seconds()),
    };
    let target_words = d.target_seconds.map(|target| {
        let verdict = match r.target.as_ref().and_then(|t| t.met) {
            Some(true) => "met",
            Some(false) => "not met",
            None if d.breached => "passed",
            None => "running",
        };
        format!(
            " · target {} {verdict}",
            crate::present::span(chrono::Duration::seconds(target))
        )
    });
    let _ = writeln!(out, "## Timeline chart\n");
    let _ = writeln!(out, "```mermaid");
    let _ = writeln!(out, "gantt");
    let _ = writeln!(
        out,
        "    title {} from first report (UTC){}",
        name(&r.release.id.to_string()),
        target_words.unwrap_or_default()
    );
    let _ = writeln!(out, "    dateFormat YYYY-MM-DD HH:mm:ss");
    let _ = writeln!(out, "    axisFormat %m-%d %H:%M");
    let _ = writeln!(out, "    section Stages");
    let mut from = 0;
    for (i, (label, secs)) in stages.iter().enumerate() {
        let Some(to) = *secs else {
            continue;
        };
        let tags = if to <= from { "milestone, " } else { "" };
        let _ = writeln!(
            out,
            "    {label} :{tags}s{i}, {}, {}",
            at(from),
            at(to.max(from))
        );
        from = to.max(from);
    }
    if let Some(back) = &d.rolled_back {
        let _ = writeln!(out, "    section Rollback");
        let start = back
            .deployed_seconds
            .unwrap_or(from)
            .min(back.rolled_back_seconds);
        let _ = writeln!(
            out,
            "    deployed, did not stay :crit, b0, {}, {}",
            at(start),
            at(back.rolled_back_seconds)
        );
        let _ = writeln!(
            out,
            "    rolled back :milestone, crit, b1, {}, {}",
            at(back.rolled_back_seconds),
            at(back.rolled_back_seconds)
        );
    }
    if !d.approval_waits.is_empty() {
        let _ = writeln!(out, "    section Approvals");
        for (i, w) in d.approval_waits.iter().enumerate() {
            let start = (w.asked_at - reported).num_seconds();
            let end = (w.at - reported).num_seconds().max(start);
            let tags = if end <= start { "milestone, " } else { "" };
            let _ = writeln!(
                out,
                "    {} by {} :{tags}w{i}, {}, {}",
                name(&w.role),
                name(&w.approver),
                at(start),
                at(end)
            );
        }
    }
    if let Some(target) = d.target_seconds.filter(|t| *t <= end) {
        let crit = if d.breached { "crit, " } else { "" };
        let _ = writeln!(out, "    section Target");
        let _ = writeln!(
            out,
            "    target {} :milestone, {crit}target, {}, {}",
            crate::present::span(chrono::Duration::seconds(target)),
            at(target),
            at(target)
        );
    } else if !finished && end > from {
        // Work still going on: a bar to now keeps the axis at the present.
        let _ = writeln!(out, "    section Now");
        let _ = writeln!(out, "    waiting :active, now, {}, {}", at(from), at(end));
    }
    let _ = writeln!(out, "```\n");
}
