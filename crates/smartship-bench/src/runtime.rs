//! The host-runtime API under load. The update check (host-key lookup,
//! phased-release lookup, online package, artifact record, Ed25519
//! signature) at 64 connections against a plain hyper server answering the
//! same JSON; the download of a 2 MB package against a plain static-file
//! server (hyper reading the same zip from disk on each request), both
//! started in this process and loaded the same way.

use crate::loadgen::{self, Pace, Stats};
use crate::setup;
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub struct RuntimeResult {
    pub check: Stats,
    pub check_baseline: Stats,
    pub download: Stats,
    pub download_baseline: Stats,
    /// Bytes of the downloaded zip.
    pub zip_bytes: usize,
}

/// A hyper server answering every request with the bytes of `file`, read
/// from disk each time (what a static-file server does, page cache helping).
async fn static_file(file: PathBuf) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let file = file.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |_req| {
                    let file = file.clone();
                    async move {
                        let bytes = tokio::fs::read(&file).await.unwrap_or_default();
                        Ok::<_, std::convert::Infallible>(
                            hyper::Response::builder()
                                .header("content-type", "application/zip")
                                .body(Full::new(Bytes::from(bytes)))
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

/// A template of the sample tree plus 2 MiB that does not compress.
fn two_megabyte_template() -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut t = setup::sample_template();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..2 << 20)
        .map(|_| {
            // xorshift: incompressible bytes without a dependency.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    t.insert("static/bundle.bin".to_owned(), noise);
    t
}

pub async fn run(quick: bool) -> anyhow::Result<RuntimeResult> {
    let duration = Duration::from_secs(if quick { 1 } else { 10 });
    // The package is 2 MiB and more on purpose (what a host downloads):
    // the pre-review size check, 2 MiB by default, is raised for it.
    let b = setup::start(
        |c| c.precheck_main_package_bytes = 8 << 20,
        &two_megabyte_template(),
    )
    .await?;
    let apps = b.apps(1).await?;
    let (app_id, token, _) = &apps[0];
    b.release_one(token, "1.0.0").await?;
    let admin = smartship_client::AdminClient::new(&b.base, setup::ADMIN_TOKEN);
    let key = admin
        .post("/admin/v1/host-keys", &serde_json::json!({"name": "bench"}))
        .await?["host_key"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no host key"))?
        .to_owned();

    let runtime = smartship_client::runtime::RuntimeClient::new(&b.base, &key);
    let answer = runtime.check(*app_id, Some("user-1"), None).await?;
    let zip = runtime.download(&answer).await?;
    let path = format!("/runtime/v1/apps/{app_id}/update?user_id=user-1");
    let sample = reqwest::Client::new()
        .get(format!("{}{path}", b.base))
        .bearer_auth(&key)
        .send()
        .await?
        .bytes()
        .await?;
    let check_base = crate::read::hello_json(sample).await?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("package.zip");
    std::fs::write(&file, &zip)?;
    let file_base = static_file(file).await?;

    let expect: &'static [u8] = br#""signature""#;
    let check = loadgen::on_own_thread_authorized(
        b.addr(),
        path,
        Some(key.clone()),
        expect,
        64,
        Pace::Closed,
        duration,
    )?;
    let check_baseline = loadgen::on_own_thread(
        check_base,
        "/".to_owned(),
        expect,
        64,
        Pace::Closed,
        duration,
    )?;
    // Downloads: 8 connections, each fetching the whole 2 MB zip.
    let artifact = format!("/runtime/v1/apps/{app_id}/artifacts/{}.zip", answer.sha256);
    let zip_magic: &'static [u8] = b"PK\x03\x04";
    let download =
        loadgen::on_own_thread(b.addr(), artifact, zip_magic, 8, Pace::Closed, duration)?;
    let download_baseline = loadgen::on_own_thread(
        file_base,
        "/".to_owned(),
        zip_magic,
        8,
        Pace::Closed,
        duration,
    )?;
    Ok(RuntimeResult {
        check,
        check_baseline,
        download,
        download_baseline,
        zip_bytes: zip.len(),
    })
}
