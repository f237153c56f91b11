//! The audit log: the trait and the rows it takes and returns.

use crate::Result;
use async_trait::async_trait;

/// One state-changing action, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub at: i64,
    /// `app:<id>`, `tp:<id>`, `admin`, `console:<username>`,
    /// `worker:<name>`, `anonymous`.
    pub actor: String,
    pub address: Option<String>,
    /// The route (`POST /rest/2.0/smartapp/package/submitaudit`) or the
    /// worker's step (`build`).
    pub action: String,
    /// What it acted on (`package:12`), or empty.
    pub target: String,
    /// Its parameters, secrets left out, or what changed.
    pub detail: String,
    /// `ok`, or what refused it (`errno 47003`, `HTTP 409`).
    pub outcome: String,
}

/// A recorded action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub entry: NewAuditEntry,
}

/// Which audit entries a listing shows. Text filters match the start of
/// the field (`console:` is every console operator).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    /// Unix ms, inclusive.
    pub since: Option<i64>,
    /// Unix ms, exclusive.
    pub until: Option<i64>,
}

/// The audit log: every state-changing action with who, from where, when
/// and what.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Records entries, in one transaction.
    async fn append_audit(&self, entries: &[NewAuditEntry]) -> Result<()>;
    /// Deletes at most `batch` entries recorded before `before` (Unix
    /// ms), oldest first; how many went.
    async fn purge_audit(&self, before: i64, batch: i64) -> Result<u64>;
    /// Entries matching `filter`, newest first, with ids below `before`.
    async fn audit_log(
        &self,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>>;
}
