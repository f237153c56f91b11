//! Rows as the rest of the system sees them.

pub use smartship_core::event_kind::EventKind;
use smartship_core::lifecycle::{BuildState, PackageState};
use smartship_core::manifest::Manifest;
pub use smartship_core::runtime::ServiceStatus;
use smartship_core::{AppId, DraftId, PackageId, TemplateId, TpId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTp {
    pub client_id: String,
    pub name: String,
    pub message_url: Option<String>,
    pub auth_event_url: Option<String>,
    pub msg_token: String,
    pub encoding_aes_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tp {
    pub id: TpId,
    pub client_id: String,
    pub name: String,
    pub message_url: Option<String>,
    pub auth_event_url: Option<String>,
    pub msg_token: String,
    pub encoding_aes_key: String,
    /// Standard Webhooks signing secret (`whsec_...`), if configured.
    pub webhook_secret: Option<String>,
    /// Consent redirects must point to this domain or one of its subdomains.
    pub redirect_domain: Option<String>,
    /// API callers must come from these networks (comma-separated CIDRs).
    pub ip_allowlist: Option<String>,
    pub created_at: i64,
    /// Release events it subscribes to (wire names).
    pub release_events: Vec<String>,
}

/// A change of a TP's delivery settings; `Some(None)` clears a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TpUpdate {
    /// The release events to subscribe to (replaces the list).
    pub release_events: Option<Vec<String>>,
    pub message_url: Option<Option<String>>,
    pub auth_event_url: Option<Option<String>>,
    pub webhook_secret: Option<Option<String>>,
    pub redirect_domain: Option<Option<String>>,
    pub ip_allowlist: Option<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApp {
    /// Explicit id, or None to take the next one.
    pub id: Option<AppId>,
    pub app_key: String,
    pub name: String,
    pub description: String,
    pub basic_info_approved: bool,
    pub authenticity_verified: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: AppId,
    pub app_key: String,
    pub name: String,
    pub description: String,
    pub basic_info_approved: bool,
    pub authenticity_verified: bool,
    pub created_at: i64,
    /// Whether host runtimes are served its packages.
    pub service_status: ServiceStatus,
    /// Raised by every change of what the app serves (see the migration
    /// `release_seq`).
    pub release_seq: i64,
    /// The lowest base-library version the app supports, as the operator
    /// declared it available (`app/setsupportversion`); None: none asked.
    pub min_base_version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppUpdate {
    pub name: Option<String>,
    pub basic_info_approved: Option<bool>,
    pub authenticity_verified: Option<bool>,
    pub service_status: Option<ServiceStatus>,
    /// With a ban or a forced offline: the operator's reason, recorded as
    /// a violation shown in `app/info` and `app/violation`.
    pub reason: Option<String>,
    /// With a forced offline: the offending fields (`appName`,
    /// `photoAddr`, `appDesc`, comma-separated).
    pub illegal_fields: Option<String>,
    /// A new minimum base-library version.
    pub min_base_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub app_id: AppId,
    pub tp_id: TpId,
    pub scopes: String,
    pub active: bool,
}

/// Kinds of token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    TpAccess,
    AppAccess,
    AppRefresh,
}

impl TokenKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenKind::TpAccess => "tp_access",
            TokenKind::AppAccess => "app_access",
            TokenKind::AppRefresh => "app_refresh",
        }
    }
    pub fn parse(s: &str) -> Option<TokenKind> {
        [
            TokenKind::TpAccess,
            TokenKind::AppAccess,
            TokenKind::AppRefresh,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Kinds of single-use code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    PreAuth,
    Authorization,
}

impl CodeKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            CodeKind::PreAuth => "pre_auth",
            CodeKind::Authorization => "authorization",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCode {
    pub hash: String,
    pub kind: CodeKind,
    pub tp_id: TpId,
    pub app_id: Option<AppId>,
    pub expires_at: i64,
    pub created_at: i64,
}

/// Why a code could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    Unknown,
    Expired,
    AlreadyUsed,
}

/// A code that was just consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsedCode {
    pub tp_id: TpId,
    pub app_id: Option<AppId>,
}

/// Why a refresh token could not be exchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    Unknown,
    Expired,
    /// Already exchanged once: a possible leak.
    Reused,
    NotAuthorized,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub hash: String,
    pub kind: TokenKind,
    pub tp_id: TpId,
    pub app_id: Option<AppId>,
    pub expires_at: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub kind: TokenKind,
    pub tp_id: TpId,
    pub app_id: Option<AppId>,
    pub expires_at: i64,
    pub revoked: bool,
    /// For app tokens: the app ↔ TP authorization is still active.
    pub authorized: bool,
    /// The TP's caller IP allow-list (comma-separated CIDRs), if any.
    pub ip_allowlist: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDraft {
    pub tp_id: TpId,
    pub user_version: String,
    pub user_desc: String,
    pub manifest: Manifest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub id: DraftId,
    pub user_version: String,
    pub user_desc: String,
    pub size: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// A template as listed; its files are read only by the build (see
/// [`BuildJob`]).
pub struct Template {
    pub id: TemplateId,
    pub tp_id: TpId,
    pub draft_id: DraftId,
    pub user_version: String,
    pub user_desc: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUpload {
    pub app_id: AppId,
    pub tp_id: TpId,
    pub template_id: TemplateId,
    pub version: String,
    pub version_desc: String,
    /// The validated ext_json document, stored for the build worker.
    pub ext_json: String,
    pub direct_commit: bool,
    pub test_account: Option<String>,
    pub test_password: Option<String>,
    pub committer: String,
}

/// Everything besides the action that a transition needs to know or record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionContext {
    pub now: i64,
    /// Who acts: `app:<id>`, `admin`, `worker:build`... (audit trail).
    pub actor: String,
    /// Submissions allowed per period and the period's start; None = unlimited.
    pub quota: Option<QuotaWindow>,
    /// Delay before a requested rollback takes effect.
    pub rollback_delay_ms: i64,
    /// Earlier online versions a rollback may return to; None: all.
    pub retained_versions: Option<i64>,
    /// Fields of a submission (submitaudit) recorded on the package.
    pub submission: Option<Submission>,
    /// The audit log's entry for the action, written in its transaction
    /// when it is accepted (so no accepted change ever lacks its entry).
    pub audit: Option<NewAuditEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaWindow {
    pub limit: i64,
    pub period_start: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub content: String,
    pub remark: String,
    pub test_account: Option<String>,
    pub test_password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub id: PackageId,
    pub app_id: AppId,
    pub tp_id: TpId,
    pub template_id: TemplateId,
    pub version: String,
    pub version_desc: String,
    pub state: PackageState,
    pub build: BuildState,
    pub build_error_code: Option<i64>,
    pub build_error: Option<String>,
    pub ext_json: String,
    pub direct_commit: bool,
    pub test_account: Option<String>,
    pub audit_content: String,
    pub remark: String,
    pub msg: String,
    pub committer: String,
    pub commit_time: i64,
    pub rollback_version: Option<String>,
    pub rollback_due_at: Option<i64>,
    pub released_at: Option<i64>,
    pub size: Option<i64>,
    /// A release held until this time (Unix ms).
    pub release_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Loaded separately: only downloads and the build need a package's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildJob {
    pub package: Package,
    /// The template's files. Templates are soft-deleted, so an upload accepted
    /// before a `deltemplate` still builds; None only if the row is missing.
    pub template: Option<Manifest>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildOutcome {
    Built {
        manifest: Manifest,
        /// The first blocking pre-review finding (`check file:line`): a
        /// `directCommit` package is then not submitted.
        blocked: Option<String>,
    },
    Failed {
        code: i64,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionRecord {
    pub action: String,
    pub from: Option<PackageState>,
    pub to: PackageState,
    pub actor: String,
    pub detail: String,
    pub at: i64,
}

/// Which of the TP's URLs an event goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventTarget {
    /// `message_url`: audit results.
    Message,
    /// `auth_event_url`: tickets and authorization changes.
    Auth,
}

impl EventTarget {
    pub const fn as_str(self) -> &'static str {
        match self {
            EventTarget::Message => "message",
            EventTarget::Auth => "auth",
        }
    }
    pub fn parse(s: &str) -> Option<EventTarget> {
        match s {
            "message" => Some(EventTarget::Message),
            "auth" => Some(EventTarget::Auth),
            _ => None,
        }
    }
}

/// An outbox row: facts about what happened; the wire payload is rendered
/// at delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub id: i64,
    pub tp_id: TpId,
    pub app_id: Option<AppId>,
    pub kind: EventKind,
    pub target: EventTarget,
    pub package_id: Option<PackageId>,
    pub version: Option<String>,
    pub reason: Option<String>,
    /// Extra payload fields (JSON object) for events that are not audit results.
    pub payload: Option<String>,
    pub occurred_at: i64,
    pub status: EventStatus,
    /// Attempts made in the current series (reset by a replay).
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
}

/// Where an event's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventStatus {
    /// Waiting for its next attempt (or leased to a worker for it).
    Pending,
    Delivered,
    /// Its retry schedule ran out; a replay makes it pending again.
    Failed,
    /// Held: its platform has no URL for it; due once one is set.
    Undeliverable,
    /// A held ticket superseded by a newer one before it could be sent.
    Discarded,
}

impl EventStatus {
    pub const ALL: [EventStatus; 5] = [
        EventStatus::Pending,
        EventStatus::Delivered,
        EventStatus::Failed,
        EventStatus::Undeliverable,
        EventStatus::Discarded,
    ];

    /// The stored and wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventStatus::Pending => "pending",
            EventStatus::Delivered => "delivered",
            EventStatus::Failed => "failed",
            EventStatus::Undeliverable => "undeliverable",
            EventStatus::Discarded => "discarded",
        }
    }

    pub fn parse(s: &str) -> Option<EventStatus> {
        EventStatus::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// An event to enqueue outside a lifecycle transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub tp_id: TpId,
    pub app_id: Option<AppId>,
    pub kind: EventKind,
    pub target: EventTarget,
    pub payload: Option<String>,
    pub occurred_at: i64,
}

/// An event leased to a delivery worker for one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedEvent {
    pub event: EventRecord,
    /// The number of this attempt in the current series (1 = first).
    pub attempt: i64,
    /// The lease of this claim; a result is recorded only while the event
    /// still carries it (a replay or a later claim makes it stale).
    pub lease_until: i64,
}

/// What an attempt decided for its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    Retry {
        next_attempt_at: i64,
    },
    Failed,
    /// Not attempted: the TP has no URL for the event's target. The event
    /// waits, without using up its retries, until a URL is set.
    Undeliverable,
}

impl AttemptOutcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Retry { .. } => "retry",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Undeliverable => "undeliverable",
        }
    }
}

/// One delivery attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub event_id: i64,
    pub attempt: i64,
    /// The lease of the claim this attempt was made under.
    pub lease_until: i64,
    pub url: String,
    pub started_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    /// The first bytes of the response body.
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub outcome: AttemptOutcome,
}

/// A page of an operator listing: rows `offset..offset + limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub offset: i64,
    pub limit: i64,
}

/// Which apps an operator listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppFilter {
    /// Part of the name, matched case-insensitively.
    pub name_contains: Option<String>,
    /// Only apps with an active authorization to this TP.
    pub tp: Option<TpId>,
}

/// Which packages an operator listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageFilter {
    pub app: Option<AppId>,
    pub tp: Option<TpId>,
    pub state: Option<PackageState>,
    /// `user_version`, exactly.
    pub version: Option<String>,
}

/// Counts for `admin status`: what exists and what is waiting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub apps: i64,
    pub tps: i64,
    pub templates: i64,
    /// (state name, count) for every state that has packages.
    pub packages_by_state: Vec<(String, i64)>,
    /// Packages whose build has not finished.
    pub builds_pending: i64,
    /// Development packages whose build failed.
    pub builds_failed: i64,
    /// Packages waiting for a reviewer, and when the oldest was submitted.
    pub review_queue: i64,
    pub oldest_review_since: Option<i64>,
    /// Rollbacks waiting for their delay.
    pub rollbacks_pending: i64,
    /// (status, count) for every event status that has events.
    pub events_by_status: Vec<(String, i64)>,
    /// Client ids of the TPs that have events held `undeliverable`.
    pub tps_with_undeliverable: Vec<String>,
}

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

/// A change of basic information and its review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Examination {
    pub id: i64,
    pub app_id: AppId,
    pub field: smartship_core::profile::Field,
    pub value: String,
    pub material: String,
    pub status: smartship_core::profile::ExamStatus,
    pub reason: String,
    pub submitted_by: String,
    pub submitted_at: i64,
    /// The name the change asks for (a name change or a restoration that
    /// corrects the name).
    pub name_claim: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<i64>,
}

/// A change submitted for review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewExamination {
    pub app: AppId,
    pub field: smartship_core::profile::Field,
    pub value: String,
    pub material: String,
    /// The name it asks for, unique among apps.
    pub name_claim: Option<String>,
    pub actor: String,
    /// The start of the quota's year (Unix ms): changes submitted since
    /// count against the field's yearly quota.
    pub year_start: i64,
}

/// Why a change is not taken for review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExamRefusal {
    /// A change of the field is under review (its id).
    Pending(i64),
    /// The field's changes this year reached its quota.
    QuotaUsed { used: i64, quota: i64 },
    /// Another app has the name (approved or under review).
    NameTaken,
    /// The app does not exist.
    NoApp,
}

/// Why a review of an examination is refused (decided in
/// `smartship_core::examination`).
pub use smartship_core::examination::ReviewRefusal;

/// An image taken by the upload route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub sha256: String,
    pub tp_id: TpId,
    pub kind: i64,
    pub content_type: String,
    pub width: i64,
    pub height: i64,
    pub size: i64,
    pub created_at: i64,
}

/// Whose domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainOwner {
    App(AppId),
    Tp(TpId),
}

/// Domains by kind.
pub type Domains = std::collections::BTreeMap<smartship_core::domains::DomainKind, Vec<String>>;

/// A ban or a forced offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub id: i64,
    pub app_id: AppId,
    pub status: ServiceStatus,
    pub reason: String,
    pub illegal_fields: String,
    pub created_by: String,
    pub created_at: i64,
    pub resolved_at: Option<i64>,
}

/// An app's basic information beyond [`App`]: the approved icon and
/// categories, and the newest examination of each field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    pub photo_addr: String,
    /// JSON array of approved [`smartship_core::profile::CategoryChoice`].
    pub categories: String,
    /// The newest examination of each field (none for a field never changed).
    pub latest: Vec<Examination>,
    /// Changes submitted since the year's start, per field.
    pub used: Vec<(smartship_core::profile::Field, i64)>,
    /// Violations not resolved.
    pub open_violations: Vec<Violation>,
}

/// A console operator's account (its password only as a hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub id: i64,
    pub username: String,
    /// `admin`, `reviewer` or `viewer` (the server gives them meaning).
    pub role: String,
    pub password_hash: String,
    pub created_at: i64,
    pub password_changed_at: i64,
}

/// A console sign-in being recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOperatorSession {
    /// SHA-256 of the cookie's value.
    pub token_hash: String,
    pub operator_id: i64,
    pub csrf: String,
    pub address: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A live console session and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSession {
    pub operator: Operator,
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// One package waiting for a reviewer, as the console's queue lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedPackage {
    pub package_id: PackageId,
    pub app_id: AppId,
    pub app_name: String,
    pub version: String,
    pub version_desc: String,
    /// When it was submitted (Unix ms).
    pub submitted_at: i64,
    /// Blocking pre-review findings (0 when none or not checked).
    pub blocking_checks: i64,
}

/// A page of the review queue, oldest submission first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePage {
    /// Packages waiting in all.
    pub total: i64,
    pub items: Vec<QueuedPackage>,
}

/// One state-changing action, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub at: i64,
    /// `app:<id>`, `tp:<id>`, `admin`, `console:<username>`,
    /// `worker:<name>`, `anonymous`.
    pub actor: String,
    pub address: Option<String>,
    /// The route (`POST /rest/2.0/smartapp/package/submitaudit`) or the
    /// worker's step (`build`).
    pub action: String,
    /// What it acted on (`package:12`), or empty.
    pub target: String,
    /// Its parameters, secrets left out, or what changed.
    pub detail: String,
    /// `ok`, or what refused it (`errno 47003`, `HTTP 409`).
    pub outcome: String,
}

/// A recorded action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub entry: NewAuditEntry,
}

/// Which audit entries a listing shows. Text filters match the start of
/// the field (`console:` is every console operator).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    /// Unix ms, inclusive.
    pub since: Option<i64>,
    /// Unix ms, exclusive.
    pub until: Option<i64>,
}

/// One step of an app's timeline: a package's transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub package_id: PackageId,
    pub version: String,
    pub transition: TransitionRecord,
}

/// An app's authorization of a platform, as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppAuthorization {
    pub client_id: String,
    pub tp_name: String,
    pub scopes: String,
    pub active: bool,
    pub updated_at: i64,
}

/// Which events a console listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub tp: Option<TpId>,
    pub kind: Option<String>,
    pub status: Option<String>,
}

/// What a host says it runs, to find the package: by id or by its zip's
/// digest (one package), or by version (perhaps several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPackage {
    Id(PackageId),
    Sha256(String),
    Version(String),
}

/// How much a platform may keep in drafts not made into templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DraftQuota {
    pub max_drafts: i64,
    pub max_bytes: i64,
}

/// Why a draft is not stored or not deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftRefusal {
    /// The platform holds `max` drafts not made into templates.
    TooMany {
        max: i64,
    },
    /// Its drafts would hold `would` bytes, past `max`.
    OverBudget {
        would: i64,
        max: i64,
    },
    NotFound,
    /// Templates were made from it (they keep its id).
    InUse(Vec<TemplateId>),
}
