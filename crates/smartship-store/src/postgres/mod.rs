//! PostgreSQL, for installations that outgrow one process on one file.
//!
//! Every write is an ordinary transaction on a pool (`begin_write`), at
//! PostgreSQL's default READ COMMITTED isolation, with
//! `synchronous_commit = on`: a caller hears back only once its commit is
//! on the server's disk. What SQLite gets from having one writer, this
//! backend gets from row locks:
//!
//! - every lifecycle transaction (the same steps as SQLite's, from
//!   `lifecycle_flow`) locks its app's row first (`SELECT … FOR UPDATE`),
//!   so the slot invariants and the quota hold with any number of writers
//!   on any number of nodes;
//! - the build and delivery workers claim with leases and
//!   `FOR UPDATE SKIP LOCKED`, so two claimers never take the same job and
//!   never wait on each other;
//! - the few check-then-write transactions (a single-use code, a refresh
//!   token, a platform's template count) lock the row they check.
//!
//! A lost race that PostgreSQL reports as a serialization failure or a
//! deadlock is `StoreError::Busy`; the lifecycle runner retries it a few
//! times before answering so.
//!
//! One module per aggregate implements its part of the store, as for
//! SQLite; row decoding is shared (`crate::rows`).

use crate::model::*;
use crate::prelude::*;
use crate::read_cache::ReadCache;
use crate::rows::*;
use crate::write_tx::{Touches, WriteTx};
use crate::{AddTemplate, Decision, PhasedDecision, Purged, ReleasedLeases, Result, StoreError};
use async_trait::async_trait;
use smartship_core::lifecycle::{self, Action, PackageState};
use smartship_core::manifest::Manifest;
use smartship_core::{AppId, DraftId, PackageId, TemplateId, TpId};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Row};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Connections per process: enough for the request handlers and the
/// workers of one node, few enough that several nodes stay well inside the
/// server's default `max_connections` (100).
const POOL_SIZE: u32 = 16;
/// Connections of the blob store, a pool of its own: a blob stream holds
/// its connection while a large file arrives, and forty parallel uploads
/// must not leave the API's token checks and transitions waiting for one.
const BLOB_POOL_SIZE: u32 = 6;
/// How long a blob write waits for one of those: uploads queue behind each
/// other rather than fail.
const BLOB_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(120);

/// PostgreSQL-backed [`Store`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The blob store's connections, opened when first needed.
    blob_pool: PgPool,
    /// Lifecycle transactions, committed in batches.
    batcher: batch::Batcher,
    /// Token lookups and slotted packages, invalidated by the writes of
    /// this process and, through `cache_sync`, of every other node;
    /// shared by every clone of the store.
    cache: Arc<ReadCache>,
}

type Tx<'a> = sqlx::Transaction<'a, Postgres>;

/// This backend's schema, applied at open (under an advisory lock).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

macro_rules! package_cols {
    () => {
        "id, app_id, tp_id, template_id, version, version_desc, state, build, build_error_code, \
         build_error, ext_json, direct_commit, test_account, audit_content, remark, msg, committer, \
         commit_time, rollback_version, rollback_due_at, released_at, size, created_at, updated_at, \
         release_at"
    };
}

/// The row lock of a check-then-write transaction: several writers run at
/// once here, so the row checked is locked until the commit (`for_update!("t")`
/// locks only table `t` of a join).
macro_rules! for_update {
    () => {
        " FOR UPDATE"
    };
    ($table:literal) => {
        concat!(" FOR UPDATE OF ", $table)
    };
}

mod batch;
pub mod blobs;
mod cache_sync;
mod console;
mod lifecycle_sql;
mod outbox;
mod packages;
mod parties;
mod profile;
mod runtime;
mod templates;
mod tokens;

use outbox::insert_auth_event;

/// A lifecycle transaction, as handed to [`PgStore::lifecycle`].
enum LifecycleOp {
    Upload(NewUpload),
    Apply(PackageId, Action),
    FinishBuild(PackageId, BuildOutcome),
    Phased(smartship_core::phased::PhasedOp),
    Schedule(PackageId, i64),
    CancelSchedule(PackageId),
}

enum LifecycleOut {
    Uploaded(std::result::Result<PackageId, lifecycle::Refusal>),
    Decided(Decision),
    Phased(PhasedDecision),
    Scheduled(std::result::Result<(), lifecycle::Refusal>),
    Cancelled(bool),
}

impl PgStore {
    /// Connects to the database a `postgres://` URL names and applies the
    /// migrations (under PostgreSQL's advisory lock, so several nodes may
    /// start at once).
    pub async fn open_url(url: &str) -> Result<PgStore> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("database URL: {}", redact_error(&e))))?
            // A committed transition survives a crash of the server: the
            // commit returns only once it is on disk (the default, stated
            // so that a server configured otherwise cannot weaken it).
            .options([("synchronous_commit", "on")])
            .application_name("smartship");
        let blob_pool = PgPoolOptions::new()
            .max_connections(BLOB_POOL_SIZE)
            .acquire_timeout(BLOB_ACQUIRE_TIMEOUT)
            .connect_lazy_with(opts.clone());
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        backfill_name_keys!(&pool);
        // Fresh across the nodes of the database: see `cache_sync`.
        let cache = cache_sync::start(&pool, &opts).await?;
        Ok(PgStore {
            batcher: batch::Batcher::start(pool.clone(), cache.clone()),
            pool,
            blob_pool,
            cache,
        })
    }

    /// The pool reads go to (the shared methods of `shared_sql` name it so).
    fn reads(&self) -> &PgPool {
        &self.pool
    }

    /// The one way an ordinary write begins: see [`WriteTx`].
    async fn begin_write(&self, touches: Touches) -> Result<WriteTx<'_, Postgres>> {
        let tx = self.pool.begin().await?;
        Ok(WriteTx::new(tx, &self.cache, touches, None))
    }

    /// Runs a lifecycle transaction of `app` (in a batch with those of
    /// other callers: [`batch`]) and, once it is over, drops the app's
    /// cached packages.
    async fn lifecycle(
        &self,
        app: AppId,
        op: LifecycleOp,
        ctx: &ActionContext,
    ) -> Result<LifecycleOut> {
        self.batcher.run(app, op, ctx).await
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
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let kind = r.text("kind")?;
        Ok(Some(TokenRecord {
            kind: TokenKind::parse(&kind).ok_or_else(|| corrupt("token kind", &kind))?,
            tp_id: TpId(r.int("tp_id")?),
            app_id: r.opt_int("app_id")?.map(AppId),
            expires_at: r.int("expires_at")?,
            revoked: r.flag("revoked")?,
            authorized: r.flag("authorized")?,
            ip_allowlist: r.opt_text("ip_allowlist")?,
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
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(package_from_row).collect()
    }
}

/// A URL's parse error without the URL (it may hold a password).
fn redact_error(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Configuration(_) => "not a valid postgres:// URL".to_owned(),
        other => other.to_string(),
    }
}

store_impl!(PgStore, {
    fn blobs(&self, local: &std::path::Path) -> std::io::Result<crate::blobs::BlobStore> {
        crate::blobs::BlobStore::in_postgres(blobs::PgBlobs::new(self.blob_pool.clone()), local)
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
        tx.commit().await
    }

    async fn move_staged_audit(&self, limit: i64) -> Result<u64> {
        // One statement: what is deleted is what is inserted, and rows
        // another node is moving are skipped, not moved twice.
        let n = sqlx::query(
            "WITH moved AS (DELETE FROM audit_staging WHERE id IN \
               (SELECT id FROM audit_staging ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) \
               RETURNING id, at, actor, address, action, target, detail, outcome) \
             INSERT INTO audit_log (at, actor, address, action, target, detail, outcome) \
             SELECT at, actor, address, action, target, detail, outcome FROM moved ORDER BY id",
        )
        .bind(limit)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n)
    }

    async fn release_leases(&self, owners: &[String]) -> Result<ReleasedLeases> {
        if owners.is_empty() {
            return Ok(ReleasedLeases::default());
        }
        let mut tx = self.begin_write(Touches::Nothing).await?;
        let builds = sqlx::query(
            "UPDATE packages SET build_lease_until = NULL, build_lease_owner = NULL \
             WHERE build = 'building' AND build_lease_owner = ANY($1)",
        )
        .bind(owners)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        let events = sqlx::query(
            "UPDATE events SET lease_until = NULL, lease_owner = NULL \
             WHERE status = 'pending' AND lease_owner = ANY($1)",
        )
        .bind(owners)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(ReleasedLeases { builds, events })
    }

    async fn purge_expired(&self, before: i64, batch: i64) -> Result<Purged> {
        // Each kind in its own short transaction. SKIP LOCKED: rows another
        // transaction holds are left for the next round.
        let statements = [
            "DELETE FROM tokens WHERE hash IN (SELECT hash FROM tokens \
               WHERE expires_at < $1 OR (revoked AND created_at < $1) LIMIT $2 \
               FOR UPDATE SKIP LOCKED)",
            "DELETE FROM codes WHERE hash IN (SELECT hash FROM codes \
               WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
            "DELETE FROM tp_tickets WHERE id IN (SELECT t.id FROM tp_tickets t \
               WHERE t.created_at < $1 \
                 AND t.id < (SELECT MAX(n.id) FROM tp_tickets n WHERE n.tp_id = t.tp_id) \
               LIMIT $2 FOR UPDATE SKIP LOCKED)",
            "DELETE FROM event_attempts WHERE id IN (SELECT a.id FROM event_attempts a \
               JOIN events e ON e.id = a.event_id \
               WHERE a.started_at < $1 AND e.status <> 'pending' LIMIT $2 \
               FOR UPDATE OF a SKIP LOCKED)",
        ];
        let mut counts = [0u64; 4];
        for (i, (sql, count)) in statements.iter().zip(counts.iter_mut()).enumerate() {
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
