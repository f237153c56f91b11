//! The automated pre-review checks over raw HTTP: a package with `eval` in
//! a page and a 3 MB image fails them with file and line, `package/precheck`
//! lists them, `submitaudit` answers 47034 and nothing changes; a clean
//! package passes; a `directCommit` upload with a blocking finding is not
//! submitted.

use crate::common::*;
use serde_json::Value;

/// A template from the sample with these files replaced or added.
pub async fn template_with(t: &TestApp, extra: &[(&str, Vec<u8>)]) -> String {
    let mut tree = smartship_server::demo::sample_tree();
    for (path, bytes) in extra {
        tree.insert((*path).to_owned(), bytes.clone());
    }
    let zip =
        smartship_core::archive::write_zip(tree.iter().map(|(p, b)| (p.as_str(), b.as_slice())))
            .unwrap();
    let d = t.upload_draft(zip).await;
    assert_eq!(d["errno"], 0, "{d}");
    let draft = d["data"]["draft_id"].as_i64().unwrap().to_string();
    let tpl = t
        .api(
            "template/addtotemplate",
            &t.tp_token,
            &[("draft_id", &draft), ("user_desc", "checks")],
        )
        .await;
    assert_eq!(tpl["errno"], 0, "{tpl}");
    tpl["data"]["template_id"].as_i64().unwrap().to_string()
}

/// 3 MB that do not compress.
pub fn big_image() -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..3_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub const EVIL_PAGE: &[u8] =
    b"Page({\n    onLoad() {\n        const v = eval('1 + 1');\n    }\n});\n";

#[tokio::test]
async fn eval_and_a_3_mb_image_fail_the_checks_and_submitaudit_answers_47034() {
    let t = spawn_app().await;
    let a = t.apps[0].clone();
    let tpl = template_with(
        &t,
        &[
            ("pages/index/index.js", EVIL_PAGE.to_vec()),
            ("images/banner.png", big_image()),
        ],
    )
    .await;
    let up = t
        .upload_from(&a, &tpl, "2.0.0", r#"{"extEnable":true}"#)
        .await;
    assert_eq!(up["errno"], 0, "{up}");
    let dev = t.wait_built(&a).await;
    assert_eq!(dev["upload_status"], 2, "the build itself succeeds: {dev}");
    let id = dev["package_id"].as_i64().unwrap().to_string();

    let report = t
        .api_get("package/precheck", &a.token, &[("package_id", &id)])
        .await;
    assert_eq!(report["errno"], 0, "{report}");
    let data = &report["data"];
    assert_eq!(data["passed"], false);
    let findings = data["findings"].as_array().unwrap();
    let has = |check: &str, file: &str, line: i64| {
        findings.iter().any(|f| {
            f["check"] == check && f["file"] == file && f["line"] == line && f["blocking"] == true
        })
    };
    assert!(has("code.eval", "pages/index/index.js", 3), "{findings:?}");
    assert!(has("size.main", "images/banner.png", 0), "{findings:?}");
    assert_eq!(data["blocking"], findings.len() as i64);
    // The reviewers' view of the package carries the same findings.
    let (_, detail) = t.admin_get(&format!("/admin/v1/packages/{id}")).await;
    assert_eq!(&detail["prechecks"], &data["findings"], "{detail}");

    let before = t.states(&a).await;
    let sub = t
        .api(
            "package/submitaudit",
            &a.token,
            &[("package_id", &id), ("content", "c")],
        )
        .await;
    assert_eq!(sub["errno"], 47034, "{sub}");
    assert!(
        sub["msg"]
            .as_str()
            .unwrap()
            .contains("size.main images/banner.png:0"),
        "{sub}"
    );
    assert_eq!(t.states(&a).await, before, "nothing changed");

    // directCommit: built, not submitted, and msg says why.
    let up = t
        .api(
            "package/upload",
            &a.token,
            &[
                ("template_id", tpl.as_str()),
                ("ext_json", r#"{"extEnable":true,"directCommit":true}"#),
                ("user_version", "2.0.1"),
                ("user_desc", "direct"),
            ],
        )
        .await;
    assert_eq!(up["errno"], 0, "{up}");
    let dev = t.wait_built(&a).await;
    assert_eq!(dev["status"], 3, "still in development: {dev}");
    assert!(
        dev["msg"].as_str().unwrap().contains("预审检查未通过"),
        "{dev}"
    );
}

#[tokio::test]
async fn a_clean_package_passes_and_checks_follow_the_apps_request_domains() {
    let t = spawn_app().await;
    let a = t.apps[0].clone();
    let calls_out =
        b"Page({ onLoad() { swan.request({ url: 'https://api.shop.example/menu' }); } });\n";
    let tpl = template_with(&t, &[("pages/index/index.js", calls_out.to_vec())]).await;
    let built = |version: &'static str| {
        let (t, a, tpl) = (&t, &a, tpl.clone());
        async move {
            t.upload_from(a, &tpl, version, r#"{"extEnable":true}"#)
                .await;
            let id = t.wait_built(a).await["package_id"]
                .as_i64()
                .unwrap()
                .to_string();
            let r: Value = t
                .api_get("package/precheck", &a.token, &[("package_id", &id)])
                .await;
            (id, r["data"].clone())
        }
    };
    // No request domains: network calls are not checked.
    let (_, report) = built("1.0.0").await;
    assert_eq!(report["passed"], true, "{report}");
    assert_eq!(report["findings"], serde_json::json!([]));

    // With domains, a call to another one blocks.
    t.api(
        "app/modifydomain",
        &a.token,
        &[
            ("action", "set"),
            ("request_domain", "https://api.other.example"),
        ],
    )
    .await;
    let (id, report) = built("1.0.1").await;
    assert_eq!(report["findings"][0]["check"], "network.domain", "{report}");
    assert_eq!(report["findings"][0]["line"], 1);
    let sub = t
        .api(
            "package/submitaudit",
            &a.token,
            &[("package_id", &id), ("content", "c")],
        )
        .await;
    assert_eq!(sub["errno"], 47034, "{sub}");

    t.api(
        "app/modifydomain",
        &a.token,
        &[
            ("action", "add"),
            ("request_domain", "https://api.shop.example"),
        ],
    )
    .await;
    let (id, report) = built("1.0.2").await;
    assert_eq!(report["passed"], true, "{report}");
    let sub = t
        .api(
            "package/submitaudit",
            &a.token,
            &[("package_id", &id), ("content", "c")],
        )
        .await;
    assert_eq!(sub["errno"], 0, "{sub}");

    // Another app's package and an unknown one are 47001; a bad id 40001.
    let other = t.apps[1].clone();
    let v = t
        .api_get("package/precheck", &other.token, &[("package_id", &id)])
        .await;
    assert_eq!(v["errno"], 47001, "{v}");
    let v = t
        .api_get("package/precheck", &a.token, &[("package_id", "x")])
        .await;
    assert_eq!(v["errno"], 40001, "{v}");
}
