//! The app's basic information and settings (docs/api.md, "Basic
//! information and settings"): images, name, icon, description,
//! categories, domains, QR codes, violations and restoration requests.

use crate::error::{Error, Result, decode};
use crate::openapi::OpenApiClient;
use reqwest::multipart;
use serde_json::Value;
use smartship_api::profile::{
    AppDomains, CategoryItem, ExamineId, NameCheck, TpDomains, ViolationDetail,
};

/// What a domain call does (`action`), with the domains per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainChange {
    /// `add`, `delete`, `set` or `get`; None on an app adds the
    /// platform's domains.
    pub action: Option<String>,
    /// `request_domain`, comma-separated.
    pub request: Option<String>,
    /// `upload_domain`.
    pub upload: Option<String>,
    /// `download_domain`.
    pub download: Option<String>,
    /// `socket_domain` (`wss://`).
    pub socket: Option<String>,
}

impl DomainChange {
    fn params(&self) -> Vec<(&'static str, &str)> {
        [
            ("action", &self.action),
            ("request_domain", &self.request),
            ("upload_domain", &self.upload),
            ("download_domain", &self.download),
            ("socket_domain", &self.socket),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}

impl OpenApiClient {
    /// `POST /file/2.0/smartapp/upload/image` (TP token): `kind` 1 icon, 2
    /// category qualification, 3 name material. Returns the image's URL.
    ///
    /// ```no_run
    /// # async fn demo(tp: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// let url = tp.upload_image(std::fs::read("icon.png").unwrap(), 1).await?;
    /// # Ok(()) }
    /// ```
    pub async fn upload_image(&self, bytes: Vec<u8>, kind: u8) -> Result<String> {
        let url = format!(
            "{}/file/2.0/smartapp/upload/image",
            self.conn.config.base_url
        );
        let form = multipart::Form::new()
            .part(
                "multipartFile",
                multipart::Part::bytes(bytes).file_name("image"),
            )
            .text("type", kind.to_string());
        let body: Value = self
            .conn
            .http
            .post(url)
            .query(&[("access_token", self.token.as_str())])
            .multipart(form)
            .send()
            .await?
            .json()
            .await?;
        decode(body)
    }

    /// `app/checknamewithqual`.
    pub async fn check_name(&self, name: &str, qual_materials: Option<&str>) -> Result<NameCheck> {
        let mut p = vec![("app_name", name)];
        if let Some(m) = qual_materials {
            p.push(("qual_materials", m));
        }
        self.read("app/checknamewithqual", &p).await
    }

    /// `app/setnicknamewithqual`: the examination's id.
    pub async fn set_name(&self, name: &str, qual_materials: Option<&str>) -> Result<i64> {
        let mut p = vec![("nick_name", name)];
        if let Some(m) = qual_materials {
            p.push(("qual_materials", m));
        }
        let ids: Vec<ExamineId> = self.write("app/setnicknamewithqual", &p).await?;
        ids.first()
            .map(|e| e.examine_id)
            .ok_or_else(|| Error::Decode("setnicknamewithqual answered no examine_id".into()))
    }

    /// `app/modifyheadimage` with an uploaded icon's URL.
    pub async fn set_icon(&self, image_url: &str) -> Result<i64> {
        let e: ExamineId = self
            .write("app/modifyheadimage", &[("image_url", image_url)])
            .await?;
        Ok(e.examine_id)
    }

    /// `app/modifysignature`: the description (10–56, Chinese counting two).
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// let examine_id = app.set_description("一家好吃的小店，欢迎光临").await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_description(&self, signature: &str) -> Result<i64> {
        let e: ExamineId = self
            .write("app/modifysignature", &[("signature", signature)])
            .await?;
        Ok(e.examine_id)
    }

    /// `app/category/list`: 1 the personal subjects' categories, 2 all.
    pub async fn category_list(&self, category_type: u8) -> Result<Vec<CategoryItem>> {
        let t = category_type.to_string();
        self.read("app/category/list", &[("category_type", t.as_str())])
            .await
    }

    /// `app/category/update`: `categorys` as the route takes it (ids
    /// comma-separated, or the JSON array).
    pub async fn set_categories(&self, categorys: &str) -> Result<i64> {
        let e: ExamineId = self
            .write("app/category/update", &[("categorys", categorys)])
            .await?;
        Ok(e.examine_id)
    }

    /// `app/modifydomain`.
    pub async fn app_domains(&self, change: &DomainChange) -> Result<AppDomains> {
        self.write("app/modifydomain", &change.params()).await
    }

    /// `tp/modifydomain` (TP token; `action` required).
    pub async fn tp_domains(&self, change: &DomainChange) -> Result<TpDomains> {
        self.write("tp/modifydomain", &change.params()).await
    }

    /// `app/modifywebviewdomain`: the domains, comma-separated.
    pub async fn app_webview_domains(
        &self,
        action: Option<&str>,
        domains: Option<&str>,
    ) -> Result<String> {
        let p: Vec<(&str, &str)> = [("action", action), ("web_view_domain", domains)]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        self.write("app/modifywebviewdomain", &p).await
    }

    /// `app/qrcode`: the PNG of the deep link to a package at a page.
    pub async fn qrcode(&self, path: &str, package_id: Option<i64>, width: u32) -> Result<Vec<u8>> {
        let url = format!("{}/rest/2.0/smartapp/app/qrcode", self.conn.config.base_url);
        let mut q = vec![
            ("access_token", self.token.clone()),
            ("path", path.to_owned()),
            ("width", width.to_string()),
        ];
        if let Some(id) = package_id {
            q.push(("package_id", id.to_string()));
        }
        let resp = self.conn.http.get(url).query(&q).send().await?;
        let is_png = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"image/png"));
        if is_png {
            return Ok(resp.bytes().await?.to_vec());
        }
        let body: Value = resp.json().await?;
        decode::<Value>(body).and_then(|v| Err(Error::Decode(format!("not a PNG: {v}"))))
    }

    /// `app/violation`.
    pub async fn violation(&self) -> Result<ViolationDetail> {
        self.read("app/violation", &[]).await
    }

    /// `app/offline/update`: corrections of an app taken offline, as
    /// `(parameter, value)` pairs (`app_name`, `app_desc`, `photo_addr`,
    /// `app_name_material`).
    pub async fn request_restoration(&self, corrections: &[(&str, &str)]) -> Result<i64> {
        let e: ExamineId = self.write("app/offline/update", corrections).await?;
        Ok(e.examine_id)
    }
}
