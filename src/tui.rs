//! The cockpit: the terminal loop. Draw at once, then: read a key, map it to an action, let the
//! app turn it into a command, decide and append it through the store, fold, redraw. Other
//! processes' appends are picked up within half a second without a key press.

pub mod action;
pub mod app;
pub mod form;
pub mod keymap;
pub mod theme;
pub mod view;

use crate::error::Error;
use crate::store::{Integrity, Store, StoreError};
use app::{App, Effect};
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyCode, KeyEventKind, MouseEventKind,
};
use ratatui::crossterm::execute;
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
fn log(message: &str) {
    let Some(dir) = crate::paths::state_dir() else {
        return;
    };
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("hotfix.log"))
    {
        let _ = writeln!(f, "{} {message}", chrono::Utc::now().to_rfc3339());
    }
}

fn io_error(e: std::io::Error) -> Error {
    Error::Failed(format!("terminal error: {e}"))
}

/// Opens the cockpit on the store in `dir`, offering to create one (or a demo) when none exists.
pub fn run(dir: &Path, mouse: bool) -> Result<(), Error> {
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
    let store = match Store::open_from_snapshot(dir) {
        Ok(store) => Some(store),
        Err(StoreError::Missing(_)) => start_screen(&mut terminal, dir, &user, &stop)?,
        Err(e) => return Err(e.into()),
    };
    let Some(mut store) = store else {
        return Ok(());
    };
    let (keymap, warning) = keymap::Keymap::load();
    let label = store.dir().display().to_string();
    let mut app = App::new(&user, &label, keymap);
    if let Some(w) = warning {
        app.status = Some(app::Status {
            text: w,
            error: true,
        });
    }
    let result = event_loop(&mut terminal, &mut app, &mut store, &stop);
    drop(guard);
    if let Err(e) = &result {
        log(&format!("error: {e}"));
    }
    result
}

fn read_only(store: &Store) -> Option<String> {
    match &store.integrity {
        Integrity::Verified | Integrity::Unchecked => None,
        Integrity::Broken { line, reason } => Some(format!(
            "line {line} of the log fails verification ({reason})"
        )),
    }
}

fn notices(app: &mut App, store: &mut Store) {
    for n in store.notices.drain(..) {
        log(&format!("notice: {n}"));
        app.status = Some(app::Status {
            text: n,
            error: true,
        });
    }
    app.read_only = read_only(store);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Input {
    Ready,
    Idle,
    /// The terminal hung up (its window closed, its tmux session killed).
    Gone,
}

/// Waits up to `timeout` for input. crossterm's own timed poll spins at full CPU once the
/// terminal hangs up (it keeps reading end-of-file and never times out), so the wait is a plain
/// poll(2) on stdin, which also reports the hang-up; crossterm then reads what is there.
fn wait_for_input(timeout: Duration) -> Result<Input, Error> {
    // Events crossterm already read and buffered come first.
    if event::poll(Duration::ZERO).map_err(io_error)? {
        return Ok(Input::Ready);
    }
    let mut fd = libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: `fd` is a valid pollfd for the duration of the call, and the count is 1.
    let n = unsafe { libc::poll(&raw mut fd, 1, millis) };
    if n < 0 {
        return Ok(Input::Idle); // interrupted by a signal: the caller checks the stop flag
    }
    if fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
        return Ok(Input::Gone);
    }
    if n == 0 {
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

/// The whole log verified and folded from its first line, on another thread.
type Check = std::sync::mpsc::Receiver<Result<Store, StoreError>>;

/// After the first frame: a store opened from its snapshot has the log before the snapshot
/// verified and folded again in the background (its result replaces the snapshot's state); a
/// store read whole checkpoints a new snapshot when the old one lags far behind.
fn after_first_frame(store: &mut Store) -> Option<Check> {
    if store.snapshot_covers().is_none() {
        if let Err(e) = store.checkpoint() {
            log(&format!("cannot write the snapshot: {e}"));
        }
        return None;
    }
    let dir = store.dir().to_path_buf();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let full = Store::open(&dir).map(|mut full| {
            if let Err(e) = full.checkpoint() {
                log(&format!("cannot write the snapshot: {e}"));
            }
            full
        });
        let _ = tx.send(full);
    });
    Some(rx)
}

/// Takes the background check's result; with `wait`, waits for it (writes must).
fn finish_check(check: &mut Option<Check>, store: &mut Store, app: &mut App, wait: bool) {
    let Some(rx) = check else {
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
    *check = None;
    let adopted = match outcome {
        Ok(Ok(full)) => store.adopt(full).map_err(|e| e.to_string()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(()) => Err("the check stopped unexpectedly".into()),
    };
    if let Err(e) = adopted {
        // Writes stay refused: the store checks the whole log itself before the next one.
        log(&format!("verifying the whole log failed: {e}"));
        app.status = Some(app::Status {
            text: format!("cannot verify the whole log: {e}"),
            error: true,
        });
    }
    app.model_replaced();
    app.preview(&store.model, crate::clock::now());
    notices(app, store);
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    store: &mut Store,
    stop: &AtomicBool,
) -> Result<(), Error> {
    let theme = theme::Theme::new(std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()));
    notices(app, store);
    let mut last_refresh = Instant::now();
    let mut first_frame_log = std::env::var_os("HOTFIX_FIRST_FRAME_LOG");
    // The same probe's second line: when the whole log is verified (the benchmark reads the
    // cockpit's peak memory after that).
    let mut verified_log = first_frame_log.clone();
    let mut first_frame = true;
    let mut check = None;
    loop {
        let now = crate::clock::now();
        app.sync(&store.model);
        draw(terminal, app, store, now, theme)?;
        if let Some(path) = first_frame_log.take() {
            // The benchmark script's probe: how long from process start to the first frame.
            let micros = crate::STARTED.get().map_or(0, |t| t.elapsed().as_micros());
            let _ = std::fs::write(path, format!("{micros}\n"));
        }
        if std::mem::take(&mut first_frame) {
            check = after_first_frame(store);
        }
        finish_check(&mut check, store, app, false);
        if check.is_none()
            && let Some(path) = verified_log.take()
        {
            let micros = crate::STARTED.get().map_or(0, |t| t.elapsed().as_micros());
            if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(path) {
                let _ = writeln!(f, "{micros}");
            }
        }
        if stop.load(Ordering::Relaxed) {
            log("signal received: restoring the terminal and exiting");
            return Ok(());
        }
        let input = wait_for_input(Duration::from_millis(200))?;
        if input == Input::Gone {
            log("the terminal went away: exiting");
            return Ok(());
        }
        if input == Input::Ready {
            let effect = match event::read().map_err(io_error)? {
                Event::Key(key) if key.kind == KeyEventKind::Press => {
                    app.on_key(key, &store.model, now)
                }
                Event::Mouse(m) => match m.kind {
                    MouseEventKind::ScrollDown => app.act(action::Action::Down, &store.model, now),
                    MouseEventKind::ScrollUp => app.act(action::Action::Up, &store.model, now),
                    _ => Effect::None,
                },
                _ => Effect::None,
            };
            match effect {
                Effect::None => {}
                Effect::Quit => return Ok(()),
                Effect::Execute(command) => {
                    if check.is_some() {
                        // Writes wait for the whole log to be verified (well under a second).
                        app.status = Some(app::Status {
                            text: "verifying the whole log before the first write…".into(),
                            error: false,
                        });
                        draw(terminal, app, store, now, theme)?;
                    }
                    finish_check(&mut check, store, app, true);
                    log(&format!("{} executes {command:?}", app.user));
                    let outcome = store.execute(&app.user, crate::clock::now(), command);
                    if let Err(e) = &outcome {
                        log(&format!("refused: {e}"));
                    }
                    app.executed(outcome);
                    notices(app, store);
                }
                Effect::LoadTrail => match app
                    .trail_wanted()
                    .map_or(Ok(Vec::new()), |(r, i)| store.trail(r, i))
                {
                    Ok(events) => app.set_trail(&events),
                    Err(e) => {
                        app.status = Some(app::Status {
                            text: e.to_string(),
                            error: true,
                        })
                    }
                },
                Effect::Notify {
                    id,
                    stage,
                    audience,
                } => {
                    app.status = Some(app::Status {
                        text: format!("sending the {stage} notice for {audience}…"),
                        error: false,
                    });
                    draw(terminal, app, store, now, theme)?;
                    finish_check(&mut check, store, app, true);
                    send_notice(app, store, id, stage, audience);
                    notices(app, store);
                }
                Effect::WriteReport { id, path } => {
                    let written = crate::report::build(&store.model, id, crate::clock::now())
                        .map_err(|r| r.message)
                        .and_then(|r| {
                            std::fs::write(&path, crate::report::markdown(&r))
                                .map_err(|e| e.to_string())
                        });
                    app.status = Some(match written {
                        Ok(()) => app::Status {
                            text: format!("wrote {path} in the current directory"),
                            error: false,
                        },
                        Err(e) => app::Status {
                            text: format!("cannot write {path}: {e}"),
                            error: true,
                        },
                    });
                }
            }
        }
        if last_refresh.elapsed() >= REFRESH {
            last_refresh = Instant::now();
            match store.refresh() {
                Ok(true) => app.preview(&store.model, now),
                Ok(false) => {}
                Err(e) => {
                    app.status = Some(app::Status {
                        text: format!("cannot re-read the store: {e}"),
                        error: true,
                    })
                }
            }
            notices(app, store);
        }
    }
}

/// Posts a notice to the configured webhook and records how it went; the URL is never shown.
fn send_notice(
    app: &mut App,
    store: &mut Store,
    id: crate::state::ReleaseId,
    stage: crate::state::Stage,
    audience: crate::state::Audience,
) {
    let now = crate::clock::now();
    let notice = match crate::notify::render(&store.model, id, stage, audience, now) {
        Ok(n) => n,
        Err(r) => {
            app.status = Some(app::Status {
                text: r.message,
                error: true,
            });
            return;
        }
    };
    let Some(url) = crate::notify::webhook_url(None) else {
        app.status = Some(app::Status {
            text: "no webhook is configured: set HOTFIX_WEBHOOK_URL or \"webhook_url\" in config.json (nothing was sent or recorded)".into(),
            error: true,
        });
        return;
    };
    let outcome = crate::notify::post(
        &url,
        &crate::notify::slack_payload(&notice, id, stage, audience),
        crate::notify::timeout(),
    );
    log(&format!(
        "{} notice {id} {stage} {audience}: {}",
        app.user,
        outcome.as_ref().err().map_or("sent", String::as_str)
    ));
    let command = crate::state::Command::RecordNotice {
        id,
        stage,
        audience,
        channel: "webhook".into(),
        error: outcome.clone().err(),
    };
    let recorded = store.execute(&app.user, crate::clock::now(), command);
    app.executed(recorded);
    if let Err(e) = outcome {
        app.status = Some(app::Status {
            text: format!(
                "the {stage} notice for {audience} was not sent: {e} (recorded as not sent)"
            ),
            error: true,
        });
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
        match wait_for_input(Duration::from_millis(200))? {
            Input::Gone => return Ok(None),
            Input::Idle => continue,
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
                let created = Store::create(dir).map_err(Error::from).and_then(|mut s| {
                    s.execute(user, crate::clock::now(), crate::state::Command::Init)?;
                    Ok(s)
                });
                match created {
                    Ok(s) => return Ok(Some(s)),
                    Err(e) => error = Some(e.to_string()),
                }
            }
            KeyCode::Char('d') => {
                let demo = crate::paths::fresh_demo_dir().and_then(|d| {
                    crate::demo::write(&d, user, crate::clock::now())?;
                    Store::open(&d).map_err(Error::from)
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
