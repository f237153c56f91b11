//! The server's log as a fleet of nodes needs it: JSON on demand, every
//! line naming its node, and a request's lines carrying its request id
//! (the proxy's `X-Request-Id`, returned in the answer).

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

#[tokio::test]
async fn json_lines_name_the_node_and_a_request_carries_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr.log");
    let mut child = Command::new(support::BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("SMARTSHIP_LOG_FORMAT", "json")
        .env("SMARTSHIP_NODE_NAME", "node-7")
        .env("SMARTSHIP_LOG", "info,smartship_server::request_id=debug")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let base = loop {
        if let Ok(text) = std::fs::read_to_string(dir.path().join("server.json"))
            && let Ok(v) = serde_json::from_str::<Value>(&text)
        {
            break v["base_url"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "no server.json");
        std::thread::sleep(Duration::from_millis(50));
    };
    let http = reqwest::Client::new();
    let with_id = http
        .get(format!(
            "{base}/rest/2.0/smartapp/package/get?access_token=nope"
        ))
        .header("X-Request-Id", "lb-req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(with_id.headers()["x-request-id"], "lb-req-42");
    let without = http.get(format!("{base}/healthz")).send().await.unwrap();
    let made = without.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(made.len(), 16, "{made}");
    // An id that would forge log content is replaced.
    let forged = http
        .get(format!("{base}/healthz"))
        .header("X-Request-Id", "a\"b")
        .send()
        .await
        .unwrap();
    assert_ne!(forged.headers()["x-request-id"], "a\"b");

    support::sigterm(&mut child);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() >= 4, "{text}");
    for l in &lines {
        assert_eq!(l["node"], "node-7", "{l}");
    }
    let answered: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "answered")
        .collect();
    assert!(
        answered
            .iter()
            .any(|l| l["span"]["id"] == "lb-req-42" && l["fields"]["status"] == 200),
        "{text}"
    );
    assert!(
        answered.iter().any(|l| l["span"]["id"] == made.as_str()),
        "{text}"
    );
}
