//! Drafts and templates: the methods whose SQL both backends run as it is.

/// Expands to `impl TemplateStore for $store`, every method written once for
/// both backends. Adding a template checks the platform's count, then
/// writes: the backend's `for_update!()` locks the platform's row where
/// writers run at once (PostgreSQL) and is empty where the writer's turn
/// already excludes them (SQLite). Names in the bodies (row decoders,
/// `Touches`, `for_update!`) are the expanding backend's; `self.reads()` is
/// its pool for reads.
macro_rules! template_store {
    ($store:ty) => {
        #[async_trait]
        impl TemplateStore for $store {
            async fn add_template(
                &self,
                tp: TpId,
                draft: DraftId,
                user_desc: &str,
                max: i64,
                now: i64,
            ) -> Result<AddTemplate> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                // The platform's row serializes its template additions (where writers
                // run at once), so that the count checked below is the count written
                // against.
                sqlx::query(concat!("SELECT id FROM tps WHERE id = $1", for_update!()))
                    .bind(tp.0)
                    .execute(&mut **tx)
                    .await?;
                let Some(d) =
                    sqlx::query("SELECT user_version, manifest FROM drafts WHERE id = $1 AND tp_id = $2")
                        .bind(draft.0)
                        .bind(tp.0)
                        .fetch_optional(&mut **tx)
                        .await?
                else {
                    return Ok(AddTemplate::DraftNotFound);
                };
                let count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM templates WHERE tp_id = $1 AND deleted_at IS NULL",
                )
                .bind(tp.0)
                .fetch_one(&mut **tx)
                .await?;
                if count >= max {
                    return Ok(AddTemplate::LimitReached);
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO templates (tp_id, draft_id, user_version, user_desc, manifest, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(tp.0)
                .bind(draft.0)
                .bind(d.try_get::<String, _>("user_version")?)
                .bind(user_desc)
                .bind(d.try_get::<String, _>("manifest")?)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                tx.commit().await?;
                Ok(AddTemplate::Created(TemplateId(id)))
            }

            async fn create_draft(&self, d: NewDraft, now: i64) -> Result<DraftId> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO drafts (tp_id, user_version, user_desc, manifest, size, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(d.tp_id.0)
                .bind(&d.user_version)
                .bind(&d.user_desc)
                .bind(manifest_json(&d.manifest))
                .bind(d.manifest.total_size() as i64)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                tx.commit().await?;
                Ok(DraftId(id))
            }

            async fn create_draft_within(
                &self,
                d: NewDraft,
                now: i64,
                quota: DraftQuota,
            ) -> Result<std::result::Result<DraftId, DraftRefusal>> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                sqlx::query(concat!("SELECT id FROM tps WHERE id = $1", for_update!()))
                    .bind(d.tp_id.0)
                    .execute(&mut **tx)
                    .await?;
                let (count, bytes): (i64, i64) = sqlx::query_as(
                    "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM drafts d WHERE tp_id = $1 \
                       AND NOT EXISTS (SELECT 1 FROM templates t WHERE t.draft_id = d.id)",
                )
                .bind(d.tp_id.0)
                .fetch_one(&mut **tx)
                .await?;
                if count >= quota.max_drafts {
                    return Ok(Err(DraftRefusal::TooMany {
                        max: quota.max_drafts,
                    }));
                }
                let size = d.manifest.total_size() as i64;
                let would = bytes.saturating_add(size);
                if would > quota.max_bytes {
                    return Ok(Err(DraftRefusal::OverBudget {
                        would,
                        max: quota.max_bytes,
                    }));
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO drafts (tp_id, user_version, user_desc, manifest, size, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(d.tp_id.0)
                .bind(&d.user_version)
                .bind(&d.user_desc)
                .bind(manifest_json(&d.manifest))
                .bind(size)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                tx.commit().await?;
                Ok(Ok(DraftId(id)))
            }

            async fn delete_draft(
                &self,
                tp: TpId,
                id: DraftId,
            ) -> Result<std::result::Result<(), DraftRefusal>> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                let found: Option<i64> = sqlx::query_scalar(concat!(
                    "SELECT id FROM drafts WHERE id = $1 AND tp_id = $2",
                    for_update!()
                ))
                .bind(id.0)
                .bind(tp.0)
                .fetch_optional(&mut **tx)
                .await?;
                if found.is_none() {
                    return Ok(Err(DraftRefusal::NotFound));
                }
                let templates: Vec<i64> =
                    sqlx::query_scalar("SELECT id FROM templates WHERE draft_id = $1 ORDER BY id")
                        .bind(id.0)
                        .fetch_all(&mut **tx)
                        .await?;
                if !templates.is_empty() {
                    return Ok(Err(DraftRefusal::InUse(
                        templates.into_iter().map(TemplateId).collect(),
                    )));
                }
                sqlx::query("DELETE FROM drafts WHERE id = $1")
                    .bind(id.0)
                    .execute(&mut **tx)
                    .await?;
                tx.commit().await?;
                Ok(Ok(()))
            }

            async fn referenced_blobs(&self) -> Result<std::collections::HashSet<String>> {
                let mut out = std::collections::HashSet::new();
                // Manifests in any of their stored shapes (whole, or a
                // package's difference from its template) name each file as
                // `"sha256":"<hex>"`.
                for sql in [
                    "SELECT manifest FROM drafts",
                    "SELECT manifest FROM templates",
                    "SELECT manifest FROM packages WHERE manifest IS NOT NULL",
                ] {
                    let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(self.reads()).await?;
                    for m in &rows {
                        crate::blobs::digests_in_manifest(m, &mut out);
                    }
                }
                for sql in [
                    "SELECT artifact_sha256 FROM packages WHERE artifact_sha256 IS NOT NULL",
                    "SELECT sha256 FROM package_deltas",
                    "SELECT sha256 FROM images",
                ] {
                    let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(self.reads()).await?;
                    out.extend(rows);
                }
                Ok(out)
            }

            async fn list_drafts(&self, tp: TpId, offset: i64, limit: i64) -> Result<(i64, Vec<Draft>)> {
                let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM drafts WHERE tp_id = $1")
                    .bind(tp.0)
                    .fetch_one(self.reads())
                    .await?;
                let rows = sqlx::query(
                    "SELECT id, user_version, user_desc, size, created_at FROM drafts WHERE tp_id = $1 \
                     ORDER BY id DESC LIMIT $2 OFFSET $3",
                )
                .bind(tp.0)
                .bind(limit)
                .bind(offset)
                .fetch_all(self.reads())
                .await?;
                let list = rows.iter().map(draft_from_row).collect::<Result<_>>()?;
                Ok((count, list))
            }

            async fn list_templates(
                &self,
                tp: TpId,
                offset: i64,
                limit: i64,
            ) -> Result<(i64, Vec<Template>)> {
                let count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM templates WHERE tp_id = $1 AND deleted_at IS NULL",
                )
                .bind(tp.0)
                .fetch_one(self.reads())
                .await?;
                let rows = sqlx::query(
                    "SELECT id, tp_id, draft_id, user_version, user_desc, created_at FROM templates \
                     WHERE tp_id = $1 AND deleted_at IS NULL \
                     ORDER BY id DESC LIMIT $2 OFFSET $3",
                )
                .bind(tp.0)
                .bind(limit)
                .bind(offset)
                .fetch_all(self.reads())
                .await?;
                let list = rows.iter().map(template_from_row).collect::<Result<_>>()?;
                Ok((count, list))
            }

            async fn delete_template(&self, tp: TpId, id: TemplateId, now: i64) -> Result<bool> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                let done = sqlx::query(
                    "UPDATE templates SET deleted_at = $1 WHERE id = $2 AND tp_id = $3 AND deleted_at IS NULL",
                )
                .bind(now)
                .bind(id.0)
                .bind(tp.0)
                .execute(&mut **tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn template_exists(&self, tp: TpId, id: TemplateId) -> Result<bool> {
                let found: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM templates WHERE id = $1 AND tp_id = $2 AND deleted_at IS NULL",
                )
                .bind(id.0)
                .bind(tp.0)
                .fetch_optional(self.reads())
                .await?;
                Ok(found.is_some())
            }

            async fn list_all_templates(
                &self,
                tp: Option<TpId>,
                page: PageRequest,
            ) -> Result<(i64, Vec<Template>)> {
                let tp = tp.map(|t| t.0);
                let total: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM templates WHERE ($1 IS NULL OR tp_id = $1) AND deleted_at IS NULL",
                )
                .bind(tp)
                .fetch_one(self.reads())
                .await?;
                let rows = sqlx::query(
                    "SELECT id, tp_id, draft_id, user_version, user_desc, created_at FROM templates \
                     WHERE ($1 IS NULL OR tp_id = $1) AND deleted_at IS NULL \
                     ORDER BY id DESC LIMIT $2 OFFSET $3",
                )
                .bind(tp)
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(self.reads())
                .await?;
                Ok((
                    total,
                    rows.iter().map(template_from_row).collect::<Result<_>>()?,
                ))
            }
        }
    };
}
