//! The rollback timer: completes rollbacks whose delay has passed.

use crate::service::{self, Actor, packages::Change};
use crate::state::AppState;
use smartship_core::lifecycle::Action;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const MAX_SLEEP: Duration = Duration::from_secs(5);

pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        let notified = state.rollback_wakeup.notified();
        let now = crate::clock::now_ms();
        match state.store.due_rollbacks(now).await {
            Ok(due) => {
                for (app, package) in due {
                    let change = Change::new(
                        app,
                        package,
                        Action::CompleteRollback,
                        Actor::Worker("rollback"),
                    );
                    match service::packages::act(&state, change).await {
                        Ok(Ok(_)) => tracing::info!(%app, %package, "rollback completed"),
                        Ok(Err(r)) => {
                            tracing::warn!(%app, %package, reason = %r, "rollback not completed")
                        }
                        Err(e) => tracing::error!(error = ?e, %package, "rollback failed"),
                    }
                }
            }
            Err(e) => tracing::error!(error = ?e, "reading due rollbacks failed"),
        }
        let sleep = super::sleep_until(
            state.store.next_rollback_due().await.ok().flatten(),
            MAX_SLEEP,
        );
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = notified => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}
