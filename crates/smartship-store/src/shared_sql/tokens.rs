//! Access and refresh tokens and single-use codes: the methods whose SQL both
//! backends run as it is.

/// Expands to `impl TokenStore for $store`, every method written once for both
/// backends. Spending a code and rotating a refresh token check a row, then
/// write it: the backend's `for_update!()` (`for_update!("t")` for one table
/// of a join) locks that row where writers run at once (PostgreSQL), and is
/// empty where the writer's turn already excludes them (SQLite). Names in the
/// bodies (row decoders, `Touches`, `Tx`, `for_update!`) are the expanding
/// backend's; `self.reads()` is its pool for reads.
macro_rules! token_store {
    ($store:ty) => {
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

        #[async_trait]
        impl TokenStore for $store {
            async fn consume_code(
                &self,
                kind: CodeKind,
                hash: &str,
                tp: TpId,
                now: i64,
            ) -> Result<std::result::Result<UsedCode, CodeRefusal>> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                let Some(row) = sqlx::query(concat!(
                    "SELECT tp_id, app_id, expires_at, used_at FROM codes \
                     WHERE hash = $1 AND kind = $2 AND tp_id = $3",
                    for_update!()
                ))
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
                let Some(row) = sqlx::query(concat!(
                    "SELECT t.tp_id, t.app_id, t.expires_at, t.revoked, t.created_at, \
                       COALESCE(a.active, FALSE) AS active \
                     FROM tokens t LEFT JOIN authorizations a ON a.app_id = t.app_id AND a.tp_id = t.tp_id \
                     WHERE t.hash = $1 AND t.kind = 'app_refresh'",
                    for_update!("t")
                ))
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

            async fn code_usable(&self, kind: CodeKind, hash: &str, tp: TpId, now: i64) -> Result<bool> {
                let found: Option<String> = sqlx::query_scalar(
                    "SELECT hash FROM codes WHERE hash = $1 AND kind = $2 AND tp_id = $3 \
                       AND used_at IS NULL AND expires_at > $4",
                )
                .bind(hash)
                .bind(kind.as_str())
                .bind(tp.0)
                .bind(now)
                .fetch_optional(self.reads())
                .await?;
                Ok(found.is_some())
            }

            async fn insert_code(&self, c: NewCode) -> Result<()> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                sqlx::query(
                    "INSERT INTO codes (hash, kind, tp_id, app_id, expires_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&c.hash)
                .bind(c.kind.as_str())
                .bind(c.tp_id.0)
                .bind(c.app_id.map(|a| a.0))
                .bind(c.expires_at)
                .bind(c.created_at)
                .execute(&mut **tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn insert_token(&self, t: NewToken) -> Result<()> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                insert_token_in(&mut tx, &t).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn token(&self, hash: &str) -> Result<Option<TokenRecord>> {
                let seen = match self.cache.token(hash) {
                    Ok(record) => return Ok(Some(record)),
                    Err(generation) => generation,
                };
                let record = self.token_uncached(hash).await?;
                if let Some(r) = &record {
                    self.cache.put_token(hash, r.clone(), seen);
                }
                Ok(record)
            }
        }
    };
}
