//! [`AdminClient`]: the operator API (`/admin/v1`), for tools and tests.

use crate::config::ClientConfig;
use crate::error::{Error, Result};
use serde_json::Value;

/// Client of the operator API, authenticated with the admin bearer token.
///
/// ```no_run
/// # async fn demo() -> smartship_client::Result<()> {
/// use serde_json::json;
/// let admin = smartship_client::AdminClient::new("http://127.0.0.1:8080", "ADMIN_TOKEN");
/// let queue = admin.get("/admin/v1/review-queue").await?;
/// for p in queue["packages"].as_array().unwrap() {
///     let path = format!("/admin/v1/packages/{}/review", p["package_id"]);
///     admin.post(&path, &json!({"decision": "pass"})).await?;
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
    /// let tp = admin.post("/admin/v1/tps", &serde_json::json!({"name": "Acme ISV"})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value> {
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
    /// let body = serde_json::json!({"basic_info_approved": true});
    /// admin.patch("/admin/v1/apps/42", &body).await?;
    /// # Ok(()) }
    /// ```
    pub async fn patch(&self, path: &str, body: &Value) -> Result<Value> {
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
}
