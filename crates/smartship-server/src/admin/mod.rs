//! The operator API under `/admin/v1`: JSON in and out, bearer admin token,
//! ordinary HTTP status codes, errors as `{"error": {"code", "message"}}`.

pub mod audit_log;
mod examinations;
mod handlers;
mod listings;
pub mod operators;
mod runtime_keys;

use crate::state::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// An operator API error.
#[derive(Debug)]
pub struct AdminError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl AdminError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AdminError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        AdminError::new(StatusCode::NOT_FOUND, "not_found", what)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        AdminError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }
}

impl<E: Into<anyhow::Error>> From<E> for AdminError {
    fn from(e: E) -> Self {
        let e = e.into();
        if crate::openapi::error::is_storage_busy(&e) {
            tracing::warn!(error = %e, "storage busy: an operator call was refused");
            return AdminError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the store is busy with concurrent writes; retry",
            );
        }
        tracing::error!(error = ?e, "admin internal error");
        AdminError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the server log",
        )
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response()
    }
}

/// Compares digests so the comparison takes the same time wherever the
/// strings first differ.
pub(crate) fn token_matches(given: &str, expected: &str) -> bool {
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

async fn require_admin(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(t) if token_matches(t, &s.admin_token) => next.run(req).await,
        _ => AdminError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong bearer admin token",
        )
        .into_response(),
    }
}

/// Rejections produced by axum itself (a path id that is not an integer, a
/// wrong method) come as plain text or an empty body; give them the API's
/// JSON error shape so clients parse one format.
pub(crate) async fn json_framework_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let body = axum::body::to_bytes(resp.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).trim().to_owned();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    AdminError::new(status, code, message).into_response()
}

async fn unknown_route() -> AdminError {
    AdminError::not_found("no such operator API route")
}

/// The operator API's routes, with their description.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(listings::status))
        .routes(routes!(listings::tps, handlers::create_tp))
        .routes(routes!(handlers::get_tp, handlers::update_tp))
        .routes(routes!(handlers::replay_failed))
        .routes(routes!(handlers::tp_token))
        .routes(routes!(handlers::tp_ticket))
        .routes(routes!(listings::apps, handlers::create_app))
        .routes(routes!(handlers::get_app, handlers::update_app))
        .routes(routes!(handlers::authorize))
        .routes(routes!(handlers::unauthorize))
        .routes(routes!(handlers::upsert_app_admin))
        .routes(routes!(handlers::app_packages))
        .routes(routes!(listings::packages))
        .routes(routes!(handlers::get_package))
        .routes(routes!(handlers::review))
        .routes(routes!(handlers::download))
        .routes(routes!(listings::templates))
        .routes(routes!(handlers::review_queue))
        .routes(routes!(examinations::list))
        .routes(routes!(examinations::review))
        .routes(routes!(handlers::events))
        .routes(routes!(handlers::get_event))
        .routes(routes!(handlers::replay_event))
        .routes(routes!(handlers::storage))
        .routes(routes!(handlers::collect_blobs))
        .routes(routes!(
            runtime_keys::host_keys,
            runtime_keys::create_host_key
        ))
        .routes(routes!(runtime_keys::revoke_host_key))
        .routes(routes!(runtime_keys::rotate_signing_key))
        .routes(routes!(operators::list, operators::create))
        .routes(routes!(operators::remove))
        .routes(routes!(operators::reset_password))
        .routes(routes!(audit_log::list))
        .route("/admin/v1/{*rest}", axum::routing::any(unknown_route))
}

/// The operator API behind its bearer token, every error in its JSON shape.
pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    api()
        .layer(middleware::map_response(json_framework_errors))
        .layer(middleware::from_fn_with_state(state.clone(), require_admin))
}
