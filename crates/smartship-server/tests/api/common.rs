//! Test harness: one server per test, in its own temporary data directory,
//! seeded through the public routes (draft upload, addtotemplate) and the
//! operator API like a real operator would.
//!
//! The suite runs once per backend: on SQLite in the data directory (the
//! default), and with `SMARTSHIP_TEST_BACKEND=postgres` on a fresh
//! PostgreSQL schema per test (`smartship_store::test_db`); `scripts/test`
//! runs both.

#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::{Value, json};
use smartship_server::config::Config;
use smartship_server::{Server, StartOptions};
use smartship_store::test_db::{Backend, TestDb};
use std::time::{Duration, Instant};

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

pub struct TestApp {
    pub server: Option<Server>,
    pub base: String,
    pub http: reqwest::Client,
    pub tp_client_id: String,
    pub tp_token: String,
    pub template_id: i64,
    /// Approved and verified apps, authorized to the TP.
    pub apps: Vec<AppHandle>,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL schema of this test (dropped last).
    pub db: Option<TestDb>,
}

/// The backend this run of the suite uses (`SMARTSHIP_TEST_BACKEND`).
pub fn backend() -> Backend {
    match std::env::var("SMARTSHIP_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("SMARTSHIP_TEST_BACKEND={other}: use sqlite or postgres"),
    }
}

/// A database of this run's backend for `config`: PostgreSQL gets a fresh
/// schema (returned, to be kept until the test ends); SQLite stays in the
/// data directory.
pub async fn database_for(config: &mut Config) -> Option<TestDb> {
    match backend() {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let db = TestDb::new(Backend::Postgres).await;
            config.database_url = Some(db.url().to_owned());
            Some(db)
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppHandle {
    pub app_id: i64,
    pub token: String,
    pub refresh_token: String,
}

/// The files of a zip, by path.
pub fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let mut b = Vec::new();
        f.read_to_end(&mut b).unwrap();
        out.insert(f.name().to_owned(), b);
    }
    out
}

/// The sample mini-program as a zip.
pub fn sample_zip() -> Vec<u8> {
    let tree = smartship_server::demo::sample_tree();
    smartship_core::archive::write_zip(tree.iter().map(|(p, b)| (p.as_str(), b.as_slice())))
        .unwrap()
}

pub fn test_config(dir: &std::path::Path) -> Config {
    Config {
        listen: "127.0.0.1:0".to_owned(),
        data_dir: dir.to_path_buf(),
        admin_token: Some(ADMIN_TOKEN.to_owned()),
        rollback_delay_secs: 0.3,
        audit_quota_per_week: 1000,
        ..Config::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

/// The server's log goes where the test harness captures a test's output:
/// a failing test shows what the server said (`SMARTSHIP_TEST_LOG` picks
/// the levels, `warn,smartship_server=info` by default).
fn log_to_test_output() {
    let filter = std::env::var("SMARTSHIP_TEST_LOG")
        .unwrap_or_else(|_| "warn,smartship_server=info".to_owned());
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(filter)
        .try_init();
}

pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    log_to_test_output();
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    let db = database_for(&mut config).await;
    tweak(&mut config);
    let server = smartship_server::start(config, StartOptions::default())
        .await
        .expect("server starts");
    let base = server.base_url.clone();
    let mut app = TestApp {
        server: Some(server),
        base,
        http: reqwest::Client::new(),
        tp_client_id: String::new(),
        tp_token: String::new(),
        template_id: 0,
        apps: Vec::new(),
        dir,
        db,
    };
    let (status, tp) = app
        .admin_post("/admin/v1/tps", json!({"name": "Test ISV"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{tp}");
    app.tp_client_id = tp["client_id"].as_str().unwrap().to_owned();
    let (_, tok) = app
        .admin_post(
            &format!("/admin/v1/tps/{}/token", app.tp_client_id),
            json!({}),
        )
        .await;
    app.tp_token = tok["access_token"].as_str().unwrap().to_owned();
    let draft = app.upload_draft(sample_zip()).await;
    assert_eq!(draft["errno"], 0, "{draft}");
    let draft_id = draft["data"]["draft_id"].as_i64().unwrap();
    let t = app
        .api(
            "template/addtotemplate",
            &app.tp_token.clone(),
            &[
                ("draft_id", &draft_id.to_string()),
                ("user_desc", "v1 template"),
            ],
        )
        .await;
    assert_eq!(t["errno"], 0, "{t}");
    app.template_id = t["data"]["template_id"].as_i64().unwrap();
    for i in 0..2 {
        let a = app.create_app(&format!("App {i}"), true, true).await;
        app.apps.push(a);
    }
    app
}

impl TestApp {
    /// Stops the server (as SIGTERM does) and starts a new process's worth
    /// of it on the same data directory and database, on a new port.
    pub async fn restart(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await.expect("the server stops");
        }
        let mut config = test_config(self.dir.path());
        config.database_url = self.db.as_ref().map(|d| d.url().to_owned());
        let server = smartship_server::start(config, StartOptions::default())
            .await
            .expect("server restarts");
        self.base = server.base_url.clone();
        self.server = Some(server);
    }

    pub fn state(&self) -> &smartship_server::state::AppState {
        &self.server.as_ref().unwrap().state
    }

    /// Creates an app with the given approval states and authorizes it.
    pub async fn create_app(&self, name: &str, approved: bool, verified: bool) -> AppHandle {
        let (status, a) = self
            .admin_post(
                "/admin/v1/apps",
                json!({"name": name, "basic_info_approved": approved,
                       "authenticity_verified": verified}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{a}");
        let app_id = a["app_id"].as_i64().unwrap();
        let (status, tok) = self
            .admin_post(
                &format!("/admin/v1/apps/{app_id}/authorize"),
                json!({"client_id": self.tp_client_id}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{tok}");
        AppHandle {
            app_id,
            token: tok["access_token"].as_str().unwrap().to_owned(),
            refresh_token: tok["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    pub fn url(&self, route: &str) -> String {
        format!("{}/rest/2.0/smartapp/{route}", self.base)
    }

    /// POST with `access_token` in the query and the rest as a form body.
    pub async fn api(&self, route: &str, token: &str, params: &[(&str, &str)]) -> Value {
        let resp = self
            .http
            .post(self.url(route))
            .query(&[("access_token", token)])
            .form(params)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }

    /// GET with everything in the query string.
    pub async fn api_get(&self, route: &str, token: &str, params: &[(&str, &str)]) -> Value {
        let resp = self
            .http
            .get(self.url(route))
            .query(&[("access_token", token)])
            .query(params)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }

    pub async fn upload_draft(&self, zip: Vec<u8>) -> Value {
        self.upload_draft_as(&self.tp_token, zip).await
    }

    /// Uploads a draft with the given third-party platform token.
    pub async fn upload_draft_as(&self, token: &str, zip: Vec<u8>) -> Value {
        let form = reqwest::multipart::Form::new()
            .text("user_version", "1.0.0")
            .text("user_desc", "sample")
            .part(
                "file",
                reqwest::multipart::Part::bytes(zip).file_name("draft.zip"),
            );
        self.http
            .post(self.url("template/uploaddraft"))
            .query(&[("access_token", token)])
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A second third-party platform: (client_id, token).
    pub async fn second_tp(&self) -> (String, String) {
        let (status, tp) = self
            .admin_post("/admin/v1/tps", json!({"name": "Rival ISV"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{tp}");
        let client_id = tp["client_id"].as_str().unwrap().to_owned();
        let (status, tok) = self
            .admin_post(&format!("/admin/v1/tps/{client_id}/token"), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{tok}");
        (client_id, tok["access_token"].as_str().unwrap().to_owned())
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// `PATCH /admin/v1/tps/{client_id}` of the test TP.
    pub async fn patch_tp(&self, body: Value) -> (StatusCode, Value) {
        self.admin_patch(&format!("/admin/v1/tps/{}", self.tp_client_id), body)
            .await
    }

    /// PATCH an operator API path with a JSON body.
    pub async fn admin_patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let resp = self
            .http
            .patch(format!("{}{path}", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Lets the first app's administrator (`shop-admin` / `s3cret-pass`)
    /// consent to redirects on `isv.example`.
    pub async fn enable_consent(&self) {
        let (status, _) = self
            .patch_tp(json!({"redirect_domain": "isv.example"}))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = self
            .admin_post(
                &format!("/admin/v1/apps/{}/admins", self.apps[0].app_id),
                json!({"username": "shop-admin", "password": "s3cret-pass"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }

    pub async fn admin_get(&self, path: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Uploads from the test template with the given ext_json.
    pub async fn upload(&self, app: &AppHandle, version: &str, ext_json: &str) -> Value {
        self.upload_from(app, &self.template_id.to_string(), version, ext_json)
            .await
    }

    /// Uploads from any template id (as given on the wire).
    pub async fn upload_from(
        &self,
        app: &AppHandle,
        template_id: &str,
        version: &str,
        ext_json: &str,
    ) -> Value {
        self.api(
            "package/upload",
            &app.token,
            &[
                ("template_id", template_id),
                ("ext_json", ext_json),
                ("user_version", version),
                ("user_desc", &format!("desc {version}")),
            ],
        )
        .await
    }

    /// The `package/get` list.
    pub async fn packages(&self, app: &AppHandle) -> Vec<Value> {
        let v = self.api_get("package/get", &app.token, &[]).await;
        assert_eq!(v["errno"], 0, "{v}");
        v["data"].as_array().unwrap().clone()
    }

    /// Polls `package/get` until the development package has finished
    /// building; returns it.
    pub async fn wait_built(&self, app: &AppHandle) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let list = self.packages(app).await;
            if let Some(dev) = list.iter().find(|p| p["status"] == 3)
                && dev["upload_status"] != 1
            {
                return dev.clone();
            }
            assert!(Instant::now() < deadline, "build did not finish: {list:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls `package/get` until `pred` holds.
    pub async fn wait_until(&self, app: &AppHandle, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let list = self.packages(app).await;
            if pred(&list) {
                return list;
            }
            assert!(Instant::now() < deadline, "condition not reached: {list:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn review(&self, package_id: i64, pass: bool, reason: &str) -> (StatusCode, Value) {
        let body = if pass {
            json!({"decision": "pass"})
        } else {
            json!({"decision": "fail", "reason": reason})
        };
        self.admin_post(&format!("/admin/v1/packages/{package_id}/review"), body)
            .await
    }

    /// Upload → build → submit; returns the package id (under audit).
    pub async fn submitted_package(&self, app: &AppHandle, version: &str) -> i64 {
        let up = self.upload(app, version, r#"{"extEnable":true}"#).await;
        assert_eq!(up["errno"], 0, "{up}");
        let dev = self.wait_built(app).await;
        assert_eq!(dev["upload_status"], 2, "{dev}");
        let id = dev["package_id"].as_i64().unwrap();
        let sub = self
            .api(
                "package/submitaudit",
                &app.token,
                &[
                    ("package_id", &id.to_string()),
                    ("content", "c"),
                    ("remark", "r"),
                ],
            )
            .await;
        assert_eq!(sub["errno"], 0, "{sub}");
        id
    }

    /// Upload → build → submit → pass; returns the package id (status 6).
    pub async fn passed_package(&self, app: &AppHandle, version: &str) -> i64 {
        let id = self.submitted_package(app, version).await;
        let (status, _) = self.review(id, true, "").await;
        assert_eq!(status, StatusCode::OK);
        id
    }

    /// A package taken all the way online; returns its id.
    pub async fn released_package(&self, app: &AppHandle, version: &str) -> i64 {
        let id = self.passed_package(app, version).await;
        let r = self
            .api(
                "package/release",
                &app.token,
                &[("package_id", &id.to_string())],
            )
            .await;
        assert_eq!(r["errno"], 0, "{r}");
        id
    }

    /// Every package of the app with its internal state (operator view),
    /// for "nothing changed" assertions.
    pub async fn states(&self, app: &AppHandle) -> Vec<(i64, String, String)> {
        let (_, v) = self
            .admin_get(&format!("/admin/v1/apps/{}/packages", app.app_id))
            .await;
        v["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["package_id"].as_i64().unwrap(),
                    p["state"].as_str().unwrap().to_owned(),
                    p["build"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown_token().cancel();
        }
    }
}
