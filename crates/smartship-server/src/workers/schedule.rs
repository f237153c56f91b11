//! Scheduled releases: releases each held package when its time comes.
//! The schedule is in the database, so a restart (or another node) fires
//! what is due; the worker sleeps until the next one is due, so it fires
//! within a few milliseconds of its time.

use crate::service;
use crate::state::AppState;
use smartship_core::lifecycle::Refusal;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const MAX_SLEEP: Duration = Duration::from_secs(5);
/// How soon a release that waits for a rollback is tried again.
const RETRY: Duration = Duration::from_millis(250);

pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        let notified = state.schedule_wakeup.notified();
        let now = crate::clock::now_ms();
        let mut waiting = false;
        match state.store.due_scheduled_releases(now).await {
            Ok(due) => {
                for (app, package, at) in due {
                    waiting |= !fire(&state, app, package, at).await;
                }
            }
            Err(e) => tracing::error!(error = ?e, "reading due scheduled releases failed"),
        }
        let mut sleep = super::sleep_until(
            state.store.next_scheduled_release().await.ok().flatten(),
            MAX_SLEEP,
        );
        if waiting {
            // A due release waits for a rollback: look again soon, not at once.
            sleep = sleep.max(RETRY);
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = notified => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

/// Releases a due package; false when it has to wait (and stays due).
async fn fire(
    state: &AppState,
    app: smartship_core::AppId,
    package: smartship_core::PackageId,
    at: i64,
) -> bool {
    match service::schedule::fire(state, app, package, at).await {
        Ok(Ok(_)) => tracing::info!(%app, %package, "scheduled release done"),
        // The online version is rolling back: the release waits for it and
        // is tried again on the next pass.
        Ok(Err(Refusal::RollbackInProgress)) => {
            tracing::info!(%app, %package, "scheduled release waits for a rollback");
            return false;
        }
        // Another node released it first (every node runs this worker), or
        // the schedule was cancelled or moved since it was read: nothing to
        // do. Refused for good (authenticity withdrawn...), the service
        // ended the schedule and logged why; the package stays audit passed.
        Ok(Err(r)) => tracing::info!(%app, %package, reason = %r, "scheduled release not done"),
        Err(e) => {
            tracing::error!(error = ?e, %package, "scheduled release failed");
            return false;
        }
    }
    true
}
