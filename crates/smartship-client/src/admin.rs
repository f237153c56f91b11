//! [`AdminClient`]: the operator API (`/admin/v1`), for tools and tests.

use crate::config::ClientConfig;
use crate::error::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use smartship_api::admin::{
    AppPage, AppView, Authorized, EventViews, PackagePage, PackageView, ReviewQueue, StatusView,
    TpView,
};
use smartship_api::requests::admin::{
    AppListQuery, Authorize, CreateApp, CreateTp, EventListQuery, PackageListQuery, QueueQuery,
    Review, UpdateApp, UpdateTp,
};

/// Client of the operator API, authenticated with the admin bearer token.
///
/// ```no_run
/// # async fn demo() -> smartship_client::Result<()> {
/// use smartship_client::requests::admin::{QueueQuery, Review};
/// let admin = smartship_client::AdminClient::new("http://127.0.0.1:8080", "ADMIN_TOKEN");
/// let queue = admin.review_queue(&QueueQuery::default()).await?;
/// for p in queue.packages {
///     admin.review_package(p.package_id, &Review::pass()).await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AdminClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl AdminClient {
    /// `base` is the server's base URL, e.g. `http://127.0.0.1:8080`.
    ///
    /// ```
    /// let admin = smartship_client::AdminClient::new("http://127.0.0.1:8080/", "ADMIN_TOKEN");
    /// # let _ = admin;
    /// ```
    pub fn new(base: impl Into<String>, admin_token: impl Into<String>) -> AdminClient {
        let config = ClientConfig::new(base);
        AdminClient {
            http: config.http(),
            base: config.base_url,
            token: admin_token.into(),
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
    ///
    /// ```no_run
    /// # async fn demo(admin: smartship_client::AdminClient) -> smartship_client::Result<()> {
    /// let app = admin.get("/admin/v1/apps/42").await?;
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, path: &str) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        Ok(self.send(self.http.get(url)).await?.json().await?)
    }

    /// POST a JSON body.
    ///
    /// ```no_run
    /// # async fn demo(admin: smartship_client::AdminClient) -> smartship_client::Result<()> {
    /// use smartship_client::requests::admin::CreateTp;
    /// let body = CreateTp { name: "Acme ISV".into(), ..CreateTp::default() };
    /// let tp = admin.post("/admin/v1/tps", &body).await?;
    /// # Ok(()) }
    /// ```
    pub async fn post<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        Ok(self
            .send(self.http.post(url).json(body))
            .await?
            .json()
            .await?)
    }

    /// PATCH a JSON body.
    ///
    /// ```no_run
    /// # async fn demo(admin: smartship_client::AdminClient) -> smartship_client::Result<()> {
    /// use smartship_client::requests::admin::UpdateApp;
    /// let body = UpdateApp { basic_info_approved: Some(true), ..UpdateApp::default() };
    /// admin.patch("/admin/v1/apps/42", &body).await?;
    /// # Ok(()) }
    /// ```
    pub async fn patch<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        Ok(self
            .send(self.http.patch(url).json(body))
            .await?
            .json()
            .await?)
    }

    /// DELETE.
    ///
    /// ```no_run
    /// # async fn demo(admin: smartship_client::AdminClient) -> smartship_client::Result<()> {
    /// admin.delete("/admin/v1/apps/42/authorize/acme").await?;
    /// # Ok(()) }
    /// ```
    /// An answer with no body (204) is `null`.
    pub async fn delete(&self, path: &str) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let resp = self.send(self.http.delete(url)).await?;
        if resp.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        Ok(resp.json().await?)
    }

    /// GET raw bytes (package download).
    ///
    /// ```no_run
    /// # async fn demo(admin: smartship_client::AdminClient) -> smartship_client::Result<()> {
    /// let zip = admin.get_bytes("/admin/v1/packages/1001/download").await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        let url = format!("{}{path}", self.base);
        Ok(self.send(self.http.get(url)).await?.bytes().await?.to_vec())
    }

    /// The answer of a GET, read as `T`.
    pub async fn get_as<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        typed(self.get(path).await?)
    }

    /// The answer of a POST, read as `T`.
    pub async fn post_as<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        typed(self.post(path, body).await?)
    }

    /// The answer of a PATCH, read as `T`.
    pub async fn patch_as<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        typed(self.patch(path, body).await?)
    }

    // ---- typed calls: the body and answer types of `smartship_api` ----

    /// `GET /admin/v1/status`: what exists, what waits, how delivery stands.
    pub async fn status(&self) -> Result<StatusView> {
        self.get_as("/admin/v1/status").await
    }

    /// `POST /admin/v1/tps`: the platform with its generated secrets.
    pub async fn create_tp(&self, body: &CreateTp) -> Result<TpView> {
        self.post_as("/admin/v1/tps", body).await
    }

    /// `PATCH /admin/v1/tps/{client_id}`.
    pub async fn update_tp(&self, client_id: &str, body: &UpdateTp) -> Result<TpView> {
        self.patch_as(&format!("/admin/v1/tps/{}", segment(client_id)), body)
            .await
    }

    /// `POST /admin/v1/apps`.
    pub async fn create_app(&self, body: &CreateApp) -> Result<AppView> {
        self.post_as("/admin/v1/apps", body).await
    }

    /// `PATCH /admin/v1/apps/{app_id}`.
    pub async fn update_app(&self, app_id: i64, body: &UpdateApp) -> Result<AppView> {
        self.patch_as(&format!("/admin/v1/apps/{app_id}"), body)
            .await
    }

    /// `POST /admin/v1/apps/{app_id}/authorize`: the app's tokens, shown once.
    pub async fn authorize(&self, app_id: i64, body: &Authorize) -> Result<Authorized> {
        self.post_as(&format!("/admin/v1/apps/{app_id}/authorize"), body)
            .await
    }

    /// `GET /admin/v1/apps`.
    pub async fn list_apps(&self, query: &AppListQuery) -> Result<AppPage> {
        self.get_as(&format!("/admin/v1/apps?{}", encode(query)?))
            .await
    }

    /// `GET /admin/v1/packages`.
    pub async fn list_packages(&self, query: &PackageListQuery) -> Result<PackagePage> {
        self.get_as(&format!("/admin/v1/packages?{}", encode(query)?))
            .await
    }

    /// `GET /admin/v1/review-queue`: packages under audit, oldest first.
    pub async fn review_queue(&self, query: &QueueQuery) -> Result<ReviewQueue> {
        self.get_as(&format!("/admin/v1/review-queue?{}", encode(query)?))
            .await
    }

    /// `POST /admin/v1/packages/{package_id}/review`.
    pub async fn review_package(&self, package_id: i64, review: &Review) -> Result<PackageView> {
        self.post_as(&format!("/admin/v1/packages/{package_id}/review"), review)
            .await
    }

    /// `GET /admin/v1/events`.
    pub async fn events(&self, query: &EventListQuery) -> Result<EventViews> {
        self.get_as(&format!("/admin/v1/events?{}", encode(query)?))
            .await
    }
}

fn typed<T: DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| Error::Decode(e.to_string()))
}

/// A query struct as a query string.
fn encode<Q: Serialize>(query: &Q) -> Result<String> {
    serde_urlencoded::to_string(query).map_err(|e| Error::Decode(e.to_string()))
}

/// A path segment, percent-encoded (a client id is free text).
fn segment(raw: &str) -> String {
    serde_urlencoded::to_string([("", raw)])
        .map(|s| s[1..].replace('+', "%20"))
        .unwrap_or_default()
}
