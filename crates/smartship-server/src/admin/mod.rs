//! The operator API under `/admin/v1`: JSON in and out, bearer admin token,
//! ordinary HTTP status codes, errors as `{"error": {"code", "message"}}`.

mod apps;
pub mod audit_log;
mod events;
mod examinations;
mod listings;
pub mod operators;
mod packages;
mod platforms;
mod runtime_keys;
mod shared;
mod storage;

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
        .routes(routes!(listings::tps, platforms::create_tp))
        .routes(routes!(platforms::get_tp, platforms::update_tp))
        .routes(routes!(events::replay_failed))
        .routes(routes!(platforms::tp_token))
        .routes(routes!(platforms::tp_ticket))
        .routes(routes!(listings::apps, apps::create_app))
        .routes(routes!(apps::get_app, apps::update_app))
        .routes(routes!(apps::authorize))
        .routes(routes!(apps::unauthorize))
        .routes(routes!(apps::upsert_app_admin))
        .routes(routes!(apps::app_packages))
        .routes(routes!(listings::packages))
        .routes(routes!(packages::get_package))
        .routes(routes!(packages::review))
        .routes(routes!(packages::download))
        .routes(routes!(listings::templates))
        .routes(routes!(packages::review_queue))
        .routes(routes!(examinations::list))
        .routes(routes!(examinations::review))
        .routes(routes!(events::events))
        .routes(routes!(events::get_event))
        .routes(routes!(events::replay_event))
        .routes(routes!(storage::storage))
        .routes(routes!(storage::collect_blobs))
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
