//! The programs in `examples/` run against a real server: `ship_one_app`
//! takes an app to release, and `event_receiver` receives the audit result
//! the server pushes for it.

#[path = "../examples/event_receiver.rs"]
mod event_receiver;
#[path = "../examples/ship_one_app.rs"]
mod ship_one_app;

use serde_json::{Value, json};
use smartship_client::events::{EventReceiver, PushEvent};
use smartship_client::session::{AppSession, FileTokenStore, StoredTokens, TokenStore};
use smartship_client::{AdminClient, OpenApiClient};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ADMIN: &str = "examples-admin-token-0123456789";

#[tokio::test]
async fn the_examples_ship_an_app_and_receive_its_audit_event() {
    let dir = tempfile::tempdir().unwrap();
    let config = smartship_server::config::Config {
        listen: "127.0.0.1:0".to_owned(),
        data_dir: dir.path().to_path_buf(),
        admin_token: Some(ADMIN.to_owned()),
        review_policy: smartship_server::config::ReviewPolicy::AutoPass,
        events_allowed_networks: "127.0.0.0/8".to_owned(),
        events_retry_schedule: "0.05".to_owned(),
        ..Default::default()
    };
    let server = smartship_server::start(config, Default::default())
        .await
        .unwrap();
    let base = server.base_url.clone();
    let admin = AdminClient::new(&base, ADMIN);

    // A platform, its token, a template from the sample mini-program.
    let tp_info = admin
        .post("/admin/v1/tps", &json!({"name": "Example ISV"}))
        .await
        .unwrap();
    let client_id = tp_info["client_id"].as_str().unwrap();
    let tp_token = admin
        .post(&format!("/admin/v1/tps/{client_id}/token"), &json!({}))
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let tp = OpenApiClient::new(&base, &tp_token);
    let tree = smartship_server::demo::sample_tree();
    let zip =
        smartship_core::archive::write_zip(tree.iter().map(|(p, b)| (p.as_str(), b.as_slice())))
            .unwrap();
    let draft = tp.upload_draft(zip, "1.0.0", "sample").await.unwrap();
    let template = tp.template_add(draft.draft_id, "sample").await.unwrap();

    // The receiver example, on port 0, as the platform's message URL.
    let receiver = EventReceiver::new(
        tp_info["encoding_aes_key"].as_str().unwrap(),
        tp_info["msg_token"].as_str().unwrap(),
        client_id,
    )
    .unwrap();
    let inbox = Arc::new(event_receiver::Inbox::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(
        axum::serve(listener, event_receiver::router(receiver, inbox.clone())).into_future(),
    );
    admin
        .patch(
            &format!("/admin/v1/tps/{client_id}"),
            &json!({"message_url": url}),
        )
        .await
        .unwrap();

    // An approved app authorized to the platform; its tokens in a file store.
    let app: Value = admin
        .post(
            "/admin/v1/apps",
            &json!({"name": "Example shop", "basic_info_approved": true, "authenticity_verified": true}),
        )
        .await
        .unwrap();
    let app_id = app["app_id"].as_i64().unwrap();
    let tokens = admin
        .post(
            &format!("/admin/v1/apps/{app_id}/authorize"),
            &json!({"client_id": client_id}),
        )
        .await
        .unwrap();
    let store = Arc::new(FileTokenStore::new(dir.path().join("tokens")));
    store
        .save(
            app_id,
            &StoredTokens::new(
                tokens["access_token"].as_str().unwrap(),
                tokens["refresh_token"].as_str().unwrap(),
                3600,
            ),
        )
        .await
        .unwrap();
    let session = AppSession::with_tp_client(&tp, app_id, store);

    let online = ship_one_app::ship(&session, template.template_id, "1.0.0")
        .await
        .unwrap();
    assert_eq!((online.version.as_str(), online.status), ("1.0.0", 1));

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let events = inbox.events.lock().unwrap().clone();
        if let Some((id, PushEvent::AuditPass(e))) = events.first() {
            assert!(id.starts_with("evt_"), "{id}");
            assert_eq!((e.app_id, e.package_id), (app_id, online.package_id));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no audit event received: {events:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
