//! Third-party platforms, apps, their authorizations, tickets and the apps'
//! administrator accounts: the trait and the rows it takes and returns.

use crate::Result;
use crate::model::*;
use async_trait::async_trait;
use smartship_core::{AppId, TpId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTp {
    pub client_id: String,
    pub name: String,
    pub message_url: Option<String>,
    pub auth_event_url: Option<String>,
    pub msg_token: String,
    pub encoding_aes_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tp {
    pub id: TpId,
    pub client_id: String,
    pub name: String,
    pub message_url: Option<String>,
    pub auth_event_url: Option<String>,
    pub msg_token: String,
    pub encoding_aes_key: String,
    /// Standard Webhooks signing secret (`whsec_...`), if configured.
    pub webhook_secret: Option<String>,
    /// Consent redirects must point to this domain or one of its subdomains.
    pub redirect_domain: Option<String>,
    /// API callers must come from these networks (comma-separated CIDRs).
    pub ip_allowlist: Option<String>,
    pub created_at: i64,
    /// Release events it subscribes to (wire names).
    pub release_events: Vec<String>,
}

/// A change of a TP's delivery settings; `Some(None)` clears a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TpUpdate {
    /// The release events to subscribe to (replaces the list).
    pub release_events: Option<Vec<String>>,
    pub message_url: Option<Option<String>>,
    pub auth_event_url: Option<Option<String>>,
    pub webhook_secret: Option<Option<String>>,
    pub redirect_domain: Option<Option<String>>,
    pub ip_allowlist: Option<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApp {
    /// Explicit id, or None to take the next one.
    pub id: Option<AppId>,
    pub app_key: String,
    pub name: String,
    pub description: String,
    pub basic_info_approved: bool,
    pub authenticity_verified: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: AppId,
    pub app_key: String,
    pub name: String,
    pub description: String,
    pub basic_info_approved: bool,
    pub authenticity_verified: bool,
    pub created_at: i64,
    /// Whether host runtimes are served its packages.
    pub service_status: ServiceStatus,
    /// Raised by every change of what the app serves (see the migration
    /// `release_seq`).
    pub release_seq: i64,
    /// The lowest base-library version the app supports, as the operator
    /// declared it available (`app/setsupportversion`); None: none asked.
    pub min_base_version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppUpdate {
    pub name: Option<String>,
    pub basic_info_approved: Option<bool>,
    pub authenticity_verified: Option<bool>,
    pub service_status: Option<ServiceStatus>,
    /// With a ban or a forced offline: the operator's reason, recorded as
    /// a violation shown in `app/info` and `app/violation`.
    pub reason: Option<String>,
    /// With a forced offline: the offending fields (`appName`,
    /// `photoAddr`, `appDesc`, comma-separated).
    pub illegal_fields: Option<String>,
    /// A new minimum base-library version.
    pub min_base_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub app_id: AppId,
    pub tp_id: TpId,
    pub scopes: String,
    pub active: bool,
}

/// Third-party platforms, apps, their authorizations, tickets and the apps' administrator accounts.
#[async_trait]
pub trait PartyStore: Send + Sync {
    async fn create_tp(&self, tp: NewTp, now: i64) -> Result<Tp>;
    async fn tp_by_client_id(&self, client_id: &str) -> Result<Option<Tp>>;
    async fn tp_by_id(&self, id: TpId) -> Result<Option<Tp>>;
    async fn create_app(&self, app: NewApp, now: i64) -> Result<App>;
    async fn app(&self, id: AppId) -> Result<Option<App>>;
    async fn update_app(&self, id: AppId, update: AppUpdate) -> Result<Option<App>>;
    /// Creates, re-activates or updates the app ↔ TP authorization and, in
    /// the same transaction, enqueues AUTHORIZED (new or re-activated) or
    /// UPDATE_AUTHORIZED (already active) for the TP.
    async fn authorize(
        &self,
        app: AppId,
        tp: TpId,
        scopes: &str,
        now: i64,
    ) -> Result<Authorization>;
    /// Whether the app ↔ TP authorization is active.
    async fn authorization_active(&self, app: AppId, tp: TpId) -> Result<bool>;
    /// The scopes of an active authorization.
    async fn authorization_scopes(&self, app: AppId, tp: TpId) -> Result<Option<String>>;
    /// Ends an active authorization: revokes the app's tokens for the TP and
    /// enqueues UNAUTHORIZED, atomically. False when there was none.
    async fn unauthorize(&self, app: AppId, tp: TpId, now: i64) -> Result<bool>;
    /// Stores a new ticket for the TP and enqueues its push, atomically.
    async fn rotate_ticket(&self, tp: TpId, ticket: &str, payload: &str, now: i64) -> Result<()>;
    /// The same, unless `tp` already has a ticket from `due_before` or
    /// later; whether it rotated. Of several nodes that find a platform due
    /// at once, exactly one issues its ticket.
    async fn rotate_ticket_if_due(
        &self,
        tp: TpId,
        ticket: &str,
        payload: &str,
        now: i64,
        due_before: i64,
    ) -> Result<bool>;
    /// The TP's tickets created at or after `since`, newest first.
    async fn tickets(&self, tp: TpId, since: i64) -> Result<Vec<String>>;
    /// TPs whose newest ticket is older than `before` (or that have none).
    async fn tps_due_for_ticket(&self, before: i64) -> Result<Vec<TpId>>;
    /// Creates or replaces an administrator account of an app.
    async fn upsert_app_admin(
        &self,
        username: &str,
        app: AppId,
        password_hash: &str,
        now: i64,
    ) -> Result<()>;
    /// (app, password hash) of an administrator.
    async fn app_admin(&self, username: &str) -> Result<Option<(AppId, String)>>;
    /// Changes a TP's settings; events held `undeliverable` for want of a
    /// URL that is now set become due at `now`, in the same transaction.
    async fn update_tp(&self, client_id: &str, update: TpUpdate, now: i64) -> Result<Option<Tp>>;
    /// Apps, by id, with the total that match.
    async fn list_apps(&self, filter: &AppFilter, page: PageRequest) -> Result<(i64, Vec<App>)>;
    /// TPs, by id, with the total.
    async fn list_tps(&self, page: PageRequest) -> Result<(i64, Vec<Tp>)>;
}
