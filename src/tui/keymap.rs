//! The key map: loaded from `assets/keymap.json`, overridable by `keys.json` in the config
//! directory. The footer and the help overlay are built from the same map, so they never drift
//! from the keys actually handled.

use super::Pane;
use super::action::Action;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

pub const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.json");

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

#[derive(Clone, Debug)]
pub struct Keymap {
    global: BTreeMap<String, Action>,
    panes: BTreeMap<&'static str, BTreeMap<String, Action>>,
    /// Each pane's effective bindings, worked out once: the footer shows them every frame.
    bound: BTreeMap<&'static str, Vec<(String, Action)>>,
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
        let global = raw.remove("global").unwrap_or_default();
        let panes = ["queue", "approvals", "tests", "releases"]
            .into_iter()
            .map(|p| (p, raw.remove(p).unwrap_or_default()))
            .collect();
        Keymap {
            global,
            panes,
            bound: BTreeMap::new(),
        }
        .bind()
    }

    fn bind(mut self) -> Keymap {
        self.bound = [Pane::Queue, Pane::Approvals, Pane::Tests, Pane::Releases]
            .into_iter()
            .map(|pane| (pane_name(pane), self.effective(pane)))
            .collect();
        self
    }

    /// The default map with the user's overrides (same shape as the asset) laid over it.
    pub fn with_overrides(text: &str) -> Result<Keymap, String> {
        let overrides: RawMap =
            serde_json::from_str(text).map_err(|e| format!("keys.json is not valid: {e}"))?;
        let mut map = Keymap::default_map();
        for (section, keys) in overrides {
            let target = match section.as_str() {
                "global" => &mut map.global,
                other => match map.panes.iter_mut().find(|(name, _)| **name == other) {
                    Some((_, keys)) => keys,
                    None => return Err(format!("keys.json has an unknown section \"{other}\"")),
                },
            };
            target.extend(keys);
        }
        Ok(map.bind())
    }

    /// Loads `keys.json` from the config directory if present; returns a warning if it is invalid.
    pub fn load() -> (Keymap, Option<String>) {
        let Some(path) = crate::paths::config_dir().map(|d| d.join("keys.json")) else {
            return (Keymap::default_map(), None);
        };
        match std::fs::read_to_string(&path) {
            Err(_) => (Keymap::default_map(), None),
            Ok(text) => match Keymap::with_overrides(&text) {
                Ok(map) => (map, None),
                Err(e) => (
                    Keymap::default_map(),
                    Some(format!("{e} ({}); using the default keys", path.display())),
                ),
            },
        }
    }

    /// What `key` does in `pane`: the pane's own binding first, then the global one.
    pub fn action(&self, pane: Pane, key: &Key) -> Option<Action> {
        self.panes
            .get(pane_name(pane))
            .and_then(|m| m.get(&key.0))
            .or_else(|| self.global.get(&key.0))
            .copied()
    }

    /// The bindings active in `pane`, pane-specific first, each action once, in a stable order.
    pub fn bindings(&self, pane: Pane) -> &[(String, Action)] {
        self.bound.get(pane_name(pane)).map_or(&[], Vec::as_slice)
    }

    fn effective(&self, pane: Pane) -> Vec<(String, Action)> {
        let mut out: Vec<(String, Action)> = Vec::new();
        let own = self.panes.get(pane_name(pane)).cloned().unwrap_or_default();
        for (key, action) in own.iter().chain(self.global.iter()) {
            let shadowed = self.action(pane, &Key(key.clone())) != Some(*action);
            if !shadowed && !out.iter().any(|(_, a)| a == action) {
                out.push((key.clone(), *action));
            }
        }
        out
    }

    /// The actions bound in the pane's own section.
    pub fn own_actions(&self, pane: Pane) -> Vec<Action> {
        self.panes
            .get(pane_name(pane))
            .map(|m| m.values().copied().collect())
            .unwrap_or_default()
    }

    /// The first key bound to `action` in `pane`, for hints like "press a to approve".
    pub fn key_for(&self, pane: Pane, action: Action) -> Option<String> {
        self.bindings(pane)
            .iter()
            .find(|(_, a)| *a == action)
            .map(|(k, _)| k.clone())
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
            map.action(Pane::Queue, &key(KeyCode::Char('s'))),
            Some(Action::Severity)
        );
        assert_eq!(
            map.action(Pane::Tests, &key(KeyCode::Char('s'))),
            Some(Action::SetTest)
        );
        assert_eq!(
            map.action(Pane::Tests, &key(KeyCode::Char(' '))),
            Some(Action::CycleTest)
        );
        assert_eq!(
            map.action(Pane::Approvals, &key(KeyCode::Char('a'))),
            Some(Action::Approve)
        );
        assert_eq!(
            map.action(Pane::Queue, &key(KeyCode::Tab)),
            Some(Action::NextPane)
        );
        let ctrl_c = Key::of(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)).unwrap();
        assert_eq!(map.action(Pane::Queue, &ctrl_c), Some(Action::Quit));
        assert_eq!(map.action(Pane::Queue, &key(KeyCode::Char('Z'))), None);
    }

    #[test]
    fn overrides_replace_keys_and_bad_files_are_reported() {
        let map = Keymap::with_overrides(r#"{"global": {"Z": "approve"}}"#).unwrap();
        assert_eq!(
            map.action(Pane::Queue, &key(KeyCode::Char('Z'))),
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
    fn every_pane_lists_each_action_once() {
        let map = Keymap::default_map();
        for pane in [Pane::Queue, Pane::Approvals, Pane::Tests, Pane::Releases] {
            let b = map.bindings(pane);
            for (i, (_, a)) in b.iter().enumerate() {
                assert!(
                    !b[i + 1..].iter().any(|(_, x)| x == a),
                    "{a:?} twice in {pane:?}"
                );
            }
        }
        assert_eq!(map.key_for(Pane::Queue, Action::Help).as_deref(), Some("?"));
    }
}
