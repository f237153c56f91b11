//! Third-party platforms, apps, their authorizations, tickets and the apps' administrator accounts.

use super::*;

party_store!(PgStore, contains: "strpos", {
    async fn create_app(&self, app: NewApp, now: i64) -> Result<App> {
        let mut tx = self.begin_write(Touches::Nothing).await?;
        let row = sqlx::query(
            "INSERT INTO apps (id, app_key, name, description, basic_info_approved, authenticity_verified, created_at, name_key) \
             VALUES (COALESCE($1, nextval(pg_get_serial_sequence('apps', 'id'))), $2, $3, $4, $5, \
               $6, $7, $8) RETURNING *",
        )
        .bind(app.id.map(|i| i.0))
        .bind(&app.app_key)
        .bind(&app.name)
        .bind(&app.description)
        .bind(app.basic_info_approved)
        .bind(app.authenticity_verified)
        .bind(now)
        .bind(smartship_core::profile::name_key(&app.name))
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Conflict("app id or key exists".to_owned())
            }
            _ => StoreError::from(e),
        })?;
        if app.id.is_some() {
            // An id chosen by the caller: the sequence moves past it, so that
            // the next app without one does not collide with it.
            sqlx::query(
                "SELECT setval(pg_get_serial_sequence('apps', 'id'), m) \
                 FROM (SELECT MAX(id) AS m FROM apps) x WHERE m > (SELECT last_value FROM apps_id_seq)",
            )
            .execute(&mut **tx)
            .await?;
        }
        let app = app_from_row(&row)?;
        if app.basic_info_approved {
            record_shortcut(&mut tx, app.id, true, "operator", now).await?;
        }
        tx.commit().await?;
        Ok(app)
    }

});
