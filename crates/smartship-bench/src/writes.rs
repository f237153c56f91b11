//! Durable lifecycle writes over many apps: each worker owns some apps with
//! a built development package and alternates `package/submitaudit` (3 → 4)
//! and `package/withdraw` (4 → 3) on them through the open API. Every call
//! is one committed transaction (state change, history row, quota use),
//! fsynced before the answer. Baseline: single-row SQLite transactions with
//! the same settings (WAL, `synchronous=FULL`) on the same disk, one after
//! another — what one fsynced commit at a time allows.

use crate::setup;
use smartship_client::OpenApiClient;
use sqlx::ConnectOptions;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct WritesResult {
    pub transitions_per_sec: f64,
    pub commits_per_sec: f64,
    pub errors: u64,
}

/// Single-row fsynced commits per second on this disk, through SQLite.
async fn commit_baseline(dir: &std::path::Path, duration: Duration) -> anyhow::Result<f64> {
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.join("baseline.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
        .connect()
        .await?;
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        .execute(&mut conn)
        .await?;
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        sqlx::query("INSERT INTO t (v) VALUES ($1)")
            .bind("a transition's worth of text")
            .execute(&mut conn)
            .await?;
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// `postgres`: the server on a fresh PostgreSQL schema (of
/// `SMARTSHIP_TEST_POSTGRES`'s server), with pgbench as the baseline.
/// `nodes`: that many nodes on the database behind the in-process
/// balancer (`crate::nodes`), the callers' connections spread over them.
pub async fn run(
    quick: bool,
    postgres: bool,
    nodes: Option<usize>,
) -> anyhow::Result<WritesResult> {
    let (apps_n, workers, duration) = if quick {
        (16, 8, Duration::from_secs(1))
    } else {
        (256, 64, Duration::from_secs(10))
    };
    let db = if postgres {
        Some(
            smartship_store::test_db::TestDb::new(smartship_store::test_db::Backend::Postgres)
                .await,
        )
    } else {
        None
    };
    let url = db.as_ref().map(|d| d.url().to_owned());
    let b = setup::start(|c| c.database_url = url, &setup::sample_template()).await?;
    let (base, extra) = crate::nodes::front(&b, nodes).await?;
    let apps = b.apps(apps_n).await?;
    let ext = serde_json::json!({"extEnable": true});
    // Every app gets a built development package.
    let mut ready = Vec::with_capacity(apps_n);
    // One connection pool for all apps: a client of its own per app would
    // load the system's root certificates 256 times during setup.
    let pool = OpenApiClient::new(&base, "");
    for (_, token, _) in &apps {
        let c = pool.with_token(token.clone());
        c.package_upload(b.template_id, &ext, "1.0.0", "bench")
            .await?;
        ready.push(c);
    }
    let mut packages = Vec::with_capacity(apps_n);
    for c in &ready {
        let p = loop {
            let list = c.package_list().await?;
            if let Some(p) = list.into_iter().find(|p| p.upload_status == Some(2)) {
                break p;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        packages.push((c.clone(), p.package_id));
    }

    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    let per_worker = apps_n.div_ceil(workers);
    for chunk in packages.chunks(per_worker) {
        let chunk = chunk.to_vec();
        let (done, errors, stop) = (done.clone(), errors.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut submitted = vec![false; chunk.len()];
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let k = i % chunk.len();
                let (c, id) = &chunk[k];
                let r = if submitted[k] {
                    c.package_withdraw(*id).await
                } else {
                    c.package_submit_audit(*id, "bench", "").await
                };
                match r {
                    Ok(()) => {
                        submitted[k] = !submitted[k];
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                i += 1;
            }
        }));
    }
    // Warm up, then measure.
    tokio::time::sleep(duration / 10).await;
    let (start, before) = (Instant::now(), done.load(Ordering::Relaxed));
    let errors_before = errors.load(Ordering::Relaxed);
    tokio::time::sleep(duration).await;
    let transitions = done.load(Ordering::Relaxed) - before;
    let elapsed = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await?;
    }
    let errors = errors.load(Ordering::Relaxed) - errors_before;
    if let Some(extra) = extra {
        extra.stop().await?;
    }
    b.server.stop().await?;
    let tps = transitions as f64 / elapsed.as_secs_f64();
    if let Some(k) = nodes {
        println!(
            "writes: through {k} node(s) on one PostgreSQL database behind a round-robin balancer"
        );
    }
    let commits = if postgres {
        let t = crate::pgbench::baseline(duration).await?;
        println!(
            "writes (PostgreSQL): submitaudit/withdraw over {apps_n} apps from {workers} concurrent callers: \
             {tps:.0} durable transitions/s ({errors} errors); baseline pgbench, the same statements per \
             transaction from {} clients: {t:.0}/s; ratio {:.2} (target >= 3,000/s and >= 1.0)",
            crate::pgbench::CLIENTS,
            tps / t
        );
        t
    } else {
        let scratch = tempfile::tempdir()?;
        let c = commit_baseline(scratch.path(), duration.min(Duration::from_secs(3))).await?;
        println!(
            "writes: submitaudit/withdraw over {apps_n} apps from {workers} concurrent callers: {tps:.0} durable transitions/s \
             ({errors} errors); baseline single-row fsynced SQLite commits {c:.0}/s; ratio {:.2} (target >= 5,000/s)",
            tps / c
        );
        c
    };
    drop(db);
    Ok(WritesResult {
        transitions_per_sec: tps,
        commits_per_sec: commits,
        errors,
    })
}
