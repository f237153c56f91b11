//! The whole lifecycle of the seed over raw HTTP.

use crate::common::*;
use serde_json::Value;

fn by_status(list: &[Value], status: i64) -> Option<&Value> {
    list.iter().find(|p| p["status"] == status)
}

#[tokio::test]
async fn upload_audit_release_rollback_withdraw_fail() {
    let t = spawn_app().await;
    let app = &t.apps[0];

    // upload → poll until status 3 → submitaudit → pass → release → online
    let up = t
        .upload(app, "1.0.0", r#"{"extEnable":true,"ext":{"shop":"A"}}"#)
        .await;
    assert_eq!(up, serde_json::json!({"errno": 0, "msg": "success"}));
    let dev = t.wait_built(app).await;
    assert_eq!(dev["status"], 3);
    assert_eq!(dev["upload_status"], 2);
    assert_eq!(dev["version"], "1.0.0");
    assert_eq!(dev["version_desc"], "desc 1.0.0");
    assert!(dev["package_id"].is_i64(), "package_id is a JSON integer");
    let commit_time = dev["commit_time"].as_str().unwrap();
    assert_eq!(commit_time.len(), 19);
    assert_eq!(&commit_time[4..5], "/");
    let v1 = dev["package_id"].as_i64().unwrap();
    let v1s = v1.to_string();

    let sub = t
        .api(
            "package/submitaudit",
            &app.token,
            &[
                ("package_id", &v1s),
                ("content", "送审"),
                ("remark", "备注"),
            ],
        )
        .await;
    assert_eq!(sub["errno"], 0, "{sub}");
    let list = t.packages(app).await;
    assert_eq!(by_status(&list, 4).unwrap()["package_id"], v1);
    assert_eq!(by_status(&list, 4).unwrap()["remark"], "备注");
    assert!(
        by_status(&list, 3).is_none(),
        "the development slot is empty"
    );

    let (status, _) = t.review(v1, true, "").await;
    assert_eq!(status, 200);
    let detail = t
        .api_get("package/getdetail", &app.token, &[("package_id", &v1s)])
        .await;
    assert_eq!(detail["data"]["status"], 6);
    assert_eq!(detail["data"]["msg"], "审核通过");

    let rel = t
        .api("package/release", &app.token, &[("package_id", &v1s)])
        .await;
    assert_eq!(rel["errno"], 0, "{rel}");
    let online = t.api_get("package/getdetail", &app.token, &[]).await;
    assert_eq!(online["errno"], 0);
    assert_eq!(online["data"]["status"], 1);
    assert_eq!(online["data"]["package_id"], v1);
    assert_eq!(online["data"]["rollback_version"], "");

    // a second version released → rollback shows 8, then v1 online again
    let v2 = t.released_package(app, "2.0.0").await;
    let online = t.api_get("package/getdetail", &app.token, &[]).await;
    assert_eq!(online["data"]["package_id"], v2);
    assert_eq!(online["data"]["rollback_version"], "1.0.0");

    let rb = t
        .api(
            "package/rollback",
            &app.token,
            &[("package_id", &v2.to_string())],
        )
        .await;
    assert_eq!(rb["errno"], 0, "{rb}");
    let list = t.packages(app).await;
    let rolling = by_status(&list, 8).expect("status 8 right after the rollback call");
    assert_eq!(rolling["package_id"], v2);
    let list = t
        .wait_until(app, |l| {
            by_status(l, 1).is_some_and(|p| p["package_id"] == v1)
        })
        .await;
    assert!(by_status(&list, 8).is_none());
    assert_eq!(by_status(&list, 1).unwrap()["version"], "1.0.0");
    let detail = t
        .api_get("package/getdetail", &app.token, &[("type", "1")])
        .await;
    assert_eq!(detail["data"]["package_id"], v1);

    // withdraw: 4 → 3
    t.upload(app, "3.0.0", r#"{"extEnable":false}"#).await;
    let v3 = t.wait_built(app).await["package_id"].as_i64().unwrap();
    let v3s = v3.to_string();
    t.api(
        "package/submitaudit",
        &app.token,
        &[("package_id", &v3s), ("content", "c"), ("remark", "")],
    )
    .await;
    let wd = t
        .api("package/withdraw", &app.token, &[("package_id", &v3s)])
        .await;
    assert_eq!(wd["errno"], 0, "{wd}");
    let list = t.packages(app).await;
    assert_eq!(by_status(&list, 3).unwrap()["package_id"], v3);
    assert!(by_status(&list, 4).is_none());

    // audit fail: the reason is visible in msg
    t.api(
        "package/submitaudit",
        &app.token,
        &[("package_id", &v3s), ("content", "c"), ("remark", "")],
    )
    .await;
    let reason = "名称过长（名称控制在10个字以内）。";
    let (status, _) = t.review(v3, false, reason).await;
    assert_eq!(status, 200);
    let list = t.packages(app).await;
    let failed = by_status(&list, 5).unwrap();
    assert_eq!(failed["package_id"], v3);
    assert_eq!(failed["msg"], reason);

    // the transition history records who, when, from and to
    let (_, pkg) = t.admin_get(&format!("/admin/v1/packages/{v3}")).await;
    let steps: Vec<(String, String)> = pkg["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["from"].as_str().unwrap_or("-").to_owned(),
                s["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("-", "development"),
            ("development", "auditing"),
            ("auditing", "development"),
            ("development", "auditing"),
            ("auditing", "audit_failed"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert_eq!(
        pkg["transitions"][1]["actor"],
        format!("app:{}", app.app_id)
    );
    assert_eq!(pkg["transitions"][4]["actor"], "admin");

    // audit results were written to the outbox for delivery
    let (_, ev) = t
        .admin_get(&format!("/admin/v1/events?client_id={}", t.tp_client_id))
        .await;
    let kinds: Vec<&str> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .filter(|kind| kind.starts_with("PACKAGE_"))
        .collect();
    assert_eq!(
        kinds,
        [
            "PACKAGE_AUDIT_FAIL",
            "PACKAGE_AUDIT_PASS",
            "PACKAGE_AUDIT_PASS"
        ]
    );
    let fail = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "PACKAGE_AUDIT_FAIL")
        .unwrap();
    assert_eq!(fail["reason"], reason);
}

#[tokio::test]
async fn direct_commit_upload_goes_to_audit_after_build() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let up = t
        .upload(app, "1.0.0", r#"{"extEnable":true,"directCommit":true}"#)
        .await;
    assert_eq!(up["errno"], 0, "{up}");
    let list = t.wait_until(app, |l| by_status(l, 4).is_some()).await;
    assert_eq!(list.len(), 1);
    let q = t.api_get("package/auditquota", &app.token, &[]).await;
    assert_eq!(q["data"]["remain_times"], 999);
}

#[tokio::test]
async fn a_new_upload_replaces_the_development_package() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    t.upload(app, "1.0.0", r#"{"extEnable":true}"#).await;
    let first = t.wait_built(app).await["package_id"].as_i64().unwrap();
    t.upload(app, "1.0.1", r#"{"extEnable":true}"#).await;
    let second = t.wait_built(app).await;
    assert_ne!(second["package_id"], first);
    assert_eq!(second["version"], "1.0.1");
    assert_eq!(t.packages(app).await.len(), 1);
}

#[tokio::test]
async fn the_auto_pass_policy_reviews_submissions() {
    let t =
        spawn_with(|c| c.review_policy = smartship_server::config::ReviewPolicy::AutoPass).await;
    let app = &t.apps[0];
    t.upload(app, "1.0.0", r#"{"extEnable":true}"#).await;
    let id = t.wait_built(app).await["package_id"].as_i64().unwrap();
    let sub = t
        .api(
            "package/submitaudit",
            &app.token,
            &[
                ("package_id", &id.to_string()),
                ("content", "c"),
                ("remark", ""),
            ],
        )
        .await;
    assert_eq!(sub["errno"], 0);
    t.wait_until(app, |l| l.iter().any(|p| p["status"] == 6))
        .await;
    let (_, pkg) = t.admin_get(&format!("/admin/v1/packages/{id}")).await;
    let last = pkg["transitions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["actor"], "policy:auto-pass");
    assert_eq!(last["to"], "audit_passed");
    let rel = t
        .api(
            "package/release",
            &app.token,
            &[("package_id", &id.to_string())],
        )
        .await;
    assert_eq!(rel["errno"], 0);

    // A direct-commit upload goes all the way to "audit passed" by itself.
    let up = t
        .upload(app, "2.0.0", r#"{"extEnable":true,"directCommit":true}"#)
        .await;
    assert_eq!(up["errno"], 0);
    t.wait_until(app, |l| {
        l.iter()
            .any(|p| p["status"] == 6 && p["version"] == "2.0.0")
    })
    .await;
    let (_, ev) = t
        .admin_get(&format!("/admin/v1/events?client_id={}", t.tp_client_id))
        .await;
    let passes = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "PACKAGE_AUDIT_PASS")
        .count();
    assert_eq!(passes, 2);
}
