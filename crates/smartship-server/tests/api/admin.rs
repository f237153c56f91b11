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
