//! The Insights view (`5`): are we meeting the targets, and which step is slow.
//!
//! ```text
//! ┌ Insights · last 90 days · 37 hotfixes · j/k select · Enter opens · Esc closes ─────────┐
//! │ P1 4h: 18 of 20 met (90.0%) · P2 24h: 17 of 17 met · change failure 8.6% · restore 2h  │
//! │ report to deployed, % of the target            ▌ ▌▌ █ ▌  ▌▌▌ ▌       (a bar a hotfix)   │
//! │ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ (the target)                            │
//! │ HF-12 P1 · report to deployed 3h10m of 4h (79%)                                         │
//! ├ median time per step ──────────────────────────┬ approval wait by role ─────────────────┤
//! │ ████▒▒▒▒▒▒▒▒░░░░▓▓▓▓  qualified 5m · …         │ ROLE  N  MEDIAN  P90                   │
//! │ hotfixes per week ▁▂▃▅▂▁▃                      │                                        │
//! └────────────────────────────────────────────────┴────────────────────────────────────────┘
//! ```

use super::Ctx;
use crate::state::insights::{Journey, STAGES, Stats};
use crate::tui::action::Action;
use crate::tui::app::{App, INSIGHTS_DAYS};
use crate::tui::keymap::Mode;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Chart, Clear, Dataset, GraphType, Paragraph, Row, Sparkline, Table, Wrap,
};

use crate::present::seconds as time;

/// A hotfix's report-to-deployed time (or the time so far, while it is in flight) as a percent
/// of its target; `None` without a target, or for one that finished undeployed.
fn percent_of_target(j: &Journey) -> Option<f64> {
    let target = j.target? as f64;
    let spent = j.stages[3].or(j.in_flight)?;
    Some(spent as f64 * 100.0 / target)
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, ctx: &Ctx, selected: usize) {
    let t = ctx.theme;
    frame.render_widget(Clear, area);
    let key = |a| {
        app.keymap
            .first_key(Mode::View, a)
            .unwrap_or_else(|| "-".into())
    };
    let Some((_, stats)) = &app.insights else {
        let block = Block::bordered().title(" Insights ");
        frame.render_widget(
            Paragraph::new("computing…").style(t.dim()).block(block),
            area,
        );
        return;
    };
    let title = format!(
        " Insights · last {INSIGHTS_DAYS} days · {} hotfixes · {}/{} select · {} opens · {} closes ",
        stats.hotfixes.len(),
        key(Action::Down),
        key(Action::Up),
        key(Action::Open),
        app.keymap
            .keys(Mode::View, Action::Back)
            .unwrap_or_else(|| "-".into()),
    );
    let block = Block::bordered().title(Span::styled(title, t.bold()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if stats.hotfixes.is_empty() {
        frame.render_widget(
            Paragraph::new(format!(
                "No hotfix was created in the last {INSIGHTS_DAYS} days: nothing to measure. `hotfix stats --since all` looks at the whole history."
            ))
            .wrap(Wrap { trim: true })
            .style(t.dim()),
            inner,
        );
        return;
    }
    let [summary, chart, caption, bottom] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(6),
        Constraint::Length(1),
        Constraint::Length((inner.height.saturating_sub(3) * 2 / 5).clamp(5, 12)),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(summary_lines(stats, ctx)).wrap(Wrap { trim: true }),
        summary,
    );
    bars(frame, chart, stats, ctx, selected);
    frame.render_widget(Paragraph::new(caption_line(stats, ctx, selected)), caption);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(bottom);
    steps_and_weeks(frame, left, stats, ctx);
    waits(frame, right, stats, ctx);
}

fn summary_lines<'a>(stats: &Stats, ctx: &Ctx) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let mut targets: Vec<Span> = Vec::new();
    for target in &stats.targets {
        if !targets.is_empty() {
            targets.push(Span::raw(" · "));
        }
        let text = match &target.met.percent {
            Some(p) => format!(
                "{} {}h: {} of {} met ({p})",
                target.severity, target.hours, target.met.part, target.met.whole
            ),
            None => format!("{} {}h: none due yet", target.severity, target.hours),
        };
        let style = if target.breaches.is_empty() {
            t.good()
        } else {
            t.bad()
        };
        targets.push(Span::styled(text, style));
    }
    let f = &stats.failure;
    let slowest = stats
        .steps
        .iter()
        .filter_map(|(name, m)| m.map(|m| (name, m)))
        .max_by_key(|(_, m)| *m);
    // Which step is slow comes first: it is the question this view answers at any width.
    let mut second = Vec::new();
    if let Some((name, m)) = slowest {
        second.push(Span::raw("slowest step: "));
        second.push(Span::styled(
            format!("{name} ({} median)", time(Some(m))),
            t.warn(),
        ));
        second.push(Span::raw(" · "));
    }
    second.push(Span::raw(match &f.rate.percent {
        Some(p) => format!(
            "change failure {p} ({} of {} deployed) · time to restore {} median",
            f.rate.part,
            f.rate.whole,
            time(f.time_to_restore.median)
        ),
        None => "no hotfix deployed in the period".into(),
    }));
    vec![Line::from(targets), Line::from(second)]
}

/// The hotfixes that fit in `width` columns around the selected one: (first index, count).
fn window(total: usize, width: usize, selected: usize) -> (usize, usize) {
    let n = total.min(width.max(1));
    let first = selected.saturating_sub(n / 2).min(total.saturating_sub(n));
    (first, n)
}

fn bars(frame: &mut Frame, area: Rect, stats: &Stats, ctx: &Ctx, selected: usize) {
    let t = ctx.theme;
    // A column per hotfix, after the y axis labels.
    let width = usize::from(area.width.saturating_sub(8));
    let (first, n) = window(stats.hotfixes.len(), width, selected);
    let shown = &stats.hotfixes[first..first + n];
    let mut met = Vec::new();
    let mut late = Vec::new();
    let mut flying = Vec::new();
    let mut chosen = Vec::new();
    let mut top: f64 = 150.0;
    for (i, j) in shown.iter().enumerate() {
        let Some(p) = percent_of_target(j) else {
            continue;
        };
        let point = (i as f64, p);
        top = top.max(p);
        if first + i == selected {
            chosen.push(point);
        } else if j.breached {
            late.push(point);
        } else if j.stages[3].is_none() {
            flying.push(point);
        } else {
            met.push(point);
        }
    }
    let top = top.min(1000.0);
    let target = [(0.0, 100.0), ((n.max(2) - 1) as f64, 100.0)];
    let color = |c: Color| {
        if t.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    };
    // The target first, so the bars are drawn over it; the selected bar last.
    let mut datasets = vec![
        Dataset::default()
            .graph_type(GraphType::Line)
            .marker(Marker::Braille)
            .style(t.warn())
            .data(&target),
    ];
    for (style, points) in [
        (color(Color::Green), &met),
        (color(Color::Red), &late),
        (t.warn(), &flying),
        (t.selected().patch(color(Color::Cyan)), &chosen),
    ] {
        datasets.push(
            Dataset::default()
                .graph_type(GraphType::Bar)
                .marker(Marker::HalfBlock)
                .style(style)
                .data(points),
        );
    }
    let labels = |ids: [&Journey; 2]| ids.map(|j| Span::raw(j.id.to_string()));
    let x_labels = match (shown.first(), shown.last()) {
        (Some(a), Some(b)) => labels([a, b]).to_vec(),
        _ => Vec::new(),
    };
    let chart = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .bounds([0.0, (n.max(2) - 1) as f64])
                .labels(x_labels)
                .style(t.dim()),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .labels([0.0, top / 2.0, top].map(|v| Span::raw(format!("{v:.0}%"))))
                .style(t.dim()),
        )
        .block(Block::new().title(Line::from(vec![
            Span::styled("report to deployed, as % of the target", t.dim()),
            Span::raw(" · "),
            Span::styled("⠒⠒ the target", t.warn()),
            Span::raw(" · a bar a hotfix, oldest first"),
        ])))
        .legend_position(None);
    frame.render_widget(chart, area);
}

fn caption_line<'a>(stats: &Stats, ctx: &Ctx, selected: usize) -> Line<'a> {
    let t = ctx.theme;
    let Some(j) = stats.hotfixes.get(selected) else {
        return Line::raw("");
    };
    let severity = j.severity.map_or_else(|| "-".into(), |s| s.to_string());
    let mut spans = vec![
        Span::styled(format!("{} {severity}", j.id), t.bold()),
        Span::raw(" · report to deployed "),
    ];
    match (j.stages[3], j.target) {
        (Some(d), Some(target)) => spans.push(Span::styled(
            format!(
                "{} of {} ({}%)",
                time(Some(d)),
                time(Some(target)),
                d * 100 / target.max(1)
            ),
            if j.breached { t.bad() } else { t.good() },
        )),
        (Some(d), None) => spans.push(Span::raw(time(Some(d)))),
        (None, Some(target)) if j.in_flight.is_some() => spans.push(Span::styled(
            format!(
                "in flight for {} of {}",
                time(j.in_flight),
                time(Some(target))
            ),
            if j.breached { t.bad() } else { t.warn() },
        )),
        (None, _) => spans.push(Span::raw("not deployed")),
    }
    if j.rolled_back {
        spans.push(Span::styled(" · rolled back", t.bad()));
    } else if j.followed_up {
        spans.push(Span::styled(
            " · followed by another hotfix within 7 days",
            t.warn(),
        ));
    }
    Line::from(spans)
}

/// The stacked bar of median step times, then the sparkline of hotfixes per week.
fn steps_and_weeks(frame: &mut Frame, area: Rect, stats: &Stats, ctx: &Ctx) {
    let t = ctx.theme;
    let block = Block::bordered().title(" median time per step · hotfixes per week ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [bar, legend, spark] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(
            inner
                .height
                .saturating_sub(3)
                .clamp(1, u16::try_from(STAGES.len()).unwrap_or(5)),
        ),
        Constraint::Min(2),
    ])
    .areas(inner);
    const SHADES: [(Color, char); 5] = [
        (Color::Blue, '█'),
        (Color::Magenta, '▓'),
        (Color::Yellow, '▒'),
        (Color::Cyan, '░'),
        (Color::Green, '▚'),
    ];
    let total: i64 = stats.steps.iter().filter_map(|(_, m)| *m).sum();
    let width = i64::from(bar.width);
    let mut spans = Vec::new();
    let mut legend_lines = Vec::new();
    for (i, (name, m)) in stats.steps.iter().enumerate() {
        let (color, ch) = SHADES[i % SHADES.len()];
        let style = if t.color {
            Style::new().fg(color)
        } else {
            Style::new()
        };
        let cells = match (*m, total) {
            (Some(m), total) if total > 0 => (m * width / total).max(i64::from(m > 0)),
            _ => 0,
        };
        spans.push(Span::styled(
            ch.to_string().repeat(usize::try_from(cells).unwrap_or(0)),
            style,
        ));
        legend_lines.push(Line::from(vec![
            Span::styled(format!("{ch}{ch} "), style),
            Span::raw(format!("{name}: {}", time(*m))),
        ]));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), bar);
    frame.render_widget(Paragraph::new(legend_lines), legend);
    let weeks: Vec<u64> = stats
        .weeks
        .iter()
        .rev()
        .take(usize::from(spark.width.saturating_sub(2)))
        .rev()
        .map(|w| w.hotfixes as u64)
        .collect();
    let label = match (stats.weeks.first(), stats.weeks.last()) {
        (Some(a), Some(b)) => format!("{} to {}", a.week, b.week),
        _ => String::new(),
    };
    let [spark_line, spark_label] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(spark);
    frame.render_widget(
        Sparkline::default().data(&weeks).style(t.accent()),
        spark_line,
    );
    frame.render_widget(Paragraph::new(label).style(t.dim()), spark_label);
}

fn waits(frame: &mut Frame, area: Rect, stats: &Stats, ctx: &Ctx) {
    let t = ctx.theme;
    let rows: Vec<Row> = stats
        .wait_by_role
        .iter()
        .map(|w| {
            Row::new(vec![
                crate::sanitize::line(&w.by).into_owned(),
                w.wait.count.to_string(),
                time(w.wait.median),
                time(w.wait.p90),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Min(10),
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Length(8),
        ],
    )
    .header(Row::new(vec!["ROLE", "N", "MEDIAN", "P90"]).style(t.bold()))
    .block(Block::bordered().title(" approval wait by role "));
    frame.render_widget(table, area);
}
