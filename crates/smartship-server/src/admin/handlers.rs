//! Handlers of the operator API.

use super::AdminError;
use crate::openapi::package::render;
use crate::operator::{self, AppSpec, TpSpec};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use smartship_core::lifecycle::{Action, Verdict};
use smartship_core::{AppId, PackageId};
use smartship_store::{App, AppUpdate, EventRecord, Package, StoreError, Tp, TpUpdate};

fn body<T>(r: Result<Json<T>, JsonRejection>) -> Result<T, AdminError> {
    r.map(|Json(v)| v)
        .map_err(|e| AdminError::invalid(format!("request body: {}", e.body_text())))
}

fn conflict_or_internal(e: StoreError) -> AdminError {
    match e {
        StoreError::Conflict(m) => AdminError::new(StatusCode::CONFLICT, "conflict", m),
        other => other.into(),
    }
}

pub(super) fn tp_json(tp: &Tp) -> Value {
    json!({
        "client_id": tp.client_id,
        "tp_app_id": tp.id.0,
        "name": tp.name,
        "message_url": tp.message_url,
        "auth_event_url": tp.auth_event_url,
        "msg_token": tp.msg_token,
        "encoding_aes_key": tp.encoding_aes_key,
        "webhook_secret": tp.webhook_secret,
        "redirect_domain": tp.redirect_domain,
        "ip_allowlist": tp.ip_allowlist,
    })
}

pub(super) fn app_json(app: &App) -> Value {
    json!({
        "app_id": app.id.0,
        "app_key": app.app_key,
        "name": app.name,
        "description": app.description,
        "basic_info_approved": app.basic_info_approved,
        "authenticity_verified": app.authenticity_verified,
    })
}

pub(super) fn package_json(s: &AppState, p: &Package) -> Value {
    let mut v = serde_json::to_value(render(p, s.tz)).expect("serializable");
    let extra = json!({
        "app_id": p.app_id.0,
        "template_id": p.template_id.0,
        "state": p.state.as_str(),
        "build": p.build.as_str(),
        "size": p.size,
        "ext_json": serde_json::from_str::<Value>(&p.ext_json).unwrap_or(Value::Null),
        "audit_content": p.audit_content,
        "test_account": p.test_account,
        "rollback_due_at": p.rollback_due_at,
    });
    if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
        m.extend(e);
    }
    v
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTp {
    client_id: Option<String>,
    name: String,
    message_url: Option<String>,
    auth_event_url: Option<String>,
    msg_token: Option<String>,
    encoding_aes_key: Option<String>,
}

pub async fn create_tp(
    State(s): State<AppState>,
    req: Result<Json<CreateTp>, JsonRejection>,
) -> Result<Response, AdminError> {
    let req = body(req)?;
    if req.name.trim().is_empty() {
        return Err(AdminError::invalid("name must not be empty"));
    }
    check_event_url("message_url", &Some(req.message_url.clone()))?;
    check_event_url("auth_event_url", &Some(req.auth_event_url.clone()))?;
    if let Some(k) = &req.encoding_aes_key
        && (k.len() != 43
            || !k
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'))
    {
        return Err(AdminError::invalid(
            "encoding_aes_key must be 43 base64 characters",
        ));
    }
    let tp = operator::create_tp(
        &s,
        TpSpec {
            client_id: req.client_id,
            name: req.name,
            message_url: req.message_url,
            auth_event_url: req.auth_event_url,
            msg_token: req.msg_token,
            encoding_aes_key: req.encoding_aes_key,
        },
    )
    .await
    .map_err(conflict_or_internal)?;
    Ok((StatusCode::CREATED, Json(tp_json(&tp))).into_response())
}

pub(super) async fn tp_of(s: &AppState, client_id: &str) -> Result<Tp, AdminError> {
    s.store
        .tp_by_client_id(client_id)
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no third-party platform {client_id}")))
}

pub async fn get_tp(
    State(s): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    Ok(Json(tp_json(&tp_of(&s, &client_id).await?)))
}

pub async fn tp_token(
    State(s): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let tp = tp_of(&s, &client_id).await?;
    let token = operator::mint_tp_token(&s, tp.id).await?;
    Ok(Json(serde_json::to_value(token)?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateApp {
    app_id: Option<i64>,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    basic_info_approved: bool,
    #[serde(default)]
    authenticity_verified: bool,
}

pub async fn create_app(
    State(s): State<AppState>,
    req: Result<Json<CreateApp>, JsonRejection>,
) -> Result<Response, AdminError> {
    let req = body(req)?;
    if req.name.trim().is_empty() {
        return Err(AdminError::invalid("name must not be empty"));
    }
    if req.app_id.is_some_and(|id| id <= 0) {
        return Err(AdminError::invalid("app_id must be a positive integer"));
    }
    let app = operator::create_app(
        &s,
        AppSpec {
            app_id: req.app_id,
            name: req.name,
            description: req.description,
            basic_info_approved: req.basic_info_approved,
            authenticity_verified: req.authenticity_verified,
        },
    )
    .await
    .map_err(conflict_or_internal)?;
    Ok((StatusCode::CREATED, Json(app_json(&app))).into_response())
}

pub async fn get_app(
    State(s): State<AppState>,
    Path(app_id): Path<i64>,
) -> Result<Json<Value>, AdminError> {
    let app = s
        .store
        .app(AppId(app_id))
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no app {app_id}")))?;
    Ok(Json(app_json(&app)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateApp {
    name: Option<String>,
    basic_info_approved: Option<bool>,
    authenticity_verified: Option<bool>,
}

pub async fn update_app(
    State(s): State<AppState>,
    Path(app_id): Path<i64>,
    req: Result<Json<UpdateApp>, JsonRejection>,
) -> Result<Json<Value>, AdminError> {
    let req = body(req)?;
    let app = s
        .store
        .update_app(
            AppId(app_id),
            AppUpdate {
                name: req.name,
                basic_info_approved: req.basic_info_approved,
                authenticity_verified: req.authenticity_verified,
            },
        )
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no app {app_id}")))?;
    Ok(Json(app_json(&app)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorize {
    client_id: String,
    scopes: Option<String>,
}

pub async fn authorize(
    State(s): State<AppState>,
    Path(app_id): Path<i64>,
    req: Result<Json<Authorize>, JsonRejection>,
) -> Result<Json<Value>, AdminError> {
    let req = body(req)?;
    let tp = tp_of(&s, &req.client_id).await?;
    let app = s
        .store
        .app(AppId(app_id))
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no app {app_id}")))?;
    let scopes = req.scopes.as_deref().unwrap_or(operator::DEFAULT_SCOPES);
    let tokens = operator::authorize(&s, app.id, tp.id, scopes).await?;
    let mut v = serde_json::to_value(tokens)?;
    v["app_id"] = json!(app.id.0);
    v["client_id"] = json!(tp.client_id);
    Ok(Json(v))
}

pub async fn unauthorize(
    State(s): State<AppState>,
    Path((app_id, client_id)): Path<(i64, String)>,
) -> Result<Json<Value>, AdminError> {
    let tp = tp_of(&s, &client_id).await?;
    if !s
        .store
        .unauthorize(AppId(app_id), tp.id, crate::clock::now_ms())
        .await?
    {
        return Err(AdminError::not_found(format!(
            "app {app_id} has no active authorization with {client_id}"
        )));
    }
    s.events_wakeup.notify_one();
    Ok(Json(
        json!({"app_id": app_id, "client_id": client_id, "authorized": false}),
    ))
}

pub async fn tp_ticket(
    State(s): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let tp = tp_of(&s, &client_id).await?;
    let ticket = match s.store.tickets(tp.id, 0).await?.into_iter().next() {
        Some(t) => t,
        // A TP created moments ago may not have had its first rotation yet.
        None => crate::workers::ticket::rotate(&s, tp.id, crate::clock::now_ms()).await?,
    };
    Ok(Json(json!({"ticket": ticket})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppAdmin {
    username: String,
    password: String,
}

/// Creates (or resets) an administrator account of an app, used to sign in
/// on the consent page.
pub async fn upsert_app_admin(
    State(s): State<AppState>,
    Path(app_id): Path<i64>,
    req: Result<Json<AppAdmin>, JsonRejection>,
) -> Result<Json<Value>, AdminError> {
    let req = body(req)?;
    let username = req.username.trim();
    if username.is_empty() || username.chars().count() > 64 {
        return Err(AdminError::invalid("username must have 1 to 64 characters"));
    }
    if req.password.chars().count() < 8 {
        return Err(AdminError::invalid(
            "password must have at least 8 characters",
        ));
    }
    s.store
        .app(AppId(app_id))
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no app {app_id}")))?;
    let password = req.password.clone();
    let hash = tokio::task::spawn_blocking(move || crate::passwords::hash(&password)).await?;
    s.store
        .upsert_app_admin(username, AppId(app_id), &hash, crate::clock::now_ms())
        .await?;
    Ok(Json(json!({"app_id": app_id, "username": username})))
}

pub async fn app_packages(
    State(s): State<AppState>,
    Path(app_id): Path<i64>,
) -> Result<Json<Value>, AdminError> {
    let list = s.store.all_packages(AppId(app_id)).await?;
    Ok(Json(json!({
        "packages": list.iter().map(|p| package_json(&s, p)).collect::<Vec<_>>()
    })))
}

async fn package_of(s: &AppState, id: i64) -> Result<Package, AdminError> {
    s.store
        .package_any(PackageId(id))
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no package {id}")))
}

pub async fn get_package(
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, AdminError> {
    let p = package_of(&s, id).await?;
    let history = s.store.transitions(p.id).await?;
    let mut v = package_json(&s, &p);
    v["transitions"] = history
        .iter()
        .map(|t| {
            json!({
                "action": t.action,
                "from": t.from.map(|f| f.as_str()),
                "to": t.to.as_str(),
                "actor": t.actor,
                "detail": t.detail,
                "at": crate::clock::event_time(t.at, s.tz),
                "at_ms": t.at,
            })
        })
        .collect();
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    decision: String,
    reason: Option<String>,
}

pub async fn review(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    req: Result<Json<Review>, JsonRejection>,
) -> Result<Json<Value>, AdminError> {
    let req = body(req)?;
    let verdict = match (req.decision.as_str(), req.reason) {
        ("pass", _) => Verdict::Pass,
        ("fail", Some(reason)) if !reason.trim().is_empty() => {
            if reason.chars().count() > 1000 {
                return Err(AdminError::invalid("reason is longer than 1000 characters"));
            }
            Verdict::Fail { reason }
        }
        ("fail", _) => return Err(AdminError::invalid("a fail decision needs a reason")),
        (other, _) => {
            return Err(AdminError::invalid(format!(
                "decision must be \"pass\" or \"fail\", got {other:?}"
            )));
        }
    };
    let p = package_of(&s, id).await?;
    let ctx = s.action_context("admin".to_owned());
    match s
        .store
        .apply(p.app_id, p.id, Action::Review(verdict), &ctx)
        .await?
    {
        Ok(_) => {
            s.events_wakeup.notify_one();
            let p = package_of(&s, id).await?;
            Ok(Json(package_json(&s, &p)))
        }
        Err(r) => Err(AdminError::new(
            StatusCode::CONFLICT,
            "wrong_state",
            format!("package {id} cannot be reviewed: {r}"),
        )),
    }
}

pub async fn download(
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, AdminError> {
    let p = package_of(&s, id).await?;
    let manifest = s.store.package_manifest(p.id).await?.ok_or_else(|| {
        AdminError::new(
            StatusCode::CONFLICT,
            "not_built",
            format!(
                "package {id} has no built artifact (build: {})",
                p.build.as_str()
            ),
        )
    })?;
    let blobs = s.blobs.clone();
    let zip = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<u8>> {
        let mut files = Vec::with_capacity(manifest.files.len());
        for (path, f) in &manifest.files {
            files.push((path.clone(), blobs.get(&f.sha256)?));
        }
        Ok(smartship_core::archive::write_zip(
            files.iter().map(|(p, b)| (p.as_str(), b.as_slice())),
        )?)
    })
    .await??;
    Ok((
        [
            (CONTENT_TYPE, "application/zip".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"package-{id}.zip\""),
            ),
        ],
        zip,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    client_id: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
}

fn event_json(s: &AppState, e: &EventRecord) -> Value {
    json!({
        "id": smartship_api::events::webhook_id(e.id),
        "event_id": e.id,
        "tp_app_id": e.tp_id.0,
        "app_id": e.app_id.map(|a| a.0),
        "event": e.kind,
        "target": e.target.as_str(),
        "package_id": e.package_id.map(|p| p.0),
        "version": e.version,
        "reason": e.reason,
        "event_time": crate::clock::event_time(e.occurred_at, s.tz),
        "status": e.status,
        "attempts": e.attempts,
        "next_attempt_at": (e.status == "pending").then(|| crate::clock::event_time(e.next_attempt_at, s.tz)),
        "last_error": e.last_error,
        "delivered_at": e.delivered_at.map(|t| crate::clock::event_time(t, s.tz)),
    })
}

pub async fn events(
    State(s): State<AppState>,
    q: Result<Query<EventQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, AdminError> {
    let Query(q) = q.map_err(|e| AdminError::invalid(e.body_text()))?;
    let tp = match &q.client_id {
        Some(c) => Some(tp_of(&s, c).await?.id),
        None => None,
    };
    if let Some(st) = &q.status
        && !matches!(
            st.as_str(),
            "pending" | "delivered" | "failed" | "undeliverable" | "discarded"
        )
    {
        return Err(AdminError::invalid(
            "status must be pending, delivered, failed, undeliverable or discarded",
        ));
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let list = s.store.events(tp, q.status.as_deref(), limit).await?;
    Ok(Json(json!({
        "events": list.iter().map(|e| event_json(&s, e)).collect::<Vec<_>>()
    })))
}

/// Events are addressed by their number or their `webhook-id` (`evt_12`).
fn event_id(raw: &str) -> Result<i64, AdminError> {
    raw.strip_prefix("evt_")
        .unwrap_or(raw)
        .parse()
        .map_err(|_| AdminError::invalid(format!("{raw:?} is not an event id")))
}

pub async fn get_event(
    State(s): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let id = event_id(&raw)?;
    let e = s
        .store
        .event(id)
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no event {id}")))?;
    let attempts = s.store.event_attempts(id).await?;
    let mut v = event_json(&s, &e);
    v["attempt_log"] = attempts
        .iter()
        .map(|a| {
            json!({
                "attempt": a.attempt,
                "url": a.url,
                "at": crate::clock::event_time(a.started_at, s.tz),
                "at_ms": a.started_at,
                "duration_ms": a.duration_ms,
                "status_code": a.status_code,
                "response_body": a.response_body,
                "error": a.error,
                "outcome": a.outcome.as_str(),
            })
        })
        .collect();
    Ok(Json(v))
}

pub async fn replay_event(
    State(s): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let id = event_id(&raw)?;
    if !s.store.replay_event(id, crate::clock::now_ms()).await? {
        return Err(AdminError::not_found(format!("no event {id}")));
    }
    s.events_wakeup.notify_one();
    Ok(Json(json!({"replayed": 1})))
}

pub async fn replay_failed(
    State(s): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let tp = tp_of(&s, &client_id).await?;
    let n = s.store.replay_failed(tp.id, crate::clock::now_ms()).await?;
    s.events_wakeup.notify_one();
    Ok(Json(json!({"replayed": n})))
}

/// `null` clears a setting, an absent field leaves it.
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateTp {
    #[serde(default, deserialize_with = "double_option")]
    message_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    auth_event_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    webhook_secret: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    redirect_domain: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    ip_allowlist: Option<Option<String>>,
}

fn check_event_url(field: &str, url: &Option<Option<String>>) -> Result<(), AdminError> {
    if let Some(Some(u)) = url {
        let parsed = url::Url::parse(u)
            .map_err(|e| AdminError::invalid(format!("{field}: not a URL ({e})")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(AdminError::invalid(format!(
                "{field}: must be an http or https URL with a host"
            )));
        }
    }
    Ok(())
}

pub async fn update_tp(
    State(s): State<AppState>,
    Path(client_id): Path<String>,
    req: Result<Json<UpdateTp>, JsonRejection>,
) -> Result<Json<Value>, AdminError> {
    let req = body(req)?;
    if let Some(Some(list)) = &req.ip_allowlist {
        let policy = crate::net_guard::NetworkPolicy::parse(list)
            .map_err(|e| AdminError::invalid(format!("ip_allowlist: {e}")))?;
        if policy == crate::net_guard::NetworkPolicy::default() {
            return Err(AdminError::invalid(
                "ip_allowlist must list at least one network (null removes the allow-list)",
            ));
        }
    }
    if let Some(Some(domain)) = &req.redirect_domain {
        let d = domain.trim().trim_start_matches('.');
        let valid = !d.is_empty()
            && d.len() <= 253
            && d.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !valid {
            return Err(AdminError::invalid(
                "redirect_domain must be a domain name such as isv.example",
            ));
        }
    }
    check_event_url("message_url", &req.message_url)?;
    check_event_url("auth_event_url", &req.auth_event_url)?;
    if let Some(Some(secret)) = &req.webhook_secret
        && smartship_api::crypto::standard_webhook_signature(secret, "x", 0, b"").is_err()
    {
        return Err(AdminError::invalid(
            "webhook_secret must be whsec_ followed by the base64 of at least 16 bytes",
        ));
    }
    let tp = s
        .store
        .update_tp(
            &client_id,
            TpUpdate {
                message_url: req.message_url,
                auth_event_url: req.auth_event_url,
                webhook_secret: req.webhook_secret,
                redirect_domain: req
                    .redirect_domain
                    .map(|d| d.map(|d| d.trim().trim_start_matches('.').to_ascii_lowercase())),
                ip_allowlist: req.ip_allowlist,
            },
            crate::clock::now_ms(),
        )
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no third-party platform {client_id}")))?;
    // Held events may have become due.
    s.events_wakeup.notify_one();
    Ok(Json(tp_json(&tp)))
}

pub async fn storage(State(s): State<AppState>) -> Result<Json<Value>, AdminError> {
    let blobs = s.blobs.clone();
    let (count, bytes) = tokio::task::spawn_blocking(move || blobs.usage()).await??;
    Ok(Json(json!({"blob_count": count, "blob_bytes": bytes})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    limit: Option<i64>,
}

/// The review queue: packages under audit, oldest submission first.
pub async fn review_queue(
    State(s): State<AppState>,
    q: Result<Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, AdminError> {
    let Query(q) = q.map_err(|e| AdminError::invalid(e.body_text()))?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let list = s.store.packages_under_audit(limit).await?;
    let now = crate::clock::now_ms();
    let mut packages = Vec::with_capacity(list.len());
    for (app, id) in list {
        // A package reviewed since the queue was read is left out.
        let Some(p) = s.store.package(app, id).await? else {
            continue;
        };
        packages.push(json!({
            "app_id": app.0,
            "package_id": id.0,
            "version": p.version,
            "version_desc": p.version_desc,
            "submitted_at": crate::clock::event_time(p.updated_at, s.tz),
            "waiting_secs": (now - p.updated_at).max(0) / 1000,
        }));
    }
    Ok(Json(json!({ "packages": packages })))
}
