//! The audit log: every state-changing action of the open API, the
//! operator API, the console and the workers, with who did it, from
//! where, when, on what, with which parameters and how it ended.
//!
//! A middleware (`record`) sees each request that can change state (every
//! non-GET of the operator API and the console, every open API route but
//! the reads) and, once it is answered, queues an entry; the extractors
//! that authenticate a caller fill in who it was and its parameters
//! through an [`AuditSlot`] the middleware puts in the request. Workers
//! queue their own steps (`worker`). A writer task stores the queue in
//! batches, off the request path, at most every quarter second; at
//! shutdown it stores what is left after the last request is answered (a
//! process killed without warning loses up to that quarter second). The
//! package lifecycle's accepted changes through the open API (upload,
//! submit, withdraw, release, rollback) are not queued: their entry is
//! written in the change's own transaction ([`AuditSlot::entry_for_change`]),
//! so a kill can never leave an acknowledged change without its entry. It
//! goes to `audit_staging`, a table without secondary indexes (one page per
//! commit), and the writer moves it into the log within a pace, and every
//! node at start; a reader sees it after that quarter second. Entries beyond the queue's bound (a
//! database that stopped answering) are counted and dropped, never
//! waited for: the log never slows or stops the actions it records.
//!
//! Calls refused for want of valid credentials (an unknown token, a console
//! form without a session, a 401 of the operator API) are not entries of
//! their own: anyone can send them, as fast as they like. They are counted
//! per client address and window (`audit_refused_window_secs`, a minute by
//! default), nothing of what they sent kept, and each window is stored as
//! one entry `refused without credentials` with its count once it ends; at
//! most [`MAX_REFUSED_KEYS`] addresses a window have a count of their own,
//! the rest share one. A checked password that was wrong (the console's
//! sign-in) stays an entry of its own: the sign-in throttle bounds those.
//!
//! Secrets never reach it: values of parameters named like a token, a
//! password, a secret, a key, a code, a ticket or a CSRF token are replaced
//! by `***`.

pub mod queue;

use crate::state::AppState;
use axum::body::HttpBody;
use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
pub use queue::{AuditLog, MAX_REFUSED_KEYS, REFUSED_ACTION};
use smartship_store::NewAuditEntry;
use std::sync::{Arc, Mutex};

/// Entries stored per transaction at most.
const BATCH: usize = 2_000;
/// The writer stores at most this often: the log's writes then share few
/// commits (on SQLite every commit waits for the disk and holds the one
/// writer's lock, which the actions being recorded need). Measured with
/// `writes`: a batch per wake-up halved durable transitions per second;
/// this pace costs a few percent (docs/PERFORMANCE.md).
const PACE: std::time::Duration = std::time::Duration::from_millis(250);
/// A parameter's value is kept to this many characters.
const MAX_VALUE_CHARS: usize = 200;
/// Longest actor, action and target kept (characters); longer ones are
/// cut (a request's path or a made-up name can be long).
const MAX_FIELD_CHARS: usize = 200;
/// Longest detail kept (characters).
const MAX_DETAIL_CHARS: usize = 4000;
/// Answers larger than this are not read for their `errno`.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Open API routes that only read: not audited.
const READ_ONLY: &[&str] = &[
    "/rest/2.0/smartapp/app/category/list",
    "/rest/2.0/smartapp/app/checknamewithqual",
    "/rest/2.0/smartapp/app/info",
    "/rest/2.0/smartapp/app/qrcode",
    "/rest/2.0/smartapp/app/violation",
    "/rest/2.0/smartapp/package/auditquota",
    "/rest/2.0/smartapp/package/get",
    "/rest/2.0/smartapp/package/getdetail",
    "/rest/2.0/smartapp/package/getgrayreleaseplan",
    "/rest/2.0/smartapp/package/gethistory",
    "/rest/2.0/smartapp/package/precheck",
    "/rest/2.0/smartapp/template/gettemplatedraftlist",
    "/rest/2.0/smartapp/template/gettemplatelist",
    "/rest/2.0/smartapp/tp/download/domaincer",
];

/// Stores queued entries until the log is closed, then the rest.
pub async fn writer(s: AppState) {
    let Some(mut rx) = s.audit.rx.lock().expect("not poisoned").take() else {
        return;
    };
    let mut batch = Vec::with_capacity(BATCH);
    let window_ms = s.config.audit_refused_window_ms();
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(
        (window_ms / 4).clamp(250, 5_000) as u64,
    ));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut staged = tokio::time::interval(PACE);
    staged.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = staged.tick() => {
                move_staged(s.store.as_ref()).await;
            }
            _ = tick.tick() => {
                let mut ended = s.audit.ended_windows(Some(crate::clock::now_ms()), window_ms);
                if !ended.is_empty() {
                    store(&s, &mut ended).await;
                }
            }
            n = rx.recv_many(&mut batch, BATCH) => {
                if n == 0 {
                    break;
                }
                // Gather what comes in the next moment into the same commit
                // (a closing log is not kept waiting).
                tokio::select! {
                    _ = tokio::time::sleep(PACE) => {}
                    _ = s.audit.closed.cancelled() => {}
                }
                loop {
                    let room = BATCH.saturating_sub(batch.len());
                    if room == 0 || !rx.recv_many(&mut batch, room).now_or_never_nonzero() {
                        break;
                    }
                }
                store(&s, &mut batch).await;
            }
            _ = s.audit.closed.cancelled() => {
                while rx.recv_many(&mut batch, BATCH).now_or_never_nonzero() {
                    store(&s, &mut batch).await;
                }
                let mut ended = s.audit.ended_windows(None, window_ms);
                store(&s, &mut ended).await;
                move_staged(s.store.as_ref()).await;
                break;
            }
        }
    }
}

/// Moves the entries written with their changes (`audit_staging`) into
/// the log, [`BATCH`] at a time until none is left; how many moved. They
/// are durable where they are: a failure here is retried at the next pace.
pub async fn move_staged(store: &dyn smartship_store::Store) -> u64 {
    let mut total = 0;
    loop {
        match crate::service::housekeeping::move_staged_audit(store, BATCH as i64).await {
            Ok(n) => {
                total += n;
                if n < BATCH as u64 {
                    return total;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "moving staged audit entries failed");
                return total;
            }
        }
    }
}

/// `recv_many` without waiting: whether it took anything.
trait NowOrNever {
    fn now_or_never_nonzero(self) -> bool;
}

impl<F: std::future::Future<Output = usize>> NowOrNever for F {
    fn now_or_never_nonzero(self) -> bool {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = std::pin::pin!(self);
        matches!(f.as_mut().poll(&mut cx), std::task::Poll::Ready(n) if n > 0)
    }
}

async fn store(s: &AppState, batch: &mut Vec<NewAuditEntry>) {
    // A failed write is retried a few times (a busy database), then the
    // batch is counted as dropped.
    for attempt in 0..3 {
        match crate::service::housekeeping::append_audit(s, batch).await {
            Ok(()) => {
                batch.clear();
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, attempt, entries = batch.len(), "storing audit entries failed");
                tokio::time::sleep(std::time::Duration::from_millis(200 << attempt)).await;
            }
        }
    }
    metrics::counter!("smartship_audit_entries_dropped_total").increment(batch.len() as u64);
    batch.clear();
}

/// What an authenticated handler tells the middleware about the call.
#[derive(Debug, Default)]
pub struct Said {
    /// The client's address and `METHOD /path`, set by the middleware.
    pub address: Option<String>,
    pub action: String,
    pub actor: Option<String>,
    pub detail: Option<String>,
    pub target: Option<String>,
    /// The entry was written in the transaction of the change it records
    /// ([`AuditSlot::entry_for_change`]): the middleware writes none.
    pub stored: bool,
    /// An anonymous call whose credentials were checked (a wrong password
    /// under the sign-in throttle): an entry of its own, not a count.
    pub checked: bool,
}

/// Put into each audited request; extractors fill it in.
#[derive(Debug, Clone, Default)]
pub struct AuditSlot(pub Arc<Mutex<Said>>);

impl AuditSlot {
    /// The slot of a request, if it is audited.
    pub fn of(extensions: &axum::http::Extensions) -> Option<AuditSlot> {
        extensions.get::<AuditSlot>().cloned()
    }

    pub fn actor(&self, actor: String) {
        self.0.lock().expect("not poisoned").actor = Some(actor);
    }

    /// The entry of an accepted change, for the store to write in the
    /// change's own transaction; [`AuditSlot::stored`] once it committed.
    pub fn entry_for_change(&self) -> NewAuditEntry {
        let said = self.0.lock().expect("not poisoned");
        entry(
            crate::clock::now_ms(),
            said.actor.clone().unwrap_or_else(|| "anonymous".to_owned()),
            said.address.clone(),
            said.action.clone(),
            said.target.clone().unwrap_or_default(),
            said.detail.clone().unwrap_or_default(),
            "ok".to_owned(),
        )
    }

    /// The change and its entry committed together.
    pub fn stored(&self) {
        self.0.lock().expect("not poisoned").stored = true;
    }

    /// Marks an anonymous call whose password was checked.
    pub fn checked(&self) {
        self.0.lock().expect("not poisoned").checked = true;
    }

    /// Records parameters (secrets left out) and the target they name.
    pub fn params(&self, params: &[(String, String)]) {
        let mut said = self.0.lock().expect("not poisoned");
        said.target = target_of(params);
        said.detail = Some(detail_of(params));
    }
}

/// Whether a parameter's value must not be recorded.
pub fn is_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "token", "password", "secret", "key", "code", "ticket", "csrf",
    ]
    .iter()
    .any(|s| n.contains(s))
}

/// Parameters as one JSON object, secrets replaced, values shortened.
pub fn detail_of(params: &[(String, String)]) -> String {
    let mut map = serde_json::Map::new();
    for (k, v) in params {
        let v = if is_secret(k) {
            "***".to_owned()
        } else if v.chars().count() > MAX_VALUE_CHARS {
            format!("{}…", v.chars().take(MAX_VALUE_CHARS).collect::<String>())
        } else {
            v.clone()
        };
        map.insert(k.clone(), serde_json::Value::String(v));
    }
    serde_json::Value::Object(map).to_string()
}

/// `text` cut to `max` characters, marked with an ellipsis when cut.
fn cut(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let mut out: String = text.chars().take(max).collect();
    out.push('…');
    out
}

/// Secrets replaced in a JSON body, recursively.
fn redact_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret(k) && !v.is_null() {
                    *v = serde_json::Value::String("***".to_owned());
                } else {
                    redact_json(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// The package, template, draft or examination a call names.
fn target_of(params: &[(String, String)]) -> Option<String> {
    ["package_id", "template_id", "draft_id", "examine_id"]
        .iter()
        .find_map(|k| {
            params
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| format!("{}:{}", k.trim_end_matches("_id"), v.trim()))
        })
}

/// Whether a request can change state.
fn audited(method: &Method, path: &str) -> bool {
    if path.starts_with("/admin/v1/")
        || path.starts_with("/console")
        || path.starts_with("/mappconsole/")
    {
        return method != Method::GET && method != Method::HEAD;
    }
    (path.starts_with("/rest/2.0/")
        || path.starts_with("/public/2.0/")
        || path == "/file/2.0/smartapp/upload/image")
        && !READ_ONLY.contains(&path)
}

/// The middleware: queues an entry for every audited request once it is
/// answered.
pub async fn record(s: axum::extract::State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    if !audited(&method, &path) {
        return next.run(req).await;
    }
    let address = req
        .extensions()
        .get::<axum::extract::ConnectInfo<crate::lenient_http::PeerAddr>>()
        .map(|c| c.0.0.ip().to_string());
    let query_pairs: Vec<(String, String)> = req
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let slot = AuditSlot::default();
    {
        let mut said = slot.0.lock().expect("not poisoned");
        said.address = address.clone();
        said.action = format!("{method} {path}");
    }
    let mut req = req;
    req.extensions_mut().insert(slot.clone());
    // The operator API's JSON bodies are small: read here for the record
    // (secrets left out) and handed on unchanged.
    let mut body_detail = None;
    if path.starts_with("/admin/v1/") {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        // Only a body whose length is declared and small is read here; any
        // other goes on untouched (its detail is then the query).
        let small = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|n| n <= MAX_ANSWER_BYTES);
        if is_json && small {
            let (parts, body) = req.into_parts();
            let bytes = match axum::body::to_bytes(body, MAX_ANSWER_BYTES).await {
                Ok(b) => b,
                Err(_) => {
                    return crate::json_error::JsonError::new(
                        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        "request body too large",
                    )
                    .into_response();
                }
            };
            if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                redact_json(&mut v);
                body_detail = Some(v.to_string());
            }
            req = Request::from_parts(parts, axum::body::Body::from(bytes));
        }
    }
    let resp = next.run(req).await;
    let status = resp.status();
    let (resp, errno) = if path.starts_with("/admin/")
        || path.starts_with("/console")
        || path.starts_with("/mappconsole/")
    {
        (resp, None)
    } else {
        answer_code(resp).await
    };
    let said = std::mem::take(&mut *slot.0.lock().expect("not poisoned"));
    if said.stored {
        // Written with the change itself.
        return resp;
    }
    // A console form without a session is answered by a redirect to the
    // sign-in page: refused, not done.
    let unsigned_console = path.starts_with("/console") && said.actor.is_none();
    let outcome = match errno {
        Some(0) | None if (status.is_success() || status.is_redirection()) && !unsigned_console => {
            "ok".to_owned()
        }
        Some(code) if code != 0 => format!("errno {code}"),
        _ => format!("HTTP {}", status.as_u16()),
    };
    // What an unauthenticated caller sent is not kept, only that it came.
    if status == axum::http::StatusCode::UNAUTHORIZED {
        body_detail = None;
    }
    let actor = said.actor.unwrap_or_else(|| {
        if path.starts_with("/admin/v1/") && status != axum::http::StatusCode::UNAUTHORIZED {
            "admin".to_owned()
        } else {
            "anonymous".to_owned()
        }
    });
    let at = crate::clock::now_ms();
    if actor == "anonymous" && outcome != "ok" && !said.checked {
        // Anyone can send these as fast as they like: counted, not kept.
        s.audit.refused(
            at,
            s.config.audit_refused_window_ms(),
            address,
            &format!("{method} {path}"),
        );
        return resp;
    }
    s.audit.push(entry(
        at,
        actor,
        address,
        said.action,
        said.target.unwrap_or_default(),
        said.detail
            .or(body_detail)
            .unwrap_or_else(|| detail_of(&query_pairs)),
        outcome,
    ));
    resp
}

/// An entry with every field cut to its bound and its control and hidden
/// characters written out.
fn entry(
    at: i64,
    actor: String,
    address: Option<String>,
    action: String,
    target: String,
    detail: String,
    outcome: String,
) -> NewAuditEntry {
    NewAuditEntry {
        at,
        actor: printable(cut(actor, MAX_FIELD_CHARS)),
        address,
        action: printable(cut(action, MAX_FIELD_CHARS)),
        target: printable(cut(target, MAX_FIELD_CHARS)),
        detail: printable(cut(detail, MAX_DETAIL_CHARS)),
        outcome,
    }
}

/// `text` with every control or hidden character written as `\u{XXXX}`
/// (`smartship_core::text::printable`): an entry shows what was sent
/// without letting it reorder or hide what is around it.
fn printable(text: String) -> String {
    match smartship_core::text::printable(&text, false) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

/// The open platform's code in a JSON answer (`errno` or `error_code`),
/// the answer handed on unchanged.
async fn answer_code(resp: Response) -> (Response, Option<i64>) {
    let small = resp
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n <= MAX_ANSWER_BYTES as u64);
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(small && json) {
        return (resp, None);
    }
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ANSWER_BYTES).await else {
        return (Response::from_parts(parts, axum::body::Body::empty()), None);
    };
    let code = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| {
            v.get("errno")
                .or_else(|| v.get("error_code"))
                .and_then(serde_json::Value::as_i64)
        });
    (
        Response::from_parts(parts, axum::body::Body::from(bytes)),
        code,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn refused_calls_are_counted_per_address_and_window_within_a_bound() {
        let log = AuditLog::default();
        for i in 0..5_000u32 {
            log.refused(
                60_500,
                60_000,
                Some(format!("10.0.{}.{}", i / 250, i % 250)),
                "POST /x",
            );
        }
        log.refused(60_700, 60_000, Some("10.0.0.0".into()), "POST /y");
        assert!(
            log.ended_windows(Some(119_999), 60_000).is_empty(),
            "still open"
        );
        let ended = log.ended_windows(Some(120_000), 60_000);
        assert_eq!(ended.len(), MAX_REFUSED_KEYS + 1);
        let total: u64 = ended
            .iter()
            .map(|e| {
                serde_json::from_str::<serde_json::Value>(&e.detail).unwrap()["count"]
                    .as_u64()
                    .unwrap()
            })
            .sum();
        assert_eq!(total, 5_001);
        assert!(
            ended
                .iter()
                .all(|e| e.at == 60_000 && e.actor == "anonymous")
        );
        assert!(log.ended_windows(None, 60_000).is_empty());
    }

    #[test]
    fn secrets_are_left_out() {
        let d = detail_of(&pairs(&[
            ("access_token", "app.abc"),
            ("password", "hunter2"),
            ("encoding_aes_key", "k"),
            ("pre_auth_code", "c"),
            ("csrf", "x"),
            ("package_id", "12"),
            ("content", "新版本"),
        ]));
        for secret in ["app.abc", "hunter2", "\"k\"", "\"c\"", "\"x\""] {
            assert!(!d.contains(secret), "{secret} in {d}");
        }
        assert!(
            d.contains("\"package_id\":\"12\"") && d.contains("新版本"),
            "{d}"
        );
        let mut v = serde_json::json!({"name": "a", "webhook_secret": "s", "nested": [{"msg_token": "t"}], "password": null});
        redact_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"name": "a", "webhook_secret": "***", "nested": [{"msg_token": "***"}], "password": null})
        );
    }

    #[test]
    fn long_values_are_shortened() {
        let d = detail_of(&pairs(&[("ext_json", &"x".repeat(5000))]));
        assert!(d.len() < 300, "{}", d.len());
        assert_eq!(cut("abc".into(), 3), "abc");
        assert_eq!(cut("abcd".into(), 3), "abc…");
        assert_eq!(cut("中文字".repeat(100), 2), "中文…");
    }

    #[test]
    fn the_target_is_what_the_call_names() {
        assert_eq!(
            target_of(&pairs(&[("package_id", "7")])),
            Some("package:7".into())
        );
        assert_eq!(
            target_of(&pairs(&[("template_id", "3"), ("x", "y")])),
            Some("template:3".into())
        );
        assert_eq!(target_of(&pairs(&[("x", "y")])), None);
    }

    #[test]
    fn reads_are_not_audited() {
        assert!(audited(
            &Method::POST,
            "/rest/2.0/smartapp/package/submitaudit"
        ));
        assert!(audited(&Method::GET, "/rest/2.0/smartapp/package/release"));
        assert!(!audited(&Method::GET, "/rest/2.0/smartapp/package/get"));
        assert!(!audited(
            &Method::POST,
            "/rest/2.0/smartapp/package/gethistory"
        ));
        assert!(audited(&Method::PATCH, "/admin/v1/apps/1"));
        assert!(!audited(&Method::GET, "/admin/v1/apps"));
        assert!(audited(&Method::POST, "/console/sign-in"));
        assert!(!audited(&Method::GET, "/console/reviews"));
        assert!(!audited(&Method::GET, "/runtime/v1/update"));
        assert!(!audited(&Method::GET, "/healthz"));
    }
}
