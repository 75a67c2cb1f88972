//! `hotfix remind`: the escalations due now, each claimed on the record, then sent.

use super::Out;
use super::write::{open, record};
use crate::clock::now;
use crate::error::Error;
use crate::remind::{self, Channels};
use crate::state::escalation::Due;
use crate::store::ExecError;
use serde_json::json;

/// What became of one due step.
enum Outcome {
    Sent,
    /// Another reminder claimed it first.
    Taken,
    /// Its channel is not configured here: not claimed.
    Unsendable(String),
    /// Claimed, sending failed, recorded as failed.
    Failed(String),
    /// `--dry-run`: would be sent.
    Due,
}

pub fn remind(out: &Out, at: &crate::store::Location, dry_run: bool) -> Result<(), Error> {
    let mut store = open(at)?;
    let actor = super::write::acting(&store)?;
    if !dry_run {
        store.model.may_remind(&actor)?;
    }
    let channels = Channels::configured().map_err(Error::Usage)?;
    let due = store.model.due_escalations(now());
    let mut done: Vec<(Due, Outcome)> = Vec::new();
    for d in due {
        let outgoing = remind::outgoing(&store.model, &d, &channels);
        let outcome = match outgoing {
            _ if dry_run => Outcome::Due,
            Err(why) => Outcome::Unsendable(why),
            Ok(message) => match store.execute(&actor, now(), remind::claim(&d)) {
                Err(ExecError::Refused(_)) => Outcome::Taken,
                Err(e) => return Err(e.into()),
                Ok(_) => match message.send(channels.timeout) {
                    Ok(()) => Outcome::Sent,
                    Err(e) => {
                        record(&mut store, &actor, remind::failed(&d, e.clone()))?;
                        Outcome::Failed(e)
                    }
                },
            },
        };
        done.push((d, outcome));
    }
    let problems = done
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Unsendable(_) | Outcome::Failed(_)))
        .count();
    if out.json {
        let list: Vec<_> = done
            .iter()
            .map(|(d, o)| {
                let (outcome, error) = match o {
                    Outcome::Sent => ("sent", None),
                    Outcome::Taken => ("sent by another reminder", None),
                    Outcome::Unsendable(e) => ("not sent", Some(e)),
                    Outcome::Failed(e) => ("failed", Some(e)),
                    Outcome::Due => ("due", None),
                };
                json!({"release": d.release, "role": d.role, "revision": d.revision, "step": d.step, "to": d.to, "outcome": outcome, "error": error})
            })
            .collect();
        out.json(&list)?;
    } else {
        if done.is_empty() {
            out.line("nothing is due: no approval waits past its deadline");
        }
        for (d, o) in &done {
            let what = format!(
                "{} for {} on {}{}",
                d.step,
                d.role,
                d.release,
                if d.to.is_empty() {
                    String::new()
                } else {
                    format!(" to {}", d.to.join(", "))
                }
            );
            out.line(&match o {
                Outcome::Sent => format!("{} {what}", out.good("sent")),
                Outcome::Taken => format!("{what}: already sent by another reminder"),
                Outcome::Due => format!("{} {what}", out.good("due")),
                Outcome::Unsendable(e) => format!("{} {what}: {e}", out.bad("not sent")),
                Outcome::Failed(e) => format!(
                    "{} {what}: {e} (recorded; tried again later)",
                    out.bad("failed")
                ),
            });
        }
    }
    if problems > 0 {
        return Err(Error::Failed(format!(
            "{problems} escalation{} could not be sent",
            if problems == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}
