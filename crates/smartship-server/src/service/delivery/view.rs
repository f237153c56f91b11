//! What the update check needs of an app: read from the store and signed
//! here, kept for a second by the node's [`DeliveryCache`].

use super::artifacts;
pub use super::caches::{AppDelivery, DeliveryCache, Served, TTL};
use crate::state::AppState;
use smartship_api::runtime::{Freshness, signed_message, signed_message_v2};
use smartship_core::AppId;
use smartship_core::lifecycle::PackageState;
use smartship_core::runtime::ServiceStatus;
use smartship_store::{HostPackage, Package};
use std::sync::Arc;

/// The app's delivery state on this node, at most [`TTL`] old.
pub async fn app(s: &AppState, app: AppId) -> anyhow::Result<Arc<AppDelivery>> {
    s.delivery.app(app, read(s, app)).await
}

/// Whether the host key with this digest is usable (its verdict kept as
/// long as an app's view).
pub async fn host_key_ok(s: &AppState, digest: &str) -> anyhow::Result<bool> {
    s.delivery.host_key_ok(s.store.as_ref(), digest).await
}

async fn serve(
    s: &AppState,
    app: AppId,
    package: Package,
    sequence: i64,
) -> anyhow::Result<Served> {
    let artifact = artifacts::package_artifact(s, &package).await?;
    let keys = s.signing.current(s.store.as_ref()).await?;
    let signature = keys.sign(&signed_message(
        app.0,
        package.id.0,
        &package.version,
        &artifact.sha256,
    ));
    let issued_at = crate::clock::now_ms() / 1000;
    let freshness = Freshness {
        sequence,
        issued_at,
        expires_at: issued_at + s.config.update_answer_ttl_secs as i64,
    };
    let signature_v2 = keys.sign(&signed_message_v2(
        app.0,
        package.id.0,
        &package.version,
        &artifact.sha256,
        freshness,
    ));
    let version_shared = s
        .store
        .served_packages(app, &HostPackage::Version(package.version.clone()), 2)
        .await?
        .iter()
        .any(|p| p.id != package.id);
    Ok(Served {
        package,
        artifact,
        key_id: keys.signer_id.clone(),
        signature,
        freshness,
        signature_v2,
        version_shared,
    })
}

async fn read(s: &AppState, app: AppId) -> anyhow::Result<AppDelivery> {
    let Some(a) = s.store.app(app).await? else {
        return Ok(AppDelivery::NoSuchApp);
    };
    if a.service_status != ServiceStatus::Normal {
        return Ok(AppDelivery::NotServed(a.service_status));
    }
    let mut online = None;
    for state in [PackageState::Online, PackageState::RollingBack] {
        if let Some(p) = s.store.package_in_state(app, state).await? {
            online = Some(Box::new(serve(s, app, p, a.release_seq).await?));
            break;
        }
    }
    let mut gray = None;
    if let Some(plan) = s
        .store
        .latest_gray(app)
        .await?
        .filter(|p| p.status.is_live())
        && let Some(p) = s.store.package(app, plan.package).await?
    {
        gray = Some(Box::new((plan, serve(s, app, p, a.release_seq).await?)));
    }
    Ok(AppDelivery::Serving { online, gray })
}
