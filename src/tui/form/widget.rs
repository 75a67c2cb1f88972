//! The fields a dialog is made of: a line of text, a pick among choices, and what they show.

use super::{KeyCode, KeyEvent, KeyModifiers, TestStatus};
use std::fmt;
use std::path::PathBuf;

/// A one-line text input with a cursor (in characters).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Input {
    pub text: String,
    pub cursor: usize,
}

impl Input {
    pub fn new(text: &str) -> Input {
        Input {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    pub(super) fn byte(&self, char_index: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_index)
            .map_or(self.text.len(), |(i, _)| i)
    }

    /// Applies an editing key; returns whether it was one.
    pub fn edit(&mut self, key: KeyEvent) -> bool {
        let len = self.text.chars().count();
        match key.code {
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.text.clear();
                self.cursor = 0;
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                let at = self.byte(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Delete if self.cursor < len => {
                let at = self.byte(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(len),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = len,
            KeyCode::Backspace | KeyCode::Delete => {}
            _ => return false,
        }
        true
    }
}

/// A labelled text field.
#[derive(Clone, Debug, PartialEq)]
pub struct Text {
    pub label: &'static str,
    pub input: Input,
}

impl Text {
    pub(super) fn new(label: &'static str, initial: &str) -> Text {
        Text {
            label,
            input: Input::new(initial),
        }
    }

    pub fn value(&self) -> String {
        self.input.text.clone()
    }

    pub(super) fn optional(&self) -> Option<String> {
        let v = self.input.text.trim();
        (!v.is_empty()).then(|| self.input.text.clone())
    }

    /// The file paths named (comma-separated), refusing `-`: in the cockpit standard input
    /// is the terminal.
    pub(super) fn paths(&self, what: &str) -> Result<Vec<PathBuf>, String> {
        let paths = self.list();
        if paths.is_empty() {
            return Err(format!("give the path of {what}"));
        }
        if paths.iter().any(|p| p == "-") {
            return Err("standard input is this terminal here: give a file path".into());
        }
        Ok(paths.into_iter().map(PathBuf::from).collect())
    }

    /// Comma-separated items, trimmed, empty ones dropped.
    pub(super) fn list(&self) -> Vec<String> {
        self.input
            .text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }
}

/// A labelled choice of typed values; Left/Right or Space change it, a letter jumps to the
/// next option starting with it, as in a select box.
#[derive(Clone, Debug, PartialEq)]
pub struct Pick<T> {
    pub label: &'static str,
    pub options: Vec<T>,
    pub index: usize,
    /// A letter of its own for each option, when first letters would collide (the test
    /// status: `p` must mean passed, never pending); empty for first letters.
    pub letters: Vec<char>,
}

impl<T: Clone + PartialEq + fmt::Display> Pick<T> {
    pub(super) fn new(label: &'static str, options: &[T], selected: Option<&T>) -> Pick<T> {
        let index = selected
            .and_then(|s| options.iter().position(|o| o == s))
            .unwrap_or(0);
        Pick {
            label,
            options: options.to_vec(),
            index,
            letters: Vec::new(),
        }
    }

    /// The same, each option chosen by its own letter (`letters` in the options' order).
    pub(super) fn lettered(mut self, letters: &[char]) -> Pick<T> {
        self.letters = letters.to_vec();
        self
    }

    pub fn value(&self) -> Option<&T> {
        self.options.get(self.index)
    }

    pub(super) fn chosen(&self) -> Result<T, String> {
        self.value()
            .cloned()
            .ok_or_else(|| format!("{} has nothing to choose from", self.label))
    }
}

/// What the view needs of a field, whatever its type.
pub enum Shown<'a> {
    Text(&'a Input),
    /// The chosen option's text, and how many options there are.
    Pick(String, usize),
}

/// A field as the dialog machinery sees it.
pub trait Widget {
    fn label(&self) -> &'static str;
    fn shown(&self) -> Shown<'_>;
    /// Applies an editing key; returns whether it changed anything.
    fn edit(&mut self, key: KeyEvent) -> bool;
    fn is_text(&self) -> bool;
}

impl Widget for Text {
    fn label(&self) -> &'static str {
        self.label
    }
    fn shown(&self) -> Shown<'_> {
        Shown::Text(&self.input)
    }
    fn edit(&mut self, key: KeyEvent) -> bool {
        self.input.edit(key)
    }
    fn is_text(&self) -> bool {
        true
    }
}

impl<T: Clone + PartialEq + fmt::Display> Widget for Pick<T> {
    fn label(&self) -> &'static str {
        self.label
    }
    fn shown(&self) -> Shown<'_> {
        Shown::Pick(
            self.value().map(ToString::to_string).unwrap_or_default(),
            self.options.len(),
        )
    }
    fn edit(&mut self, key: KeyEvent) -> bool {
        let n = self.options.len();
        if n < 2 {
            return false;
        }
        match key.code {
            KeyCode::Left => self.index = (self.index + n - 1) % n,
            KeyCode::Right | KeyCode::Char(' ') => self.index = (self.index + 1) % n,
            KeyCode::Char(c)
                if !key.modifiers.contains(KeyModifiers::CONTROL) && !self.letters.is_empty() =>
            {
                match self
                    .letters
                    .iter()
                    .position(|l| *l == c.to_ascii_lowercase())
                {
                    Some(k) => self.index = k,
                    None => return false,
                }
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                let starts = |k: usize| {
                    self.options[k]
                        .to_string()
                        .to_lowercase()
                        .starts_with(c.to_ascii_lowercase())
                };
                match (1..=n).map(|d| (self.index + d) % n).find(|k| starts(*k)) {
                    Some(k) => self.index = k,
                    None => return false,
                }
            }
            _ => return false,
        }
        true
    }
    fn is_text(&self) -> bool {
        false
    }
}

/// The status picker's letter for each status: the first letter, but `n` (not run) for
/// pending, so `p` is passed.
pub(super) fn status_letter(status: TestStatus) -> char {
    match status {
        TestStatus::Pending => 'n',
        TestStatus::Running => 'r',
        TestStatus::Passed => 'p',
        TestStatus::Failed => 'f',
        TestStatus::Skipped => 's',
    }
}
