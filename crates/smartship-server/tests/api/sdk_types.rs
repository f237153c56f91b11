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
    /// A nested struct.
    Object,
    /// A slice.
    Array,
}

fn check(route: &str, data: &Value, fields: &[(&str, Go)]) {
    for (field, want) in fields {
        let v = &data[*field];
        let ok = match want {
            Go::Int64 => v.is_i64(),
            Go::String => v.is_string(),
            Go::Bool => v.is_boolean(),
            Go::Object => v.is_object(),
            Go::Array => v.is_array(),
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

// `openapi/tp/authprocess/getAppInfo.go`: GetAppInfoResponsedata and its
// nested structs.
const APP_INFO: &[(&str, Go)] = &[
    ("annual_review_info", Go::Object),
    ("app_desc", Go::String),
    ("app_id", Go::Int64),
    ("app_key", Go::String),
    ("app_name", Go::String),
    ("app_offline_info", Go::Array),
    ("audit_info", Go::Object),
    ("auth_info", Go::Array),
    ("category", Go::Array),
    ("min_swan_version", Go::String),
    ("modify_count", Go::Object),
    ("photo_addr", Go::String),
    ("qualification", Go::Object),
    ("status", Go::Int64),
    ("web_status", Go::Int64),
];
const AUDIT_INFO: &[(&str, Go)] = &[
    ("audit_app_desc", Go::String),
    ("audit_app_desc_reason", Go::String),
    ("audit_app_desc_status", Go::Int64),
    ("audit_app_name", Go::String),
    ("audit_app_name_reason", Go::String),
    ("audit_app_name_status", Go::Int64),
    ("audit_photo_addr", Go::String),
    ("audit_photo_addr_reason", Go::String),
    ("audit_photo_addr_status", Go::Int64),
];
const QUALIFICATION: &[(&str, Go)] = &[
    ("ad_status", Go::Int64),
    ("ad_type", Go::Int64),
    ("name", Go::String),
    ("satus", Go::Int64),
    ("type", Go::Int64),
];
const MODIFY_COUNT: &[(&str, Go)] = &[
    ("category_modify_quota", Go::Int64),
    ("category_modify_used", Go::Int64),
    ("image_modify_quota", Go::Int64),
    ("image_modify_used", Go::Int64),
    ("name_modify_quota", Go::Int64),
    ("name_modify_used", Go::Int64),
    ("signature_modify_quota", Go::Int64),
    ("signature_modify_used", Go::Int64),
];
const OFFLINE_INFO: &[(&str, Go)] = &[
    ("illegal_fields", Go::String),
    ("offline_reason", Go::Int64),
];
const AUTH_INFO: &[(&str, Go)] = &[("scope_name", Go::String), ("type", Go::Int64)];
const CATEGORY: &[(&str, Go)] = &[
    ("audit_status", Go::Int64),
    ("category_desc", Go::String),
    ("category_id", Go::Int64),
    ("category_name", Go::String),
    ("parent", Go::Object),
    ("reason", Go::String),
];
const CATEGORY_PARENT: &[(&str, Go)] = &[
    ("category_desc", Go::String),
    ("category_id", Go::Int64),
    ("category_name", Go::String),
];
const ANNUAL_REVIEW: &[(&str, Go)] = &[
    ("annual_review_overdue_time", Go::Int64),
    ("annual_review_status", Go::Int64),
];
// `openapi/tp/app/`: checkAppNickName.go, getAppCategoryList.go,
// setAppDomain.go; `openapi/tp/domain/modifyServerDomain.go`;
// `openapi/tp/offline/getAppViolationDetail.go`.
const NAME_CHECK: &[(&str, Go)] = &[
    ("checkResult", Go::Int64),
    ("checkWords", Go::Array),
    ("optionalFields", Go::Array),
    ("requiredFields", Go::Array),
];
const CATEGORY_ITEM: &[(&str, Go)] = &[
    ("category_name", Go::String),
    ("category_type", Go::Int64),
    ("id", Go::Int64),
    ("sub_items", Go::Object),
];
const CATEGORY_SUB_ITEM: &[(&str, Go)] = &[
    ("category_name", Go::String),
    ("category_quali", Go::String),
    ("category_type", Go::Int64),
    ("id", Go::Int64),
    ("need_quali", Go::Int64),
];
const APP_DOMAINS: &[(&str, Go)] = &[
    ("download_domain", Go::String),
    ("request_domain", Go::String),
    ("socket_domain", Go::String),
    ("upload_domain", Go::String),
];
const TP_DOMAINS: &[(&str, Go)] = &[
    ("download_domain", Go::Array),
    ("request_domain", Go::Array),
    ("socket_domain", Go::Array),
    ("upload_domain", Go::Array),
];
const VIOLATION: &[(&str, Go)] = &[("appId", Go::Int64), ("problemDetails", Go::Array)];
const PROBLEM: &[(&str, Go)] = &[
    ("auditReason", Go::String),
    ("auditShot", Go::String),
    ("problemDesc", Go::String),
    ("problemPath", Go::String),
    ("screenShot", Go::String),
    ("status", Go::Int64),
    ("taskId", Go::Int64),
];
const EXAMINE: &[(&str, Go)] = &[("examine_id", Go::Int64)];
const SERVICE_CHANGE: &[(&str, Go)] = &[("errno", Go::Int64), ("msg", Go::String)];

#[tokio::test]
async fn basic_info_responses_have_the_types_the_official_sdk_declares() {
    let t = spawn_app().await;
    let a = t.apps[0].clone();
    let icon = t.icon_url().await;
    let name = t
        .api(
            "app/setnicknamewithqual",
            &a.token,
            &[("nick_name", "类型小店")],
        )
        .await;
    check("app/setnicknamewithqual", &name["data"][0], EXAMINE);
    assert!(
        name["data"].is_array(),
        "the Go SDK declares an array: {name}"
    );
    for (route, params) in [
        ("app/modifyheadimage", vec![("image_url", icon.as_str())]),
        (
            "app/modifysignature",
            vec![("signature", "一家类型正确的小店")],
        ),
        ("app/category/update", vec![("categorys", "101")]),
    ] {
        let v = t.api(route, &a.token, &params).await;
        check(route, &v["data"], EXAMINE);
    }
    let cat = t
        .api("app/category/update", &a.token, &[("categorys", "102")])
        .await;
    assert_eq!(cat["errno"], 47026, "{cat}");
    let path = format!("/admin/v1/apps/{}", a.app_id);
    t.admin_patch(&path, serde_json::json!({"service_status": "forced_offline", "reason": "r", "illegal_fields": "appName"})).await;

    let info = t.app_info(&a).await;
    check("app/info", &info, APP_INFO);
    check("app/info audit_info", &info["audit_info"], AUDIT_INFO);
    check(
        "app/info qualification",
        &info["qualification"],
        QUALIFICATION,
    );
    check("app/info modify_count", &info["modify_count"], MODIFY_COUNT);
    check(
        "app/info annual_review_info",
        &info["annual_review_info"],
        ANNUAL_REVIEW,
    );
    let offline = info["app_offline_info"].as_array().unwrap();
    assert_eq!(offline.len(), 1, "{info}");
    check("app/info app_offline_info", &offline[0], OFFLINE_INFO);
    let scopes = info["auth_info"].as_array().unwrap();
    assert!(!scopes.is_empty(), "{info}");
    for s in scopes {
        check("app/info auth_info", s, AUTH_INFO);
    }
    let cats = info["category"].as_array().unwrap();
    assert!(!cats.is_empty(), "{info}");
    for c in cats {
        check("app/info category", c, CATEGORY);
        check("app/info category parent", &c["parent"], CATEGORY_PARENT);
    }

    let v = t
        .api_get(
            "app/checknamewithqual",
            &a.token,
            &[("app_name", "百度小店")],
        )
        .await;
    check("app/checknamewithqual", &v["data"], NAME_CHECK);
    for w in ["checkWords", "optionalFields", "requiredFields"] {
        assert!(!v["data"][w].as_array().unwrap().is_empty(), "{v}");
    }
    assert!(v["data"]["checkWords"][0].is_string() && v["data"]["requiredFields"][0].is_i64());
    let v = t
        .api_get("app/category/list", &a.token, &[("category_type", "2")])
        .await;
    for item in v["data"].as_array().unwrap() {
        check("app/category/list", item, CATEGORY_ITEM);
        for sub in item["sub_items"].as_object().unwrap().values() {
            check("app/category/list sub_items", sub, CATEGORY_SUB_ITEM);
        }
    }
    let v = t
        .api("app/modifydomain", &a.token, &[("action", "get")])
        .await;
    check("app/modifydomain", &v["data"], APP_DOMAINS);
    let v = t
        .api("tp/modifydomain", &t.tp_token, &[("action", "get")])
        .await;
    check("tp/modifydomain", &v["data"], TP_DOMAINS);
    let v = t
        .api("app/modifywebviewdomain", &a.token, &[("action", "get")])
        .await;
    assert!(v["data"].is_string(), "{v}");
    let v = t
        .api("tp/modifywebviewdomain", &t.tp_token, &[("action", "get")])
        .await;
    assert!(v["data"].is_array(), "{v}");
    let v = t.api_get("app/violation", &a.token, &[]).await;
    check("app/violation", &v["data"], VIOLATION);
    check(
        "app/violation problemDetails",
        &v["data"]["problemDetails"][0],
        PROBLEM,
    );
    let v = t
        .api(
            "app/offline/update",
            &a.token,
            &[("app_desc", "改正后的描述内容文字")],
        )
        .await;
    check("app/offline/update", &v["data"], EXAMINE);
    let up = t
        .upload_image(crate::basic_info::png(150, 150), "multipartFile", "1")
        .await;
    assert!(
        up["data"].is_string(),
        "upload/image data is a string: {up}"
    );

    let b = t.apps[1].clone();
    let v = t.api("app/pause", &b.token, &[]).await;
    check("app/pause", &v["data"], SERVICE_CHANGE);
    let v = t.api("app/resume", &b.token, &[]).await;
    check("app/resume", &v["data"], SERVICE_CHANGE);
}
