//! Access and refresh tokens and single-use codes: the methods whose SQL both
//! backends run as it is.

/// Expands to `impl TokenStore for $store`: the methods below, written once for
/// both backends (`code_usable`, `insert_code`, `insert_token`, `token`), and
/// `$own`, the methods a backend writes itself — spending a code and rotating a
/// refresh token (the row locks that make them single-use). Names in the bodies
/// (row decoders, `Touches`, `package_cols!`) are the expanding backend's;
/// `self.reads()` is its pool for reads.
macro_rules! token_store {
    ($store:ty, { $($own:tt)* }) => {
        #[async_trait]
        impl TokenStore for $store {
            $($own)*

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
