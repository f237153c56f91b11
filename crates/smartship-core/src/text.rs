//! Free text that people type and others read (a fail reason, a receiver's
//! answer shown on a page, an audit entry): which characters it may hold,
//! and how to show what it must not.

/// Whether `c` is a control character (C0, DEL, C1) or one that reorders
/// or hides text: bidirectional marks, embeddings, overrides and isolates,
/// zero-width characters, line and paragraph separators, the byte-order
/// mark.
pub fn is_hidden_or_control(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Why a free text is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FreeTextRefusal {
    #[error("holds a control character (only tab and line breaks are allowed)")]
    Control,
    #[error("holds a character that reorders or hides text")]
    Hidden,
}

/// A text of several lines: tabs and line breaks are fine, other control
/// characters (NUL, ESC, DEL, C1) and hidden or reordering ones are not.
pub fn check_free_text(s: &str) -> Result<(), FreeTextRefusal> {
    for c in s.chars() {
        if matches!(c, '\t' | '\n' | '\r') {
            continue;
        }
        if c.is_control() {
            return Err(FreeTextRefusal::Control);
        }
        if is_hidden_or_control(c) {
            return Err(FreeTextRefusal::Hidden);
        }
    }
    Ok(())
}

/// `text` with every control or hidden character written out as
/// `\u{XXXX}` (tab and line breaks too when `keep_lines` is false): what
/// was sent stays visible without reordering or hiding what is around it.
pub fn printable(text: &str, keep_lines: bool) -> std::borrow::Cow<'_, str> {
    let escape = |c: char| is_hidden_or_control(c) && !(keep_lines && matches!(c, '\t' | '\n'));
    if !text.chars().any(escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escape(c) {
            out.push_str(&format!("\\u{{{:04X}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_takes_lines_but_no_other_control() {
        assert_eq!(check_free_text("line one\n\tline two\r\n"), Ok(()));
        assert_eq!(check_free_text("bad\u{0}"), Err(FreeTextRefusal::Control));
        assert_eq!(check_free_text("\u{1b}[31m"), Err(FreeTextRefusal::Control));
        assert_eq!(check_free_text("a\u{202e}b"), Err(FreeTextRefusal::Hidden));
        assert_eq!(check_free_text("中文 ok"), Ok(()));
    }

    #[test]
    fn hidden_and_control_characters_are_shown_escaped() {
        assert_eq!(printable("plain 名字", false), "plain 名字");
        assert_eq!(
            printable("admin\u{202E}nimda\u{0}\u{1b}[31m", false),
            "admin\\u{202E}nimda\\u{0000}\\u{001B}[31m"
        );
        assert_eq!(printable("a\nb\r", true), "a\nb\\u{000D}");
        assert_eq!(printable("a\nb", false), "a\\u{000A}b");
    }
}
