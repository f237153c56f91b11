//! `package/get` with its token check, 64 keep-alive connections. Baseline:
//! a plain hyper server answering a fixed JSON body of the same size,
//! started on the same runtime and loaded the same way. Then an open-loop
//! run at a fixed rate for latency.

use crate::loadgen::{self, Pace, Stats};
use crate::setup;
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::Duration;

pub struct ReadResult {
    pub smartship: Stats,
    pub baseline: Stats,
    pub open_loop: Stats,
    pub baseline_open_loop: Stats,
    pub open_rate: f64,
}

/// A hyper server answering every request with `body` (the "hello JSON"
/// baseline: no routing, no token, no database).
pub(crate) async fn hello_json(body: Bytes) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |_req| {
                    let body = body.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(
                            hyper::Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(body))
                                .expect("static response"),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(addr)
}

pub async fn run(quick: bool) -> anyhow::Result<ReadResult> {
    let duration = Duration::from_secs(if quick { 1 } else { 10 });
    let open_rate = if quick { 1_000.0 } else { 10_000.0 };
    let b = setup::start(|_| {}, &setup::sample_template()).await?;
    let apps = b.apps(1).await?;
    let (_, token, _) = &apps[0];
    // One package online and one in development: a realistic list.
    b.release_one(token, "1.0.0").await?;
    let client = smartship_client::OpenApiClient::new(&b.base, token);
    let ext = serde_json::json!({"extEnable": true});
    client
        .package_upload(b.template_id, &ext, "1.1.0", "bench")
        .await?;
    let path = format!("/rest/2.0/smartapp/package/get?access_token={token}");
    let sample = reqwest::get(format!("{}{path}", b.base))
        .await?
        .bytes()
        .await?;
    anyhow::ensure!(
        sample.starts_with(br#"{"errno":0"#),
        "package/get answered {}",
        String::from_utf8_lossy(&sample)
    );
    let baseline_addr = hello_json(sample.clone()).await?;

    let expect: &'static [u8] = br#""errno":0"#;
    let smartship =
        loadgen::on_own_thread(b.addr(), path.clone(), expect, 64, Pace::Closed, duration)?;
    let baseline = loadgen::on_own_thread(
        baseline_addr,
        "/".to_owned(),
        expect,
        64,
        Pace::Closed,
        duration,
    )?;
    let open_loop =
        loadgen::on_own_thread(b.addr(), path, expect, 64, Pace::Open(open_rate), duration)?;
    // The same schedule against the baseline: what the harness itself adds
    // (timer granularity, sharing two cores with the server).
    let baseline_open_loop = loadgen::on_own_thread(
        baseline_addr,
        "/".to_owned(),
        expect,
        64,
        Pace::Open(open_rate),
        duration,
    )?;
    println!(
        "read: package/get (token check, {} B answer), 64 connections: {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms, {} errors); \
         baseline hello-JSON hyper {:.0} req/s; ratio {:.2} (target >= 0.50); \
         open loop {open_rate:.0} req/s offered: {:.0} answered, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms (target p99 < 5 ms); \
         baseline at the same schedule p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms",
        sample.len(),
        smartship.rps(),
        smartship.ms(50.0),
        smartship.ms(99.0),
        smartship.errors,
        baseline.rps(),
        smartship.rps() / baseline.rps(),
        open_loop.rps(),
        open_loop.ms(50.0),
        open_loop.ms(99.0),
        open_loop.ms(99.9),
        baseline_open_loop.ms(50.0),
        baseline_open_loop.ms(99.0),
        baseline_open_loop.ms(99.9),
    );
    b.server.stop().await?;
    Ok(ReadResult {
        smartship,
        baseline,
        open_loop,
        baseline_open_loop,
        open_rate,
    })
}

/// `package/get` on PostgreSQL through `nodes` nodes behind the in-process
/// balancer (`crate::nodes`), closed loop from 64 connections: requests/s.
/// With one node it is the baseline of more.
pub async fn through_nodes(quick: bool, nodes: usize) -> anyhow::Result<f64> {
    let duration = Duration::from_secs(if quick { 1 } else { 10 });
    let db =
        smartship_store::test_db::TestDb::new(smartship_store::test_db::Backend::Postgres).await;
    let url = db.url().to_owned();
    let b = setup::start(|c| c.database_url = Some(url), &setup::sample_template()).await?;
    let (base, extra) = crate::nodes::front(&b, Some(nodes)).await?;
    let apps = b.apps(1).await?;
    let (_, token, _) = &apps[0];
    let client = smartship_client::OpenApiClient::new(&base, token);
    let ext = serde_json::json!({"extEnable": true});
    client
        .package_upload(b.template_id, &ext, "1.0.0", "bench")
        .await?;
    let path = format!("/rest/2.0/smartapp/package/get?access_token={token}");
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse()?;
    let expect: &'static [u8] = br#""errno":0"#;
    let stats = loadgen::on_own_thread(addr, path, expect, 64, Pace::Closed, duration)?;
    println!(
        "read (PostgreSQL, {nodes} node(s) behind a round-robin balancer): package/get with token check, \
         64 connections: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
        stats.rps(),
        stats.ms(50.0),
        stats.ms(99.0),
        stats.errors
    );
    anyhow::ensure!(stats.errors == 0, "{} reads failed", stats.errors);
    if let Some(extra) = extra {
        extra.stop().await?;
    }
    b.server.stop().await?;
    drop(db);
    Ok(stats.rps())
}
