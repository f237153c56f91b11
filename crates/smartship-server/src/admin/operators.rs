//! Operator routes for the console's accounts: made, listed, removed,
//! their passwords reset. A password is given, or generated and shown once;
//! a reset or a removal ends the operator's sessions.

use super::AdminError;
use crate::api_doc::AdminErrors;
use crate::service::operators;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use smartship_api::admin::{OperatorView, OperatorViews, OperatorWithPassword};
use smartship_api::requests::admin::{NewOperator, PasswordReset};
use smartship_api::requests::paths::OperatorPath;
use smartship_core::roles::Role;
use smartship_store::Operator;

/// Shortest password an operator may have.
pub const MIN_PASSWORD: usize = 10;
const MAX_PASSWORD: usize = 256;
const MAX_USERNAME: usize = 64;

fn view(o: &Operator) -> OperatorView {
    OperatorView {
        username: o.username.clone(),
        role: o.role.clone(),
        created_at: o.created_at.div_euclid(1000),
        password_changed_at: o.password_changed_at.div_euclid(1000),
    }
}

/// A username: 1–64 of letters, digits, `.`, `_`, `-`, `@`.
pub fn check_username(name: &str) -> Result<(), AdminError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_USERNAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(AdminError::invalid(format!(
            "username: 1 to {MAX_USERNAME} of letters, digits, '.', '_', '-', '@'"
        )))
    }
}

/// The password to set: the given one, checked, or a generated one (also
/// returned, to be shown once).
fn password(given: Option<String>) -> Result<(String, Option<String>), AdminError> {
    match given {
        Some(p) => {
            let n = p.chars().count();
            if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
                return Err(AdminError::invalid(format!(
                    "password: {MIN_PASSWORD} to {MAX_PASSWORD} characters"
                )));
            }
            Ok((p, None))
        }
        None => {
            let p = crate::tokens::random_alnum(20);
            Ok((p.clone(), Some(p)))
        }
    }
}

async fn hash(password: String) -> Result<String, AdminError> {
    Ok(tokio::task::spawn_blocking(move || crate::passwords::hash(&password)).await?)
}

#[utoipa::path(
    post,
    path = "/admin/v1/operators",
    tag = "operator",
    operation_id = "admin_create_operator",
    summary = "Make a console operator account",
    security(("admin_token" = [])),
    request_body(content = NewOperator, content_type = "application/json"),
    responses((status = 201, description = "The operator, with the generated password when none was given.", body = OperatorWithPassword), (status = 409, description = "The username is taken (`conflict`).", body = crate::api_doc::AdminErrorBody), AdminErrors)
)]
pub async fn create(
    State(s): State<AppState>,
    req: Result<Json<NewOperator>, JsonRejection>,
) -> Result<(StatusCode, Json<OperatorWithPassword>), AdminError> {
    let Json(req) =
        req.map_err(|e| AdminError::invalid(format!("request body: {}", e.body_text())))?;
    check_username(&req.username)?;
    let Some(role) = Role::parse(&req.role) else {
        return Err(AdminError::invalid("role: admin, reviewer or viewer"));
    };
    let (password, shown) = password(req.password)?;
    let hashed = hash(password).await?;
    let made = operators::create(&s, &req.username, role, &hashed)
        .await?
        .ok_or_else(|| {
            AdminError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("an operator named {:?} exists", req.username),
            )
        })?;
    Ok((
        StatusCode::CREATED,
        Json(OperatorWithPassword {
            operator: view(&made),
            password: shown,
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/admin/v1/operators",
    tag = "operator",
    operation_id = "admin_operators",
    summary = "The console operator accounts",
    security(("admin_token" = [])),
    responses((status = 200, description = "Every operator, by username.", body = OperatorViews), AdminErrors)
)]
pub async fn list(State(s): State<AppState>) -> Result<Json<OperatorViews>, AdminError> {
    let all = s.store.operators().await?;
    Ok(Json(OperatorViews {
        operators: all.iter().map(view).collect(),
    }))
}

#[utoipa::path(
    delete,
    path = "/admin/v1/operators/{username}",
    tag = "operator",
    operation_id = "admin_remove_operator",
    summary = "Remove a console operator (its sessions end)",
    security(("admin_token" = [])),
    params(OperatorPath),
    responses((status = 204, description = "Removed."), AdminErrors)
)]
pub async fn remove(
    State(s): State<AppState>,
    Path(OperatorPath { username }): Path<OperatorPath>,
) -> Result<StatusCode, AdminError> {
    if !operators::remove(&s, &username).await? {
        return Err(AdminError::not_found(format!("no operator {username:?}")));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/admin/v1/operators/{username}/password",
    tag = "operator",
    operation_id = "admin_reset_operator_password",
    summary = "Set a console operator's password (its sessions end)",
    security(("admin_token" = [])),
    params(OperatorPath),
    request_body(content = PasswordReset, content_type = "application/json"),
    responses((status = 200, description = "The operator, with the generated password when none was given.", body = OperatorWithPassword), AdminErrors)
)]
pub async fn reset_password(
    State(s): State<AppState>,
    Path(OperatorPath { username }): Path<OperatorPath>,
    req: Result<Json<PasswordReset>, JsonRejection>,
) -> Result<Json<OperatorWithPassword>, AdminError> {
    let Json(req) =
        req.map_err(|e| AdminError::invalid(format!("request body: {}", e.body_text())))?;
    let (password, shown) = password(req.password)?;
    let hashed = hash(password).await?;
    if !operators::set_password(&s, &username, &hashed).await? {
        return Err(AdminError::not_found(format!("no operator {username:?}")));
    }
    let o = s
        .store
        .operator(&username)
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no operator {username:?}")))?;
    Ok(Json(OperatorWithPassword {
        operator: view(&o),
        password: shown,
    }))
}
