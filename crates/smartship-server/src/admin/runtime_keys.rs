//! Operator routes of delivery to host runtimes: host-app keys (made,
//! listed, revoked) and the rotation of the package signing key.

use super::AdminError;
use crate::api_doc::AdminErrors;
use crate::service::delivery;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use smartship_api::admin::{CreatedHostKey, HostKeyView, HostKeyViews, RotatedSigningKey};
use smartship_api::requests::admin::{NewHostKey, Rotate};
use smartship_api::requests::paths::KeyPath;

/// Longest name of a host key.
const MAX_NAME: usize = 100;
/// Shortest overlap: nodes re-read the keys every 5 s and keep signed
/// answers for a second, so a replaced key signs for up to 6 s more.
const MIN_OVERLAP_SECS: i64 = 10;
/// Default time the replaced signing keys stay published: a week.
const DEFAULT_OVERLAP_SECS: i64 = 7 * 24 * 3600;

#[utoipa::path(
    post,
    path = "/admin/v1/host-keys",
    tag = "operator",
    operation_id = "admin_create_host_key",
    summary = "Make a host-app key for /runtime/v1 (its secret is shown once)",
    security(("admin_token" = [])),
    request_body(content = NewHostKey, content_type = "application/json"),
    responses((status = 201, description = "The key with its secret.", body = CreatedHostKey), AdminErrors)
)]
pub async fn create_host_key(
    State(s): State<AppState>,
    req: Result<Json<NewHostKey>, JsonRejection>,
) -> Result<(StatusCode, Json<CreatedHostKey>), AdminError> {
    let Json(req) =
        req.map_err(|e| AdminError::invalid(format!("request body: {}", e.body_text())))?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(AdminError::invalid(format!(
            "name: 1 to {MAX_NAME} characters, one line"
        )));
    }
    let (made, key) = delivery::create_host_key(&s, name).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedHostKey {
            id: made.id,
            name: made.name,
            host_key: key,
            created_at: made.created_at.div_euclid(1000),
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/admin/v1/host-keys",
    tag = "operator",
    operation_id = "admin_host_keys",
    summary = "The host-app keys, without their secrets",
    security(("admin_token" = [])),
    responses((status = 200, description = "Every key, revoked ones too.", body = HostKeyViews), AdminErrors)
)]
pub async fn host_keys(State(s): State<AppState>) -> Result<Json<HostKeyViews>, AdminError> {
    let keys = s.store.host_keys().await?;
    Ok(Json(HostKeyViews {
        keys: keys
            .into_iter()
            .map(|k| HostKeyView {
                id: k.id,
                name: k.name,
                created_at: k.created_at.div_euclid(1000),
                revoked_at: k.revoked_at.map(|t| t.div_euclid(1000)),
            })
            .collect(),
    }))
}

#[utoipa::path(
    delete,
    path = "/admin/v1/host-keys/{id}",
    tag = "operator",
    operation_id = "admin_revoke_host_key",
    summary = "Revoke a host-app key (at once, on every node)",
    security(("admin_token" = [])),
    params(KeyPath),
    responses((status = 204, description = "Revoked."), AdminErrors)
)]
pub async fn revoke_host_key(
    State(s): State<AppState>,
    Path(KeyPath { id }): Path<KeyPath>,
) -> Result<StatusCode, AdminError> {
    if delivery::revoke_host_key(&s, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AdminError::not_found(format!(
            "no usable host-app key {id}"
        )))
    }
}

#[utoipa::path(
    post,
    path = "/admin/v1/signing-keys/rotate",
    tag = "operator",
    operation_id = "admin_rotate_signing_key",
    summary = "Sign with a new key; the replaced keys stay published for the overlap",
    security(("admin_token" = [])),
    request_body(content = Rotate, content_type = "application/json"),
    responses((status = 200, description = "The new key.", body = RotatedSigningKey), AdminErrors)
)]
pub async fn rotate_signing_key(
    State(s): State<AppState>,
    req: Result<Json<Rotate>, JsonRejection>,
) -> Result<Json<RotatedSigningKey>, AdminError> {
    let req = match req {
        Ok(Json(r)) => r,
        Err(JsonRejection::MissingJsonContentType(_)) => Rotate::default(),
        Err(e) => {
            return Err(AdminError::invalid(format!(
                "request body: {}",
                e.body_text()
            )));
        }
    };
    let overlap = req.overlap_secs.unwrap_or(DEFAULT_OVERLAP_SECS);
    if !(MIN_OVERLAP_SECS..=365 * 24 * 3600).contains(&overlap) {
        return Err(AdminError::invalid(format!(
            "overlap_secs: {MIN_OVERLAP_SECS} to 31536000 (other nodes sign with the replaced key for up to {} s)",
            MIN_OVERLAP_SECS
        )));
    }
    let rec = delivery::rotate_signing_key(&s, overlap * 1000).await?;
    Ok(Json(RotatedSigningKey {
        key_id: rec.key_id,
        public_key: rec.public_key,
        previous_published_until: rec.created_at.div_euclid(1000) + overlap,
    }))
}
