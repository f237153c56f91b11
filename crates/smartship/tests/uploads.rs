//! Memory stays bounded under parallel uploads: 40 draft uploads of 33 MB
//! at once against the real binary keep its peak resident memory (VmHWM)
//! under 300 MB, because uploads stream to temporary files and each file of
//! a draft is stored as it is inflated. And nothing stays in `blobs/tmp`.
//! On PostgreSQL too, where each file streams into the database in chunks.

use serde_json::Value;
use smartship_store::test_db::{Backend, TestDb};
use std::time::Duration;

mod support;

/// The server, killed if the test fails before it is stopped.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_parallel_30_mib_drafts_keep_peak_memory_under_300_mb() {
    parallel_big_drafts(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_parallel_30_mib_drafts_keep_peak_memory_under_300_mb_on_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    parallel_big_drafts(Some(db.url())).await;
}

async fn parallel_big_drafts(database: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    // 40 drafts of 30 MiB pass the platform's default draft budget (1 GiB):
    // this test is about memory, so the budget is raised.
    let mut env: Vec<(&str, &str)> = vec![("SMARTSHIP_DRAFT_BUDGET_BYTES_PER_TP", "4294967296")];
    env.extend(database.map(|url| ("SMARTSHIP_DATABASE_URL", url)));
    let (server, demo) = support::start_demo(dir.path(), &env);
    let mut server = KillOnDrop(server);
    let base = demo["base_url"].as_str().unwrap().to_owned();
    let tp_token = demo["tp"]["access_token"].as_str().unwrap().to_owned();
    let before = peak_rss_kib(server.0.id());

    // One 33 MB file that does not compress, beside the sample's app.json
    // (under the default max_draft_bytes of 32 MiB).
    let mut big = vec![0u8; 33_000_000];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for chunk in big.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    let zip = smartship_core::archive::write_zip([
        ("app.json", &br#"{"pages":["pages/index/index"]}"#[..]),
        ("assets/big.bin", &big[..]),
    ])
    .unwrap();
    drop(big);
    let zip = std::sync::Arc::new(zip);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    let started = std::time::Instant::now();
    for i in 0..40 {
        let (http, base, token, zip) = (http.clone(), base.clone(), tp_token.clone(), zip.clone());
        tasks.spawn(async move {
            let form = reqwest::multipart::Form::new()
                .text("user_version", format!("1.0.{i}"))
                .text("user_desc", "big")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(zip.to_vec()).file_name("d.zip"),
                );
            let v: Value = http
                .post(format!("{base}/rest/2.0/smartapp/template/uploaddraft"))
                .query(&[("access_token", token.as_str())])
                .multipart(form)
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            Ok::<Value, String>(v)
        });
    }
    let mut ok = 0;
    while let Some(v) = tasks.join_next().await {
        let v = v.unwrap().unwrap_or_else(|e| {
            let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
            panic!(
                "an upload failed after {:?}: {e}; server: {:?}; log:\n{log}",
                started.elapsed(),
                server.0.try_wait()
            )
        });
        assert_eq!(v["errno"], 0, "{v}");
        ok += 1;
    }
    assert_eq!(ok, 40);
    let peak = peak_rss_kib(server.0.id());
    support::kill9(&mut server.0);
    eprintln!(
        "peak RSS: {} MiB (before the uploads: {} MiB), {:.1} s",
        peak / 1024,
        before / 1024,
        started.elapsed().as_secs_f64()
    );
    assert!(peak < 300 * 1000, "peak RSS {peak} KiB");
    let left = std::fs::read_dir(dir.path().join("blobs/tmp"))
        .unwrap()
        .count();
    assert_eq!(left, 0, "temporary upload files are removed");
}
