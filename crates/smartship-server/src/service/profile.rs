//! An app's or platform's profile: uploaded images and request domains.

use super::StoreError;
use crate::state::AppState;
use smartship_core::TpId;
use smartship_core::domains::{DomainAction, DomainRefusal};
use smartship_store::{DomainOwner, Domains, Image};

/// Records an uploaded image (its bytes are already in the blob store).
pub async fn record_image(s: &AppState, image: &Image) -> Result<(), StoreError> {
    s.store.put_image(image).await?;
    tracing::info!(tp = %image.tp_id, sha256 = %image.sha256, "image uploaded");
    Ok(())
}

/// Adds, deletes or sets request domains; every kind is checked before any
/// is stored.
pub async fn modify_domains(
    s: &AppState,
    owner: DomainOwner,
    action: DomainAction,
    given: Domains,
) -> Result<Result<Domains, DomainRefusal>, StoreError> {
    let out = s.store.modify_domains(owner, action, given).await?;
    if out.is_ok() {
        tracing::info!(?owner, ?action, "domains changed");
    }
    Ok(out)
}

/// The platform's domain-ownership check file, created on first ask.
pub async fn domain_check(s: &AppState, tp: TpId) -> Result<String, StoreError> {
    let fresh = hex::encode(rand::random::<[u8; 16]>());
    s.store.domain_check(tp, &fresh).await
}
