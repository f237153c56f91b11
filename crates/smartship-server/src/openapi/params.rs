//! Request parameters, wherever the client put them (SPEC §1): the query
//! string, an `application/x-www-form-urlencoded` body or a
//! `multipart/form-data` body, on GET and POST alike. Body values win over
//! query values. Unknown parameters are kept but ignored by handlers.
//!
//! The body is read only after the caller is authenticated (see
//! [`super::auth`]), so that a request without a valid token is answered with
//! the gateway error and no body is buffered for it.

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use smartship_api::ErrorCode;
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Params {
    values: HashMap<String, String>,
    files: HashMap<String, Vec<u8>>,
    /// The caller's address (for per-TP IP allow-lists).
    pub peer: Option<std::net::IpAddr>,
}

fn parse_form(into: &mut HashMap<String, String>, bytes: &[u8]) -> Result<(), ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
        .map_err(|_| ApiError::param("请求参数不是合法的 URL 编码 (需为 UTF-8)"))?;
    into.extend(pairs);
    Ok(())
}

fn too_large() -> ApiError {
    ApiError::business(ErrorCode::PackageTooLarge, "请求体超过大小上限")
}

impl Params {
    /// The parameters of the query string alone, and the caller's address.
    pub fn from_query(req: &Request) -> Result<Params, ApiError> {
        let mut p = Params {
            peer: req
                .extensions()
                .get::<axum::extract::ConnectInfo<crate::lenient_http::PeerAddr>>()
                .map(|c| c.0.0.ip()),
            ..Params::default()
        };
        if let Some(q) = req.uri().query() {
            parse_form(&mut p.values, q.as_bytes())?;
        }
        Ok(p)
    }

    /// Adds the parameters of the body (form or multipart); body values
    /// replace query values of the same name.
    pub async fn read_body<S: Send + Sync>(
        &mut self,
        req: Request,
        state: &S,
    ) -> Result<(), ApiError> {
        let ct = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if ct.starts_with("multipart/form-data") {
            let mut mp = Multipart::from_request(req, state)
                .await
                .map_err(|_| ApiError::param("multipart 请求体无效"))?;
            loop {
                let field = match mp.next_field().await {
                    Ok(Some(f)) => f,
                    Ok(None) => break,
                    Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                        return Err(too_large());
                    }
                    Err(_) => return Err(ApiError::param("multipart 请求体无效")),
                };
                let name = field.name().unwrap_or("").to_owned();
                let is_file = field.file_name().is_some();
                let bytes = field.bytes().await.map_err(|e| {
                    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                        too_large()
                    } else {
                        ApiError::param(format!("multipart 字段 {name} 读取失败"))
                    }
                })?;
                if is_file {
                    self.files.insert(name, bytes.to_vec());
                } else {
                    let text = String::from_utf8(bytes.to_vec())
                        .map_err(|_| ApiError::param(format!("{name} 不是 UTF-8 文本")))?;
                    self.values.insert(name, text);
                }
            }
        } else if ct.starts_with("application/x-www-form-urlencoded") {
            let body = Bytes::from_request(req, state)
                .await
                .map_err(|_| too_large())?;
            parse_form(&mut self.values, &body)?;
        }
        // Any other body (or none, e.g. a GET that still declares a form
        // content type) carries no parameters.
        Ok(())
    }
}

impl Params {
    /// A parameter as given (untrimmed), if present.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A parameter, trimmed; empty counts as absent.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.raw(name).map(str::trim).filter(|s| !s.is_empty())
    }

    /// A required, non-empty parameter.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.optional(name)
            .ok_or_else(|| ApiError::param(format!("{name} 不能为空")))
    }

    /// A required text of at most `max` characters.
    pub fn text(&self, name: &str, max: usize) -> Result<&str, ApiError> {
        let v = self.required(name)?;
        check_len(name, v, max)?;
        Ok(v)
    }

    /// An optional text of at most `max` characters.
    pub fn optional_text(&self, name: &str, max: usize) -> Result<Option<&str>, ApiError> {
        let v = self.optional(name);
        if let Some(v) = v {
            check_len(name, v, max)?;
        }
        Ok(v)
    }

    /// A required positive integer id, given as `"123"` or `123`.
    pub fn id(&self, name: &str) -> Result<i64, ApiError> {
        parse_id(name, self.required(name)?)
    }

    /// An optional positive integer id.
    pub fn optional_id(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.optional(name).map(|v| parse_id(name, v)).transpose()
    }

    /// An optional integer within `range`, or `default`.
    pub fn int_in(
        &self,
        name: &str,
        default: i64,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<i64, ApiError> {
        let Some(v) = self.optional(name) else {
            return Ok(default);
        };
        match v.parse::<i64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ApiError::param(format!(
                "{name} 必须是 {} 到 {} 之间的整数",
                range.start(),
                range.end()
            ))),
        }
    }

    /// An uploaded file field.
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name).map(Vec::as_slice)
    }
}

fn check_len(name: &str, v: &str, max: usize) -> Result<(), ApiError> {
    let n = v.chars().count();
    if n > max {
        return Err(ApiError::param(format!(
            "{name} 长度 {n} 超过上限 {max} 个字符"
        )));
    }
    Ok(())
}

fn parse_id(name: &str, v: &str) -> Result<i64, ApiError> {
    match v.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ApiError::param(format!("{name} 必须是正整数，收到 {v:?}"))),
    }
}
