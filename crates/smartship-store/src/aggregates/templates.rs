//! Drafts and the templates made from them: the trait and the rows it takes
//! and returns.

use crate::Result;
use crate::model::*;
use async_trait::async_trait;
use smartship_core::manifest::Manifest;
use smartship_core::{DraftId, TemplateId, TpId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDraft {
    pub tp_id: TpId,
    pub user_version: String,
    pub user_desc: String,
    pub manifest: Manifest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub id: DraftId,
    pub user_version: String,
    pub user_desc: String,
    pub size: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// A template as listed; its files are read only by the build (see
/// [`BuildJob`]).
pub struct Template {
    pub id: TemplateId,
    pub tp_id: TpId,
    pub draft_id: DraftId,
    pub user_version: String,
    pub user_desc: String,
    pub created_at: i64,
}

/// How much a platform may keep in drafts not made into templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DraftQuota {
    pub max_drafts: i64,
    pub max_bytes: i64,
}

/// Why a draft is not stored or not deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftRefusal {
    /// The platform holds `max` drafts not made into templates.
    TooMany {
        max: i64,
    },
    /// Its drafts would hold `would` bytes, past `max`.
    OverBudget {
        would: i64,
        max: i64,
    },
    NotFound,
    /// Templates were made from it (they keep its id).
    InUse(Vec<TemplateId>),
}

/// Drafts and the templates made from them.
#[async_trait]
pub trait TemplateStore: Send + Sync {
    async fn create_draft(&self, draft: NewDraft, now: i64) -> Result<DraftId>;
    /// Stores a draft unless the platform's drafts not made into templates
    /// would pass `quota` (their number, or their bytes with this one).
    /// Checked and written under the platform's row lock, so that racing
    /// uploads cannot pass the bounds together.
    async fn create_draft_within(
        &self,
        draft: NewDraft,
        now: i64,
        quota: DraftQuota,
    ) -> Result<std::result::Result<DraftId, DraftRefusal>>;
    /// Deletes a draft of the platform that no template was made from.
    /// Its files' blobs are collected later, once nothing refers to them.
    async fn delete_draft(
        &self,
        tp: TpId,
        id: DraftId,
    ) -> Result<std::result::Result<(), DraftRefusal>>;
    /// Every blob digest a row refers to: drafts', templates' and
    /// packages' files, built zips, incremental zips, images. What no row
    /// names may be collected (`BlobStore::collect`).
    async fn referenced_blobs(&self) -> Result<std::collections::HashSet<String>>;
    async fn list_drafts(&self, tp: TpId, offset: i64, limit: i64) -> Result<(i64, Vec<Draft>)>;
    /// Copies a draft into a new template unless the TP has `max` templates.
    async fn add_template(
        &self,
        tp: TpId,
        draft: DraftId,
        user_desc: &str,
        max: i64,
        now: i64,
    ) -> Result<AddTemplate>;
    async fn list_templates(
        &self,
        tp: TpId,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<Template>)>;
    /// Soft-deletes; false when the template is not the TP's or already gone.
    async fn delete_template(&self, tp: TpId, id: TemplateId, now: i64) -> Result<bool>;
    /// Whether the TP has this (undeleted) template, without loading its files.
    async fn template_exists(&self, tp: TpId, id: TemplateId) -> Result<bool>;
    /// Undeleted templates of one TP or of all, newest first.
    async fn list_all_templates(
        &self,
        tp: Option<TpId>,
        page: PageRequest,
    ) -> Result<(i64, Vec<Template>)>;
}

/// Result of [`TemplateStore::add_template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddTemplate {
    Created(TemplateId),
    DraftNotFound,
    LimitReached,
}
