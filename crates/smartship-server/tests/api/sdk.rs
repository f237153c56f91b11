//! The Rust SDK against a real server: typed package calls through a whole
//! lifecycle, and each kind of error told apart.

use crate::common::*;
use serde_json::json;
use smartship_api::ErrorCode;
use smartship_client::{AdminClient, Error, OpenApiClient};

#[tokio::test]
async fn typed_package_calls_through_a_release() {
    let t = spawn_app().await;
    let sdk = OpenApiClient::new(&t.base, &t.apps[0].token);
    let admin = AdminClient::new(&t.base, ADMIN_TOKEN);
    sdk.package_upload(
        t.template_id,
        &json!({"extEnable": true}),
        "1.0.0",
        "via sdk",
    )
    .await
    .unwrap();
    let dev = loop {
        let list = sdk.package_list().await.unwrap();
        if let Some(p) = list
            .into_iter()
            .find(|p| p.status == 3 && p.upload_status == Some(2))
        {
            break p;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(dev.version, "1.0.0");
    sdk.package_submit_audit(dev.package_id, "content", "remark")
        .await
        .unwrap();
    assert_eq!(sdk.audit_quota().await.unwrap().remain_times, 999);
    admin
        .post(
            &format!("/admin/v1/packages/{}/review", dev.package_id),
            &json!({"decision": "pass"}),
        )
        .await
        .unwrap();
    sdk.package_release(dev.package_id).await.unwrap();
    let online = sdk.package_detail(None, None).await.unwrap();
    assert_eq!((online.package_id, online.status), (dev.package_id, 1));
    assert_eq!(online.rollback_version.as_deref(), Some(""));
    let by_type = sdk.package_detail(None, Some(1)).await.unwrap();
    assert_eq!(by_type.package_id, dev.package_id);

    let tp = OpenApiClient::new(&t.base, &t.tp_token);
    let templates = tp.template_list(1, 10).await.unwrap();
    assert_eq!(templates.count, 1);
    assert_eq!(templates.list[0].template_id, t.template_id);
}

#[tokio::test]
async fn sdk_errors_are_told_apart() {
    let t = spawn_app().await;
    let sdk = OpenApiClient::new(&t.base, &t.apps[0].token);
    // Business: a documented code.
    let e = sdk.package_release(999_999).await.unwrap_err();
    assert_eq!(e.business_code(), Some(ErrorCode::PackageNotFound), "{e}");
    let e = sdk.package_rollback(999_999).await.unwrap_err();
    assert!(matches!(e, Error::Business { errno: 47001, .. }));
    // Gateway: a bad token, before any business logic.
    let bad = OpenApiClient::new(&t.base, "app.not-a-token");
    let e = bad.package_list().await.unwrap_err();
    assert_eq!(e.gateway_code(), Some(110), "{e}");
    assert_eq!(e.business_code(), None);
    // Transport: nothing listens there.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let gone = OpenApiClient::new(format!("http://{closed}"), "x");
    assert!(matches!(
        gone.package_list().await.unwrap_err(),
        Error::Transport(_)
    ));
    // Operator API errors keep their code.
    let admin = AdminClient::new(&t.base, ADMIN_TOKEN);
    match admin.get("/admin/v1/apps/999999").await.unwrap_err() {
        Error::Admin { status, code, .. } => {
            assert_eq!((status, code.as_str()), (404, "not_found"))
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn sessions_refresh_tokens_and_save_them_first() {
    use smartship_client::session::{
        AppSession, FileTokenStore, MemoryTokenStore, StoredTokens, TokenStore,
    };
    use std::sync::Arc;
    // Tokens live 61 s; sessions refresh 60 s before expiry, so after one
    // second the token counts as expiring.
    let t = spawn_with(|c| c.app_token_ttl_secs = 61).await;
    let app = &t.apps[0];
    let fresh = t.create_app("Session app", true, true).await;
    let store = Arc::new(MemoryTokenStore::default());
    store
        .save(
            fresh.app_id,
            &StoredTokens::new(&fresh.token, &fresh.refresh_token, 61),
        )
        .unwrap();
    let session = AppSession::new(&t.base, &t.tp_token, fresh.app_id, store.clone());
    assert!(session.package_list().await.unwrap().is_empty());
    assert_eq!(
        store.load(fresh.app_id).unwrap().unwrap().access_token,
        fresh.token
    );

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert!(session.package_list().await.unwrap().is_empty());
    let renewed = store.load(fresh.app_id).unwrap().unwrap();
    assert_ne!(renewed.access_token, fresh.token, "refreshed mid-run");
    assert_ne!(renewed.refresh_token, fresh.refresh_token);
    // The old access token was revoked by the refresh.
    assert_eq!(
        t.api_get("package/get", &fresh.token, &[]).await["error_code"],
        110
    );

    // A token refused by the gateway (here: unknown) triggers one refresh.
    let dir = tempfile::tempdir().unwrap();
    let files = Arc::new(FileTokenStore::new(dir.path()));
    files
        .save(
            app.app_id,
            &StoredTokens::new("app.revoked-or-unknown", &app.refresh_token, 3600),
        )
        .unwrap();
    let session = AppSession::new(&t.base, &t.tp_token, app.app_id, files.clone());
    assert!(session.package_list().await.unwrap().is_empty());
    let saved = files.load(app.app_id).unwrap().unwrap();
    assert_ne!(saved.access_token, "app.revoked-or-unknown");
    assert!(dir.path().join(format!("{}.json", app.app_id)).exists());
}
