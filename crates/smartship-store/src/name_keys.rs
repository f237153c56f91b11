//! Names' folded keys (`smartship_core::profile::name_key`) for rows
//! written before the store kept them (migration `name_keys`): filled in
//! when a store opens, a batch at a time, by each backend with the same
//! statements. Idempotent, so several nodes opening at once do no harm.

/// Fills in `apps.name_key` where it is missing, and brings pending
/// examinations' `name_claim` to the folded form. `$pool` is a sqlx pool.
macro_rules! backfill_name_keys {
    ($pool:expr) => {{
        use smartship_core::profile::name_key;
        let pool = $pool;
        loop {
            let rows: Vec<(i64, String)> = sqlx::query_as(
                "SELECT id, name FROM apps WHERE name_key IS NULL ORDER BY id LIMIT 500",
            )
            .fetch_all(pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = pool.begin().await?;
            for (id, name) in rows {
                sqlx::query("UPDATE apps SET name_key = $1 WHERE id = $2")
                    .bind(name_key(&name))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        let claims: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, name_claim FROM examinations \
             WHERE status = 'pending' AND name_claim IS NOT NULL",
        )
        .fetch_all(pool)
        .await?;
        for (id, claim) in claims {
            let key = name_key(&claim);
            if key == claim {
                continue;
            }
            let done = sqlx::query("UPDATE examinations SET name_claim = $1 WHERE id = $2")
                .bind(&key)
                .bind(id)
                .execute(pool)
                .await;
            match done {
                Ok(_) => {}
                // Two look-alike names were both pending before the
                // upgrade: the second keeps its old form, and its review
                // still compares against the apps' keys.
                Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                    tracing::warn!(examination = id, "a pending name claim looks like another");
                }
                Err(e) => return Err(e.into()),
            }
        }
    }};
}
