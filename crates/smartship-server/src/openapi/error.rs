//! Errors of the `/rest/2.0` API and how they look on the wire: always HTTP
//! 200 with either the business shape or the gateway shape (SPEC §1).
//! Internal failures are logged with their cause and answered with a generic
//! message: no SQL, paths or stack traces reach the caller.

use crate::storage_failure::{Failure, classify};
use axum::Json;
use axum::response::{IntoResponse, Response};
use smartship_api::{BusinessResponse, ErrorCode, GatewayCode, GatewayError};
use smartship_core::lifecycle::Refusal;
#[cfg(test)]
use smartship_store::StoreError;

#[derive(Debug)]
pub enum ApiError {
    Gateway(GatewayCode),
    Business(ErrorCode, String),
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn param(detail: impl Into<String>) -> ApiError {
        ApiError::Business(ErrorCode::ParamError, detail.into())
    }

    pub fn business(code: ErrorCode, detail: impl Into<String>) -> ApiError {
        ApiError::Business(code, detail.into())
    }
}

impl<E: Into<anyhow::Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError::Internal(e.into())
    }
}

/// A write of files that failed: 50002 when the disk is full (logged, so an
/// operator sees it), else an internal error.
pub fn storage_error(full: bool, reason: &str) -> ApiError {
    if full {
        tracing::error!(reason, "disk full: a write was refused");
        ApiError::business(ErrorCode::StorageFull, "")
    } else {
        ApiError::Internal(anyhow::anyhow!("storing files: {reason}"))
    }
}

/// A blob write that failed.
pub fn blob_error(e: &std::io::Error) -> ApiError {
    storage_error(crate::storage_failure::is_full_io(e), &e.to_string())
}

/// The error code and detail for a refused lifecycle action.
pub fn refusal(r: &Refusal) -> ApiError {
    let (code, detail) = match r {
        Refusal::PackageNotFound => (ErrorCode::PackageNotFound, String::new()),
        Refusal::WrongState(state, needs) => (
            ErrorCode::WrongPackageState,
            match state.wire_status() {
                Some(s) => format!("代码包当前 status={s}，该操作要求 {needs}"),
                None => format!(
                    "代码包已不在任何版本位 ({})，该操作要求 {needs}",
                    state.as_str()
                ),
            },
        ),
        Refusal::NotBuilt => (ErrorCode::PackageNotBuilt, String::new()),
        Refusal::BasicInfoNotApproved => (ErrorCode::BasicInfoNotApproved, String::new()),
        Refusal::AuthenticityNotVerified => (ErrorCode::AuthenticityNotVerified, String::new()),
        Refusal::AuditInProgress(id) => (ErrorCode::AuditInProgress, format!("package_id={id}")),
        Refusal::QuotaExhausted => (ErrorCode::AuditQuotaExhausted, String::new()),
        Refusal::NothingToRollBack => (ErrorCode::NothingToRollBack, String::new()),
        Refusal::RollbackInProgress => (ErrorCode::RollbackInProgress, String::new()),
        Refusal::ScheduleChanged => (ErrorCode::WrongPackageState, r.to_string()),
        Refusal::ReleaseScheduled(id) => (ErrorCode::ReleaseScheduled, format!("package_id={id}")),
        Refusal::NotARollbackTarget(id) => {
            (ErrorCode::NotARollbackTarget, format!("package_id={id}"))
        }
        Refusal::GrayInProgress(id) => (ErrorCode::GrayInProgress, format!("package_id={id}")),
    };
    ApiError::Business(code, detail)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Gateway(code) => Json(GatewayError::from(code)).into_response(),
            ApiError::Business(code, detail) => {
                Json(BusinessResponse::error(code, &detail)).into_response()
            }
            ApiError::Internal(e) => match classify(&e) {
                Some(Failure::Full) => {
                    tracing::error!(error = ?e, "disk full: a write was refused");
                    Json(BusinessResponse::error(ErrorCode::StorageFull, "")).into_response()
                }
                Some(Failure::Busy) => {
                    tracing::warn!(error = %e, "storage busy: a call was refused, to be retried");
                    Json(BusinessResponse::error(ErrorCode::ServerBusy, "")).into_response()
                }
                None => {
                    tracing::error!(error = ?e, "internal error");
                    Json(BusinessResponse::error(ErrorCode::Internal, "")).into_response()
                }
            },
        }
    }
}

/// A success with data.
pub fn ok<T: serde::Serialize>(data: T) -> Response {
    Json(BusinessResponse::ok(data)).into_response()
}

/// A success without data: exactly `{"errno":0,"msg":"success"}`.
pub fn ok_empty() -> Response {
    Json(BusinessResponse::ok_empty()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(r: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn a_busy_store_is_the_retryable_47019_never_50000() {
        let busy = ApiError::from(StoreError::Busy("database is locked".into()));
        let v = body(busy.into_response()).await;
        assert_eq!(v["errno"], 47019, "{v}");
        assert!(!v["msg"].as_str().unwrap().contains("locked"), "{v}");
        let other = ApiError::from(StoreError::Corrupt("x".into()));
        assert_eq!(body(other.into_response()).await["errno"], 50000);
        let full = ApiError::from(StoreError::Full("database or disk is full".into()));
        assert_eq!(body(full.into_response()).await["errno"], 50002);
    }

    #[tokio::test]
    async fn a_busy_store_is_503_busy_on_the_operator_api() {
        let e = crate::json_error::JsonError::from(StoreError::Busy("database is locked".into()));
        assert_eq!(e.status, axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.code, "busy");
    }
}
