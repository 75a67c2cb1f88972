//! The two lists: the incident queue and the release queue. Only visible rows are laid out.

use super::{Ctx, pane_block};
use crate::present::{span, span_short};
use crate::sanitize::line;
use crate::state::incident::Target;
use crate::state::{Incident, IncidentStatus, ReleaseId};
use crate::tui::Pane;
use crate::tui::action::Action;
use crate::tui::app::App;
use chrono::Duration;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, TableState};
use unicode_width::UnicodeWidthStr;

/// A duration as the list shows it: `3h10m`, or only its largest unit (`3h`) when `short`.
fn age(d: Duration, short: bool) -> String {
    if short { span_short(d) } else { span(d) }
}

/// The timer cell: time left (amber in the last quarter of the target), breached (red), met or missed.
fn timer(incident: &Incident, ctx: &Ctx, short: bool) -> (String, Style) {
    let t = ctx.theme;
    match incident.target(ctx.model) {
        Target::None => (String::new(), t.base()),
        Target::Running(deadline) => {
            let left = deadline - ctx.now;
            let total = deadline - incident.reported_at;
            if left < Duration::zero() {
                (format!("-{}", age(left, short)), t.bad())
            } else if left * 4 < total {
                (age(left, short), t.warn())
            } else {
                (age(left, short), t.base())
            }
        }
        Target::Deployed { at, deadline, .. } if at <= deadline => ("met".into(), t.good()),
        Target::Deployed { .. } => ("missed".into(), t.bad()),
    }
}

/// A list column: the width its widest text wants, and the least it may be cut to.
#[derive(Clone, Copy, Debug)]
struct Column {
    want: u16,
    least: u16,
}

impl Column {
    /// A column whose text is never cut (an id).
    fn never_cut(width: u16) -> Column {
        Column {
            want: width,
            least: width,
        }
    }
}

/// The widths of `columns` followed by a last column that takes what is left of `width` (one
/// space between columns). While the last would get less than `rest_least`, the column with
/// the most to spare above its least gives up one cell; so on the smallest terminal every
/// column still shows some of its text, and the ids (whose least is their want) are never cut.
fn fit_columns(columns: &[Column], rest_least: u16, width: u16) -> Vec<u16> {
    let mut widths: Vec<u16> = columns.iter().map(|c| c.want).collect();
    let spacing = u16::try_from(columns.len()).unwrap_or(u16::MAX);
    let rest = |widths: &[u16]| {
        let used = widths.iter().fold(spacing, |sum, w| sum.saturating_add(*w));
        width.saturating_sub(used)
    };
    while rest(&widths) < rest_least {
        let spare = widths
            .iter()
            .zip(columns)
            .enumerate()
            .map(|(i, (w, c))| (w.saturating_sub(c.least), i))
            .max();
        match spare {
            Some((n, i)) if n > 0 => widths[i] -= 1,
            _ => break,
        }
    }
    widths.push(rest(&widths));
    widths
}

/// Keeps the selected row visible: the table state for a list of `len` rows in `height` rows.
fn table_state(selected: Option<usize>, height: u16) -> TableState {
    let offset = super::list_offset(selected, height);
    TableState::new()
        .with_offset(offset)
        .with_selected(selected)
}

/// One row of a list: its cells (text and style) and the style of the whole row.
struct ListRow {
    cells: Vec<(String, Style)>,
    style: Style,
}

impl ListRow {
    fn new(cells: Vec<(String, Style)>) -> ListRow {
        ListRow {
            cells,
            style: Style::default(),
        }
    }
}

/// Draws rows already cut to the visible window starting at `offset`, in columns laid out as
/// ratatui's `Table` lays them out (one space between columns, no highlight symbol), with the
/// selected row highlighted. Each cell's text is written once: the `Table` widget restyled
/// every cell's whole area several times over, more than half of a 200x50 frame.
#[allow(clippy::too_many_arguments)]
fn draw_list(
    frame: &mut Frame,
    area: Rect,
    block: ratatui::widgets::Block,
    header: &[&str],
    widths: &[Constraint],
    rows: Vec<ListRow>,
    selected: Option<usize>,
    offset: usize,
    ctx: &Ctx,
) {
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let columns = ratatui::layout::Layout::horizontal(widths.iter().copied())
        .flex(ratatui::layout::Flex::Start)
        .spacing(1)
        .split(Rect::new(inner.x, 0, inner.width, 1));
    if inner.height == 0 {
        return;
    }
    let buf = frame.buffer_mut();
    let line = |y| Rect::new(inner.x, y, inner.width, 1);
    let header = header.iter().map(|h| (*h, Style::default()));
    write_row(buf, &columns, line(inner.y), header, ctx.theme.dim());
    let selected = selected.map(|s| s - offset);
    for (i, row) in rows.iter().enumerate() {
        let Some(y) = u16::try_from(i + 1)
            .ok()
            .map(|dy| inner.y + dy)
            .filter(|y| *y < inner.bottom())
        else {
            break;
        };
        let cells = row.cells.iter().map(|(t, s)| (t.as_str(), *s));
        write_row(buf, &columns, line(y), cells, row.style);
        if selected == Some(i) {
            buf.set_style(line(y), ctx.theme.selected());
        }
    }
}

/// One row: its style over the whole line, then each cell's text cut to its column.
fn write_row<'a>(
    buf: &mut ratatui::buffer::Buffer,
    columns: &[Rect],
    line: Rect,
    cells: impl Iterator<Item = (&'a str, Style)>,
    style: Style,
) {
    buf.set_style(line, style);
    for (column, (text, style)) in columns.iter().zip(cells) {
        let width = usize::from(column.width);
        if width == 0 {
            continue;
        }
        // Cut text ends with `…`, so a cut is never mistaken for the whole value.
        if text.width() > width {
            let (x, _) = buf.set_stringn(column.x, line.y, text, width - 1, style);
            buf.set_stringn(x, line.y, "…", 1, style);
        } else {
            buf.set_stringn(column.x, line.y, text, width, style);
        }
    }
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
        Line::from(if app.history {
            format!("Incidents, resolved too ({})", list.len())
        } else {
            format!("Incident queue ({})", list.len())
        }),
        area,
    );
    if list.is_empty() {
        let text = if app.filter(Pane::Queue).is_empty() {
            format!(
                "No unresolved incidents. Press {} to report one.",
                super::key(app, Pane::Queue, Action::NewIncident)
            )
        } else {
            format!(
                "Nothing matches the filter ({} clears it).",
                super::key(app, Pane::Queue, Action::Back)
            )
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, t.dim())).block(block),
            area,
        );
        return;
    }
    app.page
        .set(usize::from(area.height.saturating_sub(3)).max(1));
    let state = table_state(selected, area.height);
    let visible = usize::from(area.height.saturating_sub(3)).max(1);
    let shown: Vec<&Incident> = list
        .iter()
        .skip(state.offset())
        .take(visible)
        .filter_map(|id| ctx.model.incidents.get(id))
        .collect();
    let widest = |f: &dyn Fn(&Incident) -> String| {
        shown.iter().map(|i| f(i).len()).max().unwrap_or(0) as u16
    };
    // As wide as the newest (longest) id, so INC-10000 is never cut to INC-10.
    let id_width = ctx
        .model
        .incidents
        .keys()
        .next_back()
        .map_or(2, |id| id.to_string().len().max(2)) as u16;
    // The age and timer columns are as wide as what is shown ("690d11h" in an old store); on a
    // narrow pane they show only the largest unit ("690d"), and are cut after that.
    let column = |f: &dyn Fn(bool) -> u16, header: u16| Column {
        want: f(false).max(header),
        least: f(true).clamp(1, 4),
    };
    let ages = column(&|short| widest(&|i| age(ctx.now - i.reported_at, short)), 3);
    let timers = column(&|short| widest(&|i| timer(i, ctx, short).0), 6);
    let columns = [
        Column::never_cut(id_width),
        Column { want: 3, least: 2 },
        Column { want: 1, least: 1 },
        ages,
        timers,
    ];
    let inner = area.width.saturating_sub(2);
    let fitted = fit_columns(&columns, 8, inner);
    let short_age = fitted[3] < ages.want;
    let short_timer = fitted[4] < timers.want;
    let rows: Vec<ListRow> = shown
        .into_iter()
        .map(|i| {
            let (timer, timer_style) = timer(i, ctx, short_timer);
            let age = age(ctx.now - i.reported_at, short_age);
            let glyph = match i.status {
                IncidentStatus::Open => "○",
                IncidentStatus::Qualified => "◆",
                IncidentStatus::Resolved => "✓",
            };
            ListRow::new(vec![
                (i.id.to_string(), Style::default()),
                (i.severity.as_str().into(), t.severity(i.severity)),
                (glyph.into(), Style::default()),
                (age, t.dim()),
                (timer, timer_style),
                (line(&i.title).into_owned(), Style::default()),
            ])
        })
        .collect();
    let header = ["ID", "SEV", "", "AGE", "TARGET", "TITLE"];
    let widths: Vec<Constraint> = fitted.into_iter().map(Constraint::Length).collect();
    draw_list(
        frame,
        area,
        block,
        &header,
        &widths,
        rows,
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
        Line::from(if app.history {
            format!("Releases, every finished one too ({})", list.len())
        } else {
            format!("Release queue ({})", list.len())
        }),
        area,
    );
    if list.is_empty() {
        let text = format!(
            "No releases. Create a hotfix from a qualified incident ({}), or plan a release ({}).",
            super::key(app, Pane::Queue, Action::CreateHotfix),
            super::key(app, Pane::Releases, Action::PlanRelease)
        );
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
    let rows: Vec<ListRow> = list
        .iter()
        .skip(state.offset())
        .take(visible)
        .filter_map(|id| m.releases.get(id))
        .map(|r| {
            let status = m.release_status(r);
            let sev = m.release_severity(r);
            let note = match m.held_back_by(r) {
                Some(hf) => (format!("held back by {hf}"), t.warn()),
                None => (line(&r.scope.summary).into_owned(), Style::default()),
            };
            let mut row = ListRow::new(vec![
                (r.id.to_string(), Style::default()),
                sev.map_or(("-".into(), Style::default()), |s| {
                    (s.as_str().into(), t.severity(s))
                }),
                (status.as_str().into(), t.release_status(status)),
                (line(&r.scope.version).into_owned(), Style::default()),
                note,
            ]);
            if app.context == Pane::Queue && Some(r.id) == current {
                row.style = t.bold(); // the hotfix of the selected incident
            }
            row
        })
        .collect();
    let header = ["ID", "SEV", "STATUS", "VERSION", "SUMMARY"];
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
        .unwrap_or(2)
        .max(2) as u16;
    let columns = [
        Column::never_cut(id_width),
        Column { want: 3, least: 2 },
        Column { want: 17, least: 4 },
        Column { want: 8, least: 5 },
    ];
    let widths: Vec<Constraint> = fit_columns(&columns, 8, area.width.saturating_sub(2))
        .into_iter()
        .map(Constraint::Length)
        .collect();
    draw_list(
        frame,
        area,
        block,
        &header,
        &widths,
        rows,
        selected,
        state.offset(),
        ctx,
    );
}

#[cfg(test)]
mod tests {
    use super::{Column, fit_columns};
    use proptest::prelude::*;

    proptest! {
        /// Whatever the widths wanted, the result fills the pane exactly when it can, never
        /// cuts a column below its least, and leaves the last column its least when possible.
        #[test]
        fn columns_fit(spec in proptest::collection::vec((1u16..30, 1u16..30), 1..7), width in 0u16..300) {
            let columns: Vec<Column> = spec.iter().map(|&(a, b)| Column { want: a.max(b), least: a.min(b) }).collect();
            let widths = fit_columns(&columns, 8, width);
            prop_assert_eq!(widths.len(), columns.len() + 1);
            for (w, c) in widths.iter().zip(&columns) {
                prop_assert!(*w >= c.least && *w <= c.want);
            }
            let least: u16 = columns.iter().map(|c| c.least + 1).sum();
            let used: u16 = widths.iter().sum::<u16>() + columns.len() as u16;
            if least + 8 <= width {
                prop_assert!(widths[columns.len()] >= 8);
                prop_assert_eq!(used, width);
            }
        }
    }
}
