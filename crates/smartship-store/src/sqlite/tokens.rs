//! Access and refresh tokens, and the single-use codes of the authorization flow (all stored hashed).

use super::*;

async fn insert_token_in(tx: &mut Tx<'_>, t: &NewToken) -> Result<()> {
    sqlx::query(
        "INSERT INTO tokens (hash, kind, tp_id, app_id, expires_at, revoked, created_at) \
         VALUES ($1, $2, $3, $4, $5, FALSE, $6)",
    )
    .bind(&t.hash)
    .bind(t.kind.as_str())
    .bind(t.tp_id.0)
    .bind(t.app_id.map(|a| a.0))
    .bind(t.expires_at)
    .bind(t.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

token_store!(SqliteStore, {
    async fn consume_code(
        &self,
        kind: CodeKind,
        hash: &str,
        tp: TpId,
        now: i64,
    ) -> Result<std::result::Result<UsedCode, CodeRefusal>> {
        let mut tx = self.begin_write(Touches::Nothing).await?;
        let Some(row) = sqlx::query(
            "SELECT tp_id, app_id, expires_at, used_at FROM codes \
             WHERE hash = $1 AND kind = $2 AND tp_id = $3",
        )
        .bind(hash)
        .bind(kind.as_str())
        .bind(tp.0)
        .fetch_optional(&mut **tx)
        .await?
        else {
            return Ok(Err(CodeRefusal::Unknown));
        };
        if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
            return Ok(Err(CodeRefusal::AlreadyUsed));
        }
        if row.try_get::<i64, _>("expires_at")? <= now {
            return Ok(Err(CodeRefusal::Expired));
        }
        sqlx::query("UPDATE codes SET used_at = $1 WHERE hash = $2 AND used_at IS NULL")
            .bind(now)
            .bind(hash)
            .execute(&mut **tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(UsedCode {
            tp_id: TpId(row.try_get("tp_id")?),
            app_id: row.try_get::<Option<i64>, _>("app_id")?.map(AppId),
        }))
    }

    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new_tokens: &[NewToken],
        now: i64,
    ) -> Result<std::result::Result<(TpId, AppId), RefreshRefusal>> {
        let mut tx = self.begin_write(Touches::Tokens).await?;
        let Some(row) = sqlx::query(
            "SELECT t.tp_id, t.app_id, t.expires_at, t.revoked, t.created_at, \
               COALESCE(a.active, FALSE) AS active \
             FROM tokens t LEFT JOIN authorizations a ON a.app_id = t.app_id AND a.tp_id = t.tp_id \
             WHERE t.hash = $1 AND t.kind = 'app_refresh'",
        )
        .bind(old_hash)
        .fetch_optional(&mut **tx)
        .await?
        else {
            return Ok(Err(RefreshRefusal::Unknown));
        };
        // An ended authorization revokes its tokens: report that, not a reuse.
        if !row.try_get::<bool, _>("active")? {
            return Ok(Err(RefreshRefusal::NotAuthorized));
        }
        if row.try_get::<bool, _>("revoked")? {
            return Ok(Err(RefreshRefusal::Reused));
        }
        if row.try_get::<i64, _>("expires_at")? <= now {
            return Ok(Err(RefreshRefusal::Expired));
        }
        let tp = TpId(row.try_get("tp_id")?);
        let Some(app) = row.try_get::<Option<i64>, _>("app_id")?.map(AppId) else {
            return Ok(Err(RefreshRefusal::Unknown));
        };
        sqlx::query("UPDATE tokens SET revoked = TRUE WHERE hash = $1")
            .bind(old_hash)
            .execute(&mut **tx)
            .await?;
        // The access token issued with the old refresh token (same instant)
        // is replaced too.
        sqlx::query(
            "UPDATE tokens SET revoked = TRUE WHERE kind = 'app_access' AND app_id = $1 \
               AND tp_id = $2 AND created_at = $3",
        )
        .bind(app.0)
        .bind(tp.0)
        .bind(row.try_get::<i64, _>("created_at")?)
        .execute(&mut **tx)
        .await?;
        for t in new_tokens {
            insert_token_in(&mut tx, t).await?;
        }
        tx.commit().await?;
        Ok(Ok((tp, app)))
    }
});
