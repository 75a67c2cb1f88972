//! The header: where you are, who you are, what is on fire, and what waits on you.

use super::Ctx;
use crate::sanitize::line;
use crate::tui::app::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn render(frame: &mut Frame, area: Rect, app: &App, ctx: &Ctx) {
    let t = ctx.theme;
    let m = ctx.model;
    let summary = app.summary(m);
    let (severe, in_flight) = (summary.severe, summary.in_flight);
    let roles = if summary.roles.is_empty() {
        "no roles".to_string()
    } else {
        summary.roles.join(",")
    };
    let clock = ctx.now.format("%H:%M:%SZ").to_string();
    let [left, right] = Layout::horizontal([
        Constraint::Min(10),
        Constraint::Length(clock.len() as u16 + 1),
    ])
    .areas(area);
    let width = usize::from(left.width);
    let mut top = Line::from(vec![
        Span::styled(" hotfix ", t.bold()),
        Span::styled(if m.demo { "DEMO " } else { "" }, t.warn()),
        Span::raw("· "),
        Span::styled(line(&app.user).into_owned(), t.bold()),
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
    // The counts matter more than the list of roles: on a narrow terminal the roles go first.
    if top.width() > width {
        top.spans[4] = Span::raw(" ");
    }
    // A deploy freeze in force: regular releases wait, hotfixes go as exemptions.
    if let Some(w) = m.policy.frozen(ctx.now, &[]) {
        top.spans.insert(
            2,
            Span::styled(
                format!("FROZEN until {} ", w.until()),
                t.bad().add_modifier(ratatui::style::Modifier::REVERSED),
            ),
        );
        top.spans.insert(3, Span::raw(" "));
    }

    let second = if let Some(why) = &app.read_only {
        Line::styled(
            format!(" READ-ONLY: {}", line(why)),
            t.bad().add_modifier(ratatui::style::Modifier::REVERSED),
        )
    } else {
        let mut second =
            if summary.approvals.is_empty() && summary.tests == 0 && summary.steps.is_empty() {
                Line::styled(" Nothing waits on you.", t.dim())
            } else {
                let mut spans = vec![Span::styled(
                    " Waiting on you: ",
                    t.warn().add_modifier(ratatui::style::Modifier::BOLD),
                )];
                // Approvals first: a hotfix waits on them.
                let mut parts: Vec<String> = summary
                    .approvals
                    .iter()
                    .map(|(id, role)| format!("approve {id} as {role}"))
                    .collect();
                parts.extend(summary.steps.iter().cloned());
                if summary.tests > 0 {
                    let n = summary.tests;
                    parts.push(format!("{n} test{} you own", if n == 1 { "" } else { "s" }));
                }
                spans.push(Span::raw(parts.join(" · ")));
                Line::from(spans)
            };
        // Lines the rules refused change nothing, but everyone is told they are there.
        if let Some(last) = m.illegal.last() {
            let n = m.illegal.len();
            let banner = format!(
                " {n} REFUSED LINE{} (inert): #{} {} by {} ",
                if n == 1 { "" } else { "S" },
                last.seq,
                last.kind,
                line(&last.actor),
            );
            second.spans.insert(
                0,
                Span::styled(
                    banner,
                    t.bad().add_modifier(ratatui::style::Modifier::REVERSED),
                ),
            );
        }
        second
    };
    frame.render_widget(
        Paragraph::new(vec![super::fit(top, width), super::fit(second, width)]),
        left,
    );
    frame.render_widget(
        Paragraph::new(Line::styled(clock, t.dim())).alignment(ratatui::layout::Alignment::Right),
        right,
    );
}
