//! Requests of the template routes (SPEC §3).

use super::{Description, Version};
use crate::fields::{Bounded, Id, Line};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

/// A page of a list: `page` from 1, `page_size` items (drafts, templates,
/// a version history).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Page number, from 1 (default 1).
    #[param(inline)]
    #[serde(default)]
    pub page: Bounded<1, 1_000_000, 1>,
    /// Items per page, 1 to 100 (default 10).
    #[param(inline)]
    #[serde(default)]
    pub page_size: Bounded<1, 100, 10>,
}

impl Paging {
    /// The rows to skip and the rows to take.
    pub fn offset_limit(self) -> (i64, i64) {
        let size = self.page_size.get();
        ((self.page.get() - 1) * size, size)
    }
}

/// A template's description: the public platform allows 30 characters.
pub type TemplateDescription = Line<30>;

/// `template/addtotemplate`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AddToTemplate {
    /// A draft of the platform.
    #[param(inline, example = 1)]
    pub draft_id: Id,
    /// Description of the template, one line.
    #[param(inline, example = "template")]
    pub user_desc: TemplateDescription,
}

/// `template/deltemplate`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteTemplate {
    /// A template of the platform.
    #[param(inline)]
    pub template_id: Id,
}

/// `template/deletedraft` (extension).
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteDraft {
    /// A draft of the platform (`template/gettemplatedraftlist`).
    #[param(inline)]
    pub draft_id: Id,
}

/// The text fields of `template/uploaddraft` (extension), a multipart body
/// whose zip is the part `file`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadDraft {
    /// Version of the draft, one line.
    pub user_version: Version,
    /// Description of the draft, one line.
    pub user_desc: Description,
}
