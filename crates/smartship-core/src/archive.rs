//! Zip handling: reading an uploaded draft safely, writing a package.
//!
//! A draft zip comes from the network, so nothing in it is trusted: entry
//! names are checked for traversal, links are refused, and sizes are counted
//! from the bytes actually inflated (the sizes in zip headers can lie), so a
//! zip bomb stops at the limit instead of filling memory.

use crate::build::declared_pages;
use crate::manifest::{FileRef, Manifest};
use crate::package_path;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Cursor, Read, Seek, SeekFrom, Write};

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
    /// Two names that differ only in case are one file on the file systems
    /// of most developers' machines (and of some host runtimes).
    #[error("文件名仅大小写不同: {0} 与 {1}")]
    CaseClash(String, String),
    #[error("解压后超过 {limit} 字节")]
    TooLarge { limit: u64 },
    #[error("文件数超过 {limit}")]
    TooManyFiles { limit: usize },
    #[error("缺少 app.json")]
    MissingAppJson,
    #[error("app.json 无效: {0}")]
    BadAppJson(String),
    /// The sink could not store a file: not the draft's fault. `full` when
    /// the disk or quota is full (the I/O error's kind says so).
    #[error("保存文件失败: {reason}")]
    Store { full: bool, reason: String },
}

impl DraftError {
    /// A file the sink could not store.
    fn stored(e: &std::io::Error) -> DraftError {
        DraftError::Store {
            full: matches!(
                e.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ),
            reason: e.to_string(),
        }
    }

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

/// An entry name through the package-path check. Backslashes become `/`
/// first: some Windows archivers write them as separators.
fn safe_name(raw: &str) -> Result<String, DraftError> {
    package_path::normalize(&raw.replace('\\', "/"))
        .map_err(|e| DraftError::UnsafePath(format!("{raw}: {e}")))
}

/// The entry names of the zip's central directory, as stored. The zip
/// reader keeps one entry per name (the last), so a name stored twice
/// would silently replace the first: this reads them all. Only the end
/// records and the central directory are read, not the entries.
fn central_directory_names<R: Read + Seek>(reader: &mut R) -> Result<Vec<String>, DraftError> {
    let bad = |what: &str| DraftError::NotZip(format!("central directory: {what}"));
    let io = |e: std::io::Error| DraftError::NotZip(format!("central directory: {e}"));
    let len = reader.seek(SeekFrom::End(0)).map_err(io)?;
    // The end-of-central-directory record is within the last 64 KiB + 22.
    let tail_len = len.min(65_557 + 20);
    reader.seek(SeekFrom::Start(len - tail_len)).map_err(io)?;
    let mut tail = vec![0u8; tail_len as usize];
    reader.read_exact(&mut tail).map_err(io)?;
    let u16_at = |b: &[u8], at: usize| -> Result<u64, DraftError> {
        b.get(at..at + 2)
            .map(|x| u64::from(u16::from_le_bytes([x[0], x[1]])))
            .ok_or_else(|| bad("truncated"))
    };
    let u32_at = |b: &[u8], at: usize| -> Result<u64, DraftError> {
        b.get(at..at + 4)
            .map(|x| u64::from(u32::from_le_bytes([x[0], x[1], x[2], x[3]])))
            .ok_or_else(|| bad("truncated"))
    };
    let u64_at = |b: &[u8], at: usize| -> Result<u64, DraftError> {
        b.get(at..at + 8)
            .map(|x| u64::from_le_bytes(x.try_into().expect("8 bytes")))
            .ok_or_else(|| bad("truncated"))
    };
    let eocd = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .ok_or_else(|| bad("no end record"))?;
    let mut count = u16_at(&tail, eocd + 10)?;
    let mut size = u32_at(&tail, eocd + 12)?;
    let mut offset = u32_at(&tail, eocd + 16)?;
    if (count == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF)
        && eocd >= 20
        && tail[eocd - 20..eocd - 16] == [0x50, 0x4b, 0x06, 0x07]
    {
        // Zip64: the real values are in the zip64 end record.
        let rec = u64_at(&tail, eocd - 20 + 8)?;
        reader.seek(SeekFrom::Start(rec)).map_err(io)?;
        let mut z64 = [0u8; 56];
        reader.read_exact(&mut z64).map_err(io)?;
        if z64[..4] != [0x50, 0x4b, 0x06, 0x06] {
            return Err(bad("no zip64 end record"));
        }
        count = u64_at(&z64, 32)?;
        size = u64_at(&z64, 40)?;
        offset = u64_at(&z64, 48)?;
    }
    if offset.saturating_add(size) > len || size > 64 << 20 {
        return Err(bad("out of bounds"));
    }
    reader.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut cd = vec![0u8; size as usize];
    reader.read_exact(&mut cd).map_err(io)?;
    let mut at = 0usize;
    let mut names = Vec::new();
    for _ in 0..count {
        if cd.get(at..at + 4) != Some(&[0x50, 0x4b, 0x01, 0x02][..]) {
            return Err(bad("bad entry header"));
        }
        let name_len = u16_at(&cd, at + 28)? as usize;
        let extra_len = u16_at(&cd, at + 30)? as usize;
        let comment_len = u16_at(&cd, at + 32)? as usize;
        let name = cd
            .get(at + 46..at + 46 + name_len)
            .ok_or_else(|| bad("truncated name"))?;
        names.push(String::from_utf8_lossy(name).into_owned());
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(names)
}

/// Every page and tab-bar path the template's own `app.json` names must be
/// a safe package path, exactly as written (pages are keys: `pages//a` and
/// `pages/a` must not both mean one page).
fn check_app_json_paths(app: &serde_json::Map<String, Value>) -> Result<(), DraftError> {
    let unsafe_path = |what: String, path: &str, e: String| {
        DraftError::UnsafePath(format!("app.json {what} \"{path}\": {e}"))
    };
    let exact = |what: &str, path: &str| -> Result<(), DraftError> {
        match package_path::normalize(path) {
            Ok(n) if n == path => Ok(()),
            Ok(n) => Err(unsafe_path(what.to_owned(), path, format!("应写作 {n}"))),
            Err(e) => Err(unsafe_path(what.to_owned(), path, e.to_string())),
        }
    };
    for key in ["subPackages", "subpackages"] {
        for sub in app.get(key).and_then(Value::as_array).into_iter().flatten() {
            if let Some(root) = sub.get("root").and_then(Value::as_str) {
                exact(&format!("{key}.root"), root.trim_end_matches('/'))?;
            }
        }
    }
    for page in declared_pages(app) {
        exact("page", &page)?;
    }
    let tab_items = app
        .get("tabBar")
        .and_then(|t| t.get("list"))
        .and_then(Value::as_array);
    for item in tab_items.into_iter().flatten() {
        for field in ["pagePath", "iconPath", "selectedIconPath"] {
            if let Some(path) = item.get(field).and_then(Value::as_str) {
                exact(&format!("tabBar.list.{field}"), path)?;
            }
        }
    }
    Ok(())
}

/// Reads a draft zip into a source tree and checks it is a mini-program:
/// an `app.json` object with a non-empty `pages` array. A tree wrapped in
/// one top-level folder is unwrapped. Holds every file in memory: for
/// uploads, [`read_draft_streaming`] stores each file as it is inflated.
pub fn read_draft(bytes: &[u8], limits: DraftLimits) -> Result<SourceTree, DraftError> {
    let mut tree = SourceTree::new();
    read_draft_streaming(Cursor::new(bytes), limits, &mut |path, content| {
        let mut buf = Vec::new();
        content.read_to_end(&mut buf)?;
        let r = FileRef {
            sha256: crate::manifest::sha256_hex(&buf),
            size: buf.len() as u64,
        };
        tree.insert(path.to_owned(), buf);
        Ok(r)
    })?;
    Ok(tree)
}

/// Where [`read_draft_streaming`] puts each file: it reads the content to
/// its end and says where it is (a blob store hashes as it writes).
pub type FileSink<'a> = dyn FnMut(&str, &mut dyn Read) -> std::io::Result<FileRef> + 'a;

/// Reads a draft zip from `reader` (a file, say) and hands each file's
/// inflated content to `sink` as it is inflated, so memory does not grow
/// with the draft: only the central directory and `app.json` are held.
/// The same checks as [`read_draft`]; returns the draft's manifest.
pub fn read_draft_streaming<R: Read + Seek>(
    mut reader: R,
    limits: DraftLimits,
    sink: &mut FileSink<'_>,
) -> Result<Manifest, DraftError> {
    let raw_names = central_directory_names(&mut reader)?;
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| DraftError::NotZip(e.to_string()))?;
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| DraftError::NotZip(e.to_string()))?;
    if zip.len() > limits.max_files.saturating_mul(2) {
        // Even with a folder entry per file this is too many: refuse before reading.
        return Err(DraftError::TooManyFiles {
            limit: limits.max_files,
        });
    }
    // Every stored name is checked and no two may mean one file.
    let mut names = std::collections::BTreeSet::new();
    let mut folded = std::collections::HashMap::new();
    for raw in &raw_names {
        if raw.ends_with('/') {
            continue;
        }
        let name = safe_name(raw)?;
        if is_junk(&name) {
            continue;
        }
        if !names.insert(name.clone()) {
            return Err(DraftError::Duplicate(name));
        }
        if let Some(other) = folded.insert(name.to_lowercase(), name.clone()) {
            return Err(DraftError::CaseClash(other, name));
        }
        if names.len() > limits.max_files {
            return Err(DraftError::TooManyFiles {
                limit: limits.max_files,
            });
        }
    }
    let prefix = single_folder(&names);
    let app_json_name = format!("{prefix}app.json");
    if !names.contains(&app_json_name) {
        return Err(DraftError::MissingAppJson);
    }
    let mut manifest = Manifest::default();
    let mut total: u64 = 0;
    let mut app_json = None;
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
        let remaining = limits.max_bytes - total;
        // Sizes are counted from the bytes inflated, not the header's claim;
        // past the limit the reader fails, so the sink keeps nothing of it.
        let mut counted = CountingReader {
            inner: &mut entry,
            count: 0,
            limit: remaining,
            exceeded: false,
        };
        let path = name[prefix.len()..].to_owned();
        let too_large = DraftError::TooLarge {
            limit: limits.max_bytes,
        };
        let file = if name == app_json_name {
            let mut bytes = Vec::new();
            if let Err(e) = counted.read_to_end(&mut bytes) {
                return Err(if counted.exceeded {
                    too_large
                } else {
                    DraftError::NotZip(format!("{raw_name}: {e}"))
                });
            }
            let file = sink(&path, &mut bytes.as_slice()).map_err(|e| DraftError::stored(&e))?;
            app_json = Some(bytes);
            file
        } else {
            match sink(&path, &mut counted) {
                Ok(file) => file,
                Err(_) if counted.exceeded => return Err(too_large),
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                    return Err(DraftError::NotZip(format!("{raw_name}: {e}")));
                }
                Err(e) => return Err(DraftError::stored(&e)),
            }
        };
        total += counted.count.max(file.size);
        if total > limits.max_bytes {
            return Err(DraftError::TooLarge {
                limit: limits.max_bytes,
            });
        }
        manifest.files.insert(path, file);
    }
    let app = app_json.ok_or(DraftError::MissingAppJson)?;
    match serde_json::from_slice::<Value>(&app) {
        Ok(Value::Object(m)) => {
            if declared_pages(&m).is_empty() {
                return Err(DraftError::BadAppJson("pages 必须是非空数组".to_owned()));
            }
            check_app_json_paths(&m)?;
        }
        Ok(_) => return Err(DraftError::BadAppJson("不是 JSON 对象".to_owned())),
        Err(e) => return Err(DraftError::BadAppJson(e.to_string())),
    }
    Ok(manifest)
}

/// Counts the bytes read through it and fails once they pass `limit`.
struct CountingReader<R> {
    inner: R,
    count: u64,
    limit: u64,
    exceeded: bool,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        if self.count > self.limit {
            self.exceeded = true;
            return Err(std::io::Error::other("draft size limit passed"));
        }
        Ok(n)
    }
}

/// `dist/` when every file sits in one folder `dist` and there is no
/// `app.json` at the root: the tree is unwrapped. Empty otherwise.
fn single_folder(names: &std::collections::BTreeSet<String>) -> String {
    if names.contains("app.json") {
        return String::new();
    }
    let Some((first, _)) = names.iter().next().and_then(|n| n.split_once('/')) else {
        return String::new();
    };
    let prefix = format!("{first}/");
    if names.iter().all(|n| n.starts_with(&prefix)) {
        prefix
    } else {
        String::new()
    }
}

/// Writes files into a zip (deflated), in the order given. Refuses a path
/// that is not a safe package path: nothing this writes can unpack outside
/// its folder.
pub fn write_zip<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<Vec<u8>, std::io::Error> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for (path, bytes) in files {
        if !package_path::is_safe(path) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("unsafe path in a package: {path:?}"),
            ));
        }
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
        for bad in [
            "../evil.js",
            "a/../../evil.js",
            "/etc/passwd",
            "C:/x",
            "a\\..\\..\\x",
            "a\u{1b}b",
        ] {
            let z = raw_zip(&["app.json", bad]);
            assert!(
                matches!(read_draft(&z, LIMITS), Err(DraftError::UnsafePath(_))),
                "{bad}"
            );
        }
    }

    /// A zip with `names` stored as given, bypassing the writer's check.
    fn raw_zip(names: &[&str]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        for n in names {
            zip.start_file(*n, opts).unwrap();
            zip.write_all(if *n == "app.json" { APP } else { b"x" })
                .unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn refuses_duplicate_entries_even_when_the_reader_would_keep_one() {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        for body in [APP, br#"{"pages":["pages/evil/evil"]}"#] {
            // The zip crate refuses a second start_file of one name, so
            // write the second under a placeholder and rename it in place.
            let name = if body == APP { "app.json" } else { "app.jsoX" };
            zip.start_file(name, opts).unwrap();
            zip.write_all(body).unwrap();
        }
        let mut z = zip.finish().unwrap().into_inner();
        let mut i = 0;
        while let Some(at) = z[i..].windows(8).position(|w| w == b"app.jsoX") {
            z[i + at + 7] = b'n';
            i += at + 8;
        }
        assert_eq!(
            read_draft(&z, LIMITS),
            Err(DraftError::Duplicate("app.json".into()))
        );
        let z = raw_zip(&["app.json", "pages/a.js", "./pages//a.js"]);
        assert_eq!(
            read_draft(&z, LIMITS),
            Err(DraftError::Duplicate("pages/a.js".into()))
        );
        let z = raw_zip(&["app.json", "pages/A.js", "pages/a.js"]);
        assert_eq!(
            read_draft(&z, LIMITS),
            Err(DraftError::CaseClash(
                "pages/A.js".into(),
                "pages/a.js".into()
            ))
        );
        let z = raw_zip(&["app.json", "Pages/a.js", "pages/b.js"]);
        assert!(
            read_draft(&z, LIMITS).is_ok(),
            "folders of different case hold different names"
        );
    }

    #[test]
    fn refuses_app_json_pages_and_tab_bar_paths_that_escape() {
        for bad in [
            r#"{"pages":["../../../../tmp/x"]}"#,
            r#"{"pages":["/tmp/x"]}"#,
            r#"{"pages":["C:\\x"]}"#,
            r#"{"pages":["pages/../../x"]}"#,
            r#"{"pages":["pages//x"]}"#,
            r#"{"pages":["a"],"subPackages":[{"root":"../sub","pages":["p"]}]}"#,
            r#"{"pages":["a"],"tabBar":{"list":[{"pagePath":"a","iconPath":"../../icon.png"}]}}"#,
        ] {
            let z = write_zip([("app.json", bad.as_bytes())]).unwrap();
            assert!(
                matches!(read_draft(&z, LIMITS), Err(DraftError::UnsafePath(_))),
                "{bad}: {:?}",
                read_draft(&z, LIMITS)
            );
        }
    }

    #[test]
    fn the_writer_refuses_unsafe_names() {
        for bad in ["../../../../tmp/x.json", "/etc/x", "a\\b", "C:/x"] {
            assert!(write_zip([(bad, &b"x"[..])]).is_err(), "{bad}");
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
