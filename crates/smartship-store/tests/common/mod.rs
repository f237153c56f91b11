//! Shared setup of the store's integration tests: every test runs on both
//! backends (`smartship_store::test_db`).

use smartship_store::prelude::*;
use smartship_store::test_db::{Backend, TestDb};
use smartship_store::{NewTp, Tp};
use std::sync::Arc;

pub use smartship_store::test_db::backends;

/// A fresh store of `backend` (its database dropped with the returned
/// guard) with one platform.
pub async fn store_with_tp(backend: Backend) -> (TestDb, Arc<dyn Store>, Tp) {
    let db = TestDb::new(backend).await;
    let store = smartship_store::open(db.url()).await.unwrap();
    let tp = store.create_tp(new_tp(), 0).await.unwrap();
    (db, store, tp)
}

/// The platform every test store starts with.
pub fn new_tp() -> NewTp {
    NewTp {
        client_id: "c".into(),
        name: "tp".into(),
        message_url: None,
        auth_event_url: None,
        msg_token: "t".into(),
        encoding_aes_key: "k".into(),
    }
}
