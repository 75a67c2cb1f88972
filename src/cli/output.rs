//! Printing: text tables or JSON, colour only on a terminal without `NO_COLOR`, stored text escaped.

use crate::error::Error;
use crate::state::Severity;
use serde::Serialize;
use std::io::{IsTerminal, Write};

pub struct Out {
    pub json: bool,
    pub color: bool,
}

impl Out {
    pub fn new(json: bool) -> Self {
        let color = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Out { json, color }
    }

    /// Prints a value as pretty JSON.
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| Error::Failed(format!("cannot write JSON: {e}")))?;
        self.line(&text);
        Ok(())
    }

    /// Prints a JSON array of `items` (each as [`pretty`] gives it) as [`Out::json`] prints
    /// one, an item at a time: a list of everything is never one text in memory.
    pub fn json_array(&self, items: impl ExactSizeIterator<Item = String>) -> Result<(), Error> {
        let n = items.len();
        if n == 0 {
            self.line("[]");
            return Ok(());
        }
        self.line("[");
        for (k, item) in items.enumerate() {
            let comma = if k + 1 < n { "," } else { "" };
            self.line(&format!("  {}{comma}", item.replace('\n', "\n  ")));
        }
        self.line("]");
        Ok(())
    }

    /// Prints one line; a closed pipe (`| head`) ends quietly. This is the one way text reaches
    /// standard output, so it is where text is made inert: every control character is escaped
    /// (`\x1b`), except, on a colour terminal, the colour codes this module itself writes.
    pub fn line(&self, text: &str) {
        let text = crate::sanitize::terminal(text, self.color);
        let mut stdout = std::io::stdout().lock();
        if writeln!(stdout, "{text}").is_err() {
            std::process::exit(0);
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn good(&self, text: &str) -> String {
        self.paint("32", text)
    }

    pub fn bad(&self, text: &str) -> String {
        self.paint("31", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    pub fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::P1 => "1;31",
            Severity::P2 => "33",
            Severity::P3 => "36",
            Severity::P4 => "2",
        };
        self.paint(code, s.as_str())
    }

    /// Prints rows as aligned columns. Cells are plain text (already escaped); `paint` may colour
    /// a cell after its width is measured.
    pub fn table(
        &self,
        header: &[&str],
        rows: &[Vec<String>],
        paint: impl Fn(usize, &str) -> String,
    ) {
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let render = |cells: Vec<String>, painted: bool| {
            let n = cells.len();
            let mut line = String::new();
            for (i, cell) in cells.into_iter().enumerate() {
                let pad = widths[i].saturating_sub(cell.chars().count());
                let text = if painted {
                    paint(i, &cell)
                } else {
                    self.bold(&cell)
                };
                line.push_str(&text);
                if i + 1 < n {
                    line.push_str(&" ".repeat(pad + 2));
                }
            }
            line
        };
        self.line(&render(
            header.iter().map(ToString::to_string).collect(),
            false,
        ));
        for row in rows {
            self.line(&render(row.clone(), true));
        }
    }
}

/// `value` as [`Out::json`] prints it, for an item of [`Out::json_array`].
pub fn pretty<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    serde_json::to_string_pretty(value)
        .map_err(|e| Error::Failed(format!("cannot write JSON: {e}")))
}
