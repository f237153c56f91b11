//! A small syntax highlighter for the source a reviewer reads (JavaScript,
//! JSON, CSS, SWAN templates): strings, numbers, keywords and `//`
//! comments, one line at a time. It marks up text maud escapes, so no
//! markup in the source can get through.

use maud::{Markup, html};

const KEYWORDS: &[&str] = &[
    "async",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "default",
    "delete",
    "do",
    "else",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "let",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "undefined",
    "var",
    "void",
    "while",
    "yield",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    Plain,
    Keyword,
    Str,
    Number,
    Comment,
}

/// Splits a line into its tokens.
pub fn tokens(line: &str) -> Vec<(Token, &str)> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    let mut plain_from = 0;
    let mut i = 0;
    fn push<'a>(
        out: &mut Vec<(Token, &'a str)>,
        line: &'a str,
        from: usize,
        to: usize,
        kind: Token,
    ) {
        if to > from {
            out.push((kind, &line[from..to]));
        }
    }
    while i < bytes.len() {
        let c = bytes[i];
        let (kind, end) = if c == b'/' && bytes.get(i + 1) == Some(&b'/') {
            (Token::Comment, bytes.len())
        } else if c == b'"' || c == b'\'' || c == b'`' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != c {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            (Token::Str, (j + 1).min(bytes.len()))
        } else if c.is_ascii_digit() && (i == 0 || !is_word(bytes[i - 1])) {
            let mut j = i;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'.') {
                j += 1;
            }
            (Token::Number, j)
        } else if is_word(c) && (i == 0 || !is_word(bytes[i - 1])) {
            let mut j = i;
            while j < bytes.len() && is_word(bytes[j]) {
                j += 1;
            }
            if KEYWORDS.contains(&&line[i..j]) {
                (Token::Keyword, j)
            } else {
                i = j;
                continue;
            }
        } else {
            i += 1;
            continue;
        };
        push(&mut out, line, plain_from, i, Token::Plain);
        push(&mut out, line, i, end, kind);
        i = end;
        plain_from = end;
    }
    push(&mut out, line, plain_from, bytes.len(), Token::Plain);
    out
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// A line as markup.
pub fn line(text: &str) -> Markup {
    html! {
        @for (kind, part) in tokens(text) {
            @match kind {
                Token::Plain => (part),
                Token::Keyword => span.tok-k { (part) },
                Token::Str => span.tok-s { (part) },
                Token::Number => span.tok-n { (part) },
                Token::Comment => span.tok-c { (part) },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_line_of_javascript() {
        let t = tokens(r#"const n = eval("1+" + 2); // run it"#);
        assert_eq!(
            t,
            vec![
                (Token::Keyword, "const"),
                (Token::Plain, " n = eval("),
                (Token::Str, "\"1+\""),
                (Token::Plain, " + "),
                (Token::Number, "2"),
                (Token::Plain, "); "),
                (Token::Comment, "// run it"),
            ]
        );
    }

    #[test]
    fn keeps_every_byte_and_escapes_markup() {
        for src in [
            "a<b>'c",
            "\"unterminated \\\" str",
            "x1 = 0x1f; newer",
            "中文 'ok'",
            "",
        ] {
            let joined: String = tokens(src).iter().map(|(_, s)| *s).collect();
            assert_eq!(joined, src);
        }
        assert_eq!(tokens("newer")[0], (Token::Plain, "newer"));
        assert!(line("<script>").into_string().contains("&lt;script&gt;"));
    }
}
