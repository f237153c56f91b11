//! Shared state handed to every handler and worker.

use crate::config::Config;
use chrono::FixedOffset;
use smartship_store::blobs::BlobStore;
use smartship_store::{ActionContext, QuotaWindow, Store};
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone)]
pub struct AppState {
    pub inner: Arc<Inner>,
}

pub struct Inner {
    pub config: Config,
    pub tz: FixedOffset,
    pub store: Arc<dyn Store>,
    pub blobs: BlobStore,
    pub admin_token: String,
    /// Wakes the build workers when an upload is accepted.
    pub build_wakeup: Notify,
    /// Wakes the rollback timer when a rollback is requested.
    pub rollback_wakeup: Notify,
    /// Wakes the schedule worker when a release is scheduled.
    pub schedule_wakeup: Notify,
    /// Wakes the gray ramp worker when a plan changes.
    pub gray_wakeup: Notify,
    /// The keys that sign update answers (`service::delivery`).
    pub signing: crate::service::delivery::signing::SigningKeys,
    /// What update checks read, kept for a second (`service::delivery::view`).
    pub delivery: crate::service::delivery::caches::DeliveryCache,
    /// Artifacts recently downloaded, kept in memory (`service::delivery`).
    pub artifact_cache: crate::service::delivery::caches::ArtifactCache,
    /// Wakes the event delivery worker when an event is enqueued.
    pub events_wakeup: Notify,
    pub rate_limiter: crate::rate_limit::RateLimiter,
    /// Failed password sign-ins per account and per address.
    pub sign_in_throttle: crate::sign_in_throttle::SignInThrottle,
    /// The bytes of request bodies being received at once.
    pub body_budget: crate::body_budget::BodyBudget,
    /// Wakes the automatic reviewer (review_policy = auto-pass) on a submission.
    pub review_wakeup: Notify,
    /// Cancelled when the node is asked to stop: `/readyz` then answers 503
    /// while the node drains.
    pub stopping: tokio_util::sync::CancellationToken,
    /// Started with `--demo` (the console offers demo-only shortcuts).
    pub demo: bool,
    /// The audit log's queue (`audit`).
    pub audit: crate::audit::queue::AuditLog,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl AppState {
    /// The base of the URLs the server writes: `public_base_url`, set at
    /// start from the listening address when not configured (never a
    /// request's `Host` header).
    pub fn base_url(&self) -> &str {
        self.config
            .public_base_url
            .as_deref()
            .expect("set when the server starts")
    }

    /// The context of an action taken now by `actor`.
    pub fn action_context(&self, actor: String) -> ActionContext {
        let now = crate::clock::now_ms();
        let quota = (self.config.audit_quota_per_week >= 0).then(|| QuotaWindow {
            limit: self.config.audit_quota_per_week,
            period_start: crate::clock::week_start(now, self.tz),
        });
        ActionContext {
            now,
            actor,
            quota,
            rollback_delay_ms: (self.config.rollback_delay_secs * 1000.0) as i64,
            retained_versions: (self.config.retained_versions > 0)
                .then_some(self.config.retained_versions),
            submission: None,
            audit: None,
        }
    }
}
