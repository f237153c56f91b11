//! Prometheus metrics at `/metrics` (the operator's bearer token), for a
//! fleet of nodes: each node reports what it did (requests, builds,
//! deliveries, lease takeovers, cache invalidations); the queue gauges are
//! read from the database at each scrape, so every node reports the
//! installation's queues.
//!
//! The `metrics` facade records; the Prometheus exporter only renders (no
//! listener of its own). One recorder per process: servers started in one
//! process (the tests) share it.

use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Bucket bounds of every `_seconds` histogram: from a cached read to a
/// slow build.
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0, 300.0,
];

/// The process's recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            // A program embedding the server installed its own recorder:
            // it exports; this handle then renders nothing.
            tracing::warn!("a metrics recorder was already installed; /metrics shows only gauges");
        }
        handle
    })
}

/// Counts every request by route (the route's pattern, never the raw path:
/// ids in paths would make a series per id), method and status, and times
/// it.
pub async fn track_requests(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("smartship_http_requests_total",
        "route" => route.clone(), "method" => method, "status" => status)
    .increment(1);
    metrics::histogram!("smartship_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    resp
}

/// `GET /metrics`: this node's counters and the installation's queues.
pub async fn show(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if !given.is_some_and(|t| crate::tokens::token_matches(t, &s.admin_token)) {
        return (
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer admin token\n",
        )
            .into_response();
    }
    match s.store.status_counts().await {
        Ok(c) => {
            metrics::gauge!("smartship_builds_pending").set(c.builds_pending as f64);
            metrics::gauge!("smartship_builds_failed").set(c.builds_failed as f64);
            metrics::gauge!("smartship_review_queue").set(c.review_queue as f64);
            metrics::gauge!("smartship_rollbacks_pending").set(c.rollbacks_pending as f64);
            let oldest = c.oldest_review_since.map_or(0.0, |at| {
                (crate::clock::now_ms() - at).max(0) as f64 / 1000.0
            });
            metrics::gauge!("smartship_review_oldest_wait_seconds").set(oldest);
            for (state, n) in c.packages_by_state {
                metrics::gauge!("smartship_packages", "state" => state).set(n as f64);
            }
            for (status, n) in c.events_by_status {
                metrics::gauge!("smartship_events", "status" => status).set(n as f64);
            }
            metrics::gauge!("smartship_database_up").set(1.0);
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the queues could not be read");
            metrics::gauge!("smartship_database_up").set(0.0);
        }
    }
    let h = handle();
    h.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        h.render(),
    )
        .into_response()
}
