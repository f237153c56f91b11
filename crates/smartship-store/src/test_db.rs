//! Throw-away databases for the tests of every crate, on both backends.
//!
//! A store or server test runs once per [`Backend`] (see [`backends`]): on
//! a fresh SQLite file in the temporary directory, and in a fresh schema
//! of the machine's PostgreSQL (`SMARTSHIP_TEST_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; the schemas live in the
//! database `smartship_test`, created when missing). Each [`TestDb`] drops
//! what it created when it goes out of scope. Not for production use.

use sqlx::Connection;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// The database the test schemas are created in.
const TEST_DATABASE: &str = "smartship_test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// Both backends: every store and server test runs on each.
pub fn backends() -> [Backend; 2] {
    [Backend::Sqlite, Backend::Postgres]
}

/// The PostgreSQL server the tests use (a URL of any database on it).
pub fn postgres_admin_url() -> String {
    std::env::var("SMARTSHIP_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// One test's own database: a SQLite file or a PostgreSQL schema.
#[derive(Debug)]
pub struct TestDb {
    pub backend: Backend,
    url: String,
    /// SQLite: the file (and its -wal, -shm) to remove.
    file: Option<PathBuf>,
    /// PostgreSQL: the schema to drop.
    schema: Option<String>,
}

fn unique_name() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "t{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// `url` with its database replaced by `db`, and `options` appended.
fn with_database(url: &str, db: &str, options: Option<&str>) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|j| start + j))
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..authority_end], db);
    let mut params: Vec<String> = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty() && !p.starts_with("options="))
        .map(str::to_owned)
        .collect();
    if let Some(o) = options {
        params.push(format!("options={o}"));
    }
    if !params.is_empty() {
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

impl TestDb {
    /// A fresh, empty database of `backend` (the store migrates it when it
    /// opens it).
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let file = std::env::temp_dir().join(format!("smartship-{}.db", unique_name()));
                TestDb {
                    backend,
                    url: format!("sqlite:{}", file.display()),
                    file: Some(file),
                    schema: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("the tests need PostgreSQL at SMARTSHIP_TEST_POSTGRES ({e})")
                    });
                let exists: Option<i32> =
                    sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
                        .bind(TEST_DATABASE)
                        .fetch_optional(&mut conn)
                        .await
                        .unwrap();
                if exists.is_none() {
                    // Another test may create it at the same moment.
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "CREATE DATABASE {TEST_DATABASE}"
                    )))
                    .execute(&mut conn)
                    .await;
                }
                let _ = conn.close().await;
                let schema = unique_name();
                let test_url = with_database(&admin, TEST_DATABASE, None);
                let mut conn = sqlx::PgConnection::connect(&test_url).await.unwrap();
                drop_stale_schemas(&mut conn).await;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let _ = conn.close().await;
                TestDb {
                    backend,
                    url: with_database(
                        &admin,
                        TEST_DATABASE,
                        Some(&format!("-c%20search_path%3D{schema}")),
                    ),
                    file: None,
                    schema: Some(schema),
                }
            }
        }
    }

    /// The URL to open the store (or start the server) with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs one statement directly on the database, as a test that sets up
    /// a state no API produces (a lease of a dead process) must.
    pub async fn execute(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let _ = conn.close().await;
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let _ = conn.close().await;
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(file) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
        if let Some(schema) = self.schema.take() {
            // On a thread of its own, not waited for: Drop often runs on
            // the test's runtime, whose server may still hold a transaction
            // that the DROP must wait for, and that transaction finishes
            // only once this thread lets the runtime go on. A schema left
            // behind by a process that exited first is dropped by the next
            // test process (`drop_stale_schemas`).
            let url = with_database(&postgres_admin_url(), TEST_DATABASE, None);
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the cleanup");
                rt.block_on(async {
                    for _ in 0..60 {
                        if drop_schema(&url, &schema).await {
                            return;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                });
            });
        }
    }
}

/// Drops one test schema; false when it could not (yet).
async fn drop_schema(url: &str, schema: &str) -> bool {
    let Ok(mut conn) = sqlx::PgConnection::connect(url).await else {
        return false;
    };
    let _ = sqlx::query("SET lock_timeout = '2s'")
        .execute(&mut conn)
        .await;
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE"
    )))
    .execute(&mut conn)
    .await
    .is_ok();
    let _ = conn.close().await;
    done
}

/// Drops the schemas of test processes that are gone (their names start
/// with `t<pid>_`).
async fn drop_stale_schemas(conn: &mut sqlx::PgConnection) {
    let Ok(names) = sqlx::query_scalar::<_, String>(
        "SELECT schema_name::TEXT FROM information_schema.schemata WHERE schema_name LIKE 't%\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    else {
        return;
    };
    for name in names {
        let pid = name[1..]
            .split('_')
            .next()
            .and_then(|p| p.parse::<i32>().ok());
        #[cfg(unix)]
        // SAFETY: signal 0 only checks that the process exists.
        let alive = pid.is_some_and(|p| unsafe { libc::kill(p, 0) } == 0);
        #[cfg(not(unix))]
        let alive = pid.is_some();
        if pid.is_some() && !alive {
            let _ = sqlx::query("SET lock_timeout = '2s'")
                .execute(&mut *conn)
                .await;
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE"
            )))
            .execute(&mut *conn)
            .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced_and_options_added() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x", None),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database(
                "postgres://u:p@h/db?sslmode=disable&options=a",
                "x",
                Some("-c%20search_path%3Ds")
            ),
            "postgres://u:p@h/x?sslmode=disable&options=-c%20search_path%3Ds"
        );
        assert_eq!(with_database("postgres://h", "x", None), "postgres://h/x");
    }
}
