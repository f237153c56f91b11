//! The one way a backend's ordinary write transaction runs: see
//! [`WriteTx`].

use crate::Result;
use crate::read_cache::ReadCache;

/// What a write changed of what the read cache holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Touches {
    Nothing,
    /// Any token or authorization: every cached token is dropped.
    /// (A change to an app's packages is a lifecycle transaction, which
    /// drops the app's cached packages itself.)
    Tokens,
}

/// A write transaction of either backend. It commits with
/// [`WriteTx::commit`]; dropped without it, it rolls back. Either way, once
/// it is over, the read cache drops what the write touches, so a new write
/// method cannot forget the invalidation. SQLite's also holds the writer's
/// turn (see `SqliteStore::begin_write`), passed on only after the commit
/// and the invalidation.
pub(crate) struct WriteTx<'s, DB: sqlx::Database> {
    tx: Option<sqlx::Transaction<'static, DB>>,
    cache: &'s ReadCache,
    touches: Touches,
    // Dropped last (fields drop in order, after `Drop::drop`).
    _turn: Option<tokio::sync::MutexGuard<'s, ()>>,
}

impl<'s, DB: sqlx::Database> WriteTx<'s, DB> {
    pub(crate) fn new(
        tx: sqlx::Transaction<'static, DB>,
        cache: &'s ReadCache,
        touches: Touches,
        turn: Option<tokio::sync::MutexGuard<'s, ()>>,
    ) -> Self {
        WriteTx {
            tx: Some(tx),
            cache,
            touches,
            _turn: turn,
        }
    }

    pub(crate) async fn commit(mut self) -> Result<()> {
        if let Some(tx) = self.tx.take() {
            tx.commit().await?;
        }
        Ok(())
    }
}

impl<DB: sqlx::Database> std::ops::Deref for WriteTx<'_, DB> {
    type Target = sqlx::Transaction<'static, DB>;
    fn deref(&self) -> &Self::Target {
        self.tx
            .as_ref()
            .expect("a write transaction is open until it ends")
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for WriteTx<'_, DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.tx
            .as_mut()
            .expect("a write transaction is open until it ends")
    }
}

impl<DB: sqlx::Database> Drop for WriteTx<'_, DB> {
    fn drop(&mut self) {
        // A transaction still here was not committed: it rolls back as it
        // drops, before the turn passes on.
        self.tx.take();
        match self.touches {
            Touches::Nothing => {}
            Touches::Tokens => self.cache.invalidate_tokens(),
        }
    }
}
