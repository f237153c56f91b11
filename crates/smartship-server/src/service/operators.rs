//! Console operators: accounts and their sign-in sessions. Changing an
//! account's password or removing it ends its sessions (the store does it
//! in the same transaction).

use super::StoreError;
use crate::state::AppState;
use smartship_core::roles::Role;
use smartship_store::{NewOperatorSession, Operator};

/// Creates an account; None when the name is taken.
pub async fn create(
    s: &AppState,
    username: &str,
    role: Role,
    password_hash: &str,
) -> Result<Option<Operator>, StoreError> {
    let made = s
        .store
        .create_operator(
            username,
            role.as_str(),
            password_hash,
            crate::clock::now_ms(),
        )
        .await?;
    if let Some(o) = &made {
        tracing::info!(operator = %o.username, role = %o.role, "console operator created");
    }
    Ok(made)
}

/// Removes an account; false when there is none of that name.
pub async fn remove(s: &AppState, username: &str) -> Result<bool, StoreError> {
    let removed = s.store.remove_operator(username).await?;
    if removed {
        tracing::info!(operator = %username, "console operator removed");
    }
    Ok(removed)
}

/// Sets an account's password; false when there is none of that name.
pub async fn set_password(
    s: &AppState,
    username: &str,
    password_hash: &str,
) -> Result<bool, StoreError> {
    let set = s
        .store
        .set_operator_password(username, password_hash, crate::clock::now_ms())
        .await?;
    if set {
        tracing::info!(operator = %username, "console operator's password set");
    }
    Ok(set)
}

/// Starts a session, ending the one the browser presented (by hash).
pub async fn start_session(
    s: &AppState,
    session: NewOperatorSession,
    replaces: Option<&str>,
) -> Result<(), StoreError> {
    s.store.create_operator_session(session, replaces).await
}

/// Ends a session (by its token's hash); false when it had ended.
pub async fn end_session(s: &AppState, token_hash: &str) -> Result<bool, StoreError> {
    s.store.end_operator_session(token_hash).await
}
