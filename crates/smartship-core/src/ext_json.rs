//! `ext_json` of `package/upload`: parsed and type-checked synchronously
//! (errors name the field and become errno 40001). Checks that need the
//! template (are `tabBar` and `extPages` pages of it?) happen in [`crate::build`].

use crate::package_path;
use serde_json::{Map, Value};

/// A path of the package named in `ext_json` must already be in the one
/// safe form ([`package_path`]): it becomes a file name in the package.
fn package_path_field(field: &str, path: &str) -> Result<(), ExtJsonError> {
    match package_path::normalize(path) {
        Ok(n) if n == path => Ok(()),
        Ok(n) => Err(err(field, format!("不是规范的包内路径 (应写作 \"{n}\")"))),
        Err(e) => Err(err(field, format!("不是安全的包内路径: {e}"))),
    }
}

/// A field of `ext_json` and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {reason}")]
pub struct ExtJsonError {
    /// Dotted path, e.g. `ext_json.tabBar.list[1].pagePath`.
    pub field: String,
    pub reason: String,
}

fn err(field: impl Into<String>, reason: impl Into<String>) -> ExtJsonError {
    ExtJsonError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// A validated `ext_json`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtConfig {
    pub ext_enable: bool,
    pub ext_appid: Option<i64>,
    pub direct_commit: bool,
    pub ext: Option<Map<String, Value>>,
    pub ext_pages: Map<String, Value>,
    pub window: Option<Map<String, Value>>,
    pub tab_bar: Option<Map<String, Value>>,
    pub network_timeout: Option<Map<String, Value>>,
    /// The document as received (re-serialized), written to the package as `ext.json`.
    pub document: Map<String, Value>,
}

/// Booleans arrive as JSON booleans or, from some SDKs, as the strings
/// "true"/"false" (the public page types `directCommit` as string).
fn boolean(v: &Value, field: &str) -> Result<bool, ExtJsonError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        _ => Err(err(field, "必须是布尔值 (true/false)")),
    }
}

fn object(v: &Value, field: &str) -> Result<Map<String, Value>, ExtJsonError> {
    v.as_object()
        .cloned()
        .ok_or_else(|| err(field, "必须是 JSON 对象"))
}

/// Parses and validates `raw` for the app `app_id`.
pub fn parse(raw: &str, app_id: i64) -> Result<ExtConfig, ExtJsonError> {
    let doc: Value =
        serde_json::from_str(raw).map_err(|e| err("ext_json", format!("不是合法的 JSON ({e})")))?;
    let Value::Object(doc) = doc else {
        return Err(err("ext_json", "必须是 JSON 对象"));
    };
    let ext_enable = match doc.get("extEnable") {
        None => return Err(err("ext_json.extEnable", "缺失 (必填)")),
        Some(v) => boolean(v, "ext_json.extEnable")?,
    };
    let ext_appid = match doc.get("extAppid") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_i64()
                .ok_or_else(|| err("ext_json.extAppid", "必须是整数"))?,
        ),
        Some(Value::String(s)) => Some(
            s.trim()
                .parse::<i64>()
                .map_err(|_| err("ext_json.extAppid", "必须是整数"))?,
        ),
        Some(_) => return Err(err("ext_json.extAppid", "必须是整数")),
    };
    if let Some(id) = ext_appid
        && id != app_id
    {
        return Err(err(
            "ext_json.extAppid",
            format!("({id}) 与 access_token 所属小程序 ({app_id}) 不一致"),
        ));
    }
    let direct_commit = match doc.get("directCommit") {
        None | Some(Value::Null) => false,
        Some(v) => boolean(v, "ext_json.directCommit")?,
    };
    let opt_object = |key: &str| -> Result<Option<Map<String, Value>>, ExtJsonError> {
        match doc.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => object(v, &format!("ext_json.{key}")).map(Some),
        }
    };
    let ext = opt_object("ext")?;
    let ext_pages = opt_object("extPages")?.unwrap_or_default();
    for (page, cfg) in &ext_pages {
        package_path_field(&format!("ext_json.extPages[\"{page}\"]"), page)?;
        if !cfg.is_object() {
            return Err(err(
                format!("ext_json.extPages[\"{page}\"]"),
                "必须是 JSON 对象",
            ));
        }
    }
    let window = opt_object("window")?;
    let tab_bar = opt_object("tabBar")?;
    if let Some(tb) = &tab_bar
        && let Some(list) = tb.get("list")
    {
        let list = list
            .as_array()
            .ok_or_else(|| err("ext_json.tabBar.list", "必须是数组"))?;
        for (i, item) in list.iter().enumerate() {
            let field = format!("ext_json.tabBar.list[{i}]");
            let item = item
                .as_object()
                .ok_or_else(|| err(&field, "必须是 JSON 对象"))?;
            match item.get("pagePath") {
                Some(Value::String(p)) => package_path_field(&format!("{field}.pagePath"), p)?,
                Some(_) => return Err(err(format!("{field}.pagePath"), "必须是字符串")),
                None => return Err(err(format!("{field}.pagePath"), "缺失 (必填)")),
            }
            for icon in ["iconPath", "selectedIconPath"] {
                match item.get(icon) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(p)) => package_path_field(&format!("{field}.{icon}"), p)?,
                    Some(_) => return Err(err(format!("{field}.{icon}"), "必须是字符串")),
                }
            }
        }
    }
    let network_timeout = opt_object("networkTimeout")?;
    if let Some(nt) = &network_timeout {
        for (k, v) in nt {
            if v.as_u64().is_none_or(|n| n > 600_000) {
                return Err(err(
                    format!("ext_json.networkTimeout.{k}"),
                    "必须是 0 到 600000 之间的整数 (毫秒)",
                ));
            }
        }
    }
    Ok(ExtConfig {
        ext_enable,
        ext_appid,
        direct_commit,
        ext,
        ext_pages,
        window,
        tab_bar,
        network_timeout,
        document: doc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_example_parses() {
        let raw = r#"{"extEnable":true,"extAppid":"100000282","directCommit":false,
            "ext":{"name":"helloword"},
            "extPages":{"pages/api/api":{"navigationBarTitleText":"x"}},
            "window":{"navigationBarTitleText":"Demo"},
            "tabBar":{"list":[{"pagePath":"pages/index","text":"首页"}]},
            "networkTimeout":{"request":20000,"downloadFile":20000}}"#;
        let c = parse(raw, 100000282).unwrap();
        assert!(c.ext_enable);
        assert_eq!(c.ext_appid, Some(100000282));
        assert!(!c.direct_commit);
        assert_eq!(c.ext_pages.len(), 1);
    }

    #[test]
    fn ext_appid_is_optional() {
        let c = parse(r#"{"extEnable":true, "directCommit":false}"#, 5).unwrap();
        assert_eq!(c.ext_appid, None);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("{", "ext_json"),
            ("[]", "ext_json"),
            ("{}", "ext_json.extEnable"),
            (r#"{"extEnable":1}"#, "ext_json.extEnable"),
            (r#"{"extEnable":true,"extAppid":9}"#, "ext_json.extAppid"),
            (
                r#"{"extEnable":true,"directCommit":"yes"}"#,
                "ext_json.directCommit",
            ),
            (r#"{"extEnable":true,"ext":[1]}"#, "ext_json.ext"),
            (
                r#"{"extEnable":true,"extPages":{"a":1}}"#,
                "ext_json.extPages[\"a\"]",
            ),
            (
                r#"{"extEnable":true,"tabBar":{"list":[{}]}}"#,
                "ext_json.tabBar.list[0].pagePath",
            ),
            (
                r#"{"extEnable":true,"networkTimeout":{"request":"x"}}"#,
                "ext_json.networkTimeout.request",
            ),
        ];
        for (raw, field) in cases {
            let e = parse(raw, 5).unwrap_err();
            assert_eq!(e.field, field, "for {raw}");
        }
    }

    #[test]
    fn package_paths_in_ext_json_must_be_safe() {
        for (raw, field) in [
            (
                r#"{"extEnable":true,"extPages":{"../../../../tmp/x":{}}}"#,
                r#"ext_json.extPages["../../../../tmp/x"]"#,
            ),
            (
                r#"{"extEnable":true,"extPages":{"/tmp/x":{}}}"#,
                r#"ext_json.extPages["/tmp/x"]"#,
            ),
            (
                r#"{"extEnable":true,"extPages":{"pages/../../x":{}}}"#,
                r#"ext_json.extPages["pages/../../x"]"#,
            ),
            (
                r#"{"extEnable":true,"tabBar":{"list":[{"pagePath":"C:\\x"}]}}"#,
                "ext_json.tabBar.list[0].pagePath",
            ),
            (
                r#"{"extEnable":true,"tabBar":{"list":[{"pagePath":"a","iconPath":"../i.png"}]}}"#,
                "ext_json.tabBar.list[0].iconPath",
            ),
            (
                r#"{"extEnable":true,"tabBar":{"list":[{"pagePath":"a","selectedIconPath":7}]}}"#,
                "ext_json.tabBar.list[0].selectedIconPath",
            ),
        ] {
            let e = parse(raw, 1).unwrap_err();
            assert_eq!(e.field, field, "{raw}: {e}");
        }
        assert!(parse(r#"{"extEnable":true,"extPages":{"pages/a/a":{}},"tabBar":{"list":[{"pagePath":"pages/a/a","iconPath":"img/a.png"}]}}"#, 1).is_ok());
    }
}
