//! `app/qrcode`: a PNG QR code of the deep link that opens one of the
//! app's packages in a host app. The link (documented in docs/api.md):
//!
//! `smartship://swan/{app_key}?path={path}&package_id={id}&channel={channel}`
//!
//! `path` is the page and its query, percent-encoded ("" is the app's home
//! page); `channel` is `online`, `audit` (a package under audit, failed or
//! passed) or `development`. A host runtime that scans it opens that
//! package at that page. Errors are JSON with `errno` (the official PHP
//! SDK tells them from an image that way).

use super::auth::AppCall;
use super::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use smartship_api::ErrorCode;
use smartship_api::requests::profile::QrCode;
use smartship_core::PackageId;
use smartship_core::lifecycle::PackageState;

/// The scheme and host of the deep links.
pub const DEEP_LINK_PREFIX: &str = "smartship://swan/";

/// Which version of the app a package is to the host app.
fn channel(state: PackageState) -> Option<&'static str> {
    match state {
        PackageState::Online | PackageState::RollingBack => Some("online"),
        PackageState::Auditing | PackageState::AuditFailed | PackageState::AuditPassed => {
            Some("audit")
        }
        PackageState::Development => Some("development"),
        PackageState::History | PackageState::Superseded | PackageState::RolledBack => None,
    }
}

/// The deep link of a package at a page.
pub fn deep_link(app_key: &str, path: &str, package: PackageId, channel: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("path", path)
        .append_pair("package_id", &package.0.to_string())
        .append_pair("channel", channel)
        .finish();
    format!("{DEEP_LINK_PREFIX}{app_key}?{query}")
}

/// Draws `text` as a `width`×`width` PNG QR code (error correction M, a
/// quiet zone of four modules, modules scaled to whole pixels and
/// centred).
pub fn render_png(text: &str, width: u32) -> Result<Vec<u8>, ApiError> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|_| ApiError::param("path 过长，无法生成二维码"))?;
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let total = modules + 8;
    let scale = (width / total).max(1);
    let offset = width.saturating_sub(total * scale) / 2 + 4 * scale;
    let mut img = image::GrayImage::from_pixel(width, width, image::Luma([255u8]));
    for (i, c) in colors.iter().enumerate() {
        if *c != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i as u32 % modules, i as u32 / modules);
        for dy in 0..scale {
            for dx in 0..scale {
                let (x, y) = (offset + mx * scale + dx, offset + my * scale + dy);
                if x < width && y < width {
                    img.put_pixel(x, y, image::Luma([0u8]));
                }
            }
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(out.into_inner())
}

/// `GET app/qrcode`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/app/qrcode",
    tag = "basic-info",
    operation_id = "app_qrcode",
    summary = "A QR code that opens a package in the host app",
    description = "`path` (the page and its query; default the home page, at most 512 characters), `package_id` (a package in development, in audit or online; default the online one), `width` (200–1280 px, default 200). Answers `image/png` of `smartship://swan/{app_key}?path=…&package_id=…&channel=online|audit|development`. 47001 when there is no such package (or no online one), 47002 for a package that is history; errors are JSON.",
    params(QrCode),
    security(("app_token" = [])),
    responses((status = 200, description = "The PNG, or an error (JSON).", content(
        (Vec<u8> = "image/png"),
        (inline(crate::api_doc::Done) = "application/json")
    )))
)]
pub async fn qrcode(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let app = call.caller.app;
    let req: QrCode = call.p.decode()?;
    let path = req.path.as_deref().unwrap_or("");
    if path.chars().count() > 512 || path.chars().any(char::is_control) {
        return Err(ApiError::param("path 至多 512 个字符，且不能含控制字符"));
    }
    let path = path.trim_start_matches('/');
    let width = req.width.get() as u32;
    let package = match req.package_id.map(|id| id.get()) {
        Some(id) => s.store.package(app, PackageId(id)).await?.ok_or_else(|| {
            ApiError::business(ErrorCode::PackageNotFound, format!("package_id={id}"))
        })?,
        None => s
            .store
            .slotted_packages(app)
            .await?
            .iter()
            .find(|p| p.state == PackageState::Online || p.state == PackageState::RollingBack)
            .cloned()
            .ok_or_else(|| {
                ApiError::business(
                    ErrorCode::PackageNotFound,
                    "没有线上版本，请指定 package_id",
                )
            })?,
    };
    let Some(channel) = channel(package.state) else {
        return Err(ApiError::business(
            ErrorCode::WrongPackageState,
            format!(
                "package_id={} 已不在任何版本位 ({})",
                package.id,
                package.state.as_str()
            ),
        ));
    };
    let info = call.caller.app_row(&s).await?;
    let link = deep_link(&info.app_key, path, package.id, channel);
    let png = tokio::task::spawn_blocking(move || render_png(&link, width)).await??;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        png,
    )
        .into_response())
}
