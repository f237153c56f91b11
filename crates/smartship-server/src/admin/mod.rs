//! The operator API under `/admin/v1`: JSON in and out, bearer admin token,
//! ordinary HTTP status codes, errors as `{"error": {"code", "message"}}`.

pub mod audit_log;
mod examinations;
mod handlers;
mod listings;
pub mod operators;
mod runtime_keys;

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use crate::json_error::JsonError as AdminError;
use crate::json_error::json_framework_errors;
use crate::tokens::token_matches;

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
