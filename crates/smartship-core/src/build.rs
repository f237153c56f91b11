//! Building a package from a template and `ext_json` (SPEC §4 "ext_json").
//!
//! The build reads only the JSON files it changes (`app.json` and the page
//! configs named in `extPages`); every other file of the template is shared
//! with the package by reference. The result is a new [`Manifest`] plus the
//! few files whose bytes are new.

use crate::ext_json::ExtConfig;
use crate::manifest::Manifest;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Why a build failed; shown to the ISV as `upload_status_desc`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("模板缺少 app.json")]
    MissingAppJson,
    #[error("模板 {path} 不是合法的 JSON 对象: {reason}")]
    BadTemplateJson { path: String, reason: String },
    #[error("ext_json.tabBar.list[{index}].pagePath \"{page}\" 不是模板中的页面")]
    UnknownTabBarPage { index: usize, page: String },
    #[error("ext_json.extPages 的键 \"{page}\" 不是模板中的页面")]
    UnknownExtPage { page: String },
    #[error("代码包大小 {size} 字节超过上限 {limit} 字节")]
    TooLarge { size: u64, limit: u64 },
    #[error("读取模板文件 {path} 失败: {reason}")]
    Read { path: String, reason: String },
    #[error("代码包中的路径 \"{path}\" 不安全: {reason}")]
    UnsafePath { path: String, reason: String },
}

impl BuildError {
    /// Stable numeric code for `upload_err_code` (see docs/errors.md).
    pub fn code(&self) -> i64 {
        match self {
            BuildError::MissingAppJson | BuildError::BadTemplateJson { .. } => 1,
            BuildError::UnknownTabBarPage { .. } => 2,
            BuildError::UnknownExtPage { .. } => 3,
            BuildError::TooLarge { .. } => 4,
            BuildError::Read { .. } => 5,
            BuildError::UnsafePath { .. } => 7,
        }
    }
}

/// A finished build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltPackage {
    pub manifest: Manifest,
    /// Files whose content the build produced (path, bytes); all other files
    /// of the manifest are the template's.
    pub new_files: Vec<(String, Vec<u8>)>,
}

/// The pages a template declares: `pages` plus every sub-package's
/// `root/page` (both `subPackages` and `subpackages` spellings).
pub fn declared_pages(app_json: &Map<String, Value>) -> BTreeSet<String> {
    let mut pages = BTreeSet::new();
    if let Some(list) = app_json.get("pages").and_then(Value::as_array) {
        pages.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    for key in ["subPackages", "subpackages"] {
        for sub in app_json
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let root = sub
                .get("root")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim_end_matches('/');
            for p in sub
                .get("pages")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                pages.insert(format!("{root}/{p}"));
            }
        }
    }
    pages
}

fn parse_object(path: &str, bytes: &[u8]) -> Result<Map<String, Value>, BuildError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(BuildError::BadTemplateJson {
            path: path.to_owned(),
            reason: "不是对象".to_owned(),
        }),
        Err(e) => Err(BuildError::BadTemplateJson {
            path: path.to_owned(),
            reason: e.to_string(),
        }),
    }
}

/// Shallow merge: keys of `over` replace those of `base`.
fn merge_into(base: &mut Map<String, Value>, key: &str, over: &Map<String, Value>) {
    let slot = base
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    let target = slot.as_object_mut().expect("made an object above");
    for (k, v) in over {
        target.insert(k.clone(), v.clone());
    }
}

fn to_json_bytes(m: &Map<String, Value>) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(m).expect("a JSON map always serializes");
    out.push(b'\n');
    out
}

/// Builds a package.
///
/// `read` returns the bytes of a template file by path. `limit` is the
/// maximum total size of the package in bytes.
pub fn build_package(
    template: &Manifest,
    ext: &ExtConfig,
    read: &mut dyn FnMut(&str) -> Result<Vec<u8>, String>,
    limit: u64,
) -> Result<BuiltPackage, BuildError> {
    let mut manifest = template.clone();
    let mut new_files = Vec::new();
    if ext.ext_enable {
        if !template.files.contains_key("app.json") {
            return Err(BuildError::MissingAppJson);
        }
        let mut read_file = |path: &str| {
            read(path).map_err(|reason| BuildError::Read {
                path: path.to_owned(),
                reason,
            })
        };
        let mut app = parse_object("app.json", &read_file("app.json")?)?;
        let pages = declared_pages(&app);
        if let Some(tb) = &ext.tab_bar
            && let Some(list) = tb.get("list").and_then(Value::as_array)
        {
            for (index, item) in list.iter().enumerate() {
                let page = item.get("pagePath").and_then(Value::as_str).unwrap_or("");
                if !pages.contains(page) {
                    return Err(BuildError::UnknownTabBarPage {
                        index,
                        page: page.to_owned(),
                    });
                }
            }
        }
        for page in ext.ext_pages.keys() {
            if !pages.contains(page) {
                return Err(BuildError::UnknownExtPage { page: page.clone() });
            }
        }
        if let Some(w) = &ext.window {
            merge_into(&mut app, "window", w);
        }
        if let Some(tb) = &ext.tab_bar {
            merge_into(&mut app, "tabBar", tb);
        }
        if let Some(nt) = &ext.network_timeout {
            merge_into(&mut app, "networkTimeout", nt);
        }
        let app_bytes = to_json_bytes(&app);
        manifest.insert("app.json", &app_bytes);
        new_files.push(("app.json".to_owned(), app_bytes));

        for (page, cfg) in &ext.ext_pages {
            let path = format!("{page}.json");
            let mut page_cfg = if template.files.contains_key(&path) {
                parse_object(&path, &read_file(&path)?)?
            } else {
                Map::new()
            };
            for (k, v) in cfg.as_object().into_iter().flatten() {
                page_cfg.insert(k.clone(), v.clone());
            }
            let bytes = to_json_bytes(&page_cfg);
            manifest.insert(&path, &bytes);
            new_files.push((path, bytes));
        }

        let ext_bytes = to_json_bytes(&ext.document);
        manifest.insert("ext.json", &ext_bytes);
        new_files.push(("ext.json".to_owned(), ext_bytes));
    }
    // The last guard: whatever the template or ext_json held (a template
    // stored before paths were checked, say), a built package holds only
    // safe relative paths.
    for path in manifest.files.keys() {
        if !crate::package_path::is_safe(path) {
            let reason = match crate::package_path::normalize(path) {
                Err(e) => e.to_string(),
                Ok(n) => format!("应写作 {n}"),
            };
            return Err(BuildError::UnsafePath {
                path: path.clone(),
                reason,
            });
        }
    }
    let size = manifest.total_size();
    if size > limit {
        return Err(BuildError::TooLarge { size, limit });
    }
    Ok(BuiltPackage {
        manifest,
        new_files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext_json;
    use std::collections::HashMap;

    fn template() -> (Manifest, HashMap<String, Vec<u8>>) {
        let mut files = HashMap::new();
        files.insert(
            "app.json".to_owned(),
            br#"{"pages":["pages/index/index","pages/api/api"],"window":{"navigationBarTitleText":"T","backgroundTextStyle":"dark"},
               "subPackages":[{"root":"sub","pages":["a/a"]}]}"#
                .to_vec(),
        );
        files.insert(
            "pages/api/api.json".to_owned(),
            br#"{"usingComponents":{}}"#.to_vec(),
        );
        files.insert("pages/index/index.js".to_owned(), b"Page({})".to_vec());
        let mut m = Manifest::default();
        for (p, c) in &files {
            m.insert(p, c);
        }
        (m, files)
    }

    fn run(raw: &str, limit: u64) -> Result<BuiltPackage, BuildError> {
        let (m, files) = template();
        let ext = ext_json::parse(raw, 1).unwrap();
        build_package(
            &m,
            &ext,
            &mut |p| files.get(p).cloned().ok_or_else(|| "missing".to_owned()),
            limit,
        )
    }

    fn json_of(b: &BuiltPackage, path: &str) -> Value {
        let bytes = &b.new_files.iter().find(|(p, _)| p == path).unwrap().1;
        serde_json::from_slice(bytes).unwrap()
    }

    #[test]
    fn merges_window_tabbar_pages_and_writes_ext() {
        let b = run(
            r#"{"extEnable":true,"ext":{"k":1},"window":{"navigationBarTitleText":"Shop"},
                "tabBar":{"list":[{"pagePath":"pages/index/index","text":"首页"},{"pagePath":"sub/a/a","text":"A"}]},
                "extPages":{"pages/api/api":{"navigationBarTitleText":"API"},"pages/index/index":{"x":1}}}"#,
            1 << 20,
        )
        .unwrap();
        let app = json_of(&b, "app.json");
        assert_eq!(app["window"]["navigationBarTitleText"], "Shop");
        assert_eq!(app["window"]["backgroundTextStyle"], "dark");
        assert_eq!(app["tabBar"]["list"][1]["pagePath"], "sub/a/a");
        assert_eq!(
            json_of(&b, "pages/api/api.json")["usingComponents"],
            serde_json::json!({})
        );
        assert_eq!(
            json_of(&b, "pages/api/api.json")["navigationBarTitleText"],
            "API"
        );
        assert_eq!(json_of(&b, "pages/index/index.json")["x"], 1);
        assert_eq!(json_of(&b, "ext.json")["ext"]["k"], 1);
        // Unchanged files keep the template's reference.
        let (m, _) = template();
        assert_eq!(
            b.manifest.files["pages/index/index.js"],
            m.files["pages/index/index.js"]
        );
    }

    #[test]
    fn unknown_pages_fail_precisely() {
        let e = run(
            r#"{"extEnable":true,"tabBar":{"list":[{"pagePath":"pages/nope"}]}}"#,
            1 << 20,
        )
        .unwrap_err();
        assert_eq!(
            e,
            BuildError::UnknownTabBarPage {
                index: 0,
                page: "pages/nope".into()
            }
        );
        let e = run(r#"{"extEnable":true,"extPages":{"pages/x":{}}}"#, 1 << 20).unwrap_err();
        assert_eq!(
            e,
            BuildError::UnknownExtPage {
                page: "pages/x".into()
            }
        );
    }

    #[test]
    fn a_template_holding_an_unsafe_path_does_not_build() {
        // A template stored before paths were checked, naming an escaping page.
        let mut m = Manifest::default();
        let app = br#"{"pages":["../../../../tmp/x"]}"#.to_vec();
        m.insert("app.json", &app);
        let ext = ext_json::parse(r#"{"extEnable":false}"#, 1).unwrap();
        m.insert("../../../../tmp/x.json", b"{}");
        let e = build_package(&m, &ext, &mut |_| Ok(app.clone()), 1 << 20).unwrap_err();
        assert!(matches!(e, BuildError::UnsafePath { .. }), "{e:?}");
        assert_eq!(e.code(), 7);
    }

    #[test]
    fn size_limit_and_disabled_ext() {
        assert!(matches!(
            run(r#"{"extEnable":true}"#, 10),
            Err(BuildError::TooLarge { .. })
        ));
        let b = run(r#"{"extEnable":false,"window":{"a":1}}"#, 1 << 20).unwrap();
        assert!(b.new_files.is_empty());
        assert_eq!(b.manifest, template().0);
    }
}
