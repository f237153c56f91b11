//! `data` payloads of the template routes (SPEC §3).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A page of drafts or templates: `{count, list}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub count: i64,
    pub list: Vec<T>,
}

/// An entry of `template/gettemplatedraftlist`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DraftInfo {
    pub draft_id: i64,
    pub user_version: String,
    pub user_desc: String,
    /// Unix seconds.
    pub create_time: i64,
    /// Whether the template can be compiled for the web; the official SDKs
    /// declare a boolean. smartship builds no web version: always false.
    pub web_status: bool,
}

/// An entry of `template/gettemplatelist`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TemplateInfo {
    pub template_id: i64,
    pub user_version: String,
    pub user_desc: String,
    /// Unix seconds.
    pub create_time: i64,
    /// Whether the template can be compiled for the web; the official SDKs
    /// declare a boolean. smartship builds no web version: always false.
    pub web_status: bool,
}

/// `data` of `template/addtotemplate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TemplateCreated {
    pub template_id: i64,
}

/// `data` of `template/deltemplate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TemplateDeleted {
    pub result: i64,
}

/// `data` of the draft upload extension route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DraftCreated {
    pub draft_id: i64,
}
