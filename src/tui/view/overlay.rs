//! What draws on top of the panes: the help overlay, the details of a record, and forms.

use super::Ctx;
use crate::present::{self, stamp};
use crate::sanitize::{block, line};
use crate::state::ReleaseId;
use crate::tui::Pane;
use crate::tui::app::{App, Target};
use crate::tui::form::{Form, Value};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

pub fn help(frame: &mut Frame, area: Rect, app: &App, ctx: &Ctx, scroll: u16) {
    let t = ctx.theme;
    let mut lines = vec![
        Line::styled(
            "Every key below comes from the key map (assets/keymap.json; override in keys.json in the config directory).",
            t.dim(),
        ),
        Line::raw(""),
    ];
    let sections = [
        ("Everywhere", None),
        ("1 Incident queue", Some(Pane::Queue)),
        ("2 Approvals", Some(Pane::Approvals)),
        ("3 Tests", Some(Pane::Tests)),
        ("4 Release queue", Some(Pane::Releases)),
    ];
    let everywhere: Vec<(String, crate::tui::action::Action)> = app
        .keymap
        .bindings(Pane::Approvals)
        .iter()
        .filter(|(_, a)| !app.keymap.own_actions(Pane::Approvals).contains(a))
        .cloned()
        .collect();
    for (title, pane) in sections {
        let bindings: Vec<(String, crate::tui::action::Action)> = match pane {
            None => everywhere.clone(),
            Some(p) => {
                let own = app.keymap.own_actions(p);
                app.keymap
                    .bindings(p)
                    .iter()
                    .filter(|(_, a)| own.contains(a))
                    .cloned()
                    .collect()
            }
        };
        if bindings.is_empty() {
            continue;
        }
        lines.push(Line::styled(
            title,
            t.bold().add_modifier(Modifier::UNDERLINED),
        ));
        for chunk in bindings.chunks(3) {
            let mut spans = Vec::new();
            for (key, action) in chunk {
                spans.push(Span::styled(
                    format!("{key:>9} "),
                    t.accent().add_modifier(Modifier::BOLD),
                ));
                spans.push(Span::raw(format!("{:<22}", action.label())));
            }
            lines.push(Line::from(spans));
        }
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(
        "In forms: Tab/↑↓ move, ←→/Space change a choice, Enter next/submit, Esc cancel.",
        t.dim(),
    ));
    lines.push(Line::styled(
        "Confirmations: y or Enter confirms, n or Esc cancels.",
        t.dim(),
    ));
    let rect = centered(area, 100, area.height.saturating_sub(2));
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(" Keys (Esc closes, j/k scroll) ")
        .border_style(t.border(true));
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)).block(block), rect);
}

fn field<'a>(label: &str, value: impl Into<String>, ctx: &Ctx) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:<11}"), ctx.theme.dim()),
        Span::raw(value.into()),
    ])
}

fn text_block<'a>(lines: &mut Vec<Line<'a>>, label: &str, text: &str, ctx: &Ctx) {
    let mut rows = block(text)
        .lines()
        .map(str::to_string)
        .collect::<Vec<_>>()
        .into_iter();
    lines.push(field(label, rows.next().unwrap_or_default(), ctx));
    for rest in rows {
        lines.push(Line::raw(format!("{:11}{rest}", "")));
    }
}

fn incident_lines<'a>(ctx: &Ctx, id: crate::state::IncidentId) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let m = ctx.model;
    let Some(i) = m.incidents.get(&id) else {
        return vec![Line::raw(format!("{id} no longer exists"))];
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{id} "), t.bold()),
            Span::styled(i.severity.as_str(), t.severity(i.severity)),
            Span::raw(format!("  {}", line(&i.title))),
        ]),
        field("status", i.status.as_str(), ctx),
        field(
            "reported",
            format!("{} by {}", stamp(i.reported_at), i.reported_by),
            ctx,
        ),
    ];
    if let Some(d) = i.deadline(m) {
        lines.push(field(
            "target",
            format!(
                "deployed by {} ({})",
                stamp(d),
                present::target(i.target(m), ctx.now)
            ),
            ctx,
        ));
    }
    if !i.services.is_empty() {
        lines.push(field("services", i.services.join(", "), ctx));
    }
    text_block(&mut lines, "impact", &i.impact, ctx);
    for c in &i.severity_changes {
        lines.push(field(
            "severity",
            format!(
                "{} -> {} by {} at {}: {}",
                c.from,
                c.to,
                c.by,
                stamp(c.at),
                line(&c.reason)
            ),
            ctx,
        ));
    }
    lines.push(Line::raw(""));
    match &i.qualification {
        Some(q) => {
            lines.push(Line::styled("Qualification", t.bold()));
            lines.push(field(
                "decision",
                format!("{} (risk of the fix: {})", q.decision, q.risk),
                ctx,
            ));
            lines.push(field("by", format!("{} at {}", q.by, stamp(q.at)), ctx));
            text_block(&mut lines, "impact", &q.impact, ctx);
            text_block(&mut lines, "rationale", &q.rationale, ctx);
        }
        None => lines.push(Line::styled(
            "Not qualified yet: the SRE AVP qualifies it (Q in the queue).",
            t.warn(),
        )),
    }
    for r in m
        .releases
        .values()
        .filter(|r| r.scope.incidents.contains(&id))
    {
        lines.push(field(
            "release",
            format!(
                "{} {} ({})",
                r.id,
                line(&r.scope.version),
                m.release_status(r)
            ),
            ctx,
        ));
    }
    if let Some(res) = &i.resolution {
        lines.push(field(
            "resolved",
            format!("by {} at {} {}", res.by, stamp(res.at), line(&res.note)),
            ctx,
        ));
    }
    lines
}

fn release_lines<'a>(ctx: &Ctx, id: ReleaseId) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let m = ctx.model;
    let Some(r) = m.releases.get(&id) else {
        return vec![Line::raw(format!("{id} no longer exists"))];
    };
    let status = m.release_status(r);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{id} "), t.bold()),
            Span::raw(format!("{} ", line(&r.scope.version))),
            Span::styled(status.as_str(), t.release_status(status)),
        ]),
        field("summary", line(&r.scope.summary).into_owned(), ctx),
    ];
    if id.is_hotfix() {
        let incidents: Vec<String> = r.scope.incidents.iter().map(ToString::to_string).collect();
        lines.push(field("fixes", incidents.join(", "), ctx));
        if let Some(s) = m.release_severity(r) {
            lines.push(field("severity", s.as_str(), ctx));
        }
        text_block(&mut lines, "changes", &r.scope.changes, ctx);
        text_block(&mut lines, "risks", &r.scope.risks, ctx);
        text_block(&mut lines, "rollback", &r.scope.rollback, ctx);
    }
    if let Some(p) = r.planned_at {
        lines.push(field("planned", stamp(p), ctx));
    }
    lines.push(field(
        "author",
        format!("{} at {}", r.author, stamp(r.created_at)),
        ctx,
    ));
    lines.push(field(
        "scope",
        format!(
            "revision {}, fingerprint {}",
            r.revision,
            r.scope.fingerprint()
        ),
        ctx,
    ));
    if !r.approvals.is_empty() || !r.rejections.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Approvals and rejections", t.bold()));
    }
    for a in &r.approvals {
        let stale = if r.is_current(a) { "" } else { " (stale)" };
        let comment = if a.comment.is_empty() {
            String::new()
        } else {
            format!(": {}", line(&a.comment))
        };
        lines.push(Line::raw(format!(
            "  approved as {} by {} at {}, rev {}{stale}{comment}",
            a.role,
            a.approver,
            stamp(a.at),
            a.revision
        )));
    }
    for x in &r.rejections {
        let standing = if x.revision == r.revision {
            " (standing)"
        } else {
            " (addressed by an edit)"
        };
        lines.push(Line::styled(
            format!(
                "  rejected as {} by {} at {}{standing}: {}",
                x.role,
                x.by,
                stamp(x.at),
                line(&x.reason)
            ),
            t.bad(),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Timeline", t.bold()));
    let mut last = None;
    for ms in &r.milestones {
        let took = last
            .map(|at| format!(" (+{})", present::span(ms.at - at)))
            .unwrap_or_default();
        let reason = ms
            .reason
            .as_deref()
            .map(|x| format!(": {}", line(x)))
            .unwrap_or_default();
        let what = serde_json::to_value(ms.phase)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let what = if what == "pending" {
            "created".to_string()
        } else {
            what
        };
        lines.push(Line::raw(format!(
            "  {} {:<12} by {}{took}{reason}",
            stamp(ms.at),
            what,
            ms.by
        )));
        last = Some(ms.at);
    }
    lines
}

pub fn details(
    frame: &mut Frame,
    area: Rect,
    ctx: &Ctx,
    target: Target,
    trail: &[String],
    scroll: u16,
) {
    let t = ctx.theme;
    let (title, mut lines) = match target {
        Target::Incident(id) => (format!(" {id} "), incident_lines(ctx, id)),
        Target::Release(id) => (format!(" {id} "), release_lines(ctx, id)),
    };
    lines.push(Line::raw(""));
    lines.push(Line::styled("Audit trail", t.bold()));
    for entry in trail {
        lines.push(Line::raw(format!("  {entry}")));
    }
    let rect = centered(
        area,
        area.width.saturating_sub(4).max(1),
        area.height.saturating_sub(2).max(1),
    );
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(format!("{title}(Esc closes, j/k scroll) "))
        .border_style(t.border(true));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(block),
        rect,
    );
}

pub fn form(frame: &mut Frame, area: Rect, form: &Form, ctx: &Ctx) {
    let t = ctx.theme;
    let width = area.width.saturating_sub(4).clamp(1, 90);
    let preview_rows = match &form.preview {
        Ok(events) => events.len().max(1),
        Err(_) => 2,
    };
    let height = (form.fields.len() + preview_rows + 7) as u16;
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(format!(" {} ", line(&form.title)))
        .border_style(t.border(true));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let label_width = form
        .fields
        .iter()
        .map(|f| f.label.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let mut lines = Vec::new();
    let mut cursor = None;
    for (i, f) in form.fields.iter().enumerate() {
        let focused = form.focus == i;
        let label = Span::styled(
            format!("{:<label_width$}", f.label),
            if focused { t.bold() } else { t.dim() },
        );
        let value = match &f.value {
            Value::Text(input) => {
                if focused {
                    let before: String = input.text.chars().take(input.cursor).collect();
                    let x = inner.x + (label_width + line(&before).chars().count()) as u16;
                    cursor = Some((x.min(inner.right().saturating_sub(1)), inner.y + i as u16));
                }
                Span::styled(
                    line(&input.text).into_owned(),
                    if focused {
                        t.base().add_modifier(Modifier::UNDERLINED)
                    } else {
                        t.base()
                    },
                )
            }
            Value::Choice(options, idx) => {
                let text = format!("‹ {} ›", options.get(*idx).map_or("", String::as_str));
                Span::styled(text, if focused { t.selected() } else { t.accent() })
            }
        };
        lines.push(Line::from(vec![label, value]));
    }
    lines.push(Line::raw(""));
    let button = Span::styled(
        " Confirm ",
        if form.on_button() {
            t.selected().add_modifier(Modifier::BOLD)
        } else {
            t.bold()
        },
    );
    let keys = match (form.on_button(), form.fields.is_empty()) {
        (true, true) => "  y/Enter confirm · n/Esc cancel",
        (true, false) => "  y/Enter confirm · n/Esc cancel · ↑ edit fields",
        (false, _) => "  Enter next · Tab/↑↓ move · Esc cancel",
    };
    lines.push(Line::from(vec![button, Span::styled(keys, t.dim())]));
    lines.push(Line::raw(""));
    match &form.preview {
        Ok(events) if events.is_empty() => {}
        Ok(events) => {
            lines.push(Line::styled("Will record:", t.good()));
            for e in events {
                lines.push(Line::raw(format!("  {e}")));
            }
        }
        Err(why) => {
            lines.push(Line::styled("Would be refused:", t.bad()));
            lines.push(Line::styled(format!("  {}", line(why)), t.bad()));
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    if let Some(pos) = cursor {
        frame.set_cursor_position(pos);
    }
}

pub fn report(frame: &mut Frame, area: Rect, ctx: &Ctx, id: ReleaseId, text: &str, scroll: u16) {
    let t = ctx.theme;
    let lines: Vec<Line> = text
        .lines()
        .map(|l| {
            if l.starts_with('#') {
                Line::styled(l.to_string(), t.bold())
            } else {
                Line::raw(l.to_string())
            }
        })
        .collect();
    let rect = centered(
        area,
        area.width.saturating_sub(4).max(1),
        area.height.saturating_sub(2).max(1),
    );
    frame.render_widget(Clear, rect);
    let title = format!(" {id} report · w writes {id}-report.md · j/k scroll · Esc closes ");
    let block = Block::bordered().title(title).border_style(t.border(true));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(block),
        rect,
    );
}
