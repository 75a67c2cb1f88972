//! The command line: clap definitions, and the dispatch from a verb to a read or a command.
//! Every write verb becomes a [`Command`] and goes through the same store path as the cockpit.

mod args;
mod audit;
mod code;
mod complete;
mod output;
mod outside;
mod read;
mod remind;
mod stats;
mod write;

use crate::clock::now;
use crate::error::Error;
use crate::state::Vote;
use crate::state::{Command, Seen};
use crate::store::Location;

pub use args::{
    Cli, EditRelease, IncidentVerb, NewRelease, PolicyVerb, RecordId, ReleaseVerb, ReportFormat,
    StoreVerb, TestVerb, UserVerb, Verb,
};
pub use complete::VAR as COMPLETE_VAR;
pub use output::Out;
use std::io::IsTerminal;

/// Runs one verb to completion; no verb opens the cockpit.
pub fn run(cli: Cli) -> Result<(), Error> {
    let out = Out::new(cli.json);
    let store_flag = cli.store;
    let at = || {
        let at = crate::paths::store_location(store_flag.clone())?;
        // In team mode the database login is who acts: nobody may name themselves.
        if at.is_team() && std::env::var_os("HOTFIX_USER").is_some_and(|u| !u.is_empty()) {
            return Err(Error::Usage(
                "HOTFIX_USER cannot choose who you are in team mode: events are recorded as your database login. Unset HOTFIX_USER, and connect as yourself".into(),
            ));
        }
        Ok(at)
    };
    let Some(verb) = cli.verb else {
        return crate::tui::run(&at()?, cli.mouse);
    };
    match verb {
        Verb::Completions { shell } => complete::registration(shell)
            .map_err(|e| Error::Failed(format!("cannot print the completion script: {e}"))),
        Verb::Demo {
            incidents,
            keep,
            mouse,
        } => match store_flag.as_ref().map(Location::directory) {
            Some(None) => Err(Error::Usage(
                "the demo writes a directory store (--store DIR): it invents people, which a database store, where every event is its login's, cannot hold".into(),
            )),
            Some(Some(d)) => write::demo(&out, d, incidents),
            // On a terminal, a demo without --store opens straight in the cockpit, on a
            // temporary store removed when it exits (unless --keep).
            None if !cli.json
                && std::io::stdin().is_terminal()
                && std::io::stdout().is_terminal() =>
            {
                let d = crate::paths::fresh_demo_dir()?;
                let you = crate::paths::actor()?;
                let written = match incidents {
                    Some(n) => crate::demo::generate(&d, &you, now(), n).map(|_| ()),
                    None => crate::demo::write(&d, &you, now()).map(|_| ()),
                };
                let shown = crate::sanitize::line(&d.display().to_string()).into_owned();
                let ran = written.and_then(|()| {
                    eprintln!(
                        "hotfix: demo store in {shown} ({})",
                        if keep {
                            "kept after you quit"
                        } else {
                            "removed when you quit; --keep keeps it"
                        }
                    );
                    crate::tui::run(&Location::Directory(d.clone()), mouse || cli.mouse)
                });
                if keep {
                    eprintln!("hotfix: the demo store is kept in {shown}");
                } else if std::fs::remove_dir_all(&d).is_ok() {
                    eprintln!("hotfix: removed the demo store {shown}");
                }
                ran
            }
            None => write::demo(&out, &crate::paths::fresh_demo_dir()?, incidents),
        },
        Verb::Init => write::init(&out, &at()?),
        Verb::User(UserVerb::List) => read::users(&out, &at()?),
        Verb::Policy(PolicyVerb::Show) => read::policy(&out, &at()?),
        Verb::Incident(IncidentVerb::List { all }) => read::incidents(&out, &at()?, all),
        Verb::Incident(IncidentVerb::Show { id }) => read::incident(&out, &at()?, id),
        Verb::Release(ReleaseVerb::List { all }) => read::releases(&out, &at()?, all),
        Verb::Release(ReleaseVerb::Show { id }) => read::release(&out, &at()?, id),
        Verb::Release(ReleaseVerb::Gate { id }) => read::gate(&out, &at()?, id),
        Verb::Test(TestVerb::List { id }) => read::tests(&out, &at()?, id),
        Verb::Waiting => read::waiting(&out, &at()?),
        Verb::Remind { dry_run } => remind::remind(&out, &at()?, dry_run),
        Verb::Stats { since, service } => stats::stats(&out, &at()?, &since, service),
        Verb::Log {
            id,
            release,
            incident,
        } => {
            let (release, incident) = match id {
                Some(RecordId::Release(r)) => (Some(r), None),
                Some(RecordId::Incident(i)) => (None, Some(i)),
                None => (release, incident),
            };
            audit::log(&out, &at()?, release, incident)
        }
        Verb::Verify {
            witness,
            allowed_signers,
        } => audit::verify(&out, &at()?, witness.as_deref(), allowed_signers.as_deref()),
        Verb::User(UserVerb::Key(args::KeyVerb::Add { user, file })) => {
            let shown = crate::sanitize::line(&file.display().to_string()).into_owned();
            let bytes = crate::fsio::read_regular(&file, 64 << 10)
                .map_err(|e| Error::Usage(format!("cannot read {shown}: {e}")))?;
            write::execute(
                &out,
                &at()?,
                Command::AddKey {
                    user,
                    key: String::from_utf8_lossy(&bytes).trim().to_string(),
                },
            )
        }
        Verb::User(UserVerb::Key(args::KeyVerb::Remove { user, fingerprint })) => write::execute(
            &out,
            &at()?,
            Command::RemoveKey { user, fingerprint },
        ),
        Verb::Store(StoreVerb::Copy { from, to }) => write::copy(&out, &from, &to),
        Verb::Store(StoreVerb::Migrate) => write::migrate(&out, &at()?),
        Verb::Report { id, format, output } => {
            outside::report(&out, &at()?, id, format, output.as_deref())
        }
        Verb::Changelog {
            id,
            security,
            unreleased,
            into,
        } => outside::changelog(&out, &at()?, id, security, unreleased, into.as_deref()),
        Verb::Notify {
            id,
            stage,
            audience,
            webhook,
            print,
            output,
        } => outside::notify(
            &out,
            &at()?,
            match id {
                RecordId::Release(r) => r.into(),
                RecordId::Incident(i) => i.into(),
            },
            stage,
            audience,
            match (&output, print) {
                (_, true) => outside::Delivery::Print,
                (Some(path), false) => outside::Delivery::File(path),
                (None, false) => outside::Delivery::Webhook(webhook.as_deref()),
            },
        ),
        Verb::Test(TestVerb::Import { id, files, dry_run }) => {
            outside::import_tests(&out, &at()?, id, &files, dry_run)
        }
        Verb::Review(r) if r.summary.is_none() && r.waive.is_none() && r.done.is_none() => {
            read::review(&out, &at()?, r.id)
        }
        // Verbs that read git before they record: the code a release ships, the carry-forward.
        Verb::Release(ReleaseVerb::New(n)) => write::execute_with(&out, &at()?, |m| {
            let code = code::bind(m, &n.code, n.regular)?;
            Ok(if n.regular {
                Command::PlanRegularRelease {
                    version: n.version,
                    summary: n.summary,
                    planned_at: n.planned,
                    code,
                    artifact: n.code.artifact,
                }
            } else {
                Command::CreateHotfix {
                    incidents: n.incidents,
                    scope: crate::state::ScopeInput {
                        version: n.version,
                        summary: n.summary,
                        changes: n.changes.unwrap_or_default(),
                        risks: n.risks.unwrap_or_default(),
                        rollback: n.rollback.unwrap_or_default(),
                        code,
                        artifact: n.code.artifact,
                    },
                }
            })
        }),
        Verb::Release(ReleaseVerb::Edit(e)) => write::execute_with(&out, &at()?, |m| {
            Ok(Command::EditRelease {
                id: e.id,
                edit: crate::state::ScopeEdit {
                    code: code::bind(m, &e.code, !e.id.is_hotfix())?,
                    artifact: e.code.artifact,
                    version: e.version,
                    summary: e.summary,
                    changes: e.changes,
                    risks: e.risks,
                    rollback: e.rollback,
                    add_incidents: e.add_incidents,
                },
            })
        }),
        Verb::Release(ReleaseVerb::Close { id, repo }) => write::execute_with(&out, &at()?, |m| {
            Ok(Command::CloseRelease {
                id,
                carried_to: code::carried_to(m, id, repo.as_deref())?,
            })
        }),
        Verb::Release(ReleaseVerb::Diff { id }) => code::diff(&out, &at()?, id),
        Verb::Approve {
            id,
            break_glass: true,
            reason,
            ..
        } => write::execute(
            &out,
            &at()?,
            Command::BreakGlass {
                id,
                reason: reason.unwrap_or_default(),
            },
        ),

        Verb::Attest(a) => match a.verify {
            Some(args::AttestVerb::Verify {
                file,
                allowed_signers,
                artifact,
            }) => attest_verify(&out, &file, &allowed_signers, artifact.as_deref()),
            None => {
                let id = a
                    .id
                    .ok_or_else(|| Error::Usage("name the release: hotfix attest HF-1".into()))?;
                attest(&out, &at()?, id, a.output.as_deref())
            }
        },
        Verb::Gate(args::GateVerb::Check {
            commit,
            artifact,
            service,
        }) => {
            let ask = match (commit, artifact) {
                (Some(c), _) => code::Ask::Commit(c),
                (None, Some(a)) => code::Ask::Artifact(a),
                (None, None) => {
                    return Err(Error::Usage("give --commit SHA or --artifact DIGEST".into()));
                }
            };
            code::check(&out, &at()?, &ask, service.as_deref())
        }
        Verb::Incident(IncidentVerb::Import { file }) => {
            outside::import_alert(&out, &at()?, &file)
        }
        other => {
            let command = to_command(other)?;
            write::execute(&out, &at()?, command)
        }
    }
}

/// `hotfix attest ID`: the signed DSSE envelope of the release's decision.
fn attest(
    out: &Out,
    at: &Location,
    id: crate::state::ReleaseId,
    output: Option<&std::path::Path>,
) -> Result<(), Error> {
    let mut store = write::open(at)?;
    let actor = write::acting(&store)?;
    let head = store.log_head();
    let part = store.model_for(crate::state::archive::Record::Release(id))?;
    let m = part.as_ref().unwrap_or(&store.model);
    let statement = crate::attest::statement(m, id, &format!("{}:{}", head.seq, head.hash))?;
    let mut signer = crate::sign::signer(m, &actor)
        .map_err(Error::Refused)?
        .ok_or_else(|| {
            Error::Refused(
                "an attestation is signed with your SSH key and none is at hand: set HOTFIX_SIGNING_KEY to your private key file, put \"signing_key\" in config.json, or load it into the ssh-agent".into(),
            )
        })?;
    let envelope = crate::attest::envelope(&statement, &mut signer).map_err(Error::Refused)?;
    let text = serde_json::to_string_pretty(&envelope).map_err(|e| Error::Failed(e.to_string()))?;
    match output {
        Some(path) => {
            let shown = crate::sanitize::line(&path.display().to_string()).into_owned();
            crate::fsio::write_new_file(path, format!("{text}\n").as_bytes(), at.directory())
                .map_err(|e| Error::Failed(format!("cannot write {shown}: {e}")))?;
            out.line(&format!(
                "{} the attestation of {id} to {shown}",
                out.good("wrote")
            ));
        }
        None => out.line(&text),
    }
    Ok(())
}

/// `hotfix attest verify FILE`: exit 0 when every check holds, 3 with every failure.
fn attest_verify(
    out: &Out,
    file: &std::path::Path,
    allowed: &std::path::Path,
    artifact: Option<&str>,
) -> Result<(), Error> {
    let shown = crate::sanitize::line(&file.display().to_string()).into_owned();
    let bytes = crate::fsio::read_regular(file, 16 << 20)
        .map_err(|e| Error::Usage(format!("cannot read {shown}: {e}")))?;
    let envelope: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Usage(format!("{shown} is not JSON ({e})")))?;
    let allowed = crate::sign::AllowedSigners::read(allowed).map_err(Error::Usage)?;
    match crate::attest::verify(&envelope, &allowed, artifact) {
        Ok(good) => {
            if out.json {
                return out.json(&serde_json::json!({"ok": true, "checked": good}));
            }
            out.line(&format!("{} {shown}", out.good("verified")));
            for g in good {
                out.line(&format!("  {g}"));
            }
            Ok(())
        }
        Err(bad) => Err(Error::Refused(format!(
            "{shown} does not verify: {}",
            bad.join("; ")
        ))),
    }
}

/// Maps a write verb to the command it asks for.
fn to_command(verb: Verb) -> Result<Command, Error> {
    Ok(match verb {
        Verb::User(UserVerb::Grant { user, role }) => Command::GrantRole { user, role },
        Verb::User(UserVerb::Revoke { user, role }) => Command::RevokeRole { user, role },
        Verb::User(UserVerb::Delegate {
            user,
            to,
            role,
            until,
            end: _,
        }) => Command::Delegate {
            user,
            to,
            role,
            until,
        },
        Verb::Policy(PolicyVerb::Set { file }) => crate::load::Load::Policy(file)
            .command()?
            .command
            .ok_or_else(|| Error::Failed("the policy file holds no policy".into()))?,
        Verb::Incident(IncidentVerb::New {
            title,
            severity,
            services,
            impact,
            public,
            impact_since,
        }) => Command::ReportIncident {
            title,
            severity,
            services,
            impact,
            public,
            impact_since,
        },
        Verb::Incident(IncidentVerb::Edit {
            id,
            public,
            impact_since,
            impact_until,
        }) => Command::EditIncident {
            id,
            public,
            impact_since,
            impact_until,
        },
        Verb::Review(r) => match (r.summary, r.waive, r.done) {
            (Some(summary), _, _) => Command::RecordReview {
                id: r.id,
                review: Box::new(crate::state::review::ReviewText {
                    summary,
                    trigger: r.trigger,
                    root_cause: r.root_cause.unwrap_or_default(),
                    factors: r.factors,
                    lessons: r.lessons.join("\n"),
                    actions: r.actions,
                }),
            },
            (None, Some(reason), _) => Command::WaiveReview { id: r.id, reason },
            (None, None, Some(item)) => Command::CompleteAction { id: r.id, item },
            (None, None, None) => {
                return Err(Error::Usage(
                    "nothing to record: give --summary and --root-cause, --waive or --done".into(),
                ));
            }
        },
        Verb::Incident(IncidentVerb::Severity {
            id,
            severity,
            reason,
        }) => Command::ChangeSeverity {
            id,
            severity,
            reason,
        },
        Verb::Incident(IncidentVerb::Qualify {
            id,
            decision,
            risk,
            impact,
            rationale,
            public,
        }) => Command::QualifyIncident {
            id,
            decision,
            risk,
            impact,
            rationale,
            public,
        },
        Verb::Incident(IncidentVerb::Resolve { id, note }) => Command::ResolveIncident { id, note },
        Verb::Release(ReleaseVerb::Deploy { id }) => Command::StartDeploy { id },
        Verb::Release(ReleaseVerb::Deployed {
            id,
            commit,
            artifact,
        }) => Command::MarkDeployed {
            id,
            commit,
            artifact,
        },
        Verb::Release(ReleaseVerb::Verify { id, note }) => Command::VerifyRelease { id, note },
        Verb::Release(ReleaseVerb::Rollback { id, reason }) => Command::RollBack { id, reason },
        Verb::Release(ReleaseVerb::Cancel { id, reason }) => Command::CancelRelease { id, reason },

        Verb::Test(TestVerb::Add {
            id,
            name,
            priority,
            automated,
            owner,
        }) => Command::AddTest {
            id,
            name,
            priority,
            automated,
            owner,
        },
        Verb::Test(TestVerb::Set {
            id,
            name,
            status,
            note,
        }) => Command::SetTestStatus {
            id,
            name,
            status,
            note,
        },
        Verb::Test(TestVerb::Waive { id, name, reason }) => Command::WaiveTest { id, name, reason },
        Verb::Test(TestVerb::Remove { id, name, reason }) => {
            Command::RemoveTest { id, name, reason }
        }
        Verb::Withdraw { id, role, reason } => Command::Withdraw { id, role, reason },
        // Signed, when the policy wants it, as every command is recorded (`write::execute`).
        Verb::Approve {
            id,
            role,
            revision,
            comment,
            ..
        } => Command::Decide {
            vote: Vote::Approve,
            id,
            role,
            text: comment,
            seen: revision.map(Seen::revision),
            signature: None,
        },
        Verb::Reject {
            id,
            role,
            revision,
            reason,
        } => Command::Decide {
            vote: Vote::Reject,
            id,
            role,
            text: reason,
            seen: revision.map(Seen::revision),
            signature: None,
        },
        other => return Err(Error::Failed(format!("{other:?} is not a write verb"))),
    })
}
