//! The parties: third-party platforms, apps, the authorizations between
//! them and the tokens they mint; an app's administrators and its service
//! status.

use super::{StoreError, wake};
use crate::state::AppState;
use crate::tokens;
use serde::Serialize;
use smartship_core::{AppId, TpId};
use smartship_store::{
    App, AppUpdate, NewApp, NewToken, NewTp, ServiceStatus, TokenKind, Tp, TpUpdate,
};

/// Refresh tokens live ten years (SPEC §2).
const REFRESH_TTL_MS: i64 = 10 * 365 * 24 * 3600 * 1000;

/// Default scopes of an operator-minted authorization.
pub const DEFAULT_SCOPES: &str = "package,template,app_info";

/// A freshly minted app token pair, shown once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = MintedAppTokens)]
pub struct AppTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

/// A freshly minted third-party platform token, shown once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = MintedTpToken)]
pub struct TpToken {
    pub access_token: String,
    pub expires_in: i64,
}

/// Parameters of a new third-party platform; secrets are generated when absent.
#[derive(Debug, Clone, Default)]
pub struct TpSpec {
    pub client_id: Option<String>,
    pub name: String,
    pub message_url: Option<String>,
    pub auth_event_url: Option<String>,
    pub msg_token: Option<String>,
    pub encoding_aes_key: Option<String>,
}

pub async fn create_tp(s: &AppState, spec: TpSpec) -> Result<Tp, StoreError> {
    let tp = NewTp {
        client_id: spec.client_id.unwrap_or_else(|| tokens::random_alnum(32)),
        name: spec.name,
        message_url: spec.message_url,
        auth_event_url: spec.auth_event_url,
        msg_token: spec.msg_token.unwrap_or_else(|| tokens::random_alnum(32)),
        // 43 characters: base64 of a 32-byte AES key without its padding.
        encoding_aes_key: spec
            .encoding_aes_key
            .unwrap_or_else(|| tokens::random_alnum(43)),
    };
    s.store.create_tp(tp, crate::clock::now_ms()).await
}

/// Parameters of a new app.
#[derive(Debug, Clone, Default)]
pub struct AppSpec {
    pub app_id: Option<i64>,
    pub name: String,
    pub description: String,
    pub basic_info_approved: bool,
    pub authenticity_verified: bool,
}

pub async fn create_app(s: &AppState, spec: AppSpec) -> Result<App, StoreError> {
    s.store
        .create_app(
            NewApp {
                id: spec.app_id.map(AppId),
                app_key: tokens::random_alnum(32),
                name: spec.name,
                description: spec.description,
                basic_info_approved: spec.basic_info_approved,
                authenticity_verified: spec.authenticity_verified,
            },
            crate::clock::now_ms(),
        )
        .await
}

/// Authorizes `app` to `tp` (pushing AUTHORIZED or UPDATE_AUTHORIZED) and
/// mints its access and refresh tokens.
pub async fn authorize(
    s: &AppState,
    app: AppId,
    tp: TpId,
    scopes: &str,
) -> Result<AppTokens, StoreError> {
    record_authorization(s, app, tp, scopes, crate::clock::now_ms()).await?;
    mint_app_tokens(s, app, tp).await
}

/// Authorizes `app` to `tp` (AUTHORIZED or UPDATE_AUTHORIZED is pushed)
/// without minting tokens: the consent page gives a code instead.
pub async fn record_authorization(
    s: &AppState,
    app: AppId,
    tp: TpId,
    scopes: &str,
    now: i64,
) -> Result<(), StoreError> {
    s.store.authorize(app, tp, scopes, now).await?;
    wake::events_waiting(s);
    Ok(())
}

/// Ends an active authorization (UNAUTHORIZED is pushed); false when there
/// was none.
pub async fn unauthorize(s: &AppState, app: AppId, tp: TpId) -> Result<bool, StoreError> {
    let ended = s.store.unauthorize(app, tp, crate::clock::now_ms()).await?;
    if ended {
        wake::events_waiting(s);
    }
    Ok(ended)
}

/// Changes an app's name, approvals or service status (operators).
pub async fn update_app(
    s: &AppState,
    app: AppId,
    update: AppUpdate,
) -> Result<Option<App>, StoreError> {
    let out = s.store.update_app(app, update).await?;
    if out.is_some() {
        wake::delivery_changed(s, app);
    }
    Ok(out)
}

/// Moves the app's service status from `from` to `to` (the app's own
/// pause and resume); refused with the status it has.
pub async fn change_service_status(
    s: &AppState,
    app: AppId,
    from: ServiceStatus,
    to: ServiceStatus,
) -> Result<Result<(), ServiceStatus>, StoreError> {
    let out = s.store.change_service_status(app, from, to).await?;
    if out.is_ok() {
        wake::delivery_changed(s, app);
        tracing::info!(%app, status = to.as_str(), "service status changed");
    }
    Ok(out)
}

/// Creates or replaces an app administrator (the consent page's sign-in).
pub async fn set_app_admin(
    s: &AppState,
    username: &str,
    app: AppId,
    password_hash: &str,
) -> Result<(), StoreError> {
    s.store
        .upsert_app_admin(username, app, password_hash, crate::clock::now_ms())
        .await
}

/// Changes a platform's settings; events held for want of a URL now set
/// become due.
pub async fn update_tp(
    s: &AppState,
    client_id: &str,
    update: TpUpdate,
) -> Result<Option<Tp>, StoreError> {
    let out = s
        .store
        .update_tp(client_id, update, crate::clock::now_ms())
        .await?;
    if out.is_some() {
        wake::events_waiting(s);
    }
    Ok(out)
}

/// Mints a fresh token pair for an existing authorization.
pub async fn mint_app_tokens(s: &AppState, app: AppId, tp: TpId) -> Result<AppTokens, StoreError> {
    let (tokens, records) = app_token_records(s, app, tp, crate::clock::now_ms());
    for r in records {
        s.store.insert_token(r).await?;
    }
    Ok(tokens)
}

/// A new access/refresh pair and the rows that store it (hashed).
pub fn app_token_records(
    s: &AppState,
    app: AppId,
    tp: TpId,
    now: i64,
) -> (AppTokens, Vec<NewToken>) {
    let access = tokens::generate("app");
    let refresh = tokens::generate("refresh");
    let ttl = s.config.app_token_ttl_secs;
    let records = vec![
        NewToken {
            hash: tokens::hash(&access),
            kind: TokenKind::AppAccess,
            tp_id: tp,
            app_id: Some(app),
            expires_at: now + ttl * 1000,
            created_at: now,
        },
        NewToken {
            hash: tokens::hash(&refresh),
            kind: TokenKind::AppRefresh,
            tp_id: tp,
            app_id: Some(app),
            expires_at: now + REFRESH_TTL_MS,
            created_at: now,
        },
    ];
    (
        AppTokens {
            access_token: access,
            refresh_token: refresh,
            expires_in: ttl,
        },
        records,
    )
}

/// Mints a third-party platform token (what the ticket exchange returns).
pub async fn mint_tp_token(s: &AppState, tp: TpId) -> Result<TpToken, StoreError> {
    let now = crate::clock::now_ms();
    let token = tokens::generate("tp");
    let ttl = s.config.tp_token_ttl_secs;
    s.store
        .insert_token(NewToken {
            hash: tokens::hash(&token),
            kind: TokenKind::TpAccess,
            tp_id: tp,
            app_id: None,
            expires_at: now + ttl * 1000,
            created_at: now,
        })
        .await?;
    Ok(TpToken {
        access_token: token,
        expires_in: ttl,
    })
}
