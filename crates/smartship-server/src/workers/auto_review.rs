//! The `auto-pass` review policy: every package under audit is passed by
//! the platform itself (actor `policy:auto-pass` in its history), with the
//! same PACKAGE_AUDIT_PASS event a human reviewer's pass pushes. For
//! sandboxes and tests; the default policy leaves reviews to operators.

use crate::service::{self, Actor, packages::Change};
use crate::state::AppState;
use rand::seq::SliceRandom;
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
            Ok(mut list) => {
                // Every worker node reads the same list: each goes through
                // it in an order of its own, so that they pass different
                // packages rather than queue on the same app's lock.
                list.shuffle(&mut rand::rng());
                // All at once: the store commits concurrent transitions
                // together, one after the other they would take a commit
                // each.
                let mut reviews = tokio::task::JoinSet::new();
                for (app, package) in list {
                    let state = state.clone();
                    reviews.spawn(async move {
                        let change = Change::new(
                            app,
                            package,
                            Action::Review(Verdict::Pass),
                            Actor::Policy("auto-pass"),
                        );
                        (package, service::packages::act(&state, change).await)
                    });
                }
                while let Some(done) = reviews.join_next().await {
                    match done {
                        Ok((_, Ok(Ok(_)))) => passed += 1,
                        // Withdrawn or reviewed meanwhile (by another
                        // node): nothing to do.
                        Ok((_, Ok(Err(_)))) => {}
                        Ok((package, Err(e))) => {
                            tracing::error!(error = ?e, %package, "auto-pass failed")
                        }
                        Err(e) => tracing::error!(error = ?e, "an auto-pass task failed"),
                    }
                }
            }
            Err(e) => tracing::error!(error = ?e, "reading packages under audit failed"),
        }
        if passed as i64 == BATCH {
            continue;
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = notified => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}
