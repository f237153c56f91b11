//! [`OpenApiClient`]: one typed method per `/rest/2.0` route.

use crate::config::ClientConfig;
use crate::error::{Error, Result, decode, decode_oauth};
use reqwest::multipart;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use smartship_api::auth::{AppTokens, AuthorizationCode, PreAuthCode, TpToken};
use smartship_api::fields::Id;
use smartship_api::package::{AuditQuota, PackageInfo, PackageStatus};
use smartship_api::profile::AppInfo;
use smartship_api::requests::oauth::{OAuthToken, RetrieveAuthorizationCode, TpTokenQuery};
use smartship_api::requests::package::{GetDetail, OnePackage, Precheck, SubmitAudit, Upload};
use smartship_api::requests::template::{AddToTemplate, DeleteTemplate, Paging};
use smartship_api::template::{
    DraftCreated, DraftInfo, Page, TemplateCreated, TemplateDeleted, TemplateInfo,
};
use std::sync::Arc;

/// Credentials handed to the reviewer with an upload or a submit
/// (`test_account`, `test_password`).
///
/// ```
/// let t = smartship_client::TestAccount::new("reviewer", "s3cret");
/// assert_eq!(t.account, "reviewer");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestAccount {
    /// `test_account`.
    pub account: String,
    /// `test_password`.
    pub password: String,
}

impl TestAccount {
    /// A test account for the reviewer.
    ///
    /// ```
    /// let t = smartship_client::TestAccount::new("a", "p");
    /// assert_eq!(t.password, "p");
    /// ```
    pub fn new(account: impl Into<String>, password: impl Into<String>) -> TestAccount {
        TestAccount {
            account: account.into(),
            password: password.into(),
        }
    }
}

/// Which package `package/getdetail` describes.
///
/// ```
/// use smartship_client::PackageSelector;
/// assert_eq!(PackageSelector::Online, PackageSelector::default());
/// let by_status = PackageSelector::Status(4);
/// # let _ = by_status;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PackageSelector {
    /// Neither parameter: the online package.
    #[default]
    Online,
    /// `package_id`.
    Id(i64),
    /// `type`: the package in that status (1, 3, 4, 5, 6 or 8).
    Status(i64),
}

pub(crate) struct Connection {
    pub(crate) config: ClientConfig,
    pub(crate) http: reqwest::Client,
}

/// Client of the open API, bound to one token.
///
/// Package routes and `app/info` take an **app** token; template routes,
/// `tp/createpreauthcode`, `auth/retrieve/authorizationcode` and the two
/// `oauth/token` grants take the **TP** token. Clones and
/// [`OpenApiClient::with_token`] share one connection pool, so a tool
/// driving thousands of apps keeps one pool.
///
/// ```no_run
/// # async fn demo() -> smartship_client::Result<()> {
/// use smartship_client::OpenApiClient;
/// let app = OpenApiClient::new("http://127.0.0.1:8080", "APP_TOKEN");
/// for p in app.package_list().await? {
///     println!("{} {} status {}", p.package_id, p.version, p.status);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OpenApiClient {
    pub(crate) conn: Arc<Connection>,
    pub(crate) token: String,
}

impl std::fmt::Debug for OpenApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a credential: never in logs.
        f.debug_struct("OpenApiClient")
            .field("base_url", &self.conn.config.base_url)
            .finish_non_exhaustive()
    }
}

enum Kind {
    /// Idempotent: retried per the config.
    Read,
    /// Sent once.
    Write,
}

impl OpenApiClient {
    /// A client with the default [`ClientConfig`] for `base_url`.
    ///
    /// ```
    /// let c = smartship_client::OpenApiClient::new("http://127.0.0.1:8080/", "TOKEN");
    /// assert_eq!(c.base_url(), "http://127.0.0.1:8080");
    /// ```
    pub fn new(base_url: impl Into<String>, token: impl Into<String>) -> OpenApiClient {
        OpenApiClient::with_config(&ClientConfig::new(base_url), token)
    }

    /// A client with explicit timeouts and retry policy.
    ///
    /// ```
    /// use smartship_client::{ClientConfig, OpenApiClient};
    /// let c = OpenApiClient::with_config(&ClientConfig::public_platform(), "TOKEN");
    /// assert_eq!(c.base_url(), "https://openapi.baidu.com");
    /// ```
    pub fn with_config(config: &ClientConfig, token: impl Into<String>) -> OpenApiClient {
        OpenApiClient {
            conn: Arc::new(Connection {
                config: config.clone(),
                http: config.http(),
            }),
            token: token.into(),
        }
    }

    /// The same server and connection pool with another token.
    ///
    /// ```
    /// let tp = smartship_client::OpenApiClient::new("http://h", "TP_TOKEN");
    /// let app = tp.with_token("APP_TOKEN");
    /// assert_eq!(app.token(), "APP_TOKEN");
    /// ```
    pub fn with_token(&self, token: impl Into<String>) -> OpenApiClient {
        OpenApiClient {
            conn: self.conn.clone(),
            token: token.into(),
        }
    }

    /// The base URL calls go to.
    ///
    /// ```
    /// assert_eq!(smartship_client::OpenApiClient::new("http://h", "t").base_url(), "http://h");
    /// ```
    pub fn base_url(&self) -> &str {
        &self.conn.config.base_url
    }

    /// The token calls carry.
    ///
    /// ```
    /// assert_eq!(smartship_client::OpenApiClient::new("http://h", "t").token(), "t");
    /// ```
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The client's configuration.
    ///
    /// ```
    /// let c = smartship_client::OpenApiClient::new("http://h", "t");
    /// assert_eq!(c.config().read_retries, 2);
    /// ```
    pub fn config(&self) -> &ClientConfig {
        &self.conn.config
    }

    async fn send_once<P: Serialize + ?Sized>(
        &self,
        kind: &Kind,
        path: &str,
        params: &P,
    ) -> Result<Value> {
        let url = format!("{}{path}", self.conn.config.base_url);
        let req = match kind {
            Kind::Read => self.conn.http.get(url).query(params),
            Kind::Write => self.conn.http.post(url).form(params),
        };
        let req = if self.token.is_empty() {
            req
        } else {
            req.query(&[("access_token", self.token.as_str())])
        };
        let resp = req.send().await?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        match serde_json::from_slice(&bytes) {
            Ok(v) => Ok(v),
            // A proxy's error page, an empty 502: retryable for reads.
            Err(_) if status.is_server_error() => Err(Error::business(
                smartship_api::ErrorCode::Internal.errno(),
                format!("HTTP {status} without a JSON body"),
            )),
            Err(e) => Err(Error::Decode(format!(
                "HTTP {status}, body is not JSON: {e}"
            ))),
        }
    }

    async fn send<T, P: Serialize + ?Sized>(
        &self,
        kind: Kind,
        path: &str,
        params: &P,
        decode_body: fn(Value) -> Result<T>,
    ) -> Result<T> {
        let retries = match kind {
            Kind::Read => self.conn.config.read_retries,
            Kind::Write => 0,
        };
        let mut attempt = 0;
        loop {
            let result = match self.send_once(&kind, path, params).await {
                Ok(body) => decode_body(body),
                Err(e) => Err(e),
            };
            match result {
                Err(e) if attempt < retries && e.is_retryable() => {
                    tokio::time::sleep(self.conn.config.backoff(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// A read: `params` is a request struct of `smartship_api::requests`
    /// (or `&[]`), sent as the query.
    pub(crate) async fn read<T: DeserializeOwned, P: Serialize + ?Sized>(
        &self,
        route: &str,
        params: &P,
    ) -> Result<T> {
        let path = format!("/rest/2.0/smartapp/{route}");
        self.send(Kind::Read, &path, params, decode::<T>).await
    }

    /// A write: `params` is a request struct of `smartship_api::requests`
    /// (or `&[]`), sent as a form.
    pub(crate) async fn write<T: DeserializeOwned, P: Serialize + ?Sized>(
        &self,
        route: &str,
        params: &P,
    ) -> Result<T> {
        let path = format!("/rest/2.0/smartapp/{route}");
        self.send(Kind::Write, &path, params, decode::<T>).await
    }

    /// Calls any `/rest/2.0/smartapp/{route}` with form parameters (POST,
    /// sent once) and returns the raw JSON body, whatever its shape.
    ///
    /// ```no_run
    /// # async fn demo() -> smartship_client::Result<()> {
    /// let c = smartship_client::OpenApiClient::new("http://127.0.0.1:8080", "APP_TOKEN");
    /// let body = c.call("package/get", &[]).await?;
    /// assert_eq!(body["errno"], 0);
    /// # Ok(()) }
    /// ```
    pub async fn call(&self, route: &str, params: &[(&str, &str)]) -> Result<Value> {
        let path = format!("/rest/2.0/smartapp/{route}");
        self.send(Kind::Write, &path, params, Ok).await
    }

    // ---- package routes (app token) ----

    /// `package/upload`: a package from `template_id` with `ext_json`. The
    /// call answers at once; the build runs asynchronously: watch the
    /// development entry of [`OpenApiClient::package_list`] (`upload_status`
    /// 2 built, 3 failed with `upload_err_msg`).
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// let ext = serde_json::json!({"extEnable": true, "ext": {"shop": "Nanjing Road"}});
    /// app.package_upload(7, &ext, "1.2.0", "spring menu").await?;
    /// # Ok(()) }
    /// ```
    pub async fn package_upload(
        &self,
        template_id: i64,
        ext_json: &Value,
        user_version: &str,
        user_desc: &str,
    ) -> Result<()> {
        self.package_upload_with(template_id, ext_json, user_version, user_desc, None)
            .await
    }

    /// `package/upload` with a reviewer test account.
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// use smartship_client::TestAccount;
    /// let ext = serde_json::json!({"extEnable": true});
    /// let account = TestAccount::new("reviewer", "pw");
    /// app.package_upload_with(7, &ext, "1.2.0", "members only", Some(&account)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn package_upload_with(
        &self,
        template_id: i64,
        ext_json: &Value,
        user_version: &str,
        user_desc: &str,
        test_account: Option<&TestAccount>,
    ) -> Result<()> {
        let request = Upload {
            template_id: Id(template_id),
            ext_json: ext_json.to_string(),
            user_version: user_version.into(),
            user_desc: user_desc.into(),
            test_account: test_account.map(|t| t.account.as_str().into()),
            test_password: test_account.map(|t| t.password.as_str().into()),
        };
        self.write::<Value, _>("package/upload", &request)
            .await
            .map(drop)
    }

    /// `package/submitaudit`: development (3) → under audit (4).
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// app.package_submit_audit(1001, "a coffee shop menu", "first release").await?;
    /// # Ok(()) }
    /// ```
    pub async fn package_submit_audit(
        &self,
        package_id: i64,
        content: &str,
        remark: &str,
    ) -> Result<()> {
        self.package_submit_audit_with(package_id, content, remark, None)
            .await
    }

    /// `package/submitaudit` with a reviewer test account.
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// let account = smartship_client::TestAccount::new("reviewer", "pw");
    /// app.package_submit_audit_with(1001, "menu", "", Some(&account)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn package_submit_audit_with(
        &self,
        package_id: i64,
        content: &str,
        remark: &str,
        test_account: Option<&TestAccount>,
    ) -> Result<()> {
        let request = SubmitAudit {
            package_id: Id(package_id),
            content: content.into(),
            remark: (!remark.is_empty()).then(|| remark.into()),
            test_account: test_account.map(|t| t.account.as_str().into()),
            test_password: test_account.map(|t| t.password.as_str().into()),
        };
        self.write::<Value, _>("package/submitaudit", &request)
            .await
            .map(drop)
    }

    async fn by_package_id(&self, route: &str, package_id: i64) -> Result<()> {
        let request = OnePackage {
            package_id: Id(package_id),
        };
        self.write::<Value, _>(route, &request).await.map(drop)
    }

    /// `package/release`: audit passed (6) → online (1).
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// app.package_release(1001).await?;
    /// # Ok(()) }
    /// ```
    pub async fn package_release(&self, package_id: i64) -> Result<()> {
        self.by_package_id("package/release", package_id).await
    }

    /// `package/rollback`: the online package (1 → 8) gives way to the
    /// previous online version after the rollback delay.
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// app.package_rollback(1001).await?;
    /// # Ok(()) }
    /// ```
    pub async fn package_rollback(&self, package_id: i64) -> Result<()> {
        self.by_package_id("package/rollback", package_id).await
    }

    /// `package/withdraw`: under audit (4) → development (3).
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// app.package_withdraw(1001).await?;
    /// # Ok(()) }
    /// ```
    pub async fn package_withdraw(&self, package_id: i64) -> Result<()> {
        self.by_package_id("package/withdraw", package_id).await
    }

    /// `package/get`: the packages in the app's slots (development, audit,
    /// online).
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// let dev = app
    ///     .package_list()
    ///     .await?
    ///     .into_iter()
    ///     .find(|p| p.package_status() == Some(smartship_client::PackageStatus::Development));
    /// # Ok(()) }
    /// ```
    pub async fn package_list(&self) -> Result<Vec<PackageInfo>> {
        self.read("package/get", NOTHING).await
    }

    /// `package/getdetail`.
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// use smartship_client::PackageSelector;
    /// let online = app.package_detail(PackageSelector::Online).await?;
    /// let audited = app.package_detail(PackageSelector::Status(4)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn package_detail(&self, which: PackageSelector) -> Result<PackageInfo> {
        let request = match which {
            PackageSelector::Online => GetDetail::default(),
            PackageSelector::Id(id) => GetDetail {
                package_id: Some(Id(id)),
                status: None,
            },
            PackageSelector::Status(status) => GetDetail {
                package_id: None,
                status: Some(PackageStatus::from_wire(status).ok_or_else(|| {
                    Error::Decode(format!("{status} is no package status (1, 3, 4, 5, 6, 8)"))
                })?),
            },
        };
        self.read("package/getdetail", &request).await
    }

    /// `package/precheck` (extension): the pre-review checks run at the
    /// package's build; `passed` false means `package_submit_audit`
    /// answers 47034.
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// for f in app.package_precheck(1001).await?.findings {
    ///     println!("{} {}:{} {}", f.check, f.file, f.line, f.message);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn package_precheck(
        &self,
        package_id: i64,
    ) -> Result<smartship_api::package::PrecheckReport> {
        let request = Precheck {
            package_id: Id(package_id),
        };
        self.read("package/precheck", &request).await
    }

    /// `package/auditquota`: submissions left in this week's period.
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// let q = app.audit_quota().await?;
    /// if q.remain_times == 0 { println!("no submission left this week"); }
    /// # Ok(()) }
    /// ```
    pub async fn audit_quota(&self) -> Result<AuditQuota> {
        self.read("package/auditquota", NOTHING).await
    }

    /// `app/info`: the app's name and its basic-info and authenticity states.
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// let info = app.app_info().await?;
    /// println!("{} verified: {}", info.app_name, info.qualification.authenticity_verified);
    /// # Ok(()) }
    /// ```
    pub async fn app_info(&self) -> Result<AppInfo> {
        self.read("app/info", NOTHING).await
    }

    // ---- template routes (TP token) ----

    /// `template/gettemplatedraftlist` (pages count from 1).
    ///
    /// ```no_run
    /// # async fn demo(tp: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// let drafts = tp.template_draft_list(1, 10).await?;
    /// println!("{} drafts", drafts.count);
    /// # Ok(()) }
    /// ```
    pub async fn template_draft_list(&self, page: u32, page_size: u32) -> Result<Page<DraftInfo>> {
        self.read("template/gettemplatedraftlist", &paging(page, page_size))
            .await
    }

    /// `template/addtotemplate`: a draft becomes a template (at most 50).
    ///
    /// ```no_run
    /// # async fn demo(tp: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// let t = tp.template_add(12, "spring menu").await?;
    /// println!("template {}", t.template_id);
    /// # Ok(()) }
    /// ```
    pub async fn template_add(&self, draft_id: i64, user_desc: &str) -> Result<TemplateCreated> {
        let request = AddToTemplate {
            draft_id: Id(draft_id),
            user_desc: user_desc.into(),
        };
        self.write("template/addtotemplate", &request).await
    }

    /// `template/gettemplatelist` (pages count from 1).
    ///
    /// ```no_run
    /// # async fn demo(tp: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// for t in tp.template_list(1, 50).await?.list {
    ///     println!("{} {}", t.template_id, t.user_version);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn template_list(&self, page: u32, page_size: u32) -> Result<Page<TemplateInfo>> {
        self.read("template/gettemplatelist", &paging(page, page_size))
            .await
    }

    /// `template/deltemplate`.
    ///
    /// ```no_run
    /// # async fn demo(tp: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// assert_eq!(tp.template_delete(7).await?.result, 1);
    /// # Ok(()) }
    /// ```
    pub async fn template_delete(&self, template_id: i64) -> Result<TemplateDeleted> {
        let request = DeleteTemplate {
            template_id: Id(template_id),
        };
        self.write("template/deltemplate", &request).await
    }

    /// `template/uploaddraft` (smartship extension): a zip of a mini-program
    /// source tree becomes a draft.
    ///
    /// ```no_run
    /// # async fn demo(tp: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// let zip = std::fs::read("shop-template.zip").unwrap();
    /// let draft = tp.upload_draft(zip, "2.0.0", "new checkout").await?;
    /// let template = tp.template_add(draft.draft_id, "new checkout").await?;
    /// # Ok(()) }
    /// ```
    pub async fn upload_draft(
        &self,
        zip: Vec<u8>,
        user_version: &str,
        user_desc: &str,
    ) -> Result<DraftCreated> {
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
        self.write_multipart("/rest/2.0/smartapp/template/uploaddraft", form)
            .await
    }

    /// A write whose body is `form`, multipart (sent once, as every write).
    pub(crate) async fn write_multipart<T: DeserializeOwned>(
        &self,
        path: &str,
        form: multipart::Form,
    ) -> Result<T> {
        let url = format!("{}{path}", self.conn.config.base_url);
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

    // ---- authorization (SPEC §2) ----

    /// `GET /public/2.0/smartapp/auth/tp/token`: exchanges the pushed ticket
    /// for the TP token. Needs no token of its own (call it on any client).
    ///
    /// ```no_run
    /// # async fn demo() -> smartship_client::Result<()> {
    /// let anon = smartship_client::OpenApiClient::new("http://127.0.0.1:8080", "");
    /// let tp_token = anon.tp_token("my-client-id", "ticket.from-the-push").await?;
    /// let tp = anon.with_token(tp_token.access_token);
    /// # Ok(()) }
    /// ```
    pub async fn tp_token(&self, client_id: &str, ticket: &str) -> Result<TpToken> {
        let anonymous = self.with_token("");
        anonymous
            .send(
                Kind::Write,
                "/public/2.0/smartapp/auth/tp/token",
                &TpTokenQuery {
                    client_id: client_id.to_owned(),
                    ticket: ticket.to_owned(),
                },
                decode::<TpToken>,
            )
            .await
    }

    /// `tp/createpreauthcode` (TP token): the code the consent page is
    /// opened with.
    ///
    /// ```no_run
    /// # async fn demo(tp: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// let code = tp.create_pre_auth_code().await?;
    /// let page = format!(
    ///     "{}/mappconsole/tp/authorization?client_id=my-client-id&pre_auth_code={}&redirect_uri=https://isv.example/cb",
    ///     tp.base_url(), code.pre_auth_code);
    /// # Ok(()) }
    /// ```
    pub async fn create_pre_auth_code(&self) -> Result<PreAuthCode> {
        self.write("tp/createpreauthcode", NOTHING).await
    }

    /// `auth/retrieve/authorizationcode` (TP token): a fresh authorization
    /// code for an app that is already authorized.
    ///
    /// ```no_run
    /// # async fn demo(tp: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// let code = tp.retrieve_authorization_code(42).await?;
    /// let tokens = tp.exchange_authorization_code(&code.authorization_code).await?;
    /// # Ok(()) }
    /// ```
    pub async fn retrieve_authorization_code(&self, app_id: i64) -> Result<AuthorizationCode> {
        let request = RetrieveAuthorizationCode { app_id: Id(app_id) };
        self.write("auth/retrieve/authorizationcode", &request)
            .await
    }

    /// `oauth/token`, `grant_type=app_to_tp_authorization_code` (TP token):
    /// the app's access and refresh tokens for an authorization code.
    ///
    /// ```no_run
    /// # async fn demo(tp: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// let tokens = tp.exchange_authorization_code("code-from-the-redirect").await?;
    /// let app = tp.with_token(tokens.access_token);
    /// # Ok(()) }
    /// ```
    pub async fn exchange_authorization_code(&self, code: &str) -> Result<AppTokens> {
        self.oauth(&OAuthToken {
            grant_type: Some("app_to_tp_authorization_code".to_owned()),
            code: Some(code.to_owned()),
            refresh_token: None,
        })
        .await
    }

    /// `oauth/token`, `grant_type=app_to_tp_refresh_token` (TP token). The
    /// refresh token is **single use**: save the returned pair before using
    /// it ([`crate::session::AppSession`] does this for you).
    ///
    /// ```no_run
    /// # async fn demo(tp: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// let fresh = tp.refresh_app_token("refresh.old").await?;
    /// // persist fresh.refresh_token now: "refresh.old" no longer works
    /// # Ok(()) }
    /// ```
    pub async fn refresh_app_token(&self, refresh_token: &str) -> Result<AppTokens> {
        self.oauth(&OAuthToken {
            grant_type: Some("app_to_tp_refresh_token".to_owned()),
            code: None,
            refresh_token: Some(refresh_token.to_owned()),
        })
        .await
    }

    async fn oauth(&self, params: &OAuthToken) -> Result<AppTokens> {
        // Sent once: a refresh token spent by a request whose answer was lost
        // cannot be spent again.
        self.send(
            Kind::Write,
            "/rest/2.0/oauth/token",
            params,
            decode_oauth::<AppTokens>,
        )
        .await
    }
}

/// The parameters of a route that takes none.
pub(crate) const NOTHING: &[(&str, &str)] = &[];

/// A page of a list, as the list routes take it.
pub(crate) fn paging(page: u32, page_size: u32) -> Paging {
    Paging {
        page: i64::from(page).into(),
        page_size: i64::from(page_size).into(),
    }
}
