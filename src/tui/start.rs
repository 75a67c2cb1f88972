//! Shown when there is no store yet: create one here, or open a demo.

use super::{
    Duration, Error, Event, For, Input, KeyCode, KeyEventKind, Line, Location, Paragraph, Store,
    Wrap, event, io_error, wait_for_input,
};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Shown when there is no store yet: create one here, or open a demo.
pub(crate) fn start_screen(
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
