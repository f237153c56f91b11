//! Fleet operations: one template version to many apps.
//!
//! [`upgrade`] drives every app of an apps file through upload → build →
//! submit → audit → release with bounded concurrency. It is **idempotent
//! and resumable**: each step starts by reading the app's packages from the
//! server (`package/get`) and acts on what it sees, so an app already at the
//! version is not uploaded again and a package already under audit is never
//! submitted twice, even after the process was killed between a call and
//! its journal line. The state file ([`journal`]) lets a rerun skip apps
//! that finished and keeps refreshed tokens safe.
//!
//! ```no_run
//! # async fn demo() -> Result<(), String> {
//! use smartship_client::OpenApiClient;
//! use smartship_client::fleet::{self, Progress, UpgradeOptions};
//! use std::sync::Arc;
//! let tp = OpenApiClient::new("http://127.0.0.1:8080", "TP_TOKEN");
//! let apps = fleet::load_apps("apps.json".as_ref())?;
//! let options = UpgradeOptions::new(7, "2.0.0").release(true);
//! let progress = Arc::new(Progress::new(apps.len()));
//! let report = fleet::upgrade(&tp, apps, &options, "fleet.state".as_ref(), progress).await?;
//! for app in report.apps.iter().filter(|a| a.outcome == Some(fleet::Outcome::Failed)) {
//!     println!("{}: {}", app.app, app.reason.as_deref().unwrap_or(""));
//! }
//! # Ok(()) }
//! ```

mod apps;
/// The state file: an append-only JSON-lines journal of a run.
pub mod journal;
mod next_step;
mod progress;
mod report;

pub use apps::{FleetApp, load_apps, merge_patch, parse_apps};
pub use journal::AppRecord;
pub use progress::{Progress, ProgressSnapshot};
pub use report::FleetReport;

use crate::session::{AppSession, StoredTokens};
use crate::{Error, OpenApiClient, PackageSelector};
use journal::{Header, Journal};
use next_step::{Goal, Memory, Step, next_step};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use smartship_api::ErrorCode;
use smartship_api::package::PackageStatus;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Where an app is in its run.
///
/// ```
/// use smartship_client::fleet::Stage;
/// // Serialized as in reports and state files.
/// assert_eq!(serde_json::to_string(&Stage::RollingBack).unwrap(), r#""rolling_back""#);
/// assert_eq!(serde_json::from_str::<Stage>(r#""auditing""#).unwrap(), Stage::Auditing);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Not started.
    Queued,
    /// `package/upload` is being called.
    Uploading,
    /// Waiting for the asynchronous build.
    Building,
    /// Checking quota and calling `package/submitaudit`.
    Submitting,
    /// Under audit, waiting for the result.
    Auditing,
    /// Calling `package/release`.
    Releasing,
    /// Calling `package/rollback` (`fleet rollback`).
    RollingBack,
    /// Has an outcome.
    Done,
}

impl Stage {
    /// Every stage, in pipeline order.
    ///
    /// ```
    /// use smartship_client::fleet::Stage;
    /// assert_eq!(Stage::ALL.first(), Some(&Stage::Queued));
    /// assert_eq!(Stage::ALL.last(), Some(&Stage::Done));
    /// ```
    pub const ALL: [Stage; 8] = [
        Stage::Queued,
        Stage::Uploading,
        Stage::Building,
        Stage::Submitting,
        Stage::Auditing,
        Stage::Releasing,
        Stage::RollingBack,
        Stage::Done,
    ];

    /// The name used in reports and the progress line.
    ///
    /// ```
    /// assert_eq!(smartship_client::fleet::Stage::RollingBack.as_str(), "rolling_back");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Queued => "queued",
            Stage::Uploading => "uploading",
            Stage::Building => "building",
            Stage::Submitting => "submitting",
            Stage::Auditing => "auditing",
            Stage::Releasing => "releasing",
            Stage::RollingBack => "rolling_back",
            Stage::Done => "done",
        }
    }
}

/// How an app's run ended.
///
/// ```
/// use smartship_client::fleet::Outcome;
/// assert_eq!(serde_json::to_string(&Outcome::RolledBack).unwrap(), r#""rolled_back""#);
/// assert_eq!(serde_json::from_str::<Outcome>(r#""released""#).unwrap(), Outcome::Released);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Online at the version.
    Released,
    /// Released to a share of the app's users (`--gray`): a phased
    /// release of the version is live; a rerun with a higher share raises it.
    Grayed,
    /// Audit passed; not released (no `--release`).
    Passed,
    /// Under audit when the run stopped waiting (no `--wait-audit`, or the
    /// audit timeout passed); a rerun continues.
    Submitted,
    /// Built; not submitted (no `--submit`).
    Built,
    /// Rolled back by `fleet rollback`.
    RolledBack,
    /// Not attempted: audit quota kept, or the app changed under the run.
    Skipped,
    /// Stopped with an error: build failed, audit rejected, a call refused.
    Failed,
}

impl Outcome {
    /// Every outcome, in report order.
    ///
    /// ```
    /// use smartship_client::fleet::Outcome;
    /// let names: Vec<_> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
    /// assert_eq!(names, ["released", "grayed", "passed", "submitted", "built", "rolled_back", "skipped", "failed"]);
    /// ```
    pub const ALL: [Outcome; 8] = [
        Outcome::Released,
        Outcome::Grayed,
        Outcome::Passed,
        Outcome::Submitted,
        Outcome::Built,
        Outcome::RolledBack,
        Outcome::Skipped,
        Outcome::Failed,
    ];

    /// The name used in reports.
    ///
    /// ```
    /// assert_eq!(smartship_client::fleet::Outcome::RolledBack.as_str(), "rolled_back");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Released => "released",
            Outcome::Grayed => "grayed",
            Outcome::Passed => "passed",
            Outcome::Submitted => "submitted",
            Outcome::Built => "built",
            Outcome::RolledBack => "rolled_back",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }

    /// Failed or skipped: a rerun with `retry_failed` tries again.
    ///
    /// ```
    /// use smartship_client::fleet::Outcome;
    /// assert!(Outcome::Failed.is_failure() && Outcome::Skipped.is_failure());
    /// assert!(!Outcome::Submitted.is_failure());
    /// ```
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::Skipped)
    }
}

/// Called with every record a fleet run journals.
///
/// ```
/// use smartship_client::fleet::{AppRecord, RecordHook, UpgradeOptions};
/// use std::sync::Arc;
/// let log: RecordHook = Arc::new(|r: &AppRecord| println!("app {}: {}", r.app, r.stage.as_str()));
/// let mut options = UpgradeOptions::new(7, "2.0.0");
/// options.on_record = Some(log);
/// # assert!(options.on_record.is_some());
/// ```
pub type RecordHook = Arc<dyn Fn(&AppRecord) + Send + Sync>;

/// What an upgrade does.
///
/// ```
/// use smartship_client::fleet::UpgradeOptions;
/// let o = UpgradeOptions::new(7, "2.0.0").release(true).concurrency(32);
/// assert!(o.submit && o.wait_audit && o.release);
/// ```
#[derive(Clone)]
pub struct UpgradeOptions {
    /// Template every app is upgraded from.
    pub template_id: i64,
    /// `user_version` of the new packages.
    pub version: String,
    /// `user_desc` of the new packages.
    pub description: String,
    /// `ext_json` of every app before its own overrides.
    pub base_ext_json: Value,
    /// Submit each built package for audit.
    pub submit: bool,
    /// Wait for each audit's result.
    pub wait_audit: bool,
    /// Release each passed package.
    pub release: bool,
    /// Release to this share of each app's users (a phased release; 100
    /// releases to all) instead of to everyone at once.
    pub gray_percentage: Option<u8>,
    /// `content` of the submissions.
    pub audit_content: String,
    /// `remark` of the submissions.
    pub audit_remark: String,
    /// Apps driven at once (apps waiting for a reviewer do not count).
    pub concurrency: usize,
    /// Stop starting apps after the first failure.
    pub stop_on_failure: bool,
    /// Leave this many audit submissions of the week unused per app.
    pub keep_quota: i64,
    /// Apps that failed or were skipped in an earlier run are tried again
    /// from a fresh upload.
    pub retry_failed: bool,
    /// Time between checks of a build.
    pub build_poll: Duration,
    /// Wait before the first check of an audit; each later check waits
    /// twice as long, up to a minute.
    pub audit_poll: Duration,
    /// A build taking longer fails the app.
    pub build_timeout: Duration,
    /// Stop waiting for an audit after this long (outcome `submitted`).
    pub audit_timeout: Option<Duration>,
    /// Called with every record as it is journaled (log lines, custom UIs).
    pub on_record: Option<RecordHook>,
}

impl std::fmt::Debug for UpgradeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpgradeOptions")
            .field("template_id", &self.template_id)
            .field("version", &self.version)
            .field("submit", &self.submit)
            .field("wait_audit", &self.wait_audit)
            .field("release", &self.release)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl UpgradeOptions {
    /// What [`next_step`] needs of the options.
    fn goal(&self) -> Goal {
        Goal {
            version: self.version.clone(),
            submit: self.submit,
            wait_audit: self.wait_audit,
            release: self.release,
            gray_percentage: self.gray_percentage,
            build_timeout: self.build_timeout,
            audit_timeout: self.audit_timeout,
        }
    }

    /// Upload and build only, 16 apps at a time, `ext_json` `{"extEnable": true}`.
    ///
    /// ```
    /// let o = smartship_client::fleet::UpgradeOptions::new(7, "2.0.0");
    /// assert!(!o.submit && !o.release);
    /// assert_eq!(o.concurrency, 16);
    /// ```
    pub fn new(template_id: i64, version: impl Into<String>) -> UpgradeOptions {
        let version = version.into();
        UpgradeOptions {
            template_id,
            description: format!("fleet upgrade to {version}"),
            version,
            base_ext_json: json!({"extEnable": true}),
            submit: false,
            wait_audit: false,
            release: false,
            gray_percentage: None,
            audit_content: "fleet upgrade".to_owned(),
            audit_remark: String::new(),
            concurrency: 16,
            stop_on_failure: false,
            keep_quota: 0,
            retry_failed: false,
            build_poll: Duration::from_millis(200),
            audit_poll: Duration::from_secs(1),
            build_timeout: Duration::from_secs(600),
            audit_timeout: None,
            on_record: None,
        }
    }

    /// Release each passed package to `percentage` of its users (a phased
    /// release; implies `release`). A rerun with a higher percentage raises
    /// every app's plan; 100 releases to everyone.
    ///
    /// ```
    /// let o = smartship_client::fleet::UpgradeOptions::new(7, "2.0.0").gray(10);
    /// assert!(o.release && o.gray_percentage == Some(10));
    /// ```
    pub fn gray(mut self, percentage: u8) -> UpgradeOptions {
        self.gray_percentage = Some(percentage);
        self.release(true)
    }

    /// Release each passed package (implies submit and wait for the audit).
    ///
    /// ```
    /// let o = smartship_client::fleet::UpgradeOptions::new(1, "v").release(true);
    /// assert!(o.submit && o.wait_audit);
    /// ```
    pub fn release(mut self, yes: bool) -> UpgradeOptions {
        self.release = yes;
        if yes {
            self.submit = true;
            self.wait_audit = true;
        }
        self
    }

    /// Apps driven at once (at least 1).
    ///
    /// ```
    /// let o = smartship_client::fleet::UpgradeOptions::new(1, "v").concurrency(0);
    /// assert_eq!(o.concurrency, 1);
    /// ```
    pub fn concurrency(mut self, n: usize) -> UpgradeOptions {
        self.concurrency = n.max(1);
        self
    }

    /// The outcome an app reaches when everything goes right.
    /// The outcome the flags ask for: an app that ends anywhere before it
    /// stopped short ([`reached`]).
    pub fn target(&self) -> Outcome {
        match (self.submit, self.wait_audit, self.release) {
            (_, _, true) if self.gray_percentage.is_some_and(|p| p < 100) => Outcome::Grayed,
            (_, _, true) => Outcome::Released,
            (true, true, false) => Outcome::Passed,
            (true, false, false) => Outcome::Submitted,
            _ => Outcome::Built,
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Shared by every app's driver.
struct Run {
    tp: OpenApiClient,
    journal: Arc<Journal>,
    progress: Arc<Progress>,
    options: UpgradeOptions,
    /// Apps in the upload → build → submit pipeline.
    active: Arc<Semaphore>,
    /// Audit checks (and releases) in flight.
    polls: Semaphore,
    stop: Arc<AtomicBool>,
}

/// Audit checks back off to this interval.
const MAX_AUDIT_POLL: Duration = Duration::from_secs(60);

/// How many times an app re-reads its packages after a submit or release
/// refused for the package's state (47002) before that refusal is its
/// outcome.
const STATE_CONFLICT_REREADS: u32 = 3;

/// How many times an app reads its packages again after the way to the
/// server failed (no answer, a 5xx without one, a rate limit) before that
/// failure is its outcome. Behind a load balancer, a node that goes away
/// takes the requests it was answering with it; the next try reaches
/// another node.
const TRANSIENT_REREADS: u32 = 6;

/// How long an app whose earlier run was cut off while uploading waits for
/// that upload to land before uploading again.
const CUT_OFF_UPLOAD_SETTLE: Duration = Duration::from_secs(2);

/// One app's driver: its session and where it is.
struct Driver<'a> {
    run: &'a Run,
    app: FleetApp,
    session: AppSession,
    stage: Stage,
    package_id: Option<i64>,
    /// What the run remembers of the app for [`next_step`].
    memory: Memory,
    /// Submits and releases refused for the package's state so far.
    state_conflicts: u32,
    /// Calls that got no answer so far.
    transient_failures: u32,
}

fn error_code(e: &Error) -> Option<i64> {
    match e {
        Error::Business { errno, .. } => Some(*errno),
        Error::Gateway { code, .. } => Some(*code),
        _ => None,
    }
}

/// Why the loop ended for now.
enum Exit {
    Done(AppRecord),
    /// Stopped by `stop_on_failure` or an interrupt; resumable.
    Stopped,
}

impl Driver<'_> {
    fn record(
        &self,
        outcome: Option<Outcome>,
        reason: Option<String>,
        code: Option<i64>,
    ) -> AppRecord {
        AppRecord {
            app: self.app.app_id,
            stage: if outcome.is_some() {
                Stage::Done
            } else {
                self.stage
            },
            outcome,
            package_id: self.package_id,
            reason,
            code,
            at: now_ms(),
        }
    }

    fn journal(&self, record: &AppRecord) {
        if let Err(e) = self.run.journal.record(record) {
            // The server is the source of truth; a lost progress line only
            // costs a re-check on resume.
            eprintln!("warning: state file write failed: {e}");
        }
        if let Some(f) = &self.run.options.on_record {
            f(record);
        }
    }

    fn enter(&mut self, stage: Stage) {
        if self.stage != stage {
            self.run.progress.moved(self.app.app_id, self.stage, stage);
            self.stage = stage;
            self.journal(&self.record(None, None, None));
        }
    }

    fn finish(&mut self, outcome: Outcome, reason: Option<String>, code: Option<i64>) -> Exit {
        Exit::Done(self.finish_record(outcome, reason, code))
    }

    fn fail(&mut self, e: &Error) -> Exit {
        Exit::Done(self.fail_record(e))
    }

    fn finish_record(
        &mut self,
        outcome: Outcome,
        reason: Option<String>,
        code: Option<i64>,
    ) -> AppRecord {
        // Failures keep the stage they happened in.
        let mut record = self.record(Some(outcome), reason, code);
        if outcome.is_failure() {
            record.stage = self.stage;
        }
        self.run.progress.finished(self.stage, &record, false);
        self.journal(&record);
        if outcome == Outcome::Failed && self.run.options.stop_on_failure {
            self.run.stop.store(true, Ordering::Relaxed);
        }
        record
    }

    fn fail_record(&mut self, e: &Error) -> AppRecord {
        let reason = if e.is_token_refused() && self.run.tp.token().is_empty() {
            format!("{e}; refreshing the app token needs the TP token (--token)")
        } else {
            e.to_string()
        };
        self.finish_record(Outcome::Failed, Some(reason), error_code(e))
    }

    fn ext_json(&self) -> Value {
        let mut ext = self.run.options.base_ext_json.clone();
        if let Some(patch) = &self.app.ext_json {
            merge_patch(&mut ext, patch);
        }
        if let Value::Object(map) = &mut ext {
            map.entry("extAppid")
                .or_insert_with(|| Value::from(self.app.app_id));
        }
        ext
    }

    /// Drives the app from the pipeline slot it was started with: reads
    /// its packages, asks [`next_step`] what to do, does it, and again.
    async fn drive(&mut self, first_slot: OwnedSemaphorePermit) -> Exit {
        let run = self.run;
        let o = &run.options;
        let goal = o.goal();
        // A slot of the pipeline (upload, build, submit) is held while the
        // app moves through it; an app waiting for its audit gives the slot
        // up and checks back under a separate bound, less often each time,
        // so that a long human review neither blocks the pipeline nor floods
        // the server with polls.
        let mut slot = Some(first_slot);
        let mut waiting_audit = false;
        let mut audit_delay = o.audit_poll;
        loop {
            if self.run.stop.load(Ordering::Relaxed) {
                return Exit::Stopped;
            }
            let _poll = if waiting_audit {
                Some(run.polls.acquire().await.expect("never closed"))
            } else {
                if slot.is_none() {
                    slot = Some(
                        run.active
                            .clone()
                            .acquire_owned()
                            .await
                            .expect("never closed"),
                    );
                }
                None
            };
            // The wait for a slot may have outlasted a stop.
            if self.run.stop.load(Ordering::Relaxed) {
                return Exit::Stopped;
            }
            let packages = match self.session.package_list().await {
                Ok(p) => p,
                Err(e) if self.transient(&e).await => continue,
                Err(e) => return self.fail(&e),
            };
            let seen = next_step::seen(packages, &o.version, self.memory.superseded);
            let next = next_step(seen, &mut self.memory, &goal, Instant::now());
            if next.package_id.is_some() {
                self.package_id = next.package_id;
            }
            if let Some(stage) = next.stage {
                self.enter(stage);
            }
            match next.step {
                Step::Finish {
                    outcome,
                    reason,
                    code,
                } => return self.finish(outcome, reason, code),
                Step::Upload => {
                    if let Some(exit) = self.upload_step().await {
                        return exit;
                    }
                }
                Step::Submit(package) => {
                    if let Some(exit) = self.submit_step(package).await {
                        return exit;
                    }
                }
                Step::Release(package) => {
                    if let Err(e) = self
                        .session
                        .call(|c| async move { c.package_release(package).await })
                        .await
                        && !self.state_changed_meanwhile(&e)
                        && !self.transient(&e).await
                    {
                        return self.fail(&e);
                    }
                }
                Step::Gray {
                    package,
                    percentage,
                } => {
                    if let Some(exit) = self.gray_step(package, percentage).await {
                        return exit;
                    }
                }
                Step::WaitBuild => tokio::time::sleep(o.build_poll).await,
                Step::WaitAudit => {
                    slot = None;
                    waiting_audit = true;
                    drop(_poll);
                    // Never past the timeout: it is honoured to within a
                    // poll's round trip, not a backoff.
                    let since = self.memory.audit_started.unwrap_or_else(Instant::now);
                    let left = o.audit_timeout.map_or(audit_delay, |limit| {
                        limit.saturating_sub(since.elapsed()) + Duration::from_millis(50)
                    });
                    tokio::time::sleep(audit_delay.min(left)).await;
                    audit_delay = (audit_delay * 2).min(MAX_AUDIT_POLL.max(o.audit_poll));
                }
                Step::Settle => tokio::time::sleep(CUT_OFF_UPLOAD_SETTLE).await,
            }
        }
    }

    /// Starts or raises the package's phased release; at 100 % it is
    /// released (the next read sees it online).
    async fn gray_step(&mut self, package: i64, percentage: u8) -> Option<Exit> {
        match self
            .session
            .call(|c| async move { c.gray_release(package, percentage, &[], None).await })
            .await
        {
            Ok(_) if percentage >= 100 => None,
            Ok(plan) => {
                let at = plan.gray_percentage.unwrap_or(i64::from(percentage));
                let reason = format!("gray release at {at}%");
                Some(self.finish(Outcome::Grayed, Some(reason), None))
            }
            // An earlier run took it this far or further.
            Err(e) if e.business_code() == Some(ErrorCode::GrayPercentageNotIncreasing) => {
                let reason = format!("gray release already at {percentage}% or more");
                Some(self.finish(Outcome::Grayed, Some(reason), None))
            }
            Err(e) if !self.state_changed_meanwhile(&e) && !self.transient(&e).await => {
                Some(self.fail(&e))
            }
            Err(_) => None,
        }
    }

    async fn upload_step(&mut self) -> Option<Exit> {
        self.enter(Stage::Uploading);
        let ext = self.ext_json();
        let run = self.run;
        let o = &run.options;
        let result = self
            .session
            .call(|c| {
                let ext = &ext;
                async move {
                    c.package_upload(o.template_id, ext, &o.version, &o.description)
                        .await
                }
            })
            .await;
        self.memory.uploaded = true;
        match result {
            Ok(()) => {
                self.enter(Stage::Building);
                None
            }
            // The upload may or may not have reached the database: read
            // again, after a moment for it to land, before uploading again.
            Err(e) if self.transient(&e).await => {
                self.memory.uploaded = false;
                self.memory.cut_off_upload = true;
                None
            }
            Err(e) => Some(self.fail(&e)),
        }
    }

    async fn submit_step(&mut self, package_id: i64) -> Option<Exit> {
        self.enter(Stage::Submitting);
        let run = self.run;
        let o = &run.options;
        let quota = match self
            .session
            .call(|c| async move { c.audit_quota().await })
            .await
        {
            Ok(q) => q,
            Err(e) if self.transient(&e).await => return None,
            Err(e) => return Some(self.fail(&e)),
        };
        // remain_times -1: unlimited.
        if quota.remain_times >= 0 && quota.remain_times <= o.keep_quota {
            return Some(self.finish(
                Outcome::Skipped,
                Some(format!(
                    "audit quota: {} submission(s) left this week, {} kept",
                    quota.remain_times, o.keep_quota
                )),
                None,
            ));
        }
        let result = self
            .session
            .call(|c| async move {
                c.package_submit_audit(package_id, &o.audit_content, &o.audit_remark)
                    .await
            })
            .await;
        match result {
            Ok(()) => {
                self.enter(Stage::Auditing);
                None
            }
            Err(e) if e.business_code() == Some(ErrorCode::AuditQuotaExhausted) => {
                Some(self.finish(Outcome::Skipped, Some(e.to_string()), error_code(&e)))
            }
            Err(e) if self.state_changed_meanwhile(&e) => None,
            Err(e) if self.transient(&e).await => None,
            Err(e) => Some(self.fail(&e)),
        }
    }

    /// Whether `e` is a failure of the way to the server rather than an
    /// answer (see [`TRANSIENT_REREADS`]): after a pause, growing with each
    /// such failure, the driver reads the app's packages again and acts on
    /// what it sees, since a write that got no answer may or may not have
    /// happened. Bounded, so that a server that stays away ends as a
    /// failure.
    async fn transient(&mut self, e: &Error) -> bool {
        if !e.is_retryable() || self.transient_failures >= TRANSIENT_REREADS {
            return false;
        }
        self.transient_failures += 1;
        let pause = Duration::from_millis(100 << self.transient_failures.min(5));
        tokio::time::sleep(pause).await;
        true
    }

    /// Whether `e` says the package moved since it was read — the request
    /// of an interrupted earlier run that the server finished after this run
    /// looked, or an operator acting on the app — so that the driver should
    /// read again and act on what it sees now. Bounded, so that a package
    /// stuck in a refusing state still ends as a failure.
    fn state_changed_meanwhile(&mut self, e: &Error) -> bool {
        if e.business_code() != Some(ErrorCode::WrongPackageState)
            || self.state_conflicts >= STATE_CONFLICT_REREADS
        {
            return false;
        }
        self.state_conflicts += 1;
        true
    }
}

/// Opens (or resumes) the state file of a run, checking it belongs to it.
fn open_state(
    state: &Path,
    header: &Header,
    apps: &[FleetApp],
) -> Result<(Arc<Journal>, journal::Replayed), String> {
    let replayed = journal::replay(state)
        .map_err(|e| format!("cannot read state file {}: {e}", state.display()))?;
    if let Some(h) = &replayed.header {
        if h.template_id != header.template_id || h.version != header.version {
            return Err(format!(
                "state file {} belongs to another run (template {} version {}); choose another --state",
                state.display(),
                h.template_id,
                h.version
            ));
        }
        if let (Some(was), Some(now)) = (&h.server, &header.server)
            && was != now
        {
            return Err(format!(
                "state file {} belongs to a run against {was}, not {now}; choose another --state",
                state.display()
            ));
        }
        if let (Some(was), Some(now)) = (&h.apps, &header.apps)
            && was != now
        {
            let count = |id: &str| id.rsplit(':').next().unwrap_or("?").to_owned();
            return Err(format!(
                "state file {} belongs to a run over another apps file ({} apps; this one has {}); \
                 choose another --state",
                state.display(),
                count(was),
                count(now)
            ));
        }
    }
    let mut tokens = HashMap::new();
    for a in apps {
        let from_file = StoredTokens {
            access_token: a.access_token.clone().unwrap_or_default(),
            refresh_token: a.refresh_token.clone().unwrap_or_default(),
            // No access token: expired, so the first call refreshes.
            expires_at: if a.access_token.is_some() {
                now_ms() / 1000 + a.expires_in.unwrap_or(3600)
            } else {
                0
            },
        };
        // Tokens refreshed by an earlier run replace the file's (which are spent).
        let t = replayed.tokens.get(&a.app_id).cloned().unwrap_or(from_file);
        tokens.insert(a.app_id, t);
    }
    let journal = Journal::open(state, header, tokens)
        .map_err(|e| format!("cannot write state file {}: {e}", state.display()))?;
    Ok((Arc::new(journal), replayed))
}

/// What a run's apps are, for its state file's header: the SHA-256 of
/// their sorted, deduplicated ids and their number (`hex:N`). Tokens are
/// left out: they change with every refresh.
pub fn apps_identity(apps: &[FleetApp]) -> String {
    use sha2::{Digest, Sha256};
    let mut ids: Vec<i64> = apps.iter().map(|a| a.app_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut h = Sha256::new();
    for id in &ids {
        h.update(id.to_string().as_bytes());
        h.update(b"\n");
    }
    format!("{}:{}", hex::encode(h.finalize()), ids.len())
}

/// Upgrades every app to `options.version` of `options.template_id`.
///
/// `tp` carries the TP token (used only to refresh app tokens; may be empty
/// when every app's access token is valid). Returns the report of every app;
/// an `Err` means the run could not start (unreadable or foreign state file).
///
/// ```no_run
/// # async fn demo() -> Result<(), String> {
/// use smartship_client::OpenApiClient;
/// use smartship_client::fleet::{self, Progress, UpgradeOptions};
/// use std::sync::Arc;
/// let tp = OpenApiClient::new("http://127.0.0.1:8080", "TP_TOKEN");
/// let apps = fleet::load_apps("apps.json".as_ref())?;
/// let progress = Arc::new(Progress::new(apps.len()));
/// let options = UpgradeOptions::new(7, "2.0.0");
/// let report = fleet::upgrade(&tp, apps, &options, "fleet.state".as_ref(), progress).await?;
/// println!("{}", report.summary());
/// # Ok(()) }
/// ```
pub async fn upgrade(
    tp: &OpenApiClient,
    apps: Vec<FleetApp>,
    options: &UpgradeOptions,
    state: &Path,
    progress: Arc<Progress>,
) -> Result<FleetReport, String> {
    upgrade_until(
        tp,
        apps,
        options,
        state,
        progress,
        Arc::new(AtomicBool::new(false)),
    )
    .await
}

/// [`upgrade`] with a stop flag: once it is set (Ctrl-C), no app takes
/// another step and the run returns with those apps unfinished (a rerun
/// continues them).
///
/// ```no_run
/// # async fn demo() -> Result<(), String> {
/// use smartship_client::OpenApiClient;
/// use smartship_client::fleet::{self, Progress, UpgradeOptions};
/// use std::sync::{Arc, atomic::{AtomicBool, Ordering}};
/// let tp = OpenApiClient::new("http://127.0.0.1:8080", "TP_TOKEN");
/// let apps = fleet::load_apps("apps.json".as_ref())?;
/// let progress = Arc::new(Progress::new(apps.len()));
/// let stop = Arc::new(AtomicBool::new(false));
/// let flag = stop.clone();
/// tokio::spawn(async move { tokio::signal::ctrl_c().await.ok(); flag.store(true, Ordering::Relaxed) });
/// let options = UpgradeOptions::new(7, "2.0.0");
/// let report = fleet::upgrade_until(&tp, apps, &options, "fleet.state".as_ref(), progress, stop).await?;
/// println!("{} unfinished", report.unfinished());
/// # Ok(()) }
/// ```
pub async fn upgrade_until(
    tp: &OpenApiClient,
    apps: Vec<FleetApp>,
    options: &UpgradeOptions,
    state: &Path,
    progress: Arc<Progress>,
    stop: Arc<AtomicBool>,
) -> Result<FleetReport, String> {
    let header = Header {
        kind: "fleet".to_owned(),
        template_id: options.template_id,
        version: options.version.clone(),
        server: Some(tp.base_url().to_owned()),
        apps: Some(apps_identity(&apps)),
    };
    let (journal, replayed) = open_state(state, &header, &apps)?;
    let run = Arc::new(Run {
        tp: tp.clone(),
        journal: journal.clone(),
        progress: progress.clone(),
        options: options.clone(),
        active: Arc::new(Semaphore::new(options.concurrency.max(1))),
        polls: Semaphore::new(options.concurrency.max(1)),
        stop,
    });
    progress.restart_clock();
    let target = options.target();
    let mut tasks = tokio::task::JoinSet::new();
    let mut finished_before = Vec::new();
    for app in apps {
        let earlier = replayed.apps.get(&app.app_id).cloned();
        let mut redo = false;
        if let Some(r) = &earlier
            && let Some(outcome) = r.outcome
        {
            let retry = outcome.is_failure() && options.retry_failed;
            // An earlier run that went further than this one asks is done
            // too; a phased release is driven again (this run may raise it).
            let reached = !outcome.is_failure()
                && outcome_rank(outcome) <= outcome_rank(target)
                && !(outcome == Outcome::Grayed && options.gray_percentage.is_some());
            if !retry && (outcome.is_failure() || reached) {
                progress.finished(Stage::Queued, r, true);
                finished_before.push(r.clone());
                continue;
            }
            redo = retry;
        }
        // Apps start in the order of the apps file: the slot is taken here,
        // before the driver exists.
        let first_slot = run
            .active
            .clone()
            .acquire_owned()
            .await
            .expect("never closed");
        if run.stop.load(Ordering::Relaxed) {
            finished_before.push(AppRecord {
                app: app.app_id,
                stage: Stage::Queued,
                outcome: None,
                package_id: earlier.and_then(|r| r.package_id),
                reason: Some("stopped".to_owned()),
                code: None,
                at: now_ms(),
            });
            continue;
        }
        let cut_off_upload = earlier
            .as_ref()
            .is_some_and(|r| r.outcome.is_none() && r.stage == Stage::Uploading);
        let run = run.clone();
        tasks.spawn(async move {
            let session = AppSession::with_tp_client(&run.tp, app.app_id, run.journal.clone());
            let mut driver = Driver {
                run: &run,
                session,
                stage: Stage::Queued,
                package_id: earlier.as_ref().and_then(|r| r.package_id),
                memory: Memory {
                    redo,
                    cut_off_upload,
                    ..Memory::default()
                },
                state_conflicts: 0,
                transient_failures: 0,
                app,
            };
            match driver.drive(first_slot).await {
                Exit::Done(r) => r,
                Exit::Stopped => driver.record(None, Some("stopped".to_owned()), None),
            }
        });
    }
    let mut records = finished_before;
    while let Some(joined) = tasks.join_next().await {
        records.push(joined.map_err(|e| format!("an app's driver panicked: {e}"))?);
    }
    records.sort_by_key(|r| r.app);
    Ok(FleetReport::new(records))
}

/// Lower is further along the pipeline.
/// Whether `outcome` is `target` or beyond it (`released` is beyond
/// `passed`, which is beyond `submitted`...); a failure reaches nothing.
pub fn reached(outcome: Outcome, target: Outcome) -> bool {
    !outcome.is_failure() && outcome_rank(outcome) <= outcome_rank(target)
}

fn outcome_rank(o: Outcome) -> u8 {
    match o {
        Outcome::Released | Outcome::RolledBack => 0,
        Outcome::Grayed => 1,
        Outcome::Passed => 2,
        Outcome::Submitted => 3,
        Outcome::Built => 4,
        Outcome::Skipped | Outcome::Failed => 5,
    }
}

/// The report of a state file as it stands, without calling the server.
///
/// ```
/// use smartship_client::fleet::{self, Outcome};
/// let path = std::env::temp_dir().join(format!("status-doc-{}.state", std::process::id()));
/// std::fs::write(&path, concat!(
///     r#"{"kind":"fleet","template_id":7,"version":"2.0.0"}"#, "\n",
///     r#"{"app":42,"stage":"done","outcome":"released","package_id":420,"at":1}"#, "\n",
/// )).unwrap();
/// let (header, report) = fleet::status(&path).unwrap();
/// assert_eq!(header.unwrap().version, "2.0.0");
/// assert_eq!(report.count(Outcome::Released), 1);
/// std::fs::remove_file(&path).unwrap();
/// ```
pub fn status(state: &Path) -> Result<(Option<journal::Header>, FleetReport), String> {
    let replayed = journal::replay(state)
        .map_err(|e| format!("cannot read state file {}: {e}", state.display()))?;
    if replayed.header.is_none() {
        return Err(format!("{} is not a fleet state file", state.display()));
    }
    let mut records: Vec<AppRecord> = replayed.apps.into_values().collect();
    records.sort_by_key(|r| r.app);
    Ok((replayed.header, FleetReport::new(records)))
}

/// Rolls back every app the run of `state` released, if that package is
/// still the online one. Apps whose online package changed since are
/// skipped with the reason.
///
/// ```no_run
/// # async fn demo() -> Result<(), String> {
/// use smartship_client::OpenApiClient;
/// use smartship_client::fleet::{self, Progress};
/// use std::sync::Arc;
/// let tp = OpenApiClient::new("http://127.0.0.1:8080", "TP_TOKEN");
/// let apps = fleet::load_apps("apps.json".as_ref())?;
/// let progress = Arc::new(Progress::new(apps.len()));
/// let report = fleet::rollback(&tp, apps, "fleet.state".as_ref(), 8, progress).await?;
/// println!("{}", report.summary());
/// # Ok(()) }
/// ```
pub async fn rollback(
    tp: &OpenApiClient,
    apps: Vec<FleetApp>,
    state: &Path,
    concurrency: usize,
    progress: Arc<Progress>,
) -> Result<FleetReport, String> {
    let (header, report) = status(state)?;
    let header = header.expect("status checks the header");
    let (journal, _) = open_state(state, &header, &apps)?;
    let released: HashMap<i64, i64> = report
        .apps
        .iter()
        .filter(|r| r.outcome == Some(Outcome::Released))
        .filter_map(|r| r.package_id.map(|p| (r.app, p)))
        .collect();
    // Rolled back by an earlier `fleet rollback` of this state file: done.
    let rolled_back: HashMap<i64, AppRecord> = report
        .apps
        .iter()
        .filter(|r| r.outcome == Some(Outcome::RolledBack))
        .map(|r| (r.app, r.clone()))
        .collect();
    let options = UpgradeOptions::new(header.template_id, header.version.clone());
    let run = Arc::new(Run {
        tp: tp.clone(),
        journal: journal.clone(),
        progress: progress.clone(),
        options,
        active: Arc::new(Semaphore::new(concurrency.max(1))),
        polls: Semaphore::new(1),
        stop: Arc::new(AtomicBool::new(false)),
    });
    progress.restart_clock();
    let mut tasks = tokio::task::JoinSet::new();
    for app in apps {
        if let Some(r) = rolled_back.get(&app.app_id).cloned() {
            progress.finished(Stage::Queued, &r, true);
            tasks.spawn(async move { r });
            continue;
        }
        let Some(&package_id) = released.get(&app.app_id) else {
            let r = AppRecord {
                app: app.app_id,
                stage: Stage::Done,
                outcome: Some(Outcome::Skipped),
                package_id: None,
                reason: Some("not released by this run".to_owned()),
                code: None,
                at: now_ms(),
            };
            progress.finished(Stage::Queued, &r, false);
            tasks.spawn(async move { r });
            continue;
        };
        let run = run.clone();
        tasks.spawn(async move {
            let _slot = run
                .active
                .clone()
                .acquire_owned()
                .await
                .expect("never closed");
            let session = AppSession::with_tp_client(&run.tp, app.app_id, run.journal.clone());
            let mut d = Driver {
                run: &run,
                session,
                stage: Stage::Queued,
                package_id: Some(package_id),
                memory: Memory::default(),
                state_conflicts: 0,
                transient_failures: 0,
                app,
            };
            d.enter(Stage::RollingBack);
            let online = d
                .session
                .call(|c| async move { c.package_detail(PackageSelector::Online).await })
                .await;
            match online {
                Ok(p)
                    if p.package_id == package_id
                        && p.package_status() == Some(PackageStatus::Online) => {}
                Ok(p)
                    if p.package_id == package_id
                        && p.package_status() == Some(PackageStatus::RollingBack) =>
                {
                    return d.finish_record(
                        Outcome::RolledBack,
                        Some("already rolling back".to_owned()),
                        None,
                    );
                }
                Ok(p) => {
                    let reason = format!(
                        "online package is now {} ({}), not {package_id}",
                        p.package_id, p.version
                    );
                    return d.finish_record(Outcome::Skipped, Some(reason), None);
                }
                Err(e) => return d.fail_record(&e),
            }
            match d
                .session
                .call(|c| async move { c.package_rollback(package_id).await })
                .await
            {
                Ok(()) => d.finish_record(Outcome::RolledBack, None, None),
                Err(e) => d.fail_record(&e),
            }
        });
    }
    let mut records = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        records.push(joined.map_err(|e| format!("an app's driver panicked: {e}"))?);
    }
    records.sort_by_key(|r| r.app);
    Ok(FleetReport::new(records))
}
