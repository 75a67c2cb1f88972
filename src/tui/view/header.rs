//! The header: where you are, who you are, what is on fire, and what waits on you.

use super::Ctx;
use crate::sanitize::line;
use crate::state::{IncidentStatus, Severity};
use crate::tui::app::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn render(frame: &mut Frame, area: Rect, app: &App, ctx: &Ctx) {
    let t = ctx.theme;
    let m = ctx.model;
    let severe = m
        .incidents
        .values()
        .filter(|i| i.status != IncidentStatus::Resolved && i.severity <= Severity::P2)
        .count();
    let in_flight = m.hotfixes_in_flight().len();
    let roles = m.roles_of(&app.user);
    let roles = if roles.is_empty() {
        "no roles".to_string()
    } else {
        roles.join(",")
    };
    let clock = ctx.now.format("%H:%M:%SZ").to_string();
    let [left, right] = Layout::horizontal([
        Constraint::Min(10),
        Constraint::Length(clock.len() as u16 + 1),
    ])
    .areas(area);
    let top = Line::from(vec![
        Span::styled(" hotfix ", t.bold()),
        Span::styled(if m.demo { "DEMO " } else { "" }, t.warn()),
        Span::raw("· "),
        Span::styled(app.user.clone(), t.bold()),
        Span::styled(format!(" ({roles}) "), t.dim()),
        Span::raw("· "),
        Span::styled(
            format!("{severe} P1/P2"),
            if severe > 0 { t.bad() } else { t.base() },
        ),
        Span::raw(" · "),
        Span::styled(
            format!("{in_flight} in flight"),
            if in_flight > 0 { t.warn() } else { t.base() },
        ),
        Span::raw(" · "),
        Span::styled(line(&app.store_label).into_owned(), t.dim()),
    ]);

    let second = if let Some(why) = &app.read_only {
        Line::styled(
            format!(
                " READ-ONLY: {} (writes are refused; run `hotfix verify`)",
                line(why)
            ),
            t.bad().add_modifier(ratatui::style::Modifier::REVERSED),
        )
    } else {
        let w = m.waiting_on(&app.user);
        if w.approvals.is_empty() && w.tests.is_empty() {
            Line::styled(" Nothing waits on you.", t.dim())
        } else {
            let mut spans = vec![Span::styled(
                " Waiting on you: ",
                t.warn().add_modifier(ratatui::style::Modifier::BOLD),
            )];
            let mut parts: Vec<String> = w
                .approvals
                .iter()
                .map(|(id, role)| format!("approve {id} as {role}"))
                .collect();
            if !w.tests.is_empty() {
                let n = w.tests.len();
                parts.push(format!("{n} test{} you own", if n == 1 { "" } else { "s" }));
            }
            spans.push(Span::raw(parts.join(" · ")));
            Line::from(spans)
        }
    };
    frame.render_widget(Paragraph::new(vec![top, second]), left);
    frame.render_widget(
        Paragraph::new(Line::styled(clock, t.dim())).alignment(ratatui::layout::Alignment::Right),
        right,
    );
}
