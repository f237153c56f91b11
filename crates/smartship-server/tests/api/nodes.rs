//! A node as a load balancer and an orchestrator see it: `/readyz`, the
//! roles, draining on a stop, and the leases a stopping node gives back.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::Value;
use smartship_server::config::Role;
use smartship_store::{EventKind, EventTarget, NewEvent};
use std::time::{Duration, Instant};

async fn readyz(t: &TestApp) -> (StatusCode, Value) {
    let r = t
        .http
        .get(format!("{}/readyz", t.base))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

/// The URL of the database `t`'s server runs on.
fn database_url(t: &TestApp) -> String {
    match &t.db {
        Some(db) => db.url().to_owned(),
        None => format!("sqlite:{}", t.dir.path().join("smartship.db").display()),
    }
}

#[tokio::test]
async fn readyz_answers_ready_with_the_schema_and_503_while_draining() {
    let mut t = spawn_with(|c| c.shutdown_drain_secs = 1.5).await;
    let (status, body) = readyz(&t).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ready"], true, "{body}");
    assert_eq!(body["role"], "all");
    assert!(body["schema_version"].as_i64().unwrap() > 0, "{body}");
    assert_eq!(body["schema_version"], body["expected_schema_version"]);

    // Asked to stop: still answering, but not ready, for the drain.
    let server = t.server.take().unwrap();
    server.shutdown_token().cancel();
    let stopped = tokio::spawn(server.wait());
    let (status, body) = readyz(&t).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["reason"], "draining");
    let get = t
        .api_get("package/get", &t.apps[0].token.clone(), &[])
        .await;
    assert_eq!(
        get["errno"], 0,
        "the API still answers while draining: {get}"
    );
    // After the drain the node stops accepting and exits.
    stopped.await.unwrap().unwrap();
    let fresh = reqwest::Client::new();
    assert!(
        fresh
            .get(format!("{}/readyz", t.base))
            .send()
            .await
            .is_err(),
        "a stopped node accepts no connection"
    );
}

#[tokio::test]
async fn a_worker_node_serves_only_the_service_routes() {
    let t = spawn_with(|c| c.role = Role::Api).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    // The same database as the API node.
    config.database_url = Some(database_url(&t));
    config.role = Role::Worker;
    let worker = smartship_server::start(config, smartship_server::StartOptions::default())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let ready = http
        .get(format!("{}/readyz", worker.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["role"], "worker");
    for path in [
        "/rest/2.0/smartapp/package/get",
        "/admin/v1/status",
        "/openapi.json",
    ] {
        let r = http
            .get(format!("{}{path}", worker.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path} on a worker node");
    }
    worker.stop().await.unwrap();
}

#[tokio::test]
async fn an_api_node_runs_no_worker_and_a_worker_node_builds_its_uploads() {
    if backend() != smartship_store::test_db::Backend::Postgres {
        // Several nodes need PostgreSQL (docs/scaling.md); an embedded
        // installation is one process.
        eprintln!("skipped on SQLite: several nodes share a PostgreSQL database");
        return;
    }
    let t = spawn_with(|c| c.role = Role::Api).await;
    let app = t.apps[0].clone();
    let up = t.upload(&app, "1.0.0", r#"{"extEnable":true}"#).await;
    assert_eq!(up["errno"], 0, "{up}");
    // No worker: the upload waits.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let packages = t.packages(&app).await;
    assert_eq!(
        packages[0]["upload_status"], 1,
        "built without a worker: {packages:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.database_url = Some(t.db.as_ref().unwrap().url().to_owned());
    config.role = Role::Worker;
    let worker = smartship_server::start(config, smartship_server::StartOptions::default())
        .await
        .unwrap();
    let built = t.wait_built(&app).await;
    assert_eq!(built["upload_status"], 2, "{built}");
    worker.stop().await.unwrap();
}

#[tokio::test]
async fn a_stopping_node_gives_back_the_leases_it_holds() {
    // An API-only node: no worker of its own claims the event first.
    let mut t = spawn_with(|c| c.role = Role::Api).await;
    let store = t.state().store.clone();
    let now = smartship_server::clock::now_ms();
    store
        .insert_events(&[NewEvent {
            tp_id: smartship_core::TpId(1),
            app_id: None,
            kind: EventKind::Ticket,
            target: EventTarget::Auth,
            payload: Some("{}".into()),
            occurred_at: now,
        }])
        .await
        .unwrap();
    // Leased by this process for ten minutes, as a delivery in flight is.
    let claimed = store.claim_events(now, 600_000, 100).await.unwrap();
    assert!(!claimed.is_empty());
    let url = database_url(&t);
    drop(store);
    t.server.take().unwrap().stop().await.unwrap();
    // Another node can take the work at once, not in ten minutes.
    let other = smartship_store::open(&url).await.unwrap();
    let started = Instant::now();
    let again = other
        .claim_events(smartship_server::clock::now_ms(), 60_000, 100)
        .await
        .unwrap();
    assert_eq!(
        again.len(),
        claimed.len(),
        "{} of {} leases given back",
        again.len(),
        claimed.len()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// The sum of the series of `name` whose labels contain every one of
/// `labels`, in a Prometheus text exposition (0 when absent).
fn series(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .sum()
}

async fn scrape(t: &TestApp) -> String {
    let r = t
        .http
        .get(format!("{}/metrics", t.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    r.text().await.unwrap()
}

#[tokio::test]
async fn metrics_move_after_a_flow_and_need_the_operator_token() {
    let t = spawn_app().await;
    let anonymous = t
        .http
        .get(format!("{}/metrics", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let before = scrape(&t).await;
    let get = r#"route="/rest/2.0/smartapp/package/get""#;
    let app = t.apps[0].clone();
    t.upload(&app, "1.0.0", r#"{"extEnable":true}"#).await;
    t.wait_built(&app).await;
    let (status, _) = t.admin_get(&format!("/admin/v1/apps/{}", app.app_id)).await;
    assert_eq!(status, StatusCode::OK);
    let after = scrape(&t).await;
    // Counters are per process and the tests share one: they only grow.
    assert!(
        series(
            &after,
            "smartship_http_requests_total",
            &[get, r#"status="200""#]
        ) > series(
            &before,
            "smartship_http_requests_total",
            &[get, r#"status="200""#]
        ),
        "package/get not counted:\n{after}"
    );
    assert!(
        series(&after, "smartship_builds_total", &[r#"outcome="built""#])
            > series(&before, "smartship_builds_total", &[r#"outcome="built""#]),
        "the build not counted:\n{after}"
    );
    assert!(
        series(
            &after,
            "smartship_http_request_duration_seconds_count",
            &[get]
        ) > 0.0,
        "no latency histogram:\n{after}"
    );
    assert!(
        after.contains("smartship_build_duration_seconds_bucket"),
        "{after}"
    );
    // The queues, read from the database.
    assert_eq!(series(&after, "smartship_database_up", &[]), 1.0, "{after}");
    assert!(
        series(&after, "smartship_packages", &[r#"state="development""#]) >= 1.0,
        "{after}"
    );
    // Ids in paths never become labels: one series per route pattern.
    assert!(
        after.contains(r#"route="/admin/v1/apps/{app_id}""#),
        "{after}"
    );
    assert!(
        !after.contains(&format!(r#"route="/admin/v1/apps/{}""#, app.app_id)),
        "{after}"
    );
    assert!(!after.contains("access_token"), "{after}");
}
