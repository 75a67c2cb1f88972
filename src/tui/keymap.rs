//! The key map: loaded from `assets/keymap.json`, overridable by `keys.json` in the config
//! directory. The footer and the help overlay are built from the same map, so they never drift
//! from the keys actually handled.

use super::Pane;
use super::action::Action;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

pub const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.json");
/// The most `keys.json` may hold: far above any real map.
pub const KEYS_LIMIT: u64 = 256 << 10;

/// A key as written in the map: `q`, `G`, `ctrl-c`, `enter`, `space`, `backtab`, `pagedown`...
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key(String);

impl Key {
    pub fn name(&self) -> &str {
        &self.0
    }

    /// The map's name for a key event, if the map can name it.
    pub fn of(event: KeyEvent) -> Option<Key> {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        let name = match event.code {
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Char(c) if ctrl => format!("ctrl-{}", c.to_ascii_lowercase()),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "enter".into(),
            KeyCode::Esc => "esc".into(),
            KeyCode::Tab => "tab".into(),
            KeyCode::BackTab => "backtab".into(),
            KeyCode::Up => "up".into(),
            KeyCode::Down => "down".into(),
            KeyCode::Left => "left".into(),
            KeyCode::Right => "right".into(),
            KeyCode::PageUp => "pageup".into(),
            KeyCode::PageDown => "pagedown".into(),
            KeyCode::Home => "home".into(),
            KeyCode::End => "end".into(),
            KeyCode::Backspace => "backspace".into(),
            KeyCode::Delete => "delete".into(),
            KeyCode::F(n) => format!("f{n}"),
            _ => return None,
        };
        Some(Key(name))
    }
}

/// Where keys are read: a pane of the main screen, a dialog, or a scrolling view (help,
/// details, report). Each has its own section of the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    Pane(Pane),
    Dialog,
    View,
}

impl Mode {
    fn section(self) -> &'static str {
        match self {
            Mode::Pane(p) => pane_name(p),
            Mode::Dialog => "dialog",
            Mode::View => "view",
        }
    }
}

const SECTIONS: [&str; 7] = [
    "global",
    "queue",
    "approvals",
    "tests",
    "releases",
    "dialog",
    "view",
];

const MODES: [Mode; 6] = [
    Mode::Pane(Pane::Queue),
    Mode::Pane(Pane::Approvals),
    Mode::Pane(Pane::Tests),
    Mode::Pane(Pane::Releases),
    Mode::Dialog,
    Mode::View,
];

/// One action with every key bound to it in a mode, in the map's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub keys: Vec<String>,
    pub action: Action,
}

impl Binding {
    /// The keys as people read them: `j/↓`.
    pub fn keys_label(&self) -> String {
        self.keys
            .iter()
            .map(|k| display(k))
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// A key's name as shown on screen: arrows as arrows, named keys capitalised.
pub fn display(key: &str) -> String {
    match key {
        "down" => "↓".into(),
        "up" => "↑".into(),
        "left" => "←".into(),
        "right" => "→".into(),
        "enter" => "Enter".into(),
        "esc" => "Esc".into(),
        "tab" => "Tab".into(),
        "backtab" => "S-Tab".into(),
        "space" => "Space".into(),
        "pageup" => "PgUp".into(),
        "pagedown" => "PgDn".into(),
        "home" => "Home".into(),
        "end" => "End".into(),
        "backspace" => "Bksp".into(),
        "delete" => "Del".into(),
        other => match other.strip_prefix("ctrl-") {
            Some(rest) => format!("Ctrl-{}", rest.to_uppercase()),
            None => other.to_string(),
        },
    }
}

#[derive(Clone, Debug)]
pub struct Keymap {
    sections: BTreeMap<&'static str, BTreeMap<String, Action>>,
    /// Each mode's bindings, worked out once: the footer shows them every frame.
    bound: BTreeMap<&'static str, Vec<Binding>>,
}

type RawMap = BTreeMap<String, BTreeMap<String, Action>>;

fn pane_name(pane: Pane) -> &'static str {
    match pane {
        Pane::Queue => "queue",
        Pane::Approvals => "approvals",
        Pane::Tests => "tests",
        Pane::Releases => "releases",
    }
}

impl Keymap {
    /// The built-in map.
    pub fn default_map() -> Keymap {
        // The asset is compiled in and parsed by a test, so this cannot fail at run time.
        #[allow(clippy::expect_used)]
        let raw: RawMap =
            serde_json::from_str(DEFAULT_KEYMAP).expect("assets/keymap.json is valid");
        Keymap::from_raw(raw)
    }

    fn from_raw(mut raw: RawMap) -> Keymap {
        let sections = SECTIONS
            .into_iter()
            .map(|name| (name, raw.remove(name).unwrap_or_default()))
            .collect();
        Keymap {
            sections,
            bound: BTreeMap::new(),
        }
        .bind()
    }

    fn bind(mut self) -> Keymap {
        self.bound = MODES
            .into_iter()
            .map(|mode| (mode.section(), self.effective(mode)))
            .collect();
        self
    }

    /// The default map with the user's overrides (same shape as the asset) laid over it.
    pub fn with_overrides(text: &str) -> Result<Keymap, String> {
        let overrides: RawMap =
            serde_json::from_str(text).map_err(|e| format!("keys.json is not valid: {e}"))?;
        let mut map = Keymap::default_map();
        for (section, keys) in overrides {
            let Some((_, target)) = map.sections.iter_mut().find(|(name, _)| **name == section)
            else {
                return Err(format!(
                    "keys.json has an unknown section \"{}\" (known: {})",
                    crate::sanitize::line(&section),
                    SECTIONS.join(", ")
                ));
            };
            target.extend(keys);
        }
        Ok(map.bind())
    }

    /// Loads `keys.json` (a regular file of at most [`KEYS_LIMIT`] bytes) from the config directory if present; returns a warning if it is invalid.
    pub fn load() -> (Keymap, Option<String>) {
        match crate::settings::config_dir() {
            Some(dir) => Keymap::load_from(&dir.join("keys.json")),
            None => (Keymap::default_map(), None),
        }
    }

    /// Loads the key map from `path` (see [`Keymap::load`]).
    pub fn load_from(path: &std::path::Path) -> (Keymap, Option<String>) {
        let text = match crate::fsio::read_regular(path, KEYS_LIMIT) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return (Keymap::default_map(), None);
            }
            Err(e) => {
                return (
                    Keymap::default_map(),
                    Some(format!(
                        "cannot read {}: {e}; using the default keys",
                        path.display()
                    )),
                );
            }
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        };
        match Keymap::with_overrides(&text) {
            Ok(map) => (map, None),
            Err(e) => (
                Keymap::default_map(),
                Some(format!("{e} ({}); using the default keys", path.display())),
            ),
        }
    }

    fn section(&self, name: &str) -> Option<&BTreeMap<String, Action>> {
        self.sections.get(name)
    }

    /// What `key` does in `mode`. In a pane: the pane's own binding first, then the global
    /// one. Dialogs and views read only their own section, so no main-screen key acts there.
    pub fn action(&self, mode: Mode, key: &Key) -> Option<Action> {
        let own = self.section(mode.section()).and_then(|m| m.get(&key.0));
        match mode {
            Mode::Pane(_) => own.or_else(|| self.section("global").and_then(|m| m.get(&key.0))),
            Mode::Dialog | Mode::View => own,
        }
        .copied()
    }

    /// The bindings active in `mode`, one per action with all its keys, the mode's own first.
    pub fn bindings(&self, mode: Mode) -> &[Binding] {
        self.bound.get(mode.section()).map_or(&[], Vec::as_slice)
    }

    fn effective(&self, mode: Mode) -> Vec<Binding> {
        let mut out: Vec<Binding> = Vec::new();
        let own = self.section(mode.section()).into_iter().flatten();
        let global = match mode {
            Mode::Pane(_) => self.section("global"),
            Mode::Dialog | Mode::View => None,
        };
        for (key, action) in own.chain(global.into_iter().flatten()) {
            if self.action(mode, &Key(key.clone())) != Some(*action) {
                continue; // shadowed by the pane's own binding
            }
            match out.iter_mut().find(|b| b.action == *action) {
                Some(b) if !b.keys.contains(key) => b.keys.push(key.clone()),
                Some(_) => {}
                None => out.push(Binding {
                    keys: vec![key.clone()],
                    action: *action,
                }),
            }
        }
        for b in &mut out {
            // Letters before named keys, so hints read `j/↓`, not `down/j`.
            b.keys.sort_by_key(|k| (k.chars().count() > 1, k.clone()));
        }
        out
    }

    /// The actions bound in the pane's own section.
    pub fn own_actions(&self, pane: Pane) -> Vec<Action> {
        self.section(pane_name(pane))
            .map(|m| m.values().copied().collect())
            .unwrap_or_default()
    }

    /// The first key bound to `action` in `mode`, as shown on screen: for short hints.
    pub fn first_key(&self, mode: Mode, action: Action) -> Option<String> {
        self.bindings(mode)
            .iter()
            .find(|b| b.action == action)
            .and_then(|b| b.keys.first())
            .map(|k| display(k))
    }

    /// The keys bound to `action` in `mode`, as shown on screen (`y`, `Enter`, `j/↓`), for
    /// hints like "press a to approve". `None` when the action has no key there.
    pub fn keys(&self, mode: Mode, action: Action) -> Option<String> {
        self.bindings(mode)
            .iter()
            .find(|b| b.action == action)
            .map(Binding::keys_label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEvent;

    fn key(code: KeyCode) -> Key {
        Key::of(KeyEvent::new(code, KeyModifiers::NONE)).unwrap()
    }

    #[test]
    fn pane_bindings_override_global_ones() {
        let map = Keymap::default_map();
        assert_eq!(
            map.action(Mode::Pane(Pane::Queue), &key(KeyCode::Char('s'))),
            Some(Action::Severity)
        );
        assert_eq!(
            map.action(Mode::Pane(Pane::Tests), &key(KeyCode::Char('s'))),
            Some(Action::SetTest)
        );
        assert_eq!(
            map.action(Mode::Pane(Pane::Tests), &key(KeyCode::Char(' '))),
            Some(Action::SetTest)
        );
        // Dialogs read only their own section: `a` there is never "approve".
        assert_eq!(map.action(Mode::Dialog, &key(KeyCode::Char('a'))), None);
        assert_eq!(
            map.action(Mode::View, &key(KeyCode::End)),
            Some(Action::Bottom)
        );
        assert_eq!(
            map.action(Mode::Pane(Pane::Approvals), &key(KeyCode::Char('a'))),
            Some(Action::Approve)
        );
        assert_eq!(
            map.action(Mode::Pane(Pane::Queue), &key(KeyCode::Tab)),
            Some(Action::NextPane)
        );
        let ctrl_c = Key::of(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)).unwrap();
        assert_eq!(
            map.action(Mode::Pane(Pane::Queue), &ctrl_c),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(Mode::Pane(Pane::Queue), &key(KeyCode::Char('Z'))),
            None
        );
    }

    #[test]
    fn overrides_replace_keys_and_bad_files_are_reported() {
        let map = Keymap::with_overrides(r#"{"global": {"Z": "approve"}}"#).unwrap();
        assert_eq!(
            map.action(Mode::Pane(Pane::Queue), &key(KeyCode::Char('Z'))),
            Some(Action::Approve)
        );
        assert!(Keymap::with_overrides(r#"{"global": {"a": "fly"}}"#).is_err());
        assert!(
            Keymap::with_overrides(r#"{"sidebar": {}}"#)
                .unwrap_err()
                .contains("sidebar")
        );
    }

    #[test]
    fn every_mode_lists_each_action_once_with_all_its_keys() {
        let map = Keymap::default_map();
        for mode in MODES {
            let b = map.bindings(mode);
            for (i, x) in b.iter().enumerate() {
                assert!(
                    !b[i + 1..].iter().any(|y| y.action == x.action),
                    "{:?} twice in {mode:?}",
                    x.action
                );
            }
        }
        let queue = Mode::Pane(Pane::Queue);
        assert_eq!(map.keys(queue, Action::Help).as_deref(), Some("?"));
        assert_eq!(map.keys(queue, Action::Down).as_deref(), Some("j/↓"));
        assert_eq!(map.keys(queue, Action::Top).as_deref(), Some("g/Home"));
        assert_eq!(map.keys(Mode::Dialog, Action::Back).as_deref(), Some("Esc"));
    }

    #[test]
    fn old_key_files_naming_cycle_test_still_load() {
        let map = Keymap::with_overrides(r#"{"tests": {"z": "cycle-test"}}"#).unwrap();
        assert_eq!(
            map.action(Mode::Pane(Pane::Tests), &key(KeyCode::Char('z'))),
            Some(Action::SetTest)
        );
    }
}
