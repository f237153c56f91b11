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
//!   process writes the same database.
//!
//! Token changes (authorize, unauthorize, refresh rotation, a platform's IP
//! allow-list) are rare, so they clear every cached token; package writes
//! drop only their app's entry.

use crate::model::{Package, TokenRecord};
use smartship_core::AppId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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
        }
    }
}

impl ReadCache {
    /// A cached token record, or the generation to pass to
    /// [`ReadCache::put_token`] after reading the database.
    pub fn token(&self, hash: &str) -> Result<TokenRecord, u64> {
        let c = self.tokens.lock().expect("not poisoned");
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
        let mut c = self.tokens.lock().expect("not poisoned");
        c.generation += 1;
        c.map.clear();
    }

    /// An app's cached slotted packages, or the generation to pass to
    /// [`ReadCache::put_packages`].
    pub fn packages(&self, app: AppId) -> Result<Arc<[Package]>, u64> {
        let c = self.packages.lock().expect("not poisoned");
        c.get(&app).ok_or(c.generation)
    }

    pub fn put_packages(&self, app: AppId, packages: Arc<[Package]>, seen: u64) {
        self.packages
            .lock()
            .expect("not poisoned")
            .put(app, packages, seen);
    }

    /// After a committed change to one of the app's packages.
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

    #[test]
    fn token_changes_clear_every_token() {
        let cache = ReadCache::default();
        let seen = cache.token("h").unwrap_err();
        cache.invalidate_tokens();
        assert_eq!(cache.token("h").unwrap_err(), seen + 1);
    }
}
