//! Keeps the layers honest, by reading the source: only the service layer
//! changes what is stored, no door imports another door, no worker imports
//! a door, and the service layer imports none of them. A new store method
//! must be named below as a change or a read before the tests pass again,
//! so a change cannot slip past by being new.

use std::path::{Path, PathBuf};

/// Store methods that change what is stored.
const CHANGES: &[&str] = &[
    "create_tp",
    "create_app",
    "update_app",
    "authorize",
    "unauthorize",
    "rotate_ticket",
    "rotate_ticket_if_due",
    "upsert_app_admin",
    "update_tp",
    "insert_code",
    "consume_code",
    "rotate_refresh",
    "insert_token",
    "create_draft",
    "create_draft_within",
    "delete_draft",
    "add_template",
    "delete_template",
    "create_upload",
    "apply",
    "put_package_checks",
    "claim_build",
    "finish_build",
    "insert_events",
    "claim_events",
    "record_attempts",
    "replay_event",
    "replay_failed",
    "create_host_key",
    "revoke_host_key",
    "add_signing_key",
    "set_package_artifact",
    "put_delta",
    "phased",
    "schedule_release",
    "cancel_scheduled_release",
    "change_service_status",
    "submit_examination",
    "review_examination",
    "put_image",
    "modify_domains",
    "domain_check",
    "create_operator",
    "remove_operator",
    "set_operator_password",
    "create_operator_session",
    "end_operator_session",
    "append_audit",
    "purge_audit",
    "set_meta",
    "release_dead_leases",
    "release_own_leases",
    "release_leases",
    "move_staged_audit",
    "purge_expired",
];

/// Store methods that only read.
const READS: &[&str] = &[
    "tp_by_client_id",
    "tp_by_id",
    "app",
    "authorization_active",
    "authorization_scopes",
    "tickets",
    "tps_due_for_ticket",
    "app_admin",
    "list_apps",
    "list_tps",
    "code_usable",
    "token",
    "referenced_blobs",
    "list_drafts",
    "list_templates",
    "template_exists",
    "list_all_templates",
    "slotted_packages",
    "package",
    "package_in_state",
    "package_any",
    "all_packages",
    "package_manifest",
    "transitions",
    "quota_used",
    "package_checks",
    "packages_under_audit",
    "due_rollbacks",
    "next_rollback_due",
    "list_packages",
    "count_events",
    "events",
    "event",
    "event_attempts",
    "next_event_due",
    "host_keys",
    "active_host_key",
    "signing_keys",
    "package_artifact",
    "app_artifact_size",
    "delta",
    "served_packages",
    "latest_gray",
    "due_scheduled_releases",
    "next_scheduled_release",
    "due_gray_steps",
    "next_gray_step",
    "examination",
    "examinations",
    "name_taken",
    "profile",
    "image",
    "tp_image",
    "domains",
    "violations",
    "operators",
    "operator",
    "operator_session",
    "review_queue_page",
    "app_timeline",
    "app_authorizations",
    "event_page",
    "delivery_lags",
    "daily_actions",
    "audit_log",
    "get_meta",
    "schema_state",
    "status_counts",
];

/// The front doors and the workers: adapters that must not import each
/// other.
const ROOMS: &[&str] = &["openapi", "admin", "console", "runtime", "workers"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("readable entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's text with every run of whitespace made one space, so a call
/// split over lines (`s.store\n    .apply(`) reads as one.
fn flat(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("readable source file");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `store.NAME(` calls in a flattened text, by name.
fn store_calls(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices("store") {
        let word_start = text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        if !word_start {
            continue;
        }
        let rest = text[i + "store".len()..].trim_start();
        let Some(rest) = rest.strip_prefix('.') else {
            continue;
        };
        let name: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let after = rest.trim_start()[name.len()..].trim_start();
        if !name.is_empty() && after.starts_with('(') {
            found.push(name);
        }
    }
    found
}

fn relative(path: &Path) -> String {
    path.strip_prefix(src())
        .expect("under src")
        .to_string_lossy()
        .replace('\\', "/")
}

#[test]
fn every_store_method_is_named_a_change_or_a_read() {
    // The store's traits: `Store` in lib.rs, one aggregate's per file of
    // `aggregates/`.
    let store_src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../smartship-store/src");
    let mut sources = vec![store_src.join("lib.rs")];
    rust_files(&store_src.join("aggregates"), &mut sources);
    let mut unnamed = Vec::new();
    let mut seen = 0;
    for source in sources {
        let text = std::fs::read_to_string(source).expect("a readable store source");
        let mut in_trait = false;
        for line in text.lines() {
            if line.starts_with("pub trait") {
                in_trait = true;
            } else if line.starts_with('}') {
                in_trait = false;
            }
            let Some(at) = line.find("async fn ").filter(|_| in_trait) else {
                continue;
            };
            seen += 1;
            let name: String = line[at + "async fn ".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !CHANGES.contains(&name.as_str()) && !READS.contains(&name.as_str()) {
                unnamed.push(name);
            }
        }
    }
    // Every method is read: a moved trait cannot pass unseen.
    assert!(
        seen >= CHANGES.len() + READS.len(),
        "found {seen} store methods, fewer than CHANGES and READS name"
    );
    assert!(
        unnamed.is_empty(),
        "name these store methods in CHANGES or READS: {unnamed:?}"
    );
}

#[test]
fn only_the_service_layer_changes_what_is_stored() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut outside = Vec::new();
    for path in &files {
        let rel = relative(path);
        if rel.starts_with("service/") {
            continue;
        }
        for name in store_calls(&flat(path)) {
            if CHANGES.contains(&name.as_str()) {
                outside.push(format!("{rel}: store.{name}("));
            }
        }
    }
    assert!(
        outside.is_empty(),
        "state changes outside the service layer:\n{}",
        outside.join("\n")
    );
}

#[test]
fn no_door_or_worker_imports_another_and_the_service_imports_none() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut crossings = Vec::new();
    for path in &files {
        let rel = relative(path);
        let room = rel.split('/').next().unwrap_or_default();
        let own = rel.contains('/').then_some(room);
        let text = flat(path);
        for other in ROOMS {
            if own == Some(*other) {
                continue;
            }
            let is_room = own.is_some_and(|r| ROOMS.contains(&r) || r == "service");
            if is_room && text.contains(&format!("crate::{other}")) {
                crossings.push(format!("{rel} uses crate::{other}"));
            }
        }
    }
    assert!(
        crossings.is_empty(),
        "layers crossed:\n{}",
        crossings.join("\n")
    );
}

#[test]
fn the_scanner_sees_calls_split_over_lines() {
    let text = "let x = s .store .apply( app, p ) ; state.store.latest_gray(app); restore.x(";
    assert_eq!(store_calls(text), vec!["apply", "latest_gray"]);
}
