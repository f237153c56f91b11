//! The app's basic information and settings: examinations, images,
//! domains and violations, written once for both backends.

/// Expands to `impl ProfileStore for $store`. A change of an app is
/// decided under the app's row lock (`for_update!()` on PostgreSQL, the
/// writer's turn on SQLite), so two submissions of one field, or a
/// submission and a review, never interleave.
macro_rules! profile_store {
    ($store:ty) => {
        /// Locks the app's row; false when there is no such app.
        async fn lock_app_row(tx: &mut Tx<'_>, app: AppId) -> Result<bool> {
            Ok(
                sqlx::query_scalar::<_, i64>(concat!("SELECT id FROM apps WHERE id = $1", for_update!()))
                    .bind(app.0)
                    .fetch_optional(&mut **tx)
                    .await?
                    .is_some(),
            )
        }

        /// Whether an app other than `$2` holds the name whose key
        /// (`profile::name_key`) is `$1`, approved or asked for in a
        /// pending examination.
        const NAME_TAKEN: &str = "SELECT (SELECT COUNT(*) FROM apps WHERE name_key = $1 AND id <> $2) + \
                (SELECT COUNT(*) FROM examinations WHERE status = 'pending' AND name_claim = $1 \
                   AND app_id <> $2)";

        #[async_trait]
        impl ProfileStore for $store {
            async fn submit_examination(
                &self,
                change: NewExamination,
                now: i64,
            ) -> Result<std::result::Result<Examination, ExamRefusal>> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                if !lock_app_row(&mut tx, change.app).await? {
                    return Ok(Err(ExamRefusal::NoApp));
                }
                let field = change.field.as_str();
                let pending: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM examinations WHERE app_id = $1 AND field = $2 AND status = 'pending' \
                     ORDER BY id LIMIT 1",
                )
                .bind(change.app.0)
                .bind(field)
                .fetch_optional(&mut **tx)
                .await?;
                if let Some(id) = pending {
                    return Ok(Err(ExamRefusal::Pending(id)));
                }
                if let Some(quota) = change.field.yearly_quota() {
                    let used: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM examinations WHERE app_id = $1 AND field = $2 \
                           AND submitted_at >= $3",
                    )
                    .bind(change.app.0)
                    .bind(field)
                    .bind(change.year_start)
                    .fetch_one(&mut **tx)
                    .await?;
                    if used >= quota {
                        return Ok(Err(ExamRefusal::QuotaUsed { used, quota }));
                    }
                }
                // Claims are held, and compared, in their folded form.
                let claim = change.name_claim.as_deref().map(smartship_core::profile::name_key);
                if let Some(key) = &claim {
                    let n: i64 = sqlx::query_scalar(NAME_TAKEN)
                        .bind(key)
                        .bind(change.app.0)
                        .fetch_one(&mut **tx)
                        .await?;
                    if n > 0 {
                        return Ok(Err(ExamRefusal::NameTaken));
                    }
                }
                let row = sqlx::query(
                    "INSERT INTO examinations (app_id, field, value, material, status, reason, \
                       submitted_by, submitted_at, name_claim) \
                     VALUES ($1, $2, $3, $4, 'pending', '', $5, $6, $7) RETURNING *",
                )
                .bind(change.app.0)
                .bind(field)
                .bind(&change.value)
                .bind(&change.material)
                .bind(&change.actor)
                .bind(now)
                .bind(&claim)
                .fetch_one(&mut **tx)
                .await;
                let row = match row {
                    Ok(row) => row,
                    // Another app asked for the name between our check and
                    // our insert (PostgreSQL locks only this app's row).
                    Err(sqlx::Error::Database(d))
                        if d.is_unique_violation() && change.name_claim.is_some() =>
                    {
                        return Ok(Err(ExamRefusal::NameTaken));
                    }
                    Err(e) => return Err(e.into()),
                };
                tx.commit().await?;
                Ok(Ok(examination_from_row(&row)?))
            }

            async fn examination(&self, id: i64) -> Result<Option<Examination>> {
                sqlx::query("SELECT * FROM examinations WHERE id = $1")
                    .bind(id)
                    .fetch_optional(self.reads())
                    .await?
                    .as_ref()
                    .map(examination_from_row)
                    .transpose()
            }

            async fn examinations(
                &self,
                status: Option<smartship_core::profile::ExamStatus>,
                app: Option<AppId>,
                after: i64,
                limit: i64,
            ) -> Result<Vec<Examination>> {
                sqlx::query(
                    "SELECT * FROM examinations WHERE id > $1 \
                       AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR app_id = $3) \
                     ORDER BY id LIMIT $4",
                )
                .bind(after)
                .bind(status.map(|s| s.as_str()))
                .bind(app.map(|a| a.0))
                .bind(limit)
                .fetch_all(self.reads())
                .await?
                .iter()
                .map(examination_from_row)
                .collect()
            }

            async fn review_examination(
                &self,
                id: i64,
                pass: bool,
                reason: &str,
                reviewer: &str,
                now: i64,
            ) -> Result<std::result::Result<Examination, ReviewRefusal>> {
                use smartship_core::examination::{ApprovedValue, ReviewSnapshot, decide_review};
                let mut tx = self.begin_write(Touches::Nothing).await?;
                let Some(app): Option<i64> =
                    sqlx::query_scalar("SELECT app_id FROM examinations WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut **tx)
                        .await?
                else {
                    return Ok(Err(ReviewRefusal::NotFound));
                };
                let app = AppId(app);
                lock_app_row(&mut tx, app).await?;
                let row = sqlx::query("SELECT * FROM examinations WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut **tx)
                    .await?;
                let exam = examination_from_row(&row)?;
                // The snapshot the rules decide on (smartship_core::examination).
                let name_held_by_another = match &exam.name_claim {
                    Some(key) if pass => {
                        let n: i64 = sqlx::query_scalar(
                            "SELECT COUNT(*) FROM apps WHERE name_key = $1 AND id <> $2",
                        )
                        .bind(key)
                        .bind(app.0)
                        .fetch_one(&mut **tx)
                        .await?;
                        n > 0
                    }
                    _ => false,
                };
                let now_status: String =
                    sqlx::query_scalar("SELECT service_status FROM apps WHERE id = $1")
                        .bind(app.0)
                        .fetch_one(&mut **tx)
                        .await?;
                let service_status = ServiceStatus::parse(&now_status)
                    .ok_or_else(|| corrupt("service_status", &now_status))?;
                let snapshot = ReviewSnapshot {
                    field: exam.field,
                    status: exam.status,
                    value: &exam.value,
                    name_held_by_another,
                    service_status,
                };
                let plan = match decide_review(&snapshot, pass)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?
                {
                    Ok(plan) => plan,
                    Err(refusal) => return Ok(Err(refusal)),
                };
                if let Some(r) = &plan.restore {
                    sqlx::query(
                        "UPDATE apps SET name = COALESCE($2, name), description = COALESCE($3, description), \
                           photo_addr = COALESCE($4, photo_addr), service_status = 'normal', \
                           name_key = COALESCE($5, name_key) \
                         WHERE id = $1",
                    )
                    .bind(app.0)
                    .bind(r.name.as_deref())
                    .bind(r.description.as_deref())
                    .bind(r.photo_addr.as_deref())
                    .bind(r.name_key.as_deref())
                    .execute(&mut **tx)
                    .await?;
                    sqlx::query(
                        "UPDATE violations SET resolved_at = $2 \
                         WHERE app_id = $1 AND resolved_at IS NULL AND status = 'forced_offline'",
                    )
                    .bind(app.0)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                }
                // The approved value's column, one static statement each.
                let approved = match &plan.approved {
                    None => None,
                    Some(ApprovedValue::Name { name, key }) => Some(
                        sqlx::query("UPDATE apps SET name = $2, name_key = $3 WHERE id = $1")
                            .bind(app.0)
                            .bind(name)
                            .bind(key),
                    ),
                    Some(ApprovedValue::Photo(v)) => Some(
                        sqlx::query("UPDATE apps SET photo_addr = $2 WHERE id = $1")
                            .bind(app.0)
                            .bind(v),
                    ),
                    Some(ApprovedValue::Description(v)) => Some(
                        sqlx::query("UPDATE apps SET description = $2 WHERE id = $1")
                            .bind(app.0)
                            .bind(v),
                    ),
                    Some(ApprovedValue::Categories(v)) => Some(
                        sqlx::query("UPDATE apps SET categories = $2 WHERE id = $1")
                            .bind(app.0)
                            .bind(v),
                    ),
                };
                if let Some(q) = approved {
                    q.execute(&mut **tx).await?;
                }
                let row = sqlx::query(
                    "UPDATE examinations SET status = $2, reason = $3, reviewed_by = $4, reviewed_at = $5 \
                     WHERE id = $1 RETURNING *",
                )
                .bind(id)
                .bind(plan.status.as_str())
                .bind(reason)
                .bind(reviewer)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                refresh_approval(&mut tx, app).await?;
                tx.commit().await?;
                Ok(Ok(examination_from_row(&row)?))
            }

            async fn name_taken(&self, name: &str, except: AppId) -> Result<bool> {
                let n: i64 = sqlx::query_scalar(NAME_TAKEN)
                    .bind(smartship_core::profile::name_key(name))
                    .bind(except.0)
                    .fetch_one(self.reads())
                    .await?;
                Ok(n > 0)
            }

            async fn profile(&self, app: AppId, year_start: i64) -> Result<Profile> {
                use smartship_core::profile::Field;
                let Some((photo_addr, categories)): Option<(String, String)> =
                    sqlx::query_as("SELECT photo_addr, categories FROM apps WHERE id = $1")
                        .bind(app.0)
                        .fetch_optional(self.reads())
                        .await?
                else {
                    return Ok(Profile::default());
                };
                let latest = sqlx::query(
                    "SELECT e.* FROM examinations e WHERE e.app_id = $1 AND e.id = \
                       (SELECT MAX(x.id) FROM examinations x WHERE x.app_id = e.app_id AND x.field = e.field) \
                     ORDER BY e.id",
                )
                .bind(app.0)
                .fetch_all(self.reads())
                .await?
                .iter()
                .map(examination_from_row)
                .collect::<Result<Vec<_>>>()?;
                let counts: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT field, COUNT(*) FROM examinations WHERE app_id = $1 AND submitted_at >= $2 \
                     GROUP BY field",
                )
                .bind(app.0)
                .bind(year_start)
                .fetch_all(self.reads())
                .await?;
                let used = counts
                    .into_iter()
                    .filter_map(|(f, n)| Field::parse(&f).map(|f| (f, n)))
                    .collect();
                let open_violations = sqlx::query(
                    "SELECT * FROM violations WHERE app_id = $1 AND resolved_at IS NULL ORDER BY id",
                )
                .bind(app.0)
                .fetch_all(self.reads())
                .await?
                .iter()
                .map(violation_from_row)
                .collect::<Result<Vec<_>>>()?;
                Ok(Profile {
                    photo_addr,
                    categories,
                    latest,
                    used,
                    open_violations,
                })
            }

            async fn put_image(&self, image: &Image) -> Result<()> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                sqlx::query(
                    "INSERT INTO images (sha256, tp_id, kind, content_type, width, height, size, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tp_id, sha256) DO NOTHING",
                )
                .bind(&image.sha256)
                .bind(image.tp_id.0)
                .bind(image.kind)
                .bind(&image.content_type)
                .bind(image.width)
                .bind(image.height)
                .bind(image.size)
                .bind(image.created_at)
                .execute(&mut **tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn image(&self, sha256: &str) -> Result<Option<Image>> {
                sqlx::query("SELECT * FROM images WHERE sha256 = $1 ORDER BY id LIMIT 1")
                    .bind(sha256)
                    .fetch_optional(self.reads())
                    .await?
                    .as_ref()
                    .map(image_from_row)
                    .transpose()
            }

            async fn tp_image(&self, tp: TpId, sha256: &str) -> Result<Option<Image>> {
                sqlx::query("SELECT * FROM images WHERE tp_id = $1 AND sha256 = $2")
                    .bind(tp.0)
                    .bind(sha256)
                    .fetch_optional(self.reads())
                    .await?
                    .as_ref()
                    .map(image_from_row)
                    .transpose()
            }

            async fn domains(&self, owner: DomainOwner) -> Result<Domains> {
                let (sql, id) = match owner {
                    DomainOwner::App(a) => ("SELECT domains FROM apps WHERE id = $1", a.0),
                    DomainOwner::Tp(t) => ("SELECT domains FROM tps WHERE id = $1", t.0),
                };
                let json: Option<String> = sqlx::query_scalar(sql)
                    .bind(id)
                    .fetch_optional(self.reads())
                    .await?;
                domains_of(json.as_deref().unwrap_or("{}"))
            }

            async fn modify_domains(
                &self,
                owner: DomainOwner,
                action: smartship_core::domains::DomainAction,
                given: Domains,
            ) -> Result<std::result::Result<Domains, smartship_core::domains::DomainRefusal>> {
                let (select, update, id) = match owner {
                    DomainOwner::App(a) => (
                        concat!("SELECT domains FROM apps WHERE id = $1", for_update!()),
                        "UPDATE apps SET domains = $2 WHERE id = $1",
                        a.0,
                    ),
                    DomainOwner::Tp(t) => (
                        concat!("SELECT domains FROM tps WHERE id = $1", for_update!()),
                        "UPDATE tps SET domains = $2 WHERE id = $1",
                        t.0,
                    ),
                };
                let mut tx = self.begin_write(Touches::Nothing).await?;
                let json: Option<String> = sqlx::query_scalar(select)
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await?;
                let mut current = domains_of(json.as_deref().unwrap_or("{}"))?;
                for (kind, list) in &given {
                    let now = current.get(kind).cloned().unwrap_or_default();
                    match smartship_core::domains::apply(*kind, action, &now, list) {
                        Ok(next) => {
                            current.insert(*kind, next);
                        }
                        Err(refusal) => return Ok(Err(refusal)),
                    }
                }
                current.retain(|_, v| !v.is_empty());
                sqlx::query(update)
                    .bind(id)
                    .bind(domains_json(&current))
                    .execute(&mut **tx)
                    .await?;
                tx.commit().await?;
                Ok(Ok(current))
            }

            async fn domain_check(&self, tp: TpId, fresh: &str) -> Result<String> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                sqlx::query("UPDATE tps SET domain_check = $2 WHERE id = $1 AND domain_check IS NULL")
                    .bind(tp.0)
                    .bind(fresh)
                    .execute(&mut **tx)
                    .await?;
                let stored: Option<String> =
                    sqlx::query_scalar("SELECT domain_check FROM tps WHERE id = $1")
                        .bind(tp.0)
                        .fetch_optional(&mut **tx)
                        .await?
                        .flatten();
                tx.commit().await?;
                Ok(stored.unwrap_or_else(|| fresh.to_owned()))
            }

            async fn violations(&self, app: AppId) -> Result<Vec<Violation>> {
                sqlx::query("SELECT * FROM violations WHERE app_id = $1 ORDER BY id DESC LIMIT 100")
                    .bind(app.0)
                    .fetch_all(self.reads())
                    .await?
                    .iter()
                    .map(violation_from_row)
                    .collect()
            }
        }
    };
}
