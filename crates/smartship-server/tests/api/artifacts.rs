//! The built package is a real artifact: downloadable, merged as specified,
//! and sharing stored files with every other package of its template.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeMap;

fn json_of(files: &BTreeMap<String, Vec<u8>>, path: &str) -> Value {
    serde_json::from_slice(&files[path]).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn download(t: &TestApp, id: i64) -> BTreeMap<String, Vec<u8>> {
    let resp = t
        .http
        .get(format!("{}/admin/v1/packages/{id}/download", t.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/zip");
    unzip(&resp.bytes().await.unwrap())
}

async fn blob_count(t: &TestApp) -> u64 {
    let (_, v) = t.admin_get("/admin/v1/storage").await;
    v["blob_count"].as_u64().unwrap()
}

#[tokio::test]
async fn built_package_contains_merged_configs_and_shares_files() {
    let t = spawn_app().await;
    let ext = r##"{
        "extEnable": true,
        "extAppid": APPID,
        "ext": {"name": "Shop A", "attr": {"host": "a.example"}},
        "extPages": {"pages/detail/detail": {"navigationBarTitleText": "Menu A"}},
        "window": {"navigationBarTitleText": "Shop A", "navigationBarBackgroundColor": "#000"},
        "tabBar": {"list": [
            {"pagePath": "pages/index/index", "text": "首页"},
            {"pagePath": "pages/detail/detail", "text": "菜单"}
        ]},
        "networkTimeout": {"request": 20000}
    }"##;
    let a = &t.apps[0];
    let before = blob_count(&t).await;
    let up = t
        .upload(a, "1.0.0", &ext.replace("APPID", &a.app_id.to_string()))
        .await;
    assert_eq!(up["errno"], 0, "{up}");
    let id_a = t.wait_built(a).await["package_id"].as_i64().unwrap();
    let files = download(&t, id_a).await;

    let app_json = json_of(&files, "app.json");
    assert_eq!(app_json["window"]["navigationBarTitleText"], "Shop A");
    assert_eq!(
        app_json["window"]["navigationBarTextStyle"], "black",
        "template keys not named by ext_json are kept"
    );
    assert_eq!(app_json["tabBar"]["list"][1]["text"], "菜单");
    assert_eq!(app_json["networkTimeout"]["request"], 20000);
    assert_eq!(app_json["pages"][0], "pages/index/index");
    let ext_json = json_of(&files, "ext.json");
    assert_eq!(ext_json["ext"]["attr"]["host"], "a.example");
    assert_eq!(
        json_of(&files, "pages/detail/detail.json")["navigationBarTitleText"],
        "Menu A"
    );
    let template = smartship_server::demo::sample_tree();
    assert_eq!(
        files["pages/index/index.js"],
        template["pages/index/index.js"]
    );
    assert_eq!(
        files.len(),
        template.len() + 1,
        "the template's files plus ext.json"
    );

    // A second app's package from the same template adds only the files
    // whose content differs: app.json and ext.json (its detail page config
    // is identical to the first app's and is stored once).
    let after_first = blob_count(&t).await;
    assert_eq!(after_first - before, 3);
    let b = &t.apps[1];
    let up = t
        .upload(
            b,
            "1.0.0",
            &ext.replace("APPID", &b.app_id.to_string())
                .replace("Shop A", "Shop B"),
        )
        .await;
    assert_eq!(up["errno"], 0, "{up}");
    let id_b = t.wait_built(b).await["package_id"].as_i64().unwrap();
    assert_eq!(blob_count(&t).await - after_first, 2);
    let files_b = download(&t, id_b).await;
    assert_eq!(
        json_of(&files_b, "app.json")["window"]["navigationBarTitleText"],
        "Shop B"
    );
    for (path, bytes) in &files {
        if !["app.json", "ext.json", "pages/detail/detail.json"].contains(&path.as_str()) {
            assert_eq!(&files_b[path], bytes, "{path} is shared");
        }
    }

    // An identical upload stores nothing new at all.
    let up = t
        .upload(
            b,
            "1.0.1",
            &ext.replace("APPID", &b.app_id.to_string())
                .replace("Shop A", "Shop B"),
        )
        .await;
    assert_eq!(up["errno"], 0);
    t.wait_until(b, |l| {
        l.iter()
            .any(|p| p["version"] == "1.0.1" && p["upload_status"] == 2)
    })
    .await;
    assert_eq!(blob_count(&t).await - after_first, 2);
}

#[tokio::test]
async fn ext_enable_false_uses_the_template_as_is() {
    let t = spawn_app().await;
    let a = &t.apps[0];
    t.upload(
        a,
        "1.0.0",
        r#"{"extEnable":false,"window":{"navigationBarTitleText":"X"}}"#,
    )
    .await;
    let id = t.wait_built(a).await["package_id"].as_i64().unwrap();
    let files = download(&t, id).await;
    let template = smartship_server::demo::sample_tree();
    assert_eq!(files, template);
}

#[tokio::test]
async fn download_of_an_unbuilt_package_is_refused() {
    let t = spawn_app().await;
    let a = &t.apps[0];
    t.upload(
        a,
        "1.0.0",
        r#"{"extEnable":true,"extPages":{"pages/nope":{}}}"#,
    )
    .await;
    let dev = t.wait_built(a).await;
    assert_eq!(dev["upload_status"], 3);
    let id = dev["package_id"].as_i64().unwrap();
    let (status, v) = t
        .admin_get(&format!("/admin/v1/packages/{id}/download"))
        .await;
    assert_eq!(status, 409);
    assert_eq!(v["error"]["code"], "not_built");
    let (status, _) = t.admin_get("/admin/v1/packages/999999/download").await;
    assert_eq!(status, 404);
}
