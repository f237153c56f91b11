//! Row decoding and the column encodings shared by the aggregates and by
//! both backends: a backend's row type reads columns through [`Col`], and
//! every decoder here is written once against it.

use crate::model::*;
use crate::{Result, StoreError};
use smartship_core::lifecycle::{BuildState, PackageState};
use smartship_core::manifest::Manifest;
use smartship_core::{AppId, DraftId, PackageId, TemplateId, TpId};

/// A row of either backend, read by column name. The columns are of the
/// same few types in both schemas: 64-bit integers (times, ids, counts),
/// text and booleans.
pub(crate) trait Col {
    fn int(&self, name: &str) -> Result<i64>;
    fn opt_int(&self, name: &str) -> Result<Option<i64>>;
    fn text(&self, name: &str) -> Result<String>;
    fn opt_text(&self, name: &str) -> Result<Option<String>>;
    fn flag(&self, name: &str) -> Result<bool>;
}

macro_rules! impl_col {
    ($row:ty) => {
        impl Col for $row {
            fn int(&self, name: &str) -> Result<i64> {
                Ok(sqlx::Row::try_get(self, name)?)
            }
            fn opt_int(&self, name: &str) -> Result<Option<i64>> {
                Ok(sqlx::Row::try_get(self, name)?)
            }
            fn text(&self, name: &str) -> Result<String> {
                Ok(sqlx::Row::try_get(self, name)?)
            }
            fn opt_text(&self, name: &str) -> Result<Option<String>> {
                Ok(sqlx::Row::try_get(self, name)?)
            }
            fn flag(&self, name: &str) -> Result<bool> {
                Ok(sqlx::Row::try_get(self, name)?)
            }
        }
    };
}
impl_col!(sqlx::sqlite::SqliteRow);

/// The SQLite writer thread's rows (its synchronous connection).
impl Col for rusqlite::Row<'_> {
    fn int(&self, name: &str) -> Result<i64> {
        Ok(self.get(name)?)
    }
    fn opt_int(&self, name: &str) -> Result<Option<i64>> {
        Ok(self.get(name)?)
    }
    fn text(&self, name: &str) -> Result<String> {
        Ok(self.get(name)?)
    }
    fn opt_text(&self, name: &str) -> Result<Option<String>> {
        Ok(self.get(name)?)
    }
    fn flag(&self, name: &str) -> Result<bool> {
        Ok(self.get(name)?)
    }
}
impl_col!(sqlx::postgres::PgRow);

pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
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

pub(crate) fn manifest_json(m: &Manifest) -> String {
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

pub(crate) fn package_from_row(r: &impl Col) -> Result<Package> {
    Ok(Package {
        id: PackageId(r.int("id")?),
        app_id: AppId(r.int("app_id")?),
        tp_id: TpId(r.int("tp_id")?),
        template_id: TemplateId(r.int("template_id")?),
        version: r.text("version")?,
        version_desc: r.text("version_desc")?,
        state: state_of(&r.text("state")?)?,
        build: build_of(&r.text("build")?)?,
        build_error_code: r.opt_int("build_error_code")?,
        build_error: r.opt_text("build_error")?,
        ext_json: r.text("ext_json")?,
        direct_commit: r.flag("direct_commit")?,
        test_account: r.opt_text("test_account")?,
        audit_content: r.text("audit_content")?,
        remark: r.text("remark")?,
        msg: r.text("msg")?,
        committer: r.text("committer")?,
        commit_time: r.int("commit_time")?,
        rollback_version: r.opt_text("rollback_version")?,
        rollback_due_at: r.opt_int("rollback_due_at")?,
        released_at: r.opt_int("released_at")?,
        size: r.opt_int("size")?,
        release_at: r.opt_int("release_at")?,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
    })
}

pub(crate) fn tp_from_row(r: &impl Col) -> Result<Tp> {
    Ok(Tp {
        id: TpId(r.int("id")?),
        client_id: r.text("client_id")?,
        name: r.text("name")?,
        message_url: r.opt_text("message_url")?,
        auth_event_url: r.opt_text("auth_event_url")?,
        msg_token: r.text("msg_token")?,
        encoding_aes_key: r.text("encoding_aes_key")?,
        webhook_secret: r.opt_text("webhook_secret")?,
        redirect_domain: r.opt_text("redirect_domain")?,
        ip_allowlist: r.opt_text("ip_allowlist")?,
        created_at: r.int("created_at")?,
        release_events: r
            .text("release_events")?
            .split(',')
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// An event as its claim hands it out, under the lease until `lease_until`.
pub(crate) fn claimed_from_row(r: &impl Col, lease_until: i64) -> Result<ClaimedEvent> {
    let event = event_from_row(r)?;
    Ok(ClaimedEvent {
        attempt: event.attempts,
        lease_until,
        event,
    })
}

pub(crate) fn event_from_row(r: &impl Col) -> Result<EventRecord> {
    let target: String = r.text("target")?;
    Ok(EventRecord {
        id: r.int("id")?,
        tp_id: TpId(r.int("tp_id")?),
        app_id: r.opt_int("app_id")?.map(AppId),
        kind: {
            let k: String = r.text("kind")?;
            EventKind::parse(&k).ok_or_else(|| corrupt("event kind", &k))?
        },
        target: EventTarget::parse(&target).ok_or_else(|| corrupt("event target", &target))?,
        package_id: r.opt_int("package_id")?.map(PackageId),
        version: r.opt_text("version")?,
        reason: r.opt_text("reason")?,
        payload: r.opt_text("payload")?,
        occurred_at: r.int("occurred_at")?,
        status: {
            let s: String = r.text("status")?;
            EventStatus::parse(&s).ok_or_else(|| corrupt("event status", &s))?
        },
        attempts: r.int("attempts")?,
        next_attempt_at: r.int("next_attempt_at")?,
        last_error: r.opt_text("last_error")?,
        delivered_at: r.opt_int("delivered_at")?,
    })
}

pub(crate) fn app_from_row(r: &impl Col) -> Result<App> {
    Ok(App {
        id: AppId(r.int("id")?),
        app_key: r.text("app_key")?,
        name: r.text("name")?,
        description: r.text("description")?,
        basic_info_approved: r.flag("basic_info_approved")?,
        authenticity_verified: r.flag("authenticity_verified")?,
        created_at: r.int("created_at")?,
        service_status: {
            let s = r.text("service_status")?;
            ServiceStatus::parse(&s)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown service_status {s:?}")))?
        },
        release_seq: r.int("release_seq")?,
        min_base_version: r.opt_text("min_base_version")?,
    })
}

pub(crate) fn template_from_row(r: &impl Col) -> Result<Template> {
    Ok(Template {
        id: TemplateId(r.int("id")?),
        tp_id: TpId(r.int("tp_id")?),
        draft_id: DraftId(r.int("draft_id")?),
        user_version: r.text("user_version")?,
        user_desc: r.text("user_desc")?,
        created_at: r.int("created_at")?,
    })
}

pub(crate) fn draft_from_row(r: &impl Col) -> Result<Draft> {
    Ok(Draft {
        id: DraftId(r.int("id")?),
        user_version: r.text("user_version")?,
        user_desc: r.text("user_desc")?,
        size: r.int("size")?,
        created_at: r.int("created_at")?,
    })
}

pub(crate) fn transition_from_row(r: &impl Col) -> Result<TransitionRecord> {
    Ok(TransitionRecord {
        action: r.text("action")?,
        from: r
            .opt_text("from_state")?
            .as_deref()
            .map(state_of)
            .transpose()?,
        to: state_of(&r.text("to_state")?)?,
        actor: r.text("actor")?,
        detail: r.text("detail")?,
        at: r.int("at")?,
    })
}

/// An attempt as the log keeps it (the lease and the retry time are not
/// kept: they mattered only while it was made).
pub(crate) fn attempt_from_row(r: &impl Col) -> Result<AttemptRecord> {
    let outcome = r.text("outcome")?;
    Ok(AttemptRecord {
        event_id: r.int("event_id")?,
        attempt: r.int("attempt")?,
        lease_until: 0,
        url: r.text("url")?,
        started_at: r.int("started_at")?,
        duration_ms: r.int("duration_ms")?,
        status_code: r.opt_int("status_code")?,
        response_body: r.opt_text("response_body")?,
        error: r.opt_text("error")?,
        outcome: match outcome.as_str() {
            "delivered" => AttemptOutcome::Delivered,
            "failed" => AttemptOutcome::Failed,
            "retry" => AttemptOutcome::Retry { next_attempt_at: 0 },
            other => return Err(corrupt("attempt outcome", other)),
        },
    })
}

/// A built package's whole manifest from its stored column and its
/// template's manifest (the base of a delta); None until built.
pub(crate) fn package_manifest_of(
    id: PackageId,
    stored: Option<String>,
    template: Option<String>,
) -> Result<Option<Manifest>> {
    let Some(stored) = stored else {
        return Ok(None);
    };
    let stored: StoredPackageManifest = serde_json::from_str(&stored)
        .map_err(|e| StoreError::Corrupt(format!("package manifest: {e}")))?;
    match stored {
        StoredPackageManifest::Full(m) => Ok(Some(m)),
        StoredPackageManifest::Delta { template_delta } => {
            let base = template.ok_or_else(|| {
                StoreError::Corrupt(format!("package {id}: its template is gone"))
            })?;
            Ok(Some(template_delta.apply(&manifest_of(&base)?)))
        }
    }
}

/// The payload of a PACKAGE_GRAY_RELEASE event about `plan`.
pub(crate) fn gray_event_payload(plan: &smartship_core::gray::GrayPlan) -> String {
    serde_json::json!({
        "grayPercentage": plan.percentage,
        "grayStatus": plan.status.as_str(),
        "planId": plan.id,
    })
    .to_string()
}

/// The columns of a phased-release plan that change after its start, in
/// the order both backends bind them (after the key columns): percentage,
/// user_list, ramp, status, next_step_at, paused_at, updated_at, ended_at.
pub(crate) struct GrayState {
    pub percentage: i64,
    pub user_list: String,
    pub ramp: String,
    pub status: &'static str,
    pub next_step_at: Option<i64>,
    pub paused_at: Option<i64>,
    pub updated_at: i64,
    pub ended_at: Option<i64>,
}

impl GrayState {
    pub(crate) fn of(plan: &smartship_core::gray::GrayPlan) -> GrayState {
        GrayState {
            percentage: i64::from(plan.percentage),
            user_list: plan.user_list.join(","),
            ramp: serde_json::to_string(&plan.ramp).expect("ramp steps serialize"),
            status: plan.status.as_str(),
            next_step_at: plan.next_step_at(),
            paused_at: plan.paused_at,
            updated_at: plan.updated_at,
            ended_at: plan.ended_at,
        }
    }
}

pub(crate) fn gray_from_row(r: &impl Col) -> Result<smartship_core::gray::GrayPlan> {
    use smartship_core::gray::{GrayPlan, GrayStatus, RampStep};
    let status = r.text("status")?;
    let ramp: Vec<RampStep> = serde_json::from_str(&r.text("ramp")?)
        .map_err(|e| StoreError::Corrupt(format!("gray plan ramp: {e}")))?;
    let user_list = r.text("user_list")?;
    Ok(GrayPlan {
        id: r.int("id")?,
        app: AppId(r.int("app_id")?),
        package: PackageId(r.int("package_id")?),
        percentage: u8::try_from(r.int("percentage")?)
            .map_err(|_| StoreError::Corrupt("gray plan percentage".into()))?,
        user_list: user_list
            .split(',')
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect(),
        ramp,
        status: GrayStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown gray status {status:?}")))?,
        paused_at: r.opt_int("paused_at")?,
        created_by: r.text("created_by")?,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
        ended_at: r.opt_int("ended_at")?,
    })
}

pub(crate) fn host_key_from_row(r: &impl Col) -> Result<HostKey> {
    Ok(HostKey {
        id: r.int("id")?,
        name: r.text("name")?,
        created_at: r.int("created_at")?,
        revoked_at: r.opt_int("revoked_at")?,
    })
}

pub(crate) fn signing_key_from_row(r: &impl Col) -> Result<SigningKeyRecord> {
    Ok(SigningKeyRecord {
        key_id: r.text("key_id")?,
        secret: r.text("secret")?,
        public_key: r.text("public_key")?,
        created_at: r.int("created_at")?,
        retired_at: r.opt_int("retired_at")?,
    })
}

pub(crate) fn examination_from_row(r: &impl Col) -> Result<Examination> {
    use smartship_core::profile::{ExamStatus, Field};
    let field = r.text("field")?;
    let status = r.text("status")?;
    Ok(Examination {
        id: r.int("id")?,
        app_id: AppId(r.int("app_id")?),
        field: Field::parse(&field).ok_or_else(|| corrupt("examination field", &field))?,
        value: r.text("value")?,
        material: r.text("material")?,
        status: ExamStatus::parse(&status).ok_or_else(|| corrupt("examination status", &status))?,
        reason: r.text("reason")?,
        submitted_by: r.text("submitted_by")?,
        submitted_at: r.int("submitted_at")?,
        name_claim: r.opt_text("name_claim")?,
        reviewed_by: r.opt_text("reviewed_by")?,
        reviewed_at: r.opt_int("reviewed_at")?,
    })
}

pub(crate) fn image_from_row(r: &impl Col) -> Result<Image> {
    Ok(Image {
        sha256: r.text("sha256")?,
        tp_id: TpId(r.int("tp_id")?),
        kind: r.int("kind")?,
        content_type: r.text("content_type")?,
        width: r.int("width")?,
        height: r.int("height")?,
        size: r.int("size")?,
        created_at: r.int("created_at")?,
    })
}

pub(crate) fn violation_from_row(r: &impl Col) -> Result<Violation> {
    let status = r.text("status")?;
    Ok(Violation {
        id: r.int("id")?,
        app_id: AppId(r.int("app_id")?),
        status: ServiceStatus::parse(&status)
            .ok_or_else(|| corrupt("violation status", &status))?,
        reason: r.text("reason")?,
        illegal_fields: r.text("illegal_fields")?,
        created_by: r.text("created_by")?,
        created_at: r.int("created_at")?,
        resolved_at: r.opt_int("resolved_at")?,
    })
}

/// A `domains` column: kinds by name, each a list of domains.
pub(crate) fn domains_of(json: &str) -> Result<Domains> {
    let raw: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("domains: {e}")))?;
    raw.into_iter()
        .map(|(k, v)| {
            smartship_core::domains::DomainKind::parse(&k)
                .map(|k| (k, v))
                .ok_or_else(|| corrupt("domain kind", &k))
        })
        .collect()
}

pub(crate) fn domains_json(d: &Domains) -> String {
    let raw: std::collections::BTreeMap<&str, &Vec<String>> =
        d.iter().map(|(k, v)| (k.as_str(), v)).collect();
    serde_json::to_string(&raw).expect("domains always serialize")
}
