//! Delivery to host runtimes: host keys, signing keys, artifacts, the reads
//! of phased-release plans: the trait and the rows it takes and returns.

use crate::Result;
use crate::model::*;
use async_trait::async_trait;
use smartship_core::{AppId, PackageId};

/// A key a host runtime presents to `/runtime/v1` (its secret is kept only
/// as a digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// An Ed25519 key that signs update answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub key_id: String,
    /// Base64 of the 32-byte seed.
    pub secret: String,
    /// Base64 of the 32-byte public key.
    pub public_key: String,
    pub created_at: i64,
    /// No longer signs from its creation of a successor; published until then.
    pub retired_at: Option<i64>,
}

/// A downloadable zip, kept as a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub sha256: String,
    pub size: i64,
}

/// What a host says it runs, to find the package: by id or by its zip's
/// digest (one package), or by version (perhaps several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPackage {
    Id(PackageId),
    Sha256(String),
    Version(String),
}

/// Delivery to host runtimes (SPEC §7): host-app keys, signing keys, the
/// artifacts hosts download, and phased-release plans.
#[async_trait]
pub trait RuntimeStore: Send + Sync {
    /// Stores a new host key by the digest of its secret.
    async fn create_host_key(&self, name: &str, hash: &str, now: i64) -> Result<HostKey>;
    async fn host_keys(&self) -> Result<Vec<HostKey>>;
    /// Revokes a key; false when there is no such key or it was revoked.
    async fn revoke_host_key(&self, id: i64, now: i64) -> Result<bool>;
    /// The key whose secret has this digest, when not revoked.
    async fn active_host_key(&self, hash: &str) -> Result<Option<HostKey>>;
    /// Every signing key, newest first.
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>>;
    /// Adds a signing key. With `retire_others_at`, every key not yet
    /// retired stops being published at that time (a rotation); without
    /// it, the key is added only when no key signs yet (the first key), and
    /// false says another node was first.
    async fn add_signing_key(
        &self,
        key: SigningKeyRecord,
        retire_others_at: Option<i64>,
    ) -> Result<bool>;
    async fn package_artifact(&self, package: PackageId) -> Result<Option<Artifact>>;
    /// Records a package's artifact unless one is recorded; returns the one
    /// recorded (the first, when two nodes made it at once).
    async fn set_package_artifact(&self, package: PackageId, a: &Artifact) -> Result<Artifact>;
    /// The size of the recorded artifact (a package's or an incremental
    /// one) of `app` with this digest, while the app is served (service
    /// status normal); None for any other blob, and for another app's
    /// artifact even when its bytes are the same (a ban holds per app).
    async fn app_artifact_size(&self, app: AppId, sha256: &str) -> Result<Option<i64>>;
    async fn delta(&self, from: PackageId, to: PackageId) -> Result<Option<Artifact>>;
    async fn put_delta(
        &self,
        from: PackageId,
        to: PackageId,
        a: &Artifact,
        now: i64,
    ) -> Result<Artifact>;
    /// The packages a host may be running when it reports `has`: built
    /// packages of the app that were ever served (online, rolling back,
    /// history, rolled back, or held by a phased release) with that id,
    /// zip digest or version, newest first, at most `limit`. A version can
    /// name several (two packages may carry `1.0.0`); an id or a digest
    /// names one.
    async fn served_packages(
        &self,
        app: AppId,
        has: &HostPackage,
        limit: i64,
    ) -> Result<Vec<Package>>;
    /// The app's newest phased release, live or not.
    async fn latest_gray(&self, app: AppId) -> Result<Option<smartship_core::gray::GrayPlan>>;
    /// Scheduled releases due at `now`.
    async fn due_scheduled_releases(&self, now: i64) -> Result<Vec<(AppId, PackageId, i64)>>;
    /// When the next scheduled release is due.
    async fn next_scheduled_release(&self) -> Result<Option<i64>>;
    /// Moves the app's service status from `from` to `to`; the status it
    /// has when it was not `from` (nothing changed), None when it was.
    async fn change_service_status(
        &self,
        app: AppId,
        from: ServiceStatus,
        to: ServiceStatus,
    ) -> Result<std::result::Result<(), ServiceStatus>>;
    /// Apps whose running plan has a ramp step due at `now`, or is at 100 %
    /// and waits for its release (a release refused or interrupted: the
    /// ramp worker tries it again on its next pass).
    async fn due_gray_steps(&self, now: i64) -> Result<Vec<AppId>>;
    /// When the next ramp step of any plan is due.
    async fn next_gray_step(&self) -> Result<Option<i64>>;
}
