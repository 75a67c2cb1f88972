//! The cockpit: the terminal loop. Draw at once, then: read a key, map it to an action, let the
//! app turn it into a command, decide and append it through the store, fold, redraw. Other
//! processes' appends are picked up within half a second without a key press.

pub mod action;
pub mod app;
pub mod form;
pub mod keymap;
pub mod layout;
pub mod theme;
pub mod view;

use crate::error::Error;
use crate::store::{Check, For, Integrity, Location, Store, StoreError};
use app::{App, Effect, Overlay};
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyCode, KeyEventKind,
};
use ratatui::crossterm::execute;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The cockpit's panes, in Tab order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pane {
    Queue,
    Approvals,
    Tests,
    Releases,
}

/// How often the store is re-read for other processes' events.
const REFRESH: Duration = Duration::from_millis(500);

/// Restores the terminal however the loop ends (return, error, or a signal that ended the loop).
struct TerminalGuard {
    mouse: bool,
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if self.mouse {
            let _ = execute!(std::io::stdout(), DisableMouseCapture);
        }
        let _ = execute!(std::io::stdout(), ratatui::crossterm::cursor::Show);
        ratatui::restore();
    }
}

/// Appends a line to the cockpit's log file in the state directory; the screen never shows logs.
/// Starts the cockpit's diagnostic log: `hotfix.log` in the user's state directory, owner-only,
/// written through `tracing`. It names users, ids, verbs and event types, never record text
/// (titles, comments, reasons), which stays in the store.
fn start_log() {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let Some(dir) = crate::settings::state_dir() else {
        return;
    };
    if std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .is_err()
    {
        return;
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(dir.join("hotfix.log"))
    else {
        return;
    };
    // A log made by an older hotfix may be world-readable.
    let _ = file.set_permissions(std::fs::Permissions::from_mode(0o600));
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_target(false)
        .finish();
    let _ = tracing::subscriber::set_global_default(subscriber);
}

fn io_error(e: std::io::Error) -> Error {
    Error::Failed(format!("terminal error: {e}"))
}

/// Opens the cockpit on the store at `at`, offering to create one (or a demo) when none exists.
pub fn run(at: &Location, mouse: bool) -> Result<(), Error> {
    start_log();
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(Error::Usage(
            "the cockpit needs a terminal (stdin and stdout are not both one); use a verb such as `hotfix incident list`, see `hotfix --help`".into(),
        ));
    }
    let user = crate::paths::actor()?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
    ] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(io_error)?;
    }
    let mut terminal = ratatui::try_init().map_err(io_error)?;
    let guard = TerminalGuard { mouse };
    if mouse {
        execute!(std::io::stdout(), EnableMouseCapture).map_err(io_error)?;
    }
    let checkpoints = crate::settings::checkpoint_dir();
    let opened = Store::open(
        at,
        For::Cockpit {
            checkpoints: checkpoints.as_deref(),
            now: crate::clock::now(),
        },
    );
    let store = match (opened, at) {
        (Ok(store), _) => Some(store),
        // A database gets its store from `hotfix init` (it needs a login that may create roles).
        (Err(StoreError::Missing(_)), Location::Database(_)) => {
            drop(guard);
            return Err(Error::Failed(format!(
                "no hotfix store in the database {at}: run `hotfix init --store ...` as a login that may create roles and schemas (see the README's Team mode)"
            )));
        }
        (Err(StoreError::Missing(_)), Location::Directory(dir)) => {
            start_screen(&mut terminal, dir, &user, &stop)?
        }
        (Err(e), _) => return Err(e.into()),
    };
    let Some(mut store) = store else {
        return Ok(());
    };
    let (keymap, warning) = keymap::Keymap::load();
    let label = store.label();
    // In team mode the cockpit acts as the database login, whatever the OS user is called.
    let user = store.login().map_or(user, str::to_string);
    let mut app = App::new(&user, &label, keymap);
    if let Some(w) = warning {
        app.tell(w, true);
    }
    app.webhook = crate::notify::webhook_url(None).is_some();
    let mut session = Session::new(&mut store);
    let result = event_loop(&mut terminal, &mut app, &mut session, &stop);
    drop(guard);
    if let Err(e) = &result {
        tracing::error!("{e}");
    }
    result
}

fn read_only(store: &Store) -> Option<String> {
    match &store.integrity {
        Integrity::Verified | Integrity::Unchecked => None,
        Integrity::Broken { line, reason } => Some(format!(
            "line {line} of the log fails verification ({reason}) (writes are refused; run `hotfix verify`)"
        )),
    }
}

fn notices(app: &mut App, session: &mut Session) {
    let store = &mut *session.store;
    session.witness.follow(store);
    app.log_head = Some(store.log_head());
    for n in store.notices.drain(..) {
        tracing::warn!("notice: {n}");
        app.tell(n, true);
    }
    app.read_only = read_only(store);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Input {
    Ready,
    Idle,
    /// The terminal hung up (its window closed, its tmux session killed).
    Gone,
    /// Another client committed (team mode): re-read the store now.
    Changed,
}

/// Waits up to `timeout` for input. crossterm's own timed poll spins at full CPU once the
/// terminal hangs up (it keeps reading end-of-file and never times out), so the wait is a plain
/// poll(2) on stdin, which also reports the hang-up; crossterm then reads what is there.
fn wait_for_input(
    timeout: Duration,
    watch: Option<&std::os::unix::net::UnixStream>,
) -> Result<Input, Error> {
    use std::os::fd::AsRawFd;
    // Events crossterm already read and buffered come first.
    if event::poll(Duration::ZERO).map_err(io_error)? {
        return Ok(Input::Ready);
    }
    let mut fds = [
        libc::pollfd {
            fd: 0,
            events: libc::POLLIN,
            revents: 0,
        },
        // Another client's commit (team mode), or nothing (-1 is ignored by poll).
        libc::pollfd {
            fd: watch.map_or(-1, AsRawFd::as_raw_fd),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    let millis = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: `fds` is a valid array of two pollfds for the duration of the call.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, millis) };
    if n < 0 {
        return Ok(Input::Idle); // interrupted by a signal: the caller checks the stop flag
    }
    if fds[0].revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
        return Ok(Input::Gone);
    }
    if fds[1].revents & libc::POLLIN != 0
        && let Some(mut w) = watch
    {
        // Drain what arrived: one re-read covers every commit so far.
        let mut buf = [0u8; 256];
        let _ = w.set_nonblocking(true);
        while matches!(std::io::Read::read(&mut w, &mut buf), Ok(n) if n > 0) {}
        return Ok(Input::Changed);
    }
    if n == 0 || fds[0].revents & libc::POLLIN == 0 {
        return Ok(Input::Idle);
    }
    Ok(if event::poll(Duration::ZERO).map_err(io_error)? {
        Input::Ready
    } else {
        Input::Idle
    })
}

fn draw(
    terminal: &mut ratatui::DefaultTerminal,
    app: &App,
    store: &Store,
    now: chrono::DateTime<chrono::Utc>,
    theme: theme::Theme,
) -> Result<(), Error> {
    terminal
        .draw(|frame| {
            // Lets the end-to-end tests check that a panic mid-render restores the terminal.
            #[cfg(debug_assertions)]
            if std::env::var_os("HOTFIX_DEBUG_PANIC_IN_RENDER").is_some() {
                panic!("HOTFIX_DEBUG_PANIC_IN_RENDER is set: panicking mid-render as asked");
            }
            view::render(
                frame,
                app,
                &view::Ctx {
                    model: &store.model,
                    now,
                    theme,
                },
            );
        })
        .map(|_| ())
        .map_err(io_error)
}

/// Takes the background check's result; with `wait`, waits for it (writes must).
fn finish_check(session: &mut Session, app: &mut App, wait: bool) {
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
fn insights(app: &mut App, store: &mut Store) {
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
                    crate::state::Command::RecordNotice {
                        id,
                        stage,
                        audience,
                        channel: crate::notify::file_channel(Path::new(&path)),
                        error: None,
                    },
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
fn write_file(
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
fn loaded(app: &mut App, session: &mut Session<'_>, read: Result<crate::load::Loaded, Error>) {
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
enum Background {
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
    fn read(load: crate::load::Load) -> Background {
        let (tx, rx) = std::sync::mpsc::channel();
        let what = load.describe();
        std::thread::spawn(move || {
            let _ = tx.send(load.command());
        });
        Background::Reading { result: rx, what }
    }

    fn post(posting: Posting) -> Background {
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
    fn status(&self) -> String {
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
    fn poll(self, app: &mut App, session: &mut Session<'_>) -> Option<Background> {
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
fn execute(app: &mut App, session: &mut Session<'_>, command: crate::state::Command) {
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

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    session: &mut Session<'_>,
    stop: &AtomicBool,
) -> Result<(), Error> {
    let theme = theme::Theme::new(std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()));
    notices(app, session);
    let mut last_refresh = Instant::now();
    // Team mode: commits anywhere wake the loop at once; the timer still re-reads as a fallback.
    let watch = session.store.watch();
    let mut offline = false;
    let mut first_frame_log = std::env::var_os("HOTFIX_FIRST_FRAME_LOG");
    // The same probe's second line: when the whole log is verified (the benchmark reads the
    // cockpit's peak memory after that).
    let mut verified_log = first_frame_log.clone();
    let mut first_frame = true;
    let mut background: Option<Background> = None;
    loop {
        let now = crate::clock::now();
        background = background.and_then(|job| job.poll(app, session));
        app.tick(now);
        app.sync(&session.store.model);
        if app.insights_stale(session.store.model.seq) {
            insights(app, session.store);
        }
        draw(terminal, app, session.store, now, theme)?;
        if let Some(path) = first_frame_log.take() {
            // The benchmark script's probe: how long from process start to the first frame.
            let micros = crate::STARTED.get().map_or(0, |t| t.elapsed().as_micros());
            let _ = std::fs::write(path, format!("{micros}\n"));
        }
        if std::mem::take(&mut first_frame) {
            let checkpoints = crate::settings::checkpoint_dir();
            session.check = session
                .store
                .check_in_background(checkpoints.as_deref(), crate::clock::now());
        }
        finish_check(session, app, false);
        if session.check.is_none()
            && let Some(path) = verified_log.take()
        {
            let micros = crate::STARTED.get().map_or(0, |t| t.elapsed().as_micros());
            if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(path) {
                let _ = writeln!(f, "{micros}");
            }
        }
        if stop.load(Ordering::Relaxed) {
            tracing::info!("signal received: restoring the terminal and exiting");
            return Ok(());
        }
        let input = wait_for_input(Duration::from_millis(200), watch.as_ref())?;
        if input == Input::Gone {
            tracing::info!("the terminal went away: exiting");
            return Ok(());
        }
        if input == Input::Ready
            && let Some(job) = &background
        {
            // While work is under way, keys go nowhere but to stop waiting for a file (Esc)
            // or quit (Ctrl-C): none reaches the screen underneath.
            if let Event::Key(key) = event::read().map_err(io_error)?
                && key.kind == KeyEventKind::Press
            {
                let ctrl_c = key.code == KeyCode::Char('c')
                    && key
                        .modifiers
                        .contains(ratatui::crossterm::event::KeyModifiers::CONTROL);
                if ctrl_c {
                    return Ok(());
                }
                match job {
                    Background::Reading { what, .. } if key.code == KeyCode::Esc => {
                        tracing::info!("an import was cancelled while reading");
                        app.tell(format!("stopped: nothing was recorded ({what})"), false);
                        background = None;
                    }
                    _ => app.tell(job.status(), false),
                }
            }
        } else if input == Input::Ready {
            let effect = match event::read().map_err(io_error)? {
                Event::Key(key) if key.kind == KeyEventKind::Press => {
                    app.on_key(key, &session.store.model, now)
                }
                Event::Mouse(m) => {
                    let size = terminal.size().map_err(io_error)?;
                    app.on_mouse(
                        m,
                        Rect::new(0, 0, size.width, size.height),
                        &session.store.model,
                    )
                }
                _ => Effect::None,
            };
            // Files and the network are waited on off the screen (see Background).
            let effect = match effect {
                Effect::Load(load) => {
                    let job = Background::read(load);
                    app.tell(job.status(), false);
                    background = Some(job);
                    Effect::None
                }
                Effect::Notify {
                    id,
                    stage,
                    audience,
                } => {
                    if let Some(posting) = Posting::prepare(app, session.store, id, stage, audience)
                    {
                        let job = Background::post(posting);
                        app.tell(job.status(), false);
                        background = Some(job);
                    }
                    Effect::None
                }
                other => other,
            };
            if matches!(effect, Effect::Execute(_)) {
                // Say what is happening before anything that may wait (the check, the network).
                app.tell("recording…", false);
                draw(terminal, app, session.store, now, theme)?;
            }
            if perform(effect, app, session) == Flow::Quit {
                return Ok(());
            }
        }
        if last_refresh.elapsed() >= REFRESH || input == Input::Changed {
            last_refresh = Instant::now();
            match session.store.refresh() {
                Ok(changed) => {
                    if std::mem::take(&mut offline) {
                        app.tell("reconnected: the store is caught up", false);
                    }
                    if changed {
                        app.preview(&session.store.model, now);
                    }
                    notices(app, session);
                }
                Err(e) => {
                    // A lost database: a banner, writes refused (nothing is queued), and the
                    // store reconnects with backoff on the next re-reads.
                    if !std::mem::replace(&mut offline, true) {
                        tracing::warn!("cannot re-read the store: {e}");
                    }
                    app.read_only = Some(format!(
                        "cannot reach the store ({e}); retrying, writes are refused meanwhile"
                    ));
                }
            }
        }
    }
}

/// Shows what importing `command` would record, in the open dialog, and waits for its confirm.
fn preview_import(app: &mut App, session: &mut Session<'_>, command: crate::state::Command) {
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
            lines.extend(p.tiers.iter().map(|t| {
                format!(
                    "{}: {} new, {} passed, {} failed, {} skipped{}",
                    t.priority,
                    t.new,
                    t.passed,
                    t.failed,
                    t.skipped,
                    if t.flaky > 0 {
                        format!(", {} flaky", t.flaky)
                    } else {
                        String::new()
                    }
                )
            }));
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
struct Posting {
    id: crate::state::ReleaseId,
    stage: crate::state::Stage,
    audience: crate::state::Audience,
    url: String,
    payload: serde_json::Value,
    timeout: Duration,
}

impl Posting {
    /// The notice for `id` at `stage` to `audience`, or why none can be sent (said to the user).
    fn prepare(
        app: &mut App,
        store: &Store,
        id: crate::state::ReleaseId,
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
        let Some(url) = crate::notify::webhook_url(None) else {
            app.tell("no webhook is configured: set HOTFIX_WEBHOOK_URL or \"webhook_url\" in config.json (nothing was sent or recorded)", true);
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
        let command = crate::state::Command::RecordNotice {
            id,
            stage,
            audience,
            channel: "webhook".into(),
            error: outcome.clone().err(),
        };
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

/// Shown when there is no store yet: create one here, or open a demo.
fn start_screen(
    terminal: &mut ratatui::DefaultTerminal,
    dir: &Path,
    user: &str,
    stop: &AtomicBool,
) -> Result<Option<Store>, Error> {
    let mut error: Option<String> = None;
    loop {
        terminal
            .draw(|frame| {
                let mut lines = vec![
                    Line::raw(format!(
                        "There is no hotfix store at {} yet.",
                        dir.display()
                    )),
                    Line::raw(""),
                    Line::raw(format!(
                        "  i   create it here; you ({user}) become its admin"
                    )),
                    Line::raw("  d   open a demo store in a temporary directory instead"),
                    Line::raw("  q   quit"),
                ];
                if let Some(e) = &error {
                    lines.push(Line::raw(""));
                    lines.push(Line::raw(format!("error: {e}")));
                }
                frame.render_widget(
                    Paragraph::new(lines).wrap(Wrap { trim: false }),
                    frame.area(),
                );
            })
            .map_err(io_error)?;
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        match wait_for_input(Duration::from_millis(200), None)? {
            Input::Gone => return Ok(None),
            Input::Idle | Input::Changed => continue,
            Input::Ready => {}
        }
        let Event::Key(key) = event::read().map_err(io_error)? else {
            continue;
        };
        if key.kind != KeyEventKind::Press {
            continue;
        }
        match key.code {
            KeyCode::Char('i') => {
                let at = Location::Directory(dir.to_path_buf());
                let created = crate::store::init(&at, user, crate::clock::now())
                    .map_err(Error::from)
                    .and_then(|_| Ok(Store::open(&at, For::Whole)?));
                match created {
                    Ok(s) => return Ok(Some(s)),
                    Err(e) => error = Some(e.to_string()),
                }
            }
            KeyCode::Char('d') => {
                let demo = crate::paths::fresh_demo_dir().and_then(|d| {
                    crate::demo::write(&d, user, crate::clock::now())?;
                    Store::open(&Location::Directory(d), For::Whole).map_err(Error::from)
                });
                match demo {
                    Ok(s) => return Ok(Some(s)),
                    Err(e) => error = Some(e.to_string()),
                }
            }
            KeyCode::Char('q') | KeyCode::Esc => return Ok(None),
            KeyCode::Char('c')
                if key
                    .modifiers
                    .contains(ratatui::crossterm::event::KeyModifiers::CONTROL) =>
            {
                return Ok(None);
            }
            _ => {}
        }
    }
}
