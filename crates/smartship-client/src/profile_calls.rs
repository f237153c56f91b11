//! The app's basic information and settings (docs/api.md, "Basic
//! information and settings"): images, name, icon, description,
//! categories, domains, QR codes, violations and restoration requests.

use crate::error::{Error, Result, decode};
use crate::openapi::{NOTHING, OpenApiClient};
use reqwest::multipart;
use serde::Serialize;
use serde_json::Value;
use smartship_api::fields::{Id, Verbatim};
use smartship_api::profile::{
    AppDomains, CategoryItem, ExamineId, NameCheck, SupportVersions, TpDomains, ViolationDetail,
};
use smartship_api::requests::profile::{
    AppDomainAction, CategoryList, CategoryUpdate, CheckName, DomainLists, OfflineUpdate, QrCode,
    SetDescription, SetIcon, SetName, SetSupportVersion, WebViewList,
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

/// A domain call's parameters: the action and the lists.
#[derive(Serialize)]
struct DomainCall<L: Serialize> {
    #[serde(flatten)]
    action: AppDomainAction,
    #[serde(flatten)]
    lists: L,
}

impl DomainChange {
    fn request(&self) -> DomainCall<DomainLists> {
        DomainCall {
            action: AppDomainAction {
                action: self.action.clone(),
            },
            lists: DomainLists {
                request_domain: Verbatim(self.request.clone()),
                upload_domain: Verbatim(self.upload.clone()),
                download_domain: Verbatim(self.download.clone()),
                socket_domain: Verbatim(self.socket.clone()),
            },
        }
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
        let form = multipart::Form::new()
            .part(
                "multipartFile",
                multipart::Part::bytes(bytes).file_name("image"),
            )
            .text("type", kind.to_string());
        self.write_multipart("/file/2.0/smartapp/upload/image", form)
            .await
    }

    /// `app/checknamewithqual`.
    pub async fn check_name(&self, name: &str, qual_materials: Option<&str>) -> Result<NameCheck> {
        let request = CheckName {
            app_name: name.to_owned(),
            qual_materials: qual_materials.map(str::to_owned),
        };
        self.read("app/checknamewithqual", &request).await
    }

    /// `app/setnicknamewithqual`: the examination's id.
    pub async fn set_name(&self, name: &str, qual_materials: Option<&str>) -> Result<i64> {
        let request = SetName {
            nick_name: name.to_owned(),
            qual_materials: qual_materials.map(str::to_owned),
        };
        let ids: Vec<ExamineId> = self.write("app/setnicknamewithqual", &request).await?;
        ids.first()
            .map(|e| e.examine_id)
            .ok_or_else(|| Error::Decode("setnicknamewithqual answered no examine_id".into()))
    }

    /// `app/modifyheadimage` with an uploaded icon's URL.
    pub async fn set_icon(&self, image_url: &str) -> Result<i64> {
        let e: ExamineId = self
            .write(
                "app/modifyheadimage",
                &SetIcon {
                    image_url: image_url.into(),
                },
            )
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
            .write(
                "app/modifysignature",
                &SetDescription {
                    signature: signature.to_owned(),
                },
            )
            .await?;
        Ok(e.examine_id)
    }

    /// `app/category/list`: 1 the personal subjects' categories, 2 all.
    pub async fn category_list(&self, category_type: u8) -> Result<Vec<CategoryItem>> {
        let request = CategoryList {
            category_type: category_type.to_string(),
        };
        self.read("app/category/list", &request).await
    }

    /// `app/category/update`: `categorys` as the route takes it (ids
    /// comma-separated, or the JSON array).
    pub async fn set_categories(&self, categorys: &str) -> Result<i64> {
        let e: ExamineId = self
            .write(
                "app/category/update",
                &CategoryUpdate {
                    categorys: categorys.to_owned(),
                },
            )
            .await?;
        Ok(e.examine_id)
    }

    /// `app/modifydomain`.
    pub async fn app_domains(&self, change: &DomainChange) -> Result<AppDomains> {
        self.write("app/modifydomain", &change.request()).await
    }

    /// `tp/modifydomain` (TP token; `action` required).
    pub async fn tp_domains(&self, change: &DomainChange) -> Result<TpDomains> {
        self.write("tp/modifydomain", &change.request()).await
    }

    /// `app/modifywebviewdomain`: the domains, comma-separated.
    pub async fn app_webview_domains(
        &self,
        action: Option<&str>,
        domains: Option<&str>,
    ) -> Result<String> {
        let request = DomainCall {
            action: AppDomainAction {
                action: action.map(str::to_owned),
            },
            lists: WebViewList {
                web_view_domain: Verbatim(domains.map(str::to_owned)),
            },
        };
        self.write("app/modifywebviewdomain", &request).await
    }

    /// `app/qrcode`: the PNG of the deep link to a package at a page.
    pub async fn qrcode(&self, path: &str, package_id: Option<i64>, width: u32) -> Result<Vec<u8>> {
        let url = format!("{}/rest/2.0/smartapp/app/qrcode", self.conn.config.base_url);
        let request = QrCode {
            path: Some(path.to_owned()),
            package_id: package_id.map(Id),
            width: i64::from(width).into(),
        };
        let resp = self
            .conn
            .http
            .get(url)
            .query(&[("access_token", self.token.as_str())])
            .query(&request)
            .send()
            .await?;
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

    /// `app/getsupportversion`: the base-library versions the platform
    /// offers and the app's minimum.
    pub async fn support_versions(&self) -> Result<SupportVersions> {
        self.read("app/getsupportversion", NOTHING).await
    }

    /// `app/setsupportversion` (extension): the app's minimum base-library
    /// version, one of [`SupportVersions::items`].
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// let v = app.set_support_version("3.2").await?;
    /// assert_eq!(v.now_version, "3.2");
    /// # Ok(()) }
    /// ```
    pub async fn set_support_version(&self, version: &str) -> Result<SupportVersions> {
        let request = SetSupportVersion {
            version: version.into(),
        };
        self.write("app/setsupportversion", &request).await
    }

    /// `app/violation`.
    pub async fn violation(&self) -> Result<ViolationDetail> {
        self.read("app/violation", NOTHING).await
    }

    /// `app/offline/update`: corrections of an app taken offline (at least
    /// one).
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// use smartship_client::requests::profile::OfflineUpdate;
    /// let fix = OfflineUpdate {
    ///     app_desc: Some("改正后的描述内容文字".into()),
    ///     ..OfflineUpdate::default()
    /// };
    /// let examine_id = app.request_restoration(&fix).await?;
    /// # Ok(()) }
    /// ```
    pub async fn request_restoration(&self, corrections: &OfflineUpdate) -> Result<i64> {
        let e: ExamineId = self.write("app/offline/update", corrections).await?;
        Ok(e.examine_id)
    }
}
