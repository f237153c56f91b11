//! `data` payloads and flat bodies of the authorization routes (SPEC §2).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// `data` of `GET /public/2.0/smartapp/auth/tp/token`: the third-party
/// platform's own token (30 days).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TpToken {
    /// The token template routes and the authorization routes take.
    pub access_token: String,
    /// Seconds the token lives.
    pub expires_in: i64,
    /// Always `smartapp_tp`.
    #[serde(default)]
    pub scope: String,
}

/// `data` of `tp/createpreauthcode`: the code a consent page is opened with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PreAuthCode {
    /// Single use; it is also the consent form's CSRF token.
    pub pre_auth_code: String,
    /// Seconds the code lives (20 minutes).
    pub expires_in: i64,
}

/// `data` of `auth/retrieve/authorizationcode`: a fresh code for an existing
/// authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuthorizationCode {
    /// Exchanged at `/rest/2.0/oauth/token` for the app's tokens.
    pub authorization_code: String,
    /// Seconds the code lives (10 minutes).
    pub expires_in: i64,
}

/// The flat body of `/rest/2.0/oauth/token` on success (both grants).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppTokens {
    /// The app token package routes take (1 hour).
    pub access_token: String,
    /// Single use: each refresh returns a new one and spends the old one.
    pub refresh_token: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
    /// Granted scopes, comma separated.
    #[serde(default)]
    pub scope: String,
}

/// `data` of `app/info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AppInfo {
    /// The mini-program's id.
    pub app_id: i64,
    /// Its public key string.
    #[serde(default)]
    pub app_key: String,
    /// Its name.
    #[serde(default)]
    pub app_name: String,
    /// Its description.
    #[serde(default)]
    pub app_desc: String,
    /// 1 in service, 4 paused (`app/pause`), -1 banned, 5 forced offline.
    #[serde(default)]
    pub status: i64,
    /// Authenticity (主体真实性认证) state; release needs it verified.
    #[serde(default)]
    pub qualification: Qualification,
    /// Basic-info audit state; submitting for audit needs it approved.
    #[serde(default)]
    pub audit_info: AuditInfo,
    /// Scopes the calling platform was granted.
    #[serde(default)]
    pub auth_info: Vec<ScopeInfo>,
    /// Service categories, as the platform sends them.
    #[serde(default)]
    pub category: Vec<Value>,
}

/// `qualification` of [`AppInfo`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Qualification {
    /// 1 verified, 0 not.
    #[serde(default)]
    pub status: i64,
    /// smartship's explicit flag.
    #[serde(default)]
    pub authenticity_verified: bool,
}

/// `audit_info` of [`AppInfo`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditInfo {
    /// 1 approved, 0 not.
    #[serde(default)]
    pub status: i64,
    /// smartship's explicit flag.
    #[serde(default)]
    pub basic_info_approved: bool,
}

/// One entry of `auth_info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScopeInfo {
    /// The scope's name.
    pub scope_name: String,
}
