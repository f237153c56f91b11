//! Zip handling: reading an uploaded draft safely, writing a package.
//!
//! A draft zip comes from the network, so nothing in it is trusted: entry
//! names are checked for traversal, links are refused, and sizes are counted
//! from the bytes actually inflated (the sizes in zip headers can lie), so a
//! zip bomb stops at the limit instead of filling memory.

use crate::build::declared_pages;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

/// Limits applied while reading a draft.
#[derive(Debug, Clone, Copy)]
pub struct DraftLimits {
    /// Total inflated bytes.
    pub max_bytes: u64,
    /// Number of files.
    pub max_files: usize,
}

/// Why a draft archive was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    #[error("不是有效的 zip 文件: {0}")]
    NotZip(String),
    #[error("文件名不安全: {0}")]
    UnsafePath(String),
    #[error("不允许符号链接: {0}")]
    Symlink(String),
    #[error("文件重复: {0}")]
    Duplicate(String),
    #[error("解压后超过 {limit} 字节")]
    TooLarge { limit: u64 },
    #[error("文件数超过 {limit}")]
    TooManyFiles { limit: usize },
    #[error("缺少 app.json")]
    MissingAppJson,
    #[error("app.json 无效: {0}")]
    BadAppJson(String),
}

impl DraftError {
    /// True when the draft was refused for its size (errno 47008 rather than 47014).
    pub fn is_size(&self) -> bool {
        matches!(
            self,
            DraftError::TooLarge { .. } | DraftError::TooManyFiles { .. }
        )
    }
}

/// The files of a source tree, path → bytes.
pub type SourceTree = BTreeMap<String, Vec<u8>>;

/// Names that archivers add and that are no part of a mini-program.
fn is_junk(path: &str) -> bool {
    path.starts_with("__MACOSX/") || path.rsplit('/').next() == Some(".DS_Store")
}

fn safe_name(raw: &str) -> Result<String, DraftError> {
    let unsafe_path = || DraftError::UnsafePath(raw.to_owned());
    let name = raw.replace('\\', "/");
    if name.starts_with('/') || name.contains('\0') || name.contains(':') {
        return Err(unsafe_path());
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err(unsafe_path()),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(unsafe_path());
    }
    Ok(parts.join("/"))
}

/// Reads a draft zip into a source tree and checks it is a mini-program:
/// an `app.json` object with a non-empty `pages` array. A tree wrapped in
/// one top-level folder is unwrapped.
pub fn read_draft(bytes: &[u8], limits: DraftLimits) -> Result<SourceTree, DraftError> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| DraftError::NotZip(e.to_string()))?;
    if zip.len() > limits.max_files.saturating_mul(2) {
        // Even with a folder entry per file this is too many: refuse before reading.
        return Err(DraftError::TooManyFiles {
            limit: limits.max_files,
        });
    }
    let mut tree = SourceTree::new();
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| DraftError::NotZip(e.to_string()))?;
        let raw_name = entry.name().to_owned();
        if entry.is_dir() {
            continue;
        }
        if entry.is_symlink() {
            return Err(DraftError::Symlink(raw_name));
        }
        let name = safe_name(&raw_name)?;
        if is_junk(&name) {
            continue;
        }
        if tree.len() >= limits.max_files {
            return Err(DraftError::TooManyFiles {
                limit: limits.max_files,
            });
        }
        let remaining = limits.max_bytes - total;
        let mut content = Vec::new();
        (&mut entry)
            .take(remaining + 1)
            .read_to_end(&mut content)
            .map_err(|e| DraftError::NotZip(format!("{raw_name}: {e}")))?;
        total += content.len() as u64;
        if total > limits.max_bytes {
            return Err(DraftError::TooLarge {
                limit: limits.max_bytes,
            });
        }
        if tree.insert(name.clone(), content).is_some() {
            return Err(DraftError::Duplicate(name));
        }
    }
    let tree = unwrap_single_folder(tree);
    let app = tree.get("app.json").ok_or(DraftError::MissingAppJson)?;
    match serde_json::from_slice::<Value>(app) {
        Ok(Value::Object(m)) => {
            if declared_pages(&m).is_empty() {
                return Err(DraftError::BadAppJson("pages 必须是非空数组".to_owned()));
            }
        }
        Ok(_) => return Err(DraftError::BadAppJson("不是 JSON 对象".to_owned())),
        Err(e) => return Err(DraftError::BadAppJson(e.to_string())),
    }
    Ok(tree)
}

/// `dist/app.json, dist/pages/..` → `app.json, pages/..` when everything sits
/// in one folder and there is no `app.json` at the root.
fn unwrap_single_folder(tree: SourceTree) -> SourceTree {
    if tree.contains_key("app.json") {
        return tree;
    }
    let Some(first) = tree.keys().next() else {
        return tree;
    };
    let Some((prefix, _)) = first.split_once('/') else {
        return tree;
    };
    let prefix = format!("{prefix}/");
    if !tree.keys().all(|k| k.starts_with(&prefix)) {
        return tree;
    }
    tree.into_iter()
        .map(|(k, v)| (k[prefix.len()..].to_owned(), v))
        .collect()
}

/// Writes files into a zip (deflated), in the order given.
pub fn write_zip<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<Vec<u8>, std::io::Error> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for (path, bytes) in files {
        zip.start_file(path, opts).map_err(std::io::Error::other)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DraftLimits = DraftLimits {
        max_bytes: 1 << 20,
        max_files: 100,
    };

    const APP: &[u8] = br#"{"pages":["pages/index/index"]}"#;

    #[test]
    fn round_trip_and_unwrap_folder() {
        let z = write_zip([
            ("dist/app.json", APP),
            ("dist/pages/index/index.js", &b"x"[..]),
        ])
        .unwrap();
        let t = read_draft(&z, LIMITS).unwrap();
        assert_eq!(
            t.keys().collect::<Vec<_>>(),
            ["app.json", "pages/index/index.js"]
        );
    }

    #[test]
    fn refuses_traversal_and_absolute_paths() {
        for bad in ["../evil.js", "a/../../evil.js", "/etc/passwd", "C:/x"] {
            let z = write_zip([("app.json", APP), (bad, &b"x"[..])]).unwrap();
            assert!(
                matches!(read_draft(&z, LIMITS), Err(DraftError::UnsafePath(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn refuses_symlinks() {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        zip.start_file("app.json", opts).unwrap();
        zip.write_all(APP).unwrap();
        zip.add_symlink("link", "/etc/passwd", opts).unwrap();
        let z = zip.finish().unwrap().into_inner();
        assert!(matches!(
            read_draft(&z, LIMITS),
            Err(DraftError::Symlink(_))
        ));
    }

    #[test]
    fn zip_bomb_stops_at_limit() {
        // 64 MiB of zeros deflates to ~64 KiB; the limit is 1 MiB.
        let zeros = vec![0u8; 64 << 20];
        let z = write_zip([("app.json", APP), ("bomb.bin", &zeros[..])]).unwrap();
        assert!(z.len() < 1 << 20);
        let e = read_draft(&z, LIMITS).unwrap_err();
        assert_eq!(e, DraftError::TooLarge { limit: 1 << 20 });
        assert!(e.is_size());
    }

    #[test]
    fn too_many_files_and_missing_app_json() {
        let names: Vec<String> = (0..101).map(|i| format!("f{i}")).collect();
        let z = write_zip(names.iter().map(|n| (n.as_str(), &b""[..]))).unwrap();
        assert!(matches!(
            read_draft(&z, LIMITS),
            Err(DraftError::TooManyFiles { .. })
        ));
        let z = write_zip([("index.js", &b"x"[..])]).unwrap();
        assert_eq!(read_draft(&z, LIMITS), Err(DraftError::MissingAppJson));
        let z = write_zip([("app.json", &b"{\"pages\":[]}"[..])]).unwrap();
        assert!(matches!(
            read_draft(&z, LIMITS),
            Err(DraftError::BadAppJson(_))
        ));
        assert!(matches!(
            read_draft(b"not a zip", LIMITS),
            Err(DraftError::NotZip(_))
        ));
    }
}
