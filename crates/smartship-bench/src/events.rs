//! Event delivery throughput: a burst of N events enqueued in one
//! transaction and drained by the delivery worker to a local receiver that
//! answers `success`. Baseline: the same number of plain POSTs of the same
//! body size from one reqwest client with the same concurrency, to the same
//! receiver — the HTTP cost alone, without the outbox, encryption and
//! attempt log.

use smartship_core::TpId;
use smartship_store::{EventTarget, NewEvent, TpUpdate};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

async fn baseline(url: &str, n: usize, concurrency: usize, body_len: usize) -> anyhow::Result<f64> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let body = Arc::new(vec![b'x'; body_len]);
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let permit = sem.clone().acquire_owned().await?;
        let (client, url, body) = (client.clone(), url.to_owned(), body.clone());
        tasks.push(tokio::spawn(async move {
            let r = client.post(url).body(body.to_vec()).send().await;
            drop(permit);
            r.map(|_| ())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

pub struct EventsResult {
    pub end_to_end_per_sec: f64,
    pub draining_per_sec: f64,
    pub baseline_per_sec: f64,
    pub peak_rss_mib: u64,
}

pub async fn run(n: usize) -> anyhow::Result<EventsResult> {
    // setup::config already turns the ticket schedule off: the bench
    // measures the steady drain.
    let (server, tp, _dir) = crate::setup::platform(|_| {}).await?;
    let concurrency = server.state.config.events_concurrency;
    let state = server.state.clone();
    let (url, hits) = crate::setup::receiver().await?;
    state
        .store
        .update_tp(
            &tp.client_id,
            TpUpdate {
                message_url: Some(Some(url.clone())),
                ..Default::default()
            },
            smartship_server::clock::now_ms(),
        )
        .await?;
    let tp_id: TpId = tp.id;
    let before_hits = hits.load(Ordering::Relaxed);
    let rss_before = crate::rss_kib();
    let now = smartship_server::clock::now_ms();
    let events: Vec<NewEvent> = (0..n)
        .map(|i| NewEvent {
            tp_id,
            app_id: None,
            kind: smartship_store::EventKind::Ticket,
            target: EventTarget::Message,
            payload: Some(format!(r#"{{"seq":{i},"pad":"{}"}}"#, "x".repeat(64))),
            occurred_at: now,
        })
        .collect();
    let start = Instant::now();
    state.store.insert_events(&events).await?;
    drop(events);
    let enqueued = start.elapsed();
    state.events_wakeup.notify_one();
    let mut peak = rss_before;
    let delivered = loop {
        peak = peak.max(crate::rss_kib());
        // Only message events are delivered here (the TP's ticket goes to
        // its unset authorization-event URL and waits).
        let delivered = state
            .store
            .count_events(tp_id, smartship_store::EventStatus::Delivered)
            .await?;
        if delivered >= n as i64 {
            break delivered;
        }
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(300),
            "drain timed out with {delivered} of {n} delivered"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let drain = start.elapsed();
    let drain_only = drain - enqueued;
    let received = hits.load(Ordering::Relaxed) - before_hits;
    let rate = delivered as f64 / drain.as_secs_f64();
    let drain_rate = delivered as f64 / drain_only.as_secs_f64();
    // Same body size as an encrypted envelope of these payloads.
    let base = baseline(&url, n, concurrency, 300).await?;
    println!(
        "events: {n} enqueued in {:.0} ms and delivered {:.2}s after the first insert = {rate:.0} events/s \
         end to end, {drain_rate:.0} events/s draining; receiver saw {received}; \
         baseline plain POST {base:.0} req/s; ratio (draining) {:.2}; RSS {} MiB -> peak {} MiB",
        enqueued.as_secs_f64() * 1000.0,
        drain.as_secs_f64(),
        drain_rate / base,
        rss_before / 1024,
        peak / 1024,
    );
    server.stop().await?;
    Ok(EventsResult {
        end_to_end_per_sec: rate,
        draining_per_sec: drain_rate,
        baseline_per_sec: base,
        peak_rss_mib: peak / 1024,
    })
}
