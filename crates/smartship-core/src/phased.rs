//! What an operation on an app's phased release does, decided on what the
//! store read under the app's lock: starting a plan or amending the live
//! one, the ramp worker's steps, pause, resume and revert, and whether the
//! plan's package is to be released in the same transaction (at 100 %).
//!
//! The plan's own rules are `GrayPlan`'s methods (`crate::gray`); whether a
//! package may be put in a phased release at all is `lifecycle::check_hold`;
//! the release at 100 % is `lifecycle::decide` on `Action::Release`. This
//! module joins them, so that the store only reads and writes.

use crate::gray::{GrayPlan, GrayRefusal, GrayStatus, RampStep};
use crate::lifecycle::{self, Hold, HoldSnapshot, Refusal};
use crate::{AppId, PackageId};

/// A `grayrelease` request, checked for form by the door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhasedRequest {
    pub package: PackageId,
    pub percentage: u8,
    /// User ids added to the plan's allow-list.
    pub users: Vec<String>,
    /// Steps replacing those not yet taken; None keeps them.
    pub ramp: Option<Vec<RampStep>>,
}

/// An operation on an app's phased release. Data rather than a closure: a
/// transaction that lost a race is run again, and the operation with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhasedOp {
    /// Starts a plan of the package, or amends the live plan when it is the
    /// same package's.
    Request(PhasedRequest),
    /// The ramp worker: takes every step due.
    Advance,
    Pause,
    Resume,
    Revert,
}

impl PhasedOp {
    /// The name recorded with the operation (spans, the audit log).
    pub fn name(&self) -> &'static str {
        match self {
            PhasedOp::Request(_) => "gray_release",
            PhasedOp::Advance => "gray_step",
            PhasedOp::Pause => "gray_pause",
            PhasedOp::Resume => "gray_resume",
            PhasedOp::Revert => "gray_revert",
        }
    }
}

/// Why a phased-release operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhasedRefusal {
    /// The plan's rules (`crate::gray`).
    #[error(transparent)]
    Plan(GrayRefusal),
    /// The package lifecycle's: starting a plan, or releasing at 100 %.
    #[error(transparent)]
    Lifecycle(Refusal),
}

/// What the store writes for an accepted operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanWrite {
    /// The plan after the operation (`id` 0 when it is new).
    pub plan: GrayPlan,
    /// A plan to insert, rather than the live one to update.
    pub new: bool,
    /// The share or the status changed: the platform hears of it
    /// (PACKAGE_GRAY_RELEASE).
    pub announce: bool,
    /// Nothing changed at all (a ramp step another node took first).
    pub unchanged: bool,
    /// The plan is live at 100 %: its package is to be released in the
    /// same transaction. When the release is refused (authenticity
    /// withdrawn meanwhile), the plan stays running at 100 %, and the ramp
    /// worker's next pass, or `grayrelease` at 100 again, tries once more.
    pub complete: bool,
}

/// Decides `op` on the app's live plan (`live`, if any) and, for a start,
/// on the package's hold snapshot. `actor` and `now` stamp a new plan.
pub fn decide(
    app: AppId,
    live: Option<&GrayPlan>,
    hold: impl FnOnce(PackageId) -> HoldSnapshot,
    op: &PhasedOp,
    actor: &str,
    now: i64,
) -> Result<PlanWrite, PhasedRefusal> {
    // Only a request or the ramp completes a plan: a pause, a resume or a
    // revert of a plan left at 100 % does what it says and no more.
    let completes = matches!(op, PhasedOp::Request(_) | PhasedOp::Advance);
    let changed = |before: &GrayPlan, mut after: GrayPlan| {
        let announce = (after.percentage, after.status) != (before.percentage, before.status);
        let unchanged = after == *before;
        after.updated_at = after.updated_at.max(now);
        PlanWrite {
            complete: completes && after.percentage == 100 && after.status.is_live(),
            plan: after,
            new: false,
            announce,
            unchanged,
        }
    };
    let change = |f: &dyn Fn(&mut GrayPlan) -> Result<(), GrayRefusal>| {
        let before = live.ok_or(PhasedRefusal::Plan(GrayRefusal::NoPlan))?;
        let mut after = before.clone();
        f(&mut after).map_err(PhasedRefusal::Plan)?;
        Ok(changed(before, after))
    };
    match op {
        PhasedOp::Request(r) => match live {
            Some(plan) if plan.package == r.package => {
                let mut after = plan.clone();
                after
                    .amend(
                        r.package,
                        r.percentage,
                        r.users.clone(),
                        r.ramp.clone(),
                        now,
                    )
                    .map_err(PhasedRefusal::Plan)?;
                Ok(changed(plan, after))
            }
            _ => {
                lifecycle::check_hold(&hold(r.package), r.package, Hold::PhasedRelease)
                    .map_err(PhasedRefusal::Lifecycle)?;
                let plan = GrayPlan {
                    id: 0,
                    app,
                    package: r.package,
                    percentage: r.percentage,
                    user_list: r.users.clone(),
                    ramp: r.ramp.clone().unwrap_or_default(),
                    status: GrayStatus::Running,
                    paused_at: None,
                    created_by: actor.to_owned(),
                    created_at: now,
                    updated_at: now,
                    ended_at: None,
                };
                Ok(PlanWrite {
                    complete: plan.percentage == 100,
                    plan,
                    new: true,
                    announce: true,
                    unchanged: false,
                })
            }
        },
        PhasedOp::Advance => {
            // Nothing due (another node took the step, or the plan was
            // paused meanwhile) is no refusal: the write is empty.
            change(&|p| {
                p.advance(now);
                Ok(())
            })
        }
        PhasedOp::Pause => change(&|p| p.pause(now)),
        PhasedOp::Resume => change(&|p| p.resume(now)),
        PhasedOp::Revert => change(&|p| p.revert(now)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::PackageState;

    const APP: AppId = AppId(1);

    fn releasable(_: PackageId) -> HoldSnapshot {
        HoldSnapshot {
            state: Some(PackageState::AuditPassed),
            authenticity_verified: true,
            live_gray: None,
            rolling_back: false,
            scheduled: false,
        }
    }

    fn request(package: i64, percentage: u8) -> PhasedOp {
        PhasedOp::Request(PhasedRequest {
            package: PackageId(package),
            percentage,
            users: vec![],
            ramp: None,
        })
    }

    fn started(percentage: u8) -> GrayPlan {
        let mut w = decide(APP, None, releasable, &request(5, percentage), "app:1", 10).unwrap();
        w.plan.id = 3;
        w.plan
    }

    #[test]
    fn a_start_is_new_announced_and_completes_only_at_100() {
        let w = decide(APP, None, releasable, &request(5, 20), "app:1", 10).unwrap();
        assert!(w.new && w.announce && !w.complete && !w.unchanged);
        assert_eq!(w.plan.status, GrayStatus::Running);
        assert_eq!(w.plan.created_by, "app:1");
        let w = decide(APP, None, releasable, &request(5, 100), "app:1", 10).unwrap();
        assert!(w.complete);
    }

    #[test]
    fn a_start_is_refused_as_a_hold_is() {
        let held = |_| HoldSnapshot {
            rolling_back: true,
            ..releasable(PackageId(5))
        };
        assert_eq!(
            decide(APP, None, held, &request(5, 20), "app:1", 10),
            Err(PhasedRefusal::Lifecycle(Refusal::RollbackInProgress))
        );
    }

    #[test]
    fn the_live_plans_package_amends_it_another_package_is_refused() {
        let live = started(20);
        let w = decide(APP, Some(&live), releasable, &request(5, 50), "app:1", 20).unwrap();
        assert!(!w.new && w.announce && !w.complete);
        assert_eq!((w.plan.id, w.plan.percentage), (3, 50));
        let w = decide(APP, Some(&live), releasable, &request(5, 100), "app:1", 20).unwrap();
        assert!(w.complete);
        // Another package: refused by the hold rules (a live plan).
        let other = |_| HoldSnapshot {
            live_gray: Some(PackageId(5)),
            ..releasable(PackageId(6))
        };
        assert_eq!(
            decide(APP, Some(&live), other, &request(6, 50), "app:1", 20),
            Err(PhasedRefusal::Lifecycle(Refusal::GrayInProgress(
                PackageId(5)
            )))
        );
    }

    #[test]
    fn changes_need_a_live_plan_and_follow_the_plans_rules() {
        assert_eq!(
            decide(APP, None, releasable, &PhasedOp::Pause, "x", 1),
            Err(PhasedRefusal::Plan(GrayRefusal::NoPlan))
        );
        let live = started(20);
        let paused = decide(APP, Some(&live), releasable, &PhasedOp::Pause, "x", 30).unwrap();
        assert!(paused.announce && !paused.complete);
        assert_eq!(
            decide(
                APP,
                Some(&paused.plan),
                releasable,
                &PhasedOp::Pause,
                "x",
                31
            ),
            Err(PhasedRefusal::Plan(GrayRefusal::WrongStatus(
                "paused", "running"
            )))
        );
        let reverted = decide(APP, Some(&live), releasable, &PhasedOp::Revert, "x", 30).unwrap();
        assert_eq!(reverted.plan.status, GrayStatus::Reverted);
        assert!(!reverted.complete);
    }

    #[test]
    fn a_step_not_due_changes_nothing_and_a_step_to_100_completes() {
        let mut live = started(20);
        live.ramp = vec![RampStep {
            percentage: 100,
            at: 50,
        }];
        let early = decide(APP, Some(&live), releasable, &PhasedOp::Advance, "x", 40).unwrap();
        assert!(early.unchanged && !early.complete);
        let due = decide(APP, Some(&live), releasable, &PhasedOp::Advance, "x", 50).unwrap();
        assert!(due.complete && due.announce && !due.unchanged);
    }

    #[test]
    fn a_live_plan_at_100_completes_again_on_a_pass_or_a_request() {
        let live = started(100);
        let pass = decide(APP, Some(&live), releasable, &PhasedOp::Advance, "x", 40).unwrap();
        assert!(pass.unchanged && pass.complete);
        let again = decide(APP, Some(&live), releasable, &request(5, 100), "x", 40).unwrap();
        assert!(again.complete && !again.announce);
        let paused = decide(APP, Some(&live), releasable, &PhasedOp::Pause, "x", 40).unwrap();
        assert!(!paused.complete);
    }
}
