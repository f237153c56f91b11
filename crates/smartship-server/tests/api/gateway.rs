//! The gateway of SPEC §1 and §2: token errors in the exact public shape
//! `{"error_code", "error_msg"}` (always HTTP 200), the token kind each route
//! takes, tenant isolation between apps and between third-party platforms,
//! and the request leniency real clients rely on.

use crate::common::*;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use smartship_core::AppId;
use smartship_store::{NewToken, TokenKind};

const PACKAGE_ROUTES: [&str; 8] = [
    "package/upload",
    "package/submitaudit",
    "package/release",
    "package/rollback",
    "package/withdraw",
    "package/get",
    "package/getdetail",
    "package/auditquota",
];

const TEMPLATE_ROUTES: [&str; 5] = [
    "template/gettemplatedraftlist",
    "template/addtotemplate",
    "template/gettemplatelist",
    "template/deltemplate",
    "template/uploaddraft",
];

fn gateway(code: i64, msg: &str) -> Value {
    json!({"error_code": code, "error_msg": msg})
}

fn invalid() -> Value {
    gateway(110, "Access token invalid or no longer valid")
}

fn no_permission() -> Value {
    gateway(6, "No permission to access data")
}

/// A raw request: HTTP 200 and a JSON body, whatever happened.
async fn send(req: reqwest::RequestBuilder) -> Value {
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/json"), "content type {ct}");
    resp.json().await.unwrap()
}

/// Calls every package route with app A's token on each of B's `ids`:
/// each answer equals `unknown` (A's answer for an id that does not exist)
/// and B is unchanged after each call.
async fn probe_foreign(t: &TestApp, a: &AppHandle, b: &AppHandle, ids: &[i64], unknown: &Value) {
    for &id in ids {
        for route in [
            "package/submitaudit",
            "package/release",
            "package/rollback",
            "package/withdraw",
            "package/getdetail",
        ] {
            let before = (t.states(b).await, t.packages(b).await);
            let v = t
                .api(
                    route,
                    &a.token,
                    &[
                        ("package_id", &id.to_string()),
                        ("content", "c"),
                        ("remark", "r"),
                    ],
                )
                .await;
            assert_eq!(&v, unknown, "{route} {id} with app A's token");
            let after = (t.states(b).await, t.packages(b).await);
            assert_eq!(after, before, "{route} {id} changed app B");
        }
    }
}

// ------------------------------------------------------------ token errors

#[tokio::test]
async fn missing_access_token_is_110_on_every_route() {
    let t = spawn_app().await;
    for route in PACKAGE_ROUTES.iter().chain(TEMPLATE_ROUTES.iter()) {
        let v = send(t.http.post(t.url(route)).form(&[("package_id", "1")])).await;
        assert_eq!(v, invalid(), "POST {route}");
        let v = send(t.http.get(t.url(route))).await;
        assert_eq!(v, invalid(), "GET {route}");
        let v = send(t.http.get(t.url(route)).query(&[("access_token", "")])).await;
        assert_eq!(v, invalid(), "GET {route} with an empty token");
    }
}

#[tokio::test]
async fn unknown_token_is_110() {
    let t = spawn_app().await;
    for route in PACKAGE_ROUTES.iter().chain(TEMPLATE_ROUTES.iter()) {
        let v = t.api(route, "app.no-such-token", &[]).await;
        assert_eq!(v, invalid(), "{route}");
    }
}

#[tokio::test]
async fn expired_token_is_111() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let tp = t
        .state()
        .store
        .tp_by_client_id(&t.tp_client_id)
        .await
        .unwrap()
        .unwrap();
    let now = smartship_server::clock::now_ms();
    let app_token = "app.expired-token-for-the-gateway-test";
    let tp_token = "tp.expired-token-for-the-gateway-test";
    for (tok, kind, app_id) in [
        (app_token, TokenKind::AppAccess, Some(AppId(app.app_id))),
        (tp_token, TokenKind::TpAccess, None),
    ] {
        t.state()
            .store
            .insert_token(NewToken {
                hash: smartship_server::tokens::hash(tok),
                kind,
                tp_id: tp.id,
                app_id,
                expires_at: now - 1_000,
                created_at: now - 3_600_000,
            })
            .await
            .unwrap();
    }
    let expired = gateway(111, "Access token expired");
    for route in PACKAGE_ROUTES {
        assert_eq!(t.api(route, app_token, &[]).await, expired, "{route}");
    }
    for route in TEMPLATE_ROUTES {
        assert_eq!(t.api(route, tp_token, &[]).await, expired, "{route}");
    }
    // the live token of the same app still works
    let v = t.api_get("package/get", &app.token, &[]).await;
    assert_eq!(v["errno"], 0, "{v}");
}

#[tokio::test]
async fn wrong_kind_of_token_is_6() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    for route in PACKAGE_ROUTES {
        let v = t.api(route, &t.tp_token, &[("package_id", "1")]).await;
        assert_eq!(v, no_permission(), "TP token on {route}");
    }
    for route in TEMPLATE_ROUTES {
        let v = t.api(route, &app.token, &[("template_id", "1")]).await;
        assert_eq!(v, no_permission(), "app token on {route}");
    }
    // nothing was deleted by the refused deltemplate
    let list = t
        .api_get("template/gettemplatelist", &t.tp_token, &[])
        .await;
    assert_eq!(list["data"]["count"], 1, "{list}");
}

#[tokio::test]
async fn refresh_token_is_not_an_access_token() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    for route in PACKAGE_ROUTES.iter().chain(TEMPLATE_ROUTES.iter()) {
        let v = t.api(route, &app.refresh_token, &[]).await;
        assert_eq!(v, invalid(), "{route}");
    }
}

#[tokio::test]
async fn unknown_route_is_3() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let unsupported = gateway(3, "Unsupported openapi method");
    for path in [
        "/rest/2.0/smartapp/package/nope",
        "/rest/2.0/smartapp/template/nope",
        "/rest/2.0/smartapp/nope",
        "/rest/2.0/nope",
        "/file/2.0/smartapp/nope",
        "/file/2.0/smartapp/upload/nope",
        "/file/2.0/nope",
    ] {
        let url = format!("{}{path}", t.base);
        let v = send(t.http.get(&url).query(&[("access_token", &app.token)])).await;
        assert_eq!(v, unsupported, "GET {path}");
        let v = send(t.http.post(&url).form(&[("package_id", "1")])).await;
        assert_eq!(v, unsupported, "POST {path} without a token");
    }
}

#[tokio::test]
async fn unknown_runtime_and_console_paths_answer_in_their_own_shape() {
    let t = spawn_app().await;
    for path in [
        "/runtime/v1/nope",
        "/runtime/v1/apps/1/nope",
        // An artifact name far past any digest.
        &format!("/runtime/v1/apps/1/artifacts/{}.zip", "a".repeat(5_000)),
    ] {
        let r = t
            .http
            .get(format!("{}{path}", t.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.headers()["content-type"], "application/json", "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "not_found", "{path}: {v}");
    }
    let r = t
        .http
        .get(format!("{}/console/nope/deeper", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::NOT_FOUND);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("<html"));
}

// ---------------------------------------------------------- cross-tenant

#[tokio::test]
async fn an_app_token_never_reaches_another_apps_packages() {
    let t = spawn_app().await;
    let a = &t.apps[0];
    let b = &t.apps[1];
    // B: v1 in history, v2 online, v3 audit passed.
    t.released_package(b, "1.0.0").await;
    let v2 = t.released_package(b, "2.0.0").await;
    let v3 = t.passed_package(b, "3.0.0").await;

    let unknown = t
        .api("package/release", &a.token, &[("package_id", "999999999")])
        .await;
    assert_eq!(unknown["errno"], 47001, "{unknown}");

    let a_before = t.states(a).await;
    assert!(a_before.is_empty());
    probe_foreign(&t, a, b, &[v2, v3], &unknown).await;

    // B: v4 under audit (v3 superseded), v5 built in development.
    let up = t.upload(b, "4.0.0", r#"{"extEnable":true}"#).await;
    assert_eq!(up["errno"], 0);
    let v4 = t.wait_built(b).await["package_id"].as_i64().unwrap();
    let sub = t
        .api(
            "package/submitaudit",
            &b.token,
            &[("package_id", &v4.to_string()), ("content", "c")],
        )
        .await;
    assert_eq!(sub["errno"], 0, "{sub}");
    t.upload(b, "5.0.0", r#"{"extEnable":true}"#).await;
    let v5 = t.wait_built(b).await["package_id"].as_i64().unwrap();
    probe_foreign(&t, a, b, &[v2, v3, v4, v5], &unknown).await;

    assert_eq!(t.states(a).await, a_before);
    // and A's own lists show nothing of B
    assert!(t.packages(a).await.is_empty());
    let d = t.api_get("package/getdetail", &a.token, &[]).await;
    assert_eq!(d["errno"], 47001, "A has no online package: {d}");
    let d = t
        .api_get("package/getdetail", &a.token, &[("type", "4")])
        .await;
    assert_eq!(d["errno"], 47001, "{d}");
}

#[tokio::test]
async fn a_second_platform_cannot_see_or_use_the_first_platforms_templates() {
    let t = spawn_app().await;
    let (tp2_client, tp2) = t.second_tp().await;

    let drafts1 = t
        .api_get("template/gettemplatedraftlist", &t.tp_token, &[])
        .await;
    assert_eq!(drafts1["data"]["count"], 1, "{drafts1}");
    let draft1 = drafts1["data"]["list"][0]["draft_id"].as_i64().unwrap();
    let templates1 = t
        .api_get("template/gettemplatelist", &t.tp_token, &[])
        .await;
    assert_eq!(templates1["data"]["count"], 1, "{templates1}");

    // TP2 lists nothing
    let v = t.api_get("template/gettemplatedraftlist", &tp2, &[]).await;
    assert_eq!(v["errno"], 0, "{v}");
    assert_eq!(v["data"], json!({"count": 0, "list": []}));
    let v = t.api_get("template/gettemplatelist", &tp2, &[]).await;
    assert_eq!(v["data"], json!({"count": 0, "list": []}));

    // TP2 cannot delete TP1's template nor turn TP1's draft into a template
    let v = t
        .api(
            "template/deltemplate",
            &tp2,
            &[("template_id", &t.template_id.to_string())],
        )
        .await;
    assert_eq!(v["errno"], 47007, "{v}");
    let v = t
        .api(
            "template/addtotemplate",
            &tp2,
            &[("draft_id", &draft1.to_string()), ("user_desc", "stolen")],
        )
        .await;
    assert_eq!(v["errno"], 47011, "{v}");
    let v = t.api_get("template/gettemplatelist", &tp2, &[]).await;
    assert_eq!(v["data"]["count"], 0, "{v}");

    // an app authorized to TP2 cannot upload from TP1's template
    let (status, app) = t
        .admin_post(
            "/admin/v1/apps",
            json!({"name": "Rival app",
            "basic_info_approved": true, "authenticity_verified": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{app}");
    let app_id = app["app_id"].as_i64().unwrap();
    let (status, tok) = t
        .admin_post(
            &format!("/admin/v1/apps/{app_id}/authorize"),
            json!({"client_id": tp2_client}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tok}");
    let rival = AppHandle {
        app_id,
        token: tok["access_token"].as_str().unwrap().to_owned(),
        refresh_token: tok["refresh_token"].as_str().unwrap().to_owned(),
    };
    let v = t.upload(&rival, "1.0.0", r#"{"extEnable":true}"#).await;
    assert_eq!(v["errno"], 47007, "{v}");
    assert!(t.states(&rival).await.is_empty());

    // TP2's own draft is invisible to TP1, and TP1 cannot use it either
    let d = t.upload_draft_as(&tp2, sample_zip()).await;
    assert_eq!(d["errno"], 0, "{d}");
    let draft2 = d["data"]["draft_id"].as_i64().unwrap();
    let v = t
        .api(
            "template/addtotemplate",
            &t.tp_token,
            &[("draft_id", &draft2.to_string()), ("user_desc", "stolen")],
        )
        .await;
    assert_eq!(v["errno"], 47011, "{v}");

    // TP1 is unchanged
    let after = t
        .api_get("template/gettemplatedraftlist", &t.tp_token, &[])
        .await;
    assert_eq!(after, drafts1);
    let after = t
        .api_get("template/gettemplatelist", &t.tp_token, &[])
        .await;
    assert_eq!(after, templates1);
}

// -------------------------------------------------------------- leniency

#[tokio::test]
async fn access_token_with_a_trailing_newline_works() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let id = t.passed_package(app, "1.0.0").await;
    // exactly as the seed's withdraw example writes it: ACCESS_TOKEN%0A
    let url = format!(
        "{}?access_token={}%0A&package_id={id}",
        t.url("package/release"),
        app.token
    );
    let v = send(t.http.post(&url)).await;
    assert_eq!(v, json!({"errno": 0, "msg": "success"}));
    let v = t
        .api_get("package/getdetail", &format!("{}\n", app.token), &[])
        .await;
    assert_eq!(v["errno"], 0, "{v}");
    assert_eq!(v["data"]["package_id"], id);
    let v = t
        .api_get(
            "template/gettemplatelist",
            &format!("{}\n", t.tp_token),
            &[],
        )
        .await;
    assert_eq!(v["errno"], 0, "{v}");
}

#[tokio::test]
async fn unknown_parameters_are_ignored() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let sdk = [("sp_sdk_ver", "1.0"), ("sp_sdk_lang", "go")];
    let v = t.api_get("package/get", &app.token, &sdk).await;
    assert_eq!(v, json!({"errno": 0, "msg": "success", "data": []}));
    let v = t
        .api(
            "package/upload",
            &app.token,
            &[
                ("template_id", &t.template_id.to_string()),
                ("ext_json", r#"{"extEnable":true}"#),
                ("user_version", "1.0.0"),
                ("user_desc", "d"),
                ("sp_sdk_ver", "1.0"),
                ("sp_sdk_lang", "java"),
                ("whatever", "x"),
            ],
        )
        .await;
    assert_eq!(v, json!({"errno": 0, "msg": "success"}));
    assert_eq!(t.wait_built(app).await["upload_status"], 2);
    let v = t
        .api_get("template/gettemplatelist", &t.tp_token, &sdk)
        .await;
    assert_eq!(v["data"]["count"], 1, "{v}");
}

#[tokio::test]
async fn get_with_a_form_content_type_and_no_body_works() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let v = send(
        t.http
            .get(t.url("package/get"))
            .query(&[("access_token", app.token.as_str())])
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded"),
    )
    .await;
    assert_eq!(v, json!({"errno": 0, "msg": "success", "data": []}));
    let v = send(
        t.http
            .get(t.url("template/gettemplatelist"))
            .query(&[("access_token", t.tp_token.as_str()), ("page_size", "5")])
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded"),
    )
    .await;
    assert_eq!(v["errno"], 0, "{v}");
    assert_eq!(v["data"]["count"], 1, "{v}");
}

/// SPEC §1: a missing token is a gateway error raised before anything else.
/// Today the body is parsed before the token is checked, so a request with no
/// token and a malformed multipart body gets the business error 40001, and one
/// with an oversized body gets 47008, instead of 110.
#[tokio::test]
async fn missing_token_is_110_whatever_the_body() {
    let t = spawn_app().await;
    for route in ["template/uploaddraft", "package/get"] {
        let v = send(
            t.http
                .post(t.url(route))
                .header(CONTENT_TYPE, "multipart/form-data; boundary=xyz")
                .body("garbage"),
        )
        .await;
        assert_eq!(v, invalid(), "{route} with a malformed multipart body");
    }
    let v = send(
        t.http
            .post(t.url("package/get"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(vec![b'a'; 4 << 20]),
    )
    .await;
    assert_eq!(v, invalid(), "package/get with a 4 MiB form body");
}

// ------------------------------------------------- IP allow-list, rate limit

async fn set_allowlist(t: &TestApp, list: Value) -> u16 {
    t.patch_tp(json!({ "ip_allowlist": list })).await.0.as_u16()
}

#[tokio::test]
async fn callers_outside_the_tps_ip_allow_list_are_refused() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    assert_eq!(
        set_allowlist(&t, json!("10.0.0.0/8, 192.168.1.7")).await,
        200
    );
    // This test calls from 127.0.0.1: both kinds of token of the TP are refused.
    assert_eq!(
        t.api_get("package/get", &app.token, &[]).await,
        no_permission()
    );
    assert_eq!(
        t.api_get("template/gettemplatelist", &t.tp_token, &[])
            .await,
        no_permission()
    );
    assert_eq!(set_allowlist(&t, json!("127.0.0.0/8")).await, 200);
    assert_eq!(t.api_get("package/get", &app.token, &[]).await["errno"], 0);
    assert_eq!(set_allowlist(&t, Value::Null).await, 200);
    assert_eq!(t.api_get("package/get", &app.token, &[]).await["errno"], 0);
    assert_eq!(set_allowlist(&t, json!("not-a-network")).await, 422);
}

#[tokio::test]
async fn each_token_is_rate_limited_with_gateway_error_18() {
    let t = spawn_with(|c| c.rate_limit_per_token = 5.0).await;
    let (a, b) = (&t.apps[0], &t.apps[1]);
    let mut answers = Vec::new();
    for _ in 0..12 {
        answers.push(t.api_get("package/get", &a.token, &[]).await);
    }
    let limited = answers
        .iter()
        .filter(|v| v.get("error_code").is_some())
        .count();
    assert!(
        limited >= 1,
        "a burst of 12 at 5/s (bucket of 10) is limited"
    );
    let refusal = answers
        .iter()
        .find(|v| v.get("error_code").is_some())
        .unwrap();
    assert_eq!(refusal, &gateway(18, "Open api qps request limit reached"));
    assert_eq!(
        t.api_get("package/get", &b.token, &[]).await["errno"],
        0,
        "per token"
    );
    // The bucket refills.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(t.api_get("package/get", &a.token, &[]).await["errno"], 0);
}
