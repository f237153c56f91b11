//! What exists, over raw HTTP: the paged, filtered lists of apps, platforms,
//! packages and templates, `GET /admin/v1/status`, and the `GET /` page.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn ids(v: &Value, key: &str, id: &str) -> Vec<i64> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} in {v}"))
        .iter()
        .map(|e| e[id].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn apps_are_listed_by_page_with_filters_and_totals() {
    let t = spawn_app().await;
    let (_, other_tp) = t
        .admin_post("/admin/v1/tps", json!({"name": "Other ISV"}))
        .await;
    for i in 0..5 {
        let (s, _) = t
            .admin_post("/admin/v1/apps", json!({"name": format!("Shop 100%_{i}")}))
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    // 2 authorized apps of the harness + 5 unauthorized ones.
    let (s, all) = t.admin_get("/admin/v1/apps?page_size=3").await;
    assert_eq!(s, StatusCode::OK, "{all}");
    assert_eq!(
        (
            all["total"].as_i64(),
            all["page"].as_i64(),
            all["page_size"].as_i64()
        ),
        (Some(7), Some(1), Some(3))
    );
    let first = ids(&all, "apps", "app_id");
    let (_, page3) = t.admin_get("/admin/v1/apps?page_size=3&page=3").await;
    let last = ids(&page3, "apps", "app_id");
    assert_eq!((first.len(), last.len()), (3, 1), "7 apps in pages of 3");
    assert!(
        first.windows(2).all(|w| w[0] < w[1]) && first[2] < last[0],
        "by id"
    );

    // The name filter matches text literally (% and _ are not wildcards) and
    // ignores case; the platform filter lists its authorized apps.
    let (_, named) = t.admin_get("/admin/v1/apps?q=shop%20100%25_").await;
    assert_eq!(named["total"], 5, "{named}");
    let (_, named) = t.admin_get("/admin/v1/apps?q=SHOP%20100%25_3").await;
    assert_eq!(named["total"], 1, "{named}");
    let (_, none) = t.admin_get("/admin/v1/apps?q=shop%20100x").await;
    assert_eq!(none["total"], 0);
    let (_, of_tp) = t
        .admin_get(&format!("/admin/v1/apps?client_id={}", t.tp_client_id))
        .await;
    let mut want: Vec<i64> = t.apps.iter().map(|a| a.app_id).collect();
    want.sort();
    assert_eq!(ids(&of_tp, "apps", "app_id"), want);
    let (_, of_other) = t
        .admin_get(&format!(
            "/admin/v1/apps?client_id={}",
            other_tp["client_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(of_other["total"], 0);

    // Bad paging and unknown filters are refused, naming the parameter.
    for (query, needle) in [
        ("page=0", "page"),
        ("page_size=0", "page_size"),
        ("page_size=501", "page_size"),
        ("page=x", "page"),
        ("state=online", "state"),
        ("client_id=nope", "nope"),
    ] {
        let (s, v) = t.admin_get(&format!("/admin/v1/apps?{query}")).await;
        let code = if query.starts_with("client_id") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        assert_eq!(s, code, "{query}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(needle),
            "{query}: {v}"
        );
    }
}

#[tokio::test]
async fn platforms_and_templates_are_listed_without_secrets() {
    let t = spawn_app().await;
    t.admin_post("/admin/v1/tps", json!({"name": "Second ISV"}))
        .await;
    let (s, tps) = t.admin_get("/admin/v1/tps").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(tps["total"], 2, "{tps}");
    let first = &tps["tps"][0];
    assert_eq!(first["client_id"], t.tp_client_id.as_str());
    assert!(
        first.get("encoding_aes_key").is_none() && first.get("msg_token").is_none(),
        "{first}"
    );

    let (s, templates) = t.admin_get("/admin/v1/templates").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        ids(&templates, "templates", "template_id"),
        vec![t.template_id]
    );
    assert_eq!(
        templates["templates"][0]["client_id"],
        t.tp_client_id.as_str()
    );
    assert!(templates["templates"][0]["create_time"].is_i64());
    let (_, second) = t.admin_get("/admin/v1/tps?page=2&page_size=1").await;
    let second_id = second["tps"][0]["client_id"].as_str().unwrap().to_owned();
    let (_, of_second) = t
        .admin_get(&format!("/admin/v1/templates?client_id={second_id}"))
        .await;
    assert_eq!(of_second["total"], 0, "{of_second}");
}

#[tokio::test]
async fn packages_are_listed_by_app_state_and_version() {
    let t = spawn_app().await;
    let (a, b) = (t.apps[0].clone(), t.apps[1].clone());
    let online = t.released_package(&a, "1.0.0").await;
    t.upload(&a, "1.1.0", r#"{"extEnable":true}"#).await;
    let dev = t.wait_built(&a).await["package_id"].as_i64().unwrap();
    let passed_b = t.passed_package(&b, "1.0.0").await;

    let (_, all) = t.admin_get("/admin/v1/packages").await;
    assert_eq!(all["total"], 3, "{all}");
    assert_eq!(
        ids(&all, "packages", "package_id"),
        {
            let mut v = vec![online, dev, passed_b];
            v.sort_by(|x, y| y.cmp(x));
            v
        },
        "newest first"
    );
    let (_, of_a) = t
        .admin_get(&format!("/admin/v1/packages?app_id={}", a.app_id))
        .await;
    assert_eq!(of_a["total"], 2);
    for (query, want) in [
        ("state=online".to_owned(), vec![online]),
        ("state=1".to_owned(), vec![online]),
        ("state=audit_passed".to_owned(), vec![passed_b]),
        ("state=development&version=1.1.0".to_owned(), vec![dev]),
        ("version=1.0.0".to_owned(), {
            let mut v = vec![online, passed_b];
            v.sort_by(|x, y| y.cmp(x));
            v
        }),
        (format!("app_id={}&version=1.0.0", b.app_id), vec![passed_b]),
        (
            format!("client_id={}&state=auditing", t.tp_client_id),
            vec![],
        ),
    ] {
        let (s, v) = t.admin_get(&format!("/admin/v1/packages?{query}")).await;
        assert_eq!(s, StatusCode::OK, "{query}: {v}");
        assert_eq!(ids(&v, "packages", "package_id"), want, "{query}");
    }
    let (s, v) = t.admin_get("/admin/v1/packages?state=shipped").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("state must be one of"),
        "{v}"
    );
    let (s, v) = t.admin_get("/admin/v1/packages?q=x").await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "q is no filter of packages: {v}"
    );
}

#[tokio::test]
async fn status_counts_what_exists_and_what_waits() {
    let t = spawn_app().await;
    let a = t.apps[0].clone();
    t.released_package(&a, "1.0.0").await;
    t.upload(&a, "1.1.0", r#"{"extEnable":true}"#).await;
    let p = t.wait_built(&a).await["package_id"].as_i64().unwrap();
    let r = t
        .api(
            "package/submitaudit",
            &a.token,
            &[
                ("package_id", &p.to_string()),
                ("content", "c"),
                ("remark", ""),
            ],
        )
        .await;
    assert_eq!(r["errno"], 0, "{r}");
    let (s, v) = t.admin_get("/admin/v1/status").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["apps"].as_i64(),
            v["tps"].as_i64(),
            v["templates"].as_i64()
        ),
        (Some(2), Some(1), Some(1)),
        "{v}"
    );
    assert_eq!(v["packages"], json!({"auditing": 1, "online": 1}), "{v}");
    assert_eq!(v["review_queue"]["waiting"], 1);
    assert!(v["review_queue"]["oldest_wait_secs"].as_i64().unwrap() >= 0);
    assert!(v["review_queue"]["oldest_since"].is_string());
    assert_eq!(v["builds"], json!({"pending": 0, "failed": 0}));
    assert_eq!(v["review_policy"], "manual");
    // The harness platform has no event URL: its events wait, visibly.
    let events = v["events"].as_object().unwrap();
    assert!(events.values().all(Value::is_i64), "{v}");
}

#[tokio::test]
async fn the_root_page_says_what_this_server_is() {
    let t = spawn_app().await;
    let html = t.http.get(format!("{}/", t.base)).send().await.unwrap();
    assert_eq!(html.status(), StatusCode::OK);
    assert!(
        html.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let body = html.text().await.unwrap();
    for needle in [
        "smartship",
        "/healthz",
        "/mappconsole/tp/authorization",
        "/admin/v1/status",
        "docs/api.md",
    ] {
        assert!(body.contains(needle), "{needle} missing from the page");
    }
    let json: Value = t
        .http
        .get(format!("{}/", t.base))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["name"], "smartship");
    assert!(
        json["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["path"] == "/healthz")
    );
}

#[tokio::test]
async fn the_server_serves_its_openapi_document_without_a_token() {
    let t = spawn_app().await;
    let resp = t
        .http
        .get(format!("{}/openapi.json", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let served: Value = resp.json().await.unwrap();
    // The router that serves requests and the document are built from the
    // same route registrations.
    assert_eq!(served, smartship_server::openapi_document());
    assert_eq!(served["openapi"], "3.1.0");
    for path in [
        "/rest/2.0/smartapp/package/upload",
        "/rest/2.0/oauth/token",
        "/public/2.0/smartapp/auth/tp/token",
        "/admin/v1/packages/{package_id}/review",
        "/healthz",
    ] {
        assert!(served["paths"].get(path).is_some(), "{path} undocumented");
    }
}
