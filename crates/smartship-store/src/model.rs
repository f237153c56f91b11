//! Rows as the rest of the system sees them: every aggregate's rows
//! (`aggregates/`), re-exported, and the listings that span aggregates.

pub use crate::aggregates::{
    audit::*, console::*, outbox::*, packages::*, parties::*, profile::*, runtime::*, templates::*,
    tokens::*,
};

pub use smartship_core::event_kind::EventKind;
use smartship_core::lifecycle::PackageState;
pub use smartship_core::runtime::ServiceStatus;
use smartship_core::{AppId, TpId};

/// A page of an operator listing: rows `offset..offset + limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub offset: i64,
    pub limit: i64,
}

/// Which apps an operator listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppFilter {
    /// Part of the name, matched case-insensitively.
    pub name_contains: Option<String>,
    /// Only apps with an active authorization to this TP.
    pub tp: Option<TpId>,
}

/// Which packages an operator listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageFilter {
    pub app: Option<AppId>,
    pub tp: Option<TpId>,
    pub state: Option<PackageState>,
    /// `user_version`, exactly.
    pub version: Option<String>,
}

/// Counts for `admin status`: what exists and what is waiting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub apps: i64,
    pub tps: i64,
    pub templates: i64,
    /// (state name, count) for every state that has packages.
    pub packages_by_state: Vec<(String, i64)>,
    /// Packages whose build has not finished.
    pub builds_pending: i64,
    /// Development packages whose build failed.
    pub builds_failed: i64,
    /// Packages waiting for a reviewer, and when the oldest was submitted.
    pub review_queue: i64,
    pub oldest_review_since: Option<i64>,
    /// Rollbacks waiting for their delay.
    pub rollbacks_pending: i64,
    /// (status, count) for every event status that has events.
    pub events_by_status: Vec<(String, i64)>,
    /// Client ids of the TPs that have events held `undeliverable`.
    pub tps_with_undeliverable: Vec<String>,
}
