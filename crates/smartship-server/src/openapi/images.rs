//! Images of an app's basic information: `POST
//! /file/2.0/smartapp/upload/image` (TP token) takes a PNG or JPEG, decodes
//! it whole (its bytes decide, not its name), keeps it as a blob and
//! answers its URL, which `GET /file/2.0/smartapp/image/{sha256}.{ext}`
//! serves. The routes that take an image URL (`modifyheadimage`,
//! `qual_materials`, `category_quali`, `photo_addr`) accept only these.

use super::auth::TpCall;
use super::error::{ApiError, ok};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use smartship_api::ErrorCode;
use smartship_store::Image;
use std::io::Read;

/// Largest image accepted, in bytes.
pub const MAX_IMAGE_BYTES: u64 = 2 << 20;
/// Largest side, in pixels (bounds the memory a decode takes: 2048² RGBA
/// is 16 MiB).
pub const MAX_SIDE: u32 = 2048;
/// Smallest icon side, in pixels.
pub const MIN_ICON_SIDE: u32 = 144;
/// Where an image's URL points, after the server's base.
pub const IMAGE_PATH: &str = "/file/2.0/smartapp/image/";

/// What an upload is for (`type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Icon = 1,
    CategoryQualification = 2,
    NameMaterial = 3,
}

fn purpose(raw: Option<&str>) -> Result<Purpose, ApiError> {
    // The official Go SDK sends the text `<nil>` when no type is set, and
    // an absent type is an icon on the public platform too.
    match raw.map(str::trim) {
        None | Some("") | Some("<nil>") | Some("1") => Ok(Purpose::Icon),
        Some("2") => Ok(Purpose::CategoryQualification),
        Some("3") => Ok(Purpose::NameMaterial),
        Some(other) => Err(ApiError::param(format!(
            "type 必须是 1（头像）、2（类目资质）或 3（名称材料），收到 {other:?}"
        ))),
    }
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::business(ErrorCode::ImageInvalid, detail)
}

/// Decodes `bytes` whole and checks them for `purpose`: the format,
/// the size in pixels (before the pixels are decoded) and, for icons, a
/// square of at least [`MIN_ICON_SIDE`].
pub fn check_image(bytes: &[u8], purpose: Purpose) -> Result<(&'static str, u32, u32), ApiError> {
    let format = image::guess_format(bytes).map_err(|_| invalid("文件不是 PNG 或 JPEG 图片"))?;
    let (content_type, ext) = match format {
        image::ImageFormat::Png => ("image/png", "png"),
        image::ImageFormat::Jpeg => ("image/jpeg", "jpg"),
        _ => return Err(invalid("只接受 PNG 或 JPEG 图片")),
    };
    let reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let (w, h) = reader
        .into_dimensions()
        .map_err(|_| invalid("图片无法解码"))?;
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(invalid(format!(
            "图片为 {w}×{h} 像素，每边须在 1 到 {MAX_SIDE} 之间"
        )));
    }
    if purpose == Purpose::Icon && (w != h || w < MIN_ICON_SIDE) {
        return Err(invalid(format!(
            "头像须为正方形且不小于 {MIN_ICON_SIDE}×{MIN_ICON_SIDE}，收到 {w}×{h}"
        )));
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(64 << 20);
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|_| invalid("图片数据损坏，无法完整解码"))?;
    let _ = ext;
    Ok((content_type, w, h))
}

fn extension(content_type: &str) -> &'static str {
    if content_type == "image/png" {
        "png"
    } else {
        "jpg"
    }
}

/// The URL an image is served at.
pub fn image_url(base: &str, image: &Image) -> String {
    format!(
        "{base}{IMAGE_PATH}{}.{}",
        image.sha256,
        extension(&image.content_type)
    )
}

/// The uploaded image a URL names (whatever host it was given with: the
/// server may be reached under several names), or 47030 naming `param`.
pub async fn uploaded(s: &AppState, param: &str, url: &str) -> Result<Image, ApiError> {
    let not_ours = || invalid(format!("{param}: {url:?} 不是通过 upload/image 上传的图片"));
    let path = url
        .split_once(IMAGE_PATH)
        .map(|(_, rest)| rest)
        .ok_or_else(not_ours)?;
    let (sha, ext) = path.split_once('.').ok_or_else(not_ours)?;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_ours());
    }
    let image = s.store.image(sha).await?.ok_or_else(not_ours)?;
    if extension(&image.content_type) != ext {
        return Err(not_ours());
    }
    Ok(image)
}

/// Checks a comma-separated list of image URLs (`qual_materials`,
/// `category_quali`); at most `max` of them.
pub async fn uploaded_list(
    s: &AppState,
    param: &str,
    raw: &str,
    max: usize,
) -> Result<Vec<String>, ApiError> {
    let urls: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect();
    if urls.len() > max {
        return Err(ApiError::param(format!("{param} 至多 {max} 张图片")));
    }
    for u in &urls {
        uploaded(s, param, u).await?;
    }
    Ok(urls)
}

/// `POST /file/2.0/smartapp/upload/image`
#[utoipa::path(
    post,
    path = "/file/2.0/smartapp/upload/image",
    tag = "basic-info",
    operation_id = "upload_image",
    summary = "Upload an image for the app's basic information",
    description = "TP token. Multipart: the image as the file part (any part name; the SDKs use `multipartFile`) and `type` (1 icon, 2 category qualification, 3 name material; absent or `<nil>`: 1). PNG or JPEG, at most 2 MiB and 2048 px a side; an icon is square, at least 144 px. `data` is the image's URL. 47030 otherwise.",
    security(("tp_token" = [])),
    responses((status = 200, description = "The URL, or an error.", body = inline(crate::api_doc::ImageUrlAnswer)))
)]
pub async fn upload(
    State(s): State<AppState>,
    headers: HeaderMap,
    call: TpCall,
) -> Result<Response, ApiError> {
    let purpose = purpose(call.p.raw("type"))?;
    let file = call
        .p
        .first_file()
        .ok_or_else(|| ApiError::param("缺少图片文件 (multipart 文件字段，如 multipartFile)"))?;
    if file.size > MAX_IMAGE_BYTES {
        return Err(invalid(format!(
            "图片 {} 字节，超过上限 {MAX_IMAGE_BYTES} 字节",
            file.size
        )));
    }
    let mut bytes = Vec::with_capacity(file.size as usize);
    file.file.reopen()?.read_to_end(&mut bytes)?;
    let (content_type, w, h) = {
        let bytes = bytes.clone();
        tokio::task::spawn_blocking(move || check_image(&bytes, purpose)).await??
    };
    let blobs = s.blobs.clone();
    let stored = bytes.clone();
    let (sha256, _) = tokio::task::spawn_blocking(move || blobs.put(&stored))
        .await?
        .map_err(|e| super::error::storage_error(&e.to_string()))?;
    let image = Image {
        sha256,
        tp_id: call.caller.tp,
        kind: purpose as i64,
        content_type: content_type.to_owned(),
        width: i64::from(w),
        height: i64::from(h),
        size: bytes.len() as i64,
        created_at: crate::clock::now_ms(),
    };
    s.store.put_image(&image).await?;
    let image = s.store.image(&image.sha256).await?.unwrap_or(image);
    tracing::info!(tp = %call.caller.tp, sha256 = %image.sha256, w, h, "image uploaded");
    Ok(ok(image_url(
        &crate::runtime::base_url(&s, &headers),
        &image,
    )))
}

/// `GET /file/2.0/smartapp/image/{file}`: an uploaded image, by the name
/// its URL gives. Public, as the platform's image URLs are.
#[utoipa::path(
    get,
    path = "/file/2.0/smartapp/image/{file}",
    tag = "basic-info",
    operation_id = "get_image",
    summary = "An uploaded image",
    params(("file" = String, Path, description = "`{sha256}.png` or `{sha256}.jpg`, as the upload's URL names it.")),
    responses(
        (status = 200, description = "The image.", content(
            (Vec<u8> = "image/png"),
            (Vec<u8> = "image/jpeg")
        )),
        (status = 404, description = "No such upload.")
    )
)]
pub async fn serve(State(s): State<AppState>, Path(file): Path<String>) -> Response {
    let found = match uploaded(&s, "file", &format!("{IMAGE_PATH}{file}")).await {
        Ok(image) => image,
        Err(ApiError::Internal(e)) => {
            tracing::error!(error = ?e, "reading an image");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Err(_) => return StatusCode::NOT_FOUND.into_response(),
    };
    let blobs = s.blobs.clone();
    let sha = found.sha256.clone();
    match tokio::task::spawn_blocking(move || blobs.get(&sha)).await {
        Ok(Ok(bytes)) => (
            [
                (header::CONTENT_TYPE, found.content_type),
                (
                    header::CACHE_CONTROL,
                    "public, max-age=31536000, immutable".to_owned(),
                ),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            ],
            bytes,
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
