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

mod header;
mod lists;
mod overlay;
mod panels;

use super::Pane;
use super::app::{App, Overlay};
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
            "Terminal too small: hotfix needs {MIN_WIDTH}x{MIN_HEIGHT}, this is {}x{}. Enlarge it, or press q to quit.",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let [head, body, foot] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(8),
        Constraint::Length(2),
    ])
    .areas(area);
    header::render(frame, head, app, ctx);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body);
    let [queue, releases] =
        Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(left);
    let [approvals, tests] =
        Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(right);
    lists::queue(frame, queue, app, ctx);
    lists::releases(frame, releases, app, ctx);
    panels::approvals(frame, approvals, app, ctx);
    panels::tests(frame, tests, app, ctx);
    footer(frame, foot, app, ctx);
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help { scroll } => overlay::help(frame, area, app, ctx, *scroll),
        Overlay::Details {
            target,
            trail,
            scroll,
        } => overlay::details(frame, area, ctx, *target, trail, *scroll),
        Overlay::Report { id, text, scroll } => {
            overlay::report(frame, area, ctx, *id, text, *scroll)
        }
        Overlay::Form(form) => overlay::form(frame, area, form, ctx),
    }
}

/// A pane's frame: its number, title, and a focused style when it has the keyboard.
pub fn pane_block<'a>(app: &App, ctx: &Ctx, pane: Pane, title: Line<'a>) -> Block<'a> {
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
    Block::bordered()
        .border_style(ctx.theme.border(focused))
        .title(Line::from(spans))
}

fn footer(frame: &mut Frame, area: Rect, app: &App, ctx: &Ctx) {
    let t = ctx.theme;
    let mut keys: Vec<Span> = Vec::new();
    if let Some(input) = &app.filter_input {
        keys.push(Span::styled("filter: ", t.bold()));
        keys.push(Span::raw(crate::sanitize::line(&input.text).into_owned()));
        keys.push(Span::styled("  (Enter keep, Esc clear)", t.dim()));
    } else {
        let bindings = app.keymap.bindings(app.focus);
        let own = app.keymap.own_actions(app.focus);
        let mut shown: Vec<&(String, super::action::Action)> = bindings
            .iter()
            .filter(|(_, a)| !a.is_navigation())
            .collect();
        // The pane's own keys lead, then help, so both survive a narrow terminal.
        shown.sort_by_key(|(_, a)| {
            if own.contains(a) {
                0
            } else if *a == super::action::Action::Help {
                1
            } else {
                2
            }
        });
        for (key, action) in shown {
            keys.push(Span::styled(
                key.clone(),
                t.accent().add_modifier(ratatui::style::Modifier::BOLD),
            ));
            keys.push(Span::raw(format!(" {}  ", action.label())));
        }
    }
    let status = match &app.status {
        Some(s) if s.error => Line::styled(crate::sanitize::line(&s.text).into_owned(), t.bad()),
        Some(s) => Line::styled(crate::sanitize::line(&s.text).into_owned(), t.good()),
        None => Line::styled("Tab/1-4 switch panes · Enter details · ? all keys", t.dim()),
    };
    let [k, s] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(keys)), k);
    frame.render_widget(Paragraph::new(status), s);
}
