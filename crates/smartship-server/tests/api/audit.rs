//! The audit log over raw HTTP: the open API's, the operator API's, the
//! console's and the workers' state changes, each with its actor, address,
//! target and outcome, secrets left out; reads not recorded; filters and
//! pages of `GET /admin/v1/audit-log`.

use crate::common::*;
use crate::console::{Browser, operator};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The entries matching `query`, once at least `n` are there (the log is
/// written a batch at a time, just after the actions).
async fn entries(t: &TestApp, query: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, v) = t.admin_get(&format!("/admin/v1/audit-log?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let list = v["entries"].as_array().unwrap().clone();
        if list.len() >= n {
            return list;
        }
        assert!(
            Instant::now() < deadline,
            "{query}: {} entries, wanted {n}: {v}",
            list.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_kind_of_actor_is_recorded_without_its_secrets() {
    let t = spawn_with(|c| c.audit_refused_window_secs = 1.0).await;
    let app = &t.apps[0];
    let id = t.submitted_package(app, "1.0.0").await;
    // A read is not recorded; a refusal is, with its code.
    t.api_get("package/get", &app.token, &[]).await;
    let refused = t
        .api("package/release", &app.token, &[("package_id", "999999")])
        .await;
    let errno = refused["errno"].as_i64().unwrap();
    assert_ne!(errno, 0);

    let submit = entries(
        &t,
        &format!("actor=app:{}&target=package:{id}", app.app_id),
        1,
    )
    .await;
    let e = submit
        .iter()
        .find(|e| {
            e["action"]
                .as_str()
                .unwrap()
                .ends_with("/package/submitaudit")
        })
        .expect("the submission is recorded");
    assert_eq!(e["outcome"], "ok");
    assert_eq!(e["address"], "127.0.0.1");
    let detail: Value = serde_json::from_str(e["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["access_token"], "***", "{detail}");
    assert_eq!(detail["package_id"], id.to_string());
    assert!(!e.to_string().contains(&app.token), "no token in {e}");
    let all = entries(&t, &format!("actor=app:{}", app.app_id), 3).await;
    assert!(
        all.iter()
            .all(|e| !e["action"].as_str().unwrap().ends_with("/package/get")),
        "reads are not recorded: {all:?}"
    );
    assert!(
        all.iter().any(|e| e["outcome"] == format!("errno {errno}")),
        "{all:?}"
    );

    // The build worker.
    let built = entries(&t, &format!("actor=worker:build&target=package:{id}"), 1).await;
    assert_eq!(built[0]["action"], "build");

    // The operator API: its JSON body, secrets replaced.
    let (status, _) = t
        .admin_patch(
            &format!("/admin/v1/tps/{}", t.tp_client_id),
            json!({"webhook_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let admin = entries(&t, "actor=admin&action=PATCH%20/admin/v1/tps/", 1).await;
    assert!(
        admin[0]["detail"]
            .as_str()
            .unwrap()
            .contains(r#""webhook_secret":"***""#),
        "{admin:?}"
    );
    assert!(!admin[0].to_string().contains("whsec_"), "{admin:?}");

    // The console: a failed sign-in (no password kept) and a review.
    let password = operator(&t, "rev", "reviewer").await;
    let resp = Browser::new(&t)
        .try_sign_in("rev", "wrong-password-1", None)
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let b = Browser::sign_in(&t, "rev", &password).await;
    let (status, _) = b
        .post(
            &format!("/console/packages/{id}/review"),
            &[("csrf", &b.csrf), ("decision", "pass")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let console = entries(&t, "actor=console:rev", 2).await;
    let review = console
        .iter()
        .find(|e| e["action"] == format!("POST /console/packages/{id}/review"))
        .expect("the review is recorded");
    assert_eq!(review["outcome"], "ok");
    assert!(
        review["detail"]
            .as_str()
            .unwrap()
            .contains(r#""decision":"pass""#)
    );
    assert!(
        review["detail"]
            .as_str()
            .unwrap()
            .contains(r#""csrf":"***""#)
    );
    // The failed sign-in is nobody's: anonymous, the name tried in the
    // detail; the successful one is the operator's.
    assert!(
        console
            .iter()
            .any(|e| e["action"] == "POST /console/sign-in" && e["outcome"] == "ok"),
        "{console:?}"
    );
    let anonymous = entries(&t, "actor=anonymous&action=POST%20/console/sign-in", 1).await;
    assert_eq!(anonymous[0]["outcome"], "HTTP 401", "{anonymous:?}");
    assert!(
        anonymous[0]["detail"]
            .as_str()
            .unwrap()
            .contains(r#""username":"rev""#),
        "{anonymous:?}"
    );
    assert!(
        !console.iter().any(|e| e["outcome"] == "HTTP 401"),
        "{console:?}"
    );
    assert!(
        !console
            .iter()
            .any(|e| e.to_string().contains("wrong-password-1"))
    );
    assert!(!console.iter().any(|e| e.to_string().contains(&password)));
    // An actor ending with ':' is a kind: every console operator.
    let kind = entries(&t, "actor=console:", 2).await;
    assert!(
        kind.iter()
            .all(|e| e["actor"].as_str().unwrap().starts_with("console:"))
    );
    assert!(kind.len() >= console.len());
    // A form without a session is refused, and recorded as such.
    let (status, _) = Browser::new(&t)
        .post(
            &format!("/console/packages/{id}/review"),
            &[("decision", "fail"), ("reason", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Counted with the other refusals of its address and window.
    let refused = entries(&t, "actor=anonymous&action=refused", 1).await;
    assert_eq!(refused[0]["outcome"], "refused", "{refused:?}");
    assert_eq!(refused[0]["address"], "127.0.0.1");
    // A made-up name of 100 KB is cut to what an account can have.
    let long = "x".repeat(100_000);
    let resp = Browser::new(&t)
        .try_sign_in(&long, "whatever-1", None)
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let (_, latest) = t
        .admin_get("/admin/v1/audit-log?action=POST%20/console/sign-in&limit=1")
        .await;
    assert!(
        latest["entries"][0]["actor"].as_str().unwrap().len() < 100,
        "{latest}"
    );
}

#[tokio::test]
async fn the_log_pages_and_filters() {
    let t = spawn_app().await;
    for i in 0..5 {
        let (status, _) = t
            .admin_patch(
                &format!("/admin/v1/apps/{}", t.apps[0].app_id),
                json!({"name": format!("Shop {i}")}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let path = format!("PATCH%20/admin/v1/apps/{}", t.apps[0].app_id);
    let all = entries(&t, &format!("action={path}"), 5).await;
    let (_, first) = t
        .admin_get(&format!("/admin/v1/audit-log?action={path}&limit=2"))
        .await;
    assert_eq!(first["entries"].as_array().unwrap().len(), 2);
    let before = first["next_before"].as_i64().unwrap();
    let (_, second) = t
        .admin_get(&format!(
            "/admin/v1/audit-log?action={path}&limit=2&before={before}"
        ))
        .await;
    let ids: Vec<i64> = first["entries"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["entries"].as_array().unwrap())
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    let expected: Vec<i64> = all
        .iter()
        .take(4)
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, expected, "newest first, no gap, no repeat");
    let future = chrono::Utc::now().timestamp() + 3600;
    let (_, none) = t
        .admin_get(&format!("/admin/v1/audit-log?since={future}"))
        .await;
    assert_eq!(none["entries"], json!([]));
    for bad in ["limit=0", "limit=501", "before=x", "colour=red"] {
        let (status, v) = t.admin_get(&format!("/admin/v1/audit-log?{bad}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
    }
}

/// The refused-call counts of the log, summed, once they reach `n`.
async fn refused_total(t: &TestApp, n: u64) -> (u64, Vec<Value>) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, v) = t
            .admin_get("/admin/v1/audit-log?actor=anonymous&action=refused&limit=500")
            .await;
        let list = v["entries"].as_array().unwrap().clone();
        let total = list
            .iter()
            .map(|e| {
                serde_json::from_str::<Value>(e["detail"].as_str().unwrap()).unwrap()["count"]
                    .as_u64()
                    .unwrap()
            })
            .sum();
        if total >= n || Instant::now() > deadline {
            return (total, list);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_flood_without_credentials_is_counted_not_kept() {
    let t = spawn_with(|c| c.audit_refused_window_secs = 1.0).await;
    let padding = "p".repeat(2_000);
    for i in 0..300 {
        let v = t
            .http
            .post(format!(
                "{}/rest/2.0/smartapp/package/release?access_token=x{i}&p0={padding}",
                t.base
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(v.status(), StatusCode::OK);
    }
    for _ in 0..100 {
        let r = t
            .http
            .post(format!("{}/admin/v1/tps", t.base))
            .json(&json!({"name": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    for _ in 0..50 {
        let (status, _) = Browser::new(&t)
            .post("/console/packages/1/review", &[("decision", "pass")])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    let (total, list) = refused_total(&t, 450).await;
    assert_eq!(total, 450, "{list:?}");
    // One entry per address and window: the flood took a few windows.
    assert!(list.len() <= 10, "{} entries: {list:?}", list.len());
    assert!(!list.iter().any(|e| e.to_string().contains("ppppp")));
    // Nothing else was written for them.
    let (_, all) = t.admin_get("/admin/v1/audit-log?limit=500").await;
    let rows = all["entries"].as_array().unwrap();
    assert!(
        !rows
            .iter()
            .any(|e| e["action"] == "POST /rest/2.0/smartapp/package/release"),
        "{rows:?}"
    );
}

#[tokio::test]
async fn unauthenticated_attempts_are_anonymous_and_names_are_shown_escaped() {
    let t = spawn_with(|c| c.audit_refused_window_secs = 1.0).await;
    operator(&t, "demo-admin", "admin").await;
    // A sign-in with a forged CSRF value names an account it never reached.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/console/sign-in", t.base))
        .form(&[
            ("csrf", "forged"),
            ("username", "demo-admin"),
            ("password", "whatever-123"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A wrong password for a name holding a right-to-left override.
    let resp = Browser::new(&t)
        .try_sign_in("evil\u{202E}nimda", "wrong-password-1", None)
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let found = entries(&t, "actor=anonymous&action=POST%20/console/sign-in", 1).await;
    let raw = serde_json::to_string(&found).unwrap();
    assert!(!raw.contains('\u{202E}'), "{raw}");
    assert!(raw.contains("evil\\\\u{202E}nimda"), "{raw}");
    let (total, _) = refused_total(&t, 1).await;
    assert_eq!(total, 1, "the forged sign-in is counted");
    let (_, all) = t.admin_get("/admin/v1/audit-log?limit=500").await;
    assert!(
        !all["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"].as_str().unwrap().starts_with("console:")),
        "{all}"
    );
}
