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
use smartship_api::requests::template::{
    AddToTemplate, DeleteDraft, DeleteTemplate, Paging, UploadDraft,
};
use smartship_api::template::{
    DraftCreated, DraftInfo, Page, TemplateCreated, TemplateDeleted, TemplateInfo,
};
use smartship_core::archive::{DraftError, DraftLimits, read_draft_streaming};
use smartship_core::manifest::Manifest;
use smartship_core::{DraftId, TemplateId};
use smartship_store::{AddTemplate, DraftRefusal, NewDraft};

fn paging(p: &Params) -> Result<(i64, i64), ApiError> {
    Ok(p.decode::<Paging>()?.offset_limit())
}

/// `GET template/gettemplatedraftlist`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/template/gettemplatedraftlist",
    tag = "template",
    operation_id = "template_gettemplatedraftlist",
    summary = "The platform's drafts, newest first",
    security(("tp_token" = [])),
    params(Paging),
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
    params(AddToTemplate),
    responses((status = 200, description = "The new template's id, or an error.", body = inline(crate::api_doc::NewTemplate)))
)]
pub async fn add_to_template(
    State(s): State<AppState>,
    call: TpCall,
) -> Result<Response, ApiError> {
    let TpCall { caller, p, .. } = call;
    let req: AddToTemplate = p.decode()?;
    let draft = DraftId(req.draft_id.get());
    let desc = req.user_desc.as_str();
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
    params(Paging),
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
    params(DeleteTemplate),
    responses((status = 200, description = "`result` 1, or an error.", body = inline(crate::api_doc::DeletedTemplate)))
)]
pub async fn delete_template(
    State(s): State<AppState>,
    call: TpCall,
) -> Result<Response, ApiError> {
    let TpCall { caller, p, .. } = call;
    let req: DeleteTemplate = p.decode()?;
    let id = TemplateId(req.template_id.get());
    if templates::delete_template(&s, caller.tp, id).await? {
        Ok(ok(TemplateDeleted { result: 1 }))
    } else {
        Err(ApiError::business(
            ErrorCode::TemplateNotFound,
            format!("template_id={id}"),
        ))
    }
}

// Its text fields are read as `requests::template::UploadDraft`, whose
// limits these repeat: an inlined field type with a description would be
// drawn as `allOf`.
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
    let fields: UploadDraft = p.decode()?;
    let (user_version, user_desc) = (
        fields.user_version.into_string(),
        fields.user_desc.into_string(),
    );
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
    params(DeleteDraft),
    responses((status = 200, description = "Success without data, or an error.", body = inline(crate::api_doc::Done)))
)]
pub async fn delete_draft(State(s): State<AppState>, call: TpCall) -> Result<Response, ApiError> {
    let TpCall { caller, p, .. } = call;
    let req: DeleteDraft = p.decode()?;
    let id = DraftId(req.draft_id.get());
    match templates::delete_draft(&s, caller.tp, id).await? {
        Ok(()) => Ok(super::error::ok_empty()),
        Err(DraftRefusal::NotFound) => Err(ApiError::business(
            ErrorCode::DraftNotFound,
            format!("draft_id={id}"),
        )),
        Err(r) => Err(draft_refusal(&r)),
    }
}
