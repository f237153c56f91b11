//! Several nodes on one PostgreSQL database each cache token lookups; a
//! write through one node must reach the others' caches through
//! `LISTEN`/`NOTIFY`, well before the cache's one-second lifetime. Package
//! lists are read from the database on every node: an upload through one
//! node is in another's very next read. PostgreSQL only: an embedded
//! (SQLite) installation is one process.

#[allow(dead_code, unused_imports)]
mod common;

use smartship_core::lifecycle::PackageState;
use smartship_core::{AppId, TemplateId, TpId};
use smartship_store::test_db::{Backend, TestDb};
use smartship_store::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the nodes must stay within (docs/scaling.md states it).
const BOUND: Duration = Duration::from_millis(100);

fn new_app(n: usize) -> NewApp {
    NewApp {
        id: None,
        app_key: format!("k{n}"),
        name: format!("app {n}"),
        description: String::new(),
        basic_info_approved: true,
        authenticity_verified: true,
    }
}

/// Polls `check` on node B until it holds; returns how long that took.
async fn until<F, Fut>(what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{what}: not seen by the other node after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Authorizes `app` for `tp` through `node` and gives it an access token
/// stored under `hash`.
async fn authorized_token(node: &Arc<dyn Store>, app: AppId, tp: TpId, hash: &str) {
    node.authorize(app, tp, "all", 1).await.unwrap();
    node.insert_token(NewToken {
        hash: hash.to_owned(),
        kind: TokenKind::AppAccess,
        tp_id: tp,
        app_id: Some(app),
        expires_at: i64::MAX,
        created_at: 1,
    })
    .await
    .unwrap();
}

async fn node(db: &TestDb) -> Arc<dyn Store> {
    let store = smartship_store::open(db.url()).await.unwrap();
    // The node serves from its cache once it listens: give the listener
    // its moment, as a starting server does before it takes requests.
    tokio::time::sleep(Duration::from_millis(200)).await;
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_node_reaches_the_other_nodes_caches_within_the_bound() {
    let db = TestDb::new(Backend::Postgres).await;
    let a = node(&db).await;
    let b = node(&db).await;
    let tp = a.create_tp(common::new_tp(), 0).await.unwrap();

    // Tokens: an ended authorization.
    let mut worst = Duration::ZERO;
    for n in 0..20 {
        let app = a.create_app(new_app(n), 0).await.unwrap().id;
        let hash = format!("h{n}");
        authorized_token(&a, app, tp.id, &hash).await;
        // B reads twice: the second answer comes from its cache.
        for _ in 0..2 {
            assert!(b.token(&hash).await.unwrap().unwrap().authorized);
        }
        assert!(a.unauthorize(app, tp.id, 2).await.unwrap());
        let lag = until("an ended authorization", || {
            let (b, hash) = (b.clone(), hash.clone());
            async move { !b.token(&hash).await.unwrap().unwrap().authorized }
        })
        .await;
        worst = worst.max(lag);
    }
    eprintln!("ended authorizations: worst lag {worst:?}");
    assert!(worst < BOUND, "worst lag {worst:?}");

    // Packages: an upload through A is in B's very next package/get.
    for n in 100..120 {
        let app = a.create_app(new_app(n), 0).await.unwrap().id;
        assert!(b.slotted_packages(app).await.unwrap().is_empty());
        assert!(b.slotted_packages(app).await.unwrap().is_empty());
        a.create_upload(
            NewUpload {
                app_id: app,
                tp_id: tp.id,
                template_id: TemplateId(1),
                version: "1.0.0".into(),
                version_desc: String::new(),
                ext_json: "{}".into(),
                direct_commit: false,
                test_account: None,
                test_password: None,
                committer: "--".into(),
            },
            &ActionContext {
                now: 10,
                actor: "test".into(),
                quota: None,
                rollback_delay_ms: 1000,
                retained_versions: None,
                submission: None,
                audit: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
        let seen = b.slotted_packages(AppId(app.0)).await.unwrap();
        assert!(
            seen.iter().any(|p| p.state == PackageState::Development),
            "an upload through one node missing from the next read of another: {seen:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_notifications_stop_reads_the_database() {
    let db = TestDb::new(Backend::Postgres).await;
    let a = node(&db).await;
    let b = node(&db).await;
    let tp = a.create_tp(common::new_tp(), 0).await.unwrap();
    let app = a.create_app(new_app(1), 0).await.unwrap().id;
    authorized_token(&a, app, tp.id, "h").await;
    for _ in 0..2 {
        assert!(b.token("h").await.unwrap().unwrap().authorized);
    }
    // Every listening connection of the database is cut, as a failover or
    // a network fault would: nothing A announces now reaches B.
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(db.url())
        .await
        .unwrap();
    let cut: i64 = sqlx::query_scalar(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE query = 'LISTEN \"smartship_cache_' || current_schema() || '\"' \
           AND pid <> pg_backend_pid()",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(cut, 2, "both nodes' listening connections cut");
    assert!(a.unauthorize(app, tp.id, 2).await.unwrap());
    // B noticed its connection drop and no longer trusts its cache: it
    // reads the change well before the cached entry's one-second life
    // would end.
    let lag = until("an ended authorization, unannounced", || {
        let b = b.clone();
        async move { !b.token("h").await.unwrap().unwrap().authorized }
    })
    .await;
    eprintln!("with the notifications cut: lag {lag:?}");
    assert!(lag < BOUND, "lag {lag:?}");
}
