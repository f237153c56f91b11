//! The retention worker's pass, as the server runs it: with its
//! configuration, through the store it was started on.

use crate::common::*;
use smartship_store::{NewToken, TokenKind};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn a_retention_pass_deletes_tokens_expired_longer_than_retention_days() {
    let t = spawn_with(|c| {
        c.retention_days = 1.0;
        c.retention_batch = 2;
    })
    .await;
    let s = t.state();
    let tp = s
        .store
        .tp_by_client_id(&t.tp_client_id)
        .await
        .unwrap()
        .unwrap();
    let now = smartship_server::clock::now_ms();
    let day = 86_400_000;
    for (i, expires_at) in [now - 3 * day, now - 2 * day, now - 2 * day, now - day / 2]
        .into_iter()
        .enumerate()
    {
        s.store
            .insert_token(NewToken {
                hash: format!("retention-{i}"),
                kind: TokenKind::TpAccess,
                tp_id: tp.id,
                app_id: None,
                expires_at,
                created_at: now - 4 * day,
            })
            .await
            .unwrap();
    }
    let deleted = smartship_server::workers::retention::purge(s, &CancellationToken::new())
        .await
        .unwrap();
    // Three expired more than a day ago, in batches of two; the one expired
    // half a day ago is kept, and so is every live token of the harness.
    assert!(deleted >= 3, "{deleted}");
    for i in 0..3 {
        assert!(
            s.store
                .token(&format!("retention-{i}"))
                .await
                .unwrap()
                .is_none()
        );
    }
    assert!(s.store.token("retention-3").await.unwrap().is_some());
    let v = t.api_get("package/get", &t.apps[0].token, &[]).await;
    assert_eq!(v["errno"], 0, "{v}");
}
