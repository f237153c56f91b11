//! Takes back, every few seconds, the work leased by processes of this host
//! that are gone (`Store::release_dead_leases`): when one of several nodes
//! on a host is killed, another takes its builds and deliveries within
//! seconds instead of when their leases run out. Leases of nodes on other
//! hosts end when they expire (`build_lease_secs`, `events_lease_secs`).

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
        match state
            .store
            .release_dead_leases(crate::clock::now_ms())
            .await
        {
            Ok(r) if r != Default::default() => {
                metrics::counter!("smartship_lease_takeovers_total", "work" => "build")
                    .increment(r.builds);
                metrics::counter!("smartship_lease_takeovers_total", "work" => "event")
                    .increment(r.events);
                tracing::info!(
                    builds = r.builds,
                    events = r.events,
                    "took over the leased work of a node that is gone"
                );
                state.audit.worker(
                    "lease_reaper",
                    String::new(),
                    format!("{{\"builds\":{},\"events\":{}}}", r.builds, r.events),
                );
                state.build_wakeup.notify_waiters();
                state.events_wakeup.notify_one();
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "checking the leases' holders failed"),
        }
    }
}
