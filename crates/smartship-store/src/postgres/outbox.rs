//! The event outbox: events, their delivery leases and the attempt log.

use super::*;

event_inserts!();

outbox_store!(PgStore, {
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
            .map(|r| claimed_from_row(r, now + lease_ms))
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
});
