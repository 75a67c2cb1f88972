//! The command line as clap reads it: the verbs, their arguments and help. What each verb
//! does is in `cli.rs` and the modules beside this one.

use super::complete;
use crate::state::{
    Audience, Decision, IncidentId, Priority, ReleaseId, Risk, Severity, Stage, TestStatus,
};
use crate::store::Location;
use clap::{Args, Parser, Subcommand};
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
send it once; a failed send is recorded and tried again 5 minutes later.

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
