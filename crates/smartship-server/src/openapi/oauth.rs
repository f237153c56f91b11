//! The third-party platform authorization flow (SPEC §2, public docs
//! "授权流程"): ticket → TP token, pre-auth code, authorization-code and
//! refresh-token exchange, re-issued authorization codes, app info.
//!
//! `/rest/2.0/oauth/token` answers in the flat OAuth shape, errors included
//! (`{"error", "error_description"}`); the other routes use the business
//! shape.

use super::auth::TpCall;
use super::error::{ApiError, ok};
use super::params::Params;
use crate::api_doc::OAuthAnswer;
use crate::service::{oauth, parties};
use crate::state::AppState;
use crate::tokens;
use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use smartship_api::auth::{AppTokens, AuthorizationCode, PreAuthCode, TpToken};
use smartship_api::requests::oauth::{OAuthToken, RetrieveAuthorizationCode, TpTokenQuery};
use smartship_api::{ErrorCode, GatewayCode, OAuthError};
use smartship_core::AppId;
use smartship_store::{CodeKind, CodeRefusal, RefreshRefusal, TokenKind};

/// Pre-auth codes live 20 minutes, authorization codes 10 (public docs).
pub const PRE_AUTH_TTL_SECS: i64 = 20 * 60;
pub const AUTH_CODE_TTL_SECS: i64 = 10 * 60;
/// A superseded ticket is still accepted this long after the next one.
const TICKET_GRACE_MS: i64 = 10 * 60 * 1000;

/// `GET /public/2.0/smartapp/auth/tp/token?client_id&ticket`
#[utoipa::path(
    method(get, post),
    path = "/public/2.0/smartapp/auth/tp/token",
    tag = "auth",
    operation_id = "tp_token",
    summary = "A third-party platform token, for the platform's current ticket",
    params(TpTokenQuery),
    responses((status = 200, description = "The token, or an error (47015 for a wrong ticket).", body = inline(crate::api_doc::TpTokenAnswer)))
)]
pub async fn tp_token(State(s): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let mut p = Params::from_query(&req)?;
    p.read_body(req, &s, false).await?;
    let TpTokenQuery { client_id, ticket } = p.decode()?;
    let (client_id, ticket) = (client_id.as_str(), ticket.as_str());
    let invalid = || ApiError::business(ErrorCode::InvalidTicket, "");
    let tp = s
        .store
        .tp_by_client_id(client_id)
        .await?
        .ok_or_else(invalid)?;
    let window = (s.config.ticket_interval_secs * 1000.0) as i64 + TICKET_GRACE_MS;
    let recent = s
        .store
        .tickets(tp.id, crate::clock::now_ms() - window)
        .await?;
    if !recent
        .iter()
        .any(|t| smartship_api::crypto::constant_time_eq(t.as_bytes(), ticket.as_bytes()))
    {
        return Err(invalid());
    }
    let token = parties::mint_tp_token(&s, tp.id).await?;
    Ok(ok(TpToken {
        access_token: token.access_token,
        expires_in: token.expires_in,
        scope: "smartapp_tp".to_owned(),
    }))
}

/// `GET /rest/2.0/smartapp/tp/createpreauthcode` (TP token)
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/tp/createpreauthcode",
    tag = "auth",
    operation_id = "tp_createpreauthcode",
    summary = "A pre-authorization code for the consent page",
    security(("tp_token" = [])),
    responses((status = 200, description = "The code, or an error.", body = inline(crate::api_doc::PreAuthCodeAnswer)))
)]
pub async fn create_pre_auth_code(
    State(s): State<AppState>,
    call: TpCall,
) -> Result<Response, ApiError> {
    let code = oauth::new_code(
        &s,
        CodeKind::PreAuth,
        call.caller.tp,
        None,
        PRE_AUTH_TTL_SECS,
    )
    .await?;
    Ok(ok(PreAuthCode {
        pre_auth_code: code,
        expires_in: PRE_AUTH_TTL_SECS,
    }))
}

/// `POST /rest/2.0/smartapp/auth/retrieve/authorizationcode` (TP token, app_id)
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/auth/retrieve/authorizationcode",
    tag = "auth",
    operation_id = "auth_retrieve_authorizationcode",
    summary = "A new authorization code for an app that authorized the platform",
    security(("tp_token" = [])),
    params(RetrieveAuthorizationCode),
    responses((status = 200, description = "The code, or an error.", body = inline(crate::api_doc::AuthorizationCodeAnswer)))
)]
pub async fn retrieve_authorization_code(
    State(s): State<AppState>,
    call: TpCall,
) -> Result<Response, ApiError> {
    let TpCall { caller, p, .. } = call;
    let req: RetrieveAuthorizationCode = p.decode()?;
    let app = AppId(req.app_id.get());
    let authorized = s.store.authorization_active(app, caller.tp).await?;
    if !authorized {
        return Err(ApiError::business(
            ErrorCode::NoAuthorization,
            format!("app_id={app}"),
        ));
    }
    let code = oauth::new_code(
        &s,
        CodeKind::Authorization,
        caller.tp,
        Some(app),
        AUTH_CODE_TTL_SECS,
    )
    .await?;
    Ok(ok(AuthorizationCode {
        authorization_code: code,
        expires_in: AUTH_CODE_TTL_SECS,
    }))
}

/// An error of the OAuth route, in its own flat shape.
fn oauth_error(error: &str, description: impl Into<String>) -> Response {
    Json(OAuthError {
        error: error.to_owned(),
        error_description: description.into(),
    })
    .into_response()
}

/// `GET /rest/2.0/oauth/token` with `grant_type=app_to_tp_authorization_code`
/// (`code`) or `app_to_tp_refresh_token` (`refresh_token`); `access_token` is
/// the TP token.
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/oauth/token",
    tag = "auth",
    operation_id = "oauth_token",
    summary = "App tokens, from an authorization code or a refresh token",
    description = "`access_token` is the platform's token. Answers the OAuth shapes, not the business ones.",
    security(("tp_token" = [])),
    params(OAuthToken),
    responses((status = 200, description = "The app's tokens, or an OAuth error.", body = inline(OAuthAnswer)))
)]
pub async fn oauth_token(State(s): State<AppState>, req: Request) -> Response {
    match oauth_token_inner(&s, req).await {
        Ok(r) => r,
        Err(ApiError::Internal(e)) => {
            tracing::error!(error = ?e, "oauth token internal error");
            oauth_error("server_error", "internal error")
        }
        Err(ApiError::Gateway(code)) => oauth_error(
            match code {
                GatewayCode::RateLimited => "slow_down",
                GatewayCode::NoPermission => "access_denied",
                _ => "invalid_client",
            },
            format!(
                "access_token of the third-party platform: {}",
                code.message()
            ),
        ),
        Err(ApiError::Business(_, detail)) => oauth_error("invalid_request", detail),
    }
}

async fn oauth_token_inner(s: &AppState, req: Request) -> Result<Response, ApiError> {
    let mut p = Params::from_query(&req)?;
    p.read_body(req, s, false).await?;
    // An app's token in place of the platform's is an unknown client here,
    // as the docs say (the other routes answer the gateway's 6).
    let rec = super::auth::lookup(s, &p).await?;
    if rec.kind != smartship_store::TokenKind::TpAccess {
        return Ok(oauth_error(
            "invalid_client",
            "access_token of the third-party platform: not a third-party platform token",
        ));
    }
    let tp = rec.tp_id;
    let req: OAuthToken = p.decode()?;
    let grant = req.grant_type.as_deref().unwrap_or("");
    let app = match grant {
        "app_to_tp_authorization_code" => {
            let code = req
                .code
                .as_deref()
                .ok_or_else(|| ApiError::param("code 不能为空"))?;
            match oauth::use_code(s, CodeKind::Authorization, code, tp).await? {
                Ok(used) if used.app_id.is_some() => used.app_id.expect("checked"),
                Ok(_) | Err(CodeRefusal::Unknown) => {
                    return Ok(oauth_error(
                        "invalid_grant",
                        "authorization code is invalid",
                    ));
                }
                Err(CodeRefusal::Expired) => {
                    return Ok(oauth_error(
                        "invalid_grant",
                        "authorization code has expired",
                    ));
                }
                Err(CodeRefusal::AlreadyUsed) => {
                    tracing::warn!(tp = %tp, "authorization code used twice");
                    return Ok(oauth_error(
                        "invalid_grant",
                        "authorization code was already used",
                    ));
                }
            }
        }
        "app_to_tp_refresh_token" => {
            let refresh = req
                .refresh_token
                .as_deref()
                .ok_or_else(|| ApiError::param("refresh_token 不能为空"))?;
            let old_hash = tokens::hash(refresh);
            let invalid = || Ok(oauth_error("invalid_grant", "refresh token is invalid"));
            let Some(rec) = s.store.token(&old_hash).await? else {
                return invalid();
            };
            let (TokenKind::AppRefresh, Some(app)) = (rec.kind, rec.app_id) else {
                return invalid();
            };
            if rec.tp_id != tp {
                return invalid();
            }
            match oauth::refresh(s, &old_hash, app, tp).await? {
                Ok(pair) => {
                    tracing::info!(%app, %tp, "app tokens refreshed");
                    return Ok(Json(AppTokens {
                        access_token: pair.access_token,
                        refresh_token: pair.refresh_token,
                        expires_in: pair.expires_in,
                        scope: scope_of(s, app, tp).await?,
                    })
                    .into_response());
                }
                Err(RefreshRefusal::Unknown) => return invalid(),
                Err(RefreshRefusal::Expired) => {
                    return Ok(oauth_error("invalid_grant", "refresh token has expired"));
                }
                Err(RefreshRefusal::NotAuthorized) => {
                    return Ok(oauth_error(
                        "invalid_grant",
                        "the app is no longer authorized",
                    ));
                }
                Err(RefreshRefusal::Reused) => {
                    // Refresh tokens are single use: a second use means a
                    // copy exists somewhere it should not.
                    tracing::warn!(%app, %tp, "refresh token reused: possible leak");
                    return Ok(oauth_error(
                        "invalid_grant",
                        "refresh token was already used (single use)",
                    ));
                }
            }
        }
        "" => return Ok(oauth_error("invalid_request", "grant_type is required")),
        other => {
            return Ok(oauth_error(
                "unsupported_grant_type",
                format!("grant_type {other:?} is not supported"),
            ));
        }
    };
    if !s.store.authorization_active(app, tp).await? {
        return Ok(oauth_error(
            "invalid_grant",
            "the app is no longer authorized",
        ));
    }
    let tokens = parties::mint_app_tokens(s, app, tp).await?;
    Ok(Json(AppTokens {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        expires_in: tokens.expires_in,
        scope: scope_of(s, app, tp).await?,
    })
    .into_response())
}

async fn scope_of(s: &AppState, app: AppId, tp: smartship_core::TpId) -> Result<String, ApiError> {
    Ok(s.store
        .authorization_scopes(app, tp)
        .await?
        .unwrap_or_default())
}
