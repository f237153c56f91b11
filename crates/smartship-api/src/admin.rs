//! Bodies of the operator API under `/admin/v1` (docs/operations.md): what
//! the server answers, typed once, so the handlers and the OpenAPI
//! description cannot disagree. Times named `*_at` (text) are in the
//! platform's time zone, `YYYY-MM-DD HH:MM:SS`; `*_ms` are Unix milliseconds.

use crate::package::PackageInfo;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A third-party platform, with its secrets (`GET /admin/v1/tps/{client_id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TpView {
    pub client_id: String,
    pub tp_app_id: i64,
    pub name: String,
    pub message_url: Option<String>,
    pub auth_event_url: Option<String>,
    pub msg_token: String,
    pub encoding_aes_key: String,
    pub webhook_secret: Option<String>,
    pub redirect_domain: Option<String>,
    pub ip_allowlist: Option<String>,
    /// The release events it subscribes to (docs/events.md).
    #[serde(default)]
    pub release_events: Vec<String>,
}

/// A platform in a list: no secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TpSummary {
    pub client_id: String,
    pub tp_app_id: i64,
    pub name: String,
    pub message_url: Option<String>,
    pub auth_event_url: Option<String>,
    pub created_at: String,
}

/// A merchant's mini-program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppView {
    pub app_id: i64,
    pub app_key: String,
    pub name: String,
    pub description: String,
    pub basic_info_approved: bool,
    pub authenticity_verified: bool,
    /// Whether host runtimes are served the app: `normal`, `paused`,
    /// `banned` or `forced_offline`.
    #[serde(default = "normal")]
    pub service_status: String,
}

fn normal() -> String {
    "normal".to_owned()
}

/// A package: its wire view plus what only an operator sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PackageView {
    #[serde(flatten)]
    pub info: PackageInfo,
    pub app_id: i64,
    pub template_id: i64,
    /// `development`, `auditing`, `audit_failed`, `audit_passed`, `online`,
    /// `rolling_back`, `history`, `superseded` or `rolled_back`.
    pub state: String,
    /// `building`, `built` or `failed`.
    pub build: String,
    /// Bytes of the built package.
    pub size: Option<i64>,
    /// The app's ext.json as uploaded (`null` if unreadable).
    pub ext_json: Value,
    pub audit_content: String,
    pub test_account: Option<String>,
    /// When a rollback in progress completes (Unix ms).
    pub rollback_due_at: Option<i64>,
}

/// One transition of a package's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransitionView {
    pub action: String,
    pub from: Option<String>,
    pub to: String,
    /// `app:<id>`, `admin`, `auto-review`, `worker`…
    pub actor: String,
    pub detail: String,
    pub at: String,
    pub at_ms: i64,
}

/// `GET /admin/v1/packages/{package_id}`: the package and its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PackageDetail {
    #[serde(flatten)]
    pub package: PackageView,
    pub transitions: Vec<TransitionView>,
    /// The pre-review findings of its build (`package/precheck`); null
    /// before the checks ran.
    #[serde(default)]
    pub prechecks: Option<Vec<crate::package::PrecheckFinding>>,
}

/// `{"packages": [...]}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PackageViews {
    pub packages: Vec<PackageView>,
}

/// An event's `status` as a type (the wire keeps the word:
/// [`EventView::event_status`] reads it as this).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventStatus {
    /// Waiting for its next attempt.
    Pending,
    Delivered,
    /// Its retry schedule ran out; a replay makes it pending again.
    Failed,
    /// Held: its platform has no URL for it; due once one is set.
    Undeliverable,
    /// A held ticket superseded by a newer one before it could be sent.
    Discarded,
}

impl EventStatus {
    pub const ALL: [EventStatus; 5] = [
        EventStatus::Pending,
        EventStatus::Delivered,
        EventStatus::Failed,
        EventStatus::Undeliverable,
        EventStatus::Discarded,
    ];

    /// The word on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventStatus::Pending => "pending",
            EventStatus::Delivered => "delivered",
            EventStatus::Failed => "failed",
            EventStatus::Undeliverable => "undeliverable",
            EventStatus::Discarded => "discarded",
        }
    }

    /// The status a word names; None for another.
    pub fn parse(s: &str) -> Option<EventStatus> {
        EventStatus::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

impl EventView {
    /// `status` as a type; None for a status this SDK does not know.
    pub fn event_status(&self) -> Option<EventStatus> {
        EventStatus::parse(&self.status)
    }
}

/// A pushed event and where its delivery stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    /// The `webhook-id` of its deliveries (`evt_<event_id>`).
    pub id: String,
    pub event_id: i64,
    pub tp_app_id: i64,
    pub app_id: Option<i64>,
    pub event: String,
    /// `message_url` or `auth_event_url`.
    pub target: String,
    pub package_id: Option<i64>,
    pub version: Option<String>,
    pub reason: Option<String>,
    pub event_time: String,
    /// `pending`, `delivered`, `failed`, `undeliverable` or `discarded`.
    pub status: String,
    pub attempts: i64,
    /// Set while `pending`.
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttemptView {
    pub attempt: i64,
    pub url: String,
    pub at: String,
    pub at_ms: i64,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub outcome: String,
}

/// `GET /admin/v1/events/{event_id}`: the event and its attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventDetail {
    #[serde(flatten)]
    pub event: EventView,
    pub attempt_log: Vec<AttemptView>,
}

/// `{"events": [...]}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventViews {
    pub events: Vec<EventView>,
}

/// How many events a replay queued again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Replayed {
    pub replayed: i64,
}

/// A package waiting for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QueueEntry {
    pub app_id: i64,
    pub package_id: i64,
    pub version: String,
    pub version_desc: String,
    pub submitted_at: String,
    pub waiting_secs: i64,
}

/// `GET /admin/v1/review-queue`: oldest submission first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReviewQueue {
    pub packages: Vec<QueueEntry>,
}

/// `GET /admin/v1/storage`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StorageView {
    pub blob_count: u64,
    pub blob_bytes: u64,
}

/// `POST /admin/v1/blobs/collect`: what one collection removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CollectedView {
    /// Blobs removed: no row named them and they were last stored longer
    /// ago than `blob_gc_grace_secs`.
    pub blobs_removed: u64,
    pub bytes_removed: u64,
}

/// `GET /admin/v1/tps/{client_id}/ticket`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TicketView {
    pub ticket: String,
}

/// `POST /admin/v1/apps/{app_id}/authorize`: the app's tokens for the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Authorized {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub app_id: i64,
    pub client_id: String,
}

/// `DELETE /admin/v1/apps/{app_id}/authorize/{client_id}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Unauthorized {
    pub app_id: i64,
    pub client_id: String,
    /// Always `false`.
    pub authorized: bool,
}

/// `POST /admin/v1/apps/{app_id}/admins`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppAdminView {
    pub app_id: i64,
    pub username: String,
}

/// A template in the operator's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TemplateView {
    pub template_id: i64,
    /// `null` if its platform is gone.
    pub client_id: Option<String>,
    pub draft_id: i64,
    pub user_version: String,
    pub user_desc: String,
    /// Unix seconds, as on the open API.
    pub create_time: i64,
    pub created_at: String,
}

/// A page of a list: `total` counts every match, so a client pages until it
/// has them all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AppPage {
    pub apps: Vec<AppView>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TpPage {
    pub tps: Vec<TpSummary>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PackagePage {
    pub packages: Vec<PackageView>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplatePage {
    pub templates: Vec<TemplateView>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

/// Builds waiting or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BuildCounts {
    pub pending: i64,
    pub failed: i64,
}

/// The review queue at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QueueCounts {
    pub waiting: i64,
    pub oldest_since: Option<String>,
    pub oldest_wait_secs: Option<i64>,
}

/// `GET /admin/v1/status`: what exists, what waits, how delivery stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusView {
    pub apps: i64,
    pub tps: i64,
    pub templates: i64,
    /// Packages by state name.
    pub packages: BTreeMap<String, i64>,
    pub builds: BuildCounts,
    pub review_queue: QueueCounts,
    pub rollbacks_pending: i64,
    /// Events by status.
    pub events: BTreeMap<String, i64>,
    /// Platforms (client ids) with events held for want of an event URL.
    pub undeliverable_tps: Vec<String>,
    /// `manual` or `auto-pass`.
    pub review_policy: String,
    pub timezone: String,
}

/// A host-app key, without its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HostKeyView {
    pub id: i64,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; null while the key is usable.
    pub revoked_at: Option<i64>,
}

/// A host-app key just made: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreatedHostKey {
    pub id: i64,
    pub name: String,
    /// `shk_...`: what the host sends as `Authorization: Bearer`.
    pub host_key: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HostKeyViews {
    pub keys: Vec<HostKeyView>,
}

/// The signing key a rotation added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RotatedSigningKey {
    pub key_id: String,
    /// Base64 of the 32 raw bytes.
    pub public_key: String,
    /// Unix seconds until which the keys it replaces stay published.
    pub previous_published_until: i64,
}

/// A console operator (never its password).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OperatorView {
    pub username: String,
    /// `admin`, `reviewer` or `viewer`.
    pub role: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last password change.
    pub password_changed_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OperatorViews {
    pub operators: Vec<OperatorView>,
}

/// An operator just made, or whose password was just reset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OperatorWithPassword {
    pub operator: OperatorView,
    /// The password the server generated, shown this once; absent when the
    /// request gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// One state-changing action of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryView {
    pub id: i64,
    /// In the server's time zone (`timezone`).
    pub at: String,
    pub at_ms: i64,
    /// `app:<id>`, `tp:<id>`, `admin`, `console:<username>`,
    /// `app-admin:<username>`, `worker:<name>` or `anonymous`.
    pub actor: String,
    /// The client's address (none for workers).
    pub address: Option<String>,
    /// `METHOD /path` of a request, or the worker's step.
    pub action: String,
    /// What it acted on (`package:12`), or empty.
    pub target: String,
    /// Its parameters as JSON, secrets replaced by `***`; or what changed.
    pub detail: String,
    /// `ok`, `errno N` (the open API's code) or `HTTP N`.
    pub outcome: String,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditLogPage {
    pub entries: Vec<AuditEntryView>,
    /// Pass as `before` for the next (older) page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

#[cfg(test)]
mod status_tests {
    use super::*;

    #[test]
    fn event_statuses_round_trip() {
        for s in EventStatus::ALL {
            assert_eq!(EventStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(EventStatus::parse("queued"), None);
    }
}
