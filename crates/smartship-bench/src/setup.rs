//! A server for a scenario: in this process, on port 0, in a temporary data
//! directory, with a platform, its token and a template from a source tree.

use smartship_client::OpenApiClient;
use smartship_core::{AppId, TpId};
use smartship_server::config::Config;
use smartship_server::service::parties as operator;
use smartship_server::{Server, StartOptions};
use smartship_store::Tp;
use std::collections::BTreeMap;

pub const ADMIN_TOKEN: &str = "bench-admin-token-0123456789";

pub struct Bench {
    pub server: Server,
    pub base: String,
    pub tp: TpId,
    pub client_id: String,
    pub tp_token: String,
    pub template_id: i64,
    pub _dir: tempfile::TempDir,
}

/// The defaults a benchmark changes: no per-token rate limit (one token
/// makes all the load), no ticket pushes during the run, loopback receivers
/// allowed.
pub fn config(dir: &std::path::Path) -> Config {
    Config {
        listen: "127.0.0.1:0".to_owned(),
        data_dir: dir.to_path_buf(),
        admin_token: Some(ADMIN_TOKEN.to_owned()),
        rate_limit_per_token: 0.0,
        ticket_interval_secs: 86_400.0,
        events_allowed_networks: "127.0.0.0/8".to_owned(),
        audit_quota_per_week: -1,
        ..Config::default()
    }
}

/// A server with `tweak` applied to [`config`], and a platform on it.
pub async fn platform(
    tweak: impl FnOnce(&mut Config),
) -> anyhow::Result<(Server, Tp, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let mut config = config(dir.path());
    tweak(&mut config);
    let server = smartship_server::start(config, StartOptions::default()).await?;
    let tp = operator::create_tp(
        &server.state,
        operator::TpSpec {
            name: "bench".to_owned(),
            ..Default::default()
        },
    )
    .await?;
    Ok((server, tp, dir))
}

pub async fn start(
    tweak: impl FnOnce(&mut Config),
    template: &BTreeMap<String, Vec<u8>>,
) -> anyhow::Result<Bench> {
    let (server, tp, dir) = platform(tweak).await?;
    let state = server.state.clone();
    let tp_token = operator::mint_tp_token(&state, tp.id).await?.access_token;
    let base = server.base_url.clone();
    let client = OpenApiClient::new(&base, &tp_token);
    let zip = smartship_core::archive::write_zip(
        template.iter().map(|(p, b)| (p.as_str(), b.as_slice())),
    )?;
    let draft = client.upload_draft(zip, "1.0.0", "bench template").await?;
    let template_id = client
        .template_add(draft.draft_id, "bench")
        .await?
        .template_id;
    Ok(Bench {
        base,
        tp: tp.id,
        client_id: tp.client_id,
        tp_token,
        template_id,
        server,
        _dir: dir,
    })
}

impl Bench {
    /// Ships `version` of the template to the app with `token`: upload,
    /// build, submit, pass (as the operator), release. Returns its id.
    pub async fn release_one(&self, token: &str, version: &str) -> anyhow::Result<i64> {
        let client = OpenApiClient::new(&self.base, token);
        let ext = serde_json::json!({"extEnable": true});
        client
            .package_upload(self.template_id, &ext, version, "bench")
            .await?;
        let dev = loop {
            let list = client.package_list().await?;
            if let Some(p) = list
                .into_iter()
                .find(|p| p.upload_status == Some(2) && p.version == version)
            {
                break p;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        client
            .package_submit_audit(dev.package_id, "bench", "")
            .await?;
        smartship_client::AdminClient::new(&self.base, ADMIN_TOKEN)
            .post(
                &format!("/admin/v1/packages/{}/review", dev.package_id),
                &serde_json::json!({"decision": "pass"}),
            )
            .await?;
        client.package_release(dev.package_id).await?;
        Ok(dev.package_id)
    }

    /// `n` approved apps authorized to the platform: (app id, access token,
    /// refresh token).
    pub async fn apps(&self, n: usize) -> anyhow::Result<Vec<(i64, String, String)>> {
        let state = &self.server.state;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let app = operator::create_app(
                state,
                operator::AppSpec {
                    name: format!("bench app {i}"),
                    basic_info_approved: true,
                    authenticity_verified: true,
                    ..Default::default()
                },
            )
            .await?;
            let t =
                operator::authorize(state, AppId(app.id.0), self.tp, "package,template,app_info")
                    .await?;
            out.push((app.id.0, t.access_token, t.refresh_token));
        }
        Ok(out)
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.base
            .trim_start_matches("http://")
            .parse()
            .expect("the server's base URL is http://IP:PORT")
    }
}

/// The sample mini-program shipped with the server.
pub fn sample_template() -> BTreeMap<String, Vec<u8>> {
    smartship_server::demo::sample_tree()
}

/// A local receiver on port 0 answering `success` to every POST of
/// `/hook`: its URL and the count of requests it received.
pub async fn receiver() -> anyhow::Result<(String, std::sync::Arc<std::sync::atomic::AtomicU64>)> {
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = hits.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |_body: axum::body::Bytes| {
            let c = counter.clone();
            async move {
                c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                "success"
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, hits))
}
