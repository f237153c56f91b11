//! The JSON error body of the operator API and of the host runtime's API:
//! an HTTP status and `{"error": {"code", "message"}}`, the code a stable
//! word clients branch on. Internal failures are logged with their cause
//! and answered with a generic message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct JsonError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl JsonError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        JsonError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        JsonError::new(StatusCode::NOT_FOUND, "not_found", what)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        JsonError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }
}

impl<E: Into<anyhow::Error>> From<E> for JsonError {
    fn from(e: E) -> Self {
        let e = e.into();
        // A full disk is an internal error here: operators read the log.
        match crate::storage_failure::classify(&e) {
            Some(crate::storage_failure::Failure::Busy) => {
                tracing::warn!(error = %e, "storage busy: a call was refused, to be retried");
                JsonError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "the store is busy with concurrent writes; retry",
                )
            }
            Some(crate::storage_failure::Failure::Full) | None => {
                tracing::error!(error = ?e, "internal error");
                JsonError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; see the server log",
                )
            }
        }
    }
}

impl IntoResponse for JsonError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response()
    }
}

/// Rejections produced by axum itself (a path id that is not an integer, a
/// wrong method) come as plain text or an empty body; give them the JSON
/// error shape so clients parse one format.
pub async fn json_framework_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let body = axum::body::to_bytes(resp.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).trim().to_owned();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    JsonError::new(status, code, message).into_response()
}
