//! Phased (gray) releases: start, amend, pause, resume, revert, the ramp
//! worker's steps, and the release when a plan reaches 100 % (in the same
//! transaction as the plan's change: `lifecycle_flow::phased`).

use super::{Actor, StoreError, wake};
use crate::state::AppState;
use smartship_core::AppId;
use smartship_core::gray::GrayPlan;
use smartship_core::lifecycle::Action;
use smartship_core::phased::{PhasedOp, PhasedRequest};
use smartship_store::{PhasedDecision, PhasedOutcome};

/// Runs `op` on the app's phased release. A plan at 100 % has released
/// its package, or says why the release was refused (`release`).
#[tracing::instrument(name = "phased_release", skip_all, fields(%app, op = op.name(), actor = %actor))]
pub async fn run(
    s: &AppState,
    app: AppId,
    op: PhasedOp,
    actor: Actor,
) -> Result<PhasedDecision, StoreError> {
    let ctx = s.action_context(actor.to_string());
    let out = s.store.phased(app, op, &ctx).await;
    match &out {
        Ok(Ok(done)) if !done.unchanged => after(s, app, done),
        Ok(_) => {}
        // The transaction may have committed before the error: what is
        // served is read afresh rather than trusted.
        Err(_) => wake::delivery_changed(s, app),
    }
    out
}

/// Starts a plan, or amends the live one of the same package.
pub async fn request(
    s: &AppState,
    app: AppId,
    r: PhasedRequest,
    actor: Actor,
) -> Result<PhasedDecision, StoreError> {
    run(s, app, PhasedOp::Request(r), actor).await
}

/// Takes the app's ramp steps due now, and tries again the release of a
/// plan left at 100 % (the ramp worker). None when nothing changed
/// (reverted, paused or taken by another node meanwhile; released again
/// refused).
pub async fn step(s: &AppState, app: AppId) -> Result<Option<GrayPlan>, StoreError> {
    let Ok(done) = run(s, app, PhasedOp::Advance, Actor::Worker("gray")).await? else {
        return Ok(None);
    };
    let plan = &done.plan;
    if let Some(Err(r)) = &done.release {
        tracing::warn!(%app, package = %plan.package, reason = %r, "gray release at 100% not released");
    }
    if done.unchanged {
        return Ok(None);
    }
    tracing::info!(%app, package = %plan.package, percentage = plan.percentage, "gray step taken");
    s.audit.worker(
        "gray",
        format!("package:{}", plan.package),
        format!("{{\"app\":{app},\"percentage\":{}}}", plan.percentage),
    );
    if let Some(Ok(_)) = &done.release {
        tracing::info!(%app, package = %plan.package, "gray release completed");
    }
    Ok(Some(done.plan))
}

/// What follows an accepted operation: the ramp worker and update checks
/// read afresh, the platform's event goes out, and a release at 100 % is
/// followed up as any release.
fn after(s: &AppState, app: AppId, done: &PhasedOutcome) {
    wake::phased_changed(s, app);
    if let Some(Ok(fx)) = &done.release {
        wake::lifecycle(s, app, &Action::Release, fx);
    }
}
