//! The Rust SDK against a real server: a typed call for every route, each
//! kind of error told apart, retried reads, and sessions that refresh
//! tokens (including when the access token expires in the middle of a run).

use crate::common::*;
use serde_json::json;
use smartship_api::ErrorCode;
use smartship_client::session::{
    AppSession, FileTokenStore, MemoryTokenStore, StoredTokens, TokenStore,
};
use smartship_client::{
    AdminClient, ClientConfig, Error, OpenApiClient, PackageSelector, TestAccount,
};
use std::sync::Arc;
use std::time::Duration;

async fn wait_built(sdk: &OpenApiClient) -> smartship_api::package::PackageInfo {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let list = sdk.package_list().await.unwrap();
        if let Some(p) = list
            .into_iter()
            .find(|p| p.status == 3 && p.upload_status != Some(1))
        {
            return p;
        }
        assert!(std::time::Instant::now() < deadline, "build did not finish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn typed_package_calls_through_a_release_withdraw_and_rollback() {
    let t = spawn_app().await;
    let sdk = OpenApiClient::new(&t.base, &t.apps[0].token);
    let admin = AdminClient::new(&t.base, ADMIN_TOKEN);
    let review = |id: i64| {
        let admin = admin.clone();
        async move {
            admin
                .post(
                    &format!("/admin/v1/packages/{id}/review"),
                    &json!({"decision": "pass"}),
                )
                .await
                .unwrap()
        }
    };

    // app/info
    let info = sdk.app_info().await.unwrap();
    assert_eq!(info.app_id, t.apps[0].app_id);
    assert!(info.audit_info.basic_info_approved);
    assert!(info.qualification.authenticity_verified);

    // 1.0.0: upload (with a reviewer account) → submit → pass → release.
    let account = TestAccount::new("reviewer", "pw-123");
    sdk.package_upload_with(
        t.template_id,
        &json!({"extEnable": true}),
        "1.0.0",
        "via sdk",
        Some(&account),
    )
    .await
    .unwrap();
    let v1 = wait_built(&sdk).await;
    assert_eq!((v1.version.as_str(), v1.upload_status), ("1.0.0", Some(2)));
    sdk.package_submit_audit_with(v1.package_id, "content", "remark", Some(&account))
        .await
        .unwrap();
    let in_audit = sdk
        .package_detail(PackageSelector::Status(4))
        .await
        .unwrap();
    assert_eq!(in_audit.package_id, v1.package_id);
    assert_eq!(sdk.audit_quota().await.unwrap().remain_times, 999);

    // Withdraw and submit again.
    sdk.package_withdraw(v1.package_id).await.unwrap();
    let back = sdk
        .package_detail(PackageSelector::Id(v1.package_id))
        .await
        .unwrap();
    assert_eq!(back.status, 3);
    sdk.package_submit_audit(v1.package_id, "content", "again")
        .await
        .unwrap();
    review(v1.package_id).await;
    sdk.package_release(v1.package_id).await.unwrap();
    let online = sdk.package_detail(PackageSelector::Online).await.unwrap();
    assert_eq!((online.package_id, online.status), (v1.package_id, 1));

    // 1.1.0 online, then rolled back to 1.0.0.
    sdk.package_upload(t.template_id, &json!({"extEnable": true}), "1.1.0", "next")
        .await
        .unwrap();
    let v2 = wait_built(&sdk).await;
    sdk.package_submit_audit(v2.package_id, "c", "r")
        .await
        .unwrap();
    review(v2.package_id).await;
    sdk.package_release(v2.package_id).await.unwrap();
    assert_eq!(
        sdk.package_detail(PackageSelector::Online)
            .await
            .unwrap()
            .rollback_version
            .as_deref(),
        Some("1.0.0")
    );
    sdk.package_rollback(v2.package_id).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let online = sdk.package_detail(PackageSelector::Online).await.unwrap();
        if online.package_id == v1.package_id && online.status == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "rollback not done");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn typed_template_calls() {
    let t = spawn_app().await;
    let tp = OpenApiClient::new(&t.base, &t.tp_token);
    let draft = tp
        .upload_draft(sample_zip(), "2.0.0", "sdk draft")
        .await
        .unwrap();
    let drafts = tp.template_draft_list(1, 10).await.unwrap();
    assert!(drafts.list.iter().any(|d| d.draft_id == draft.draft_id
        && d.user_version == "2.0.0"
        && d.user_desc == "sdk draft"));
    let created = tp
        .template_add(draft.draft_id, "from the sdk")
        .await
        .unwrap();
    let templates = tp.template_list(1, 10).await.unwrap();
    assert_eq!(templates.count, 2);
    assert!(
        templates
            .list
            .iter()
            .any(|x| x.template_id == created.template_id)
    );
    assert_eq!(
        tp.template_delete(created.template_id)
            .await
            .unwrap()
            .result,
        1
    );
    assert_eq!(tp.template_list(1, 10).await.unwrap().count, 1);
    // Business error with its documented code: the template is gone.
    let e = tp.template_delete(created.template_id).await.unwrap_err();
    assert_eq!(e.business_code(), Some(ErrorCode::TemplateNotFound), "{e}");
    let e = tp.template_add(999_999, "x").await.unwrap_err();
    assert_eq!(e.business_code(), Some(ErrorCode::DraftNotFound), "{e}");
}

#[tokio::test]
async fn typed_authorization_flow_ticket_to_refresh() {
    let t = spawn_app().await;
    let (_, v) = t
        .admin_get(&format!("/admin/v1/tps/{}/ticket", t.tp_client_id))
        .await;
    let ticket = v["ticket"].as_str().unwrap();
    let anonymous = OpenApiClient::new(&t.base, "");
    let tp_token = anonymous.tp_token(&t.tp_client_id, ticket).await.unwrap();
    assert_eq!(tp_token.scope, "smartapp_tp");
    let e = anonymous
        .tp_token(&t.tp_client_id, "ticket.wrong")
        .await
        .unwrap_err();
    assert_eq!(e.business_code(), Some(ErrorCode::InvalidTicket), "{e}");

    let tp = anonymous.with_token(tp_token.access_token);
    let pre = tp.create_pre_auth_code().await.unwrap();
    assert_eq!(pre.expires_in, 20 * 60);
    assert!(!pre.pre_auth_code.is_empty());

    let app = &t.apps[0];
    let code = tp.retrieve_authorization_code(app.app_id).await.unwrap();
    let tokens = tp
        .exchange_authorization_code(&code.authorization_code)
        .await
        .unwrap();
    assert_eq!(tokens.expires_in, 3600);
    let sdk = tp.with_token(&tokens.access_token);
    assert!(sdk.package_list().await.unwrap().is_empty());
    // A code works once: the flat OAuth error shape.
    let e = tp
        .exchange_authorization_code(&code.authorization_code)
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::OAuth { ref error, .. } if error == "invalid_grant"),
        "{e}"
    );

    let fresh = tp.refresh_app_token(&tokens.refresh_token).await.unwrap();
    assert_ne!(fresh.refresh_token, tokens.refresh_token);
    let e = tp
        .refresh_app_token(&tokens.refresh_token)
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::OAuth { ref description, .. } if description.contains("single use")),
        "{e}"
    );
    // The refresh revoked the access token issued with the old pair.
    assert_eq!(
        sdk.package_list().await.unwrap_err().gateway_code(),
        Some(110)
    );

    // No authorization: 50032.
    let (_, other) = t
        .admin_post("/admin/v1/apps", json!({"name": "Unauthorized"}))
        .await;
    let e = tp
        .retrieve_authorization_code(other["app_id"].as_i64().unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.business_code(), Some(ErrorCode::NoAuthorization), "{e}");
}

#[tokio::test]
async fn every_kind_of_error_is_told_apart() {
    let t = spawn_app().await;
    let sdk = OpenApiClient::new(&t.base, &t.apps[0].token);
    // Business: a documented code, and the parameter named in the message.
    let e = sdk.package_release(999_999).await.unwrap_err();
    assert_eq!(e.business_code(), Some(ErrorCode::PackageNotFound), "{e}");
    let e = sdk
        .call(
            "package/submitaudit",
            &[("package_id", "abc"), ("content", "c")],
        )
        .await
        .map(smartship_client::decode::<serde_json::Value>)
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(e, Error::Business { errno: 40001, ref msg, .. } if msg.contains("package_id")),
        "{e}"
    );
    // Gateway: a bad token, before any business logic; and a TP token on an
    // app route.
    let bad = OpenApiClient::new(&t.base, "app.not-a-token");
    let e = bad.package_list().await.unwrap_err();
    assert!(e.is_token_refused(), "{e}");
    assert_eq!(e.business_code(), None);
    let e = sdk
        .with_token(&t.tp_token)
        .package_list()
        .await
        .unwrap_err();
    assert_eq!(e.gateway_code(), Some(6), "{e}");
    // Transport: nothing listens there (no retries configured, so at once).
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let gone = OpenApiClient::with_config(
        &ClientConfig::new(format!("http://{closed}")).read_retries(0),
        "x",
    );
    assert!(matches!(
        gone.package_list().await.unwrap_err(),
        Error::Transport(_)
    ));
    // Decode: something answering that is not the open API.
    let not_api = OpenApiClient::new(format!("{}/healthz?", t.base), "x");
    let e = not_api.app_info().await.unwrap_err();
    assert!(matches!(e, Error::Decode(_)), "{e}");
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
async fn reads_are_retried_past_the_rate_limit_and_writes_are_not() {
    // One request per second, a bucket of two.
    let t = spawn_with(|c| c.rate_limit_per_token = 1.0).await;
    let app = &t.apps[0];
    let impatient =
        OpenApiClient::with_config(&ClientConfig::new(&t.base).read_retries(0), &app.token);
    let mut limited = 0;
    for _ in 0..4 {
        if let Err(e) = impatient.audit_quota().await {
            assert_eq!(e.gateway_code(), Some(18), "{e}");
            assert!(e.is_retryable());
            limited += 1;
        }
    }
    assert!(limited >= 1, "four calls in a burst passed a 1/s limit");
    // Retries with backoff (0.4 + 0.8 + 1.6 s) outlast the refill.
    let patient = OpenApiClient::with_config(
        &ClientConfig::new(&t.base)
            .read_retries(3)
            .retry_backoff(Duration::from_millis(400)),
        &app.token,
    );
    for _ in 0..3 {
        patient.audit_quota().await.unwrap();
    }
    // A write is sent once: the limit's refusal comes back as is.
    let mut write_limited = false;
    for _ in 0..4 {
        if let Err(e) = patient.package_withdraw(1).await
            && e.gateway_code() == Some(18)
        {
            write_limited = true;
        }
    }
    assert!(write_limited, "writes were retried past the limit");
}

#[tokio::test]
async fn sessions_refresh_tokens_and_save_them_first() {
    // Tokens live 62 s; sessions refresh 60 s before expiry, so after two
    // seconds the token counts as expiring (and not before one: the clock
    // is read in whole seconds).
    let t = spawn_with(|c| c.app_token_ttl_secs = 62).await;
    let app = &t.apps[0];
    let fresh = t.create_app("Session app", true, true).await;
    let store = Arc::new(MemoryTokenStore::default());
    store
        .save(
            fresh.app_id,
            &StoredTokens::new(&fresh.token, &fresh.refresh_token, 62),
        )
        .await
        .unwrap();
    let session = AppSession::new(&t.base, &t.tp_token, fresh.app_id, store.clone());
    assert!(session.package_list().await.unwrap().is_empty());
    assert_eq!(
        store
            .load(fresh.app_id)
            .await
            .unwrap()
            .unwrap()
            .access_token,
        fresh.token
    );

    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(session.package_list().await.unwrap().is_empty());
    let renewed = store.load(fresh.app_id).await.unwrap().unwrap();
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
        .await
        .unwrap();
    let session = AppSession::new(&t.base, &t.tp_token, app.app_id, files.clone());
    assert!(session.package_list().await.unwrap().is_empty());
    let saved = files.load(app.app_id).await.unwrap().unwrap();
    assert_ne!(saved.access_token, "app.revoked-or-unknown");
    assert!(dir.path().join(format!("{}.json", app.app_id)).exists());
}

#[tokio::test]
async fn an_access_token_expiring_mid_run_is_refreshed_once_for_concurrent_calls() {
    // The server's tokens live 1 s, but the store believes an hour: the
    // session learns of the expiry from the gateway (111) mid-run.
    let t = spawn_with(|c| c.app_token_ttl_secs = 1).await;
    let app = t.create_app("Expiring", true, true).await;
    let store = Arc::new(MemoryTokenStore::default());
    store
        .save(
            app.app_id,
            &StoredTokens::new(&app.token, &app.refresh_token, 3600),
        )
        .await
        .unwrap();
    let session = Arc::new(AppSession::new(
        &t.base,
        &t.tp_token,
        app.app_id,
        store.clone(),
    ));
    let mut refreshes = 0;
    let mut last = store.load(app.app_id).await.unwrap().unwrap();
    for round in 0..3 {
        // Ten calls at once on an expired token: one refresh serves them all
        // (a second refresh would spend the new single-use refresh token).
        let calls: Vec<_> = (0..10)
            .map(|_| {
                let s = session.clone();
                tokio::spawn(async move { s.call(|c| async move { c.audit_quota().await }).await })
            })
            .collect();
        for c in calls {
            c.await
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
        let now = store.load(app.app_id).await.unwrap().unwrap();
        if now != last {
            refreshes += 1;
            // The server counts the new pair as the only valid one.
            assert_ne!(now.refresh_token, last.refresh_token);
        }
        last = now;
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert!(
        refreshes >= 2,
        "expired tokens were refreshed {refreshes} times"
    );
    // The refresh token in the store is the live one.
    let tp = OpenApiClient::new(&t.base, &t.tp_token);
    tp.refresh_app_token(&last.refresh_token).await.unwrap();
}

#[tokio::test]
async fn a_store_that_cannot_save_stops_the_call() {
    struct ReadOnly(MemoryTokenStore);
    #[smartship_client::session::async_trait]
    impl TokenStore for ReadOnly {
        async fn load(&self, app_id: i64) -> std::io::Result<Option<StoredTokens>> {
            self.0.load(app_id).await
        }
        async fn save(&self, _: i64, _: &StoredTokens) -> std::io::Result<()> {
            Err(std::io::Error::other("disk full"))
        }
    }
    let t = spawn_app().await;
    let app = &t.apps[0];
    let inner = MemoryTokenStore::default();
    inner
        .save(
            app.app_id,
            &StoredTokens::new("app.unknown", &app.refresh_token, 3600),
        )
        .await
        .unwrap();
    let session = AppSession::new(&t.base, &t.tp_token, app.app_id, Arc::new(ReadOnly(inner)));
    let e = session.package_list().await.unwrap_err();
    assert!(
        matches!(e, Error::TokenStore(ref m) if m.contains("disk full") && m.contains("spent")),
        "{e}"
    );
}

#[tokio::test]
async fn typed_basic_info_calls_from_upload_to_approval_domains_and_qr_code() {
    let t = spawn_app().await;
    let a = t.create_app("SDK shop", false, true).await;
    let app = OpenApiClient::new(&t.base, &a.token);
    let tp = OpenApiClient::new(&t.base, &t.tp_token);
    let admin = AdminClient::new(&t.base, ADMIN_TOKEN);

    let icon = tp
        .upload_image(crate::basic_info::png(180, 180), 1)
        .await
        .unwrap();
    let not_square = tp.upload_image(crate::basic_info::png(180, 90), 1).await;
    assert!(
        matches!(&not_square, Err(Error::Business { errno: 47030, .. })),
        "{not_square:?}"
    );
    let check = app.check_name("百度SDK店", None).await.unwrap();
    assert_eq!((check.check_result, check.required_fields), (1, vec![1]));
    let ids = [
        app.set_name("SDK好店", None).await.unwrap(),
        app.set_icon(&icon).await.unwrap(),
        app.set_description("一家用SDK开的店铺").await.unwrap(),
        app.set_categories("101,102").await.unwrap(),
    ];
    let again = app.set_description("又一个描述内容文字").await;
    assert!(
        matches!(&again, Err(Error::Business { errno: 47026, .. })),
        "{again:?}"
    );
    assert!(!app.app_info().await.unwrap().audit_info.basic_info_approved);
    for id in ids {
        admin
            .post(
                &format!("/admin/v1/examinations/{id}/review"),
                &json!({"decision": "pass"}),
            )
            .await
            .unwrap();
    }
    let info = app.app_info().await.unwrap();
    assert!(info.audit_info.basic_info_approved);
    assert_eq!(info.app_name, "SDK好店");
    assert_eq!(info.photo_addr, icon);
    assert_eq!(info.category.len(), 2);
    assert_eq!(info.modify_count.category_modify_used, 1);
    assert!(!app.category_list(1).await.unwrap().is_empty());

    let d = app
        .app_domains(&smartship_client::DomainChange {
            action: Some("add".into()),
            request: Some("https://api.example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(d.request_domain, "https://api.example.com");
    let d = tp
        .tp_domains(&smartship_client::DomainChange {
            action: Some("set".into()),
            socket: Some("wss://ws.example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(d.socket_domain, vec!["wss://ws.example.com"]);
    let wv = app
        .app_webview_domains(Some("set"), Some("https://h5.example.com"))
        .await
        .unwrap();
    assert_eq!(wv, "https://h5.example.com");

    let none = app.qrcode("", None, 200).await;
    assert!(
        matches!(&none, Err(Error::Business { errno: 47001, .. })),
        "{none:?}"
    );
    app.package_upload(t.template_id, &json!({"extEnable": true}), "1.0.0", "d")
        .await
        .unwrap();
    let dev = wait_built(&app).await;
    let png = app
        .qrcode("pages/index/index", Some(dev.package_id), 300)
        .await
        .unwrap();
    assert!(png.starts_with(b"\x89PNG"));

    assert!(app.violation().await.unwrap().problem_details.is_empty());
    let r = app
        .request_restoration(&smartship_client::requests::profile::OfflineUpdate {
            app_desc: Some("改正后的描述内容文字".into()),
            ..Default::default()
        })
        .await;
    assert!(
        matches!(&r, Err(Error::Business { errno: 47025, .. })),
        "{r:?}"
    );
}
