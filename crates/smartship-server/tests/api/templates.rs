//! Template routes of SPEC §3 (draft and template lists with paging,
//! addtotemplate, deltemplate, the template limit) and the safety of the
//! draft upload extension `template/uploaddraft`: traversal, zip bombs and
//! archives that are no mini-program are refused and create nothing.

use crate::common::*;
use serde_json::{Value, json};
use smartship_core::archive::write_zip;

const APP_JSON: &[u8] = br#"{"pages":["pages/index/index"]}"#;

/// A zip holding exactly these entries, as an attacker would write it (the
/// product's own writer refuses unsafe names).
fn hostile_zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for (name, bytes) in files {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn now_secs() -> i64 {
    smartship_server::clock::now_ms() / 1000
}

/// Checks one list entry's shape: exactly the public fields, integer id,
/// `create_time` in Unix seconds close to now.
#[track_caller]
fn assert_entry(e: &Value, id_field: &str) {
    let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    let mut keys = keys;
    keys.sort_unstable();
    let mut want = vec![
        id_field,
        "user_version",
        "user_desc",
        "create_time",
        "web_status",
    ];
    want.sort_unstable();
    assert_eq!(keys, want, "{e}");
    assert!(e[id_field].is_i64(), "{id_field} is a JSON integer: {e}");
    assert!(e["user_version"].is_string(), "{e}");
    assert!(e["user_desc"].is_string(), "{e}");
    assert_eq!(
        e["web_status"],
        Value::Bool(false),
        "web_status is a JSON boolean, as the official SDKs declare: {e}"
    );
    let ct = e["create_time"]
        .as_i64()
        .expect("create_time is an integer");
    assert!(
        (ct - now_secs()).abs() <= 60,
        "create_time {ct} is Unix seconds within a minute of now"
    );
}

async fn draft_list(t: &TestApp, params: &[(&str, &str)]) -> Value {
    t.api_get("template/gettemplatedraftlist", &t.tp_token, params)
        .await
}

async fn template_list(t: &TestApp, params: &[(&str, &str)]) -> Value {
    t.api_get("template/gettemplatelist", &t.tp_token, params)
        .await
}

async fn add_template(t: &TestApp, draft_id: i64, desc: &str) -> Value {
    t.api(
        "template/addtotemplate",
        &t.tp_token,
        &[("draft_id", &draft_id.to_string()), ("user_desc", desc)],
    )
    .await
}

async fn new_draft(t: &TestApp) -> i64 {
    let d = t.upload_draft(sample_zip()).await;
    assert_eq!(d["errno"], 0, "{d}");
    d["data"]["draft_id"].as_i64().unwrap()
}

fn ids(list: &Value, field: &str) -> Vec<i64> {
    list["data"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[field].as_i64().unwrap())
        .collect()
}

// ------------------------------------------------------------------ lists

#[tokio::test]
async fn draft_list_defaults_paging_and_shape() {
    let t = spawn_app().await;
    let d2 = new_draft(&t).await;
    let d3 = new_draft(&t).await;

    let all = draft_list(&t, &[]).await;
    assert_eq!(all["errno"], 0, "{all}");
    assert_eq!(all["msg"], "success");
    assert_eq!(all["data"]["count"], 3, "{all}");
    let list = all["data"]["list"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    for e in list {
        assert_entry(e, "draft_id");
    }
    let all_ids = ids(&all, "draft_id");
    assert!(all_ids.contains(&d2) && all_ids.contains(&d3), "{all}");
    assert_eq!(list[0]["user_version"], "1.0.0");
    assert_eq!(list[0]["user_desc"], "sample");

    // explicit defaults give the same answer
    let same = draft_list(&t, &[("page", "1"), ("page_size", "10")]).await;
    assert_eq!(same, all);

    // page 2 of size 1 is the second entry of the full list
    let p2 = draft_list(&t, &[("page", "2"), ("page_size", "1")]).await;
    assert_eq!(p2["data"]["count"], 3, "count is the total: {p2}");
    assert_eq!(ids(&p2, "draft_id"), [all_ids[1]]);
    // the pages together are the full list
    let mut paged = Vec::new();
    for page in ["1", "2", "3"] {
        let v = draft_list(&t, &[("page", page), ("page_size", "1")]).await;
        paged.extend(ids(&v, "draft_id"));
    }
    assert_eq!(paged, all_ids);
    // past the end: an empty page
    let v = draft_list(&t, &[("page", "4"), ("page_size", "1")]).await;
    assert_eq!(v["data"], json!({"count": 3, "list": []}));
}

#[tokio::test]
async fn template_list_defaults_paging_and_shape() {
    let t = spawn_app().await;
    let d = new_draft(&t).await;
    let t2 = add_template(&t, d, "第二个模板").await;
    assert_eq!(t2["errno"], 0, "{t2}");
    let t2 = t2["data"]["template_id"]
        .as_i64()
        .expect("integer template_id");
    let t3 = add_template(&t, d, "third").await["data"]["template_id"]
        .as_i64()
        .unwrap();

    let all = template_list(&t, &[]).await;
    assert_eq!(all["errno"], 0, "{all}");
    assert_eq!(all["data"]["count"], 3, "{all}");
    let list = all["data"]["list"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    for e in list {
        assert_entry(e, "template_id");
    }
    let all_ids = ids(&all, "template_id");
    for id in [t.template_id, t2, t3] {
        assert!(all_ids.contains(&id), "{id} listed: {all}");
    }
    let second = list.iter().find(|e| e["template_id"] == t2).unwrap();
    assert_eq!(second["user_desc"], "第二个模板");
    assert_eq!(second["user_version"], "1.0.0", "from the draft");

    let p2 = template_list(&t, &[("page", "2"), ("page_size", "1")]).await;
    assert_eq!(p2["data"]["count"], 3, "{p2}");
    assert_eq!(ids(&p2, "template_id"), [all_ids[1]]);
    let p = template_list(&t, &[("page", "1"), ("page_size", "2")]).await;
    assert_eq!(ids(&p, "template_id"), all_ids[..2]);
}

#[tokio::test]
async fn page_size_out_of_range_is_40001() {
    let t = spawn_app().await;
    for route in ["template/gettemplatedraftlist", "template/gettemplatelist"] {
        for size in ["0", "101", "-1", "abc"] {
            let v = t.api_get(route, &t.tp_token, &[("page_size", size)]).await;
            assert_eq!(v["errno"], 40001, "{route} page_size={size}: {v}");
            assert!(v["msg"].as_str().unwrap().contains("page_size"), "{v}");
        }
        for page in ["0", "x"] {
            let v = t.api_get(route, &t.tp_token, &[("page", page)]).await;
            assert_eq!(v["errno"], 40001, "{route} page={page}: {v}");
            assert!(v["msg"].as_str().unwrap().contains("page"), "{v}");
        }
        for size in ["1", "100"] {
            let v = t.api_get(route, &t.tp_token, &[("page_size", size)]).await;
            assert_eq!(v["errno"], 0, "{route} page_size={size}: {v}");
        }
    }
}

// ------------------------------------------------------------ addtotemplate

#[tokio::test]
async fn addtotemplate_user_desc_longer_than_30_chars_is_40001() {
    let t = spawn_app().await;
    let d = new_draft(&t).await;
    for desc in ["a".repeat(31), "模".repeat(31)] {
        let v = add_template(&t, d, &desc).await;
        assert_eq!(v["errno"], 40001, "{v}");
        assert!(v["msg"].as_str().unwrap().contains("user_desc"), "{v}");
    }
    let v = t
        .api(
            "template/addtotemplate",
            &t.tp_token,
            &[("draft_id", &d.to_string())],
        )
        .await;
    assert_eq!(v["errno"], 40001, "{v}");
    assert!(v["msg"].as_str().unwrap().contains("user_desc"), "{v}");
    let v = t
        .api("template/addtotemplate", &t.tp_token, &[("user_desc", "x")])
        .await;
    assert_eq!(v["errno"], 40001, "{v}");
    assert!(v["msg"].as_str().unwrap().contains("draft_id"), "{v}");
    assert_eq!(template_list(&t, &[]).await["data"]["count"], 1);

    // 30 characters (counted as characters, not bytes) are fine
    let v = add_template(&t, d, &"模".repeat(30)).await;
    assert_eq!(v["errno"], 0, "{v}");
    assert!(v["data"]["template_id"].is_i64(), "{v}");
    assert_eq!(template_list(&t, &[]).await["data"]["count"], 2);
}

#[tokio::test]
async fn addtotemplate_of_an_unknown_draft_is_47011() {
    let t = spawn_app().await;
    let v = add_template(&t, 987_654_321, "x").await;
    assert_eq!(v["errno"], 47011, "{v}");
    assert_eq!(template_list(&t, &[]).await["data"]["count"], 1);
}

#[tokio::test]
async fn the_template_limit_is_47006() {
    let t = spawn_with(|c| c.max_templates = 2).await;
    let d = new_draft(&t).await;
    let v = add_template(&t, d, "second").await;
    assert_eq!(v["errno"], 0, "{v}");
    let before = template_list(&t, &[]).await;
    assert_eq!(before["data"]["count"], 2);
    let v = add_template(&t, d, "third").await;
    assert_eq!(v["errno"], 47006, "{v}");
    assert!(v.get("data").is_none(), "{v}");
    assert_eq!(template_list(&t, &[]).await, before);

    // deleting one makes room again
    let del = t
        .api(
            "template/deltemplate",
            &t.tp_token,
            &[("template_id", &t.template_id.to_string())],
        )
        .await;
    assert_eq!(del["errno"], 0, "{del}");
    let v = add_template(&t, d, "third").await;
    assert_eq!(v["errno"], 0, "{v}");
}

// ---------------------------------------------------------------- deltemplate

#[tokio::test]
async fn deltemplate_removes_the_template() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let id = t.template_id.to_string();
    let v = t
        .api("template/deltemplate", &t.tp_token, &[("template_id", &id)])
        .await;
    assert_eq!(
        v,
        json!({"errno": 0, "msg": "success", "data": {"result": 1}})
    );

    let list = template_list(&t, &[]).await;
    assert_eq!(list["data"], json!({"count": 0, "list": []}));
    let up = t.upload(app, "1.0.0", r#"{"extEnable":true}"#).await;
    assert_eq!(up["errno"], 47007, "{up}");
    assert!(t.states(app).await.is_empty());

    // deleting again, or an id that never existed
    for id in [id.as_str(), "987654321"] {
        let v = t
            .api("template/deltemplate", &t.tp_token, &[("template_id", id)])
            .await;
        assert_eq!(v["errno"], 47007, "{v}");
    }
    let v = t.api("template/deltemplate", &t.tp_token, &[]).await;
    assert_eq!(v["errno"], 40001, "{v}");
    assert!(v["msg"].as_str().unwrap().contains("template_id"), "{v}");
    // the draft it came from is still there
    assert_eq!(draft_list(&t, &[]).await["data"]["count"], 1);
}

#[tokio::test]
async fn deleting_a_template_keeps_packages_built_from_it() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let id = t.released_package(app, "1.0.0").await;
    let v = t
        .api(
            "template/deltemplate",
            &t.tp_token,
            &[("template_id", &t.template_id.to_string())],
        )
        .await;
    assert_eq!(v["data"]["result"], 1, "{v}");
    let online = t.api_get("package/getdetail", &app.token, &[]).await;
    assert_eq!(online["data"]["package_id"], id, "{online}");
    assert_eq!(online["data"]["status"], 1, "{online}");
}

// ------------------------------------------------------- draft upload safety

async fn assert_draft_refused(t: &TestApp, zip: Vec<u8>, errno: i64) -> Value {
    let before = draft_list(t, &[]).await;
    let v = t.upload_draft(zip).await;
    assert_eq!(v["errno"], errno, "{v}");
    assert!(v.get("data").is_none(), "{v}");
    assert_eq!(draft_list(t, &[]).await, before, "no draft was created");
    v
}

#[tokio::test]
async fn draft_with_path_traversal_is_47014() {
    let t = spawn_app().await;
    let zip = hostile_zip(&[
        ("app.json", APP_JSON),
        ("pages/index/index.js", &b"Page({})"[..]),
        ("../evil.js", &b"evil"[..]),
    ]);
    let v = assert_draft_refused(&t, zip, 47014).await;
    assert!(v["msg"].as_str().unwrap().contains("../evil.js"), "{v}");
    let zip = hostile_zip(&[("app.json", APP_JSON), ("/etc/evil.js", &b"evil"[..])]);
    assert_draft_refused(&t, zip, 47014).await;
    assert!(
        !t.dir.path().parent().unwrap().join("evil.js").exists()
            && !t.dir.path().join("evil.js").exists()
    );
}

#[tokio::test]
async fn draft_zip_bomb_is_47008() {
    let t = spawn_with(|c| c.max_draft_bytes = 1 << 20).await;
    let zeros = vec![0u8; 64 << 20];
    let zip = write_zip([("app.json", APP_JSON), ("bomb.bin", &zeros[..])]).unwrap();
    assert!(zip.len() < 1 << 20, "the bomb itself is small");
    assert_draft_refused(&t, zip, 47008).await;
    let (_, storage) = t.admin_get("/admin/v1/storage").await;
    assert!(
        storage["blob_bytes"].as_u64().unwrap() < 1 << 20,
        "nothing of the bomb was stored: {storage}"
    );
}

#[tokio::test]
async fn draft_larger_than_the_limit_on_the_wire_is_47008() {
    let t = spawn_with(|c| c.max_draft_bytes = 1 << 20).await;
    // 3 MiB that do not compress: over the request body limit itself
    let mut noise = Vec::with_capacity(3 << 20);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while noise.len() < 3 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    let zip = write_zip([("app.json", APP_JSON), ("noise.bin", &noise[..])]).unwrap();
    assert!(zip.len() > 2 << 20);
    assert_draft_refused(&t, zip, 47008).await;
}

#[tokio::test]
async fn draft_with_too_many_files_is_47008() {
    // the harness's own sample draft has 11 files
    let sample_files = smartship_server::demo::sample_tree().len();
    let t = spawn_with(|c| c.max_draft_files = sample_files).await;
    let names: Vec<String> = (0..sample_files)
        .map(|i| format!("pages/p{i}.js"))
        .collect();
    let zip = write_zip(
        std::iter::once(("app.json", APP_JSON))
            .chain(names.iter().map(|n| (n.as_str(), &b"x"[..]))),
    )
    .unwrap();
    assert_draft_refused(&t, zip, 47008).await;
}

#[tokio::test]
async fn draft_with_a_symlink_is_47014() {
    use std::io::Write;
    let t = spawn_app().await;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("app.json", opts).unwrap();
    zip.write_all(APP_JSON).unwrap();
    zip.add_symlink("pages/secret", "/etc/passwd", opts)
        .unwrap();
    let zip = zip.finish().unwrap().into_inner();
    assert_draft_refused(&t, zip, 47014).await;
}

#[tokio::test]
async fn draft_that_is_not_a_zip_is_47014() {
    let t = spawn_app().await;
    assert_draft_refused(&t, b"this is not a zip archive".to_vec(), 47014).await;
    assert_draft_refused(&t, Vec::new(), 47014).await;
}

#[tokio::test]
async fn draft_without_app_json_is_47014() {
    let t = spawn_app().await;
    let zip = write_zip([("pages/index/index.js", &b"Page({})"[..])]).unwrap();
    let v = assert_draft_refused(&t, zip, 47014).await;
    assert!(v["msg"].as_str().unwrap().contains("app.json"), "{v}");
    // an app.json without pages is no mini-program either
    let zip = write_zip([("app.json", &br#"{"pages":[]}"#[..])]).unwrap();
    assert_draft_refused(&t, zip, 47014).await;
}

#[tokio::test]
async fn draft_upload_without_a_file_is_40001() {
    let t = spawn_app().await;
    let before = draft_list(&t, &[]).await;
    let v = t
        .api(
            "template/uploaddraft",
            &t.tp_token,
            &[("user_version", "1"), ("user_desc", "d")],
        )
        .await;
    assert_eq!(v["errno"], 40001, "{v}");
    assert!(v["msg"].as_str().unwrap().contains("file"), "{v}");
    assert_eq!(draft_list(&t, &[]).await, before);
}

#[tokio::test]
async fn draft_wrapped_in_a_folder_is_accepted() {
    let t = spawn_app().await;
    let zip = write_zip([
        ("dist/app.json", APP_JSON),
        ("dist/pages/index/index.js", &b"Page({})"[..]),
    ])
    .unwrap();
    let v = t.upload_draft(zip).await;
    assert_eq!(v["errno"], 0, "{v}");
    assert!(v["data"]["draft_id"].is_i64(), "{v}");
    assert_eq!(draft_list(&t, &[]).await["data"]["count"], 2);
}

/// Every path that enters a package goes through one check: pages of a
/// draft's app.json that escape, a duplicate entry, and ext_json paths.
#[tokio::test]
async fn package_paths_that_escape_are_refused_everywhere() {
    let t = spawn_app().await;
    for app_json in [
        r#"{"pages":["pages/index/index","../../../../tmp/x"]}"#,
        r#"{"pages":["/tmp/x"]}"#,
        r#"{"pages":["C:\\x"]}"#,
        r#"{"pages":["pages/../../x"]}"#,
        r#"{"pages":["pages/index/index"],"tabBar":{"list":[{"pagePath":"pages/index/index","iconPath":"../../i.png"}]}}"#,
    ] {
        let zip = write_zip([("app.json", app_json.as_bytes())]).unwrap();
        let v = assert_draft_refused(&t, zip, 47014).await;
        assert!(
            v["msg"].as_str().unwrap().contains("app.json"),
            "{app_json}: {v}"
        );
    }
    // app.json twice: the zip reader would keep the last one.
    let mut zip = hostile_zip(&[
        ("app.json", APP_JSON),
        ("app.jsoX", br#"{"pages":["pages/other/other"]}"#),
    ]);
    let mut i = 0;
    while let Some(at) = zip[i..].windows(8).position(|w| w == b"app.jsoX") {
        zip[i + at + 7] = b'n';
        i += at + 8;
    }
    let v = assert_draft_refused(&t, zip, 47014).await;
    assert!(v["msg"].as_str().unwrap().contains("app.json"), "{v}");

    // ext_json paths are refused synchronously, naming the field.
    let app = t.apps[0].clone();
    let before = t.packages(&app).await;
    for (ext, field) in [
        (
            r#"{"extEnable":true,"extPages":{"../../../../tmp/x":{}}}"#,
            "extPages",
        ),
        (
            r#"{"extEnable":true,"tabBar":{"list":[{"pagePath":"/tmp/x"}]}}"#,
            "tabBar.list[0].pagePath",
        ),
        (
            r#"{"extEnable":true,"tabBar":{"list":[{"pagePath":"pages/index/index","selectedIconPath":"..\\i.png"}]}}"#,
            "selectedIconPath",
        ),
    ] {
        let v = t.upload(&app, "1.0.0", ext).await;
        assert_eq!(v["errno"], 40001, "{ext}: {v}");
        assert!(v["msg"].as_str().unwrap().contains(field), "{ext}: {v}");
    }
    assert_eq!(t.packages(&app).await, before, "nothing was created");
}

/// A draft whose one page file is `size` bytes that belong to it alone.
fn draft_of(tag: &str, size: usize) -> Vec<u8> {
    let mut js = format!("// {tag}\n").into_bytes();
    js.resize(size, b' ');
    write_zip([
        ("app.json", APP_JSON),
        ("pages/index/index.js", &js[..]),
        ("pages/index/index.swan", b"<view/>"),
    ])
    .unwrap()
}

#[tokio::test]
async fn drafts_are_bounded_per_platform_and_deletable() {
    let t = spawn_with(|c| {
        c.max_drafts_per_tp = 2;
        c.max_draft_bytes = 64 << 10;
        c.draft_budget_bytes_per_tp = 100 << 10;
    })
    .await;
    let (_, before) = t.admin_get("/admin/v1/storage").await;
    let d1 = t.upload_draft(draft_of("one", 40 << 10)).await;
    assert_eq!(d1["errno"], 0, "{d1}");
    // 40 KiB more would make 80 KiB: within the 100 KiB; then 120 is not.
    let over = t.upload_draft(draft_of("big", 61 << 10)).await;
    assert_eq!(over["errno"], 47036, "{over}");
    assert!(
        over["msg"]
            .as_str()
            .unwrap()
            .contains("draft_budget_bytes_per_tp"),
        "{over}"
    );
    let d2 = t.upload_draft(draft_of("two", 10 << 10)).await;
    assert_eq!(d2["errno"], 0, "{d2}");
    let third = t.upload_draft(draft_of("three", 1 << 10)).await;
    assert_eq!(third["errno"], 47036, "{third}");
    assert!(
        third["msg"].as_str().unwrap().contains("max_drafts_per_tp"),
        "{third}"
    );
    let list = t
        .api_get("template/gettemplatedraftlist", &t.tp_token, &[])
        .await;
    // The harness's own draft was made into a template: it does not count.
    assert_eq!(list["data"]["count"], 3, "{list}");

    // Deleting frees a place; unknown, foreign and used drafts are refused.
    let id1 = d1["data"]["draft_id"].as_i64().unwrap().to_string();
    let (_, rival) = t.second_tp().await;
    let r = t
        .api("template/deldraft", &rival, &[("draft_id", &id1)])
        .await;
    assert_eq!(r["errno"], 47011, "another platform's draft: {r}");
    let r = t
        .api("template/deldraft", &t.tp_token, &[("draft_id", "999999")])
        .await;
    assert_eq!(r["errno"], 47011, "{r}");
    let used = list["data"]["list"].as_array().unwrap().last().unwrap()["draft_id"].to_string();
    let r = t
        .api("template/deldraft", &t.tp_token, &[("draft_id", &used)])
        .await;
    assert_eq!(
        r["errno"], 47037,
        "the harness's template was made from it: {r}"
    );
    assert!(
        r["msg"]
            .as_str()
            .unwrap()
            .contains(&t.template_id.to_string()),
        "{r}"
    );
    let r = t
        .api("template/deldraft", &t.tp_token, &[("draft_id", &id1)])
        .await;
    assert_eq!(r["errno"], 0, "{r}");
    let r = t
        .api("template/deldraft", &t.tp_token, &[("draft_id", &id1)])
        .await;
    assert_eq!(r["errno"], 47011, "already gone: {r}");
    let third = t.upload_draft(draft_of("three", 1 << 10)).await;
    assert_eq!(third["errno"], 0, "{third}");
    let (_, after) = t.admin_get("/admin/v1/storage").await;
    assert!(
        after["blob_bytes"].as_u64().unwrap() > before["blob_bytes"].as_u64().unwrap(),
        "{before} {after}"
    );
}

#[tokio::test]
async fn files_no_row_names_are_collected_after_the_grace_period() {
    let t = spawn_with(|c| c.blob_gc_grace_secs = 1.0).await;
    let kept = t.upload_draft(draft_of("kept", 20 << 10)).await;
    assert_eq!(kept["errno"], 0, "{kept}");
    let deleted = t.upload_draft(draft_of("deleted", 30 << 10)).await;
    let id = deleted["data"]["draft_id"].to_string();
    // Refused after its page was stored: app.json does not parse.
    let refused = write_zip([
        ("app.json", &b"{\"pages\": ["[..]),
        ("pages/index/index.js", &[b'x'; 25 << 10][..]),
    ])
    .unwrap();
    let r = t.upload_draft(refused).await;
    assert_eq!(r["errno"], 47014, "{r}");
    let r = t
        .api("template/deldraft", &t.tp_token, &[("draft_id", &id)])
        .await;
    assert_eq!(r["errno"], 0, "{r}");
    // Within the grace period nothing goes.
    let (s, v) = t.admin_post("/admin/v1/blobs/collect", json!({})).await;
    assert_eq!(s, reqwest::StatusCode::OK, "{v}");
    assert_eq!(v["blobs_removed"], 0, "{v}");
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let (_, before) = t.admin_get("/admin/v1/storage").await;
    let (_, v) = t.admin_post("/admin/v1/blobs/collect", json!({})).await;
    assert_eq!(
        v["blobs_removed"], 3,
        "the deleted draft's page, the refused one's page and app.json: {v}"
    );
    assert!(v["bytes_removed"].as_u64().unwrap() >= (55 << 10), "{v}");
    let (_, after) = t.admin_get("/admin/v1/storage").await;
    assert_eq!(
        before["blob_count"].as_u64().unwrap() - 3,
        after["blob_count"].as_u64().unwrap()
    );
    // What rows name is still whole: a package builds from the template,
    // and the kept draft becomes a template.
    let app = &t.apps[0];
    let up = t.upload(app, "1.0.1", r#"{"extEnable":true}"#).await;
    assert_eq!(up["errno"], 0, "{up}");
    t.wait_built(app).await;
    let r = t
        .api(
            "template/addtotemplate",
            &t.tp_token,
            &[
                ("draft_id", &kept["data"]["draft_id"].to_string()),
                ("user_desc", "kept"),
            ],
        )
        .await;
    assert_eq!(r["errno"], 0, "{r}");
    let (_, v) = t.admin_post("/admin/v1/blobs/collect", json!({})).await;
    assert_eq!(v["blobs_removed"], 0, "{v}");
}
