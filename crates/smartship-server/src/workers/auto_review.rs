//! The `auto-pass` review policy: every package under audit is passed by
//! the platform itself (actor `policy:auto-pass` in its history), with the
//! same PACKAGE_AUDIT_PASS event a human reviewer's pass pushes. For
//! sandboxes and tests; the default policy leaves reviews to operators.

use crate::state::AppState;
use smartship_core::lifecycle::{Action, Verdict};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const IDLE_POLL: Duration = Duration::from_millis(500);
const BATCH: i64 = 256;

pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        let notified = state.review_wakeup.notified();
        let mut passed = 0usize;
        match state.store.packages_under_audit(BATCH).await {
            Ok(list) => {
                for (app, package) in list {
                    let ctx = state.action_context("policy:auto-pass".to_owned());
                    match state
                        .store
                        .apply(app, package, Action::Review(Verdict::Pass), &ctx)
                        .await
                    {
                        Ok(Ok(_)) => passed += 1,
                        // Withdrawn or reviewed meanwhile: nothing to do.
                        Ok(Err(_)) => {}
                        Err(e) => tracing::error!(error = ?e, %package, "auto-pass failed"),
                    }
                }
            }
            Err(e) => tracing::error!(error = ?e, "reading packages under audit failed"),
        }
        if passed > 0 {
            state.events_wakeup.notify_one();
            if passed as i64 == BATCH {
                continue;
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = notified => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}
