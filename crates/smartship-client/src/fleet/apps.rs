//! The apps file: which apps a fleet run drives, with their credentials and
//! per-app `ext_json` overrides.

use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

/// One app of the fleet.
///
/// The output of `smartship admin apps create --count N --tp CLIENT_ID
/// --approved --json` is accepted as is; extra fields are ignored.
///
/// ```
/// let apps = smartship_client::fleet::parse_apps(r#"[
///   {"app_id": 42, "access_token": "app.a", "refresh_token": "refresh.r", "expires_in": 3600},
///   {"app_id": 43, "refresh_token": "refresh.s", "ext_json": {"ext": {"city": "Hangzhou"}}}
/// ]"#).unwrap();
/// assert_eq!(apps[1].ext_json.as_ref().unwrap()["ext"]["city"], "Hangzhou");
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FleetApp {
    /// The app.
    pub app_id: i64,
    /// Its access token; without one the refresh token is used first.
    #[serde(default)]
    pub access_token: Option<String>,
    /// Its refresh token (needs the TP token to be used).
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Seconds the access token has left (default: assume an hour; a token
    /// refused by the gateway is refreshed anyway).
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// Merged over the run's base `ext_json` (JSON merge patch, RFC 7386).
    #[serde(default)]
    pub ext_json: Option<Value>,
}

/// Parses an apps file: a JSON array, or one JSON object per line.
///
/// ```
/// use smartship_client::fleet::parse_apps;
/// let lines = r#"{"app_id": 1, "access_token": "app.a"}
/// {"app_id": 2, "refresh_token": "refresh.b"}"#;
/// assert_eq!(parse_apps(lines).unwrap().len(), 2);
/// let twice = r#"[{"app_id": 1, "access_token": "a"}, {"app_id": 1, "access_token": "a"}]"#;
/// assert_eq!(parse_apps(twice).unwrap_err(), "apps file: app 1 is listed twice");
/// ```
pub fn parse_apps(text: &str) -> Result<Vec<FleetApp>, String> {
    let apps: Vec<FleetApp> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(|e| format!("apps file: {e}"))?
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(n, l)| {
                serde_json::from_str(l).map_err(|e| format!("apps file line {}: {e}", n + 1))
            })
            .collect::<Result<_, _>>()?
    };
    let mut seen = std::collections::HashSet::new();
    for a in &apps {
        if !seen.insert(a.app_id) {
            return Err(format!("apps file: app {} is listed twice", a.app_id));
        }
        if a.access_token.is_none() && a.refresh_token.is_none() {
            return Err(format!(
                "apps file: app {} has neither access_token nor refresh_token",
                a.app_id
            ));
        }
        if let Some(ext) = &a.ext_json
            && !ext.is_object()
        {
            return Err(format!(
                "apps file: ext_json of app {} must be an object",
                a.app_id
            ));
        }
    }
    Ok(apps)
}

/// Reads and parses an apps file.
///
/// ```
/// let path = std::env::temp_dir().join(format!("apps-doc-{}.json", std::process::id()));
/// std::fs::write(&path, r#"[{"app_id": 42, "access_token": "app.a"}]"#).unwrap();
/// let apps = smartship_client::fleet::load_apps(&path).unwrap();
/// assert_eq!(apps[0].app_id, 42);
/// std::fs::remove_file(&path).unwrap();
/// assert!(smartship_client::fleet::load_apps(&path).unwrap_err().starts_with("cannot read apps file"));
/// ```
pub fn load_apps(path: &Path) -> Result<Vec<FleetApp>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read apps file {}: {e}", path.display()))?;
    parse_apps(&text)
}

/// RFC 7386 JSON merge patch: objects merge recursively, `null` removes a
/// key, anything else replaces.
///
/// ```
/// use serde_json::json;
/// let mut base = json!({"extEnable": true, "ext": {"a": 1, "b": 2}});
/// smartship_client::fleet::merge_patch(&mut base, &json!({"ext": {"b": null, "c": 3}}));
/// assert_eq!(base, json!({"extEnable": true, "ext": {"a": 1, "c": 3}}));
/// ```
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let map = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}
