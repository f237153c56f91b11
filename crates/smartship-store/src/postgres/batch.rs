//! Lifecycle transactions of many callers committed together.
//!
//! A transition is a short transaction whose cost on PostgreSQL is mostly
//! its commit (a WAL flush the caller waits for) and its round trips. The
//! batcher takes every lifecycle operation waiting when a connection is
//! free, runs them one after the other in one transaction and commits once,
//! as the SQLite writer thread does: each operation sees the ones before it
//! (the same order as if they had committed one by one), and every caller
//! is answered only once the commit is durable.
//!
//! - The batch first locks all its apps' rows in id order, so two batches
//!   (of this node or of another) never wait for each other in a cycle.
//! - A refusal by the rules is an answer, not a failure: it is decided
//!   before anything is written, and the batch goes on. A store error (a lost race, a lost connection)
//!   rolls the whole batch back; each of its operations is then run alone,
//!   with the usual retries, so one operation's trouble is its own.
//! - At most [`BATCHERS`] batches run at once, each on one connection of
//!   the pool; operations that arrive meanwhile wait and form the next
//!   batches, so batches grow with the load.
//! - The batch runs on a task of its own: a caller that goes away cannot
//!   stop a commit half-way, nor leave the read cache holding what it
//!   replaced.

use super::{LifecycleOp, LifecycleOut, Tx, lifecycle_sql};
use crate::model::ActionContext;
use crate::read_cache::ReadCache;
use crate::{Result, StoreError};
use smartship_core::AppId;
use sqlx::postgres::PgPool;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Batches committing at once (connections they hold: half the pool).
const BATCHERS: usize = 8;
/// Operations in one transaction at most.
const MAX_BATCH: usize = 64;
/// How often an operation that lost a race is tried again (alone).
const TRIES: usize = 3;

struct Job {
    app: AppId,
    op: LifecycleOp,
    ctx: ActionContext,
    reply: oneshot::Sender<Result<LifecycleOut>>,
}

/// The way into the batches, shared by every clone of the store.
#[derive(Debug, Clone)]
pub(super) struct Batcher {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Batcher {
    /// Starts the batching task on the current runtime.
    pub(super) fn start(pool: PgPool, cache: Arc<ReadCache>) -> Batcher {
        let (jobs, rx) = mpsc::unbounded_channel();
        tokio::spawn(form_batches(pool, cache, rx));
        Batcher { jobs }
    }

    /// Runs one lifecycle operation of `app`; answers once it committed
    /// (or failed) and the app's cached packages were dropped.
    pub(super) async fn run(
        &self,
        app: AppId,
        op: LifecycleOp,
        ctx: &ActionContext,
    ) -> Result<LifecycleOut> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                app,
                op,
                ctx: ctx.clone(),
                reply,
            })
            .map_err(|_| StoreError::Unavailable("the lifecycle batcher has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the lifecycle batch was lost".into()))?
    }
}

/// Waits for a free batcher, then takes every waiting operation (up to
/// [`MAX_BATCH`]) as its batch.
async fn form_batches(pool: PgPool, cache: Arc<ReadCache>, mut rx: mpsc::UnboundedReceiver<Job>) {
    let free = Arc::new(Semaphore::new(BATCHERS));
    while let Some(first) = rx.recv().await {
        let Ok(permit) = free.clone().acquire_owned().await else {
            return;
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let (pool, cache) = (pool.clone(), cache.clone());
        tokio::spawn(async move {
            run_batch(&pool, &cache, jobs).await;
            drop(permit);
        });
    }
}

async fn run_batch(pool: &PgPool, cache: &ReadCache, jobs: Vec<Job>) {
    let outs: Option<Vec<Result<LifecycleOut>>> = if jobs.len() > 1 {
        match together(pool, &jobs).await {
            Ok(outs) => Some(outs.into_iter().map(Ok).collect()),
            Err(Failed::BeforeCommit(e)) => {
                tracing::debug!(error = %e, jobs = jobs.len(), "a lifecycle batch was rolled back; its operations run alone");
                None
            }
            // Whether the commit took effect is unknown (the connection
            // went away during it): running the operations again could
            // apply them twice, so each caller hears of the failure, as
            // it would of its own transaction's.
            Err(Failed::AtCommit(e)) => Some(
                jobs.iter()
                    .map(|_| Err(StoreError::Unavailable(format!("the commit failed: {e}"))))
                    .collect(),
            ),
        }
    } else {
        None
    };
    let Some(outs) = outs else {
        // Each caller is answered as soon as its own transaction is over,
        // not when the whole batch has been run again.
        for job in jobs {
            let out = alone(pool, &job).await;
            cache.invalidate_app(job.app);
            // A caller that went away no longer waits for its answer.
            let _ = job.reply.send(out);
        }
        return;
    };
    for job in &jobs {
        cache.invalidate_app(job.app);
    }
    for (job, out) in jobs.into_iter().zip(outs) {
        let _ = job.reply.send(out);
    }
}

/// Why a batch did not commit.
enum Failed {
    /// Rolled back: nothing of it happened.
    BeforeCommit(StoreError),
    /// The commit itself failed: it may or may not have happened.
    AtCommit(StoreError),
}

/// Every operation of the batch in one transaction, or none.
async fn together(pool: &PgPool, jobs: &[Job]) -> std::result::Result<Vec<LifecycleOut>, Failed> {
    let outs = run_all(pool, jobs).await.map_err(Failed::BeforeCommit)?;
    let (tx, outs) = outs;
    tx.commit()
        .await
        .map_err(|e| Failed::AtCommit(StoreError::from(e)))?;
    Ok(outs)
}

/// The batch's operations in an open transaction, not yet committed.
async fn run_all(pool: &PgPool, jobs: &[Job]) -> Result<(Tx<'static>, Vec<LifecycleOut>)> {
    let mut tx: Tx<'static> = pool.begin().await?;
    let mut apps: Vec<i64> = jobs.iter().map(|j| j.app.0).collect();
    apps.sort_unstable();
    apps.dedup();
    sqlx::query("SELECT id FROM apps WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(&apps)
        .fetch_all(&mut *tx)
        .await?;
    let mut outs = Vec::with_capacity(jobs.len());
    for job in jobs {
        outs.push(run_op(&mut tx, job.app, &job.op, &job.ctx).await?);
    }
    Ok((tx, outs))
}

/// One operation in its own transaction, tried again when it lost a race.
async fn alone(pool: &PgPool, job: &Job) -> Result<LifecycleOut> {
    let mut tries = 0;
    loop {
        tries += 1;
        let out = async {
            let mut tx: Tx<'static> = pool.begin().await?;
            let out = run_op(&mut tx, job.app, &job.op, &job.ctx).await?;
            tx.commit().await?;
            Ok(out)
        }
        .await;
        match out {
            Err(StoreError::Busy(_)) if tries < TRIES => continue,
            other => return other,
        }
    }
}

/// The shared steps of one operation, inside `tx`.
async fn run_op(
    tx: &mut Tx<'static>,
    app: AppId,
    op: &LifecycleOp,
    ctx: &ActionContext,
) -> Result<LifecycleOut> {
    use crate::lifecycle_flow as flow;
    let mut prims = lifecycle_sql::PgLifecycle(tx);
    Ok(match op {
        LifecycleOp::Upload(u) => {
            LifecycleOut::Uploaded(flow::create_upload(&mut prims, u, ctx).await?)
        }
        LifecycleOp::Apply(package, action) => {
            LifecycleOut::Decided(flow::apply(&mut prims, app, *package, action, ctx).await?)
        }
        LifecycleOp::FinishBuild(package, outcome) => LifecycleOut::Decided(
            flow::finish_build(&mut prims, app, *package, outcome, ctx).await?,
        ),
        LifecycleOp::Phased(op) => {
            LifecycleOut::Phased(flow::phased(&mut prims, app, op, ctx).await?)
        }
        LifecycleOp::Schedule(package, at) => LifecycleOut::Scheduled(
            flow::schedule_release(&mut prims, app, *package, *at, ctx).await?,
        ),
        LifecycleOp::CancelSchedule(package) => LifecycleOut::Cancelled(
            flow::cancel_scheduled_release(&mut prims, app, *package, ctx).await?,
        ),
    })
}
