//! The request examples of the seed page, sent byte for byte as curl sends
//! them (parameters in the query string of a POST with no body, raw JSON and
//! UTF-8 Chinese in the query, a token with an encoded trailing newline), with
//! only host, tokens and ids swapped. Then the same calls as form bodies.

use crate::common::*;
use serde_json::{Value, json};
use std::io::{Read, Write};

/// Sends raw request bytes and returns (status code, JSON body).
fn raw_http(base: &str, request_head: &[u8], body: &[u8]) -> (u16, Value) {
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(request_head).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("a full HTTP response");
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// `curl -X POST 'URL'`: a POST with everything in the request target.
fn curl_post(base: &str, target: &str) -> Value {
    let addr = base.trim_start_matches("http://");
    let head = format!(
        "POST {target} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    let (status, v) = tokio::task::block_in_place(|| raw_http(base, head.as_bytes(), b""));
    assert_eq!(status, 200);
    v
}

fn success() -> Value {
    json!({"errno": 0, "msg": "success"})
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_examples_as_written() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let b = &t.base;
    let tok = &app.token;

    // 授权小程序上传包, exactly as written: raw JSON with quotes and a space
    // in the query, Chinese user_desc as raw UTF-8 with a raw space.
    let target = format!(
        "/rest/2.0/smartapp/package/upload?access_token={tok}&template_id={}&ext_json={{\"extEnable\":true, \"directCommit\":false}}&user_version=10.30.0.3&user_desc=模板分包优化提包 case4",
        t.template_id
    );
    assert_eq!(curl_post(b, &target), success());
    let dev = t.wait_built(app).await;
    assert_eq!(dev["version"], "10.30.0.3");
    assert_eq!(dev["version_desc"], "模板分包优化提包 case4");
    let id = dev["package_id"].as_i64().unwrap();

    // 授权小程序提交审核: percent-encoded UTF-8, exactly as on the page.
    let target = format!(
        "/rest/2.0/smartapp/package/submitaudit?access_token={tok}&package_id={id}&content=TP%E4%BB%A3%E9%80%81%E5%AE%A1%E5%BC%80%E5%8F%91%E5%8C%85&remark=%E4%BB%A3%E6%8F%90%E5%AE%A1"
    );
    assert_eq!(curl_post(b, &target), success());
    let (_, pkg) = t.admin_get(&format!("/admin/v1/packages/{id}")).await;
    assert_eq!(pkg["audit_content"], "TP代送审开发包");
    assert_eq!(pkg["remark"], "代提审");

    // 授权小程序撤销审核: the page's token carries an encoded newline.
    let target =
        format!("/rest/2.0/smartapp/package/withdraw?access_token={tok}%0A&package_id={id}");
    assert_eq!(curl_post(b, &target), success());
    let target = format!(
        "/rest/2.0/smartapp/package/submitaudit?access_token={tok}&package_id={id}&content=c&remark=r"
    );
    assert_eq!(curl_post(b, &target), success());
    t.review(id, true, "").await;

    // 授权小程序发布
    let target = format!("/rest/2.0/smartapp/package/release?access_token={tok}&package_id={id}");
    assert_eq!(curl_post(b, &target), success());

    // 获取小程序包列表: GET with a form content type and no body.
    let addr = b.trim_start_matches("http://");
    let head = format!(
        "GET /rest/2.0/smartapp/package/get?access_token={tok} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n"
    );
    let (status, list) = tokio::task::block_in_place(|| raw_http(b, head.as_bytes(), b""));
    assert_eq!(status, 200);
    assert_eq!(list["errno"], 0);
    assert_eq!(list["msg"], "success");
    let online = &list["data"][0];
    assert_eq!(online["status"], 1);
    assert_eq!(online["package_id"], id);
    for field in [
        "version",
        "remark",
        "msg",
        "committer",
        "commit_time",
        "version_desc",
        "rollback_version",
    ] {
        assert!(online[field].is_string(), "{field} is a string: {online}");
    }
    assert!(online["status"].is_i64());

    // 获取授权小程序包详情 (no parameters → the online version)
    let head = format!(
        "GET /rest/2.0/smartapp/package/getdetail?access_token={tok} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    let (_, detail) = tokio::task::block_in_place(|| raw_http(b, head.as_bytes(), b""));
    assert_eq!(detail["data"]["package_id"], id);
    assert_eq!(detail["data"]["status"], 1);

    // 授权小程序回滚包: needs an earlier version, so release a second one.
    let v2 = t.released_package(app, "10.30.0.4").await;
    let target = format!("/rest/2.0/smartapp/package/rollback?access_token={tok}&package_id={v2}");
    assert_eq!(curl_post(b, &target), success());
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_calls_as_form_and_multipart_bodies() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let addr = t.base.trim_start_matches("http://").to_owned();
    let post_form = |route: &str, body: String| {
        let head = format!(
            "POST /rest/2.0/smartapp/{route}?access_token={} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            app.token,
            body.len()
        );
        tokio::task::block_in_place(|| raw_http(&t.base, head.as_bytes(), body.as_bytes())).1
    };
    let ext = "%7B%22extEnable%22%3Atrue%2C%22directCommit%22%3Afalse%7D";
    let up = post_form(
        "package/upload",
        format!(
            "template_id={}&ext_json={ext}&user_version=1.0.0&user_desc=%E6%A8%A1%E6%9D%BF+case4",
            t.template_id
        ),
    );
    assert_eq!(up, success());
    let dev = t.wait_built(app).await;
    assert_eq!(
        dev["version_desc"], "模板 case4",
        "'+' decodes to a space in form bodies"
    );
    let id = dev["package_id"].as_i64().unwrap();

    // Body wins over the query string on conflict.
    let head_body = format!("package_id={id}&content=%E9%80%81%E5%AE%A1&remark=x");
    let head = format!(
        "POST /rest/2.0/smartapp/package/submitaudit?access_token={}&package_id=999999 HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.token,
        head_body.len()
    );
    let (_, sub) =
        tokio::task::block_in_place(|| raw_http(&t.base, head.as_bytes(), head_body.as_bytes()));
    assert_eq!(sub, success());
    t.review(id, true, "").await;

    // multipart/form-data, package_id given as a string field.
    let form = reqwest::multipart::Form::new().text("package_id", id.to_string());
    let rel: Value = t
        .http
        .post(t.url("package/release"))
        .query(&[("access_token", app.token.as_str()), ("sp_sdk_ver", "1.0")])
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rel, success());
    let detail = t.api_get("package/getdetail", &app.token, &[]).await;
    assert_eq!(detail["data"]["package_id"], id);
}
