//! Persistence for smartship.
//!
//! [`Store`] is the one interface the server talks to; [`sqlite::SqliteStore`]
//! is the embedded default. Business rules are not here: every package state
//! change is decided by `smartship_core::lifecycle::decide` on a snapshot the
//! store reads inside the transaction that then writes the decision, together
//! with its history rows and outgoing event (transactional outbox).
//!
//! [`blobs::BlobStore`] keeps file contents addressed by SHA-256, so a file
//! shared by a template and all packages built from it is stored once.

/// The states that hold a slot (`PackageState::slot`), as an SQL list: one
/// literal for every statement that needs it (a literal, so that statement
/// caches find it without formatting), checked against `PackageState` by a
/// test.
macro_rules! slotted_states_sql {
    () => {
        "('development','auditing','audit_failed','audit_passed','online','rolling_back')"
    };
}

/// The rows of a release event about package `$package` for its TP, when
/// the TP subscribes to kind `$kind` (none otherwise): the SELECT of an
/// `INSERT INTO events (tp_id, app_id, kind, package_id, version, reason,
/// occurred_at, status, attempts, next_attempt_at)`, with each backend's
/// placeholders.
macro_rules! release_event_select {
    ($kind:literal, $reason:literal, $now:literal, $package:literal) => {
        concat!(
            "SELECT p.tp_id, p.app_id, ",
            $kind,
            ", p.id, p.version, ",
            $reason,
            ", ",
            $now,
            ", 'pending', 0, ",
            $now,
            " FROM packages p JOIN tps t ON t.id = p.tp_id WHERE p.id = ",
            $package,
            " AND (',' || t.release_events || ',') LIKE ('%,' || ",
            $kind,
            " || ',%')"
        )
    };
}

#[macro_use]
mod portable;
#[macro_use]
mod name_keys;
pub mod blobs;
pub mod copy;
mod error;
mod group_commit;
pub mod lease_owner;
mod lifecycle_flow;
pub mod model;
pub mod postgres;
mod read_cache;
mod rows;
pub mod sqlite;
#[doc(hidden)]
pub mod test_db;
mod write_tx;

pub use error::StoreError;
pub use model::*;

/// The store's traits, to call an aggregate's methods on a concrete store.
pub mod prelude {
    pub use crate::{
        AuditStore, ConsoleStore, OutboxStore, PackageStore, PartyStore, ProfileStore,
        RuntimeStore, Store, TemplateStore, TokenStore,
    };
}

use async_trait::async_trait;
use smartship_core::lifecycle::{Action, Effects, Refusal};
use smartship_core::manifest::Manifest;
use smartship_core::{AppId, DraftId, PackageId, TemplateId, TpId};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Opens the store a database URL names, migrated to the current schema:
/// `sqlite:PATH` (or `sqlite://PATH`), the embedded default, or
/// `postgres://USER@HOST:PORT/DATABASE` (also `postgresql://`). The server and
/// the CLI know only the URL, never the backend.
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        return Ok(std::sync::Arc::new(
            sqlite::SqliteStore::open_url(url).await?,
        ));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(std::sync::Arc::new(postgres::PgStore::open_url(url).await?));
    }
    // Only the scheme: the rest of a URL may hold a password.
    let scheme = url.split_once(':').map_or("", |(s, _)| s);
    Err(StoreError::Unavailable(format!(
        "database URL scheme {scheme:?} names no store (use sqlite:PATH or postgres://...)"
    )))
}

/// The wall clock in Unix ms, for the records of operator actions whose
/// callers pass no time.
pub(crate) fn unix_ms_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The outcome of a lifecycle action: applied, or refused by the rules.
pub type Decision = std::result::Result<Effects, Refusal>;

/// What an accepted phased-release operation left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhasedOutcome {
    /// The plan as stored (finished when its package was released).
    pub plan: smartship_core::gray::GrayPlan,
    /// Nothing was written: no ramp step was due (another node took it),
    /// or a plan at 100 % whose release was refused again.
    pub unchanged: bool,
    /// At 100 %, the release of the plan's package in the same
    /// transaction: its effects, or why the rules refused it (the plan then
    /// stays running at 100 %, and is stored so).
    pub release: Option<Decision>,
}

/// The outcome of a phased-release operation: done, or refused by the rules.
pub type PhasedDecision = std::result::Result<PhasedOutcome, smartship_core::phased::PhasedRefusal>;

/// Third-party platforms, apps, their authorizations, tickets and the apps' administrator accounts.
#[async_trait]
pub trait PartyStore: Send + Sync {
    async fn create_tp(&self, tp: NewTp, now: i64) -> Result<Tp>;
    async fn tp_by_client_id(&self, client_id: &str) -> Result<Option<Tp>>;
    async fn tp_by_id(&self, id: TpId) -> Result<Option<Tp>>;
    async fn create_app(&self, app: NewApp, now: i64) -> Result<App>;
    async fn app(&self, id: AppId) -> Result<Option<App>>;
    async fn update_app(&self, id: AppId, update: AppUpdate) -> Result<Option<App>>;
    /// Creates, re-activates or updates the app ↔ TP authorization and, in
    /// the same transaction, enqueues AUTHORIZED (new or re-activated) or
    /// UPDATE_AUTHORIZED (already active) for the TP.
    async fn authorize(
        &self,
        app: AppId,
        tp: TpId,
        scopes: &str,
        now: i64,
    ) -> Result<Authorization>;
    /// Whether the app ↔ TP authorization is active.
    async fn authorization_active(&self, app: AppId, tp: TpId) -> Result<bool>;
    /// The scopes of an active authorization.
    async fn authorization_scopes(&self, app: AppId, tp: TpId) -> Result<Option<String>>;
    /// Ends an active authorization: revokes the app's tokens for the TP and
    /// enqueues UNAUTHORIZED, atomically. False when there was none.
    async fn unauthorize(&self, app: AppId, tp: TpId, now: i64) -> Result<bool>;
    /// Stores a new ticket for the TP and enqueues its push, atomically.
    async fn rotate_ticket(&self, tp: TpId, ticket: &str, payload: &str, now: i64) -> Result<()>;
    /// The same, unless `tp` already has a ticket from `due_before` or
    /// later; whether it rotated. Of several nodes that find a platform due
    /// at once, exactly one issues its ticket.
    async fn rotate_ticket_if_due(
        &self,
        tp: TpId,
        ticket: &str,
        payload: &str,
        now: i64,
        due_before: i64,
    ) -> Result<bool>;
    /// The TP's tickets created at or after `since`, newest first.
    async fn tickets(&self, tp: TpId, since: i64) -> Result<Vec<String>>;
    /// TPs whose newest ticket is older than `before` (or that have none).
    async fn tps_due_for_ticket(&self, before: i64) -> Result<Vec<TpId>>;
    /// Creates or replaces an administrator account of an app.
    async fn upsert_app_admin(
        &self,
        username: &str,
        app: AppId,
        password_hash: &str,
        now: i64,
    ) -> Result<()>;
    /// (app, password hash) of an administrator.
    async fn app_admin(&self, username: &str) -> Result<Option<(AppId, String)>>;
    /// Changes a TP's settings; events held `undeliverable` for want of a
    /// URL that is now set become due at `now`, in the same transaction.
    async fn update_tp(&self, client_id: &str, update: TpUpdate, now: i64) -> Result<Option<Tp>>;
    /// Apps, by id, with the total that match.
    async fn list_apps(&self, filter: &AppFilter, page: PageRequest) -> Result<(i64, Vec<App>)>;
    /// TPs, by id, with the total.
    async fn list_tps(&self, page: PageRequest) -> Result<(i64, Vec<Tp>)>;
}

/// Access and refresh tokens, and the single-use codes of the authorization flow (all stored hashed).
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Whether an unused, unexpired code of `kind` exists for the TP,
    /// without consuming it (the consent page shows before it submits).
    async fn code_usable(&self, kind: CodeKind, hash: &str, tp: TpId, now: i64) -> Result<bool>;
    async fn insert_code(&self, code: NewCode) -> Result<()>;
    /// Marks a code of `kind` issued to `tp` used, once; refuses unknown
    /// (including another TP's), expired or used ones without using them.
    async fn consume_code(
        &self,
        kind: CodeKind,
        hash: &str,
        tp: TpId,
        now: i64,
    ) -> Result<std::result::Result<UsedCode, CodeRefusal>>;
    /// Exchanges a refresh token for `new_tokens` atomically: the old
    /// refresh token and the access token issued with it are revoked in the
    /// same transaction, so a refresh token works once.
    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new_tokens: &[NewToken],
        now: i64,
    ) -> Result<std::result::Result<(TpId, AppId), RefreshRefusal>>;
    async fn insert_token(&self, token: NewToken) -> Result<()>;
    /// The token with this hash, with whether its authorization is active.
    async fn token(&self, hash: &str) -> Result<Option<TokenRecord>>;
}

/// Drafts and the templates made from them.
#[async_trait]
pub trait TemplateStore: Send + Sync {
    async fn create_draft(&self, draft: NewDraft, now: i64) -> Result<DraftId>;
    /// Stores a draft unless the platform's drafts not made into templates
    /// would pass `quota` (their number, or their bytes with this one).
    /// Checked and written under the platform's row lock, so that racing
    /// uploads cannot pass the bounds together.
    async fn create_draft_within(
        &self,
        draft: NewDraft,
        now: i64,
        quota: DraftQuota,
    ) -> Result<std::result::Result<DraftId, DraftRefusal>>;
    /// Deletes a draft of the platform that no template was made from.
    /// Its files' blobs are collected later, once nothing refers to them.
    async fn delete_draft(
        &self,
        tp: TpId,
        id: DraftId,
    ) -> Result<std::result::Result<(), DraftRefusal>>;
    /// Every blob digest a row refers to: drafts', templates' and
    /// packages' files, built zips, incremental zips, images. What no row
    /// names may be collected (`BlobStore::collect`).
    async fn referenced_blobs(&self) -> Result<std::collections::HashSet<String>>;
    async fn list_drafts(&self, tp: TpId, offset: i64, limit: i64) -> Result<(i64, Vec<Draft>)>;
    /// Copies a draft into a new template unless the TP has `max` templates.
    async fn add_template(
        &self,
        tp: TpId,
        draft: DraftId,
        user_desc: &str,
        max: i64,
        now: i64,
    ) -> Result<AddTemplate>;
    async fn list_templates(
        &self,
        tp: TpId,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<Template>)>;
    /// Soft-deletes; false when the template is not the TP's or already gone.
    async fn delete_template(&self, tp: TpId, id: TemplateId, now: i64) -> Result<bool>;
    /// Whether the TP has this (undeleted) template, without loading its files.
    async fn template_exists(&self, tp: TpId, id: TemplateId) -> Result<bool>;
    /// Undeleted templates of one TP or of all, newest first.
    async fn list_all_templates(
        &self,
        tp: Option<TpId>,
        page: PageRequest,
    ) -> Result<(i64, Vec<Template>)>;
}

/// Packages: uploads, lifecycle transitions, builds, their history and the workers' claims.
#[async_trait]
pub trait PackageStore: Send + Sync {
    /// Accepts an upload: applies [`Action::Upload`] and inserts the new
    /// development package (building) in one transaction.
    async fn create_upload(
        &self,
        upload: NewUpload,
        ctx: &ActionContext,
    ) -> Result<std::result::Result<PackageId, Refusal>>;
    /// Applies `action` to package `package` of app `app` atomically.
    async fn apply(
        &self,
        app: AppId,
        package: PackageId,
        action: Action,
        ctx: &ActionContext,
    ) -> Result<Decision>;
    /// An operation on the app's phased release, decided by
    /// `smartship_core::phased` under the app's lock. A plan that reaches
    /// 100 % releases its package in the same transaction.
    async fn phased(
        &self,
        app: AppId,
        op: smartship_core::phased::PhasedOp,
        ctx: &ActionContext,
    ) -> Result<PhasedDecision>;
    /// Holds a package that passed audit for release at `at` (Unix ms),
    /// under the app's lock (`lifecycle::check_hold`). Recorded in the
    /// package's history.
    async fn schedule_release(
        &self,
        app: AppId,
        package: PackageId,
        at: i64,
        ctx: &ActionContext,
    ) -> Result<std::result::Result<(), Refusal>>;
    /// Cancels a package's scheduled release; false when none was scheduled.
    async fn cancel_scheduled_release(
        &self,
        app: AppId,
        package: PackageId,
        ctx: &ActionContext,
    ) -> Result<bool>;
    /// The packages in a slot (what `package/get` lists), newest first.
    /// Shared, not copied: `package/get` is the hottest read and may be
    /// served from a cache.
    async fn slotted_packages(&self, app: AppId) -> Result<std::sync::Arc<[Package]>>;
    /// One package of the app (any state).
    async fn package(&self, app: AppId, id: PackageId) -> Result<Option<Package>>;
    /// The app's package in the given state (most recent first).
    async fn package_in_state(
        &self,
        app: AppId,
        state: smartship_core::lifecycle::PackageState,
    ) -> Result<Option<Package>>;
    /// Any package, for operators.
    async fn package_any(&self, id: PackageId) -> Result<Option<Package>>;
    async fn all_packages(&self, app: AppId) -> Result<Vec<Package>>;
    /// The files of a built package (None until built).
    async fn package_manifest(&self, id: PackageId) -> Result<Option<Manifest>>;
    async fn transitions(&self, package: PackageId) -> Result<Vec<TransitionRecord>>;
    async fn quota_used(&self, app: AppId, since: i64) -> Result<i64>;
    /// Records a built package's pre-review findings (JSON) and how many
    /// of them block a submission; a rebuild replaces them.
    async fn put_package_checks(
        &self,
        package: PackageId,
        findings: &str,
        blocking: i64,
        now: i64,
    ) -> Result<()>;
    /// A package's pre-review findings (JSON) and blocking count; None
    /// before its build ran them.
    async fn package_checks(&self, package: PackageId) -> Result<Option<(String, i64)>>;
    /// Leases the oldest pending build (or one whose lease expired).
    async fn claim_build(&self, now: i64, lease_ms: i64) -> Result<Option<BuildJob>>;
    /// Records a build result. A package that left the development slot
    /// meanwhile is left alone (returns `Ok(Err(..))`).
    async fn finish_build(
        &self,
        app: AppId,
        package: PackageId,
        outcome: BuildOutcome,
        ctx: &ActionContext,
    ) -> Result<Decision>;
    /// Packages under audit, oldest submission first (for automatic review).
    async fn packages_under_audit(&self, limit: i64) -> Result<Vec<(AppId, PackageId)>>;
    /// Packages whose rollback delay has passed.
    async fn due_rollbacks(&self, now: i64) -> Result<Vec<(AppId, PackageId)>>;
    /// When the next rollback falls due, if any.
    async fn next_rollback_due(&self) -> Result<Option<i64>>;
    /// Packages of any app (retired ones included), newest first.
    async fn list_packages(
        &self,
        filter: &PackageFilter,
        page: PageRequest,
    ) -> Result<(i64, Vec<Package>)>;
}

/// The event outbox: events, their delivery leases and the attempt log.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Enqueues many events in one transaction.
    async fn insert_events(&self, events: &[NewEvent]) -> Result<()>;
    /// How many of the TP's events have this status.
    async fn count_events(&self, tp: TpId, status: EventStatus) -> Result<i64>;
    /// Events of a TP (or all), newest first, optionally of one status.
    async fn events(
        &self,
        tp: Option<TpId>,
        status: Option<EventStatus>,
        limit: i64,
    ) -> Result<Vec<EventRecord>>;
    async fn event(&self, id: i64) -> Result<Option<EventRecord>>;
    async fn event_attempts(&self, id: i64) -> Result<Vec<AttemptRecord>>;
    /// Leases up to `limit` due events for one attempt each.
    async fn claim_events(&self, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<ClaimedEvent>>;
    /// Records attempts and their outcomes, all in one transaction.
    async fn record_attempts(&self, attempts: &[AttemptRecord], now: i64) -> Result<()>;
    /// When the next pending event falls due, if any.
    async fn next_event_due(&self) -> Result<Option<i64>>;
    /// Makes an event pending again with a fresh retry series.
    async fn replay_event(&self, id: i64, now: i64) -> Result<bool>;
    /// Replays every failed event of a TP; returns how many.
    async fn replay_failed(&self, tp: TpId, now: i64) -> Result<i64>;
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

/// The app's basic information and settings (SPEC §2): examinations of
/// its changes, uploaded images, domains, violations.
#[async_trait]
pub trait ProfileStore: Send + Sync {
    /// Takes a change for review, under the app's lock: refused while a
    /// change of the field is pending, once the field's yearly quota is
    /// used, and (names) when another app has the name.
    async fn submit_examination(
        &self,
        change: NewExamination,
        now: i64,
    ) -> Result<std::result::Result<Examination, ExamRefusal>>;
    async fn examination(&self, id: i64) -> Result<Option<Examination>>;
    /// Examinations in id order after `after`, of one status or all, at
    /// most `limit`.
    async fn examinations(
        &self,
        status: Option<smartship_core::profile::ExamStatus>,
        app: Option<AppId>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Examination>>;
    /// Passes or fails a pending examination. A pass makes its value the
    /// app's approved one (a passed restoration also restores the
    /// service); either way "basic info approved" is recomputed in the
    /// same transaction.
    async fn review_examination(
        &self,
        id: i64,
        pass: bool,
        reason: &str,
        reviewer: &str,
        now: i64,
    ) -> Result<std::result::Result<Examination, ReviewRefusal>>;
    /// Whether an app other than `except` has `name`, approved or under
    /// review.
    async fn name_taken(&self, name: &str, except: AppId) -> Result<bool>;
    /// The app's approved icon and categories, each field's newest
    /// examination, the changes since `year_start`, open violations.
    async fn profile(&self, app: AppId, year_start: i64) -> Result<Profile>;
    /// Records an uploaded image of a platform (its first record of the
    /// digest stays).
    async fn put_image(&self, image: &Image) -> Result<()>;
    /// An uploaded image by its digest (any platform's upload: for serving).
    async fn image(&self, sha256: &str) -> Result<Option<Image>>;
    /// The image `tp` uploaded with this digest.
    async fn tp_image(&self, tp: TpId, sha256: &str) -> Result<Option<Image>>;
    async fn domains(&self, owner: DomainOwner) -> Result<Domains>;
    /// Applies `action` with `given` to each kind in `given` under the
    /// owner's lock; every kind is checked before any is stored.
    async fn modify_domains(
        &self,
        owner: DomainOwner,
        action: smartship_core::domains::DomainAction,
        given: Domains,
    ) -> Result<std::result::Result<Domains, smartship_core::domains::DomainRefusal>>;
    /// The platform's domain-ownership check file; `fresh` is stored and
    /// returned when it has none yet.
    async fn domain_check(&self, tp: TpId, fresh: &str) -> Result<String>;
    /// The app's violations, newest first.
    async fn violations(&self, app: AppId) -> Result<Vec<Violation>>;
}

/// The operator console: operator accounts, their sign-in sessions (kept
/// in the database, so every node knows them), and the review queue in
/// pages.
#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// A new operator; None when the username is taken.
    async fn create_operator(
        &self,
        username: &str,
        role: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<Option<Operator>>;
    /// Every operator, by username.
    async fn operators(&self) -> Result<Vec<Operator>>;
    async fn operator(&self, username: &str) -> Result<Option<Operator>>;
    /// Removes an operator and ends its sessions; false when there is none.
    async fn remove_operator(&self, username: &str) -> Result<bool>;
    /// Sets an operator's password and ends its sessions (a reset signs
    /// every browser out); false when there is no such operator.
    async fn set_operator_password(
        &self,
        username: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<bool>;
    /// Records a sign-in, ending the session `replaces` (the token hash a
    /// browser presented when it signed in) in the same transaction, so a
    /// session id is never carried across a sign-in.
    async fn create_operator_session(
        &self,
        session: NewOperatorSession,
        replaces: Option<&str>,
    ) -> Result<()>;
    /// The live (unexpired) session with this token hash.
    async fn operator_session(&self, token_hash: &str, now: i64)
    -> Result<Option<OperatorSession>>;
    /// Signs a session out; false when it did not exist.
    async fn end_operator_session(&self, token_hash: &str) -> Result<bool>;
    /// Packages under audit, oldest submission first, after the
    /// (submitted_at, package id) `after`, at most `limit`, with how many
    /// wait in all.
    async fn review_queue_page(&self, after: Option<(i64, i64)>, limit: i64) -> Result<QueuePage>;
    /// The app's package transitions, newest first, at most `limit`.
    async fn app_timeline(&self, app: AppId, limit: i64) -> Result<Vec<TimelineEntry>>;
    /// The app's authorizations, active or ended, by platform.
    async fn app_authorizations(&self, app: AppId) -> Result<Vec<AppAuthorization>>;
    /// Events matching `filter`, newest first, with ids below `before`.
    async fn event_page(
        &self,
        filter: &EventFilter,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<EventRecord>>;
    /// How long (ms) events delivered since `since` took from their
    /// occurrence to their delivery, the newest `limit`.
    async fn delivery_lags(&self, since: i64, limit: i64) -> Result<Vec<i64>>;
    /// Transitions per day since `since` whose action is one of
    /// `review_pass`, `review_fail`, `release`, `rollback`: (day number,
    /// action, count), the day counted in the zone `offset_ms` from UTC.
    async fn daily_actions(&self, since: i64, offset_ms: i64) -> Result<Vec<(i64, String, i64)>>;
}

/// The audit log: every state-changing action with who, from where, when
/// and what.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Records entries, in one transaction.
    async fn append_audit(&self, entries: &[NewAuditEntry]) -> Result<()>;
    /// Deletes at most `batch` entries recorded before `before` (Unix
    /// ms), oldest first; how many went.
    async fn purge_audit(&self, before: i64, batch: i64) -> Result<u64>;
    /// Entries matching `filter`, newest first, with ids below `before`.
    async fn audit_log(
        &self,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>>;
}

/// Everything the server persists: every aggregate's store, plus what
/// spans them. A backend implements each aggregate's trait in a module of
/// its own. On an `Arc<dyn Store>` every method is callable as it is; on a
/// concrete store, `use smartship_store::prelude::*` brings them in scope.
#[async_trait]
pub trait Store:
    PartyStore
    + TokenStore
    + TemplateStore
    + PackageStore
    + OutboxStore
    + RuntimeStore
    + ProfileStore
    + ConsoleStore
    + AuditStore
    + Send
    + Sync
    + 'static
{
    /// The installation's blobs, where this backend keeps them: files
    /// under `local` for SQLite; the database itself for PostgreSQL, with
    /// only the scratch files of uploads in flight under `local`.
    fn blobs(&self, local: &std::path::Path) -> std::io::Result<blobs::BlobStore>;
    async fn get_meta(&self, key: &str) -> Result<Option<String>>;
    async fn set_meta(&self, key: &str, value: &str) -> Result<()>;
    /// Ends at once the live leases (builds, event deliveries) held by
    /// processes that are certainly gone ([`lease_owner::is_dead`]), so
    /// their work is claimed again now rather than when the leases expire.
    async fn release_dead_leases(&self, now: i64) -> Result<ReleasedLeases>;
    /// Ends the live leases of this process (a node that stops gives its
    /// unfinished work back at once instead of letting it wait out the
    /// leases).
    async fn release_own_leases(&self) -> Result<ReleasedLeases>;
    /// Ends the leases written by `owners` ([`lease_owner::this_process`]
    /// identities).
    async fn release_leases(&self, owners: &[String]) -> Result<ReleasedLeases>;
    /// Moves up to `limit` audit entries written with their changes
    /// (`audit_staging`) into the audit log, oldest first; how many moved.
    /// Several nodes may run it at once: each entry moves once.
    async fn move_staged_audit(&self, limit: i64) -> Result<u64>;
    /// The schema version the database has and the one this build expects
    /// (a node is ready only when they are equal).
    async fn schema_state(&self) -> Result<SchemaState>;
    /// Deletes, at most `batch` rows of each kind in one short transaction,
    /// what is past keeping at `before` (Unix ms): tokens expired or revoked
    /// before it, codes expired before it, tickets issued before it except
    /// each platform's newest, and delivery attempts made before it of events
    /// that are no longer pending. Events themselves are kept.
    async fn purge_expired(&self, before: i64, batch: i64) -> Result<Purged>;
    /// What exists and what waits, for `admin status`.
    async fn status_counts(&self) -> Result<StatusCounts>;
}

/// What [`Store::purge_expired`] deleted, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub tokens: u64,
    pub codes: u64,
    pub tickets: u64,
    pub attempts: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.tokens + self.codes + self.tickets + self.attempts
    }

    /// Whether some kind filled its batch (more may be left).
    pub fn filled(&self, batch: u64) -> bool {
        [self.tokens, self.codes, self.tickets, self.attempts]
            .iter()
            .any(|&n| n >= batch)
    }
}

/// See [`Store::schema_state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaState {
    pub applied: i64,
    pub expected: i64,
}

/// What [`Store::release_dead_leases`] took back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReleasedLeases {
    pub builds: u64,
    pub events: u64,
}

/// Result of [`TemplateStore::add_template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddTemplate {
    Created(TemplateId),
    DraftNotFound,
    LimitReached,
}

/// Re-exported so callers need not depend on the core crate for manifests.
pub type PackageManifest = Manifest;

#[cfg(test)]
mod tests {
    #[test]
    fn the_slotted_states_of_sql_are_those_of_package_state() {
        use smartship_core::lifecycle::PackageState;
        let mut from_core: Vec<String> = PackageState::ALL
            .into_iter()
            .filter(|s| s.slot().is_some())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        let mut in_sql: Vec<String> = slotted_states_sql!()
            .trim_matches(|c| c == '(' || c == ')')
            .split(',')
            .map(str::to_owned)
            .collect();
        from_core.sort();
        in_sql.sort();
        assert_eq!(from_core, in_sql);
    }

    #[tokio::test]
    async fn open_picks_the_backend_from_the_url_and_never_prints_a_password() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("t.db").display());
        let store = super::open(&url).await.unwrap();
        assert_eq!(store.get_meta("nothing").await.unwrap(), None);
        let err = match super::open("mysql://root:secret@127.0.0.1/x").await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("mysql: opened"),
        };
        assert!(err.contains("\"mysql\""), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }
}
