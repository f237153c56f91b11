//! Images of an app's basic information: `POST
//! /file/2.0/smartapp/upload/image` (TP token) takes a PNG or JPEG, decodes
//! it whole (its bytes decide, not its name), keeps it as a blob and
//! answers its URL, which `GET /file/2.0/smartapp/image/{sha256}.{ext}`
//! serves. The routes that take an image URL (`modifyheadimage`,
//! `qual_materials`, `category_quali`, `photo_addr`) accept only these.

use super::auth::TpCall;
use super::error::{ApiError, ok};
use crate::service::profile;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use smartship_api::ErrorCode;
use smartship_api::requests::paths::ImagePath;
use smartship_core::TpId;
use smartship_store::Image;
use std::io::Read;
use std::sync::Arc;

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

/// An image that decoded whole: what is stored and served.
pub struct CheckedImage {
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
    /// The bytes kept: a PNG without its ancillary chunks beyond the small
    /// fixed-size ones (`png_strip`), a JPEG as it came.
    pub bytes: Vec<u8>,
}

/// Most memory one decode may allocate: 2048² RGBA at 16 bits a channel.
/// With [`decode_permits`] this is the ceiling of all decoding together.
const MAX_DECODE_ALLOC: u64 = 32 << 20;

/// The decoder's limits: memory always, the sides once they were read (so
/// that a too large image is refused naming its size).
fn limits(sides: bool) -> image::Limits {
    let mut limits = image::Limits::default();
    if sides {
        limits.max_image_width = Some(MAX_SIDE);
        limits.max_image_height = Some(MAX_SIDE);
    }
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    limits
}

/// Decodes `bytes` whole and checks them for `purpose`: the format,
/// the size in pixels (before the pixels are decoded) and, for icons, a
/// square of at least [`MIN_ICON_SIDE`]. A PNG's compressed ancillary
/// chunks are dropped before anything reads it: they inflate without
/// bound and an image needs none of them.
pub fn check_image(bytes: &[u8], purpose: Purpose) -> Result<CheckedImage, ApiError> {
    let format = image::guess_format(bytes).map_err(|_| invalid("文件不是 PNG 或 JPEG 图片"))?;
    let (content_type, bytes) = match format {
        image::ImageFormat::Png => (
            "image/png",
            super::png_strip::strip(bytes).map_err(|_| invalid("PNG 文件结构损坏"))?,
        ),
        image::ImageFormat::Jpeg => ("image/jpeg", bytes.to_vec()),
        _ => return Err(invalid("只接受 PNG 或 JPEG 图片")),
    };
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(&bytes), format);
    reader.limits(limits(false));
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
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(&bytes), format);
    reader.limits(limits(true));
    reader
        .decode()
        .map_err(|_| invalid("图片数据损坏，无法完整解码"))?;
    Ok(CheckedImage {
        content_type,
        width: w,
        height: h,
        bytes,
    })
}

fn extension(content_type: &str) -> &'static str {
    if content_type == "image/png" {
        "png"
    } else {
        "jpg"
    }
}

/// An image's path on this server, which is what is stored: the URL a
/// caller gave may name any host, and the value shown is always this
/// server's ([`absolute`]).
pub fn image_path(image: &Image) -> String {
    format!(
        "{IMAGE_PATH}{}.{}",
        image.sha256,
        extension(&image.content_type)
    )
}

/// A stored image reference as a URL under `base`.
pub fn absolute(base: &str, stored: &str) -> String {
    if stored.starts_with('/') {
        format!("{base}{stored}")
    } else {
        stored.to_owned()
    }
}

/// The image a URL names, uploaded by the caller's platform `tp`, or
/// 47030 naming `param`. Only the path counts: the server may be reached
/// under several names.
pub async fn uploaded(s: &AppState, tp: TpId, param: &str, url: &str) -> Result<Image, ApiError> {
    let shown: String = url.chars().take(200).collect();
    let not_ours = || {
        invalid(format!(
            "{param}: {shown:?} 不是本平台通过 upload/image 上传的图片"
        ))
    };
    let path = match url.find(IMAGE_PATH) {
        Some(at) => &url[at + IMAGE_PATH.len()..],
        None => return Err(not_ours()),
    };
    let (sha, ext) = path.split_once('.').ok_or_else(not_ours)?;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_ours());
    }
    let image = s.store.tp_image(tp, sha).await?.ok_or_else(not_ours)?;
    if extension(&image.content_type) != ext {
        return Err(not_ours());
    }
    Ok(image)
}

/// An uploaded image fit for an icon: square, at least [`MIN_ICON_SIDE`].
pub fn check_icon(param: &str, image: &Image) -> Result<(), ApiError> {
    if image.width != image.height || image.width < i64::from(MIN_ICON_SIDE) {
        return Err(invalid(format!(
            "{param}: 头像须为正方形且不小于 {0}×{0}，该图片为 {1}×{2}",
            MIN_ICON_SIDE, image.width, image.height
        )));
    }
    Ok(())
}

/// Checks a comma-separated list of image URLs (`qual_materials`,
/// `category_quali`), at most `max` of them; returns their paths.
pub async fn uploaded_list(
    s: &AppState,
    tp: TpId,
    param: &str,
    raw: &str,
    max: usize,
) -> Result<Vec<String>, ApiError> {
    let urls: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    if urls.len() > max {
        return Err(ApiError::param(format!("{param} 至多 {max} 张图片")));
    }
    let mut paths = Vec::with_capacity(urls.len());
    for u in urls {
        paths.push(image_path(&uploaded(s, tp, param, u).await?));
    }
    Ok(paths)
}

/// Decodes run a few at a time: a small file can declare a large image,
/// so the bytes on the wire do not bound the memory a decode takes.
fn decode_permits() -> &'static Arc<tokio::sync::Semaphore> {
    static PERMITS: std::sync::OnceLock<Arc<tokio::sync::Semaphore>> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        Arc::new(tokio::sync::Semaphore::new(n))
    })
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
    call: Result<TpCall, ApiError>,
) -> Result<Response, ApiError> {
    // A body over the route's limit is an image too large, not a package.
    let call = call.map_err(|e| match e {
        ApiError::Business(ErrorCode::PackageTooLarge, _) => {
            invalid(format!("图片超过上限 {MAX_IMAGE_BYTES} 字节"))
        }
        other => other,
    })?;
    let purpose = purpose(call.p.raw("type"))?;
    let file = call.p.first_file().ok_or_else(|| {
        ApiError::param("须有且只有一个图片文件 (multipart 文件字段，如 multipartFile)")
    })?;
    if file.size > MAX_IMAGE_BYTES {
        return Err(invalid(format!(
            "图片 {} 字节，超过上限 {MAX_IMAGE_BYTES} 字节",
            file.size
        )));
    }
    let mut bytes = Vec::with_capacity(file.size as usize);
    file.file.reopen()?.read_to_end(&mut bytes)?;
    let checked = {
        let _permit = decode_permits().clone().acquire_owned().await?;
        tokio::task::spawn_blocking(move || check_image(&bytes, purpose)).await??
    };
    let (w, h) = (checked.width, checked.height);
    let size = checked.bytes.len() as i64;
    let blobs = s.blobs.clone();
    let stored = checked.bytes;
    let (sha256, _) = tokio::task::spawn_blocking(move || blobs.put(&stored))
        .await?
        .map_err(|e| super::error::blob_error(&e))?;
    let image = Image {
        sha256,
        tp_id: call.caller.tp,
        kind: purpose as i64,
        content_type: checked.content_type.to_owned(),
        width: i64::from(w),
        height: i64::from(h),
        size,
        created_at: crate::clock::now_ms(),
    };
    profile::record_image(&s, &image).await?;
    let base = s.base_url();
    Ok(ok(absolute(base, &image_path(&image))))
}

/// `GET /file/2.0/smartapp/image/{file}`: an uploaded image, by the name
/// its URL gives. Public, as the platform's image URLs are.
#[utoipa::path(
    get,
    path = "/file/2.0/smartapp/image/{file}",
    tag = "basic-info",
    operation_id = "get_image",
    summary = "An uploaded image",
    params(ImagePath),
    responses(
        (status = 200, description = "The image.", content(
            (Vec<u8> = "image/png"),
            (Vec<u8> = "image/jpeg")
        )),
        (status = 404, description = "No such upload.")
    )
)]
pub async fn serve(
    State(s): State<AppState>,
    Path(ImagePath { file }): Path<ImagePath>,
) -> Response {
    let Some((sha, ext)) = file.split_once('.') else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let found = match s.store.image(sha).await {
        Ok(Some(image)) if extension(&image.content_type) == ext => image,
        Ok(_) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = ?e, "reading an image");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
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
