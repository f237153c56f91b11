//! The event outbox: events, their delivery leases and the attempt log.

use super::*;

/// Enqueues an event, due at once.
async fn insert_new_event(tx: &mut Tx<'_>, e: &NewEvent) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (tp_id, app_id, kind, target, payload, occurred_at, status, attempts, \
           next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $6)",
    )
    .bind(e.tp_id.0)
    .bind(e.app_id.map(|a| a.0))
    .bind(e.kind.as_str())
    .bind(e.target.as_str())
    .bind(&e.payload)
    .bind(e.occurred_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Enqueues an event for the TP's authorization-event URL.
pub(super) async fn insert_auth_event(
    tx: &mut Tx<'_>,
    tp: TpId,
    app: Option<AppId>,
    kind: EventKind,
    payload: &str,
    now: i64,
) -> Result<()> {
    let event = NewEvent {
        tp_id: tp,
        app_id: app,
        kind,
        target: EventTarget::Auth,
        payload: Some(payload.to_owned()),
        occurred_at: now,
    };
    insert_new_event(tx, &event).await
}

outbox_store!(SqliteStore, {
    async fn claim_events(&self, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<ClaimedEvent>> {
        let ids = self
            .commits
            .run(move |conn| lifecycle_sql::claim_events(conn, now, lease_ms, limit))
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // The claim is committed: read the events whole. Only those still
        // under this lease: one replayed in between has lost it (and will
        // be claimed again), as if the claim had never taken it.
        let rows = sqlx::query(
            "SELECT * FROM events WHERE id IN (SELECT value FROM json_each($1)) \
               AND status = 'pending' AND lease_until = $2 \
             ORDER BY next_attempt_at, id",
        )
        .bind(serde_json::to_string(&ids).expect("ids serialize"))
        .bind(now + lease_ms)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let event = event_from_row(r)?;
                Ok(ClaimedEvent {
                    attempt: event.attempts,
                    lease_until: now + lease_ms,
                    event,
                })
            })
            .collect()
    }

    async fn record_attempts(&self, attempts: &[AttemptRecord], now: i64) -> Result<()> {
        let attempts = attempts.to_vec();
        self.commits
            .run(move |conn| lifecycle_sql::record_attempts(conn, &attempts, now))
            .await
    }
});
