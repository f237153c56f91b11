//! The operator console: operator accounts, sessions, the review queue,
//! timelines: the trait and the rows it takes and returns.

use crate::Result;
use crate::model::*;
use async_trait::async_trait;
use smartship_core::{AppId, PackageId, TpId};

/// A console operator's account (its password only as a hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub id: i64,
    pub username: String,
    /// `admin`, `reviewer` or `viewer` (the server gives them meaning).
    pub role: String,
    pub password_hash: String,
    pub created_at: i64,
    pub password_changed_at: i64,
}

/// A console sign-in being recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOperatorSession {
    /// SHA-256 of the cookie's value.
    pub token_hash: String,
    pub operator_id: i64,
    pub csrf: String,
    pub address: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A live console session and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSession {
    pub operator: Operator,
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// One package waiting for a reviewer, as the console's queue lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedPackage {
    pub package_id: PackageId,
    pub app_id: AppId,
    pub app_name: String,
    pub version: String,
    pub version_desc: String,
    /// When it was submitted (Unix ms).
    pub submitted_at: i64,
    /// Blocking pre-review findings (0 when none or not checked).
    pub blocking_checks: i64,
}

/// A page of the review queue, oldest submission first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePage {
    /// Packages waiting in all.
    pub total: i64,
    pub items: Vec<QueuedPackage>,
}

/// One step of an app's timeline: a package's transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub package_id: PackageId,
    pub version: String,
    pub transition: TransitionRecord,
}

/// An app's authorization of a platform, as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppAuthorization {
    pub client_id: String,
    pub tp_name: String,
    pub scopes: String,
    pub active: bool,
    pub updated_at: i64,
}

/// Which events a console listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub tp: Option<TpId>,
    pub kind: Option<String>,
    pub status: Option<String>,
}

/// The operator console: operator accounts, their sign-in sessions (kept
/// in the database, so every node knows them), and the review queue in
/// pages.
#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// A new operator; None when the username is taken.
    async fn create_operator(
        &self,
        username: &str,
        role: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<Option<Operator>>;
    /// Every operator, by username.
    async fn operators(&self) -> Result<Vec<Operator>>;
    async fn operator(&self, username: &str) -> Result<Option<Operator>>;
    /// Removes an operator and ends its sessions; false when there is none.
    async fn remove_operator(&self, username: &str) -> Result<bool>;
    /// Sets an operator's password and ends its sessions (a reset signs
    /// every browser out); false when there is no such operator.
    async fn set_operator_password(
        &self,
        username: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<bool>;
    /// Records a sign-in, ending the session `replaces` (the token hash a
    /// browser presented when it signed in) in the same transaction, so a
    /// session id is never carried across a sign-in.
    async fn create_operator_session(
        &self,
        session: NewOperatorSession,
        replaces: Option<&str>,
    ) -> Result<()>;
    /// The live (unexpired) session with this token hash.
    async fn operator_session(&self, token_hash: &str, now: i64)
    -> Result<Option<OperatorSession>>;
    /// Signs a session out; false when it did not exist.
    async fn end_operator_session(&self, token_hash: &str) -> Result<bool>;
    /// Packages under audit, oldest submission first, after the
    /// (submitted_at, package id) `after`, at most `limit`, with how many
    /// wait in all.
    async fn review_queue_page(&self, after: Option<(i64, i64)>, limit: i64) -> Result<QueuePage>;
    /// The app's package transitions, newest first, at most `limit`.
    async fn app_timeline(&self, app: AppId, limit: i64) -> Result<Vec<TimelineEntry>>;
    /// The app's authorizations, active or ended, by platform.
    async fn app_authorizations(&self, app: AppId) -> Result<Vec<AppAuthorization>>;
    /// Events matching `filter`, newest first, with ids below `before`.
    async fn event_page(
        &self,
        filter: &EventFilter,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<EventRecord>>;
    /// How long (ms) events delivered since `since` took from their
    /// occurrence to their delivery, the newest `limit`.
    async fn delivery_lags(&self, since: i64, limit: i64) -> Result<Vec<i64>>;
    /// Transitions per day since `since` whose action is one of
    /// `review_pass`, `review_fail`, `release`, `rollback`: (day number,
    /// action, count), the day counted in the zone `offset_ms` from UTC.
    async fn daily_actions(&self, since: i64, offset_ms: i64) -> Result<Vec<(i64, String, i64)>>;
}
