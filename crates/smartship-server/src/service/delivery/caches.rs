//! The per-node caches of what host runtimes get, as `AppState` holds them:
//! each app's update-check view and each host key's verdict, kept for a
//! second (`view` fills them), and recently served artifacts (`artifacts`
//! fills them). Types only, free of the server's state, so that the state
//! can hold them without the service layer and the state importing each
//! other.
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

use bytes::Bytes;
use smartship_api::runtime::Freshness;
use smartship_core::AppId;
use smartship_core::gray::GrayPlan;
use smartship_core::runtime::ServiceStatus;
use smartship_store::{Artifact, Package, Store};
use std::collections::{HashMap, VecDeque};
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
    pub async fn host_key_ok(&self, store: &dyn Store, digest: &str) -> anyhow::Result<bool> {
        if let Some(ok) = self.host_keys.get(digest) {
            return Ok(ok);
        }
        let seen = self.generation();
        let ok = store.active_host_key(digest).await?.is_some();
        if self.generation() == seen {
            self.host_keys.put(digest.to_owned(), ok);
        }
        Ok(ok)
    }

    /// The app's delivery state, at most [`TTL`] old; `read` reads it
    /// afresh (`view::read`), awaited only when nothing fresh is kept.
    pub async fn app(
        &self,
        app: AppId,
        read: impl std::future::Future<Output = anyhow::Result<AppDelivery>>,
    ) -> anyhow::Result<Arc<AppDelivery>> {
        let key = app.0.to_string();
        if let Some(d) = self.apps.get(&key) {
            return Ok(d);
        }
        let seen = self.generation();
        let d = Arc::new(read.await?);
        if self.generation() == seen {
            self.apps.put(key, d.clone());
        }
        Ok(d)
    }
}

/// Bytes of artifacts a node keeps in memory at most.
const CACHE_BYTES: usize = 64 << 20;

/// Recently served artifacts, by digest, oldest evicted first. They never
/// change, so a cached copy is never stale.
#[derive(Default)]
pub struct ArtifactCache {
    inner: Mutex<CacheInner>,
    /// One build per artifact at a time on this node: the checks that
    /// follow a release all want the same zip, and it is made once.
    building: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

#[derive(Default)]
struct CacheInner {
    bytes: usize,
    order: VecDeque<String>,
    map: HashMap<String, Bytes>,
}

impl ArtifactCache {
    /// Waits for this node's build of `key`, if one runs, and holds the
    /// turn: the caller checks the store again, then builds if still needed.
    pub(super) async fn build_turn(&self, key: String) -> BuildTurn<'_> {
        let lock = self
            .building
            .lock()
            .expect("cache lock")
            .entry(key.clone())
            .or_default()
            .clone();
        let guard = lock.lock_owned().await;
        BuildTurn {
            cache: self,
            key,
            _guard: guard,
        }
    }

    pub fn get(&self, sha256: &str) -> Option<Bytes> {
        self.inner
            .lock()
            .expect("cache lock")
            .map
            .get(sha256)
            .cloned()
    }

    pub fn put(&self, sha256: &str, bytes: Bytes) {
        if bytes.len() > CACHE_BYTES / 4 {
            return;
        }
        let mut c = self.inner.lock().expect("cache lock");
        if c.map.contains_key(sha256) {
            return;
        }
        while c.bytes + bytes.len() > CACHE_BYTES {
            let Some(old) = c.order.pop_front() else {
                break;
            };
            if let Some(b) = c.map.remove(&old) {
                c.bytes -= b.len();
            }
        }
        c.bytes += bytes.len();
        c.order.push_back(sha256.to_owned());
        c.map.insert(sha256.to_owned(), bytes);
    }
}

/// A node's turn to build one artifact; its entry goes when the last
/// waiter is done.
pub(super) struct BuildTurn<'a> {
    cache: &'a ArtifactCache,
    key: String,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for BuildTurn<'_> {
    fn drop(&mut self) {
        let mut building = self.cache.building.lock().expect("cache lock");
        // Two references: the map's and this guard's mutex. Anyone else
        // holds a third and will remove it after their turn.
        if building
            .get(&self.key)
            .is_some_and(|m| Arc::strong_count(m) <= 2)
        {
            building.remove(&self.key);
        }
    }
}
