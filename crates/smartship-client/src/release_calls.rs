//! The release extensions of the open API (docs/release.md): scheduled
//! release, rollback to a chosen version, the history, phased release.

use crate::error::Result;
use crate::openapi::OpenApiClient;
use serde_json::Value;
use smartship_api::release::{GrayPlanInfo, History};

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
        let (id, at) = (package_id.to_string(), release_at.to_string());
        self.write::<Value>(
            "package/release",
            &[("package_id", id.as_str()), ("release_at", at.as_str())],
        )
        .await
        .map(drop)
    }

    /// `package/cancelrelease`: cancels a scheduled release.
    pub async fn package_cancel_release(&self, package_id: i64) -> Result<()> {
        let id = package_id.to_string();
        self.write::<Value>("package/cancelrelease", &[("package_id", id.as_str())])
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
        let id = online.to_string();
        let mut params = vec![("package_id", id)];
        match target {
            RollbackTarget::Previous => {}
            RollbackTarget::Package(p) => params.push(("target_package_id", p.to_string())),
            RollbackTarget::Version(v) => params.push(("version", v)),
        }
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.write::<Value>("package/rollback", &params)
            .await
            .map(drop)
    }

    /// `package/gethistory`: the versions that were online, newest first.
    pub async fn package_history(&self, page: u32, page_size: u32) -> Result<History> {
        let (p, s) = (page.to_string(), page_size.to_string());
        self.read(
            "package/gethistory",
            &[("page", p.as_str()), ("page_size", s.as_str())],
        )
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
        let (id, pct, users) = (
            package_id.to_string(),
            percentage.to_string(),
            users.join(","),
        );
        let mut params = vec![
            ("package_id", id.as_str()),
            ("gray_percentage", pct.as_str()),
        ];
        if !users.is_empty() {
            params.push(("user_list", users.as_str()));
        }
        if let Some(r) = ramp {
            params.push(("ramp", r));
        }
        self.write("package/grayrelease", &params).await
    }

    /// `package/pausegrayrelease`.
    pub async fn gray_pause(&self) -> Result<GrayPlanInfo> {
        self.write("package/pausegrayrelease", &[]).await
    }

    /// `package/resumegrayrelease`.
    pub async fn gray_resume(&self) -> Result<GrayPlanInfo> {
        self.write("package/resumegrayrelease", &[]).await
    }

    /// `package/revertgrayrelease`.
    pub async fn gray_revert(&self) -> Result<GrayPlanInfo> {
        self.write("package/revertgrayrelease", &[]).await
    }

    /// `package/getgrayreleaseplan`: the newest plan (`status` 0: none).
    pub async fn gray_plan(&self) -> Result<GrayPlanInfo> {
        self.read("package/getgrayreleaseplan", &[]).await
    }
}
