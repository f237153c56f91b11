//! What spans the aggregates: the methods whose SQL both backends run as it
//! is.

/// Expands to `impl Store for $store`: the methods below, written once for both
/// backends (`get_meta`, `status_counts`), and `$own`, the methods a backend
/// writes itself — where its blobs live, writing meta rows (its upsert), taking
/// back dead leases and purging (its batches).
macro_rules! store_impl {
    ($store:ty, { $($own:tt)* }) => {
        #[async_trait]
        impl Store for $store {
            $($own)*

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
