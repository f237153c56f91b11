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

/// The operator console in Chromium (`tests/browser/console.mjs`): a
/// reviewer passes one package by mouse and fails another by keyboard, and
/// the platform's receiver gets both results; a viewer sees no action and
/// its forged POST is refused; every page at a desktop and a phone width
/// is photographed (`target/test-artifacts/console/`) and has no serious or
/// critical accessibility violation (axe-core).
#[tokio::test(flavor = "multi_thread")]
async fn console_in_headless_chromium() {
    use crate::console::{operator, submitted};
    use crate::precheck::{EVIL_PAGE, big_image, template_with};
    let t = spawn_with(|c| {
        c.events_allowed_networks = "127.0.0.0/8".to_owned();
        c.events_retry_schedule = "0.1".to_owned();
    })
    .await;
    // The first event's two attempts fail: it ends `failed`, to be
    // replayed from its page.
    let r = crate::events::start_receiver(vec![(500, "down"), (500, "down")]).await;
    assert_eq!(
        t.patch_tp(serde_json::json!({"message_url": r.url}))
            .await
            .0,
        200
    );
    let (a, b) = (t.apps[0].clone(), t.apps[1].clone());
    let c = t.create_app("Third shop", true, true).await;
    let d = t.create_app("Fourth shop", true, true).await;

    // App a: online 1.0.0, then 1.1.0 under audit with another ext.json
    // (its page shows the difference).
    t.upload(
        &a,
        "1.0.0",
        r#"{"extEnable":true,"ext":{"name":"Old Shop"}}"#,
    )
    .await;
    let first = t.wait_built(&a).await["package_id"].as_i64().unwrap();
    t.api(
        "package/submitaudit",
        &a.token,
        &[
            ("package_id", &first.to_string()),
            ("content", "c"),
            ("remark", ""),
        ],
    )
    .await;
    assert_eq!(t.review(first, true, "").await.0, 200);
    let rel = t
        .api(
            "package/release",
            &a.token,
            &[("package_id", &first.to_string())],
        )
        .await;
    assert_eq!(rel["errno"], 0, "{rel}");
    t.upload(
        &a,
        "1.1.0",
        r#"{"extEnable":true,"ext":{"name":"New Shop","color":"red"}}"#,
    )
    .await;
    let pass_id = t.wait_built(&a).await["package_id"].as_i64().unwrap();
    let sub = t
        .api(
            "package/submitaudit",
            &a.token,
            &[
                ("package_id", &pass_id.to_string()),
                ("content", "新版首页"),
                ("remark", ""),
            ],
        )
        .await;
    assert_eq!(sub["errno"], 0, "{sub}");
    let failed_event = {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let (_, v) = t.admin_get("/admin/v1/events?status=failed").await;
            if let Some(id) = v["events"][0]["event_id"].as_i64() {
                break id;
            }
            assert!(std::time::Instant::now() < deadline, "no event failed: {v}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    // App e: two releases, the second to be rolled back from its page.
    let e = t.create_app("Fifth shop", true, true).await;
    let e_first = t.released_package(&e, "1.0.0").await;
    let e_second = t.released_package(&e, "2.0.0").await;
    let fail_id = submitted(&t, &b, "2.0.0").await;
    let viewer_id = submitted(&t, &c, "3.0.0").await;
    // App d: a package with eval and a 3 MB image, refused at submission.
    let tpl = template_with(
        &t,
        &[
            ("pages/index/index.js", EVIL_PAGE.to_vec()),
            ("images/banner.png", big_image()),
        ],
    )
    .await;
    t.upload_from(&d, &tpl, "0.9.0", r#"{"extEnable":true}"#)
        .await;
    let checked_id = t.wait_built(&d).await["package_id"].as_i64().unwrap();

    let reviewer = ("rev", operator(&t, "rev", "reviewer").await);
    let viewer = ("watcher", operator(&t, "watcher", "viewer").await);
    let admin = ("boss", operator(&t, "boss", "admin").await);
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let shots = format!("{root}/target/test-artifacts/console");
    std::fs::create_dir_all(&shots).unwrap();
    let plan = serde_json::json!({
        "base": t.base,
        "reviewer": [reviewer.0, reviewer.1],
        "viewer": [viewer.0, viewer.1],
        "pass_id": pass_id,
        "fail_id": fail_id,
        "viewer_id": viewer_id,
        "admin": [admin.0, admin.1],
        "failed_event": failed_event,
        "rollback_app": e.app_id,
        "pages": {
            "dashboard": "/console",
            "reviews": "/console/reviews",
            "package": format!("/console/packages/{viewer_id}"),
            "package-diff": format!("/console/packages/{pass_id}"),
            "package-checks": format!("/console/packages/{checked_id}"),
            "apps": "/console/apps",
            "app": format!("/console/apps/{}", e.app_id),
            "tps": "/console/tps",
            "events": "/console/events",
            "event": format!("/console/events/{failed_event}"),
            "audit": "/console/audit",
        },
        "shots": shots,
    });
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(format!("{root}/tests/browser/console.mjs"))
            .arg(plan.to_string())
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

    // The reviewer's two decisions, one by mouse and one by keyboard.
    assert_eq!(result["reviewer_landed"], "/console/reviews", "{result}");
    assert!(
        result["mouse_notice"]
            .as_str()
            .unwrap()
            .contains(&pass_id.to_string()),
        "{result}"
    );
    assert_eq!(
        result["keyboard_selected"],
        format!("/console/packages/{fail_id}/review"),
        "{result}"
    );
    assert!(
        !result["keyboard_reason"].as_str().unwrap().is_empty(),
        "a template filled the reason: {result}"
    );
    assert_eq!(result["keyboard_focus"], "fail-submit", "{result}");
    assert!(
        result["keyboard_notice"]
            .as_str()
            .unwrap()
            .contains(&fail_id.to_string()),
        "{result}"
    );
    let state = |id: i64| {
        let t = &t;
        async move { t.admin_get(&format!("/admin/v1/packages/{id}")).await.1["state"].clone() }
    };
    assert_eq!(state(pass_id).await, "audit_passed");
    assert_eq!(state(fail_id).await, "audit_failed");

    // The viewer: rows, no action; its forged POST refused, nothing changed.
    assert_eq!(result["viewer_actions"], 0, "{result}");
    assert!(result["viewer_rows"].as_i64().unwrap() >= 1, "{result}");
    assert_eq!(result["viewer_package_actions"], 0, "{result}");
    assert_eq!(result["viewer_forged_status"], 403, "{result}");
    assert_eq!(state(viewer_id).await, "auditing");

    // The admin's replay and rollback.
    assert_eq!(result["event_status_before"], "failed", "{result}");
    assert!(
        result["replay_notice"]
            .as_str()
            .unwrap()
            .contains(&failed_event.to_string()),
        "{result}"
    );
    assert!(
        result["rollback_notice"]
            .as_str()
            .unwrap()
            .contains(&e.app_id.to_string()),
        "{result}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, v) = t
            .admin_get(&format!("/admin/v1/events/{failed_event}"))
            .await;
        let (first, second) = (state(e_first).await, state(e_second).await);
        if v["status"] == "delivered" && first == "online" && second == "rolled_back" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "replay or rollback not done: {v} {first} {second}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Every audit result reached the platform: the replayed one, the
    // reviewer's pass and fail, the releases' passes; none failed.
    let (_, v) = t.admin_get("/admin/v1/events?status=failed").await;
    assert_eq!(v["events"], serde_json::json!([]), "{v}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while r.hits().len() < 7 {
        assert!(
            std::time::Instant::now() < deadline,
            "events not delivered: {}",
            r.hits().len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Pages kept their CSP and ran no blocked script; axe found nothing
    // serious or critical anywhere.
    assert_eq!(result["console_errors"], serde_json::json!([]), "{result}");
    let axe = result["axe"].as_object().unwrap();
    assert_eq!(axe.len(), 24, "12 pages × 2 widths: {result}");
    for (page, violations) in axe {
        let bad: Vec<_> = violations
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(bad.is_empty(), "{page}: {bad:?}");
    }
    for shot in result["shots"].as_array().unwrap() {
        let len = std::fs::metadata(shot.as_str().unwrap()).unwrap().len();
        assert!(len > 5000, "{shot} is a real picture");
    }
    // The checked package's page names the file and line of the eval.
    let (status, page) = {
        let b = crate::console::Browser::sign_in(&t, "rev", &reviewer.1).await;
        b.get(&format!("/console/packages/{checked_id}")).await
    };
    assert_eq!(status, 200);
    assert!(
        page.contains("code.eval") && page.contains("pages/index/index.js:3"),
        "{page}"
    );
    assert!(
        page.contains("size.main") && page.contains("images/banner.png"),
        "{page}"
    );
}
