//! The fleet engine when a package moves between its read and its write.
//!
//! A run killed while its release was in flight leaves that request with the
//! server, which may finish it after the resumed run has read the package
//! as "audit passed": the resumed run's own release is then refused with
//! 47002. These tests script the server's answers (a real HTTP server on
//! port 0) to make that interleaving certain instead of rare.

use axum::Router;
use axum::extract::State;
use axum::routing::any;
use serde_json::{Value, json};
use smartship_client::OpenApiClient;
use smartship_client::fleet::{self, FleetApp, Outcome, Progress, UpgradeOptions};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the fake server answers, and what it was asked.
#[derive(Default)]
struct Script {
    /// `status` of the 2.0.0 package `package/get` shows.
    status: i64,
    /// `status` after a release call, whatever that call answers.
    status_after_release: i64,
    /// `package/get` shows nothing this many times first (an upload still
    /// on its way), then the package.
    empty_reads: usize,
    /// Every route called, in order.
    calls: Vec<String>,
}

async fn route(
    State(script): State<Arc<Mutex<Script>>>,
    uri: axum::http::Uri,
) -> axum::Json<Value> {
    let name = uri.path().trim_start_matches("/rest/2.0/smartapp/");
    let mut s = script.lock().unwrap();
    s.calls.push(name.to_owned());
    let body = match name {
        "package/get" if s.empty_reads > 0 => {
            s.empty_reads -= 1;
            json!({"errno": 0, "msg": "success", "data": []})
        }
        "package/get" => json!({"errno": 0, "msg": "success", "data": [{
            "package_id": 7, "version": "2.0.0", "version_desc": "", "status": s.status,
            "remark": "", "msg": "", "committer": "", "commit_time": "2026-11-24 08:00:00"
        }]}),
        "package/release" => {
            let was = s.status;
            s.status = s.status_after_release;
            json!({"errno": 47002, "msg": format!(
                "代码包状态不允许该操作: 代码包当前 status={was}，该操作要求 audit passed (status 6)"
            )})
        }
        other => json!({"errno": 40001, "msg": format!("unexpected call {other}")}),
    };
    axum::Json(body)
}

async fn run_against(script: Script) -> (fleet::FleetReport, Vec<String>) {
    run_with_state(script, "").await
}

/// Runs with a state file that starts with `earlier` (journal lines after
/// the header).
async fn run_with_state(script: Script, earlier: &str) -> (fleet::FleetReport, Vec<String>) {
    let script = Arc::new(Mutex::new(script));
    let app = Router::new()
        .route("/{*path}", any(route))
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    if !earlier.is_empty() {
        std::fs::write(
            &state,
            format!("{{\"kind\":\"fleet\",\"template_id\":1,\"version\":\"2.0.0\"}}\n{earlier}"),
        )
        .unwrap();
    }
    let apps = vec![FleetApp {
        app_id: 42,
        access_token: Some("app-token".to_owned()),
        refresh_token: None,
        expires_in: None,
        ext_json: None,
    }];
    let mut options = UpgradeOptions::new(1, "2.0.0").release(true);
    options.audit_poll = Duration::from_millis(10);
    let tp = OpenApiClient::new(&base, "tp-token");
    let report = fleet::upgrade(&tp, apps, &options, &state, Arc::new(Progress::new(1)))
        .await
        .unwrap();
    let calls = script.lock().unwrap().calls.clone();
    (report, calls)
}

#[tokio::test]
async fn a_release_refused_because_another_request_released_it_counts_as_released() {
    // The package reads as passed; by the time this run's release arrives,
    // the interrupted run's release has put it online.
    let (report, calls) = run_against(Script {
        status: 6,
        status_after_release: 1,
        ..Default::default()
    })
    .await;
    let record = &report.apps[0];
    assert_eq!(record.outcome, Some(Outcome::Released), "{record:?}");
    assert_eq!(record.reason, None);
    assert_eq!(
        calls,
        ["package/get", "package/release", "package/get"],
        "read again once, then done"
    );
}

#[tokio::test]
async fn a_package_that_keeps_refusing_its_release_ends_as_a_failure() {
    // Passed, yet every release is refused: the run gives up after three
    // fresh reads instead of looping for ever.
    let (report, calls) = run_against(Script {
        status: 6,
        status_after_release: 6,
        ..Default::default()
    })
    .await;
    let record = &report.apps[0];
    assert_eq!(record.outcome, Some(Outcome::Failed), "{record:?}");
    assert_eq!(record.code, Some(47002));
    assert!(
        record.reason.as_deref().unwrap_or("").contains("status=6"),
        "{record:?}"
    );
    let releases = calls.iter().filter(|c| *c == "package/release").count();
    assert_eq!(releases, 4, "{calls:?}");
}

#[tokio::test]
async fn a_run_cut_off_while_uploading_waits_for_that_upload_instead_of_repeating_it() {
    // The earlier run journaled "uploading" and died. Its upload lands
    // just after the resumed run first looks.
    let (report, calls) = run_with_state(
        Script {
            status: 1,
            empty_reads: 1,
            ..Default::default()
        },
        "{\"app\":42,\"stage\":\"uploading\",\"at\":1}\n",
    )
    .await;
    assert_eq!(report.apps[0].outcome, Some(Outcome::Released));
    assert_eq!(calls, ["package/get", "package/get"], "no second upload");
}
