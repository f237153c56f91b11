//! Starting the real binary for tests.

#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_smartship");

/// Starts `smartship serve --demo` on port 0 in `dir` with extra environment
/// variables and waits for the demo.json it writes. The server's stderr goes
/// to `dir/stderr.log`, shown if it fails to start.
// The child is handed to the caller, which reaps it.
#[allow(clippy::zombie_processes)]
pub fn start_demo(dir: &Path, env: &[(&str, &str)]) -> (Child, Value) {
    let _ = std::fs::remove_file(dir.join("demo.json"));
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--data-dir"])
        .arg(dir)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(dir.join("demo.json"))
            && let Ok(v) = serde_json::from_str::<Value>(&text)
        {
            return (child, v);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default();
            panic!("demo.json was not written; server log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGKILL: no chance to clean up.
pub fn kill9(child: &mut Child) {
    Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
}

/// SIGTERM, then waits: the server stops gracefully and exits 0.
pub fn sigterm(child: &mut Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
}
