//! Rollback to any retained version, and `package/gethistory` telling who
//! released and rolled back each version.

use crate::common::*;
use crate::runtime::{check, host_key};
use serde_json::Value;

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
