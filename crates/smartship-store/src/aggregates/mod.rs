//! The store by aggregate: each file holds one aggregate's trait (the
//! methods a backend implements in its own module of the same name) and the
//! rows it takes and returns. `model` re-exports every row, `lib.rs` every
//! trait.

pub mod audit;
pub mod console;
pub mod outbox;
pub mod packages;
pub mod parties;
pub mod profile;
pub mod runtime;
pub mod templates;
pub mod tokens;
