//! Packages, their history and the audit quota: the methods whose SQL both
//! backends run as it is.

/// Expands to `impl PackageStore for $store`: the methods below, written once
/// for both backends (`slotted_packages`, `package`, `package_in_state`,
/// `package_any`, `all_packages`, `package_manifest`, `transitions`,
/// `quota_used`, `packages_under_audit`, `due_rollbacks`, `next_rollback_due`,
/// `list_packages`), and `$own`, the methods a backend writes itself — the
/// lifecycle transactions and the build claims. Names in the bodies (row
/// decoders, `Touches`, `package_cols!`) are the expanding backend's;
/// `self.reads()` is its pool for reads.
macro_rules! package_store {
    ($store:ty, { $($own:tt)* }) => {
        #[async_trait]
        impl PackageStore for $store {
            $($own)*

            async fn slotted_packages(&self, app: AppId) -> Result<std::sync::Arc<[Package]>> {
                let seen = match self.cache.packages(app) {
                    Ok(list) => return Ok(list),
                    Err(generation) => generation,
                };
                let list: std::sync::Arc<[Package]> = self.slotted_packages_uncached(app).await?.into();
                self.cache.put_packages(app, list.clone(), seen);
                Ok(list)
            }

            async fn package(&self, app: AppId, id: PackageId) -> Result<Option<Package>> {
                sqlx::query(concat!(
                    "SELECT ",
                    package_cols!(),
                    " FROM packages WHERE id = $1 AND app_id = $2"
                ))
                .bind(id.0)
                .bind(app.0)
                .fetch_optional(self.reads())
                .await?
                .as_ref()
                .map(package_from_row)
                .transpose()
            }

            async fn package_in_state(&self, app: AppId, state: PackageState) -> Result<Option<Package>> {
                sqlx::query(concat!(
                    "SELECT ",
                    package_cols!(),
                    " FROM packages WHERE app_id = $1 AND state = $2 ORDER BY id DESC LIMIT 1"
                ))
                .bind(app.0)
                .bind(state.as_str())
                .fetch_optional(self.reads())
                .await?
                .as_ref()
                .map(package_from_row)
                .transpose()
            }

            async fn package_any(&self, id: PackageId) -> Result<Option<Package>> {
                sqlx::query(concat!(
                    "SELECT ",
                    package_cols!(),
                    " FROM packages WHERE id = $1"
                ))
                .bind(id.0)
                .fetch_optional(self.reads())
                .await?
                .as_ref()
                .map(package_from_row)
                .transpose()
            }

            async fn all_packages(&self, app: AppId) -> Result<Vec<Package>> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    package_cols!(),
                    " FROM packages WHERE app_id = $1 ORDER BY id"
                ))
                .bind(app.0)
                .fetch_all(self.reads())
                .await?;
                rows.iter().map(package_from_row).collect()
            }

            async fn package_manifest(&self, id: PackageId) -> Result<Option<Manifest>> {
                let row = sqlx::query(
                    "SELECT p.manifest, t.manifest FROM packages p LEFT JOIN templates t ON t.id = p.template_id \
                     WHERE p.id = $1",
                )
                .bind(id.0)
                .fetch_optional(self.reads())
                .await?;
                let Some(row) = row else { return Ok(None) };
                package_manifest_of(id, row.try_get(0)?, row.try_get(1)?)
            }

            async fn transitions(&self, package: PackageId) -> Result<Vec<TransitionRecord>> {
                let rows = sqlx::query(
                    "SELECT action, from_state, to_state, actor, detail, at FROM package_transitions \
                     WHERE package_id = $1 ORDER BY id",
                )
                .bind(package.0)
                .fetch_all(self.reads())
                .await?;
                rows.iter().map(transition_from_row).collect()
            }

async fn put_package_checks(
                &self,
                package: PackageId,
                findings: &str,
                blocking: i64,
                now: i64,
            ) -> Result<()> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                sqlx::query(
                    "INSERT INTO package_checks (package_id, findings, blocking, checked_at) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (package_id) DO UPDATE SET findings = $2, blocking = $3, checked_at = $4",
                )
                .bind(package.0)
                .bind(findings)
                .bind(blocking)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn package_checks(&self, package: PackageId) -> Result<Option<(String, i64)>> {
                Ok(sqlx::query_as("SELECT findings, blocking FROM package_checks WHERE package_id = $1")
                    .bind(package.0)
                    .fetch_optional(self.reads())
                    .await?)
            }

            async fn quota_used(&self, app: AppId, since: i64) -> Result<i64> {
                Ok(
                    sqlx::query_scalar("SELECT COUNT(*) FROM quota_uses WHERE app_id = $1 AND at >= $2")
                        .bind(app.0)
                        .bind(since)
                        .fetch_one(self.reads())
                        .await?,
                )
            }

            async fn packages_under_audit(&self, limit: i64) -> Result<Vec<(AppId, PackageId)>> {
                let rows = sqlx::query(
                    "SELECT app_id, id FROM packages WHERE state = 'auditing' ORDER BY updated_at, id LIMIT $1",
                )
                .bind(limit)
                .fetch_all(self.reads())
                .await?;
                rows.iter()
                    .map(|r| Ok((AppId(r.try_get(0)?), PackageId(r.try_get(1)?))))
                    .collect()
            }

            async fn due_rollbacks(&self, now: i64) -> Result<Vec<(AppId, PackageId)>> {
                let rows = sqlx::query(
                    "SELECT app_id, id FROM packages WHERE state = 'rolling_back' AND rollback_due_at <= $1 \
                     ORDER BY rollback_due_at LIMIT 100",
                )
                .bind(now)
                .fetch_all(self.reads())
                .await?;
                rows.iter()
                    .map(|r| Ok((AppId(r.try_get(0)?), PackageId(r.try_get(1)?))))
                    .collect()
            }

            async fn next_rollback_due(&self) -> Result<Option<i64>> {
                Ok(sqlx::query_scalar(
                    "SELECT MIN(rollback_due_at) FROM packages WHERE state = 'rolling_back'",
                )
                .fetch_one(self.reads())
                .await?)
            }

            async fn list_packages(
                &self,
                f: &PackageFilter,
                page: PageRequest,
            ) -> Result<(i64, Vec<Package>)> {
                macro_rules! filter {
                    () => {
                        " FROM packages WHERE ($1 IS NULL OR app_id = $1) AND ($2 IS NULL OR tp_id = $2) \
                         AND ($3 IS NULL OR state = $3) AND ($4 IS NULL OR version = $4)"
                    };
                }
                let state = f.state.map(PackageState::as_str);
                let total: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*)", filter!()))
                    .bind(f.app.map(|a| a.0))
                    .bind(f.tp.map(|t| t.0))
                    .bind(state)
                    .bind(&f.version)
                    .fetch_one(self.reads())
                    .await?;
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    package_cols!(),
                    filter!(),
                    " ORDER BY id DESC LIMIT $5 OFFSET $6"
                ))
                .bind(f.app.map(|a| a.0))
                .bind(f.tp.map(|t| t.0))
                .bind(state)
                .bind(&f.version)
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(self.reads())
                .await?;
                Ok((
                    total,
                    rows.iter().map(package_from_row).collect::<Result<_>>()?,
                ))
            }
        }
    };
}
