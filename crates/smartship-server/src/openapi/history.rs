//! `package/gethistory` (extension): the app's online versions, present and
//! earlier, with who released and who rolled back each, and when — what a
//! rollback may return to (docs/release.md).

use super::auth::AppCall;
use super::error::{ApiError, ok};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use smartship_api::requests::template::Paging;
use smartship_core::lifecycle::{PackageState, is_retained, is_rollback_target};

pub use smartship_api::release::{History, HistoryEntry};

/// `GET package/gethistory`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/gethistory",
    tag = "package",
    operation_id = "package_gethistory",
    summary = "The app's online versions, newest first, with who released and rolled back",
    description = "Every version that was online, the online one first; `history` and `rolled_back` entries are rollback targets (`rollback` with `target_package_id` or `version`).",
    security(("app_token" = [])),
    params(Paging),
    responses((status = 200, description = "The versions, or an error.", body = inline(crate::api_doc::HistoryAnswer)))
)]
pub async fn get_history(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let AppCall { caller, p, .. } = call;
    let paging: Paging = p.decode()?;
    let (page, size) = (paging.page.get(), paging.page_size.get());
    let all = s.store.all_packages(caller.app).await?;
    // With `retained_versions`, only the newest earlier versions are
    // rollback targets, and only they are listed.
    let retained = (s.config.retained_versions > 0).then_some(s.config.retained_versions);
    let mut online: Vec<_> = all
        .iter()
        .filter(|pk| matches!(pk.state, PackageState::Online | PackageState::RollingBack))
        .cloned()
        .collect();
    online.extend(
        all.iter()
            .rev()
            .filter(|pk| is_retained(pk.state))
            .enumerate()
            .filter(|(newer, pk)| is_rollback_target(pk.state, *newer as i64, retained))
            .map(|(_, pk)| pk.clone()),
    );
    // Online first, then by the last time each went online.
    online.sort_by_key(|pk| {
        (
            pk.state.slot().is_none(),
            std::cmp::Reverse(pk.released_at.unwrap_or(0)),
            std::cmp::Reverse(pk.id),
        )
    });
    let count = online.len() as i64;
    let mut list = Vec::new();
    for pk in online
        .into_iter()
        .skip(((page - 1) * size) as usize)
        .take(size as usize)
    {
        let transitions = s.store.transitions(pk.id).await?;
        let released = transitions
            .iter()
            .rev()
            .find(|t| t.to == PackageState::Online);
        let rolled = transitions
            .iter()
            .rev()
            .find(|t| t.to == PackageState::RollingBack);
        list.push(HistoryEntry {
            package_id: pk.id.0,
            version: pk.version.clone(),
            version_desc: pk.version_desc.clone(),
            state: pk.state.as_str().to_owned(),
            released_at: released.map(|t| t.at.div_euclid(1000)),
            released_by: released.map(|t| t.actor.clone()),
            rolled_back_at: rolled.map(|t| t.at.div_euclid(1000)),
            rolled_back_by: rolled.map(|t| t.actor.clone()),
        });
    }
    Ok(ok(History { count, list }))
}
