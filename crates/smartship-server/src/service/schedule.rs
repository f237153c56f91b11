//! Scheduled releases: holding a package for release at a time, cancelling
//! the hold, and the schedule worker's release when it falls due.

use super::packages::{self, Change};
use super::{Actor, StoreError, wake};
use crate::state::AppState;
use smartship_core::lifecycle::{Action, Refusal};
use smartship_core::{AppId, PackageId};
use smartship_store::Decision;

/// Holds a package that passed audit for release at `at` (Unix ms).
#[tracing::instrument(name = "scheduled_release", skip_all, fields(%app, %package))]
pub async fn schedule(
    s: &AppState,
    app: AppId,
    package: PackageId,
    at: i64,
    actor: Actor,
) -> Result<Result<(), Refusal>, StoreError> {
    let ctx = s.action_context(actor.to_string());
    let out = s.store.schedule_release(app, package, at, &ctx).await?;
    if out.is_ok() {
        tracing::info!(%app, %package, release_at = at, "release scheduled");
        wake::schedule_changed(s);
    }
    Ok(out)
}

/// Cancels a package's scheduled release; false when it had none.
#[tracing::instrument(name = "scheduled_release_cancel", skip_all, fields(%app, %package))]
pub async fn cancel(
    s: &AppState,
    app: AppId,
    package: PackageId,
    actor: Actor,
) -> Result<bool, StoreError> {
    let ctx = s.action_context(actor.to_string());
    let cancelled = s.store.cancel_scheduled_release(app, package, &ctx).await?;
    if cancelled {
        wake::schedule_changed(s);
    }
    Ok(cancelled)
}

/// Releases a package whose release was scheduled for `at` (the schedule
/// worker). A refusal for good (not a rollback to wait for, not a schedule
/// changed or a release done meanwhile) ends the schedule.
#[tracing::instrument(name = "scheduled_release_fire", skip_all, fields(%app, %package))]
pub async fn fire(
    s: &AppState,
    app: AppId,
    package: PackageId,
    at: i64,
) -> Result<Decision, StoreError> {
    let change = Change::new(
        app,
        package,
        Action::FireSchedule(at),
        Actor::Worker("schedule"),
    );
    let decision = packages::act(s, change).await?;
    if let Err(r) = &decision
        && !matches!(
            r,
            Refusal::RollbackInProgress | Refusal::WrongState(..) | Refusal::ScheduleChanged
        )
    {
        tracing::warn!(%app, %package, reason = %r, "scheduled release refused; schedule cancelled");
        cancel(s, app, package, Actor::Worker("schedule")).await?;
    }
    Ok(decision)
}
