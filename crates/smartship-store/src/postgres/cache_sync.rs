//! Keeps the read caches of every node on one database fresh.
//!
//! Each node caches token lookups (`read_cache`; package lists are not
//! cached where nodes share a database) and drops them when one of its own
//! writes commits. The other nodes learn
//! of that write here, through PostgreSQL's `LISTEN`/`NOTIFY`:
//!
//! - **Publishing.** Every invalidation of this node's cache is queued; a
//!   task takes whatever is queued, coalesces it (one "tokens", a set of
//!   app ids) and sends it with `pg_notify` on a connection of its own.
//!   The write has committed before its invalidation is queued, so a node
//!   that hears it and then reads sees the write. The notifying
//!   transaction writes nothing to keep, so it commits without waiting for
//!   a disk flush (`synchronous_commit = off` on that connection only).
//! - **Listening.** A task holds a `LISTEN` connection and applies what
//!   the other nodes publish (its own messages, which come back too, are
//!   skipped). The cache serves entries only while that connection is up:
//!   when it drops, everything cached is dropped and every read goes to
//!   the database until the listener is back. So a node never serves
//!   another node's stale write for longer than a notification takes.

use crate::read_cache::{Invalidation, ReadCache};
use smartship_core::AppId;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The channel every node of an installation listens on: one per schema,
/// so that installations sharing a database (the tests' schemas) do not
/// hear each other.
fn channel(schema: &str) -> String {
    let mut name = format!("smartship_cache_{schema}");
    // An identifier: at most 63 bytes.
    while name.len() > 63 {
        name.pop();
    }
    name
}
/// A notification's payload stays under PostgreSQL's 8,000-byte limit.
const MAX_PAYLOAD: usize = 7_000;
/// How long the listener waits before connecting again after a failure.
const RECONNECT: Duration = Duration::from_millis(500);

/// Starts the publishing and listening tasks on the current runtime and
/// returns the cache they keep fresh.
pub(super) async fn start(main: &PgPool, opts: &PgConnectOptions) -> crate::Result<Arc<ReadCache>> {
    let schema: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(main)
        .await?;
    let channel = channel(&schema);
    let (announce, queued) = mpsc::unbounded_channel();
    let cache = Arc::new(ReadCache::shared(announce));
    // Two connections of their own: the listener's is held for good, and
    // the publisher's must not wait behind the API's queries.
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(opts.clone().options([("synchronous_commit", "off")]));
    // Who sent a message: this store, not this process (a process may
    // open two stores on one database, as the tests' nodes do).
    let me = format!(
        "{}/{:08x}",
        crate::lease_owner::this_process(),
        rand::random::<u32>()
    );
    tokio::spawn(publish(pool.clone(), channel.clone(), me.clone(), queued));
    tokio::spawn(listen(pool, channel, me, Arc::downgrade(&cache)));
    Ok(cache)
}

/// The payloads for one coalesced round: `NODE\nt` for tokens, and
/// `NODE\na ID,ID,…` for apps, split to fit.
fn payloads(me: &str, tokens: bool, apps: &BTreeSet<AppId>) -> Vec<String> {
    let mut out = Vec::new();
    if tokens {
        out.push(format!("{me}\nt"));
    }
    let mut current = String::new();
    for app in apps {
        if current.len() + 24 > MAX_PAYLOAD {
            out.push(format!("{me}\na {current}"));
            current.clear();
        }
        if !current.is_empty() {
            current.push(',');
        }
        current.push_str(&app.0.to_string());
    }
    if !current.is_empty() {
        out.push(format!("{me}\na {current}"));
    }
    out
}

/// What another node's payload invalidates; `None` for this node's own
/// messages (and for anything unreadable, which no node sends).
fn parse(me: &str, payload: &str) -> Option<Vec<Invalidation>> {
    let (node, what) = payload.split_once('\n')?;
    if node == me {
        return None;
    }
    if what == "t" {
        return Some(vec![Invalidation::Tokens]);
    }
    let ids = what.strip_prefix("a ")?;
    ids.split(',')
        .map(|id| {
            id.parse::<i64>()
                .ok()
                .map(|id| Invalidation::App(AppId(id)))
        })
        .collect()
}

async fn publish(
    pool: PgPool,
    channel: String,
    me: String,
    mut queued: mpsc::UnboundedReceiver<Invalidation>,
) {
    while let Some(first) = queued.recv().await {
        let mut tokens = false;
        let mut apps = BTreeSet::new();
        let mut take = |what: Invalidation| match what {
            Invalidation::Tokens => tokens = true,
            Invalidation::App(app) => {
                apps.insert(app);
            }
        };
        take(first);
        while let Ok(more) = queued.try_recv() {
            take(more);
        }
        for payload in payloads(&me, tokens, &apps) {
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(&channel)
                .bind(&payload)
                .execute(&pool)
                .await;
            if let Err(e) = sent {
                // The other nodes then fall back on reading the database
                // only if their own connections broke too; say so loudly.
                tracing::warn!(error = %crate::StoreError::from(e), "could not announce a cache invalidation to the other nodes");
            }
        }
    }
}

async fn listen(pool: PgPool, channel: String, me: String, cache: std::sync::Weak<ReadCache>) {
    let mut lost_before = false;
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %crate::StoreError::from(e), "cache notifications: cannot connect; reading the database meanwhile");
                tokio::time::sleep(RECONNECT).await;
                continue;
            }
        };
        // A failed LISTEN is a lost connection too.
        if let Err(e) = listener.listen(&channel).await {
            tracing::warn!(error = %crate::StoreError::from(e), "cache notifications: LISTEN failed");
            tokio::time::sleep(RECONNECT).await;
            continue;
        }
        let Some(c) = cache.upgrade() else { return };
        if lost_before {
            tracing::info!("cache notifications: listening again; serving cached tokens again");
        }
        c.set_hearing(true);
        drop(c);
        loop {
            let next = listener.try_recv().await;
            let Some(c) = cache.upgrade() else { return };
            match next {
                Ok(Some(n)) => {
                    for what in parse(&me, n.payload()).unwrap_or_default() {
                        c.apply_remote(what);
                    }
                }
                // The connection was lost (and is being made again):
                // whatever was sent meanwhile is unknown.
                Ok(None) => {
                    metrics::counter!("smartship_cache_notification_losses_total").increment(1);
                    tracing::warn!(
                        "cache notifications: connection lost; reading the database until it is back"
                    );
                    c.set_hearing(false);
                    lost_before = true;
                    break;
                }
                Err(e) => {
                    metrics::counter!("smartship_cache_notification_losses_total").increment(1);
                    tracing::warn!(error = %crate::StoreError::from(e), "cache notifications: connection lost");
                    c.set_hearing(false);
                    lost_before = true;
                    tokio::time::sleep(RECONNECT).await;
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_stay_under_the_limit() {
        let apps: BTreeSet<AppId> = (1..3_000).map(|i| AppId(i * 1_000_003)).collect();
        let out = payloads("h/1/ab", true, &apps);
        assert!(out.len() > 2, "split: {}", out.len());
        let mut heard = BTreeSet::new();
        let mut tokens = false;
        for p in &out {
            assert!(p.len() < 8_000, "{}", p.len());
            assert_eq!(parse("h/1/ab", p), None, "own messages are skipped");
            for what in parse("other", p).expect("readable") {
                match what {
                    Invalidation::Tokens => tokens = true,
                    Invalidation::App(a) => {
                        heard.insert(a);
                    }
                }
            }
        }
        assert!(tokens);
        assert_eq!(heard, apps);
        assert_eq!(parse("x", "garbage"), None);
        assert_eq!(parse("x", "n\na 1,zz"), None);
    }
}
