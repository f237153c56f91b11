//! The release extensions of the open API (docs/release.md): scheduled
//! release, rollback to a chosen version, the history, phased release.

use crate::error::Result;
use crate::openapi::{NOTHING, OpenApiClient, paging};
use serde_json::Value;
use smartship_api::fields::Id;
use smartship_api::release::{GrayPlanInfo, History};
use smartship_api::requests::package::{CancelRelease, Release, Rollback};
use smartship_api::requests::release::GrayRelease;

/// Which earlier version a rollback returns to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackTarget {
    /// The previous version (the seed's rollback).
    Previous,
    /// A package in the history, by id.
    Package(i64),
    /// The newest package of this version in the history.
    Version(String),
}

impl OpenApiClient {
    /// `package/release` with `release_at` (Unix seconds): held until then.
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// app.package_release_at(1001, 1_767_225_600).await?;
    /// # Ok(()) }
    /// ```
    pub async fn package_release_at(&self, package_id: i64, release_at: i64) -> Result<()> {
        let request = Release {
            package_id: Id(package_id),
            release_at: Some(release_at),
        };
        self.write::<Value, _>("package/release", &request)
            .await
            .map(drop)
    }

    /// `package/cancelrelease`: cancels a scheduled release.
    pub async fn package_cancel_release(&self, package_id: i64) -> Result<()> {
        let request = CancelRelease {
            package_id: Id(package_id),
        };
        self.write::<Value, _>("package/cancelrelease", &request)
            .await
            .map(drop)
    }

    /// `package/rollback` of the online package to `target`.
    ///
    /// ```no_run
    /// # async fn demo(app: smartship_client::OpenApiClient) -> smartship_client::Result<()> {
    /// use smartship_client::RollbackTarget;
    /// app.package_rollback_to(1004, RollbackTarget::Version("1.2.0".into())).await?;
    /// # Ok(()) }
    /// ```
    pub async fn package_rollback_to(&self, online: i64, target: RollbackTarget) -> Result<()> {
        let mut request = Rollback {
            package_id: Id(online),
            target_package_id: None,
            version: None,
        };
        match target {
            RollbackTarget::Previous => {}
            RollbackTarget::Package(p) => request.target_package_id = Some(Id(p)),
            RollbackTarget::Version(v) => request.version = Some(v.into()),
        }
        self.write::<Value, _>("package/rollback", &request)
            .await
            .map(drop)
    }

    /// `package/gethistory`: the versions that were online, newest first.
    pub async fn package_history(&self, page: u32, page_size: u32) -> Result<History> {
        self.read("package/gethistory", &paging(page, page_size))
            .await
    }

    /// `package/grayrelease`: starts or raises a phased release. `users` is
    /// the allow-list to add; `ramp` the JSON array of later steps.
    pub async fn gray_release(
        &self,
        package_id: i64,
        percentage: u8,
        users: &[String],
        ramp: Option<&str>,
    ) -> Result<GrayPlanInfo> {
        let request = GrayRelease {
            package_id: Id(package_id),
            gray_percentage: i64::from(percentage),
            user_list: (!users.is_empty()).then(|| users.join(",")),
            ramp: ramp.map(str::to_owned),
        };
        self.write("package/grayrelease", &request).await
    }

    /// `package/pausegrayrelease`.
    pub async fn gray_pause(&self) -> Result<GrayPlanInfo> {
        self.write("package/pausegrayrelease", NOTHING).await
    }

    /// `package/resumegrayrelease`.
    pub async fn gray_resume(&self) -> Result<GrayPlanInfo> {
        self.write("package/resumegrayrelease", NOTHING).await
    }

    /// `package/revertgrayrelease`.
    pub async fn gray_revert(&self) -> Result<GrayPlanInfo> {
        self.write("package/revertgrayrelease", NOTHING).await
    }

    /// `package/getgrayreleaseplan`: the newest plan (`status` 0: none).
    pub async fn gray_plan(&self) -> Result<GrayPlanInfo> {
        self.read("package/getgrayreleaseplan", NOTHING).await
    }
}
