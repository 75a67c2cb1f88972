//! What a key means in the cockpit: a small vocabulary, separate from the process's commands.
//! Navigation actions change only the view; the others open a form that yields a `Command`.

use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Quit,
    NextPane,
    PrevPane,
    FocusQueue,
    FocusApprovals,
    FocusTests,
    FocusReleases,
    /// The Insights view: how fast hotfixes move, where they wait.
    Insights,
    Down,
    Up,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Open,
    Back,
    Filter,
    /// Show closed work in the lists too, or not.
    History,
    Help,
    NewIncident,
    Severity,
    Qualify,
    CreateHotfix,
    Resolve,
    /// What customers are told about the incident, and its impact window.
    EditIncident,
    /// The incident's post-incident review.
    Review,
    PlanRelease,
    Roles,
    Policy,
    SwitchUser,
    Approve,
    Reject,
    Edit,
    Deploy,
    Deployed,
    Verify,
    Close,
    Rollback,
    Cancel,
    AddTest,
    ImportTests,
    ImportAlert,
    Notify,
    Report,
    /// Opens the status picker; `cycle-test` is its old name, kept so old keys.json files load.
    #[serde(alias = "cycle-test")]
    SetTest,
    Waive,
    /// Withdraw your own approval of the release (before the deploy).
    Withdraw,
    /// Take the selected test off the list (before the deploy).
    RemoveTest,
    /// Break the glass on the release (a holder of the qualifying role, with a reason).
    BreakGlass,
    /// Lend an approving role to a deputy until a time.
    Delegate,
    /// Dialogs: move between fields, go on (next field, then the confirm step), confirm or
    /// dismiss from the confirm step.
    NextField,
    PrevField,
    Submit,
    Confirm,
    Dismiss,
    /// Report overlay: write the previewed report to a file.
    WriteReport,
}

impl Action {
    /// The short label shown in the footer and the help overlay.
    pub fn label(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::FocusQueue => "incident queue",
            Action::FocusApprovals => "approvals",
            Action::FocusTests => "tests",
            Action::FocusReleases => "release queue",
            Action::Insights => "insights",
            Action::Down => "down",
            Action::Up => "up",
            Action::Top => "first",
            Action::Bottom => "last",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Open => "details",
            Action::Back => "close / back",
            Action::Filter => "filter",
            Action::History => "show/hide closed work",
            Action::Help => "help",
            Action::NewIncident => "new incident",
            Action::Severity => "change severity",
            Action::Qualify => "qualify",
            Action::CreateHotfix => "create hotfix",
            Action::Resolve => "resolve",
            Action::EditIncident => "public text / impact",
            Action::Review => "post-incident review",
            Action::PlanRelease => "plan regular release",
            Action::Roles => "grant/revoke role",
            Action::Policy => "replace policy",
            Action::SwitchUser => "act as (demo)",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Edit => "edit release",
            Action::Deploy => "deploy",
            Action::Deployed => "mark deployed",
            Action::Verify => "verify",
            Action::Close => "close",
            Action::Rollback => "roll back",
            Action::Cancel => "cancel release",
            Action::AddTest => "add test",
            Action::ImportTests => "import JUnit",
            Action::ImportAlert => "import alert",
            Action::Notify => "send notice",
            Action::Report => "report",
            Action::SetTest => "set status",
            Action::Waive => "waive",
            Action::Withdraw => "withdraw approval",
            Action::RemoveTest => "remove test",
            Action::BreakGlass => "break the glass",
            Action::Delegate => "delegate a role",
            Action::NextField => "next field",
            Action::PrevField => "previous field",
            Action::Submit => "next / confirm",
            Action::Confirm => "confirm (on the confirm step)",
            Action::Dismiss => "cancel (on the confirm step)",
            Action::WriteReport => "write the report",
        }
    }

    /// How often people reach for it, most used first: the footer shows hints in this order
    /// and drops the least used whole when the line is too narrow.
    pub fn rank(self) -> usize {
        const ORDER: &[Action] = &[
            Action::Approve,
            Action::SetTest,
            Action::Submit,
            Action::NextField,
            Action::Back,
            Action::Open,
            Action::Help,
            Action::Qualify,
            Action::CreateHotfix,
            Action::Reject,
            Action::AddTest,
            Action::Deploy,
            Action::Deployed,
            Action::Verify,
            Action::Close,
            Action::Severity,
            Action::Resolve,
            Action::EditIncident,
            Action::Review,
            Action::Waive,
            Action::Withdraw,
            Action::RemoveTest,
            Action::Edit,
            Action::Report,
            Action::WriteReport,
            Action::Notify,
            Action::Filter,
            Action::History,
            Action::NewIncident,
            Action::ImportTests,
            Action::ImportAlert,
            Action::Rollback,
            Action::Cancel,
            Action::PlanRelease,
            Action::SwitchUser,
            Action::BreakGlass,
            Action::Roles,
            Action::Delegate,
            Action::Policy,
            Action::Confirm,
            Action::Dismiss,
            Action::PrevField,
            Action::Quit,
            Action::Down,
            Action::Up,
            Action::PageDown,
            Action::PageUp,
            Action::Top,
            Action::Bottom,
            Action::NextPane,
            Action::PrevPane,
            Action::FocusQueue,
            Action::FocusApprovals,
            Action::FocusTests,
            Action::FocusReleases,
            Action::Insights,
        ];
        ORDER.iter().position(|a| *a == self).unwrap_or(ORDER.len())
    }

    /// Moves and pane switches: shown in the help overlay, left out of the footer.
    pub fn is_navigation(self) -> bool {
        matches!(
            self,
            Action::NextPane
                | Action::PrevPane
                | Action::FocusQueue
                | Action::FocusApprovals
                | Action::FocusTests
                | Action::FocusReleases
                | Action::Insights
                | Action::Down
                | Action::Up
                | Action::Top
                | Action::Bottom
                | Action::PageUp
                | Action::PageDown
                | Action::Back
        )
    }
}
