//! Delivery to host runtimes: host keys, signing keys, artifacts and the
//! reads of phased-release plans, written once for both backends. Changes
//! to a plan are lifecycle transactions (`lifecycle_flow::phased`).

/// Expands to `impl RuntimeStore for $store`.
macro_rules! runtime_store {
    ($store:ty) => {
        #[async_trait]
        impl RuntimeStore for $store {
            async fn create_host_key(&self, name: &str, hash: &str, now: i64) -> Result<HostKey> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                let row = sqlx::query(
                    "INSERT INTO host_keys (name, hash, created_at) VALUES ($1, $2, $3) RETURNING *",
                )
                .bind(name)
                .bind(hash)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                tx.commit().await?;
                host_key_from_row(&row)
            }

            async fn host_keys(&self) -> Result<Vec<HostKey>> {
                let rows = sqlx::query("SELECT * FROM host_keys ORDER BY id")
                    .fetch_all(self.reads())
                    .await?;
                rows.iter().map(host_key_from_row).collect()
            }

            async fn revoke_host_key(&self, id: i64, now: i64) -> Result<bool> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                let n = sqlx::query(
                    "UPDATE host_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                )
                .bind(id)
                .bind(now)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(n == 1)
            }

            async fn active_host_key(&self, hash: &str) -> Result<Option<HostKey>> {
                sqlx::query("SELECT * FROM host_keys WHERE hash = $1 AND revoked_at IS NULL")
                    .bind(hash)
                    .fetch_optional(self.reads())
                    .await?
                    .as_ref()
                    .map(host_key_from_row)
                    .transpose()
            }

            async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>> {
                let rows = sqlx::query("SELECT * FROM signing_keys ORDER BY created_at DESC, key_id DESC")
                    .fetch_all(self.reads())
                    .await?;
                rows.iter().map(signing_key_from_row).collect()
            }

            async fn add_signing_key(
                &self,
                key: SigningKeyRecord,
                retire_others_at: Option<i64>,
            ) -> Result<bool> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                match retire_others_at {
                    Some(at) => {
                        sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
                            .bind(at)
                            .execute(&mut **tx)
                            .await?;
                    }
                    None => {
                        let signing: i64 = sqlx::query_scalar(
                            "SELECT COUNT(*) FROM signing_keys WHERE retired_at IS NULL",
                        )
                        .fetch_one(&mut **tx)
                        .await?;
                        if signing > 0 {
                            return Ok(false);
                        }
                    }
                }
                // Two nodes adding the first key at once pass the count
                // together; they name it alike (the caller's first key id),
                // so one insert wins and the other is told it was second.
                let added = sqlx::query(
                    "INSERT INTO signing_keys (key_id, secret, public_key, created_at, retired_at) \
                     VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (key_id) DO NOTHING",
                )
                .bind(&key.key_id)
                .bind(&key.secret)
                .bind(&key.public_key)
                .bind(key.created_at)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(added == 1)
            }

            async fn package_artifact(&self, package: PackageId) -> Result<Option<Artifact>> {
                let row: Option<(Option<String>, Option<i64>)> = sqlx::query_as(
                    "SELECT artifact_sha256, artifact_size FROM packages WHERE id = $1",
                )
                .bind(package.0)
                .fetch_optional(self.reads())
                .await?;
                Ok(match row {
                    Some((Some(sha256), Some(size))) => Some(Artifact { sha256, size }),
                    _ => None,
                })
            }

            async fn set_package_artifact(&self, package: PackageId, a: &Artifact) -> Result<Artifact> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                sqlx::query(
                    "UPDATE packages SET artifact_sha256 = $2, artifact_size = $3 \
                     WHERE id = $1 AND artifact_sha256 IS NULL",
                )
                .bind(package.0)
                .bind(&a.sha256)
                .bind(a.size)
                .execute(&mut **tx)
                .await?;
                let (sha256, size): (String, i64) = sqlx::query_as(
                    "SELECT artifact_sha256, artifact_size FROM packages WHERE id = $1",
                )
                .bind(package.0)
                .fetch_one(&mut **tx)
                .await?;
                tx.commit().await?;
                Ok(Artifact { sha256, size })
            }

            async fn app_artifact_size(&self, app: AppId, sha256: &str) -> Result<Option<i64>> {
                Ok(sqlx::query_scalar(
                    "SELECT p.artifact_size FROM packages p JOIN apps a ON a.id = p.app_id \
                     WHERE p.artifact_sha256 = $1 AND p.app_id = $2 AND a.service_status = 'normal' \
                     UNION ALL SELECT d.size FROM package_deltas d \
                       JOIN packages p ON p.id = d.to_package JOIN apps a ON a.id = p.app_id \
                     WHERE d.sha256 = $1 AND p.app_id = $2 AND a.service_status = 'normal' LIMIT 1",
                )
                .bind(sha256)
                .bind(app.0)
                .fetch_optional(self.reads())
                .await?)
            }

            async fn delta(&self, from: PackageId, to: PackageId) -> Result<Option<Artifact>> {
                let row: Option<(String, i64)> = sqlx::query_as(
                    "SELECT sha256, size FROM package_deltas WHERE delta_key = $1",
                )
                .bind(format!("{}>{}", from.0, to.0))
                .fetch_optional(self.reads())
                .await?;
                Ok(row.map(|(sha256, size)| Artifact { sha256, size }))
            }

            async fn put_delta(
                &self,
                from: PackageId,
                to: PackageId,
                a: &Artifact,
                now: i64,
            ) -> Result<Artifact> {
                let key = format!("{}>{}", from.0, to.0);
                let mut tx = self.begin_write(Touches::Nothing).await?;
                sqlx::query(
                    "INSERT INTO package_deltas (delta_key, from_package, to_package, sha256, size, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (delta_key) DO NOTHING",
                )
                .bind(&key)
                .bind(from.0)
                .bind(to.0)
                .bind(&a.sha256)
                .bind(a.size)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                let (sha256, size): (String, i64) =
                    sqlx::query_as("SELECT sha256, size FROM package_deltas WHERE delta_key = $1")
                        .bind(&key)
                        .fetch_one(&mut **tx)
                        .await?;
                tx.commit().await?;
                Ok(Artifact { sha256, size })
            }

            async fn served_packages(
                &self,
                app: AppId,
                has: &HostPackage,
                limit: i64,
            ) -> Result<Vec<Package>> {
                macro_rules! served_where {
                    ($column:literal) => {
                        concat!(
                            "SELECT ",
                            package_cols!(),
                            " FROM packages WHERE app_id = $1 AND ",
                            $column,
                            " = $2 AND build = 'built' \
                               AND (state IN ('online', 'rolling_back', 'history', 'rolled_back') \
                                 OR id IN (SELECT package_id FROM gray_plans WHERE app_id = $1)) \
                             ORDER BY id DESC LIMIT $3"
                        )
                    };
                }
                let q = match has {
                    HostPackage::Id(id) => sqlx::query(served_where!("id")).bind(app.0).bind(id.0),
                    HostPackage::Sha256(sha) => {
                        sqlx::query(served_where!("artifact_sha256")).bind(app.0).bind(sha.as_str())
                    }
                    HostPackage::Version(v) => {
                        sqlx::query(served_where!("version")).bind(app.0).bind(v.as_str())
                    }
                };
                q.bind(limit)
                    .fetch_all(self.reads())
                    .await?
                    .iter()
                    .map(package_from_row)
                    .collect()
            }

            async fn latest_gray(&self, app: AppId) -> Result<Option<smartship_core::gray::GrayPlan>> {
                sqlx::query("SELECT * FROM gray_plans WHERE app_id = $1 ORDER BY id DESC LIMIT 1")
                    .bind(app.0)
                    .fetch_optional(self.reads())
                    .await?
                    .as_ref()
                    .map(gray_from_row)
                    .transpose()
            }

            async fn due_scheduled_releases(&self, now: i64) -> Result<Vec<(AppId, PackageId, i64)>> {
                let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
                    "SELECT app_id, id, release_at FROM packages WHERE release_at IS NOT NULL AND release_at <= $1 \
                       AND state = 'audit_passed' ORDER BY release_at LIMIT 100",
                )
                .bind(now)
                .fetch_all(self.reads())
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(a, p, at)| (AppId(a), PackageId(p), at))
                    .collect())
            }

            async fn next_scheduled_release(&self) -> Result<Option<i64>> {
                Ok(sqlx::query_scalar(
                    "SELECT MIN(release_at) FROM packages WHERE release_at IS NOT NULL AND state = 'audit_passed'",
                )
                .fetch_one(self.reads())
                .await?)
            }

            async fn change_service_status(
                &self,
                app: AppId,
                from: ServiceStatus,
                to: ServiceStatus,
            ) -> Result<std::result::Result<(), ServiceStatus>> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                let changed = sqlx::query(
                    "UPDATE apps SET service_status = $3 WHERE id = $1 AND service_status = $2",
                )
                .bind(app.0)
                .bind(from.as_str())
                .bind(to.as_str())
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if changed == 1 {
                    tx.commit().await?;
                    return Ok(Ok(()));
                }
                let now: Option<String> =
                    sqlx::query_scalar("SELECT service_status FROM apps WHERE id = $1")
                        .bind(app.0)
                        .fetch_optional(&mut **tx)
                        .await?;
                let now = now.ok_or_else(|| StoreError::NotFound(format!("app {app}")))?;
                Ok(Err(ServiceStatus::parse(&now).ok_or_else(|| {
                    StoreError::Corrupt(format!("unknown service_status {now:?}"))
                })?))
            }

            async fn due_gray_steps(&self, now: i64) -> Result<Vec<AppId>> {
                let ids: Vec<i64> = sqlx::query_scalar(
                    "SELECT app_id FROM gray_plans WHERE status = 'running' \
                       AND (next_step_at <= $1 OR percentage = 100) \
                     ORDER BY next_step_at LIMIT 100",
                )
                .bind(now)
                .fetch_all(self.reads())
                .await?;
                Ok(ids.into_iter().map(AppId).collect())
            }

            async fn next_gray_step(&self) -> Result<Option<i64>> {
                Ok(sqlx::query_scalar(
                    "SELECT MIN(next_step_at) FROM gray_plans WHERE status = 'running'",
                )
                .fetch_one(self.reads())
                .await?)
            }
        }
    };
}
