//! Tickets of third-party platforms: a new one every
//! `ticket_interval_secs`, stored and pushed in one transaction (the push
//! is an ordinary outbox event, retried like any other).

use super::wake;
use crate::state::AppState;
use smartship_core::TpId;

/// Issues a ticket to every platform whose newest is older than
/// `due_before`; how many were issued. Of several nodes that find a
/// platform due at once, exactly one issues its ticket.
pub async fn rotate_due(s: &AppState, now: i64, due_before: i64) -> anyhow::Result<usize> {
    let due = s.store.tps_due_for_ticket(due_before).await?;
    let mut rotated = 0;
    for tp in &due {
        let (ticket, payload) = new_ticket(s, *tp, now).await?;
        if s.store
            .rotate_ticket_if_due(*tp, &ticket, &payload, now, due_before)
            .await?
        {
            rotated += 1;
            s.audit.worker("ticket", format!("tp:{tp}"), String::new());
        }
    }
    if rotated > 0 {
        wake::events_waiting(s);
    }
    Ok(rotated)
}

/// Issues and pushes a new ticket for `tp` now (an operator's request).
pub async fn rotate(s: &AppState, tp: TpId) -> anyhow::Result<String> {
    let now = crate::clock::now_ms();
    let (ticket, payload) = new_ticket(s, tp, now).await?;
    s.store.rotate_ticket(tp, &ticket, &payload, now).await?;
    wake::events_waiting(s);
    Ok(ticket)
}

/// A fresh ticket for `tp` and the payload that pushes it.
async fn new_ticket(s: &AppState, tp: TpId, now: i64) -> anyhow::Result<(String, String)> {
    let ticket = crate::tokens::generate("ticket");
    let client_id = s
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
