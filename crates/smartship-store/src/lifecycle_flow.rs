//! The read-decide-write transactions of the package lifecycle, once for
//! every backend: uploads, transitions, build results, phased releases
//! (with the release at 100 % in the same transaction) and scheduled
//! releases.
//!
//! Each function runs inside one transaction the backend has opened: it
//! locks the app and reads what `smartship_core::lifecycle::decide` needs,
//! asks the rules, and writes their effects with the history rows and the
//! outgoing event (transactional outbox). A backend provides only the
//! primitives of [`LifecycleTx`] (rows and SQL); the order of the steps and
//! what follows what is here, so two backends cannot drift apart.
//!
//! The primitives are `async` so that a backend with an async driver
//! (PostgreSQL) awaits its statements; SQLite runs them on its group-commit
//! thread with a synchronous connection, where every future is ready at
//! once ([`run_ready`]).

use crate::model::*;
use crate::{Decision, PhasedDecision, PhasedOutcome, Result, StoreError};
use smartship_core::gray::{GrayPlan, GrayRefusal};
use smartship_core::lifecycle::{
    self, Action, AppSnapshot, AuditEvent, BuildState, Effects, Hold, PackageState, PackageView,
    Refusal,
};
use smartship_core::phased::{self, PhasedOp, PhasedRefusal};
use smartship_core::{AppId, PackageId};

/// One row of the package history (`package_transitions`).
pub(crate) struct TransitionRow<'a> {
    pub package: PackageId,
    pub app: AppId,
    pub action: &'a str,
    pub from: Option<PackageState>,
    pub to: PackageState,
    pub actor: &'a str,
    pub detail: &'a str,
    pub at: i64,
}

/// What a backend does inside a lifecycle transaction. Every method runs in
/// the same transaction; none commits.
#[allow(async_fn_in_trait)]
pub(crate) trait LifecycleTx {
    /// Locks the app against every other lifecycle transaction until this
    /// one ends, and reads its (basic info approved, authenticity verified)
    /// flags; None when there is no such app.
    async fn lock_app(&mut self, app: AppId) -> Result<Option<(bool, bool)>>;
    /// The app's packages in a slot, and package `target` whatever its state.
    async fn slotted_or_target(
        &mut self,
        app: AppId,
        target: Option<PackageId>,
    ) -> Result<Vec<PackageView>>;
    /// The app's packages in history, newest first: the two newest, or
    /// with `all` every one.
    async fn history(&mut self, app: AppId, all: bool) -> Result<Vec<PackageView>>;
    /// Package `id` of the app, whatever its state.
    async fn package_view(&mut self, app: AppId, id: PackageId) -> Result<Option<PackageView>>;
    /// The version a package rolling back returns to, when recorded.
    async fn rollback_target_of(&mut self, package: PackageId) -> Result<Option<PackageId>>;
    async fn set_rollback_target(&mut self, package: PackageId, target: PackageId) -> Result<()>;
    /// Earlier online versions (history, rolled back) of the app newer
    /// than package `than`.
    async fn retained_newer_than(&mut self, app: AppId, than: PackageId) -> Result<i64>;
    /// The package of the app's live phased release (running or paused).
    async fn live_gray(&mut self, app: AppId) -> Result<Option<PackageId>>;
    /// The package of the app whose release is scheduled, and when.
    async fn scheduled_release(&mut self, app: AppId) -> Result<Option<(PackageId, i64)>>;
    /// Ends a package's schedule (it was released).
    async fn clear_scheduled_release(&mut self, package: PackageId) -> Result<()>;
    /// Ends the app's live phased release as finished at 100 %.
    async fn finish_gray(&mut self, app: AppId, now: i64) -> Result<()>;
    /// The app's newest phased release, live or not.
    async fn latest_gray_plan(&mut self, app: AppId) -> Result<Option<GrayPlan>>;
    /// Stores a new plan (its `id` is ignored); returns its id.
    async fn insert_gray_plan(&mut self, plan: &GrayPlan) -> Result<i64>;
    /// Stores the plan's share, users, ramp, status and times.
    async fn update_gray_plan(&mut self, plan: &GrayPlan) -> Result<()>;
    /// Enqueues PACKAGE_GRAY_RELEASE for the plan's package, when its TP
    /// subscribes to it.
    async fn insert_gray_event(&mut self, plan: &GrayPlan, now: i64) -> Result<()>;
    /// Sets (Unix ms) or clears a package's scheduled release.
    async fn set_release_at(&mut self, package: PackageId, at: Option<i64>, now: i64)
    -> Result<()>;
    /// Raises the app's release sequence (what it serves changed).
    async fn bump_release_seq(&mut self, app: AppId) -> Result<()>;
    /// Writes an entry of the audit log.
    async fn insert_audit(&mut self, entry: &NewAuditEntry) -> Result<()>;
    /// Submissions counted against the quota since `since`.
    async fn quota_uses(&mut self, app: AppId, since: i64) -> Result<i64>;
    /// Moves a package from `from` to `to` (stamping `released_at` when it
    /// goes online, clearing `rollback_due_at` unless it is rolling back);
    /// how many rows moved (0 when it was not in `from`).
    async fn move_package(
        &mut self,
        package: PackageId,
        from: PackageState,
        to: PackageState,
        now: i64,
    ) -> Result<u64>;
    async fn record_transition(&mut self, row: &TransitionRow<'_>) -> Result<()>;
    /// Sets the build state and ends the build lease.
    async fn set_build(&mut self, package: PackageId, build: BuildState, now: i64) -> Result<()>;
    async fn set_rollback_version(
        &mut self,
        package: PackageId,
        version: Option<&str>,
    ) -> Result<()>;
    async fn set_msg(&mut self, package: PackageId, msg: &str) -> Result<()>;
    async fn use_quota(&mut self, app: AppId, package: PackageId, now: i64) -> Result<()>;
    /// Records a submission's fields; a test account or password left out
    /// keeps the one given at upload.
    async fn set_submission(&mut self, package: PackageId, sub: &Submission) -> Result<()>;
    async fn set_rollback_due(&mut self, package: PackageId, at: i64) -> Result<()>;
    /// Enqueues an audit result for the package's TP, due at `now`.
    async fn insert_audit_event(
        &mut self,
        kind: EventKind,
        package: PackageId,
        version: &str,
        reason: Option<&str>,
        now: i64,
    ) -> Result<()>;
    /// Enqueues a release event about a package for its TP, when the TP
    /// subscribes to that kind (nothing otherwise).
    async fn insert_release_event(
        &mut self,
        kind: EventKind,
        package: PackageId,
        reason: Option<&str>,
        now: i64,
    ) -> Result<()>;
    /// Inserts a development package, building.
    async fn insert_package(&mut self, upload: &NewUpload, now: i64) -> Result<PackageId>;
    /// The stored manifest (JSON) of the template the package was built from.
    async fn template_manifest(&mut self, package: PackageId) -> Result<Option<String>>;
    /// Stores a built package's manifest (JSON) and its total size.
    async fn set_manifest(&mut self, package: PackageId, json: &str, size: i64) -> Result<()>;
    async fn set_build_error(&mut self, package: PackageId, code: i64, message: &str)
    -> Result<()>;
}

/// What `decide` needs to know about the app, read under the app's lock.
async fn snapshot<T: LifecycleTx>(
    tx: &mut T,
    app: AppId,
    target: Option<PackageId>,
    action: &Action,
    ctx: &ActionContext,
) -> Result<Option<AppSnapshot>> {
    let needs_quota = matches!(action, Action::SubmitAudit)
        || matches!(
            action,
            Action::Upload {
                direct_commit: true
            }
        );
    let Some((basic_info_approved, authenticity_verified)) = tx.lock_app(app).await? else {
        return Ok(None);
    };
    let mut snap = AppSnapshot {
        basic_info_approved,
        authenticity_verified,
        ..Default::default()
    };
    for view in tx.slotted_or_target(app, target).await? {
        if Some(view.id) == target {
            snap.target = Some(view.clone());
        }
        if view.state.slot().is_some() {
            snap.slotted.push(view);
        }
    }
    // Release order is id order (a package can only be released after every
    // older live package left the slots), so the newest earlier version is
    // the highest id, whatever the wall clock did.
    // A rollback's completion moves every history version newer than the
    // one it returns to; other actions need the newest two at most.
    let rollback = matches!(
        action,
        Action::Rollback | Action::RollbackTo(_) | Action::CompleteRollback
    );
    snap.history = tx.history(app, rollback).await?;
    snap.gray = tx.live_gray(app).await?;
    if let Some((p, at)) = tx.scheduled_release(app).await? {
        snap.scheduled = Some(p);
        snap.scheduled_at = Some(at);
    }
    let rollback_to = match action {
        Action::RollbackTo(id) => Some(*id),
        Action::CompleteRollback => match target {
            Some(t) => tx.rollback_target_of(t).await?,
            None => None,
        },
        _ => None,
    };
    if let Some(id) = rollback_to {
        snap.rollback_to = tx.package_view(app, id).await?;
        if matches!(action, Action::RollbackTo(_)) && ctx.retained_versions.is_some() {
            snap.newer_than_rollback_to = tx.retained_newer_than(app, id).await?;
        }
    }
    snap.retained_versions = ctx.retained_versions;
    if let Some(q) = ctx.quota.filter(|_| needs_quota) {
        snap.quota_remaining = Some(q.limit - tx.quota_uses(app, q.period_start).await?);
    }
    Ok(Some(snap))
}

/// Whether a package in `state` is, or was, what the app's users get:
/// leaving or entering these states changes the update answer.
fn serves(state: PackageState) -> bool {
    matches!(
        state,
        PackageState::Online
            | PackageState::RollingBack
            | PackageState::History
            | PackageState::RolledBack
    )
}

/// Writes what `decide` said an action does.
async fn write_effects<T: LifecycleTx>(
    tx: &mut T,
    app: AppId,
    target: Option<PackageId>,
    action: &Action,
    fx: &Effects,
    ctx: &ActionContext,
) -> Result<()> {
    let detail = match action {
        Action::Review(lifecycle::Verdict::Fail { reason }) => reason.as_str(),
        _ => "",
    };
    for t in &fx.transitions {
        if tx.move_package(t.package, t.from, t.to, ctx.now).await? != 1 {
            // The app is locked, so this is a broken invariant rather than
            // a race: nothing of the transaction is kept.
            return Err(StoreError::Conflict(format!(
                "package {} was not {:?}",
                t.package, t.from
            )));
        }
        tx.record_transition(&TransitionRow {
            package: t.package,
            app,
            action: action.name(),
            from: Some(t.from),
            to: t.to,
            actor: &ctx.actor,
            detail,
            at: ctx.now,
        })
        .await?;
    }
    // What the app's users are served changed: answers signed before are
    // superseded (host runtimes refuse a lower sequence than they ran).
    if fx.finish_gray
        || fx
            .transitions
            .iter()
            .any(|t| serves(t.from) || serves(t.to))
    {
        tx.bump_release_seq(app).await?;
    }
    let Some(target) = target else {
        return Ok(());
    };
    if let Some(b) = fx.build {
        tx.set_build(target, b, ctx.now).await?;
    }
    if let Some((pkg, version)) = &fx.rollback_version {
        tx.set_rollback_version(*pkg, version.as_deref()).await?;
    }
    if let Some(msg) = &fx.audit_msg {
        tx.set_msg(target, msg).await?;
    }
    if fx.consume_quota {
        tx.use_quota(app, target, ctx.now).await?;
    }
    if let (Action::SubmitAudit, Some(sub)) = (action, &ctx.submission) {
        tx.set_submission(target, sub).await?;
    }
    if fx.clear_schedule {
        tx.clear_scheduled_release(target).await?;
    }
    if fx.finish_gray {
        tx.finish_gray(app, ctx.now).await?;
    }
    if let Some(to) = fx.rollback_target {
        tx.set_rollback_target(target, to).await?;
    }
    if fx.start_rollback_timer {
        tx.set_rollback_due(target, ctx.now + ctx.rollback_delay_ms)
            .await?;
    }
    match action {
        Action::Release | Action::FireSchedule(_) => {
            tx.insert_release_event(EventKind::PackageRelease, target, None, ctx.now)
                .await?
        }
        Action::CompleteRollback => {
            if let Some(back) = fx.transitions.iter().find(|t| t.to == PackageState::Online) {
                tx.insert_release_event(EventKind::PackageRollback, back.package, None, ctx.now)
                    .await?;
            }
        }
        _ => {}
    }
    if let Some(ev) = &fx.event {
        let (kind, package, version, reason) = match ev {
            AuditEvent::Pass { package, version } => {
                (EventKind::PackageAuditPass, package, version, None)
            }
            AuditEvent::Fail {
                package,
                version,
                reason,
            } => (
                EventKind::PackageAuditFail,
                package,
                version,
                Some(reason.as_str()),
            ),
        };
        tx.insert_audit_event(kind, *package, version, reason, ctx.now)
            .await?;
    }
    Ok(())
}

/// Decides `action` on `package` and writes its effects.
#[tracing::instrument(level = "debug", name = "store.apply", skip_all, fields(%app, %package, action = action.name()))]
pub(crate) async fn apply<T: LifecycleTx>(
    tx: &mut T,
    app: AppId,
    package: PackageId,
    action: &Action,
    ctx: &ActionContext,
) -> Result<Decision> {
    let Some(snap) = snapshot(tx, app, Some(package), action, ctx).await? else {
        return Ok(Err(lifecycle::Refusal::PackageNotFound));
    };
    match lifecycle::decide(&snap, action) {
        Err(refusal) => Ok(Err(refusal)),
        Ok(fx) => {
            write_effects(tx, app, Some(package), action, &fx, ctx).await?;
            if let Some(entry) = &ctx.audit {
                tx.insert_audit(entry).await?;
            }
            Ok(Ok(fx))
        }
    }
}

/// Runs an operation on the app's phased release: the plan's change is
/// decided by `smartship_core::phased`, and a plan that reaches 100 % has
/// its package released by `lifecycle::decide` in the same transaction.
#[tracing::instrument(level = "debug", name = "store.phased", skip_all, fields(%app, op = op.name()))]
pub(crate) async fn phased<T: LifecycleTx>(
    tx: &mut T,
    app: AppId,
    op: &PhasedOp,
    ctx: &ActionContext,
) -> Result<PhasedDecision> {
    let no_app = match op {
        PhasedOp::Request(_) => PhasedRefusal::Lifecycle(Refusal::PackageNotFound),
        _ => PhasedRefusal::Plan(GrayRefusal::NoPlan),
    };
    if tx.lock_app(app).await?.is_none() {
        return Ok(Err(no_app));
    }
    let live = tx
        .latest_gray_plan(app)
        .await?
        .filter(|p| p.status.is_live());
    // The package concerned: the one asked for, else the live plan's (the
    // one a release at 100 % would release).
    let package = match op {
        PhasedOp::Request(r) => Some(r.package),
        _ => live.as_ref().map(|p| p.package),
    };
    let Some(mut snap) = snapshot(tx, app, package, &Action::Release, ctx).await? else {
        return Ok(Err(no_app));
    };
    let hold = snap.hold();
    let write = match phased::decide(app, live.as_ref(), |_| hold, op, &ctx.actor, ctx.now) {
        Ok(w) => w,
        Err(r) => return Ok(Err(r)),
    };
    if write.unchanged && !write.complete {
        return Ok(Ok(PhasedOutcome {
            plan: write.plan,
            unchanged: true,
            release: None,
        }));
    }
    let mut plan: GrayPlan = write.plan;
    if !write.unchanged {
        if write.new {
            plan.id = tx.insert_gray_plan(&plan).await?;
        } else {
            tx.update_gray_plan(&plan).await?;
        }
        if write.announce {
            tx.insert_gray_event(&plan, ctx.now).await?;
        }
        // Who gets what changed with the users or the share (a pause
        // changes nobody's answer, but is cheap to count).
        tx.bump_release_seq(app).await?;
    }
    // The follow-up at 100 %: the plan is live (a new one too) when its
    // release is decided. Refused, the plan stays running at 100 %.
    let release = write.complete.then(|| {
        snap.gray = Some(plan.package);
        lifecycle::decide(&snap, &Action::Release)
    });
    if let Some(Ok(fx)) = &release {
        write_effects(tx, app, Some(plan.package), &Action::Release, fx, ctx).await?;
        // The release finished the plan.
        if let Some(finished) = tx.latest_gray_plan(app).await? {
            plan = finished;
        }
    }
    let unchanged = write.unchanged && !matches!(release, Some(Ok(_)));
    if unchanged {
        return Ok(Ok(PhasedOutcome {
            plan,
            unchanged,
            release,
        }));
    }
    if let Some(entry) = &ctx.audit {
        tx.insert_audit(entry).await?;
    }
    Ok(Ok(PhasedOutcome {
        plan,
        unchanged,
        release,
    }))
}

/// Holds a package that passed audit for release at `at` (Unix ms), when
/// `lifecycle::check_hold` allows it.
#[tracing::instrument(level = "debug", name = "store.schedule", skip_all, fields(%app, %package))]
pub(crate) async fn schedule_release<T: LifecycleTx>(
    tx: &mut T,
    app: AppId,
    package: PackageId,
    at: i64,
    ctx: &ActionContext,
) -> Result<std::result::Result<(), Refusal>> {
    let Some(snap) = snapshot(tx, app, Some(package), &Action::Release, ctx).await? else {
        return Ok(Err(Refusal::PackageNotFound));
    };
    if let Err(r) = lifecycle::check_hold(&snap.hold(), package, Hold::Schedule) {
        return Ok(Err(r));
    }
    tx.set_release_at(package, Some(at), ctx.now).await?;
    let detail = format!("release_at={}", at.div_euclid(1000));
    record_hold(tx, app, package, "schedule_release", &detail, ctx).await?;
    Ok(Ok(()))
}

/// Cancels a package's scheduled release; false when none was scheduled.
#[tracing::instrument(level = "debug", name = "store.cancel_schedule", skip_all, fields(%app, %package))]
pub(crate) async fn cancel_scheduled_release<T: LifecycleTx>(
    tx: &mut T,
    app: AppId,
    package: PackageId,
    ctx: &ActionContext,
) -> Result<bool> {
    let Some(snap) = snapshot(tx, app, Some(package), &Action::Release, ctx).await? else {
        return Ok(false);
    };
    if !snap.target_scheduled() {
        return Ok(false);
    }
    tx.set_release_at(package, None, ctx.now).await?;
    record_hold(tx, app, package, "cancel_scheduled_release", "", ctx).await?;
    Ok(true)
}

/// The history row of a change to a hold: the package stays "audit passed".
async fn record_hold<T: LifecycleTx>(
    tx: &mut T,
    app: AppId,
    package: PackageId,
    action: &str,
    detail: &str,
    ctx: &ActionContext,
) -> Result<()> {
    tx.record_transition(&TransitionRow {
        package,
        app,
        action,
        from: Some(PackageState::AuditPassed),
        to: PackageState::AuditPassed,
        actor: &ctx.actor,
        detail,
        at: ctx.now,
    })
    .await?;
    if let Some(entry) = &ctx.audit {
        tx.insert_audit(entry).await?;
    }
    Ok(())
}

/// Accepts an upload: a new development package, building.
#[tracing::instrument(level = "debug", name = "store.upload", skip_all, fields(app = %u.app_id))]
pub(crate) async fn create_upload<T: LifecycleTx>(
    tx: &mut T,
    u: &NewUpload,
    ctx: &ActionContext,
) -> Result<std::result::Result<PackageId, lifecycle::Refusal>> {
    let action = Action::Upload {
        direct_commit: u.direct_commit,
    };
    let Some(snap) = snapshot(tx, u.app_id, None, &action, ctx).await? else {
        return Ok(Err(lifecycle::Refusal::PackageNotFound));
    };
    let fx = match lifecycle::decide(&snap, &action) {
        Ok(fx) => fx,
        Err(r) => return Ok(Err(r)),
    };
    write_effects(tx, u.app_id, None, &action, &fx, ctx).await?;
    let id = tx.insert_package(u, ctx.now).await?;
    if let Some(entry) = &ctx.audit {
        // The new package is the upload's target, known only now.
        let mut entry = entry.clone();
        if entry.target.is_empty() {
            entry.target = format!("package:{id}");
        }
        tx.insert_audit(&entry).await?;
    }
    tx.record_transition(&TransitionRow {
        package: id,
        app: u.app_id,
        action: "upload",
        from: None,
        to: PackageState::Development,
        actor: &ctx.actor,
        detail: "",
        at: ctx.now,
    })
    .await?;
    Ok(Ok(id))
}

/// Records a build's result, then applies the follow-up the decision names
/// (a built `directCommit` package is submitted).
#[tracing::instrument(level = "debug", name = "store.finish_build", skip_all, fields(%app, %package))]
pub(crate) async fn finish_build<T: LifecycleTx>(
    tx: &mut T,
    app: AppId,
    package: PackageId,
    outcome: &BuildOutcome,
    ctx: &ActionContext,
) -> Result<Decision> {
    let action = match outcome {
        BuildOutcome::Built { .. } => Action::BuildSucceeded,
        BuildOutcome::Failed { .. } => Action::BuildFailed,
    };
    let decision = apply(tx, app, package, &action, ctx).await?;
    let Ok(effects) = &decision else {
        return Ok(decision);
    };
    let follow_up = effects.follow_up.clone();
    match outcome {
        BuildOutcome::Built { manifest, blocked } => {
            // Templates are only ever soft-deleted, so the base of the delta
            // stays readable for as long as the package exists.
            let template = tx.template_manifest(package).await?;
            let stored = match template
                .as_deref()
                .map(crate::rows::manifest_of)
                .transpose()?
            {
                Some(base) => crate::rows::StoredPackageManifest::Delta {
                    template_delta: manifest.delta_from(&base),
                },
                None => crate::rows::StoredPackageManifest::Full(manifest.clone()),
            };
            let json = serde_json::to_string(&stored).expect("manifests always serialize");
            tx.set_manifest(package, &json, manifest.total_size() as i64)
                .await?;
            tx.insert_release_event(EventKind::PackageBuildSuccess, package, None, ctx.now)
                .await?;
            if let (Some(_), Some(check)) = (&follow_up, blocked) {
                // The pre-review checks block the submission (submitaudit
                // would answer 47034).
                tx.set_msg(
                    package,
                    &format!("directCommit 未能自动送审: 预审检查未通过 ({check})"),
                )
                .await?;
            } else if let Some(next) = &follow_up
                && let Err(refusal) = apply(tx, app, package, next, ctx).await?
            {
                // The package stays in development, built; msg says why it
                // was not submitted.
                tx.set_msg(package, &format!("directCommit 未能自动送审: {refusal}"))
                    .await?;
            }
        }
        BuildOutcome::Failed { code, message } => {
            tx.set_build_error(package, *code, message).await?;
            tx.insert_release_event(
                EventKind::PackageBuildFail,
                package,
                Some(message.as_str()),
                ctx.now,
            )
            .await?;
        }
    }
    Ok(decision)
}

/// Runs a future that never waits (SQLite's primitives run synchronously on
/// the writer thread) to its end. A future that does wait is a bug in a
/// backend, reported as such rather than spun on.
pub(crate) fn run_ready<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => {
            panic!("a synchronous lifecycle transaction waited: its primitives must not await")
        }
    }
}
