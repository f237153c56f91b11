//! Input that is not what it claims to be is refused with 40001 naming the
//! field, and changes nothing: bytes that are no UTF-8, broken percent
//! escapes, control characters, bidirectional overrides in one-line fields.

use crate::common::*;

/// Sends `query` raw (already percent-encoded as an attacker wrote it) to
/// package/upload and returns the JSON answer.
async fn upload_raw(t: &TestApp, token: &str, tail: &str) -> serde_json::Value {
    let url = format!(
        "{}?access_token={token}&template_id={}&ext_json=%7B%22extEnable%22%3Atrue%7D&{tail}",
        t.url("package/upload"),
        t.template_id
    );
    let resp = t.http.post(url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn undecodable_and_control_text_is_refused_and_stores_nothing() {
    let t = spawn_app().await;
    let app = t.apps[0].clone();
    let before = t.packages(&app).await;
    for (tail, field) in [
        ("user_version=%FF%FE&user_desc=d", "user_version"),
        ("user_version=1.0.0&user_desc=a%ZZb", "user_desc"),
        ("user_version=1.0.0&user_desc=a%E4%B8", "user_desc"),
        ("user_version=1.0.0&user_desc=a%00b", "user_desc"),
        (
            "user_version=1.0.0&user_desc=%1B%5B2J%1B%5BHowned",
            "user_desc",
        ),
        ("user_version=1.0.%0A0&user_desc=d", "user_version"),
        ("user_version=1.0.0&user_desc=%E2%80%AEgpj.exe", "user_desc"),
        (
            "user_version=1.0.0&user_desc=d&test_account=a%09b&test_password=p",
            "test_account",
        ),
    ] {
        let v = upload_raw(&t, &app.token, tail).await;
        assert_eq!(v["errno"], 40001, "{tail}: {v}");
        assert!(v["msg"].as_str().unwrap().contains(field), "{tail}: {v}");
    }
    // The same value in a form body is refused the same way.
    let resp = t
        .http
        .post(format!(
            "{}?access_token={}",
            t.url("package/upload"),
            app.token
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "template_id={}&ext_json=%7B%22extEnable%22%3Atrue%7D&user_version=%FF&user_desc=d",
            t.template_id
        ))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["errno"], 40001, "{v}");
    assert!(v["msg"].as_str().unwrap().contains("user_version"), "{v}");
    assert_eq!(t.packages(&app).await, before, "nothing was stored");

    // A well-formed upload with Chinese text still works.
    let v = upload_raw(
        &t,
        &app.token,
        "user_version=1.0.0&user_desc=%E6%98%A5%E5%AD%A3",
    )
    .await;
    assert_eq!(v["errno"], 0, "{v}");
    let dev = t.wait_built(&app).await;
    assert_eq!(dev["version_desc"], "春季");
}

#[tokio::test]
async fn audit_content_may_span_lines_but_holds_no_other_control() {
    let t = spawn_app().await;
    let app = t.apps[0].clone();
    t.upload(&app, "1.0.0", r#"{"extEnable":true}"#).await;
    let id = t.wait_built(&app).await["package_id"]
        .as_i64()
        .unwrap()
        .to_string();
    let v = t
        .api(
            "package/submitaudit",
            &app.token,
            &[("package_id", &id), ("content", "a\u{1b}]0;x\u{7}")],
        )
        .await;
    assert_eq!(v["errno"], 40001, "{v}");
    assert!(v["msg"].as_str().unwrap().contains("content"), "{v}");
    let v = t
        .api(
            "package/submitaudit",
            &app.token,
            &[
                ("package_id", &id),
                ("content", "第一行\n第二行\tend"),
                ("remark", "r1\r\nr2"),
            ],
        )
        .await;
    assert_eq!(
        v["errno"], 0,
        "line breaks and tabs are fine in content and remark: {v}"
    );
}
