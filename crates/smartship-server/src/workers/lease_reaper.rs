//! Takes back, every few seconds, the work leased by processes of this host
//! that are gone (`Store::release_dead_leases`): when one of several nodes
//! on a host is killed, another takes its builds and deliveries within
//! seconds instead of when their leases run out. Leases of nodes on other
//! hosts end when they expire (`build_lease_secs`, `events_lease_secs`).

use crate::service;
use crate::state::AppState;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the leases' holders are checked.
const EVERY: Duration = Duration::from_secs(3);

pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(EVERY) => {}
        }
        if let Err(e) = service::housekeeping::take_over_dead_leases(&state).await {
            tracing::warn!(error = %e, "checking the leases' holders failed");
        }
    }
}
