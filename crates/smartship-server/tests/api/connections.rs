//! Connections end: an idle one after `http_idle_timeout_secs`, a request
//! head dribbled in (slowloris) after `http_header_timeout_secs` from its
//! first byte, whatever it sends meanwhile; and with every connection slot
//! taken, a normal request is served as soon as the idle ones are closed.

use crate::common::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn connect(t: &TestApp) -> TcpStream {
    TcpStream::connect(t.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Waits until the server closes `s` (EOF or reset); how long it took.
async fn closed_after(s: &mut TcpStream, limit: Duration) -> Duration {
    let t0 = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return t0.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("still open after {limit:?}"),
        }
    }
}

#[tokio::test]
async fn idle_and_slowloris_connections_are_closed() {
    let t = spawn_with(|c| {
        c.http_idle_timeout_secs = 0.5;
        c.http_header_timeout_secs = 0.8;
    })
    .await;
    // Idle from the start.
    let mut idle = connect(&t).await;
    let took = closed_after(&mut idle, Duration::from_secs(10)).await;
    assert!(
        took >= Duration::from_millis(400),
        "closed too early: {took:?}"
    );

    // A head sent one byte every 100 ms never completes: cut after ~0.8 s
    // although it is never idle for 0.5 s.
    let mut slow = connect(&t).await;
    let t0 = Instant::now();
    let head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    let mut cut = false;
    for b in head {
        if slow.write_all(&[*b]).await.is_err() {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut probe = [0u8; 64];
        if let Ok(Ok(0)) =
            tokio::time::timeout(Duration::from_millis(1), slow.read(&mut probe)).await
        {
            cut = true;
            break;
        }
    }
    let took = t0.elapsed();
    assert!(cut, "the slow head was not cut off");
    assert!(
        took < Duration::from_secs(3) && took >= Duration::from_millis(700),
        "{took:?}"
    );

    // A keep-alive connection in use stays open across requests.
    let mut used = connect(&t).await;
    for _ in 0..3 {
        used.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 512];
        let n = used.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_full_house_serves_again_once_idle_connections_time_out() {
    let t = spawn_with(|c| {
        c.http_idle_timeout_secs = 0.5;
        c.max_connections = 8;
    })
    .await;
    // The harness's own client keeps pooled connections: let them go idle
    // and be closed first.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut hogs = Vec::new();
    for _ in 0..8 {
        hogs.push(connect(&t).await);
    }
    let t0 = Instant::now();
    let resp = reqwest::Client::new()
        .get(format!("{}/healthz", t.base))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(300),
        "it waited for a slot: {waited:?}"
    );
    drop(hogs);
}
