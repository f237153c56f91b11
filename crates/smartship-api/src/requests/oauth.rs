//! Requests of the authorization routes (SPEC §2).

use crate::fields::Id;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

/// `auth/tp/token`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TpTokenQuery {
    /// The platform's client id.
    pub client_id: String,
    /// The latest ticket pushed to the platform's message URL (the previous one stays valid for 10 minutes).
    pub ticket: String,
}

/// `auth/retrieve/authorizationcode`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RetrieveAuthorizationCode {
    /// An app that authorized the platform (else 50032).
    #[param(inline, example = 1)]
    pub app_id: Id,
}

/// `oauth/token`: `code` with the first grant type, `refresh_token` with
/// the second.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OAuthToken {
    /// `app_to_tp_authorization_code` or `app_to_tp_refresh_token`.
    #[param(required = true, example = "app_to_tp_authorization_code")]
    pub grant_type: Option<String>,
    /// The authorization code (first grant type).
    pub code: Option<String>,
    /// The refresh token, single use (second grant type).
    pub refresh_token: Option<String>,
}
