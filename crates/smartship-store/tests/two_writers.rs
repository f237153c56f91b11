//! The SQLite store writes through two connections: the group-commit writer
//! thread (uploads, transitions, build results, claims) and the async pool
//! (parties, settings, events outside transitions). They share SQLite's one
//! write lock. Under load from both at once every call must succeed: the
//! pool's transactions begin IMMEDIATE and both wait on the busy timeout,
//! so none fails with SQLITE_BUSY or on a stale snapshot.

mod common;

use smartship_core::lifecycle::{PackageState, Refusal};
use smartship_core::{AppId, TemplateId};
use smartship_store::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const APPS: usize = 16;
/// Rounds of each pool-side worker.
const ROUNDS: usize = 25;
const POOL_WORKERS: usize = 4;

fn ctx(now: i64) -> ActionContext {
    ActionContext {
        now,
        actor: "test".into(),
        quota: None,
        rollback_delay_ms: 1000,
        retained_versions: None,
        submission: None,
        audit: None,
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lifecycle_writes_and_pool_writes_interleave_without_errors() {
    for backend in common::backends() {
        eprintln!("backend: {backend}");
        let (_dir, store, tp) = common::store_with_tp(backend).await;
        let mut apps = Vec::new();
        for n in 0..APPS {
            apps.push(store.create_app(new_app(n), 0).await.unwrap().id);
        }

        let pool_done = Arc::new(AtomicUsize::new(0));
        let mut lifecycle = tokio::task::JoinSet::new();
        // Writer thread: each app uploads and fails its build, round after
        // round (every upload replaces the app's development package), until
        // the pool side has finished, so that every pool write meets the
        // writer thread at work.
        for &app in &apps {
            let store = store.clone();
            let pool_done = pool_done.clone();
            lifecycle.spawn(async move {
                let mut round = 0;
                while pool_done.load(Ordering::SeqCst) < POOL_WORKERS {
                    let now = 1_000 + round as i64;
                    let id = store
                        .create_upload(
                            NewUpload {
                                app_id: app,
                                tp_id: tp.id,
                                template_id: TemplateId(1),
                                version: format!("1.0.{round}"),
                                version_desc: String::new(),
                                ext_json: "{}".into(),
                                direct_commit: false,
                                test_account: None,
                                test_password: None,
                                committer: "--".into(),
                            },
                            &ctx(now),
                        )
                        .await
                        .map_err(|e| format!("upload: {e}"))?
                        .map_err(|r: Refusal| format!("upload refused: {r}"))?;
                    store
                        .finish_build(
                            app,
                            id,
                            BuildOutcome::Failed {
                                code: 1,
                                message: "bad".into(),
                            },
                            &ctx(now),
                        )
                        .await
                        .map_err(|e| format!("build result: {e}"))?
                        .map_err(|r| format!("build result refused: {r}"))?;
                    round += 1;
                }
                Ok::<_, String>((app, round))
            });
        }
        // Async pool, at the same time: settings, app flags, new apps, events,
        // and authorizations (a transaction that reads before it writes).
        let mut pool = tokio::task::JoinSet::new();
        for worker in 0..POOL_WORKERS {
            let store = store.clone();
            let apps = apps.clone();
            let pool_done = pool_done.clone();
            pool.spawn(async move {
                // Let the lifecycle side get going first.
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                let result = async {
                    for round in 0..ROUNDS {
                        store
                            .set_meta(&format!("k{worker}"), &round.to_string())
                            .await
                            .map_err(|e| format!("set_meta: {e}"))?;
                        store
                            .update_app(
                                apps[(worker + round) % APPS],
                                AppUpdate {
                                    name: Some(format!("renamed {round}")),
                                    ..AppUpdate::default()
                                },
                            )
                            .await
                            .map_err(|e| format!("update_app: {e}"))?;
                        store
                            .authorize(
                                apps[(worker * 3 + round) % APPS],
                                tp.id,
                                "smartapp",
                                round as i64,
                            )
                            .await
                            .map_err(|e| format!("authorize: {e}"))?;
                        store
                            .create_app(new_app(1_000 + worker * ROUNDS + round), 0)
                            .await
                            .map_err(|e| format!("create_app: {e}"))?;
                        store
                            .insert_events(&[NewEvent {
                                tp_id: tp.id,
                                app_id: Some(AppId(apps[0].0)),
                                kind: EventKind::Ticket,
                                target: EventTarget::Auth,
                                payload: None,
                                occurred_at: round as i64,
                            }])
                            .await
                            .map_err(|e| format!("insert_events: {e}"))?;
                    }
                    Ok::<_, String>(())
                }
                .await;
                pool_done.fetch_add(1, Ordering::SeqCst);
                result
            });
        }
        while let Some(done) = pool.join_next().await {
            done.unwrap().unwrap();
        }
        let mut rounds = Vec::new();
        while let Some(done) = lifecycle.join_next().await {
            rounds.push(done.unwrap().unwrap());
        }

        // Everything both sides wrote is there.
        for (app, rounds) in rounds {
            assert!(rounds > 0, "app {app} made no upload");
            let all = store.all_packages(app).await.unwrap();
            assert_eq!(all.len(), rounds, "app {app}");
            let dev: Vec<_> = all
                .iter()
                .filter(|p| p.state == PackageState::Development)
                .collect();
            assert_eq!(dev.len(), 1, "one development package per app");
            assert_eq!(dev[0].version, format!("1.0.{}", rounds - 1));
        }
        // One TEST event per round and worker, and one AUTHORIZED or
        // UPDATE_AUTHORIZED event per authorization.
        assert_eq!(
            store
                .count_events(tp.id, EventStatus::Pending)
                .await
                .unwrap(),
            (2 * POOL_WORKERS * ROUNDS) as i64
        );
        assert_eq!(
            store.get_meta("k3").await.unwrap().as_deref(),
            Some(&*(ROUNDS - 1).to_string())
        );
    }
}
