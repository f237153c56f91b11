//! Payloads of pushed events (SPEC §5), before encryption.

use serde::{Deserialize, Serialize};

/// PACKAGE_AUDIT_PASS / PACKAGE_AUDIT_FAIL, pushed to the message URL.
///
/// The first five fields are the public platform's; `packageId` and
/// `version` are smartship's additions so that an ISV can match a push to
/// its submission (clients that ignore unknown fields are unaffected).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEventPayload {
    #[serde(rename = "appId")]
    pub app_id: i64,
    #[serde(rename = "tpAppId")]
    pub tp_app_id: i64,
    /// `YYYY-MM-DD HH:MM:SS` in the platform's time zone.
    #[serde(rename = "eventTime")]
    pub event_time: String,
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(rename = "packageId")]
    pub package_id: i64,
    pub version: String,
}

pub const PACKAGE_AUDIT_PASS: &str = "PACKAGE_AUDIT_PASS";
pub const PACKAGE_AUDIT_FAIL: &str = "PACKAGE_AUDIT_FAIL";

/// The `webhook-id` of an event: stable across retries and replays, so
/// receivers can de-duplicate.
pub fn webhook_id(event_id: i64) -> String {
    format!("evt_{event_id}")
}
