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

/// Text on its way to a terminal: as [`block`], but with `colour` the SGR colour codes hotfix
/// paints with (`ESC [ digits ; m`) are kept. Anything else (an OSC 52 clipboard write, cursor
/// movement, a title change) is escaped, so a stored string can change at most a colour.
pub fn terminal(s: &str, colour: bool) -> Cow<'_, str> {
    if !colour || !s.contains('\x1b') {
        return block(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('\x1b') {
        out.push_str(&block(&rest[..at]));
        let after = &rest[at + 1..];
        let sgr = after.strip_prefix('[').and_then(|p| {
            let len = p.find(|c: char| !(c.is_ascii_digit() || c == ';'))?;
            (p[len..].starts_with('m')).then_some(len + 2)
        });
        match sgr {
            Some(len) => {
                out.push_str(&rest[at..at + 1 + len]);
                rest = &rest[at + 1 + len..];
            }
            None => {
                out.push_str("\\x1b");
                rest = after;
            }
        }
    }
    out.push_str(&block(rest));
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

    #[test]
    fn a_colour_terminal_keeps_colour_codes_and_nothing_else() {
        let osc52 = "\u{1b}]52;c;ZXZpbA==\u{7}";
        assert_eq!(terminal(osc52, true), "\\x1b]52;c;ZXZpbA==\\x07");
        assert_eq!(
            terminal("\u{1b}[1;31mP1\u{1b}[0m", true),
            "\u{1b}[1;31mP1\u{1b}[0m"
        );
        assert_eq!(
            terminal("\u{1b}[1;31mP1\u{1b}[0m", false),
            "\\x1b[1;31mP1\\x1b[0m"
        );
        assert_eq!(terminal("\u{1b}[2J\u{1b}[H", true), "\\x1b[2J\\x1b[H");
        assert_eq!(terminal("end\u{1b}", true), "end\\x1b");
        assert_eq!(terminal("a\nb", true), "a\nb");
    }
}
