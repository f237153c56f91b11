//! Phased (gray) releases: start, amend, pause, resume, revert, the ramp
//! worker's steps, and the release when a plan reaches 100 %.

use super::packages::{self, Change};
use super::{Actor, StoreError, wake};
use crate::state::AppState;
use smartship_core::gray::{GrayPlan, GrayRefusal, RampStep};
use smartship_core::lifecycle::{Action, Refusal};
use smartship_core::{AppId, PackageId};
use smartship_store::NewGray;

/// A `grayrelease` request, checked for form by the door.
pub struct Request {
    pub app: AppId,
    pub package: PackageId,
    pub percentage: u8,
    pub users: Vec<String>,
    pub ramp: Option<Vec<RampStep>>,
    pub now: i64,
}

/// Why a phased-release request was refused.
#[derive(Debug)]
pub enum Refused {
    /// The plan's rules (`smartship_core::gray`).
    Plan(GrayRefusal),
    /// The package lifecycle's (starting, or releasing at 100 %).
    Lifecycle(Refusal),
}

/// What a request left: the plan, and whether it was released at 100 %.
pub struct Outcome {
    pub plan: GrayPlan,
    pub released: bool,
}

/// Starts a plan, or amends the live one of the same package; at 100 % the
/// package is released in the same call.
#[tracing::instrument(name = "phased_release", skip_all, fields(app = %r.app, package = %r.package, percentage = r.percentage))]
pub async fn request(
    s: &AppState,
    r: Request,
    actor: Actor,
) -> Result<Result<Outcome, Refused>, StoreError> {
    let live = s
        .store
        .latest_gray(r.app)
        .await?
        .filter(|g| g.status.is_live());
    let Request {
        app,
        package,
        percentage,
        users,
        ramp,
        now,
    } = r;
    let stored = match live {
        Some(g) if g.package == package => s
            .store
            .change_gray(
                app,
                now,
                Box::new(move |plan: &mut GrayPlan| {
                    plan.amend(package, percentage, users, ramp, now)
                }),
            )
            .await?
            .map_err(Refused::Plan),
        _ => {
            let new = NewGray {
                app,
                package,
                percentage,
                user_list: users,
                ramp: ramp.unwrap_or_default(),
            };
            s.store
                .start_gray(new, &actor.to_string(), now)
                .await?
                .map_err(Refused::Lifecycle)
        }
    };
    let plan = match stored {
        Ok(plan) => plan,
        Err(refused) => return Ok(Err(refused)),
    };
    wake::phased_changed(s, app);
    if plan.percentage < 100 {
        tracing::info!(%app, %package, percentage = plan.percentage, "gray release");
        return Ok(Ok(Outcome {
            plan,
            released: false,
        }));
    }
    if let Err(r) = complete(s, app, package, actor).await? {
        return Ok(Err(Refused::Lifecycle(r)));
    }
    let plan = s.store.latest_gray(app).await?.unwrap_or(plan);
    Ok(Ok(Outcome {
        plan,
        released: true,
    }))
}

/// Pauses, resumes or reverts the app's live plan.
#[tracing::instrument(name = "phased_release_change", skip_all, fields(%app))]
pub async fn change(
    s: &AppState,
    app: AppId,
    what: fn(&mut GrayPlan, i64) -> Result<(), GrayRefusal>,
) -> Result<Result<GrayPlan, GrayRefusal>, StoreError> {
    let now = crate::clock::now_ms();
    let out = s
        .store
        .change_gray(app, now, Box::new(move |p| what(p, now)))
        .await?;
    if out.is_ok() {
        wake::phased_changed(s, app);
    }
    Ok(out)
}

/// Takes the app's ramp steps due at `now` (the ramp worker); at 100 % the
/// package is released. None when nothing was due any more (reverted or
/// finished meanwhile).
#[tracing::instrument(name = "phased_release_step", skip_all, fields(%app))]
pub async fn step(s: &AppState, app: AppId, now: i64) -> Result<Option<GrayPlan>, StoreError> {
    let advanced = s
        .store
        .change_gray(
            app,
            now,
            Box::new(move |p: &mut GrayPlan| {
                p.advance(now);
                Ok(())
            }),
        )
        .await?;
    let Ok(plan) = advanced else {
        return Ok(None);
    };
    wake::delivery_changed(s, app);
    tracing::info!(%app, package = %plan.package, percentage = plan.percentage, "gray step taken");
    s.audit.worker(
        "gray",
        format!("package:{}", plan.package),
        format!("{{\"app\":{app},\"percentage\":{}}}", plan.percentage),
    );
    if plan.percentage == 100 {
        match complete(s, app, plan.package, Actor::Worker("gray")).await? {
            Ok(()) => tracing::info!(%app, package = %plan.package, "gray release completed"),
            Err(r) => {
                tracing::warn!(%app, package = %plan.package, reason = %r, "gray release at 100% not released")
            }
        }
    }
    Ok(Some(plan))
}

/// Releases the plan's package: the release ends the plan as finished.
async fn complete(
    s: &AppState,
    app: AppId,
    package: PackageId,
    actor: Actor,
) -> Result<Result<(), Refusal>, StoreError> {
    let decision = packages::act(s, Change::new(app, package, Action::Release, actor)).await?;
    Ok(decision.map(|_| ()))
}
