//! Row decoding and the column encodings shared by the aggregates.

use super::*;

pub(super) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

pub(crate) fn state_of(s: &str) -> Result<PackageState> {
    PackageState::parse(s).ok_or_else(|| corrupt("package state", s))
}

pub(crate) fn build_of(s: &str) -> Result<BuildState> {
    BuildState::parse(s).ok_or_else(|| corrupt("build state", s))
}

pub(crate) fn manifest_of(json: &str) -> Result<Manifest> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("manifest: {e}")))
}

pub(super) fn manifest_json(m: &Manifest) -> String {
    serde_json::to_string(m).expect("manifests always serialize")
}

/// A built package's `manifest` column: a delta over its template's
/// manifest (`{"template_delta": {...}}`), or, in rows written before deltas
/// existed, the whole manifest.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub(crate) enum StoredPackageManifest {
    Delta {
        template_delta: smartship_core::manifest::ManifestDelta,
    },
    Full(Manifest),
}

pub(super) fn package_from_row(r: &SqliteRow) -> Result<Package> {
    Ok(Package {
        id: PackageId(r.try_get("id")?),
        app_id: AppId(r.try_get("app_id")?),
        tp_id: TpId(r.try_get("tp_id")?),
        template_id: TemplateId(r.try_get("template_id")?),
        version: r.try_get("version")?,
        version_desc: r.try_get("version_desc")?,
        state: state_of(r.try_get("state")?)?,
        build: build_of(r.try_get("build")?)?,
        build_error_code: r.try_get("build_error_code")?,
        build_error: r.try_get("build_error")?,
        ext_json: r.try_get("ext_json")?,
        direct_commit: r.try_get("direct_commit")?,
        test_account: r.try_get("test_account")?,
        audit_content: r.try_get("audit_content")?,
        remark: r.try_get("remark")?,
        msg: r.try_get("msg")?,
        committer: r.try_get("committer")?,
        commit_time: r.try_get("commit_time")?,
        rollback_version: r.try_get("rollback_version")?,
        rollback_due_at: r.try_get("rollback_due_at")?,
        released_at: r.try_get("released_at")?,
        size: r.try_get("size")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub(super) fn tp_from_row(r: &SqliteRow) -> Result<Tp> {
    Ok(Tp {
        id: TpId(r.try_get("id")?),
        client_id: r.try_get("client_id")?,
        name: r.try_get("name")?,
        message_url: r.try_get("message_url")?,
        auth_event_url: r.try_get("auth_event_url")?,
        msg_token: r.try_get("msg_token")?,
        encoding_aes_key: r.try_get("encoding_aes_key")?,
        webhook_secret: r.try_get("webhook_secret")?,
        redirect_domain: r.try_get("redirect_domain")?,
        ip_allowlist: r.try_get("ip_allowlist")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(super) fn event_from_row(r: &SqliteRow) -> Result<EventRecord> {
    let target: String = r.try_get("target")?;
    Ok(EventRecord {
        id: r.try_get("id")?,
        tp_id: TpId(r.try_get("tp_id")?),
        app_id: r.try_get::<Option<i64>, _>("app_id")?.map(AppId),
        kind: {
            let k: String = r.try_get("kind")?;
            EventKind::parse(&k).ok_or_else(|| corrupt("event kind", &k))?
        },
        target: EventTarget::parse(&target).ok_or_else(|| corrupt("event target", &target))?,
        package_id: r.try_get::<Option<i64>, _>("package_id")?.map(PackageId),
        version: r.try_get("version")?,
        reason: r.try_get("reason")?,
        payload: r.try_get("payload")?,
        occurred_at: r.try_get("occurred_at")?,
        status: {
            let s: String = r.try_get("status")?;
            EventStatus::parse(&s).ok_or_else(|| corrupt("event status", &s))?
        },
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_error: r.try_get("last_error")?,
        delivered_at: r.try_get("delivered_at")?,
    })
}

pub(super) fn app_from_row(r: &SqliteRow) -> Result<App> {
    Ok(App {
        id: AppId(r.try_get("id")?),
        app_key: r.try_get("app_key")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        basic_info_approved: r.try_get("basic_info_approved")?,
        authenticity_verified: r.try_get("authenticity_verified")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(super) fn template_from_row(r: &SqliteRow) -> Result<Template> {
    Ok(Template {
        id: TemplateId(r.try_get("id")?),
        tp_id: TpId(r.try_get("tp_id")?),
        draft_id: DraftId(r.try_get("draft_id")?),
        user_version: r.try_get("user_version")?,
        user_desc: r.try_get("user_desc")?,
        created_at: r.try_get("created_at")?,
    })
}
