//! Group commit for SQLite: many callers' transactions share one fsync.
//!
//! With `synchronous=FULL` every commit waits for the disk, and SQLite has
//! one writer, so one transaction per fsync caps the write rate at the
//! disk's fsync rate divided by the statements around it. Here callers hand
//! their transaction to a committer task as a job. The committer takes every
//! job that is waiting, opens one outer transaction, runs each job inside
//! its own savepoint (a job that fails rolls back only itself), commits once
//! and only then answers the callers. A caller therefore still hears back
//! only after its change is on disk; under load the jobs that queued during
//! one fsync share the next.

use crate::{Result, StoreError};
use sqlx::{Connection, SqliteConnection, SqlitePool};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

/// A job's body: gets the connection inside the outer transaction.
pub type BoxFuture<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;
type JobFn = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, ()> + Send>;

/// Jobs per outer transaction at most.
const MAX_BATCH: usize = 256;

struct Job {
    run: JobFn,
    committed: oneshot::Sender<std::result::Result<(), String>>,
}

/// Handle to the committer task.
#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    /// Starts the committer on `pool` (the single-connection write pool).
    pub fn start(pool: SqlitePool) -> GroupCommit {
        let (jobs, rx) = mpsc::unbounded_channel();
        tokio::spawn(committer(pool, rx));
        GroupCommit { jobs }
    }

    /// Runs `f` inside a savepoint of the next group commit and returns its
    /// result once that commit is durable. `f` opens its own transaction on
    /// the connection it is given (`conn.begin()`, which nests as a
    /// savepoint) and commits it when its work should be kept.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (result_tx, result_rx) = oneshot::channel();
        let (committed_tx, committed_rx) = oneshot::channel();
        let run: JobFn = Box::new(move |conn| {
            Box::pin(async move {
                let _ = result_tx.send(f(conn).await);
            })
        });
        self.jobs
            .send(Job {
                run,
                committed: committed_tx,
            })
            .map_err(|_| StoreError::Unavailable("the committer has stopped".to_owned()))?;
        let result = result_rx
            .await
            .map_err(|_| StoreError::Unavailable("the committer dropped a job".to_owned()))?;
        committed_rx
            .await
            .map_err(|_| StoreError::Unavailable("the committer dropped a job".to_owned()))?
            .map_err(|e| StoreError::Unavailable(format!("group commit failed: {e}")))?;
        result
    }
}

async fn committer(pool: SqlitePool, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut waiting = Vec::with_capacity(batch.len());
        let outcome: std::result::Result<(), sqlx::Error> = async {
            let mut conn = pool.acquire().await?;
            let mut outer = conn.begin().await?;
            for job in batch {
                (job.run)(&mut outer).await;
                waiting.push(job.committed);
            }
            outer.commit().await
        }
        .await;
        let outcome = outcome.map_err(|e| {
            tracing::error!(error = %e, "group commit failed");
            e.to_string()
        });
        for w in waiting {
            let _ = w.send(outcome.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    #[tokio::test]
    async fn concurrent_jobs_share_commits_and_a_failing_job_rolls_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let opts = SqliteConnectOptions::new()
            .filename(dir.path().join("t.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        let commits = GroupCommit::start(pool.clone());
        let jobs: Vec<_> = (0..50i64)
            .map(|n| {
                let commits = commits.clone();
                tokio::spawn(async move {
                    commits
                        .run(move |conn| {
                            Box::pin(async move {
                                let mut tx = conn.begin().await?;
                                sqlx::query("INSERT INTO t (n) VALUES ($1)")
                                    .bind(n)
                                    .execute(&mut *tx)
                                    .await?;
                                if n == 7 {
                                    // Written, then refused: only this row goes.
                                    return Err(StoreError::Conflict("seven".to_owned()));
                                }
                                tx.commit().await?;
                                Ok(n)
                            })
                        })
                        .await
                })
            })
            .collect();
        let mut ok = 0;
        for j in jobs {
            match j.await.unwrap() {
                Ok(_) => ok += 1,
                Err(e) => assert!(e.to_string().contains("seven"), "{e}"),
            }
        }
        assert_eq!(ok, 49);
        // Every answered job is visible (committed) once it has answered.
        let rows: Vec<i64> = sqlx::query_scalar("SELECT n FROM t ORDER BY n")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(rows.len(), 49);
        assert!(!rows.contains(&7));
    }
}
