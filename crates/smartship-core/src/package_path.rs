//! The one check every path that enters a package goes through: draft
//! entries, `app.json` pages and sub-package roots, `extPages` keys, `tabBar`
//! page paths and icons, and every file a build writes.
//!
//! A package is unpacked by host runtimes and by people, many of whom join
//! an entry name to a folder without a second look. So a path must be
//! relative and stay inside the package: `/`-separated segments, none of
//! them empty, `.` or `..`, no backslash, no drive or stream colon, no
//! control character, and bounded lengths. Empty and `.` segments are the
//! only things normalised away (`pages//a`, `./pages/a` → `pages/a`);
//! everything else that could mean another place is refused, not repaired.

/// Longest accepted path, in bytes.
pub const MAX_PATH_BYTES: usize = 512;
/// Longest accepted segment, in bytes (what most filesystems allow).
pub const MAX_SEGMENT_BYTES: usize = 255;

/// Why a path cannot be part of a package (Chinese first, like the API).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("路径为空")]
    Empty,
    #[error("必须是相对路径 (不能以 / 开头)")]
    Absolute,
    #[error("不能包含 ..")]
    ParentSegment,
    #[error("不能包含反斜杠 \\")]
    Backslash,
    #[error("不能包含冒号 : (盘符或数据流)")]
    Colon,
    #[error("不能包含控制字符或双向控制字符")]
    Control,
    #[error("超过 {MAX_PATH_BYTES} 字节，或其中一段超过 {MAX_SEGMENT_BYTES} 字节")]
    TooLong,
}

/// Checks `raw` and returns it normalised (empty and `.` segments dropped).
///
/// ```
/// use smartship_core::package_path::{normalize, PathError};
/// assert_eq!(normalize("./pages//index/index").unwrap(), "pages/index/index");
/// assert_eq!(normalize("../../tmp/x"), Err(PathError::ParentSegment));
/// assert_eq!(normalize("pages/../../x"), Err(PathError::ParentSegment));
/// assert_eq!(normalize("/tmp/x"), Err(PathError::Absolute));
/// assert_eq!(normalize("C:\\x"), Err(PathError::Backslash));
/// assert_eq!(normalize("C:x"), Err(PathError::Colon));
/// ```
pub fn normalize(raw: &str) -> Result<String, PathError> {
    // Control characters, and the bidirectional and line-separator
    // characters that make a name read as another one.
    if raw.chars().any(|c| {
        c.is_control()
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }) {
        return Err(PathError::Control);
    }
    if raw.contains('\\') {
        return Err(PathError::Backslash);
    }
    if raw.contains(':') {
        return Err(PathError::Colon);
    }
    if raw.starts_with('/') {
        return Err(PathError::Absolute);
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err(PathError::ParentSegment),
            p if p.len() > MAX_SEGMENT_BYTES => return Err(PathError::TooLong),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(PathError::Empty);
    }
    let path = parts.join("/");
    if path.len() > MAX_PATH_BYTES {
        return Err(PathError::TooLong);
    }
    Ok(path)
}

/// Whether `path` is already in the form [`normalize`] returns.
pub fn is_safe(path: &str) -> bool {
    normalize(path).is_ok_and(|n| n == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_escape_is_refused() {
        for (bad, why) in [
            ("", PathError::Empty),
            ("./", PathError::Empty),
            ("/", PathError::Absolute),
            ("/tmp/x", PathError::Absolute),
            ("//server/share/x", PathError::Absolute),
            ("..", PathError::ParentSegment),
            ("../../../../tmp/x", PathError::ParentSegment),
            ("pages/../../x", PathError::ParentSegment),
            ("pages/..", PathError::ParentSegment),
            ("C:\\x", PathError::Backslash),
            ("pages\\..\\x", PathError::Backslash),
            ("C:/x", PathError::Colon),
            ("a.js:stream", PathError::Colon),
            ("a\0b", PathError::Control),
            ("a\nb", PathError::Control),
            ("a\u{1b}[2Jb", PathError::Control),
            ("a\u{202e}b.js", PathError::Control),
            ("pages/index/index\u{2028}", PathError::Control),
        ] {
            assert_eq!(normalize(bad), Err(why), "{bad:?}");
        }
        assert_eq!(normalize(&"a".repeat(256)), Err(PathError::TooLong));
        assert_eq!(normalize(&["abc"; 200].join("/")), Err(PathError::TooLong));
    }

    #[test]
    fn ordinary_paths_pass_and_normalise() {
        for (raw, want) in [
            ("app.json", "app.json"),
            ("pages/index/index", "pages/index/index"),
            ("./pages//index/", "pages/index"),
            ("images/首页.png", "images/首页.png"),
            ("a..b/c.d.e", "a..b/c.d.e"),
            (".hidden/x", ".hidden/x"),
        ] {
            assert_eq!(normalize(raw).as_deref(), Ok(want), "{raw:?}");
        }
        assert!(is_safe("pages/index/index.json"));
        assert!(!is_safe("./pages/index.json"));
        assert!(!is_safe("../x"));
    }
}
