//! The cockpit: the terminal loop. Draw at once, then: read a key, map it to an action, let the
//! app turn it into a command, decide and append it through the store, fold, redraw. Other
//! processes' appends are picked up within half a second without a key press.

pub mod action;
pub mod app;
pub mod form;
pub mod keymap;
pub mod layout;
mod session;
mod start;
pub mod theme;
pub mod view;

use session::{Background, Posting, finish_check, insights, notices};
pub use session::{Flow, Session, perform};
use start::start_screen;

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
    app.webhooks = crate::notify::Webhooks::configured();
    // Whether a decision can be signed here, asked once: a dialog the policy would refuse
    // unsigned says so before it opens.
    app.signing = crate::sign::signer(&store.model, &user).and_then(|s| {
        s.map(|_| ()).ok_or_else(|| {
            "no SSH key is at hand to sign with: set HOTFIX_SIGNING_KEY, put \"signing_key\" in config.json, or load your key into the ssh-agent, then start the cockpit again".to_string()
        })
    });
    let mut session = Session::new(&mut store);
    let result = event_loop(&mut terminal, &mut app, &mut session, &stop);
    drop(guard);
    if let Err(e) = &result {
        tracing::error!("{e}");
    }
    result
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
    let mut reminders = session::Reminders::configured();
    loop {
        let now = crate::clock::now();
        background = background.and_then(|job| job.poll(app, session));
        reminders.run(app, session);
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
