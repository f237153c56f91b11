//! An app session that keeps its access token fresh.
//!
//! App access tokens live an hour; refresh tokens are **single use**. If the
//! new refresh token were lost after a refresh, the merchant would have to
//! authorize again, so [`AppSession`] saves the new pair through the
//! [`TokenStore`] *before* it uses the new access token, and a store that
//! cannot save stops the call with an error.
//!
//! ```no_run
//! # async fn demo() -> smartship_client::Result<()> {
//! use smartship_client::session::{AppSession, FileTokenStore, StoredTokens};
//! use std::sync::Arc;
//! let store = Arc::new(FileTokenStore::new("/var/lib/isv/tokens"));
//! let session = AppSession::new("https://openapi.example", "TP_TOKEN", 42, store);
//! let packages = session.package_list().await?;
//! # Ok(()) }
//! ```

use crate::{Error, OpenApiClient, Result};
use serde::{Deserialize, Serialize};
use smartship_api::package::PackageInfo;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Refresh this long before the access token expires.
const REFRESH_MARGIN_SECS: i64 = 60;

/// An app's tokens as stored between calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTokens {
    pub access_token: String,
    pub refresh_token: String,
    /// Unix seconds after which the access token is no longer valid.
    pub expires_at: i64,
}

impl StoredTokens {
    /// Tokens just received with `expires_in` seconds to live.
    pub fn new(access_token: &str, refresh_token: &str, expires_in: i64) -> StoredTokens {
        StoredTokens {
            access_token: access_token.to_owned(),
            refresh_token: refresh_token.to_owned(),
            expires_at: now_secs() + expires_in,
        }
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Where app tokens are kept. `save` must be durable when it returns.
pub trait TokenStore: Send + Sync {
    fn load(&self, app_id: i64) -> std::io::Result<Option<StoredTokens>>;
    fn save(&self, app_id: i64, tokens: &StoredTokens) -> std::io::Result<()>;
}

/// Tokens in memory (tests, short-lived tools).
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<std::collections::HashMap<i64, StoredTokens>>,
}

impl TokenStore for MemoryTokenStore {
    fn load(&self, app_id: i64) -> std::io::Result<Option<StoredTokens>> {
        Ok(self
            .tokens
            .lock()
            .expect("not poisoned")
            .get(&app_id)
            .cloned())
    }
    fn save(&self, app_id: i64, tokens: &StoredTokens) -> std::io::Result<()> {
        self.tokens
            .lock()
            .expect("not poisoned")
            .insert(app_id, tokens.clone());
        Ok(())
    }
}

/// One JSON file per app in a directory, written to a temporary file,
/// fsynced and renamed, so a crash leaves either the old or the new pair.
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    dir: PathBuf,
}

impl FileTokenStore {
    pub fn new(dir: impl Into<PathBuf>) -> FileTokenStore {
        FileTokenStore { dir: dir.into() }
    }
    fn path(&self, app_id: i64) -> PathBuf {
        self.dir.join(format!("{app_id}.json"))
    }
}

impl TokenStore for FileTokenStore {
    fn load(&self, app_id: i64) -> std::io::Result<Option<StoredTokens>> {
        match std::fs::read(self.path(app_id)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(std::io::Error::other),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn save(&self, app_id: i64, tokens: &StoredTokens) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(app_id);
        let tmp = path.with_extension("json.tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(tokens).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// Calls on behalf of one app, refreshing its tokens when needed.
pub struct AppSession {
    base: String,
    tp_token: String,
    app_id: i64,
    store: Arc<dyn TokenStore>,
    http: reqwest::Client,
    /// One refresh at a time: a refresh token works once.
    refreshing: tokio::sync::Mutex<()>,
}

impl AppSession {
    /// `tp_token` is the third-party platform's token (refreshes need it).
    pub fn new(
        base: impl Into<String>,
        tp_token: impl Into<String>,
        app_id: i64,
        store: Arc<dyn TokenStore>,
    ) -> AppSession {
        AppSession {
            base: base.into().trim_end_matches('/').to_owned(),
            tp_token: tp_token.into(),
            app_id,
            store,
            http: reqwest::Client::new(),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    fn stored(&self) -> Result<StoredTokens> {
        self.store
            .load(self.app_id)
            .map_err(|e| Error::Decode(format!("token store: {e}")))?
            .ok_or_else(|| Error::Decode(format!("no tokens stored for app {}", self.app_id)))
    }

    /// Exchanges the stored refresh token for a new pair and saves it.
    pub async fn refresh(&self) -> Result<StoredTokens> {
        let _one = self.refreshing.lock().await;
        let old = self.stored()?;
        let body: serde_json::Value = self
            .http
            .get(format!("{}/rest/2.0/oauth/token", self.base))
            .query(&[
                ("access_token", self.tp_token.as_str()),
                ("grant_type", "app_to_tp_refresh_token"),
                ("refresh_token", old.refresh_token.as_str()),
            ])
            .send()
            .await?
            .json()
            .await?;
        let (Some(access), Some(refresh), Some(ttl)) = (
            body["access_token"].as_str(),
            body["refresh_token"].as_str(),
            body["expires_in"].as_i64(),
        ) else {
            return Err(Error::Business {
                errno: -1,
                msg: format!(
                    "refresh refused: {} ({})",
                    body["error"].as_str().unwrap_or("unknown"),
                    body["error_description"].as_str().unwrap_or("")
                ),
            });
        };
        let fresh = StoredTokens::new(access, refresh, ttl);
        // Saved before use: the old refresh token is already spent.
        self.store
            .save(self.app_id, &fresh)
            .map_err(|e| Error::Decode(format!("token store could not save: {e}")))?;
        Ok(fresh)
    }

    /// A valid access token, refreshed first when it is about to expire.
    pub async fn access_token(&self) -> Result<String> {
        let t = self.stored()?;
        if t.expires_at - REFRESH_MARGIN_SECS > now_secs() {
            return Ok(t.access_token);
        }
        Ok(self.refresh().await?.access_token)
    }

    /// A client for the current access token.
    pub async fn client(&self) -> Result<OpenApiClient> {
        Ok(OpenApiClient::new(&self.base, self.access_token().await?))
    }

    /// `package/get`, retried once after a refresh if the token was refused.
    pub async fn package_list(&self) -> Result<Vec<PackageInfo>> {
        match self.client().await?.package_list().await {
            Err(e) if matches!(e.gateway_code(), Some(110 | 111)) => {
                let fresh = self.refresh().await?;
                OpenApiClient::new(&self.base, fresh.access_token)
                    .package_list()
                    .await
            }
            other => other,
        }
    }
}
