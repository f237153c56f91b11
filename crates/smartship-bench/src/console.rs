//! The operator console's review queue with many packages waiting (10,000;
//! 200 with --quick): the first page, and every page after it walked by
//! the "next page" links (keyset paging, so the last page should cost what
//! the first does). Each request is timed from the client on loopback,
//! one at a time: the server's time plus well under a millisecond.
//!
//! Baseline: `GET /healthz` through the same router, middlewares and
//! client, one at a time.
//!
//! The packages are put in the queue as an ISV would: one `package/upload`
//! with `directCommit` per app (built, then submitted by the server), 64 at
//! a time; the operator's session is recorded in the store directly (the
//! sign-in is not what is measured).

use crate::setup;
use smartship_client::OpenApiClient;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct ConsoleResult {
    pub waiting: i64,
    /// Until every upload was answered, and until all were in the queue.
    pub uploaded_seconds: f64,
    pub seed_seconds: f64,
    /// Milliseconds per request.
    pub first_page: Vec<f64>,
    pub later_pages: Vec<f64>,
    pub baseline: Vec<f64>,
}

/// The value at `p` percent of sorted `ms`.
pub fn percentile(ms: &[f64], p: f64) -> f64 {
    if ms.is_empty() {
        return f64::NAN;
    }
    let mut sorted = ms.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

async fn timed(http: &reqwest::Client, url: &str, cookie: &str) -> anyhow::Result<(f64, String)> {
    let started = Instant::now();
    let resp = http.get(url).header("cookie", cookie).send().await?;
    anyhow::ensure!(resp.status().is_success(), "{url}: {}", resp.status());
    let body = resp.text().await?;
    Ok((started.elapsed().as_secs_f64() * 1000.0, body))
}

/// The `href` of the page's "next page" link.
fn next_link(page: &str) -> Option<String> {
    let at = page.find(r#"id="next-page" href=""#)?;
    let rest = &page[at + r#"id="next-page" href=""#.len()..];
    Some(rest[..rest.find('"')?].replace("&amp;", "&"))
}

pub async fn run(quick: bool) -> anyhow::Result<ConsoleResult> {
    let n: usize = if quick { 200 } else { 10_000 };
    let bench = setup::start(|c| c.build_workers = 4, &setup::sample_template()).await?;
    let state = bench.server.state.clone();
    let apps = bench.apps(n).await?;

    let seeding = Instant::now();
    let limit = Arc::new(tokio::sync::Semaphore::new(64));
    let mut uploads = tokio::task::JoinSet::new();
    let ext = serde_json::json!({"extEnable": true, "directCommit": true});
    // One connection pool for every app (a client per app would make a TLS
    // context each: the client's cost, not the server's).
    let shared = OpenApiClient::new(&bench.base, "");
    for (_, token, _) in &apps {
        let client = shared.with_token(token);
        let (limit, ext, template) = (limit.clone(), ext.clone(), bench.template_id);
        uploads.spawn(async move {
            let _turn = limit.acquire().await?;
            client
                .package_upload(template, &ext, "1.0.0", "queued for review")
                .await?;
            anyhow::Ok(())
        });
    }
    while let Some(done) = uploads.join_next().await {
        done??;
    }
    let uploaded_seconds = seeding.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(600);
    let waiting = loop {
        let c = state.store.status_counts().await?;
        if c.review_queue >= n as i64 {
            break c.review_queue;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} of {n} packages reached the queue",
            c.review_queue
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let seed_seconds = seeding.elapsed().as_secs_f64();

    let now = smartship_server::clock::now_ms();
    let op = state
        .store
        .create_operator(
            "bench",
            "viewer",
            &smartship_server::passwords::hash("bench-password"),
            now,
        )
        .await?
        .ok_or_else(|| anyhow::anyhow!("the operator exists"))?;
    let token = "bench-console-session";
    state
        .store
        .create_operator_session(
            smartship_store::NewOperatorSession {
                token_hash: smartship_server::tokens::hash(token),
                operator_id: op.id,
                csrf: "unused".to_owned(),
                address: None,
                created_at: now,
                expires_at: now + 3_600_000,
            },
            None,
        )
        .await?;
    let cookie = format!("smartship_console={token}");
    let http = reqwest::Client::new();
    let first_url = format!("{}/console/reviews", bench.base);
    // Warm-up: connections, caches.
    for _ in 0..5 {
        timed(&http, &first_url, &cookie).await?;
        timed(&http, &format!("{}/healthz", bench.base), "").await?;
    }
    let rounds = if quick { 20 } else { 200 };
    let mut first_page = Vec::with_capacity(rounds);
    let mut baseline = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        first_page.push(timed(&http, &first_url, &cookie).await?.0);
        baseline.push(
            timed(&http, &format!("{}/healthz", bench.base), "")
                .await?
                .0,
        );
    }
    let mut later_pages = Vec::new();
    let (_, mut page) = timed(&http, &first_url, &cookie).await?;
    while let Some(next) = next_link(&page) {
        let (ms, body) = timed(&http, &format!("{}{next}", bench.base), &cookie).await?;
        later_pages.push(ms);
        page = body;
    }
    let expected_pages = (n as i64 - 1) / smartship_server::console::QUEUE_PAGE_SIZE;
    anyhow::ensure!(
        later_pages.len() as i64 >= expected_pages,
        "walked {} pages after the first, expected {expected_pages}",
        later_pages.len()
    );
    Ok(ConsoleResult {
        waiting,
        uploaded_seconds,
        seed_seconds,
        first_page,
        later_pages,
        baseline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_links() {
        let ms = [5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&ms, 50.0), 3.0);
        assert_eq!(percentile(&ms, 100.0), 5.0);
        assert_eq!(
            next_link(r#"<a id="next-page" href="/console/reviews?after=1.2">"#).as_deref(),
            Some("/console/reviews?after=1.2")
        );
        assert_eq!(next_link("<p>last page</p>"), None);
    }
}
