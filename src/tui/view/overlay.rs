//! What draws on top of the panes: the help overlay, the details of a record, and forms.

use super::{Ctx, Theme};
use crate::present::{self, stamp};
use crate::sanitize::{block, line};
use crate::state::ReleaseId;
use crate::tui::Pane;
use crate::tui::action::Action;
use crate::tui::app::{App, ScrollLimit, Target};
use crate::tui::keymap::Mode;
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

pub(super) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

/// Draws a scrolling view: `lines` wrapped in a bordered box titled with the view's keys, on
/// top of what is behind, scrolled to `scroll` but never past the end. Tells the app how far
/// it can scroll and how long a page is.
fn scrolled(
    frame: &mut Frame,
    rect: Rect,
    app: &App,
    ctx: &Ctx,
    what: &str,
    lines: Vec<Line>,
    scroll: u16,
) {
    let block = Block::bordered()
        .title(view_title(app, what))
        .border_style(ctx.theme.border(true));
    let inner = block.inner(rect);
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    let total = u16::try_from(paragraph.line_count(inner.width)).unwrap_or(u16::MAX);
    let max = total.saturating_sub(inner.height);
    app.scroll_limit.set(ScrollLimit {
        max,
        page: inner.height.saturating_sub(1).max(1),
    });
    frame.render_widget(Clear, rect);
    frame.render_widget(paragraph.scroll((scroll.min(max), 0)).block(block), rect);
}

/// The whole screen but a margin, where the details and the report show.
fn full(area: Rect) -> Rect {
    centered(
        area,
        area.width.saturating_sub(4).max(1),
        area.height.saturating_sub(2).max(1),
    )
}

/// The title of a scrolling view, with its keys from the key map.
fn view_title(app: &App, what: &str) -> String {
    let key = |a| {
        app.keymap
            .first_key(Mode::View, a)
            .unwrap_or_else(|| "-".into())
    };
    format!(
        " {what} · {} close · {}/{} scroll · {}/{} page · {}/{} ends ",
        app.keymap
            .keys(Mode::View, Action::Back)
            .unwrap_or_else(|| "-".into()),
        key(Action::Down),
        key(Action::Up),
        key(Action::PageDown),
        key(Action::PageUp),
        key(Action::Top),
        key(Action::Bottom)
    )
}

pub fn help(frame: &mut Frame, area: Rect, app: &App, ctx: &Ctx, scroll: u16) {
    let t = ctx.theme;
    let rect = centered(area, 100, area.height.saturating_sub(2));
    let inner_width = usize::from(rect.width.saturating_sub(2));
    let mut lines = vec![
        Line::styled(
            "Every key below comes from the key map (assets/keymap.json; override any in keys.json in the config directory).",
            t.dim(),
        ),
        Line::raw(""),
    ];
    let global = app
        .keymap
        .bindings(Mode::Pane(Pane::Approvals))
        .iter()
        .filter(|b| !app.keymap.own_actions(Pane::Approvals).contains(&b.action))
        .cloned()
        .collect::<Vec<_>>();
    let own = |pane: Pane| {
        let own = app.keymap.own_actions(pane);
        app.keymap
            .bindings(Mode::Pane(pane))
            .iter()
            .filter(|b| own.contains(&b.action))
            .cloned()
            .collect::<Vec<_>>()
    };
    let sections = [
        ("Everywhere on the main screen", global),
        ("1 Incident queue", own(Pane::Queue)),
        ("2 Approvals", own(Pane::Approvals)),
        ("3 Tests", own(Pane::Tests)),
        ("4 Release queue", own(Pane::Releases)),
        (
            "In a dialog (a letter typed in a text field is always text)",
            app.keymap.bindings(Mode::Dialog).to_vec(),
        ),
        (
            "In help, details and the report",
            app.keymap.bindings(Mode::View).to_vec(),
        ),
    ];
    // Columns as wide as the longest entry, as many as fit: nothing is cut at 80 columns.
    let entries = |b: &crate::tui::keymap::Binding| (b.keys_label(), b.action.label());
    let key_width = sections
        .iter()
        .flat_map(|(_, bs)| bs.iter().map(|b| entries(b).0.chars().count()))
        .max()
        .unwrap_or(1);
    let label_width = sections
        .iter()
        .flat_map(|(_, bs)| bs.iter().map(|b| b.action.label().chars().count()))
        .max()
        .unwrap_or(1);
    let cell = key_width + 1 + label_width + 2;
    let columns = (inner_width / cell).max(1);
    for (title, bindings) in sections {
        if bindings.is_empty() {
            continue;
        }
        lines.push(Line::styled(
            title,
            t.bold().add_modifier(Modifier::UNDERLINED),
        ));
        for chunk in bindings.chunks(columns) {
            let mut spans = Vec::new();
            for b in chunk {
                let (keys, label) = entries(b);
                spans.push(Span::styled(
                    format!("{keys:>key_width$} "),
                    t.accent().add_modifier(Modifier::BOLD),
                ));
                spans.push(Span::raw(format!("{label:<label_width$}  ")));
            }
            lines.push(Line::from(spans));
        }
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(
        "In a choice: ←/→ or Space change it, a letter jumps to an option. In text: ←/→, Home/End, Bksp, Ctrl-U clears.",
        t.dim(),
    ));
    scrolled(frame, rect, app, ctx, "Keys", lines, scroll);
}

fn field<'a>(label: &str, value: impl Into<String>, ctx: &Ctx) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:<11}"), ctx.theme.dim()),
        Span::raw(value.into()),
    ])
}

/// The code a scope names, as `git diff --stat` and `git diff` show it: the commit and base,
/// each file with lines added and removed, then the hunks, `+` green and `-` red, each line cut
/// to `width` (a diff is read by its columns, never wrapped).
pub(super) fn code_lines<'a>(
    scope: &crate::state::Scope,
    width: usize,
    t: Theme,
    changed: bool,
) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    let label = |name: &str| {
        if changed {
            Span::styled(format!("{:<10}", format!("{name}*")), t.warn())
        } else {
            Span::styled(format!("{name:<10}"), t.dim())
        }
    };
    if let Some(a) = &scope.artifact {
        lines.push(Line::from(vec![label("artifact"), Span::raw(a.clone())]));
    }
    let Some(code) = &scope.code else {
        return lines;
    };
    lines.push(Line::from(vec![
        label("commit"),
        Span::raw(format!(
            "{} against {}",
            code.commit,
            code.base.get(..12).unwrap_or(&code.base)
        )),
    ]));
    let clip = |s: &str| -> String { line(s).chars().take(width).collect() };
    for f in &code.files {
        let n = |v: Option<u32>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
        lines.push(Line::from(vec![
            Span::raw(" ".repeat(10)),
            Span::styled(format!("+{:<5}", n(f.added)), t.good()),
            Span::styled(format!("-{:<5}", n(f.removed)), t.bad()),
            Span::raw(clip(&f.path)),
        ]));
    }
    for l in code.diff.lines() {
        let style = match l.as_bytes().first() {
            Some(b'+') if !l.starts_with("+++") => t.good(),
            Some(b'-') if !l.starts_with("---") => t.bad(),
            Some(b'@') => t.accent(),
            _ => t.dim(),
        };
        lines.push(Line::styled(clip(l), style));
    }
    if code.truncated {
        lines.push(Line::styled(
            "(the diff was cut when it was bound: see the commit for the rest)",
            t.warn(),
        ));
    }
    lines
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
            format!("{} by {}", stamp(i.reported_at), line(&i.reported_by)),
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
                line(&c.by),
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
            lines.push(field(
                "by",
                format!("{} at {}", line(&q.by), stamp(q.at)),
                ctx,
            ));
            text_block(&mut lines, "impact", &q.impact, ctx);
            text_block(&mut lines, "rationale", &q.rationale, ctx);
        }
        None => lines.push(Line::styled(
            "Not qualified yet: the SRE AVP qualifies it from the incident queue.",
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
            format!(
                "by {} at {} {}",
                line(&res.by),
                stamp(res.at),
                line(&res.note)
            ),
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
    lines.extend(code_lines(&r.scope, 200, t, false));
    // Carry-forward: a hotfix's fix must reach the mainline before it closes.
    if id.is_hotfix()
        && let (Some(_), Some(main)) = (&r.scope.code, &m.policy.mainline)
    {
        let state = match &r.carried_to {
            Some(c) => format!("done ({} on {})", c.get(..7).unwrap_or(c), line(main)),
            None => format!("pending: checked against {} when it closes", line(main)),
        };
        lines.push(field("carry-fwd", state, ctx));
    }
    if let Some(p) = r.planned_at {
        lines.push(field("planned", stamp(p), ctx));
    }
    lines.push(field(
        "author",
        format!("{} at {}", line(&r.author), stamp(r.created_at)),
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
            line(&a.by()),
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
                line(&x.by),
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
            line(&ms.by)
        )));
        last = Some(ms.at);
    }
    lines
}

pub fn details(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    ctx: &Ctx,
    target: Target,
    trail: &[String],
    scroll: u16,
) {
    let t = ctx.theme;
    let (title, mut lines) = match target {
        Target::Incident(id) => (id.to_string(), incident_lines(ctx, id)),
        Target::Release(id) => (id.to_string(), release_lines(ctx, id)),
    };
    lines.push(Line::raw(""));
    lines.push(Line::styled("Audit trail", t.bold()));
    for entry in trail {
        lines.push(Line::raw(format!("  {entry}")));
    }
    scrolled(frame, full(area), app, ctx, &title, lines, scroll);
}

pub fn report(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    ctx: &Ctx,
    id: ReleaseId,
    text: &str,
    scroll: u16,
) {
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
    let write = app
        .keymap
        .keys(Mode::View, Action::WriteReport)
        .unwrap_or_else(|| "-".into());
    let what = format!("{id} report · {write} writes {id}-report.md");
    scrolled(frame, full(area), app, ctx, &what, lines, scroll);
}
