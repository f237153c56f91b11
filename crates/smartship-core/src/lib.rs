//! The smartship domain, free of HTTP, SQL and async runtimes.
//!
//! - [`event_kind`]: the kinds of pushed events, by their wire names.
//! - [`lifecycle`]: the package state machine and its slot rules. Every state
//!   change of a package is decided here, as a pure function of a snapshot
//!   of the app, and merely persisted by the store.
//! - [`ext_json`]: parsing and synchronous validation of an upload's `ext_json`.
//! - [`build`]: building a package from a template manifest and `ext_json`.
//! - [`archive`]: safe reading of draft zips and writing of package zips.
//! - [`manifest`]: content-addressed file lists shared by drafts and packages.
//! - [`package_path`]: the one check every path that enters a package passes.
//! - [`gray`]: phased release: user buckets and the rules of a plan.
//! - [`phased`]: an operation on an app's phased release, decided whole
//!   (the plan, the hold, the release at 100 %).
//! - [`runtime`]: what host runtimes get: the signed bytes, incremental packages.
//! - [`profile`]: the app's basic information and the rules its changes pass.
//! - [`domains`]: the server and web-view domains of an app or a platform.
//! - [`precheck`]: the automated pre-review checks of a built package.

pub mod archive;
pub mod build;
pub mod domains;
pub mod event_kind;
pub mod examination;
pub mod ext_json;
pub mod gray;
pub mod ids;
pub mod lifecycle;
pub mod manifest;
pub mod package_path;
pub mod phased;
pub mod precheck;
pub mod profile;
pub mod roles;
pub mod runtime;
pub mod text;
pub mod versions;

pub use ids::{AppId, DraftId, PackageId, TemplateId, TpId};
