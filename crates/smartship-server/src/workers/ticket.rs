//! The ticket rotation: every `ticket_interval_secs` each third-party
//! platform gets a new ticket, stored and pushed to its authorization-event
//! URL in one transaction (the push is an ordinary outbox event, retried
//! like any other). Every worker node runs it; the store issues a due
//! platform's ticket once however many nodes find it due at the same
//! moment (`rotate_ticket_if_due`).

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
    let due_before = now - interval.as_millis() as i64;
    let due = state.store.tps_due_for_ticket(due_before).await?;
    let mut rotated = 0;
    for tp in &due {
        let (ticket, payload) = new_ticket(state, *tp, now).await?;
        if state
            .store
            .rotate_ticket_if_due(*tp, &ticket, &payload, now, due_before)
            .await?
        {
            rotated += 1;
            state
                .audit
                .worker("ticket", format!("tp:{tp}"), String::new());
        }
    }
    if rotated > 0 {
        state.events_wakeup.notify_one();
    }
    Ok(())
}

/// A fresh ticket for `tp` and the payload that pushes it.
async fn new_ticket(state: &AppState, tp: TpId, now: i64) -> anyhow::Result<(String, String)> {
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
    Ok((ticket, payload.to_string()))
}

/// Issues and pushes a new ticket for `tp` now (an operator's request).
pub async fn rotate(state: &AppState, tp: TpId, now: i64) -> anyhow::Result<String> {
    let (ticket, payload) = new_ticket(state, tp, now).await?;
    state
        .store
        .rotate_ticket(tp, &ticket, &payload, now)
        .await?;
    Ok(ticket)
}
