//! Event delivery: the outbox drained to third-party platforms.
//!
//! Due events are claimed in batches with a lease (a crash mid-delivery
//! leaves the lease to expire and the event is sent again, with the same
//! `webhook-id`: at least once). Each attempt POSTs the encrypted envelope;
//! only a 2xx answer whose body is `success` delivers the event. Results are
//! written by one recorder task in batches, so thousands of attempts cost a
//! handful of transactions. In-flight deliveries are bounded by a semaphore
//! and the recorder channel is bounded, so memory does not grow with the
//! backlog.

use crate::net_guard::{GuardedResolver, NetworkPolicy};
use crate::service;
use crate::state::AppState;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use smartship_api::crypto::{MsgCrypto, standard_webhook_signature};
use smartship_api::events::{AuditEventPayload, webhook_id};
use smartship_store::{AttemptOutcome, AttemptRecord, ClaimedEvent, EventTarget, Tp};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How much of a receiver's answer is kept in the attempt log.
const BODY_PREFIX: usize = 512;
/// Upper bound of a delay a receiver may ask for with `Retry-After`.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Upper bound on the idle sleep (covers events enqueued by other nodes).
const IDLE_POLL: Duration = Duration::from_secs(1);
/// Most events claimed in one query.
const MAX_BATCH: usize = 256;

struct Deliverer {
    state: AppState,
    client: reqwest::Client,
    policy: Arc<NetworkPolicy>,
    schedule: Vec<Duration>,
    /// (TP, target) pairs already logged as holding events for want of a
    /// URL: the log says so once per process, not once per event.
    warned_no_url: std::sync::Mutex<std::collections::HashSet<(i64, EventTarget)>>,
}

pub async fn run(state: AppState, shutdown: CancellationToken) {
    let policy = Arc::new(
        NetworkPolicy::parse(&state.config.events_allowed_networks).expect("validated at start"),
    );
    let schedule = state.config.retry_schedule().expect("validated at start");
    let concurrency = state.config.events_concurrency;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs_f64(state.config.events_timeout_secs))
        .connect_timeout(Duration::from_secs_f64(state.config.events_timeout_secs))
        // A redirect could lead anywhere, including past the SSRF guard's
        // first check: a receiver must answer at its own URL.
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(GuardedResolver {
            policy: policy.clone(),
        }))
        .pool_max_idle_per_host(concurrency)
        .user_agent(concat!("smartship/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the delivery HTTP client builds");
    let d = Arc::new(Deliverer {
        state: state.clone(),
        client,
        policy,
        schedule,
        warned_no_url: Default::default(),
    });
    let lease_ms = (state.config.events_lease_secs * 1000.0) as i64;
    let permits = Arc::new(Semaphore::new(concurrency));
    let (tx, rx) = mpsc::channel::<AttemptRecord>(concurrency * 2);
    let recorder = tokio::spawn(record(state.clone(), rx, shutdown.clone()));

    loop {
        let notified = state.events_wakeup.notified();
        // Claim up to one batch beyond the free permits: those events wait
        // for a permit in this loop, so the next HTTP request starts the
        // moment one finishes instead of after another claim query.
        let free = (permits.available_permits() + concurrency / 2).min(MAX_BATCH);
        let mut claimed = 0;
        {
            match service::events::claim(&state, lease_ms, free as i64).await {
                Ok(batch) => {
                    claimed = batch.len();
                    let tps = d.tps_of(&batch).await;
                    for ev in batch {
                        let permit = permits
                            .clone()
                            .acquire_owned()
                            .await
                            .expect("the semaphore is never closed");
                        let tp = tps.get(&ev.event.tp_id.0).cloned();
                        let d = d.clone();
                        let tx = tx.clone();
                        // Debug level: a span at info would cost every event
                        // of a burst; the attempt's own log lines name it.
                        let span = tracing::debug_span!(
                            "delivery",
                            event = ev.event.id,
                            tp = %ev.event.tp_id
                        );
                        tokio::spawn(
                            async move {
                                let record = d.attempt(ev, tp).await;
                                let _ = tx.send(record).await;
                                drop(permit);
                            }
                            .instrument(span),
                        );
                    }
                }
                Err(e) => tracing::error!(error = ?e, "claiming events failed"),
            }
        }
        if claimed == free {
            // A full batch: there may be more due right away.
            if shutdown.is_cancelled() {
                break;
            }
            continue;
        }
        let sleep = match state.store.next_event_due().await {
            Ok(Some(at)) => {
                Duration::from_millis((at - crate::clock::now_ms()).max(1) as u64).min(IDLE_POLL)
            }
            _ => IDLE_POLL,
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = notified => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
    // Let deliveries in flight finish (bounded by the request timeout) so
    // their results are recorded; anything cut off is retried after its lease.
    let _ = tokio::time::timeout(
        Duration::from_secs_f64(state.config.events_timeout_secs + 1.0),
        permits.acquire_many(concurrency as u32),
    )
    .await;
    drop(tx);
    let _ = recorder.await;
}

/// Writes attempt results in batches.
async fn record(
    state: AppState,
    mut rx: mpsc::Receiver<AttemptRecord>,
    shutdown: CancellationToken,
) {
    let mut batch = Vec::with_capacity(512);
    while rx.recv_many(&mut batch, 512).await > 0 {
        loop {
            match service::events::record_attempts(&state, &batch).await {
                Ok(()) => break,
                Err(e) if shutdown.is_cancelled() => {
                    // Stopping (a full disk, say): the results are dropped and
                    // the events, still leased, are sent again after the
                    // restart. Retrying here would keep the process from
                    // ever exiting.
                    tracing::error!(error = ?e, n = batch.len(), "recording attempts failed while stopping; they will be sent again");
                    break;
                }
                Err(e) => {
                    // The leases keep these events from being sent again
                    // meanwhile; keep trying rather than lose the results.
                    tracing::error!(error = ?e, n = batch.len(), "recording attempts failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        batch.clear();
    }
}

/// Delay before the next attempt after attempt number `attempt` (1-based)
/// failed, or None when the schedule is used up. `unit` in [0, 1) draws the
/// ±10% jitter that spreads retries of events that failed together. A
/// receiver's `Retry-After` can lengthen the delay (up to a day), never
/// shorten it.
pub fn retry_delay(
    schedule: &[Duration],
    attempt: i64,
    retry_after: Option<Duration>,
    unit: f64,
) -> Option<Duration> {
    let base = *schedule.get(usize::try_from(attempt - 1).ok()?)?;
    let delay = base.mul_f64(0.9 + 0.2 * unit);
    Some(match retry_after {
        Some(ra) => delay.max(ra.min(MAX_RETRY_AFTER)),
        None => delay,
    })
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut msg = if e.is_timeout() {
        "timeout".to_owned()
    } else if e.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// What a receiver answered.
struct Answer {
    status: u16,
    /// The first bytes of the body.
    body: String,
    /// Whether `body` is the whole body.
    complete: bool,
    retry_after: Option<Duration>,
}

impl Deliverer {
    async fn tps_of(&self, batch: &[ClaimedEvent]) -> HashMap<i64, Tp> {
        let mut out = HashMap::new();
        for ev in batch {
            let id = ev.event.tp_id;
            if out.contains_key(&id.0) {
                continue;
            }
            match self.state.store.tp_by_id(id).await {
                Ok(Some(tp)) => {
                    out.insert(id.0, tp);
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = ?e, tp = %id, "loading a TP failed"),
            }
        }
        out
    }

    /// The JSON pushed for an event, before encryption.
    fn payload(&self, ev: &ClaimedEvent, tp: &Tp) -> Result<Vec<u8>, String> {
        let e = &ev.event;
        let event_time = crate::clock::event_time(e.occurred_at, self.state.tz);
        let json = if e.kind.carries_package() {
            let mut obj = match serde_json::to_value(AuditEventPayload {
                app_id: e.app_id.map(|a| a.0).unwrap_or_default(),
                tp_app_id: tp.id.0,
                event_time,
                event: e.kind.as_str().to_owned(),
                reason: e.reason.clone(),
                package_id: e.package_id.map(|p| p.0).unwrap_or_default(),
                version: e.version.clone().unwrap_or_default(),
            }) {
                Ok(serde_json::Value::Object(o)) => o,
                _ => return Err("an event payload is an object".into()),
            };
            // Release events add fields of their own (a phased release's
            // percentage and status).
            if let Some(p) = &e.payload {
                let extra: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(p).map_err(|err| format!("stored payload: {err}"))?;
                obj.extend(extra);
            }
            serde_json::to_vec(&obj)
        } else {
            let mut obj: serde_json::Map<String, serde_json::Value> = match &e.payload {
                Some(p) => {
                    serde_json::from_str(p).map_err(|err| format!("stored payload: {err}"))?
                }
                None => serde_json::Map::new(),
            };
            obj.insert("tpAppId".into(), tp.id.0.into());
            obj.insert("eventTime".into(), event_time.into());
            obj.insert("event".into(), e.kind.as_str().into());
            if let Some(app) = e.app_id {
                obj.insert("appId".into(), app.0.into());
            }
            serde_json::to_vec(&obj)
        };
        json.map_err(|err| err.to_string())
    }

    async fn send(&self, ev: &ClaimedEvent, tp: &Tp, url: &str) -> Result<Answer, String> {
        let url = self.policy.check_url(url)?;
        let payload = self.payload(ev, tp)?;
        let crypto = MsgCrypto::new(&tp.encoding_aes_key, &tp.msg_token, &tp.client_id)
            .map_err(|e| format!("TP encryption settings: {e}"))?;
        let now_secs = crate::clock::now_ms() / 1000;
        let nonce = crate::tokens::random_alnum(16);
        let envelope = crypto.seal(&payload, &now_secs.to_string(), &nonce, rand::random());
        let body = serde_json::to_vec(&envelope).map_err(|e| e.to_string())?;
        let id = webhook_id(ev.event.id);
        let mut req = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", now_secs.to_string());
        if let Some(secret) = &tp.webhook_secret {
            let sig = standard_webhook_signature(secret, &id, now_secs, &body)
                .map_err(|e| format!("webhook secret: {e}"))?;
            req = req.header("webhook-signature", sig);
        }
        let mut resp = req.body(body).send().await.map_err(|e| describe(&e))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut body = Vec::new();
        // One byte more than kept tells a long body from one that fits.
        while body.len() <= BODY_PREFIX {
            match resp.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => return Err(describe(&e)),
            }
        }
        let complete = body.len() <= BODY_PREFIX;
        body.truncate(BODY_PREFIX);
        Ok(Answer {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
            complete,
            retry_after,
        })
    }

    /// An event whose TP has no URL for it is held `undeliverable` (no
    /// request, no retry used) until the URL is set; logged once per TP.
    fn hold_without_url(&self, ev: ClaimedEvent, tp: &Tp, started_at: i64) -> AttemptRecord {
        let setting = match ev.event.target {
            EventTarget::Message => "message_url",
            EventTarget::Auth => "auth_event_url",
        };
        let first = self
            .warned_no_url
            .lock()
            .expect("not poisoned")
            .insert((tp.id.0, ev.event.target));
        if first {
            tracing::warn!(
                client_id = %tp.client_id,
                setting,
                "events held as undeliverable: the platform has no {setting}; they are sent \
                 once it is set (smartship admin tp set-urls {} --{} URL)",
                tp.client_id,
                setting.replace('_', "-"),
            );
        }
        AttemptRecord {
            event_id: ev.event.id,
            attempt: ev.attempt,
            lease_until: ev.lease_until,
            url: String::new(),
            started_at,
            duration_ms: 0,
            status_code: None,
            response_body: None,
            error: Some(format!("no {setting} configured")),
            outcome: AttemptOutcome::Undeliverable,
        }
    }

    fn next_delay(&self, attempt: i64, retry_after: Option<Duration>) -> Option<Duration> {
        retry_delay(&self.schedule, attempt, retry_after, rand::random::<f64>())
    }

    async fn attempt(&self, ev: ClaimedEvent, tp: Option<Tp>) -> AttemptRecord {
        let started_at = crate::clock::now_ms();
        let t0 = Instant::now();
        let url = tp.as_ref().and_then(|tp| match ev.event.target {
            EventTarget::Message => tp.message_url.clone(),
            EventTarget::Auth => tp.auth_event_url.clone(),
        });
        let result = match (&tp, &url) {
            (None, _) => Err("third-party platform not found".to_owned()),
            (Some(tp), None) => return self.hold_without_url(ev, tp, started_at),
            (Some(tp), Some(url)) => self.send(&ev, tp, url).await,
        };
        let duration_ms = t0.elapsed().as_millis() as i64;
        let (status_code, response_body, error, ok, retry_after) = match result {
            Ok(a) => {
                let ok = (200..300).contains(&a.status) && a.complete && a.body.trim() == "success";
                (
                    Some(i64::from(a.status)),
                    // Kept to be read by operators: a receiver's control or
                    // hidden characters are written out, not stored.
                    Some(smartship_core::text::printable(&a.body, true).into_owned()),
                    None,
                    ok,
                    a.retry_after,
                )
            }
            Err(e) => (None, None, Some(e), false, None),
        };
        let outcome = if ok {
            AttemptOutcome::Delivered
        } else {
            match self.next_delay(ev.attempt, retry_after) {
                Some(d) => AttemptOutcome::Retry {
                    next_attempt_at: crate::clock::now_ms() + d.as_millis() as i64,
                },
                None => AttemptOutcome::Failed,
            }
        };
        metrics::counter!("smartship_event_deliveries_total", "outcome" => outcome.as_str())
            .increment(1);
        if ok {
            // From the change the event reports to its receiver's answer.
            let lag_ms = (crate::clock::now_ms() - ev.event.occurred_at).max(0);
            metrics::histogram!("smartship_event_delivery_lag_seconds")
                .record(lag_ms as f64 / 1000.0);
        }
        if !ok {
            tracing::debug!(
                event = ev.event.id,
                attempt = ev.attempt,
                ?status_code,
                ?error,
                outcome = outcome.as_str(),
                "delivery attempt failed"
            );
        }
        AttemptRecord {
            event_id: ev.event.id,
            attempt: ev.attempt,
            lease_until: ev.lease_until,
            url: url.unwrap_or_default(),
            started_at,
            duration_ms,
            status_code,
            response_body,
            error,
            outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_follow_the_schedule_with_jitter_and_retry_after() {
        let s = [Duration::from_secs(5), Duration::from_secs(300)];
        assert_eq!(retry_delay(&s, 1, None, 0.5), Some(Duration::from_secs(5)));
        assert_eq!(
            retry_delay(&s, 1, None, 0.0),
            Some(Duration::from_millis(4500))
        );
        assert_eq!(
            retry_delay(&s, 2, None, 0.999_999).map(|d| d.as_secs()),
            Some(329)
        );
        assert_eq!(retry_delay(&s, 3, None, 0.5), None, "schedule used up");
        assert_eq!(retry_delay(&s, 0, None, 0.5), None);
        assert_eq!(
            retry_delay(&s, 1, Some(Duration::from_secs(60)), 0.5),
            Some(Duration::from_secs(60)),
            "Retry-After lengthens"
        );
        assert_eq!(
            retry_delay(&s, 2, Some(Duration::from_secs(1)), 0.5),
            Some(Duration::from_secs(300)),
            "but never shortens"
        );
        assert_eq!(
            retry_delay(&s, 1, Some(Duration::from_secs(10 * 86_400)), 0.5),
            Some(MAX_RETRY_AFTER),
            "and is capped"
        );
    }
}

#[cfg(test)]
mod kind_names {
    use smartship_core::event_kind::EventKind;

    /// The SDK matches pushes by the API crate's names; the store writes the
    /// core's: they are the same.
    #[test]
    fn the_sdk_and_the_store_name_audit_results_alike() {
        assert_eq!(
            EventKind::PackageAuditPass.as_str(),
            smartship_api::events::PACKAGE_AUDIT_PASS
        );
        assert_eq!(
            EventKind::PackageAuditFail.as_str(),
            smartship_api::events::PACKAGE_AUDIT_FAIL
        );
    }
}
