//! The app's basic information and settings: examinations, images, domains,
//! violations: the trait and the rows it takes and returns.

use crate::Result;
use crate::model::*;
use async_trait::async_trait;
use smartship_core::{AppId, TpId};

/// A change of basic information and its review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Examination {
    pub id: i64,
    pub app_id: AppId,
    pub field: smartship_core::profile::Field,
    pub value: String,
    pub material: String,
    pub status: smartship_core::profile::ExamStatus,
    pub reason: String,
    pub submitted_by: String,
    pub submitted_at: i64,
    /// The name the change asks for (a name change or a restoration that
    /// corrects the name).
    pub name_claim: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<i64>,
}

/// A change submitted for review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewExamination {
    pub app: AppId,
    pub field: smartship_core::profile::Field,
    pub value: String,
    pub material: String,
    /// The name it asks for, unique among apps.
    pub name_claim: Option<String>,
    pub actor: String,
    /// The start of the quota's year (Unix ms): changes submitted since
    /// count against the field's yearly quota.
    pub year_start: i64,
}

/// Why a change is not taken for review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExamRefusal {
    /// A change of the field is under review (its id).
    Pending(i64),
    /// The field's changes this year reached its quota.
    QuotaUsed { used: i64, quota: i64 },
    /// Another app has the name (approved or under review).
    NameTaken,
    /// The app does not exist.
    NoApp,
}

/// Why a review of an examination is refused (decided in
/// `smartship_core::examination`).
pub use smartship_core::examination::ReviewRefusal;

/// An image taken by the upload route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub sha256: String,
    pub tp_id: TpId,
    pub kind: i64,
    pub content_type: String,
    pub width: i64,
    pub height: i64,
    pub size: i64,
    pub created_at: i64,
}

/// Whose domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainOwner {
    App(AppId),
    Tp(TpId),
}

/// Domains by kind.
pub type Domains = std::collections::BTreeMap<smartship_core::domains::DomainKind, Vec<String>>;

/// A ban or a forced offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub id: i64,
    pub app_id: AppId,
    pub status: ServiceStatus,
    pub reason: String,
    pub illegal_fields: String,
    pub created_by: String,
    pub created_at: i64,
    pub resolved_at: Option<i64>,
}

/// An app's basic information beyond [`App`]: the approved icon and
/// categories, and the newest examination of each field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    pub photo_addr: String,
    /// JSON array of approved [`smartship_core::profile::CategoryChoice`].
    pub categories: String,
    /// The newest examination of each field (none for a field never changed).
    pub latest: Vec<Examination>,
    /// Changes submitted since the year's start, per field.
    pub used: Vec<(smartship_core::profile::Field, i64)>,
    /// Violations not resolved.
    pub open_violations: Vec<Violation>,
}

/// The app's basic information and settings (SPEC §2): examinations of
/// its changes, uploaded images, domains, violations.
#[async_trait]
pub trait ProfileStore: Send + Sync {
    /// Takes a change for review, under the app's lock: refused while a
    /// change of the field is pending, once the field's yearly quota is
    /// used, and (names) when another app has the name.
    async fn submit_examination(
        &self,
        change: NewExamination,
        now: i64,
    ) -> Result<std::result::Result<Examination, ExamRefusal>>;
    async fn examination(&self, id: i64) -> Result<Option<Examination>>;
    /// Examinations in id order after `after`, of one status or all, at
    /// most `limit`.
    async fn examinations(
        &self,
        status: Option<smartship_core::profile::ExamStatus>,
        app: Option<AppId>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Examination>>;
    /// Passes or fails a pending examination. A pass makes its value the
    /// app's approved one (a passed restoration also restores the
    /// service); either way "basic info approved" is recomputed in the
    /// same transaction.
    async fn review_examination(
        &self,
        id: i64,
        pass: bool,
        reason: &str,
        reviewer: &str,
        now: i64,
    ) -> Result<std::result::Result<Examination, ReviewRefusal>>;
    /// Whether an app other than `except` has `name`, approved or under
    /// review.
    async fn name_taken(&self, name: &str, except: AppId) -> Result<bool>;
    /// The app's approved icon and categories, each field's newest
    /// examination, the changes since `year_start`, open violations.
    async fn profile(&self, app: AppId, year_start: i64) -> Result<Profile>;
    /// Records an uploaded image of a platform (its first record of the
    /// digest stays).
    async fn put_image(&self, image: &Image) -> Result<()>;
    /// An uploaded image by its digest (any platform's upload: for serving).
    async fn image(&self, sha256: &str) -> Result<Option<Image>>;
    /// The image `tp` uploaded with this digest.
    async fn tp_image(&self, tp: TpId, sha256: &str) -> Result<Option<Image>>;
    async fn domains(&self, owner: DomainOwner) -> Result<Domains>;
    /// Applies `action` with `given` to each kind in `given` under the
    /// owner's lock; every kind is checked before any is stored.
    async fn modify_domains(
        &self,
        owner: DomainOwner,
        action: smartship_core::domains::DomainAction,
        given: Domains,
    ) -> Result<std::result::Result<Domains, smartship_core::domains::DomainRefusal>>;
    /// The platform's domain-ownership check file; `fresh` is stored and
    /// returned when it has none yet.
    async fn domain_check(&self, tp: TpId, fresh: &str) -> Result<String>;
    /// The app's violations, newest first.
    async fn violations(&self, app: AppId) -> Result<Vec<Violation>>;
}
