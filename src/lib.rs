//! hotfix: run an organisation's hotfix-release process from the terminal.
//!
//! The process lives in [`state`] (pure), the event log in [`store`]; the CLI ([`cli`]) is a
//! thin shell around both.

pub mod cli;
pub mod demo;
pub mod import;
pub mod notify;
pub mod paths;
pub mod present;
pub mod report;
pub mod sanitize;
pub mod state;
pub mod store;
pub mod tui;
