//! Request parameters, wherever the client put them (SPEC §1): the query
//! string, an `application/x-www-form-urlencoded` body or a
//! `multipart/form-data` body, on GET and POST alike. Body values win over
//! query values. Unknown parameters are kept but ignored by handlers.
//!
//! The body is read only after the caller is authenticated (see
//! [`super::auth`]), so that a request without a valid token is answered with
//! the gateway error and no body is buffered for it.

use super::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use smartship_api::ErrorCode;
use std::collections::HashMap;
use tokio::io::AsyncWriteExt;

/// A file part of a multipart body, streamed to a temporary file in the
/// blob store's `tmp/` as it arrived (removed when dropped).
#[derive(Debug)]
pub struct UploadedFile {
    pub file: tempfile::NamedTempFile,
    pub size: u64,
}

#[derive(Debug, Default)]
pub struct Params {
    values: HashMap<String, String>,
    files: HashMap<String, UploadedFile>,
    /// This request's share of the bytes of bodies in flight, held while
    /// the request is served.
    body_share: Option<tokio::sync::OwnedSemaphorePermit>,
    /// The caller's address (for per-TP IP allow-lists).
    pub peer: Option<std::net::IpAddr>,
    /// The first query parameter that could not be decoded, kept by
    /// [`Params::from_query_deferred`] so that the gateway still finds the
    /// token and answers its own error first.
    pub undecodable: Option<String>,
}

/// Decodes one `application/x-www-form-urlencoded` component strictly:
/// `+` is a space, `%` must start two hex digits. (The common decoders keep
/// a broken escape as text and turn bytes that are no UTF-8 into U+FFFD,
/// which would store an altered value instead of refusing it.)
fn percent_decode(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = raw.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(out)
}

/// Characters no parameter may hold: control characters other than tab,
/// line feed and carriage return (NUL, ESC, DEL, the C1 controls).
fn check_controls(name: &str, value: &str) -> Result<(), ApiError> {
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(ApiError::param(format!("{name} 含有控制字符")));
    }
    Ok(())
}

/// Decodes a whole `application/x-www-form-urlencoded` text the way every
/// request's parameters are decoded: the pairs, or the first problem (the
/// fuzz target's entry point).
pub fn decode_form(bytes: &[u8]) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    match parse_form(&mut out, bytes) {
        Ok(()) => Ok(out),
        Err(ApiError::Business(_, problem)) => Err(problem),
        Err(other) => Err(format!("{other:?}")),
    }
}

/// Decodes a form into `into`. A pair that does not decode is skipped and
/// described in the returned error; the others are still decoded.
fn parse_form(into: &mut HashMap<String, String>, bytes: &[u8]) -> Result<(), ApiError> {
    let mut first_problem = None;
    for pair in bytes.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        match decode_pair(pair) {
            Ok((name, value)) => {
                into.insert(name, value);
            }
            Err(problem) => {
                first_problem.get_or_insert(problem);
            }
        }
    }
    match first_problem {
        None => Ok(()),
        Some(problem) => Err(ApiError::param(problem)),
    }
}

fn decode_pair(pair: &[u8]) -> Result<(String, String), String> {
    let (name, value) = match pair.iter().position(|b| *b == b'=') {
        Some(i) => (&pair[..i], &pair[i + 1..]),
        None => (pair, &pair[pair.len()..]),
    };
    let name = percent_decode(name)
        .and_then(|n| String::from_utf8(n).ok())
        .ok_or_else(|| "参数名不是合法的 URL 编码 (需为 UTF-8)".to_owned())?;
    let value = percent_decode(value)
        .ok_or_else(|| format!("{name} 含有无效的 URL 编码 (% 后须为两位十六进制数)"))?;
    let value = String::from_utf8(value).map_err(|_| format!("{name} 不是合法的 UTF-8 文本"))?;
    if let Err(ApiError::Business(_, m)) = check_controls(&name, &value) {
        return Err(m);
    }
    Ok((name, value))
}

/// A temporary file for an upload and a handle to write it.
async fn spool(
    dir: &std::path::Path,
) -> std::io::Result<(tempfile::NamedTempFile, tokio::fs::File)> {
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    let out = tokio::fs::File::from_std(tmp.reopen()?);
    Ok((tmp, out))
}

fn too_large() -> ApiError {
    ApiError::business(ErrorCode::PackageTooLarge, "请求体超过大小上限")
}

impl Params {
    /// The parameters of the query string alone, and the caller's address;
    /// a parameter that does not decode is refused.
    pub fn from_query(req: &Request) -> Result<Params, ApiError> {
        let mut p = Params::from_query_deferred(req);
        match p.undecodable.take() {
            Some(problem) => Err(ApiError::param(problem)),
            None => Ok(p),
        }
    }

    /// As [`Params::from_query`], but a parameter that does not decode is
    /// only noted in `undecodable`, for the caller to refuse after the
    /// token check.
    pub fn from_query_deferred(req: &Request) -> Params {
        let mut p = Params {
            peer: req
                .extensions()
                .get::<axum::extract::ConnectInfo<crate::lenient_http::PeerAddr>>()
                .map(|c| c.0.0.ip()),
            ..Params::default()
        };
        if let Some(q) = req.uri().query()
            && let Err(ApiError::Business(_, problem)) = parse_form(&mut p.values, q.as_bytes())
        {
            p.undecodable = Some(problem);
        }
        p
    }

    /// Adds the parameters of the body (form or multipart); body values
    /// replace query values of the same name. File parts are streamed to
    /// temporary files, so memory does not grow with an upload; the bytes
    /// of the bodies of authenticated callers being received are bounded
    /// (`max_body_bytes_in_flight`): past it a request is refused with
    /// 47019 before its body is read. A declared length over the route's
    /// limit is 47008 at once.
    pub async fn read_body(
        &mut self,
        req: Request,
        state: &AppState,
        authenticated: bool,
    ) -> Result<(), ApiError> {
        let ct = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let multipart = ct.starts_with("multipart/form-data");
        if !multipart && !ct.starts_with("application/x-www-form-urlencoded") {
            // Any other body (or none, e.g. a GET that still declares a form
            // content type) carries no parameters.
            return Ok(());
        }
        let declared = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        // The route's limit (uploaddraft takes the only multipart bodies).
        let limit = if multipart {
            state.config.max_draft_bytes + (1 << 20)
        } else {
            2 << 20
        };
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        // Only a caller whose token was verified takes a share: an
        // anonymous body must not be able to hold the ceiling for everyone
        // (it is bounded by the route limit, the timeouts and the cap on
        // connections).
        if authenticated {
            self.body_share = Some(state.body_budget.take(declared.unwrap_or(limit))?);
        }
        if multipart {
            let tmp_dir = state.blobs.tmp_dir();
            let mut mp = Multipart::from_request(req, state)
                .await
                .map_err(|_| ApiError::param("multipart 请求体无效"))?;
            loop {
                let mut field = match mp.next_field().await {
                    Ok(Some(f)) => f,
                    Ok(None) => break,
                    Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                        return Err(too_large());
                    }
                    // What follows a file that was read whole (a missing
                    // closing boundary, trailing bytes) is tolerated, as it
                    // always was.
                    Err(_) if !self.files.is_empty() => break,
                    Err(_) => return Err(ApiError::param("multipart 请求体无效")),
                };
                let name = field.name().unwrap_or("").to_owned();
                let read_error = |e: axum::extract::multipart::MultipartError| {
                    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                        too_large()
                    } else {
                        ApiError::param(format!("multipart 字段 {name} 读取失败"))
                    }
                };
                if field.file_name().is_some() {
                    let mut stored = spool(&tmp_dir).await;
                    let mut size = 0u64;
                    while let Some(chunk) = field.chunk().await.map_err(read_error)? {
                        // After a failed write (a full disk) the rest is
                        // still read, so the client hears the answer
                        // instead of a reset connection.
                        if let Ok((_, out)) = &mut stored
                            && let Err(e) = out.write_all(&chunk).await
                        {
                            stored = Err(e);
                        }
                        size += chunk.len() as u64;
                    }
                    // Text parts may follow a file (the Go SDK writes
                    // `type` after the image): the loop goes on reading.
                    let (tmp, mut out) = stored?;
                    out.flush().await?;
                    self.files.insert(name, UploadedFile { file: tmp, size });
                } else {
                    let bytes = field.bytes().await.map_err(read_error)?;
                    let text = String::from_utf8(bytes.to_vec())
                        .map_err(|_| ApiError::param(format!("{name} 不是合法的 UTF-8 文本")))?;
                    check_controls(&name, &text)?;
                    self.values.insert(name, text);
                }
            }
        } else {
            let body = Bytes::from_request(req, state).await.map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    // A body that ends early or a broken chunked encoding.
                    ApiError::param("请求体无法读取 (长度或分块编码无效)")
                }
            })?;
            parse_form(&mut self.values, &body)?;
        }
        Ok(())
    }
}

impl Params {
    /// Every text parameter and, for each file, its name and size: what
    /// the audit log records of a call (`crate::audit` leaves secrets out).
    pub fn summary(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self
            .values
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .chain(
                self.files
                    .iter()
                    .map(|(k, f)| (k.clone(), format!("<file of {} bytes>", f.size))),
            )
            .collect();
        all.sort();
        all
    }

    /// Parameters from name-value pairs, as a decoded request would hold.
    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Params {
        Params {
            values: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..Params::default()
        }
    }

    /// A parameter as given (untrimmed), if present.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A parameter, trimmed; empty counts as absent.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.raw(name).map(str::trim).filter(|s| !s.is_empty())
    }

    /// An uploaded file field.
    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        self.files.get(name)
    }

    /// The uploaded file, whatever its part's name (the official Go SDK
    /// names the part after the file); None when there is none or more
    /// than one.
    pub fn first_file(&self) -> Option<&UploadedFile> {
        match self.files.len() {
            1 => self.files.values().next(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<HashMap<String, String>, String> {
        let mut m = HashMap::new();
        parse_form(&mut m, q.as_bytes()).map_err(|e| format!("{e:?}"))?;
        Ok(m)
    }

    #[test]
    fn form_values_decode_strictly() {
        let m = parse("a=1&b=x+y%20z&c=%E4%B8%AD&d&e=&a=2").unwrap();
        assert_eq!(m["a"], "2", "a later value replaces an earlier one");
        assert_eq!(m["b"], "x y z");
        assert_eq!(m["c"], "中");
        assert_eq!((m["d"].as_str(), m["e"].as_str()), ("", ""));
        for (q, field) in [
            ("user_version=%FF%FE", "user_version"),
            ("user_desc=a%ZZb", "user_desc"),
            ("user_desc=a%2", "user_desc"),
            ("x=%00", "x"),
            ("x=a%1Bb", "x"),
            ("x=%C2%9B", "x"),
            ("x=%7F", "x"),
        ] {
            let e = parse(q).unwrap_err();
            assert!(e.contains(field), "{q}: {e}");
        }
        assert!(parse("%FF=1").is_err(), "a name must decode too");
        assert!(
            parse("content=line%0Aline%09tab%0D%0A").is_ok(),
            "line breaks are for paragraphs"
        );
    }
}
