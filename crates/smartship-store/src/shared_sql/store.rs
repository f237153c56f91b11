//! What spans the aggregates: the methods whose SQL both backends run as it
//! is.

/// Expands to `impl Store for $store`: the methods below, written once for both
/// backends (`get_meta`, `status_counts`, `schema_state`, which leases are
/// dead or this process's), and `$own`, the methods a backend writes itself —
/// where its blobs live, writing meta rows (its upsert), releasing leases (its
/// list parameter) and purging (its batches). `MIGRATOR` is the backend's.
macro_rules! store_impl {
    ($store:ty, { $($own:tt)* }) => {
        #[async_trait]
        impl Store for $store {
            $($own)*

            async fn schema_state(&self) -> Result<crate::SchemaState> {
                let applied: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                        .fetch_one(self.reads())
                        .await?;
                Ok(crate::SchemaState {
                    applied: applied.unwrap_or(0),
                    expected: MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0),
                })
            }

            async fn release_dead_leases(&self, now: i64) -> Result<ReleasedLeases> {
                let owners: Vec<String> = sqlx::query_scalar(
                    "SELECT build_lease_owner FROM packages WHERE build = 'building' \
                       AND build_lease_until >= $1 AND build_lease_owner IS NOT NULL \
                     UNION SELECT lease_owner FROM events WHERE status = 'pending' \
                       AND lease_until >= $1 AND lease_owner IS NOT NULL",
                )
                .bind(now)
                .fetch_all(self.reads())
                .await?;
                let dead: Vec<String> = owners
                    .into_iter()
                    .filter(|o| crate::lease_owner::is_dead(o))
                    .collect();
                self.release_leases(&dead).await
            }

            async fn release_own_leases(&self) -> Result<ReleasedLeases> {
                self.release_leases(&[crate::lease_owner::this_process().to_owned()]).await
            }

            async fn get_meta(&self, key: &str) -> Result<Option<String>> {
                Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
                    .bind(key)
                    .fetch_optional(self.reads())
                    .await?)
            }

            async fn status_counts(&self) -> Result<StatusCounts> {
                let count = |sql: &'static str| async move {
                    sqlx::query_scalar::<_, i64>(sql)
                        .fetch_one(self.reads())
                        .await
                };
                let grouped = |sql: &'static str| async move {
                    sqlx::query_as::<_, (String, i64)>(sql)
                        .fetch_all(self.reads())
                        .await
                };
                let (review_queue, oldest_review_since): (i64, Option<i64>) = sqlx::query_as(
                    "SELECT COUNT(*), MIN(updated_at) FROM packages WHERE state = 'auditing'",
                )
                .fetch_one(self.reads())
                .await?;
                Ok(StatusCounts {
                    apps: count("SELECT COUNT(*) FROM apps").await?,
                    tps: count("SELECT COUNT(*) FROM tps").await?,
                    templates: count("SELECT COUNT(*) FROM templates WHERE deleted_at IS NULL").await?,
                    packages_by_state: grouped(
                        "SELECT state, COUNT(*) FROM packages GROUP BY state ORDER BY state",
                    )
                    .await?,
                    builds_pending: count("SELECT COUNT(*) FROM packages WHERE build = 'building'").await?,
                    builds_failed: count(
                        "SELECT COUNT(*) FROM packages WHERE state = 'development' AND build = 'failed'",
                    )
                    .await?,
                    review_queue,
                    oldest_review_since,
                    rollbacks_pending: count("SELECT COUNT(*) FROM packages WHERE state = 'rolling_back'")
                        .await?,
                    events_by_status: grouped(
                        "SELECT status, COUNT(*) FROM events GROUP BY status ORDER BY status",
                    )
                    .await?,
                    tps_with_undeliverable: sqlx::query_scalar(
                        "SELECT t.client_id FROM tps t WHERE EXISTS (SELECT 1 FROM events e \
                           WHERE e.tp_id = t.id AND e.status = 'undeliverable') ORDER BY t.id",
                    )
                    .fetch_all(self.reads())
                    .await?,
                })
            }
        }
    };
}
