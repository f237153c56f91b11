//! Third-party platforms, apps, their authorizations, tickets and the apps'
//! administrator accounts: the methods whose SQL both backends run as it is.

/// Expands to `impl PartyStore for $store`: the methods below, written once for
/// both backends (`create_tp`, `tp_by_client_id`, `tp_by_id`, `app`,
/// `update_app`, `authorization_active`, `authorization_scopes`, `unauthorize`,
/// `rotate_ticket`, `rotate_ticket_if_due`, `tickets`, `tps_due_for_ticket`, `upsert_app_admin`,
/// `app_admin`, `update_tp`, `list_apps`, `list_tps`), and `$own`, the methods
/// a backend writes itself — creating an app (its id sequence), authorizing
/// (the lock on the app). Names in the bodies (row decoders, `Touches`,
/// `package_cols!`) are the expanding backend's; `self.reads()` is its pool for
/// reads.
macro_rules! party_store {
    ($store:ty, contains: $contains:literal, { $($own:tt)* }) => {
        /// Records the operator's basic-info shortcut (an examination of
        /// the whole, decided as it is made) and recomputes the approval.
        pub(super) async fn record_shortcut(
            tx: &mut Tx<'_>,
            app: AppId,
            approved: bool,
            actor: &str,
            now: i64,
        ) -> Result<()> {
            use smartship_core::profile::{ExamStatus, Field};
            let status = if approved { ExamStatus::Passed } else { ExamStatus::Failed };
            sqlx::query(
                "INSERT INTO examinations (app_id, field, value, material, status, reason, \
                   submitted_by, submitted_at, reviewed_by, reviewed_at) \
                 VALUES ($1, $2, '', '', $3, '', $4, $5, $4, $5)",
            )
            .bind(app.0)
            .bind(Field::BasicInfo.as_str())
            .bind(status.as_str())
            .bind(actor)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            refresh_approval(tx, app).await
        }

        /// Recomputes `apps.basic_info_approved`, the projection of the
        /// examinations the lifecycle reads under the app's lock
        /// ([`smartship_core::profile::Approvals`]).
        pub(super) async fn refresh_approval(tx: &mut Tx<'_>, app: AppId) -> Result<()> {
            use smartship_core::profile::{Approvals, CategoryChoice, ExamStatus, Field};
            let passed: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT field FROM examinations \
                 WHERE app_id = $1 AND status = 'passed' AND field IN ('name', 'photo', 'signature')",
            )
            .bind(app.0)
            .fetch_all(&mut **tx)
            .await?;
            let categories: Option<String> =
                sqlx::query_scalar("SELECT categories FROM apps WHERE id = $1")
                    .bind(app.0)
                    .fetch_optional(&mut **tx)
                    .await?;
            let shortcut: Option<String> = sqlx::query_scalar(
                "SELECT status FROM examinations WHERE app_id = $1 AND field = $2 \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(app.0)
            .bind(Field::BasicInfo.as_str())
            .fetch_optional(&mut **tx)
            .await?;
            let categories: Vec<CategoryChoice> =
                serde_json::from_str(categories.as_deref().unwrap_or("[]"))
                    .map_err(|e| StoreError::Corrupt(format!("categories: {e}")))?;
            let has = |f: Field| passed.iter().any(|p| p == f.as_str());
            let approvals = Approvals {
                name: has(Field::Name),
                photo: has(Field::Photo),
                signature: has(Field::Signature),
                categories: categories.len(),
                shortcut: shortcut.map(|s| s == ExamStatus::Passed.as_str()),
            };
            sqlx::query("UPDATE apps SET basic_info_approved = $2 WHERE id = $1")
                .bind(app.0)
                .bind(approvals.approved())
                .execute(&mut **tx)
                .await?;
            Ok(())
        }

        /// A new ticket of `tp` and its push, in `tx`.
        async fn write_ticket_in(
            tx: &mut Tx<'_>,
            tp: TpId,
            ticket: &str,
            payload: &str,
            now: i64,
        ) -> Result<()> {
            sqlx::query("INSERT INTO tp_tickets (tp_id, ticket, created_at) VALUES ($1, $2, $3)")
                .bind(tp.0)
                .bind(ticket)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            // A ticket held for want of a URL is worthless once a newer one
            // exists: only the newest is delivered when a URL is set.
            sqlx::query(
                "UPDATE events SET status = 'discarded', \
                   last_error = 'superseded by a newer ticket before it could be delivered' \
                 WHERE tp_id = $1 AND kind = 'TICKET' AND status = 'undeliverable'",
            )
            .bind(tp.0)
            .execute(&mut **tx)
            .await?;
            insert_auth_event(tx, tp, None, EventKind::Ticket, payload, now).await
        }

        #[async_trait]
        impl PartyStore for $store {
            $($own)*

            async fn authorize(
                &self,
                app: AppId,
                tp: TpId,
                scopes: &str,
                now: i64,
            ) -> Result<Authorization> {
                let mut tx = self.begin_write(Touches::Tokens).await?;
                // The app's row serializes authorizations of the app (SQLite: the
                // writer's turn), so that two at once cannot both see "new" and
                // both announce AUTHORIZED.
                sqlx::query(concat!("SELECT id FROM apps WHERE id = $1", for_update!()))
                    .bind(app.0)
                    .execute(&mut **tx)
                    .await?;
                let was_active: Option<bool> = sqlx::query_scalar(
                    "SELECT active FROM authorizations WHERE app_id = $1 AND tp_id = $2",
                )
                .bind(app.0)
                .bind(tp.0)
                .fetch_optional(&mut **tx)
                .await?;
                sqlx::query(
                    "INSERT INTO authorizations (app_id, tp_id, scopes, active, created_at, updated_at) \
                     VALUES ($1, $2, $3, TRUE, $4, $4) \
                     ON CONFLICT (app_id, tp_id) DO UPDATE SET scopes = excluded.scopes, active = TRUE, \
                       updated_at = excluded.updated_at",
                )
                .bind(app.0)
                .bind(tp.0)
                .bind(scopes)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                let kind = if was_active == Some(true) {
                    EventKind::UpdateAuthorized
                } else {
                    EventKind::Authorized
                };
                let payload = serde_json::json!({ "scopes": scopes }).to_string();
                insert_auth_event(&mut tx, tp, Some(app), kind, &payload, now).await?;
                tx.commit().await?;
                Ok(Authorization {
                    app_id: app,
                    tp_id: tp,
                    scopes: scopes.to_owned(),
                    active: true,
                })
            }

            async fn create_tp(&self, tp: NewTp, now: i64) -> Result<Tp> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                let row = sqlx::query(
                    "INSERT INTO tps (client_id, name, message_url, auth_event_url, msg_token, encoding_aes_key, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
                )
                .bind(&tp.client_id)
                .bind(&tp.name)
                .bind(&tp.message_url)
                .bind(&tp.auth_event_url)
                .bind(&tp.msg_token)
                .bind(&tp.encoding_aes_key)
                .bind(now)
                .fetch_one(&mut **tx)
                .await
                .map_err(|e| match &e {
                    sqlx::Error::Database(d) if d.is_unique_violation() => {
                        StoreError::Conflict(format!("client_id {} exists", tp.client_id))
                    }
                    _ => StoreError::from(e),
                })?;
                tx.commit().await?;
                tp_from_row(&row)
            }

            async fn tp_by_client_id(&self, client_id: &str) -> Result<Option<Tp>> {
                sqlx::query("SELECT * FROM tps WHERE client_id = $1")
                    .bind(client_id)
                    .fetch_optional(self.reads())
                    .await?
                    .as_ref()
                    .map(tp_from_row)
                    .transpose()
            }

            async fn tp_by_id(&self, id: TpId) -> Result<Option<Tp>> {
                sqlx::query("SELECT * FROM tps WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(self.reads())
                    .await?
                    .as_ref()
                    .map(tp_from_row)
                    .transpose()
            }

            async fn app(&self, id: AppId) -> Result<Option<App>> {
                sqlx::query("SELECT * FROM apps WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(self.reads())
                    .await?
                    .as_ref()
                    .map(app_from_row)
                    .transpose()
            }

            async fn update_app(&self, id: AppId, u: AppUpdate) -> Result<Option<App>> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                let exists = sqlx::query_scalar::<_, i64>(concat!(
                    "SELECT id FROM apps WHERE id = $1",
                    for_update!()
                ))
                .bind(id.0)
                .fetch_optional(&mut **tx)
                .await?;
                if exists.is_none() {
                    return Ok(None);
                }
                let now = crate::unix_ms_now();
                sqlx::query(
                    "UPDATE apps SET name = COALESCE($1, name), \
                       authenticity_verified = COALESCE($2, authenticity_verified), \
                       service_status = COALESCE($4, service_status), \
                       name_key = COALESCE($5, name_key), \
                       min_base_version = COALESCE($6, min_base_version) \
                     WHERE id = $3",
                )
                .bind(u.name.as_deref())
                .bind(u.authenticity_verified)
                .bind(id.0)
                .bind(u.service_status.map(|s| s.as_str()))
                .bind(u.name.as_deref().map(smartship_core::profile::name_key))
                .bind(u.min_base_version.as_deref())
                .execute(&mut **tx)
                .await?;
                if let Some(approved) = u.basic_info_approved {
                    record_shortcut(&mut tx, id, approved, "operator", now).await?;
                }
                if let Some(status) = u.service_status {
                    // A service restored (or paused) ends what an operator
                    // held against it; a new ban or offline records why.
                    sqlx::query(
                        "UPDATE violations SET resolved_at = $2 WHERE app_id = $1 AND resolved_at IS NULL",
                    )
                    .bind(id.0)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                    // A restoration asked for before this change would
                    // undo it when passed: it is failed now.
                    sqlx::query(
                        "UPDATE examinations SET status = 'failed', \
                           reason = '运营方已变更小程序服务状态', reviewed_by = 'operator', reviewed_at = $2 \
                         WHERE app_id = $1 AND field = 'restore' AND status = 'pending'",
                    )
                    .bind(id.0)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                    if matches!(status, ServiceStatus::Banned | ServiceStatus::ForcedOffline) {
                        sqlx::query(
                            "INSERT INTO violations (app_id, status, reason, illegal_fields, created_by, created_at) \
                             VALUES ($1, $2, $3, $4, 'operator', $5)",
                        )
                        .bind(id.0)
                        .bind(status.as_str())
                        .bind(u.reason.as_deref().unwrap_or(""))
                        .bind(u.illegal_fields.as_deref().unwrap_or(""))
                        .bind(now)
                        .execute(&mut **tx)
                        .await?;
                    }
                }
                let row = sqlx::query("SELECT * FROM apps WHERE id = $1")
                    .bind(id.0)
                    .fetch_one(&mut **tx)
                    .await?;
                tx.commit().await?;
                Some(app_from_row(&row)).transpose()
            }

            async fn authorization_active(&self, app: AppId, tp: TpId) -> Result<bool> {
                Ok(self.authorization_scopes(app, tp).await?.is_some())
            }

            async fn authorization_scopes(&self, app: AppId, tp: TpId) -> Result<Option<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT scopes FROM authorizations WHERE app_id = $1 AND tp_id = $2 AND active",
                )
                .bind(app.0)
                .bind(tp.0)
                .fetch_optional(self.reads())
                .await?)
            }

            async fn unauthorize(&self, app: AppId, tp: TpId, now: i64) -> Result<bool> {
                let mut tx = self.begin_write(Touches::Tokens).await?;
                let done = sqlx::query(
                    "UPDATE authorizations SET active = FALSE, updated_at = $1 \
                     WHERE app_id = $2 AND tp_id = $3 AND active",
                )
                .bind(now)
                .bind(app.0)
                .bind(tp.0)
                .execute(&mut **tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                sqlx::query("UPDATE tokens SET revoked = TRUE WHERE app_id = $1 AND tp_id = $2")
                    .bind(app.0)
                    .bind(tp.0)
                    .execute(&mut **tx)
                    .await?;
                insert_auth_event(&mut tx, tp, Some(app), EventKind::Unauthorized, "{}", now).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn rotate_ticket(&self, tp: TpId, ticket: &str, payload: &str, now: i64) -> Result<()> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                write_ticket_in(&mut tx, tp, ticket, payload, now).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn rotate_ticket_if_due(
                &self,
                tp: TpId,
                ticket: &str,
                payload: &str,
                now: i64,
                due_before: i64,
            ) -> Result<bool> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                // The platform's row: of the nodes that find the platform due
                // at once, one writes its ticket, the others then see it.
                sqlx::query(concat!("SELECT id FROM tps WHERE id = $1", for_update!()))
                    .bind(tp.0)
                    .execute(&mut **tx)
                    .await?;
                let newest: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(created_at) FROM tp_tickets WHERE tp_id = $1")
                        .bind(tp.0)
                        .fetch_one(&mut **tx)
                        .await?;
                if newest.is_some_and(|at| at >= due_before) {
                    return Ok(false);
                }
                write_ticket_in(&mut tx, tp, ticket, payload, now).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn tickets(&self, tp: TpId, since: i64) -> Result<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT ticket FROM tp_tickets WHERE tp_id = $1 AND created_at >= $2 ORDER BY id DESC",
                )
                .bind(tp.0)
                .bind(since)
                .fetch_all(self.reads())
                .await?)
            }

            async fn tps_due_for_ticket(&self, before: i64) -> Result<Vec<TpId>> {
                let ids: Vec<i64> = sqlx::query_scalar(
                    "SELECT t.id FROM tps t WHERE NOT EXISTS ( \
                       SELECT 1 FROM tp_tickets k WHERE k.tp_id = t.id AND k.created_at >= $1) \
                     ORDER BY t.id",
                )
                .bind(before)
                .fetch_all(self.reads())
                .await?;
                Ok(ids.into_iter().map(TpId).collect())
            }

            async fn upsert_app_admin(
                &self,
                username: &str,
                app: AppId,
                password_hash: &str,
                now: i64,
            ) -> Result<()> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                sqlx::query(
                    "INSERT INTO app_admins (username, app_id, password_hash, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO UPDATE SET \
                       app_id = excluded.app_id, password_hash = excluded.password_hash",
                )
                .bind(username)
                .bind(app.0)
                .bind(password_hash)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn app_admin(&self, username: &str) -> Result<Option<(AppId, String)>> {
                let row = sqlx::query("SELECT app_id, password_hash FROM app_admins WHERE username = $1")
                    .bind(username)
                    .fetch_optional(self.reads())
                    .await?;
                row.map(|r| Ok((AppId(r.try_get(0)?), r.try_get(1)?)))
                    .transpose()
            }

            async fn update_tp(&self, client_id: &str, u: TpUpdate, now: i64) -> Result<Option<Tp>> {
                let mut tx = self.begin_write(Touches::Tokens).await?;
                // A flag per field tells "leave as is" from "set (possibly to NULL)".
                let tp = sqlx::query(
                    "UPDATE tps SET \
                       message_url = CASE WHEN $1 THEN $2 ELSE message_url END, \
                       auth_event_url = CASE WHEN $3 THEN $4 ELSE auth_event_url END, \
                       webhook_secret = CASE WHEN $5 THEN $6 ELSE webhook_secret END, \
                       redirect_domain = CASE WHEN $8 THEN $9 ELSE redirect_domain END, \
                       ip_allowlist = CASE WHEN $10 THEN $11 ELSE ip_allowlist END, \
                       release_events = COALESCE($12, release_events) \
                     WHERE client_id = $7 RETURNING *",
                )
                .bind(u.message_url.is_some())
                .bind(u.message_url.flatten())
                .bind(u.auth_event_url.is_some())
                .bind(u.auth_event_url.flatten())
                .bind(u.webhook_secret.is_some())
                .bind(u.webhook_secret.flatten())
                .bind(client_id)
                .bind(u.redirect_domain.is_some())
                .bind(u.redirect_domain.flatten())
                .bind(u.ip_allowlist.is_some())
                .bind(u.ip_allowlist.flatten())
                .bind(u.release_events.map(|l| l.join(",")))
                .fetch_optional(&mut **tx)
                .await?
                .as_ref()
                .map(tp_from_row)
                .transpose()?;
                if let Some(tp) = &tp {
                    // Events held for want of a URL go out now that there is one.
                    for (target, url) in [
                        (EventTarget::Message, &tp.message_url),
                        (EventTarget::Auth, &tp.auth_event_url),
                    ] {
                        if url.is_some() {
                            sqlx::query(
                                "UPDATE events SET status = 'pending', next_attempt_at = $1, \
                                   last_error = NULL \
                                 WHERE tp_id = $2 AND target = $3 AND status = 'undeliverable'",
                            )
                            .bind(now)
                            .bind(tp.id.0)
                            .bind(target.as_str())
                            .execute(&mut **tx)
                            .await?;
                        }
                    }
                }
                tx.commit().await?;
                Ok(tp)
            }

            async fn list_apps(&self, f: &AppFilter, page: PageRequest) -> Result<(i64, Vec<App>)> {
                // A substring search on lowered text (`$contains`: `strpos` or
                // `instr`): a name filter with % or _ matches them literally, which
                // LIKE would not.
                macro_rules! filter {
                    () => {
                        concat!(
                            " FROM apps a WHERE ($1 IS NULL OR ",
                            $contains,
                            "(lower(a.name), lower($1)) > 0) \
                             AND ($2 IS NULL OR EXISTS (SELECT 1 FROM authorizations z \
                                  WHERE z.app_id = a.id AND z.tp_id = $2 AND z.active))"
                        )
                    };
                }
                let total: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*)", filter!()))
                    .bind(&f.name_contains)
                    .bind(f.tp.map(|t| t.0))
                    .fetch_one(self.reads())
                    .await?;
                let rows = sqlx::query(concat!(
                    "SELECT a.*",
                    filter!(),
                    " ORDER BY a.id LIMIT $3 OFFSET $4"
                ))
                .bind(&f.name_contains)
                .bind(f.tp.map(|t| t.0))
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(self.reads())
                .await?;
                Ok((total, rows.iter().map(app_from_row).collect::<Result<_>>()?))
            }

            async fn list_tps(&self, page: PageRequest) -> Result<(i64, Vec<Tp>)> {
                let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tps")
                    .fetch_one(self.reads())
                    .await?;
                let rows = sqlx::query("SELECT * FROM tps ORDER BY id LIMIT $1 OFFSET $2")
                    .bind(page.limit)
                    .bind(page.offset)
                    .fetch_all(self.reads())
                    .await?;
                Ok((total, rows.iter().map(tp_from_row).collect::<Result<_>>()?))
            }
        }
    };
}
