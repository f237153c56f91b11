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

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn insert_events(&self, events: &[NewEvent]) -> Result<()> {
        let mut tx = self.begin_write(Touches::Nothing).await?;
        for e in events {
            insert_new_event(&mut tx, e).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn count_events(&self, tp: TpId, status: EventStatus) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE tp_id = $1 AND status = $2")
                .bind(tp.0)
                .bind(status.as_str())
                .fetch_one(&self.read)
                .await?,
        )
    }

    async fn events(
        &self,
        tp: Option<TpId>,
        status: Option<EventStatus>,
        limit: i64,
    ) -> Result<Vec<EventRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM events WHERE ($1 IS NULL OR tp_id = $1) AND ($2 IS NULL OR status = $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(tp.map(|t| t.0))
        .bind(status.map(EventStatus::as_str))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn event(&self, id: i64) -> Result<Option<EventRecord>> {
        sqlx::query("SELECT * FROM events WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(event_from_row)
            .transpose()
    }

    async fn event_attempts(&self, id: i64) -> Result<Vec<AttemptRecord>> {
        let rows = sqlx::query("SELECT * FROM event_attempts WHERE event_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(attempt_from_row).collect()
    }

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

    async fn next_event_due(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM events WHERE status = 'pending'")
                .fetch_one(&self.read)
                .await?,
        )
    }

    async fn replay_event(&self, id: i64, now: i64) -> Result<bool> {
        let mut tx = self.begin_write(Touches::Nothing).await?;
        let done = sqlx::query(
            "UPDATE events SET status = 'pending', attempts = 0, next_attempt_at = $1, \
               lease_until = NULL, delivered_at = NULL WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn replay_failed(&self, tp: TpId, now: i64) -> Result<i64> {
        let mut tx = self.begin_write(Touches::Nothing).await?;
        let done = sqlx::query(
            "UPDATE events SET status = 'pending', attempts = 0, next_attempt_at = $1, \
               lease_until = NULL WHERE tp_id = $2 AND status = 'failed'",
        )
        .bind(now)
        .bind(tp.0)
        .execute(&mut **tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() as i64)
    }
}
