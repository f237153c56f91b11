//! A host runtime's side of `/runtime/v1` (docs/release.md): ask which
//! version a user gets, download it, check its SHA-256 and its Ed25519
//! signature against the published keys, and keep a local copy up to date,
//! with the incremental package when the server offers one.
//!
//! Nothing unverified reaches the local copy: a download whose digest or
//! signature does not match is refused ([`Error::Verification`]), and an
//! incremental package is applied to a staging copy whose every file is
//! checked before it replaces the current one.

use crate::config::ClientConfig;
use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use smartship_api::requests::runtime::UpdateCheck;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use smartship_api::runtime::{
    Freshness, Incremental, KeyList, PublicKey, UpdateAnswer, signed_delta_message, signed_message,
    signed_message_v2,
};

/// How far a host's clock may run ahead of the server's before an answer
/// counts as expired early (seconds).
pub const CLOCK_SKEW_SECS: i64 = 300;

/// The file a pulled copy keeps beside its files: what it is.
pub const STATE_FILE: &str = ".smartship-runtime.json";

/// What a local copy is (written by [`RuntimeClient::pull`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalCopy {
    /// The app.
    pub app_id: i64,
    /// The package the files are.
    pub package_id: i64,
    /// Its version.
    pub version: String,
    /// Every file: path → hex SHA-256.
    pub files: BTreeMap<String, String>,
    /// The release sequence of the answer these files came from: a later
    /// answer with a lower one is refused (a replay). 0 for copies made
    /// before answers carried one.
    #[serde(default)]
    pub sequence: i64,
}

/// What [`RuntimeClient::pull`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pulled {
    /// The copy was already this version.
    UpToDate(LocalCopy),
    /// The whole package was downloaded (`bytes` of it).
    Full {
        /// The copy now.
        copy: LocalCopy,
        /// Bytes downloaded.
        bytes: u64,
    },
    /// The incremental package was applied (`bytes` of it).
    Incremental {
        /// The copy now.
        copy: LocalCopy,
        /// Bytes downloaded.
        bytes: u64,
    },
}

/// A client of `/runtime/v1` with a host-app key.
#[derive(Clone)]
pub struct RuntimeClient {
    base: String,
    host_key: String,
    http: reqwest::Client,
    /// Keys a host ships and trusts instead of the published list.
    pinned: Option<BTreeMap<String, VerifyingKey>>,
}

impl std::fmt::Debug for RuntimeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn refused(why: impl Into<String>) -> Error {
    Error::Verification(why.into())
}

impl RuntimeClient {
    /// `base` is the server's base URL; `host_key` is `shk_...`.
    ///
    /// ```
    /// let c = smartship_client::runtime::RuntimeClient::new("http://127.0.0.1:8080", "shk_0123");
    /// # let _ = c;
    /// ```
    pub fn new(base: impl Into<String>, host_key: impl Into<String>) -> RuntimeClient {
        let config = ClientConfig::new(base);
        RuntimeClient {
            http: config.http(),
            base: config.base_url,
            host_key: host_key.into(),
            pinned: None,
        }
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T> {
        let resp = req.send().await?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
        if !status.is_success() {
            return Err(Error::Runtime {
                status: status.as_u16(),
                code: body["error"]["code"].as_str().unwrap_or("").to_owned(),
                message: body["error"]["message"].as_str().unwrap_or("").to_owned(),
            });
        }
        serde_json::from_value(body).map_err(|e| Error::Decode(e.to_string()))
    }

    /// Which version `user_id` gets; `current_version` asks for an
    /// incremental package from it (a version may name several packages:
    /// [`RuntimeClient::check_package`] names the one the host runs).
    pub async fn check(
        &self,
        app_id: i64,
        user_id: Option<&str>,
        current_version: Option<&str>,
    ) -> Result<UpdateAnswer> {
        let query = UpdateCheck {
            user_id: user_id.map(str::to_owned),
            current_version: current_version.map(str::to_owned),
            ..UpdateCheck::default()
        };
        self.check_query(app_id, &query).await
    }

    /// Which version `user_id` gets, for a host that runs package
    /// `current_package_id`: `up_to_date` and the incremental package
    /// follow that package, not its version string.
    pub async fn check_package(
        &self,
        app_id: i64,
        user_id: Option<&str>,
        current_package_id: Option<i64>,
    ) -> Result<UpdateAnswer> {
        let query = UpdateCheck {
            user_id: user_id.map(str::to_owned),
            current_package_id,
            ..UpdateCheck::default()
        };
        self.check_query(app_id, &query).await
    }

    async fn check_query(&self, app_id: i64, query: &UpdateCheck) -> Result<UpdateAnswer> {
        let req = self
            .http
            .get(format!("{}/runtime/v1/apps/{app_id}/update", self.base))
            .bearer_auth(&self.host_key)
            .query(query);
        self.json(req).await
    }

    /// The published public keys, by id.
    pub async fn keys(&self) -> Result<BTreeMap<String, VerifyingKey>> {
        let list: KeyList = self
            .json(self.http.get(format!("{}/runtime/v1/keys", self.base)))
            .await?;
        let mut out = BTreeMap::new();
        for k in list.keys {
            let raw: [u8; 32] = B64
                .decode(&k.public_key)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| Error::Decode(format!("key {} is not 32 bytes", k.key_id)))?;
            let key = VerifyingKey::from_bytes(&raw)
                .map_err(|e| Error::Decode(format!("key {}: {e}", k.key_id)))?;
            out.insert(k.key_id, key);
        }
        Ok(out)
    }

    /// Checks `signature` of `message` by `key_id`, then downloads `url`
    /// (at most `size` bytes) and checks it is `sha256`.
    #[allow(clippy::too_many_arguments)]
    async fn fetch_verified(
        &self,
        keys: &BTreeMap<String, VerifyingKey>,
        message: &str,
        url: &str,
        sha256: &str,
        size: i64,
        key_id: &str,
        signature: &str,
    ) -> Result<Vec<u8>> {
        verify_signature(keys, key_id, signature, message)?;
        let mut resp = self.http.get(url).send().await?;
        if !resp.status().is_success() {
            return Err(Error::Runtime {
                status: resp.status().as_u16(),
                code: "download_failed".into(),
                message: format!("GET {url}"),
            });
        }
        // Never more than the signed answer says: a mirror that streams
        // without end is cut off, not buffered.
        let limit = usize::try_from(size.max(0)).unwrap_or(usize::MAX);
        let mut bytes = Vec::with_capacity(limit.min(64 << 20));
        while let Some(chunk) = resp.chunk().await? {
            if bytes.len() + chunk.len() > limit {
                return Err(refused(format!(
                    "the download is longer than the signed size {size}"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        let got = sha256_hex(&bytes);
        if got != sha256 {
            return Err(refused(format!(
                "the download is not the signed package: SHA-256 {got}, expected {sha256}"
            )));
        }
        Ok(bytes)
    }

    /// The whole package of `answer`, verified.
    pub async fn download(&self, answer: &UpdateAnswer) -> Result<Vec<u8>> {
        let keys = self.trusted_keys().await?;
        self.fetch_full(&keys, answer).await
    }

    async fn fetch_full(
        &self,
        keys: &BTreeMap<String, VerifyingKey>,
        answer: &UpdateAnswer,
    ) -> Result<Vec<u8>> {
        verify_answer(keys, answer, unix_now(), 0)?;
        let message = signed_message(
            answer.app_id,
            answer.package_id,
            &answer.version,
            &answer.sha256,
        );
        self.fetch_verified(
            keys,
            &message,
            &answer.download_url,
            &answer.sha256,
            answer.size,
            &answer.key_id,
            &answer.signature,
        )
        .await
    }

    /// Trusts only these keys (id → key), as a host that ships them pins
    /// them: signatures are then checked against these, never against what
    /// the server publishes at the time.
    pub fn with_trusted_keys(mut self, keys: BTreeMap<String, VerifyingKey>) -> RuntimeClient {
        self.pinned = Some(keys);
        self
    }

    async fn trusted_keys(&self) -> Result<BTreeMap<String, VerifyingKey>> {
        match &self.pinned {
            Some(k) => Ok(k.clone()),
            None => self.keys().await,
        }
    }

    /// Brings the copy in `dir` to the version `user_id` gets: nothing when
    /// it is that version, the incremental package when offered (falling
    /// back to the whole package if the result does not verify), else the
    /// whole package. The copy is replaced only once the new one is
    /// complete and verified.
    pub async fn pull(&self, app_id: i64, user_id: Option<&str>, dir: &Path) -> Result<Pulled> {
        // `.` or `sub/..` have no name to stage beside: work on the real path.
        let dir = &match dir.canonicalize() {
            Ok(d) => d,
            Err(_) => std::path::absolute(dir).map_err(io)?,
        };
        let current = read_copy(dir).filter(|c| c.app_id == app_id);
        let answer = self
            .check_package(app_id, user_id, current.as_ref().map(|c| c.package_id))
            .await?;
        if answer.app_id != app_id {
            return Err(refused(format!(
                "the answer is for app {}, not {app_id}",
                answer.app_id
            )));
        }
        // Nothing is acted on, not even "up to date", before the answer's
        // signature, time and sequence hold.
        let keys = self.trusted_keys().await?;
        verify_answer(
            &keys,
            &answer,
            unix_now(),
            current.as_ref().map_or(0, |c| c.sequence),
        )?;
        if let Some(c) = &current
            && c.package_id == answer.package_id
            && verify_tree(dir, &c.files).is_ok()
        {
            if c.sequence < answer.sequence {
                let mut newer = c.clone();
                newer.sequence = answer.sequence;
                write_copy_state(dir, &newer)?;
                return Ok(Pulled::UpToDate(newer));
            }
            return Ok(Pulled::UpToDate(c.clone()));
        }
        if let (Some(inc), Some(c)) = (&answer.incremental, &current)
            && inc.from_package_id == c.package_id
        {
            let message = signed_delta_message(
                answer.app_id,
                inc.from_package_id,
                answer.package_id,
                &answer.version,
                &inc.sha256,
            );
            let zip = self
                .fetch_verified(
                    &keys,
                    &message,
                    &inc.download_url,
                    &inc.sha256,
                    inc.size,
                    &inc.key_id,
                    &inc.signature,
                )
                .await?;
            match apply_incremental(dir, c, &answer, &zip) {
                Ok(copy) => {
                    return Ok(Pulled::Incremental {
                        copy,
                        bytes: zip.len() as u64,
                    });
                }
                // The local copy was not what it claimed: take it all.
                Err(Error::Verification(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let zip = self.fetch_full(&keys, &answer).await?;
        let files = unzip(&zip)?;
        let copy = install(dir, &answer, files)?;
        Ok(Pulled::Full {
            copy,
            bytes: zip.len() as u64,
        })
    }
}

/// Checks an update answer's v2 signature, that it has not expired at
/// `now` (Unix seconds, with [`CLOCK_SKEW_SECS`] of slack) and that its
/// release sequence is not below `ran` (the sequence of what the host
/// runs): an old answer replayed by anyone on the update path is refused.
/// A rollback raises the sequence too, so it is never refused for it.
pub fn verify_answer(
    keys: &BTreeMap<String, VerifyingKey>,
    answer: &UpdateAnswer,
    now: i64,
    ran: i64,
) -> Result<()> {
    let message = signed_message_v2(
        answer.app_id,
        answer.package_id,
        &answer.version,
        &answer.sha256,
        answer.freshness(),
    );
    verify_signature(keys, &answer.key_id, &answer.signature_v2, &message)?;
    if now > answer.expires_at.saturating_add(CLOCK_SKEW_SECS) {
        return Err(refused(format!(
            "the answer expired at {} (now {now}): ask again",
            answer.expires_at
        )));
    }
    if answer.sequence < ran {
        return Err(refused(format!(
            "the answer's release sequence {} is below {ran}, which this host already runs: \
             an old answer was replayed",
            answer.sequence
        )));
    }
    Ok(())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Rewrites the state file of the copy in `dir`.
fn write_copy_state(dir: &Path, copy: &LocalCopy) -> Result<()> {
    let tmp = dir.join(format!("{STATE_FILE}.tmp"));
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(copy).expect("a copy serializes"),
    )
    .map_err(io)?;
    std::fs::rename(&tmp, dir.join(STATE_FILE)).map_err(io)
}

/// Checks `signature` (base64) of `message` with published key `key_id`.
pub fn verify_signature(
    keys: &BTreeMap<String, VerifyingKey>,
    key_id: &str,
    signature: &str,
    message: &str,
) -> Result<()> {
    let key = keys
        .get(key_id)
        .ok_or_else(|| refused(format!("signing key {key_id} is not published")))?;
    let sig: [u8; 64] = B64
        .decode(signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| refused("the signature is not 64 bytes of base64"))?;
    key.verify_strict(message.as_bytes(), &Signature::from_bytes(&sig))
        .map_err(|_| refused("the signature does not verify"))
}

fn read_copy(dir: &Path) -> Option<LocalCopy> {
    let bytes = std::fs::read(dir.join(STATE_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Whether a zip entry name is a plain relative path (no escape).
fn safe_path(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\\')
        && !p.contains(':')
        && p != STATE_FILE
        && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}

fn unzip(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>> {
    let bad = |e: String| refused(format!("not a valid package zip: {e}"));
    let mut z =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).map_err(|e| bad(e.to_string()))?;
        if f.is_dir() {
            continue;
        }
        let name = f.name().to_owned();
        if !safe_path(&name) {
            return Err(bad(format!("unsafe path {name:?}")));
        }
        let mut b = Vec::new();
        f.read_to_end(&mut b).map_err(|e| bad(e.to_string()))?;
        out.insert(name, b);
    }
    Ok(out)
}

fn verify_tree(dir: &Path, files: &BTreeMap<String, String>) -> Result<()> {
    for (p, sha) in files {
        let bytes = std::fs::read(dir.join(p)).map_err(|_| refused(format!("{p} is missing")))?;
        if &sha256_hex(&bytes) != sha {
            return Err(refused(format!("{p} differs from its recorded SHA-256")));
        }
    }
    Ok(())
}

fn io(e: std::io::Error) -> Error {
    Error::Decode(format!("local copy: {e}"))
}

/// Writes `files` as the new copy of `dir`: into a sibling folder, then
/// swapped in, so that a crash leaves the old copy or the new one whole.
fn install(
    dir: &Path,
    answer: &UpdateAnswer,
    files: BTreeMap<String, Vec<u8>>,
) -> Result<LocalCopy> {
    let copy = LocalCopy {
        app_id: answer.app_id,
        package_id: answer.package_id,
        version: answer.version.clone(),
        files: files
            .iter()
            .map(|(p, b)| (p.clone(), sha256_hex(b)))
            .collect(),
        sequence: answer.sequence,
    };
    let staging = sibling(dir, "new");
    let _ = std::fs::remove_dir_all(&staging);
    for (p, b) in &files {
        let path = staging.join(p);
        std::fs::create_dir_all(path.parent().expect("a file has a parent")).map_err(io)?;
        std::fs::write(&path, b).map_err(io)?;
    }
    std::fs::write(
        staging.join(STATE_FILE),
        serde_json::to_vec_pretty(&copy).expect("a copy serializes"),
    )
    .map_err(io)?;
    let old = sibling(dir, "old");
    let _ = std::fs::remove_dir_all(&old);
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(io)?;
    }
    std::fs::rename(&staging, dir).map_err(io)?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(copy)
}

fn sibling(dir: &Path, what: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "copy".into());
    dir.with_file_name(format!(".{name}.{what}"))
}

/// Applies an incremental zip to the copy in `dir` (which is `current`),
/// checking every file of the result against `delta.json`.
fn apply_incremental(
    dir: &Path,
    current: &LocalCopy,
    answer: &UpdateAnswer,
    zip: &[u8],
) -> Result<LocalCopy> {
    #[derive(Deserialize)]
    struct Delta {
        from_package_id: i64,
        to_package_id: i64,
        removed: Vec<String>,
        files: BTreeMap<String, String>,
    }
    let entries = unzip(zip)?;
    let delta: Delta = entries
        .get("delta.json")
        .and_then(|b| serde_json::from_slice(b).ok())
        .ok_or_else(|| refused("the incremental package has no readable delta.json"))?;
    if delta.from_package_id != current.package_id || delta.to_package_id != answer.package_id {
        return Err(refused("the incremental package is for other versions"));
    }
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for p in current.files.keys() {
        if !delta.removed.contains(p) {
            files.insert(
                p.clone(),
                std::fs::read(dir.join(p)).map_err(|_| refused(format!("{p} is missing")))?,
            );
        }
    }
    for (name, bytes) in entries {
        if let Some(p) = name.strip_prefix("files/") {
            if !safe_path(p) {
                return Err(refused(format!(
                    "unsafe path {name:?} in the incremental package"
                )));
            }
            files.insert(p.to_owned(), bytes);
        }
    }
    let got: BTreeMap<String, String> = files
        .iter()
        .map(|(p, b)| (p.clone(), sha256_hex(b)))
        .collect();
    if got != delta.files {
        return Err(refused(
            "the copy with the incremental package applied is not the signed version",
        ));
    }
    install(dir, answer, files)
}
