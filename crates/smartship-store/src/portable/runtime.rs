//! Delivery to host runtimes: host keys, signing keys, artifacts and
//! phased-release plans, written once for both backends.

/// Expands to `impl RuntimeStore for $store`. Changes to a plan lock the
/// app's row with the backend's `for_update!()` (PostgreSQL) or hold the
/// writer's turn (SQLite), the same exclusion the lifecycle transactions
/// take, so a plan and a submission or a release of the app never
/// interleave.
macro_rules! runtime_store {
    ($store:ty) => {
        /// Reads what deciding a hold of `package` needs
        /// (`lifecycle::check_hold`), after locking the app's row
        /// (PostgreSQL; SQLite's writer turn is the lock), as the
        /// lifecycle does. None when there is no such app.
        async fn hold_snapshot(
            tx: &mut Tx<'static>,
            app: AppId,
            package: PackageId,
        ) -> Result<Option<lifecycle::HoldSnapshot>> {
            let Some(authentic): Option<bool> = sqlx::query_scalar(concat!(
                "SELECT authenticity_verified FROM apps WHERE id = $1",
                for_update!()
            ))
            .bind(app.0)
            .fetch_optional(&mut **tx)
            .await?
            else {
                return Ok(None);
            };
            let row: Option<(String, Option<i64>)> = sqlx::query_as(
                "SELECT state, release_at FROM packages WHERE id = $1 AND app_id = $2",
            )
            .bind(package.0)
            .bind(app.0)
            .fetch_optional(&mut **tx)
            .await?;
            let live: Option<i64> = sqlx::query_scalar(
                "SELECT package_id FROM gray_plans WHERE app_id = $1 AND status IN ('running', 'paused')",
            )
            .bind(app.0)
            .fetch_optional(&mut **tx)
            .await?;
            let rolling_back: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM packages WHERE app_id = $1 AND state = 'rolling_back'",
            )
            .bind(app.0)
            .fetch_one(&mut **tx)
            .await?;
            let (state, release_at) = match row {
                Some((state, at)) => (Some(state_of(&state)?), at),
                None => (None, None),
            };
            Ok(Some(lifecycle::HoldSnapshot {
                state,
                authenticity_verified: authentic,
                live_gray: live.map(PackageId),
                rolling_back: rolling_back > 0,
                scheduled: release_at.is_some(),
            }))
        }

        /// Whether `package` of `app` may be held (`lifecycle::check_hold`).
        async fn may_hold(
            tx: &mut Tx<'static>,
            app: AppId,
            package: PackageId,
            hold: lifecycle::Hold,
        ) -> Result<std::result::Result<(), lifecycle::Refusal>> {
            Ok(match hold_snapshot(tx, app, package).await? {
                None => Err(lifecycle::Refusal::PackageNotFound),
                Some(snap) => lifecycle::check_hold(&snap, package, hold),
            })
        }

        /// Raises the app's release sequence: what it serves changed.
        async fn bump_release_seq(
            tx: &mut Tx<'static>,
            app: AppId,
        ) -> Result<()> {
            sqlx::query("UPDATE apps SET release_seq = release_seq + 1 WHERE id = $1")
                .bind(app.0)
                .execute(&mut **tx)
                .await?;
            Ok(())
        }

        /// Enqueues PACKAGE_GRAY_RELEASE for the plan's package, when its
        /// TP subscribes to it, in the transaction that changed the plan.
        async fn insert_gray_event(
            tx: &mut Tx<'static>,
            plan: &smartship_core::gray::GrayPlan,
            now: i64,
        ) -> Result<()> {
            let payload = serde_json::json!({
                "grayPercentage": plan.percentage,
                "grayStatus": plan.status.as_str(),
                "planId": plan.id,
            })
            .to_string();
            sqlx::query(concat!(
                "INSERT INTO events (tp_id, app_id, kind, package_id, version, reason, occurred_at, \
                   status, attempts, next_attempt_at, payload) ",
                "SELECT p.tp_id, p.app_id, $1, p.id, p.version, NULL, $2, 'pending', 0, $2, $3 \
                 FROM packages p JOIN tps t ON t.id = p.tp_id WHERE p.id = $4 \
                   AND (',' || t.release_events || ',') LIKE ('%,' || $1 || ',%')"
            ))
            .bind(EventKind::PackageGrayRelease.as_str())
            .bind(now)
            .bind(payload)
            .bind(plan.package.0)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

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

            async fn start_gray(
                &self,
                g: NewGray,
                actor: &str,
                now: i64,
            ) -> Result<std::result::Result<smartship_core::gray::GrayPlan, lifecycle::Refusal>> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                if let Err(r) = may_hold(&mut tx, g.app, g.package, lifecycle::Hold::PhasedRelease).await? {
                    return Ok(Err(r));
                }
                let ramp = serde_json::to_string(&g.ramp).expect("ramp steps serialize");
                let row = sqlx::query(
                    "INSERT INTO gray_plans (app_id, package_id, percentage, user_list, ramp, status, \
                       next_step_at, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $8, $8) RETURNING *",
                )
                .bind(g.app.0)
                .bind(g.package.0)
                .bind(i64::from(g.percentage))
                .bind(g.user_list.join(","))
                .bind(ramp)
                .bind(g.ramp.first().map(|s| s.at))
                .bind(actor)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                let plan = gray_from_row(&row)?;
                insert_gray_event(&mut tx, &plan, now).await?;
                bump_release_seq(&mut tx, g.app).await?;
                tx.commit().await?;
                Ok(Ok(plan))
            }

            async fn change_gray(
                &self,
                app: AppId,
                now: i64,
                change: GrayChange,
            ) -> Result<std::result::Result<smartship_core::gray::GrayPlan, smartship_core::gray::GrayRefusal>> {
                use smartship_core::gray::GrayRefusal;
                let mut tx = self.begin_write(Touches::Nothing).await?;
                let locked: Option<i64> =
                    sqlx::query_scalar(concat!("SELECT id FROM apps WHERE id = $1", for_update!()))
                        .bind(app.0)
                        .fetch_optional(&mut **tx)
                        .await?;
                if locked.is_none() {
                    return Ok(Err(GrayRefusal::NoPlan));
                }
                let row = sqlx::query(
                    "SELECT * FROM gray_plans WHERE app_id = $1 AND status IN ('running', 'paused')",
                )
                .bind(app.0)
                .fetch_optional(&mut **tx)
                .await?;
                let Some(row) = row else {
                    return Ok(Err(GrayRefusal::NoPlan));
                };
                let mut plan = gray_from_row(&row)?;
                let before = (plan.percentage, plan.status);
                if let Err(r) = change(&mut plan) {
                    return Ok(Err(r));
                }
                plan.updated_at = plan.updated_at.max(now);
                sqlx::query(
                    "UPDATE gray_plans SET percentage = $2, user_list = $3, ramp = $4, status = $5, \
                       next_step_at = $6, paused_at = $7, updated_at = $8, ended_at = $9 WHERE id = $1",
                )
                .bind(plan.id)
                .bind(i64::from(plan.percentage))
                .bind(plan.user_list.join(","))
                .bind(serde_json::to_string(&plan.ramp).expect("ramp steps serialize"))
                .bind(plan.status.as_str())
                .bind(plan.next_step_at())
                .bind(plan.paused_at)
                .bind(plan.updated_at)
                .bind(plan.ended_at)
                .execute(&mut **tx)
                .await?;
                if (plan.percentage, plan.status) != before {
                    insert_gray_event(&mut tx, &plan, now).await?;
                }
                // Who gets what changed with the users or the share (a
                // pause changes nobody's answer, but is cheap to count).
                bump_release_seq(&mut tx, app).await?;
                tx.commit().await?;
                Ok(Ok(plan))
            }

            async fn schedule_release(
                &self,
                app: AppId,
                package: PackageId,
                at: i64,
                actor: &str,
                now: i64,
            ) -> Result<std::result::Result<(), lifecycle::Refusal>> {
                let mut tx = self.begin_write(Touches::App(app)).await?;
                if let Err(r) = may_hold(&mut tx, app, package, lifecycle::Hold::Schedule).await? {
                    return Ok(Err(r));
                }
                sqlx::query("UPDATE packages SET release_at = $2, updated_at = $3 WHERE id = $1")
                    .bind(package.0)
                    .bind(at)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO package_transitions (package_id, app_id, action, from_state, to_state, actor, detail, at) \
                     VALUES ($1, $2, 'schedule_release', 'audit_passed', 'audit_passed', $3, $4, $5)",
                )
                .bind(package.0)
                .bind(app.0)
                .bind(actor)
                .bind(format!("release_at={}", at.div_euclid(1000)))
                .bind(now)
                .execute(&mut **tx)
                .await?;
                tx.commit().await?;
                Ok(Ok(()))
            }

            async fn cancel_scheduled_release(
                &self,
                app: AppId,
                package: PackageId,
                actor: &str,
                now: i64,
            ) -> Result<bool> {
                let mut tx = self.begin_write(Touches::App(app)).await?;
                sqlx::query(concat!("SELECT id FROM apps WHERE id = $1", for_update!()))
                    .bind(app.0)
                    .fetch_optional(&mut **tx)
                    .await?;
                let n = sqlx::query(
                    "UPDATE packages SET release_at = NULL, updated_at = $3 \
                     WHERE id = $1 AND app_id = $2 AND release_at IS NOT NULL AND state = 'audit_passed'",
                )
                .bind(package.0)
                .bind(app.0)
                .bind(now)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if n == 1 {
                    sqlx::query(
                        "INSERT INTO package_transitions (package_id, app_id, action, from_state, to_state, actor, detail, at) \
                         VALUES ($1, $2, 'cancel_scheduled_release', 'audit_passed', 'audit_passed', $3, '', $4)",
                    )
                    .bind(package.0)
                    .bind(app.0)
                    .bind(actor)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(n == 1)
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
