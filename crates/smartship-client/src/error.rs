//! One error type for every call, keeping the wire's shapes apart.

use serde::de::DeserializeOwned;
use serde_json::Value;
use smartship_api::{ErrorCode, GatewayCode};

/// What went wrong with a call.
///
/// The variants follow the shapes of the wire (SPEC §1): the gateway refused
/// the request before any business logic ran ([`Error::Gateway`]), the route
/// ran and refused ([`Error::Business`]), the OAuth token route refused
/// ([`Error::OAuth`]), the operator API refused ([`Error::Admin`]), the
/// request never got an answer ([`Error::Transport`]), or the answer was
/// not one of the documented shapes ([`Error::Decode`]). A token store that
/// cannot load or save is [`Error::TokenStore`].
///
/// ```
/// use smartship_client::Error;
/// use smartship_api::ErrorCode;
/// let e = Error::business(47005, "已有代码包在审核中");
/// assert_eq!(e.business_code(), Some(ErrorCode::AuditInProgress));
/// assert!(!e.is_retryable());
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `{"error_code", "error_msg"}`: token, permission, rate limit or route.
    #[error("gateway error {code}: {message}")]
    Gateway {
        /// The wire number (110 token invalid, 111 expired, 6, 18, 3).
        code: i64,
        /// `error_msg` as sent.
        message: String,
        /// The documented code, when smartship knows it.
        known: Option<GatewayCode>,
    },
    /// `{"errno" != 0, "msg"}`: the route refused the call.
    #[error("errno {errno}: {msg}")]
    Business {
        /// The wire number.
        errno: i64,
        /// `msg` as sent (names the offending field or the reason).
        msg: String,
        /// The documented code, when smartship knows it.
        code: Option<ErrorCode>,
    },
    /// `{"error", "error_description"}` of `/rest/2.0/oauth/token`.
    #[error("oauth error {error}: {description}")]
    OAuth {
        /// `invalid_grant`, `invalid_client`, `access_denied`, ...
        error: String,
        /// `error_description` as sent.
        description: String,
    },
    /// `{"error": {"code", "message"}}` of the operator API.
    #[error("operator API {status}: {code}: {message}")]
    Admin {
        /// HTTP status.
        status: u16,
        /// Stable error code, e.g. `not_found`.
        code: String,
        /// Human-readable message.
        message: String,
    },
    /// `{"error": {"code", "message"}}` of the host-runtime API
    /// (`/runtime/v1`: `app_paused`, `host_key_invalid`, a failed
    /// download...).
    #[error("host-runtime API {status}: {code}: {message}")]
    Runtime {
        /// HTTP status.
        status: u16,
        /// Stable error code, e.g. `app_paused`.
        code: String,
        /// Human-readable message.
        message: String,
    },
    /// No answer: connection refused, timeout, TLS, a broken body.
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    /// An answer in none of the documented shapes.
    #[error("unexpected response: {0}")]
    Decode(String),
    /// The token store could not load or save an app's tokens.
    #[error("token store: {0}")]
    TokenStore(String),
    /// A download is not what the server signed (digest, signature, or an
    /// incremental package that does not yield the signed files).
    #[error("verification failed: {0}")]
    Verification(String),
}

/// `Result` with [`Error`].
///
/// ```
/// fn parse_id(s: &str) -> smartship_client::Result<i64> {
///     s.parse().map_err(|_| smartship_client::Error::Decode(format!("not an id: {s}")))
/// }
/// assert_eq!(parse_id("7").unwrap(), 7);
/// assert_eq!(parse_id("x").unwrap_err().to_string(), "unexpected response: not an id: x");
/// ```
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A business error from its wire fields (the documented code is looked up).
    ///
    /// ```
    /// let e = smartship_client::Error::business(47001, "package_id=9");
    /// assert_eq!(e.to_string(), "errno 47001: package_id=9");
    /// ```
    pub fn business(errno: i64, msg: impl Into<String>) -> Error {
        Error::Business {
            errno,
            msg: msg.into(),
            code: ErrorCode::from_errno(errno),
        }
    }

    /// A gateway error from its wire fields.
    ///
    /// ```
    /// let e = smartship_client::Error::gateway(110, "Access token invalid");
    /// assert_eq!(e.gateway_code(), Some(110));
    /// ```
    pub fn gateway(code: i64, message: impl Into<String>) -> Error {
        Error::Gateway {
            code,
            message: message.into(),
            known: GatewayCode::from_code(code),
        }
    }

    /// The documented business error, when this is one smartship knows.
    ///
    /// ```
    /// use smartship_api::ErrorCode;
    /// let e = smartship_client::Error::business(47010, "");
    /// assert_eq!(e.business_code(), Some(ErrorCode::AuditQuotaExhausted));
    /// ```
    pub fn business_code(&self) -> Option<ErrorCode> {
        match self {
            Error::Business { code, .. } => *code,
            _ => None,
        }
    }

    /// The gateway error number, when this is a gateway error.
    ///
    /// ```
    /// let e = smartship_client::Error::gateway(18, "qps");
    /// assert_eq!(e.gateway_code(), Some(18));
    /// assert_eq!(smartship_client::Error::business(47001, "").gateway_code(), None);
    /// ```
    pub fn gateway_code(&self) -> Option<i64> {
        match self {
            Error::Gateway { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// True when the gateway refused the token (110 invalid, 111 expired):
    /// nothing ran, and a refreshed token may succeed.
    ///
    /// ```
    /// assert!(smartship_client::Error::gateway(111, "").is_token_refused());
    /// ```
    pub fn is_token_refused(&self) -> bool {
        matches!(
            self,
            Error::Gateway {
                known: Some(GatewayCode::TokenInvalid | GatewayCode::TokenExpired),
                ..
            }
        )
    }

    /// True for failures where the same read may succeed later: no answer,
    /// a gateway rate limit (18), or a server error without a documented body.
    ///
    /// ```
    /// assert!(smartship_client::Error::gateway(18, "").is_retryable());
    /// assert!(!smartship_client::Error::gateway(110, "").is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(e) => !e.is_builder() && !e.is_redirect(),
            Error::Gateway { known, .. } => *known == Some(GatewayCode::RateLimited),
            Error::Business { code, .. } => *code == Some(ErrorCode::Internal),
            _ => false,
        }
    }
}

/// Decodes any of the open API's shapes into `data` or an [`Error`].
///
/// ```
/// use serde_json::json;
/// let n: i64 = smartship_client::decode(json!({"errno": 0, "msg": "success", "data": 7})).unwrap();
/// assert_eq!(n, 7);
/// let e = smartship_client::decode::<i64>(json!({"error_code": 110, "error_msg": "x"})).unwrap_err();
/// assert_eq!(e.gateway_code(), Some(110));
/// ```
pub fn decode<T: DeserializeOwned>(body: Value) -> Result<T> {
    if let Some(code) = body.get("error_code").and_then(Value::as_i64) {
        return Err(Error::gateway(
            code,
            body["error_msg"].as_str().unwrap_or(""),
        ));
    }
    let errno = body
        .get("errno")
        .and_then(Value::as_i64)
        .ok_or_else(|| Error::Decode(body.to_string()))?;
    if errno != 0 {
        return Err(Error::business(errno, body["msg"].as_str().unwrap_or("")));
    }
    serde_json::from_value(body.get("data").cloned().unwrap_or(Value::Null))
        .map_err(|e| Error::Decode(e.to_string()))
}

/// Decodes the flat body of `/rest/2.0/oauth/token`.
pub(crate) fn decode_oauth<T: DeserializeOwned>(body: Value) -> Result<T> {
    if let Some(error) = body.get("error").and_then(Value::as_str) {
        return Err(Error::OAuth {
            error: error.to_owned(),
            description: body["error_description"].as_str().unwrap_or("").to_owned(),
        });
    }
    if body.get("error_code").is_some() {
        return decode(body);
    }
    serde_json::from_value(body).map_err(|e| Error::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decode_distinguishes_shapes() {
        let e = decode::<Value>(json!({"error_code": 110, "error_msg": "x"})).unwrap_err();
        assert!(e.is_token_refused());
        let e = decode::<Value>(json!({"errno": 47001, "msg": "y"})).unwrap_err();
        assert_eq!(e.business_code(), Some(ErrorCode::PackageNotFound));
        let e = decode::<Value>(json!({"hello": 1})).unwrap_err();
        assert!(matches!(e, Error::Decode(_)));
        let e = decode_oauth::<Value>(json!({"error": "invalid_grant", "error_description": "d"}))
            .unwrap_err();
        assert!(matches!(e, Error::OAuth { ref error, .. } if error == "invalid_grant"));
    }
}
