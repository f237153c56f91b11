//! The embedded default: SQLite in WAL mode.
//!
//! The hot writes — uploads, lifecycle transitions, build results, worker
//! claims and delivery attempts — run on the group-commit writer thread
//! (`group_commit`, SQL in `lifecycle_tx`), many transactions per fsync.
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

use crate::group_commit::GroupCommit;
use crate::lifecycle_tx;
use crate::model::*;
use crate::read_cache::ReadCache;
use crate::{AddTemplate, Decision, Result, Store, StoreError};
use crate::{Purged, ReleasedLeases};
use async_trait::async_trait;
use smartship_core::lifecycle::{self, Action, BuildState, PackageState};
use smartship_core::manifest::Manifest;
use smartship_core::{AppId, DraftId, PackageId, TemplateId, TpId};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
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

macro_rules! package_cols {
    () => {
        "id, app_id, tp_id, template_id, version, version_desc, state, build, build_error_code, \
         build_error, ext_json, direct_commit, test_account, audit_content, remark, msg, committer, \
         commit_time, rollback_version, rollback_due_at, released_at, size, created_at, updated_at"
    };
}

impl SqliteStore {
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
            "('development','auditing','audit_failed','audit_passed','online','rolling_back')",
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
        sqlx::migrate!("./migrations/sqlite").run(&write).await?;
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

async fn insert_token_in(tx: &mut Tx<'_>, t: &NewToken) -> Result<()> {
    sqlx::query(
        "INSERT INTO tokens (hash, kind, tp_id, app_id, expires_at, revoked, created_at) \
         VALUES ($1, $2, $3, $4, $5, FALSE, $6)",
    )
    .bind(&t.hash)
    .bind(t.kind.as_str())
    .bind(t.tp_id.0)
    .bind(t.app_id.map(|a| a.0))
    .bind(t.expires_at)
    .bind(t.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Enqueues an event, due at once.
async fn insert_new_event(tx: &mut Tx<'_>, e: &NewEvent) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (tp_id, app_id, kind, target, payload, occurred_at, status, attempts, \
           next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $6)",
    )
    .bind(e.tp_id.0)
    .bind(e.app_id.map(|a| a.0))
    .bind(&e.kind)
    .bind(e.target.as_str())
    .bind(&e.payload)
    .bind(e.occurred_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Enqueues an event for the TP's authorization-event URL.
async fn insert_auth_event(
    tx: &mut Tx<'_>,
    tp: TpId,
    app: Option<AppId>,
    kind: &str,
    payload: &str,
    now: i64,
) -> Result<()> {
    let event = NewEvent {
        tp_id: tp,
        app_id: app,
        kind: kind.to_owned(),
        target: EventTarget::Auth,
        payload: Some(payload.to_owned()),
        occurred_at: now,
    };
    insert_new_event(tx, &event).await
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

pub(crate) fn state_of(s: &str) -> Result<PackageState> {
    PackageState::parse(s).ok_or_else(|| corrupt("package state", s))
}

pub(crate) fn build_of(s: &str) -> Result<BuildState> {
    BuildState::parse(s).ok_or_else(|| corrupt("build state", s))
}

pub(crate) fn manifest_of(json: &str) -> Result<Manifest> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("manifest: {e}")))
}

fn manifest_json(m: &Manifest) -> String {
    serde_json::to_string(m).expect("manifests always serialize")
}

/// A built package's `manifest` column: a delta over its template's
/// manifest (`{"template_delta": {...}}`), or, in rows written before deltas
/// existed, the whole manifest.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub(crate) enum StoredPackageManifest {
    Delta {
        template_delta: smartship_core::manifest::ManifestDelta,
    },
    Full(Manifest),
}

fn package_from_row(r: &SqliteRow) -> Result<Package> {
    Ok(Package {
        id: PackageId(r.try_get("id")?),
        app_id: AppId(r.try_get("app_id")?),
        tp_id: TpId(r.try_get("tp_id")?),
        template_id: TemplateId(r.try_get("template_id")?),
        version: r.try_get("version")?,
        version_desc: r.try_get("version_desc")?,
        state: state_of(r.try_get("state")?)?,
        build: build_of(r.try_get("build")?)?,
        build_error_code: r.try_get("build_error_code")?,
        build_error: r.try_get("build_error")?,
        ext_json: r.try_get("ext_json")?,
        direct_commit: r.try_get("direct_commit")?,
        test_account: r.try_get("test_account")?,
        audit_content: r.try_get("audit_content")?,
        remark: r.try_get("remark")?,
        msg: r.try_get("msg")?,
        committer: r.try_get("committer")?,
        commit_time: r.try_get("commit_time")?,
        rollback_version: r.try_get("rollback_version")?,
        rollback_due_at: r.try_get("rollback_due_at")?,
        released_at: r.try_get("released_at")?,
        size: r.try_get("size")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn tp_from_row(r: &SqliteRow) -> Result<Tp> {
    Ok(Tp {
        id: TpId(r.try_get("id")?),
        client_id: r.try_get("client_id")?,
        name: r.try_get("name")?,
        message_url: r.try_get("message_url")?,
        auth_event_url: r.try_get("auth_event_url")?,
        msg_token: r.try_get("msg_token")?,
        encoding_aes_key: r.try_get("encoding_aes_key")?,
        webhook_secret: r.try_get("webhook_secret")?,
        redirect_domain: r.try_get("redirect_domain")?,
        ip_allowlist: r.try_get("ip_allowlist")?,
        created_at: r.try_get("created_at")?,
    })
}

fn event_from_row(r: &SqliteRow) -> Result<EventRecord> {
    let target: String = r.try_get("target")?;
    Ok(EventRecord {
        id: r.try_get("id")?,
        tp_id: TpId(r.try_get("tp_id")?),
        app_id: r.try_get::<Option<i64>, _>("app_id")?.map(AppId),
        kind: r.try_get("kind")?,
        target: EventTarget::parse(&target).ok_or_else(|| corrupt("event target", &target))?,
        package_id: r.try_get::<Option<i64>, _>("package_id")?.map(PackageId),
        version: r.try_get("version")?,
        reason: r.try_get("reason")?,
        payload: r.try_get("payload")?,
        occurred_at: r.try_get("occurred_at")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_error: r.try_get("last_error")?,
        delivered_at: r.try_get("delivered_at")?,
    })
}

fn app_from_row(r: &SqliteRow) -> Result<App> {
    Ok(App {
        id: AppId(r.try_get("id")?),
        app_key: r.try_get("app_key")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        basic_info_approved: r.try_get("basic_info_approved")?,
        authenticity_verified: r.try_get("authenticity_verified")?,
        created_at: r.try_get("created_at")?,
    })
}

fn template_from_row(r: &SqliteRow) -> Result<Template> {
    Ok(Template {
        id: TemplateId(r.try_get("id")?),
        tp_id: TpId(r.try_get("tp_id")?),
        draft_id: DraftId(r.try_get("draft_id")?),
        user_version: r.try_get("user_version")?,
        user_desc: r.try_get("user_desc")?,
        created_at: r.try_get("created_at")?,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.read)
            .await?)
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let _turn = self.write_turn.lock().await;
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn create_tp(&self, tp: NewTp, now: i64) -> Result<Tp> {
        let _turn = self.write_turn.lock().await;
        let row = sqlx::query(
            "INSERT INTO tps (client_id, name, message_url, auth_event_url, msg_token, encoding_aes_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        )
        .bind(&tp.client_id)
        .bind(&tp.name)
        .bind(&tp.message_url)
        .bind(&tp.auth_event_url)
        .bind(&tp.msg_token)
        .bind(&tp.encoding_aes_key)
        .bind(now)
        .fetch_one(&self.write)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Conflict(format!("client_id {} exists", tp.client_id))
            }
            _ => StoreError::from(e),
        })?;
        tp_from_row(&row)
    }

    async fn tp_by_client_id(&self, client_id: &str) -> Result<Option<Tp>> {
        sqlx::query("SELECT * FROM tps WHERE client_id = $1")
            .bind(client_id)
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(tp_from_row)
            .transpose()
    }

    async fn tp_by_id(&self, id: TpId) -> Result<Option<Tp>> {
        sqlx::query("SELECT * FROM tps WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(tp_from_row)
            .transpose()
    }

    async fn create_app(&self, app: NewApp, now: i64) -> Result<App> {
        let _turn = self.write_turn.lock().await;
        let row = sqlx::query(
            "INSERT INTO apps (id, app_key, name, description, basic_info_approved, authenticity_verified, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        )
        .bind(app.id.map(|i| i.0))
        .bind(&app.app_key)
        .bind(&app.name)
        .bind(&app.description)
        .bind(app.basic_info_approved)
        .bind(app.authenticity_verified)
        .bind(now)
        .fetch_one(&self.write)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Conflict("app id or key exists".to_owned())
            }
            _ => StoreError::from(e),
        })?;
        app_from_row(&row)
    }

    async fn app(&self, id: AppId) -> Result<Option<App>> {
        sqlx::query("SELECT * FROM apps WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(app_from_row)
            .transpose()
    }

    async fn update_app(&self, id: AppId, u: AppUpdate) -> Result<Option<App>> {
        let _turn = self.write_turn.lock().await;
        sqlx::query(
            "UPDATE apps SET name = COALESCE($1, name), \
               basic_info_approved = COALESCE($2, basic_info_approved), \
               authenticity_verified = COALESCE($3, authenticity_verified) \
             WHERE id = $4 RETURNING *",
        )
        .bind(u.name)
        .bind(u.basic_info_approved)
        .bind(u.authenticity_verified)
        .bind(id.0)
        .fetch_optional(&self.write)
        .await?
        .as_ref()
        .map(app_from_row)
        .transpose()
    }

    async fn authorize(
        &self,
        app: AppId,
        tp: TpId,
        scopes: &str,
        now: i64,
    ) -> Result<Authorization> {
        let _turn = self.write_turn.lock().await;
        let result: Result<Authorization> = async {
            let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
            let was_active: Option<bool> = sqlx::query_scalar(
                "SELECT active FROM authorizations WHERE app_id = $1 AND tp_id = $2",
            )
            .bind(app.0)
            .bind(tp.0)
            .fetch_optional(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO authorizations (app_id, tp_id, scopes, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, TRUE, $4, $4) \
                 ON CONFLICT (app_id, tp_id) DO UPDATE SET scopes = excluded.scopes, active = TRUE, \
                   updated_at = excluded.updated_at",
            )
            .bind(app.0)
            .bind(tp.0)
            .bind(scopes)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let kind = if was_active == Some(true) {
                "UPDATE_AUTHORIZED"
            } else {
                "AUTHORIZED"
            };
            let payload = serde_json::json!({ "scopes": scopes }).to_string();
            insert_auth_event(&mut tx, tp, Some(app), kind, &payload, now).await?;
            tx.commit().await?;
            Ok(Authorization {
                app_id: app,
                tp_id: tp,
                scopes: scopes.to_owned(),
                active: true,
            })
        }
        .await;
        // After the commit: readers must not keep what this changed.
        self.cache.invalidate_tokens();
        result
    }

    async fn authorization_active(&self, app: AppId, tp: TpId) -> Result<bool> {
        Ok(self.authorization_scopes(app, tp).await?.is_some())
    }

    async fn authorization_scopes(&self, app: AppId, tp: TpId) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT scopes FROM authorizations WHERE app_id = $1 AND tp_id = $2 AND active",
        )
        .bind(app.0)
        .bind(tp.0)
        .fetch_optional(&self.read)
        .await?)
    }

    async fn unauthorize(&self, app: AppId, tp: TpId, now: i64) -> Result<bool> {
        let _turn = self.write_turn.lock().await;
        let result: Result<bool> = async {
            let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
            let done = sqlx::query(
                "UPDATE authorizations SET active = FALSE, updated_at = $1 \
                 WHERE app_id = $2 AND tp_id = $3 AND active",
            )
            .bind(now)
            .bind(app.0)
            .bind(tp.0)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            sqlx::query("UPDATE tokens SET revoked = TRUE WHERE app_id = $1 AND tp_id = $2")
                .bind(app.0)
                .bind(tp.0)
                .execute(&mut *tx)
                .await?;
            insert_auth_event(&mut tx, tp, Some(app), "UNAUTHORIZED", "{}", now).await?;
            tx.commit().await?;
            Ok(true)
        }
        .await;
        // After the commit: readers must not keep what this changed.
        self.cache.invalidate_tokens();
        result
    }

    async fn rotate_ticket(&self, tp: TpId, ticket: &str, payload: &str, now: i64) -> Result<()> {
        let _turn = self.write_turn.lock().await;
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("INSERT INTO tp_tickets (tp_id, ticket, created_at) VALUES ($1, $2, $3)")
            .bind(tp.0)
            .bind(ticket)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        // A ticket held for want of a URL is worthless once a newer one
        // exists: only the newest is delivered when a URL is set.
        sqlx::query(
            "UPDATE events SET status = 'discarded', \
               last_error = 'superseded by a newer ticket before it could be delivered' \
             WHERE tp_id = $1 AND kind = 'TICKET' AND status = 'undeliverable'",
        )
        .bind(tp.0)
        .execute(&mut *tx)
        .await?;
        insert_auth_event(&mut tx, tp, None, "TICKET", payload, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn tickets(&self, tp: TpId, since: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT ticket FROM tp_tickets WHERE tp_id = $1 AND created_at >= $2 ORDER BY id DESC",
        )
        .bind(tp.0)
        .bind(since)
        .fetch_all(&self.read)
        .await?)
    }

    async fn tps_due_for_ticket(&self, before: i64) -> Result<Vec<TpId>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT t.id FROM tps t WHERE NOT EXISTS ( \
               SELECT 1 FROM tp_tickets k WHERE k.tp_id = t.id AND k.created_at >= $1) \
             ORDER BY t.id",
        )
        .bind(before)
        .fetch_all(&self.read)
        .await?;
        Ok(ids.into_iter().map(TpId).collect())
    }

    async fn upsert_app_admin(
        &self,
        username: &str,
        app: AppId,
        password_hash: &str,
        now: i64,
    ) -> Result<()> {
        let _turn = self.write_turn.lock().await;
        sqlx::query(
            "INSERT INTO app_admins (username, app_id, password_hash, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO UPDATE SET \
               app_id = excluded.app_id, password_hash = excluded.password_hash",
        )
        .bind(username)
        .bind(app.0)
        .bind(password_hash)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn app_admin(&self, username: &str) -> Result<Option<(AppId, String)>> {
        let row = sqlx::query("SELECT app_id, password_hash FROM app_admins WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| Ok((AppId(r.try_get(0)?), r.try_get(1)?)))
            .transpose()
    }

    async fn code_usable(&self, kind: CodeKind, hash: &str, tp: TpId, now: i64) -> Result<bool> {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT hash FROM codes WHERE hash = $1 AND kind = $2 AND tp_id = $3 \
               AND used_at IS NULL AND expires_at > $4",
        )
        .bind(hash)
        .bind(kind.as_str())
        .bind(tp.0)
        .bind(now)
        .fetch_optional(&self.read)
        .await?;
        Ok(found.is_some())
    }

    async fn insert_code(&self, c: NewCode) -> Result<()> {
        let _turn = self.write_turn.lock().await;
        sqlx::query(
            "INSERT INTO codes (hash, kind, tp_id, app_id, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&c.hash)
        .bind(c.kind.as_str())
        .bind(c.tp_id.0)
        .bind(c.app_id.map(|a| a.0))
        .bind(c.expires_at)
        .bind(c.created_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn consume_code(
        &self,
        kind: CodeKind,
        hash: &str,
        tp: TpId,
        now: i64,
    ) -> Result<std::result::Result<UsedCode, CodeRefusal>> {
        let _turn = self.write_turn.lock().await;
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let Some(row) = sqlx::query(
            "SELECT tp_id, app_id, expires_at, used_at FROM codes \
             WHERE hash = $1 AND kind = $2 AND tp_id = $3",
        )
        .bind(hash)
        .bind(kind.as_str())
        .bind(tp.0)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(Err(CodeRefusal::Unknown));
        };
        if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
            return Ok(Err(CodeRefusal::AlreadyUsed));
        }
        if row.try_get::<i64, _>("expires_at")? <= now {
            return Ok(Err(CodeRefusal::Expired));
        }
        sqlx::query("UPDATE codes SET used_at = $1 WHERE hash = $2 AND used_at IS NULL")
            .bind(now)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(UsedCode {
            tp_id: TpId(row.try_get("tp_id")?),
            app_id: row.try_get::<Option<i64>, _>("app_id")?.map(AppId),
        }))
    }

    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new_tokens: &[NewToken],
        now: i64,
    ) -> Result<std::result::Result<(TpId, AppId), RefreshRefusal>> {
        let _turn = self.write_turn.lock().await;
        let result: Result<std::result::Result<(TpId, AppId), RefreshRefusal>> = async {
            let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
            let Some(row) = sqlx::query(
                "SELECT t.tp_id, t.app_id, t.expires_at, t.revoked, t.created_at, \
                   COALESCE(a.active, FALSE) AS active \
                 FROM tokens t LEFT JOIN authorizations a ON a.app_id = t.app_id AND a.tp_id = t.tp_id \
                 WHERE t.hash = $1 AND t.kind = 'app_refresh'",
            )
            .bind(old_hash)
            .fetch_optional(&mut *tx)
            .await?
            else {
                return Ok(Err(RefreshRefusal::Unknown));
            };
            // An ended authorization revokes its tokens: report that, not a reuse.
            if !row.try_get::<bool, _>("active")? {
                return Ok(Err(RefreshRefusal::NotAuthorized));
            }
            if row.try_get::<bool, _>("revoked")? {
                return Ok(Err(RefreshRefusal::Reused));
            }
            if row.try_get::<i64, _>("expires_at")? <= now {
                return Ok(Err(RefreshRefusal::Expired));
            }
            let tp = TpId(row.try_get("tp_id")?);
            let Some(app) = row.try_get::<Option<i64>, _>("app_id")?.map(AppId) else {
                return Ok(Err(RefreshRefusal::Unknown));
            };
            sqlx::query("UPDATE tokens SET revoked = TRUE WHERE hash = $1")
                .bind(old_hash)
                .execute(&mut *tx)
                .await?;
            // The access token issued with the old refresh token (same instant)
            // is replaced too.
            sqlx::query(
                "UPDATE tokens SET revoked = TRUE WHERE kind = 'app_access' AND app_id = $1 \
                   AND tp_id = $2 AND created_at = $3",
            )
            .bind(app.0)
            .bind(tp.0)
            .bind(row.try_get::<i64, _>("created_at")?)
            .execute(&mut *tx)
            .await?;
            for t in new_tokens {
                insert_token_in(&mut tx, t).await?;
            }
            tx.commit().await?;
            Ok(Ok((tp, app)))
        }
        .await;
        // After the commit: readers must not keep what this changed.
        self.cache.invalidate_tokens();
        result
    }

    async fn insert_token(&self, t: NewToken) -> Result<()> {
        let _turn = self.write_turn.lock().await;
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        insert_token_in(&mut tx, &t).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn token(&self, hash: &str) -> Result<Option<TokenRecord>> {
        let seen = match self.cache.token(hash) {
            Ok(record) => return Ok(Some(record)),
            Err(generation) => generation,
        };
        let record = self.token_uncached(hash).await?;
        if let Some(r) = &record {
            self.cache.put_token(hash, r.clone(), seen);
        }
        Ok(record)
    }

    async fn slotted_packages(&self, app: AppId) -> Result<std::sync::Arc<[Package]>> {
        let seen = match self.cache.packages(app) {
            Ok(list) => return Ok(list),
            Err(generation) => generation,
        };
        let list: std::sync::Arc<[Package]> = self.slotted_packages_uncached(app).await?.into();
        self.cache.put_packages(app, list.clone(), seen);
        Ok(list)
    }

    async fn create_draft(&self, d: NewDraft, now: i64) -> Result<DraftId> {
        let _turn = self.write_turn.lock().await;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO drafts (tp_id, user_version, user_desc, manifest, size, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(d.tp_id.0)
        .bind(&d.user_version)
        .bind(&d.user_desc)
        .bind(manifest_json(&d.manifest))
        .bind(d.manifest.total_size() as i64)
        .bind(now)
        .fetch_one(&self.write)
        .await?;
        Ok(DraftId(id))
    }

    async fn list_drafts(&self, tp: TpId, offset: i64, limit: i64) -> Result<(i64, Vec<Draft>)> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM drafts WHERE tp_id = $1")
            .bind(tp.0)
            .fetch_one(&self.read)
            .await?;
        let rows = sqlx::query(
            "SELECT id, user_version, user_desc, size, created_at FROM drafts WHERE tp_id = $1 \
             ORDER BY id DESC LIMIT $2 OFFSET $3",
        )
        .bind(tp.0)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        let list = rows
            .iter()
            .map(|r| {
                Ok(Draft {
                    id: DraftId(r.try_get("id")?),
                    user_version: r.try_get("user_version")?,
                    user_desc: r.try_get("user_desc")?,
                    size: r.try_get("size")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect::<Result<_>>()?;
        Ok((count, list))
    }

    async fn add_template(
        &self,
        tp: TpId,
        draft: DraftId,
        user_desc: &str,
        max: i64,
        now: i64,
    ) -> Result<AddTemplate> {
        let _turn = self.write_turn.lock().await;
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let Some(d) =
            sqlx::query("SELECT user_version, manifest FROM drafts WHERE id = $1 AND tp_id = $2")
                .bind(draft.0)
                .bind(tp.0)
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(AddTemplate::DraftNotFound);
        };
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM templates WHERE tp_id = $1 AND deleted_at IS NULL",
        )
        .bind(tp.0)
        .fetch_one(&mut *tx)
        .await?;
        if count >= max {
            return Ok(AddTemplate::LimitReached);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO templates (tp_id, draft_id, user_version, user_desc, manifest, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(tp.0)
        .bind(draft.0)
        .bind(d.try_get::<String, _>("user_version")?)
        .bind(user_desc)
        .bind(d.try_get::<String, _>("manifest")?)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(AddTemplate::Created(TemplateId(id)))
    }

    async fn list_templates(
        &self,
        tp: TpId,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<Template>)> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM templates WHERE tp_id = $1 AND deleted_at IS NULL",
        )
        .bind(tp.0)
        .fetch_one(&self.read)
        .await?;
        let rows = sqlx::query(
            "SELECT id, tp_id, draft_id, user_version, user_desc, created_at FROM templates \
             WHERE tp_id = $1 AND deleted_at IS NULL \
             ORDER BY id DESC LIMIT $2 OFFSET $3",
        )
        .bind(tp.0)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        let list = rows.iter().map(template_from_row).collect::<Result<_>>()?;
        Ok((count, list))
    }

    async fn delete_template(&self, tp: TpId, id: TemplateId, now: i64) -> Result<bool> {
        let _turn = self.write_turn.lock().await;
        let done = sqlx::query(
            "UPDATE templates SET deleted_at = $1 WHERE id = $2 AND tp_id = $3 AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(id.0)
        .bind(tp.0)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn template_exists(&self, tp: TpId, id: TemplateId) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM templates WHERE id = $1 AND tp_id = $2 AND deleted_at IS NULL",
        )
        .bind(id.0)
        .bind(tp.0)
        .fetch_optional(&self.read)
        .await?;
        Ok(found.is_some())
    }

    async fn create_upload(
        &self,
        u: NewUpload,
        ctx: &ActionContext,
    ) -> Result<std::result::Result<PackageId, lifecycle::Refusal>> {
        let ctx = ctx.clone();
        self.lifecycle(u.app_id, move |conn| {
            lifecycle_tx::create_upload(conn, &u, &ctx)
        })
        .await
    }

    async fn apply(
        &self,
        app: AppId,
        package: PackageId,
        action: Action,
        ctx: &ActionContext,
    ) -> Result<Decision> {
        let ctx = ctx.clone();
        self.lifecycle(app, move |conn| {
            lifecycle_tx::apply(conn, app, package, &action, &ctx)
        })
        .await
    }

    async fn package(&self, app: AppId, id: PackageId) -> Result<Option<Package>> {
        sqlx::query(concat!(
            "SELECT ",
            package_cols!(),
            " FROM packages WHERE id = $1 AND app_id = $2"
        ))
        .bind(id.0)
        .bind(app.0)
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(package_from_row)
        .transpose()
    }

    async fn package_in_state(&self, app: AppId, state: PackageState) -> Result<Option<Package>> {
        sqlx::query(concat!(
            "SELECT ",
            package_cols!(),
            " FROM packages WHERE app_id = $1 AND state = $2 ORDER BY id DESC LIMIT 1"
        ))
        .bind(app.0)
        .bind(state.as_str())
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(package_from_row)
        .transpose()
    }

    async fn package_any(&self, id: PackageId) -> Result<Option<Package>> {
        sqlx::query(concat!(
            "SELECT ",
            package_cols!(),
            " FROM packages WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(package_from_row)
        .transpose()
    }

    async fn all_packages(&self, app: AppId) -> Result<Vec<Package>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            package_cols!(),
            " FROM packages WHERE app_id = $1 ORDER BY id"
        ))
        .bind(app.0)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(package_from_row).collect()
    }

    async fn transitions(&self, package: PackageId) -> Result<Vec<TransitionRecord>> {
        let rows = sqlx::query(
            "SELECT action, from_state, to_state, actor, detail, at FROM package_transitions \
             WHERE package_id = $1 ORDER BY id",
        )
        .bind(package.0)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TransitionRecord {
                    action: r.try_get("action")?,
                    from: r
                        .try_get::<Option<String>, _>("from_state")?
                        .as_deref()
                        .map(state_of)
                        .transpose()?,
                    to: state_of(r.try_get("to_state")?)?,
                    actor: r.try_get("actor")?,
                    detail: r.try_get("detail")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    async fn quota_used(&self, app: AppId, since: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM quota_uses WHERE app_id = $1 AND at >= $2")
                .bind(app.0)
                .bind(since)
                .fetch_one(&self.read)
                .await?,
        )
    }

    async fn claim_build(&self, now: i64, lease_ms: i64) -> Result<Option<BuildJob>> {
        let Some(id) = self
            .commits
            .run(move |conn| lifecycle_tx::claim_build(conn, now, lease_ms))
            .await?
        else {
            return Ok(None);
        };
        let row = sqlx::query(concat!(
            "SELECT ",
            package_cols!(),
            " FROM packages WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.read)
        .await?;
        let package = package_from_row(&row)?;
        let template: Option<String> =
            sqlx::query_scalar("SELECT manifest FROM templates WHERE id = $1 AND tp_id = $2")
                .bind(package.template_id.0)
                .bind(package.tp_id.0)
                .fetch_optional(&self.read)
                .await?;
        Ok(Some(BuildJob {
            package,
            template: template.as_deref().map(manifest_of).transpose()?,
        }))
    }

    async fn finish_build(
        &self,
        app: AppId,
        package: PackageId,
        outcome: BuildOutcome,
        ctx: &ActionContext,
    ) -> Result<Decision> {
        let ctx = ctx.clone();
        self.lifecycle(app, move |conn| {
            lifecycle_tx::finish_build(conn, app, package, &outcome, &ctx)
        })
        .await
    }

    async fn packages_under_audit(&self, limit: i64) -> Result<Vec<(AppId, PackageId)>> {
        let rows = sqlx::query(
            "SELECT app_id, id FROM packages WHERE state = 'auditing' ORDER BY updated_at, id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| Ok((AppId(r.try_get(0)?), PackageId(r.try_get(1)?))))
            .collect()
    }

    async fn due_rollbacks(&self, now: i64) -> Result<Vec<(AppId, PackageId)>> {
        let rows = sqlx::query(
            "SELECT app_id, id FROM packages WHERE state = 'rolling_back' AND rollback_due_at <= $1 \
             ORDER BY rollback_due_at LIMIT 100",
        )
        .bind(now)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| Ok((AppId(r.try_get(0)?), PackageId(r.try_get(1)?))))
            .collect()
    }

    async fn next_rollback_due(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(rollback_due_at) FROM packages WHERE state = 'rolling_back'",
        )
        .fetch_one(&self.read)
        .await?)
    }

    async fn update_tp(&self, client_id: &str, u: TpUpdate, now: i64) -> Result<Option<Tp>> {
        let _turn = self.write_turn.lock().await;
        let result: Result<Option<Tp>> = async {
            let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
            // A flag per field tells "leave as is" from "set (possibly to NULL)".
            let tp = sqlx::query(
                "UPDATE tps SET \
                   message_url = CASE WHEN $1 THEN $2 ELSE message_url END, \
                   auth_event_url = CASE WHEN $3 THEN $4 ELSE auth_event_url END, \
                   webhook_secret = CASE WHEN $5 THEN $6 ELSE webhook_secret END, \
                   redirect_domain = CASE WHEN $8 THEN $9 ELSE redirect_domain END, \
                   ip_allowlist = CASE WHEN $10 THEN $11 ELSE ip_allowlist END \
                 WHERE client_id = $7 RETURNING *",
            )
            .bind(u.message_url.is_some())
            .bind(u.message_url.flatten())
            .bind(u.auth_event_url.is_some())
            .bind(u.auth_event_url.flatten())
            .bind(u.webhook_secret.is_some())
            .bind(u.webhook_secret.flatten())
            .bind(client_id)
            .bind(u.redirect_domain.is_some())
            .bind(u.redirect_domain.flatten())
            .bind(u.ip_allowlist.is_some())
            .bind(u.ip_allowlist.flatten())
            .fetch_optional(&mut *tx)
            .await?
            .as_ref()
            .map(tp_from_row)
            .transpose()?;
            if let Some(tp) = &tp {
                // Events held for want of a URL go out now that there is one.
                for (target, url) in [
                    (EventTarget::Message, &tp.message_url),
                    (EventTarget::Auth, &tp.auth_event_url),
                ] {
                    if url.is_some() {
                        sqlx::query(
                            "UPDATE events SET status = 'pending', next_attempt_at = $1, \
                               last_error = NULL \
                             WHERE tp_id = $2 AND target = $3 AND status = 'undeliverable'",
                        )
                        .bind(now)
                        .bind(tp.id.0)
                        .bind(target.as_str())
                        .execute(&mut *tx)
                        .await?;
                    }
                }
            }
            tx.commit().await?;
            Ok(tp)
        }
        .await;
        // After the commit: readers must not keep what this changed.
        self.cache.invalidate_tokens();
        result
    }

    async fn release_dead_leases(&self, now: i64) -> Result<ReleasedLeases> {
        let owners: Vec<String> = sqlx::query_scalar(
            "SELECT build_lease_owner FROM packages WHERE build = 'building' \
               AND build_lease_until >= $1 AND build_lease_owner IS NOT NULL \
             UNION SELECT lease_owner FROM events WHERE status = 'pending' \
               AND lease_until >= $1 AND lease_owner IS NOT NULL",
        )
        .bind(now)
        .fetch_all(&self.read)
        .await?;
        let dead: Vec<String> = owners
            .into_iter()
            .filter(|o| crate::lease_owner::is_dead(o))
            .collect();
        if dead.is_empty() {
            return Ok(ReleasedLeases::default());
        }
        let dead_json = serde_json::to_string(&dead).expect("strings serialize");
        let _turn = self.write_turn.lock().await;
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let builds = sqlx::query(
            "UPDATE packages SET build_lease_until = NULL, build_lease_owner = NULL \
             WHERE build = 'building' AND build_lease_owner IN (SELECT value FROM json_each($1))",
        )
        .bind(&dead_json)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let events = sqlx::query(
            "UPDATE events SET lease_until = NULL, lease_owner = NULL \
             WHERE status = 'pending' AND lease_owner IN (SELECT value FROM json_each($1))",
        )
        .bind(&dead_json)
        .execute(&mut *tx)
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
        for (sql, count) in statements.iter().zip(counts.iter_mut()) {
            let _turn = self.write_turn.lock().await;
            *count = sqlx::query(*sql)
                .bind(before)
                .bind(batch)
                .execute(&self.write)
                .await?
                .rows_affected();
        }
        if counts[0] > 0 {
            self.cache.invalidate_tokens();
        }
        let [tokens, codes, tickets, attempts] = counts;
        Ok(Purged {
            tokens,
            codes,
            tickets,
            attempts,
        })
    }

    async fn list_apps(&self, f: &AppFilter, page: PageRequest) -> Result<(i64, Vec<App>)> {
        // `instr` on lowered text: a name filter with % or _ matches them
        // literally, which LIKE would not.
        macro_rules! filter {
            () => {
                " FROM apps a WHERE ($1 IS NULL OR instr(lower(a.name), lower($1)) > 0) \
                 AND ($2 IS NULL OR EXISTS (SELECT 1 FROM authorizations z \
                      WHERE z.app_id = a.id AND z.tp_id = $2 AND z.active))"
            };
        }
        let total: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*)", filter!()))
            .bind(&f.name_contains)
            .bind(f.tp.map(|t| t.0))
            .fetch_one(&self.read)
            .await?;
        let rows = sqlx::query(concat!(
            "SELECT a.*",
            filter!(),
            " ORDER BY a.id LIMIT $3 OFFSET $4"
        ))
        .bind(&f.name_contains)
        .bind(f.tp.map(|t| t.0))
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.read)
        .await?;
        Ok((total, rows.iter().map(app_from_row).collect::<Result<_>>()?))
    }

    async fn list_tps(&self, page: PageRequest) -> Result<(i64, Vec<Tp>)> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tps")
            .fetch_one(&self.read)
            .await?;
        let rows = sqlx::query("SELECT * FROM tps ORDER BY id LIMIT $1 OFFSET $2")
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.read)
            .await?;
        Ok((total, rows.iter().map(tp_from_row).collect::<Result<_>>()?))
    }

    async fn list_packages(
        &self,
        f: &PackageFilter,
        page: PageRequest,
    ) -> Result<(i64, Vec<Package>)> {
        macro_rules! filter {
            () => {
                " FROM packages WHERE ($1 IS NULL OR app_id = $1) AND ($2 IS NULL OR tp_id = $2) \
                 AND ($3 IS NULL OR state = $3) AND ($4 IS NULL OR version = $4)"
            };
        }
        let state = f.state.map(PackageState::as_str);
        let total: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*)", filter!()))
            .bind(f.app.map(|a| a.0))
            .bind(f.tp.map(|t| t.0))
            .bind(state)
            .bind(&f.version)
            .fetch_one(&self.read)
            .await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            package_cols!(),
            filter!(),
            " ORDER BY id DESC LIMIT $5 OFFSET $6"
        ))
        .bind(f.app.map(|a| a.0))
        .bind(f.tp.map(|t| t.0))
        .bind(state)
        .bind(&f.version)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.read)
        .await?;
        Ok((
            total,
            rows.iter().map(package_from_row).collect::<Result<_>>()?,
        ))
    }

    async fn list_all_templates(
        &self,
        tp: Option<TpId>,
        page: PageRequest,
    ) -> Result<(i64, Vec<Template>)> {
        let tp = tp.map(|t| t.0);
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM templates WHERE ($1 IS NULL OR tp_id = $1) AND deleted_at IS NULL",
        )
        .bind(tp)
        .fetch_one(&self.read)
        .await?;
        let rows = sqlx::query(
            "SELECT id, tp_id, draft_id, user_version, user_desc, created_at FROM templates \
             WHERE ($1 IS NULL OR tp_id = $1) AND deleted_at IS NULL \
             ORDER BY id DESC LIMIT $2 OFFSET $3",
        )
        .bind(tp)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.read)
        .await?;
        Ok((
            total,
            rows.iter().map(template_from_row).collect::<Result<_>>()?,
        ))
    }

    async fn status_counts(&self) -> Result<StatusCounts> {
        let count = |sql: &'static str| async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&self.read)
                .await
        };
        let grouped = |sql: &'static str| async move {
            sqlx::query_as::<_, (String, i64)>(sql)
                .fetch_all(&self.read)
                .await
        };
        let (review_queue, oldest_review_since): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(updated_at) FROM packages WHERE state = 'auditing'",
        )
        .fetch_one(&self.read)
        .await?;
        Ok(StatusCounts {
            apps: count("SELECT COUNT(*) FROM apps").await?,
            tps: count("SELECT COUNT(*) FROM tps").await?,
            templates: count("SELECT COUNT(*) FROM templates WHERE deleted_at IS NULL").await?,
            packages_by_state: grouped(
                "SELECT state, COUNT(*) FROM packages GROUP BY state ORDER BY state",
            )
            .await?,
            builds_pending: count("SELECT COUNT(*) FROM packages WHERE build = 'building'").await?,
            builds_failed: count(
                "SELECT COUNT(*) FROM packages WHERE state = 'development' AND build = 'failed'",
            )
            .await?,
            review_queue,
            oldest_review_since,
            rollbacks_pending: count("SELECT COUNT(*) FROM packages WHERE state = 'rolling_back'")
                .await?,
            events_by_status: grouped(
                "SELECT status, COUNT(*) FROM events GROUP BY status ORDER BY status",
            )
            .await?,
            tps_with_undeliverable: sqlx::query_scalar(
                "SELECT t.client_id FROM tps t WHERE EXISTS (SELECT 1 FROM events e \
                   WHERE e.tp_id = t.id AND e.status = 'undeliverable') ORDER BY t.id",
            )
            .fetch_all(&self.read)
            .await?,
        })
    }

    async fn insert_events(&self, events: &[NewEvent]) -> Result<()> {
        let _turn = self.write_turn.lock().await;
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        for e in events {
            insert_new_event(&mut tx, e).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn count_events(&self, tp: TpId, status: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE tp_id = $1 AND status = $2")
                .bind(tp.0)
                .bind(status)
                .fetch_one(&self.read)
                .await?,
        )
    }

    async fn events(
        &self,
        tp: Option<TpId>,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<EventRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM events WHERE ($1 IS NULL OR tp_id = $1) AND ($2 IS NULL OR status = $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(tp.map(|t| t.0))
        .bind(status)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn event(&self, id: i64) -> Result<Option<EventRecord>> {
        sqlx::query("SELECT * FROM events WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(event_from_row)
            .transpose()
    }

    async fn event_attempts(&self, id: i64) -> Result<Vec<AttemptRecord>> {
        let rows = sqlx::query("SELECT * FROM event_attempts WHERE event_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                let outcome: String = r.try_get("outcome")?;
                Ok(AttemptRecord {
                    event_id: r.try_get("event_id")?,
                    attempt: r.try_get("attempt")?,
                    lease_until: 0,
                    url: r.try_get("url")?,
                    started_at: r.try_get("started_at")?,
                    duration_ms: r.try_get("duration_ms")?,
                    status_code: r.try_get("status_code")?,
                    response_body: r.try_get("response_body")?,
                    error: r.try_get("error")?,
                    outcome: match outcome.as_str() {
                        "delivered" => AttemptOutcome::Delivered,
                        "failed" => AttemptOutcome::Failed,
                        "retry" => AttemptOutcome::Retry { next_attempt_at: 0 },
                        other => return Err(corrupt("attempt outcome", other)),
                    },
                })
            })
            .collect()
    }

    async fn claim_events(&self, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<ClaimedEvent>> {
        let ids = self
            .commits
            .run(move |conn| lifecycle_tx::claim_events(conn, now, lease_ms, limit))
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // The claim is committed: read the events whole. Only those still
        // under this lease: one replayed in between has lost it (and will
        // be claimed again), as if the claim had never taken it.
        let rows = sqlx::query(
            "SELECT * FROM events WHERE id IN (SELECT value FROM json_each($1)) \
               AND status = 'pending' AND lease_until = $2 \
             ORDER BY next_attempt_at, id",
        )
        .bind(serde_json::to_string(&ids).expect("ids serialize"))
        .bind(now + lease_ms)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let event = event_from_row(r)?;
                Ok(ClaimedEvent {
                    attempt: event.attempts,
                    lease_until: now + lease_ms,
                    event,
                })
            })
            .collect()
    }

    async fn record_attempts(&self, attempts: &[AttemptRecord], now: i64) -> Result<()> {
        let attempts = attempts.to_vec();
        self.commits
            .run(move |conn| lifecycle_tx::record_attempts(conn, &attempts, now))
            .await
    }

    async fn next_event_due(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM events WHERE status = 'pending'")
                .fetch_one(&self.read)
                .await?,
        )
    }

    async fn replay_event(&self, id: i64, now: i64) -> Result<bool> {
        let _turn = self.write_turn.lock().await;
        let done = sqlx::query(
            "UPDATE events SET status = 'pending', attempts = 0, next_attempt_at = $1, \
               lease_until = NULL, delivered_at = NULL WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn replay_failed(&self, tp: TpId, now: i64) -> Result<i64> {
        let _turn = self.write_turn.lock().await;
        let done = sqlx::query(
            "UPDATE events SET status = 'pending', attempts = 0, next_attempt_at = $1, \
               lease_until = NULL WHERE tp_id = $2 AND status = 'failed'",
        )
        .bind(now)
        .bind(tp.0)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() as i64)
    }

    async fn package_manifest(&self, id: PackageId) -> Result<Option<Manifest>> {
        let row = sqlx::query(
            "SELECT p.manifest, t.manifest FROM packages p LEFT JOIN templates t ON t.id = p.template_id \
             WHERE p.id = $1",
        )
        .bind(id.0)
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let Some(stored) = row.try_get::<Option<String>, _>(0)? else {
            return Ok(None);
        };
        let stored: StoredPackageManifest = serde_json::from_str(&stored)
            .map_err(|e| StoreError::Corrupt(format!("package manifest: {e}")))?;
        match stored {
            StoredPackageManifest::Full(m) => Ok(Some(m)),
            StoredPackageManifest::Delta { template_delta } => {
                let base: String = row.try_get::<Option<String>, _>(1)?.ok_or_else(|| {
                    StoreError::Corrupt(format!("package {id}: its template is gone"))
                })?;
                Ok(Some(template_delta.apply(&manifest_of(&base)?)))
            }
        }
    }
}
