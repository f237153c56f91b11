//! Crash safety of event delivery: the server process is killed with
//! SIGKILL while one event is in flight (the receiver is holding the
//! request) and others are pending; after a restart every event is
//! delivered, none is lost, and the duplicate carries the same `webhook-id`;
//! the restarted process takes back the dead one's leases at once. And a
//! storm of submissions and withdrawals killed three times leaves no
//! acknowledged change without its audit entry, on both backends.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use smartship_client::events::{EventReceiver, PushEvent};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;

use support::kill9;

#[derive(Clone, Default)]
struct Receiver {
    /// While set, requests are recorded and then left hanging.
    hold: Arc<AtomicBool>,
    /// (webhook-id, body) of every request.
    hits: Arc<Mutex<Vec<(String, Bytes)>>>,
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> &'static str {
    let id = headers["webhook-id"].to_str().unwrap().to_owned();
    r.hits.lock().unwrap().push((id, body));
    if r.hold.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    "success"
}

fn start(dir: &Path) -> (Child, Value) {
    support::start_demo(
        dir,
        &[
            ("SMARTSHIP_EVENTS_RETRY_SCHEDULE", "0.2,0.2,0.2,0.2,0.2,0.2"),
            ("SMARTSHIP_EVENTS_TIMEOUT_SECS", "3"),
            // Far longer than the test waits: the event in flight at the
            // kill is sent again because the restarted process takes back
            // the dead process's leases at once, not because they expire.
            ("SMARTSHIP_EVENTS_LEASE_SECS", "600"),
            // One delivery at a time: the others stay pending behind it.
            ("SMARTSHIP_EVENTS_CONCURRENCY", "1"),
        ],
    )
}

async fn call(
    http: &reqwest::Client,
    base: &str,
    route: &str,
    token: &str,
    params: &[(&str, &str)],
) -> Value {
    http.post(format!("{base}/rest/2.0/smartapp/{route}"))
        .query(&[("access_token", token)])
        .form(params)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// One audit-pass event: upload, wait for the build, submit, pass.
async fn produce_event(http: &reqwest::Client, demo: &Value, version: &str) {
    let base = demo["base_url"].as_str().unwrap();
    let token = demo["apps"][0]["access_token"].as_str().unwrap();
    let admin = demo["admin_token"].as_str().unwrap();
    let template = demo["template_id"].to_string();
    let up = call(
        http,
        base,
        "package/upload",
        token,
        &[
            ("template_id", &template),
            ("ext_json", r#"{"extEnable":true}"#),
            ("user_version", version),
            ("user_desc", "crash test"),
        ],
    )
    .await;
    assert_eq!(up["errno"], 0, "{up}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let id = loop {
        let list = call(http, base, "package/get", token, &[]).await;
        if let Some(p) = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["status"] == 3 && p["version"] == version && p["upload_status"] == 2)
        {
            break p["package_id"].as_i64().unwrap();
        }
        assert!(Instant::now() < deadline, "build did not finish: {list}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let sub = call(
        http,
        base,
        "package/submitaudit",
        token,
        &[
            ("package_id", &id.to_string()),
            ("content", "c"),
            ("remark", "r"),
        ],
    )
    .await;
    assert_eq!(sub["errno"], 0, "{sub}");
    let resp = http
        .post(format!("{base}/admin/v1/packages/{id}/review"))
        .bearer_auth(admin)
        .json(&json!({"decision": "pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_events_in_flight_and_pending_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::default();
    receiver.hold.store(true, Ordering::SeqCst);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let http = reqwest::Client::new();
    let (mut server, demo) = start(dir.path());
    let base = demo["base_url"].as_str().unwrap().to_owned();
    let client_id = demo["tp"]["client_id"].as_str().unwrap().to_owned();
    let admin = demo["admin_token"].as_str().unwrap().to_owned();
    let resp = http
        .patch(format!("{base}/admin/v1/tps/{client_id}"))
        .bearer_auth(&admin)
        .json(&json!({"message_url": hook_url}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    const N: usize = 6;
    for i in 0..N {
        produce_event(&http, &demo, &format!("1.0.{i}")).await;
    }
    // Wait until the first delivery is hanging in the receiver, then kill.
    let deadline = Instant::now() + Duration::from_secs(10);
    while receiver.hits.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no delivery started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    kill9(&mut server);
    let in_flight: BTreeSet<String> = receiver
        .hits
        .lock()
        .unwrap()
        .iter()
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        !in_flight.is_empty() && in_flight.len() < N,
        "some in flight, the rest pending: {in_flight:?}"
    );

    // Restart on the same data directory with a receiver that acknowledges.
    receiver.hold.store(false, Ordering::SeqCst);
    let (mut server, demo) = start(dir.path());
    let base = demo["base_url"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    let events = loop {
        let v: Value = http
            .get(format!("{base}/admin/v1/events?client_id={client_id}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // Audit results only: the demo's AUTHORIZED and TICKET events go to
        // the (unset) authorization-event URL.
        let events: Vec<Value> = v["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["target"] == "message")
            .cloned()
            .collect();
        if events.len() == N && events.iter().all(|e| e["status"] == "delivered") {
            break events;
        }
        if Instant::now() > deadline {
            kill9(&mut server);
            panic!("not all delivered: {events:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    kill9(&mut server);

    // Every event reached the receiver; duplicates share their webhook-id
    // and decrypt to the same event.
    let hits = receiver.hits.lock().unwrap().clone();
    let mut by_id: BTreeMap<String, Vec<Bytes>> = BTreeMap::new();
    for (id, body) in hits {
        by_id.entry(id).or_default().push(body);
    }
    let expected: BTreeSet<String> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(by_id.keys().cloned().collect::<BTreeSet<_>>(), expected);
    let sdk = EventReceiver::new(
        demo["tp"]["encoding_aes_key"].as_str().unwrap(),
        demo["tp"]["msg_token"].as_str().unwrap(),
        &client_id,
    )
    .unwrap();
    let mut versions = BTreeSet::new();
    for (id, bodies) in &by_id {
        let decoded: Vec<PushEvent> = bodies.iter().map(|b| sdk.receive(b).unwrap()).collect();
        assert!(
            decoded.windows(2).all(|w| w[0] == w[1]),
            "{id}: duplicates are the same event"
        );
        match &decoded[0] {
            PushEvent::AuditPass(p) => versions.insert(p.version.clone()),
            other => panic!("{other:?}"),
        };
        if in_flight.contains(id) {
            assert!(
                bodies.len() >= 2,
                "{id} was in flight at the kill and sent again"
            );
        }
    }
    assert_eq!(
        versions.len(),
        N,
        "each version's event arrived: {versions:?}"
    );
}

/// Every entry of the audit log for `actor` whose action ends with one of
/// `routes`, counted per route.
async fn audited(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    actor: &str,
) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    let mut before: Option<i64> = None;
    loop {
        let mut url = format!("{base}/admin/v1/audit-log?actor={actor}&limit=500");
        if let Some(b) = before {
            url.push_str(&format!("&before={b}"));
        }
        let v: Value = http
            .get(url)
            .bearer_auth(admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for e in v["entries"].as_array().unwrap() {
            if e["outcome"] == "ok" {
                let route = e["action"].as_str().unwrap().rsplit('/').next().unwrap();
                *counts.entry(route.to_owned()).or_default() += 1;
            }
        }
        match v["next_before"].as_i64() {
            Some(b) => before = Some(b),
            None => return counts,
        }
    }
}

/// Submits and withdraws one app's package as fast as it is answered,
/// counting the calls answered `errno` 0, until `stop`.
/// Acknowledged changes each round of the storm waits for before its
/// kill: three rounds make more than the 200 the check needs.
const STORM_CHANGES_PER_ROUND: usize = 80;

async fn churn(
    http: reqwest::Client,
    base: String,
    token: String,
    package: i64,
    stop: Arc<AtomicBool>,
    progress: Arc<AtomicUsize>,
) -> BTreeMap<String, usize> {
    let mut acked = BTreeMap::new();
    let id = package.to_string();
    while !stop.load(Ordering::SeqCst) {
        for (route, params) in [
            (
                "package/submitaudit",
                vec![("package_id", id.as_str()), ("content", "c")],
            ),
            ("package/withdraw", vec![("package_id", id.as_str())]),
        ] {
            // A call cut off by the kill is not acknowledged.
            let Ok(resp) = http
                .post(format!("{base}/rest/2.0/smartapp/{route}"))
                .query(&[("access_token", token.as_str())])
                .form(&params)
                .send()
                .await
            else {
                return acked;
            };
            let Ok(v) = resp.json::<Value>().await else {
                return acked;
            };
            if v["errno"] == 0 {
                *acked
                    .entry(route.rsplit('/').next().unwrap().to_owned())
                    .or_insert(0) += 1;
                progress.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    acked
}

async fn a_sigkill_storm_leaves_no_acknowledged_change_without_its_entry(db_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    // No quota or rate limit stops the storm before the kill.
    let mut env: Vec<(&str, &str)> = vec![
        ("SMARTSHIP_AUDIT_QUOTA_PER_WEEK", "-1"),
        ("SMARTSHIP_RATE_LIMIT_PER_TOKEN", "0"),
    ];
    if let Some(u) = db_url {
        env.push(("SMARTSHIP_DATABASE_URL", u));
    }
    let http = reqwest::Client::new();
    let mut acked: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    // The package the previous round churned on: the kill may have left it
    // under audit, where it would refuse this round's submissions.
    let mut previous: Option<i64> = None;
    for round in 0..3 {
        let (mut server, demo) = support::start_demo(dir.path(), &env);
        let base = demo["base_url"].as_str().unwrap().to_owned();
        let stop = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for app in demo["apps"].as_array().unwrap().iter().take(1) {
            let token = app["access_token"].as_str().unwrap().to_owned();
            let app_id = app["app_id"].to_string();
            // One built package per app and round to churn on.
            if let Some(p) = previous {
                let w = call(
                    &http,
                    &base,
                    "package/withdraw",
                    &token,
                    &[("package_id", &p.to_string())],
                )
                .await;
                if w["errno"] == 0 {
                    *acked
                        .entry(app_id.clone())
                        .or_default()
                        .entry("withdraw".into())
                        .or_default() += 1;
                }
            }
            let version = format!("9.9.{round}");
            let up = call(
                &http,
                &base,
                "package/upload",
                &token,
                &[
                    ("template_id", &demo["template_id"].to_string()),
                    ("ext_json", r#"{"extEnable":true}"#),
                    ("user_version", &version),
                    ("user_desc", "storm"),
                ],
            )
            .await;
            assert_eq!(up["errno"], 0, "{up}");
            *acked
                .entry(app_id.clone())
                .or_default()
                .entry("upload".into())
                .or_default() += 1;
            let deadline = Instant::now() + Duration::from_secs(20);
            let package = loop {
                let list = call(&http, &base, "package/get", &token, &[]).await;
                if let Some(p) = list["data"].as_array().unwrap().iter().find(|p| {
                    p["version"] == version.as_str() && p["upload_status"] == 2 && p["status"] == 3
                }) {
                    break p["package_id"].as_i64().unwrap();
                }
                assert!(Instant::now() < deadline, "not built: {list}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            previous = Some(package);
            for _ in 0..4 {
                tasks.push((
                    app_id.clone(),
                    tokio::spawn(churn(
                        http.clone(),
                        base.clone(),
                        token.clone(),
                        package,
                        stop.clone(),
                        progress.clone(),
                    )),
                ));
            }
        }
        // The kill falls in the middle of the storm once it has done
        // enough to tell, however fast this machine is (at most 30 s).
        let deadline = Instant::now() + Duration::from_secs(30);
        while progress.load(Ordering::SeqCst) < STORM_CHANGES_PER_ROUND && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        kill9(&mut server);
        stop.store(true, Ordering::SeqCst);
        for (app, task) in tasks {
            for (route, n) in task.await.unwrap() {
                *acked
                    .entry(app.clone())
                    .or_default()
                    .entry(route)
                    .or_default() += n;
            }
        }
    }
    let (mut server, demo) = support::start_demo(dir.path(), &env);
    let base = demo["base_url"].as_str().unwrap();
    let admin = demo["admin_token"].as_str().unwrap();
    let mut total = 0;
    for (app, routes) in &acked {
        let stored = audited(&http, base, admin, &format!("app:{app}")).await;
        for (route, n) in routes {
            total += n;
            let have = stored.get(route).copied().unwrap_or(0);
            assert!(
                have >= *n,
                "app {app} {route}: {n} acknowledged, {have} in the audit log ({stored:?})"
            );
        }
    }
    assert!(
        total > 200,
        "the storm changed too little to tell: {acked:?}"
    );

    support::sigterm(&mut server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_storm_leaves_no_acknowledged_change_without_its_entry_on_sqlite() {
    a_sigkill_storm_leaves_no_acknowledged_change_without_its_entry(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_storm_leaves_no_acknowledged_change_without_its_entry_on_postgres() {
    let db =
        smartship_store::test_db::TestDb::new(smartship_store::test_db::Backend::Postgres).await;
    a_sigkill_storm_leaves_no_acknowledged_change_without_its_entry(Some(db.url())).await;
}
