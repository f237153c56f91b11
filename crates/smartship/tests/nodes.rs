//! Three `smartship serve` processes on one fresh PostgreSQL database
//! (docs/scaling.md), driven over raw HTTP spread round-robin over them,
//! and through HAProxy with the configuration of docs/scaling.md:
//!
//! - conflicting lifecycle calls on one app keep the slot invariants and
//!   the audit quota;
//! - an authorization ended through one node is refused by the others
//!   within the documented bound (the worst lag of 100 trials is printed);
//! - the per-node share of the rate limit holds the installation's limit;
//! - a fleet of 500 apps upgraded through HAProxy while one node is
//!   SIGKILLed: every build finishes, every audit event reaches the
//!   receiver, every app ends online;
//! - a node stopped (SIGTERM) behind HAProxy fails no read.

use serde_json::{Value, json};
use smartship_store::test_db::{Backend, TestDb};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;

use support::BIN;

const ADMIN: &str = "multi-node-admin-token-0123456789";
/// docs/scaling.md: a write through one node is seen by the others within.
const BOUND: Duration = Duration::from_millis(100);

/// One `smartship serve` process, killed if the test ends without
/// stopping it.
struct Node {
    child: Option<Child>,
    base: String,
    addr: String,
    dir: PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Node {
    fn signal(&mut self, sig: &str) -> Child {
        let child = self.child.take().expect("running");
        Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .unwrap();
        child
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }
}

struct Cluster {
    nodes: Vec<Node>,
    demo: Value,
    http: reqwest::Client,
    _db: TestDb,
    _dir: tempfile::TempDir,
}

/// GET `url` as JSON, with the admin token when `admin`.
async fn get_json(url: &str, admin: bool) -> Value {
    let req = reqwest::Client::new().get(url);
    let req = if admin { req.bearer_auth(ADMIN) } else { req };
    req.send().await.unwrap().json().await.unwrap()
}

// The child is kept in the Node, which reaps it.
#[allow(clippy::zombie_processes)]
fn start_node(dir: &Path, db: &str, demo: bool, env: &[(&str, &str)]) -> Node {
    std::fs::create_dir_all(dir).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        db,
        "--data-dir",
    ])
    .arg(dir)
    .env("SMARTSHIP_ADMIN_TOKEN", ADMIN)
    .env("SMARTSHIP_REVIEW_POLICY", "auto-pass")
    .env("SMARTSHIP_EVENTS_ALLOWED_NETWORKS", "127.0.0.1/32")
    .env("SMARTSHIP_ROLLBACK_DELAY_SECS", "0.2")
    .env("SMARTSHIP_EVENTS_RETRY_SCHEDULE", "1,1,1,1,1,1,1,1,1,1,1,1")
    .envs(env.iter().copied())
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap());
    if demo {
        cmd.arg("--demo");
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let wanted = if demo { "demo.json" } else { "server.json" };
    loop {
        if std::fs::metadata(dir.join(wanted)).is_ok()
            && let Ok(text) = std::fs::read_to_string(dir.join("server.json"))
            && let Ok(v) = serde_json::from_str::<Value>(&text)
        {
            let base = v["base_url"].as_str().unwrap().to_owned();
            let addr = base.trim_start_matches("http://").to_owned();
            return Node {
                child: Some(child),
                base,
                addr,
                dir: dir.to_path_buf(),
            };
        }
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "node did not start:\n{}",
                std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Three nodes on a fresh schema; the first seeds the demo data.
async fn cluster(env: &[(&str, &str)]) -> Cluster {
    let db = TestDb::new(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = vec![start_node(&dir.path().join("node1"), db.url(), true, env)];
    for i in 2..=3 {
        nodes.push(start_node(
            &dir.path().join(format!("node{i}")),
            db.url(),
            false,
            env,
        ));
    }
    let demo: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("node1/demo.json")).unwrap())
            .unwrap();
    Cluster {
        nodes,
        demo,
        http: reqwest::Client::new(),
        _db: db,
        _dir: dir,
    }
}

impl Cluster {
    fn base(&self, i: usize) -> &str {
        &self.nodes[i % self.nodes.len()].base
    }

    async fn api(&self, node: usize, route: &str, token: &str, params: &[(&str, &str)]) -> Value {
        let mut form: Vec<(&str, &str)> = params.to_vec();
        form.push(("access_token", token));
        self.http
            .post(format!("{}/rest/2.0/smartapp/{route}", self.base(node)))
            .form(&form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `package/get` through `node`, as answered.
    async fn package_get(&self, node: usize, token: &str) -> Value {
        self.http
            .get(format!(
                "{}/rest/2.0/smartapp/package/get?access_token={token}",
                self.base(node)
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn packages(&self, node: usize, token: &str) -> Vec<Value> {
        let v = self.package_get(node, token).await;
        assert_eq!(v["errno"], 0, "{v}");
        v["data"].as_array().cloned().unwrap_or_default()
    }

    async fn admin(&self, node: usize, method: reqwest::Method, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base(node)))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }

    /// Polls app `token`'s packages (through every node in turn) until
    /// `pred` holds.
    async fn wait_packages(&self, token: &str, what: &str, pred: impl Fn(&[Value]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut n = 0;
        loop {
            let p = self.packages(n, token).await;
            if pred(&p) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {p:?}"
            );
            n += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Uploads `version` through `node` and waits until it is built.
    async fn built(&self, node: usize, token: &str, version: &str) -> i64 {
        let tpl = self.demo["template_id"].as_i64().unwrap().to_string();
        let up = self
            .api(
                node,
                "package/upload",
                token,
                &[
                    ("template_id", &tpl),
                    ("ext_json", r#"{"extEnable":true}"#),
                    ("user_version", version),
                    ("user_desc", "multi-node"),
                ],
            )
            .await;
        assert_eq!(up["errno"], 0, "{up}");
        let find = |p: &[Value]| {
            p.iter()
                .find(|p| p["version"] == version && p["status"] == 3 && p["upload_status"] == 2)
                .and_then(|p| p["package_id"].as_i64())
        };
        self.wait_packages(token, "a build", |p| find(p).is_some())
            .await;
        find(&self.packages(node, token).await).unwrap()
    }

    /// Uploads, submits and waits for the (automatic) pass of `version`.
    async fn passed(&self, node: usize, token: &str, version: &str) -> i64 {
        let id = self.built(node, token, version).await;
        let s = self
            .api(
                node + 1,
                "package/submitaudit",
                token,
                &[
                    ("package_id", &id.to_string()),
                    ("content", "c"),
                    ("remark", "r"),
                ],
            )
            .await;
        assert_eq!(s["errno"], 0, "{s}");
        self.wait_packages(token, "an audit pass", |p| {
            p.iter().any(|p| p["package_id"] == id && p["status"] == 6)
        })
        .await;
        id
    }

    async fn released(&self, node: usize, token: &str, version: &str) -> i64 {
        let id = self.passed(node, token, version).await;
        let r = self
            .api(
                node + 2,
                "package/release",
                token,
                &[("package_id", &id.to_string())],
            )
            .await;
        assert_eq!(r["errno"], 0, "{r}");
        id
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conflicting_calls_spread_over_three_nodes_keep_the_slots_and_the_quota() {
    let c = cluster(&[("SMARTSHIP_AUDIT_QUOTA_PER_WEEK", "5")]).await;
    let token = c.demo["apps"][0]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // v1 in history, v2 online, v3 audit passed, v4 built in development:
    // three of the five submissions of the week are used.
    c.released(0, &token, "1").await;
    let v2 = c.released(1, &token, "2").await;
    let v3 = c.passed(2, &token, "3").await;
    let v4 = c.built(0, &token, "4").await;

    let mut calls = tokio::task::JoinSet::new();
    for i in 0..100 {
        let (route, id) = match i % 4 {
            0 => ("package/submitaudit", v4),
            1 => ("package/release", v3),
            2 => ("package/rollback", v2),
            _ => ("package/withdraw", v4),
        };
        let url = format!("{}/rest/2.0/smartapp/{route}", c.base(i));
        let http = c.http.clone();
        let token = token.clone();
        calls.spawn(async move {
            let v: Value = http
                .post(url)
                .form(&[
                    ("access_token", token.as_str()),
                    ("package_id", &id.to_string()),
                    ("content", "c"),
                    ("remark", "r"),
                ])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (route, v)
        });
    }
    let mut submitted = 0;
    for (route, v) in calls.join_all().await {
        let errno = v["errno"].as_i64().unwrap_or_else(|| panic!("{v}"));
        assert!(
            errno == 0 || (47001..=47013).contains(&errno),
            "{route}: an answer outside the documented refusals: {v}"
        );
        if route == "package/submitaudit" && errno == 0 {
            submitted += 1;
        }
    }
    assert!(
        submitted <= 2,
        "{submitted} submissions past a quota of 5 with 3 used"
    );

    // Read through each node: the same, and at most one package per slot.
    let mut seen = Vec::new();
    for node in 0..3 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut slots: HashMap<&str, usize> = HashMap::new();
        let packages = c.packages(node, &token).await;
        for p in &packages {
            let slot = match p["status"].as_i64().unwrap() {
                3 => "development",
                4..=6 => "audit",
                1 | 8 => "online",
                _ => continue,
            };
            *slots.entry(slot).or_default() += 1;
        }
        for (slot, n) in &slots {
            assert!(
                *n <= 1,
                "node {node}: {n} packages in the {slot} slot: {packages:?}"
            );
        }
        seen.push(packages);
    }
    assert!(
        seen.windows(2).all(|w| w[0] == w[1]),
        "the nodes disagree: {seen:?}"
    );
    let quota = c.api(2, "package/auditquota", &token, &[]).await;
    assert_eq!(quota["errno"], 0, "{quota}");
    assert!(
        quota["data"]["remain_times"].as_i64().unwrap() >= 0,
        "{quota}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_ended_authorization_is_refused_by_the_other_nodes_within_the_bound() {
    let c = cluster(&[]).await;
    let client_id = c.demo["tp"]["client_id"].as_str().unwrap().to_owned();
    let app = c.demo["apps"][0]["app_id"].as_i64().unwrap();
    let mut lags = Vec::new();
    for trial in 0..100 {
        let writer = trial % 3;
        let tok = c
            .admin(
                writer,
                reqwest::Method::POST,
                &format!("/admin/v1/apps/{app}/authorize"),
                json!({"client_id": client_id}),
            )
            .await;
        let token = tok["access_token"].as_str().unwrap().to_owned();
        // The other nodes know the token (and have it cached).
        for reader in [writer + 1, writer + 2] {
            for _ in 0..2 {
                assert_eq!(c.packages(reader, &token).await.len(), 0);
            }
        }
        c.admin(
            writer,
            reqwest::Method::DELETE,
            &format!("/admin/v1/apps/{app}/authorize/{client_id}"),
            json!({}),
        )
        .await;
        let ended = Instant::now();
        for reader in [writer + 1, writer + 2] {
            loop {
                let v: Value = c.package_get(reader, &token).await;
                if v["errno"] != 0 || v.get("error_code").is_some() {
                    break;
                }
                assert!(
                    ended.elapsed() < Duration::from_secs(5),
                    "trial {trial}: node {} still accepts the token",
                    reader % 3
                );
            }
        }
        lags.push(ended.elapsed());
    }
    lags.sort();
    let worst = *lags.last().unwrap();
    println!(
        "ended authorization refused by both other nodes: median {:?}, p99 {:?}, worst {:?} over {} trials",
        lags[lags.len() / 2],
        lags[lags.len() * 99 / 100],
        worst,
        lags.len()
    );
    assert!(
        worst < BOUND,
        "worst lag {worst:?} over the bound {BOUND:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_node_enforcing_its_share_holds_the_installations_rate_limit() {
    // An installation limit of 30 requests/s per token, three nodes: 10
    // each (docs/scaling.md, "The rate limit across nodes").
    let c = cluster(&[("SMARTSHIP_RATE_LIMIT_PER_TOKEN", "10")]).await;
    let token = c.demo["apps"][0]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let window = Duration::from_secs(2);
    let start = Instant::now();
    let (mut allowed, mut limited, mut i) = (0u64, 0u64, 0usize);
    while start.elapsed() < window {
        let v: Value = c.package_get(i, &token).await;
        if v["error_code"] == 18 {
            limited += 1;
        } else {
            assert_eq!(v["errno"], 0, "{v}");
            allowed += 1;
        }
        i += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    // At most the installation's rate over the window plus each node's
    // burst (twice its share).
    let ceiling = (30.0 * secs + 3.0 * 20.0).ceil() as u64;
    println!(
        "rate limit across 3 nodes: {allowed} allowed, {limited} limited in {secs:.2} s (ceiling {ceiling})"
    );
    assert!(limited > 0, "the limit never applied");
    assert!(allowed <= ceiling, "{allowed} allowed, over {ceiling}");
    // And it is the installation's limit, not a third of it.
    assert!(
        allowed as f64 >= 30.0 * secs * 0.8,
        "{allowed} allowed in {secs:.2} s"
    );
}

/// Debian puts HAProxy in /usr/sbin, which a user's PATH may lack.
fn haproxy_bin() -> &'static str {
    if Path::new("/usr/sbin/haproxy").exists() {
        "/usr/sbin/haproxy"
    } else {
        "haproxy"
    }
}

/// HAProxy with docs/scaling.md's configuration in front of `nodes`;
/// returns it and its address.
fn haproxy(dir: &Path, nodes: &[&Node]) -> (Child, String) {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/scaling.md"),
    )
    .unwrap();
    let start = doc
        .find("<!-- haproxy.cfg -->")
        .expect("the configuration block");
    let block = &doc[start..];
    let body_start = block.find("```haproxy\n").unwrap() + "```haproxy\n".len();
    let body_end = block[body_start..].find("```").unwrap();
    let mut cfg = block[body_start..body_start + body_end].to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let front = format!("127.0.0.1:{port}");
    cfg = cfg.replace("bind 127.0.0.1:8080", &format!("bind {front}"));
    for (i, node) in nodes.iter().enumerate() {
        let documented = format!("127.0.0.1:808{}", i + 1);
        assert!(
            cfg.contains(&documented),
            "{documented} in the documented configuration"
        );
        cfg = cfg.replace(&documented, &node.addr);
    }
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, cfg).unwrap();
    let check = Command::new(haproxy_bin())
        .args(["-c", "-f"])
        .arg(&path)
        .output()
        .expect("haproxy is installed (scripts/test installs it)");
    assert!(
        check.status.success(),
        "haproxy -c: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let child = Command::new(haproxy_bin())
        .args(["-db", "-f"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("haproxy.log")).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://{front}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(&front).is_err() {
        assert!(Instant::now() < deadline, "haproxy did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, base)
}

struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A receiver that answers `success` and keeps each request's
/// `webhook-id`.
async fn receiver(seen: Arc<Mutex<Vec<String>>>) -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/",
        post(move |headers: axum::http::HeaderMap| {
            let seen = seen.clone();
            async move {
                if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
                    seen.lock().unwrap().push(id.to_owned());
                }
                "success"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/")
}

fn cli(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fleet_through_haproxy_completes_while_a_node_is_killed() {
    const APPS: usize = 500;
    let c = cluster(&[("SMARTSHIP_RATE_LIMIT_PER_TOKEN", "0")]).await;
    let dir = tempfile::tempdir().unwrap();
    let (proxy, front) = haproxy(dir.path(), &c.nodes.iter().collect::<Vec<_>>());
    let _proxy = Reaped(proxy);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let url = receiver(seen.clone()).await;
    let client_id = c.demo["tp"]["client_id"].as_str().unwrap().to_owned();
    c.admin(
        0,
        reqwest::Method::PATCH,
        &format!("/admin/v1/tps/{client_id}"),
        json!({"message_url": url}),
    )
    .await;
    let tp_token = c.demo["tp"]["access_token"].as_str().unwrap().to_owned();
    let template = c.demo["template_id"].as_i64().unwrap().to_string();
    let env = [
        ("SMARTSHIP_SERVER", front.as_str()),
        ("SMARTSHIP_ADMIN_TOKEN", ADMIN),
        ("SMARTSHIP_TOKEN", tp_token.as_str()),
    ];
    let made = cli(
        dir.path(),
        &env,
        &[
            "admin",
            "apps",
            "create",
            "--count",
            &APPS.to_string(),
            "--tp",
            &client_id,
            "--approved",
            "--json",
        ],
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    std::fs::write(dir.path().join("apps.json"), &made.stdout).unwrap();

    let mut fleet = Reaped(
        Command::new(BIN)
            .args([
                "fleet",
                "upgrade",
                "--template",
                &template,
                "--apps",
                "apps.json",
                "--version",
                "2.0.0",
                "--release",
                "--json",
            ])
            .current_dir(dir.path())
            .envs(env.iter().copied())
            .stdout(std::fs::File::create(dir.path().join("fleet.json")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("fleet.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    // SIGKILL node 2 once the fleet is under way: builds and deliveries in
    // flight on it.
    let started = Instant::now();
    let mut nodes = c.nodes;
    loop {
        let status: Value = get_json(&format!("{}/admin/v1/status", nodes[0].base), true).await;
        let online = status["packages"]["online"].as_i64().unwrap_or(0);
        if online >= 50 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the fleet did not start: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut killed = nodes[1].signal("-KILL");
    killed.wait().unwrap();
    println!("node 2 killed after {:?}", started.elapsed());

    let deadline = Instant::now() + Duration::from_secs(300);
    let exit = loop {
        if let Some(s) = fleet.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the fleet did not finish");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let report = std::fs::read_to_string(dir.path().join("fleet.json")).unwrap();
    assert!(
        exit.success(),
        "fleet: {exit}\n{report}\n{}",
        std::fs::read_to_string(dir.path().join("fleet.log")).unwrap_or_default()
    );
    println!(
        "fleet of {APPS} through HAProxy finished in {:?}",
        started.elapsed()
    );

    // Every app is online with 2.0.0, every build finished.
    let online: Value = get_json(
        &format!(
            "{}/admin/v1/packages?state=online&version=2.0.0&page_size=1",
            nodes[0].base
        ),
        true,
    )
    .await;
    assert_eq!(online["total"], APPS as i64, "{online}");
    // Every audit event reached the receiver (duplicates of a delivery cut
    // short share their webhook-id).
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let distinct: HashSet<String> = seen.lock().unwrap().iter().cloned().collect();
        if distinct.len() >= APPS {
            let all = seen.lock().unwrap().len();
            println!(
                "{} audit events received, {} of them duplicates",
                distinct.len(),
                all - distinct.len()
            );
            assert_eq!(distinct.len(), APPS);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {APPS} audit events received\n{}",
            distinct.len(),
            nodes[0].log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status: Value = get_json(&format!("{}/admin/v1/status", nodes[2].base), true).await;
    assert_eq!(status["builds"]["pending"], 0, "{status}");
    assert_eq!(status["builds"]["failed"], 0, "{status}");
    for n in [&nodes[0], &nodes[2]] {
        for line in n
            .log()
            .lines()
            .filter(|l| l.contains("took over the leased work"))
        {
            println!("{}: {line}", n.dir.display());
        }
    }
    nodes.clear();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_stopped_behind_haproxy_fails_no_read() {
    let c = cluster(&[
        ("SMARTSHIP_SHUTDOWN_DRAIN_SECS", "3"),
        ("SMARTSHIP_RATE_LIMIT_PER_TOKEN", "0"),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (proxy, front) = haproxy(dir.path(), &c.nodes.iter().collect::<Vec<_>>());
    let _proxy = Reaped(proxy);
    let token = c.demo["apps"][0]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut nodes = c.nodes;
    let http = reqwest::Client::new();
    let url = format!("{front}/rest/2.0/smartapp/package/get?access_token={token}");
    let read = || async {
        match http.get(&url).send().await {
            Ok(r) => matches!(r.json::<Value>().await, Ok(v) if v["errno"] == 0),
            Err(_) => false,
        }
    };
    let (mut reads, mut retried, mut failed) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    let mut stopping = None;
    while start.elapsed() < Duration::from_secs(8) {
        if stopping.is_none() && start.elapsed() > Duration::from_secs(1) {
            stopping = Some(nodes[1].signal("-TERM"));
        }
        reads += 1;
        if !read().await {
            // A client's one retry of an idempotent read.
            retried += 1;
            if !read().await {
                failed += 1;
            }
        }
    }
    let stopped = stopping.unwrap().wait().unwrap();
    println!(
        "reads through HAProxy while a node stopped: {reads}, retried {retried}, failed {failed}"
    );
    assert!(
        stopped.success(),
        "the stopped node exits cleanly: {stopped}\n{}",
        nodes[1].log()
    );
    assert_eq!(failed, 0, "{failed} reads failed twice");
    nodes.clear();
}
