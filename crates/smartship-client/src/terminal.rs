//! Text from a server, made safe to print on a terminal.
//!
//! Package descriptions, build messages and review reasons come from other
//! parties. Printed raw, an escape sequence in one could clear an
//! operator's screen, rewrite earlier lines or recolour a table, and a
//! bidirectional override could make a name read backwards.

use std::borrow::Cow;

fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with control characters (ESC, CR, LF, NUL, DEL, C1) and
/// bidirectional formatting characters shown as `\u{1b}` escapes.
///
/// ```
/// use smartship_client::terminal::printable;
/// assert_eq!(printable("plain 文本"), "plain 文本");
/// assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
/// ```
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| {
            if unsafe_char(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_that_drives_a_terminal_passes() {
        assert_eq!(printable("x\r\ny\0"), "x\\u{d}\\u{a}y\\u{0}");
        assert_eq!(printable("\u{202e}gpj.exe"), "\\u{202e}gpj.exe");
        assert_eq!(printable("\u{9b}31m"), "\\u{9b}31m", "C1 CSI");
        assert_eq!(printable("\u{7f}"), "\\u{7f}");
    }
}
