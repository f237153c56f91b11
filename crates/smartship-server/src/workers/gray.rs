//! The gray ramp: takes the steps of running phased releases when they
//! fall due, and releases a plan's package when a step reaches 100 %.
//! Every node runs it; a step is taken under the app's lock, so two nodes
//! taking the same step take it once (the second finds nothing due).

use crate::service;
use crate::state::AppState;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const MAX_SLEEP: Duration = Duration::from_secs(5);

pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        let notified = state.gray_wakeup.notified();
        let now = crate::clock::now_ms();
        match state.store.due_gray_steps(now).await {
            Ok(due) => {
                for app in due {
                    step(&state, app).await;
                }
            }
            Err(e) => tracing::error!(error = ?e, "reading due gray steps failed"),
        }
        let sleep =
            super::sleep_until(state.store.next_gray_step().await.ok().flatten(), MAX_SLEEP);
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = notified => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

async fn step(state: &AppState, app: smartship_core::AppId) {
    if let Err(e) = service::phased::step(state, app).await {
        tracing::error!(error = ?e, %app, "taking a gray step failed");
    }
}
