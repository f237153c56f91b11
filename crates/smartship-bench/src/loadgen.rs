//! An HTTP/1.1 load generator: N keep-alive connections, each a task that
//! sends GET requests back to back (closed loop) or on a fixed schedule
//! (open loop). Open-loop latency is measured from the moment a request was
//! *due*, not from when it was sent, so a stalled server shows up in the
//! percentiles instead of silently lowering the offered rate (no
//! coordinated omission).

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Requests answered with a success status and the expected body.
    pub ok: u64,
    /// Anything else: refused connections, other statuses, bad bodies.
    pub errors: u64,
    /// Length of the measured window.
    pub elapsed: Duration,
    /// Latency percentiles in microseconds.
    pub latency: Histogram<u64>,
}

impl Stats {
    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// A percentile in milliseconds.
    pub fn ms(&self, percentile: f64) -> f64 {
        self.latency.value_at_quantile(percentile / 100.0) as f64 / 1000.0
    }
}

/// How requests are paced.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// Each connection sends its next request as soon as the last answered.
    Closed,
    /// All connections together offer this many requests per second.
    Open(f64),
}

struct Conn {
    sender: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
}

async fn connect(addr: SocketAddr) -> anyhow::Result<Conn> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(Conn { sender })
}

/// Runs `connections` connections against `addr` for `duration` after a
/// warm-up of a tenth of it; every answer must be 200 and contain `expect`.
/// With `bearer`, every request carries `Authorization: Bearer <bearer>`.
pub async fn run(
    addr: SocketAddr,
    path: &str,
    bearer: Option<String>,
    expect: &'static [u8],
    connections: usize,
    pace: Pace,
    duration: Duration,
) -> anyhow::Result<Stats> {
    let warmup = duration / 10;
    let start = Instant::now() + Duration::from_millis(50);
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let mut tasks = Vec::with_capacity(connections);
    for c in 0..connections {
        let path = path.to_owned();
        let auth = bearer.as_ref().map(|b| format!("Bearer {b}"));
        let mut conn = connect(addr).await?;
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
            let (mut ok, mut errors) = (0u64, 0u64);
            // Open loop: this connection's share of the rate, offset so the
            // connections do not fire together.
            let interval = match pace {
                Pace::Open(rate) => Some(Duration::from_secs_f64(connections as f64 / rate)),
                Pace::Closed => None,
            };
            let mut due = start
                + interval
                    .map(|i| i.mul_f64(c as f64 / connections as f64))
                    .unwrap_or_default();
            loop {
                if interval.is_some() {
                    tokio::time::sleep_until(due.into()).await;
                } else {
                    due = Instant::now();
                }
                if due >= end {
                    break;
                }
                let mut req = hyper::Request::get(path.as_str()).header("host", "bench");
                if let Some(a) = &auth {
                    req = req.header("authorization", a.as_str());
                }
                let req = req.body(Empty::<Bytes>::new()).expect("valid request");
                let good = match conn.sender.send_request(req).await {
                    Ok(resp) if resp.status() == 200 => match resp.into_body().collect().await {
                        Ok(body) => {
                            let body = body.to_bytes();
                            body.windows(expect.len()).any(|w| w == expect)
                        }
                        Err(_) => false,
                    },
                    Ok(resp) => {
                        let _ = resp.into_body().collect().await;
                        false
                    }
                    Err(_) => {
                        // The connection is gone: open a new one.
                        match connect(addr).await {
                            Ok(c) => conn = c,
                            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                        }
                        false
                    }
                };
                let done = Instant::now();
                if due >= measure_from {
                    if good {
                        ok += 1;
                        let us = done.saturating_duration_since(due).as_micros() as u64;
                        hist.saturating_record(us.max(1));
                    } else {
                        errors += 1;
                    }
                }
                if let Some(i) = interval {
                    due += i;
                }
            }
            (ok, errors, hist)
        }));
    }
    let mut total = Stats {
        ok: 0,
        errors: 0,
        elapsed: duration,
        latency: Histogram::new_with_bounds(1, 60_000_000, 3).expect("bounds"),
    };
    for t in tasks {
        let (ok, errors, hist) = t.await?;
        total.ok += ok;
        total.errors += errors;
        total.latency.add(&hist)?;
    }
    Ok(total)
}

/// Runs the load generator on its own thread and runtime, so that it does
/// not share the server's scheduler.
pub fn on_own_thread(
    addr: SocketAddr,
    path: String,
    expect: &'static [u8],
    connections: usize,
    pace: Pace,
    duration: Duration,
) -> anyhow::Result<Stats> {
    on_own_thread_authorized(addr, path, None, expect, connections, pace, duration)
}

/// [`on_own_thread`] with a bearer token on every request.
pub fn on_own_thread_authorized(
    addr: SocketAddr,
    path: String,
    bearer: Option<String>,
    expect: &'static [u8],
    connections: usize,
    pace: Pace,
    duration: Duration,
) -> anyhow::Result<Stats> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(run(
                addr,
                &path,
                bearer,
                expect,
                connections,
                pace,
                duration,
            ))
    })
    .join()
    .map_err(|_| anyhow::anyhow!("load generator panicked"))?
}
