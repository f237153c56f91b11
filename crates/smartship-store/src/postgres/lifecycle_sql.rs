//! PostgreSQL's primitives for the lifecycle transactions
//! (`lifecycle_flow`), and the workers' claims and attempt records.

use super::Tx;
use crate::Result;
use crate::lifecycle_flow::{LifecycleTx, TransitionRow};
use crate::model::*;
use crate::rows::{Col, GrayState, build_of, gray_event_payload, gray_from_row, state_of};
use smartship_core::gray::GrayPlan;
use smartship_core::lifecycle::{BuildState, PackageState, PackageView};
use smartship_core::{AppId, PackageId};
use sqlx::postgres::PgRow;

/// A lifecycle transaction in progress.
pub(super) struct PgLifecycle<'c>(pub(super) &'c mut Tx<'static>);

fn to_view(r: &PgRow) -> Result<PackageView> {
    Ok(PackageView {
        id: PackageId(r.int("id")?),
        state: state_of(&r.text("state")?)?,
        build: build_of(&r.text("build")?)?,
        version: r.text("version")?,
        direct_commit: r.flag("direct_commit")?,
    })
}

/// Binds a plan's [`GrayState`], after the parameters bound before.
fn bind_gray_state(
    q: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    g: GrayState,
) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
    q.bind(g.percentage)
        .bind(g.user_list)
        .bind(g.ramp)
        .bind(g.status)
        .bind(g.next_step_at)
        .bind(g.paused_at)
        .bind(g.updated_at)
        .bind(g.ended_at)
}

impl LifecycleTx for PgLifecycle<'_> {
    async fn lock_app(&mut self, app: AppId) -> Result<Option<(bool, bool)>> {
        // The app's row is the lock every lifecycle transaction of the app
        // takes first, and holds to its end.
        Ok(sqlx::query_as(
            "SELECT basic_info_approved, authenticity_verified FROM apps WHERE id = $1 FOR UPDATE",
        )
        .bind(app.0)
        .fetch_optional(&mut **self.0)
        .await?)
    }

    async fn slotted_or_target(
        &mut self,
        app: AppId,
        target: Option<PackageId>,
    ) -> Result<Vec<PackageView>> {
        let rows = sqlx::query(concat!(
            "SELECT id, state, build, version, direct_commit FROM packages WHERE app_id = $1 \
               AND (state IN ",
            slotted_states_sql!(),
            " OR id = $2)"
        ))
        .bind(app.0)
        .bind(target.map(|t| t.0).unwrap_or(-1))
        .fetch_all(&mut **self.0)
        .await?;
        rows.iter().map(to_view).collect()
    }

    async fn history(&mut self, app: AppId, all: bool) -> Result<Vec<PackageView>> {
        let rows = sqlx::query(
            "SELECT id, state, build, version, direct_commit FROM packages WHERE app_id = $1 \
               AND state = 'history' ORDER BY id DESC LIMIT $2",
        )
        .bind(app.0)
        .bind(if all { i64::MAX } else { 2 })
        .fetch_all(&mut **self.0)
        .await?;
        rows.iter().map(to_view).collect()
    }

    async fn package_view(&mut self, app: AppId, id: PackageId) -> Result<Option<PackageView>> {
        let row = sqlx::query(
            "SELECT id, state, build, version, direct_commit FROM packages WHERE id = $1 AND app_id = $2",
        )
        .bind(id.0)
        .bind(app.0)
        .fetch_optional(&mut **self.0)
        .await?;
        row.as_ref().map(to_view).transpose()
    }

    async fn retained_newer_than(&mut self, app: AppId, than: PackageId) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM packages WHERE app_id = $1 AND id > $2 \
               AND state IN ('history', 'rolled_back')",
        )
        .bind(app.0)
        .bind(than.0)
        .fetch_one(&mut **self.0)
        .await?)
    }

    async fn rollback_target_of(&mut self, package: PackageId) -> Result<Option<PackageId>> {
        let t: Option<Option<i64>> =
            sqlx::query_scalar("SELECT rollback_target FROM packages WHERE id = $1")
                .bind(package.0)
                .fetch_optional(&mut **self.0)
                .await?;
        Ok(t.flatten().map(PackageId))
    }

    async fn set_rollback_target(&mut self, package: PackageId, target: PackageId) -> Result<()> {
        sqlx::query("UPDATE packages SET rollback_target = $1 WHERE id = $2")
            .bind(target.0)
            .bind(package.0)
            .execute(&mut **self.0)
            .await?;
        Ok(())
    }

    async fn live_gray(&mut self, app: AppId) -> Result<Option<PackageId>> {
        Ok(sqlx::query_scalar(
            "SELECT package_id FROM gray_plans WHERE app_id = $1 \
               AND status IN ('running', 'paused')",
        )
        .bind(app.0)
        .fetch_optional(&mut **self.0)
        .await?
        .map(PackageId))
    }

    async fn scheduled_release(&mut self, app: AppId) -> Result<Option<(PackageId, i64)>> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT id, release_at FROM packages WHERE app_id = $1 AND release_at IS NOT NULL \
               AND state = 'audit_passed'",
        )
        .bind(app.0)
        .fetch_optional(&mut **self.0)
        .await?;
        Ok(row.map(|(p, at)| (PackageId(p), at)))
    }

    async fn clear_scheduled_release(&mut self, package: PackageId) -> Result<()> {
        sqlx::query("UPDATE packages SET release_at = NULL WHERE id = $1")
            .bind(package.0)
            .execute(&mut **self.0)
            .await?;
        Ok(())
    }

    async fn insert_audit(&mut self, e: &NewAuditEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_staging (at, actor, address, action, target, detail, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(e.at)
        .bind(&e.actor)
        .bind(&e.address)
        .bind(&e.action)
        .bind(&e.target)
        .bind(&e.detail)
        .bind(&e.outcome)
        .execute(&mut **self.0)
        .await?;
        Ok(())
    }

    async fn bump_release_seq(&mut self, app: AppId) -> Result<()> {
        sqlx::query("UPDATE apps SET release_seq = release_seq + 1 WHERE id = $1")
            .bind(app.0)
            .execute(&mut **self.0)
            .await?;
        Ok(())
    }

    async fn finish_gray(&mut self, app: AppId, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE gray_plans SET status = 'finished', percentage = 100, ramp = '[]', \
               next_step_at = NULL, paused_at = NULL, updated_at = $2, ended_at = $2 \
             WHERE app_id = $1 AND status IN ('running', 'paused')",
        )
        .bind(app.0)
        .bind(now)
        .execute(&mut **self.0)
        .await?;
        Ok(())
    }

    async fn latest_gray_plan(&mut self, app: AppId) -> Result<Option<GrayPlan>> {
        sqlx::query("SELECT * FROM gray_plans WHERE app_id = $1 ORDER BY id DESC LIMIT 1")
            .bind(app.0)
            .fetch_optional(&mut **self.0)
            .await?
            .as_ref()
            .map(gray_from_row)
            .transpose()
    }

    async fn insert_gray_plan(&mut self, plan: &GrayPlan) -> Result<i64> {
        let q = sqlx::query(
            "INSERT INTO gray_plans (app_id, package_id, created_by, created_at, percentage, \
               user_list, ramp, status, next_step_at, paused_at, updated_at, ended_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(plan.app.0)
        .bind(plan.package.0)
        .bind(&plan.created_by)
        .bind(plan.created_at);
        bind_gray_state(q, GrayState::of(plan))
            .fetch_one(&mut **self.0)
            .await?
            .int("id")
    }

    async fn update_gray_plan(&mut self, plan: &GrayPlan) -> Result<()> {
        let q = sqlx::query(
            "UPDATE gray_plans SET (percentage, user_list, ramp, status, next_step_at, paused_at, \
               updated_at, ended_at) = ($2, $3, $4, $5, $6, $7, $8, $9) WHERE id = $1",
        )
        .bind(plan.id);
        bind_gray_state(q, GrayState::of(plan))
            .execute(&mut **self.0)
            .await?;
        Ok(())
    }

    async fn insert_gray_event(&mut self, plan: &GrayPlan, now: i64) -> Result<()> {
        sqlx::query(concat!(
            "INSERT INTO events (tp_id, app_id, kind, package_id, version, reason, occurred_at, \
               status, attempts, next_attempt_at, payload) ",
            "SELECT p.tp_id, p.app_id, $1, p.id, p.version, NULL, $2, 'pending', 0, $2, $3 \
             FROM packages p JOIN tps t ON t.id = p.tp_id WHERE p.id = $4 \
               AND (',' || t.release_events || ',') LIKE ('%,' || $1 || ',%')"
        ))
        .bind(EventKind::PackageGrayRelease.as_str())
        .bind(now)
        .bind(gray_event_payload(plan))
        .bind(plan.package.0)
        .execute(&mut **self.0)
        .await?;
        Ok(())
    }

    async fn set_release_at(
        &mut self,
        package: PackageId,
        at: Option<i64>,
        now: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE packages SET release_at = $2, updated_at = $3 WHERE id = $1")
            .bind(package.0)
            .bind(at)
            .bind(now)
            .execute(&mut **self.0)
            .await?;
        Ok(())
    }

    async fn quota_uses(&mut self, app: AppId, since: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM quota_uses WHERE app_id = $1 AND at >= $2")
                .bind(app.0)
                .bind(since)
                .fetch_one(&mut **self.0)
                .await?,
        )
    }

    async fn move_package(
        &mut self,
        package: PackageId,
        from: PackageState,
        to: PackageState,
        now: i64,
    ) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE packages SET state = $1, updated_at = $2, \
               released_at = CASE WHEN $1 = 'online' THEN $2 ELSE released_at END, \
               rollback_due_at = CASE WHEN $1 = 'rolling_back' THEN rollback_due_at ELSE NULL END \
             WHERE id = $3 AND state = $4",
        )
        .bind(to.as_str())
        .bind(now)
        .bind(package.0)
        .bind(from.as_str())
        .execute(&mut **self.0)
        .await?
        .rows_affected())
    }

    async fn record_transition(&mut self, t: &TransitionRow<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO package_transitions (package_id, app_id, action, from_state, to_state, \
               actor, detail, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(t.package.0)
        .bind(t.app.0)
        .bind(t.action)
        .bind(t.from.map(PackageState::as_str))
        .bind(t.to.as_str())
        .bind(t.actor)
        .bind(t.detail)
        .bind(t.at)
        .execute(&mut **self.0)
        .await?;
        Ok(())
    }

    async fn set_build(&mut self, package: PackageId, build: BuildState, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE packages SET build = $1, build_lease_until = NULL, build_lease_owner = NULL, \
               updated_at = $2 WHERE id = $3",
        )
        .bind(build.as_str())
        .bind(now)
        .bind(package.0)
        .execute(&mut **self.0)
        .await?;
        Ok(())
    }

    async fn set_rollback_version(
        &mut self,
        package: PackageId,
        version: Option<&str>,
    ) -> Result<()> {
        sqlx::query("UPDATE packages SET rollback_version = $1 WHERE id = $2")
            .bind(version)
            .bind(package.0)
            .execute(&mut **self.0)
            .await?;
        Ok(())
    }

    async fn set_msg(&mut self, package: PackageId, msg: &str) -> Result<()> {
        sqlx::query("UPDATE packages SET msg = $1 WHERE id = $2")
            .bind(msg)
            .bind(package.0)
            .execute(&mut **self.0)
            .await?;
        Ok(())
    }

    async fn use_quota(&mut self, app: AppId, package: PackageId, now: i64) -> Result<()> {
        sqlx::query("INSERT INTO quota_uses (app_id, package_id, at) VALUES ($1, $2, $3)")
            .bind(app.0)
            .bind(package.0)
            .bind(now)
            .execute(&mut **self.0)
            .await?;
        Ok(())
    }

    async fn set_submission(&mut self, package: PackageId, sub: &Submission) -> Result<()> {
        sqlx::query(
            "UPDATE packages SET audit_content = $1, remark = $2, \
               test_account = COALESCE($3, test_account), \
               test_password = COALESCE($4, test_password) WHERE id = $5",
        )
        .bind(&sub.content)
        .bind(&sub.remark)
        .bind(&sub.test_account)
        .bind(&sub.test_password)
        .bind(package.0)
        .execute(&mut **self.0)
        .await?;
        Ok(())
    }

    async fn set_rollback_due(&mut self, package: PackageId, at: i64) -> Result<()> {
        sqlx::query("UPDATE packages SET rollback_due_at = $1 WHERE id = $2")
            .bind(at)
            .bind(package.0)
            .execute(&mut **self.0)
            .await?;
        Ok(())
    }

    async fn insert_audit_event(
        &mut self,
        kind: EventKind,
        package: PackageId,
        version: &str,
        reason: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO events (tp_id, app_id, kind, package_id, version, reason, occurred_at, \
               status, attempts, next_attempt_at) \
             SELECT tp_id, app_id, $1, id, $2, $3, $4, 'pending', 0, $4 FROM packages WHERE id = $5",
        )
        .bind(kind.as_str())
        .bind(version)
        .bind(reason)
        .bind(now)
        .bind(package.0)
        .execute(&mut **self.0)
        .await?;
        Ok(())
    }

    async fn insert_release_event(
        &mut self,
        kind: EventKind,
        package: PackageId,
        reason: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(concat!(
            "INSERT INTO events (tp_id, app_id, kind, package_id, version, reason, occurred_at, \
               status, attempts, next_attempt_at) ",
            release_event_select!("$1", "$2", "$3", "$4")
        ))
        .bind(kind.as_str())
        .bind(reason)
        .bind(now)
        .bind(package.0)
        .execute(&mut **self.0)
        .await?;
        Ok(())
    }

    async fn insert_package(&mut self, u: &NewUpload, now: i64) -> Result<PackageId> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO packages (app_id, tp_id, template_id, version, version_desc, state, build, \
               ext_json, direct_commit, test_account, test_password, committer, commit_time, \
               created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'development', 'building', $6, $7, $8, $9, $10, $11, $11, \
               $11) RETURNING id",
        )
        .bind(u.app_id.0)
        .bind(u.tp_id.0)
        .bind(u.template_id.0)
        .bind(&u.version)
        .bind(&u.version_desc)
        .bind(&u.ext_json)
        .bind(u.direct_commit)
        .bind(&u.test_account)
        .bind(&u.test_password)
        .bind(&u.committer)
        .bind(now)
        .fetch_one(&mut **self.0)
        .await?;
        Ok(PackageId(id))
    }

    async fn template_manifest(&mut self, package: PackageId) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT t.manifest FROM templates t JOIN packages p ON p.template_id = t.id \
             WHERE p.id = $1",
        )
        .bind(package.0)
        .fetch_optional(&mut **self.0)
        .await?)
    }

    async fn set_manifest(&mut self, package: PackageId, json: &str, size: i64) -> Result<()> {
        sqlx::query("UPDATE packages SET manifest = $1, size = $2 WHERE id = $3")
            .bind(json)
            .bind(size)
            .bind(package.0)
            .execute(&mut **self.0)
            .await?;
        Ok(())
    }

    async fn set_build_error(
        &mut self,
        package: PackageId,
        code: i64,
        message: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE packages SET build_error_code = $1, build_error = $2 WHERE id = $3")
            .bind(code)
            .bind(message)
            .bind(package.0)
            .execute(&mut **self.0)
            .await?;
        Ok(())
    }
}
