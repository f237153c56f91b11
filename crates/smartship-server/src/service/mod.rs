//! The service layer: the one way the server changes what is stored.
//!
//! Front doors (`openapi/`, `admin/`, `console/`, `runtime/`, the consent
//! pages) and workers are adapters: they parse what they were given, call
//! one function here, and render or log what it returns. A function here
//! calls the store, then does once what follows from what the store
//! changed: wakes the workers that now have work, drops the cached views
//! that went stale, queues a worker's audit entry. A front door never
//! decides which worker to wake, so two doors doing the same thing cannot
//! differ in what follows.
//!
//! The contract:
//! - Only this module calls `Store::apply` and the store's other
//!   state-changing methods (`tests/layers.rs` keeps it so).
//! - Inputs are typed (ids, [`Actor`], `Action`s, domain values); outputs are
//!   the store's rows, a domain refusal, or a [`StoreError`]. Nothing here
//!   knows about HTTP status codes, wire error codes or HTML.
//! - Rules stay in `smartship-core`; this module sequences, it does not
//!   decide.

pub mod actor;
pub mod audit_log;
pub mod blobs;
pub mod delivery;
pub mod events;
pub mod examinations;
pub mod housekeeping;
#[cfg(test)]
mod layering;
pub mod oauth;
pub mod operators;
pub mod packages;
pub mod parties;
pub mod phased;
pub mod profile;
pub mod schedule;
pub mod templates;
pub mod tickets;
mod wake;

pub use actor::Actor;
pub use smartship_store::StoreError;
