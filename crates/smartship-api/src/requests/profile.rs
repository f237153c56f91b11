//! Requests of the app and basic-information routes (SPEC §5): names,
//! icon, description, categories, domains, traffic, the preview code.

use crate::fields::{Bounded, Id, Line, Verbatim};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

/// `app/checknamewithqual`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckName {
    /// The name: 4–30, a Chinese character counting two.
    pub app_name: String,
    /// Uploaded `type` 3 image URLs, comma-separated (at most 5).
    #[serde(alias = "materials")]
    pub qual_materials: Option<String>,
}

/// `app/setnicknamewithqual`. The Java SDK spells the name `nike_name`
/// and the images `material`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SetName {
    /// The name asked for.
    #[serde(alias = "nike_name")]
    pub nick_name: String,
    /// Uploaded `type` 3 image URLs, comma-separated.
    #[serde(alias = "material")]
    pub qual_materials: Option<String>,
}

/// `app/modifyheadimage`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SetIcon {
    /// An icon URL from `/file/2.0/smartapp/upload/image`.
    #[param(inline)]
    pub image_url: Line<2048>,
}

/// `app/modifysignature`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SetDescription {
    /// 10–56, a Chinese character counting two.
    pub signature: String,
}

/// `app/category/list`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CategoryList {
    /// 1 personal, 2 all.
    pub category_type: String,
}

/// `app/category/update`. The Java SDK spells it `categories`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CategoryUpdate {
    /// JSON array of `{category_id, category_quali}` or comma-separated ids.
    #[serde(alias = "categories")]
    pub categorys: String,
}

/// `app/offline/update`: at least one correction.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfflineUpdate {
    /// A corrected name.
    pub app_name: Option<String>,
    /// A corrected description.
    pub app_desc: Option<String>,
    /// A corrected icon (uploaded).
    pub photo_addr: Option<String>,
    /// Uploaded images for a brand name.
    pub app_name_material: Option<String>,
}

/// The domain lists of `app/modifydomain` and `tp/modifydomain`. A list
/// given empty is set to nothing by `set`, so the lists are read as given.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DomainLists {
    /// Comma-separated.
    #[param(inline)]
    #[serde(default)]
    pub request_domain: Verbatim,
    /// Comma-separated.
    #[param(inline)]
    #[serde(default)]
    pub upload_domain: Verbatim,
    /// Comma-separated.
    #[param(inline)]
    #[serde(default)]
    pub download_domain: Verbatim,
    /// Comma-separated, `wss://`.
    #[param(inline)]
    #[serde(default)]
    pub socket_domain: Verbatim,
}

/// The list of `app/modifywebviewdomain` and `tp/modifywebviewdomain`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebViewList {
    /// Comma-separated.
    #[param(inline)]
    #[serde(default)]
    pub web_view_domain: Verbatim,
}

/// The action of an app's domain route: without it, the platform's
/// domains are added.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppDomainAction {
    /// add, delete, set or get.
    pub action: Option<String>,
}

/// The action of a platform's domain route (required).
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TpDomainAction {
    /// add, delete, set or get.
    pub action: String,
}

/// `appflow/control`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlowControl {
    /// 1 open the traffic, 2 take it offline.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = i64, minimum = 1, maximum = 2)]
    pub kind: String,
}

/// `app/qrcode`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QrCode {
    /// The page and its query.
    pub path: Option<String>,
    /// A package in development, audit or online.
    #[param(inline)]
    pub package_id: Option<Id>,
    /// Pixels, default 200.
    #[param(inline)]
    #[serde(default)]
    pub width: Bounded<200, 1280, 200>,
}

/// `app/setsupportversion` (extension).
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SetSupportVersion {
    /// The lowest base-library version the app supports: one of the `items` of `app/getsupportversion`.
    #[param(inline, example = "3.2")]
    pub version: Line<32>,
}
