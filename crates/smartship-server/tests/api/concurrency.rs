//! Conflicting calls fired in parallel never break the slot invariants: at
//! most one development, one audit-slot and one online package per app.

use crate::common::*;
use serde_json::Value;
use std::collections::HashMap;

/// Counts the packages of each slot from the operator view.
async fn assert_slots_hold(t: &TestApp, app: &AppHandle) {
    let states = t.states(app).await;
    let mut slots: HashMap<&str, usize> = HashMap::new();
    for (_, state, _) in &states {
        let slot = match state.as_str() {
            "development" => "development",
            "auditing" | "audit_failed" | "audit_passed" => "audit",
            "online" | "rolling_back" => "online",
            _ => continue,
        };
        *slots.entry(slot).or_default() += 1;
    }
    for (slot, n) in slots {
        assert!(n <= 1, "{n} packages in the {slot} slot: {states:?}");
    }
}

/// Every answer is a success or a documented lifecycle refusal, never an
/// internal error.
fn assert_documented(v: &Value) {
    let errno = v["errno"]
        .as_i64()
        .unwrap_or_else(|| panic!("business shape: {v}"));
    assert!(
        errno == 0 || (47001..=47013).contains(&errno),
        "unexpected answer {v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_conflicting_lifecycle_calls_keep_the_invariants() {
    let t = spawn_app().await;
    let app = t.apps[0].clone();
    // v1 in history, v2 online, v3 audit passed, v4 built in development.
    t.released_package(&app, "1").await;
    let v2 = t.released_package(&app, "2").await;
    let v3 = t.passed_package(&app, "3").await;
    t.upload(&app, "4", r#"{"extEnable":true}"#).await;
    let v4 = t.wait_built(&app).await["package_id"].as_i64().unwrap();

    let mut calls = Vec::new();
    for i in 0..100 {
        let (route, id) = match i % 4 {
            0 => ("package/submitaudit", v4),
            1 => ("package/release", v3),
            2 => ("package/rollback", v2),
            _ => ("package/withdraw", v4),
        };
        let http = t.http.clone();
        let url = t.url(route);
        let token = app.token.clone();
        calls.push(tokio::spawn(async move {
            let v: Value = http
                .post(url)
                .query(&[("access_token", token.as_str())])
                .form(&[
                    ("package_id", id.to_string().as_str()),
                    ("content", "c"),
                    ("remark", "r"),
                ])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (route, v)
        }));
    }
    let mut ok: HashMap<&str, usize> = HashMap::new();
    for c in calls {
        let (route, v) = c.await.unwrap();
        assert_documented(&v);
        if v["errno"] == 0 {
            *ok.entry(route).or_default() += 1;
        }
    }
    // release of v3 can succeed once at most; a rollback of v2 only while v2
    // is online, i.e. at most once.
    assert!(
        ok.get("package/release").copied().unwrap_or(0) <= 1,
        "{ok:?}"
    );
    assert!(
        ok.get("package/rollback").copied().unwrap_or(0) <= 1,
        "{ok:?}"
    );
    assert_slots_hold(&t, &app).await;

    // Quota accounting matches the accepted submissions exactly.
    let q = t.api_get("package/auditquota", &app.token, &[]).await;
    let submitted = 3 + ok.get("package/submitaudit").copied().unwrap_or(0) as i64;
    assert_eq!(q["data"]["remain_times"], 1000 - submitted, "{ok:?}");

    // Let any pending rollback complete, then check again.
    t.wait_until(&app, |l| l.iter().all(|p| p["status"] != 8))
        .await;
    assert_slots_hold(&t, &app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_uploads_leave_one_development_package() {
    let t = spawn_app().await;
    let app = t.apps[0].clone();
    let mut calls = Vec::new();
    for i in 0..50 {
        let http = t.http.clone();
        let url = t.url("package/upload");
        let token = app.token.clone();
        let template = t.template_id.to_string();
        calls.push(tokio::spawn(async move {
            let v: Value = http
                .post(url)
                .query(&[("access_token", token.as_str())])
                .form(&[
                    ("template_id", template.as_str()),
                    ("ext_json", r#"{"extEnable":true}"#),
                    ("user_version", &format!("1.0.{i}")),
                    ("user_desc", "parallel"),
                ])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v
        }));
    }
    for c in calls {
        let v = c.await.unwrap();
        assert_eq!(v["errno"], 0, "{v}");
    }
    let dev = t.wait_built(&app).await;
    assert_eq!(dev["upload_status"], 2);
    let states = t.states(&app).await;
    assert_eq!(states.len(), 50);
    assert_eq!(
        states.iter().filter(|(_, s, _)| s == "development").count(),
        1
    );
    assert_eq!(
        states.iter().filter(|(_, s, _)| s == "superseded").count(),
        49
    );
    assert_slots_hold(&t, &app).await;
}
