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

/// Sends raw bytes on a fresh connection and returns (status, body).
async fn raw(t: &TestApp, request: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = t.base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn json_of(body: &str) -> serde_json::Value {
    // A chunked answer: the JSON sits between the chunk-size lines.
    let start = body
        .find('{')
        .unwrap_or_else(|| panic!("no JSON in {body:?}"));
    let end = body.rfind('}').unwrap();
    serde_json::from_str(&body[start..=end]).unwrap()
}

#[tokio::test]
async fn every_rest_answer_is_http_200_json_whatever_the_request_looks_like() {
    let t = spawn_app().await;
    let token = t.apps[0].token.clone();
    let get = |q: &str| {
        format!(
            "GET /rest/2.0/smartapp/package/get?access_token={token}{q} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
    };
    let long_query = get(&format!("&pad={}", "a".repeat(20_000)));
    let huge_value = format!(
        "GET /rest/2.0/smartapp/package/get?access_token={token} HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\nConnection: close\r\n\r\n",
        "b".repeat(1 << 20)
    );
    let cases: Vec<(String, Vec<u8>, i64)> = vec![
        ("a 20 KB query".into(), long_query.into_bytes(), 40001),
        ("a 1 MB header".into(), huge_value.into_bytes(), 40001),
        ("raw 0xFF in the query".into(), [get("&user_version=").as_bytes()[..get("&user_version=").find(" HTTP").unwrap()].to_vec(), b"\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec()].concat(), 40001),
        ("raw NUL in the query".into(), [get("&x=").as_bytes()[..get("&x=").find(" HTTP").unwrap()].to_vec(), b"\x00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec()].concat(), 40001),
        (
            "Content-Length: -5".into(),
            format!("POST /rest/2.0/smartapp/package/get?access_token={token} HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n").into_bytes(),
            40001,
        ),
        (
            "two different Content-Length".into(),
            format!("POST /rest/2.0/smartapp/package/get?access_token={token} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde").into_bytes(),
            40001,
        ),
        (
            "a broken chunked body".into(),
            format!("POST /rest/2.0/smartapp/package/get?access_token={token} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n").into_bytes(),
            40001,
        ),
    ];
    for (what, request, errno) in cases {
        let (status, body) = raw(&t, &request).await;
        assert_eq!(status, 200, "{what}: {body}");
        let v = json_of(&body);
        assert_eq!(v["errno"], errno, "{what}: {v}");
        assert!(!v["msg"].as_str().unwrap().is_empty(), "{what}: {v}");
    }
    // The parameter named in the refusal of raw bytes.
    let (_, body) = raw(
        &t,
        &[
            get("&user_version=").as_bytes()[..get("&user_version=").find(" HTTP").unwrap()]
                .to_vec(),
            b"\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        ]
        .concat(),
    )
    .await;
    assert!(
        json_of(&body)["msg"]
            .as_str()
            .unwrap()
            .contains("user_version"),
        "{body}"
    );
    // Without a token, a malformed parameter still gets the gateway's answer.
    let (status, body) = raw(&t, b"GET /rest/2.0/smartapp/package/get?x=\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert_eq!(
        (status, json_of(&body)["error_code"].as_i64()),
        (200, Some(110)),
        "{body}"
    );
    // The operator API answers its own JSON error shape.
    let (status, body) = raw(
        &t,
        b"GET /admin/v1/apps HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(json_of(&body)["error"]["code"], "bad_request", "{body}");
    // And the server still serves.
    let v = t.api_get("package/get", &token, &[]).await;
    assert_eq!(v["errno"], 0, "{v}");
}

#[tokio::test]
async fn oauth_token_with_an_app_token_is_an_unknown_client() {
    let t = spawn_app().await;
    let app = t.apps[0].clone();
    let v: serde_json::Value = t
        .http
        .get(format!(
            "{}/rest/2.0/oauth/token?access_token={}&grant_type=app_to_tp_refresh_token&refresh_token={}",
            t.base, app.token, app.refresh_token
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["error"], "invalid_client", "{v}");
}

/// Bodies being received are bounded across all requests: while the
/// ceiling is taken (here by holding a share of it directly, as a long
/// upload does while its body arrives), another upload is refused at once
/// with 47019, and served again once the share is given back.
#[tokio::test]
async fn bodies_in_flight_are_bounded_and_refused_with_47019_past_the_ceiling() {
    let t = spawn_with(|c| {
        c.max_draft_bytes = 1 << 20;
        c.max_body_bytes_in_flight = 2 << 20;
    })
    .await;
    let held = t.state().body_budget.take(2 << 20).unwrap();
    let refused = t.upload_draft(sample_zip()).await;
    assert_eq!(refused["errno"], 47019, "{refused}");
    assert!(
        refused["msg"].as_str().unwrap().contains("MiB"),
        "{refused}"
    );
    drop(held);
    let v = t.upload_draft(sample_zip()).await;
    assert_eq!(v["errno"], 0, "the share was given back: {v}");
}

/// The documented rule for `access_token`: one in the query string is the
/// one used (it is checked before the body is read); one only in the body
/// is used when the query has none.
#[tokio::test]
async fn the_query_token_wins_over_a_body_token() {
    let t = spawn_app().await;
    let (a, b) = (t.apps[0].clone(), t.apps[1].clone());
    t.released_package(&a, "1.0.0").await;
    let get = |query_token: Option<&str>, body_token: &str| {
        let url = match query_token {
            Some(q) => format!("{}?access_token={q}", t.url("package/get")),
            None => t.url("package/get"),
        };
        t.http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("access_token={body_token}"))
            .send()
    };
    let v: serde_json::Value = get(Some(&a.token), &b.token)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["data"].as_array().unwrap().len(),
        1,
        "app A's package: {v}"
    );
    let v: serde_json::Value = get(None, &b.token).await.unwrap().json().await.unwrap();
    assert_eq!(v["data"], serde_json::json!([]), "app B has none: {v}");
}

/// A declared body over the route's limit is 47008 at once (not "busy"),
/// and an anonymous stalled body takes no share of the ceiling.
#[tokio::test]
async fn oversized_and_anonymous_bodies_do_not_take_the_ceiling() {
    use tokio::io::AsyncWriteExt;
    let t = spawn_with(|c| {
        c.max_draft_bytes = 1 << 20;
        c.max_body_bytes_in_flight = 2 << 20;
    })
    .await;
    let token = t.apps[0].token.clone();
    let (status, body) = raw(
        &t,
        format!(
            "POST /rest/2.0/smartapp/package/upload?access_token={token} HTTP/1.1\r\nHost: x\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3221225472\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(
        (status, json_of(&body)["errno"].as_i64()),
        (200, Some(47008)),
        "{body}"
    );
    // An anonymous upload that stalls holds nothing: others still upload.
    let mut stalled = tokio::net::TcpStream::connect(t.base.trim_start_matches("http://"))
        .await
        .unwrap();
    stalled
        .write_all(
            b"POST /rest/2.0/smartapp/template/uploaddraft HTTP/1.1\r\nHost: x\r\n\
              Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 2097000\r\n\r\n--XX\r\n",
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let v = t.upload_draft(sample_zip()).await;
    assert_eq!(v["errno"], 0, "{v}");
    drop(stalled);
}
