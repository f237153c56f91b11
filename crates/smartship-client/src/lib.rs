//! Rust client for smartship.
//!
//! - [`AdminClient`]: the operator API (`/admin/v1`).
//! - [`OpenApiClient`]: the `/rest/2.0` open API as a third-party platform
//!   calls it (template routes and the draft upload extension for now).
//! - [`events::EventReceiver`]: verifies, decrypts and parses pushed events.
//!
//! Errors keep the three shapes of the wire apart: [`Error::Gateway`] for
//! `{error_code, error_msg}`, [`Error::Business`] for a non-zero `errno`,
//! [`Error::Admin`] for operator API errors, and [`Error::Transport`].

pub mod events;
pub mod session;

/// The examples of `docs/events.md`, run as doctests so the document cannot
/// drift from the SDK.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/events.md")]
pub struct EventsDocExamples;

use reqwest::multipart;
use serde::de::DeserializeOwned;
use serde_json::Value;
use smartship_api::package::{AuditQuota, PackageInfo};
use smartship_api::template::{DraftCreated, Page, TemplateInfo};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("gateway error {code}: {message}")]
    Gateway { code: i64, message: String },
    #[error("errno {errno}: {msg}")]
    Business { errno: i64, msg: String },
    #[error("operator API {status}: {code}: {message}")]
    Admin {
        status: u16,
        code: String,
        message: String,
    },
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("unexpected response: {0}")]
    Decode(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The documented business error, when this is one smartship knows.
    ///
    /// ```
    /// use smartship_api::ErrorCode;
    /// let e = smartship_client::Error::Business { errno: 47005, msg: String::new() };
    /// assert_eq!(e.business_code(), Some(ErrorCode::AuditInProgress));
    /// ```
    pub fn business_code(&self) -> Option<smartship_api::ErrorCode> {
        match self {
            Error::Business { errno, .. } => smartship_api::ErrorCode::from_errno(*errno),
            _ => None,
        }
    }

    /// The gateway error, when this is one.
    pub fn gateway_code(&self) -> Option<i64> {
        match self {
            Error::Gateway { code, .. } => Some(*code),
            _ => None,
        }
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("a default TLS-less client always builds")
}

/// Client of the operator API.
#[derive(Debug, Clone)]
pub struct AdminClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl AdminClient {
    /// `base` is the server's base URL, e.g. `http://127.0.0.1:8080`.
    pub fn new(base: impl Into<String>, admin_token: impl Into<String>) -> AdminClient {
        AdminClient {
            base: base.into().trim_end_matches('/').to_owned(),
            token: admin_token.into(),
            http: http(),
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let resp = req.bearer_auth(&self.token).send().await?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        Err(Error::Admin {
            status: status.as_u16(),
            code: body["error"]["code"].as_str().unwrap_or("").to_owned(),
            message: body["error"]["message"]
                .as_str()
                .unwrap_or("no error message")
                .to_owned(),
        })
    }

    /// GET a JSON document.
    pub async fn get(&self, path: &str) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        Ok(self.send(self.http.get(url)).await?.json().await?)
    }

    /// POST a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        Ok(self
            .send(self.http.post(url).json(body))
            .await?
            .json()
            .await?)
    }

    /// PATCH a JSON body.
    pub async fn patch(&self, path: &str, body: &Value) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        Ok(self
            .send(self.http.patch(url).json(body))
            .await?
            .json()
            .await?)
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        Ok(self.send(self.http.delete(url)).await?.json().await?)
    }

    /// GET raw bytes (package download).
    pub async fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        let url = format!("{}{path}", self.base);
        Ok(self.send(self.http.get(url)).await?.bytes().await?.to_vec())
    }
}

/// Client of the `/rest/2.0` open API, authenticated with one access token.
#[derive(Debug, Clone)]
pub struct OpenApiClient {
    base: String,
    access_token: String,
    http: reqwest::Client,
}

/// Decodes any of the wire shapes into `data` or an [`Error`].
pub fn decode<T: DeserializeOwned>(body: Value) -> Result<T> {
    if let Some(code) = body.get("error_code").and_then(Value::as_i64) {
        return Err(Error::Gateway {
            code,
            message: body["error_msg"].as_str().unwrap_or("").to_owned(),
        });
    }
    let errno = body
        .get("errno")
        .and_then(Value::as_i64)
        .ok_or_else(|| Error::Decode(body.to_string()))?;
    if errno != 0 {
        return Err(Error::Business {
            errno,
            msg: body["msg"].as_str().unwrap_or("").to_owned(),
        });
    }
    serde_json::from_value(body.get("data").cloned().unwrap_or(Value::Null))
        .map_err(|e| Error::Decode(e.to_string()))
}

impl OpenApiClient {
    pub fn new(base: impl Into<String>, access_token: impl Into<String>) -> OpenApiClient {
        OpenApiClient {
            base: base.into().trim_end_matches('/').to_owned(),
            access_token: access_token.into(),
            http: http(),
        }
    }

    /// Calls a route with form parameters; returns the raw JSON body.
    pub async fn call(&self, route: &str, params: &[(&str, &str)]) -> Result<Value> {
        let url = format!("{}/rest/2.0/smartapp/{route}", self.base);
        Ok(self
            .http
            .post(url)
            .query(&[("access_token", self.access_token.as_str())])
            .form(params)
            .send()
            .await?
            .json()
            .await?)
    }

    async fn typed<T: DeserializeOwned>(&self, route: &str, params: &[(&str, &str)]) -> Result<T> {
        decode(self.call(route, params).await?)
    }

    /// `package/upload`: a package from `template_id` with `ext_json`; the
    /// build runs asynchronously (watch [`OpenApiClient::package_list`]).
    pub async fn package_upload(
        &self,
        template_id: i64,
        ext_json: &Value,
        user_version: &str,
        user_desc: &str,
    ) -> Result<()> {
        let (template_id, ext_json) = (template_id.to_string(), ext_json.to_string());
        self.typed(
            "package/upload",
            &[
                ("template_id", template_id.as_str()),
                ("ext_json", ext_json.as_str()),
                ("user_version", user_version),
                ("user_desc", user_desc),
            ],
        )
        .await
    }

    /// `package/submitaudit`.
    pub async fn package_submit_audit(
        &self,
        package_id: i64,
        content: &str,
        remark: &str,
    ) -> Result<()> {
        let id = package_id.to_string();
        self.typed(
            "package/submitaudit",
            &[
                ("package_id", id.as_str()),
                ("content", content),
                ("remark", remark),
            ],
        )
        .await
    }

    /// `package/release`.
    pub async fn package_release(&self, package_id: i64) -> Result<()> {
        let id = package_id.to_string();
        self.typed("package/release", &[("package_id", id.as_str())])
            .await
    }

    /// `package/rollback`.
    pub async fn package_rollback(&self, package_id: i64) -> Result<()> {
        let id = package_id.to_string();
        self.typed("package/rollback", &[("package_id", id.as_str())])
            .await
    }

    /// `package/withdraw`.
    pub async fn package_withdraw(&self, package_id: i64) -> Result<()> {
        let id = package_id.to_string();
        self.typed("package/withdraw", &[("package_id", id.as_str())])
            .await
    }

    /// `package/get`: the packages in the app's slots.
    pub async fn package_list(&self) -> Result<Vec<PackageInfo>> {
        self.typed("package/get", &[]).await
    }

    /// `package/getdetail`: by id, by status (`type`), or the online package.
    pub async fn package_detail(
        &self,
        package_id: Option<i64>,
        status: Option<i64>,
    ) -> Result<PackageInfo> {
        let id = package_id.map(|i| i.to_string());
        let ty = status.map(|s| s.to_string());
        let mut params = Vec::new();
        if let Some(id) = &id {
            params.push(("package_id", id.as_str()));
        }
        if let Some(ty) = &ty {
            params.push(("type", ty.as_str()));
        }
        self.typed("package/getdetail", &params).await
    }

    /// `package/auditquota`.
    pub async fn audit_quota(&self) -> Result<AuditQuota> {
        self.typed("package/auditquota", &[]).await
    }

    /// `template/gettemplatelist`.
    pub async fn template_list(&self, page: u32, page_size: u32) -> Result<Page<TemplateInfo>> {
        let (p, s) = (page.to_string(), page_size.to_string());
        self.typed(
            "template/gettemplatelist",
            &[("page", p.as_str()), ("page_size", s.as_str())],
        )
        .await
    }

    /// Uploads a draft (a zip of a mini-program source tree).
    pub async fn upload_draft(
        &self,
        zip: Vec<u8>,
        user_version: &str,
        user_desc: &str,
    ) -> Result<DraftCreated> {
        let url = format!("{}/rest/2.0/smartapp/template/uploaddraft", self.base);
        let form = multipart::Form::new()
            .text("user_version", user_version.to_owned())
            .text("user_desc", user_desc.to_owned())
            .part(
                "file",
                multipart::Part::bytes(zip)
                    .file_name("draft.zip")
                    .mime_str("application/zip")
                    .expect("static mime"),
            );
        let body: Value = self
            .http
            .post(url)
            .query(&[("access_token", self.access_token.as_str())])
            .multipart(form)
            .send()
            .await?
            .json()
            .await?;
        decode(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decode_distinguishes_shapes() {
        let e = decode::<Value>(json!({"error_code": 110, "error_msg": "x"})).unwrap_err();
        assert!(matches!(e, Error::Gateway { code: 110, .. }));
        let e = decode::<Value>(json!({"errno": 47001, "msg": "y"})).unwrap_err();
        assert!(matches!(e, Error::Business { errno: 47001, .. }));
        let d: DraftCreated =
            decode(json!({"errno": 0, "msg": "success", "data": {"draft_id": 3}})).unwrap();
        assert_eq!(d.draft_id, 3);
    }
}
