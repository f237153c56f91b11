//! A platform's drafts and code templates.

use super::StoreError;
use crate::state::AppState;
use smartship_core::{DraftId, TemplateId, TpId};
use smartship_store::{AddTemplate, DraftQuota, DraftRefusal, NewDraft};

/// Stores a draft within the platform's bounds (`max_drafts_per_tp`,
/// `draft_budget_bytes_per_tp`).
pub async fn create_draft(
    s: &AppState,
    draft: NewDraft,
) -> Result<Result<DraftId, DraftRefusal>, StoreError> {
    let quota = DraftQuota {
        max_drafts: s.config.max_drafts_per_tp,
        max_bytes: s.config.draft_budget_bytes_per_tp,
    };
    s.store
        .create_draft_within(draft, crate::clock::now_ms(), quota)
        .await
}

/// Deletes a draft no template was made from (its blobs are collected
/// later, once nothing refers to them).
pub async fn delete_draft(
    s: &AppState,
    tp: TpId,
    id: DraftId,
) -> Result<Result<(), DraftRefusal>, StoreError> {
    s.store.delete_draft(tp, id).await
}

/// Makes a template of a draft, within `max_templates`.
pub async fn add_template(
    s: &AppState,
    tp: TpId,
    draft: DraftId,
    desc: &str,
) -> Result<AddTemplate, StoreError> {
    s.store
        .add_template(
            tp,
            draft,
            desc,
            s.config.max_templates,
            crate::clock::now_ms(),
        )
        .await
}

/// Deletes a template; false when the platform has no such template.
pub async fn delete_template(s: &AppState, tp: TpId, id: TemplateId) -> Result<bool, StoreError> {
    s.store
        .delete_template(tp, id, crate::clock::now_ms())
        .await
}
