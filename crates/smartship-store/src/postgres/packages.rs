//! Packages: uploads, lifecycle transitions, builds, their history and the workers' claims.

use super::*;
use super::{LifecycleOp, LifecycleOut};

package_store!(PgStore, {
    async fn create_upload(
        &self,
        u: NewUpload,
        ctx: &ActionContext,
    ) -> Result<std::result::Result<PackageId, lifecycle::Refusal>> {
        match self
            .lifecycle(u.app_id, LifecycleOp::Upload(u), ctx)
            .await?
        {
            LifecycleOut::Uploaded(out) => Ok(out),
            _ => unreachable!("an upload answers Uploaded"),
        }
    }

    async fn apply(
        &self,
        app: AppId,
        package: PackageId,
        action: Action,
        ctx: &ActionContext,
    ) -> Result<Decision> {
        match self
            .lifecycle(app, LifecycleOp::Apply(package, action), ctx)
            .await?
        {
            LifecycleOut::Decided(d) => Ok(d),
            _ => unreachable!("an action answers Decided"),
        }
    }

    async fn phased(
        &self,
        app: AppId,
        op: smartship_core::phased::PhasedOp,
        ctx: &ActionContext,
    ) -> Result<PhasedDecision> {
        match self.lifecycle(app, LifecycleOp::Phased(op), ctx).await? {
            LifecycleOut::Phased(d) => Ok(d),
            _ => unreachable!("a phased-release operation answers Phased"),
        }
    }

    async fn schedule_release(
        &self,
        app: AppId,
        package: PackageId,
        at: i64,
        ctx: &ActionContext,
    ) -> Result<std::result::Result<(), lifecycle::Refusal>> {
        match self
            .lifecycle(app, LifecycleOp::Schedule(package, at), ctx)
            .await?
        {
            LifecycleOut::Scheduled(d) => Ok(d),
            _ => unreachable!("a schedule answers Scheduled"),
        }
    }

    async fn cancel_scheduled_release(
        &self,
        app: AppId,
        package: PackageId,
        ctx: &ActionContext,
    ) -> Result<bool> {
        match self
            .lifecycle(app, LifecycleOp::CancelSchedule(package), ctx)
            .await?
        {
            LifecycleOut::Cancelled(done) => Ok(done),
            _ => unreachable!("a cancellation answers Cancelled"),
        }
    }

    async fn claim_build(&self, now: i64, lease_ms: i64) -> Result<Option<BuildJob>> {
        // SKIP LOCKED: two claimers never take the same package, and never
        // wait for each other's claims.
        let Some(row) = sqlx::query(concat!(
            "UPDATE packages SET build_lease_until = $1, build_lease_owner = $3 WHERE id = ( \
               SELECT id FROM packages WHERE build = 'building' AND state = 'development' \
                 AND (build_lease_until IS NULL OR build_lease_until < $2) \
               ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING ",
            package_cols!()
        ))
        .bind(now + lease_ms)
        .bind(now)
        .bind(crate::lease_owner::this_process())
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let package = package_from_row(&row)?;
        let template: Option<String> =
            sqlx::query_scalar("SELECT manifest FROM templates WHERE id = $1 AND tp_id = $2")
                .bind(package.template_id.0)
                .bind(package.tp_id.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(Some(BuildJob {
            package,
            template: template.as_deref().map(manifest_of).transpose()?,
        }))
    }

    async fn finish_build(
        &self,
        app: AppId,
        package: PackageId,
        outcome: BuildOutcome,
        ctx: &ActionContext,
    ) -> Result<Decision> {
        match self
            .lifecycle(app, LifecycleOp::FinishBuild(package, outcome), ctx)
            .await?
        {
            LifecycleOut::Decided(d) => Ok(d),
            _ => unreachable!("a build result answers Decided"),
        }
    }
});
