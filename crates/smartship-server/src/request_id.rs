//! A request id for every request: taken from the `X-Request-Id` header a
//! proxy set (when it is a plausible id), made here otherwise, returned in
//! the answer's `X-Request-Id`, and carried by every log line the request
//! writes (the `request` span), so that one request can be followed from
//! the load balancer's log through a node's. The span also names the route
//! the router matched, so log lines group by route whatever ids a path
//! carries.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

/// A proxy's id is kept only if it is short and plain (it lands in logs).
fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

pub async fn assign(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(|| format!("{:016x}", rand::random::<u64>()), str::to_owned);
    let value = HeaderValue::from_str(&id).expect("checked or generated: visible ASCII");
    req.headers_mut().insert(HEADER, value.clone());
    // The route as the router matched it (`/admin/v1/apps/{app_id}`): what
    // a log search groups by, whatever ids the path carries.
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("", |m| m.as_str());
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %req.method(),
        route,
        path = %req.uri().path()
    );
    let started = std::time::Instant::now();
    let mut resp = async {
        let resp = next.run(req).await;
        // The access log, off unless asked for
        // (SMARTSHIP_LOG=info,smartship_server::request_id=debug).
        tracing::debug!(
            status = resp.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "answered"
        );
        resp
    }
    .instrument(span)
    .await;
    resp.headers_mut().insert(HEADER, value);
    resp
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn only_plain_short_ids_are_kept() {
        assert!(acceptable("req-1f2e_3.4:5"));
        assert!(!acceptable(""));
        assert!(!acceptable("a b"));
        assert!(!acceptable("x\u{1b}[31m"));
        assert!(!acceptable(&"a".repeat(129)));
    }
}
