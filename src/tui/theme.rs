//! Every style the cockpit uses. Without colour (`NO_COLOR`), meaning is carried by modifiers
//! (bold, reversed, underline) so the selection and the gate stay visible.

use crate::state::{ReleaseStatus, Severity, TestStatus};
use ratatui::style::{Color, Modifier, Style};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

pub const AMBER: Color = Color::Rgb(255, 176, 0);

impl Theme {
    pub fn new(color: bool) -> Theme {
        Theme { color }
    }

    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    pub fn base(self) -> Style {
        Style::new()
    }

    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    pub fn bold(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn good(self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }

    pub fn bad(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn warn(self) -> Style {
        self.fg(AMBER)
    }

    pub fn accent(self) -> Style {
        self.fg(Color::Cyan)
    }

    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn border(self, focused: bool) -> Style {
        match (focused, self.color) {
            (true, true) => Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            (true, false) => Style::new().add_modifier(Modifier::BOLD),
            (false, _) => self.dim(),
        }
    }

    pub fn severity(self, s: Severity) -> Style {
        match s {
            Severity::P1 => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Severity::P2 => self.fg(AMBER).add_modifier(Modifier::BOLD),
            Severity::P3 => self.fg(Color::Cyan),
            Severity::P4 => self.dim(),
        }
    }

    pub fn test_status(self, s: TestStatus) -> Style {
        match s {
            TestStatus::Passed => self.good(),
            TestStatus::Failed => self.bad(),
            TestStatus::Running => self.fg(Color::Cyan),
            TestStatus::Pending => self.base(),
            TestStatus::Skipped => self.dim(),
        }
    }

    pub fn release_status(self, s: ReleaseStatus) -> Style {
        match s {
            ReleaseStatus::Approved | ReleaseStatus::Verified => self.good(),
            ReleaseStatus::Rejected | ReleaseStatus::RolledBack => self.bad(),
            ReleaseStatus::AwaitingApproval => self.warn(),
            ReleaseStatus::Deploying | ReleaseStatus::Deployed => {
                self.accent().add_modifier(Modifier::BOLD)
            }
            ReleaseStatus::Planned => self.base(),
            ReleaseStatus::Closed | ReleaseStatus::Cancelled => self.dim(),
        }
    }
}
