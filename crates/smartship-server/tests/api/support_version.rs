//! `app/getsupportversion` in the official SDKs' shape, and the extension
//! `app/setsupportversion` that sets the app's minimum base library.

use crate::common::*;
use smartship_client::OpenApiClient;

/// The official Go SDK's call: a GET with the token and its two markers.
async fn get_support_version(t: &TestApp, token: &str) -> serde_json::Value {
    t.http
        .get(format!(
            "{}/rest/2.0/smartapp/app/getsupportversion?access_token={token}&sp_sdk_ver=1.0.0&sp_sdk_lang=go",
            t.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_support_versions_answer_the_official_shape_and_the_minimum_is_set() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let r = get_support_version(&t, &app.token).await;
    assert_eq!(r["errno"], 0, "{r}");
    let items: Vec<&str> = r["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["version"].as_str().unwrap())
        .collect();
    assert_eq!(
        items,
        ["3.0", "3.1", "3.2", "3.3"],
        "the documented default list"
    );
    assert_eq!(
        r["data"]["now_version"], "3.0",
        "no minimum yet: the oldest"
    );

    let r = t
        .api("app/setsupportversion", &app.token, &[("version", "3.2.0")])
        .await;
    assert_eq!(r["errno"], 0, "{r}");
    assert_eq!(r["data"]["now_version"], "3.2", "as the operator wrote it");
    let r = get_support_version(&t, &app.token).await;
    assert_eq!(r["data"]["now_version"], "3.2", "{r}");
    let other = get_support_version(&t, &t.apps[1].token).await;
    assert_eq!(
        other["data"]["now_version"], "3.0",
        "another app keeps its own"
    );

    for (bad, names) in [
        ("3.4", "3.0, 3.1, 3.2, 3.3"),
        ("3.x", "3.2.1"),
        ("", "不能为空"),
        ("3.1\u{202e}", "单行"),
        (&"1".repeat(33), "超过上限 32"),
    ] {
        let r = t
            .api("app/setsupportversion", &app.token, &[("version", bad)])
            .await;
        assert_eq!(r["errno"], 40001, "{bad:?}: {r}");
        let msg = r["msg"].as_str().unwrap();
        assert!(msg.contains("version "), "names the field: {msg}");
        assert!(msg.contains(names), "{bad:?}: {msg}");
    }
    let r = get_support_version(&t, &app.token).await;
    assert_eq!(r["data"]["now_version"], "3.2", "refusals change nothing");

    // The SDK sends the same request struct and reads the same answer.
    let sdk = OpenApiClient::new(&t.base, &app.token);
    assert_eq!(
        sdk.set_support_version("3.3").await.unwrap().now_version,
        "3.3"
    );
    let v = sdk.support_versions().await.unwrap();
    assert_eq!((v.items.len(), v.now_version.as_str()), (4, "3.3"));
    // A platform's token is not an app's.
    let r = get_support_version(&t, &t.tp_token).await;
    assert_ne!(r["errno"], 0, "{r}");
}
