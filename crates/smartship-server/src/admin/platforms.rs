//! Third-party platforms: create, read, change their URLs and secrets,
//! mint a token, read or issue a ticket.

use super::AdminError;
use super::shared::{body, conflict_or_internal, tp_of, tp_view};
use crate::api_doc::{AdminErrorBody, AdminErrors};
use crate::service;
use crate::service::parties::TpSpec;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use smartship_api::admin::{TicketView, TpView};
use smartship_api::requests::admin::{CreateTp, UpdateTp};
use smartship_api::requests::paths::TpPath;
use smartship_store::TpUpdate;

#[utoipa::path(
    post,
    path = "/admin/v1/tps",
    tag = "operator",
    operation_id = "admin_create_tp",
    summary = "Create a third-party platform",
    security(("admin_token" = [])),
    request_body(content = CreateTp, content_type = "application/json"),
    responses((status = 201, description = "The platform, with its generated secrets.", body = TpView), (status = 409, description = "The id or client id is taken (`conflict`).", body = AdminErrorBody), AdminErrors)
)]
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
    let tp = service::parties::create_tp(
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
    Ok((StatusCode::CREATED, Json(tp_view(&tp))).into_response())
}

#[utoipa::path(
    get,
    path = "/admin/v1/tps/{client_id}",
    tag = "operator",
    operation_id = "admin_get_tp",
    summary = "A platform, with its secrets",
    security(("admin_token" = [])),
    params(TpPath),
    responses((status = 200, description = "The platform.", body = TpView), AdminErrors)
)]
pub async fn get_tp(
    State(s): State<AppState>,
    Path(TpPath { client_id }): Path<TpPath>,
) -> Result<Json<TpView>, AdminError> {
    Ok(Json(tp_view(&tp_of(&s, &client_id).await?)))
}

#[utoipa::path(
    post,
    path = "/admin/v1/tps/{client_id}/token",
    tag = "operator",
    operation_id = "admin_tp_token",
    summary = "Mint a platform token (without a ticket)",
    security(("admin_token" = [])),
    params(TpPath),
    responses((status = 200, description = "The token, shown once.", body = service::parties::TpToken), AdminErrors)
)]
pub async fn tp_token(
    State(s): State<AppState>,
    Path(TpPath { client_id }): Path<TpPath>,
) -> Result<Json<service::parties::TpToken>, AdminError> {
    let tp = tp_of(&s, &client_id).await?;
    let token = service::parties::mint_tp_token(&s, tp.id).await?;
    Ok(Json(token))
}

#[utoipa::path(
    get,
    path = "/admin/v1/tps/{client_id}/ticket",
    tag = "operator",
    operation_id = "admin_tp_ticket",
    summary = "The platform's current ticket",
    security(("admin_token" = [])),
    params(TpPath),
    responses((status = 200, description = "The ticket.", body = TicketView), AdminErrors)
)]
pub async fn tp_ticket(
    State(s): State<AppState>,
    Path(TpPath { client_id }): Path<TpPath>,
) -> Result<Json<TicketView>, AdminError> {
    let tp = tp_of(&s, &client_id).await?;
    let ticket = match s.store.tickets(tp.id, 0).await?.into_iter().next() {
        Some(t) => t,
        // A TP created moments ago may not have had its first rotation yet.
        None => service::tickets::rotate(&s, tp.id).await?,
    };
    Ok(Json(TicketView { ticket }))
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

#[utoipa::path(
    patch,
    path = "/admin/v1/tps/{client_id}",
    tag = "operator",
    operation_id = "admin_update_tp",
    summary = "Change a platform's event URLs, webhook secret, redirect domain or IP allow-list",
    security(("admin_token" = [])),
    params(TpPath),
    request_body(content = UpdateTp, content_type = "application/json"),
    responses((status = 200, description = "The platform.", body = TpView), AdminErrors)
)]
pub async fn update_tp(
    State(s): State<AppState>,
    Path(TpPath { client_id }): Path<TpPath>,
    req: Result<Json<UpdateTp>, JsonRejection>,
) -> Result<Json<TpView>, AdminError> {
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
    if let Some(list) = &req.release_events {
        for e in list {
            if !smartship_core::event_kind::EventKind::parse(e)
                .is_some_and(|k| k.is_release_event())
            {
                return Err(AdminError::invalid(format!(
                    "release_events: {e:?} is not PACKAGE_BUILD_SUCCESS, PACKAGE_BUILD_FAIL, \
                     PACKAGE_RELEASE, PACKAGE_GRAY_RELEASE or PACKAGE_ROLLBACK"
                )));
            }
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
    let tp = service::parties::update_tp(
        &s,
        &client_id,
        TpUpdate {
            message_url: req.message_url,
            auth_event_url: req.auth_event_url,
            webhook_secret: req.webhook_secret,
            redirect_domain: req
                .redirect_domain
                .map(|d| d.map(|d| d.trim().trim_start_matches('.').to_ascii_lowercase())),
            ip_allowlist: req.ip_allowlist,
            release_events: req.release_events.map(|mut l| {
                l.sort();
                l.dedup();
                l
            }),
        },
    )
    .await?
    .ok_or_else(|| AdminError::not_found(format!("no third-party platform {client_id}")))?;
    Ok(Json(tp_view(&tp)))
}
