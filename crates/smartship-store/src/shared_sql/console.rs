//! The console's operators, their sessions and the review queue's pages,
//! written once for both backends.

/// The audit log's filters after its first condition, for every query
/// shape of `audit_log`: ids below $1, an actor kind $2 and an action $3 as
/// prefixes (substr: no LIKE, nothing to escape), times from $4 and before
/// $5, at most $6 rows.
macro_rules! audit_filters {
    () => {
        " AND id < $1 \
         AND ($2 IS NULL OR substr(actor, 1, length(CAST($2 AS TEXT))) = $2) \
         AND ($3 IS NULL OR substr(action, 1, length(CAST($3 AS TEXT))) = $3) \
         AND ($4 IS NULL OR at >= $4) AND ($5 IS NULL OR at < $5) \
         ORDER BY id DESC LIMIT $6"
    };
}

/// Expands to `impl ConsoleStore for $store`.
macro_rules! console_store {
    ($store:ty) => {
        fn operator_from_row(r: &impl Col) -> Result<Operator> {
            Ok(Operator {
                id: r.int("id")?,
                username: r.text("username")?,
                role: r.text("role")?,
                password_hash: r.text("password_hash")?,
                created_at: r.int("created_at")?,
                password_changed_at: r.int("password_changed_at")?,
            })
        }

        /// Ends every session of the operator named `$1`.
        const END_SESSIONS_OF: &str = "DELETE FROM operator_sessions WHERE operator_id IN \
             (SELECT id FROM operators WHERE username = $1)";

        #[async_trait]
        impl ConsoleStore for $store {
            async fn create_operator(
                &self,
                username: &str,
                role: &str,
                password_hash: &str,
                now: i64,
            ) -> Result<Option<Operator>> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                let row = sqlx::query(
                    "INSERT INTO operators (username, role, password_hash, created_at, password_changed_at) \
                     VALUES ($1, $2, $3, $4, $4) ON CONFLICT (username) DO NOTHING RETURNING *",
                )
                .bind(username)
                .bind(role)
                .bind(password_hash)
                .bind(now)
                .fetch_optional(&mut **tx)
                .await?;
                tx.commit().await?;
                row.as_ref().map(operator_from_row).transpose()
            }

            async fn operators(&self) -> Result<Vec<Operator>> {
                let rows = sqlx::query("SELECT * FROM operators ORDER BY username")
                    .fetch_all(self.reads())
                    .await?;
                rows.iter().map(operator_from_row).collect()
            }

            async fn operator(&self, username: &str) -> Result<Option<Operator>> {
                let row = sqlx::query("SELECT * FROM operators WHERE username = $1")
                    .bind(username)
                    .fetch_optional(self.reads())
                    .await?;
                row.as_ref().map(operator_from_row).transpose()
            }

            async fn remove_operator(&self, username: &str) -> Result<bool> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                sqlx::query(END_SESSIONS_OF)
                .bind(username)
                .execute(&mut **tx)
                .await?;
                let n = sqlx::query("DELETE FROM operators WHERE username = $1")
                    .bind(username)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(n > 0)
            }

            async fn set_operator_password(
                &self,
                username: &str,
                password_hash: &str,
                now: i64,
            ) -> Result<bool> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                let n = sqlx::query(
                    "UPDATE operators SET password_hash = $2, password_changed_at = $3 WHERE username = $1",
                )
                .bind(username)
                .bind(password_hash)
                .bind(now)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                sqlx::query(END_SESSIONS_OF)
                .bind(username)
                .execute(&mut **tx)
                .await?;
                tx.commit().await?;
                Ok(n > 0)
            }

            async fn create_operator_session(
                &self,
                session: NewOperatorSession,
                replaces: Option<&str>,
            ) -> Result<()> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                // Expired sessions go as new ones come, a bounded few at a
                // time, so the table holds about the live ones.
                sqlx::query(
                    "DELETE FROM operator_sessions WHERE token_hash IN \
                     (SELECT token_hash FROM operator_sessions WHERE expires_at <= $1 LIMIT 100)",
                )
                .bind(session.created_at)
                .execute(&mut **tx)
                .await?;
                if let Some(old) = replaces {
                    sqlx::query("DELETE FROM operator_sessions WHERE token_hash = $1")
                        .bind(old)
                        .execute(&mut **tx)
                        .await?;
                }
                sqlx::query(
                    "INSERT INTO operator_sessions (token_hash, operator_id, csrf, address, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&session.token_hash)
                .bind(session.operator_id)
                .bind(&session.csrf)
                .bind(&session.address)
                .bind(session.created_at)
                .bind(session.expires_at)
                .execute(&mut **tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn operator_session(
                &self,
                token_hash: &str,
                now: i64,
            ) -> Result<Option<OperatorSession>> {
                let row = sqlx::query(
                    "SELECT o.*, s.csrf, s.created_at AS session_created_at, s.expires_at \
                     FROM operator_sessions s JOIN operators o ON o.id = s.operator_id \
                     WHERE s.token_hash = $1 AND s.expires_at > $2",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(self.reads())
                .await?;
                row.map(|r| {
                    Ok(OperatorSession {
                        operator: operator_from_row(&r)?,
                        csrf: r.text("csrf")?,
                        created_at: r.int("session_created_at")?,
                        expires_at: r.int("expires_at")?,
                    })
                })
                .transpose()
            }

            async fn end_operator_session(&self, token_hash: &str) -> Result<bool> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                let n = sqlx::query("DELETE FROM operator_sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(n > 0)
            }

            async fn review_queue_page(
                &self,
                after: Option<(i64, i64)>,
                limit: i64,
            ) -> Result<QueuePage> {
                let total: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM packages WHERE state = 'auditing'")
                        .fetch_one(self.reads())
                        .await?;
                // Keyset paging on the queue's index (updated_at, id): a
                // page deep in a long queue costs what the first one does.
                let (since, after_id) = after.unwrap_or((i64::MIN, i64::MIN));
                let rows = sqlx::query(
                    "SELECT p.id, p.app_id, a.name AS app_name, p.version, p.version_desc, p.updated_at, \
                            COALESCE(c.blocking, 0) AS blocking \
                     FROM packages p JOIN apps a ON a.id = p.app_id \
                     LEFT JOIN package_checks c ON c.package_id = p.id \
                     WHERE p.state = 'auditing' AND (p.updated_at, p.id) > ($1, $2) \
                     ORDER BY p.updated_at, p.id LIMIT $3",
                )
                .bind(since)
                .bind(after_id)
                .bind(limit)
                .fetch_all(self.reads())
                .await?;
                let items = rows
                    .iter()
                    .map(|r| {
                        Ok(QueuedPackage {
                            package_id: PackageId(r.int("id")?),
                            app_id: AppId(r.int("app_id")?),
                            app_name: r.text("app_name")?,
                            version: r.text("version")?,
                            version_desc: r.text("version_desc")?,
                            submitted_at: r.int("updated_at")?,
                            blocking_checks: r.int("blocking")?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(QueuePage { total, items })
            }

            async fn app_timeline(&self, app: AppId, limit: i64) -> Result<Vec<TimelineEntry>> {
                let rows = sqlx::query(
                    "SELECT t.*, p.version FROM package_transitions t JOIN packages p ON p.id = t.package_id \
                     WHERE t.app_id = $1 ORDER BY t.at DESC, t.id DESC LIMIT $2",
                )
                .bind(app.0)
                .bind(limit)
                .fetch_all(self.reads())
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(TimelineEntry {
                            package_id: PackageId(r.int("package_id")?),
                            version: r.text("version")?,
                            transition: transition_from_row(r)?,
                        })
                    })
                    .collect()
            }

            async fn app_authorizations(&self, app: AppId) -> Result<Vec<AppAuthorization>> {
                let rows = sqlx::query(
                    "SELECT t.client_id, t.name, a.scopes, a.active, a.updated_at \
                     FROM authorizations a JOIN tps t ON t.id = a.tp_id WHERE a.app_id = $1 ORDER BY t.name",
                )
                .bind(app.0)
                .fetch_all(self.reads())
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(AppAuthorization {
                            client_id: r.try_get("client_id")?,
                            tp_name: r.try_get("name")?,
                            scopes: r.try_get("scopes")?,
                            active: r.try_get("active")?,
                            updated_at: r.try_get("updated_at")?,
                        })
                    })
                    .collect()
            }

            async fn event_page(
                &self,
                filter: &EventFilter,
                before: Option<i64>,
                limit: i64,
            ) -> Result<Vec<EventRecord>> {
                let rows = sqlx::query(
                    "SELECT * FROM events WHERE id < $1 AND ($2 IS NULL OR tp_id = $2) \
                     AND ($3 IS NULL OR kind = $3) AND ($4 IS NULL OR status = $4) \
                     ORDER BY id DESC LIMIT $5",
                )
                .bind(before.unwrap_or(i64::MAX))
                .bind(filter.tp.map(|t| t.0))
                .bind(filter.kind.as_deref())
                .bind(filter.status.as_deref())
                .bind(limit)
                .fetch_all(self.reads())
                .await?;
                rows.iter().map(event_from_row).collect()
            }

            async fn delivery_lags(&self, since: i64, limit: i64) -> Result<Vec<i64>> {
                Ok(sqlx::query_scalar(
                    "SELECT delivered_at - occurred_at FROM events WHERE delivered_at >= $1 \
                     ORDER BY delivered_at DESC LIMIT $2",
                )
                .bind(since)
                .bind(limit)
                .fetch_all(self.reads())
                .await?)
            }

            async fn daily_actions(
                &self,
                since: i64,
                offset_ms: i64,
            ) -> Result<Vec<(i64, String, i64)>> {
                let rows = sqlx::query(
                    "SELECT (at + $2) / 86400000 AS day, action, COUNT(*) AS n FROM package_transitions \
                     WHERE at >= $1 AND action IN ('review_pass', 'review_fail', 'release', 'rollback') \
                     GROUP BY day, action ORDER BY day",
                )
                .bind(since)
                .bind(offset_ms)
                .fetch_all(self.reads())
                .await?;
                rows.iter()
                    .map(|r| Ok((r.int("day")?, r.text("action")?, r.int("n")?)))
                    .collect()
            }
        }

        fn audit_from_row(r: &impl Col) -> Result<AuditEntry> {
            Ok(AuditEntry {
                id: r.int("id")?,
                entry: NewAuditEntry {
                    at: r.int("at")?,
                    actor: r.text("actor")?,
                    address: r.opt_text("address")?,
                    action: r.text("action")?,
                    target: r.text("target")?,
                    detail: r.text("detail")?,
                    outcome: r.text("outcome")?,
                },
            })
        }

        #[async_trait]
        impl AuditStore for $store {
            async fn append_audit(&self, entries: &[NewAuditEntry]) -> Result<()> {
                if entries.is_empty() {
                    return Ok(());
                }
                let mut tx = self.begin_write(Touches::Nothing).await?;
                // A few statements of many rows each: the batch holds the
                // writer's lock for as short a time as it can.
                for chunk in entries.chunks(200) {
                    let mut insert = sqlx::QueryBuilder::new(
                        "INSERT INTO audit_log (at, actor, address, action, target, detail, outcome) ",
                    );
                    insert.push_values(chunk, |mut row, e| {
                        row.push_bind(e.at)
                            .push_bind(&e.actor)
                            .push_bind(&e.address)
                            .push_bind(&e.action)
                            .push_bind(&e.target)
                            .push_bind(&e.detail)
                            .push_bind(&e.outcome);
                    });
                    insert.build().execute(&mut **tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn purge_audit(&self, before: i64, batch: i64) -> Result<u64> {
                let mut tx = self.begin_write(Touches::Nothing).await?;
                let n = sqlx::query(
                    "DELETE FROM audit_log WHERE id IN \
                     (SELECT id FROM audit_log WHERE at < $1 ORDER BY id LIMIT $2)",
                )
                .bind(before)
                .bind(batch)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(n)
            }

            async fn audit_log(
                &self,
                filter: &AuditFilter,
                before: Option<i64>,
                limit: i64,
            ) -> Result<Vec<AuditEntry>> {
                // An actor ending with ':' is a kind (every console
                // operator); any other is one actor. A target or one actor
                // is found through its index; the other filters are applied
                // on a walk down the ids, which stops at `limit` rows.
                let (kind, one) = match filter.actor.as_deref() {
                    Some(a) if a.ends_with(':') => (Some(a), None),
                    Some(a) => (None, Some(a)),
                    None => (None, None),
                };
                let (sql, seventh, eighth): (&str, Option<&str>, Option<&str>) =
                    match (filter.target.as_deref(), one) {
                        (Some(target), one) => (
                            concat!(
                                "SELECT * FROM audit_log WHERE target = $7 AND ($8 IS NULL OR actor = $8)",
                                audit_filters!()
                            ),
                            Some(target),
                            one,
                        ),
                        (None, Some(actor)) => (
                            concat!(
                                "SELECT * FROM audit_log WHERE actor = $7 AND CAST($8 AS TEXT) IS NULL",
                                audit_filters!()
                            ),
                            Some(actor),
                            None,
                        ),
                        (None, None) => (
                            concat!(
                                "SELECT * FROM audit_log WHERE CAST($7 AS TEXT) IS NULL \
                                 AND CAST($8 AS TEXT) IS NULL",
                                audit_filters!()
                            ),
                            None,
                            None,
                        ),
                    };
                let rows = sqlx::query(sql)
                    .bind(before.unwrap_or(i64::MAX))
                    .bind(kind)
                    .bind(filter.action.as_deref())
                    .bind(filter.since)
                    .bind(filter.until)
                    .bind(limit)
                    .bind(seventh)
                    .bind(eighth)
                    .fetch_all(self.reads())
                    .await?;
                rows.iter().map(audit_from_row).collect()
            }
        }
    };
}
