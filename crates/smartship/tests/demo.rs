//! The binary as a newcomer uses it: `serve --demo` on port 0, demo.json,
//! the admin CLI against it, and a restart on the same data directory.

use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command};

mod support;

use support::BIN;

fn start_demo(dir: &Path) -> (Child, Value) {
    support::start_demo(dir, &[])
}

fn stop(mut child: Child) -> String {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
    let mut out = String::new();
    use std::io::Read;
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

fn get(url: &str) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() })
}

fn cli(dir: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&cli_text(dir, args)).unwrap()
}

#[test]
fn demo_seeds_once_and_restarts_with_fresh_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let (child, demo) = start_demo(dir.path());
    let base = demo["base_url"].as_str().unwrap().to_owned();
    assert!(base.starts_with("http://127.0.0.1:") && !base.ends_with(":0"));
    assert_eq!(demo["apps"].as_array().unwrap().len(), 2);
    assert_eq!(demo["apps"][0]["basic_info_approved"], true);
    assert_eq!(demo["apps"][0]["authenticity_verified"], true);
    assert_eq!(demo["apps"][1]["basic_info_approved"], false);
    assert_eq!(demo["apps"][1]["authenticity_verified"], false);
    assert_eq!(demo["tp"]["encoding_aes_key"].as_str().unwrap().len(), 43);
    // The console's admin account, listed by the CLI.
    assert_eq!(demo["console"]["url"], format!("{base}/console"));
    assert_eq!(demo["console"]["username"], "demo-admin");
    assert!(demo["console"]["password"].as_str().unwrap().len() >= 10);
    let operators = cli(dir.path(), &["operators", "list", "--json"]);
    assert_eq!(operators["operators"][0]["username"], "demo-admin");
    assert_eq!(operators["operators"][0]["role"], "admin");
    let token = demo["apps"][0]["access_token"].as_str().unwrap();
    let list = get(&format!(
        "{base}/rest/2.0/smartapp/package/get?access_token={token}"
    ));
    assert_eq!(list["errno"], 0, "{list}");
    let tp_token = demo["tp"]["access_token"].as_str().unwrap();
    let templates = get(&format!(
        "{base}/rest/2.0/smartapp/template/gettemplatelist?access_token={tp_token}"
    ));
    assert_eq!(templates["data"]["count"], 1);
    assert_eq!(
        templates["data"]["list"][0]["template_id"],
        demo["template_id"]
    );

    // The admin CLI finds the server and token through the data directory.
    let app = cli(
        dir.path(),
        &["app", "create", "--name", "CLI app", "--approved"],
    );
    assert_eq!(app["basic_info_approved"], true);
    let app_id = app["app_id"].as_i64().unwrap().to_string();
    let client_id = demo["tp"]["client_id"].as_str().unwrap();
    let auth = cli(
        dir.path(),
        &["app", "authorize", &app_id, "--client-id", client_id],
    );
    assert!(auth["access_token"].as_str().unwrap().len() > 40);

    // A third-party platform uploads a draft from a directory and makes it
    // a template with the CLI.
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../smartship-server/demo/sample-miniprogram"
    );
    let tp = |args: &[&str]| -> Value {
        let out = Command::new(BIN)
            .args([
                "template",
                "--json",
                "--server",
                &base,
                "--access-token",
                tp_token,
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "smartship template {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let draft = tp(&[
        "upload-draft",
        sample,
        "--user-version",
        "2.0.0",
        "--user-desc",
        "from the CLI",
    ]);
    let draft_id = draft["draft_id"].as_i64().unwrap().to_string();
    let created = tp(&["add", &draft_id, "--user-desc", "CLI template"]);
    assert!(created["template_id"].as_i64().unwrap() > 0);
    assert_eq!(tp(&["list"])["count"], 2);
    tp(&["delete", &created["template_id"].to_string()]);
    assert_eq!(tp(&["list"])["count"], 1);

    // Event settings and the event log through the CLI.
    let set = cli(
        dir.path(),
        &[
            "tp",
            "set-urls",
            client_id,
            "--message-url",
            "http://127.0.0.1:9/hook",
        ],
    );
    assert_eq!(set["message_url"], "http://127.0.0.1:9/hook");
    let cleared = cli(
        dir.path(),
        &["tp", "set-urls", client_id, "--message-url", ""],
    );
    assert_eq!(cleared["message_url"], Value::Null);
    // The demo's authorizations and the first ticket are queued for the
    // (unset) authorization-event URL.
    let events = cli(dir.path(), &["events", "list", "--client-id", client_id]);
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"AUTHORIZED"), "{kinds:?}");
    let first = events["events"][0]["id"].as_str().unwrap();
    let shown = cli(dir.path(), &["events", "show", first]);
    assert_eq!(shown["id"], first);
    let admin = cli(
        dir.path(),
        &[
            "app",
            "add-admin",
            &app_id,
            "--username",
            "cli-admin",
            "--password",
            "long-enough",
        ],
    );
    assert_eq!(admin["username"], "cli-admin");
    let set = cli(
        dir.path(),
        &[
            "tp",
            "set-urls",
            client_id,
            "--redirect-domain",
            "isv.example",
        ],
    );
    assert_eq!(set["redirect_domain"], "isv.example");
    let ticket = cli(dir.path(), &["tp", "ticket", client_id]);
    assert!(ticket["ticket"].as_str().unwrap().starts_with("ticket."));
    let ended = cli(
        dir.path(),
        &["app", "unauthorize", &app_id, "--client-id", client_id],
    );
    assert_eq!(ended["authorized"], false);
    let replayed = cli(
        dir.path(),
        &["events", "replay-failed", "--client-id", client_id],
    );
    assert_eq!(replayed["replayed"], 0);

    // A fleet of authorized apps for tests and demos, as one JSON array.
    let fleet = cli(
        dir.path(),
        &[
            "apps",
            "create",
            "--count",
            "3",
            "--tp",
            client_id,
            "--approved",
            "--json",
        ],
    );
    let fleet = fleet.as_array().unwrap();
    assert_eq!(fleet.len(), 3);
    for app in fleet {
        assert!(app["app_id"].is_i64());
        assert_eq!(app["authenticity_verified"], true);
        let token = app["access_token"].as_str().unwrap();
        assert!(
            app["refresh_token"]
                .as_str()
                .unwrap()
                .starts_with("refresh.")
        );
        let list = get(&format!(
            "{base}/rest/2.0/smartapp/package/get?access_token={token}"
        ));
        assert_eq!(list["errno"], 0, "{list}");
    }

    let printed = stop(child);
    assert!(printed.contains("curl"), "prints ready-to-paste commands");
    assert!(printed.contains(&base));

    // Restart: same ids, nothing seeded twice, fresh tokens, old ones still
    // stored (an app token lives an hour), data kept.
    let (child, again) = start_demo(dir.path());
    assert_eq!(again["tp"]["client_id"], demo["tp"]["client_id"]);
    assert_eq!(again["template_id"], demo["template_id"]);
    assert_eq!(again["apps"][0]["app_id"], demo["apps"][0]["app_id"]);
    assert_eq!(
        again["console"]["password"], demo["console"]["password"],
        "the console account is kept"
    );
    assert_ne!(
        again["apps"][0]["access_token"],
        demo["apps"][0]["access_token"]
    );
    let base2 = again["base_url"].as_str().unwrap();
    let tp_token = again["tp"]["access_token"].as_str().unwrap();
    let templates = get(&format!(
        "{base2}/rest/2.0/smartapp/template/gettemplatelist?access_token={tp_token}"
    ));
    assert_eq!(
        templates["data"]["count"], 1,
        "the template was not seeded twice"
    );
    let shown = cli(dir.path(), &["app", "show", &app_id]);
    assert_eq!(shown["name"], "CLI app", "data survives the restart");
    stop(child);
}

fn cli_text(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("admin")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("SMARTSHIP_SERVER")
        .env_remove("SMARTSHIP_ADMIN_TOKEN")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "smartship admin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The list commands and `admin status` against the demo: tables for a
/// person, the route's JSON with --json, and server.json gone after a stop.
#[test]
fn the_cli_lists_what_exists_and_sums_it_up() {
    let dir = tempfile::tempdir().unwrap();
    let (child, demo) = start_demo(dir.path());
    let app_ids: Vec<i64> = demo["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["app_id"].as_i64().unwrap())
        .collect();
    let client_id = demo["tp"]["client_id"].as_str().unwrap();

    let apps = cli(
        dir.path(),
        &["--json", "app", "list", "--client-id", client_id],
    );
    let listed: Vec<i64> = apps["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["app_id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, app_ids, "{apps}");
    assert_eq!(apps["total"], 2);
    let table = cli_text(dir.path(), &["app", "list", "--page-size", "1"]);
    let mut lines = table.lines();
    assert!(lines.next().unwrap().starts_with("APP_ID"), "{table}");
    assert!(
        lines.next().unwrap().starts_with(&app_ids[0].to_string()),
        "{table}"
    );
    assert_eq!(lines.next(), Some("1-1 of 2"), "{table}");

    let tps = cli_text(dir.path(), &["tp", "list"]);
    assert!(tps.contains(client_id) && tps.contains("Demo ISV"), "{tps}");
    let templates = cli(dir.path(), &["--json", "template", "list"]);
    assert_eq!(
        templates["templates"][0]["template_id"],
        demo["template_id"]
    );
    let packages = cli(
        dir.path(),
        &["--json", "package", "list", "--state", "online"],
    );
    assert_eq!(packages["total"], 0, "{packages}");

    let status = cli(dir.path(), &["--json", "status"]);
    assert_eq!(
        (status["apps"].as_i64(), status["tps"].as_i64()),
        (Some(2), Some(1)),
        "{status}"
    );
    assert_eq!(status["review_policy"], "manual");
    let text = cli_text(dir.path(), &["status"]);
    for needle in [
        "apps           2",
        "platforms      1",
        "review queue   empty",
        "review policy  manual",
    ] {
        assert!(text.contains(needle), "{needle:?} in:\n{text}");
    }

    // A reader that goes away (`| head`) ends the command quietly, by
    // SIGPIPE like other Unix tools, not with a panic and a backtrace.
    let mut piped = Command::new(BIN)
        .args(["admin", "--data-dir"])
        .arg(dir.path())
        .args(["--json", "status"])
        .env_remove("SMARTSHIP_SERVER")
        .env_remove("SMARTSHIP_ADMIN_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(piped.stdout.take());
    let out = piped.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(libc_sigpipe()),
        "{:?} {stderr}",
        out.status
    );

    let banner = stop(child);
    assert!(banner.contains("review policy: manual"), "{banner}");
    assert!(banner.contains("has no event URL"), "{banner}");
    assert!(
        banner.contains(&dir.path().join("demo.json").display().to_string()),
        "{banner}"
    );
    assert!(
        !dir.path().join("server.json").exists(),
        "server.json is removed on a clean stop"
    );
}

/// SIGPIPE's number on Linux and the BSDs.
fn libc_sigpipe() -> i32 {
    13
}
