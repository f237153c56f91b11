//! Every lifecycle precondition of SPEC §4 is refused with its own documented
//! errno and leaves the app exactly as it was: the operator view of every
//! package (state and build) and the `package/get` list are compared before
//! and after each refused call. Also the parameter errors (40001 naming the
//! parameter), the asynchronous build failures and the operator review API.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Everything about an app that a refused call must not change.
type Snapshot = (Vec<(i64, String, String)>, Vec<Value>);

async fn snapshot(t: &TestApp, app: &AppHandle) -> Snapshot {
    (t.states(app).await, t.packages(app).await)
}

/// Asserts `v` is the business error `errno` (no data).
#[track_caller]
fn assert_errno(v: &Value, errno: i64) {
    assert_eq!(v["errno"], errno, "{v}");
    assert!(v["msg"].is_string(), "{v}");
    assert!(v.get("data").is_none(), "an error carries no data: {v}");
}

/// Asserts a 40001 whose message names `param`.
#[track_caller]
fn assert_param_error(v: &Value, param: &str) {
    assert_errno(v, 40001);
    let msg = v["msg"].as_str().unwrap();
    assert!(msg.contains(param), "msg {msg:?} should name {param:?}");
}

async fn call(t: &TestApp, route: &str, app: &AppHandle, id: i64) -> Value {
    t.api(route, &app.token, &[("package_id", &id.to_string())])
        .await
}

async fn submit(t: &TestApp, app: &AppHandle, id: i64) -> Value {
    t.api(
        "package/submitaudit",
        &app.token,
        &[
            ("package_id", &id.to_string()),
            ("content", "c"),
            ("remark", "r"),
        ],
    )
    .await
}

/// Uploads with `ext_json` and waits for the build; returns the development package.
async fn built(t: &TestApp, app: &AppHandle, version: &str, ext_json: &str) -> Value {
    let up = t.upload(app, version, ext_json).await;
    assert_eq!(up, json!({"errno": 0, "msg": "success"}));
    t.wait_built(app).await
}

async fn built_id(t: &TestApp, app: &AppHandle, version: &str) -> i64 {
    let dev = built(t, app, version, r#"{"extEnable":true}"#).await;
    assert_eq!(dev["upload_status"], 2, "{dev}");
    dev["package_id"].as_i64().unwrap()
}

// ---------------------------------------------------------------- submitaudit

#[tokio::test]
async fn submitaudit_while_another_package_is_under_audit_is_47005() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let v1 = built_id(&t, app, "1.0.0").await;
    assert_eq!(submit(&t, app, v1).await["errno"], 0);
    let v2 = built_id(&t, app, "2.0.0").await;

    let before = snapshot(&t, app).await;
    let r = submit(&t, app, v2).await;
    assert_errno(&r, 47005);
    assert!(
        r["msg"].as_str().unwrap().contains(&v1.to_string()),
        "msg names the package under audit: {r}"
    );
    assert_eq!(snapshot(&t, app).await, before);
    let q = t.api_get("package/auditquota", &app.token, &[]).await;
    assert_eq!(q["data"]["remain_times"], 999, "a refusal uses no quota");
}

#[tokio::test]
async fn submitaudit_of_a_failed_build_is_47012() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let dev = built(
        &t,
        app,
        "1.0.0",
        r#"{"extEnable":true,"extPages":{"pages/nope":{}}}"#,
    )
    .await;
    assert_eq!(dev["upload_status"], 3, "{dev}");
    let id = dev["package_id"].as_i64().unwrap();

    let before = snapshot(&t, app).await;
    assert_errno(&submit(&t, app, id).await, 47012);
    assert_eq!(snapshot(&t, app).await, before);
}

#[tokio::test]
async fn submitaudit_of_a_package_still_building_is_47012() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let store = &t.state().store;
    let tp = store
        .tp_by_client_id(&t.tp_client_id)
        .await
        .unwrap()
        .unwrap();
    // A package whose build never finishes: accepted directly in the store
    // (the build workers are not woken) and leased at once by this test
    // acting as a build worker that never reports back. Should an idle
    // worker's periodic poll win the lease first, try again with a new upload.
    let id = loop {
        let ctx = t.state().action_context("test".to_owned());
        let id = store
            .create_upload(
                smartship_store::NewUpload {
                    app_id: smartship_core::AppId(app.app_id),
                    tp_id: tp.id,
                    template_id: smartship_core::TemplateId(t.template_id),
                    version: "1.0.0".to_owned(),
                    version_desc: "building".to_owned(),
                    ext_json: r#"{"extEnable":true}"#.to_owned(),
                    direct_commit: false,
                    test_account: None,
                    test_password: None,
                    committer: "--".to_owned(),
                },
                &ctx,
            )
            .await
            .unwrap()
            .unwrap();
        let job = store
            .claim_build(smartship_server::clock::now_ms(), 3_600_000)
            .await
            .unwrap();
        if job.is_some_and(|j| j.package.id == id) {
            break id.0;
        }
    };
    let list = t.packages(app).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["package_id"], id);
    assert_eq!(list[0]["upload_status"], 1, "still building: {list:?}");

    let before = snapshot(&t, app).await;
    assert_errno(&submit(&t, app, id).await, 47012);
    assert_eq!(snapshot(&t, app).await, before);
}

#[tokio::test]
async fn submitaudit_without_approved_basic_info_is_47003() {
    let t = spawn_app().await;
    let app = t.create_app("Unapproved", false, false).await;
    let id = built_id(&t, &app, "1.0.0").await;

    let before = snapshot(&t, &app).await;
    assert_errno(&submit(&t, &app, id).await, 47003);
    assert_eq!(snapshot(&t, &app).await, before);
}

#[tokio::test]
async fn direct_commit_upload_without_approved_basic_info_is_47003_and_creates_nothing() {
    let t = spawn_app().await;
    let app = t.create_app("Unapproved", false, false).await;
    let r = t
        .upload(&app, "1.0.0", r#"{"extEnable":true,"directCommit":true}"#)
        .await;
    assert_errno(&r, 47003);
    assert!(t.states(&app).await.is_empty());
    assert!(t.packages(&app).await.is_empty());
}

#[tokio::test]
async fn direct_commit_upload_while_another_package_is_under_audit_is_47005() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let v1 = built_id(&t, app, "1.0.0").await;
    assert_eq!(submit(&t, app, v1).await["errno"], 0);
    let before = snapshot(&t, app).await;
    let r = t
        .upload(app, "2.0.0", r#"{"extEnable":true,"directCommit":true}"#)
        .await;
    assert_errno(&r, 47005);
    assert_eq!(snapshot(&t, app).await, before);
}

#[tokio::test]
async fn direct_commit_upload_with_the_quota_used_up_is_47010() {
    let t = spawn_with(|c| c.audit_quota_per_week = 1).await;
    let app = &t.apps[0];
    t.passed_package(app, "1.0.0").await;
    let before = snapshot(&t, app).await;
    let r = t
        .upload(app, "2.0.0", r#"{"extEnable":true,"directCommit":true}"#)
        .await;
    assert_errno(&r, 47010);
    assert_eq!(snapshot(&t, app).await, before);
}

#[tokio::test]
async fn audit_quota_exhausted_is_47010() {
    let t = spawn_with(|c| c.audit_quota_per_week = 1).await;
    let app = &t.apps[0];
    let q = t.api_get("package/auditquota", &app.token, &[]).await;
    assert_eq!(
        q["data"],
        json!({"quota_type": 2, "quota_times": 1, "remain_times": 1})
    );
    t.passed_package(app, "1.0.0").await;
    let v2 = built_id(&t, app, "2.0.0").await;

    let before = snapshot(&t, app).await;
    assert_errno(&submit(&t, app, v2).await, 47010);
    assert_eq!(snapshot(&t, app).await, before);
    let q = t.api_get("package/auditquota", &app.token, &[]).await;
    assert_eq!(q["errno"], 0, "{q}");
    assert_eq!(
        q["data"],
        json!({"quota_type": 2, "quota_times": 1, "remain_times": 0})
    );
    // the quota is per app: another app still has its submission
    let other = &t.apps[1];
    let q = t.api_get("package/auditquota", &other.token, &[]).await;
    assert_eq!(q["data"]["remain_times"], 1, "{q}");
}

#[tokio::test]
async fn unlimited_audit_quota_is_reported_as_minus_1() {
    let t = spawn_with(|c| c.audit_quota_per_week = -1).await;
    let app = &t.apps[0];
    let q = t.api_get("package/auditquota", &app.token, &[]).await;
    assert_eq!(
        q["data"],
        json!({"quota_type": -1, "quota_times": -1, "remain_times": -1})
    );
    t.passed_package(app, "1.0.0").await;
    let q = t.api_get("package/auditquota", &app.token, &[]).await;
    assert_eq!(q["data"]["remain_times"], -1, "{q}");
}

#[tokio::test]
async fn submitaudit_of_a_package_not_in_development_is_47002() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let online = t.released_package(app, "1.0.0").await;
    let passed = t.passed_package(app, "2.0.0").await;
    for id in [online, passed] {
        let before = snapshot(&t, app).await;
        assert_errno(&submit(&t, app, id).await, 47002);
        assert_eq!(snapshot(&t, app).await, before, "submitaudit {id}");
    }
    // the package under audit itself: wrong state, not "another package"
    let dev = built_id(&t, app, "3.0.0").await;
    assert_eq!(submit(&t, app, dev).await["errno"], 0);
    let before = snapshot(&t, app).await;
    assert_errno(&submit(&t, app, dev).await, 47002);
    assert_eq!(snapshot(&t, app).await, before);
}

#[tokio::test]
async fn submitaudit_parameter_errors_name_the_parameter() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let id = built_id(&t, app, "1.0.0").await.to_string();
    let long = "x".repeat(501);
    let before = snapshot(&t, app).await;
    let cases: [(&[(&str, &str)], &str); 3] = [
        (&[("package_id", &id)], "content"),
        (&[("package_id", &id), ("content", &long)], "content"),
        (
            &[("package_id", &id), ("content", "c"), ("remark", &long)],
            "remark",
        ),
    ];
    for (params, name) in cases {
        let r = t.api("package/submitaudit", &app.token, params).await;
        assert_param_error(&r, name);
    }
    assert_eq!(snapshot(&t, app).await, before);
}

// ------------------------------------------------------------------- release

#[tokio::test]
async fn release_without_verified_authenticity_is_47004() {
    let t = spawn_app().await;
    let app = t.create_app("Unverified", true, false).await;
    let id = t.passed_package(&app, "1.0.0").await;

    let before = snapshot(&t, &app).await;
    assert_errno(&call(&t, "package/release", &app, id).await, 47004);
    assert_eq!(snapshot(&t, &app).await, before);
}

#[tokio::test]
async fn release_of_a_package_not_audit_passed_is_47002() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    // status 3
    let dev = built_id(&t, app, "1.0.0").await;
    let before = snapshot(&t, app).await;
    let r = call(&t, "package/release", app, dev).await;
    assert_errno(&r, 47002);
    assert!(r["msg"].as_str().unwrap().contains("status=3"), "{r}");
    assert_eq!(snapshot(&t, app).await, before);

    // status 4
    assert_eq!(submit(&t, app, dev).await["errno"], 0);
    let before = snapshot(&t, app).await;
    let r = call(&t, "package/release", app, dev).await;
    assert_errno(&r, 47002);
    assert!(r["msg"].as_str().unwrap().contains("status=4"), "{r}");
    assert_eq!(snapshot(&t, app).await, before);

    // status 5
    let (status, _) = t.review(dev, false, "不合规").await;
    assert_eq!(status, StatusCode::OK);
    let before = snapshot(&t, app).await;
    assert_errno(&call(&t, "package/release", app, dev).await, 47002);
    assert_eq!(snapshot(&t, app).await, before);

    // status 1 (already online)
    let online = t.released_package(app, "2.0.0").await;
    let before = snapshot(&t, app).await;
    assert_errno(&call(&t, "package/release", app, online).await, 47002);
    assert_eq!(snapshot(&t, app).await, before);
}

// ------------------------------------------------------------------ rollback

#[tokio::test]
async fn rollback_without_an_earlier_version_is_47009() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let id = t.released_package(app, "1.0.0").await;

    let before = snapshot(&t, app).await;
    assert_errno(&call(&t, "package/rollback", app, id).await, 47009);
    assert_eq!(snapshot(&t, app).await, before);
}

#[tokio::test]
async fn rollback_of_a_package_that_is_not_online_is_47002() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    t.released_package(app, "1.0.0").await;
    t.released_package(app, "2.0.0").await;
    let passed = t.passed_package(app, "3.0.0").await;

    let before = snapshot(&t, app).await;
    assert_errno(&call(&t, "package/rollback", app, passed).await, 47002);
    assert_eq!(snapshot(&t, app).await, before);
}

#[tokio::test]
async fn rollback_or_release_while_rolling_back_is_47013() {
    let t = spawn_with(|c| c.rollback_delay_secs = 60.0).await;
    let app = &t.apps[0];
    t.released_package(app, "1.0.0").await;
    let v2 = t.released_package(app, "2.0.0").await;
    let rb = call(&t, "package/rollback", app, v2).await;
    assert_eq!(rb, json!({"errno": 0, "msg": "success"}));
    let list = t.packages(app).await;
    assert!(
        list.iter()
            .any(|p| p["package_id"] == v2 && p["status"] == 8),
        "{list:?}"
    );

    // a second rollback
    let before = snapshot(&t, app).await;
    assert_errno(&call(&t, "package/rollback", app, v2).await, 47013);
    assert_eq!(snapshot(&t, app).await, before);

    // a release while rolling back
    let v3 = t.passed_package(app, "3.0.0").await;
    let before = snapshot(&t, app).await;
    assert_errno(&call(&t, "package/release", app, v3).await, 47013);
    assert_eq!(snapshot(&t, app).await, before);
    let list = t.packages(app).await;
    assert!(
        list.iter()
            .any(|p| p["package_id"] == v3 && p["status"] == 6),
        "{list:?}"
    );
}

// ------------------------------------------------------------------ withdraw

#[tokio::test]
async fn withdraw_of_a_package_not_under_audit_is_47002() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let online = t.released_package(app, "1.0.0").await;
    let passed = t.passed_package(app, "2.0.0").await;
    let dev = built_id(&t, app, "3.0.0").await;
    for id in [dev, passed, online] {
        let before = snapshot(&t, app).await;
        let r = call(&t, "package/withdraw", app, id).await;
        assert_errno(&r, 47002);
        assert_eq!(snapshot(&t, app).await, before, "withdraw {id}");
    }
}

// --------------------------------------------------------- upload, templates

#[tokio::test]
async fn upload_with_an_unknown_template_is_47007() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let r = t
        .upload_from(app, "987654321", "1.0.0", r#"{"extEnable":true}"#)
        .await;
    assert_errno(&r, 47007);
    assert!(t.states(app).await.is_empty());
    assert!(t.packages(app).await.is_empty());
}

#[tokio::test]
async fn upload_with_another_platforms_template_is_47007() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    // a second third-party platform with a template of its own
    let (_, tp2_token) = t.second_tp().await;
    let tp2_token = tp2_token.as_str();
    let draft = t.upload_draft_as(tp2_token, sample_zip()).await;
    assert_eq!(draft["errno"], 0, "{draft}");
    let draft_id = draft["data"]["draft_id"].as_i64().unwrap().to_string();
    let tpl = t
        .api(
            "template/addtotemplate",
            tp2_token,
            &[("draft_id", &draft_id), ("user_desc", "other template")],
        )
        .await;
    assert_eq!(tpl["errno"], 0, "{tpl}");
    let other_template = tpl["data"]["template_id"].as_i64().unwrap().to_string();

    let r = t
        .upload_from(app, &other_template, "1.0.0", r#"{"extEnable":true}"#)
        .await;
    assert_errno(&r, 47007);
    assert!(t.states(app).await.is_empty());
    assert!(t.packages(app).await.is_empty());
}

// ---------------------------------------------------------------- not found

#[tokio::test]
async fn unknown_and_foreign_package_ids_are_the_same_47001() {
    let t = spawn_app().await;
    let a = &t.apps[0];
    let b = &t.apps[1];
    let foreign = built_id(&t, b, "1.0.0").await;
    let a_before = snapshot(&t, a).await;
    let b_before = snapshot(&t, b).await;
    for route in [
        "package/submitaudit",
        "package/release",
        "package/rollback",
        "package/withdraw",
        "package/getdetail",
    ] {
        let mut answers = Vec::new();
        for id in [999_999_999, foreign] {
            let params = [
                ("package_id", id.to_string()),
                ("content", "c".to_owned()),
                ("remark", "r".to_owned()),
            ];
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = t.api(route, &a.token, &params).await;
            assert_errno(&r, 47001);
            answers.push(r);
        }
        assert_eq!(
            answers[0], answers[1],
            "{route}: unknown and foreign ids must be indistinguishable"
        );
    }
    assert_eq!(snapshot(&t, a).await, a_before);
    assert_eq!(snapshot(&t, b).await, b_before);
}

// ------------------------------------------------------------ param errors

#[tokio::test]
async fn package_id_parameter_errors_name_package_id() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let dev = built_id(&t, app, "1.0.0").await;
    let before = snapshot(&t, app).await;
    for route in ["package/release", "package/rollback", "package/withdraw"] {
        let r = t.api(route, &app.token, &[]).await;
        assert_param_error(&r, "package_id");
        let r = t.api(route, &app.token, &[("package_id", "abc")]).await;
        assert_param_error(&r, "package_id");
    }
    let r = t
        .api(
            "package/submitaudit",
            &app.token,
            &[("content", "c"), ("remark", "r")],
        )
        .await;
    assert_param_error(&r, "package_id");
    let r = t
        .api(
            "package/submitaudit",
            &app.token,
            &[("package_id", "abc"), ("content", "c")],
        )
        .await;
    assert_param_error(&r, "package_id");
    let r = t
        .api_get("package/getdetail", &app.token, &[("package_id", "abc")])
        .await;
    assert_param_error(&r, "package_id");
    assert_eq!(snapshot(&t, app).await, before);
    assert_eq!(before.1[0]["package_id"], dev);
}

#[tokio::test]
async fn getdetail_with_type_2_names_type() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let r = t
        .api_get("package/getdetail", &app.token, &[("type", "2")])
        .await;
    assert_param_error(&r, "type");
    let r = t
        .api_get("package/getdetail", &app.token, &[("type", "x")])
        .await;
    assert_param_error(&r, "type");
}

#[tokio::test]
async fn upload_parameter_errors_name_the_parameter_and_create_nothing() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let a_other = &t.apps[1];
    let tpl = t.template_id.to_string();
    let long_version = "1".repeat(65);
    let other_appid = format!(r#"{{"extEnable":true,"extAppid":{}}}"#, a_other.app_id);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("template_id", &tpl),
                ("user_version", "1"),
                ("user_desc", "d"),
            ],
            "ext_json",
        ),
        (
            vec![
                ("template_id", &tpl),
                ("ext_json", "{not json"),
                ("user_version", "1"),
                ("user_desc", "d"),
            ],
            "ext_json",
        ),
        (
            vec![
                ("template_id", &tpl),
                ("ext_json", r#"{"extAppid":1}"#),
                ("user_version", "1"),
                ("user_desc", "d"),
            ],
            "ext_json.extEnable",
        ),
        (
            vec![
                ("template_id", &tpl),
                ("ext_json", &other_appid),
                ("user_version", "1"),
                ("user_desc", "d"),
            ],
            "ext_json.extAppid",
        ),
        (
            vec![
                ("template_id", &tpl),
                ("ext_json", r#"{"extEnable":true}"#),
                ("user_version", &long_version),
                ("user_desc", "d"),
            ],
            "user_version",
        ),
        (
            vec![
                ("ext_json", r#"{"extEnable":true}"#),
                ("user_version", "1"),
                ("user_desc", "d"),
            ],
            "template_id",
        ),
        (
            vec![
                ("template_id", "abc"),
                ("ext_json", r#"{"extEnable":true}"#),
                ("user_version", "1"),
                ("user_desc", "d"),
            ],
            "template_id",
        ),
    ];
    for (params, name) in cases {
        let r = t.api("package/upload", &app.token, &params).await;
        assert_param_error(&r, name);
    }
    // exactly 64 characters is accepted
    let ok = t
        .upload(app, &"1".repeat(64), r#"{"extEnable":true}"#)
        .await;
    assert_eq!(ok["errno"], 0, "{ok}");
    let dev = t.wait_built(app).await;
    assert_eq!(
        t.states(app).await.len(),
        1,
        "only the valid upload created a package"
    );
    assert_eq!(dev["version"], "1".repeat(64));
}

#[tokio::test]
async fn own_ext_appid_is_accepted() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let ext = format!(r#"{{"extEnable":true,"extAppid":"{}"}}"#, app.app_id);
    let r = t.upload(app, "1.0.0", &ext).await;
    assert_eq!(r, json!({"errno": 0, "msg": "success"}));
    assert_eq!(t.wait_built(app).await["upload_status"], 2);
}

// ----------------------------------------------------- asynchronous failures

#[tokio::test]
async fn tab_bar_page_that_is_not_a_page_fails_the_build_with_code_2() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let dev = built(
        &t,
        app,
        "1.0.0",
        r#"{"extEnable":true,"tabBar":{"list":[
            {"pagePath":"pages/index/index","text":"首页"},
            {"pagePath":"pages/ghost/ghost","text":"幽灵"}]}}"#,
    )
    .await;
    assert_eq!(dev["status"], 3, "{dev}");
    assert_eq!(dev["upload_status"], 3, "{dev}");
    assert_eq!(dev["upload_err_code"], 2, "{dev}");
    let desc = dev["upload_status_desc"].as_str().unwrap();
    let err = dev["upload_err_msg"].as_str().unwrap();
    assert!(desc.contains("pages/ghost/ghost"), "{desc}");
    assert!(err.contains("pages/ghost/ghost"), "{err}");
    assert!(err.contains("tabBar"), "{err}");
}

#[tokio::test]
async fn ext_pages_key_that_is_not_a_page_fails_the_build_with_code_3() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let dev = built(
        &t,
        app,
        "1.0.0",
        r#"{"extEnable":true,"extPages":{"pages/index/index":{},"pages/nope":{"a":1}}}"#,
    )
    .await;
    assert_eq!(dev["upload_status"], 3, "{dev}");
    assert_eq!(dev["upload_err_code"], 3, "{dev}");
    assert!(
        dev["upload_status_desc"]
            .as_str()
            .unwrap()
            .contains("pages/nope"),
        "{dev}"
    );
    assert!(
        dev["upload_err_msg"]
            .as_str()
            .unwrap()
            .contains("pages/nope"),
        "{dev}"
    );
}

#[tokio::test]
async fn package_too_large_fails_the_build_with_code_4() {
    let t = spawn_with(|c| c.max_package_bytes = 100).await;
    let app = &t.apps[0];
    let dev = built(&t, app, "1.0.0", r#"{"extEnable":true}"#).await;
    assert_eq!(dev["upload_status"], 3, "{dev}");
    assert_eq!(dev["upload_err_code"], 4, "{dev}");
    assert!(
        dev["upload_err_msg"].as_str().unwrap().contains("100"),
        "names the limit: {dev}"
    );
    let id = dev["package_id"].as_i64().unwrap();
    let before = snapshot(&t, app).await;
    assert_errno(&submit(&t, app, id).await, 47012);
    assert_eq!(snapshot(&t, app).await, before);
}

#[tokio::test]
async fn a_successful_build_reports_code_0() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let dev = built(&t, app, "1.0.0", r#"{"extEnable":true}"#).await;
    assert_eq!(dev["upload_status"], 2, "{dev}");
    assert_eq!(dev["upload_err_code"], 0, "{dev}");
    assert_eq!(dev["upload_err_msg"], "", "{dev}");
}

// --------------------------------------------------------- operator review

#[tokio::test]
async fn reviewing_a_package_not_under_audit_is_409() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let dev = built_id(&t, app, "1.0.0").await;
    let before = snapshot(&t, app).await;
    let (status, body) = t.review(dev, true, "").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["code"].is_string(), "{body}");
    let (status, _) = t.review(dev, false, "reason").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(snapshot(&t, app).await, before);

    // a passed package cannot be reviewed again
    let passed = t.passed_package(app, "2.0.0").await;
    let before = snapshot(&t, app).await;
    let (status, _) = t.review(passed, false, "again").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(snapshot(&t, app).await, before);

    let (status, _) = t.review(999_999_999, true, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn review_with_an_invalid_decision_is_422_and_changes_nothing() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let id = built_id(&t, app, "1.0.0").await;
    assert_eq!(submit(&t, app, id).await["errno"], 0);
    let before = snapshot(&t, app).await;
    let path = format!("/admin/v1/packages/{id}/review");
    for body in [
        json!({"decision": "maybe"}),
        json!({"decision": "fail"}),
        json!({"decision": "fail", "reason": "   "}),
        json!({}),
    ] {
        let (status, resp) = t.admin_post(&path, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {resp}");
        assert_eq!(resp["error"]["code"], "invalid", "{resp}");
    }
    assert_eq!(snapshot(&t, app).await, before);
}

#[tokio::test]
async fn review_without_the_bearer_token_is_401() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let id = built_id(&t, app, "1.0.0").await;
    assert_eq!(submit(&t, app, id).await["errno"], 0);
    let before = snapshot(&t, app).await;
    let url = format!("{}/admin/v1/packages/{id}/review", t.base);
    let resp = t
        .http
        .post(&url)
        .json(&json!({"decision": "pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = t
        .http
        .post(&url)
        .bearer_auth("wrong-admin-token-0123456789")
        .json(&json!({"decision": "pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(snapshot(&t, app).await, before);
}
