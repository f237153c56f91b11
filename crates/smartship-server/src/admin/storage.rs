//! Blob storage: what is in use, and collecting what no row names.

use super::AdminError;
use crate::api_doc::AdminErrors;
use crate::service;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use smartship_api::admin::StorageView;

#[utoipa::path(
    get,
    path = "/admin/v1/storage",
    tag = "operator",
    operation_id = "admin_storage",
    summary = "Blob storage in use",
    security(("admin_token" = [])),
    responses((status = 200, description = "Counts and bytes.", body = StorageView), AdminErrors)
)]
pub async fn storage(State(s): State<AppState>) -> Result<Json<StorageView>, AdminError> {
    let blobs = s.blobs.clone();
    let (count, bytes) = tokio::task::spawn_blocking(move || blobs.usage()).await??;
    Ok(Json(StorageView {
        blob_count: count,
        blob_bytes: bytes,
    }))
}

/// Runs a collection of unreferenced blobs now (the worker runs one every
/// `blob_gc_interval_secs`).
#[utoipa::path(
    post,
    path = "/admin/v1/blobs/collect",
    tag = "operator",
    operation_id = "admin_collect_blobs",
    summary = "Remove the blobs no row names any more",
    description = "Files of refused and deleted drafts, and anything else no draft, template, package, incremental package or image names, last stored longer ago than `blob_gc_grace_secs`.",
    security(("admin_token" = [])),
    responses((status = 200, description = "What was removed.", body = smartship_api::admin::CollectedView), AdminErrors)
)]
pub async fn collect_blobs(
    State(s): State<AppState>,
) -> Result<Json<smartship_api::admin::CollectedView>, AdminError> {
    let done = service::blobs::collect(&s).await?;
    Ok(Json(smartship_api::admin::CollectedView {
        blobs_removed: done.blobs,
        bytes_removed: done.bytes,
    }))
}
