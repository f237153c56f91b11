//! The `/rest/2.0` API, wire-compatible with the public open platform.
//!
//! Every route accepts GET and POST alike (the public platform does, and the
//! seed's own examples mix them), and every answer is HTTP 200 JSON. Unknown
//! routes under `/rest/2.0` answer the gateway error 3.

pub mod app;
pub mod auth;
pub mod consent;
mod decode;
pub mod domains;
pub mod error;
pub mod gray;
pub mod history;
pub mod images;
pub mod oauth;
pub mod package;
pub mod params;
mod png_strip;
pub mod precheck;
pub mod profile;
pub mod qrcode;
pub mod template;

use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, any};
use smartship_api::GatewayCode;
use utoipa_axum::router::OpenApiRouter;

/// Registers a documented handler on every method: the open platform's
/// routes take GET and POST alike (its SDKs and the seed's examples use
/// both), and its gateway answers any other method the same way.
macro_rules! any_method {
    ($handler:path) => {
        any_method!($handler, |m| m)
    };
    ($handler:path, $layer:expr) => {{
        let (schemas, paths, _) = utoipa_axum::routes!($handler);
        (schemas, paths, $layer(any($handler)))
    }};
}

/// Routes under `/rest/2.0` and `/public/2.0`, with their description.
pub fn api(draft_limit: usize) -> OpenApiRouter<AppState> {
    let draft_body = |m: MethodRouter<AppState>| m.layer(DefaultBodyLimit::max(draft_limit));
    OpenApiRouter::new()
        .routes(any_method!(package::upload))
        .routes(any_method!(package::submit_audit))
        .routes(any_method!(package::release))
        .routes(any_method!(package::rollback))
        .routes(any_method!(package::withdraw))
        .routes(any_method!(package::cancel_release))
        .routes(any_method!(package::get))
        .routes(any_method!(package::get_detail))
        .routes(any_method!(package::audit_quota))
        .routes(any_method!(precheck::precheck))
        .routes(any_method!(gray::grayrelease))
        .routes(any_method!(gray::pause))
        .routes(any_method!(gray::resume))
        .routes(any_method!(gray::revert))
        .routes(any_method!(gray::get_plan))
        .routes(any_method!(history::get_history))
        .routes(any_method!(template::draft_list))
        .routes(any_method!(template::add_to_template))
        .routes(any_method!(template::template_list))
        .routes(any_method!(template::delete_template))
        .routes(any_method!(template::delete_draft))
        .routes(any_method!(template::upload_draft, draft_body))
        .routes(any_method!(oauth::tp_token))
        .routes(any_method!(oauth::create_pre_auth_code))
        .routes(any_method!(oauth::retrieve_authorization_code))
        .routes(any_method!(oauth::oauth_token))
        .routes(any_method!(profile::app_info))
        .routes(any_method!(app::pause))
        .routes(any_method!(app::resume))
        .routes(any_method!(app::flow_control))
        .routes(any_method!(app::get_support_version))
        .routes(any_method!(app::set_support_version))
        .routes(any_method!(profile::check_name))
        .routes(any_method!(profile::set_name))
        .routes(any_method!(profile::set_icon))
        .routes(any_method!(profile::set_description))
        .routes(any_method!(profile::category_list))
        .routes(any_method!(profile::category_update))
        .routes(any_method!(profile::offline_update))
        .routes(any_method!(profile::violation))
        .routes(any_method!(domains::app_modify_domain))
        .routes(any_method!(domains::tp_modify_domain))
        .routes(any_method!(domains::app_modify_webview_domain))
        .routes(any_method!(domains::tp_modify_webview_domain))
        .routes(any_method!(domains::download_domain_check_file))
        .routes(any_method!(qrcode::qrcode))
        .routes({
            let (schemas, paths, m) = utoipa_axum::routes!(images::upload);
            let limit = images::MAX_IMAGE_BYTES as usize + (64 << 10);
            (schemas, paths, m.layer(DefaultBodyLimit::max(limit)))
        })
        .routes(utoipa_axum::routes!(images::serve))
        .route("/rest/2.0/{*rest}", any(unknown_method))
        // The file gateway (uploads, images) answers like the REST one.
        .route("/file/2.0/{*rest}", any(unknown_method))
}

/// The routes, for a server whose drafts may be `max_draft_bytes` long.
pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    // Room for the zip plus multipart framing and the text fields.
    api(state.config.max_draft_bytes as usize + (1 << 20))
}

async fn unknown_method() -> impl IntoResponse {
    error::ApiError::Gateway(GatewayCode::UnknownMethod)
}
