//! What host runtimes get: the per-app view update checks read (`view`,
//! kept by the node's caches, `caches`),
//! the zips they download (`artifacts`), the keys that sign the answers
//! (`signing`), and the host-app keys that let them ask.
//!
//! The `runtime/` door reads through here; the operator doors manage the
//! keys through here, so the caches are dropped wherever keys change.

pub mod artifacts;
pub mod caches;
pub mod signing;
pub mod view;

use super::StoreError;
use crate::state::AppState;
use sha2::{Digest, Sha256};
use smartship_store::{HostKey, SigningKeyRecord};

/// What every host-app key starts with (how a bearer is told apart).
pub const HOST_KEY_PREFIX: &str = "shk_";

/// A new host-app key and the digest it is stored under.
pub fn new_host_key() -> (String, String) {
    let key = format!(
        "{HOST_KEY_PREFIX}{}",
        hex::encode(rand::random::<[u8; 24]>())
    );
    let hash = host_key_digest(&key);
    (key, hash)
}

pub fn host_key_digest(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Creates a host-app key; the key itself is returned once.
pub async fn create_host_key(s: &AppState, name: &str) -> Result<(HostKey, String), StoreError> {
    let (key, hash) = new_host_key();
    let made = s
        .store
        .create_host_key(name, &hash, crate::clock::now_ms())
        .await?;
    tracing::info!(id = made.id, name, "host-app key created");
    Ok((made, key))
}

/// Revokes a host-app key at once on this node (others within a second);
/// false when there was no usable key `id`.
pub async fn revoke_host_key(s: &AppState, id: i64) -> Result<bool, StoreError> {
    let revoked = s.store.revoke_host_key(id, crate::clock::now_ms()).await?;
    s.delivery.forget_host_keys();
    if revoked {
        tracing::info!(id, "host-app key revoked");
    }
    Ok(revoked)
}

/// Adds a new signing key; the others stay published for `overlap_ms`.
/// Answers cached on this node are signed afresh.
pub async fn rotate_signing_key(s: &AppState, overlap_ms: i64) -> anyhow::Result<SigningKeyRecord> {
    // The first key exists before it is replaced.
    s.signing.current(s.store.as_ref()).await?;
    let rec = signing::rotate(s.store.as_ref(), overlap_ms).await?;
    s.signing.forget();
    s.delivery.forget_apps();
    tracing::info!(key_id = %rec.key_id, overlap_ms, "signing key rotated");
    Ok(rec)
}
