//! The command line as clap reads it: the verbs, their arguments and help. What each verb
//! does is in `cli.rs` and the modules beside this one.

mod incident;
mod release;
pub use incident::{IncidentVerb, ReviewArgs};
pub use release::{
    AttestArgs, AttestVerb, CodeArgs, EditRelease, GateVerb, NewRelease, ReleaseVerb, TestVerb,
};

use super::complete;
use crate::state::{Audience, IncidentId, ReleaseId, Stage};
use crate::store::Location;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
The store is --store DIR, else $HOTFIX_STORE, else the user's data directory.
The actor is $HOTFIX_USER, else the OS login name.
Exit codes: 0 done; 1 error (I/O, damaged store); 2 usage; 3 refused by a rule (nothing recorded).

Example:
  hotfix demo --store /tmp/hf && hotfix --store /tmp/hf release gate HF-1";

#[derive(Parser, Debug)]
#[command(name = "hotfix", version, about = "Run the hotfix-release process from the terminal", after_help = AFTER_HELP)]
pub struct Cli {
    /// Store directory, or a database (postgresql://...) in team mode (default: $HOTFIX_STORE,
    /// else the user's data directory)
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        value_parser = location,
        help_heading = "Global options"
    )]
    pub store: Option<Location>,
    /// Print JSON on stdout; an error is then one JSON object on stderr
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,
    /// In the cockpit: a click focuses a pane and selects a row, the wheel scrolls
    #[arg(long)]
    pub mouse: bool,
    #[command(subcommand)]
    pub verb: Option<Verb>,
}

#[derive(Subcommand, Debug)]
pub enum Verb {
    /// Create a store and make the current user its admin
    #[command(after_help = "Example:\n  hotfix --store ~/hotfix init")]
    Init,
    /// Grant, revoke and list roles, and record users' SSH keys
    #[command(subcommand)]
    User(UserVerb),
    /// Show or replace the approval policy
    #[command(subcommand)]
    Policy(PolicyVerb),
    /// Report, qualify and resolve incidents
    #[command(subcommand)]
    Incident(IncidentVerb),
    /// Create, edit, gate and deploy releases
    #[command(subcommand)]
    Release(ReleaseVerb),
    /// Approve a release for a role you hold
    #[command(
        after_help = "Without --revision the current revision is approved, and the output names it. With it, the\napproval is refused (exit 3, nothing recorded) if the scope changed since you read it.\n\nExample:\n  hotfix release show HF-1            # prints the revision and the command to paste\n  hotfix approve HF-1 --revision 2 --role dev-lead --comment \"diff reviewed\""
    )]
    Approve {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
        /// The role to fill (default: the one needed role you may fill)
        #[arg(long, add = complete::roles())]
        role: Option<String>,
        /// The scope revision you reviewed (`release show` prints it); refused if it moved on
        #[arg(long, value_name = "N")]
        revision: Option<u32>,
        /// Why you approve, for the record
        #[arg(long, default_value = "")]
        comment: String,
        /// Break the glass instead (the qualifying role, not the author): with a second
        /// holder's, the gate opens without the approvals still missing, owed after the deploy
        #[arg(long, requires = "reason", conflicts_with_all = ["role", "revision", "comment"])]
        break_glass: bool,
        /// Why the glass is broken (with --break-glass)
        #[arg(long, requires = "break_glass")]
        reason: Option<String>,
    },
    /// Reject a release for a role you hold; it blocks until the release is edited
    #[command(
        after_help = "Example:\n  hotfix reject HF-1 --revision 2 --role sre-avp --reason \"rollback plan untested\""
    )]
    Reject {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
        /// The role to reject as (default: the one needed role you hold)
        #[arg(long, add = complete::roles())]
        role: Option<String>,
        /// The scope revision you reviewed; refused if it moved on
        #[arg(long, value_name = "N")]
        revision: Option<u32>,
        /// What must change before you approve
        #[arg(long)]
        reason: String,
    },
    /// Withdraw your own approval before the deploy; the role waits again
    #[command(
        after_help = "Example:\n  hotfix withdraw HF-1 --reason \"approved the wrong revision: the rollback plan changed\""
    )]
    Withdraw {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
        /// The role whose approval to withdraw (default: the one your approval fills)
        #[arg(long, add = complete::roles())]
        role: Option<String>,
        /// Why, for the record
        #[arg(long)]
        reason: String,
    },
    /// Record, show or waive an incident's post-incident review, and tick its action items
    #[command(
        after_help = "Without options the review on record is shown.\n\nExamples:\n  hotfix review INC-1 --summary \"Card payments failed for 40 minutes\" \\\n    --trigger \"deploy of 4.12.0\" --root-cause \"null token from the new adapter\" \\\n    --lesson \"canary the payments path\" --action \"add a null-token contract test|dana|2026-12-20|PAY-88\"\n  hotfix review INC-1 --done 1\n  hotfix review INC-2 --waive \"duplicate of INC-1, reviewed there\""
    )]
    Review(ReviewArgs),
    /// Export a signed in-toto attestation of a release's decision, or verify one
    #[command(
        args_conflicts_with_subcommands = true,
        subcommand_negates_reqs = true,
        after_help = "The envelope is DSSE (payloadType application/vnd.in-toto+json), signed by your SSH key\n($HOTFIX_SIGNING_KEY, \"signing_key\" in config.json, or the ssh-agent).\n\nExamples:\n  hotfix attest HF-1 --output HF-1.intoto.json\n  hotfix attest verify HF-1.intoto.json --allowed-signers allowed_signers --artifact sha256:9f86d0..."
    )]
    Attest(AttestArgs),
    /// Ask the gate from CI: may this commit or artifact be deployed? (exit 0 yes, 3 no)
    #[command(subcommand)]
    Gate(GateVerb),
    /// Add, set, waive, remove and list a release's tests
    #[command(subcommand)]
    Test(TestVerb),
    /// The complete record of a hotfix, for auditors and release managers
    #[command(
        after_help = "Examples:\n  hotfix report HF-1 --output HF-1.md\n  hotfix report HF-1 --format json | jq .target"
    )]
    Report {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
        /// md (Markdown, for people) or json (for tools)
        #[arg(long, value_enum, default_value = "md")]
        format: ReportFormat,
        /// Write to FILE instead of standard output
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// The Keep a Changelog entry for a deployed hotfix, printed or put in its place in a file
    #[command(
        after_help = "Only a hotfix that reached production (deployed, verified, closed) gets a dated entry; a rolled-back\nor cancelled one gets none. --into puts the entry in its place in a Keep a Changelog file (newest\nversion first, after [Unreleased], before the link references), replacing the file whole.\n\nExamples:\n  hotfix changelog HF-1 --into CHANGELOG.md\n  hotfix changelog HF-3 --unreleased --into CHANGELOG.md\n  hotfix changelog HF-1 --json"
    )]
    Changelog {
        /// The release, e.g. HF-1
        #[arg(add = complete::releases())]
        id: ReleaseId,
        /// File the entry under Security instead of Fixed
        #[arg(long)]
        security: bool,
        /// A hotfix not deployed yet: an item under [Unreleased], without a version or date
        #[arg(long)]
        unreleased: bool,
        /// Put the entry in its place in this Keep a Changelog file (created if missing)
        #[arg(long, value_name = "FILE")]
        into: Option<PathBuf>,
    },
    /// Print a stakeholder notice, or post it to a Slack-compatible webhook (recorded)
    #[command(
        after_help = "The webhook URL comes from --webhook, else $HOTFIX_WEBHOOK_URL, else \"webhook_url\" in\nconfig.json in the config directory ($HOTFIX_WEBHOOK_URL_USERS and \"webhook_url_users\" for end\nusers). It is a secret: hotfix never prints or logs it. End users follow a status page's stages:\ninvestigating (an incident, before its hotfix), identified (planned, deploying), monitoring\n(deployed), resolved (verified); their notices carry only the incidents' public text.\n\nExamples:\n  hotfix notify INC-3 --stage investigating --audience users --print\n  hotfix notify HF-1 --stage deploying --audience ops --print\n  hotfix notify HF-1 --stage deployed --audience users --output notice.md\n  HOTFIX_WEBHOOK_URL=https://hooks.slack.com/services/... hotfix notify HF-1 --stage deployed --audience users"
    )]
    Notify {
        /// The release (HF-1), or an incident before its hotfix (INC-3, investigating)
        #[arg(add = complete::records())]
        id: RecordId,
        /// Which stage the notice announces
        #[arg(long, value_name = "investigating|planned|deploying|deployed|resolved|rolled-back", add = complete::words(Stage::ALL))]
        stage: Stage,
        /// ops (the operations team) or users (end users)
        #[arg(long, value_name = "ops|users", default_value = "ops", add = complete::words(Audience::ALL))]
        audience: Audience,
        /// The incoming-webhook URL (prefer the environment or the config file)
        #[arg(long, value_name = "URL", conflicts_with = "print")]
        webhook: Option<String>,
        /// Print the notice instead of posting it (nothing is recorded)
        #[arg(long)]
        print: bool,
        /// Write the notice to FILE (to send by hand) instead of posting it; it is recorded as
        /// written to that file
        #[arg(long, value_name = "FILE", conflicts_with_all = ["print", "webhook"])]
        output: Option<PathBuf>,
    },
    /// Send the approval reminders, deputies' notices and pages due now (run it from cron)
    #[command(
        after_help = "A hotfix's approval that waits past the policy's approval_deadline is escalated one step per
deadline: a reminder to those who can give it (the operations webhook), then a notice to the
role's escalation deputies, then a PagerDuty page after escalation.page_after deadlines, resolved
once the approval is given. Each is claimed on the record before it is sent, so two runs at once
send it once; a failed send is recorded and tried again 5 minutes later, backing off to hourly.

Settings: HOTFIX_WEBHOOK_URL (or \"webhook_url\" in config.json); HOTFIX_PAGERDUTY_ROUTING_KEY (or
\"pagerduty_routing_key\"); HOTFIX_PAGERDUTY_URL overrides the Events API endpoint.

Examples:
  hotfix remind --dry-run
  */5 * * * *  hotfix --store /srv/hotfix remind     (crontab)"
    )]
    Remind {
        /// List what is due without sending or recording anything
        #[arg(long)]
        dry_run: bool,
    },
    /// What waits on you: approvals you can give, tests you own
    #[command(after_help = "Example:\n  HOTFIX_USER=dana hotfix waiting")]
    Waiting,
    /// How fast hotfixes move, where they wait, how often they fail: per hotfix and in aggregate
    #[command(
        after_help = "Times run from the first report of a hotfix's incidents. Medians and 90th percentiles are\nnearest-rank (always one of the measured times); hours and weekdays are UTC. A change failed\nif it was rolled back or another hotfix for the same incident or service followed within 7\ndays. --json has every figure, per hotfix too, in seconds.\n\nExamples:\n  hotfix stats\n  hotfix stats --since 2026-10-01 --service checkout\n  hotfix stats --since all --json"
    )]
    Stats {
        /// The period: hotfixes created since this (`90d`, `12w`, a date `2026-10-01`, or `all`)
        #[arg(long, default_value = "90d", value_name = "90d|DATE|all")]
        since: String,
        /// Only hotfixes fixing an incident of this service
        #[arg(long, value_name = "SERVICE")]
        service: Option<String>,
    },
    /// The audit trail, optionally for one release or incident
    #[command(after_help = "Examples:\n  hotfix log HF-1\n  hotfix log INC-4 --json")]
    Log {
        /// A release (HF-n, REL-n) or an incident (INC-n); all events without it
        #[arg(value_name = "ID", conflicts_with_all = ["release", "incident"], add = complete::records())]
        id: Option<RecordId>,
        /// The release whose trail to show
        #[arg(long, value_name = "ID", add = complete::releases())]
        release: Option<ReleaseId>,
        /// The incident whose trail to show, with its releases' events
        #[arg(long, value_name = "ID", add = complete::incidents())]
        incident: Option<IncidentId>,
    },
    /// Verify the whole event log's hash chain
    #[command(
        after_help = "Reports and notices name the log's head when they were made (SEQ:HASH). --witness checks that\nthis log still holds that event with that hash, so nothing before it was rewritten.\n\nExamples:\n  hotfix verify\n  hotfix verify --witness 57:3f2a...c9"
    )]
    Verify {
        /// An event a report or notice named, as SEQ:HASH: this log must still hold it
        #[arg(long, value_name = "SEQ:HASH")]
        witness: Option<String>,
        /// Also check every signed decision against this allowed_signers file (the format of
        /// ssh-keygen and git; default: "allowed_signers" in config.json)
        #[arg(long, value_name = "FILE")]
        allowed_signers: Option<PathBuf>,
    },
    /// Move a store: copy a directory store's history into a new database store
    #[command(subcommand)]
    Store(StoreVerb),
    /// Write a realistic demo store to explore (never overwrites)
    #[command(
        after_help = "Examples:\n  hotfix demo --store /tmp/hotfix-demo\n  hotfix demo --store /tmp/hotfix-big --incidents 10000"
    )]
    Demo {
        /// Generate a large store of N incidents (1 to 100000, about ten events each) instead of the tour
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
        incidents: Option<u64>,
        /// Keep the temporary demo store when the cockpit exits (it is removed otherwise)
        #[arg(long)]
        keep: bool,
        /// In the cockpit: a click focuses a pane and selects a row, the wheel scrolls
        #[arg(long)]
        mouse: bool,
    },
    /// Print the script that registers shell completion
    #[command(
        after_help = "Completion is dynamic: on each Tab the shell asks hotfix, which offers the words (P1, critical,\npassed...) and what is in the store now: release and incident ids, roles, users, a release's\ntests. It reads the store the command line names with --store, else $HOTFIX_STORE, else the\ndefault.\n\nExamples:\n  hotfix completions bash > ~/.local/share/bash-completion/completions/hotfix\n  echo 'source <(hotfix completions zsh)' >> ~/.zshrc\n  hotfix completions fish > ~/.config/fish/completions/hotfix.fish"
    )]
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand, Debug)]
pub enum StoreVerb {
    /// Copy a directory store's whole history, line for line, into a new database store
    #[command(
        after_help = "The directory store is verified first; the database store is created (as `hotfix init` does, by a\nlogin that may create roles and schemas) and holds the same lines, with the same hashes, which\nare verified again. Only a database without a hotfix store is accepted.\n\nExample:\n  hotfix store copy --from ~/.local/share/hotfix --to postgresql://dba@db.example/hotfix"
    )]
    Copy {
        /// The directory store to copy
        #[arg(long, value_name = "DIR", value_parser = location)]
        from: Location,
        /// The database to create the store in (postgresql://..., or host=... dbname=...)
        #[arg(long, value_name = "URL", value_parser = location)]
        to: Location,
    },
    /// Bring a database store's schema up to this hotfix's version
    #[command(
        after_help = "Applies, in one transaction under the store's lock, the schema steps a store made by an older\nhotfix lacks; events are never touched. Run it as the login that ran `hotfix init` (or any login\nthat may create roles), then upgrade every client: a hotfix refuses a schema older or newer than\nits own.\n\nExample:\n  hotfix store migrate --store postgresql://dba@db.example/hotfix"
    )]
    Migrate,
}

#[derive(Subcommand, Debug)]
pub enum UserVerb {
    /// Grant a role (admin only)
    #[command(after_help = "Example:\n  hotfix user grant dana dev-lead")]
    Grant {
        /// The user's login name (the name hotfix records them by)
        #[arg(add = complete::users())]
        user: String,
        /// The role to grant (see `hotfix policy show`)
        #[arg(add = complete::roles())]
        role: String,
    },
    /// Revoke a role (admin only)
    #[command(after_help = "Example:\n  hotfix user revoke dana dev-lead")]
    Revoke {
        /// The user's login name
        #[arg(add = complete::users())]
        user: String,
        /// The role to revoke
        #[arg(add = complete::roles())]
        role: String,
    },
    /// List users, their roles, deputies and their SSH keys' fingerprints
    #[command(after_help = "Example:\n  hotfix user list --json")]
    List,
    /// Let a deputy approve as one of USER's roles until a time (USER or an admin)
    #[command(
        after_help = "Examples:\n  hotfix user delegate carol --to pat --role prod-owner --until 2026-12-06T08:00:00Z\n  hotfix user delegate carol --to pat --role prod-owner --end\n\nThe deputy's decisions are recorded as theirs, for USER (\"pat for carol\"). It ends exactly at --until; --end ends it now."
    )]
    Delegate {
        /// The holder of the role
        #[arg(add = complete::users())]
        user: String,
        /// The deputy
        #[arg(long, add = complete::users())]
        to: String,
        /// The approving role lent
        #[arg(long, add = complete::roles())]
        role: String,
        /// When it ends (RFC 3339, at most 90 days away)
        #[arg(long, value_name = "RFC3339", value_parser = utc, required_unless_present = "end", conflicts_with = "end")]
        until: Option<chrono::DateTime<chrono::Utc>>,
        /// End the delegation now
        #[arg(long)]
        end: bool,
    },
    /// Record or remove a user's SSH public key, which their signed decisions verify against
    #[command(subcommand)]
    Key(KeyVerb),
}

#[derive(Subcommand, Debug)]
pub enum KeyVerb {
    /// Record a user's SSH public key (admin only): ed25519, ECDSA, RSA or a FIDO sk- key
    #[command(after_help = "Example:\n  hotfix user key add dana ~/keys/dana.pub")]
    Add {
        /// The user whose key it is
        #[arg(add = complete::users())]
        user: String,
        /// The OpenSSH public key file (one line, as ssh-keygen writes *.pub)
        file: PathBuf,
    },
    /// Remove a user's key by its fingerprint (admin only; `user list` shows them)
    #[command(after_help = "Example:\n  hotfix user key remove dana SHA256:abc...")]
    Remove {
        /// The user whose key it is
        #[arg(add = complete::users())]
        user: String,
        /// The key's SHA-256 fingerprint, SHA256:...
        fingerprint: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum PolicyVerb {
    /// Show the policy in force
    #[command(after_help = "Example:\n  hotfix policy show --json > policy.json")]
    Show,
    /// Replace the policy with a JSON file (admin only; validated)
    #[command(after_help = "Example:\n  hotfix policy set policy.json")]
    Set {
        /// A policy JSON file (`hotfix policy show --json` prints the one in force)
        file: PathBuf,
    },
}

/// A time as people paste it from an alert or a log: RFC 3339 with a zone (`Z` or an offset).
fn utc(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| {
            format!(
                "\"{}\" is not an RFC 3339 time with a zone, such as 2026-12-05T09:12:00Z",
                crate::sanitize::line(s)
            )
        })
}

/// A release or an incident id, for verbs that take either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordId {
    Release(ReleaseId),
    Incident(IncidentId),
}

impl std::str::FromStr for RecordId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<ReleaseId>()
            .map(RecordId::Release)
            .or_else(|_| s.parse::<IncidentId>().map(RecordId::Incident))
            .map_err(|_| {
                format!(
                    "\"{}\" is not a release (HF-1, REL-2) or an incident (INC-3) id",
                    crate::sanitize::line(s)
                )
            })
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Md,
    Json,
}

/// `--store` and its kin, read once into where a store is (never shown with its password).
fn location(raw: &str) -> Result<Location, String> {
    if raw.is_empty() {
        return Err("an empty location: give a directory, or a database (postgresql://...)".into());
    }
    Ok(Location::parse(std::path::Path::new(raw)))
}
