//! End-to-end tests of the HTTP surface: a real server on port 0 with a real
//! SQLite file, driven over raw HTTP.

mod common;

mod admin;
mod artifacts;
mod audit;
mod basic_info;
mod browser;
mod concurrency;
mod connections;
mod console;
mod events;
mod flow;
mod gateway;
mod gray;
mod hostile_input;
mod listings;
mod nodes;
mod oauth;
mod precheck;
mod preconditions;
mod retention;
mod rollback_history;
mod runtime;
mod sdk;
mod sdk_types;
mod seed_examples;
mod support_version;
mod templates;
