//! Group commit for SQLite: many callers' transactions share one fsync, on
//! a writer thread that owns its connection.
//!
//! With `synchronous=FULL` every commit waits for the disk, and SQLite has
//! one writer, so one transaction per fsync caps the write rate at the
//! disk's fsync rate divided by the statements around it. Here callers hand
//! their transaction to the writer thread as a job. The writer takes every
//! job that is waiting, opens one outer transaction, runs each job inside
//! its own savepoint (a job that fails rolls back only itself), commits once
//! and only then answers the callers. A caller therefore still hears back
//! only after its change is on disk; under load the jobs that queued during
//! one fsync share the next.
//!
//! The writer is a plain thread with a synchronous (rusqlite) connection
//! rather than a task on the async pool: through the async driver every
//! statement is a round trip to the connection's own thread and back, and
//! a transition is about eight statements, so those hand-offs cost more
//! than the fsync did. Here a whole batch runs on one thread, with prepared
//! statements kept between batches.

use crate::{Result, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::Duration;
use tokio::sync::{Mutex, oneshot};

/// Jobs per outer transaction at most.
const MAX_BATCH: usize = 256;

/// A job's body: gets the connection inside the outer transaction and says
/// whether its writes are kept (`false` rolls its savepoint back).
type JobFn = Box<dyn FnOnce(&Connection) -> bool + Send>;
/// Runs on the writer thread once the job's batch has ended.
type AfterFn = Box<dyn FnOnce() + Send>;
type Committed = oneshot::Sender<std::result::Result<(), String>>;

struct Job {
    run: JobFn,
    after: AfterFn,
    committed: Committed,
}

/// Handle to the writer thread; it stops when the last handle is dropped.
#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

/// Opens the writer's connection with the store's durability settings.
fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a committed transition survives a crash of the machine.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl GroupCommit {
    /// Opens the database at `path` (already created and migrated) for the
    /// writer thread and starts it. The thread holds `turn` while it runs a
    /// batch; other writers of the same database in this process take it
    /// too, and get it in the order they asked.
    pub fn start(path: &Path, turn: Arc<Mutex<()>>) -> Result<GroupCommit> {
        let conn = open(path).map_err(StoreError::from)?;
        let (jobs, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("smartship-writer".to_owned())
            .spawn(move || writer(conn, rx, turn))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer: {e}")))?;
        Ok(GroupCommit { jobs })
    }

    /// Runs `f` inside a savepoint of the next group commit and returns its
    /// result once that commit is durable. An `Err` from `f` rolls back
    /// what `f` wrote; an `Ok` keeps it.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.run_then(f, || {}).await
    }

    /// [`GroupCommit::run`], and `after` runs on the writer thread as soon
    /// as the batch has committed (or failed), before any caller of the
    /// batch hears back. It runs even if this call's future was dropped
    /// meanwhile: what must follow a commit (dropping cached reads) cannot
    /// be skipped by a caller that went away.
    pub async fn run_then<T, F, A>(&self, f: F, after: A) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        A: FnOnce() + Send + 'static,
    {
        let (result_tx, result_rx) = oneshot::channel();
        let (committed_tx, committed_rx) = oneshot::channel();
        let run: JobFn = Box::new(move |conn| {
            let result = f(conn);
            let keep = result.is_ok();
            let _ = result_tx.send(result);
            keep
        });
        self.jobs
            .send(Job {
                run,
                after: Box::new(after),
                committed: committed_tx,
            })
            .map_err(|_| StoreError::Unavailable("the writer has stopped".to_owned()))?;
        let result = result_rx
            .await
            .map_err(|_| StoreError::Unavailable("the writer dropped a job".to_owned()))?;
        committed_rx
            .await
            .map_err(|_| StoreError::Unavailable("the writer dropped a job".to_owned()))?
            .map_err(|e| StoreError::Unavailable(format!("group commit failed: {e}")))?;
        result
    }
}

fn writer(conn: Connection, rx: mpsc::Receiver<Job>, turn: Arc<Mutex<()>>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut waiting = Vec::with_capacity(batch.len());
        let my_turn = turn.blocking_lock();
        let outcome = run_batch(&conn, batch, &mut waiting).map_err(|e| {
            tracing::error!(error = %e, "group commit failed");
            // Leave no half-open transaction behind for the next batch.
            let _ = conn.execute_batch("ROLLBACK");
            e.to_string()
        });
        drop(my_turn);
        let (answers, afters): (Vec<Committed>, Vec<AfterFn>) = waiting.into_iter().unzip();
        for after in afters {
            after();
        }
        for w in answers {
            let _ = w.send(outcome.clone());
        }
    }
}

fn run_batch(
    conn: &Connection,
    batch: Vec<Job>,
    waiting: &mut Vec<(Committed, AfterFn)>,
) -> rusqlite::Result<()> {
    // IMMEDIATE: take the write lock now, so that no job can fail half way
    // on a lock another connection holds.
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let mut failed = None;
    for job in batch {
        waiting.push((job.committed, job.after));
        if failed.is_some() {
            continue;
        }
        let step = (|| {
            conn.execute_batch("SAVEPOINT job")?;
            let audit = crate::sqlite::lifecycle_sql::audit_mark();
            // A job that panics is rolled back like one that failed (its
            // caller hears that the writer dropped it); the writer and the
            // rest of the batch go on.
            let run = job.run;
            let kept = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(conn)));
            if kept.unwrap_or(false) {
                conn.execute_batch("RELEASE job")
            } else {
                // Its audit entries go with it.
                crate::sqlite::lifecycle_sql::drop_audit_since(audit);
                conn.execute_batch("ROLLBACK TO job; RELEASE job")
            }
        })();
        if let Err(e) = step {
            failed = Some(e);
        }
    }
    if let Some(e) = failed {
        crate::sqlite::lifecycle_sql::discard_audit();
        return Err(e);
    }
    // The accepted jobs' audit entries, in the same transaction.
    crate::sqlite::lifecycle_sql::flush_audit(conn)?;
    conn.execute_batch("COMMIT")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database with one table `t (n)` and a writer on it.
    fn table_t() -> (tempfile::TempDir, GroupCommit) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (n INTEGER NOT NULL)")
            .unwrap();
        let commits = GroupCommit::start(&path, Default::default()).unwrap();
        (dir, commits)
    }

    #[tokio::test]
    async fn concurrent_jobs_share_commits_and_a_failing_job_rolls_back_alone() {
        let (dir, commits) = table_t();
        let path = dir.path().join("t.db");
        let jobs: Vec<_> = (0..50i64)
            .map(|n| {
                let commits = commits.clone();
                tokio::spawn(async move {
                    commits
                        .run(move |conn| {
                            conn.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
                            if n == 7 {
                                // Written, then refused: only this row goes.
                                return Err(StoreError::Conflict("seven".to_owned()));
                            }
                            Ok(n)
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
        // Every answered job is visible (committed) once it has answered,
        // from another connection.
        let other = Connection::open(&path).unwrap();
        let rows: Vec<i64> = other
            .prepare("SELECT n FROM t ORDER BY n")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(rows.len(), 49);
        assert!(!rows.contains(&7));
    }

    #[tokio::test]
    async fn a_failed_commit_answers_every_job_of_the_batch_and_the_writer_goes_on() {
        let (_dir, commits) = table_t();
        // A job that ends the outer transaction itself makes the batch's
        // RELEASE fail: its callers hear of it instead of hanging.
        let broken = commits
            .run(|conn| {
                conn.execute_batch("RELEASE job; COMMIT")?;
                Ok(())
            })
            .await;
        assert!(
            matches!(broken, Err(StoreError::Unavailable(_))),
            "{broken:?}"
        );
        let n = commits
            .run(|conn| Ok(conn.execute("INSERT INTO t (n) VALUES (1)", [])?))
            .await
            .unwrap();
        assert_eq!(n, 1);
    }

    #[tokio::test]
    async fn a_job_that_panics_is_rolled_back_and_the_writer_goes_on() {
        let (dir, commits) = table_t();
        let panicked = commits
            .run(|conn| -> Result<()> {
                conn.execute("INSERT INTO t (n) VALUES (1)", [])?;
                panic!("a bug in a job");
            })
            .await;
        assert!(
            matches!(panicked, Err(StoreError::Unavailable(_))),
            "{panicked:?}"
        );
        commits
            .run(|conn| Ok(conn.execute("INSERT INTO t (n) VALUES (2)", [])?))
            .await
            .unwrap();
        let other = Connection::open(dir.path().join("t.db")).unwrap();
        let rows: Vec<i64> = other
            .prepare("SELECT n FROM t")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(rows, [2]);
    }

    #[tokio::test]
    async fn what_follows_a_commit_runs_even_when_the_caller_went_away() {
        let (dir, commits) = table_t();
        let after_ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = after_ran.clone();
        // The caller gives up while its job is still running: the job holds
        // until the caller is gone.
        let (release_job, job_may_go) = std::sync::mpsc::channel::<()>();
        let gave_up = tokio::time::timeout(
            std::time::Duration::from_millis(5),
            commits.run_then(
                move |conn| {
                    let _ = job_may_go.recv();
                    Ok(conn.execute("INSERT INTO t (n) VALUES (1)", [])?)
                },
                move || flag.store(true, std::sync::atomic::Ordering::SeqCst),
            ),
        )
        .await;
        assert!(
            gave_up.is_err(),
            "the job cannot finish before it is let go"
        );
        release_job.send(()).unwrap();
        // A later job is answered after that batch has ended.
        commits.run(|_| Ok(())).await.unwrap();
        assert!(after_ran.load(std::sync::atomic::Ordering::SeqCst));
        let other = Connection::open(dir.path().join("t.db")).unwrap();
        let n: i64 = other
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "the job committed without its caller");
    }
}
