//! The operator API answers every error in its JSON shape with a fitting
//! HTTP status, including refusals raised by the HTTP framework.

use crate::common::*;
use serde_json::{Value, json};

async fn send(t: &TestApp, req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/json"), "{status}: {ct}");
    let _ = t;
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn every_admin_error_is_json() {
    let t = spawn_app().await;
    let url = |p: &str| format!("{}{p}", t.base);
    let cases = [
        (t.http.get(url("/admin/v1/apps/abc")), 400, "bad_request"),
        (
            t.http.delete(url("/admin/v1/apps/1")),
            405,
            "method_not_allowed",
        ),
        (t.http.get(url("/admin/v1/nope")), 404, "not_found"),
        (t.http.get(url("/admin/v1/apps/999999")), 404, "not_found"),
        (
            t.http
                .post(url("/admin/v1/apps"))
                .header("content-type", "application/json")
                .body("{not json"),
            422,
            "invalid",
        ),
        (
            t.http
                .post(url("/admin/v1/apps"))
                .json(&json!({"name": "x", "colour": "red"})),
            422,
            "invalid",
        ),
        (
            t.http
                .post(url("/admin/v1/tps"))
                .json(&json!({"name": "again", "client_id": t.tp_client_id})),
            409,
            "conflict",
        ),
    ];
    for (req, status, code) in cases {
        let (s, v) = send(&t, req).await;
        assert_eq!(
            (s, v["error"]["code"].as_str().unwrap()),
            (status, code),
            "{v}"
        );
        assert!(!v["error"]["message"].as_str().unwrap().is_empty());
    }
    let resp = t
        .http
        .get(url("/admin/v1/apps/1"))
        .bearer_auth("wrong-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "unauthorized");
}

#[tokio::test]
async fn the_review_queue_lists_packages_under_audit_oldest_first() {
    let t = spawn_app().await;
    let (_, v) = t.admin_get("/admin/v1/review-queue").await;
    assert_eq!(v, json!({"packages": []}));
    let mut submitted = Vec::new();
    for app in &t.apps {
        t.upload(app, "1.0.0", r#"{"extEnable":true}"#).await;
        let id = t.wait_built(app).await["package_id"].as_i64().unwrap();
        let v = t
            .api(
                "package/submitaudit",
                &app.token,
                &[("package_id", &id.to_string()), ("content", "c")],
            )
            .await;
        assert_eq!(v["errno"], 0, "{v}");
        submitted.push(json!({"app_id": app.app_id, "package_id": id}));
    }
    let ids = |v: &Value| -> Vec<Value> {
        v["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| json!({"app_id": p["app_id"], "package_id": p["package_id"]}))
            .collect()
    };
    let (status, v) = t.admin_get("/admin/v1/review-queue").await;
    assert_eq!(status, 200);
    assert_eq!(ids(&v), submitted);
    let first = &v["packages"][0];
    assert_eq!(first["version"], "1.0.0", "{v}");
    assert!(
        first["submitted_at"].is_string() && first["waiting_secs"].as_i64().unwrap() >= 0,
        "{v}"
    );
    let (_, v) = t.admin_get("/admin/v1/review-queue?limit=1").await;
    assert_eq!(ids(&v), vec![submitted[0].clone()]);
    // Reviewed packages leave the queue.
    t.review(submitted[0]["package_id"].as_i64().unwrap(), false, "no")
        .await;
    let (_, v) = t.admin_get("/admin/v1/review-queue").await;
    assert_eq!(ids(&v), vec![submitted[1].clone()]);
    for bad in ["limit=x", "other=1"] {
        let (status, v) = t.admin_get(&format!("/admin/v1/review-queue?{bad}")).await;
        assert_eq!(
            (status.as_u16(), &v["error"]["code"]),
            (422, &json!("invalid")),
            "{bad}: {v}"
        );
    }
}
