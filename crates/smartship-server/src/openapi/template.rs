//! Template routes (SPEC §3) and the draft upload extension. All take a
//! third-party platform token.

use super::auth::TpCall;
use super::error::{ApiError, ok};
use super::params::Params;
use crate::service::templates;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use smartship_api::ErrorCode;
use smartship_api::template::{
    DraftCreated, DraftInfo, Page, TemplateCreated, TemplateDeleted, TemplateInfo,
};
use smartship_core::archive::{DraftError, DraftLimits, read_draft_streaming};
use smartship_core::manifest::Manifest;
use smartship_core::{DraftId, TemplateId};
use smartship_store::{AddTemplate, DraftRefusal, NewDraft};

/// The public platform limits a template description to 30 characters.
const MAX_TEMPLATE_DESC: usize = 30;

fn paging(p: &Params) -> Result<(i64, i64), ApiError> {
    let page = p.int_in("page", 1, 1..=1_000_000)?;
    let size = p.int_in("page_size", 10, 1..=100)?;
    Ok(((page - 1) * size, size))
}

/// `GET template/gettemplatedraftlist`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/template/gettemplatedraftlist",
    tag = "template",
    operation_id = "template_gettemplatedraftlist",
    summary = "The platform's drafts, newest first",
    security(("tp_token" = [])),
    params(
        ("page" = Option<i64>, Query, minimum = 1, maximum = 1000000, description = "Page number, from 1 (default 1)."),
        ("page_size" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Items per page, 1 to 100 (default 10)."),
    ),
    responses((status = 200, description = "A page of drafts, or an error.", body = inline(crate::api_doc::Drafts)))
)]
pub async fn draft_list(State(s): State<AppState>, call: TpCall) -> Result<Response, ApiError> {
    let TpCall { caller, p, .. } = call;
    let (offset, limit) = paging(&p)?;
    let (count, drafts) = s.store.list_drafts(caller.tp, offset, limit).await?;
    Ok(ok(Page {
        count,
        list: drafts
            .into_iter()
            .map(|d| DraftInfo {
                draft_id: d.id.0,
                user_version: d.user_version,
                user_desc: d.user_desc,
                create_time: d.created_at / 1000,
                web_status: false,
            })
            .collect::<Vec<_>>(),
    }))
}

/// `POST template/addtotemplate`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/template/addtotemplate",
    tag = "template",
    operation_id = "template_addtotemplate",
    summary = "Make a template from a draft",
    security(("tp_token" = [])),
    params(
        ("draft_id" = i64, Query, minimum = 1, example = 1, description = "A draft of the platform."),
        ("user_desc" = String, Query, max_length = 30, example = "template", description = "Description of the template, one line."),
    ),
    responses((status = 200, description = "The new template's id, or an error.", body = inline(crate::api_doc::NewTemplate)))
)]
pub async fn add_to_template(
    State(s): State<AppState>,
    call: TpCall,
) -> Result<Response, ApiError> {
    let TpCall { caller, p, .. } = call;
    let draft = DraftId(p.id("draft_id")?);
    let desc = p.text("user_desc", MAX_TEMPLATE_DESC)?;
    match templates::add_template(&s, caller.tp, draft, desc).await? {
        AddTemplate::Created(id) => Ok(ok(TemplateCreated { template_id: id.0 })),
        AddTemplate::DraftNotFound => Err(ApiError::business(
            ErrorCode::DraftNotFound,
            format!("draft_id={draft}"),
        )),
        AddTemplate::LimitReached => Err(ApiError::business(
            ErrorCode::TemplateLimitReached,
            format!("最多 {} 个模板", s.config.max_templates),
        )),
    }
}

/// `GET template/gettemplatelist`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/template/gettemplatelist",
    tag = "template",
    operation_id = "template_gettemplatelist",
    summary = "The platform's templates, newest first",
    security(("tp_token" = [])),
    params(
        ("page" = Option<i64>, Query, minimum = 1, maximum = 1000000, description = "Page number, from 1 (default 1)."),
        ("page_size" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Items per page, 1 to 100 (default 10)."),
    ),
    responses((status = 200, description = "A page of templates, or an error.", body = inline(crate::api_doc::Templates)))
)]
pub async fn template_list(State(s): State<AppState>, call: TpCall) -> Result<Response, ApiError> {
    let TpCall { caller, p, .. } = call;
    let (offset, limit) = paging(&p)?;
    let (count, templates) = s.store.list_templates(caller.tp, offset, limit).await?;
    Ok(ok(Page {
        count,
        list: templates
            .into_iter()
            .map(|t| TemplateInfo {
                template_id: t.id.0,
                user_version: t.user_version,
                user_desc: t.user_desc,
                create_time: t.created_at / 1000,
                web_status: false,
            })
            .collect::<Vec<_>>(),
    }))
}

/// `POST template/deltemplate`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/template/deltemplate",
    tag = "template",
    operation_id = "template_deltemplate",
    summary = "Delete a template",
    security(("tp_token" = [])),
    params(("template_id" = i64, Query, minimum = 1, description = "A template of the platform.")),
    responses((status = 200, description = "`result` 1, or an error.", body = inline(crate::api_doc::DeletedTemplate)))
)]
pub async fn delete_template(
    State(s): State<AppState>,
    call: TpCall,
) -> Result<Response, ApiError> {
    let TpCall { caller, p, .. } = call;
    let id = TemplateId(p.id("template_id")?);
    if templates::delete_template(&s, caller.tp, id).await? {
        Ok(ok(TemplateDeleted { result: 1 }))
    } else {
        Err(ApiError::business(
            ErrorCode::TemplateNotFound,
            format!("template_id={id}"),
        ))
    }
}

/// The multipart body of `template/uploaddraft`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct DraftUpload {
    /// The zip.
    #[schema(format = Binary, content_media_type = "application/zip")]
    file: Vec<u8>,
    /// Version of the draft, one line.
    #[schema(max_length = 64)]
    user_version: String,
    /// Description of the draft, one line.
    #[schema(max_length = 500)]
    user_desc: String,
}

/// Stores a source tree's files as blobs and returns its manifest.
pub async fn store_tree(
    s: &AppState,
    tree: smartship_core::archive::SourceTree,
) -> Result<Manifest, ApiError> {
    let blobs = s.blobs.clone();
    let manifest = tokio::task::spawn_blocking(move || -> std::io::Result<Manifest> {
        let mut m = Manifest::default();
        for (path, bytes) in &tree {
            blobs.put(bytes)?;
            m.insert(path, bytes);
        }
        Ok(m)
    })
    .await??;
    Ok(manifest)
}

/// `POST template/uploaddraft` (extension): multipart with a zip in `file`,
/// plus `user_version` and `user_desc`.
#[utoipa::path(
    post,
    path = "/rest/2.0/smartapp/template/uploaddraft",
    tag = "template",
    operation_id = "template_uploaddraft",
    summary = "Upload a draft: a zip of the template's source tree (extension)",
    description = "The zip is checked (paths, duplicates, sizes: docs/api.md) and its files stored.",
    security(("tp_token" = [])),
    request_body(content = inline(DraftUpload), content_type = "multipart/form-data"),
    responses((status = 200, description = "The new draft's id, or an error.", body = inline(crate::api_doc::NewDraft)))
)]
pub async fn upload_draft(State(s): State<AppState>, call: TpCall) -> Result<Response, ApiError> {
    let TpCall { caller, p, .. } = call;
    let user_version = p.text("user_version", 64)?.to_owned();
    let user_desc = p.text("user_desc", 500)?.to_owned();
    let upload = p
        .file("file")
        .ok_or_else(|| ApiError::param("file 不能为空 (multipart 文件字段，zip 格式)"))?;
    let zip = upload.file.reopen()?;
    let limits = DraftLimits {
        max_bytes: s.config.max_draft_bytes,
        max_files: s.config.max_draft_files,
    };
    // Each file goes to the blob store as it is inflated: memory does not
    // grow with the draft.
    let blobs = s.blobs.clone();
    let manifest = tokio::task::spawn_blocking(move || {
        read_draft_streaming(std::io::BufReader::new(zip), limits, &mut |_, content| {
            blobs.put_reader(content)
        })
    })
    .await?
    .map_err(|e| match e {
        e if e.is_size() => ApiError::business(ErrorCode::PackageTooLarge, e.to_string()),
        DraftError::Store { full, reason } => super::error::storage_error(full, &reason),
        e => ApiError::business(ErrorCode::InvalidDraft, e.to_string()),
    })?;
    let draft = NewDraft {
        tp_id: caller.tp,
        user_version,
        user_desc,
        manifest,
    };
    let created = templates::create_draft(&s, draft).await?;
    match created {
        Ok(id) => Ok(ok(DraftCreated { draft_id: id.0 })),
        Err(r) => Err(draft_refusal(&r)),
    }
}

fn draft_refusal(r: &DraftRefusal) -> ApiError {
    match r {
        DraftRefusal::TooMany { max } => ApiError::business(
            ErrorCode::DraftLimitReached,
            format!(
                "已有 {max} 个未生成模板的草稿 (max_drafts_per_tp)，请先用 template/deldraft 删除"
            ),
        ),
        DraftRefusal::OverBudget { would, max } => ApiError::business(
            ErrorCode::DraftLimitReached,
            format!(
                "草稿将共占 {would} 字节，超过 {max} 字节 (draft_budget_bytes_per_tp)，请先用 template/deldraft 删除"
            ),
        ),
        DraftRefusal::NotFound => ApiError::business(ErrorCode::DraftNotFound, "draft_id"),
        DraftRefusal::InUse(templates) => ApiError::business(
            ErrorCode::DraftInUse,
            format!(
                "模板 {} 由该草稿生成",
                templates
                    .iter()
                    .map(|t| t.0.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    }
}

/// `POST template/deldraft` (extension)
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/template/deldraft",
    tag = "template",
    operation_id = "template_deldraft",
    summary = "Delete a draft (extension)",
    description = "A draft of the platform that no template was made from (47037 otherwise, naming the templates; 47011 for an unknown id). Its files are removed from the blob store by the next collection once nothing else names them.",
    security(("tp_token" = [])),
    params(("draft_id" = i64, Query, minimum = 1, description = "A draft of the platform (`template/gettemplatedraftlist`).")),
    responses((status = 200, description = "Success without data, or an error.", body = inline(crate::api_doc::Done)))
)]
pub async fn delete_draft(State(s): State<AppState>, call: TpCall) -> Result<Response, ApiError> {
    let TpCall { caller, p, .. } = call;
    let id = DraftId(p.id("draft_id")?);
    match templates::delete_draft(&s, caller.tp, id).await? {
        Ok(()) => Ok(super::error::ok_empty()),
        Err(DraftRefusal::NotFound) => Err(ApiError::business(
            ErrorCode::DraftNotFound,
            format!("draft_id={id}"),
        )),
        Err(r) => Err(draft_refusal(&r)),
    }
}
