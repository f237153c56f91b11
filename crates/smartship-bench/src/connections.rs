//! Hostile connections: 5,000 idle ones and 500 slowloris ones (a header
//! byte a second) held open against the server while a normal client reads
//! `package/get` on a fixed schedule. Baseline: the same client and schedule
//! with no hostile connections, in the same run. Also measured: when the
//! idle connections are closed (the configured idle timeout) and when the
//! slow heads are cut off (the header timeout).

use crate::loadgen::{self, Pace, Stats};
use crate::setup;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct ConnectionsResult {
    pub idle: usize,
    pub slow: usize,
    pub under_attack: Stats,
    pub baseline: Stats,
    pub rate: f64,
    pub idle_timeout: Duration,
    pub header_timeout: Duration,
    /// Idle connections closed by the server, and when the last was.
    pub idle_closed: usize,
    pub idle_closed_by: Duration,
    pub slow_cut: usize,
    pub slow_cut_by: Duration,
}

/// Waits for the server to close `s`; when it did, from `t0`.
async fn closed_at(mut s: TcpStream, t0: Instant, limit: Duration) -> Option<Duration> {
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout_at((t0 + limit).into(), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(t0.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return None,
        }
    }
}

pub async fn run(quick: bool) -> anyhow::Result<ConnectionsResult> {
    let (idle_n, slow_n) = if quick { (200, 20) } else { (5_000, 500) };
    let duration = Duration::from_secs(if quick { 2 } else { 10 });
    let rate = 500.0;
    let idle_timeout = Duration::from_secs(if quick { 3 } else { 15 });
    let header_timeout = Duration::from_secs(if quick { 4 } else { 20 });
    let b = setup::start(
        |c| {
            c.http_idle_timeout_secs = idle_timeout.as_secs_f64();
            c.http_header_timeout_secs = header_timeout.as_secs_f64();
            c.max_connections = 10_000;
        },
        &setup::sample_template(),
    )
    .await?;
    let apps = b.apps(1).await?;
    let path = format!("/rest/2.0/smartapp/package/get?access_token={}", apps[0].1);
    let expect: &'static [u8] = br#""errno":0"#;
    let addr = b.addr();

    let baseline =
        loadgen::on_own_thread(addr, path.clone(), expect, 8, Pace::Open(rate), duration)?;

    // The hostile connections, opened on this runtime.
    let t0 = Instant::now();
    let mut idle = Vec::with_capacity(idle_n);
    for _ in 0..idle_n {
        idle.push(TcpStream::connect(addr).await?);
    }
    let mut slow = Vec::with_capacity(slow_n);
    for _ in 0..slow_n {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(b"GET /healthz HTTP/1.1\r\n").await?;
        slow.push(s);
    }
    let slow_started = Instant::now();
    // The slow clients dribble a header byte a second.
    let slow_tasks: Vec<_> = slow
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                let limit = header_timeout * 3;
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if s.write_all(b"X").await.is_err() || slow_started.elapsed() > limit {
                        break;
                    }
                    let mut probe = [0u8; 16];
                    if let Ok(Ok(0) | Err(_)) =
                        tokio::time::timeout(Duration::from_millis(1), s.read(&mut probe)).await
                    {
                        break;
                    }
                }
                (slow_started.elapsed() <= limit).then(|| slow_started.elapsed())
            })
        })
        .collect();
    let idle_tasks: Vec<_> = idle
        .into_iter()
        .map(|s| tokio::spawn(closed_at(s, t0, idle_timeout * 3)))
        .collect();
    let under_attack = loadgen::on_own_thread(addr, path, expect, 8, Pace::Open(rate), duration)?;

    let mut idle_closed = 0;
    let mut idle_closed_by = Duration::ZERO;
    for t in idle_tasks {
        if let Some(at) = t.await? {
            idle_closed += 1;
            idle_closed_by = idle_closed_by.max(at);
        }
    }
    let mut slow_cut = 0;
    let mut slow_cut_by = Duration::ZERO;
    for t in slow_tasks {
        if let Some(at) = t.await? {
            slow_cut += 1;
            slow_cut_by = slow_cut_by.max(at);
        }
    }
    println!(
        "connections: {idle_n} idle + {slow_n} slowloris held open; package/get open loop {rate:.0} req/s, 8 connections: \
         p50 {:.2} ms, p99 {:.2} ms, {} errors (target p99 < 50 ms); baseline without them p50 {:.2} ms, p99 {:.2} ms; \
         idle closed {idle_closed}/{idle_n}, the last after {:.1} s (idle timeout {:.0} s); \
         slow heads cut {slow_cut}/{slow_n}, the last after {:.1} s (header timeout {:.0} s)",
        under_attack.ms(50.0),
        under_attack.ms(99.0),
        under_attack.errors,
        baseline.ms(50.0),
        baseline.ms(99.0),
        idle_closed_by.as_secs_f64(),
        idle_timeout.as_secs_f64(),
        slow_cut_by.as_secs_f64(),
        header_timeout.as_secs_f64(),
    );
    b.server.stop().await?;
    Ok(ConnectionsResult {
        idle: idle_n,
        slow: slow_n,
        under_attack,
        baseline,
        rate,
        idle_timeout,
        header_timeout,
        idle_closed,
        idle_closed_by,
        slow_cut,
        slow_cut_by,
    })
}
