//! Wire types of the smartship API.
//!
//! Everything a client sees on the wire lives here and nowhere else: the three
//! response shapes of SPEC §1 ([`response`]), the error-code table
//! ([`errors`]) and the `data` payloads of each route ([`package`],
//! [`release`], [`template`], [`auth`], [`profile`]). This crate does no I/O so that the server, the SDK and the
//! tests share one definition of the contract.

pub mod admin;
pub mod auth;
pub mod crypto;
pub mod errors;
pub mod events;
pub mod fields;
pub mod package;
pub mod profile;
pub mod release;
pub mod requests;
pub mod response;
pub mod runtime;
pub mod template;

pub use errors::{ErrorCode, GatewayCode};
pub use response::{BusinessResponse, GatewayError, OAuthError};
