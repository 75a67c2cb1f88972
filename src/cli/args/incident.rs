//! The incident verbs and the post-incident review.

use super::{complete, utc};
use crate::state::{Decision, IncidentId, Risk, Severity};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum IncidentVerb {
    /// Report an incident
    #[command(
        after_help = "Example:\n  hotfix incident new --title \"Checkout 500s\" --severity P1 --service checkout --impact \"30% of orders fail\""
    )]
    New {
        /// One line naming the problem
        #[arg(long)]
        title: String,
        /// How severe: P1 is the highest; P1 and P2 may get a hotfix
        #[arg(long, value_name = "P1|P2|P3|P4", add = complete::words(Severity::ALL))]
        severity: Severity,
        /// An affected service (repeatable)
        #[arg(long = "service", value_name = "S")]
        services: Vec<String>,
        /// Who or what is affected, and how much (for the team: end users never see it)
        #[arg(long, default_value = "")]
        impact: String,
        /// What end users are told, in their words: the only incident text users notices carry
        #[arg(long, default_value = "")]
        public: String,
        /// When customer impact began (RFC 3339, e.g. 2026-12-05T09:12:00Z)
        #[arg(long, value_name = "RFC3339", value_parser = utc)]
        impact_since: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Change what end users are told, or when customer impact began and ended
    #[command(
        after_help = "Examples:\n  hotfix incident edit INC-1 --public \"Some card payments fail at checkout.\"\n  hotfix incident edit INC-1 --impact-since 2026-12-05T09:12:00Z --impact-until 2026-12-05T10:40:00Z"
    )]
    Edit {
        /// The incident, e.g. INC-1
        #[arg(add = complete::incidents())]
        id: IncidentId,
        /// What end users are told, in their words (no internal ids)
        #[arg(long)]
        public: Option<String>,
        /// When customer impact began (RFC 3339)
        #[arg(long, value_name = "RFC3339", value_parser = utc)]
        impact_since: Option<chrono::DateTime<chrono::Utc>>,
        /// When customer impact ended (RFC 3339)
        #[arg(long, value_name = "RFC3339", value_parser = utc)]
        impact_until: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Unresolved incidents, most severe then oldest first
    #[command(after_help = "Example:\n  hotfix incident list --all")]
    List {
        /// Include resolved incidents
        #[arg(long)]
        all: bool,
    },
    /// One incident's full record
    #[command(after_help = "Example:\n  hotfix incident show INC-1")]
    Show {
        /// The record to show
        #[arg(add = complete::incidents())]
        id: IncidentId,
    },
    /// Change an incident's severity, with a reason
    #[command(
        after_help = "Example:\n  hotfix incident severity INC-3 P2 --reason \"now affects all EU users\""
    )]
    Severity {
        /// The incident, e.g. INC-3
        #[arg(add = complete::incidents())]
        id: IncidentId,
        /// The new severity
        #[arg(value_name = "P1|P2|P3|P4", add = complete::words(Severity::ALL))]
        severity: Severity,
        /// Why the severity changes
        #[arg(long)]
        reason: String,
    },
    /// Qualify an incident (the policy's qualifying role, by default sre-avp)
    #[command(
        after_help = "Example:\n  hotfix incident qualify INC-1 --decision hotfix --risk low --impact \"all card payments\" --rationale \"one-line fix, revenue loss\""
    )]
    Qualify {
        /// The incident, e.g. INC-1
        #[arg(add = complete::incidents())]
        id: IncidentId,
        /// Whether it gets a hotfix, waits for a regular release, or needs nothing
        #[arg(long, value_name = "hotfix|regular-release|no-action", add = complete::words(Decision::ALL))]
        decision: Decision,
        /// The risk of the fix itself
        #[arg(long, value_name = "low|medium|high", add = complete::words(Risk::ALL))]
        risk: Risk,
        /// The impact assessment: who is affected and how
        #[arg(long)]
        impact: String,
        /// Why this decision
        #[arg(long)]
        rationale: String,
        /// What end users are told, in their words (users notices carry nothing else)
        #[arg(long, default_value = "")]
        public: String,
    },
    /// Create or update an incident from an Alertmanager or PagerDuty v3 webhook payload
    #[command(
        after_help = "Examples:\n  hotfix incident import alert.json\n  curl -s ... | hotfix incident import -"
    )]
    Import {
        /// A JSON file, or - for standard input
        #[arg(value_name = "FILE|-")]
        file: PathBuf,
    },
    /// Resolve an incident by hand
    #[command(after_help = "Example:\n  hotfix incident resolve INC-4 --note \"fixed in 4.13.0\"")]
    Resolve {
        /// The incident, e.g. INC-4
        #[arg(add = complete::incidents())]
        id: IncidentId,
        /// How it was resolved
        #[arg(long, default_value = "")]
        note: String,
    },
}

#[derive(Args, Debug)]
pub struct ReviewArgs {
    /// The incident, e.g. INC-1
    #[arg(add = complete::incidents())]
    pub id: IncidentId,
    /// What happened, in a few sentences (records or rewrites the review)
    #[arg(long, conflicts_with_all = ["waive", "done"], requires = "root_cause")]
    pub summary: Option<String>,
    /// What set it off
    #[arg(long, requires = "summary", default_value = "")]
    pub trigger: String,
    /// Why it happened
    #[arg(long, requires = "summary")]
    pub root_cause: Option<String>,
    /// What made it worse or slower to fix
    #[arg(long, requires = "summary", default_value = "")]
    pub factors: String,
    /// What was learned (repeatable)
    #[arg(long = "lesson", value_name = "TEXT", requires = "summary")]
    pub lessons: Vec<String>,
    /// An action item, WHAT|OWNER|YYYY-MM-DD[|TICKET] (repeatable)
    #[arg(
        long = "action",
        value_name = "WHAT|OWNER|DUE[|TICKET]",
        requires = "summary"
    )]
    pub actions: Vec<crate::state::review::ActionInput>,
    /// Waive the review (the qualifying role), with why
    #[arg(long, value_name = "REASON", conflicts_with = "done")]
    pub waive: Option<String>,
    /// Mark action item N done
    #[arg(long, value_name = "N")]
    pub done: Option<usize>,
}
