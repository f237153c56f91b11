//! What the update check needs of an app, kept for a second.
//!
//! An update check reads the host key, the app's service status, its live
//! phased release, its online package and that package's artifact, and
//! signs: five queries and a signature per request if done each time. Host
//! runtimes poll, so a node keeps each app's answer parts (and each host
//! key's verdict) for [`TTL`] and builds answers from memory. A node drops
//! an app's entry when it changes the app itself (a release, a rollback, a
//! plan change, a service status) and its host keys when it revokes one,
//! so its own writes show at once; another node's show within a second,
//! without any cross-node invalidation.

use super::artifacts;
use crate::state::AppState;
use smartship_api::runtime::{Freshness, signed_message, signed_message_v2};
use smartship_core::AppId;
use smartship_core::gray::GrayPlan;
use smartship_core::lifecycle::PackageState;
use smartship_core::runtime::ServiceStatus;
use smartship_store::{Artifact, HostPackage, Package};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a node answers from what it read.
pub const TTL: Duration = Duration::from_secs(1);
/// Entries a cache holds at most; past it, it starts over (bounded memory
/// whatever hosts ask for).
const MAX_ENTRIES: usize = 100_000;

/// A package as the update check serves it, signed.
#[derive(Debug, Clone)]
pub struct Served {
    pub package: Package,
    pub artifact: Artifact,
    pub key_id: String,
    /// Format v1: the package alone (kept for hosts that check only it).
    pub signature: String,
    /// The app's release sequence and the answer's time window.
    pub freshness: Freshness,
    /// Format v2: the package and its [`Freshness`].
    pub signature_v2: String,
    /// Another package the app served carries this version: a host that
    /// reports only `current_version` cannot be told apart from it.
    pub version_shared: bool,
}

/// An app's delivery state.
#[derive(Debug)]
pub enum AppDelivery {
    NoSuchApp,
    NotServed(ServiceStatus),
    Serving {
        online: Option<Box<Served>>,
        /// A live phased release and its package.
        gray: Option<Box<(GrayPlan, Served)>>,
    },
}

struct Ttl<V> {
    map: Mutex<HashMap<String, (Instant, V)>>,
}

impl<V: Clone> Default for Ttl<V> {
    fn default() -> Self {
        Ttl {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> Ttl<V> {
    fn forget(&self, k: &str) {
        self.map.lock().expect("cache lock").remove(k);
    }

    fn clear(&self) {
        self.map.lock().expect("cache lock").clear();
    }

    fn get(&self, k: &str) -> Option<V> {
        let map = self.map.lock().expect("cache lock");
        map.get(k)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, v)| v.clone())
    }

    fn put(&self, k: String, v: V) {
        let mut map = self.map.lock().expect("cache lock");
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(k, (Instant::now(), v));
    }
}

#[derive(Default)]
pub struct DeliveryCache {
    apps: Ttl<Arc<AppDelivery>>,
    host_keys: Ttl<bool>,
    /// Bumped by every `forget`: a read that began before a change is not
    /// kept after it (it may hold what the change replaced).
    generation: std::sync::atomic::AtomicU64,
}

impl DeliveryCache {
    /// Drops what this node read of `app` (it just changed it).
    pub fn forget(&self, app: AppId) {
        self.bump();
        self.apps.forget(&app.0.to_string());
    }

    fn bump(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Drops every app's entry (their signatures: the signing key changed).
    pub fn forget_apps(&self) {
        self.bump();
        self.apps.clear();
    }

    /// Drops every host key's verdict (one was revoked).
    pub fn forget_host_keys(&self) {
        self.bump();
        self.host_keys.clear();
    }

    /// Whether the host key with this digest is usable.
    pub async fn host_key_ok(&self, s: &AppState, digest: &str) -> anyhow::Result<bool> {
        if let Some(ok) = self.host_keys.get(digest) {
            return Ok(ok);
        }
        let seen = self.generation();
        let ok = s.store.active_host_key(digest).await?.is_some();
        if self.generation() == seen {
            self.host_keys.put(digest.to_owned(), ok);
        }
        Ok(ok)
    }

    /// The app's delivery state, at most [`TTL`] old.
    pub async fn app(&self, s: &AppState, app: AppId) -> anyhow::Result<Arc<AppDelivery>> {
        let key = app.0.to_string();
        if let Some(d) = self.apps.get(&key) {
            return Ok(d);
        }
        let seen = self.generation();
        let d = Arc::new(read(s, app).await?);
        if self.generation() == seen {
            self.apps.put(key, d.clone());
        }
        Ok(d)
    }
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
