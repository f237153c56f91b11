//! Access and refresh tokens, and the single-use codes of the authorization
//! flow: the trait and the rows it takes and returns.

use crate::Result;
use async_trait::async_trait;
use smartship_core::{AppId, TpId};

/// Kinds of token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    TpAccess,
    AppAccess,
    AppRefresh,
}

impl TokenKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenKind::TpAccess => "tp_access",
            TokenKind::AppAccess => "app_access",
            TokenKind::AppRefresh => "app_refresh",
        }
    }
    pub fn parse(s: &str) -> Option<TokenKind> {
        [
            TokenKind::TpAccess,
            TokenKind::AppAccess,
            TokenKind::AppRefresh,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Kinds of single-use code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    PreAuth,
    Authorization,
}

impl CodeKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            CodeKind::PreAuth => "pre_auth",
            CodeKind::Authorization => "authorization",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCode {
    pub hash: String,
    pub kind: CodeKind,
    pub tp_id: TpId,
    pub app_id: Option<AppId>,
    pub expires_at: i64,
    pub created_at: i64,
}

/// Why a code could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    Unknown,
    Expired,
    AlreadyUsed,
}

/// A code that was just consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsedCode {
    pub tp_id: TpId,
    pub app_id: Option<AppId>,
}

/// Why a refresh token could not be exchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    Unknown,
    Expired,
    /// Already exchanged once: a possible leak.
    Reused,
    NotAuthorized,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub hash: String,
    pub kind: TokenKind,
    pub tp_id: TpId,
    pub app_id: Option<AppId>,
    pub expires_at: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub kind: TokenKind,
    pub tp_id: TpId,
    pub app_id: Option<AppId>,
    pub expires_at: i64,
    pub revoked: bool,
    /// For app tokens: the app ↔ TP authorization is still active.
    pub authorized: bool,
    /// The TP's caller IP allow-list (comma-separated CIDRs), if any.
    pub ip_allowlist: Option<String>,
}

/// Access and refresh tokens, and the single-use codes of the authorization flow (all stored hashed).
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Whether an unused, unexpired code of `kind` exists for the TP,
    /// without consuming it (the consent page shows before it submits).
    async fn code_usable(&self, kind: CodeKind, hash: &str, tp: TpId, now: i64) -> Result<bool>;
    async fn insert_code(&self, code: NewCode) -> Result<()>;
    /// Marks a code of `kind` issued to `tp` used, once; refuses unknown
    /// (including another TP's), expired or used ones without using them.
    async fn consume_code(
        &self,
        kind: CodeKind,
        hash: &str,
        tp: TpId,
        now: i64,
    ) -> Result<std::result::Result<UsedCode, CodeRefusal>>;
    /// Exchanges a refresh token for `new_tokens` atomically: the old
    /// refresh token and the access token issued with it are revoked in the
    /// same transaction, so a refresh token works once.
    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new_tokens: &[NewToken],
        now: i64,
    ) -> Result<std::result::Result<(TpId, AppId), RefreshRefusal>>;
    async fn insert_token(&self, token: NewToken) -> Result<()>;
    /// The token with this hash, with whether its authorization is active.
    async fn token(&self, hash: &str) -> Result<Option<TokenRecord>>;
}
