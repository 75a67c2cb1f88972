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

/// What is never drawn raw: C0/C1 controls and DEL; the bidi overrides, isolates and marks that
/// make text read differently than stored; and what a terminal may draw at another width than
/// the cockpit lays out, or not at all, leaving stale cells or making two names look alike:
/// zero-width and other format characters, the line and paragraph separators, variation
/// selectors, regional indicators (flags) and tag characters.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'                        // soft hyphen
            | '\u{034f}'                      // combining grapheme joiner
            | '\u{061c}'                      // Arabic letter mark
            | '\u{115f}' | '\u{1160}'         // Hangul fillers
            | '\u{17b4}' | '\u{17b5}'
            | '\u{180b}'..='\u{180f}'         // Mongolian selectors and vowel separator
            | '\u{200b}'..='\u{200f}'         // zero-width space, (non-)joiners, LRM, RLM
            | '\u{2028}'..='\u{202e}'         // line/paragraph separators, bidi embedding
            | '\u{2060}'..='\u{206f}'         // word joiner, invisible operators, isolates
            | '\u{3164}' | '\u{ffa0}'         // Hangul fillers
            | '\u{fe00}'..='\u{fe0f}'         // variation selectors
            | '\u{feff}'                      // zero-width no-break space
            | '\u{fff9}'..='\u{fffb}'         // interlinear annotation
            | '\u{1f1e6}'..='\u{1f1ff}'       // regional indicators
            | '\u{e0000}'..='\u{e007f}'       // tags
            | '\u{e0100}'..='\u{e01ef}' // variation selectors supplement
        )
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
    fn what_a_terminal_may_draw_at_another_width_is_made_visible() {
        // A flag, the separators that end a line on some terminals, a zero-width space that
        // makes two names look alike, an emoji joined and presented by selectors.
        assert_eq!(line("🇩🇪"), "\\u{1f1e9}\\u{1f1ea}");
        assert_eq!(block("a\u{2028}b\u{2029}c"), "a\\u{2028}b\\u{2029}c");
        assert_eq!(line("t1\u{200b}"), "t1\\u{200b}");
        assert_eq!(line("👩\u{200d}💻\u{fe0f}"), "👩\\u{200d}💻\\u{fe0f}");
        assert_eq!(line("a\u{feff}\u{00ad}b"), "a\\u{feff}\\xadb");
        // Ordinary text of any script stays as it is.
        assert_eq!(
            line("Zahlung fehlgeschlagen — ошибка 支付"),
            "Zahlung fehlgeschlagen — ошибка 支付"
        );
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
