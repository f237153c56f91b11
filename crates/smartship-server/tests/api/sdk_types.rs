//! The JSON type of every response field of the package and template
//! routes, as the official Go SDK (`baidu/smartapp-openapi-go`,
//! `openapi/tp/pkg/` and `openapi/tp/template/`) declares it: its response
//! structs decode with `encoding/json`, which refuses a number where it
//! declares `bool` or `string` (and the reverse). The table was written from
//! reading those structs; each entry is checked against a real response.

use crate::common::*;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Go {
    Int64,
    String,
    Bool,
}

fn check(route: &str, data: &Value, fields: &[(&str, Go)]) {
    for (field, want) in fields {
        let v = &data[*field];
        let ok = match want {
            Go::Int64 => v.is_i64(),
            Go::String => v.is_string(),
            Go::Bool => v.is_boolean(),
        };
        assert!(
            ok,
            "{route}: {field} must be a JSON {want:?} (SDK declaration), got {v} in {data}"
        );
    }
}

const PACKAGE_GET: &[(&str, Go)] = &[
    ("commit_time", Go::String),
    ("committer", Go::String),
    ("msg", Go::String),
    ("package_id", Go::Int64),
    ("remark", Go::String),
    ("status", Go::Int64),
    ("version", Go::String),
    ("version_desc", Go::String),
];
/// Only on the development entry of `package/get`.
const PACKAGE_GET_UPLOAD: &[(&str, Go)] = &[
    ("upload_status", Go::Int64),
    ("upload_status_desc", Go::String),
];
const QUOTA: &[(&str, Go)] = &[
    ("quota_times", Go::Int64),
    ("quota_type", Go::Int64),
    ("remain_times", Go::Int64),
];
const DRAFT_ITEM: &[(&str, Go)] = &[
    ("create_time", Go::Int64),
    ("draft_id", Go::Int64),
    ("user_desc", Go::String),
    ("user_version", Go::String),
    ("web_status", Go::Bool),
];
const TEMPLATE_ITEM: &[(&str, Go)] = &[
    ("create_time", Go::Int64),
    ("template_id", Go::Int64),
    ("user_desc", Go::String),
    ("user_version", Go::String),
    ("web_status", Go::Bool),
];

#[tokio::test]
async fn every_response_field_has_the_type_the_official_sdk_declares() {
    let t = spawn_app().await;
    let a = t.apps[0].clone();
    t.released_package(&a, "1.0.0").await;
    t.upload(&a, "1.1.0", r#"{"extEnable":true}"#).await;
    t.wait_built(&a).await;

    let get = t.api_get("package/get", &a.token, &[]).await;
    check(
        "package/get",
        &get,
        &[("errno", Go::Int64), ("msg", Go::String)],
    );
    let list = get["data"].as_array().expect("data is a list");
    assert_eq!(list.len(), 2, "{get}");
    for p in list {
        check("package/get", p, PACKAGE_GET);
        if p["status"] == 3 {
            check("package/get (development)", p, PACKAGE_GET_UPLOAD);
        }
        if p["status"] == 1
            && let Some(v) = p.get("rollback_version")
        {
            assert!(v.is_string(), "rollback_version is a string: {p}");
        }
    }
    let detail = t.api_get("package/getdetail", &a.token, &[]).await;
    check("package/getdetail", &detail["data"], PACKAGE_GET);
    let quota = t.api_get("package/auditquota", &a.token, &[]).await;
    check("package/auditquota", &quota["data"], QUOTA);

    let drafts = t
        .api_get("template/gettemplatedraftlist", &t.tp_token, &[])
        .await;
    check(
        "template/gettemplatedraftlist",
        &drafts["data"],
        &[("count", Go::Int64)],
    );
    for d in drafts["data"]["list"].as_array().unwrap() {
        check("template/gettemplatedraftlist", d, DRAFT_ITEM);
    }
    let templates = t
        .api_get("template/gettemplatelist", &t.tp_token, &[])
        .await;
    check(
        "template/gettemplatelist",
        &templates["data"],
        &[("count", Go::Int64)],
    );
    let items = templates["data"]["list"].as_array().unwrap();
    assert!(!items.is_empty());
    for e in items {
        check("template/gettemplatelist", e, TEMPLATE_ITEM);
    }
    // Routes whose data the SDK declares as an (empty) object: absent or an
    // object decodes; a string or a number would not.
    let r = t
        .api("package/withdraw", &a.token, &[("package_id", "999999")])
        .await;
    assert!(r.get("data").is_none_or(Value::is_object), "{r}");
}
