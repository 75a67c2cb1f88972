//! Makes stored text safe to show: control characters and escape sequences are made visible
//! (`\x1b`, `\n`), never sent to a terminal raw. Every text the CLI or the cockpit prints from the
//! store goes through here.

use std::borrow::Cow;

/// Escapes every control character, newlines included: for one-line displays.
pub fn line(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// Escapes control characters but keeps newlines and tabs: for multi-line text blocks.
pub fn block(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

fn escape(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let keep = |c: char| keep_newlines && (c == '\n' || c == '\t');
    if !s.chars().any(|c| is_unsafe(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !is_unsafe(c) || keep(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// C0/C1 controls, DEL, and the bidi overrides that can make text read differently than stored.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_sequences() {
        assert_eq!(line("ok"), "ok");
        assert_eq!(line("\u{1b}[2Jwipe"), "\\x1b[2Jwipe");
        assert_eq!(line("a\nb"), "a\\nb");
        assert_eq!(block("a\nb\u{7}"), "a\nb\\x07");
        assert_eq!(line("\u{9b}31m"), "\\x9b31m");
        assert_eq!(line("x\u{202e}y"), "x\\u{202e}y");
    }
}
