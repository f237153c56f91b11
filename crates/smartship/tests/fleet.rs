//! `smartship fleet` end to end: the real server binary (`serve --demo`),
//! apps made by `smartship admin apps create`, and the fleet CLI driving
//! them — 500 apps to release, a run with build failures and audit
//! rejections, a run killed with SIGKILL and resumed, a fleet rollback, and
//! the live progress display in a real terminal (tmux).

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::BIN;

struct Env {
    dir: tempfile::TempDir,
    server: Child,
    base: String,
    admin_token: String,
    tp_token: String,
    client_id: String,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn start(review_policy: &str) -> Env {
    start_with(review_policy, &[])
}

fn start_with(review_policy: &str, env: &[(&str, &str)]) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let mut vars = vec![
        ("SMARTSHIP_REVIEW_POLICY", review_policy),
        ("SMARTSHIP_ROLLBACK_DELAY_SECS", "0.2"),
    ];
    vars.extend_from_slice(env);
    let (server, demo) = support::start_demo(dir.path(), &vars);
    Env {
        base: demo["base_url"].as_str().unwrap().to_owned(),
        admin_token: demo["admin_token"].as_str().unwrap().to_owned(),
        tp_token: demo["tp"]["access_token"].as_str().unwrap().to_owned(),
        client_id: demo["tp"]["client_id"].as_str().unwrap().to_owned(),
        server,
        dir,
    }
}

impl Env {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `smartship <args>` with the server and tokens in the environment, as
    /// a script would run it.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .current_dir(self.dir.path())
            .env("SMARTSHIP_SERVER", &self.base)
            .env("SMARTSHIP_ADMIN_TOKEN", &self.admin_token)
            .env("SMARTSHIP_TOKEN", &self.tp_token);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// `fleet upgrade` of template 1 from apps.json to `version`, released,
    /// without a live display, plus `extra` flags.
    fn upgrade_args<'a>(version: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "fleet",
            "upgrade",
            "--template",
            "1",
            "--apps",
            "apps.json",
            "--version",
            version,
            "--release",
            "--audit-poll",
            "0.1",
        ];
        if !extra.contains(&"--progress") {
            args.extend_from_slice(&["--progress", "none"]);
        }
        args.extend_from_slice(extra);
        args
    }

    /// `admin apps create --count N --tp CLIENT --approved --json` into a file.
    fn create_apps(&self, count: usize, file: &str) -> Vec<Value> {
        let out = self.run(&[
            "admin",
            "apps",
            "create",
            "--count",
            &count.to_string(),
            "--tp",
            &self.client_id,
            "--approved",
            "--json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(self.path(file), &out.stdout).unwrap();
        let apps: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(apps.len(), count);
        for a in &apps {
            for key in ["app_id", "access_token", "refresh_token"] {
                assert!(!a[key].is_null(), "{key} missing in {a}");
            }
        }
        apps
    }

    fn admin_get(&self, path: &str) -> Value {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let admin = smartship_client::AdminClient::new(&self.base, &self.admin_token);
        rt.block_on(admin.get(path)).unwrap()
    }

    /// Every package of every app (operator view): app → [(version, state, actions)].
    fn packages_of(&self, apps: &[Value]) -> BTreeMap<i64, Vec<(String, String, Vec<String>)>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let admin = smartship_client::AdminClient::new(&self.base, &self.admin_token);
        rt.block_on(async {
            let mut out = BTreeMap::new();
            for a in apps {
                let id = a["app_id"].as_i64().unwrap();
                let v = admin
                    .get(&format!("/admin/v1/apps/{id}/packages"))
                    .await
                    .unwrap();
                let mut list = Vec::new();
                for p in v["packages"].as_array().unwrap() {
                    let pid = p["package_id"].as_i64().unwrap();
                    let detail = admin
                        .get(&format!("/admin/v1/packages/{pid}"))
                        .await
                        .unwrap();
                    let actions = detail["transitions"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|t| t["actor"] == format!("app:{id}"))
                        .map(|t| t["action"].as_str().unwrap().to_owned())
                        .collect();
                    list.push((
                        p["version"].as_str().unwrap().to_owned(),
                        p["state"].as_str().unwrap().to_owned(),
                        actions,
                    ));
                }
                out.insert(id, list);
            }
            out
        })
    }
}

fn report_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); stdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn outcomes(report: &Value) -> BTreeMap<i64, (String, String)> {
    report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["app"].as_i64().unwrap(),
                (
                    a["outcome"].as_str().unwrap_or("unfinished").to_owned(),
                    a["reason"].as_str().unwrap_or("").to_owned(),
                ),
            )
        })
        .collect()
}

/// Apps whose last state-file record says released.
fn released_in_state(path: &Path) -> BTreeMap<i64, i64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut last: BTreeMap<i64, Value> = BTreeMap::new();
    for line in text.lines() {
        if let Ok(v) = serde_json::from_str::<Value>(line)
            && let Some(app) = v["app"].as_i64()
            && v.get("stage").is_some()
        {
            last.insert(app, v);
        }
    }
    last.into_iter()
        .filter(|(_, v)| v["outcome"] == "released")
        .map(|(app, v)| (app, v["at"].as_i64().unwrap()))
        .collect()
}

#[test]
fn five_hundred_apps_are_released_and_a_killed_run_resumes_without_redoing_work() {
    let env = start("auto-pass");
    let apps = env.create_apps(500, "apps.json");
    let upgrade = Env::upgrade_args(
        "2.0.0",
        &[
            "--concurrency",
            "16",
            "--state",
            "fleet.state",
            "--progress",
            "log",
            "--json",
        ],
    );

    // First run: killed with SIGKILL once at least 100 apps are released.
    let mut first = env
        .cmd(&upgrade)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while released_in_state(&env.path("fleet.state")).len() < 100 {
        assert!(
            Instant::now() < deadline,
            "the first run released fewer than 100 apps"
        );
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first run ended before the kill"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    support::kill9(&mut first);
    let before_kill = released_in_state(&env.path("fleet.state"));
    assert!(
        before_kill.len() < 500,
        "the run finished before it could be killed"
    );

    // Second run: the same command resumes.
    let out = env.run(&upgrade);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report = report_of(&out);
    assert_eq!(report["summary"]["released"], 500, "{}", report["summary"]);
    assert_eq!(report["summary"]["total"], 500);
    // Apps released before the kill were not touched again: their record is
    // the first run's, and the resumed run logged nothing for them.
    let after = released_in_state(&env.path("fleet.state"));
    for (app, at) in &before_kill {
        assert_eq!(after.get(app), Some(at), "app {app} was redone");
        assert!(
            !stderr.contains(&format!("app {app}: released")),
            "app {app} logged again"
        );
    }

    // On the server: every app is online at 2.0.0 from exactly one upload
    // and exactly one submission — none was uploaded or submitted twice.
    let packages = env.packages_of(&apps);
    for (app, list) in &packages {
        assert_eq!(list.len(), 1, "app {app}: {list:?}");
        let (version, state, actions) = &list[0];
        assert_eq!(
            (version.as_str(), state.as_str()),
            ("2.0.0", "online"),
            "app {app}"
        );
        assert_eq!(actions, &["upload", "submit_audit", "release"], "app {app}");
    }

    // A third run finds nothing to do; status reads the same from the file.
    let out = env.run(&upgrade);
    assert!(out.status.success());
    assert_eq!(report_of(&out)["summary"]["released"], 500);
    let out = env.run(&[
        "fleet",
        "status",
        "--state",
        "fleet.state",
        "--json",
        "--report",
        "report.csv",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report_of(&out)["summary"]["released"], 500);
    let csv = std::fs::read_to_string(env.path("report.csv")).unwrap();
    assert_eq!(csv.lines().count(), 501);
    assert!(csv.starts_with("app_id,outcome,stage,package_id,code,reason\n"));
}

/// Reviews the queue until `stop` appears: fails the packages of `reject`
/// with a reason, passes the others.
fn reviewer(
    env: &Env,
    reject: BTreeSet<i64>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<usize> {
    let (base, token) = (env.base.clone(), env.admin_token.clone());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let admin = smartship_client::AdminClient::new(&base, &token);
            let mut reviewed = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let queue = admin.get("/admin/v1/review-queue").await.unwrap();
                for p in queue["packages"].as_array().unwrap() {
                    let body = if reject.contains(&p["app_id"].as_i64().unwrap()) {
                        json!({"decision": "fail", "reason": "the shop icon is blurry"})
                    } else {
                        json!({"decision": "pass"})
                    };
                    admin
                        .post(
                            &format!("/admin/v1/packages/{}/review", p["package_id"]),
                            &body,
                        )
                        .await
                        .unwrap();
                    reviewed += 1;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            reviewed
        })
    })
}

#[test]
fn build_failures_and_rejected_audits_are_reported_with_their_reasons() {
    let env = start("manual");
    let mut apps = env.create_apps(40, "created.json");
    let ids: Vec<i64> = apps.iter().map(|a| a["app_id"].as_i64().unwrap()).collect();
    // Five apps with an extPages key that is no page: their builds fail.
    let bad_build: BTreeSet<i64> = ids[0..5].iter().copied().collect();
    // Two with a wrongly typed override: refused at upload (40001).
    let bad_type: BTreeSet<i64> = ids[5..7].iter().copied().collect();
    // Four rejected by the reviewer.
    let rejected: BTreeSet<i64> = ids[7..11].iter().copied().collect();
    for a in &mut apps {
        let id = a["app_id"].as_i64().unwrap();
        if bad_build.contains(&id) {
            a["ext_json"] =
                json!({"extPages": {"pages/missing/missing": {"navigationBarTitleText": "x"}}});
        } else if bad_type.contains(&id) {
            a["ext_json"] = json!({"extEnable": "yes"});
        } else {
            a["ext_json"] = json!({"ext": {"shop": format!("Shop {id}")}});
        }
    }
    std::fs::write(env.path("apps.json"), serde_json::to_vec(&apps).unwrap()).unwrap();

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let review = reviewer(&env, rejected.clone(), stop.clone());
    let out = env.run(&Env::upgrade_args(
        "3.0.0",
        &[
            "--state",
            "fleet.state",
            "--report",
            "report.json",
            "--json",
        ],
    ));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        review.join().unwrap(),
        40 - 7,
        "every built app was reviewed once"
    );
    assert!(!out.status.success(), "a run with failures exits non-zero");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("11 of 40 apps failed or were skipped"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = report_of(&out);
    let written: Value =
        serde_json::from_slice(&std::fs::read(env.path("report.json")).unwrap()).unwrap();
    assert_eq!(written, report, "--report writes the same report");
    assert_eq!(report["summary"]["released"], 29);
    assert_eq!(report["summary"]["failed"], 11);
    for (app, (outcome, reason)) in outcomes(&report) {
        if bad_build.contains(&app) {
            assert_eq!(outcome, "failed");
            assert!(
                reason.starts_with("build failed:") && reason.contains("pages/missing/missing"),
                "{app}: {reason}"
            );
        } else if bad_type.contains(&app) {
            assert_eq!(outcome, "failed");
            assert!(
                reason.contains("40001") && reason.contains("extEnable"),
                "{app}: {reason}"
            );
        } else if rejected.contains(&app) {
            assert_eq!(
                (outcome.as_str(), reason.as_str()),
                ("failed", "audit rejected: the shop icon is blurry"),
                "{app}"
            );
        } else {
            assert_eq!(
                (outcome.as_str(), reason.as_str()),
                ("released", ""),
                "{app}"
            );
        }
    }
    // The stage and code of each failure are in the report too.
    let by_app: BTreeMap<i64, &Value> = report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["app"].as_i64().unwrap(), a))
        .collect();
    assert_eq!(by_app[&ids[0]]["stage"], "building");
    assert_eq!(by_app[&ids[5]]["stage"], "uploading");
    assert_eq!(by_app[&ids[5]]["code"], 40001);
    assert_eq!(by_app[&ids[7]]["stage"], "auditing");

    // The released apps carry their own ext in the built package.
    let released = ids[20];
    let pkg =
        env.admin_get(&format!("/admin/v1/apps/{released}/packages"))["packages"][0]["package_id"]
            .as_i64()
            .unwrap();
    let out = env.run(&[
        "admin",
        "package",
        "download",
        &pkg.to_string(),
        "-o",
        "p.zip",
    ]);
    assert!(out.status.success());
    let zip = std::fs::read(env.path("p.zip")).unwrap();
    let limits = smartship_core::archive::DraftLimits {
        max_bytes: 1 << 24,
        max_files: 1000,
    };
    let files = smartship_core::archive::read_draft(&zip, limits).unwrap();
    let ext: Value = serde_json::from_slice(&files["ext.json"]).unwrap();
    assert_eq!(ext["ext"]["shop"], format!("Shop {released}"));
    assert_eq!(ext["extAppid"], released);

    // A rerun does not touch any app again: failures stay reported.
    let before = env.packages_of(&apps);
    let out = env.run(&Env::upgrade_args(
        "3.0.0",
        &["--state", "fleet.state", "--json"],
    ));
    assert_eq!(report_of(&out)["summary"], report["summary"]);
    assert_eq!(env.packages_of(&apps), before);

    // --retry-failed, with the overrides fixed and a reviewer who now passes
    // everything: the eleven start again from a fresh upload and are
    // released; the 29 released before are not touched.
    for a in &mut apps {
        let id = a["app_id"].as_i64().unwrap();
        if bad_build.contains(&id) || bad_type.contains(&id) {
            a["ext_json"] = json!({"ext": {"shop": format!("Shop {id}")}});
        }
    }
    std::fs::write(env.path("apps.json"), serde_json::to_vec(&apps).unwrap()).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let review = reviewer(&env, BTreeSet::new(), stop.clone());
    let out = env.run(&Env::upgrade_args(
        "3.0.0",
        &["--state", "fleet.state", "--retry-failed", "--json"],
    ));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(review.join().unwrap(), 11, "each retried app reviewed once");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report_of(&out)["summary"]["released"], 40);
    let after = env.packages_of(&apps);
    for (app, list) in &after {
        let retried = bad_build.contains(app) || bad_type.contains(app) || rejected.contains(app);
        if !retried {
            assert_eq!(list, &before[app], "app {app} was touched");
            continue;
        }
        let online: Vec<_> = list
            .iter()
            .filter(|(_, state, _)| state == "online")
            .collect();
        assert_eq!(online.len(), 1, "app {app}: {list:?}");
        assert_eq!(online[0].0, "3.0.0");
        assert!(
            list.iter().all(|(_, state, _)| state != "development"),
            "app {app} has a stray development package: {list:?}"
        );
    }
}

#[test]
fn fleet_rollback_returns_released_apps_to_their_previous_version() {
    let env = start("auto-pass");
    let apps = env.create_apps(6, "apps.json");
    for version in ["1.0.0", "1.1.0"] {
        let out = env.run(&Env::upgrade_args(version, &[]));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let table = String::from_utf8_lossy(&out.stdout);
        assert!(table.contains("6 apps: released 6"), "{table}");
    }
    let out = env.run(&[
        "fleet",
        "rollback",
        "--state",
        "fleet-1-1.1.0.state",
        "--apps",
        "apps.json",
        "--progress",
        "none",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report_of(&out)["summary"]["rolled_back"], 6);
    // After the rollback delay every app is online at 1.0.0 again.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let online: Vec<String> = env
            .packages_of(&apps)
            .values()
            .map(|l| {
                l.iter()
                    .find(|(_, s, _)| s == "online")
                    .map(|(v, _, _)| v.clone())
                    .unwrap_or_default()
            })
            .collect();
        if online.iter().all(|v| v == "1.0.0") {
            break;
        }
        assert!(Instant::now() < deadline, "{online:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // A second rollback of the same run has nothing left to do.
    let before = env.packages_of(&apps);
    let rollback = |state: &str| {
        env.run(&[
            "fleet",
            "rollback",
            "--state",
            state,
            "--apps",
            "apps.json",
            "--progress",
            "none",
            "--json",
        ])
    };
    let out = rollback("fleet-1-1.1.0.state");
    assert!(out.status.success());
    assert_eq!(report_of(&out)["summary"]["rolled_back"], 6);
    assert_eq!(env.packages_of(&apps), before);
    // Rolling back the 1.0.0 run: its packages are online again, but there
    // is no earlier version to return to (47009), reported per app.
    let out = rollback("fleet-1-1.0.0.state");
    assert!(!out.status.success());
    let report = report_of(&out);
    assert_eq!(report["summary"]["failed"], 6, "{report}");
    assert_eq!(report["apps"][0]["code"], 47009, "{report}");
}

#[test]
fn the_audit_quota_is_respected_and_a_failure_can_stop_the_run() {
    let env = start_with("auto-pass", &[("SMARTSHIP_AUDIT_QUOTA_PER_WEEK", "2")]);
    let apps = env.create_apps(4, "apps.json");
    let ok = env.run(&Env::upgrade_args("1.0.0", &[]));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // One submission left per app; keeping one skips them all, unsubmitted.
    let out = env.run(&Env::upgrade_args(
        "1.1.0",
        &["--keep-quota", "1", "--json"],
    ));
    assert!(!out.status.success());
    let report = report_of(&out);
    assert_eq!(report["summary"]["skipped"], 4, "{report}");
    assert_eq!(
        report["apps"][0]["reason"],
        "audit quota: 1 submission(s) left this week, 1 kept"
    );
    for list in env.packages_of(&apps).values() {
        let dev = list.iter().find(|(v, _, _)| v == "1.1.0").unwrap();
        assert_eq!(dev.1, "development", "built but not submitted: {list:?}");
    }
    // --retry-failed with the last submission used: released.
    let out = env.run(&Env::upgrade_args("1.1.0", &["--retry-failed", "--json"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report_of(&out)["summary"]["released"], 4);
    // No submission left: skipped with the server's 47010 or the quota check.
    let out = env.run(&Env::upgrade_args("1.2.0", &["--json"]));
    let report = report_of(&out);
    assert_eq!(report["summary"]["skipped"], 4, "{report}");
    assert!(
        report["apps"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("audit quota: 0 submission(s) left")
    );

    // --stop-on-failure, one app at a time: the first app's bad override
    // fails it, and no other app takes a step.
    let mut apps = apps;
    apps[0]["ext_json"] = json!({"extEnable": "yes"});
    std::fs::write(env.path("apps.json"), serde_json::to_vec(&apps).unwrap()).unwrap();
    let before = env.packages_of(&apps);
    let out = env.run(&Env::upgrade_args(
        "2.0.0",
        &["--stop-on-failure", "--concurrency", "1", "--json"],
    ));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("stopped with 3 apps unfinished"));
    let report = report_of(&out);
    assert_eq!(
        (
            report["summary"]["failed"].as_i64(),
            report["summary"]["unfinished"].as_i64()
        ),
        (Some(1), Some(3)),
        "{report}"
    );
    assert_eq!(env.packages_of(&apps), before, "nothing was uploaded");
}

#[test]
fn bad_input_is_refused_before_anything_runs() {
    let env = start("auto-pass");
    env.create_apps(1, "apps.json");
    std::fs::write(
        env.path("dup.json"),
        r#"[{"app_id": 1, "access_token": "a"}, {"app_id": 1, "access_token": "a"}]"#,
    )
    .unwrap();
    std::fs::write(env.path("notokens.json"), r#"[{"app_id": 1}]"#).unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--apps", "missing.json"], "cannot read apps file"),
        (&["--apps", "dup.json"], "app 1 is listed twice"),
        (
            &["--apps", "notokens.json"],
            "neither access_token nor refresh_token",
        ),
        (
            &["--apps", "apps.json", "--ext-json", "[1]"],
            "--ext-json must be a JSON object",
        ),
        (
            &[
                "--apps",
                "apps.json",
                "--report",
                "r.txt",
                "--state",
                "other.state",
            ],
            "--report must end in .csv or .json",
        ),
    ];
    for (extra, message) in cases {
        let mut args = vec![
            "fleet",
            "upgrade",
            "--template",
            "1",
            "--version",
            "9.0.0",
            "--progress",
            "none",
        ];
        args.extend_from_slice(extra);
        let out = env.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(message),
            "{extra:?}: {stderr}"
        );
    }
    // A state file of another run is refused rather than mixed in.
    let out = env.run(&Env::upgrade_args("9.0.0", &["--state", "s"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = env.run(&Env::upgrade_args("9.1.0", &["--state", "s"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && stderr.contains("belongs to another run (template 1 version 9.0.0)"),
        "{stderr}"
    );
}

#[test]
fn the_progress_display_draws_in_a_real_terminal() {
    let tmux = Command::new("tmux").arg("-V").output();
    assert!(
        tmux.is_ok_and(|o| o.status.success()),
        "tmux is required for this test (scripts/test installs it)"
    );
    let env = start("auto-pass");
    env.create_apps(120, "apps.json");
    let socket = env.path("tmux.sock");
    let session = "fleet-progress";
    let script = format!(
        "cd {dir} && SMARTSHIP_SERVER={base} SMARTSHIP_TOKEN={tp} {bin} fleet upgrade --template 1 \
         --apps apps.json --version 5.0.0 --release --audit-poll 0.1 --concurrency 2; echo EXIT=$?; sleep 60",
        dir = env.dir.path().display(),
        base = env.base,
        tp = env.tp_token,
        bin = BIN,
    );
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args(args)
            .output()
            .unwrap()
    };
    let started = tmux(&[
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "140",
        "-y",
        "12",
        &script,
    ]);
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let capture = || {
        String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", session]).stdout).into_owned()
    };
    // While running: the bar with counts, rate and ETA, and the stage lines.
    let deadline = Instant::now() + Duration::from_secs(60);
    let live = loop {
        let screen = capture();
        if screen.contains("apps/s  ETA")
            && screen.contains("now:  queued")
            && !screen.contains("EXIT=")
        {
            let done: usize = screen
                .split(" apps  ")
                .next()
                .and_then(|s| s.rsplit(' ').next())
                .and_then(|s| s.split('/').next())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if done > 0 {
                break screen;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no live progress seen:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(live.contains("/120 apps"), "{live}");
    assert!(live.contains("done: released"), "{live}");
    assert!(
        live.contains("auditing") && live.contains("building"),
        "{live}"
    );
    // At the end: the bar is replaced by the summary and the report.
    let deadline = Instant::now() + Duration::from_secs(120);
    let end = loop {
        let screen = capture();
        if screen.contains("EXIT=") {
            break screen;
        }
        assert!(Instant::now() < deadline, "the run did not end:\n{screen}");
        std::thread::sleep(Duration::from_millis(200));
    };
    tmux(&["kill-server"]);
    assert!(end.contains("120 apps: released 120"), "{end}");
    assert!(end.contains("EXIT=0"), "{end}");
    assert!(
        !end.contains("now:  queued"),
        "the live lines were cleared:\n{end}"
    );
}

/// The first fenced block after `marker` in a document.
fn tested_block(doc: &str, marker: &str) -> String {
    let after = &doc[doc.find(marker).expect("marker in the document")..];
    let start = after.find("```bash\n").expect("a bash block") + "```bash\n".len();
    let end = after[start..].find("\n```").expect("a closed block");
    after[start..start + end].to_owned()
}

#[test]
fn the_fleet_walkthrough_in_the_docs_runs() {
    let env = start("auto-pass");
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/fleet.md"))
        .unwrap();
    let script = tested_block(&doc, "<!-- tested: fleet walkthrough -->");
    let bin_dir = Path::new(BIN).parent().unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(env.dir.path())
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("SMARTSHIP_SERVER", &env.base)
        .env("SMARTSHIP_ADMIN_TOKEN", &env.admin_token)
        .env("SMARTSHIP_TOKEN", &env.tp_token)
        .env("CLIENT_ID", &env.client_id)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the walkthrough failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Upgrade, status and the idempotent rerun each report 50 released apps;
    // then 2.1.0 is released and rolled back.
    assert_eq!(
        stdout.matches("50 apps: released 50").count(),
        4,
        "{stdout}"
    );
    assert!(stdout.contains("50 apps: rolled_back 50"), "{stdout}");
    let csv = std::fs::read_to_string(env.path("report.csv")).unwrap();
    assert_eq!(csv.lines().filter(|l| l.contains(",released,")).count(), 50);
}

/// A run that waits for reviewers says so, and SIGTERM ends it as Ctrl-C
/// does: the state saved, the report printed, how to resume; the same
/// command then finishes once the audits are passed.
#[test]
fn a_run_waiting_for_reviewers_says_so_and_sigterm_stops_it_resumably() {
    let env = start("manual");
    env.create_apps(3, "apps.json");
    let args = Env::upgrade_args("2.0.0", &["--progress", "log", "--state", "fleet.state"]);
    let child = env
        .cmd(&args)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(env.path("fleet.log")).unwrap())
        .spawn()
        .unwrap();
    // The log-mode display prints its summary every 5 s: wait for the hint.
    let deadline = Instant::now() + Duration::from_secs(60);
    let log = loop {
        let log = std::fs::read_to_string(env.path("fleet.log")).unwrap_or_default();
        if log.contains("waiting for a reviewer") {
            break log;
        }
        assert!(Instant::now() < deadline, "no waiting hint:\n{log}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        log.contains("waiting for a reviewer: 3 packages under audit, the oldest for ")
            && log.contains("smartship admin package queue"),
        "{log}"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let log = std::fs::read_to_string(env.path("fleet.log")).unwrap();
    assert_eq!(out.status.code(), Some(5), "a stopped run exits 5");
    assert!(
        log.contains("run the same command again to resume")
            && log.contains("stopped with 3 apps unfinished"),
        "{log}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("3 apps:"),
        "the report is printed: {stdout}"
    );
    assert!(env.path("fleet.state").exists());

    // The operator passes the queue; the same command finishes the run.
    let out = env.run(&["admin", "package", "review", "--all-queued", "--pass"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("reviewed 3 packages (0 skipped)"));
    let args = Env::upgrade_args("2.0.0", &["--state", "fleet.state"]);
    let out = env.run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 apps: released 3"));
}

#[test]
fn a_fleet_is_ramped_by_gray_runs_and_the_last_one_releases_it() {
    let env = start("auto-pass");
    let apps = env.create_apps(4, "apps.json");
    let out = env.run(&Env::upgrade_args("1.0.0", &[]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan_of = |app: &Value| -> Value {
        let token = app["access_token"].as_str().unwrap();
        let v: Value = serde_json::from_slice(
            &env.run(&["package", "--token", token, "gray", "plan", "--json"])
                .stdout,
        )
        .unwrap();
        v
    };
    for (pct, expected) in [("10", "grayed 4"), ("50", "grayed 4"), ("50", "grayed 4")] {
        let out = env.run(&Env::upgrade_args("2.0.0", &["--gray", pct]));
        let table = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{table}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(table.contains(&format!("4 apps: {expected}")), "{table}");
        for app in &apps {
            let plan = plan_of(app);
            assert_eq!(plan["status"], 1, "{plan}");
            assert_eq!(plan["gray_percentage"].to_string(), pct, "{plan}");
            assert_eq!(plan["version"], "2.0.0");
        }
    }
    let out = env.run(&Env::upgrade_args("2.0.0", &["--gray", "100"]));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("4 apps: released 4"), "{table}");
    for (_, list) in env.packages_of(&apps) {
        let online: Vec<&String> = list
            .iter()
            .filter(|(_, s, _)| s == "online")
            .map(|(v, _, _)| v)
            .collect();
        assert_eq!(online, ["2.0.0"], "{list:?}");
    }
    let bad = env.run(&Env::upgrade_args("2.0.0", &["--gray", "0"]));
    assert!(!bad.status.success());
}

/// A run that stops short of its goal exits non-zero with the documented
/// status, within a second of its audit timeout; a state file is bound to
/// its server and its apps file.
#[test]
fn a_run_short_of_its_goal_fails_on_time_and_a_state_file_keeps_to_its_run() {
    let env = start("manual");
    env.create_apps(3, "apps.json");
    let started = Instant::now();
    let out = env.run(&Env::upgrade_args(
        "2.0.0",
        &["--audit-timeout", "4", "--state", "short.state"],
    ));
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("3 of 3 apps stopped short of released"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("submitted 3"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Uploads, builds and submissions take a moment (about 0.3 s here);
    // the wait ends within a second of the timeout, not at the next step of
    // the backoff (which polls at 3.1 s, then at 6.3 s).
    assert!(took < Duration::from_millis(5_500), "took {took:?}");

    // Another apps file with the same state file is refused.
    env.create_apps(2, "other.json");
    let mut args = Env::upgrade_args("2.0.0", &["--audit-timeout", "1", "--state", "short.state"]);
    let at = args.iter().position(|a| *a == "apps.json").unwrap();
    args[at] = "other.json";
    let out = env.run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("another apps file (3 apps; this one has 2)"),
        "{stderr}"
    );

    // A fresh server, in a directory holding this run's state file.
    let fresh = start("auto-pass");
    std::fs::copy(env.path("short.state"), fresh.path("short.state")).unwrap();
    std::fs::copy(env.path("apps.json"), fresh.path("apps.json")).unwrap();
    let out = fresh.run(&Env::upgrade_args("2.0.0", &["--state", "short.state"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("a run against {}", env.base)),
        "{stderr}"
    );
}
