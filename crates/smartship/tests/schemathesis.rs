//! schemathesis against a real demo server, driven by the OpenAPI document
//! the server serves: no server error, no undocumented status code, no
//! response outside its schema (scripts/schemathesis runs it in a network
//! namespace with only loopback, so generated event URLs reach nothing).

use std::path::Path;
use std::process::Command;

#[test]
fn schemathesis_finds_no_server_error_undocumented_status_or_schema_violation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(root.join("scripts/schemathesis"))
        .arg(env!("CARGO_BIN_EXE_smartship"))
        .output()
        .expect("scripts/schemathesis runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The summary, for the test log.
    let summary: Vec<&str> = stdout.lines().rev().take(30).collect();
    for line in summary.iter().rev() {
        println!("{line}");
    }
    assert!(
        out.status.success(),
        "schemathesis failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains(" passed"),
        "schemathesis ran no test case:\n{stdout}"
    );
}
