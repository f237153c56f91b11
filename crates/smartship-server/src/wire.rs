//! How stored rows look on the wire, for every door that shows them (the
//! open API, the operator API and the console show the same package the
//! same way).

use chrono::FixedOffset;
use smartship_api::package::{PackageInfo, PrecheckFinding};
use smartship_core::lifecycle::{BuildState, PackageState, Slot};
use smartship_core::precheck::Finding;
use smartship_store::Package;

/// How a stored package looks on the wire.
pub fn package_info(p: &Package, tz: FixedOffset) -> PackageInfo {
    let status = p.state.wire_status().unwrap_or(0);
    let development = p.state == PackageState::Development;
    let (upload_status, upload_status_desc, upload_err_code, upload_err_msg) = if development {
        let desc = match p.build {
            BuildState::Building => "上传中".to_owned(),
            BuildState::Built => "上传成功".to_owned(),
            BuildState::Failed => format!(
                "上传失败: {}",
                p.build_error.as_deref().unwrap_or("未知原因")
            ),
        };
        (
            Some(p.build.wire_status()),
            Some(desc),
            Some(p.build_error_code.unwrap_or(0)),
            Some(p.build_error.clone().unwrap_or_default()),
        )
    } else {
        (None, None, None, None)
    };
    PackageInfo {
        package_id: p.id.0,
        version: p.version.clone(),
        version_desc: p.version_desc.clone(),
        status,
        remark: p.remark.clone(),
        msg: p.msg.clone(),
        committer: p.committer.clone(),
        commit_time: crate::clock::commit_time(p.commit_time, tz),
        rollback_version: (p.state.slot() == Some(Slot::Online))
            .then(|| p.rollback_version.clone().unwrap_or_default()),
        upload_status,
        upload_status_desc,
        upload_err_code,
        upload_err_msg,
        release_at: p
            .release_at
            .filter(|_| p.state == PackageState::AuditPassed)
            .map(|t| t.div_euclid(1000)),
    }
}

/// A pre-review finding as the wire shows it.
pub fn finding(f: Finding) -> PrecheckFinding {
    PrecheckFinding {
        check: f.check,
        blocking: f.blocking,
        file: f.file,
        line: i64::from(f.line),
        message: f.message,
    }
}

/// Stored findings (`package_checks.findings`) as the wire shows them.
pub fn precheck_findings(json: &str) -> Result<Vec<PrecheckFinding>, serde_json::Error> {
    let found: Vec<Finding> = serde_json::from_str(json)?;
    Ok(found.into_iter().map(finding).collect())
}
