//! The audit log's queue, as `AppState` holds it: entries waiting for the
//! writer (`audit::writer`), and the counts of calls refused for want of
//! credentials per address and window. Free of the server's state, so that
//! the state can hold it without the two importing each other.

use smartship_store::NewAuditEntry;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Entries waiting to be stored at most.
pub const QUEUE: usize = 10_000;
/// Addresses counted apart per window of refused calls; the rest share
/// one count (address empty).
pub const MAX_REFUSED_KEYS: usize = 1_000;
/// The action of an entry that counts refused calls.
pub const REFUSED_ACTION: &str = "refused without credentials";

/// One window's count of refused calls from one address.
#[derive(Debug)]
struct RefusedCount {
    count: u64,
    /// The first refused call's method and path.
    first: String,
}

/// The queue and its writer's end.
pub struct AuditLog {
    tx: mpsc::Sender<NewAuditEntry>,
    /// The writer's end, taken once by `audit::writer`.
    pub(super) rx: Mutex<Option<mpsc::Receiver<NewAuditEntry>>>,
    /// Refused calls by (window start in Unix ms, address).
    refused: Mutex<HashMap<(i64, Option<String>), RefusedCount>>,
    /// Cancelled once no request can add an entry (the HTTP server has
    /// stopped): the writer then stores what is left and ends.
    pub(super) closed: CancellationToken,
    /// When the last "queue full" error was logged (Unix ms).
    last_full_alert: std::sync::atomic::AtomicI64,
}

impl Default for AuditLog {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        AuditLog {
            tx,
            rx: Mutex::new(Some(rx)),
            refused: Mutex::default(),
            closed: CancellationToken::new(),
            last_full_alert: Default::default(),
        }
    }
}

impl AuditLog {
    /// Queues an entry; never waits. A full queue (a database that stopped
    /// answering) is counted in `smartship_audit_entries_dropped_total` and
    /// logged as an error at most every 10 s.
    pub fn push(&self, entry: NewAuditEntry) {
        if self.tx.try_send(entry).is_err() {
            metrics::counter!("smartship_audit_entries_dropped_total").increment(1);
            let now = crate::clock::now_ms();
            let last = self
                .last_full_alert
                .load(std::sync::atomic::Ordering::Relaxed);
            if now - last >= 10_000
                && self
                    .last_full_alert
                    .compare_exchange(
                        last,
                        now,
                        std::sync::atomic::Ordering::Relaxed,
                        std::sync::atomic::Ordering::Relaxed,
                    )
                    .is_ok()
            {
                tracing::error!(
                    queue = QUEUE,
                    "audit log queue full: entries are being dropped \
                     (smartship_audit_entries_dropped_total)"
                );
            }
        }
    }

    /// Counts a call refused for want of credentials, in the window
    /// `window_ms` long that holds `at`.
    pub fn refused(&self, at: i64, window_ms: i64, address: Option<String>, action: &str) {
        let start = at - at.rem_euclid(window_ms.max(1));
        let mut map = self.refused.lock().expect("not poisoned");
        let key = if map.len() >= MAX_REFUSED_KEYS && !map.contains_key(&(start, address.clone())) {
            (start, None)
        } else {
            (start, address)
        };
        map.entry(key)
            .or_insert_with(|| RefusedCount {
                count: 0,
                first: super::cut(action.to_owned(), super::MAX_FIELD_CHARS),
            })
            .count += 1;
    }

    /// The counts of windows that ended by `now` (all of them when `now`
    /// is `None`), as entries.
    pub(super) fn ended_windows(&self, now: Option<i64>, window_ms: i64) -> Vec<NewAuditEntry> {
        let mut map = self.refused.lock().expect("not poisoned");
        let ended: Vec<_> = map
            .keys()
            .filter(|(start, _)| now.is_none_or(|now| start + window_ms <= now))
            .cloned()
            .collect();
        ended
            .into_iter()
            .filter_map(|key| map.remove(&key).map(|c| (key, c)))
            .map(|((start, address), c)| NewAuditEntry {
                at: start,
                actor: "anonymous".to_owned(),
                address,
                action: REFUSED_ACTION.to_owned(),
                target: String::new(),
                detail: serde_json::json!({
                    "count": c.count,
                    "window_secs": window_ms / 1000,
                    "first": c.first,
                })
                .to_string(),
                outcome: "refused".to_owned(),
            })
            .collect()
    }

    /// Queues a worker's step.
    pub fn worker(&self, name: &str, target: String, detail: String) {
        self.push(NewAuditEntry {
            at: crate::clock::now_ms(),
            actor: format!("worker:{name}"),
            address: None,
            action: name.to_owned(),
            target,
            detail,
            outcome: "ok".to_owned(),
        });
    }

    /// Tells the writer that no more requests will come.
    pub fn close(&self) {
        self.closed.cancel();
    }
}
