//! The request of each route, as one struct: its parameters'
//! names, kinds, limits and meaning, stated once. The server reads a
//! request's merged query and body parameters into it (refusing with the
//! 40001 that names the field), the OpenAPI document lists its fields
//! (`utoipa::IntoParams`), and the SDK sends it (`serde::Serialize` as a
//! query or a form, where a `None` is left out). Fields are declared in the order a caller should fix them: the
//! first one that does not fit is the one refused.
//!
//! Parameters whose text has its own grammar (a comma-separated list, a
//! JSON document, a name whose Chinese characters count twice) are
//! strings here, checked by the route with the rule of `smartship-core`.

pub mod admin;
pub mod oauth;
pub mod package;
pub mod paths;
pub mod profile;
pub mod release;
pub mod runtime;
pub mod template;

use crate::fields::{Line, Paragraph};

/// A version: one line of at most 64 characters.
pub type Version = Line<64>;
/// A version's description: one line of at most 500 characters.
pub type Description = Line<500>;
/// Notes for the reviewers: at most 500 characters, lines allowed.
pub type Notes = Paragraph<500>;
/// A test account or its password: one line of at most 128 characters.
pub type Credential = Line<128>;
