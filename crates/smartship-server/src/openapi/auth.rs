//! The gateway's token check: runs before any business logic and answers
//! with the gateway error shape (SPEC §1, §2).

use super::error::ApiError;
use super::params::Params;
use crate::state::AppState;
use axum::extract::{FromRequest, Request};
use smartship_api::GatewayCode;
use smartship_core::{AppId, TpId};
use smartship_store::TokenKind;

/// The caller behind an app access token.
#[derive(Debug, Clone, Copy)]
pub struct AppCaller {
    pub app: AppId,
    pub tp: TpId,
}

impl AppCaller {
    /// The caller's app. Gone since its token was checked (an operator
    /// deleted it meanwhile), it answers as an invalid token would.
    pub async fn app_row(&self, s: &AppState) -> Result<smartship_store::App, ApiError> {
        s.store
            .app(self.app)
            .await?
            .ok_or(ApiError::Gateway(smartship_api::GatewayCode::TokenInvalid))
    }
}

/// The caller behind a third-party platform token.
#[derive(Debug, Clone, Copy)]
pub struct TpCaller {
    pub tp: TpId,
}

pub(crate) async fn lookup(
    state: &AppState,
    p: &Params,
) -> Result<smartship_store::TokenRecord, ApiError> {
    // The public page's own example sends `ACCESS_TOKEN%0A`: surrounding
    // white space is not part of a token.
    let token = p
        .optional("access_token")
        .ok_or(ApiError::Gateway(GatewayCode::TokenInvalid))?;
    let hash = crate::tokens::hash(token);
    let rec = state
        .store
        .token(&hash)
        .await?
        .ok_or(ApiError::Gateway(GatewayCode::TokenInvalid))?;
    if rec.revoked {
        return Err(ApiError::Gateway(GatewayCode::TokenInvalid));
    }
    if rec.expires_at <= crate::clock::now_ms() {
        return Err(ApiError::Gateway(GatewayCode::TokenExpired));
    }
    if let Some(list) = rec.ip_allowlist.as_deref().filter(|l| !l.trim().is_empty()) {
        let allowed = p.peer.is_some_and(|ip| {
            crate::net_guard::NetworkPolicy::parse(list).is_ok_and(|policy| policy.lists(ip))
        });
        if !allowed {
            tracing::info!(tp = %rec.tp_id, peer = ?p.peer, "caller IP not in the allow-list");
            return Err(ApiError::Gateway(GatewayCode::NoPermission));
        }
    }
    if !state.rate_limiter.allow(&hash) {
        return Err(ApiError::Gateway(GatewayCode::RateLimited));
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

/// Which kind of token a route takes.
pub trait Kind: Sized {
    fn authenticate(
        state: &AppState,
        p: &Params,
    ) -> impl std::future::Future<Output = Result<Self, ApiError>> + Send;
    /// Who the caller is, as the audit log names it.
    fn actor(&self) -> String;
}

impl Kind for AppCaller {
    async fn authenticate(state: &AppState, p: &Params) -> Result<Self, ApiError> {
        app_caller(state, p).await
    }
    fn actor(&self) -> String {
        format!("app:{}", self.app)
    }
}

impl Kind for TpCaller {
    async fn authenticate(state: &AppState, p: &Params) -> Result<Self, ApiError> {
        tp_caller(state, p).await
    }
    fn actor(&self) -> String {
        format!("tp:{}", self.tp)
    }
}

/// The gateway step of a request: an authenticated caller and all of the
/// request's parameters.
///
/// A token in the query string (where the public platform puts it) is
/// checked before the body is read. A token only in the body is checked
/// after; if the body cannot be read and there is no token in the query,
/// the answer is still the gateway error, as the gateway runs first.
pub struct Call<C> {
    pub caller: C,
    pub p: Params,
    /// The request's audit slot (none for routes that are not audited).
    pub audit: Option<crate::audit::AuditSlot>,
}

/// A call with an app access token (package routes).
pub type AppCall = Call<AppCaller>;
/// A call with a third-party platform token (template routes).
pub type TpCall = Call<TpCaller>;

impl<C: Kind + Send> FromRequest<AppState> for Call<C> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let audit = crate::audit::AuditSlot::of(req.extensions());
        let mut p = Params::from_query_deferred(&req);
        let early = match p.optional("access_token") {
            Some(_) => Some(C::authenticate(state, &p).await?),
            None => None,
        };
        let authenticated = early.is_some();
        match (p.read_body(req, state, authenticated).await, &early) {
            (Ok(()), _) => {}
            (Err(e), Some(_)) => return Err(e),
            (Err(_), None) => return Err(ApiError::Gateway(GatewayCode::TokenInvalid)),
        }
        let caller = match early {
            Some(c) => c,
            None => C::authenticate(state, &p).await?,
        };
        if let Some(slot) = &audit {
            slot.actor(caller.actor());
            slot.params(&p.summary());
        }
        // Refused only now: an unauthenticated caller hears the gateway error.
        if let Some(problem) = p.undecodable.take() {
            return Err(ApiError::param(problem));
        }
        Ok(Call { caller, p, audit })
    }
}
