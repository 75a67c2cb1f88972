//! The two lists: the incident queue and the release queue. Only visible rows are laid out.

use super::{Ctx, pane_block};
use crate::present::span;
use crate::sanitize::line;
use crate::state::incident::Target;
use crate::state::{Incident, IncidentStatus, ReleaseId};
use crate::tui::Pane;
use crate::tui::app::App;
use chrono::Duration;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

/// The timer cell: time left (amber in the last quarter of the target), breached (red), met or missed.
pub fn timer(incident: &Incident, ctx: &Ctx) -> (String, Style) {
    let t = ctx.theme;
    match incident.target(ctx.model) {
        Target::None => (String::new(), t.base()),
        Target::Running(deadline) => {
            let left = deadline - ctx.now;
            let total = deadline - incident.reported_at;
            if left < Duration::zero() {
                (format!("-{}", span(left)), t.bad())
            } else if left * 4 < total {
                (span(left), t.warn())
            } else {
                (span(left), t.base())
            }
        }
        Target::Deployed { at, deadline } if at <= deadline => ("met".into(), t.good()),
        Target::Deployed { .. } => ("missed".into(), t.bad()),
    }
}

/// Keeps the selected row visible: the table state for a list of `len` rows in `height` rows.
fn table_state(selected: Option<usize>, height: u16) -> TableState {
    let visible = usize::from(height.saturating_sub(3)).max(1);
    let offset = selected.map_or(0, |s| s.saturating_sub(visible - 1));
    TableState::new()
        .with_offset(offset)
        .with_selected(selected)
}

/// Draws a table whose rows were already cut to the visible window starting at `offset`.
fn draw_table(
    frame: &mut Frame,
    area: Rect,
    table: Table,
    selected: Option<usize>,
    offset: usize,
    ctx: &Ctx,
) {
    let mut state = TableState::new().with_selected(selected.map(|s| s - offset));
    frame.render_stateful_widget(
        table.row_highlight_style(ctx.theme.selected()),
        area,
        &mut state,
    );
}

pub fn queue(frame: &mut Frame, area: Rect, app: &App, ctx: &Ctx) {
    let t = ctx.theme;
    // Only the ids of the whole queue; just the visible rows are looked up and laid out.
    let list = app.queue_ids(ctx.model);
    let selected = app
        .selected_incident(ctx.model)
        .and_then(|s| list.iter().position(|id| *id == s.id));
    let block = pane_block(
        app,
        ctx,
        Pane::Queue,
        Line::from(format!("Incident queue ({})", list.len())),
    );
    if list.is_empty() {
        let text = if app.filter(Pane::Queue).is_empty() {
            "No unresolved incidents. Press n to report one."
        } else {
            "Nothing matches the filter (Esc clears it)."
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, t.dim())).block(block),
            area,
        );
        return;
    }
    let state = table_state(selected, area.height);
    let visible = usize::from(area.height.saturating_sub(3)).max(1);
    let shown: Vec<(&Incident, String, (String, Style))> = list
        .iter()
        .skip(state.offset())
        .take(visible)
        .filter_map(|id| ctx.model.incidents.get(id))
        .map(|i| (i, span(ctx.now - i.reported_at), timer(i, ctx)))
        .collect();
    // The age and timer columns are as wide as what is shown ("690d11h" in an old store).
    let age_width = shown
        .iter()
        .map(|(_, a, _)| a.len())
        .max()
        .unwrap_or(0)
        .max(6);
    let timer_width = shown
        .iter()
        .map(|(_, _, (x, _))| x.len())
        .max()
        .unwrap_or(0)
        .max(7);
    let rows: Vec<Row> = shown
        .into_iter()
        .map(|(i, age, (timer, timer_style))| {
            let glyph = match i.status {
                IncidentStatus::Open => "○",
                IncidentStatus::Qualified => "◆",
                IncidentStatus::Resolved => "✓",
            };
            Row::new(vec![
                Cell::from(i.id.to_string()),
                Cell::from(Span::styled(i.severity.as_str(), t.severity(i.severity))),
                Cell::from(glyph),
                Cell::from(Span::styled(age, t.dim())),
                Cell::from(Span::styled(timer, timer_style)),
                Cell::from(line(&i.title).into_owned()),
            ])
        })
        .collect();
    let header = Row::new(["ID", "SEV", "", "AGE", "TARGET", "TITLE"]).style(t.dim());
    // As wide as the newest (longest) id, so INC-10000 is never cut to INC-10.
    let id_width = ctx
        .model
        .incidents
        .keys()
        .next_back()
        .map_or(6, |id| id.to_string().len().max(6));
    let widths = [
        Constraint::Length(id_width as u16),
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Length(age_width as u16),
        Constraint::Length(timer_width as u16),
        Constraint::Fill(1),
    ];
    draw_table(
        frame,
        area,
        Table::new(rows, widths).header(header).block(block),
        selected,
        state.offset(),
        ctx,
    );
}

pub fn releases(frame: &mut Frame, area: Rect, app: &App, ctx: &Ctx) {
    let t = ctx.theme;
    let m = ctx.model;
    let list = app.release_ids(m);
    let current = app.current_release(m).map(|r| r.id);
    let selected = if app.context == Pane::Releases {
        current.and_then(|id| list.iter().position(|r| *r == id))
    } else {
        None
    };
    let block = pane_block(
        app,
        ctx,
        Pane::Releases,
        Line::from(format!("Release queue ({})", list.len())),
    );
    if list.is_empty() {
        let text =
            "No releases. Create a hotfix from a qualified incident (h), or plan a release (P).";
        frame.render_widget(
            Paragraph::new(Line::styled(text, t.dim()))
                .wrap(ratatui::widgets::Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    }
    let state = table_state(selected, area.height);
    let visible = usize::from(area.height.saturating_sub(3)).max(1);
    let rows: Vec<Row> = list
        .iter()
        .skip(state.offset())
        .take(visible)
        .filter_map(|id| m.releases.get(id))
        .map(|r| {
            let status = m.release_status(r);
            let sev = m.release_severity(r);
            let note = match m.held_back_by(r) {
                Some(hf) => Span::styled(format!("held back by {hf}"), t.warn()),
                None => Span::raw(line(&r.scope.summary).into_owned()),
            };
            let mut row = Row::new(vec![
                Cell::from(r.id.to_string()),
                Cell::from(sev.map_or(Span::raw("-"), |s| Span::styled(s.as_str(), t.severity(s)))),
                Cell::from(Span::styled(status.as_str(), t.release_status(status))),
                Cell::from(line(&r.scope.version).into_owned()),
                Cell::from(note),
            ]);
            if app.context == Pane::Queue && Some(r.id) == current {
                row = row.style(t.bold()); // the hotfix of the selected incident
            }
            row
        })
        .collect();
    let header = Row::new(["ID", "SEV", "STATUS", "VERSION", "SUMMARY"]).style(t.dim());
    // Hotfixes sort before regular releases, so the newest of each kind is the last of its range.
    let newest_hotfix = m
        .releases
        .range(..ReleaseId::Regular(0))
        .next_back()
        .map(|(id, _)| *id);
    let newest_regular = m.releases.keys().next_back().copied();
    let id_width = [newest_hotfix, newest_regular]
        .into_iter()
        .flatten()
        .map(|id| id.to_string().len())
        .max()
        .unwrap_or(6)
        .max(6);
    let widths = [
        Constraint::Length(id_width as u16),
        Constraint::Length(3),
        Constraint::Length(17),
        Constraint::Length(8),
        Constraint::Fill(1),
    ];
    draw_table(
        frame,
        area,
        Table::new(rows, widths).header(header).block(block),
        selected,
        state.offset(),
        ctx,
    );
}
