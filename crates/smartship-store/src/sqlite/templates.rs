//! Drafts and the templates made from them.

use super::*;

template_store!(SqliteStore, {
    async fn add_template(
        &self,
        tp: TpId,
        draft: DraftId,
        user_desc: &str,
        max: i64,
        now: i64,
    ) -> Result<AddTemplate> {
        let mut tx = self.begin_write(Touches::Nothing).await?;
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
});
