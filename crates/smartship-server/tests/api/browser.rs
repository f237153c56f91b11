//! The consent page in a real headless browser (Chromium driven by
//! playwright-core, both installed by `scripts/test`): sign in with a wrong
//! password, then approve, and land on the ISV's redirect URI with an
//! authorization code that works. A screenshot of the page is kept in
//! `target/test-artifacts/consent-page.png`.

use crate::common::*;
use serde_json::Value;
use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn consent_in_headless_chromium() {
    let t = spawn_app().await;
    t.enable_consent().await;
    let pre = t.api_get("tp/createpreauthcode", &t.tp_token, &[]).await;
    let code = pre["data"]["pre_auth_code"].as_str().unwrap();
    let mut url = url::Url::parse(&format!("{}/mappconsole/tp/authorization", t.base)).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", &t.tp_client_id)
        .append_pair("pre_auth_code", code)
        .append_pair("redirect_uri", "https://isv.example/smartship/callback");

    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let artifacts = format!("{root}/target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let screenshot = format!("{artifacts}/consent-page.png");
    let url = url.to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(format!("{root}/tests/browser/consent.mjs"))
            .args([
                url.as_str(),
                "shop-admin",
                "s3cret-pass",
                screenshot.as_str(),
            ])
            .output()
            .expect("node runs (scripts/test installs the browser test tools)")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "browser run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        result["title"].as_str().unwrap().contains("Test ISV"),
        "{result}"
    );
    assert!(
        result["wrong_password_error"]
            .as_str()
            .unwrap()
            .contains("账号或密码错误"),
        "{result}"
    );
    let landed = url::Url::parse(result["final_url"].as_str().unwrap()).unwrap();
    assert_eq!(landed.host_str(), Some("isv.example"));
    let q: std::collections::HashMap<_, _> = landed.query_pairs().into_owned().collect();
    let png = std::fs::metadata(format!("{artifacts}/consent-page.png")).unwrap();
    assert!(png.len() > 1000, "a real screenshot was written");

    // The code from the browser's redirect buys working tokens.
    let tokens: Value = t
        .http
        .get(format!("{}/rest/2.0/oauth/token", t.base))
        .query(&[
            ("access_token", t.tp_token.as_str()),
            ("grant_type", "app_to_tp_authorization_code"),
            ("code", q["authorization_code"].as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().expect("tokens");
    assert_eq!(t.api_get("package/get", access, &[]).await["errno"], 0);
}
