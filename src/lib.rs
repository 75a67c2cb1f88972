//! hotfix: run an organisation's hotfix-release process from the terminal.
//!
//! The process lives in [`state`] (pure), the event log in [`store`]; the CLI ([`cli`]) is a
//! thin shell around both.

pub mod attest;
pub mod cli;
pub mod clock;
pub mod error;
pub mod fsio;
pub mod git;

/// When the process started, for the time-to-first-frame measurement (`HOTFIX_FIRST_FRAME_LOG`).
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
pub mod demo;
pub mod import;
pub mod load;
pub mod notify;
pub mod paths;
pub mod present;
pub mod remind;
pub mod report;
pub mod sanitize;
pub mod settings;
pub mod sign;
pub mod state;
pub mod store;
pub mod tui;
pub mod witness;
