//! `smartship db copy` on a real installation: a demo server on SQLite
//! with a released app, a rolled-back app and pending events is stopped,
//! copied into PostgreSQL and started there on a new, empty data
//! directory: the rows and the blobs are all in the database. Every
//! `/rest/2.0` answer for those apps is the same, their old tokens work,
//! their built packages download, and the pending events are delivered by
//! the new server.

use serde_json::{Value, json};
use smartship_store::test_db::{Backend, TestDb};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod support;

use support::BIN;

const ENV: &[(&str, &str)] = &[
    ("SMARTSHIP_REVIEW_POLICY", "auto-pass"),
    ("SMARTSHIP_ROLLBACK_DELAY_SECS", "0.2"),
    ("SMARTSHIP_EVENTS_ALLOWED_NETWORKS", "127.0.0.1/32"),
    // Retries every 2 s: the events stay pending across the move.
    (
        "SMARTSHIP_EVENTS_RETRY_SCHEDULE",
        "2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2",
    ),
];

fn cli(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .envs(ENV.iter().copied())
        .env("SMARTSHIP_DATA_DIR", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "smartship {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A server process, killed if the test fails before stopping it.
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn stop(mut running: Running) {
    let mut child = running.0.take().expect("running");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
}

async fn get(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// The answers of the app routes that read, for one app token.
async fn answers(base: &str, token: &str, tp_token: &str) -> Value {
    let list = get(&format!(
        "{base}/rest/2.0/smartapp/package/get?access_token={token}"
    ))
    .await;
    assert_eq!(list["errno"], 0, "{list}");
    let mut details = Vec::new();
    for p in list["data"].as_array().unwrap() {
        let id = p["package_id"].as_i64().unwrap();
        details.push(
            get(&format!(
                "{base}/rest/2.0/smartapp/package/getdetail?access_token={token}&package_id={id}"
            ))
            .await,
        );
    }
    let templates = get(&format!(
        "{base}/rest/2.0/smartapp/template/gettemplatelist?access_token={tp_token}"
    ))
    .await;
    json!({"list": list, "details": details, "templates": templates})
}

async fn wait_for<F, Fut>(what: &str, secs: u64, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn events(base: &str, admin: &str, status: &str) -> Vec<Value> {
    let v: Value = reqwest::Client::new()
        .get(format!("{base}/admin/v1/events?status={status}&limit=1000"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["events"].as_array().unwrap().clone()
}

/// A receiver that answers `success` to every request and counts them.
async fn receiver(listener: tokio::net::TcpListener, count: Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    loop {
        let Ok((mut conn, _)) = listener.accept().await else {
            return;
        };
        let count = count.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head and the body its Content-Length announces.
            loop {
                let Ok(n) = conn.read(&mut chunk).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            count.fetch_add(1, Ordering::SeqCst);
            let _ = conn
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nsuccess",
                )
                .await;
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_installation_answers_the_same_and_delivers_its_pending_events() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (child, demo) = support::start_demo(d, ENV);
    let child = Running(Some(child));
    let base = demo["base_url"].as_str().unwrap().to_owned();
    let admin = demo["admin_token"].as_str().unwrap().to_owned();
    let tp_token = demo["tp"]["access_token"].as_str().unwrap().to_owned();
    let client_id = demo["tp"]["client_id"].as_str().unwrap().to_owned();
    let template = demo["template_id"].as_i64().unwrap().to_string();
    let server = ["--server", base.as_str(), "--admin-token", admin.as_str()];
    let mut args = vec!["admin"];
    args.extend(server);
    args.extend([
        "apps",
        "create",
        "--count",
        "2",
        "--tp",
        &client_id,
        "--approved",
        "--json",
    ]);
    std::fs::write(d.join("apps.json"), cli(d, &args)).unwrap();
    let apps: Value = serde_json::from_slice(&std::fs::read(d.join("apps.json")).unwrap()).unwrap();
    let tokens: Vec<String> = apps
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["access_token"].as_str().unwrap().to_owned())
        .collect();
    for version in ["1.0.0", "2.0.0"] {
        cli(
            d,
            &[
                "fleet",
                "--server",
                &base,
                "--token",
                &tp_token,
                "upgrade",
                "--template",
                &template,
                "--apps",
                "apps.json",
                "--version",
                version,
                "--release",
            ],
        );
    }
    // The second app goes back to 1.0.0.
    let list = get(&format!(
        "{base}/rest/2.0/smartapp/package/get?access_token={}",
        tokens[1]
    ))
    .await;
    let online = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["status"] == 1)
        .unwrap_or_else(|| panic!("an online package: {list}"))["package_id"]
        .as_i64()
        .unwrap();
    let rollback = reqwest::Client::new()
        .post(format!(
            "{base}/rest/2.0/smartapp/package/rollback?access_token={}&package_id={online}",
            tokens[1]
        ))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(rollback["errno"], 0, "{rollback}");
    wait_for("the rollback", 30, || async {
        let list = get(&format!(
            "{base}/rest/2.0/smartapp/package/get?access_token={}",
            tokens[1]
        ))
        .await;
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["status"] == 1 && p["version"] == "1.0.0")
    })
    .await;

    // Audit results go to a receiver that is down: they stay pending.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/events");
    let mut args = vec!["admin"];
    args.extend(server);
    args.extend(["tp", "set-urls", &client_id, "--message-url", &url]);
    cli(d, &args);
    wait_for("a failed attempt", 30, || async {
        events(&base, &admin, "pending")
            .await
            .iter()
            .any(|e| e["attempts"].as_i64().unwrap_or(0) >= 1)
    })
    .await;
    let pending = events(&base, &admin, "pending").await.len();
    assert!(
        pending >= 4,
        "audit results of 4 releases pending: {pending}"
    );
    let mut before = Vec::new();
    for t in &tokens {
        before.push(answers(&base, t, &tp_token).await);
    }
    stop(child);

    let db = TestDb::new(Backend::Postgres).await;
    let out = Command::new(BIN)
        .args(["db", "copy", "--from"])
        .arg(d)
        .args(["--to", db.url()])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "db copy: {stdout}\n{stderr}");
    assert!(stdout.contains("every table and blob is equal"), "{stdout}");
    assert!(stderr.contains("packages"), "progress per table: {stderr}");
    assert!(stderr.contains("blobs ("), "the blobs' count: {stderr}");
    // Run again (as after an interruption): nothing is left to write.
    let again = Command::new(BIN)
        .args(["db", "copy", "--from"])
        .arg(d)
        .args(["--to", db.url()])
        .output()
        .unwrap();
    let again_err = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{again_err}");
    assert!(
        again_err.contains("(0 written, 0 bytes;"),
        "no blob is written twice: {again_err}"
    );

    let count = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(receiver(listener, count.clone()));
    // Nothing of the old data directory is needed but the admin token,
    // given here in the environment.
    let fresh = tempfile::tempdir().unwrap();
    let d = fresh.path();
    let mut child = Running(Some(
        Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(d)
            .args(["--database", db.url()])
            .envs(ENV.iter().copied())
            .env("SMARTSHIP_ADMIN_TOKEN", &admin)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("pg-stderr.log")).unwrap())
            .spawn()
            .unwrap(),
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    let base = loop {
        if let Ok(t) = std::fs::read_to_string(d.join("server.json"))
            && let Ok(v) = serde_json::from_str::<Value>(&t)
        {
            break v["base_url"].as_str().unwrap().to_owned();
        }
        if Instant::now() > deadline || child.0.as_mut().unwrap().try_wait().unwrap().is_some() {
            panic!(
                "the server on PostgreSQL did not start: {}",
                std::fs::read_to_string(d.join("pg-stderr.log")).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    for (t, old) in tokens.iter().zip(&before) {
        assert_eq!(&answers(&base, t, &tp_token).await, old, "the same answers");
    }
    // The package built on SQLite downloads from the blobs in PostgreSQL.
    let zip = download(&base, &admin, online).await;
    assert!(zip.len() > 100, "{} bytes", zip.len());
    wait_for("the pending events' delivery", 60, || async {
        events(&base, &admin, "pending").await.is_empty()
    })
    .await;
    assert!(count.load(Ordering::SeqCst) >= pending);
    assert!(events(&base, &admin, "delivered").await.len() >= pending);
    // The old tokens write too: a new upload on the first app.
    let up = reqwest::Client::new()
        .post(format!(
            "{base}/rest/2.0/smartapp/package/upload?access_token={}&template_id={template}&ext_json=%7B%22extEnable%22%3Atrue%7D&user_version=3.0.0&user_desc=after",
            tokens[0]
        ))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(up["errno"], 0, "{up}");
    // It is built from the template's blobs in PostgreSQL, and its new
    // files (ext.json) are stored there: it downloads.
    let list = get(&format!(
        "{base}/rest/2.0/smartapp/package/get?access_token={}",
        tokens[0]
    ))
    .await;
    let new = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["version"] == "3.0.0")
        .unwrap_or_else(|| panic!("the new upload: {list}"))["package_id"]
        .as_i64()
        .unwrap();
    let zip = download(&base, &admin, new).await;
    assert!(zip.len() > 100, "{} bytes", zip.len());
    assert!(
        !d.join("blobs").read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .len()
            == 2),
        "no blob was written to the node's disk"
    );
    stop(child);
}

/// A package's zip through the operator API, once it is built.
async fn download(base: &str, admin: &str, package: i64) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = reqwest::Client::new()
            .get(format!("{base}/admin/v1/packages/{package}/download"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.bytes().await.unwrap().to_vec();
        if status.is_success() {
            assert!(body.starts_with(b"PK"), "a zip");
            return body;
        }
        assert!(
            status == reqwest::StatusCode::CONFLICT && Instant::now() < deadline,
            "package {package}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
