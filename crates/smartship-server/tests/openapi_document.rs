//! The OpenAPI document: a snapshot of the whole of it (so a change to the
//! API shows in review: `cargo insta review` after an intended change), and
//! the checks that keep it usable: every `$ref` resolves, operation ids are
//! unique, every operation says who may call it and what it answers.

use serde_json::Value;
use std::collections::BTreeSet;

fn document() -> Value {
    smartship_server::openapi_document()
}

#[test]
fn the_document_matches_its_snapshot() {
    insta::assert_json_snapshot!("openapi", document());
}

fn refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.insert(r.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let doc = document();
    let mut all = BTreeSet::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {r}"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{r} does not resolve"
        );
    }
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                out.push((path.clone(), m.to_owned(), op.clone()));
            }
        }
    }
    out
}

#[test]
fn operation_ids_are_unique_and_every_operation_is_described() {
    let doc = document();
    let mut ids = BTreeSet::new();
    for (path, method, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_default().to_owned();
        assert!(!id.is_empty(), "{method} {path} has no operationId");
        assert!(ids.insert(id.clone()), "operationId {id} is used twice");
        assert!(op["summary"].is_string(), "{method} {path} has no summary");
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path} documents no response"
        );
    }
}

#[test]
fn open_platform_routes_take_get_and_post_and_always_answer_200() {
    let doc = document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !(path.starts_with("/rest/2.0/") || path.starts_with("/public/2.0/")) {
            continue;
        }
        if path != "/rest/2.0/smartapp/template/uploaddraft" {
            assert!(item.get("get").is_some(), "{path} has no GET");
        }
        let post = item
            .get("post")
            .unwrap_or_else(|| panic!("{path} has no POST"));
        for op in [item.get("get"), Some(post)].into_iter().flatten() {
            let statuses: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
            assert_eq!(statuses, ["200"], "{path} answers only HTTP 200");
        }
        // A POST's parameters are in its form body, GET's in the query.
        if let Some(get) = item.get("get") {
            let query: BTreeSet<&str> = get["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            let form: BTreeSet<&str> = post["requestBody"]["content"]
                ["application/x-www-form-urlencoded"]["schema"]["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.as_str())
                .collect();
            assert_eq!(query, form, "{path}: GET and POST take the same parameters");
        }
    }
}

#[test]
fn every_operation_but_the_public_ones_needs_a_token() {
    let doc = document();
    // Public keys and content-addressed downloads need no key
    // (docs/release.md); nor do uploaded images, whose URLs the platform
    // shows (docs/api.md).
    let public = [
        "/file/2.0/smartapp/image/{file}",
        "/healthz",
        "/readyz",
        "/public/2.0/smartapp/auth/tp/token",
        "/runtime/v1/keys",
        "/runtime/v1/apps/{app_id}/artifacts/{file}",
    ];
    for (path, method, op) in operations(&doc) {
        if public.contains(&path.as_str()) {
            continue;
        }
        let schemes: Vec<String> = op["security"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s.as_object().unwrap().keys().cloned())
            .collect();
        let expected = if path.starts_with("/admin/v1/") {
            vec!["admin_token"]
        } else if path.starts_with("/runtime/v1/") {
            vec!["host_key"]
        } else {
            vec!["app_token", "tp_token"]
        };
        assert!(
            schemes.len() == 1 && expected.contains(&schemes[0].as_str()),
            "{method} {path}: security {schemes:?}"
        );
        assert!(
            doc["components"]["securitySchemes"]
                .get(&schemes[0])
                .is_some()
        );
    }
}
