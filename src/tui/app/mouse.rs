//! The mouse, when it is on: a click focuses a pane and selects a row, the wheel scrolls.

use super::{
    Action, App, Effect, Model, MouseEvent, MouseEventKind, Overlay, Pane, Position, Rect,
};

impl App {
    /// A mouse event on a screen of `area` (`--mouse`): a click focuses the pane under the
    /// pointer and selects the row clicked; the wheel scrolls the pane (or view) under it.
    pub fn on_mouse(&mut self, event: MouseEvent, area: Rect, model: &Model) -> Effect {
        let at = Position::new(event.column, event.row);
        match &self.overlay {
            Overlay::Form(_) => return Effect::None,
            Overlay::Insights { .. } => {
                let action = match event.kind {
                    MouseEventKind::ScrollDown => Some(Action::Down),
                    MouseEventKind::ScrollUp => Some(Action::Up),
                    _ => None,
                };
                return self.on_insights_key(action);
            }
            Overlay::Help { .. } | Overlay::Details { .. } | Overlay::Report { .. } => {
                let action = match event.kind {
                    MouseEventKind::ScrollDown => Some(Action::Down),
                    MouseEventKind::ScrollUp => Some(Action::Up),
                    _ => None,
                };
                return self.on_view_key(action);
            }
            Overlay::None => {}
        }
        let Some((pane, rect)) = crate::tui::layout::layout(area)
            .panes()
            .into_iter()
            .find(|(_, r)| r.contains(at))
        else {
            return Effect::None;
        };
        match event.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let keep = self.focus;
                self.focus = pane;
                let delta = if event.kind == MouseEventKind::ScrollDown {
                    1
                } else {
                    -1
                };
                self.move_by(model, delta);
                self.focus = keep;
            }
            MouseEventKind::Down(_) => {
                self.focus_pane(pane);
                // Rows start under the border and the header row; the list keeps the
                // selection in view the way [`crate::tui::layout::list_offset`] says.
                let row = usize::from(event.row.saturating_sub(rect.y + 2));
                if event.row < rect.y + 2 || event.row + 1 >= rect.bottom() {
                    return Effect::None;
                }
                self.select_row(model, pane, rect.height, row);
            }
            _ => {}
        }
        Effect::None
    }

    pub(super) fn select_row(&mut self, model: &Model, pane: Pane, height: u16, row: usize) {
        /// The id on screen row `row` of a list of `height` whose selection is `current`.
        fn row_at<K: Copy + PartialEq>(
            ids: &[K],
            current: Option<K>,
            height: u16,
            row: usize,
        ) -> Option<K> {
            let at = current.and_then(|c| ids.iter().position(|x| *x == c));
            ids.get(crate::tui::layout::list_offset(at, height) + row)
                .copied()
        }
        match pane {
            Pane::Queue => {
                let current = self.selected_incident(model).map(|i| i.id);
                if let Some(id) = row_at(&self.queue_ids(model), current, height, row) {
                    self.selected_incident = Some(id);
                    self.selected_test = None;
                }
            }
            Pane::Releases => {
                let current = self.current_release(model).map(|r| r.id);
                if let Some(id) = row_at(&self.release_ids(model), current, height, row) {
                    self.selected_release = Some(id);
                    self.selected_test = None;
                }
            }
            Pane::Tests | Pane::Approvals => {}
        }
    }
}
