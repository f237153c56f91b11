//! The three response shapes of SPEC §1. Every `/rest/2.0` answer is HTTP 200
//! with exactly one of these bodies.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::errors::{ErrorCode, GatewayCode};

/// Business result: `{"errno": 0, "msg": "success", "data": ...}`.
///
/// `data` is omitted when there is nothing to return (the public platform's
/// own examples for upload, submitaudit, release... carry only errno and msg).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BusinessResponse<T> {
    pub errno: i64,
    pub msg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
}

impl<T> BusinessResponse<T> {
    /// A success with data.
    pub fn ok(data: T) -> Self {
        BusinessResponse {
            errno: 0,
            msg: "success".to_owned(),
            data: Some(data),
        }
    }
}

impl BusinessResponse<serde_json::Value> {
    /// A success without data.
    pub fn ok_empty() -> Self {
        BusinessResponse {
            errno: 0,
            msg: "success".to_owned(),
            data: None,
        }
    }

    /// A business error: the code's default message, then the detail.
    pub fn error(code: ErrorCode, detail: &str) -> Self {
        let msg = if detail.is_empty() {
            code.default_msg().to_owned()
        } else {
            format!("{}: {}", code.default_msg(), detail)
        };
        BusinessResponse {
            errno: code.errno(),
            msg,
            data: None,
        }
    }
}

/// Gateway error: `{"error_code": 110, "error_msg": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GatewayError {
    pub error_code: i64,
    pub error_msg: String,
}

impl From<GatewayCode> for GatewayError {
    fn from(code: GatewayCode) -> Self {
        GatewayError {
            error_code: code.code(),
            error_msg: code.message().to_owned(),
        }
    }
}

/// OAuth token route error: `{"error": "...", "error_description": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OAuthError {
    pub error: String,
    pub error_description: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn success_without_data_has_exactly_errno_and_msg() {
        let v = serde_json::to_value(BusinessResponse::ok_empty()).unwrap();
        assert_eq!(v, json!({"errno": 0, "msg": "success"}));
    }

    #[test]
    fn error_message_names_detail() {
        let r = BusinessResponse::error(ErrorCode::ParamError, "package_id 不能为空");
        assert_eq!(r.errno, 40001);
        assert_eq!(r.msg, "参数错误: package_id 不能为空");
    }

    #[test]
    fn gateway_shape() {
        let v = serde_json::to_value(GatewayError::from(GatewayCode::TokenExpired)).unwrap();
        assert_eq!(
            v,
            json!({"error_code": 111, "error_msg": "Access token expired"})
        );
    }
}
