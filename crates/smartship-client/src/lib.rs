//! Rust SDK for smartship and the public smart-program open API.
//!
//! - [`OpenApiClient`]: one typed method per `/rest/2.0` route (package,
//!   template and authorization routes, `app/info`, the draft-upload
//!   extension), with timeouts and retried reads ([`ClientConfig`]).
//! - [`session::AppSession`]: calls for one app that refresh its token
//!   through a pluggable [`session::TokenStore`], saving the single-use
//!   refresh token before it is used.
//! - [`events::EventReceiver`]: verifies, decrypts and parses pushed events,
//!   from any HTTP framework.
//! - [`fleet`]: drives many apps through upload → build → submit → audit →
//!   release, resumably (the engine behind `smartship fleet`).
//! - [`AdminClient`]: the operator API, for tools and tests.
//! - [`runtime::RuntimeClient`]: a host runtime's update check, verified
//!   downloads and incremental updates of a local copy.
//!
//! Errors keep the wire's shapes apart ([`Error`]): gateway, business (with
//! the documented [`smartship_api::ErrorCode`]), OAuth, operator, transport.
//!
//! ```no_run
//! # async fn demo() -> smartship_client::Result<()> {
//! use smartship_client::OpenApiClient;
//! let app = OpenApiClient::new("http://127.0.0.1:8080", "APP_TOKEN");
//! app.package_upload(7, &serde_json::json!({"extEnable": true}), "1.0.0", "first").await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod admin;
mod config;
mod error;
pub mod events;
pub mod fleet;
mod openapi;
mod profile_calls;
mod release_calls;
pub mod runtime;
pub mod session;
pub mod terminal;

pub use admin::AdminClient;
pub use config::{ClientConfig, PUBLIC_PLATFORM_BASE_URL};
pub use error::{Error, Result, decode};
pub use openapi::{OpenApiClient, PackageSelector, TestAccount};
pub use profile_calls::DomainChange;
pub use release_calls::RollbackTarget;
pub use smartship_api::admin::EventStatus;
pub use smartship_api::package::PackageStatus;
pub use smartship_api::release::GrayPlanStatus;
pub use smartship_api::requests;

/// The examples of `docs/events.md`, run as doctests so the document cannot
/// drift from the SDK.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/events.md")]
pub struct EventsDocExamples;

/// The examples of `docs/sdk.md`, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/sdk.md")]
pub struct SdkDocExamples;

/// The Rust example of `docs/fleet.md`, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/fleet.md")]
pub struct FleetDocExamples;
