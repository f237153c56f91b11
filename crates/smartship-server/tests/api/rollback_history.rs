//! Rollback to any retained version, and `package/gethistory` telling who
//! released and rolled back each version.

use crate::common::*;
use crate::runtime::{check, host_key};
use serde_json::Value;
use std::time::Duration;

async fn online(t: &TestApp, app: &AppHandle) -> (i64, String) {
    let list = t
        .wait_until(app, |l| l.iter().any(|p| p["status"] == 1))
        .await;
    let p = list.iter().find(|p| p["status"] == 1).unwrap();
    (
        p["package_id"].as_i64().unwrap(),
        p["rollback_version"].as_str().unwrap_or("").to_owned(),
    )
}

async fn rollback(t: &TestApp, app: &AppHandle, online: i64, extra: &[(&str, &str)]) -> Value {
    let id = online.to_string();
    let mut params = vec![("package_id", id.as_str())];
    params.extend_from_slice(extra);
    t.api("package/rollback", &app.token, &params).await
}

#[tokio::test]
async fn a_rollback_returns_to_the_third_newest_version_and_the_history_says_who() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let (_, key) = host_key(&t).await;
    let mut ids = Vec::new();
    for v in ["1.0.0", "2.0.0", "3.0.0", "4.0.0"] {
        ids.push(t.released_package(app, v).await);
    }
    let v4 = ids[3];
    let before = t.states(app).await;

    // Refusals that change nothing.
    let other = t.released_package(&t.apps[1], "9.0.0").await;
    for (extra, errno) in [
        (vec![("target_package_id", v4.to_string())], 47023),
        (vec![("target_package_id", other.to_string())], 47023),
        (vec![("version", "7.7.7".to_owned())], 47023),
        (vec![("target_package_id", "abc".to_owned())], 40001),
        (
            vec![
                ("target_package_id", ids[1].to_string()),
                ("version", "2.0.0".to_owned()),
            ],
            40001,
        ),
    ] {
        let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = rollback(&t, app, v4, &extra).await;
        assert_eq!(r["errno"], errno, "{extra:?}: {r}");
    }
    assert_eq!(t.states(app).await, before);

    // Back to the third-newest version, by its version.
    let r = rollback(&t, app, v4, &[("version", "2.0.0")]).await;
    assert_eq!(r["errno"], 0, "{r}");
    let list = t
        .wait_until(app, |l| {
            l.iter()
                .any(|p| p["status"] == 1 && p["package_id"] == ids[1])
        })
        .await;
    let (on, rollback_version) = online(&t, app).await;
    assert_eq!(
        (on, rollback_version.as_str()),
        (ids[1], "1.0.0"),
        "{list:?}"
    );
    let states = t.states(app).await;
    let state = |id: i64| states.iter().find(|s| s.0 == id).unwrap().1.clone();
    assert_eq!(state(v4), "rolled_back");
    assert_eq!(
        state(ids[2]),
        "rolled_back",
        "versions newer than the one returned to"
    );
    assert_eq!(state(ids[0]), "history");
    let (_, a) = check(&t, &key, app.app_id, &[]).await;
    assert_eq!(
        a["version"], "2.0.0",
        "hosts get the version rolled back to"
    );

    let h = t.api_get("package/gethistory", &app.token, &[]).await;
    assert_eq!(h["errno"], 0, "{h}");
    assert_eq!(h["data"]["count"], 4);
    let list = h["data"]["list"].as_array().unwrap();
    assert_eq!(list[0]["package_id"], ids[1]);
    assert_eq!(list[0]["state"], "online");
    assert_eq!(list[0]["released_by"], "worker:rollback");
    let four = list.iter().find(|e| e["package_id"] == v4).unwrap();
    assert_eq!(four["state"], "rolled_back");
    assert_eq!(four["rolled_back_by"], format!("app:{}", app.app_id));
    assert_eq!(four["released_by"], format!("app:{}", app.app_id));
    assert!(four["rolled_back_at"].as_i64().unwrap() >= four["released_at"].as_i64().unwrap());
    let paged = t
        .api_get(
            "package/gethistory",
            &app.token,
            &[("page", "2"), ("page_size", "3")],
        )
        .await;
    assert_eq!(
        paged["data"]["list"].as_array().unwrap().len(),
        1,
        "{paged}"
    );

    // A plain rollback goes back in time (to 1.0.0), and a rolled-back
    // version is a target too.
    let r = rollback(&t, app, ids[1], &[]).await;
    assert_eq!(r["errno"], 0, "{r}");
    t.wait_until(app, |l| {
        l.iter()
            .any(|p| p["status"] == 1 && p["package_id"] == ids[0])
    })
    .await;
    let r = rollback(&t, app, ids[0], &[("target_package_id", &v4.to_string())]).await;
    assert_eq!(r["errno"], 0, "{r}");
    t.wait_until(app, |l| {
        l.iter().any(|p| p["status"] == 1 && p["package_id"] == v4)
    })
    .await;
    let r = rollback(&t, app, v4, &[]).await;
    assert_eq!(r["errno"], 47009, "nothing older is left in history: {r}");
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn a_scheduled_release_holds_its_slot_survives_a_restart_and_fires_on_time() {
    let mut t = spawn_app().await;
    let app = t.apps[0].clone();
    let v1 = crate::runtime::passed_with(&t, &app, "1.0.0", r#"{"extEnable":true}"#).await;
    let id = v1.to_string();
    for bad in ["soon", "-5", &(now_secs() + 400 * 24 * 3600).to_string()] {
        let r = t
            .api(
                "package/release",
                &app.token,
                &[("package_id", &id), ("release_at", bad)],
            )
            .await;
        assert_eq!(r["errno"], 40001, "{bad}: {r}");
    }
    // Scheduled, then cancelled: nothing happens at its time.
    let r = t
        .api(
            "package/release",
            &app.token,
            &[
                ("package_id", &id),
                ("release_at", &(now_secs() + 2).to_string()),
            ],
        )
        .await;
    assert_eq!(r["errno"], 0, "{r}");
    let c = t
        .api("package/cancelrelease", &app.token, &[("package_id", &id)])
        .await;
    assert_eq!(c["errno"], 0, "{c}");
    let c = t
        .api("package/cancelrelease", &app.token, &[("package_id", &id)])
        .await;
    assert_eq!(c["errno"], 47002, "nothing scheduled any more: {c}");

    // Scheduled 3 s ahead; while it waits it holds the audit slot.
    let at = now_secs() + 3;
    let r = t
        .api(
            "package/release",
            &app.token,
            &[("package_id", &id), ("release_at", &at.to_string())],
        )
        .await;
    assert_eq!(r["errno"], 0, "{r}");
    let list = t.packages(&app).await;
    let held = list.iter().find(|p| p["package_id"] == v1).unwrap();
    assert_eq!(
        (held["status"].as_i64(), held["release_at"].as_i64()),
        (Some(6), Some(at))
    );
    let up = t.upload(&app, "2.0.0", r#"{"extEnable":true}"#).await;
    assert_eq!(up["errno"], 0);
    let dev = t.wait_built(&app).await["package_id"].as_i64().unwrap();
    let sub = t
        .api(
            "package/submitaudit",
            &app.token,
            &[("package_id", &dev.to_string()), ("content", "c")],
        )
        .await;
    assert_eq!(sub["errno"], 47024, "{sub}");
    let g = t
        .api(
            "package/grayrelease",
            &app.token,
            &[("package_id", &id), ("gray_percentage", "10")],
        )
        .await;
    assert_eq!(g["errno"], 47024, "{g}");

    // The process stops and a new one starts before the time comes.
    t.restart().await;
    let list = t
        .wait_until(&app, |l| {
            l.iter().any(|p| p["package_id"] == v1 && p["status"] == 1)
        })
        .await;
    let fired = now_secs();
    assert!(
        fired >= at && fired <= at + 1,
        "fired at {fired}, due {at}: {list:?}"
    );
    let online = list.iter().find(|p| p["status"] == 1).unwrap();
    assert!(online.get("release_at").is_none(), "{online}");
    let h = t.api_get("package/gethistory", &app.token, &[]).await;
    assert_eq!(
        h["data"]["list"][0]["released_by"], "worker:schedule",
        "{h}"
    );
    let sub = t
        .api(
            "package/submitaudit",
            &app.token,
            &[("package_id", &dev.to_string()), ("content", "c")],
        )
        .await;
    assert_eq!(sub["errno"], 0, "the slot is free again: {sub}");
}

#[tokio::test]
async fn two_nodes_fire_each_scheduled_release_and_ramp_step_once() {
    if backend() != smartship_store::test_db::Backend::Postgres {
        eprintln!("skipped on SQLite: several nodes share a PostgreSQL database");
        return;
    }
    let t = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.database_url = Some(t.db.as_ref().unwrap().url().to_owned());
    let second = smartship_server::start(config, smartship_server::StartOptions::default())
        .await
        .unwrap();
    let mut apps = vec![t.apps[0].clone(), t.apps[1].clone()];
    for i in 0..4 {
        apps.push(t.create_app(&format!("node app {i}"), true, true).await);
    }
    let at = now_secs() + 2;
    let mut scheduled = Vec::new();
    for app in &apps[..3] {
        let id = crate::runtime::passed_with(&t, app, "1.0.0", r#"{"extEnable":true}"#).await;
        let r = t
            .api(
                "package/release",
                &app.token,
                &[
                    ("package_id", &id.to_string()),
                    ("release_at", &at.to_string()),
                ],
            )
            .await;
        assert_eq!(r["errno"], 0, "{r}");
        scheduled.push((app.clone(), id));
    }
    let ramp = format!("[{{\"gray_percentage\":100,\"at\":{at}}}]");
    let mut grayed = Vec::new();
    for app in &apps[3..] {
        let id = crate::runtime::passed_with(&t, app, "1.0.0", r#"{"extEnable":true}"#).await;
        let r = t
            .api(
                "package/grayrelease",
                &app.token,
                &[
                    ("package_id", &id.to_string()),
                    ("gray_percentage", "5"),
                    ("ramp", &ramp),
                ],
            )
            .await;
        assert_eq!(r["errno"], 0, "{r}");
        grayed.push((app.clone(), id));
    }
    for (app, id) in scheduled.iter().chain(grayed.iter()) {
        t.wait_until(app, |l| {
            l.iter().any(|p| p["package_id"] == *id && p["status"] == 1)
        })
        .await;
    }
    // Both nodes saw every item due; each went online once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (_, id) in scheduled.iter().chain(grayed.iter()) {
        let (_, p) = t.admin_get(&format!("/admin/v1/packages/{id}")).await;
        let online: Vec<&Value> = p["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|tr| tr["to"] == "online")
            .collect();
        assert_eq!(online.len(), 1, "{p}");
    }
    second.stop().await.unwrap();
}

#[tokio::test]
async fn with_retained_versions_only_the_newest_earlier_versions_are_targets() {
    let t = spawn_with(|c| c.retained_versions = 2).await;
    let app = &t.apps[0];
    let mut ids = Vec::new();
    for v in ["1.0.0", "2.0.0", "3.0.0", "4.0.0"] {
        ids.push(t.released_package(app, v).await);
    }
    // Earlier versions, newest first: 3.0.0, 2.0.0 retained; 1.0.0 not.
    let r = rollback(&t, app, ids[3], &[("version", "1.0.0")]).await;
    assert_eq!(r["errno"], 47023, "{r}");
    let h = t.api_get("package/gethistory", &app.token, &[]).await;
    let versions: Vec<&str> = h["data"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["4.0.0", "3.0.0", "2.0.0"], "{h}");
    let r = rollback(&t, app, ids[3], &[("version", "2.0.0")]).await;
    assert_eq!(r["errno"], 0, "{r}");
    t.wait_until(app, |l| {
        l.iter()
            .any(|p| p["status"] == 1 && p["package_id"] == ids[1])
    })
    .await;
}
