//! The ticket rotation: every `ticket_interval_secs` each third-party
//! platform gets a new ticket, stored and pushed to its authorization-event
//! URL in one transaction (the push is an ordinary outbox event, retried
//! like any other).

use crate::state::AppState;
use smartship_core::TpId;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub async fn run(state: AppState, shutdown: CancellationToken) {
    let interval = Duration::from_secs_f64(state.config.ticket_interval_secs);
    // Check often enough that a new TP gets its first ticket promptly.
    let tick = interval.min(Duration::from_secs(5));
    loop {
        if let Err(e) = rotate_due(&state, interval).await {
            tracing::error!(error = ?e, "ticket rotation failed");
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(tick) => {}
        }
    }
}

async fn rotate_due(state: &AppState, interval: Duration) -> anyhow::Result<()> {
    let now = crate::clock::now_ms();
    let due = state
        .store
        .tps_due_for_ticket(now - interval.as_millis() as i64)
        .await?;
    for tp in &due {
        rotate(state, *tp, now).await?;
    }
    if !due.is_empty() {
        state.events_wakeup.notify_one();
    }
    Ok(())
}

/// Issues and pushes a new ticket for `tp`.
pub async fn rotate(state: &AppState, tp: TpId, now: i64) -> anyhow::Result<String> {
    let ticket = crate::tokens::generate("ticket");
    let client_id = state
        .store
        .tp_by_id(tp)
        .await?
        .map(|t| t.client_id)
        .unwrap_or_default();
    let payload = serde_json::json!({
        "Ticket": ticket,
        "MsgType": "ticket",
        "FromUserName": client_id,
        "CreateTime": now / 1000,
    });
    state
        .store
        .rotate_ticket(tp, &ticket, &payload.to_string(), now)
        .await?;
    Ok(ticket)
}
