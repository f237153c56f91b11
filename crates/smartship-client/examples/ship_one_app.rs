//! Ships one version of a template to one app: upload → build → submit →
//! audit → release, through an [`AppSession`] that refreshes the app's
//! token when it expires and keeps the single-use refresh token in a file.
//!
//! ```sh
//! SMARTSHIP_SERVER=http://127.0.0.1:8080 SMARTSHIP_TOKEN=<TP token> \
//! APP_ID=42 APP_ACCESS_TOKEN=app.… APP_REFRESH_TOKEN=refresh.… \
//! cargo run -p smartship-client --example ship_one_app -- 7 2.0.0
//! ```
//!
//! (`smartship serve --demo` prints a server, a TP token and apps to try it on.)

use serde_json::json;
use smartship_api::package::PackageInfo;
use smartship_client::session::{AppSession, FileTokenStore, StoredTokens, TokenStore};
use smartship_client::{Error, OpenApiClient, PackageSelector};
use std::sync::Arc;
use std::time::Duration;

/// Waits until `pred` holds for the app's package of `version`.
async fn wait_for(
    session: &AppSession,
    version: &str,
    pred: impl Fn(&PackageInfo) -> bool,
) -> smartship_client::Result<PackageInfo> {
    loop {
        let list = session.package_list().await?;
        if let Some(p) = list.into_iter().find(|p| p.version == version && pred(p)) {
            return Ok(p);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The whole lifecycle for one app; returns the online package.
pub async fn ship(
    session: &AppSession,
    template_id: i64,
    version: &str,
) -> smartship_client::Result<PackageInfo> {
    let ext =
        json!({"extEnable": true, "extAppid": session.app_id(), "ext": {"channel": "example"}});
    session
        .call(|app| {
            let ext = &ext;
            async move {
                app.package_upload(template_id, ext, version, "shipped by the example")
                    .await
            }
        })
        .await?;
    // The build runs asynchronously: upload_status 1 → 2 (built) or 3 (failed).
    let dev = wait_for(session, version, |p| {
        p.status == 3 && p.upload_status != Some(1)
    })
    .await?;
    if dev.upload_status == Some(3) {
        return Err(Error::business(
            dev.upload_err_code.unwrap_or(-1),
            dev.upload_err_msg.unwrap_or_default(),
        ));
    }
    let id = dev.package_id;
    session
        .call(|app| async move { app.package_submit_audit(id, "a shop front", "").await })
        .await?;
    // Audit result: 6 passed, 5 failed (msg holds the reviewer's reason).
    let audited = wait_for(session, version, |p| matches!(p.status, 5 | 6)).await?;
    if audited.status == 5 {
        return Err(Error::business(
            -1,
            format!("audit rejected: {}", audited.msg),
        ));
    }
    session
        .call(|app| async move { app.package_release(id).await })
        .await?;
    session
        .call(|app| async move { app.package_detail(PackageSelector::Online).await })
        .await
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |k: &str| std::env::var(k).map_err(|_| format!("set {k}"));
    let mut args = std::env::args().skip(1);
    let (Some(template), Some(version)) = (args.next(), args.next()) else {
        return Err("usage: ship_one_app TEMPLATE_ID VERSION".into());
    };
    let app_id: i64 = env("APP_ID")?.parse()?;
    let store = Arc::new(FileTokenStore::new("./tokens"));
    if store.load(app_id).await?.is_none() {
        let tokens = StoredTokens::new(&env("APP_ACCESS_TOKEN")?, &env("APP_REFRESH_TOKEN")?, 3600);
        store.save(app_id, &tokens).await?;
    }
    let tp = OpenApiClient::new(env("SMARTSHIP_SERVER")?, env("SMARTSHIP_TOKEN")?);
    let session = AppSession::with_tp_client(&tp, app_id, store);
    let online = ship(&session, template.parse()?, &version).await?;
    println!(
        "app {app_id} is online at {} (package {})",
        online.version, online.package_id
    );
    Ok(())
}
