//! The hot write transactions of the SQLite store, as run on the
//! group-commit writer thread (see `group_commit`): uploads, lifecycle
//! transitions, build results, and the claims and attempt records of the
//! build and delivery workers.
//!
//! Each function reads what it decides on inside the same transaction it
//! writes in, so decisions never act on a stale view; the rules themselves
//! are `smartship_core::lifecycle::decide`. Statements are prepared once per
//! connection (`prepare_cached`).

use crate::model::*;
use crate::sqlite::{StoredPackageManifest, build_of, manifest_of, state_of};
use crate::{Decision, Result, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use smartship_core::lifecycle::{
    self, Action, AppSnapshot, AuditEvent, Effects, PackageState, PackageView,
};
use smartship_core::{AppId, PackageId};

/// The app's packages in a slot, and the action's target whatever its state.
/// A literal, so that the statement cache finds it without formatting it.
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

/// What `decide` needs to know about the app, read inside the transaction.
fn snapshot(
    conn: &Connection,
    app: AppId,
    target: Option<PackageId>,
    needs_quota: bool,
    ctx: &ActionContext,
) -> Result<Option<AppSnapshot>> {
    let Some((basic_info_approved, authenticity_verified)) = conn
        .prepare_cached(
            "SELECT basic_info_approved, authenticity_verified FROM apps WHERE id = ?1",
        )?
        .query_row([app.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
    else {
        return Ok(None);
    };
    let mut snap = AppSnapshot {
        basic_info_approved,
        authenticity_verified,
        ..Default::default()
    };
    let mut slotted = conn.prepare_cached(SLOTTED_OR_TARGET)?;
    let rows = slotted.query_map(params![app.0, target.map(|t| t.0).unwrap_or(-1)], view)?;
    for row in rows {
        let view = to_view(row?)?;
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
    let mut history = conn.prepare_cached(
        "SELECT id, state, build, version, direct_commit FROM packages WHERE app_id = ?1 \
           AND state = 'history' \
         ORDER BY id DESC LIMIT 2",
    )?;
    snap.history = history
        .query_map([app.0], view)?
        .map(|r| to_view(r?))
        .collect::<Result<_>>()?;
    if let Some(q) = ctx.quota.filter(|_| needs_quota) {
        let used: i64 = conn
            .prepare_cached("SELECT COUNT(*) FROM quota_uses WHERE app_id = ?1 AND at >= ?2")?
            .query_row(params![app.0, q.period_start], |r| r.get(0))?;
        snap.quota_remaining = Some(q.limit - used);
    }
    Ok(Some(snap))
}

#[allow(clippy::too_many_arguments)]
fn record_transition(
    conn: &Connection,
    package: PackageId,
    app: AppId,
    action: &str,
    from: Option<PackageState>,
    to: PackageState,
    ctx: &ActionContext,
    detail: &str,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO package_transitions (package_id, app_id, action, from_state, to_state, actor, \
           detail, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        package.0,
        app.0,
        action,
        from.map(PackageState::as_str),
        to.as_str(),
        ctx.actor,
        detail,
        ctx.now
    ])?;
    Ok(())
}

/// Writes what `decide` said an action does.
fn write_effects(
    conn: &Connection,
    app: AppId,
    target: Option<PackageId>,
    action: &Action,
    fx: &Effects,
    ctx: &ActionContext,
) -> Result<()> {
    let detail = match action {
        Action::Review(lifecycle::Verdict::Fail { reason }) => reason.clone(),
        _ => String::new(),
    };
    for t in &fx.transitions {
        let done = conn
            .prepare_cached(
                "UPDATE packages SET state = ?1, updated_at = ?2, \
                   released_at = CASE WHEN ?1 = 'online' THEN ?2 ELSE released_at END, \
                   rollback_due_at = CASE WHEN ?1 = 'rolling_back' THEN rollback_due_at ELSE NULL END \
                 WHERE id = ?3 AND state = ?4",
            )?
            .execute(params![
                t.to.as_str(),
                ctx.now,
                t.package.0,
                t.from.as_str()
            ])?;
        if done != 1 {
            return Err(StoreError::Conflict(format!(
                "package {} was not {:?}",
                t.package, t.from
            )));
        }
        record_transition(
            conn,
            t.package,
            app,
            action.name(),
            Some(t.from),
            t.to,
            ctx,
            &detail,
        )?;
    }
    let Some(target) = target else {
        return Ok(());
    };
    if let Some(b) = fx.build {
        conn.prepare_cached(
            "UPDATE packages SET build = ?1, build_lease_until = NULL, updated_at = ?2 WHERE id = ?3",
        )?
        .execute(params![b.as_str(), ctx.now, target.0])?;
    }
    if let Some((pkg, version)) = &fx.rollback_version {
        conn.prepare_cached("UPDATE packages SET rollback_version = ?1 WHERE id = ?2")?
            .execute(params![version.as_deref(), pkg.0])?;
    }
    if let Some(msg) = &fx.audit_msg {
        conn.prepare_cached("UPDATE packages SET msg = ?1 WHERE id = ?2")?
            .execute(params![msg, target.0])?;
    }
    if fx.consume_quota {
        conn.prepare_cached("INSERT INTO quota_uses (app_id, package_id, at) VALUES (?1, ?2, ?3)")?
            .execute(params![app.0, target.0, ctx.now])?;
    }
    if let (Action::SubmitAudit, Some(sub)) = (action, &ctx.submission) {
        conn.prepare_cached(
            "UPDATE packages SET audit_content = ?1, remark = ?2, \
               test_account = COALESCE(?3, test_account), \
               test_password = COALESCE(?4, test_password) WHERE id = ?5",
        )?
        .execute(params![
            sub.content,
            sub.remark,
            sub.test_account,
            sub.test_password,
            target.0
        ])?;
    }
    if fx.start_rollback_timer {
        conn.prepare_cached("UPDATE packages SET rollback_due_at = ?1 WHERE id = ?2")?
            .execute(params![ctx.now + ctx.rollback_delay_ms, target.0])?;
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
        conn.prepare_cached(
            "INSERT INTO events (tp_id, app_id, kind, package_id, version, reason, occurred_at, \
               status, attempts, next_attempt_at) \
             SELECT tp_id, app_id, ?1, id, ?2, ?3, ?4, 'pending', 0, ?4 FROM packages WHERE id = ?5",
        )?
        .execute(params![kind.as_str(), version, reason, ctx.now, package.0])?;
    }
    Ok(())
}

/// Decides `action` on `package` and writes its effects.
pub(crate) fn apply(
    conn: &Connection,
    app: AppId,
    package: PackageId,
    action: &Action,
    ctx: &ActionContext,
) -> Result<Decision> {
    let needs_quota = matches!(action, Action::SubmitAudit);
    let Some(snap) = snapshot(conn, app, Some(package), needs_quota, ctx)? else {
        return Ok(Err(lifecycle::Refusal::PackageNotFound));
    };
    match lifecycle::decide(&snap, action) {
        Err(refusal) => Ok(Err(refusal)),
        Ok(fx) => {
            write_effects(conn, app, Some(package), action, &fx, ctx)?;
            Ok(Ok(fx))
        }
    }
}

/// A new development package, building.
pub(crate) fn create_upload(
    conn: &Connection,
    u: &NewUpload,
    ctx: &ActionContext,
) -> Result<std::result::Result<PackageId, lifecycle::Refusal>> {
    let Some(snap) = snapshot(conn, u.app_id, None, u.direct_commit, ctx)? else {
        return Ok(Err(lifecycle::Refusal::PackageNotFound));
    };
    let action = Action::Upload {
        direct_commit: u.direct_commit,
    };
    let fx = match lifecycle::decide(&snap, &action) {
        Ok(fx) => fx,
        Err(r) => return Ok(Err(r)),
    };
    write_effects(conn, u.app_id, None, &action, &fx, ctx)?;
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO packages (app_id, tp_id, template_id, version, version_desc, state, build, \
               ext_json, direct_commit, test_account, test_password, committer, commit_time, \
               created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'development', 'building', ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?11) \
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
                ctx.now
            ],
            |r| r.get(0),
        )?;
    record_transition(
        conn,
        PackageId(id),
        u.app_id,
        "upload",
        None,
        PackageState::Development,
        ctx,
        "",
    )?;
    Ok(Ok(PackageId(id)))
}

/// Records a build's result, then applies the follow-up the decision names
/// (a built `directCommit` package is submitted).
pub(crate) fn finish_build(
    conn: &Connection,
    app: AppId,
    package: PackageId,
    outcome: &BuildOutcome,
    ctx: &ActionContext,
) -> Result<Decision> {
    let action = match outcome {
        BuildOutcome::Built { .. } => Action::BuildSucceeded,
        BuildOutcome::Failed { .. } => Action::BuildFailed,
    };
    let decision = apply(conn, app, package, &action, ctx)?;
    let Ok(effects) = &decision else {
        return Ok(decision);
    };
    let follow_up = effects.follow_up.clone();
    match outcome {
        BuildOutcome::Built { manifest } => {
            // Templates are only ever soft-deleted, so the base of the delta
            // stays readable for as long as the package exists.
            let template: Option<String> = conn
                .prepare_cached(
                    "SELECT t.manifest FROM templates t JOIN packages p ON p.template_id = t.id \
                     WHERE p.id = ?1",
                )?
                .query_row([package.0], |r| r.get(0))
                .optional()?;
            let stored = match template.as_deref().map(manifest_of).transpose()? {
                Some(base) => StoredPackageManifest::Delta {
                    template_delta: manifest.delta_from(&base),
                },
                None => StoredPackageManifest::Full(manifest.clone()),
            };
            conn.prepare_cached("UPDATE packages SET manifest = ?1, size = ?2 WHERE id = ?3")?
                .execute(params![
                    serde_json::to_string(&stored).expect("manifests always serialize"),
                    manifest.total_size() as i64,
                    package.0
                ])?;
            if let Some(next) = &follow_up
                && let Err(refusal) = apply(conn, app, package, next, ctx)?
            {
                // The package stays in development, built; msg says why it
                // was not submitted.
                conn.prepare_cached("UPDATE packages SET msg = ?1 WHERE id = ?2")?
                    .execute(params![
                        format!("directCommit 未能自动送审: {refusal}"),
                        package.0
                    ])?;
            }
        }
        BuildOutcome::Failed { code, message } => {
            conn.prepare_cached(
                "UPDATE packages SET build_error_code = ?1, build_error = ?2 WHERE id = ?3",
            )?
            .execute(params![code, message, package.0])?;
        }
    }
    Ok(decision)
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
