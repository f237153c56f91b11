//! Downloads of artifacts: content-addressed, so immutable, and addressed
//! under their app, so that a ban or a pause holds per app even when
//! another app's build has the same bytes. Strong `ETag`
//! (the digest), `If-None-Match` → 304, one `Range` of bytes → 206 (a
//! resumed download), `HEAD`.

use crate::json_error::JsonError as AdminError;
use crate::service::delivery::artifacts;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
    IF_RANGE, RANGE,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use smartship_api::requests::paths::ArtifactPath;
use smartship_core::AppId;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn not_found() -> AdminError {
    AdminError::not_found("no such artifact")
}

/// One range of `bytes=`: `a-b`, `a-` or `-n`, within `len`. `Ok(None)`
/// means "send it all" (no range, several ranges, not a bytes range, or a
/// malformed one, which RFC 9110 says to ignore); `Err` a well-formed range
/// outside the zip (416).
fn parse_range(v: &str, len: u64) -> Result<Option<(u64, u64)>, ()> {
    match parse_range_strict(v, len) {
        Err(Malformed) => Ok(None),
        Ok(r) => Ok(r),
        Err(Unsatisfiable) => Err(()),
    }
}

enum RangeError {
    Malformed,
    Unsatisfiable,
}
use RangeError::{Malformed, Unsatisfiable};

fn parse_range_strict(v: &str, len: u64) -> Result<Option<(u64, u64)>, RangeError> {
    let Some(spec) = v.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(Malformed)?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| Malformed)?;
        if n == 0 || len == 0 {
            return Err(Unsatisfiable);
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let start: u64 = a.parse().map_err(|_| Malformed)?;
        let end = if b.is_empty() {
            len.saturating_sub(1)
        } else {
            let end: u64 = b.parse().map_err(|_| Malformed)?;
            if end < start {
                return Err(Malformed);
            }
            end.min(len.saturating_sub(1))
        };
        if start >= len {
            return Err(Unsatisfiable);
        }
        (start, end)
    };
    Ok(Some(range))
}

/// A package or incremental zip.
#[utoipa::path(
    get,
    path = "/runtime/v1/apps/{app_id}/artifacts/{file}",
    tag = "runtime",
    operation_id = "runtime_artifact",
    params(ArtifactPath),
    responses(
        (status = 200, description = "The zip.", content_type = "application/zip"),
        (status = 206, description = "The requested range of the zip.", content_type = "application/zip"),
        (status = 304, description = "The client's copy (`If-None-Match`) is this one."),
        (status = 400, description = "`bad_request`: the app id is no integer.", body = crate::api_doc::AdminErrorBody),
        (status = 404, description = "`not_found`: the app has no artifact with this digest, or is not served.", body = crate::api_doc::AdminErrorBody),
        (status = 416, description = "The range is outside the zip."),
    )
)]
pub async fn artifact(
    State(s): State<AppState>,
    Path(ArtifactPath { app_id, file }): Path<ArtifactPath>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, AdminError> {
    let sha = file.strip_suffix(".zip").ok_or_else(not_found)?;
    if sha.len() != 64 || !sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(not_found());
    }
    let etag = format!("\"{sha}\"");
    let etag_value = HeaderValue::from_str(&etag).expect("hex is a header value");
    let common = |status: StatusCode| {
        let mut r = Response::builder()
            .status(status)
            .header(ETAG, etag_value.clone())
            .header(CACHE_CONTROL, IMMUTABLE)
            .header(ACCEPT_RANGES, "bytes");
        if status != StatusCode::NOT_MODIFIED {
            r = r.header(CONTENT_TYPE, "application/zip");
        }
        r
    };
    let Some(size) = s.store.app_artifact_size(AppId(app_id), sha).await? else {
        return Err(not_found());
    };
    if let Some(inm) = headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok())
        && inm
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == etag || t == "*")
    {
        return Ok(common(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .expect("a valid response"));
    }
    let len = size.max(0) as u64;
    // A range applies unless If-Range names another version.
    let if_range_ok = headers
        .get(IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag);
    let range = match headers.get(RANGE).and_then(|v| v.to_str().ok()) {
        Some(r) if if_range_ok => match parse_range(r, len) {
            Ok(r) => r,
            Err(()) => {
                return Ok((
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    [(CONTENT_RANGE, format!("bytes */{len}"))],
                )
                    .into_response());
            }
        },
        _ => None,
    };
    let (status, start, end) = match range {
        Some((a, b)) => (StatusCode::PARTIAL_CONTENT, a, b),
        None => (StatusCode::OK, 0, len.saturating_sub(1)),
    };
    let count = if len == 0 { 0 } else { end - start + 1 };
    let mut resp = common(status).header(CONTENT_LENGTH, count);
    if status == StatusCode::PARTIAL_CONTENT {
        resp = resp.header(CONTENT_RANGE, format!("bytes {start}-{end}/{len}"));
    }
    if method == Method::HEAD {
        return Ok(resp.body(Body::empty()).expect("a valid response"));
    }
    let bytes = artifacts::bytes_of(&s, sha).await?;
    if bytes.len() as u64 != len {
        return Err(
            anyhow::anyhow!("artifact {sha} is {} bytes, recorded {len}", bytes.len()).into(),
        );
    }
    let body = if count == 0 {
        bytes::Bytes::new()
    } else {
        bytes.slice(start as usize..=end as usize)
    };
    Ok(resp.body(Body::from(body)).expect("a valid response"))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Ok(Some((0, 9))));
        assert_eq!(parse_range("bytes=90-", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=-10", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=50-500", 100), Ok(Some((50, 99))));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(parse_range("items=0-1", 100), Ok(None));
        assert_eq!(parse_range("bytes=100-", 100), Err(()));
        assert_eq!(
            parse_range("bytes=9-3", 100),
            Ok(None),
            "malformed: ignored"
        );
        assert_eq!(
            parse_range("bytes=x-3", 100),
            Ok(None),
            "malformed: ignored"
        );
        assert_eq!(parse_range("bytes=-0", 100), Err(()));
    }
}
