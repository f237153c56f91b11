//! Keeps the read caches of every node on one database fresh.
//!
//! Each node caches token lookups (`read_cache`; package lists are not
//! cached where nodes share a database) and drops them when one of its own
//! writes commits. The other nodes learn
//! of that write here, through PostgreSQL's `LISTEN`/`NOTIFY`:
//!
//! - **Publishing.** Every token change of this node is queued; a task
//!   takes whatever is queued, as one message, and sends it with
//!   `pg_notify` on a connection of its own (the payload names the sending
//!   node; the message itself says "tokens changed").
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

use crate::read_cache::ReadCache;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
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

async fn publish(
    pool: PgPool,
    channel: String,
    me: String,
    mut queued: mpsc::UnboundedReceiver<()>,
) {
    while queued.recv().await.is_some() {
        // Changes queued meanwhile are told by the same message.
        while queued.try_recv().is_ok() {}
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&channel)
            .bind(&me)
            .execute(&pool)
            .await;
        if let Err(e) = sent {
            // The other nodes keep their cached tokens up to their
            // one-second life unless their own connections broke too: say so
            // loudly.
            tracing::warn!(error = %crate::StoreError::from(e), "could not announce a token change to the other nodes");
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
                // Another node's token change (this node's own come back
                // too, and are skipped).
                Ok(Some(n)) if n.payload() != me => c.tokens_changed_elsewhere(),
                Ok(Some(_)) => {}
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
