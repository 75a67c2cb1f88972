//! Verbs that face the outside world: the report and changelog, stakeholder notices, and imports
//! of CI test results and alerts.

use super::write::{Entry, open};
use super::{Out, ReportFormat};
use crate::clock::now;
use crate::error::Error;
use crate::load::Load;
use crate::present;
use crate::state::archive::Record;
use crate::state::{Audience, Command, ReleaseId, Stage};
use crate::store::Location;
use std::path::Path;

/// Writes `text` to `output`, or prints it.
fn emit(out: &Out, text: &str, output: Option<&Path>, store: &Location) -> Result<(), Error> {
    match output {
        None => {
            out.line(text.trim_end());
            Ok(())
        }
        Some(path) => {
            crate::fsio::write_new_file(path, text.as_bytes(), store.directory())
                .map_err(|e| Error::Failed(format!("cannot write {}: {e}", path.display())))?;
            eprintln!(
                "hotfix: wrote {}",
                crate::sanitize::line(&path.display().to_string())
            );
            Ok(())
        }
    }
}

pub fn report(
    out: &Out,
    at: &Location,
    id: ReleaseId,
    format: ReportFormat,
    output: Option<&Path>,
) -> Result<(), Error> {
    // A report costs what its record does, not what the whole history does.
    let mut store = open(at)?;
    let part = store.model_for(Record::Release(id))?;
    let model = part.as_ref().unwrap_or(&store.model);
    let report = crate::report::build(model, id, now())?.witnessed(store.log_head());
    let json = out.json || format == ReportFormat::Json;
    let text = if json {
        serde_json::to_string_pretty(&report).map_err(|e| Error::Failed(e.to_string()))? + "\n"
    } else {
        crate::report::markdown(&report)
    };
    emit(out, &text, output, at)
}

pub fn changelog(
    out: &Out,
    at: &Location,
    id: ReleaseId,
    security: bool,
    unreleased: bool,
    into: Option<&Path>,
) -> Result<(), Error> {
    use crate::report::changelog;
    let mut store = open(at)?;
    let part = store.model_for(Record::Release(id))?;
    let entry = changelog::entry(
        part.as_ref().unwrap_or(&store.model),
        id,
        security,
        unreleased,
    )?;
    let Some(path) = into else {
        if out.json {
            return out.json(&entry);
        }
        return emit(out, &entry.markdown(), None, at);
    };
    let shown = crate::sanitize::line(&path.display().to_string()).into_owned();
    let existing = match crate::fsio::read_regular(path, 64 << 20) {
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|_| Error::Failed(format!("cannot read {shown}: it is not UTF-8 text")))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::Failed(format!("cannot read {shown}: {e}"))),
    };
    let updated = changelog::insert(&existing, &entry)
        .map_err(|why| Error::Refused(format!("{shown} was left as it was: {why}")))?;
    crate::fsio::write_new_file(path, updated.as_bytes(), at.directory())
        .map_err(|e| Error::Failed(format!("cannot write {shown}: {e}")))?;
    if out.json {
        return out.json(&entry);
    }
    eprintln!(
        "hotfix: put the {id} entry in {shown} ({})",
        entry.version.as_deref().unwrap_or("Unreleased")
    );
    Ok(())
}

/// How `hotfix notify` delivers a notice.
pub enum Delivery<'a> {
    /// Printed, nothing recorded.
    Print,
    /// Written to a file to send by hand, recorded as written there.
    File(&'a Path),
    /// Posted to the webhook (this URL, else the configured one), recorded sent or not.
    Webhook(Option<&'a str>),
}

pub fn notify(
    out: &Out,
    location: &Location,
    id: crate::notify::Subject,
    stage: Stage,
    audience: Audience,
    delivery: Delivery<'_>,
) -> Result<(), Error> {
    let (output, webhook, print) = match delivery {
        Delivery::Print => (None, None, true),
        Delivery::File(path) => (Some(path), None, false),
        Delivery::Webhook(url) => (None, url, false),
    };
    let mut store = open(location)?;
    let actor = super::write::acting(&store)?;
    let at = now();
    let notice =
        crate::notify::render(&store.model, id, stage, audience, at)?.witnessed(&store.log_head());
    let channel = output.map_or_else(|| "webhook".to_string(), crate::notify::file_channel);
    // Check that the notice may be recorded before sending anything.
    let record =
        |error: Option<String>| crate::notify::record(id, stage, audience, channel.clone(), error);
    crate::state::decide(&store.model, &actor, at, record(None))?;
    if print {
        out.line(&notice.title);
        out.line("");
        out.line(&notice.body);
        return Ok(());
    }
    if let Some(path) = output {
        // Written whole (or not at all), then recorded: the file is what is sent by hand.
        let text = format!("{}\n\n{}\n", notice.title, notice.body);
        let shown = crate::sanitize::line(&path.display().to_string()).into_owned();
        crate::fsio::write_new_file(path, text.as_bytes(), location.directory()).map_err(|e| {
            Error::Failed(format!("cannot write {shown}: {e} (nothing was recorded)"))
        })?;
        let recorded = super::write::record(&mut store, &actor, record(None))?;
        if out.json {
            return out.json(&recorded.iter().map(Entry::from).collect::<Vec<_>>());
        }
        out.line(&format!(
            "{} the {stage} notice for {audience} on {id} to {shown}, and recorded it: send it by hand",
            out.good("wrote")
        ));
        return Ok(());
    }
    let Some(url) = crate::notify::webhook_url(webhook, audience) else {
        let (var, key) = crate::notify::webhook_setting(audience);
        return Err(Error::Usage(format!(
            "no webhook is configured for {audience}: pass --webhook URL, set {var}, or put \"{key}\" in config.json in the config directory; or use --print or --output FILE"
        )));
    };
    let payload =
        crate::notify::slack_payload(&store.model, id, stage, audience, at, &store.log_head())?;
    let timeout = crate::notify::timeout().map_err(Error::Usage)?;
    let outcome = crate::notify::post(&url, &payload, timeout);
    let recorded = super::write::record(&mut store, &actor, record(outcome.clone().err()))?;
    if out.json {
        out.json(&recorded.iter().map(Entry::from).collect::<Vec<_>>())?;
    }
    match outcome {
        Ok(()) => {
            if !out.json {
                out.line(&format!(
                    "{} {stage} notice for {audience} on {id}: \"{}\"",
                    out.good("sent"),
                    notice.title
                ));
            }
            Ok(())
        }
        Err(e) => Err(Error::Failed(format!(
            "the {stage} notice for {audience} on {id} was not sent: {e} (recorded as not sent)"
        ))),
    }
}

fn report_changes(
    out: &Out,
    recorded: &[crate::state::Recorded],
    nothing: &str,
) -> Result<(), Error> {
    if out.json {
        return out.json(&recorded.iter().map(Entry::from).collect::<Vec<_>>());
    }
    if recorded.is_empty() {
        out.line(nothing);
    }
    for r in recorded {
        out.line(&format!(
            "{} {}",
            out.good("recorded"),
            present::describe(r)
        ));
    }
    Ok(())
}

pub fn import_tests(
    out: &Out,
    at: &Location,
    id: ReleaseId,
    files: &[std::path::PathBuf],
    dry_run: bool,
) -> Result<(), Error> {
    let actor = crate::paths::actor()?;
    // Parse every file first: a bad one changes nothing.
    let loaded = Load::TestResults(id, files.to_vec()).command()?;
    tell_notes(&loaded.notes);
    let Some(command) = loaded.command else {
        return Ok(());
    };
    if dry_run {
        let Command::ImportTestResults { results, .. } = &command else {
            return Ok(());
        };
        let store = open(at)?;
        let actor = super::write::acting(&store)?;
        let preview = store.model.preview_import(&actor, now(), id, results)?;
        return print_preview(out, id, &preview);
    }
    // (A test import's command is always ImportTestResults.)
    let count = if let Command::ImportTestResults { results, .. } = &command {
        results.len()
    } else {
        0
    };
    let mut store = open(at)?;
    let recorded = super::write::record(&mut store, &actor, command)?;
    report_changes(
        out,
        &recorded,
        &format!("no changes: the {count} results match what {id} records"),
    )
}

/// An import's preview (`--dry-run`): per tier, each failure by name, the gate afterwards.
fn print_preview(
    out: &Out,
    id: ReleaseId,
    p: &crate::state::imports::ImportPreview,
) -> Result<(), Error> {
    if out.json {
        return out.json(p);
    }
    out.line(&format!(
        "dry run: nothing was recorded; importing would record {} event(s) in {id}",
        p.events
    ));
    for t in &p.tiers {
        out.line(&format!(
            "  {:<8} {}",
            t.priority.to_string(),
            present::tier_counts(t)
        ));
    }
    for f in &p.failures {
        out.line(&format!(
            "  {} {} ({}; {})",
            out.bad("failed"),
            crate::sanitize::line(&f.name),
            f.priority,
            crate::sanitize::line(&f.tier_from)
        ));
    }
    if p.gate.ready {
        out.line(&format!("gate afterwards: {}", out.good("READY")));
    } else {
        out.line(&format!("gate afterwards: {}", out.bad("BLOCKED")));
        for b in &p.gate.blockers {
            out.line(&format!("  - {}", crate::sanitize::line(b)));
        }
    }
    Ok(())
}

/// What reading an import found that the user should know (on stderr, escaped).
fn tell_notes(notes: &[String]) {
    for n in notes {
        eprintln!("hotfix: note: {}", crate::sanitize::line(n));
    }
}

pub fn import_alert(out: &Out, at: &Location, file: &Path) -> Result<(), Error> {
    let actor = crate::paths::actor()?;
    let loaded = Load::Alert(file.to_path_buf()).command()?;
    tell_notes(&loaded.notes);
    let Some(command) = loaded.command else {
        if out.json {
            out.json(&Vec::<serde_json::Value>::new())?;
        }
        return Ok(()); // nothing to record: said in the note
    };
    let mut store = open(at)?;
    let recorded = super::write::record(&mut store, &actor, command)?;
    report_changes(
        out,
        &recorded,
        "no changes: the alert matches what is recorded",
    )
}
