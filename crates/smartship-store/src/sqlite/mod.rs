//! The embedded default: SQLite in WAL mode.
//!
//! The hot writes — uploads, lifecycle transitions, build results, worker
//! claims and delivery attempts — run on the group-commit writer thread
//! (`group_commit`, SQL in `lifecycle`), many transactions per fsync.
//! The rare ones (parties, tokens, templates, settings) go through an async
//! pool of exactly one connection. SQLite allows one writer at a time; the
//! two take turns through a fair in-process mutex (`write_turn`), and wait
//! on the file lock (busy timeout) only for another process. The pool's
//! transactions begin `IMMEDIATE`: a deferred one that had read before the
//! other connection committed could not upgrade to writing
//! (`SQLITE_BUSY_SNAPSHOT`) and would fail instead of waiting. Every
//! read-decide-write transaction runs inside one write transaction, which
//! is what keeps the slot invariants under concurrent calls. Reads use
//! their own pool and never wait for writers (WAL).
//!
//! Every write on the pool begins with `begin_write`, which takes the turn
//! and, once the transaction is over, drops from the read cache what it
//! touched.
//!
//! One module per aggregate implements its part of the store (`parties`,
//! `tokens`, `templates`, `packages`, `outbox`); row decoding they share is
//! in `rows`.

use crate::group_commit::GroupCommit;
use crate::model::*;
use crate::prelude::*;
use crate::read_cache::ReadCache;
pub(crate) use crate::write_tx::{Touches, WriteTx};
use crate::{AddTemplate, Decision, PhasedDecision, Result, StoreError};
use crate::{Purged, ReleasedLeases};
use async_trait::async_trait;
use smartship_core::lifecycle::{self, Action, PackageState};
use smartship_core::manifest::Manifest;
use smartship_core::{AppId, DraftId, PackageId, TemplateId, TpId};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// SQLite-backed [`Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
    /// Token lookups and slotted packages, invalidated by the writes here;
    /// shared by every clone of the store.
    cache: std::sync::Arc<ReadCache>,
    /// Taken by the writer thread for each batch and by every write on the
    /// `write` pool, so that the two take turns in the order they asked
    /// (the mutex is fair) instead of polling SQLite's file lock, where
    /// the writer thread, back for its next batch at once, would starve
    /// the pool.
    write_turn: Arc<tokio::sync::Mutex<()>>,
    /// Lifecycle transactions (upload, transitions, build results) share
    /// fsyncs through this committer.
    commits: GroupCommit,
}

type Tx<'a> = Transaction<'a, Sqlite>;

/// This backend's schema, applied at open.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

macro_rules! package_cols {
    () => {
        "id, app_id, tp_id, template_id, version, version_desc, state, build, build_error_code, \
         build_error, ext_json, direct_commit, test_account, audit_content, remark, msg, committer, \
         commit_time, rollback_version, rollback_due_at, released_at, size, created_at, updated_at, \
         release_at"
    };
}

/// No row lock: SQLite has one writer at a time (the writer's turn), so a
/// row checked in a write transaction cannot change before its commit.
macro_rules! for_update {
    ($($table:literal)?) => {
        ""
    };
}

// After `package_cols!` and `for_update!`, so that the aggregates' modules
// see them.
mod console;
pub(crate) mod lifecycle_sql;
mod outbox;
mod packages;
mod parties;
mod profile;
mod runtime;
mod templates;
mod tokens;

use crate::rows::*;
use outbox::insert_auth_event;

impl SqliteStore {
    /// The pool reads go to (the shared methods of `shared_sql` name it so).
    fn reads(&self) -> &SqlitePool {
        &self.read
    }

    /// The one way a write on the pool begins: it takes the writer's turn
    /// (shared with the group-commit thread) and begins `IMMEDIATE`. The
    /// returned transaction commits with [`WriteTx::commit`]; dropped
    /// without it, it rolls back. Either way, once it is over, the read
    /// cache drops what the write touches: a new write cannot forget the
    /// turn or the cache.
    pub(super) async fn begin_write(&self, touches: Touches) -> Result<WriteTx<'_, Sqlite>> {
        let turn = self.write_turn.lock().await;
        let tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx::new(tx, &self.cache, touches, Some(turn)))
    }

    /// Runs a lifecycle transaction of `app` through group commit and, once
    /// it is durable, drops the app's cached packages (on the writer
    /// thread, so also when the caller has gone away meanwhile).
    async fn lifecycle<T, F>(&self, app: AppId, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T> + Send + 'static,
    {
        let cache = self.cache.clone();
        self.commits
            .run_then(f, move || cache.invalidate_app(app))
            .await
    }

    async fn token_uncached(&self, hash: &str) -> Result<Option<TokenRecord>> {
        let Some(r) = sqlx::query(
            "SELECT t.kind, t.tp_id, t.app_id, t.expires_at, t.revoked, \
               COALESCE(a.active, FALSE) AS authorized, p.ip_allowlist \
             FROM tokens t LEFT JOIN authorizations a ON a.app_id = t.app_id AND a.tp_id = t.tp_id \
               JOIN tps p ON p.id = t.tp_id \
             WHERE t.hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(None);
        };
        let kind: String = r.try_get("kind")?;
        Ok(Some(TokenRecord {
            kind: TokenKind::parse(&kind).ok_or_else(|| corrupt("token kind", &kind))?,
            tp_id: TpId(r.try_get("tp_id")?),
            app_id: r.try_get::<Option<i64>, _>("app_id")?.map(AppId),
            expires_at: r.try_get("expires_at")?,
            revoked: r.try_get("revoked")?,
            authorized: r.try_get("authorized")?,
            ip_allowlist: r.try_get("ip_allowlist")?,
        }))
    }

    async fn slotted_packages_uncached(&self, app: AppId) -> Result<Vec<Package>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            package_cols!(),
            " FROM packages WHERE app_id = $1 AND state IN ",
            slotted_states_sql!(),
            " ORDER BY id DESC"
        ))
        .bind(app.0)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(package_from_row).collect()
    }

    /// Opens (creating if needed) the database file and applies migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a committed transition survives a crash of the machine,
            // not only of the process.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await?;
        MIGRATOR.run(&write).await?;
        backfill_name_keys!(&write);
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts.read_only(true))
            .await?;
        let write_turn = Arc::new(tokio::sync::Mutex::new(()));
        Ok(SqliteStore {
            commits: GroupCommit::start(path, write_turn.clone())?,
            write_turn,
            write,
            read,
            cache: Default::default(),
        })
    }

    /// Opens from a `sqlite:` URL or plain path.
    pub async fn open_url(url: &str) -> Result<SqliteStore> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let path = path.split('?').next().unwrap_or(path);
        SqliteStore::open(&std::path::PathBuf::from_str(path).expect("infallible")).await
    }
}

store_impl!(SqliteStore, {
    fn blobs(&self, local: &Path) -> std::io::Result<crate::blobs::BlobStore> {
        crate::blobs::BlobStore::open_files(local)
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let mut tx = self.begin_write(Touches::Nothing).await?;
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut **tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn move_staged_audit(&self, limit: i64) -> Result<u64> {
        // One writer: the two statements see the same rows.
        let mut tx = self.begin_write(Touches::Nothing).await?;
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(id) FROM (SELECT id FROM audit_staging ORDER BY id LIMIT $1)",
        )
        .bind(limit)
        .fetch_one(&mut **tx)
        .await?;
        let Some(last) = last else {
            return Ok(0);
        };
        let n = sqlx::query(
            "INSERT INTO audit_log (at, actor, address, action, target, detail, outcome) \
             SELECT at, actor, address, action, target, detail, outcome FROM audit_staging \
             WHERE id <= $1 ORDER BY id",
        )
        .bind(last)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM audit_staging WHERE id <= $1")
            .bind(last)
            .execute(&mut **tx)
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn release_leases(&self, owners: &[String]) -> Result<ReleasedLeases> {
        if owners.is_empty() {
            return Ok(ReleasedLeases::default());
        }
        let owners_json = serde_json::to_string(owners).expect("strings serialize");
        let mut tx = self.begin_write(Touches::Nothing).await?;
        let builds = sqlx::query(
            "UPDATE packages SET build_lease_until = NULL, build_lease_owner = NULL \
             WHERE build = 'building' AND build_lease_owner IN (SELECT value FROM json_each($1))",
        )
        .bind(&owners_json)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        let events = sqlx::query(
            "UPDATE events SET lease_until = NULL, lease_owner = NULL \
             WHERE status = 'pending' AND lease_owner IN (SELECT value FROM json_each($1))",
        )
        .bind(&owners_json)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(ReleasedLeases { builds, events })
    }

    async fn purge_expired(&self, before: i64, batch: i64) -> Result<Purged> {
        // Each kind in its own short transaction: the writer's turn is held
        // for one batch at a time, never for a whole purge.
        let statements = [
            "DELETE FROM tokens WHERE rowid IN (SELECT rowid FROM tokens \
               WHERE expires_at < $1 OR (revoked AND created_at < $1) LIMIT $2)",
            "DELETE FROM codes WHERE rowid IN (SELECT rowid FROM codes \
               WHERE expires_at < $1 LIMIT $2)",
            "DELETE FROM tp_tickets WHERE id IN (SELECT t.id FROM tp_tickets t \
               WHERE t.created_at < $1 \
                 AND t.id < (SELECT MAX(n.id) FROM tp_tickets n WHERE n.tp_id = t.tp_id) \
               LIMIT $2)",
            "DELETE FROM event_attempts WHERE id IN (SELECT a.id FROM event_attempts a \
               JOIN events e ON e.id = a.event_id \
               WHERE a.started_at < $1 AND e.status <> 'pending' LIMIT $2)",
        ];
        let mut counts = [0u64; 4];
        for (i, (sql, count)) in statements.iter().zip(counts.iter_mut()).enumerate() {
            // Deleted tokens leave the read cache with the commit.
            let touches = if i == 0 {
                Touches::Tokens
            } else {
                Touches::Nothing
            };
            let mut tx = self.begin_write(touches).await?;
            *count = sqlx::query(*sql)
                .bind(before)
                .bind(batch)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            tx.commit().await?;
        }
        let [tokens, codes, tickets, attempts] = counts;
        Ok(Purged {
            tokens,
            codes,
            tickets,
            attempts,
        })
    }
});
