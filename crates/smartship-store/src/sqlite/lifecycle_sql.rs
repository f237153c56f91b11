//! SQLite's primitives for the lifecycle transactions (`lifecycle_flow`),
//! and the workers' claims and attempt records, as run on the group-commit
//! writer thread with its synchronous connection. Statements are prepared
//! once per connection (`prepare_cached`); a literal for each, so that the
//! statement cache finds it without formatting it.
//!
//! SQLite has one writer: the group-commit batch that runs these holds the
//! database's write lock, which is the app lock of `LifecycleTx::lock_app`.

use crate::Result;
use crate::lifecycle_flow::{LifecycleTx, TransitionRow};
use crate::model::*;
use crate::rows::{GrayState, build_of, gray_event_payload, gray_from_row, state_of};
use rusqlite::{Connection, OptionalExtension, params};
use smartship_core::gray::GrayPlan;
use smartship_core::lifecycle::{BuildState, PackageState, PackageView};
use smartship_core::{AppId, PackageId};

thread_local! {
    /// Audit entries of the writer thread's current batch, written just
    /// before it commits (only the writer thread runs lifecycle jobs).
    static DEFERRED_AUDIT: std::cell::RefCell<Vec<NewAuditEntry>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// How many audit entries the current batch holds: a job that is rolled
/// back drops those it added ([`drop_audit_since`]).
pub(crate) fn audit_mark() -> usize {
    DEFERRED_AUDIT.with(|d| d.borrow().len())
}

pub(crate) fn drop_audit_since(mark: usize) {
    DEFERRED_AUDIT.with(|d| d.borrow_mut().truncate(mark));
}

/// Writes the batch's audit entries, in the batch's transaction, a
/// multi-row statement per 100 (7 parameters each, far below SQLite's
/// limit). Called just before the commit; what fails fails the batch.
pub(crate) fn flush_audit(conn: &Connection) -> rusqlite::Result<()> {
    let entries = DEFERRED_AUDIT.with(|d| std::mem::take(&mut *d.borrow_mut()));
    for chunk in entries.chunks(100) {
        let mut sql = String::from(
            "INSERT INTO audit_staging (at, actor, address, action, target, detail, outcome) VALUES ",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            let b = i * 7;
            sql.push_str(&format!(
                "(?{},?{},?{},?{},?{},?{},?{})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7
            ));
        }
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 7);
        for e in chunk {
            values.extend([
                &e.at as &dyn rusqlite::ToSql,
                &e.actor,
                &e.address,
                &e.action,
                &e.target,
                &e.detail,
                &e.outcome,
            ]);
        }
        stmt.execute(values.as_slice())?;
    }
    Ok(())
}

/// Forgets the batch's audit entries (the batch failed).
pub(crate) fn discard_audit() {
    DEFERRED_AUDIT.with(|d| d.borrow_mut().clear());
}

const INSERT_GRAY_PLAN: &str = "INSERT INTO gray_plans (app_id, package_id, created_by, created_at, \
     percentage, user_list, ramp, status, next_step_at, paused_at, updated_at, ended_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING id";

/// A plan's [`GrayState`], in order.
fn gray_state_params(g: &GrayState) -> [&dyn rusqlite::ToSql; 8] {
    [
        &g.percentage,
        &g.user_list,
        &g.ramp,
        &g.status,
        &g.next_step_at,
        &g.paused_at,
        &g.updated_at,
        &g.ended_at,
    ]
}

/// The writer thread's connection, inside its batch's transaction.
pub(super) struct SqliteLifecycle<'c>(pub(super) &'c Connection);

const SLOTTED_OR_TARGET: &str = concat!(
    "SELECT id, state, build, version, direct_commit FROM packages WHERE app_id = ?1 AND (state IN ",
    slotted_states_sql!(),
    " OR id = ?2)"
);

type ViewRow = (i64, String, String, String, bool);

fn view(row: &rusqlite::Row<'_>) -> rusqlite::Result<ViewRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn to_view((id, state, build, version, direct_commit): ViewRow) -> Result<PackageView> {
    Ok(PackageView {
        id: PackageId(id),
        state: state_of(&state)?,
        build: build_of(&build)?,
        version,
        direct_commit,
    })
}

impl LifecycleTx for SqliteLifecycle<'_> {
    async fn lock_app(&mut self, app: AppId) -> Result<Option<(bool, bool)>> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT basic_info_approved, authenticity_verified FROM apps WHERE id = ?1",
            )?
            .query_row([app.0], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    async fn slotted_or_target(
        &mut self,
        app: AppId,
        target: Option<PackageId>,
    ) -> Result<Vec<PackageView>> {
        let mut stmt = self.0.prepare_cached(SLOTTED_OR_TARGET)?;
        let rows = stmt.query_map(params![app.0, target.map(|t| t.0).unwrap_or(-1)], view)?;
        rows.map(|r| to_view(r?)).collect()
    }

    async fn history(&mut self, app: AppId, all: bool) -> Result<Vec<PackageView>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT id, state, build, version, direct_commit FROM packages WHERE app_id = ?1 \
               AND state = 'history' \
             ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![app.0, if all { i64::MAX } else { 2 }], view)?;
        rows.map(|r| to_view(r?)).collect()
    }

    async fn package_view(&mut self, app: AppId, id: PackageId) -> Result<Option<PackageView>> {
        self.0
            .prepare_cached(
                "SELECT id, state, build, version, direct_commit FROM packages \
                 WHERE id = ?1 AND app_id = ?2",
            )?
            .query_row(params![id.0, app.0], view)
            .optional()?
            .map(to_view)
            .transpose()
    }

    async fn retained_newer_than(&mut self, app: AppId, than: PackageId) -> Result<i64> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT COUNT(*) FROM packages WHERE app_id = ?1 AND id > ?2 \
                   AND state IN ('history', 'rolled_back')",
            )?
            .query_row(params![app.0, than.0], |r| r.get(0))?)
    }

    async fn rollback_target_of(&mut self, package: PackageId) -> Result<Option<PackageId>> {
        let t: Option<Option<i64>> = self
            .0
            .prepare_cached("SELECT rollback_target FROM packages WHERE id = ?1")?
            .query_row([package.0], |r| r.get(0))
            .optional()?;
        Ok(t.flatten().map(PackageId))
    }

    async fn set_rollback_target(&mut self, package: PackageId, target: PackageId) -> Result<()> {
        self.0
            .prepare_cached("UPDATE packages SET rollback_target = ?1 WHERE id = ?2")?
            .execute(params![target.0, package.0])?;
        Ok(())
    }

    async fn live_gray(&mut self, app: AppId) -> Result<Option<PackageId>> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT package_id FROM gray_plans WHERE app_id = ?1 \
                   AND status IN ('running', 'paused')",
            )?
            .query_row([app.0], |r| r.get(0))
            .optional()?
            .map(PackageId))
    }

    async fn scheduled_release(&mut self, app: AppId) -> Result<Option<(PackageId, i64)>> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT id, release_at FROM packages WHERE app_id = ?1 AND release_at IS NOT NULL \
                   AND state = 'audit_passed'",
            )?
            .query_row([app.0], |r| Ok((PackageId(r.get(0)?), r.get(1)?)))
            .optional()?)
    }

    async fn clear_scheduled_release(&mut self, package: PackageId) -> Result<()> {
        self.0
            .prepare_cached("UPDATE packages SET release_at = NULL WHERE id = ?1")?
            .execute([package.0])?;
        Ok(())
    }

    async fn finish_gray(&mut self, app: AppId, now: i64) -> Result<()> {
        self.0
            .prepare_cached(
                "UPDATE gray_plans SET status = 'finished', percentage = 100, ramp = '[]', \
                   next_step_at = NULL, paused_at = NULL, updated_at = ?2, ended_at = ?2 \
                 WHERE app_id = ?1 AND status IN ('running', 'paused')",
            )?
            .execute(params![app.0, now])?;
        Ok(())
    }

    async fn latest_gray_plan(&mut self, app: AppId) -> Result<Option<GrayPlan>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT * FROM gray_plans WHERE app_id = ?1 ORDER BY id DESC LIMIT 1",
        )?;
        let mut rows = stmt.query([app.0])?;
        rows.next()?.map(gray_from_row).transpose()
    }

    async fn insert_gray_plan(&mut self, plan: &GrayPlan) -> Result<i64> {
        let g = GrayState::of(plan);
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![
            &plan.app.0,
            &plan.package.0,
            &plan.created_by,
            &plan.created_at,
        ];
        values.extend(gray_state_params(&g));
        Ok(self
            .0
            .prepare_cached(INSERT_GRAY_PLAN)?
            .query_row(values.as_slice(), |r| r.get(0))?)
    }

    async fn update_gray_plan(&mut self, plan: &GrayPlan) -> Result<()> {
        let g = GrayState::of(plan);
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&plan.id];
        values.extend(gray_state_params(&g));
        self.0
            .prepare_cached(
                "UPDATE gray_plans SET (percentage, user_list, ramp, status, next_step_at, \
                   paused_at, updated_at, ended_at) = (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) WHERE id = ?1",
            )?
            .execute(values.as_slice())?;
        Ok(())
    }

    async fn insert_gray_event(&mut self, plan: &GrayPlan, now: i64) -> Result<()> {
        self.0
            .prepare_cached(concat!(
                "INSERT INTO events (tp_id, app_id, kind, package_id, version, reason, occurred_at, \
                   status, attempts, next_attempt_at, payload) ",
                "SELECT p.tp_id, p.app_id, ?1, p.id, p.version, NULL, ?2, 'pending', 0, ?2, ?3 \
                 FROM packages p JOIN tps t ON t.id = p.tp_id WHERE p.id = ?4 \
                   AND (',' || t.release_events || ',') LIKE ('%,' || ?1 || ',%')"
            ))?
            .execute(params![
                EventKind::PackageGrayRelease.as_str(),
                now,
                gray_event_payload(plan),
                plan.package.0
            ])?;
        Ok(())
    }

    async fn set_release_at(
        &mut self,
        package: PackageId,
        at: Option<i64>,
        now: i64,
    ) -> Result<()> {
        self.0
            .prepare_cached("UPDATE packages SET release_at = ?2, updated_at = ?3 WHERE id = ?1")?
            .execute(params![package.0, at, now])?;
        Ok(())
    }

    async fn insert_audit(&mut self, e: &NewAuditEntry) -> Result<()> {
        // Written with the batch's other entries just before its commit
        // (`flush_audit`): one statement for all of them instead of one
        // each on the writer thread, which every transition waits for.
        DEFERRED_AUDIT.with(|d| d.borrow_mut().push(e.clone()));
        Ok(())
    }

    async fn bump_release_seq(&mut self, app: AppId) -> Result<()> {
        self.0
            .prepare_cached("UPDATE apps SET release_seq = release_seq + 1 WHERE id = ?1")?
            .execute(params![app.0])?;
        Ok(())
    }

    async fn quota_uses(&mut self, app: AppId, since: i64) -> Result<i64> {
        Ok(self
            .0
            .prepare_cached("SELECT COUNT(*) FROM quota_uses WHERE app_id = ?1 AND at >= ?2")?
            .query_row(params![app.0, since], |r| r.get(0))?)
    }

    async fn move_package(
        &mut self,
        package: PackageId,
        from: PackageState,
        to: PackageState,
        now: i64,
    ) -> Result<u64> {
        Ok(self
            .0
            .prepare_cached(
                "UPDATE packages SET state = ?1, updated_at = ?2, \
                   released_at = CASE WHEN ?1 = 'online' THEN ?2 ELSE released_at END, \
                   rollback_due_at = CASE WHEN ?1 = 'rolling_back' THEN rollback_due_at ELSE NULL END \
                 WHERE id = ?3 AND state = ?4",
            )?
            .execute(params![to.as_str(), now, package.0, from.as_str()])? as u64)
    }

    async fn record_transition(&mut self, t: &TransitionRow<'_>) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO package_transitions (package_id, app_id, action, from_state, \
                   to_state, actor, detail, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                t.package.0,
                t.app.0,
                t.action,
                t.from.map(PackageState::as_str),
                t.to.as_str(),
                t.actor,
                t.detail,
                t.at
            ])?;
        Ok(())
    }

    async fn set_build(&mut self, package: PackageId, build: BuildState, now: i64) -> Result<()> {
        self.0
            .prepare_cached(
                "UPDATE packages SET build = ?1, build_lease_until = NULL, updated_at = ?2 \
                 WHERE id = ?3",
            )?
            .execute(params![build.as_str(), now, package.0])?;
        Ok(())
    }

    async fn set_rollback_version(
        &mut self,
        package: PackageId,
        version: Option<&str>,
    ) -> Result<()> {
        self.0
            .prepare_cached("UPDATE packages SET rollback_version = ?1 WHERE id = ?2")?
            .execute(params![version, package.0])?;
        Ok(())
    }

    async fn set_msg(&mut self, package: PackageId, msg: &str) -> Result<()> {
        self.0
            .prepare_cached("UPDATE packages SET msg = ?1 WHERE id = ?2")?
            .execute(params![msg, package.0])?;
        Ok(())
    }

    async fn use_quota(&mut self, app: AppId, package: PackageId, now: i64) -> Result<()> {
        self.0
            .prepare_cached("INSERT INTO quota_uses (app_id, package_id, at) VALUES (?1, ?2, ?3)")?
            .execute(params![app.0, package.0, now])?;
        Ok(())
    }

    async fn set_submission(&mut self, package: PackageId, sub: &Submission) -> Result<()> {
        self.0
            .prepare_cached(
                "UPDATE packages SET audit_content = ?1, remark = ?2, \
                   test_account = COALESCE(?3, test_account), \
                   test_password = COALESCE(?4, test_password) WHERE id = ?5",
            )?
            .execute(params![
                sub.content,
                sub.remark,
                sub.test_account,
                sub.test_password,
                package.0
            ])?;
        Ok(())
    }

    async fn set_rollback_due(&mut self, package: PackageId, at: i64) -> Result<()> {
        self.0
            .prepare_cached("UPDATE packages SET rollback_due_at = ?1 WHERE id = ?2")?
            .execute(params![at, package.0])?;
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
        self.0
            .prepare_cached(
                "INSERT INTO events (tp_id, app_id, kind, package_id, version, reason, occurred_at, \
                   status, attempts, next_attempt_at) \
                 SELECT tp_id, app_id, ?1, id, ?2, ?3, ?4, 'pending', 0, ?4 FROM packages WHERE id = ?5",
            )?
            .execute(params![kind.as_str(), version, reason, now, package.0])?;
        Ok(())
    }

    async fn insert_release_event(
        &mut self,
        kind: EventKind,
        package: PackageId,
        reason: Option<&str>,
        now: i64,
    ) -> Result<()> {
        self.0
            .prepare_cached(concat!(
                "INSERT INTO events (tp_id, app_id, kind, package_id, version, reason, occurred_at, \
                   status, attempts, next_attempt_at) ",
                release_event_select!("?1", "?2", "?3", "?4")
            ))?
            .execute(params![kind.as_str(), reason, now, package.0])?;
        Ok(())
    }

    async fn insert_package(&mut self, u: &NewUpload, now: i64) -> Result<PackageId> {
        let id: i64 = self
            .0
            .prepare_cached(
                "INSERT INTO packages (app_id, tp_id, template_id, version, version_desc, state, \
                   build, ext_json, direct_commit, test_account, test_password, committer, \
                   commit_time, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'development', 'building', ?6, ?7, ?8, ?9, ?10, ?11, \
                   ?11, ?11) \
                 RETURNING id",
            )?
            .query_row(
                params![
                    u.app_id.0,
                    u.tp_id.0,
                    u.template_id.0,
                    u.version,
                    u.version_desc,
                    u.ext_json,
                    u.direct_commit,
                    u.test_account,
                    u.test_password,
                    u.committer,
                    now
                ],
                |r| r.get(0),
            )?;
        Ok(PackageId(id))
    }

    async fn template_manifest(&mut self, package: PackageId) -> Result<Option<String>> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT t.manifest FROM templates t JOIN packages p ON p.template_id = t.id \
                 WHERE p.id = ?1",
            )?
            .query_row([package.0], |r| r.get(0))
            .optional()?)
    }

    async fn set_manifest(&mut self, package: PackageId, json: &str, size: i64) -> Result<()> {
        self.0
            .prepare_cached("UPDATE packages SET manifest = ?1, size = ?2 WHERE id = ?3")?
            .execute(params![json, size, package.0])?;
        Ok(())
    }

    async fn set_build_error(
        &mut self,
        package: PackageId,
        code: i64,
        message: &str,
    ) -> Result<()> {
        self.0
            .prepare_cached(
                "UPDATE packages SET build_error_code = ?1, build_error = ?2 WHERE id = ?3",
            )?
            .execute(params![code, message, package.0])?;
        Ok(())
    }
}

/// Leases the oldest unleased building package to a build worker.
pub(crate) fn claim_build(conn: &Connection, now: i64, lease_ms: i64) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "UPDATE packages SET build_lease_until = ?1, build_lease_owner = ?3 WHERE id = ( \
               SELECT id FROM packages WHERE build = 'building' AND state = 'development' \
                 AND (build_lease_until IS NULL OR build_lease_until < ?2) ORDER BY id LIMIT 1) \
             RETURNING id",
        )?
        .query_row(
            params![now + lease_ms, now, crate::lease_owner::this_process()],
            |r| r.get(0),
        )
        .optional()?)
}

/// Leases up to `limit` due events to the delivery worker; their ids.
pub(crate) fn claim_events(
    conn: &Connection,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<i64>> {
    let mut claim = conn.prepare_cached(
        "UPDATE events SET lease_until = ?1, lease_owner = ?4, attempts = attempts + 1 WHERE id IN ( \
           SELECT id FROM events WHERE status = 'pending' AND next_attempt_at <= ?2 \
             AND (lease_until IS NULL OR lease_until < ?2) \
           ORDER BY next_attempt_at, id LIMIT ?3) \
         RETURNING id",
    )?;
    let ids = claim
        .query_map(
            params![
                now + lease_ms,
                now,
                limit,
                crate::lease_owner::this_process()
            ],
            |r| r.get(0),
        )?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

/// Records delivery attempts and moves their events on.
pub(crate) fn record_attempts(
    conn: &Connection,
    attempts: &[AttemptRecord],
    now: i64,
) -> Result<()> {
    for a in attempts {
        if a.outcome == AttemptOutcome::Undeliverable {
            // No request was made: no attempt row, and the claim's count of
            // the attempt is given back, so holding costs no retry.
            conn.prepare_cached(
                "UPDATE events SET status = 'undeliverable', lease_until = NULL, \
                   attempts = attempts - 1, last_error = ?1 \
                 WHERE id = ?2 AND status = 'pending' AND lease_until = ?3",
            )?
            .execute(params![a.error, a.event_id, a.lease_until])?;
            continue;
        }
        conn.prepare_cached(
            "INSERT INTO event_attempts (event_id, attempt, url, started_at, duration_ms, \
               status_code, response_body, error, outcome) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            a.event_id,
            a.attempt,
            a.url,
            a.started_at,
            a.duration_ms,
            a.status_code,
            a.response_body,
            a.error,
            a.outcome.as_str()
        ])?;
        let (status, next, delivered) = match a.outcome {
            AttemptOutcome::Delivered => ("delivered", None, Some(now)),
            AttemptOutcome::Retry { next_attempt_at } => ("pending", Some(next_attempt_at), None),
            AttemptOutcome::Failed => ("failed", None, None),
            AttemptOutcome::Undeliverable => unreachable!("handled above"),
        };
        let error = a.error.clone().or_else(|| {
            a.status_code
                .map(|c| format!("HTTP {c}: {}", a.response_body.as_deref().unwrap_or("")))
        });
        // Only the lease this attempt was made under may settle the event:
        // a worker whose lease ran out lost it to another.
        conn.prepare_cached(
            "UPDATE events SET status = ?1, lease_until = NULL, \
               next_attempt_at = COALESCE(?2, next_attempt_at), delivered_at = ?3, \
               last_error = CASE WHEN ?1 = 'delivered' THEN NULL ELSE ?4 END \
             WHERE id = ?5 AND status = 'pending' AND lease_until = ?6",
        )?
        .execute(params![
            status,
            next,
            delivered,
            error,
            a.event_id,
            a.lease_until
        ])?;
    }
    Ok(())
}
