//! Pushed events end to end: a real receiver on port 0, encrypted envelopes
//! verified and decrypted with the SDK, retries, the attempt log, replay and
//! the SSRF guard.

use crate::common::*;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use smartship_client::events::{EventReceiver, PushEvent};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Hit {
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A webhook receiver that records every request and answers from a script
/// (then `success` once the script is used up).
#[derive(Clone, Default)]
pub struct Receiver {
    pub hits: Arc<Mutex<Vec<Hit>>>,
    pub script: Arc<Mutex<VecDeque<(u16, &'static str)>>>,
    pub url: String,
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    r.hits.lock().unwrap().push(Hit { headers, body });
    let (status, text) = r
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((200, "success"));
    let mut resp = (StatusCode::from_u16(status).unwrap(), text).into_response();
    if status == 503 {
        resp.headers_mut()
            .insert("retry-after", "1".parse().unwrap());
    }
    resp
}

pub async fn start_receiver(script: Vec<(u16, &'static str)>) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut r = Receiver {
        script: Arc::new(Mutex::new(script.into())),
        ..Default::default()
    };
    r.url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(r.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    r
}

impl Receiver {
    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

async fn spawn_events_app(schedule: &str) -> TestApp {
    let schedule = schedule.to_owned();
    spawn_with(move |c| {
        c.events_allowed_networks = "127.0.0.0/8".to_owned();
        c.events_retry_schedule = schedule;
        c.events_timeout_secs = 2.0;
        c.events_lease_secs = 5.0;
    })
    .await
}

async fn set_urls(t: &TestApp, body: Value) -> Value {
    let (status, tp) = t.patch_tp(body).await;
    assert_eq!(status, 200);
    tp
}

/// Polls the operator API until the event has left `pending`.
async fn settled(t: &TestApp, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, e) = t.admin_get(&format!("/admin/v1/events/{id}")).await;
        if e["status"] != "pending" {
            return e;
        }
        assert!(Instant::now() < deadline, "event still pending: {e}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The TP's events for its message URL (audit results), newest first.
async fn all_events(t: &TestApp) -> Vec<Value> {
    let (_, v) = t
        .admin_get(&format!("/admin/v1/events?client_id={}", t.tp_client_id))
        .await;
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == "message")
        .cloned()
        .collect()
}

fn sdk_receiver(tp: &Value) -> EventReceiver {
    EventReceiver::new(
        tp["encoding_aes_key"].as_str().unwrap(),
        tp["msg_token"].as_str().unwrap(),
        tp["client_id"].as_str().unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn audit_results_arrive_encrypted_signed_and_verifiable() {
    let t = spawn_events_app("0.1,0.1").await;
    let r = start_receiver(vec![]).await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let tp = set_urls(&t, json!({"message_url": r.url, "webhook_secret": secret})).await;
    let app = &t.apps[0];
    let passed = t.passed_package(app, "1.2.6").await;
    t.upload(app, "1.2.7", r#"{"extEnable":true}"#).await;
    let failed = t.wait_built(app).await["package_id"].as_i64().unwrap();
    t.api(
        "package/submitaudit",
        &app.token,
        &[
            ("package_id", &failed.to_string()),
            ("content", "c"),
            ("remark", ""),
        ],
    )
    .await;
    // Supersedes the passed package in the audit slot; the pass event stays.
    let reason = "名称过长（名称控制在10个字以内）。";
    t.review(failed, false, reason).await;

    let events = all_events(&t).await;
    assert_eq!(events.len(), 2);
    for e in &events {
        let e = settled(&t, e["id"].as_str().unwrap()).await;
        assert_eq!(e["status"], "delivered", "{e}");
        assert_eq!(e["attempts"], 1);
    }
    let receiver = sdk_receiver(&tp);
    let hits = r.hits();
    assert_eq!(hits.len(), 2);
    let mut seen = Vec::new();
    for hit in &hits {
        // The body is the envelope, nothing in clear.
        let envelope: Value = serde_json::from_slice(&hit.body).unwrap();
        for field in ["Nonce", "TimeStamp", "Encrypt", "MsgSignature"] {
            assert!(envelope[field].is_string(), "{field} in {envelope}");
        }
        assert!(!String::from_utf8_lossy(&hit.body).contains("PACKAGE_AUDIT"));
        // Standard Webhooks headers, signature over the exact body.
        let id = hit.headers["webhook-id"].to_str().unwrap();
        let ts: i64 = hit.headers["webhook-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let sig =
            smartship_api::crypto::standard_webhook_signature(secret, id, ts, &hit.body).unwrap();
        assert_eq!(hit.headers["webhook-signature"].to_str().unwrap(), sig);
        assert!(id.starts_with("evt_"));
        seen.push(receiver.receive(&hit.body).unwrap());
    }
    let pass = seen
        .iter()
        .find_map(|e| match e {
            PushEvent::AuditPass(p) => Some(p.clone()),
            _ => None,
        })
        .expect("a pass event");
    assert_eq!(pass.app_id, app.app_id);
    assert_eq!(pass.tp_app_id, tp["tp_app_id"].as_i64().unwrap());
    assert_eq!(pass.package_id, passed);
    assert_eq!(pass.version, "1.2.6");
    assert_eq!(pass.reason, None);
    assert_eq!(pass.event_time.len(), 19);
    assert_eq!(&pass.event_time[4..5], "-");
    let fail = seen
        .iter()
        .find_map(|e| match e {
            PushEvent::AuditFail(p) => Some(p.clone()),
            _ => None,
        })
        .expect("a fail event");
    assert_eq!(fail.package_id, failed);
    assert_eq!(fail.reason.as_deref(), Some(reason));

    // The decrypted JSON has exactly the public fields plus ours.
    let raw: Value = {
        let env: smartship_api::crypto::Envelope = serde_json::from_slice(&hits[0].body).unwrap();
        let c = smartship_api::crypto::MsgCrypto::new(
            tp["encoding_aes_key"].as_str().unwrap(),
            tp["msg_token"].as_str().unwrap(),
            tp["client_id"].as_str().unwrap(),
        )
        .unwrap();
        serde_json::from_slice(&c.open(&env).unwrap()).unwrap()
    };
    assert!(raw["appId"].is_i64() && raw["tpAppId"].is_i64() && raw["packageId"].is_i64());
}

#[tokio::test]
async fn a_failing_receiver_gets_the_event_on_the_third_attempt() {
    let t = spawn_events_app("0.1,0.1,0.1").await;
    let r = start_receiver(vec![(500, "oops"), (200, "fail")]).await;
    set_urls(&t, json!({"message_url": r.url})).await;
    t.passed_package(&t.apps[0], "1.0.0").await;
    let id = all_events(&t).await[0]["id"].as_str().unwrap().to_owned();
    let e = settled(&t, &id).await;
    assert_eq!(e["status"], "delivered", "{e}");
    let log = e["attempt_log"].as_array().unwrap();
    let summary: Vec<(i64, i64, &str, &str)> = log
        .iter()
        .map(|a| {
            (
                a["attempt"].as_i64().unwrap(),
                a["status_code"].as_i64().unwrap(),
                a["response_body"].as_str().unwrap(),
                a["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, 500, "oops", "retry"),
            (2, 200, "fail", "retry"),
            (3, 200, "success", "delivered")
        ]
    );
    for a in log {
        assert!(a["duration_ms"].as_i64().unwrap() >= 0);
        assert_eq!(a["url"], r.url);
    }
    let ids: Vec<String> = r
        .hits()
        .iter()
        .map(|h| h.headers["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        [id.clone(), id.clone(), id],
        "one stable id across retries"
    );
}

#[tokio::test]
async fn an_exhausted_schedule_fails_the_event_and_replay_delivers_it() {
    let t = spawn_events_app("0.05,0.05").await;
    let r = start_receiver(vec![(200, "ok"), (503, "busy"), (404, "")]).await;
    set_urls(&t, json!({"message_url": r.url})).await;
    t.passed_package(&t.apps[0], "1.0.0").await;
    let id = all_events(&t).await[0]["id"].as_str().unwrap().to_owned();
    let e = settled(&t, &id).await;
    assert_eq!(e["status"], "failed", "{e}");
    assert_eq!(e["attempt_log"].as_array().unwrap().len(), 3);
    assert_eq!(e["attempt_log"][2]["outcome"], "failed");
    assert!(e["last_error"].as_str().unwrap().contains("404"), "{e}");
    // 503 carried Retry-After: 1 s, which lengthened the 50 ms delay.
    let gap = e["attempt_log"][2]["at_ms"].as_i64().unwrap()
        - e["attempt_log"][1]["at_ms"].as_i64().unwrap();
    assert!(gap >= 1000, "Retry-After honoured: {gap} ms");

    // Every failed event of the TP is replayed (the harness's AUTHORIZED
    // events failed too: the TP has no authorization-event URL).
    let (_, failed) = t
        .admin_get(&format!(
            "/admin/v1/events?client_id={}&status=failed",
            t.tp_client_id
        ))
        .await;
    let failed = failed["events"].as_array().unwrap().len();
    assert!(failed >= 1);
    let (status, v) = t
        .admin_post(
            &format!("/admin/v1/tps/{}/events/replay-failed", t.tp_client_id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(v["replayed"], failed as i64);
    let e = settled(&t, &id).await;
    assert_eq!(e["status"], "delivered", "{e}");
    assert_eq!(e["attempt_log"].as_array().unwrap().len(), 4);
    let (status, _) = t
        .admin_post(&format!("/admin/v1/events/{id}/replay"), json!({}))
        .await;
    assert_eq!(status, 200);
    let e = settled(&t, &id).await;
    assert_eq!(e["status"], "delivered");
    assert_eq!(r.hits().len(), 5, "a replay sends again, with the same id");
}

#[tokio::test]
async fn private_destinations_are_refused_unless_allowed() {
    // No allowed networks: loopback is refused before any connection.
    let t = spawn_with(|c| c.events_retry_schedule = "0.05".to_owned()).await;
    let r = start_receiver(vec![]).await;
    set_urls(&t, json!({"message_url": r.url})).await;
    t.passed_package(&t.apps[0], "1.0.0").await;
    let id = all_events(&t).await[0]["id"].as_str().unwrap().to_owned();
    let e = settled(&t, &id).await;
    assert_eq!(e["status"], "failed");
    let err = e["attempt_log"][0]["error"].as_str().unwrap();
    assert!(err.contains("not allowed"), "{err}");
    assert!(r.hits().is_empty(), "nothing reached the receiver");

    // A name that resolves to loopback is refused at resolution.
    let url = r.url.replace("127.0.0.1", "localhost");
    set_urls(&t, json!({"message_url": url})).await;
    t.admin_post(&format!("/admin/v1/events/{id}/replay"), json!({}))
        .await;
    let e = settled(&t, &id).await;
    assert_eq!(e["status"], "failed");
    let err = e["attempt_log"][1]["error"].as_str().unwrap();
    assert!(err.contains("not allowed"), "{err}");
    assert!(r.hits().is_empty());

    // Settings are validated.
    for bad in [
        json!({"message_url": "ftp://example.com/x"}),
        json!({"message_url": "nope"}),
        json!({"webhook_secret": "whsec_***"}),
        json!({"webhook_secret": "whsec_"}),
        json!({"webhook_secret": "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}),
    ] {
        assert_eq!(t.patch_tp(bad.clone()).await.0, 422, "{bad}");
    }
}

#[tokio::test]
async fn events_without_a_url_are_held_undeliverable_and_sent_once_it_is_set() {
    let t = spawn_events_app("0.05").await;
    t.passed_package(&t.apps[0], "1.0.0").await;
    let id = all_events(&t).await[0]["id"].as_str().unwrap().to_owned();
    let e = settled(&t, &id).await;
    // Held, not failed: no request, no retry used, nothing in the attempt log.
    assert_eq!(e["status"], "undeliverable", "{e}");
    assert_eq!(e["attempts"], 0, "{e}");
    assert_eq!(e["last_error"], "no message_url configured", "{e}");
    assert_eq!(e["attempt_log"], json!([]), "{e}");
    // It stays held (the worker does not spin on it), and status shows it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, again) = t.admin_get(&format!("/admin/v1/events/{id}")).await;
    assert_eq!(
        (again["status"].as_str(), again["attempts"].as_i64()),
        (Some("undeliverable"), Some(0))
    );
    let (_, status) = t.admin_get("/admin/v1/status").await;
    assert!(
        status["events"]["undeliverable"].as_i64().unwrap() >= 1,
        "{status}"
    );
    assert_eq!(
        status["undeliverable_tps"],
        json!([t.tp_client_id]),
        "{status}"
    );
    let (_, held) = t.admin_get("/admin/v1/events?status=undeliverable").await;
    assert!(
        held["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == id.as_str())
    );

    // Setting the URL sends what was held, without a replay.
    let r = start_receiver(vec![]).await;
    set_urls(&t, json!({"message_url": r.url})).await;
    let e = settled(&t, &id).await;
    assert_eq!(e["status"], "delivered", "{e}");
    assert_eq!(e["attempts"], 1, "{e}");
    assert_eq!(r.hits().len(), 1);
    // Authorization events (auth target) are still held: that URL is unset.
    let (_, status) = t.admin_get("/admin/v1/status").await;
    assert_eq!(
        status["undeliverable_tps"],
        json!([t.tp_client_id]),
        "{status}"
    );
}

#[tokio::test]
async fn only_the_newest_held_ticket_is_sent_when_the_url_is_set() {
    let t = spawn_with(|c| {
        c.events_allowed_networks = "127.0.0.0/8".to_owned();
        c.ticket_interval_secs = 0.2;
    })
    .await;
    // Let a few tickets rotate while the platform has no auth_event_url.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, v) = t.admin_get("/admin/v1/events?status=discarded").await;
        if v["events"].as_array().unwrap().len() >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "tickets did not rotate: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, held) = t.admin_get("/admin/v1/events?status=undeliverable").await;
    let held_tickets = held["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "TICKET")
        .count();
    assert!(
        held_tickets <= 1,
        "older tickets are discarded, not held: {held}"
    );
}

/// Decrypts every hit of the receiver into (event, payload), checking that
/// the SDK parses each into its typed event.
fn decoded(r: &Receiver, tp: &Value) -> Vec<(String, Value)> {
    let sdk = sdk_receiver(tp);
    let crypto = smartship_api::crypto::MsgCrypto::new(
        tp["encoding_aes_key"].as_str().unwrap(),
        tp["msg_token"].as_str().unwrap(),
        tp["client_id"].as_str().unwrap(),
    )
    .unwrap();
    r.hits()
        .iter()
        .map(|h| {
            let payload: Value = serde_json::from_slice(
                &crypto
                    .open(&serde_json::from_slice(&h.body).unwrap())
                    .unwrap(),
            )
            .unwrap();
            let event = payload["event"].as_str().unwrap().to_owned();
            let typed = sdk.receive(&h.body).unwrap();
            let expected_typed = match &typed {
                PushEvent::Ticket { ticket, .. } => {
                    event == "TICKET" && payload["Ticket"] == *ticket
                }
                PushEvent::Authorized { app_id, .. } => {
                    event == "AUTHORIZED" && payload["appId"] == *app_id
                }
                PushEvent::UpdateAuthorized { app_id, .. } => {
                    event == "UPDATE_AUTHORIZED" && payload["appId"] == *app_id
                }
                PushEvent::Unauthorized { app_id } => {
                    event == "UNAUTHORIZED" && payload["appId"] == *app_id
                }
                PushEvent::AuditPass(p) => {
                    event == "PACKAGE_AUDIT_PASS" && payload["packageId"] == p.package_id
                }
                PushEvent::AuditFail(p) => {
                    event == "PACKAGE_AUDIT_FAIL" && payload["packageId"] == p.package_id
                }
                PushEvent::Release {
                    event: e,
                    package,
                    gray_percentage,
                    ..
                } => {
                    *e == event
                        && payload["packageId"] == package.package_id
                        && payload["grayPercentage"].as_i64() == *gray_percentage
                }
                other => panic!("unexpected {other:?}"),
            };
            assert!(expected_typed, "{typed:?} for {payload}");
            (event, payload)
        })
        .collect()
}

async fn wait_for(
    r: &Receiver,
    tp: &Value,
    pred: impl Fn(&[(String, Value)]) -> bool,
) -> Vec<(String, Value)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let seen = decoded(r, tp);
        if pred(&seen) {
            return seen;
        }
        assert!(Instant::now() < deadline, "not seen: {seen:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn tickets_rotate_and_are_pushed_to_the_auth_url() {
    let t = spawn_with(|c| {
        c.events_allowed_networks = "127.0.0.0/8".to_owned();
        c.events_retry_schedule = "0.05".to_owned();
        c.ticket_interval_secs = 0.3;
    })
    .await;
    let r = start_receiver(vec![]).await;
    let tp = set_urls(&t, json!({"auth_event_url": r.url})).await;
    let seen = wait_for(&r, &tp, |s| {
        s.iter().filter(|(e, _)| e == "TICKET").count() >= 2
    })
    .await;
    let tickets: Vec<&str> = seen
        .iter()
        .filter(|(e, _)| e == "TICKET")
        .map(|(_, p)| p["Ticket"].as_str().unwrap())
        .collect();
    assert_ne!(tickets[0], tickets[1], "a new ticket each interval");
    let (_, p) = seen.iter().find(|(e, _)| e == "TICKET").unwrap();
    assert_eq!(p["MsgType"], "ticket");
    assert_eq!(p["FromUserName"], t.tp_client_id.as_str());
    assert_eq!(p["tpAppId"], tp["tp_app_id"]);
    // The operator reads the current ticket; it is one that was issued.
    let (status, v) = t
        .admin_get(&format!("/admin/v1/tps/{}/ticket", t.tp_client_id))
        .await;
    assert_eq!(status, 200);
    assert!(v["ticket"].as_str().unwrap().starts_with("ticket."));
    // None of this went to the message URL (there is none): only auth events.
    for (event, _) in &seen {
        assert!(
            ["TICKET", "AUTHORIZED"].contains(&event.as_str()),
            "{event} on the auth URL"
        );
    }
}

async fn unauthorize(t: &TestApp, app_id: i64) -> u16 {
    t.http
        .delete(format!(
            "{}/admin/v1/apps/{app_id}/authorize/{}",
            t.base, t.tp_client_id
        ))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn authorization_changes_are_pushed_and_unauthorize_revokes_at_once() {
    let t = spawn_events_app("0.05").await;
    let r = start_receiver(vec![]).await;
    let tp = set_urls(&t, json!({"auth_event_url": r.url})).await;
    let app = t.create_app("New merchant", true, true).await;
    let id = app.app_id;
    let of_app =
        |s: &[(String, Value)], kind: &str| s.iter().any(|(e, p)| e == kind && p["appId"] == id);
    wait_for(&r, &tp, |s| of_app(s, "AUTHORIZED")).await;
    // Authorizing again updates the authorization.
    let (status, _) = t
        .admin_post(
            &format!("/admin/v1/apps/{id}/authorize"),
            json!({"client_id": t.tp_client_id, "scopes": "package"}),
        )
        .await;
    assert_eq!(status, 200);
    let seen = wait_for(&r, &tp, |s| of_app(s, "UPDATE_AUTHORIZED")).await;
    let (_, p) = seen.iter().find(|(e, _)| e == "UPDATE_AUTHORIZED").unwrap();
    assert_eq!(p["scopes"], "package");
    assert_eq!(p["tpAppId"], tp["tp_app_id"]);

    assert_eq!(t.packages(&app).await.len(), 0, "the token works before");
    assert_eq!(unauthorize(&t, id).await, 200);
    let v = t.api_get("package/get", &app.token, &[]).await;
    assert_eq!(v["error_code"], 110, "tokens stop working at once: {v}");
    wait_for(&r, &tp, |s| of_app(s, "UNAUTHORIZED")).await;
    // A second unauthorize finds nothing to end.
    assert_eq!(unauthorize(&t, id).await, 404);
}

#[tokio::test]
async fn release_events_reach_only_platforms_that_subscribe() {
    let t = spawn_events_app("0.1,0.1").await;
    let r = start_receiver(vec![]).await;
    let tp = set_urls(&t, json!({"message_url": r.url})).await;
    assert_eq!(tp["release_events"], json!([]), "none by default");
    let app = &t.apps[0];
    // Not subscribed: a build and a release push only the audit result.
    let v1 = t.released_package(app, "1.0.0").await;
    let seen = wait_for(&r, &tp, |s| {
        s.iter().any(|(e, _)| e == "PACKAGE_AUDIT_PASS")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(decoded(&r, &tp).len(), seen.len());
    assert!(
        seen.iter().all(|(e, _)| e == "PACKAGE_AUDIT_PASS"),
        "{seen:?}"
    );

    let (status, bad) = t
        .patch_tp(json!({"release_events": ["PACKAGE_AUDIT_PASS"]}))
        .await;
    assert_eq!(status, 422, "{bad}");
    let tp = set_urls(
        &t,
        json!({"release_events": ["PACKAGE_BUILD_SUCCESS", "PACKAGE_BUILD_FAIL", "PACKAGE_RELEASE",
                                  "PACKAGE_GRAY_RELEASE", "PACKAGE_ROLLBACK"]}),
    )
    .await;
    assert_eq!(tp["release_events"].as_array().unwrap().len(), 5, "{tp}");
    let v2 =
        crate::runtime::passed_with(&t, app, "2.0.0", r#"{"extEnable":true,"ext":{"v":2}}"#).await;
    let g = t
        .api(
            "package/grayrelease",
            &app.token,
            &[("package_id", &v2.to_string()), ("gray_percentage", "20")],
        )
        .await;
    assert_eq!(g["errno"], 0, "{g}");
    t.api("package/pausegrayrelease", &app.token, &[]).await;
    let done = t
        .api(
            "package/grayrelease",
            &app.token,
            &[("package_id", &v2.to_string()), ("gray_percentage", "100")],
        )
        .await;
    assert_eq!(done["errno"], 0, "{done}");
    let rb = t
        .api(
            "package/rollback",
            &app.token,
            &[("package_id", &v2.to_string())],
        )
        .await;
    assert_eq!(rb["errno"], 0, "{rb}");
    let bad = t
        .upload(
            app,
            "3.0.0",
            r#"{"extEnable":true,"extPages":{"pages/nope/nope":{}}}"#,
        )
        .await;
    assert_eq!(bad["errno"], 0, "{bad}");
    let seen = wait_for(&r, &tp, |s| {
        s.iter().any(|(e, _)| e == "PACKAGE_ROLLBACK")
            && s.iter().any(|(e, _)| e == "PACKAGE_BUILD_FAIL")
    })
    .await;
    let of = |kind: &str| -> Vec<&Value> {
        seen.iter()
            .filter(|(e, _)| e == kind)
            .map(|(_, p)| p)
            .collect()
    };
    assert_eq!(of("PACKAGE_BUILD_SUCCESS").len(), 1, "{seen:?}");
    assert_eq!(of("PACKAGE_BUILD_SUCCESS")[0]["packageId"], v2);
    let grays: Vec<(i64, &str)> = of("PACKAGE_GRAY_RELEASE")
        .iter()
        .map(|p| {
            (
                p["grayPercentage"].as_i64().unwrap(),
                p["grayStatus"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        grays.contains(&(20, "running")) && grays.contains(&(20, "paused")),
        "{grays:?}"
    );
    let release = of("PACKAGE_RELEASE");
    assert_eq!(release.len(), 1, "{seen:?}");
    assert_eq!(
        (
            release[0]["packageId"].as_i64(),
            release[0]["version"].as_str()
        ),
        (Some(v2), Some("2.0.0"))
    );
    let back = of("PACKAGE_ROLLBACK");
    assert_eq!(
        (back[0]["packageId"].as_i64(), back[0]["version"].as_str()),
        (Some(v1), Some("1.0.0"))
    );
    let fail = of("PACKAGE_BUILD_FAIL");
    assert!(
        fail[0]["reason"].as_str().unwrap().contains("nope"),
        "{fail:?}"
    );
}
