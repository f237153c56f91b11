//! `data` payloads and flat bodies of the authorization routes (SPEC §2).

use serde::{Deserialize, Serialize};
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
