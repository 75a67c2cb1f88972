//! Drawing the cockpit. Each screen region has its own module; this one lays them out:
//!
//! ```text
//! ┌ header: store · user & roles · counts · UTC clock ───────────────────────┐
//! │ waiting on you: approvals you can give, tests you own  (or READ-ONLY)     │
//! ├ 1 Incident queue ───────────────┬ 2 Approvals · gate ────────────────────┤
//! │ INC-6 P1 ◆ 3h10m 49m  Card pa…  │ [x] sre-avp  avery …                   │
//! │ …                               │ GATE BLOCKED · blockers …              │
//! ├ 4 Release queue ────────────────┼ 3 Tests ───────────────────────────────┤
//! │ HF-3 P1 awaiting-approval …     │ CRITICAL ████░░ 1/2 …                  │
//! ├──────────────────────────────────┴────────────────────────────────────────┤
//! │ keys for the focused pane                                                 │
//! │ status: the last action's result, or why it was refused                   │
//! └───────────────────────────────────────────────────────────────────────────┘
//! ```
//! Overlays (help, details, forms) draw on top. Stored text is escaped before it is drawn.

mod dialog;
mod header;
mod insights;
mod lists;
mod overlay;
mod panels;

use super::Pane;
use super::action::Action;
use super::app::{App, Overlay};
use super::keymap::{Binding, Mode};
pub use super::layout::{Areas, layout, list_offset};
use super::theme::Theme;
use crate::state::Model;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

/// The smallest terminal the layout is drawn in; below it a message says so.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// Everything a frame needs that is not UI state.
pub struct Ctx<'a> {
    pub model: &'a Model,
    pub now: DateTime<Utc>,
    pub theme: Theme,
}

pub fn render(frame: &mut Frame, app: &App, ctx: &Ctx) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "Terminal too small: hotfix needs {MIN_WIDTH}x{MIN_HEIGHT}, this is {}x{}. Enlarge it, or press {} to quit.",
            area.width,
            area.height,
            key(app, app.focus, Action::Quit)
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let areas = layout(area);
    header::render(frame, areas.head, app, ctx);
    lists::queue(frame, areas.queue, app, ctx);
    lists::releases(frame, areas.releases, app, ctx);
    panels::approvals(frame, areas.approvals, app, ctx);
    panels::tests(frame, areas.tests, app, ctx);
    footer(frame, areas.foot, app, ctx);
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help { scroll } => overlay::help(frame, area, app, ctx, *scroll),
        Overlay::Details {
            target,
            trail,
            scroll,
        } => overlay::details(frame, area, app, ctx, *target, trail, *scroll),
        Overlay::Report { id, text, scroll } => {
            overlay::report(frame, area, app, ctx, *id, text, *scroll)
        }
        Overlay::Form(form) => dialog::form(frame, area, app, form, ctx),
        Overlay::Insights { selected } => insights::render(frame, area, app, ctx, *selected),
    }
}

/// `s` escaped on one line, cut with `…` to `width` columns, measured as the view lays text
/// out (a wide character takes two).
pub fn cut(s: &str, width: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    let one = crate::sanitize::line(s).into_owned();
    if one.width() <= width {
        return one;
    }
    let mut room = width.saturating_sub(1);
    let mut c = String::new();
    for ch in one.chars() {
        let w = ch.width().unwrap_or(0);
        if w > room {
            break;
        }
        room -= w;
        c.push(ch);
    }
    c.push('…');
    c
}

/// `line` cut to `width` columns, ending with `…` when anything was cut, so a cut is never
/// mistaken for the whole text (a `Paragraph` or a block title would drop the rest silently).
pub fn fit(line: Line<'_>, width: usize) -> Line<'_> {
    use unicode_width::UnicodeWidthStr;
    if line.width() <= width {
        return line;
    }
    let Line {
        spans,
        style,
        alignment,
    } = line;
    let mut room = width.saturating_sub(1);
    let mut kept = Vec::new();
    let mut last_style = ratatui::style::Style::default();
    for span in spans {
        last_style = span.style;
        if span.content.width() <= room {
            room -= span.content.width();
            kept.push(span);
            continue;
        }
        let mut text = String::new();
        for c in span.content.chars() {
            let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            if w > room {
                break;
            }
            room -= w;
            text.push(c);
        }
        kept.push(Span::styled(text, span.style));
        break;
    }
    if width > 0 {
        kept.push(Span::styled("…", last_style));
    }
    Line {
        spans: kept,
        style,
        alignment,
    }
}

/// The keys for `action` on the main screen with `pane` focused, for hints in the text.
pub fn key(app: &App, pane: Pane, action: Action) -> String {
    app.keymap
        .keys(Mode::Pane(pane), action)
        .unwrap_or_else(|| "(unbound)".into())
}

/// A pane's frame: its number, title, and a focused style when it has the keyboard.
pub fn pane_block<'a>(app: &App, ctx: &Ctx, pane: Pane, title: Line<'a>, area: Rect) -> Block<'a> {
    let number = match pane {
        Pane::Queue => "1",
        Pane::Approvals => "2",
        Pane::Tests => "3",
        Pane::Releases => "4",
    };
    let focused = app.focus == pane;
    let mut spans = vec![Span::styled(
        format!(" {number} "),
        ctx.theme.border(focused),
    )];
    spans.extend(title.spans);
    spans.push(Span::raw(" "));
    let filter = app.filter(pane);
    if !filter.is_empty() {
        spans.push(Span::styled(
            format!("/{} ", crate::sanitize::line(filter)),
            ctx.theme.warn(),
        ));
    }
    // The title sits between the corners.
    let title = fit(Line::from(spans), usize::from(area.width.saturating_sub(2)));
    Block::bordered()
        .border_style(ctx.theme.border(focused))
        .title(title)
}

/// The key hints for what has the keyboard now (a pane, a dialog, a view), most used first,
/// each hint dropped whole when the line has no room for it.
pub fn hints(app: &App, width: usize) -> Vec<(String, &'static str)> {
    let mode = app.mode();
    let own = match mode {
        Mode::Pane(p) => app.keymap.own_actions(p),
        Mode::Dialog | Mode::View => Vec::new(),
    };
    let mut shown: Vec<&Binding> = app
        .keymap
        .bindings(mode)
        .iter()
        .filter(|b| !matches!(mode, Mode::Pane(_)) || !b.action.is_navigation())
        .filter(|b| b.action != Action::Quit || !matches!(mode, Mode::Dialog))
        .collect();
    // The pane's own keys lead, then the rest by how often people use them.
    shown.sort_by_key(|b| (!own.contains(&b.action), b.action.rank()));
    // Each hint is "keys label" and a two-space gap (the last one's gap may fall off).
    let len = |b: &Binding| b.keys_label().chars().count() + 1 + b.action.label().chars().count();
    // Help leads to every other key, so room for it is kept first.
    let reserved = shown
        .iter()
        .find(|b| b.action == Action::Help)
        .map_or(0, |b| len(b) + 2);
    let mut used = 0;
    let mut out = Vec::new();
    for b in shown {
        let room = if b.action == Action::Help {
            width + 2
        } else {
            (width + 2).saturating_sub(reserved)
        };
        if used + len(b) + 2 > room {
            continue; // a shorter hint further on may still fit
        }
        used += len(b) + 2;
        out.push((b.keys_label(), b.action.label()));
    }
    out
}

fn footer(frame: &mut Frame, area: Rect, app: &App, ctx: &Ctx) {
    let t = ctx.theme;
    let mut keys: Vec<Span> = Vec::new();
    if let Some(input) = &app.filter_input {
        let key = |a| app.keymap.keys(Mode::Dialog, a).unwrap_or_default();
        keys.push(Span::styled("filter: ", t.bold()));
        keys.push(Span::raw(crate::sanitize::line(&input.text).into_owned()));
        keys.push(Span::styled(
            format!(
                "  ({} keep, {} clear)",
                key(Action::Submit),
                key(Action::Back)
            ),
            t.dim(),
        ));
    } else {
        for (key, label) in hints(app, usize::from(area.width)) {
            keys.push(Span::styled(
                key,
                t.accent().add_modifier(ratatui::style::Modifier::BOLD),
            ));
            keys.push(Span::raw(format!(" {label}  ")));
        }
    }
    let status = match &app.status {
        Some(s) if s.error => Line::styled(cut(&s.text, usize::from(area.width)), t.bad()),
        Some(s) => Line::styled(cut(&s.text, usize::from(area.width)), t.good()),
        None if !matches!(app.mode(), Mode::Pane(_)) => Line::raw(""),
        None => {
            let key = |a| {
                app.keymap
                    .keys(Mode::Pane(app.focus), a)
                    .unwrap_or_else(|| "-".into())
            };
            Line::styled(
                format!(
                    "{}/1-4 panes · {} details · {} insights · {} all keys",
                    key(Action::NextPane),
                    key(Action::Open),
                    key(Action::Insights),
                    key(Action::Help)
                ),
                t.dim(),
            )
        }
    };
    let [k, s] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(keys)), k);
    frame.render_widget(Paragraph::new(status), s);
}
