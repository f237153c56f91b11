//! Requests of the phased-release routes (extension, docs/release.md).

use crate::fields::Id;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

/// `package/grayrelease`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrayRelease {
    /// A package that passed audit (status 6).
    #[param(inline)]
    pub package_id: Id,
    /// Share of users, 1 to 100.
    #[param(minimum = 1, maximum = 100)]
    pub gray_percentage: i64,
    /// Comma-separated host user ids that get the package whatever the percentage (at most 1,000; added to the plan's).
    pub user_list: Option<String>,
    /// JSON array of later steps `[{"gray_percentage":50,"at":UNIX_SECONDS}]` the server takes by itself; replaces the steps not yet taken.
    pub ramp: Option<String>,
}
