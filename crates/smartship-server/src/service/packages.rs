//! The package lifecycle: uploads, the actions of `lifecycle::decide`, and
//! the build worker's results.

use super::{Actor, StoreError, wake};
use crate::audit::AuditSlot;
use crate::state::AppState;
use smartship_core::lifecycle::{Action, Refusal};
use smartship_core::{AppId, PackageId};
use smartship_store::{BuildJob, BuildOutcome, Decision, NewUpload, Submission};

/// One lifecycle action on one package.
pub struct Change<'a> {
    pub app: AppId,
    pub package: PackageId,
    pub action: Action,
    pub actor: Actor,
    /// What `package/submitaudit` said about the submission.
    pub submission: Option<Submission>,
    /// The request's audit entry, written in the change's own transaction
    /// when the change is accepted.
    pub audit: Option<&'a AuditSlot>,
}

impl Change<'_> {
    pub fn new(app: AppId, package: PackageId, action: Action, actor: Actor) -> Self {
        Change {
            app,
            package,
            action,
            actor,
            submission: None,
            audit: None,
        }
    }
}

/// Applies a lifecycle action; what follows an accepted one (wake-ups, the
/// update answers' cache, a worker's audit entry) is done here.
#[tracing::instrument(name = "change", skip_all, fields(
    app = %change.app,
    package = %change.package,
    action = change.action.name(),
    actor = %change.actor,
))]
pub async fn act(s: &AppState, change: Change<'_>) -> Result<Decision, StoreError> {
    let Change {
        app,
        package,
        action,
        actor,
        submission,
        audit,
    } = change;
    let mut ctx = s.action_context(actor.to_string());
    ctx.submission = submission;
    ctx.audit = audit.map(AuditSlot::entry_for_change);
    let decision = s.store.apply(app, package, action.clone(), &ctx).await;
    match &decision {
        Ok(Ok(fx)) => {
            if let Some(slot) = audit {
                slot.stored();
            }
            wake::lifecycle(s, app, &action, fx);
            audit_worker(s, &actor, app, package, &action);
        }
        Ok(Err(_)) => {}
        // The transaction may have committed before the error: what is
        // served is read afresh rather than trusted.
        Err(_) => wake::delivery_changed(s, app),
    }
    decision
}

/// Accepts an upload (a development package, building) and wakes a build
/// worker.
#[tracing::instrument(name = "upload", skip_all, fields(app = %upload.app_id, actor = %actor))]
pub async fn upload(
    s: &AppState,
    upload: NewUpload,
    actor: Actor,
    audit: Option<&AuditSlot>,
) -> Result<Result<PackageId, Refusal>, StoreError> {
    let app = upload.app_id;
    let mut ctx = s.action_context(actor.to_string());
    ctx.audit = audit.map(AuditSlot::entry_for_change);
    let out = s.store.create_upload(upload, &ctx).await?;
    if let Ok(id) = &out {
        if let Some(slot) = audit {
            slot.stored();
        }
        tracing::info!(%app, package = %id, "upload accepted");
        // A development package is never served: only a build waits.
        wake::build_waiting(s);
    }
    Ok(out)
}

/// Claims the oldest waiting build for `lease_ms`.
pub async fn claim_build(s: &AppState, lease_ms: i64) -> Result<Option<BuildJob>, StoreError> {
    s.store.claim_build(crate::clock::now_ms(), lease_ms).await
}

/// Stores a built package's pre-review findings (JSON) and how many block
/// a submission, before its result.
pub async fn record_checks(
    s: &AppState,
    package: PackageId,
    findings_json: &str,
    blocking: i64,
) -> Result<(), StoreError> {
    s.store
        .put_package_checks(package, findings_json, blocking, crate::clock::now_ms())
        .await
}

/// Records a build's result (and submits a built direct-commit package in
/// the same transaction).
#[tracing::instrument(name = "build_result", skip_all, fields(%app, %package))]
pub async fn finish_build(
    s: &AppState,
    app: AppId,
    package: PackageId,
    outcome: BuildOutcome,
) -> Result<Decision, StoreError> {
    let failed = matches!(outcome, BuildOutcome::Failed { .. });
    let action = if failed {
        Action::BuildFailed
    } else {
        Action::BuildSucceeded
    };
    let ctx = s.action_context(Actor::Worker("build").to_string());
    let decision = s.store.finish_build(app, package, outcome, &ctx).await?;
    if let Ok(fx) = &decision {
        wake::lifecycle(s, app, &action, fx);
        s.audit.worker(
            "build",
            format!("package:{package}"),
            format!("{{\"app\":{app},\"failed\":{failed}}}"),
        );
    }
    Ok(decision)
}

/// The actions workers and policies take by themselves go to the audit
/// log (a request's change is logged by its door's audit middleware).
fn audit_worker(s: &AppState, actor: &Actor, app: AppId, package: PackageId, action: &Action) {
    let (name, detail) = match (actor, action) {
        (Actor::Policy(_), Action::Review(_)) => {
            ("auto_review", "{\"decision\":\"pass\"}".to_owned())
        }
        (Actor::Worker(_), Action::CompleteRollback) => ("rollback", format!("{{\"app\":{app}}}")),
        (Actor::Worker(_), Action::FireSchedule(_)) => ("schedule", format!("{{\"app\":{app}}}")),
        _ => return,
    };
    s.audit.worker(name, format!("package:{package}"), detail);
}
