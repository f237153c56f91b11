//! A full disk: the data directory on a small filesystem this test mounts
//! (tmpfs, which needs root, as this project's machines and CI are), with
//! the server's log on it too. Writes are refused with errno 50002 and
//! leave nothing in `blobs/tmp/`, reads keep working, SIGTERM still stops
//! the server, a restart on the still-full disk serves, and once space is
//! freed writes work again.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn mount_small_fs(at: &Path, size: &str) -> Mount {
    std::fs::create_dir_all(at).unwrap();
    let st = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(at)
        .status()
        .unwrap();
    assert!(
        st.success(),
        "mounting a tmpfs needs root (this test's machines run as root)"
    );
    Mount(at.to_path_buf())
}

/// Fills the filesystem of `dir` to the last byte.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    let small = [0u8; 512];
    while f.write_all(&small).is_ok() {}
    let _ = f.flush();
    path
}

fn serve(data: &Path, log: &Path, port: u16) -> Child {
    Command::new(support::BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data)
        .stdout(Stdio::null())
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .unwrap(),
        )
        .spawn()
        .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_healthy(http: &reqwest::Client, base: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server exited: {status}");
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn draft(http: &reqwest::Client, base: &str, token: &str, version: &str) -> Value {
    // A file that does not compress, so the upload needs real space.
    let mut pad = vec![0u8; 512 * 1024];
    let mut x: u32 = 0x1234_5678 ^ version.len() as u32;
    for b in pad.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let mut tree = smartship_server::demo::sample_tree();
    tree.insert(format!("assets/pad-{version}.bin"), pad);
    let zip =
        smartship_core::archive::write_zip(tree.iter().map(|(p, b)| (p.as_str(), b.as_slice())))
            .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("user_version", version.to_owned())
        .text("user_desc", "d")
        .part(
            "file",
            reqwest::multipart::Part::bytes(zip).file_name("d.zip"),
        );
    http.post(format!("{base}/rest/2.0/smartapp/template/uploaddraft"))
        .query(&[("access_token", token)])
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn get_json(http: &reqwest::Client, url: String) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

fn term_and_wait(child: &mut Child) -> Duration {
    let t0 = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if child.try_wait().unwrap().is_some() {
            return t0.elapsed();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("SIGTERM did not stop the server");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_clearly_and_keeps_serving() {
    let scratch = tempfile::tempdir().unwrap();
    let mnt = scratch.path().join("mnt");
    let _mount = mount_small_fs(&mnt, "24m");
    let data = mnt.join("data");
    let log = mnt.join("server.log");
    let http = reqwest::Client::new();

    std::fs::create_dir_all(&data).unwrap();
    // A first start with the demo, while there is room.
    let (mut first, demo) = support::start_demo(&data, &[]);
    let base = demo["base_url"].as_str().unwrap().to_owned();
    let tp = demo["tp"]["access_token"].as_str().unwrap().to_owned();
    let app = demo["apps"][0]["access_token"].as_str().unwrap().to_owned();
    assert_eq!(draft(&http, &base, &tp, "1.0.0").await["errno"], 0);
    term_and_wait(&mut first);

    // Restart with the log on the same filesystem, then fill it.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(&data, &log, port);
    wait_healthy(&http, &base, &mut server).await;
    let filler = fill(&mnt);

    let v = draft(&http, &base, &tp, "1.0.1").await;
    assert_eq!(v["errno"], 50002, "a clear code for a full disk: {v}");
    let left: Vec<_> = std::fs::read_dir(data.join("blobs/tmp"))
        .unwrap()
        .flatten()
        .collect();
    assert!(left.is_empty(), "partial files left: {left:?}");
    // Reads keep working.
    let v = get_json(
        &http,
        format!("{base}/rest/2.0/smartapp/package/get?access_token={app}"),
    )
    .await;
    assert_eq!(v["errno"], 0, "{v}");
    let v = get_json(
        &http,
        format!("{base}/rest/2.0/smartapp/template/gettemplatedraftlist?access_token={tp}"),
    )
    .await;
    assert_eq!(v["data"]["count"], 2, "{v}");
    // SIGTERM stops it, log or no log.
    let took = term_and_wait(&mut server);
    assert!(took < Duration::from_secs(15), "{took:?}");

    // A restart on the still-full disk serves reads.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(&data, &log, port);
    wait_healthy(&http, &base, &mut server).await;
    let v = get_json(
        &http,
        format!("{base}/rest/2.0/smartapp/package/get?access_token={app}"),
    )
    .await;
    assert_eq!(v["errno"], 0, "{v}");

    // Space again: writes work again.
    std::fs::remove_file(filler).unwrap();
    assert_eq!(draft(&http, &base, &tp, "1.0.2").await["errno"], 0);
    term_and_wait(&mut server);
}
