//! The gateway's token check: runs before any business logic and answers
//! with the gateway error shape (SPEC §1, §2).

use super::error::ApiError;
use super::params::Params;
use crate::state::AppState;
use smartship_api::GatewayCode;
use smartship_core::{AppId, TpId};
use smartship_store::TokenKind;

/// The caller behind an app access token.
#[derive(Debug, Clone, Copy)]
pub struct AppCaller {
    pub app: AppId,
    pub tp: TpId,
}

/// The caller behind a third-party platform token.
#[derive(Debug, Clone, Copy)]
pub struct TpCaller {
    pub tp: TpId,
}

async fn lookup(state: &AppState, p: &Params) -> Result<smartship_store::TokenRecord, ApiError> {
    // The public page's own example sends `ACCESS_TOKEN%0A`: surrounding
    // white space is not part of a token.
    let token = p
        .optional("access_token")
        .ok_or(ApiError::Gateway(GatewayCode::TokenInvalid))?;
    let rec = state
        .store
        .token(&crate::tokens::hash(token))
        .await?
        .ok_or(ApiError::Gateway(GatewayCode::TokenInvalid))?;
    if rec.revoked {
        return Err(ApiError::Gateway(GatewayCode::TokenInvalid));
    }
    if rec.expires_at <= crate::clock::now_ms() {
        return Err(ApiError::Gateway(GatewayCode::TokenExpired));
    }
    Ok(rec)
}

/// Requires an app access token whose authorization is still active.
pub async fn app_caller(state: &AppState, p: &Params) -> Result<AppCaller, ApiError> {
    let rec = lookup(state, p).await?;
    match (rec.kind, rec.app_id) {
        (TokenKind::AppAccess, Some(app)) if rec.authorized => Ok(AppCaller { app, tp: rec.tp_id }),
        (TokenKind::AppAccess, _) => Err(ApiError::Gateway(GatewayCode::TokenInvalid)),
        (TokenKind::AppRefresh, _) => Err(ApiError::Gateway(GatewayCode::TokenInvalid)),
        (TokenKind::TpAccess, _) => Err(ApiError::Gateway(GatewayCode::NoPermission)),
    }
}

/// Requires a third-party platform token.
pub async fn tp_caller(state: &AppState, p: &Params) -> Result<TpCaller, ApiError> {
    let rec = lookup(state, p).await?;
    match rec.kind {
        TokenKind::TpAccess => Ok(TpCaller { tp: rec.tp_id }),
        TokenKind::AppRefresh => Err(ApiError::Gateway(GatewayCode::TokenInvalid)),
        TokenKind::AppAccess => Err(ApiError::Gateway(GatewayCode::NoPermission)),
    }
}
