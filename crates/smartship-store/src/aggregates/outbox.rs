//! The event outbox: events, their delivery leases and the attempt log: the
//! trait and the rows it takes and returns.

use crate::Result;
use crate::model::*;
use async_trait::async_trait;
use smartship_core::{AppId, PackageId, TpId};

/// Which of the TP's URLs an event goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventTarget {
    /// `message_url`: audit results.
    Message,
    /// `auth_event_url`: tickets and authorization changes.
    Auth,
}

impl EventTarget {
    pub const fn as_str(self) -> &'static str {
        match self {
            EventTarget::Message => "message",
            EventTarget::Auth => "auth",
        }
    }
    pub fn parse(s: &str) -> Option<EventTarget> {
        match s {
            "message" => Some(EventTarget::Message),
            "auth" => Some(EventTarget::Auth),
            _ => None,
        }
    }
}

/// An outbox row: facts about what happened; the wire payload is rendered
/// at delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub id: i64,
    pub tp_id: TpId,
    pub app_id: Option<AppId>,
    pub kind: EventKind,
    pub target: EventTarget,
    pub package_id: Option<PackageId>,
    pub version: Option<String>,
    pub reason: Option<String>,
    /// Extra payload fields (JSON object) for events that are not audit results.
    pub payload: Option<String>,
    pub occurred_at: i64,
    pub status: EventStatus,
    /// Attempts made in the current series (reset by a replay).
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
}

/// Where an event's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventStatus {
    /// Waiting for its next attempt (or leased to a worker for it).
    Pending,
    Delivered,
    /// Its retry schedule ran out; a replay makes it pending again.
    Failed,
    /// Held: its platform has no URL for it; due once one is set.
    Undeliverable,
    /// A held ticket superseded by a newer one before it could be sent.
    Discarded,
}

impl EventStatus {
    pub const ALL: [EventStatus; 5] = [
        EventStatus::Pending,
        EventStatus::Delivered,
        EventStatus::Failed,
        EventStatus::Undeliverable,
        EventStatus::Discarded,
    ];

    /// The stored and wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventStatus::Pending => "pending",
            EventStatus::Delivered => "delivered",
            EventStatus::Failed => "failed",
            EventStatus::Undeliverable => "undeliverable",
            EventStatus::Discarded => "discarded",
        }
    }

    pub fn parse(s: &str) -> Option<EventStatus> {
        EventStatus::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// An event to enqueue outside a lifecycle transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub tp_id: TpId,
    pub app_id: Option<AppId>,
    pub kind: EventKind,
    pub target: EventTarget,
    pub payload: Option<String>,
    pub occurred_at: i64,
}

/// An event leased to a delivery worker for one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedEvent {
    pub event: EventRecord,
    /// The number of this attempt in the current series (1 = first).
    pub attempt: i64,
    /// The lease of this claim; a result is recorded only while the event
    /// still carries it (a replay or a later claim makes it stale).
    pub lease_until: i64,
}

/// What an attempt decided for its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    Retry {
        next_attempt_at: i64,
    },
    Failed,
    /// Not attempted: the TP has no URL for the event's target. The event
    /// waits, without using up its retries, until a URL is set.
    Undeliverable,
}

impl AttemptOutcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Retry { .. } => "retry",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Undeliverable => "undeliverable",
        }
    }
}

/// One delivery attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub event_id: i64,
    pub attempt: i64,
    /// The lease of the claim this attempt was made under.
    pub lease_until: i64,
    pub url: String,
    pub started_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    /// The first bytes of the response body.
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub outcome: AttemptOutcome,
}

/// The event outbox: events, their delivery leases and the attempt log.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Enqueues many events in one transaction.
    async fn insert_events(&self, events: &[NewEvent]) -> Result<()>;
    /// How many of the TP's events have this status.
    async fn count_events(&self, tp: TpId, status: EventStatus) -> Result<i64>;
    /// Events of a TP (or all), newest first, optionally of one status.
    async fn events(
        &self,
        tp: Option<TpId>,
        status: Option<EventStatus>,
        limit: i64,
    ) -> Result<Vec<EventRecord>>;
    async fn event(&self, id: i64) -> Result<Option<EventRecord>>;
    async fn event_attempts(&self, id: i64) -> Result<Vec<AttemptRecord>>;
    /// Leases up to `limit` due events for one attempt each.
    async fn claim_events(&self, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<ClaimedEvent>>;
    /// Records attempts and their outcomes, all in one transaction.
    async fn record_attempts(&self, attempts: &[AttemptRecord], now: i64) -> Result<()>;
    /// When the next pending event falls due, if any.
    async fn next_event_due(&self) -> Result<Option<i64>>;
    /// Makes an event pending again with a fresh retry series.
    async fn replay_event(&self, id: i64, now: i64) -> Result<bool>;
    /// Replays every failed event of a TP; returns how many.
    async fn replay_failed(&self, tp: TpId, now: i64) -> Result<i64>;
}
