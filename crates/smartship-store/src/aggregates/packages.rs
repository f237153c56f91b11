//! Packages: uploads, lifecycle transitions, phased and scheduled releases,
//! builds, their history: the trait and the rows it takes and returns.

use crate::Result;
use crate::model::*;
use async_trait::async_trait;
use smartship_core::lifecycle::{Action, BuildState, Effects, PackageState, Refusal};
use smartship_core::manifest::Manifest;
use smartship_core::{AppId, PackageId, TemplateId, TpId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUpload {
    pub app_id: AppId,
    pub tp_id: TpId,
    pub template_id: TemplateId,
    pub version: String,
    pub version_desc: String,
    /// The validated ext_json document, stored for the build worker.
    pub ext_json: String,
    pub direct_commit: bool,
    pub test_account: Option<String>,
    pub test_password: Option<String>,
    pub committer: String,
}

/// Everything besides the action that a transition needs to know or record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionContext {
    pub now: i64,
    /// Who acts: `app:<id>`, `admin`, `worker:build`... (audit trail).
    pub actor: String,
    /// Submissions allowed per period and the period's start; None = unlimited.
    pub quota: Option<QuotaWindow>,
    /// Delay before a requested rollback takes effect.
    pub rollback_delay_ms: i64,
    /// Earlier online versions a rollback may return to; None: all.
    pub retained_versions: Option<i64>,
    /// Fields of a submission (submitaudit) recorded on the package.
    pub submission: Option<Submission>,
    /// The audit log's entry for the action, written in its transaction
    /// when it is accepted (so no accepted change ever lacks its entry).
    pub audit: Option<NewAuditEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaWindow {
    pub limit: i64,
    pub period_start: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub content: String,
    pub remark: String,
    pub test_account: Option<String>,
    pub test_password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub id: PackageId,
    pub app_id: AppId,
    pub tp_id: TpId,
    pub template_id: TemplateId,
    pub version: String,
    pub version_desc: String,
    pub state: PackageState,
    pub build: BuildState,
    pub build_error_code: Option<i64>,
    pub build_error: Option<String>,
    pub ext_json: String,
    pub direct_commit: bool,
    pub test_account: Option<String>,
    pub audit_content: String,
    pub remark: String,
    pub msg: String,
    pub committer: String,
    pub commit_time: i64,
    pub rollback_version: Option<String>,
    pub rollback_due_at: Option<i64>,
    pub released_at: Option<i64>,
    pub size: Option<i64>,
    /// A release held until this time (Unix ms).
    pub release_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Loaded separately: only downloads and the build need a package's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildJob {
    pub package: Package,
    /// The template's files. Templates are soft-deleted, so an upload accepted
    /// before a `deltemplate` still builds; None only if the row is missing.
    pub template: Option<Manifest>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildOutcome {
    Built {
        manifest: Manifest,
        /// The first blocking pre-review finding (`check file:line`): a
        /// `directCommit` package is then not submitted.
        blocked: Option<String>,
    },
    Failed {
        code: i64,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionRecord {
    pub action: String,
    pub from: Option<PackageState>,
    pub to: PackageState,
    pub actor: String,
    pub detail: String,
    pub at: i64,
}

/// The outcome of a lifecycle action: applied, or refused by the rules.
pub type Decision = std::result::Result<Effects, Refusal>;

/// What an accepted phased-release operation left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhasedOutcome {
    /// The plan as stored (finished when its package was released).
    pub plan: smartship_core::gray::GrayPlan,
    /// Nothing was written: no ramp step was due (another node took it),
    /// or a plan at 100 % whose release was refused again.
    pub unchanged: bool,
    /// At 100 %, the release of the plan's package in the same
    /// transaction: its effects, or why the rules refused it (the plan then
    /// stays running at 100 %, and is stored so).
    pub release: Option<Decision>,
}

/// The outcome of a phased-release operation: done, or refused by the rules.
pub type PhasedDecision = std::result::Result<PhasedOutcome, smartship_core::phased::PhasedRefusal>;

/// Packages: uploads, lifecycle transitions, builds, their history and the workers' claims.
#[async_trait]
pub trait PackageStore: Send + Sync {
    /// Accepts an upload: applies [`Action::Upload`] and inserts the new
    /// development package (building) in one transaction.
    async fn create_upload(
        &self,
        upload: NewUpload,
        ctx: &ActionContext,
    ) -> Result<std::result::Result<PackageId, Refusal>>;
    /// Applies `action` to package `package` of app `app` atomically.
    async fn apply(
        &self,
        app: AppId,
        package: PackageId,
        action: Action,
        ctx: &ActionContext,
    ) -> Result<Decision>;
    /// An operation on the app's phased release, decided by
    /// `smartship_core::phased` under the app's lock. A plan that reaches
    /// 100 % releases its package in the same transaction.
    async fn phased(
        &self,
        app: AppId,
        op: smartship_core::phased::PhasedOp,
        ctx: &ActionContext,
    ) -> Result<PhasedDecision>;
    /// Holds a package that passed audit for release at `at` (Unix ms),
    /// under the app's lock (`lifecycle::check_hold`). Recorded in the
    /// package's history.
    async fn schedule_release(
        &self,
        app: AppId,
        package: PackageId,
        at: i64,
        ctx: &ActionContext,
    ) -> Result<std::result::Result<(), Refusal>>;
    /// Cancels a package's scheduled release; false when none was scheduled.
    async fn cancel_scheduled_release(
        &self,
        app: AppId,
        package: PackageId,
        ctx: &ActionContext,
    ) -> Result<bool>;
    /// The packages in a slot (what `package/get` lists), newest first.
    /// Shared, not copied: `package/get` is the hottest read and may be
    /// served from a cache.
    async fn slotted_packages(&self, app: AppId) -> Result<std::sync::Arc<[Package]>>;
    /// One package of the app (any state).
    async fn package(&self, app: AppId, id: PackageId) -> Result<Option<Package>>;
    /// The app's package in the given state (most recent first).
    async fn package_in_state(
        &self,
        app: AppId,
        state: smartship_core::lifecycle::PackageState,
    ) -> Result<Option<Package>>;
    /// Any package, for operators.
    async fn package_any(&self, id: PackageId) -> Result<Option<Package>>;
    async fn all_packages(&self, app: AppId) -> Result<Vec<Package>>;
    /// The files of a built package (None until built).
    async fn package_manifest(&self, id: PackageId) -> Result<Option<Manifest>>;
    async fn transitions(&self, package: PackageId) -> Result<Vec<TransitionRecord>>;
    async fn quota_used(&self, app: AppId, since: i64) -> Result<i64>;
    /// Records a built package's pre-review findings (JSON) and how many
    /// of them block a submission; a rebuild replaces them.
    async fn put_package_checks(
        &self,
        package: PackageId,
        findings: &str,
        blocking: i64,
        now: i64,
    ) -> Result<()>;
    /// A package's pre-review findings (JSON) and blocking count; None
    /// before its build ran them.
    async fn package_checks(&self, package: PackageId) -> Result<Option<(String, i64)>>;
    /// Leases the oldest pending build (or one whose lease expired).
    async fn claim_build(&self, now: i64, lease_ms: i64) -> Result<Option<BuildJob>>;
    /// Records a build result. A package that left the development slot
    /// meanwhile is left alone (returns `Ok(Err(..))`).
    async fn finish_build(
        &self,
        app: AppId,
        package: PackageId,
        outcome: BuildOutcome,
        ctx: &ActionContext,
    ) -> Result<Decision>;
    /// Packages under audit, oldest submission first (for automatic review).
    async fn packages_under_audit(&self, limit: i64) -> Result<Vec<(AppId, PackageId)>>;
    /// Packages whose rollback delay has passed.
    async fn due_rollbacks(&self, now: i64) -> Result<Vec<(AppId, PackageId)>>;
    /// When the next rollback falls due, if any.
    async fn next_rollback_due(&self) -> Result<Option<i64>>;
    /// Packages of any app (retired ones included), newest first.
    async fn list_packages(
        &self,
        filter: &PackageFilter,
        page: PageRequest,
    ) -> Result<(i64, Vec<Package>)>;
}

/// Re-exported so callers need not depend on the core crate for manifests.
pub type PackageManifest = Manifest;
