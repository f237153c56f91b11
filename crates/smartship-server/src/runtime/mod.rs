//! `/runtime/v1`: what host runtimes (the super-apps that run
//! mini-programs) call to fetch the version a user gets (SPEC §7,
//! docs/release.md).
//!
//! - `GET /runtime/v1/apps/{app_id}/update` (host-app key as `Authorization:
//!   Bearer`): the version this user gets (the online one, or a phased
//!   release's when the user is in it), its size, SHA-256, download URL and
//!   an Ed25519 signature; an incremental package when the user's version
//!   is one the app served.
//! - `GET /runtime/v1/keys`: the public keys that verify signatures.
//! - `GET /runtime/v1/apps/{app_id}/artifacts/{sha256}.zip`: the app's
//!   zips, content-addressed and immutable (`ETag`, `304`, `Range`). No
//!   key: the address is the digest of a zip that only an update answer
//!   names, nothing but the app's recorded artifacts is served, and only
//!   while the app is.
//!
//! Errors are the operator API's shape, `{"error": {"code", "message"}}`,
//! with HTTP statuses.

pub mod download;

use crate::json_error::JsonError as AdminError;
use crate::service::delivery::view::{self, AppDelivery};
use crate::service::delivery::{HOST_KEY_PREFIX, artifacts, host_key_digest};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use smartship_api::requests::paths::AppPath;
use smartship_api::requests::runtime::UpdateCheck;
use smartship_api::runtime::{Incremental, KeyList, PublicKey, UpdateAnswer, signed_delta_message};
use smartship_core::runtime::ServiceStatus;
use smartship_core::{AppId, PackageId};
use smartship_store::HostPackage;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Bytes of a `user_id` or `current_version` at most.
const MAX_PARAM: usize = 128;

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update))
        .routes(routes!(keys))
        .routes(routes!(download::artifact))
}

/// The routes, every error in the operator API's JSON shape (a path id
/// that is no integer: 400 `bad_request`).
pub fn router() -> OpenApiRouter<AppState> {
    api()
        .route("/runtime/v1/{*rest}", axum::routing::any(unknown_route))
        .layer(axum::middleware::map_response(
            crate::json_error::json_framework_errors,
        ))
}

async fn unknown_route() -> AdminError {
    AdminError::not_found("no such host-runtime API route")
}

fn err(status: StatusCode, code: &'static str, message: impl Into<String>) -> AdminError {
    AdminError::new(status, code, message)
}

async fn require_host_key(s: &AppState, headers: &HeaderMap) -> Result<(), AdminError> {
    let given = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| k.starts_with(HOST_KEY_PREFIX) && k.len() < 100);
    let Some(key) = given else {
        return Err(err(
            StatusCode::UNAUTHORIZED,
            "host_key_required",
            "send the host-app key as Authorization: Bearer shk_...",
        ));
    };
    if view::host_key_ok(s, &host_key_digest(key)).await? {
        Ok(())
    } else {
        Err(err(
            StatusCode::UNAUTHORIZED,
            "host_key_invalid",
            "unknown or revoked host-app key",
        ))
    }
}

fn check_param<'a>(name: &str, v: &'a Option<String>) -> Result<Option<&'a str>, AdminError> {
    match v.as_deref().map(str::trim) {
        Some(v) if v.len() > MAX_PARAM || v.chars().any(char::is_control) => {
            Err(AdminError::invalid(format!(
                "{name}: at most {MAX_PARAM} bytes, no control characters"
            )))
        }
        Some("") | None => Ok(None),
        Some(v) => Ok(Some(v)),
    }
}

/// The version of an app this user gets.
#[utoipa::path(
    get,
    path = "/runtime/v1/apps/{app_id}/update",
    tag = "runtime",
    operation_id = "runtime_update",
    security(("host_key" = [])),
    params(AppPath, UpdateCheck),
    responses(
        (status = 200, description = "The version to run.", body = UpdateAnswer),
        (status = 400, description = "`bad_request`: the app id is no integer, or a query parameter is malformed.", body = crate::api_doc::AdminErrorBody),
        (status = 401, description = "`host_key_required` or `host_key_invalid`.", body = crate::api_doc::AdminErrorBody),
        (status = 403, description = "`app_paused`, `app_banned`, `app_forced_offline` or `app_traffic_offline`: the app is not served.", body = crate::api_doc::AdminErrorBody),
        (status = 404, description = "`app_not_found`, or `no_online_version`: nothing is released.", body = crate::api_doc::AdminErrorBody),
        (status = 422, description = "`invalid`: a parameter is too long.", body = crate::api_doc::AdminErrorBody),
    )
)]
pub async fn update(
    State(s): State<AppState>,
    Path(AppPath { app_id }): Path<AppPath>,
    Query(q): Query<UpdateCheck>,
    headers: HeaderMap,
) -> Result<Json<UpdateAnswer>, AdminError> {
    require_host_key(&s, &headers).await?;
    let user = check_param("user_id", &q.user_id)?;
    let current = check_param("current_version", &q.current_version)?;
    let current_sha = check_param("current_sha256", &q.current_sha256)?;
    if let Some(sha) = current_sha
        && (sha.len() != 64 || !sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
    {
        return Err(AdminError::invalid(
            "current_sha256: 64 lower-case hex digits",
        ));
    }
    if q.current_package_id.is_some_and(|id| id < 1) {
        return Err(AdminError::invalid(
            "current_package_id: a package id, from 1",
        ));
    }
    let delivery = view::app(&s, AppId(app_id)).await?;
    let (served, gray) = match &*delivery {
        AppDelivery::NoSuchApp => {
            return Err(err(
                StatusCode::NOT_FOUND,
                "app_not_found",
                format!("no app {app_id}"),
            ));
        }
        AppDelivery::NotServed(status) => {
            let (code, message) = match status {
                ServiceStatus::Paused => ("app_paused", "the app's service is paused"),
                ServiceStatus::Banned => ("app_banned", "the app is banned"),
                ServiceStatus::TrafficOffline => (
                    "app_traffic_offline",
                    "the app's traffic was taken offline by its owner",
                ),
                _ => ("app_forced_offline", "the app was taken offline"),
            };
            return Err(err(StatusCode::FORBIDDEN, code, message));
        }
        AppDelivery::Serving { online, gray } => {
            match gray
                .as_deref()
                .filter(|(plan, _)| user.is_some_and(|u| plan.serves(u)))
            {
                Some((_, served)) => (served, true),
                None => (
                    online.as_deref().ok_or_else(|| {
                        err(
                            StatusCode::NOT_FOUND,
                            "no_online_version",
                            format!("app {app_id} has no released version"),
                        )
                    })?,
                    false,
                ),
            }
        }
    };
    let package = &served.package;
    let base = s.base_url();
    let url = |sha: &str| format!("{base}/runtime/v1/apps/{app_id}/artifacts/{sha}.zip");
    // What the host runs: a package id or a digest name one package; a
    // version may name several, and then neither `up_to_date` nor an
    // incremental base can be trusted to it.
    let has = match (q.current_package_id, current_sha, current) {
        (Some(id), _, _) => Some(HostPackage::Id(PackageId(id))),
        (None, Some(sha), _) => Some(HostPackage::Sha256(sha.to_owned())),
        (None, None, Some(v)) => Some(HostPackage::Version(v.to_owned())),
        (None, None, None) => None,
    };
    let up_to_date = match &has {
        Some(HostPackage::Id(id)) => *id == package.id,
        Some(HostPackage::Sha256(sha)) => *sha == served.artifact.sha256,
        Some(HostPackage::Version(v)) => *v == package.version && !served.version_shared,
        None => false,
    };
    let base = match &has {
        Some(h) if !up_to_date => {
            let found = s.store.served_packages(package.app_id, h, 2).await?;
            match found.as_slice() {
                [one] if one.id != package.id => Some(one.clone()),
                _ => None,
            }
        }
        _ => None,
    };
    let mut incremental = None;
    if let Some(from) = base {
        let delta = artifacts::delta_artifact(&s, &from, package).await?;
        // An incremental package larger than the whole one helps no one.
        if delta.size < served.artifact.size {
            let keys = s.signing.current(s.store.as_ref()).await?;
            incremental = Some(Incremental {
                from_package_id: from.id.0,
                from_version: from.version.clone(),
                size: delta.size,
                download_url: url(&delta.sha256),
                key_id: keys.signer_id.clone(),
                signature: keys.sign(&signed_delta_message(
                    app_id,
                    from.id.0,
                    package.id.0,
                    &package.version,
                    &delta.sha256,
                )),
                sha256: delta.sha256,
            });
        }
    }
    Ok(Json(UpdateAnswer {
        app_id,
        package_id: package.id.0,
        channel: if gray { "gray" } else { "online" }.to_owned(),
        up_to_date,
        size: served.artifact.size,
        download_url: url(&served.artifact.sha256),
        key_id: served.key_id.clone(),
        signature: served.signature.clone(),
        sequence: served.freshness.sequence,
        issued_at: served.freshness.issued_at,
        expires_at: served.freshness.expires_at,
        signature_v2: served.signature_v2.clone(),
        sha256: served.artifact.sha256.clone(),
        version: package.version.clone(),
        incremental,
    }))
}

/// The public keys that verify update signatures.
#[utoipa::path(
    get,
    path = "/runtime/v1/keys",
    tag = "runtime",
    operation_id = "runtime_keys",
    responses((status = 200, description = "The signing key and the retired keys still in their overlap, newest first.", body = KeyList))
)]
pub async fn keys(State(s): State<AppState>) -> Result<Json<KeyList>, AdminError> {
    let set = s.signing.current(s.store.as_ref()).await?;
    let now = crate::clock::now_ms();
    Ok(Json(KeyList {
        keys: set
            .published(now)
            .map(|k| PublicKey {
                key_id: k.key_id.clone(),
                public_key: k.public_key.clone(),
                created_at: k.created_at.div_euclid(1000),
                retired_at: k.retired_at.map(|t| t.div_euclid(1000)),
            })
            .collect(),
    }))
}
