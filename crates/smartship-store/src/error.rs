//! [`StoreError`]: what went wrong in storage, in terms that mean the same
//! whatever the backend. A backend's own error converts into it here, once:
//! the server never sees a driver type, and decides what to answer from the
//! variant alone.

/// A storage failure. Never shown to API callers verbatim (it may hold SQL).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// What was asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The write contradicts what is stored (a taken id, a row that changed
    /// state under the writer).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Concurrent writers kept the data locked past the store's own retries
    /// (SQLite busy, PostgreSQL serialization failure or deadlock): the call
    /// may be repeated as it is.
    #[error("storage busy: {0}")]
    Busy(String),
    /// The disk (or quota) of the database is full (SQLite's SQLITE_FULL,
    /// PostgreSQL's disk_full): nothing was written; writes work again once
    /// space is freed.
    #[error("storage full: {0}")]
    Full(String),
    /// The store cannot take the call at all (its writer stopped, its
    /// database is unreachable, its URL names no backend).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A stored value that does not decode.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Any other failure of the backend, with its cause.
    #[error("storage error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub(crate) fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::Backend(Box::new(e))
    }
}

/// SQLite's primary result codes for a locked database (SQLITE_BUSY,
/// SQLITE_LOCKED) and PostgreSQL's SQLSTATEs for a lost race
/// (serialization_failure, deadlock_detected, lock_not_available).
/// A SQLSTATE has five characters; SQLite's (extended) codes are numbers of
/// at most four digits, whose low byte is the primary code.
fn is_contention(code: &str) -> bool {
    if code.len() == 5 {
        return matches!(code, "40001" | "40P01" | "55P03");
    }
    matches!(code.parse::<i32>().map(|c| c & 0xff), Ok(5) | Ok(6))
}

/// SQLite's SQLITE_FULL (13, the low byte of its extended codes) and
/// PostgreSQL's disk_full SQLSTATE (53100).
fn is_full(code: &str) -> bool {
    if code.len() == 5 {
        return code == "53100";
    }
    matches!(code.parse::<i32>().map(|c| c & 0xff), Ok(13))
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound(e.to_string()),
            sqlx::Error::Database(d) if d.code().is_some_and(|c| is_contention(&c)) => {
                StoreError::Busy(d.message().to_owned())
            }
            sqlx::Error::Database(d) if d.code().is_some_and(|c| is_full(&c)) => {
                StoreError::Full(d.message().to_owned())
            }
            sqlx::Error::PoolTimedOut => StoreError::Busy("no database connection was free".into()),
            sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::backend(e),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound(e.to_string()),
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                StoreError::Busy(e.to_string())
            }
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull => {
                StoreError::Full(e.to_string())
            }
            _ => StoreError::backend(e),
        }
    }
}

impl StoreError {
    /// The same failure as an I/O error (what the blob stores return), its
    /// kind `StorageFull` when the database is full.
    pub fn into_io(self) -> std::io::Error {
        let kind = match self {
            StoreError::Full(_) => std::io::ErrorKind::StorageFull,
            _ => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, self)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::backend(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_races_are_busy_on_both_backends() {
        for code in ["5", "6", "517", "262", "40001", "40P01", "55P03"] {
            assert!(is_contention(code), "{code}");
        }
        for code in ["19", "2067", "23505", "42P01", "22005", "0"] {
            assert!(!is_contention(code), "{code}");
        }
    }

    #[test]
    fn a_full_disk_is_full_on_both_backends_by_code() {
        for code in ["13", "53100"] {
            assert!(is_full(code), "{code}");
            assert!(!is_contention(code), "{code}");
        }
        for code in ["5", "53200", "19", "40001"] {
            assert!(!is_full(code), "{code}");
        }
        let e = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        let full = StoreError::from(e);
        assert!(matches!(full, StoreError::Full(_)));
        assert_eq!(full.into_io().kind(), std::io::ErrorKind::StorageFull);
    }

    #[test]
    fn a_busy_writer_connection_is_busy() {
        let e = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(matches!(StoreError::from(e), StoreError::Busy(_)));
    }
}
