//! What the cockpit works on: the store and its background check, and the effects the app
//! asks for, performed here in one place (writes, reads, imports, notices, files).

use super::{App, Check, Duration, Effect, Error, Integrity, Overlay, Store, app};
use crate::state::escalation::Due;
use std::path::Path;
use std::time::Instant;

pub(crate) fn read_only(store: &Store) -> Option<String> {
    match &store.integrity {
        Integrity::Verified | Integrity::Unchecked => None,
        Integrity::Broken { line, reason } => Some(format!(
            "line {line} of the log fails verification ({reason}) (writes are refused; run `hotfix verify`)"
        )),
    }
}

pub(crate) fn notices(app: &mut App, session: &mut Session) {
    let store = &mut *session.store;
    session.witness.follow(store);
    app.log_head = Some(store.log_head());
    for n in store.notices.drain(..) {
        tracing::warn!("notice: {n}");
        app.tell(n, true);
    }
    app.read_only = read_only(store);
}

/// Takes the background check's result; with `wait`, waits for it (writes must).
pub(crate) fn finish_check(session: &mut Session, app: &mut App, wait: bool) {
    let Some(rx) = &session.check else {
        return;
    };
    let outcome = if wait {
        rx.recv().map_err(|_| ())
    } else {
        match rx.try_recv() {
            Err(std::sync::mpsc::TryRecvError::Empty) => return,
            other => other.map_err(|_| ()),
        }
    };
    session.check = None;
    let store = &mut *session.store;
    let adopted = match outcome {
        Ok(Ok(None)) => Ok(()),
        Ok(Ok(Some(full))) => store.adopt(full).map_err(|e| e.to_string()).map(|()| {
            // (Closed work on screen stays loaded.)
            if let Some(c) = crate::settings::checkpoint_dir().filter(|_| !app.history) {
                store.release_archive(&c);
            }
        }),
        Ok(Err(e)) => Err(e.to_string()),
        Err(()) => Err("the check stopped unexpectedly".into()),
    };
    // Damage the check found ends what this user's checkpoint vouches for.
    if matches!(store.integrity, Integrity::Broken { .. })
        && let Some(c) = crate::settings::checkpoint_dir()
    {
        store.forget_checkpoint(&c);
    }
    if let Err(e) = adopted {
        // Writes stay refused: the store checks the whole log itself before the next one.
        tracing::error!("verifying the whole log failed: {e}");
        app.tell(format!("cannot verify the whole log: {e}"), true);
    }
    app.model_replaced();
    app.preview(&store.model, crate::clock::now());
    notices(app, session);
}

/// The store and the background check a cockpit works on: what [`perform`] needs.
pub struct Session<'s> {
    pub store: &'s mut Store,
    /// The whole log being verified on another thread; writes wait for it.
    pub check: Option<Check>,
    /// This user's witness, following the store as it moves on.
    witness: crate::witness::Follow,
}

impl Session<'_> {
    /// A session on a store that needs no background check (tests, a store read whole).
    pub fn new(store: &mut Store) -> Session<'_> {
        Session {
            store,
            check: None,
            witness: crate::witness::Follow::new(),
        }
    }

    /// Writes wait until the whole log is verified (well under a second).
    fn ready_to_write(&mut self, app: &mut App) {
        finish_check(self, app, true);
    }
}

/// Computes the Insights view's statistics over the last [`app::INSIGHTS_DAYS`] days, from the
/// facts the store keeps (no closed record is loaded).
pub(crate) fn insights(app: &mut App, store: &mut Store) {
    use crate::state::insights;
    let now = crate::clock::now();
    let since = Some(now - chrono::Duration::days(app::INSIGHTS_DAYS));
    match store.facts(since) {
        Ok(facts) => {
            let filter = insights::Filter {
                since,
                service: None,
            };
            let stats = insights::stats(&facts, &store.model.policy, &filter, now);
            app.set_insights(store.model.seq, stats);
        }
        Err(e) => app.tell(format!("cannot compute the insights: {e}"), true),
    }
}

/// Whether the loop goes on after an effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// Carries out what a key asked for: the one place effects happen, for the loop and the tests.
pub fn perform(effect: Effect, app: &mut App, session: &mut Session<'_>) -> Flow {
    match effect {
        Effect::None => {}
        Effect::Quit => return Flow::Quit,
        Effect::Execute(command) => execute(app, session, command),
        Effect::Load(load) => loaded(app, session, load.command()),
        Effect::LoadInsights => insights(app, session.store),
        Effect::LoadArchive => {
            let started = Instant::now();
            match session.store.load_archive() {
                Ok(()) => {
                    app.show_history(true);
                    let m = &session.store.model;
                    tracing::info!(
                        "closed records loaded in {} ms",
                        started.elapsed().as_millis()
                    );
                    app.tell(
                        format!(
                            "closed work shown too: {} incidents and {} releases in all",
                            m.incidents.len(),
                            m.releases.len()
                        ),
                        false,
                    );
                }
                Err(e) => app.tell(format!("cannot load the closed records: {e}"), true),
            }
        }
        Effect::LoadTrail => match app.trail_wanted().map_or(Ok(Vec::new()), |(r, i)| {
            session.store.trail(&session.store.model, r, i)
        }) {
            Ok(events) => app.set_trail(&events, &session.store.model),
            Err(e) => app.tell(e.to_string(), true),
        },
        Effect::Notify {
            id,
            stage,
            audience,
        } => {
            if let Some(posting) = Posting::prepare(app, session.store, id, stage, audience) {
                let outcome = crate::notify::post(&posting.url, &posting.payload, posting.timeout);
                posting.record(outcome, app, session);
            }
        }
        Effect::WriteNotice {
            id,
            stage,
            audience,
            path,
        } => {
            let head = session.store.log_head();
            let text = crate::notify::render(&session.store.model, id, stage, audience, app.clock)
                .map(|n| n.witnessed(&head))
                .map(|n| format!("{}\n\n{}\n", n.title, n.body));
            let written = text.map_err(|r| r.message).and_then(|t| {
                crate::fsio::write_new_file(
                    Path::new(&path),
                    t.as_bytes(),
                    session.store.directory(),
                )
            });
            match written {
                // Written to be sent by hand: recorded as written to that file.
                Ok(()) => execute(
                    app,
                    session,
                    crate::notify::record(
                        id,
                        stage,
                        audience,
                        crate::notify::file_channel(Path::new(&path)),
                        None,
                    ),
                ),
                Err(e) => app.tell(
                    format!("cannot write {path}: {e} (nothing was sent or recorded)"),
                    true,
                ),
            }
        }
        Effect::WriteReport { id, path } => {
            let head = session.store.log_head();
            let text = crate::report::build(&session.store.model, id, app.clock)
                .map(|r| r.witnessed(head))
                .map(|r| crate::report::markdown(&r));
            write_file(app, session.store.directory(), &path, text);
        }
    }
    notices(app, session);
    Flow::Continue
}

/// Writes a report a dialog asked for to `path` in the current directory, and says how it went.
pub(crate) fn write_file(
    app: &mut App,
    store: Option<&Path>,
    path: &str,
    text: Result<String, crate::state::Rejection>,
) {
    let written = text
        .map_err(|r| r.message)
        .and_then(|t| crate::fsio::write_new_file(Path::new(path), t.as_bytes(), store));
    match written {
        Ok(()) => app.tell(format!("wrote {path} in the current directory"), false),
        Err(e) => app.tell(format!("cannot write {path}: {e}"), true),
    }
}

/// Records what reading a file made (see [`crate::load`]), or says why nothing was.
pub(crate) fn loaded(
    app: &mut App,
    session: &mut Session<'_>,
    read: Result<crate::load::Loaded, Error>,
) {
    match read {
        Ok(loaded) => {
            match loaded.command {
                // Test results are shown before they are recorded: per tier, each failure,
                // the gate after. The confirm reads the files again and records them if they
                // still say the same.
                Some(command @ crate::state::Command::ImportTestResults { .. })
                    if app.import_read.as_ref().map(|(c, _)| c) != Some(&command) =>
                {
                    preview_import(app, session, command);
                }
                Some(command) => {
                    app.import_read = None;
                    execute(app, session, command);
                }
                None => app.tell("nothing was recorded", false),
            }
            // What the import found comes first: the outcome that follows may be long.
            if !loaded.notes.is_empty() {
                let error = app.status.as_ref().is_some_and(|s| s.error);
                let text = app
                    .status
                    .as_ref()
                    .map(|s| s.text.clone())
                    .unwrap_or_default();
                app.tell(format!("{} · {text}", loaded.notes.join(" · ")), error);
            }
        }
        Err(e) => {
            app.tell(format!("nothing was recorded: {}", e.message()), true);
            if let Overlay::Form(form) = &mut app.overlay {
                form.refused(e.message().to_string());
            }
        }
    }
}

/// Work the cockpit hands to a thread of its own, so the screen never freezes on it: files
/// read and parsed for an import (Esc stops waiting; nothing is recorded), or a notice posted
/// to the webhook (recorded, sent or not, when the post returns).
pub(crate) enum Background {
    Reading {
        result: std::sync::mpsc::Receiver<Result<crate::load::Loaded, Error>>,
        what: String,
    },
    Posting {
        result: std::sync::mpsc::Receiver<Result<(), String>>,
        posting: Posting,
    },
}

impl Background {
    pub(crate) fn read(load: crate::load::Load) -> Background {
        let (tx, rx) = std::sync::mpsc::channel();
        let what = load.describe();
        std::thread::spawn(move || {
            let _ = tx.send(load.command());
        });
        Background::Reading { result: rx, what }
    }

    pub(crate) fn post(posting: Posting) -> Background {
        let (tx, rx) = std::sync::mpsc::channel();
        let (url, payload, timeout) = (
            posting.url.clone(),
            posting.payload.clone(),
            posting.timeout,
        );
        std::thread::spawn(move || {
            let _ = tx.send(crate::notify::post(&url, &payload, timeout));
        });
        Background::Posting {
            result: rx,
            posting,
        }
    }

    /// What the status line says meanwhile.
    pub(crate) fn status(&self) -> String {
        match self {
            Background::Reading { what, .. } => {
                format!("reading… {what} (Esc stops; nothing is recorded until then)")
            }
            Background::Posting { posting, .. } => format!(
                "sending the {} notice for {}… (recorded when the webhook answers, within {} s)",
                posting.stage,
                posting.audience,
                posting.timeout.as_secs_f64()
            ),
        }
    }

    /// Finishes the job if its thread is done; `Some(self)` while it is not.
    pub(crate) fn poll(self, app: &mut App, session: &mut Session<'_>) -> Option<Background> {
        use std::sync::mpsc::TryRecvError;
        match self {
            Background::Reading { result, what } => match result.try_recv() {
                Ok(read) => {
                    loaded(app, session, read);
                    None
                }
                Err(TryRecvError::Empty) => Some(Background::Reading { result, what }),
                Err(TryRecvError::Disconnected) => {
                    app.tell("nothing was recorded: reading the file failed", true);
                    None
                }
            },
            Background::Posting { result, posting } => match result.try_recv() {
                Ok(outcome) => {
                    posting.record(outcome, app, session);
                    None
                }
                Err(TryRecvError::Empty) => Some(Background::Posting { result, posting }),
                Err(TryRecvError::Disconnected) => {
                    posting.record(Err("the post was cut short".into()), app, session);
                    None
                }
            },
        }
    }
}

/// Decides and appends a command (after the whole log is verified), then shows the outcome.
/// The log file gets the event types only: record text stays in the store.
pub(crate) fn execute(
    app: &mut App,
    session: &mut Session<'_>,
    mut command: crate::state::Command,
) {
    // Closing a hotfix with code: its fix must be on the mainline, checked with git in the
    // directory the cockpit runs in (as `hotfix release close` does without --repo).
    if let crate::state::Command::CloseRelease { id, carried_to } = &mut command
        && carried_to.is_none()
    {
        match crate::git::carry_forward(&session.store.model, *id, std::path::Path::new(".")) {
            Ok(found) => *carried_to = found,
            Err(crate::git::CarryError::Missing(why)) => {
                app.tell(format!("refused: {why}"), true);
                return;
            }
            Err(crate::git::CarryError::Git(e)) => {
                app.tell(
                    format!("refused: the carry-forward cannot be checked here: {e} (run the cockpit in the repository, or close with `hotfix release close ID --repo DIR`)"),
                    true,
                );
                return;
            }
        }
    }
    // A decision is signed when the policy wants it, as `hotfix approve` signs it.
    if let Err(why) = crate::sign::sign_command(
        &session.store.model,
        &app.user,
        crate::clock::now(),
        &mut command,
    ) {
        app.tell(format!("refused: {why}"), true);
        return;
    }
    session.ready_to_write(app);
    let outcome = session
        .store
        .execute(&app.user, crate::clock::now(), command);
    match &outcome {
        Ok(recorded) => {
            let kinds: Vec<&str> = recorded.iter().map(|r| r.event.kind()).collect();
            tracing::info!("{} recorded {}", app.user, kinds.join(", "));
        }
        Err(_) => tracing::info!("{}: a command was refused", app.user),
    }
    app.executed(outcome, &session.store.model);
}

/// Shows what importing `command` would record, in the open dialog, and waits for its confirm.
pub(crate) fn preview_import(
    app: &mut App,
    session: &mut Session<'_>,
    command: crate::state::Command,
) {
    let crate::state::Command::ImportTestResults { id, results } = &command else {
        return;
    };
    let model = &session.store.model;
    match model.preview_import(&app.user, crate::clock::now(), *id, results) {
        Ok(p) => {
            let mut lines = vec![format!(
                "read: importing would record {} event(s) in {id}",
                p.events
            )];
            lines.extend(
                p.tiers
                    .iter()
                    .map(|t| format!("{}: {}", t.priority, crate::present::tier_counts(t))),
            );

            lines.extend(
                p.failures
                    .iter()
                    .map(|f| format!("failed {} ({}; {})", f.name, f.priority, f.tier_from)),
            );
            if p.gate.ready {
                lines.push("gate afterwards: READY".to_string());
            } else {
                lines.push("gate afterwards: BLOCKED".to_string());
                lines.extend(p.gate.blockers.iter().map(|b| format!("  - {b}")));
            }
            app.import_read = Some((command, lines));
            app.preview(model, crate::clock::now());
            app.tell(
                "read: check what it would record, then confirm to record it",
                false,
            );
        }
        Err(r) => {
            app.tell(format!("nothing was recorded: {}", r.message), true);
            if let Overlay::Form(form) = &mut app.overlay {
                form.refused(r.message);
            }
        }
    }
}

/// A notice ready to post to the configured webhook (the URL is never shown).
pub(crate) struct Posting {
    id: crate::notify::Subject,
    stage: crate::state::Stage,
    audience: crate::state::Audience,
    url: String,
    payload: serde_json::Value,
    timeout: Duration,
}

impl Posting {
    /// The notice for `id` at `stage` to `audience`, or why none can be sent (said to the user).
    pub(crate) fn prepare(
        app: &mut App,
        store: &Store,
        id: crate::notify::Subject,
        stage: crate::state::Stage,
        audience: crate::state::Audience,
    ) -> Option<Posting> {
        let now = crate::clock::now();
        let head = store.log_head();
        let payload =
            match crate::notify::slack_payload(&store.model, id, stage, audience, now, &head) {
                Ok(p) => p,
                Err(r) => {
                    app.tell(r.message, true);
                    return None;
                }
            };
        let Some(url) = crate::notify::webhook_url(None, audience) else {
            let (var, key) = crate::notify::webhook_setting(audience);
            app.tell(format!("no webhook is configured for {audience}: set {var} or \"{key}\" in config.json (nothing was sent or recorded)"), true);
            return None;
        };
        let timeout = match crate::notify::timeout() {
            Ok(t) => t,
            Err(why) => {
                app.tell(format!("{why} (nothing was sent or recorded)"), true);
                return None;
            }
        };
        Some(Posting {
            id,
            stage,
            audience,
            url,
            payload,
            timeout,
        })
    }

    /// Records how the post went, sent or not.
    fn record(self, outcome: Result<(), String>, app: &mut App, session: &mut Session<'_>) {
        let Posting {
            id,
            stage,
            audience,
            ..
        } = self;
        tracing::info!(
            "{} notice {id} {stage} {audience}: {}",
            app.user,
            if outcome.is_ok() { "sent" } else { "failed" }
        );
        session.ready_to_write(app);
        let command =
            crate::notify::record(id, stage, audience, "webhook".into(), outcome.clone().err());
        let recorded = session
            .store
            .execute(&app.user, crate::clock::now(), command);
        app.executed(recorded, &session.store.model);
        if let Err(e) = outcome {
            app.tell(
                format!(
                    "the {stage} notice for {audience} was not sent: {e} (recorded as not sent)"
                ),
                true,
            );
        }
    }
}

/// The cockpit's own `hotfix remind`: while it is open, every minute, the escalations due whose
/// channel is configured are claimed on the record (as `hotfix remind` claims them, so the two
/// never send one twice) and sent on a thread of their own; a failed send is recorded when it
/// returns.
pub(crate) struct Reminders {
    channels: Option<crate::remind::Channels>,
    next: Instant,
    sending: Option<std::sync::mpsc::Receiver<Vec<Sent>>>,
}

/// A claimed escalation and how sending it went.
type Sent = (Due, Result<(), String>);

/// How often the cockpit looks for escalations due.
const REMIND_EVERY: Duration = Duration::from_secs(60);

impl Reminders {
    /// Reminders through the configured channels; none when neither the operations webhook nor
    /// PagerDuty is configured.
    pub(crate) fn configured() -> Reminders {
        Reminders {
            channels: crate::remind::Channels::configured()
                .ok()
                .filter(|c| c.webhook.is_some() || c.pagerduty.is_some()),
            // The first look once the log is verified and the screen is up.
            next: Instant::now() + Duration::from_secs(2),
            sending: None,
        }
    }

    /// Takes the sends that returned, then claims and sends what is due, if it is time.
    pub(crate) fn run(&mut self, app: &mut App, session: &mut Session<'_>) {
        if let Some(rx) = &self.sending {
            match rx.try_recv() {
                Ok(results) => {
                    self.sending = None;
                    self.finished(app, session, results);
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => return,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => self.sending = None,
            }
        }
        let time =
            Instant::now() >= self.next && session.check.is_none() && app.read_only.is_none();
        // (Cloned only when it is time: this runs on every turn of the loop.)
        let Some(channels) = self.channels.as_ref().filter(|_| time).cloned() else {
            return;
        };
        self.next = Instant::now() + REMIND_EVERY;
        let model = &session.store.model;
        if model.may_remind(&app.user).is_err() {
            return;
        }
        let mut claimed = Vec::new();
        for due in model.due_escalations(crate::clock::now()) {
            let Ok(message) = crate::remind::outgoing(&session.store.model, &due, &channels) else {
                continue; // its channel is not configured here: `hotfix remind` says so
            };
            // Refused: another reminder claimed it first.
            if session
                .store
                .execute(&app.user, crate::clock::now(), crate::remind::claim(&due))
                .is_ok()
            {
                claimed.push((due, message));
            }
        }
        if claimed.is_empty() {
            return;
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let timeout = channels.timeout;
        std::thread::spawn(move || {
            let results = claimed
                .into_iter()
                .map(|(due, message)| (due, message.send(timeout)))
                .collect();
            let _ = tx.send(results);
        });
        self.sending = Some(rx);
    }

    fn finished(&mut self, app: &mut App, session: &mut Session<'_>, results: Vec<Sent>) {
        let mut said = Vec::new();
        let mut failed = false;
        for (due, outcome) in results {
            let what = format!("{} for {} on {}", due.step, due.role, due.release);
            match outcome {
                Ok(()) => said.push(format!("sent {what}")),
                Err(e) => {
                    failed = true;
                    let command = crate::remind::failed(&due, e.clone());
                    let _ = session
                        .store
                        .execute(&app.user, crate::clock::now(), command);
                    said.push(format!("{what} not sent: {e} (tried again later)"));
                }
            }
        }
        tracing::info!("escalations: {}", said.join("; "));
        app.tell(format!("escalation: {}", said.join("; ")), failed);
    }
}
