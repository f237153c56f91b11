//! The event outbox: events, their delivery leases and the attempt log.

use super::*;

event_inserts!();

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
            .map(|r| claimed_from_row(r, now + lease_ms))
            .collect()
    }

    async fn record_attempts(&self, attempts: &[AttemptRecord], now: i64) -> Result<()> {
        let attempts = attempts.to_vec();
        self.commits
            .run(move |conn| lifecycle_sql::record_attempts(conn, &attempts, now))
            .await
    }
});
