//! The event outbox: events, their delivery leases and the attempt log.

use super::*;

/// Enqueues an event, due at once.
async fn insert_new_event(tx: &mut Tx, e: &NewEvent) -> Result<()> {
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
    tx: &mut Tx,
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
impl OutboxStore for PgStore {
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
                .fetch_one(&self.pool)
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
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn event(&self, id: i64) -> Result<Option<EventRecord>> {
        sqlx::query("SELECT * FROM events WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(event_from_row)
            .transpose()
    }

    async fn event_attempts(&self, id: i64) -> Result<Vec<AttemptRecord>> {
        let rows = sqlx::query("SELECT * FROM event_attempts WHERE event_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(attempt_from_row).collect()
    }

    async fn claim_events(&self, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<ClaimedEvent>> {
        // SKIP LOCKED: concurrent claimers (other workers, other nodes) take
        // disjoint events without waiting for each other.
        let rows = sqlx::query(
            "UPDATE events SET lease_until = $1, lease_owner = $4, attempts = attempts + 1 \
             WHERE id IN ( \
               SELECT id FROM events WHERE status = 'pending' AND next_attempt_at <= $2 \
                 AND (lease_until IS NULL OR lease_until < $2) \
               ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING *",
        )
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .bind(crate::lease_owner::this_process())
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = rows
            .iter()
            .map(|r| {
                let event = event_from_row(r)?;
                Ok(ClaimedEvent {
                    attempt: event.attempts,
                    lease_until: now + lease_ms,
                    event,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        claimed.sort_by_key(|c| (c.event.next_attempt_at, c.event.id));
        Ok(claimed)
    }

    async fn record_attempts(&self, attempts: &[AttemptRecord], now: i64) -> Result<()> {
        let mut tx = self.begin_write(Touches::Nothing).await?;
        for a in attempts {
            if a.outcome == AttemptOutcome::Undeliverable {
                // No request was made: no attempt row, and the claim's count
                // of the attempt is given back, so holding costs no retry.
                sqlx::query(
                    "UPDATE events SET status = 'undeliverable', lease_until = NULL, \
                       attempts = attempts - 1, last_error = $1 \
                     WHERE id = $2 AND status = 'pending' AND lease_until = $3",
                )
                .bind(&a.error)
                .bind(a.event_id)
                .bind(a.lease_until)
                .execute(&mut **tx)
                .await?;
                continue;
            }
            sqlx::query(
                "INSERT INTO event_attempts (event_id, attempt, url, started_at, duration_ms, \
                   status_code, response_body, error, outcome) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(a.event_id)
            .bind(a.attempt)
            .bind(&a.url)
            .bind(a.started_at)
            .bind(a.duration_ms)
            .bind(a.status_code)
            .bind(&a.response_body)
            .bind(&a.error)
            .bind(a.outcome.as_str())
            .execute(&mut **tx)
            .await?;
            let (status, next, delivered) = match a.outcome {
                AttemptOutcome::Delivered => ("delivered", None, Some(now)),
                AttemptOutcome::Retry { next_attempt_at } => {
                    ("pending", Some(next_attempt_at), None)
                }
                AttemptOutcome::Failed => ("failed", None, None),
                AttemptOutcome::Undeliverable => unreachable!("handled above"),
            };
            let error = a.error.clone().or_else(|| {
                a.status_code
                    .map(|c| format!("HTTP {c}: {}", a.response_body.as_deref().unwrap_or("")))
            });
            // Only the lease this attempt was made under may settle the
            // event: a worker whose lease ran out lost it to another.
            sqlx::query(
                "UPDATE events SET status = $1, lease_until = NULL, \
                   next_attempt_at = COALESCE($2, next_attempt_at), delivered_at = $3, \
                   last_error = CASE WHEN $1 = 'delivered' THEN NULL ELSE $4 END \
                 WHERE id = $5 AND status = 'pending' AND lease_until = $6",
            )
            .bind(status)
            .bind(next)
            .bind(delivered)
            .bind(error)
            .bind(a.event_id)
            .bind(a.lease_until)
            .execute(&mut **tx)
            .await?;
        }
        tx.commit().await
    }

    async fn next_event_due(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM events WHERE status = 'pending'")
                .fetch_one(&self.pool)
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
