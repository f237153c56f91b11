//! The operator console at `/console`: pages rendered by the server (maud),
//! a stylesheet and a small script compiled into the binary, for operators
//! signed in with a password (`auth`). Every page works without the
//! script; it adds the keyboard shortcuts and the fail dialog.

mod apps;
mod assets;
mod audit_page;
pub mod auth;
mod cookies;
mod dashboard;
mod device_cookie;
mod events;
mod highlight;
mod i18n;
mod layout;
mod package_page;
mod reviews;

use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};

pub use auth::Role;
pub use reviews::PAGE_SIZE as QUEUE_PAGE_SIZE;

/// The console's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(dashboard::show))
        .route("/console/sign-in", get(auth::show).post(auth::submit))
        .route("/console/sign-out", post(auth::sign_out))
        .route("/console/language", get(auth::language))
        .route("/console/assets/{name}", get(assets::serve))
        .route("/console/reviews", get(reviews::queue))
        .route("/console/packages/{id}", get(package_page::show))
        .route(
            "/console/packages/{id}/review",
            post(reviews::review_package),
        )
        .route(
            "/console/examinations/{id}/review",
            post(reviews::review_examination),
        )
        .route("/console/apps", get(apps::list))
        .route("/console/apps/{id}", get(apps::show))
        .route("/console/apps/{id}/rollback", post(apps::rollback))
        .route("/console/apps/{id}/service", post(apps::set_service))
        .route("/console/apps/{id}/approve", post(apps::approve))
        .route("/console/tps", get(apps::platforms))
        .route(
            "/console/tps/{client_id}/replay-failed",
            post(events::replay_failed),
        )
        .route("/console/events", get(events::list))
        .route("/console/events/{id}", get(events::show))
        .route("/console/events/{id}/replay", post(events::replay))
        .route("/console/audit", get(audit_page::show))
        .route("/console/{*rest}", axum::routing::any(unknown_page))
        .layer(axum::middleware::map_response(layout::security_headers))
}

/// Any other path under `/console`: the console's own 404 page, not an
/// empty answer.
async fn unknown_page(headers: axum::http::HeaderMap) -> axum::response::Response {
    let l = i18n::Lang::of(&headers);
    layout::not_found(l, l.t("没有这个页面", "No such page"))
}
