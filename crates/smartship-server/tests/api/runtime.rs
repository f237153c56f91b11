//! Delivery to host runtimes over raw HTTP: host-app keys, the update
//! check and its signature, immutable downloads, incremental packages,
//! refusals of apps that are not served.

use crate::common::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, VerifyingKey};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub async fn host_key(t: &TestApp) -> (i64, String) {
    let (status, k) = t
        .admin_post("/admin/v1/host-keys", json!({"name": "test host"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{k}");
    let key = k["host_key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("shk_"), "{key}");
    (k["id"].as_i64().unwrap(), key)
}

pub async fn check(
    t: &TestApp,
    key: &str,
    app: i64,
    query: &[(&str, &str)],
) -> (StatusCode, Value) {
    let resp = t
        .http
        .get(format!("{}/runtime/v1/apps/{app}/update", t.base))
        .bearer_auth(key)
        .query(query)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

async fn published_keys(t: &TestApp) -> BTreeMap<String, VerifyingKey> {
    let v: Value = t
        .http
        .get(format!("{}/runtime/v1/keys", t.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let raw: [u8; 32] = B64
                .decode(k["public_key"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap();
            (
                k["key_id"].as_str().unwrap().to_owned(),
                VerifyingKey::from_bytes(&raw).unwrap(),
            )
        })
        .collect()
}

/// Whether `signature` verifies the documented message with a published key.
async fn verifies(t: &TestApp, app: i64, answer: &Value, sha256: &str, signature: &str) -> bool {
    let keys = published_keys(t).await;
    let Some(key) = keys.get(answer["key_id"].as_str().unwrap()) else {
        return false;
    };
    let message = format!(
        "smartship-package-v1\n{app}\n{}\n{}\n{sha256}",
        answer["package_id"],
        answer["version"].as_str().unwrap()
    );
    let sig: [u8; 64] = B64.decode(signature).unwrap().try_into().unwrap();
    key.verify_strict(message.as_bytes(), &Signature::from_bytes(&sig))
        .is_ok()
}

pub async fn download(t: &TestApp, url: &str) -> reqwest::Response {
    assert!(url.starts_with(&t.base), "{url} is not on {}", t.base);
    t.http.get(url).send().await.unwrap()
}

/// Upload with `ext` → build → submit → pass; returns the package id.
pub async fn passed_with(t: &TestApp, app: &AppHandle, version: &str, ext: &str) -> i64 {
    let up = t.upload(app, version, ext).await;
    assert_eq!(up["errno"], 0, "{up}");
    let dev = t.wait_built(app).await;
    let id = dev["package_id"].as_i64().unwrap();
    let sub = t
        .api(
            "package/submitaudit",
            &app.token,
            &[("package_id", &id.to_string()), ("content", "c")],
        )
        .await;
    assert_eq!(sub["errno"], 0, "{sub}");
    assert_eq!(t.review(id, true, "").await.0, StatusCode::OK);
    id
}

pub async fn release(t: &TestApp, app: &AppHandle, id: i64) {
    let r = t
        .api(
            "package/release",
            &app.token,
            &[("package_id", &id.to_string())],
        )
        .await;
    assert_eq!(r["errno"], 0, "{r}");
}

#[tokio::test]
async fn the_update_check_answers_the_signed_online_version_and_downloads_are_immutable() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let (key_id, key) = host_key(&t).await;

    // Keys: none, malformed, unknown.
    let resp = t
        .http
        .get(format!("{}/runtime/v1/apps/{}/update", t.base, app.app_id))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "host_key_required", "{v}");
    let (status, v) = check(&t, "shk_0000", app.app_id, &[]).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("host_key_invalid"))
    );

    // Nothing released yet; no such app.
    let (status, v) = check(&t, &key, app.app_id, &[("user_id", "u1")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["error"]["code"], "no_online_version");
    let (status, v) = check(&t, &key, 999_999, &[]).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("app_not_found"))
    );
    let long = "u".repeat(129);
    let (status, v) = check(&t, &key, app.app_id, &[("user_id", &long)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    let id = t.released_package(app, "1.0.0").await;
    let (status, a) = check(&t, &key, app.app_id, &[("user_id", "u1")]).await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(a["package_id"], id);
    assert_eq!(a["version"], "1.0.0");
    assert_eq!(a["channel"], "online");
    assert_eq!(a["up_to_date"], false);
    assert!(a.get("incremental").is_none(), "{a}");
    let sha = a["sha256"].as_str().unwrap();
    assert!(verifies(&t, app.app_id, &a, sha, a["signature"].as_str().unwrap()).await);
    // A signature over another version does not verify.
    let mut forged = a.clone();
    forged["version"] = json!("9.9.9");
    assert!(
        !verifies(
            &t,
            app.app_id,
            &forged,
            sha,
            a["signature"].as_str().unwrap()
        )
        .await
    );

    // The download is the zip the answer describes, cacheable forever.
    let url = a["download_url"].as_str().unwrap();
    let resp = download(&t, url).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers().clone();
    assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(h["etag"].to_str().unwrap(), format!("\"{sha}\""));
    assert_eq!(h["content-type"], "application/zip");
    let body = resp.bytes().await.unwrap();
    assert_eq!(body.len() as i64, a["size"].as_i64().unwrap());
    assert_eq!(smartship_core::manifest::sha256_hex(&body), sha);
    let files = unzip(&body);
    assert!(files.contains_key("app.json"), "{:?}", files.keys());
    // The same answer again names the same artifact.
    let (_, again) = check(&t, &key, app.app_id, &[("user_id", "u2")]).await;
    assert_eq!(again["sha256"], a["sha256"]);
    // A caller's Host header never decides where others are sent.
    let forged = t
        .http
        .get(format!("{}/runtime/v1/apps/{}/update", t.base, app.app_id))
        .bearer_auth(&key)
        .header("host", "evil.example")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(
        forged["download_url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/", t.base)),
        "{forged}"
    );

    // 304, one range, a range outside, several ranges (all), HEAD.
    let resp = t
        .http
        .get(url)
        .header("If-None-Match", format!("\"{sha}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert!(resp.bytes().await.unwrap().is_empty());
    let resp = t
        .http
        .get(url)
        .header("Range", "bytes=10-109")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        resp.headers()["content-range"].to_str().unwrap(),
        format!("bytes 10-109/{}", body.len())
    );
    assert_eq!(&resp.bytes().await.unwrap()[..], &body[10..110]);
    let resp = t
        .http
        .get(url)
        .header("Range", "bytes=-5")
        .send()
        .await
        .unwrap();
    assert_eq!(&resp.bytes().await.unwrap()[..], &body[body.len() - 5..]);
    let resp = t
        .http
        .get(url)
        .header("Range", format!("bytes={}-", body.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let resp = t
        .http
        .get(url)
        .header("Range", "bytes=0-1,4-5")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = t.http.head(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-length"].to_str().unwrap(),
        body.len().to_string()
    );

    // Only artifacts are served: not a blob of the template's sources, not
    // a made-up digest, not a path.
    let app_json = smartship_core::manifest::sha256_hex(&files["app.json"]);
    for bad in [
        format!("{app_json}.zip"),
        format!("{}.zip", "0".repeat(64)),
        "..%2F..%2Fetc%2Fpasswd".to_owned(),
        sha.to_owned(),
    ] {
        let resp = t
            .http
            .get(format!(
                "{}/runtime/v1/apps/{}/artifacts/{bad}",
                t.base, app.app_id
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{bad}");
    }

    // A revoked key stops at once; the list shows it revoked.
    let resp = t
        .http
        .delete(format!("{}/admin/v1/host-keys/{key_id}", t.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (status, _) = check(&t, &key, app.app_id, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, list) = t.admin_get("/admin/v1/host-keys").await;
    assert!(list["keys"][0]["revoked_at"].is_i64(), "{list}");
    assert!(
        list.to_string().find("shk_").is_none(),
        "secrets are never listed: {list}"
    );
}

#[tokio::test]
async fn an_incremental_package_from_the_previous_version_yields_identical_files() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let (_, key) = host_key(&t).await;
    let v1 = passed_with(
        &t,
        app,
        "1.0.0",
        r#"{"extEnable":true,"ext":{"color":"red"}}"#,
    )
    .await;
    release(&t, app, v1).await;
    let (_, a1) = check(&t, &key, app.app_id, &[]).await;
    let old = unzip(
        &download(&t, a1["download_url"].as_str().unwrap())
            .await
            .bytes()
            .await
            .unwrap(),
    );
    let v2 = passed_with(
        &t,
        app,
        "1.1.0",
        r#"{"extEnable":true,"ext":{"color":"blue","more":[1,2,3]}}"#,
    )
    .await;
    release(&t, app, v2).await;

    let (status, a) = check(&t, &key, app.app_id, &[("current_version", "1.0.0")]).await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(a["package_id"], v2);
    let inc = &a["incremental"];
    assert_eq!(inc["from_package_id"], v1, "{a}");
    assert_eq!(inc["from_version"], "1.0.0");
    assert!(inc["size"].as_i64().unwrap() < a["size"].as_i64().unwrap());
    let inc_sha = inc["sha256"].as_str().unwrap();
    // Signed as an incremental package from 1.0.0, never as a whole one.
    assert!(
        !verifies(
            &t,
            app.app_id,
            &a,
            inc_sha,
            inc["signature"].as_str().unwrap()
        )
        .await
    );
    let keys = published_keys(&t).await;
    let message = format!(
        "smartship-delta-v1\n{}\n{v1}\n{v2}\n1.1.0\n{inc_sha}",
        app.app_id
    );
    let sig: [u8; 64] = B64
        .decode(inc["signature"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    assert!(
        keys[inc["key_id"].as_str().unwrap()]
            .verify_strict(message.as_bytes(), &Signature::from_bytes(&sig))
            .is_ok()
    );
    let delta_bytes = download(&t, inc["download_url"].as_str().unwrap())
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(smartship_core::manifest::sha256_hex(&delta_bytes), inc_sha);
    let full = unzip(
        &download(&t, a["download_url"].as_str().unwrap())
            .await
            .bytes()
            .await
            .unwrap(),
    );

    // Apply: remove what delta.json names, write files/…, check every hash.
    let delta = unzip(&delta_bytes);
    let manifest: Value = serde_json::from_slice(&delta["delta.json"]).unwrap();
    let mut applied = old.clone();
    for r in manifest["removed"].as_array().unwrap() {
        applied.remove(r.as_str().unwrap());
    }
    for (path, bytes) in &delta {
        if let Some(p) = path.strip_prefix("files/") {
            applied.insert(p.to_owned(), bytes.clone());
        }
    }
    assert_eq!(
        applied, full,
        "the incremental package applied to 1.0.0 is 1.1.0"
    );
    let hashes: BTreeMap<String, String> = applied
        .iter()
        .map(|(p, b)| (p.clone(), smartship_core::manifest::sha256_hex(b)))
        .collect();
    assert_eq!(serde_json::to_value(&hashes).unwrap(), manifest["files"]);
    assert!(
        delta.len() < full.len() + 1,
        "only changed files are carried"
    );

    // Up to date: no incremental; an unknown version: none either.
    let (_, same) = check(&t, &key, app.app_id, &[("current_version", "1.1.0")]).await;
    assert_eq!(same["up_to_date"], true);
    assert!(same.get("incremental").is_none());
    let (_, unknown) = check(&t, &key, app.app_id, &[("current_version", "0.0.1")]).await;
    assert!(unknown.get("incremental").is_none());
}

#[tokio::test]
async fn paused_banned_and_forced_offline_apps_are_not_served() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let (_, key) = host_key(&t).await;
    t.released_package(app, "1.0.0").await;
    let (_, served) = check(&t, &key, app.app_id, &[]).await;
    let patch = |status: &'static str| {
        let t = &t;
        async move {
            let resp = t
                .http
                .patch(format!("{}/admin/v1/apps/{}", t.base, app.app_id))
                .bearer_auth(ADMIN_TOKEN)
                .json(&if matches!(status, "banned" | "forced_offline") {
                    json!({"service_status": status, "reason": "test"})
                } else {
                    json!({"service_status": status})
                })
                .send()
                .await
                .unwrap();
            (resp.status(), resp.json::<Value>().await.unwrap())
        }
    };
    for (status, code) in [
        ("paused", "app_paused"),
        ("banned", "app_banned"),
        ("forced_offline", "app_forced_offline"),
    ] {
        let (s, v) = patch(status).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["service_status"], status);
        let (s, v) = check(&t, &key, app.app_id, &[]).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some(code))
        );
        let resp = download(&t, served["download_url"].as_str().unwrap()).await;
        assert_eq!(
            resp.status(),
            StatusCode::NOT_FOUND,
            "{status}: its zip is not served"
        );
    }
    let (s, v) = patch("sleeping").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = patch("normal").await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = check(&t, &key, app.app_id, &[]).await;
    assert_eq!(s, StatusCode::OK);
    let resp = download(&t, served["download_url"].as_str().unwrap()).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_ban_holds_per_app_when_another_app_has_the_same_bytes() {
    let t = spawn_app().await;
    let (a, b) = (&t.apps[0], &t.apps[1]);
    let (_, key) = host_key(&t).await;
    for app in [a, b] {
        let id = passed_with(&t, app, "1.0.0", r#"{"extEnable":true}"#).await;
        release(&t, app, id).await;
    }
    let (_, va) = check(&t, &key, a.app_id, &[]).await;
    let (_, vb) = check(&t, &key, b.app_id, &[]).await;
    assert_eq!(va["sha256"], vb["sha256"], "byte-identical builds");
    assert_ne!(va["download_url"], vb["download_url"]);
    let (s, _) = t
        .admin_patch(
            &format!("/admin/v1/apps/{}", a.app_id),
            json!({"service_status": "banned", "reason": "test"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let resp = download(&t, va["download_url"].as_str().unwrap()).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "the banned app's zip");
    let resp = download(&t, vb["download_url"].as_str().unwrap()).await;
    assert_eq!(resp.status(), StatusCode::OK, "the other app's, same bytes");
    // The digest of B's zip under another served app that never had it.
    let c = t.create_app("App C", true, true).await;
    let url = format!(
        "{}/runtime/v1/apps/{}/artifacts/{}.zip",
        t.base,
        c.app_id,
        vb["sha256"].as_str().unwrap()
    );
    assert_eq!(download(&t, &url).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_rotated_signing_key_signs_and_the_old_one_stays_published_for_the_overlap() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let (_, key) = host_key(&t).await;
    t.released_package(app, "1.0.0").await;
    let (_, before) = check(&t, &key, app.app_id, &[]).await;
    let (status, rotated) = t
        .admin_post(
            "/admin/v1/signing-keys/rotate",
            json!({"overlap_secs": 3600}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let (_, after) = check(&t, &key, app.app_id, &[]).await;
    assert_eq!(after["key_id"], rotated["key_id"]);
    assert_ne!(after["key_id"], before["key_id"]);
    let keys = published_keys(&t).await;
    assert_eq!(keys.len(), 2, "old and new published");
    // The answer signed by the old key still verifies.
    let sha = before["sha256"].as_str().unwrap();
    assert!(
        verifies(
            &t,
            app.app_id,
            &before,
            sha,
            before["signature"].as_str().unwrap()
        )
        .await
    );
    let (status, _) = t
        .admin_post("/admin/v1/signing-keys/rotate", json!({"overlap_secs": 0}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "shorter than nodes take to switch"
    );
}

/// A man in the middle: forwards to the server, and flips one byte of every
/// artifact it passes on.
async fn tampering_proxy(server: String) -> String {
    use axum::extract::{Request, State};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let me = format!("http://{}", listener.local_addr().unwrap());
    let upstream = (server, me.clone());
    let app = axum::Router::new()
        .fallback(
            |State((server, me)): State<(String, String)>, req: Request| async move {
                let url = format!("{server}{}", req.uri());
                let mut out = reqwest::Client::new().get(url);
                if let Some(a) = req.headers().get("authorization") {
                    out = out.header("authorization", a.to_str().unwrap());
                }
                let resp = out.send().await.unwrap();
                let status = resp.status().as_u16();
                let mut body = resp.bytes().await.unwrap().to_vec();
                if req.uri().path().contains("/artifacts/") {
                    let mid = body.len() / 2;
                    body[mid] ^= 1;
                } else {
                    body = String::from_utf8(body)
                        .unwrap()
                        .replace(&server, &me)
                        .into_bytes();
                }
                (axum::http::StatusCode::from_u16(status).unwrap(), body)
            },
        )
        .with_state(upstream);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    me
}

#[tokio::test]
async fn the_runtime_client_pulls_verifies_and_updates_incrementally_and_refuses_tampering() {
    use smartship_client::Error;
    use smartship_client::runtime::{Pulled, RuntimeClient, STATE_FILE};
    let t = spawn_app().await;
    let app = &t.apps[0];
    let (_, key) = host_key(&t).await;
    let v1 = passed_with(&t, app, "1.0.0", r#"{"extEnable":true,"ext":{"n":1}}"#).await;
    release(&t, app, v1).await;
    let client = RuntimeClient::new(t.base.clone(), key.clone());
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("copy");
    let files_of = |dir: &std::path::Path| -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                    if rel != STATE_FILE {
                        out.insert(rel, std::fs::read(&p).unwrap());
                    }
                }
            }
        }
        out
    };

    let first = client.pull(app.app_id, Some("alice"), &dir).await.unwrap();
    let Pulled::Full { copy, .. } = &first else {
        panic!("{first:?}")
    };
    assert_eq!(copy.version, "1.0.0");
    let (_, a1) = check(&t, &key, app.app_id, &[]).await;
    let full1 = unzip(
        &download(&t, a1["download_url"].as_str().unwrap())
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert_eq!(files_of(&dir), full1);
    assert!(matches!(
        client.pull(app.app_id, Some("alice"), &dir).await.unwrap(),
        Pulled::UpToDate(_)
    ));

    let v2 = passed_with(
        &t,
        app,
        "2.0.0",
        r#"{"extEnable":true,"ext":{"n":2,"more":"yes"}}"#,
    )
    .await;
    release(&t, app, v2).await;
    let second = client.pull(app.app_id, Some("alice"), &dir).await.unwrap();
    let Pulled::Incremental { copy, bytes } = &second else {
        panic!("{second:?}")
    };
    assert_eq!(copy.version, "2.0.0");
    let (_, a2) = check(&t, &key, app.app_id, &[]).await;
    assert!((*bytes as i64) < a2["size"].as_i64().unwrap());
    let full2 = unzip(
        &download(&t, a2["download_url"].as_str().unwrap())
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert_eq!(
        files_of(&dir),
        full2,
        "the incremental update is byte-identical"
    );

    // A tampered byte on the way: refused, and the copy is untouched.
    let proxy = tampering_proxy(t.base.clone()).await;
    let through = RuntimeClient::new(proxy, key.clone());
    let fresh = work.path().join("fresh");
    let e = through.pull(app.app_id, None, &fresh).await.unwrap_err();
    assert!(matches!(e, Error::Verification(_)), "{e}");
    assert!(!fresh.exists(), "nothing unverified is written");
    std::fs::write(dir.join("app.json"), b"{}").unwrap();
    let e = through.pull(app.app_id, None, &dir).await.unwrap_err();
    assert!(matches!(e, Error::Verification(_)), "{e}");
    assert_eq!(
        std::fs::read(dir.join("app.json")).unwrap(),
        b"{}",
        "the copy was left as it was"
    );
    // The honest server repairs the copy (its files no longer verify).
    assert!(matches!(
        client.pull(app.app_id, None, &dir).await.unwrap(),
        Pulled::Full { .. }
    ));
    assert_eq!(files_of(&dir), full2);

    // A signature of another package is refused before anything is used.
    let mut answer = client.check(app.app_id, None, None).await.unwrap();
    answer.signature = a1["signature"].as_str().unwrap().to_owned();
    let e = client.download(&answer).await.unwrap_err();
    assert!(matches!(e, Error::Verification(_)), "{e}");
}

async fn app_status(t: &TestApp, app: &AppHandle) -> Value {
    t.api_get("app/info", &app.token, &[]).await["data"]["status"].clone()
}

#[tokio::test]
async fn an_app_paused_by_its_owner_is_not_served_until_it_resumes() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let (_, key) = host_key(&t).await;
    t.released_package(app, "1.0.0").await;
    assert_eq!(app_status(&t, app).await, 1);
    let r = t.api("app/resume", &app.token, &[]).await;
    assert_eq!(r["errno"], 47025, "not paused: {r}");

    let r = t.api("app/pause", &app.token, &[]).await;
    assert_eq!(r["errno"], 0, "{r}");
    assert_eq!(r["data"]["errno"], 0, "{r}");
    assert_eq!(app_status(&t, app).await, 4);
    let (s, v) = check(&t, &key, app.app_id, &[]).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("app_paused"))
    );
    let r = t.api("app/pause", &app.token, &[]).await;
    assert_eq!(r["errno"], 47025, "already paused: {r}");
    // The other app is untouched.
    assert_eq!(
        t.api_get("app/info", &t.apps[1].token, &[]).await["data"]["status"],
        1
    );

    let r = t.api("app/resume", &app.token, &[]).await;
    assert_eq!(r["errno"], 0, "{r}");
    assert_eq!(app_status(&t, app).await, 1);
    let (s, _) = check(&t, &key, app.app_id, &[]).await;
    assert_eq!(s, StatusCode::OK);

    // A ban is an operator's: the owner can neither pause nor resume.
    let (s, _) = t
        .admin_patch(
            &format!("/admin/v1/apps/{}", app.app_id),
            json!({"service_status": "banned", "reason": "test"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(app_status(&t, app).await, -1);
    for route in ["app/pause", "app/resume"] {
        let r = t.api(route, &app.token, &[]).await;
        assert_eq!(r["errno"], 47025, "{route}: {r}");
    }
    assert_eq!(app_status(&t, app).await, -1);
}

/// `appflow/control` over raw HTTP, in the official SDKs' shape: a form
/// POST with `type`, `data: {errno, msg}`.
async fn flow_control(t: &TestApp, app: &AppHandle, kind: &str) -> Value {
    t.http
        .post(format!(
            "{}/rest/2.0/smartapp/appflow/control?access_token={}&sp_sdk_ver=1.0.0&sp_sdk_lang=go",
            t.base, app.token
        ))
        .form(&[("type", kind)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_app_whose_traffic_is_offline_is_not_served_until_it_is_opened() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let (_, key) = host_key(&t).await;
    t.released_package(app, "1.0.0").await;
    let r = flow_control(&t, app, "1").await;
    assert_eq!(r["errno"], 47025, "already open: {r}");

    let r = flow_control(&t, app, "2").await;
    assert_eq!(r["errno"], 0, "{r}");
    assert_eq!(r["data"]["errno"], 0, "{r}");
    assert!(r["data"]["msg"].is_string(), "{r}");
    assert_eq!(app_status(&t, app).await, 7);
    let (s, v) = check(&t, &key, app.app_id, &[]).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("app_traffic_offline"))
    );
    // Offline traffic is not a pause: neither pause nor resume applies.
    for route in ["app/pause", "app/resume"] {
        let r = t.api(route, &app.token, &[]).await;
        assert_eq!(r["errno"], 47025, "{route}: {r}");
    }
    for bad in ["0", "3", "x", ""] {
        let r = flow_control(&t, app, bad).await;
        assert_eq!(r["errno"], 40001, "type {bad:?}: {r}");
        assert!(r["msg"].as_str().unwrap().contains("type"), "{r}");
    }
    assert_eq!(app_status(&t, app).await, 7, "refusals change nothing");

    let r = flow_control(&t, app, "1").await;
    assert_eq!(r["errno"], 0, "{r}");
    assert_eq!(app_status(&t, app).await, 1);
    let (s, _) = check(&t, &key, app.app_id, &[]).await;
    assert_eq!(s, StatusCode::OK);
    // A paused app's traffic cannot be taken offline on top.
    t.api("app/pause", &app.token, &[]).await;
    let r = flow_control(&t, app, "2").await;
    assert_eq!(r["errno"], 47025, "{r}");
    assert_eq!(app_status(&t, app).await, 4);
}

/// Whether `answer`'s `signature_v2` verifies over the documented v2
/// lines, written out here independently of the server and the SDK.
async fn verifies_v2(t: &TestApp, app: i64, answer: &Value) -> bool {
    let keys = published_keys(t).await;
    let Some(key) = keys.get(answer["key_id"].as_str().unwrap()) else {
        return false;
    };
    let message = format!(
        "smartship-update-v2\n{app}\n{}\n{}\n{}\n{}\n{}\n{}",
        answer["package_id"],
        answer["version"].as_str().unwrap(),
        answer["sha256"].as_str().unwrap(),
        answer["sequence"],
        answer["issued_at"],
        answer["expires_at"],
    );
    let sig: [u8; 64] = B64
        .decode(answer["signature_v2"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    key.verify_strict(message.as_bytes(), &Signature::from_bytes(&sig))
        .is_ok()
}

#[tokio::test]
async fn hosts_are_told_apart_by_the_package_they_run_not_its_version() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let (_, key) = host_key(&t).await;
    let a = passed_with(&t, app, "1.0.0", r#"{"extEnable":true,"ext":{"n":1}}"#).await;
    release(&t, app, a).await;
    let (_, on_a) = check(&t, &key, app.app_id, &[("current_version", "1.0.0")]).await;
    assert_eq!(on_a["up_to_date"], true, "one 1.0.0 so far: {on_a}");
    let b = passed_with(
        &t,
        app,
        "1.0.0",
        r#"{"extEnable":true,"ext":{"n":2,"more":"a longer value"}}"#,
    )
    .await;
    release(&t, app, b).await;

    // A host on the first 1.0.0 that says only its version is not told it
    // is up to date (it may run either), and gets no incremental package.
    let (_, v) = check(&t, &key, app.app_id, &[("current_version", "1.0.0")]).await;
    assert_eq!(v["package_id"], b);
    assert_eq!(v["up_to_date"], false, "{v}");
    assert!(v.get("incremental").is_none(), "{v}");
    // By package id or digest it is known exactly.
    let (_, v) = check(
        &t,
        &key,
        app.app_id,
        &[("current_package_id", &a.to_string())],
    )
    .await;
    assert_eq!(v["up_to_date"], false, "{v}");
    assert_eq!(v["incremental"]["from_package_id"], a, "{v}");
    let (_, v) = check(
        &t,
        &key,
        app.app_id,
        &[("current_package_id", &b.to_string())],
    )
    .await;
    assert_eq!(v["up_to_date"], true, "{v}");
    let sha_a = on_a["sha256"].as_str().unwrap();
    let (_, v) = check(&t, &key, app.app_id, &[("current_sha256", sha_a)]).await;
    assert_eq!(
        (
            v["up_to_date"].clone(),
            v["incremental"]["from_package_id"].clone()
        ),
        (json!(false), json!(a)),
        "{v}"
    );
    let sha_b = v["sha256"].as_str().unwrap().to_owned();
    let (_, v) = check(&t, &key, app.app_id, &[("current_sha256", &sha_b)]).await;
    assert_eq!(v["up_to_date"], true, "{v}");
    // Malformed identities are refused, not guessed at.
    for (name, value) in [
        ("current_sha256", "ABC"),
        ("current_sha256", &"g".repeat(64)),
        ("current_package_id", "0"),
    ] {
        let (s, v) = check(&t, &key, app.app_id, &[(name, value)]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{name}={value}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(name),
            "{v}"
        );
    }

    // A rollback to "1.0.0" names two packages: refused, naming both.
    let c = passed_with(&t, app, "2.0.0", r#"{"extEnable":true}"#).await;
    release(&t, app, c).await;
    let r = t
        .api(
            "package/rollback",
            &app.token,
            &[("package_id", &c.to_string()), ("version", "1.0.0")],
        )
        .await;
    assert_eq!(r["errno"], 47035, "{r}");
    let msg = r["msg"].as_str().unwrap();
    assert!(
        msg.contains(&a.to_string()) && msg.contains(&b.to_string()),
        "{msg}"
    );
    let (_, v) = check(&t, &key, app.app_id, &[]).await;
    assert_eq!(v["package_id"], c, "nothing changed");
    let r = t
        .api(
            "package/rollback",
            &app.token,
            &[
                ("package_id", &c.to_string()),
                ("target_package_id", &a.to_string()),
            ],
        )
        .await;
    assert_eq!(r["errno"], 0, "{r}");
}

#[tokio::test]
async fn answers_expire_and_carry_a_release_sequence_that_only_rises() {
    use smartship_client::runtime::{RuntimeClient, UpdateAnswer, verify_answer};
    let t = spawn_app().await;
    let app = &t.apps[0];
    let (_, key) = host_key(&t).await;
    let v1 = passed_with(&t, app, "1.0.0", r#"{"extEnable":true}"#).await;
    release(&t, app, v1).await;
    let (_, a1) = check(&t, &key, app.app_id, &[]).await;
    assert!(verifies_v2(&t, app.app_id, &a1).await, "{a1}");
    let now = chrono::Utc::now().timestamp();
    let issued = a1["issued_at"].as_i64().unwrap();
    assert!((issued - now).abs() <= 5, "{a1}");
    assert_eq!(
        a1["expires_at"].as_i64().unwrap() - issued,
        86_400,
        "the default day"
    );
    // The sequence is signed: another one does not verify.
    let mut forged = a1.clone();
    forged["sequence"] = json!(a1["sequence"].as_i64().unwrap() + 100);
    assert!(!verifies_v2(&t, app.app_id, &forged).await);

    // A release, a phased release and a rollback each raise it.
    let mut seen = vec![a1["sequence"].as_i64().unwrap()];
    let v2 = passed_with(&t, app, "2.0.0", r#"{"extEnable":true,"ext":{"n":2}}"#).await;
    release(&t, app, v2).await;
    let (_, a2) = check(&t, &key, app.app_id, &[]).await;
    seen.push(a2["sequence"].as_i64().unwrap());
    let v3 = passed_with(&t, app, "3.0.0", r#"{"extEnable":true,"ext":{"n":3}}"#).await;
    let r = t
        .api(
            "package/grayrelease",
            &app.token,
            &[("package_id", &v3.to_string()), ("gray_percentage", "10")],
        )
        .await;
    assert_eq!(r["errno"], 0, "{r}");
    seen.push(
        check(&t, &key, app.app_id, &[]).await.1["sequence"]
            .as_i64()
            .unwrap(),
    );
    let r = t.api("package/revertgrayrelease", &app.token, &[]).await;
    assert_eq!(r["errno"], 0, "{r}");
    seen.push(
        check(&t, &key, app.app_id, &[]).await.1["sequence"]
            .as_i64()
            .unwrap(),
    );
    let r = t
        .api(
            "package/rollback",
            &app.token,
            &[("package_id", &v2.to_string())],
        )
        .await;
    assert_eq!(r["errno"], 0, "{r}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let back = loop {
        let (_, a) = check(&t, &key, app.app_id, &[]).await;
        if a["package_id"] == v1 {
            break a;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "rollback not done: {a}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    seen.push(back["sequence"].as_i64().unwrap());
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert!(verifies_v2(&t, app.app_id, &back).await);

    // The SDK: an old answer replayed to a host that ran a newer one, an
    // expired answer and a tampered one are refused; the rollback is not.
    let keys = RuntimeClient::new(t.base.clone(), key.clone())
        .keys()
        .await
        .unwrap();
    let parse = |v: &Value| serde_json::from_value::<UpdateAnswer>(v.clone()).unwrap();
    let ran = a2["sequence"].as_i64().unwrap();
    let old = parse(&a1);
    let err = verify_answer(&keys, &old, now, ran)
        .unwrap_err()
        .to_string();
    assert!(err.contains("replayed"), "{err}");
    let rolled_back = parse(&back);
    verify_answer(&keys, &rolled_back, now, ran).unwrap();
    let err = verify_answer(&keys, &rolled_back, rolled_back.expires_at + 301, 0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("expired"), "{err}");
    let mut tampered = parse(&back);
    tampered.expires_at += 86_400;
    assert!(verify_answer(&keys, &tampered, now, 0).is_err());
    // An answer without the v2 fields is not even read.
    let mut stripped = back.clone();
    stripped.as_object_mut().unwrap().remove("signature_v2");
    assert!(serde_json::from_value::<UpdateAnswer>(stripped).is_err());
}

#[tokio::test]
async fn a_host_that_ran_a_newer_release_refuses_a_replayed_answer() {
    use smartship_client::runtime::RuntimeClient;
    let t = spawn_app().await;
    let app = &t.apps[0];
    let (_, key) = host_key(&t).await;
    let v1 = passed_with(&t, app, "1.0.0", r#"{"extEnable":true}"#).await;
    release(&t, app, v1).await;
    let (_, old) = check(&t, &key, app.app_id, &[]).await;
    let v2 = passed_with(&t, app, "2.0.0", r#"{"extEnable":true,"ext":{"n":2}}"#).await;
    release(&t, app, v2).await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("copy");
    let client = RuntimeClient::new(t.base.clone(), key.clone());
    client.pull(app.app_id, None, &dir).await.unwrap();
    // Someone on the update path answers with the old signed answer.
    let replay = replaying_proxy(t.base.clone(), old).await;
    let err = RuntimeClient::new(replay, key)
        .pull(app.app_id, None, &dir)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("replayed"), "{err}");
    let copy: Value =
        serde_json::from_slice(&std::fs::read(dir.join(".smartship-runtime.json")).unwrap())
            .unwrap();
    assert_eq!(copy["package_id"], v2, "the copy is untouched");
}

/// A server that answers every update check with `answer` and passes
/// everything else on to `server`.
async fn replaying_proxy(server: String, answer: Value) -> String {
    use axum::extract::{Request, State};
    use axum::response::IntoResponse;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let me = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .fallback(
            |State((server, answer)): State<(String, Value)>, req: Request| async move {
                if req.uri().path().ends_with("/update") {
                    return axum::Json(answer).into_response();
                }
                let resp = reqwest::get(format!("{server}{}", req.uri()))
                    .await
                    .unwrap();
                let status = resp.status().as_u16();
                let body = resp.bytes().await.unwrap();
                (axum::http::StatusCode::from_u16(status).unwrap(), body).into_response()
            },
        )
        .with_state((server, answer));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    me
}
