//! Phased (gray) release over raw HTTP: who gets the package, the rules
//! while a plan is live, completion, revert, and the ramp the server
//! advances by itself.

use crate::common::*;
use crate::runtime::{check, host_key, passed_with, release};
use serde_json::Value;
use smartship_core::AppId;
use smartship_core::gray::bucket;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const USERS: usize = 400;

fn users() -> impl Iterator<Item = String> {
    (0..USERS).map(|i| format!("user-{i}"))
}

/// The users the update check gives the gray version.
async fn gray_users(t: &TestApp, key: &str, app: i64) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for u in users() {
        let (status, a) = check(t, key, app, &[("user_id", &u)]).await;
        assert_eq!(status, 200, "{a}");
        if a["channel"] == "gray" {
            out.insert(u);
        }
    }
    out
}

async fn gray(t: &TestApp, app: &AppHandle, route: &str, params: &[(&str, &str)]) -> Value {
    t.api(&format!("package/{route}"), &app.token, params).await
}

#[tokio::test]
async fn a_gray_release_serves_its_buckets_only_grows_and_reverts_everyone() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let (_, key) = host_key(&t).await;
    let v1 = passed_with(&t, app, "1.0.0", r#"{"extEnable":true}"#).await;
    release(&t, app, v1).await;
    let v2 = passed_with(&t, app, "2.0.0", r#"{"extEnable":true,"ext":{"v":2}}"#).await;
    let before = t.states(app).await;

    // Refusals that change nothing.
    for (pct, errno) in [("0", 40001), ("101", 40001), ("ten", 40001)] {
        let r = gray(
            &t,
            app,
            "grayrelease",
            &[("package_id", &v2.to_string()), ("gray_percentage", pct)],
        )
        .await;
        assert_eq!(r["errno"], errno, "{pct}: {r}");
    }
    let r = gray(
        &t,
        app,
        "grayrelease",
        &[("package_id", &v1.to_string()), ("gray_percentage", "10")],
    )
    .await;
    assert_eq!(
        r["errno"], 47002,
        "the online package cannot be grayed: {r}"
    );
    let r = gray(
        &t,
        app,
        "grayrelease",
        &[
            ("package_id", &v2.to_string()),
            ("gray_percentage", "10"),
            ("ramp", "[{\"gray_percentage\":5,\"at\":1}]"),
        ],
    )
    .await;
    assert_eq!(r["errno"], 40001, "{r}");
    // A step at the end of i64 milliseconds: pause and resume would wrap
    // it into the past; refused like a release_at beyond a year.
    let r = gray(
        &t,
        app,
        "grayrelease",
        &[
            ("package_id", &v2.to_string()),
            ("gray_percentage", "10"),
            ("ramp", "[{\"gray_percentage\":50,\"at\":9223372036854775}]"),
        ],
    )
    .await;
    assert_eq!(r["errno"], 40001, "{r}");
    assert!(r.to_string().contains("within a year"), "{r}");
    let other = &t.apps[1];
    let r = gray(
        &t,
        other,
        "grayrelease",
        &[("package_id", &v2.to_string()), ("gray_percentage", "10")],
    )
    .await;
    assert_eq!(r["errno"], 47001, "another app's package: {r}");
    let r = gray(&t, app, "pausegrayrelease", &[]).await;
    assert_eq!(r["errno"], 47022, "{r}");
    assert_eq!(t.states(app).await, before);
    let none = gray(&t, app, "getgrayreleaseplan", &[]).await;
    assert_eq!(none["data"]["status"], 0, "{none}");

    // 10 % plus an allow-listed user outside the buckets.
    let r = gray(
        &t,
        app,
        "grayrelease",
        &[
            ("package_id", &v2.to_string()),
            ("gray_percentage", "10"),
            ("user_list", "vip-1, vip-1"),
        ],
    )
    .await;
    assert_eq!(r["errno"], 0, "{r}");
    let plan = r["data"]["plan_id"].as_i64().unwrap();
    assert_eq!(r["data"]["status"], 1);
    assert_eq!(r["data"]["user_list"], serde_json::json!(["vip-1"]));
    let expected = |pct: u32| -> BTreeSet<String> {
        users()
            .filter(|u| bucket(AppId(app.app_id), plan, u) < pct * 100)
            .collect()
    };
    let first = gray_users(&t, &key, app.app_id).await;
    assert_eq!(first, expected(10));
    assert!(!first.is_empty());
    let (_, vip) = check(&t, &key, app.app_id, &[("user_id", "vip-1")]).await;
    assert_eq!(
        (vip["channel"].as_str(), vip["package_id"].as_i64()),
        (Some("gray"), Some(v2))
    );
    let (_, anon) = check(&t, &key, app.app_id, &[]).await;
    assert_eq!(anon["package_id"], v1, "no user id: the online version");

    // While it runs: a new submission, a rollback, a lower percentage.
    let v3 = t.upload(app, "3.0.0", r#"{"extEnable":true}"#).await;
    assert_eq!(v3["errno"], 0);
    let dev = t.wait_built(app).await["package_id"].as_i64().unwrap();
    let sub = t
        .api(
            "package/submitaudit",
            &app.token,
            &[("package_id", &dev.to_string()), ("content", "c")],
        )
        .await;
    assert_eq!(sub["errno"], 47020, "{sub}");
    let rb = t
        .api(
            "package/rollback",
            &app.token,
            &[("package_id", &v1.to_string())],
        )
        .await;
    assert_eq!(rb["errno"], 47020, "{rb}");
    let low = gray(
        &t,
        app,
        "grayrelease",
        &[("package_id", &v2.to_string()), ("gray_percentage", "5")],
    )
    .await;
    assert_eq!(low["errno"], 47021, "{low}");

    // Pause, resume, raise: nobody of the first 10 % moves back.
    assert_eq!(
        gray(&t, app, "pausegrayrelease", &[]).await["data"]["status"],
        2
    );
    assert_eq!(gray(&t, app, "pausegrayrelease", &[]).await["errno"], 47022);
    assert_eq!(
        gray_users(&t, &key, app.app_id).await,
        first,
        "a paused plan keeps serving"
    );
    assert_eq!(
        gray(&t, app, "resumegrayrelease", &[]).await["data"]["status"],
        1
    );
    let r = gray(
        &t,
        app,
        "grayrelease",
        &[("package_id", &v2.to_string()), ("gray_percentage", "30")],
    )
    .await;
    assert_eq!(r["data"]["gray_percentage"], 30, "{r}");
    let second = gray_users(&t, &key, app.app_id).await;
    assert_eq!(second, expected(30));
    assert!(first.is_subset(&second));

    // Revert: everyone back on 1.0.0; 2.0.0 stays audit passed.
    let r = gray(&t, app, "revertgrayrelease", &[]).await;
    assert_eq!(r["data"]["status"], 4, "{r}");
    assert!(gray_users(&t, &key, app.app_id).await.is_empty());
    let (_, vip) = check(&t, &key, app.app_id, &[("user_id", "vip-1")]).await;
    assert_eq!(vip["package_id"], v1);
    assert!(
        t.packages(app)
            .await
            .iter()
            .any(|p| p["package_id"] == v2 && p["status"] == 6)
    );

    // A new plan to 100 %: released as `release` does it.
    let r = gray(
        &t,
        app,
        "grayrelease",
        &[("package_id", &v2.to_string()), ("gray_percentage", "20")],
    )
    .await;
    assert_eq!(r["errno"], 0, "{r}");
    assert_ne!(r["data"]["plan_id"], plan, "a new plan draws new buckets");
    let r = gray(
        &t,
        app,
        "grayrelease",
        &[("package_id", &v2.to_string()), ("gray_percentage", "100")],
    )
    .await;
    assert_eq!(r["errno"], 0, "{r}");
    assert_eq!(r["data"]["status"], 3);
    let list = t.packages(app).await;
    let online = list.iter().find(|p| p["status"] == 1).unwrap();
    assert_eq!(
        (
            online["package_id"].as_i64(),
            online["rollback_version"].as_str()
        ),
        (Some(v2), Some("1.0.0"))
    );
    let (_, a) = check(&t, &key, app.app_id, &[("user_id", "user-1")]).await;
    assert_eq!(
        (a["package_id"].as_i64(), a["channel"].as_str()),
        (Some(v2), Some("online"))
    );
    // Now the submission goes through.
    let sub = t
        .api(
            "package/submitaudit",
            &app.token,
            &[("package_id", &dev.to_string()), ("content", "c")],
        )
        .await;
    assert_eq!(sub["errno"], 0, "{sub}");
}

#[tokio::test]
async fn release_of_a_grayed_package_completes_its_plan() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let v1 = passed_with(&t, app, "1.0.0", r#"{"extEnable":true}"#).await;
    let r = gray(
        &t,
        app,
        "grayrelease",
        &[("package_id", &v1.to_string()), ("gray_percentage", "1")],
    )
    .await;
    assert_eq!(r["errno"], 0, "{r}");
    release(&t, app, v1).await;
    let plan = gray(&t, app, "getgrayreleaseplan", &[]).await;
    assert_eq!(plan["data"]["status"], 3, "{plan}");
    assert_eq!(plan["data"]["gray_percentage"], 100);
    assert_eq!(plan["data"]["version"], "1.0.0");
}

#[tokio::test]
async fn a_ramp_advances_by_itself_waits_while_paused_and_completes() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let v1 = passed_with(&t, app, "1.0.0", r#"{"extEnable":true}"#).await;
    release(&t, app, v1).await;
    let v2 = passed_with(&t, app, "2.0.0", r#"{"extEnable":true,"ext":{"v":2}}"#).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let ramp = format!(
        "[{{\"gray_percentage\":50,\"at\":{}}},{{\"gray_percentage\":100,\"at\":{}}}]",
        now + 2,
        now + 4
    );
    let r = gray(
        &t,
        app,
        "grayrelease",
        &[
            ("package_id", &v2.to_string()),
            ("gray_percentage", "10"),
            ("ramp", &ramp),
        ],
    )
    .await;
    assert_eq!(r["errno"], 0, "{r}");
    assert_eq!(r["data"]["ramp"].as_array().unwrap().len(), 2);

    let wait_for = |pred: fn(&Value) -> bool, secs: u64| {
        let t = &t;
        async move {
            let deadline = Instant::now() + Duration::from_secs(secs);
            loop {
                let p = gray(t, app, "getgrayreleaseplan", &[]).await["data"].clone();
                if pred(&p) {
                    return p;
                }
                assert!(Instant::now() < deadline, "plan stuck at {p}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let p = wait_for(|p| p["gray_percentage"] == 50, 8).await;
    assert_eq!(p["status"], 1);
    let paused = gray(&t, app, "pausegrayrelease", &[]).await;
    assert_eq!(paused["data"]["status"], 2, "{paused}");
    // Past the 100 % step's time: a paused plan does not take it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let p = gray(&t, app, "getgrayreleaseplan", &[]).await["data"].clone();
    assert_eq!(
        (p["status"].as_i64(), p["gray_percentage"].as_i64()),
        (Some(2), Some(50)),
        "{p}"
    );
    let resumed = gray(&t, app, "resumegrayrelease", &[]).await;
    let step = resumed["data"]["ramp"][0]["at"].as_i64().unwrap();
    assert!(
        step >= now + 4 + 2,
        "the step moved later by the pause: {resumed}"
    );
    let p = wait_for(|p| p["status"] == 3, 10).await;
    assert_eq!(p["gray_percentage"], 100);
    let list = t.packages(app).await;
    assert!(
        list.iter()
            .any(|p| p["package_id"] == v2 && p["status"] == 1),
        "{list:?}"
    );
}

#[tokio::test]
async fn a_refused_release_at_100_percent_is_tried_again_until_it_happens() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let v1 = passed_with(&t, app, "1.0.0", r#"{"extEnable":true}"#).await;
    let r = gray(
        &t,
        app,
        "grayrelease",
        &[("package_id", &v1.to_string()), ("gray_percentage", "50")],
    )
    .await;
    assert_eq!(r["errno"], 0, "{r}");
    let (status, _) = t
        .admin_patch(
            &format!("/admin/v1/apps/{}", app.app_id),
            serde_json::json!({"authenticity_verified": false}),
        )
        .await;
    assert_eq!(status, 200);
    let r = gray(
        &t,
        app,
        "grayrelease",
        &[("package_id", &v1.to_string()), ("gray_percentage", "100")],
    )
    .await;
    assert_eq!(r["errno"], 47004, "{r}");
    let plan = gray(&t, app, "getgrayreleaseplan", &[]).await;
    assert_eq!(
        (
            plan["data"]["status"].as_i64(),
            plan["data"]["gray_percentage"].as_i64()
        ),
        (Some(1), Some(100)),
        "{plan}"
    );
    // Verified again: the ramp worker releases it on its next pass.
    let (status, _) = t
        .admin_patch(
            &format!("/admin/v1/apps/{}", app.app_id),
            serde_json::json!({"authenticity_verified": true}),
        )
        .await;
    assert_eq!(status, 200);
    let deadline = Instant::now() + Duration::from_secs(12);
    loop {
        let p = gray(&t, app, "getgrayreleaseplan", &[]).await;
        if p["data"]["status"] == 3 {
            break;
        }
        assert!(Instant::now() < deadline, "never released: {p}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        t.packages(app)
            .await
            .iter()
            .any(|p| p["package_id"] == v1 && p["status"] == 1)
    );
}
