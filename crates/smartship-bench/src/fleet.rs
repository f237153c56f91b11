//! A fleet: N apps upgraded from one template of at least 1 MB in at least
//! 100 files, through upload → build → submit → auto-pass → release with the
//! SDK's fleet engine (what `smartship fleet upgrade` runs), until every
//! audit event has been delivered to a local receiver. Also measures what
//! the fleet costs in storage: blob bytes and database growth per app.
//!
//! Baseline: the same number of `package/get` calls (each app reads its
//! packages once) from the same engine's HTTP client at the same
//! concurrency — the request cost alone.

use crate::setup;
use smartship_client::OpenApiClient;
use smartship_client::fleet::{self, FleetApp, Progress, UpgradeOptions};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct FleetResult {
    pub apps: usize,
    pub seconds: f64,
    pub released: usize,
    pub events_delivered: u64,
    pub peak_rss_mib: u64,
    pub template_bytes: u64,
    pub blob_bytes_added: u64,
    pub db_bytes_added: u64,
    pub baseline_reads_per_sec: f64,
}

/// 10 pages and 110 assets of pseudo-random text (not compressible away):
/// 121 files, about 1.1 MB.
pub fn big_template() -> BTreeMap<String, Vec<u8>> {
    let mut tree = BTreeMap::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut noise = |len: usize| {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                b"abcdefghijklmnopqrstuvwxyz0123456789"[(seed % 36) as usize]
            })
            .collect::<Vec<u8>>()
    };
    let pages: Vec<String> = (0..10).map(|i| format!("pages/p{i}/p{i}")).collect();
    tree.insert(
        "app.json".to_owned(),
        serde_json::to_vec(
            &serde_json::json!({"pages": pages, "window": {"navigationBarTitleText": "Bench"}}),
        )
        .expect("JSON"),
    );
    for p in &pages {
        tree.insert(
            format!("{p}.json"),
            br#"{"navigationBarTitleText":"page"}"#.to_vec(),
        );
        tree.insert(format!("{p}.swan"), b"<view>{{title}}</view>".to_vec());
        tree.insert(format!("{p}.js"), noise(8 * 1024));
    }
    for i in 0..90 {
        tree.insert(format!("assets/a{i}.txt"), noise(11 * 1024));
    }
    tree
}

fn dir_bytes(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => dir_bytes(&e.path()),
                    _ => e.metadata().map(|m| m.len()).unwrap_or(0),
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The database's size once its write-ahead log is folded in: a checkpoint
/// from a second connection, then the main file and whatever log is left.
/// On PostgreSQL: the tables of the schema with their indexes and TOAST.
async fn db_bytes(dir: &std::path::Path, postgres: Option<&str>) -> anyhow::Result<u64> {
    use sqlx::ConnectOptions;
    if let Some(url) = postgres {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url).await?;
        let bytes: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind = 'r'",
        )
        .fetch_one(&mut conn)
        .await?;
        return Ok(bytes as u64);
    }
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.join("smartship.db"))
        .connect()
        .await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await?;
    drop(conn);
    Ok(["smartship.db", "smartship.db-wal"]
        .iter()
        .map(|f| std::fs::metadata(dir.join(f)).map(|m| m.len()).unwrap_or(0))
        .sum())
}

/// `postgres`: the server on a fresh PostgreSQL schema.
/// `nodes`: that many nodes on the database behind the in-process
/// balancer (`crate::nodes`), the fleet's connections spread over them.
pub async fn run(n: usize, postgres: bool, nodes: Option<usize>) -> anyhow::Result<FleetResult> {
    let template = big_template();
    let template_bytes: u64 = template.values().map(|b| b.len() as u64).sum();
    let db = if postgres {
        Some(
            smartship_store::test_db::TestDb::new(smartship_store::test_db::Backend::Postgres)
                .await,
        )
    } else {
        None
    };
    let pg_url = db.as_ref().map(|d| d.url().to_owned());
    let server_url = pg_url.clone();
    let b = setup::start(
        |c| {
            c.review_policy = smartship_server::config::ReviewPolicy::AutoPass;
            c.build_workers = 2;
            c.database_url = server_url;
        },
        &template,
    )
    .await?;
    let (base, extra) = crate::nodes::front(&b, nodes).await?;
    let state = b.server.state.clone();
    let data_dir = state.config.data_dir.clone();
    let (url, hits) = setup::receiver().await?;
    state
        .store
        .update_tp(
            &b.client_id,
            smartship_store::TpUpdate {
                message_url: Some(Some(url.clone())),
                auth_event_url: Some(Some(url)),
                ..Default::default()
            },
            smartship_server::clock::now_ms(),
        )
        .await?;
    let created = b.apps(n).await?;
    // The events of the setup (AUTHORIZED per app, the first TICKET) are
    // delivered before the clock starts.
    let deadline = Instant::now() + Duration::from_secs(600);
    while state
        .store
        .count_events(b.tp, smartship_store::EventStatus::Pending)
        .await?
        > 0
    {
        anyhow::ensure!(Instant::now() < deadline, "setup events were not delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let apps: Vec<FleetApp> = created
        .iter()
        .map(|(id, access, refresh)| FleetApp {
            app_id: *id,
            access_token: Some(access.clone()),
            refresh_token: Some(refresh.clone()),
            expires_in: Some(3600),
            ext_json: Some(serde_json::json!({"ext": {"shop": format!("shop {id}")}})),
        })
        .collect();
    let tp = OpenApiClient::new(&base, &b.tp_token);
    let mut options = UpgradeOptions::new(b.template_id, "2.0.0")
        .release(true)
        .concurrency(64);
    options.build_poll = Duration::from_millis(50);
    options.audit_poll = Duration::from_millis(100);
    let state_file = tempfile::NamedTempFile::new()?;
    let blobs_before = dir_bytes(&data_dir.join("blobs"));
    let db_before = db_bytes(&data_dir, pg_url.as_deref()).await?;
    let rss_peak = Arc::new(AtomicU64::new(crate::rss_kib()));
    let sampler = {
        let peak = rss_peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(crate::rss_kib(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let hits_before = hits.load(Ordering::Relaxed);
    let start = Instant::now();
    let report = fleet::upgrade(
        &tp,
        apps.clone(),
        &options,
        state_file.path(),
        Arc::new(Progress::new(n)),
    )
    .await
    .map_err(anyhow::Error::msg)?;
    while hits.load(Ordering::Relaxed) - hits_before < n as u64 {
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(1800),
            "audit events were not all delivered"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let seconds = start.elapsed().as_secs_f64();
    sampler.abort();
    let released = report.count(fleet::Outcome::Released);
    let events_delivered = hits.load(Ordering::Relaxed) - hits_before;
    let blob_bytes_added = dir_bytes(&data_dir.join("blobs")).saturating_sub(blobs_before);
    let db_bytes_added = db_bytes(&data_dir, pg_url.as_deref())
        .await?
        .saturating_sub(db_before);

    // Baseline: one package/get per app, same client pool, same concurrency.
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    let base_start = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for (_, token, _) in &created {
        let permit = sem.clone().acquire_owned().await?;
        let c = tp.with_token(token.clone());
        tasks.push(tokio::spawn(async move {
            let r = c.package_list().await;
            drop(permit);
            r.map(drop)
        }));
    }
    for t in tasks {
        t.await??;
    }
    let baseline_reads_per_sec = n as f64 / base_start.elapsed().as_secs_f64();
    let peak_rss_mib = rss_peak.load(Ordering::Relaxed) / 1024;
    println!(
        "fleet{}: {n} apps, template {:.2} MB in {} files, upload -> build -> submit -> auto-pass -> release: \
         {released} released in {seconds:.1} s ({:.0} apps/s), {events_delivered} audit events delivered; \
         peak RSS {peak_rss_mib} MiB (server and fleet client in one process); \
         storage added: blobs {:.1} KB/app{}, database {:.1} KB/app (target <= 10 KB/app over the template); \
         baseline one package/get per app {baseline_reads_per_sec:.0} apps/s; ratio {:.3} (targets <= {} s, < 512 MB)",
        match nodes {
            Some(k) => format!(" (PostgreSQL, {k} node(s) behind a round-robin balancer)"),
            None if postgres => " (PostgreSQL)".to_owned(),
            None => String::new(),
        },
        template_bytes as f64 / 1e6,
        template.len(),
        n as f64 / seconds,
        blob_bytes_added as f64 / 1024.0 / n as f64,
        if postgres {
            " on the node's disk (PostgreSQL keeps them: counted in the database)"
        } else {
            ""
        },
        db_bytes_added as f64 / 1024.0 / n as f64,
        (n as f64 / seconds) / baseline_reads_per_sec,
        if postgres { 45 } else { 30 },
    );
    if let Some(extra) = extra {
        extra.stop().await?;
    }
    b.server.stop().await?;
    drop(db);
    Ok(FleetResult {
        apps: n,
        seconds,
        released,
        events_delivered,
        peak_rss_mib,
        template_bytes,
        blob_bytes_added,
        db_bytes_added,
        baseline_reads_per_sec,
    })
}
