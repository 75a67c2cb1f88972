//! The release verbs: a release, its tests, its gate from CI and its attestation.

use super::{complete, utc};
use crate::state::{IncidentId, Priority, ReleaseId, TestStatus};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct AttestArgs {
    #[command(subcommand)]
    pub verify: Option<AttestVerb>,
    /// The release, e.g. HF-1
    #[arg(required = true, add = complete::releases())]
    pub id: Option<ReleaseId>,
    /// Write the envelope to FILE instead of printing it
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum AttestVerb {
    /// Check an attestation: its envelope signature, every approval signature, the subject
    Verify {
        /// The envelope (JSON)
        file: PathBuf,
        /// The trust root: who may sign (ssh-keygen's allowed_signers format)
        #[arg(long, value_name = "FILE")]
        allowed_signers: PathBuf,
        /// The artifact that must be its subject (sha256:...)
        #[arg(long, value_name = "DIGEST")]
        artifact: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum GateVerb {
    /// Exit 0 only when a release names exactly this commit or artifact and may deploy it
    #[command(
        after_help = "Cleared: a release whose scope names it has an open gate, or is deploying, deployed,\nverified or closed. Otherwise exit 3 with every blocker (JSON with --json); 2 on bad input.\nIt only reads.\n\nExamples:\n  hotfix gate check --commit \"$GITHUB_SHA\"\n  hotfix gate check --artifact sha256:9f86d0... --service checkout --json"
    )]
    Check {
        /// The commit about to be deployed (7 to 40 hex digits)
        #[arg(
            long,
            value_name = "SHA",
            required_unless_present = "artifact",
            conflicts_with = "artifact"
        )]
        commit: Option<String>,
        /// The artifact about to be deployed (sha256:...)
        #[arg(long, value_name = "DIGEST")]
        artifact: Option<String>,
        /// Only releases fixing an incident on this service (and regular releases)
        #[arg(long, value_name = "S")]
        service: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct NewRelease {
    /// Plan a regular release instead of a hotfix
    #[arg(long, conflicts_with_all = ["incidents", "changes", "risks", "rollback"])]
    pub regular: bool,
    /// An incident qualified `hotfix` that this fixes (repeatable)
    #[arg(
        long = "incident",
        value_name = "ID",
        required_unless_present = "regular",
        add = complete::incidents()
    )]
    pub incidents: Vec<IncidentId>,
    /// Semantic version, e.g. 4.12.1
    #[arg(long)]
    pub version: String,
    /// One line saying what it fixes
    #[arg(long)]
    pub summary: String,
    /// What the fix changes
    #[arg(long, required_unless_present = "regular")]
    pub changes: Option<String>,
    /// What could go wrong when it is deployed
    #[arg(long, required_unless_present = "regular")]
    pub risks: Option<String>,
    /// The rollback plan
    #[arg(long, required_unless_present = "regular")]
    pub rollback: Option<String>,
    /// When a regular release is planned (RFC 3339)
    #[arg(long, requires = "regular", value_name = "RFC3339", value_parser = utc)]
    pub planned: Option<chrono::DateTime<chrono::Utc>>,
    #[command(flatten)]
    pub code: CodeArgs,
}

/// The code a release ships: bound from git, approved with its diff.
#[derive(Args, Debug, Default)]
pub struct CodeArgs {
    /// The commit it ships (a branch, tag or id; resolved in --repo to the full id)
    #[arg(long, value_name = "REV")]
    pub commit: Option<String>,
    /// The git repository (default: the current directory)
    #[arg(long, value_name = "DIR", requires = "commit")]
    pub repo: Option<PathBuf>,
    /// What the commit is compared with (default: its merge base with the policy's mainline,
    /// else its parent)
    #[arg(long, value_name = "REV", requires = "commit")]
    pub base: Option<String>,
    /// The build it ships: an OCI digest, sha256: and 64 hex digits
    #[arg(long, value_name = "DIGEST")]
    pub artifact: Option<String>,
}

#[derive(Args, Debug)]
pub struct EditRelease {
    /// The release to edit, e.g. HF-1
    #[arg(add = complete::releases())]
    pub id: ReleaseId,
    #[arg(long)]
    pub version: Option<String>,
    /// A new one-line summary
    #[arg(long)]
    pub summary: Option<String>,
    /// A new description of the changes
    #[arg(long)]
    pub changes: Option<String>,
    /// A new description of the risks
    #[arg(long)]
    pub risks: Option<String>,
    /// A new rollback plan
    #[arg(long)]
    pub rollback: Option<String>,
    /// Link another qualified incident (repeatable)
    #[arg(long = "add-incident", value_name = "ID", add = complete::incidents())]
    pub add_incidents: Vec<IncidentId>,
    #[command(flatten)]
    pub code: CodeArgs,
}

#[derive(Subcommand, Debug)]
pub enum ReleaseVerb {
    /// Create a hotfix for qualified incidents, or plan a regular release with --regular
    #[command(
        after_help = "Examples:\n  hotfix release new --incident INC-1 --version 4.12.1 --summary \"Fix card token\" \\\n    --changes \"null check in adapter\" --risks \"payments path\" --rollback \"redeploy 4.12.0\"\n  hotfix release new --regular --version 4.13.0 --summary \"November release\" --planned 2026-12-01T09:00:00Z"
    )]
    New(NewRelease),
    /// Edit a release's scope; approvals given so far become stale
    #[command(
        after_help = "Example:\n  hotfix release edit HF-1 --rollback \"feature flag off, then redeploy 4.12.0\""
    )]
    Edit(EditRelease),
    /// The release queue: hotfixes first, then regular releases
    #[command(after_help = "Example:\n  hotfix release list --all")]
    List {
        /// Include closed, cancelled and rolled-back releases
        #[arg(long)]
        all: bool,
    },
    /// One release's full record: scope, approvals, tests, gate
    #[command(after_help = "Example:\n  hotfix release show HF-1 --json")]
    Show {
        /// The record to show
        #[arg(add = complete::releases())]
        id: ReleaseId,
    },
    /// What blocks the deploy (exit 0 open, 3 blocked)
    #[command(after_help = "Example:\n  hotfix release gate HF-1 && echo ready")]
    Gate {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
    },
    /// Start deploying (the gate must be open)
    #[command(after_help = "Example:\n  hotfix release deploy HF-1")]
    Deploy {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
    },
    /// Mark a deploying release deployed, naming what went out (refused unless approved)
    #[command(
        after_help = "Examples:\n  hotfix release deployed HF-1\n  hotfix release deployed HF-1 --commit \"$GITHUB_SHA\" --artifact sha256:9f86d0..."
    )]
    Deployed {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
        /// The commit that was deployed (7 to 40 hex digits): must be the approved one
        #[arg(long, value_name = "SHA")]
        commit: Option<String>,
        /// The artifact that was deployed: must be the approved digest
        #[arg(long, value_name = "DIGEST")]
        artifact: Option<String>,
    },
    /// The diff a release was approved with: files, then the hunks
    #[command(after_help = "Example:\n  hotfix release diff HF-1 | less -R")]
    Diff {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
    },
    /// Mark a deployed release verified in production
    #[command(
        after_help = "Example:\n  hotfix release verify HF-1 --note \"error rate back to baseline on the checkout dashboard\""
    )]
    Verify {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
        /// How it was verified (dashboards, synthetic checks...)
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Close a verified release; resolves its incidents
    #[command(
        after_help = "With a mainline in the policy, a hotfix with a commit closes only once its fix is on the\nmainline (as itself or as the same patch, cherry-picked), checked with git in --repo.\n\nExample:\n  hotfix release close HF-1 --repo ~/src/shop"
    )]
    Close {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
        /// The git repository to check the carry-forward in (default: the current directory)
        #[arg(long, value_name = "DIR")]
        repo: Option<PathBuf>,
    },
    /// Roll back a deploying, deployed or verified release
    #[command(
        after_help = "Example:\n  hotfix release rollback HF-1 --reason \"error rate doubled\""
    )]
    Rollback {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
        /// Why it is rolled back
        #[arg(long)]
        reason: String,
    },
    /// Cancel a release that has not started deploying
    #[command(
        after_help = "Example:\n  hotfix release cancel HF-2 --reason \"superseded by HF-3\""
    )]
    Cancel {
        /// The release, e.g. HF-2
        #[arg(add = complete::releases())]
        id: ReleaseId,
        /// Why it is cancelled
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TestVerb {
    /// Add a test to a release's list
    #[command(
        after_help = "Example:\n  hotfix test add HF-1 --name \"payments::card_e2e\" --priority critical --automated --owner quinn"
    )]
    Add {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
        /// The test's name, e.g. payments::card_e2e
        #[arg(long)]
        name: String,
        /// critical tests gate the deploy; high must pass or be waived; medium and low are deferred
        #[arg(long, value_name = "critical|high|medium|low", add = complete::words(Priority::ALL))]
        priority: Priority,
        /// Run by CI rather than by hand
        #[arg(long)]
        automated: bool,
        /// Who runs it (their login name)
        #[arg(long, add = complete::users())]
        owner: Option<String>,
    },
    /// Set a test's status
    #[command(
        after_help = "Example:\n  hotfix test set HF-1 payments::card_e2e --status passed --note \"run 8812\""
    )]
    Set {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
        /// The test's name
        #[arg(add = complete::tests())]
        name: String,
        /// The new status
        #[arg(long, value_name = "pending|running|passed|failed|skipped", add = complete::words(TestStatus::ALL))]
        status: TestStatus,
        /// Evidence for the record: a CI run, a link, what was seen
        #[arg(long)]
        note: Option<String>,
    },
    /// Waive a high, medium or low test (waiver roles only)
    #[command(
        after_help = "Example:\n  hotfix test waive HF-1 ui::receipt --reason \"cosmetic, covered by manual check\""
    )]
    Waive {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
        /// The test's name
        #[arg(add = complete::tests())]
        name: String,
        /// Why it need not pass for this hotfix
        #[arg(long)]
        reason: String,
    },
    /// Remove a test from the list before the deploy (added by mistake, misnamed)
    #[command(
        after_help = "Example:\n  hotfix test remove HF-1 \"ui::recipt\" --reason \"misspelt: added again as ui::receipt\""
    )]
    Remove {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
        /// The test's name
        #[arg(add = complete::tests())]
        name: String,
        /// Why, for the record
        #[arg(long)]
        reason: String,
    },
    /// A release's tests, critical first, failing first
    #[command(after_help = "Example:\n  hotfix test list HF-1 --json")]
    List {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
    },
    /// Import JUnit XML (cargo-nextest, pytest --junitxml, Maven Surefire): update matching tests, add new ones
    #[command(
        after_help = "Examples:\n  hotfix test import HF-1 target/nextest/ci/junit.xml --dry-run\n  hotfix test import HF-1 target/nextest/ci/junit.xml\n  hotfix test import HF-1 target/surefire-reports/TEST-*.xml"
    )]
    Import {
        /// The release whose tests the results are for, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
        /// JUnit XML files
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Show what the import would record and how the gate would stand, recording nothing
        #[arg(long)]
        dry_run: bool,
    },
}
