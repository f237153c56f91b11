//! Shared setup of the store's integration tests.

use smartship_store::prelude::*;
use smartship_store::sqlite::SqliteStore;
use smartship_store::{NewTp, Tp};

/// A fresh store in a temporary directory (kept alive by the returned
/// guard) with one platform.
pub async fn store_with_tp() -> (tempfile::TempDir, SqliteStore, Tp) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    let tp = store
        .create_tp(
            NewTp {
                client_id: "c".into(),
                name: "tp".into(),
                message_url: None,
                auth_event_url: None,
                msg_token: "t".into(),
                encoding_aes_key: "k".into(),
            },
            0,
        )
        .await
        .unwrap();
    (dir, store, tp)
}
