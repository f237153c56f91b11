//! What both backends do with the same SQL, written once: each aggregate's
//! macro expands to a backend's whole trait implementation, its shared
//! methods plus those the backend writes itself (its locks, its claims, its
//! dialect). So a backend adds rows and SQL where it must, never rules, and
//! a fix to a shared query is made once.

#[macro_use]
mod parties;
#[macro_use]
mod tokens;
#[macro_use]
mod templates;
#[macro_use]
mod packages;
#[macro_use]
mod outbox;
#[macro_use]
mod runtime;
#[macro_use]
mod profile;
#[macro_use]
mod console;
#[macro_use]
mod store;
