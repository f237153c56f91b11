//! An app session that keeps its access token fresh.
//!
//! App access tokens live an hour; refresh tokens are **single use**. If the
//! new refresh token were lost after a refresh, the merchant would have to
//! authorize again, so [`AppSession`] saves the new pair through the
//! [`TokenStore`] *before* it uses the new access token, and a store that
//! cannot save stops the call with [`Error::TokenStore`].
//!
//! Every call made through [`AppSession::call`] is refreshed-and-retried
//! once when the gateway refuses the token (110 or 111): the gateway checks
//! the token before anything runs, so the retry cannot do a write twice.
//!
//! ```no_run
//! # async fn demo() -> smartship_client::Result<()> {
//! use smartship_client::session::{AppSession, FileTokenStore};
//! use std::sync::Arc;
//! let store = Arc::new(FileTokenStore::new("/var/lib/isv/tokens"));
//! let session = AppSession::new("https://openapi.example", "TP_TOKEN", 42, store);
//! let packages = session.call(|app| async move { app.package_list().await }).await?;
//! # Ok(()) }
//! ```

use crate::{Error, OpenApiClient, Result};
/// The attribute [`TokenStore`] implementations carry (re-exported so that
/// implementing the trait needs no extra dependency).
pub use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use smartship_api::auth::AppTokens;
use smartship_api::package::PackageInfo;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Refresh this long before the access token expires.
const REFRESH_MARGIN_SECS: i64 = 60;

/// An app's tokens as stored between calls.
///
/// ```
/// use smartship_client::session::StoredTokens;
/// let t = StoredTokens::new("app.a", "refresh.r", 3600);
/// assert!(!t.expires_within(60));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTokens {
    /// The app token package routes take.
    pub access_token: String,
    /// Single use; spent by the next refresh.
    pub refresh_token: String,
    /// Unix seconds after which the access token is no longer valid.
    pub expires_at: i64,
}

impl StoredTokens {
    /// Tokens just received with `expires_in` seconds to live.
    ///
    /// ```
    /// let t = smartship_client::session::StoredTokens::new("a", "r", 0);
    /// assert!(t.expires_within(1));
    /// ```
    pub fn new(access_token: &str, refresh_token: &str, expires_in: i64) -> StoredTokens {
        StoredTokens {
            access_token: access_token.to_owned(),
            refresh_token: refresh_token.to_owned(),
            expires_at: now_secs() + expires_in,
        }
    }

    /// True when the access token expires in less than `secs` seconds.
    ///
    /// ```
    /// let t = smartship_client::session::StoredTokens::new("a", "r", 30);
    /// assert!(t.expires_within(60));
    /// assert!(!t.expires_within(10));
    /// ```
    pub fn expires_within(&self, secs: i64) -> bool {
        self.expires_at - secs <= now_secs()
    }
}

impl From<AppTokens> for StoredTokens {
    /// ```
    /// use smartship_api::auth::AppTokens;
    /// use smartship_client::session::StoredTokens;
    /// let t: StoredTokens = AppTokens {
    ///     access_token: "a".into(), refresh_token: "r".into(), expires_in: 3600, scope: String::new(),
    /// }.into();
    /// assert_eq!(t.refresh_token, "r");
    /// ```
    fn from(t: AppTokens) -> StoredTokens {
        StoredTokens::new(&t.access_token, &t.refresh_token, t.expires_in)
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Where app tokens are kept. `save` must be durable when it returns: the
/// refresh token it replaces is already spent.
///
/// ```
/// use smartship_client::session::{StoredTokens, TokenStore};
/// use std::collections::HashMap;
/// use std::sync::Mutex;
///
/// /// A store backed by your own database would look the same.
/// struct MyStore(Mutex<HashMap<i64, StoredTokens>>);
///
/// #[smartship_client::session::async_trait]
/// impl TokenStore for MyStore {
///     async fn load(&self, app_id: i64) -> std::io::Result<Option<StoredTokens>> {
///         Ok(self.0.lock().unwrap().get(&app_id).cloned())
///     }
///     async fn save(&self, app_id: i64, tokens: &StoredTokens) -> std::io::Result<()> {
///         self.0.lock().unwrap().insert(app_id, tokens.clone());
///         Ok(())
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// The app's tokens, if any are stored.
    async fn load(&self, app_id: i64) -> std::io::Result<Option<StoredTokens>>;
    /// Replaces the app's tokens; durable when it returns `Ok`.
    async fn save(&self, app_id: i64, tokens: &StoredTokens) -> std::io::Result<()>;
}

/// Tokens in memory (tests, short-lived tools).
///
/// ```
/// # tokio_test_block(async {
/// use smartship_client::session::{MemoryTokenStore, StoredTokens, TokenStore};
/// let store = MemoryTokenStore::default();
/// store.save(1, &StoredTokens::new("a", "r", 60)).await.unwrap();
/// assert_eq!(store.load(1).await.unwrap().unwrap().access_token, "a");
/// # });
/// # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<std::collections::HashMap<i64, StoredTokens>>,
}

impl From<std::collections::HashMap<i64, StoredTokens>> for MemoryTokenStore {
    /// A store holding these pairs.
    ///
    /// ```
    /// use smartship_client::session::{MemoryTokenStore, StoredTokens};
    /// use std::collections::HashMap;
    /// let pairs: HashMap<i64, StoredTokens> = [(1, StoredTokens::new("a", "r", 60))].into();
    /// let store = MemoryTokenStore::from(pairs);
    /// # let _ = store;
    /// ```
    fn from(tokens: std::collections::HashMap<i64, StoredTokens>) -> MemoryTokenStore {
        MemoryTokenStore {
            tokens: Mutex::new(tokens),
        }
    }
}

#[async_trait::async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(&self, app_id: i64) -> std::io::Result<Option<StoredTokens>> {
        Ok(self
            .tokens
            .lock()
            .expect("not poisoned")
            .get(&app_id)
            .cloned())
    }
    async fn save(&self, app_id: i64, tokens: &StoredTokens) -> std::io::Result<()> {
        self.tokens
            .lock()
            .expect("not poisoned")
            .insert(app_id, tokens.clone());
        Ok(())
    }
}

/// One JSON file per app in a directory, written to a temporary file,
/// fsynced and renamed, so a crash leaves either the old or the new pair.
///
/// ```no_run
/// use smartship_client::session::FileTokenStore;
/// let store = FileTokenStore::new("/var/lib/isv/tokens"); // holds 42.json, 43.json, ...
/// ```
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    dir: PathBuf,
}

impl FileTokenStore {
    /// A store in `dir` (created on the first save).
    ///
    /// ```
    /// let store = smartship_client::session::FileTokenStore::new(std::env::temp_dir());
    /// # let _ = store;
    /// ```
    pub fn new(dir: impl Into<PathBuf>) -> FileTokenStore {
        FileTokenStore { dir: dir.into() }
    }

    fn path(&self, app_id: i64) -> PathBuf {
        self.dir.join(format!("{app_id}.json"))
    }

    fn save_blocking(dir: PathBuf, path: PathBuf, bytes: Vec<u8>) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&dir)?;
        let tmp = path.with_extension("json.tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        // The rename itself must survive a power cut.
        std::fs::File::open(&dir)?.sync_all()
    }
}

#[async_trait::async_trait]
impl TokenStore for FileTokenStore {
    async fn load(&self, app_id: i64) -> std::io::Result<Option<StoredTokens>> {
        match tokio::fs::read(self.path(app_id)).await {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(std::io::Error::other),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn save(&self, app_id: i64, tokens: &StoredTokens) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(tokens).map_err(std::io::Error::other)?;
        let (dir, path) = (self.dir.clone(), self.path(app_id));
        tokio::task::spawn_blocking(move || FileTokenStore::save_blocking(dir, path, bytes))
            .await
            .map_err(std::io::Error::other)?
    }
}

/// Calls on behalf of one app, refreshing its tokens when needed.
///
/// ```
/// use smartship_client::session::{AppSession, MemoryTokenStore};
/// use std::sync::Arc;
/// let session = AppSession::new("http://127.0.0.1:8080", "TP_TOKEN", 42, Arc::new(MemoryTokenStore::default()));
/// assert_eq!(format!("{session:?}"), "AppSession { app_id: 42, .. }");
/// ```
pub struct AppSession {
    tp: OpenApiClient,
    app_id: i64,
    store: Arc<dyn TokenStore>,
    /// One refresh at a time: a refresh token works once.
    refreshing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for AppSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppSession")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

impl AppSession {
    /// A session for `app_id`; `tp_token` is the third-party platform's
    /// token, which refreshes need.
    ///
    /// ```
    /// use smartship_client::session::{AppSession, MemoryTokenStore};
    /// use std::sync::Arc;
    /// let s = AppSession::new("http://h", "TP_TOKEN", 42, Arc::new(MemoryTokenStore::default()));
    /// assert_eq!(s.app_id(), 42);
    /// ```
    pub fn new(
        base: impl Into<String>,
        tp_token: impl Into<String>,
        app_id: i64,
        store: Arc<dyn TokenStore>,
    ) -> AppSession {
        AppSession::with_tp_client(&OpenApiClient::new(base, tp_token), app_id, store)
    }

    /// A session sharing `tp`'s configuration and connection pool (one pool
    /// for thousands of sessions).
    ///
    /// ```
    /// use smartship_client::{OpenApiClient, session::{AppSession, MemoryTokenStore}};
    /// use std::sync::Arc;
    /// let tp = OpenApiClient::new("http://h", "TP_TOKEN");
    /// let store = Arc::new(MemoryTokenStore::default());
    /// let sessions: Vec<_> = (1..=3).map(|id| AppSession::with_tp_client(&tp, id, store.clone())).collect();
    /// # assert_eq!(sessions.len(), 3);
    /// ```
    pub fn with_tp_client(
        tp: &OpenApiClient,
        app_id: i64,
        store: Arc<dyn TokenStore>,
    ) -> AppSession {
        AppSession {
            tp: tp.clone(),
            app_id,
            store,
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// The app this session acts for.
    ///
    /// ```
    /// # use smartship_client::session::{AppSession, MemoryTokenStore};
    /// # let s = AppSession::new("http://h", "t", 7, std::sync::Arc::new(MemoryTokenStore::default()));
    /// assert_eq!(s.app_id(), 7);
    /// ```
    pub fn app_id(&self) -> i64 {
        self.app_id
    }

    async fn stored(&self) -> Result<StoredTokens> {
        self.store
            .load(self.app_id)
            .await
            .map_err(|e| Error::TokenStore(format!("loading app {}: {e}", self.app_id)))?
            .ok_or_else(|| Error::TokenStore(format!("no tokens stored for app {}", self.app_id)))
    }

    /// Exchanges the stored refresh token for a new pair and saves it,
    /// unless the stored access token is no longer `stale` (another call
    /// refreshed meanwhile: its pair is used, the new refresh token is not
    /// spent twice).
    async fn refresh_replacing(&self, stale: Option<&str>) -> Result<StoredTokens> {
        let _one = self.refreshing.lock().await;
        let old = self.stored().await?;
        if let Some(stale) = stale
            && old.access_token != stale
        {
            return Ok(old);
        }
        let fresh: StoredTokens = self.tp.refresh_app_token(&old.refresh_token).await?.into();
        // Saved before use: the old refresh token is already spent.
        self.store.save(self.app_id, &fresh).await.map_err(|e| {
            Error::TokenStore(format!(
                "could not save app {}'s refreshed tokens (the previous refresh token is spent): {e}",
                self.app_id
            ))
        })?;
        Ok(fresh)
    }

    /// Refreshes now, whatever the access token's expiry.
    ///
    /// ```no_run
    /// # async fn demo(session: smartship_client::session::AppSession) -> smartship_client::Result<()> {
    /// let tokens = session.refresh().await?;
    /// # Ok(()) }
    /// ```
    pub async fn refresh(&self) -> Result<StoredTokens> {
        self.refresh_replacing(None).await
    }

    /// A valid access token, refreshed first when it expires within a minute.
    ///
    /// ```no_run
    /// # async fn demo(session: smartship_client::session::AppSession) -> smartship_client::Result<()> {
    /// let token = session.access_token().await?;
    /// # Ok(()) }
    /// ```
    pub async fn access_token(&self) -> Result<String> {
        let t = self.stored().await?;
        if !t.expires_within(REFRESH_MARGIN_SECS) {
            return Ok(t.access_token);
        }
        Ok(self
            .refresh_replacing(Some(&t.access_token))
            .await?
            .access_token)
    }

    /// A client for the current access token (same pool as the session).
    ///
    /// ```no_run
    /// # async fn demo(session: smartship_client::session::AppSession) -> smartship_client::Result<()> {
    /// let quota = session.client().await?.audit_quota().await?;
    /// # Ok(()) }
    /// ```
    pub async fn client(&self) -> Result<OpenApiClient> {
        Ok(self.tp.with_token(self.access_token().await?))
    }

    /// Runs `f` with a client for the app; when the gateway refuses the
    /// token (110/111), refreshes once and runs `f` again.
    ///
    /// ```no_run
    /// # async fn demo(session: smartship_client::session::AppSession) -> smartship_client::Result<()> {
    /// session.call(|app| async move { app.package_release(1001).await }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn call<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: Fn(OpenApiClient) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let token = self.access_token().await?;
        match f(self.tp.with_token(token.clone())).await {
            Err(e) if e.is_token_refused() => {
                let fresh = self.refresh_replacing(Some(&token)).await?;
                f(self.tp.with_token(fresh.access_token)).await
            }
            other => other,
        }
    }

    /// `package/get` through [`AppSession::call`].
    ///
    /// ```no_run
    /// # async fn demo(session: smartship_client::session::AppSession) -> smartship_client::Result<()> {
    /// let packages = session.package_list().await?;
    /// # Ok(()) }
    /// ```
    pub async fn package_list(&self) -> Result<Vec<PackageInfo>> {
        self.call(|app| async move { app.package_list().await })
            .await
    }
}
