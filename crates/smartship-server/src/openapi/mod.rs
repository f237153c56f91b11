//! The `/rest/2.0` API, wire-compatible with the public open platform.
//!
//! Every route accepts GET and POST alike (the public platform does, and the
//! seed's own examples mix them), and every answer is HTTP 200 JSON. Unknown
//! routes under `/rest/2.0` answer the gateway error 3.

pub mod auth;
pub mod error;
pub mod oauth;
pub mod package;
pub mod params;
pub mod template;

use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::any;
use smartship_api::GatewayCode;

/// Routes under `/rest/2.0/smartapp`.
pub fn router(state: &AppState) -> Router<AppState> {
    // Room for the zip plus multipart framing and the text fields.
    let draft_limit = state.config.max_draft_bytes as usize + (1 << 20);
    Router::new()
        .route("/rest/2.0/smartapp/package/upload", any(package::upload))
        .route(
            "/rest/2.0/smartapp/package/submitaudit",
            any(package::submit_audit),
        )
        .route("/rest/2.0/smartapp/package/release", any(package::release))
        .route(
            "/rest/2.0/smartapp/package/rollback",
            any(package::rollback),
        )
        .route(
            "/rest/2.0/smartapp/package/withdraw",
            any(package::withdraw),
        )
        .route("/rest/2.0/smartapp/package/get", any(package::get))
        .route(
            "/rest/2.0/smartapp/package/getdetail",
            any(package::get_detail),
        )
        .route(
            "/rest/2.0/smartapp/package/auditquota",
            any(package::audit_quota),
        )
        .route(
            "/rest/2.0/smartapp/template/gettemplatedraftlist",
            any(template::draft_list),
        )
        .route(
            "/rest/2.0/smartapp/template/addtotemplate",
            any(template::add_to_template),
        )
        .route(
            "/rest/2.0/smartapp/template/gettemplatelist",
            any(template::template_list),
        )
        .route(
            "/rest/2.0/smartapp/template/deltemplate",
            any(template::delete_template),
        )
        .route(
            "/rest/2.0/smartapp/template/uploaddraft",
            any(template::upload_draft).layer(DefaultBodyLimit::max(draft_limit)),
        )
        .route("/public/2.0/smartapp/auth/tp/token", any(oauth::tp_token))
        .route(
            "/rest/2.0/smartapp/tp/createpreauthcode",
            any(oauth::create_pre_auth_code),
        )
        .route(
            "/rest/2.0/smartapp/auth/retrieve/authorizationcode",
            any(oauth::retrieve_authorization_code),
        )
        .route("/rest/2.0/oauth/token", any(oauth::oauth_token))
        .route("/rest/2.0/smartapp/app/info", any(oauth::app_info))
        .route("/rest/2.0/{*rest}", any(unknown_method))
}

async fn unknown_method() -> impl IntoResponse {
    error::ApiError::Gateway(GatewayCode::UnknownMethod)
}
