//! Peers on the same read route: a stateless spec mock (Prism), json-server
//! and WireMock, each serving the same `package/get` body that smartship
//! answers, loaded the same way (64 keep-alive connections, closed loop).
//! smartship is measured in the same run; the ratio is smartship's rate over
//! each peer's. The peers are npm packages pinned in `bench/peers`
//! (`scripts/bench-peers` installs them; a full run calls it when they are
//! missing, a `--quick` run skips the scenario instead).

use crate::loadgen::{self, Pace, Stats};
use crate::setup;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct PeerResult {
    pub name: &'static str,
    pub stats: Stats,
}

pub struct PeersResult {
    pub smartship: Stats,
    pub peers: Vec<PeerResult>,
}

const ROUTE: &str = "/rest/2.0/smartapp/package/get";

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/peers")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

struct Peer {
    child: Child,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a peer and waits until it answers the route.
async fn start(mut cmd: Command, port: u16, path: &str) -> anyhow::Result<Peer> {
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    let peer = Peer { child };
    let url = format!("http://127.0.0.1:{port}{path}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = reqwest::get(&url).await
            && r.status() == 200
        {
            return Ok(peer);
        }
        anyhow::ensure!(Instant::now() < deadline, "{url} did not come up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn write_fixtures(dir: &Path, body: &serde_json::Value) -> anyhow::Result<()> {
    // json-server: the body as a resource, the route rewritten onto it.
    std::fs::write(
        dir.join("db.json"),
        serde_json::to_vec(&serde_json::json!({"packageget": body}))?,
    )?;
    std::fs::write(
        dir.join("routes.json"),
        serde_json::to_vec(&serde_json::json!({ROUTE: "/packageget"}))?,
    )?;
    // Prism: an OpenAPI document whose example is the body.
    let spec = serde_json::json!({
        "openapi": "3.0.3",
        "info": {"title": "package/get", "version": "1"},
        "paths": {ROUTE: {"get": {
            "parameters": [{"name": "access_token", "in": "query", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "packages", "content": {"application/json": {
                "schema": {"type": "object"}, "example": body}}}}
        }}}
    });
    std::fs::write(dir.join("openapi.json"), serde_json::to_vec(&spec)?)?;
    // WireMock: one stub mapping.
    std::fs::create_dir_all(dir.join("wiremock/mappings"))?;
    std::fs::write(
        dir.join("wiremock/mappings/package-get.json"),
        serde_json::to_vec(&serde_json::json!({
            "request": {"method": "GET", "urlPath": ROUTE},
            "response": {"status": 200, "jsonBody": body, "headers": {"Content-Type": "application/json"}}
        }))?,
    )?;
    Ok(())
}

pub async fn run(quick: bool) -> anyhow::Result<Option<PeersResult>> {
    let bin = peers_dir().join("node_modules/.bin");
    if !bin.join("json-server").exists() && !quick {
        // A full run installs the pinned peers itself (a smoke run does not
        // download them).
        println!(
            "peers: installing Prism, json-server and WireMock from npm (scripts/bench-peers)..."
        );
        let script = peers_dir().join("../../scripts/bench-peers");
        let installed = Command::new(script)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !installed {
            println!("peers: the npm install failed; skipped");
            return Ok(None);
        }
    }
    if !bin.join("json-server").exists() {
        println!(
            "peers: not installed (scripts/bench-peers installs Prism, json-server and WireMock from npm); skipped"
        );
        return Ok(None);
    }
    let duration = Duration::from_secs(if quick { 1 } else { 10 });
    let b = setup::start(|_| {}, &setup::sample_template()).await?;
    let (_, token, _) = b.apps(1).await?.remove(0);
    let client = smartship_client::OpenApiClient::new(&b.base, &token);
    client
        .package_upload(
            b.template_id,
            &serde_json::json!({"extEnable": true}),
            "1.0.0",
            "bench",
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let path = format!("{ROUTE}?access_token={token}");
    let body: serde_json::Value = reqwest::get(format!("{}{path}", b.base))
        .await?
        .json()
        .await?;
    let smartship = loadgen::on_own_thread(
        b.addr(),
        path.clone(),
        b"success",
        64,
        Pace::Closed,
        duration,
    )?;

    let dir = tempfile::tempdir()?;
    write_fixtures(dir.path(), &body)?;
    // Each peer serves the same answer on the same path (Prism needs the
    // token in the query to match the spec's required parameter).
    let peer_specs: [(&'static str, &str, Vec<&str>, &str); 3] = [
        (
            "json-server 0.17.4",
            "json-server",
            vec!["--quiet", "--routes", "routes.json", "db.json"],
            ROUTE,
        ),
        (
            "Prism 5.14.2 (spec mock)",
            "prism",
            vec!["mock", "openapi.json"],
            &path,
        ),
        (
            "WireMock 3.13.2",
            "wiremock",
            vec![
                "--root-dir",
                "wiremock",
                "--disable-banner",
                "--no-request-journal",
            ],
            ROUTE,
        ),
    ];
    let mut peers = Vec::new();
    for (name, program, args, load_path) in peer_specs {
        let port = free_port()?;
        let mut cmd = Command::new(bin.join(program));
        // WireMock names its listen flag differently from the other two.
        let host_flag = if program == "wiremock" {
            "--bind-address"
        } else {
            "--host"
        };
        cmd.current_dir(dir.path()).args(args).args([
            "--port",
            &port.to_string(),
            host_flag,
            "127.0.0.1",
        ]);
        let peer = start(cmd, port, load_path).await?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let stats = loadgen::on_own_thread(
            addr,
            load_path.to_owned(),
            b"success",
            64,
            Pace::Closed,
            duration,
        )?;
        drop(peer);
        peers.push(PeerResult { name, stats });
    }

    let mut line = format!(
        "peers: package/get, 64 connections, same body: smartship {:.0} req/s ({} errors)",
        smartship.rps(),
        smartship.errors
    );
    for p in &peers {
        line.push_str(&format!(
            "; baseline {} {:.0} req/s (p99 {:.2} ms, {} errors), ratio {:.1}x",
            p.name,
            p.stats.rps(),
            p.stats.ms(99.0),
            p.stats.errors,
            smartship.rps() / p.stats.rps().max(1.0)
        ));
    }
    println!("{line} (target >= 10x each)");
    b.server.stop().await?;
    Ok(Some(PeersResult { smartship, peers }))
}
