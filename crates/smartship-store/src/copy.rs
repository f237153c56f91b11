//! Copying an installation's database from SQLite to PostgreSQL
//! (`smartship db copy`), resumably, and proving the copy equal.
//!
//! Tables go in the order their references need, each in batches of
//! [`BATCH`] rows in key order; a row already in the target (same key) is
//! left alone, so a copy that was interrupted (a kill, a lost connection)
//! is finished by running it again. Identity sequences then move past the
//! copied keys. Finally every table is compared: the row count and a
//! SHA-256 over every row in key order, each value in one canonical text
//! form whatever the backend (integers in decimal, flags as 0/1, NULL
//! distinct from every text).
//!
//! Blobs move the same way (`copy_blobs`): each file of the source's blob
//! directory that the target lacks is streamed into it, its digest checked
//! against its name; `verify_blobs` then reads every blob back from the
//! target and hashes it.
//!
//! The source should not be written while it is copied: stop the server
//! first. What is read is what the store's migrations define (both
//! databases are migrated to the current schema first).

use crate::blobs::files::FileBlobs;
use crate::postgres::blobs::PgBlobs;
use crate::{Result, StoreError};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Row};
use std::collections::HashSet;
use std::path::Path;

/// Rows per batch, read and written in one round trip each.
const BATCH: i64 = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Text,
    Flag,
}

struct Table {
    name: &'static str,
    /// The primary key: one column, an integer (identity) or a text.
    key: &'static str,
    columns: &'static [(&'static str, Kind)],
}

use Kind::*;

/// The audit log's columns, and those of its staging table (the same).
const AUDIT_COLUMNS: &[(&str, Kind)] = &[
    ("id", Int),
    ("at", Int),
    ("actor", Text),
    ("address", Text),
    ("action", Text),
    ("target", Text),
    ("detail", Text),
    ("outcome", Text),
];

/// Every table, referenced tables first. The columns are those of both
/// schemas (migrations/sqlite and migrations/postgres).
const TABLES: &[Table] = &[
    Table {
        name: "meta",
        key: "key",
        columns: &[("key", Text), ("value", Text)],
    },
    Table {
        name: "tps",
        key: "id",
        columns: &[
            ("id", Int),
            ("client_id", Text),
            ("name", Text),
            ("message_url", Text),
            ("auth_event_url", Text),
            ("msg_token", Text),
            ("encoding_aes_key", Text),
            ("ip_allowlist", Text),
            ("webhook_secret", Text),
            ("redirect_domain", Text),
            ("created_at", Int),
            ("release_events", Text),
            ("domains", Text),
            ("domain_check", Text),
        ],
    },
    Table {
        name: "apps",
        key: "id",
        columns: &[
            ("id", Int),
            ("app_key", Text),
            ("name", Text),
            ("description", Text),
            ("basic_info_approved", Flag),
            ("authenticity_verified", Flag),
            ("created_at", Int),
            ("service_status", Text),
            ("photo_addr", Text),
            ("categories", Text),
            ("domains", Text),
            ("name_key", Text),
            ("release_seq", Int),
            ("min_base_version", Text),
        ],
    },
    Table {
        name: "examinations",
        key: "id",
        columns: &[
            ("id", Int),
            ("app_id", Int),
            ("field", Text),
            ("value", Text),
            ("material", Text),
            ("status", Text),
            ("reason", Text),
            ("submitted_by", Text),
            ("submitted_at", Int),
            ("name_claim", Text),
            ("reviewed_by", Text),
            ("reviewed_at", Int),
        ],
    },
    Table {
        name: "images",
        key: "id",
        columns: &[
            ("id", Int),
            ("sha256", Text),
            ("tp_id", Int),
            ("kind", Int),
            ("content_type", Text),
            ("width", Int),
            ("height", Int),
            ("size", Int),
            ("created_at", Int),
        ],
    },
    Table {
        name: "violations",
        key: "id",
        columns: &[
            ("id", Int),
            ("app_id", Int),
            ("status", Text),
            ("reason", Text),
            ("illegal_fields", Text),
            ("created_by", Text),
            ("created_at", Int),
            ("resolved_at", Int),
        ],
    },
    Table {
        name: "authorizations",
        key: "id",
        columns: &[
            ("id", Int),
            ("app_id", Int),
            ("tp_id", Int),
            ("scopes", Text),
            ("active", Flag),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    },
    Table {
        name: "tokens",
        key: "hash",
        columns: &[
            ("hash", Text),
            ("kind", Text),
            ("tp_id", Int),
            ("app_id", Int),
            ("expires_at", Int),
            ("revoked", Flag),
            ("created_at", Int),
        ],
    },
    Table {
        name: "drafts",
        key: "id",
        columns: &[
            ("id", Int),
            ("tp_id", Int),
            ("user_version", Text),
            ("user_desc", Text),
            ("manifest", Text),
            ("size", Int),
            ("created_at", Int),
        ],
    },
    Table {
        name: "templates",
        key: "id",
        columns: &[
            ("id", Int),
            ("tp_id", Int),
            ("draft_id", Int),
            ("user_version", Text),
            ("user_desc", Text),
            ("manifest", Text),
            ("created_at", Int),
            ("deleted_at", Int),
        ],
    },
    Table {
        name: "packages",
        key: "id",
        columns: &[
            ("id", Int),
            ("app_id", Int),
            ("tp_id", Int),
            ("template_id", Int),
            ("version", Text),
            ("version_desc", Text),
            ("state", Text),
            ("build", Text),
            ("build_error_code", Int),
            ("build_error", Text),
            ("build_lease_until", Int),
            ("build_lease_owner", Text),
            ("ext_json", Text),
            ("direct_commit", Flag),
            ("test_account", Text),
            ("test_password", Text),
            ("audit_content", Text),
            ("remark", Text),
            ("msg", Text),
            ("committer", Text),
            ("commit_time", Int),
            ("rollback_version", Text),
            ("rollback_due_at", Int),
            ("released_at", Int),
            ("manifest", Text),
            ("size", Int),
            ("created_at", Int),
            ("updated_at", Int),
            ("artifact_sha256", Text),
            ("artifact_size", Int),
            ("rollback_target", Int),
            ("release_at", Int),
        ],
    },
    Table {
        name: "package_checks",
        key: "package_id",
        columns: &[
            ("package_id", Int),
            ("findings", Text),
            ("blocking", Int),
            ("checked_at", Int),
        ],
    },
    Table {
        name: "package_transitions",
        key: "id",
        columns: &[
            ("id", Int),
            ("package_id", Int),
            ("app_id", Int),
            ("action", Text),
            ("from_state", Text),
            ("to_state", Text),
            ("actor", Text),
            ("detail", Text),
            ("at", Int),
        ],
    },
    Table {
        name: "quota_uses",
        key: "id",
        columns: &[
            ("id", Int),
            ("app_id", Int),
            ("package_id", Int),
            ("at", Int),
        ],
    },
    Table {
        name: "events",
        key: "id",
        columns: &[
            ("id", Int),
            ("tp_id", Int),
            ("app_id", Int),
            ("kind", Text),
            ("package_id", Int),
            ("version", Text),
            ("reason", Text),
            ("occurred_at", Int),
            ("status", Text),
            ("attempts", Int),
            ("next_attempt_at", Int),
            ("lease_until", Int),
            ("lease_owner", Text),
            ("last_error", Text),
            ("delivered_at", Int),
            ("target", Text),
            ("payload", Text),
        ],
    },
    Table {
        name: "event_attempts",
        key: "id",
        columns: &[
            ("id", Int),
            ("event_id", Int),
            ("attempt", Int),
            ("url", Text),
            ("started_at", Int),
            ("duration_ms", Int),
            ("status_code", Int),
            ("response_body", Text),
            ("error", Text),
            ("outcome", Text),
        ],
    },
    Table {
        name: "tp_tickets",
        key: "id",
        columns: &[
            ("id", Int),
            ("tp_id", Int),
            ("ticket", Text),
            ("created_at", Int),
        ],
    },
    Table {
        name: "codes",
        key: "hash",
        columns: &[
            ("hash", Text),
            ("kind", Text),
            ("tp_id", Int),
            ("app_id", Int),
            ("expires_at", Int),
            ("used_at", Int),
            ("created_at", Int),
        ],
    },
    Table {
        name: "app_admins",
        key: "username",
        columns: &[
            ("username", Text),
            ("app_id", Int),
            ("password_hash", Text),
            ("created_at", Int),
        ],
    },
    Table {
        name: "host_keys",
        key: "id",
        columns: &[
            ("id", Int),
            ("name", Text),
            ("hash", Text),
            ("created_at", Int),
            ("revoked_at", Int),
        ],
    },
    Table {
        name: "signing_keys",
        key: "key_id",
        columns: &[
            ("key_id", Text),
            ("secret", Text),
            ("public_key", Text),
            ("created_at", Int),
            ("retired_at", Int),
        ],
    },
    Table {
        name: "package_deltas",
        key: "delta_key",
        columns: &[
            ("delta_key", Text),
            ("from_package", Int),
            ("to_package", Int),
            ("sha256", Text),
            ("size", Int),
            ("created_at", Int),
        ],
    },
    Table {
        name: "gray_plans",
        key: "id",
        columns: &[
            ("id", Int),
            ("app_id", Int),
            ("package_id", Int),
            ("percentage", Int),
            ("user_list", Text),
            ("ramp", Text),
            ("status", Text),
            ("next_step_at", Int),
            ("paused_at", Int),
            ("created_by", Text),
            ("created_at", Int),
            ("updated_at", Int),
            ("ended_at", Int),
        ],
    },
    Table {
        name: "operators",
        key: "id",
        columns: &[
            ("id", Int),
            ("username", Text),
            ("role", Text),
            ("password_hash", Text),
            ("created_at", Int),
            ("password_changed_at", Int),
        ],
    },
    Table {
        name: "operator_sessions",
        key: "token_hash",
        columns: &[
            ("token_hash", Text),
            ("operator_id", Int),
            ("csrf", Text),
            ("address", Text),
            ("created_at", Int),
            ("expires_at", Int),
        ],
    },
    Table {
        name: "audit_log",
        key: "id",
        columns: AUDIT_COLUMNS,
    },
    Table {
        name: "audit_staging",
        key: "id",
        columns: AUDIT_COLUMNS,
    },
];

impl Table {
    fn key_kind(&self) -> Kind {
        self.columns
            .iter()
            .find(|(c, _)| *c == self.key)
            .map(|(_, k)| *k)
            .expect("the key is a column")
    }

    fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One value as both backends agree on it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl Value {
    /// The canonical form hashed by [`verify`]: a tag, then the value.
    fn feed(&self, h: &mut Sha256) {
        match self {
            Value::Null => h.update(b"N;"),
            Value::Int(i) => h.update(format!("I{i};").as_bytes()),
            Value::Text(t) => {
                h.update(format!("T{}:", t.len()).as_bytes());
                h.update(t.as_bytes());
            }
        }
    }
}

fn read_value<R>(row: &R, column: &str, kind: Kind) -> Result<Value>
where
    R: Row,
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(match kind {
        Kind::Int => row
            .try_get::<Option<i64>, _>(column)?
            .map_or(Value::Null, Value::Int),
        Kind::Text => row
            .try_get::<Option<String>, _>(column)?
            .map_or(Value::Null, Value::Text),
        Kind::Flag => row
            .try_get::<Option<bool>, _>(column)?
            .map_or(Value::Null, |b| Value::Int(i64::from(b))),
    })
}

/// How far one table's copy got, for progress lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableProgress {
    pub table: &'static str,
    /// Rows read from the source so far.
    pub read: u64,
    /// Rows the source has.
    pub total: u64,
    /// Rows written (the rest were already in the target).
    pub written: u64,
}

/// One table's comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCheck {
    pub table: &'static str,
    pub source_rows: u64,
    pub target_rows: u64,
    pub source_sha256: String,
    pub target_sha256: String,
}

impl TableCheck {
    pub fn equal(&self) -> bool {
        self.source_rows == self.target_rows && self.source_sha256 == self.target_sha256
    }
}

/// Tables of PostgreSQL alone: a SQLite installation keeps its blobs as
/// files, which [`Copy::copy_blobs`] moves into them.
pub const BLOB_TABLES: &[&str] = &["blobs", "blob_chunks"];

/// How far the copy of the blobs got, for progress lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlobProgress {
    /// Blobs looked at so far, of `total`.
    pub done: u64,
    pub total: u64,
    /// Blobs written (the rest were already in the target) and their bytes.
    pub written: u64,
    pub bytes_written: u64,
}

/// The comparison of the blobs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlobCheck {
    /// Blobs of the source, each read back from the target and hashed.
    pub checked: u64,
    pub bytes: u64,
    /// Digests the target lacks.
    pub missing: Vec<String>,
    /// Digests whose bytes in the target hash to something else.
    pub corrupt: Vec<String>,
}

impl BlobCheck {
    pub fn equal(&self) -> bool {
        self.missing.is_empty() && self.corrupt.is_empty()
    }
}

/// Both ends of a copy, open and migrated.
pub struct Copy {
    source: sqlx::SqliteConnection,
    target: sqlx::PgConnection,
    target_blobs: PgBlobs,
}

impl Copy {
    /// Opens the SQLite database at `sqlite_url` and the PostgreSQL one at
    /// `postgres_url`, migrating both to the current schema.
    pub async fn open(sqlite_url: &str, postgres_url: &str) -> Result<Copy> {
        if !sqlite_url.starts_with("sqlite:") {
            return Err(StoreError::Unavailable(
                "the source of a copy is a sqlite: URL".to_owned(),
            ));
        }
        if !(postgres_url.starts_with("postgres://") || postgres_url.starts_with("postgresql://")) {
            return Err(StoreError::Unavailable(
                "the target of a copy is a postgres:// URL".to_owned(),
            ));
        }
        // Opening the stores applies their migrations.
        drop(crate::open(sqlite_url).await?);
        drop(crate::open(postgres_url).await?);
        let source_opts: sqlx::sqlite::SqliteConnectOptions = sqlite_url.parse()?;
        let source = sqlx::SqliteConnection::connect_with(&source_opts.read_only(true)).await?;
        let target = sqlx::PgConnection::connect(postgres_url).await?;
        let blob_pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(postgres_url)
            .await?;
        Ok(Copy {
            source,
            target,
            target_blobs: PgBlobs::new(blob_pool),
        })
    }

    /// Copies every blob under `root` (the source's `DATA_DIR/blobs`) that
    /// the target lacks, calling `progress` after each batch and after each
    /// large blob. A file whose bytes do not hash to its name is refused:
    /// the source is damaged, and nothing is written under a wrong name.
    pub async fn copy_blobs(
        &mut self,
        root: &Path,
        mut progress: impl FnMut(&BlobProgress),
    ) -> Result<()> {
        let source = FileBlobs::existing(root);
        let mut digests = source.digests().map_err(StoreError::backend)?;
        digests.sort();
        let mut p = BlobProgress {
            total: digests.len() as u64,
            ..Default::default()
        };
        progress(&p);
        for batch in digests.chunks(BATCH as usize) {
            let present: HashSet<String> = self
                .target_blobs
                .present(batch)
                .await
                .map_err(StoreError::backend)?
                .into_iter()
                .collect();
            for digest in batch {
                p.done += 1;
                if present.contains(digest) {
                    continue;
                }
                let mut file = source.open_blob(digest).map_err(StoreError::backend)?;
                let (stored, _) = self
                    .target_blobs
                    .put_expected(&mut file, digest)
                    .await
                    .map_err(|e| match e.kind() {
                        std::io::ErrorKind::InvalidData => StoreError::Corrupt(format!(
                            "the blob file {digest} of the source is damaged: {e}"
                        )),
                        _ => StoreError::backend(e),
                    })?;
                p.written += 1;
                p.bytes_written += stored.size;
                if stored.size >= 1 << 20 {
                    progress(&p);
                }
            }
            progress(&p);
        }
        Ok(())
    }

    /// Reads every blob of the source back from the target and hashes it.
    pub async fn verify_blobs(&mut self, root: &Path) -> Result<BlobCheck> {
        let mut check = BlobCheck::default();
        for digest in FileBlobs::existing(root)
            .digests()
            .map_err(StoreError::backend)?
        {
            match self
                .target_blobs
                .rehash(&digest)
                .await
                .map_err(StoreError::backend)?
            {
                None => check.missing.push(digest),
                Some(r) if r.sha256 != digest => check.corrupt.push(digest),
                Some(r) => {
                    check.checked += 1;
                    check.bytes += r.size;
                }
            }
        }
        Ok(check)
    }

    /// Copies every table, calling `progress` after each batch.
    pub async fn copy_all(&mut self, mut progress: impl FnMut(&TableProgress)) -> Result<()> {
        for table in TABLES {
            self.copy_table(table, &mut progress).await?;
        }
        self.move_sequences().await
    }

    async fn copy_table(
        &mut self,
        table: &'static Table,
        progress: &mut impl FnMut(&TableProgress),
    ) -> Result<()> {
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {}",
            table.name
        )))
        .fetch_one(&mut self.source)
        .await?;
        let mut p = TableProgress {
            table: table.name,
            read: 0,
            total: total as u64,
            written: 0,
        };
        progress(&p);
        let placeholders: Vec<String> =
            (1..=table.columns.len()).map(|i| format!("${i}")).collect();
        let insert = format!(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO NOTHING",
            table.name,
            table.column_list(),
            placeholders.join(", "),
            table.key
        );
        let mut after: Option<Value> = None;
        loop {
            let select = batch_select(table, after.is_some(), "");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(select));
            match &after {
                Some(Value::Int(i)) => q = q.bind(*i),
                Some(Value::Text(t)) => q = q.bind(t.clone()),
                _ => {}
            }
            let rows = q.fetch_all(&mut self.source).await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = self.target.begin().await?;
            for row in &rows {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(insert.clone()));
                for (column, kind) in table.columns {
                    let v = read_value(row, column, *kind)?;
                    q = match (kind, v) {
                        (Kind::Flag, Value::Int(i)) => q.bind(Some(i != 0)),
                        (Kind::Flag, _) => q.bind(None::<bool>),
                        (Kind::Int, Value::Int(i)) => q.bind(Some(i)),
                        (Kind::Int, _) => q.bind(None::<i64>),
                        (Kind::Text, Value::Text(t)) => q.bind(Some(t)),
                        (Kind::Text, _) => q.bind(None::<String>),
                    };
                }
                p.written += q.execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            let last = rows.last().expect("not empty");
            after = Some(read_value(last, table.key, table.key_kind())?);
            p.read += rows.len() as u64;
            progress(&p);
        }
        Ok(())
    }

    /// Moves each identity sequence past the largest copied key, so that
    /// the next row the platform writes gets a fresh one.
    async fn move_sequences(&mut self) -> Result<()> {
        for table in TABLES.iter().filter(|t| t.key_kind() == Kind::Int) {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{0}', '{1}'), m) \
                 FROM (SELECT MAX({1}) AS m FROM {0}) x WHERE m IS NOT NULL",
                table.name, table.key
            )))
            .execute(&mut self.target)
            .await?;
        }
        Ok(())
    }

    /// Compares every table of the source with the target's.
    pub async fn verify(&mut self) -> Result<Vec<TableCheck>> {
        let mut checks = Vec::new();
        for table in TABLES {
            let (source_rows, source_sha256) = digest_sqlite(&mut self.source, table).await?;
            let (target_rows, target_sha256) = digest_postgres(&mut self.target, table).await?;
            checks.push(TableCheck {
                table: table.name,
                source_rows,
                target_rows,
                source_sha256,
                target_sha256,
            });
        }
        Ok(checks)
    }
}

/// A batch of `table` in key order after `after`; text keys compared with
/// `collate` (PostgreSQL's byte order, as SQLite's BINARY sorts).
fn batch_select(table: &Table, after: bool, collate: &str) -> String {
    let key = if table.key_kind() == Kind::Text {
        format!("{}{collate}", table.key)
    } else {
        table.key.to_owned()
    };
    format!(
        "SELECT {} FROM {} {} ORDER BY {key} LIMIT {BATCH}",
        table.column_list(),
        table.name,
        if after {
            format!("WHERE {key} > $1")
        } else {
            String::new()
        }
    )
}

/// Row count and SHA-256 of a table, read in key-ordered batches (memory
/// stays at one batch whatever the table's size).
macro_rules! digest_fn {
    ($name:ident, $conn:ty, $collate:expr) => {
        async fn $name(conn: &mut $conn, table: &Table) -> Result<(u64, String)> {
            let mut h = Sha256::new();
            let mut n = 0u64;
            let mut after: Option<Value> = None;
            loop {
                let sql = batch_select(table, after.is_some(), $collate);
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                match &after {
                    Some(Value::Int(i)) => q = q.bind(*i),
                    Some(Value::Text(t)) => q = q.bind(t.clone()),
                    _ => {}
                }
                let rows = q.fetch_all(&mut *conn).await?;
                let Some(last) = rows.last() else { break };
                after = Some(read_value(last, table.key, table.key_kind())?);
                for row in &rows {
                    for (column, kind) in table.columns {
                        read_value(row, column, *kind)?.feed(&mut h);
                    }
                }
                n += rows.len() as u64;
            }
            Ok((n, hex::encode(h.finalize())))
        }
    };
}

digest_fn!(digest_sqlite, sqlx::SqliteConnection, "");
digest_fn!(digest_postgres, sqlx::PgConnection, " COLLATE \"C\"");

/// The tables a copy covers and their columns, for the test that holds
/// them to both schemas.
pub fn tables() -> Vec<(&'static str, Vec<&'static str>)> {
    TABLES
        .iter()
        .map(|t| (t.name, t.columns.iter().map(|(c, _)| *c).collect()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_its_key_among_its_columns() {
        for t in TABLES {
            let _ = t.key_kind();
        }
    }

    #[test]
    fn canonical_values_do_not_collide_across_kinds() {
        let digest = |v: &Value| {
            let mut h = Sha256::new();
            v.feed(&mut h);
            hex::encode(h.finalize())
        };
        let all = [
            Value::Null,
            Value::Int(1),
            Value::Text("1".into()),
            Value::Text("".into()),
            Value::Text("N;".into()),
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(digest(a), digest(b), "{a:?} vs {b:?}");
            }
        }
    }
}
