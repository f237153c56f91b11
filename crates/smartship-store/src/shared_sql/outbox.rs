//! Events and their delivery attempts: the methods whose SQL both backends run
//! as it is.

/// Expands, in a backend's module (where `Tx` is its transaction), to the
/// helpers that enqueue an event inside a write: the same SQL on both.
macro_rules! event_inserts {
    () => {
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
    };
}

/// Expands to `impl OutboxStore for $store`: the methods below, written once
/// for both backends (`insert_events`, `count_events`, `events`, `event`,
/// `event_attempts`, `next_event_due`, `replay_event`, `replay_failed`), and
/// `$own`, the methods a backend writes itself — the delivery claims and the
/// attempt records. Names in the bodies (row decoders, `Touches`,
/// `package_cols!`) are the expanding backend's; `self.reads()` is its pool for
/// reads.
macro_rules! outbox_store {
    ($store:ty, { $($own:tt)* }) => {
        #[async_trait]
        impl OutboxStore for $store {
            $($own)*

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
                        .fetch_one(self.reads())
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
                .fetch_all(self.reads())
                .await?;
                rows.iter().map(event_from_row).collect()
            }

            async fn event(&self, id: i64) -> Result<Option<EventRecord>> {
                sqlx::query("SELECT * FROM events WHERE id = $1")
                    .bind(id)
                    .fetch_optional(self.reads())
                    .await?
                    .as_ref()
                    .map(event_from_row)
                    .transpose()
            }

            async fn event_attempts(&self, id: i64) -> Result<Vec<AttemptRecord>> {
                let rows = sqlx::query("SELECT * FROM event_attempts WHERE event_id = $1 ORDER BY id")
                    .bind(id)
                    .fetch_all(self.reads())
                    .await?;
                rows.iter().map(attempt_from_row).collect()
            }

            async fn next_event_due(&self) -> Result<Option<i64>> {
                Ok(
                    sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM events WHERE status = 'pending'")
                        .fetch_one(self.reads())
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
    };
}
