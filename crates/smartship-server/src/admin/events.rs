//! Pushed events: the list, one with its attempts, replays.

use super::AdminError;
use super::shared::tp_of;
use crate::api_doc::AdminErrors;
use crate::service;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use smartship_api::admin::{AttemptView, EventDetail, EventView, EventViews, Replayed};
use smartship_api::requests::admin::EventListQuery;
use smartship_api::requests::paths::{EventPath, TpPath};
use smartship_store::{EventRecord, EventStatus};

fn event_view(s: &AppState, e: &EventRecord) -> EventView {
    EventView {
        id: smartship_api::events::webhook_id(e.id),
        event_id: e.id,
        tp_app_id: e.tp_id.0,
        app_id: e.app_id.map(|a| a.0),
        event: e.kind.as_str().to_owned(),
        target: e.target.as_str().to_owned(),
        package_id: e.package_id.map(|p| p.0),
        version: e.version.clone(),
        reason: e.reason.clone(),
        event_time: crate::clock::event_time(e.occurred_at, s.tz),
        status: e.status.as_str().to_owned(),
        attempts: e.attempts,
        next_attempt_at: (e.status == EventStatus::Pending)
            .then(|| crate::clock::event_time(e.next_attempt_at, s.tz)),
        last_error: e.last_error.clone(),
        delivered_at: e.delivered_at.map(|t| crate::clock::event_time(t, s.tz)),
    }
}

#[utoipa::path(
    get,
    path = "/admin/v1/events",
    tag = "operator",
    operation_id = "admin_events",
    summary = "Pushed events, newest first",
    security(("admin_token" = [])),
    params(EventListQuery),
    responses((status = 200, description = "The events.", body = EventViews), AdminErrors)
)]
pub async fn events(
    State(s): State<AppState>,
    q: Result<Query<EventListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EventViews>, AdminError> {
    let Query(q) = q.map_err(|e| AdminError::invalid(e.body_text()))?;
    let tp = match &q.client_id {
        Some(c) => Some(tp_of(&s, c).await?.id),
        None => None,
    };
    let status = match &q.status {
        None => None,
        Some(st) => Some(EventStatus::parse(st).ok_or_else(|| {
            AdminError::invalid(
                "status must be pending, delivered, failed, undeliverable or discarded",
            )
        })?),
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let list = s.store.events(tp, status, limit).await?;
    Ok(Json(EventViews {
        events: list.iter().map(|e| event_view(&s, e)).collect(),
    }))
}

/// Events are addressed by their number or their `webhook-id` (`evt_12`).
fn event_id(raw: &str) -> Result<i64, AdminError> {
    raw.strip_prefix("evt_")
        .unwrap_or(raw)
        .parse()
        .map_err(|_| AdminError::invalid(format!("{raw:?} is not an event id")))
}

#[utoipa::path(
    get,
    path = "/admin/v1/events/{event_id}",
    tag = "operator",
    operation_id = "admin_get_event",
    summary = "An event and its delivery attempts",
    security(("admin_token" = [])),
    params(EventPath),
    responses((status = 200, description = "The event.", body = EventDetail), AdminErrors)
)]
pub async fn get_event(
    State(s): State<AppState>,
    Path(EventPath { event_id: raw }): Path<EventPath>,
) -> Result<Json<EventDetail>, AdminError> {
    let id = event_id(&raw)?;
    let e = s
        .store
        .event(id)
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no event {id}")))?;
    let attempts = s.store.event_attempts(id).await?;
    Ok(Json(EventDetail {
        event: event_view(&s, &e),
        attempt_log: attempts
            .iter()
            .map(|a| AttemptView {
                attempt: a.attempt,
                url: a.url.clone(),
                at: crate::clock::event_time(a.started_at, s.tz),
                at_ms: a.started_at,
                duration_ms: a.duration_ms,
                status_code: a.status_code,
                response_body: a.response_body.clone(),
                error: a.error.clone(),
                outcome: a.outcome.as_str().to_owned(),
            })
            .collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/admin/v1/events/{event_id}/replay",
    tag = "operator",
    operation_id = "admin_replay_event",
    summary = "Queue an event again",
    security(("admin_token" = [])),
    params(EventPath),
    responses((status = 200, description = "Queued.", body = Replayed), AdminErrors)
)]
pub async fn replay_event(
    State(s): State<AppState>,
    Path(EventPath { event_id: raw }): Path<EventPath>,
) -> Result<Json<Replayed>, AdminError> {
    let id = event_id(&raw)?;
    if !service::events::replay(&s, id).await? {
        return Err(AdminError::not_found(format!("no event {id}")));
    }
    Ok(Json(Replayed { replayed: 1 }))
}

#[utoipa::path(
    post,
    path = "/admin/v1/tps/{client_id}/events/replay-failed",
    tag = "operator",
    operation_id = "admin_replay_failed",
    summary = "Queue a platform's failed events again",
    security(("admin_token" = [])),
    params(TpPath),
    responses((status = 200, description = "How many.", body = Replayed), AdminErrors)
)]
pub async fn replay_failed(
    State(s): State<AppState>,
    Path(TpPath { client_id }): Path<TpPath>,
) -> Result<Json<Replayed>, AdminError> {
    let tp = tp_of(&s, &client_id).await?;
    let n = service::events::replay_failed(&s, tp.id).await?;
    Ok(Json(Replayed { replayed: n }))
}
