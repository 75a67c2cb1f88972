//! The panes about one release: its approval checklist with the gate, and its test list.

use super::{Ctx, pane_block};
use crate::present::stamp;
use crate::sanitize::line;
use crate::state::{Priority, RoleCheck, TestCase, TestStatus};
use crate::tui::Pane;
use crate::tui::action::Action;
use crate::tui::app::App;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

fn hint(app: &App, ctx: &Ctx, pane: Pane, text: &str, area: Rect) -> Paragraph<'static> {
    let block = pane_block(
        app,
        ctx,
        pane,
        Line::from(if pane == Pane::Tests {
            "Tests"
        } else {
            "Approvals"
        }),
        area,
    );
    Paragraph::new(Line::styled(text.to_string(), ctx.theme.dim()))
        .wrap(Wrap { trim: true })
        .block(block)
}

pub fn approvals(frame: &mut Frame, area: Rect, app: &App, ctx: &Ctx) {
    let t = ctx.theme;
    let m = ctx.model;
    let Some(r) = app.current_release(m) else {
        let text = format!(
            "No release for the selected incident. Qualify it ({}), then create a hotfix ({}).",
            super::key(app, Pane::Queue, Action::Qualify),
            super::key(app, Pane::Queue, Action::CreateHotfix)
        );
        frame.render_widget(hint(app, ctx, Pane::Approvals, &text, area), area);
        return;
    };
    let status = m.release_status(r);
    let sev = m
        .release_severity(r)
        .map(|s| s.to_string())
        .unwrap_or_default();
    let title = Line::from(vec![
        Span::styled(format!("Approvals {} ", r.id), t.bold()),
        Span::raw(format!("{sev} {} ", line(&r.scope.version))),
        Span::styled(status.as_str(), t.release_status(status)),
    ]);
    let mut lines: Vec<Line> = Vec::new();
    let checks = m.checklist(r);
    if checks.is_empty() && r.id.is_hotfix() {
        lines.push(Line::styled(
            "No roles needed: its severity cannot be hotfixed under the policy.",
            t.bad(),
        ));
    }
    let owed: Vec<_> = m
        .debts(r)
        .into_iter()
        .filter(|d| d.paid.is_none())
        .collect();
    for c in &checks {
        let role = format!("{:<10} ", c.role());
        lines.push(match c {
            RoleCheck::Approved { approval: a, .. } => {
                let comment = if a.comment.is_empty() {
                    String::new()
                } else {
                    format!(" “{}”", line(&a.comment))
                };
                Line::from(vec![
                    Span::styled("[x] ", t.good()),
                    Span::raw(role),
                    Span::raw(format!("{} {}", line(&a.by()), a.at.format("%m-%d %H:%M"))),
                    Span::styled(comment, t.dim()),
                ])
            }
            RoleCheck::Stale {
                approval: a,
                current_revision,
                ..
            } => Line::from(vec![
                Span::styled("[~] ", t.warn()),
                Span::raw(role),
                Span::styled(
                    format!(
                        "{} STALE: approved rev {}, scope now rev {current_revision}",
                        line(&a.by()),
                        a.revision
                    ),
                    t.warn(),
                ),
            ]),
            RoleCheck::Revoked { approval: a, .. } => Line::from(vec![
                Span::styled("[~] ", t.warn()),
                Span::raw(role),
                Span::styled(format!("{} STALE: role revoked", line(&a.by())), t.warn()),
            ]),
            RoleCheck::Rejected { rejection: x, .. } => Line::from(vec![
                Span::styled("[!] ", t.bad()),
                Span::raw(role),
                Span::styled(
                    format!("REJECTED by {}: {}", line(&x.by), line(&x.reason)),
                    t.bad(),
                ),
            ]),
            // An approval break-glass deployed without: owed by a time, then overdue.
            RoleCheck::Waiting { role: name }
                if let Some(d) = owed.iter().find(|d| d.role == *name) =>
            {
                let (text, style) = if ctx.now > d.due {
                    (format!("OVERDUE since {}", stamp(d.due)), t.bad())
                } else {
                    (format!("owed by {} (break-glass)", stamp(d.due)), t.warn())
                };
                Line::from(vec![
                    Span::styled("[!] ", style),
                    Span::raw(role),
                    Span::styled(text, style),
                ])
            }
            RoleCheck::Waiting { role: name } => {
                let note = m.escalation_note(r, name);
                Line::from(vec![
                    Span::raw("[ ] "),
                    Span::raw(role),
                    Span::styled("waiting", t.dim()),
                    Span::styled(
                        if note.is_empty() {
                            String::new()
                        } else {
                            format!(" · {note}")
                        },
                        t.warn(),
                    ),
                ])
            }
        });
    }
    if let Some((_, roles)) = &r.frozen {
        lines.push(Line::styled(
            format!("roles fixed at deploy: {}", roles.join(", ")),
            t.dim(),
        ));
    }
    match m.gate(r.id) {
        Ok(gate) if r.phase == crate::state::Phase::Pending => {
            if gate.ready {
                lines.push(Line::from(vec![
                    Span::styled("GATE ", t.bold()),
                    Span::styled(
                        " READY ",
                        t.good().add_modifier(ratatui::style::Modifier::REVERSED),
                    ),
                ]));
            } else {
                lines.push(Line::from(vec![
                    Span::styled("GATE ", t.bold()),
                    Span::styled(
                        " BLOCKED ",
                        t.bad().add_modifier(ratatui::style::Modifier::REVERSED),
                    ),
                    Span::styled(
                        format!(
                            " {} blocker{}",
                            gate.blockers.len(),
                            if gate.blockers.len() == 1 { "" } else { "s" }
                        ),
                        t.bad(),
                    ),
                ]));
                for b in &gate.blockers {
                    lines.push(Line::raw(format!("• {b}")));
                }
            }
            for d in &gate.deferred {
                lines.push(Line::styled(format!("deferred: {d}"), t.dim()));
            }
        }
        _ => {
            if let Some(m) = r.milestones.last() {
                lines.push(Line::styled(
                    format!("{} by {} at {}", status, line(&m.by), stamp(m.at)),
                    t.release_status(status),
                ));
            }
        }
    }
    if !r.notices.is_empty() || r.id.is_hotfix() {
        let mut spans = vec![Span::styled("notices: ", t.dim())];
        for n in &r.notices {
            let (mark, style) = if n.error.is_none() {
                ("✓", t.good())
            } else {
                ("✗", t.bad())
            };
            spans.push(Span::styled(
                format!("{}/{} {mark} ", n.stage, n.audience),
                style,
            ));
        }
        if let Some(next) = crate::notify::next_stage(m, r.id) {
            let key = app
                .keymap
                .keys(
                    crate::tui::keymap::Mode::Pane(app.focus),
                    crate::tui::action::Action::Notify,
                )
                .unwrap_or_default();
            spans.push(Span::styled(format!("({key}: send {next})"), t.dim()));
        }
        lines.push(Line::from(spans));
    }
    let block = pane_block(app, ctx, Pane::Approvals, title, area);
    // Never scrolled past the end: after a resize to a taller pane every row comes back.
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    let inner = block.inner(area);
    let total = paragraph.line_count(inner.width);
    let last = u16::try_from(total.saturating_sub(usize::from(inner.height))).unwrap_or(u16::MAX);
    app.approvals_max.set(last);
    frame.render_widget(
        paragraph
            .scroll((app.approvals_scroll.min(last), 0))
            .block(block),
        area,
    );
}

fn glyph(test: &TestCase) -> &'static str {
    match test.status {
        TestStatus::Passed => "✓",
        TestStatus::Failed => "✗",
        TestStatus::Running => "▶",
        TestStatus::Pending => "·",
        TestStatus::Skipped => "↷",
    }
}

/// A text progress bar: `done` of `total` in `width` cells.
fn bar(done: usize, total: usize, width: usize) -> String {
    let filled = if total == 0 {
        0
    } else {
        (done * width).div_ceil(total).min(width)
    };
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

fn done(test: &TestCase) -> bool {
    test.status == TestStatus::Passed || test.waiver.is_some()
}

pub fn tests(frame: &mut Frame, area: Rect, app: &App, ctx: &Ctx) {
    let t = ctx.theme;
    let Some(release) = app.current_release(ctx.model) else {
        frame.render_widget(
            hint(app, ctx, Pane::Tests, "No release selected.", area),
            area,
        );
        return;
    };
    let all = &release.tests;
    let finished = all.iter().filter(|x| done(x)).count();
    let title = Line::from(vec![
        Span::styled(format!("Tests {} ", release.id), t.bold()),
        Span::styled(
            bar(finished, all.len(), 10),
            if finished == all.len() && !all.is_empty() {
                t.good()
            } else {
                t.warn()
            },
        ),
        Span::raw(format!(" {finished}/{}", all.len())),
    ]);
    let block = pane_block(app, ctx, Pane::Tests, title, area);
    if all.is_empty() {
        let text = "No tests yet. Press t (in this pane) to add one: at least one critical test must pass before deploying.";
        frame.render_widget(
            Paragraph::new(Line::styled(text, t.dim()))
                .wrap(Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    }
    let width = usize::from(area.width.saturating_sub(2));
    let list = app.tests(ctx.model);
    let selected = app.selected_test(ctx.model).map(|x| x.name.clone());
    let mut lines: Vec<Line> = Vec::new();
    let mut selected_line = 0;
    for priority in Priority::ALL {
        let group: Vec<&&TestCase> = list.iter().filter(|x| x.priority == *priority).collect();
        let in_priority: Vec<&TestCase> = all.iter().filter(|x| x.priority == *priority).collect();
        if in_priority.is_empty() {
            continue;
        }
        let n = in_priority.iter().filter(|x| done(x)).count();
        let style = match priority {
            Priority::Critical if n < in_priority.len() => t.bad(),
            Priority::High if n < in_priority.len() => t.warn(),
            _ if n == in_priority.len() => t.good(),
            _ => t.dim(),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<9}", priority.as_str().to_uppercase()), t.bold()),
            Span::styled(bar(n, in_priority.len(), 8), style),
            Span::raw(format!(" {n}/{}", in_priority.len())),
        ]));
        for test in group {
            let is_selected =
                selected.as_deref() == Some(test.name.as_str()) && app.focus == Pane::Tests;
            if is_selected {
                selected_line = lines.len();
            }
            let mut extra = Vec::new();
            if let Some(w) = &test.waiver {
                extra.push(format!("waived by {}: {}", line(&w.by), line(&w.reason)));
            }
            if !test.note.is_empty() {
                extra.push(line(&test.note).into_owned());
            }
            let row = Line::from(vec![
                Span::styled(format!(" {} ", glyph(test)), t.test_status(test.status)),
                Span::styled(
                    format!("{:<8}", test.status.as_str()),
                    t.test_status(test.status),
                ),
                Span::raw(line(&test.name).into_owned()),
                Span::styled(
                    format!(" @{}", line(test.owner.as_deref().unwrap_or("-"))),
                    t.dim(),
                ),
                Span::styled(if test.automated { " auto" } else { " manual" }, t.dim()),
                Span::styled(
                    if extra.is_empty() {
                        String::new()
                    } else {
                        format!("  {}", extra.join("; "))
                    },
                    t.dim(),
                ),
            ]);
            let row = super::fit(row, width);
            lines.push(if is_selected {
                row.style(t.selected())
            } else {
                row.style(Style::new())
            });
        }
    }
    let inner = area.height.saturating_sub(2) as usize;
    let scroll = selected_line.saturating_sub(inner.saturating_sub(1)) as u16;
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)).block(block), area);
}
