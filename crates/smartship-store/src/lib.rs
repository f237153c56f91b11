//! Persistence for smartship.
//!
//! [`Store`] is the one interface the server talks to; [`sqlite::SqliteStore`]
//! is the embedded default. Business rules are not here: every package state
//! change is decided by `smartship_core::lifecycle::decide` on a snapshot the
//! store reads inside the transaction that then writes the decision, together
//! with its history rows and outgoing event (transactional outbox).
//!
//! [`blobs::BlobStore`] keeps file contents addressed by SHA-256, so a file
//! shared by a template and all packages built from it is stored once.

/// The states that hold a slot (`PackageState::slot`), as an SQL list: one
/// literal for every statement that needs it (a literal, so that statement
/// caches find it without formatting), checked against `PackageState` by a
/// test.
macro_rules! slotted_states_sql {
    () => {
        "('development','auditing','audit_failed','audit_passed','online','rolling_back')"
    };
}

/// The rows of a release event about package `$package` for its TP, when
/// the TP subscribes to kind `$kind` (none otherwise): the SELECT of an
/// `INSERT INTO events (tp_id, app_id, kind, package_id, version, reason,
/// occurred_at, status, attempts, next_attempt_at)`, with each backend's
/// placeholders.
macro_rules! release_event_select {
    ($kind:literal, $reason:literal, $now:literal, $package:literal) => {
        concat!(
            "SELECT p.tp_id, p.app_id, ",
            $kind,
            ", p.id, p.version, ",
            $reason,
            ", ",
            $now,
            ", 'pending', 0, ",
            $now,
            " FROM packages p JOIN tps t ON t.id = p.tp_id WHERE p.id = ",
            $package,
            " AND (',' || t.release_events || ',') LIKE ('%,' || ",
            $kind,
            " || ',%')"
        )
    };
}

#[macro_use]
mod shared_sql;
#[macro_use]
mod name_keys;
pub mod aggregates;
pub mod blobs;
pub mod copy;
mod error;
mod group_commit;
pub mod lease_owner;
mod lifecycle_flow;
pub mod model;
pub mod postgres;
mod read_cache;
mod rows;
pub mod sqlite;
#[doc(hidden)]
pub mod test_db;
mod write_tx;

pub use error::StoreError;
pub use model::*;

/// The store's traits, to call an aggregate's methods on a concrete store.
pub mod prelude {
    pub use crate::{
        AuditStore, ConsoleStore, OutboxStore, PackageStore, PartyStore, ProfileStore,
        RuntimeStore, Store, TemplateStore, TokenStore,
    };
}

use async_trait::async_trait;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Opens the store a database URL names, migrated to the current schema:
/// `sqlite:PATH` (or `sqlite://PATH`), the embedded default, or
/// `postgres://USER@HOST:PORT/DATABASE` (also `postgresql://`). The server and
/// the CLI know only the URL, never the backend.
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        return Ok(std::sync::Arc::new(
            sqlite::SqliteStore::open_url(url).await?,
        ));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(std::sync::Arc::new(postgres::PgStore::open_url(url).await?));
    }
    // Only the scheme: the rest of a URL may hold a password.
    let scheme = url.split_once(':').map_or("", |(s, _)| s);
    Err(StoreError::Unavailable(format!(
        "database URL scheme {scheme:?} names no store (use sqlite:PATH or postgres://...)"
    )))
}

/// The wall clock in Unix ms, for the records of operator actions whose
/// callers pass no time.
pub(crate) fn unix_ms_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Everything the server persists: every aggregate's store, plus what
/// spans them. A backend implements each aggregate's trait in a module of
/// its own. On an `Arc<dyn Store>` every method is callable as it is; on a
/// concrete store, `use smartship_store::prelude::*` brings them in scope.
#[async_trait]
pub trait Store:
    PartyStore
    + TokenStore
    + TemplateStore
    + PackageStore
    + OutboxStore
    + RuntimeStore
    + ProfileStore
    + ConsoleStore
    + AuditStore
    + Send
    + Sync
    + 'static
{
    /// The installation's blobs, where this backend keeps them: files
    /// under `local` for SQLite; the database itself for PostgreSQL, with
    /// only the scratch files of uploads in flight under `local`.
    fn blobs(&self, local: &std::path::Path) -> std::io::Result<blobs::BlobStore>;
    async fn get_meta(&self, key: &str) -> Result<Option<String>>;
    async fn set_meta(&self, key: &str, value: &str) -> Result<()>;
    /// Ends at once the live leases (builds, event deliveries) held by
    /// processes that are certainly gone ([`lease_owner::is_dead`]), so
    /// their work is claimed again now rather than when the leases expire.
    async fn release_dead_leases(&self, now: i64) -> Result<ReleasedLeases>;
    /// Ends the live leases of this process (a node that stops gives its
    /// unfinished work back at once instead of letting it wait out the
    /// leases).
    async fn release_own_leases(&self) -> Result<ReleasedLeases>;
    /// Ends the leases written by `owners` ([`lease_owner::this_process`]
    /// identities).
    async fn release_leases(&self, owners: &[String]) -> Result<ReleasedLeases>;
    /// Moves up to `limit` audit entries written with their changes
    /// (`audit_staging`) into the audit log, oldest first; how many moved.
    /// Several nodes may run it at once: each entry moves once.
    async fn move_staged_audit(&self, limit: i64) -> Result<u64>;
    /// The schema version the database has and the one this build expects
    /// (a node is ready only when they are equal).
    async fn schema_state(&self) -> Result<SchemaState>;
    /// Deletes, at most `batch` rows of each kind in one short transaction,
    /// what is past keeping at `before` (Unix ms): tokens expired or revoked
    /// before it, codes expired before it, tickets issued before it except
    /// each platform's newest, and delivery attempts made before it of events
    /// that are no longer pending. Events themselves are kept.
    async fn purge_expired(&self, before: i64, batch: i64) -> Result<Purged>;
    /// What exists and what waits, for `admin status`.
    async fn status_counts(&self) -> Result<StatusCounts>;
}

/// What [`Store::purge_expired`] deleted, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub tokens: u64,
    pub codes: u64,
    pub tickets: u64,
    pub attempts: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.tokens + self.codes + self.tickets + self.attempts
    }

    /// Whether some kind filled its batch (more may be left).
    pub fn filled(&self, batch: u64) -> bool {
        [self.tokens, self.codes, self.tickets, self.attempts]
            .iter()
            .any(|&n| n >= batch)
    }
}

/// See [`Store::schema_state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaState {
    pub applied: i64,
    pub expected: i64,
}

/// What [`Store::release_dead_leases`] took back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReleasedLeases {
    pub builds: u64,
    pub events: u64,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_slotted_states_of_sql_are_those_of_package_state() {
        use smartship_core::lifecycle::PackageState;
        let mut from_core: Vec<String> = PackageState::ALL
            .into_iter()
            .filter(|s| s.slot().is_some())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        let mut in_sql: Vec<String> = slotted_states_sql!()
            .trim_matches(|c| c == '(' || c == ')')
            .split(',')
            .map(str::to_owned)
            .collect();
        from_core.sort();
        in_sql.sort();
        assert_eq!(from_core, in_sql);
    }

    #[tokio::test]
    async fn open_picks_the_backend_from_the_url_and_never_prints_a_password() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("t.db").display());
        let store = super::open(&url).await.unwrap();
        assert_eq!(store.get_meta("nothing").await.unwrap(), None);
        let err = match super::open("mysql://root:secret@127.0.0.1/x").await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("mysql: opened"),
        };
        assert!(err.contains("\"mysql\""), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }
}
