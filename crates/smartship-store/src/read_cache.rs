//! A short-lived in-process cache of the two reads every open API call
//! makes: the token lookup and, for `package/get`, the app's slotted
//! packages.
//!
//! SQLite reads through sqlx cost two thread hand-offs each (the query goes
//! to the connection's worker thread and the answer comes back), which on
//! two cores dominated `package/get`. Serving repeated reads from memory is
//! safe because every write that changes them goes through this store and
//! invalidates after it commits:
//!
//! - Each kind of entry has a generation, bumped (and the affected entries
//!   dropped) by every invalidation. A reader notes the generation before
//!   its database read and stores its result only if the generation is still
//!   the same, so a read that raced with a write is never cached.
//! - Entries also expire after a second, which bounds staleness if another
//!   process writes the same database unannounced.
//! - Where several processes write one database (PostgreSQL nodes), each
//!   token change is also handed to the queue given to
//!   [`ReadCache::shared`], which the backend publishes to the other nodes,
//!   and the changes they publish arrive through
//!   [`ReadCache::tokens_changed_elsewhere`]. Such a cache serves tokens only while it
//!   hears the others ([`ReadCache::set_hearing`]): while its notification
//!   connection is down it reads the database every time, so the staleness
//!   across nodes is the notification's delay, never the TTL. It serves no
//!   package lists at all: a client that uploads through one node and reads
//!   through another at once (as the fleet engine does) must see its
//!   upload, and a notification, however quick, can arrive after that read.
//!
//! Token changes (authorize, unauthorize, refresh rotation, a platform's IP
//! allow-list) are rare, so they clear every cached token; package writes
//! drop only their app's entry.

use crate::model::{Package, TokenRecord};
use smartship_core::AppId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long an entry is served without a database read.
const TTL: Duration = Duration::from_secs(1);
/// Entries kept before the cache starts over (bounds memory).
const MAX_ENTRIES: usize = 100_000;

struct Cached<K, V> {
    generation: u64,
    map: HashMap<K, (Instant, V)>,
}

impl<K: std::hash::Hash + Eq, V: Clone> Cached<K, V> {
    fn new() -> Self {
        Cached {
            generation: 0,
            map: HashMap::new(),
        }
    }

    fn get(&self, key: &K) -> Option<V> {
        self.map
            .get(key)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, v)| v.clone())
    }

    fn put(&mut self, key: K, value: V, seen: u64) {
        if seen != self.generation {
            return;
        }
        if self.map.len() >= MAX_ENTRIES {
            self.map.clear();
        }
        self.map.insert(key, (Instant::now(), value));
    }
}

/// See the module documentation.
pub struct ReadCache {
    tokens: Mutex<Cached<String, TokenRecord>>,
    packages: Mutex<Cached<AppId, Arc<[Package]>>>,
    /// Where this node's token changes go for the other nodes (the only
    /// entries a shared cache keeps).
    announce: OnceLock<tokio::sync::mpsc::UnboundedSender<()>>,
    /// Whether the other nodes' invalidations can reach this cache (always,
    /// for a cache that has no other nodes).
    hearing: AtomicBool,
    /// Whether package lists are kept (not when other nodes write: reads
    /// after one's own write must see it, whichever node takes them).
    keeps_packages: bool,
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache").finish_non_exhaustive()
    }
}

impl Default for ReadCache {
    fn default() -> Self {
        ReadCache {
            tokens: Mutex::new(Cached::new()),
            packages: Mutex::new(Cached::new()),
            announce: OnceLock::new(),
            hearing: AtomicBool::new(true),
            keeps_packages: true,
        }
    }
}

impl ReadCache {
    /// A cache shared with other nodes: it serves nothing until
    /// [`ReadCache::set_hearing`] says their invalidations arrive, and
    /// announces its own token changes to `announce`.
    pub fn shared(announce: tokio::sync::mpsc::UnboundedSender<()>) -> ReadCache {
        let cache = ReadCache {
            keeps_packages: false,
            ..ReadCache::default()
        };
        cache.hearing.store(false, Ordering::SeqCst);
        let _ = cache.announce.set(announce);
        cache
    }

    /// Whether the other nodes' invalidations reach this cache. Turning it
    /// off drops everything (what was missed is unknown); while it is off,
    /// nothing is served or kept.
    pub fn set_hearing(&self, hearing: bool) {
        self.hearing.store(hearing, Ordering::SeqCst);
        if !hearing {
            // Bumps the generations too: a read that noted one before
            // cannot keep its answer.
            self.drop_tokens();
            self.drop_packages();
        }
    }

    fn serving(&self) -> bool {
        self.hearing.load(Ordering::SeqCst)
    }

    /// A cached token record, or the generation to pass to
    /// [`ReadCache::put_token`] after reading the database.
    pub fn token(&self, hash: &str) -> Result<TokenRecord, u64> {
        let c = self.tokens.lock().expect("not poisoned");
        if !self.serving() {
            return Err(c.generation.wrapping_sub(1));
        }
        c.get(&hash.to_owned()).ok_or(c.generation)
    }

    pub fn put_token(&self, hash: &str, record: TokenRecord, seen: u64) {
        self.tokens
            .lock()
            .expect("not poisoned")
            .put(hash.to_owned(), record, seen);
    }

    /// After a committed change to any token, authorization or platform.
    pub fn invalidate_tokens(&self) {
        self.drop_tokens();
        metrics::counter!("smartship_cache_invalidations_total", "origin" => "this_node")
            .increment(1);
        if let Some(to) = self.announce.get() {
            // Gone only when the process is stopping.
            let _ = to.send(());
        }
    }

    fn drop_tokens(&self) {
        let mut c = self.tokens.lock().expect("not poisoned");
        c.generation += 1;
        c.map.clear();
    }

    fn drop_packages(&self) {
        let mut c = self.packages.lock().expect("not poisoned");
        c.generation += 1;
        c.map.clear();
    }

    /// Another node changed a token (not announced again).
    pub fn tokens_changed_elsewhere(&self) {
        metrics::counter!("smartship_cache_invalidations_total", "origin" => "other_node")
            .increment(1);
        self.drop_tokens();
    }

    /// An app's cached slotted packages, or the generation to pass to
    /// [`ReadCache::put_packages`].
    pub fn packages(&self, app: AppId) -> Result<Arc<[Package]>, u64> {
        let c = self.packages.lock().expect("not poisoned");
        if !self.keeps_packages || !self.serving() {
            return Err(c.generation.wrapping_sub(1));
        }
        c.get(&app).ok_or(c.generation)
    }

    pub fn put_packages(&self, app: AppId, packages: Arc<[Package]>, seen: u64) {
        self.packages
            .lock()
            .expect("not poisoned")
            .put(app, packages, seen);
    }

    /// After a committed change to one of the app's packages.
    /// (Nodes that share a database keep no package lists: nothing to tell
    /// them.)
    pub fn invalidate_app(&self, app: AppId) {
        let mut c = self.packages.lock().expect("not poisoned");
        c.generation += 1;
        c.map.remove(&app);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_raced_with_a_write_is_not_cached() {
        let cache = ReadCache::default();
        let app = AppId(1);
        let seen = cache.packages(app).unwrap_err();
        // A write commits and invalidates while the read is in flight.
        cache.invalidate_app(app);
        cache.put_packages(app, Arc::from(Vec::new()), seen);
        assert!(cache.packages(app).is_err(), "stale result cached");
        // A read that started after the write is cached.
        let seen = cache.packages(app).unwrap_err();
        cache.put_packages(app, Arc::from(Vec::new()), seen);
        assert!(cache.packages(app).unwrap().is_empty());
        // Another app's write does not drop it.
        cache.invalidate_app(AppId(2));
        assert!(cache.packages(app).is_ok());
        cache.invalidate_app(app);
        assert!(cache.packages(app).is_err());
    }

    fn record() -> TokenRecord {
        TokenRecord {
            kind: crate::model::TokenKind::AppAccess,
            tp_id: smartship_core::TpId(1),
            app_id: Some(AppId(1)),
            expires_at: i64::MAX,
            revoked: false,
            authorized: true,
            ip_allowlist: None,
        }
    }

    #[test]
    fn a_shared_cache_serves_only_while_it_hears_the_other_nodes() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let cache = ReadCache::shared(tx);
        // Not yet listening: nothing is kept.
        let seen = cache.token("h").unwrap_err();
        cache.put_token("h", record(), seen);
        assert!(cache.token("h").is_err());
        cache.set_hearing(true);
        let seen = cache.token("h").unwrap_err();
        cache.put_token("h", record(), seen);
        assert!(cache.token("h").is_ok());
        // A read in flight when the connection drops keeps nothing, and
        // nothing cached before is served.
        let seen_app = cache.packages(AppId(7)).unwrap_err();
        cache.set_hearing(false);
        cache.put_packages(AppId(7), Arc::from(Vec::new()), seen_app);
        assert!(cache.token("h").is_err());
        cache.set_hearing(true);
        assert!(cache.token("h").is_err(), "dropped while deaf");
        assert!(cache.packages(AppId(7)).is_err());
        // Package lists are never kept by a shared cache.
        let seen_app = cache.packages(AppId(8)).unwrap_err();
        cache.put_packages(AppId(8), Arc::from(Vec::new()), seen_app);
        assert!(cache.packages(AppId(8)).is_err());
        // Own token changes are announced (package lists, kept by no
        // node, need nothing); the others' are applied, not repeated.
        cache.invalidate_app(AppId(3));
        cache.invalidate_tokens();
        assert_eq!(rx.try_recv(), Ok(()));
        let seen = cache.token("h").unwrap_err();
        cache.put_token("h", record(), seen);
        assert!(cache.token("h").is_ok());
        cache.tokens_changed_elsewhere();
        assert!(cache.token("h").is_err());
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn token_changes_clear_every_token() {
        let cache = ReadCache::default();
        let seen = cache.token("h").unwrap_err();
        cache.invalidate_tokens();
        assert_eq!(cache.token("h").unwrap_err(), seen + 1);
    }
}
