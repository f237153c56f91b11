//! The authorization dance's codes and tokens: pre-authorization and
//! authorization codes, the consent that turns one into the other, and
//! the single-use refresh of an app's tokens.

use super::StoreError;
use super::parties::{self, AppTokens};
use crate::state::AppState;
use crate::tokens;
use smartship_core::{AppId, TpId};
use smartship_store::{CodeKind, CodeRefusal, NewCode, RefreshRefusal, UsedCode};

/// Issues a code of `kind` to `tp` (for `app`, an authorization code),
/// valid `ttl_secs`; the code itself is returned once, only its hash kept.
pub async fn new_code(
    s: &AppState,
    kind: CodeKind,
    tp: TpId,
    app: Option<AppId>,
    ttl_secs: i64,
) -> Result<String, StoreError> {
    let code = tokens::random_alnum(40);
    let now = crate::clock::now_ms();
    s.store
        .insert_code(NewCode {
            hash: tokens::hash(&code),
            kind,
            tp_id: tp,
            app_id: app,
            expires_at: now + ttl_secs * 1000,
            created_at: now,
        })
        .await?;
    Ok(code)
}

/// Uses a code of `kind` issued to `tp`, once.
pub async fn use_code(
    s: &AppState,
    kind: CodeKind,
    code: &str,
    tp: TpId,
) -> Result<Result<UsedCode, CodeRefusal>, StoreError> {
    s.store
        .consume_code(kind, &tokens::hash(code), tp, crate::clock::now_ms())
        .await
}

/// An app administrator consented: the authorization is recorded (its
/// event pushed) and an authorization code for the platform issued.
pub async fn consent(
    s: &AppState,
    app: AppId,
    tp: TpId,
    scopes: &str,
    code_ttl_secs: i64,
) -> Result<String, StoreError> {
    parties::record_authorization(s, app, tp, scopes, crate::clock::now_ms()).await?;
    new_code(s, CodeKind::Authorization, tp, Some(app), code_ttl_secs).await
}

/// Exchanges a refresh token (by hash) for a new pair, once.
pub async fn refresh(
    s: &AppState,
    old_hash: &str,
    app: AppId,
    tp: TpId,
) -> Result<Result<AppTokens, RefreshRefusal>, StoreError> {
    let now = crate::clock::now_ms();
    let (pair, records) = parties::app_token_records(s, app, tp, now);
    Ok(s.store
        .rotate_refresh(old_hash, &records, now)
        .await?
        .map(|_| pair))
}
