//! Dialogs: the context a dialog shows above its fields (for a decision, the scope and the
//! code being decided, scrolling on a short screen), the fields themselves with the cursor,
//! the confirm step, and what confirming would record or why it is refused.

use super::Ctx;
use super::overlay::{centered, code_lines};
use crate::sanitize::line;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::form::{Form, Kind, Shown};
use crate::tui::keymap::Mode;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

/// What a dialog shows above its fields: lines that always show (`head`), a body that
/// scrolls when the screen is short (the scope being decided, whole), and lines after it.
struct Context<'a> {
    head: Vec<Line<'a>>,
    body: Vec<Line<'a>>,
    tail: Vec<Line<'a>>,
    scroll: u16,
}

/// `text` escaped line by line and wrapped at spaces to `width` columns (as the view measures
/// them); a word longer than a line is split.
fn wrapped(text: &str, width: usize) -> Vec<String> {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    let width = width.max(1);
    let mut out = Vec::new();
    for raw in text.lines() {
        let shown = line(raw);
        let mut cur = String::new();
        for word in shown.split(' ') {
            let sep = usize::from(!cur.is_empty());
            if cur.width() + sep + word.width() <= width {
                if sep == 1 {
                    cur.push(' ');
                }
                cur.push_str(word);
                continue;
            }
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            for ch in word.chars() {
                if cur.width() + ch.width().unwrap_or(0) > width && !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                cur.push(ch);
            }
        }
        out.push(cur);
    }
    out
}

/// The lines a dialog shows above its fields: for an approval or rejection, the scope being
/// decided (revision, fingerprint, and every field whole, wrapped, the changed ones marked),
/// and what changed.
fn dialog_context<'a>(form: &Form, ctx: &Ctx, width: usize) -> Context<'a> {
    let t = ctx.theme;
    let cut = |s: &str| super::cut(s, width);
    let mut context = Context {
        head: Vec::new(),
        body: Vec::new(),
        tail: Vec::new(),
        scroll: 0,
    };
    match &form.kind {
        Kind::Decide { shown, .. } => {
            if let Some((rev, changed)) = &shown.moved {
                context.head.push(Line::styled(
                    cut(&format!(
                        "The scope changed to revision {rev} while this was open (changed: {}). Below is revision {rev}.",
                        changed.join(", ")
                    )),
                    t.bad().add_modifier(Modifier::BOLD),
                ));
            }
            let scope = &shown.scope;
            let revision = shown
                .moved
                .as_ref()
                .map_or(shown.seen.revision, |(r, _)| *r);
            context.head.push(Line::from(vec![
                Span::styled(format!("{:<10}", "scope"), t.dim()),
                Span::styled(
                    format!("revision {revision} · fingerprint {}", scope.fingerprint()),
                    t.bold(),
                ),
            ]));
            // What changed since this approver's last decision (or while the dialog was open).
            let changed: Vec<&str> = shown
                .since_mine
                .iter()
                .chain(shown.moved.iter())
                .flat_map(|(_, c)| c.iter().map(String::as_str))
                .collect();
            for (label, text) in [
                ("version", &scope.version),
                ("summary", &scope.summary),
                ("changes", &scope.changes),
                ("risks", &scope.risks),
                ("rollback", &scope.rollback),
            ] {
                if text.is_empty() {
                    continue;
                }
                let is_changed = changed
                    .iter()
                    .any(|c| label.starts_with(c) || c.starts_with(label));
                for (i, part) in wrapped(text, width.saturating_sub(10))
                    .into_iter()
                    .enumerate()
                {
                    let label = match (i, is_changed) {
                        (0, true) => Span::styled(format!("{:<10}", format!("{label}*")), t.warn()),
                        (0, false) => Span::styled(format!("{label:<10}"), t.dim()),
                        _ => Span::raw(" ".repeat(10)),
                    };
                    context.body.push(Line::from(vec![label, Span::raw(part)]));
                }
            }
            // The code itself: what is approved is this diff, not its description.
            let code_changed = changed.iter().any(|c| *c == "code" || *c == "artifact");
            context
                .body
                .extend(code_lines(scope, width.saturating_sub(1), t, code_changed));
            if let Some((rev, changed)) = &shown.since_mine {
                context.tail.push(Line::styled(
                    cut(&format!(
                        "You last approved revision {rev}; changed since (marked *): {}",
                        changed.join(", ")
                    )),
                    t.warn(),
                ));
            }
            context.tail.push(Line::raw(""));
            context.scroll = shown.scroll;
        }
        Kind::Notify {
            webhooks,
            text,
            audience,
            ..
        } => {
            context
                .head
                .extend(text.iter().take(8).map(|l| Line::styled(cut(l), t.dim())));
            if text.len() > 8 {
                context.head.push(Line::styled("…", t.dim()));
            }
            if let Some(a) = audience.value().filter(|a| !webhooks.has(**a)) {
                let (var, key) = crate::notify::webhook_setting(*a);
                context.head.push(Line::styled(
                    cut(&format!("No webhook is configured for {a} ({var} or \"{key}\" in config.json): nothing can be sent. Confirming writes this notice to a file to send by hand, and records it as written there.")),
                    t.warn(),
                ));
            }
            context.head.push(Line::raw(""));
        }
        _ => {}
    }
    context
}

pub fn form(frame: &mut Frame, area: Rect, app: &App, form: &Form, ctx: &Ctx) {
    let t = ctx.theme;
    let width = area.width.saturating_sub(4).clamp(1, 100);
    let inner_width = usize::from(width.saturating_sub(2));
    let parts = dialog_context(form, ctx, inner_width);
    let fields = form.fields();
    let preview_rows = match &form.preview {
        Ok(events) => events.len() + 1,
        Err(why) => 1 + line(why).chars().count().div_ceil(inner_width.max(1)),
    };
    let rest = fields.len() + preview_rows + 5;
    // On a short screen the scope scrolls (PageUp/PageDown, its place shown), so every line
    // of it can be read; the fields, the confirm step and what would be recorded always show.
    let room = usize::from(area.height.saturating_sub(2)).saturating_sub(rest);
    let whole = parts.head.len() + parts.body.len() + parts.tail.len();
    let mut context = parts.head;
    if whole <= room {
        context.extend(parts.body);
        context.extend(parts.tail);
    } else {
        let window = room
            .saturating_sub(context.len() + parts.tail.len() + 1)
            .max(1);
        let total = parts.body.len();
        let start = usize::from(parts.scroll).min(total.saturating_sub(window));
        let end = (start + window).min(total);
        context.extend(parts.body.into_iter().skip(start).take(window));
        let key = |a| {
            app.keymap
                .keys(Mode::Dialog, a)
                .unwrap_or_else(|| "-".into())
        };
        context.push(Line::styled(
            format!(
                "scope lines {}-{end} of {total} · {}/{} to read the rest",
                start + 1,
                key(Action::PageDown),
                key(Action::PageUp)
            ),
            t.accent(),
        ));
        context.extend(parts.tail);
    }
    let height = (context.len() + rest) as u16;
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(format!(" {} ", line(&form.title())))
        .border_style(t.border(true));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let label_width = fields
        .iter()
        .map(|f| f.label().chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let top = context.len() as u16;
    let mut lines = context;
    let mut cursor = None;
    for (i, f) in fields.iter().enumerate() {
        let focused = form.focus == i;
        let label = Span::styled(
            format!("{:<label_width$}", f.label()),
            if focused { t.bold() } else { t.dim() },
        );
        let value = match f.shown() {
            Shown::Text(input) => {
                // One row per field, whatever the length: a long value scrolls sideways to
                // keep the cursor in view (a wrapped one would push the rows below it down).
                let room = (inner.width as usize)
                    .saturating_sub(label_width + 1)
                    .max(2);
                let shown: Vec<char> = line(&input.text).chars().collect();
                let at = line(&input.text.chars().take(input.cursor).collect::<String>())
                    .chars()
                    .count();
                let (text, x) = if shown.len() <= room {
                    (shown.iter().collect::<String>(), at)
                } else if focused {
                    let start = (at + 2).saturating_sub(room).min(shown.len());
                    let end = (start + room - 1).min(shown.len());
                    let body: String = shown[start..end].iter().collect();
                    if start == 0 {
                        (format!("{body}…"), at)
                    } else {
                        (
                            format!("…{}", &body.chars().skip(1).collect::<String>()),
                            at - start,
                        )
                    }
                } else {
                    (
                        format!("{}…", shown[..room - 1].iter().collect::<String>()),
                        0,
                    )
                };
                if focused {
                    let x = inner.x + (label_width + x) as u16;
                    cursor = Some((
                        x.min(inner.right().saturating_sub(1)),
                        inner.y + top + i as u16,
                    ));
                }
                Span::styled(
                    text,
                    if focused {
                        t.base().add_modifier(Modifier::UNDERLINED)
                    } else {
                        t.base()
                    },
                )
            }
            Shown::Pick(text, n) => {
                let text = if n > 1 {
                    format!("‹ {} ›", line(&text))
                } else {
                    line(&text).into_owned()
                };
                Span::styled(text, if focused { t.selected() } else { t.accent() })
            }
        };
        lines.push(Line::from(vec![label, value]));
    }
    lines.push(Line::raw(""));
    let key = |a| {
        app.keymap
            .keys(Mode::Dialog, a)
            .unwrap_or_else(|| "-".into())
    };
    let button = Span::styled(
        format!(" {} ", form.button()),
        if form.on_button() {
            t.selected().add_modifier(Modifier::BOLD)
        } else {
            t.dim()
        },
    );
    let keys = if form.on_button() {
        format!(
            "  {}/{} confirm · {}/{} cancel · {} fields",
            key(Action::Submit),
            key(Action::Confirm),
            key(Action::Dismiss),
            key(Action::Back),
            key(Action::PrevField)
        )
    } else {
        format!(
            "  {} next · {} move · {} cancel",
            key(Action::Submit),
            key(Action::NextField),
            key(Action::Back)
        )
    };
    lines.push(Line::from(vec![button, Span::styled(keys, t.dim())]));
    lines.push(Line::raw(""));
    match &form.preview {
        Ok(events) if events.is_empty() => {}
        Ok(events) => {
            lines.push(Line::styled("Will record:", t.good()));
            for e in events {
                lines.push(Line::raw(format!("  {}", line(e))));
            }
        }
        Err(why) => {
            lines.push(Line::styled("Would be refused:", t.bad()));
            lines.push(Line::styled(format!("  {}", line(why)), t.bad()));
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    if let Some(pos) = cursor {
        frame.set_cursor_position(pos);
    }
}
