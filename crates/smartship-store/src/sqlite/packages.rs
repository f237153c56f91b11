//! Packages: uploads, lifecycle transitions, builds, their history and the workers' claims.

use super::*;
use crate::lifecycle_flow::{self, run_ready};
use lifecycle_sql::SqliteLifecycle;

package_store!(SqliteStore, {
    async fn create_upload(
        &self,
        u: NewUpload,
        ctx: &ActionContext,
    ) -> Result<std::result::Result<PackageId, lifecycle::Refusal>> {
        let ctx = ctx.clone();
        self.lifecycle(u.app_id, move |conn| {
            run_ready(lifecycle_flow::create_upload(
                &mut SqliteLifecycle(conn),
                &u,
                &ctx,
            ))
        })
        .await
    }

    async fn apply(
        &self,
        app: AppId,
        package: PackageId,
        action: Action,
        ctx: &ActionContext,
    ) -> Result<Decision> {
        let ctx = ctx.clone();
        self.lifecycle(app, move |conn| {
            run_ready(lifecycle_flow::apply(
                &mut SqliteLifecycle(conn),
                app,
                package,
                &action,
                &ctx,
            ))
        })
        .await
    }

    async fn phased(
        &self,
        app: AppId,
        op: smartship_core::phased::PhasedOp,
        ctx: &ActionContext,
    ) -> Result<PhasedDecision> {
        let ctx = ctx.clone();
        self.lifecycle(app, move |conn| {
            run_ready(lifecycle_flow::phased(
                &mut SqliteLifecycle(conn),
                app,
                &op,
                &ctx,
            ))
        })
        .await
    }

    async fn schedule_release(
        &self,
        app: AppId,
        package: PackageId,
        at: i64,
        ctx: &ActionContext,
    ) -> Result<std::result::Result<(), lifecycle::Refusal>> {
        let ctx = ctx.clone();
        self.lifecycle(app, move |conn| {
            run_ready(lifecycle_flow::schedule_release(
                &mut SqliteLifecycle(conn),
                app,
                package,
                at,
                &ctx,
            ))
        })
        .await
    }

    async fn cancel_scheduled_release(
        &self,
        app: AppId,
        package: PackageId,
        ctx: &ActionContext,
    ) -> Result<bool> {
        let ctx = ctx.clone();
        self.lifecycle(app, move |conn| {
            run_ready(lifecycle_flow::cancel_scheduled_release(
                &mut SqliteLifecycle(conn),
                app,
                package,
                &ctx,
            ))
        })
        .await
    }

    async fn claim_build(&self, now: i64, lease_ms: i64) -> Result<Option<BuildJob>> {
        let Some(id) = self
            .commits
            .run(move |conn| lifecycle_sql::claim_build(conn, now, lease_ms))
            .await?
        else {
            return Ok(None);
        };
        let row = sqlx::query(concat!(
            "SELECT ",
            package_cols!(),
            " FROM packages WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.read)
        .await?;
        let package = package_from_row(&row)?;
        let template: Option<String> =
            sqlx::query_scalar("SELECT manifest FROM templates WHERE id = $1 AND tp_id = $2")
                .bind(package.template_id.0)
                .bind(package.tp_id.0)
                .fetch_optional(&self.read)
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
        let ctx = ctx.clone();
        self.lifecycle(app, move |conn| {
            run_ready(lifecycle_flow::finish_build(
                &mut SqliteLifecycle(conn),
                app,
                package,
                &outcome,
                &ctx,
            ))
        })
        .await
    }
});
