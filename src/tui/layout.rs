//! Where each region of the main screen goes: shared by the view, which draws there, and the
//! app, which finds the pane and row under the mouse there.

use super::Pane;
use ratatui::layout::{Constraint, Layout, Rect};

/// Where each region of the main screen goes on a screen of `area`. The app uses the same
/// layout to find the pane under the mouse.
pub struct Areas {
    pub head: Rect,
    pub queue: Rect,
    pub releases: Rect,
    pub approvals: Rect,
    pub tests: Rect,
    pub foot: Rect,
}

impl Areas {
    pub fn panes(&self) -> [(Pane, Rect); 4] {
        [
            (Pane::Queue, self.queue),
            (Pane::Approvals, self.approvals),
            (Pane::Tests, self.tests),
            (Pane::Releases, self.releases),
        ]
    }
}

pub fn layout(area: Rect) -> Areas {
    let [head, body, foot] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(8),
        Constraint::Length(2),
    ])
    .areas(area);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body);
    let [queue, releases] =
        Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(left);
    let [approvals, tests] =
        Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(right);
    Areas {
        head,
        queue,
        releases,
        approvals,
        tests,
        foot,
    }
}

/// The first row a list of `height` (borders and header included) shows, so that the
/// selected row stays in view.
pub fn list_offset(selected: Option<usize>, height: u16) -> usize {
    let visible = usize::from(height.saturating_sub(3)).max(1);
    selected.map_or(0, |s| s.saturating_sub(visible - 1))
}
