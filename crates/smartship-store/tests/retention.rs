//! `purge_expired`: what is past keeping goes, in batches, and nothing that
//! is still in use does.

mod common;

use smartship_store::*;

const DAY: i64 = 86_400_000;

fn token(hash: &str, tp: &Tp, expires_at: i64) -> NewToken {
    NewToken {
        hash: hash.into(),
        kind: TokenKind::TpAccess,
        tp_id: tp.id,
        app_id: None,
        expires_at,
        created_at: 0,
    }
}

#[tokio::test]
async fn expired_tokens_and_codes_go_live_ones_stay() {
    for backend in common::backends() {
        eprintln!("backend: {backend}");
        let (_dir, store, tp) = common::store_with_tp(backend).await;
        store.insert_token(token("old", &tp, DAY)).await.unwrap();
        store
            .insert_token(token("live", &tp, 100 * DAY))
            .await
            .unwrap();
        for (hash, expires_at) in [("old-code", DAY), ("live-code", 100 * DAY)] {
            store
                .insert_code(NewCode {
                    hash: hash.into(),
                    kind: CodeKind::PreAuth,
                    tp_id: tp.id,
                    app_id: None,
                    expires_at,
                    created_at: 0,
                })
                .await
                .unwrap();
        }
        let purged = store.purge_expired(30 * DAY, 500).await.unwrap();
        assert_eq!((purged.tokens, purged.codes), (1, 1), "{purged:?}");
        assert!(store.token("old").await.unwrap().is_none());
        assert!(store.token("live").await.unwrap().is_some());
        assert!(
            store
                .code_usable(CodeKind::PreAuth, "live-code", tp.id, 31 * DAY)
                .await
                .unwrap()
        );
        // Nothing left: a second purge deletes nothing.
        assert_eq!(store.purge_expired(30 * DAY, 500).await.unwrap().total(), 0);
    }
}

#[tokio::test]
async fn purges_go_in_batches() {
    for backend in common::backends() {
        eprintln!("backend: {backend}");
        let (_dir, store, tp) = common::store_with_tp(backend).await;
        for i in 0..5 {
            store
                .insert_token(token(&format!("t{i}"), &tp, DAY))
                .await
                .unwrap();
        }
        let mut rounds = Vec::new();
        loop {
            let p = store.purge_expired(30 * DAY, 2).await.unwrap();
            rounds.push(p.tokens);
            if !p.filled(2) {
                break;
            }
        }
        assert_eq!(rounds, [2, 2, 1]);
    }
}

#[tokio::test]
async fn each_platform_keeps_its_newest_ticket_however_old() {
    for backend in common::backends() {
        eprintln!("backend: {backend}");
        let (_dir, store, tp) = common::store_with_tp(backend).await;
        for (i, at) in [DAY, 2 * DAY, 3 * DAY].into_iter().enumerate() {
            store
                .rotate_ticket(tp.id, &format!("ticket-{i}"), "{}", at)
                .await
                .unwrap();
        }
        let purged = store.purge_expired(30 * DAY, 500).await.unwrap();
        assert_eq!(purged.tickets, 2);
        assert_eq!(store.tickets(tp.id, 0).await.unwrap(), ["ticket-2"]);
    }
}

#[tokio::test]
async fn old_attempts_of_settled_events_go_those_of_pending_events_stay() {
    for backend in common::backends() {
        eprintln!("backend: {backend}");
        let (_dir, store, tp) = common::store_with_tp(backend).await;
        let event = |kind: EventKind| NewEvent {
            tp_id: tp.id,
            app_id: None,
            kind,
            target: EventTarget::Message,
            payload: Some("{}".into()),
            occurred_at: DAY,
        };
        store
            .insert_events(&[event(EventKind::Authorized), event(EventKind::Ticket)])
            .await
            .unwrap();
        let claimed = store.claim_events(DAY, 60_000, 10).await.unwrap();
        assert_eq!(claimed.len(), 2);
        let attempts: Vec<AttemptRecord> = claimed
            .iter()
            .map(|c| AttemptRecord {
                event_id: c.event.id,
                attempt: c.attempt,
                lease_until: c.lease_until,
                url: "http://127.0.0.1:9/".into(),
                started_at: DAY,
                duration_ms: 1,
                status_code: Some(200),
                response_body: None,
                error: None,
                // The authorization is delivered (settled), the ticket retried.
                outcome: if c.event.kind == EventKind::Authorized {
                    AttemptOutcome::Delivered
                } else {
                    AttemptOutcome::Retry {
                        next_attempt_at: 40 * DAY,
                    }
                },
            })
            .collect();
        store.record_attempts(&attempts, DAY).await.unwrap();
        let purged = store.purge_expired(30 * DAY, 500).await.unwrap();
        assert_eq!(purged.attempts, 1, "{purged:?}");
        for c in &claimed {
            let left = store.event_attempts(c.event.id).await.unwrap().len();
            let expected = if c.event.kind == EventKind::Authorized {
                0
            } else {
                1
            };
            assert_eq!(left, expected, "{:?}", c.event.kind);
            // The events themselves are kept.
            assert!(store.event(c.event.id).await.unwrap().is_some());
        }
    }
}

#[tokio::test]
async fn old_audit_entries_go_in_batches_newer_ones_stay() {
    for backend in common::backends() {
        eprintln!("backend: {backend}");
        let (_dir, store, _tp) = common::store_with_tp(backend).await;
        let entry = |at: i64| NewAuditEntry {
            at,
            actor: "admin".into(),
            address: None,
            action: "PATCH /admin/v1/apps/1".into(),
            target: String::new(),
            detail: "{}".into(),
            outcome: "ok".into(),
        };
        let old: Vec<_> = (0..5).map(|i| entry(i * DAY)).collect();
        store.append_audit(&old).await.unwrap();
        store.append_audit(&[entry(100 * DAY)]).await.unwrap();
        assert_eq!(store.purge_audit(50 * DAY, 3).await.unwrap(), 3);
        assert_eq!(store.purge_audit(50 * DAY, 3).await.unwrap(), 2);
        assert_eq!(store.purge_audit(50 * DAY, 3).await.unwrap(), 0);
        let left = store
            .audit_log(&AuditFilter::default(), None, 10)
            .await
            .unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].entry.at, 100 * DAY);
    }
}
