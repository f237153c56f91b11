//! `GET /`: what this server is and where to go from here, for a person who
//! opens the base URL in a browser (HTML) or a script that asks for JSON.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::ACCEPT;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

/// The entry points, as (path, what it is).
const ENTRY_POINTS: [(&str, &str); 7] = [
    (
        "/rest/2.0/smartapp/",
        "open API for third-party platforms (docs/api.md)",
    ),
    (
        "/admin/v1/status",
        "operator API, bearer admin token (docs/operations.md)",
    ),
    (
        "/mappconsole/tp/authorization",
        "consent page where an app's administrator authorizes a platform (docs/auth.md)",
    ),
    (
        "/openapi.json",
        "OpenAPI 3.1 description of the open API and the operator API",
    ),
    ("/healthz", "health check: answers ok"),
    (
        "/readyz",
        "readiness for a load balancer: 200 when the database answers with the expected schema and the node is not stopping",
    ),
    ("/", "this page"),
];

pub async fn show(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let wants_json = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json") && !v.contains("text/html"));
    let version = env!("CARGO_PKG_VERSION");
    if wants_json {
        let links: Vec<_> = ENTRY_POINTS
            .iter()
            .map(|(path, what)| json!({"path": path, "description": what}))
            .collect();
        return Json(json!({
            "name": "smartship",
            "description": "self-hostable mini-program release platform",
            "version": version,
            "timezone": s.config.timezone,
            "links": links,
        }))
        .into_response();
    }
    let items: String = ENTRY_POINTS
        .iter()
        .map(|(path, what)| {
            format!("<li><a href=\"{path}\"><code>{path}</code></a> — {what}</li>\n")
        })
        .collect();
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>smartship {version}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}code{{background:#f3f3f3;padding:0 .2em}}</style></head>
<body>
<h1>smartship {version}</h1>
<p>A self-hostable mini-program release platform: third-party platforms upload a
package from a template, submit it for audit and release it, through the public
Baidu Smart Program open API (<code>/rest/2.0/smartapp/...</code>).</p>
<h2>Entry points</h2>
<ul>
{items}</ul>
<p>The documentation is in the <code>docs/</code> folder of the source tree:
<code>docs/api.md</code> (every route), <code>docs/errors.md</code> (every code),
<code>docs/operations.md</code> (configuration and the CLI). Times are shown in the
platform's time zone, <code>{tz}</code>.</p>
</body>
</html>
"#,
        tz = s.config.timezone,
    ))
    .into_response()
}
