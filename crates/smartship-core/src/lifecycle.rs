//! The package state machine of SPEC §4 and its slot rules.
//!
//! Per app there is at most one development package, one package in the audit
//! slot (under audit, audit failed or audit passed) and one online package
//! (online or rolling back), plus retired packages: earlier online versions
//! ([`PackageState::History`]) and packages that were replaced or rolled back.
//!
//! [`decide`] is a pure function from a snapshot of the app and an action to
//! the list of transitions that carry the action out. The store reads the
//! snapshot, calls [`decide`] and writes the result in one transaction, so the
//! rules live here and only here.

use crate::ids::PackageId;
use serde::{Deserialize, Serialize};

/// Where a package is in its life. Persisted by name (see [`PackageState::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageState {
    /// Wire status 3. Includes packages still building or whose build failed.
    Development,
    /// Wire status 4.
    Auditing,
    /// Wire status 5.
    AuditFailed,
    /// Wire status 6.
    AuditPassed,
    /// Wire status 1.
    Online,
    /// Wire status 8: a rollback was requested and takes effect after a delay.
    RollingBack,
    /// An earlier online version, kept as a rollback target.
    History,
    /// Replaced in its slot by a newer package (a new upload, a new submission,
    /// or a withdrawn package returning to development).
    Superseded,
    /// Was online and was rolled back.
    RolledBack,
}

impl PackageState {
    /// Every state, for exhaustive tests and DB checks.
    pub const ALL: [PackageState; 9] = [
        PackageState::Development,
        PackageState::Auditing,
        PackageState::AuditFailed,
        PackageState::AuditPassed,
        PackageState::Online,
        PackageState::RollingBack,
        PackageState::History,
        PackageState::Superseded,
        PackageState::RolledBack,
    ];

    /// The `status` shown on the wire; `None` for retired packages, which
    /// `package/get` does not list.
    pub const fn wire_status(self) -> Option<i64> {
        match self {
            PackageState::Online => Some(1),
            PackageState::Development => Some(3),
            PackageState::Auditing => Some(4),
            PackageState::AuditFailed => Some(5),
            PackageState::AuditPassed => Some(6),
            PackageState::RollingBack => Some(8),
            PackageState::History | PackageState::Superseded | PackageState::RolledBack => None,
        }
    }

    /// The state a wire status (`type` of getdetail) designates.
    pub fn from_wire_status(status: i64) -> Option<PackageState> {
        PackageState::ALL
            .into_iter()
            .find(|s| s.wire_status() == Some(status))
    }

    /// Stable name used in storage and the operator API.
    pub const fn as_str(self) -> &'static str {
        match self {
            PackageState::Development => "development",
            PackageState::Auditing => "auditing",
            PackageState::AuditFailed => "audit_failed",
            PackageState::AuditPassed => "audit_passed",
            PackageState::Online => "online",
            PackageState::RollingBack => "rolling_back",
            PackageState::History => "history",
            PackageState::Superseded => "superseded",
            PackageState::RolledBack => "rolled_back",
        }
    }

    pub fn parse(s: &str) -> Option<PackageState> {
        PackageState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The slot this state occupies, if any.
    pub const fn slot(self) -> Option<Slot> {
        match self {
            PackageState::Development => Some(Slot::Development),
            PackageState::Auditing | PackageState::AuditFailed | PackageState::AuditPassed => {
                Some(Slot::Audit)
            }
            PackageState::Online | PackageState::RollingBack => Some(Slot::Online),
            PackageState::History | PackageState::Superseded | PackageState::RolledBack => None,
        }
    }
}

/// The three per-app slots, each holding at most one package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    Development,
    Audit,
    Online,
}

/// Progress of the asynchronous build of a development package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildState {
    /// Wire upload_status 1.
    Building,
    /// Wire upload_status 3.
    Failed,
    /// Built; upload_status 2 on the development package.
    Built,
}

impl BuildState {
    pub const fn as_str(self) -> &'static str {
        match self {
            BuildState::Building => "building",
            BuildState::Failed => "failed",
            BuildState::Built => "built",
        }
    }

    pub fn parse(s: &str) -> Option<BuildState> {
        [BuildState::Building, BuildState::Failed, BuildState::Built]
            .into_iter()
            .find(|b| b.as_str() == s)
    }

    /// `upload_status` on the wire.
    pub const fn wire_status(self) -> i64 {
        match self {
            BuildState::Building => 1,
            BuildState::Built => 2,
            BuildState::Failed => 3,
        }
    }
}

/// What [`decide`] needs to know about one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageView {
    pub id: PackageId,
    pub state: PackageState,
    pub build: BuildState,
    pub version: String,
    /// Uploaded with `directCommit`: submitted for audit once built.
    pub direct_commit: bool,
}

/// What [`decide`] needs to know about an app. The store fills it inside the
/// transaction that applies the decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppSnapshot {
    /// The package named by the action, if it belongs to this app (in any state).
    pub target: Option<PackageView>,
    /// Packages currently in a slot (at most one per slot).
    pub slotted: Vec<PackageView>,
    /// The two most recent earlier online versions, newest first.
    pub history: Vec<PackageView>,
    pub basic_info_approved: bool,
    pub authenticity_verified: bool,
    /// Submissions left this period; `None` when unlimited.
    pub quota_remaining: Option<i64>,
    /// The package a live phased release (running or paused) holds.
    pub gray: Option<PackageId>,
    /// The package whose release is scheduled.
    pub scheduled: Option<PackageId>,
    /// When (Unix ms) that scheduled release is due.
    pub scheduled_at: Option<i64>,
    /// The version a rollback goes to: the package named by
    /// [`Action::RollbackTo`] (of this app, any state), or the target
    /// recorded on the package rolling back ([`Action::CompleteRollback`]).
    pub rollback_to: Option<PackageView>,
    /// How many earlier online versions are newer than `rollback_to`.
    pub newer_than_rollback_to: i64,
    /// Earlier online versions a rollback may return to; None: all.
    pub retained_versions: Option<i64>,
}

impl AppSnapshot {
    fn in_slot(&self, slot: Slot) -> Option<&PackageView> {
        self.slotted.iter().find(|p| p.state.slot() == Some(slot))
    }

    /// What deciding a [`Hold`] of the target package needs.
    pub fn hold(&self) -> HoldSnapshot {
        let target = self.target.as_ref();
        HoldSnapshot {
            state: target.map(|t| t.state),
            authenticity_verified: self.authenticity_verified,
            live_gray: self.gray,
            rolling_back: self
                .slotted
                .iter()
                .any(|p| p.state == PackageState::RollingBack),
            scheduled: target.is_some_and(|t| self.scheduled == Some(t.id)),
        }
    }

    /// Whether the target package's release is scheduled, so that a
    /// cancellation has something to cancel (a package leaves the schedule
    /// when it leaves "audit passed").
    pub fn target_scheduled(&self) -> bool {
        self.target
            .as_ref()
            .is_some_and(|t| t.state == PackageState::AuditPassed && self.scheduled == Some(t.id))
    }
}

/// The outcome of an audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail { reason: String },
}

/// Something that changes a package's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A new upload is accepted (the new package row is created by the store
    /// in development/building after the transitions). `direct_commit` uploads
    /// are checked against the submission preconditions up front.
    Upload { direct_commit: bool },
    /// The build of the target finished.
    BuildSucceeded,
    /// The build of the target failed.
    BuildFailed,
    /// `package/submitaudit`, or the automatic submission of a direct-commit upload.
    SubmitAudit,
    /// `package/withdraw`.
    Withdraw,
    /// A reviewer's decision.
    Review(Verdict),
    /// `package/release`.
    Release,
    /// The schedule worker releases a package whose release was scheduled
    /// for this time (Unix ms): refused when the schedule was cancelled or
    /// changed since the worker read it.
    FireSchedule(i64),
    /// `package/rollback`: the target goes to rolling back, to return to
    /// the newest earlier version.
    Rollback,
    /// `package/rollback` naming the version to return to: any retained
    /// earlier online version (in history, or rolled back).
    RollbackTo(PackageId),
    /// The rollback delay of the target has passed.
    CompleteRollback,
}

impl Action {
    /// Stable name used in the transition history.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Upload { .. } => "upload",
            Action::BuildSucceeded => "build_succeeded",
            Action::BuildFailed => "build_failed",
            Action::SubmitAudit => "submit_audit",
            Action::Withdraw => "withdraw",
            Action::Review(Verdict::Pass) => "review_pass",
            Action::Review(Verdict::Fail { .. }) => "review_fail",
            Action::Release | Action::FireSchedule(_) => "release",
            Action::Rollback | Action::RollbackTo(_) => "rollback",
            Action::CompleteRollback => "complete_rollback",
        }
    }
}

/// Why an action is refused. Each maps to one documented error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("package not found")]
    PackageNotFound,
    #[error("package is {state}, the action needs {needs}", state = .0.as_str(), needs = .1)]
    WrongState(PackageState, &'static str),
    #[error("package is not built")]
    NotBuilt,
    #[error("basic info not approved")]
    BasicInfoNotApproved,
    #[error("authenticity not verified")]
    AuthenticityNotVerified,
    #[error("package {0} is already under audit")]
    AuditInProgress(PackageId),
    #[error("audit quota exhausted")]
    QuotaExhausted,
    #[error("no earlier online version")]
    NothingToRollBack,
    #[error("rollback in progress")]
    RollbackInProgress,
    /// The release of package `0` is scheduled: it holds the audit slot
    /// until it is released or its schedule is cancelled.
    #[error("the release of package {0} is scheduled")]
    ReleaseScheduled(PackageId),
    /// A scheduled release was cancelled or moved before it fired.
    #[error("the scheduled release was cancelled or changed")]
    ScheduleChanged,
    /// The rollback target is not a retained earlier version of the app.
    #[error("package {0} is not an earlier online version of this app")]
    NotARollbackTarget(PackageId),
    /// A phased release holds package `0`: it must finish (100 % or
    /// `release`) or be reverted first.
    #[error("a gray release of package {0} is in progress")]
    GrayInProgress(PackageId),
}

/// One package's state change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub package: PackageId,
    pub from: PackageState,
    pub to: PackageState,
}

/// An audit result to push to the third-party platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditEvent {
    Pass {
        package: PackageId,
        version: String,
    },
    Fail {
        package: PackageId,
        version: String,
        reason: String,
    },
}

/// Everything an accepted action changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    pub transitions: Vec<Transition>,
    /// New build state of the target.
    pub build: Option<BuildState>,
    /// New `rollback_version` of a package (None clears it).
    pub rollback_version: Option<(PackageId, Option<String>)>,
    /// New audit message (`msg`) of the target.
    pub audit_msg: Option<String>,
    /// The action uses one submission of the audit quota.
    pub consume_quota: bool,
    /// The target's rollback timer starts.
    pub start_rollback_timer: bool,
    /// The version the target rolls back to, recorded on it.
    pub rollback_target: Option<PackageId>,
    pub event: Option<AuditEvent>,
    /// The live phased release of the app ends as finished (its package
    /// was released).
    pub finish_gray: bool,
    /// The target's scheduled release is done (it was released).
    pub clear_schedule: bool,
    /// An action the store applies to the same package right after this
    /// one, in the same transaction (a built `directCommit` package is
    /// submitted). Its refusal does not undo this action.
    pub follow_up: Option<Action>,
}

impl Effects {
    fn move_pkg(&mut self, p: &PackageView, to: PackageState) {
        self.transitions.push(Transition {
            package: p.id,
            from: p.state,
            to,
        });
    }
}

fn target(s: &AppSnapshot) -> Result<&PackageView, Refusal> {
    s.target.as_ref().ok_or(Refusal::PackageNotFound)
}

fn require_state(p: &PackageView, state: PackageState, needs: &'static str) -> Result<(), Refusal> {
    if p.state == state {
        Ok(())
    } else {
        Err(Refusal::WrongState(p.state, needs))
    }
}

/// Submission preconditions shared by `submitaudit` and direct-commit uploads,
/// in the order they are checked.
fn check_can_submit(s: &AppSnapshot, exclude: Option<PackageId>) -> Result<(), Refusal> {
    if !s.basic_info_approved {
        return Err(Refusal::BasicInfoNotApproved);
    }
    if let Some(a) = s.in_slot(Slot::Audit)
        && a.state == PackageState::Auditing
        && Some(a.id) != exclude
    {
        return Err(Refusal::AuditInProgress(a.id));
    }
    if s.quota_remaining.is_some_and(|r| r <= 0) {
        return Err(Refusal::QuotaExhausted);
    }
    // A new submission would take the audit slot from the package that the
    // phased release holds.
    if let Some(g) = s.gray {
        return Err(Refusal::GrayInProgress(g));
    }
    if let Some(p) = s.scheduled {
        return Err(Refusal::ReleaseScheduled(p));
    }
    Ok(())
}

/// Whether a package in `state` is an earlier online version a rollback
/// may return to.
pub const fn is_retained(state: PackageState) -> bool {
    matches!(state, PackageState::History | PackageState::RolledBack)
}

/// Whether an earlier version may be rolled back to: it was online (it is
/// in history, or was rolled back from) and, under `retained_versions =
/// n`, fewer than `n` such versions are newer than it. `package/rollback`
/// and `package/gethistory` ask the same question here.
pub fn is_rollback_target(
    state: PackageState,
    newer_retained: i64,
    retained_versions: Option<i64>,
) -> bool {
    is_retained(state) && retained_versions.is_none_or(|n| newer_retained < n)
}

/// How a package that passed audit is held for a release later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// `package/release` with a `release_at` in the future.
    Schedule,
    /// `package/grayrelease` starting a phased release.
    PhasedRelease,
}

/// What deciding a [`Hold`] needs to know, read under the app's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldSnapshot {
    /// The package's state; None when the app has no such package.
    pub state: Option<PackageState>,
    pub authenticity_verified: bool,
    /// The package of the app's live phased release (running or paused).
    pub live_gray: Option<PackageId>,
    /// The app's online version is rolling back.
    pub rolling_back: bool,
    /// The package's release is scheduled.
    pub scheduled: bool,
}

/// Whether `package` may be held: it passed audit, the app's authenticity
/// is verified (a release needs it), and no phased release is live; a
/// phased release also needs no rollback in progress and no schedule of
/// the package (which would release it under the plan). Checked in that
/// order, as a release checks its own.
pub fn check_hold(s: &HoldSnapshot, package: PackageId, hold: Hold) -> Result<(), Refusal> {
    let state = s.state.ok_or(Refusal::PackageNotFound)?;
    if state != PackageState::AuditPassed {
        return Err(Refusal::WrongState(state, "audit passed (status 6)"));
    }
    if !s.authenticity_verified {
        return Err(Refusal::AuthenticityNotVerified);
    }
    if let Some(g) = s.live_gray {
        return Err(Refusal::GrayInProgress(g));
    }
    if hold == Hold::PhasedRelease {
        if s.rolling_back {
            return Err(Refusal::RollbackInProgress);
        }
        if s.scheduled {
            return Err(Refusal::ReleaseScheduled(package));
        }
    }
    Ok(())
}

/// When a release asked for at `release_at` (Unix seconds) happens: now
/// (`None`) when that time is not in the future, then (`Some`, Unix ms)
/// when it lies within a year; refused otherwise.
pub fn release_time(release_at_secs: i64, now_ms: i64) -> Result<Option<i64>, ReleaseTimeRefusal> {
    let at = release_at_secs
        .checked_mul(1000)
        .filter(|ms| *ms > 0 && *ms <= now_ms.saturating_add(crate::gray::MAX_AHEAD_MS))
        .ok_or(ReleaseTimeRefusal)?;
    Ok((at > now_ms).then_some(at))
}

/// A `release_at` that is not a time within a year from now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseTimeRefusal;

/// Decides what `action` does to the app described by `s`.
///
/// Checks happen in a fixed order (documented in `docs/lifecycle.md`): the
/// target exists, its state, its build, then the app-level preconditions.
pub fn decide(s: &AppSnapshot, action: &Action) -> Result<Effects, Refusal> {
    let mut fx = Effects::default();
    match action {
        Action::Upload { direct_commit } => {
            if *direct_commit {
                check_can_submit(s, None)?;
            }
            if let Some(dev) = s.in_slot(Slot::Development) {
                fx.move_pkg(dev, PackageState::Superseded);
            }
        }
        Action::BuildSucceeded | Action::BuildFailed => {
            let t = target(s)?;
            require_state(t, PackageState::Development, "development")?;
            if t.build != BuildState::Building {
                return Err(Refusal::WrongState(t.state, "a build in progress"));
            }
            fx.build = Some(if *action == Action::BuildSucceeded {
                BuildState::Built
            } else {
                BuildState::Failed
            });
            if *action == Action::BuildSucceeded && t.direct_commit {
                fx.follow_up = Some(Action::SubmitAudit);
            }
        }
        Action::SubmitAudit => {
            let t = target(s)?;
            require_state(t, PackageState::Development, "development (status 3)")?;
            if t.build != BuildState::Built {
                return Err(Refusal::NotBuilt);
            }
            check_can_submit(s, None)?;
            if let Some(a) = s.in_slot(Slot::Audit) {
                fx.move_pkg(a, PackageState::Superseded);
            }
            fx.move_pkg(t, PackageState::Auditing);
            fx.consume_quota = true;
            fx.audit_msg = Some(String::new());
        }
        Action::Withdraw => {
            let t = target(s)?;
            require_state(t, PackageState::Auditing, "under audit (status 4)")?;
            // The withdrawn package takes the development slot back: a newer
            // development package is superseded (docs/lifecycle.md).
            if let Some(dev) = s.in_slot(Slot::Development) {
                fx.move_pkg(dev, PackageState::Superseded);
            }
            fx.move_pkg(t, PackageState::Development);
        }
        Action::Review(verdict) => {
            let t = target(s)?;
            require_state(t, PackageState::Auditing, "under audit (status 4)")?;
            match verdict {
                Verdict::Pass => {
                    fx.move_pkg(t, PackageState::AuditPassed);
                    fx.audit_msg = Some("审核通过".to_owned());
                    fx.event = Some(AuditEvent::Pass {
                        package: t.id,
                        version: t.version.clone(),
                    });
                }
                Verdict::Fail { reason } => {
                    fx.move_pkg(t, PackageState::AuditFailed);
                    fx.audit_msg = Some(reason.clone());
                    fx.event = Some(AuditEvent::Fail {
                        package: t.id,
                        version: t.version.clone(),
                        reason: reason.clone(),
                    });
                }
            }
        }
        Action::Release | Action::FireSchedule(_) => {
            let t = target(s)?;
            if let Action::FireSchedule(at) = action
                && (s.scheduled != Some(t.id) || s.scheduled_at != Some(*at))
            {
                return Err(Refusal::ScheduleChanged);
            }
            require_state(t, PackageState::AuditPassed, "audit passed (status 6)")?;
            if !s.authenticity_verified {
                return Err(Refusal::AuthenticityNotVerified);
            }
            let online = s.in_slot(Slot::Online);
            if let Some(o) = online {
                if o.state == PackageState::RollingBack {
                    return Err(Refusal::RollbackInProgress);
                }
                fx.move_pkg(o, PackageState::History);
            }
            fx.move_pkg(t, PackageState::Online);
            fx.rollback_version = Some((t.id, online.map(|o| o.version.clone())));
            // Releasing the package of a phased release completes it.
            fx.finish_gray = s.gray == Some(t.id);
            fx.clear_schedule = s.scheduled == Some(t.id);
        }
        Action::Rollback | Action::RollbackTo(_) => {
            let t = target(s)?;
            if t.state == PackageState::RollingBack {
                return Err(Refusal::RollbackInProgress);
            }
            require_state(t, PackageState::Online, "online (status 1)")?;
            if let Some(g) = s.gray {
                return Err(Refusal::GrayInProgress(g));
            }
            let to = match action {
                Action::RollbackTo(id) => {
                    let to = s
                        .rollback_to
                        .as_ref()
                        .filter(|v| {
                            v.id == *id
                                && is_rollback_target(
                                    v.state,
                                    s.newer_than_rollback_to,
                                    s.retained_versions,
                                )
                        })
                        .ok_or(Refusal::NotARollbackTarget(*id))?;
                    to.id
                }
                _ => s.history.first().ok_or(Refusal::NothingToRollBack)?.id,
            };
            fx.move_pkg(t, PackageState::RollingBack);
            fx.start_rollback_timer = true;
            fx.rollback_target = Some(to);
        }
        Action::CompleteRollback => {
            let t = target(s)?;
            require_state(t, PackageState::RollingBack, "rolling back (status 8)")?;
            // A rollback requested before targets were recorded goes to the
            // newest earlier version, as it did then.
            let previous = s
                .rollback_to
                .as_ref()
                .filter(|v| is_retained(v.state) && v.id != t.id)
                .or(s.history.first())
                .ok_or(Refusal::NothingToRollBack)?;
            fx.move_pkg(t, PackageState::RolledBack);
            // Versions newer than the one returned to are rolled back too,
            // so that history holds only versions older than the online
            // one and a plain rollback always goes back in time.
            for newer in s.history.iter().filter(|h| h.id > previous.id) {
                fx.move_pkg(newer, PackageState::RolledBack);
            }
            fx.move_pkg(previous, PackageState::Online);
            let below = s.history.iter().find(|h| h.id < previous.id);
            fx.rollback_version = Some((previous.id, below.map(|h| h.version.clone())));
        }
    }
    Ok(fx)
}

/// Checks the slot invariant over the states of all of one app's packages:
/// at most one package per slot. Used by tests and the store's self-checks.
pub fn check_slot_invariant(states: &[PackageState]) -> Result<(), String> {
    for slot in [Slot::Development, Slot::Audit, Slot::Online] {
        let n = states.iter().filter(|s| s.slot() == Some(slot)).count();
        if n > 1 {
            return Err(format!("{n} packages in the {slot:?} slot"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pv(id: i64, state: PackageState) -> PackageView {
        PackageView {
            id: PackageId(id),
            state,
            build: BuildState::Built,
            version: format!("v{id}"),
            direct_commit: false,
        }
    }

    fn app() -> AppSnapshot {
        AppSnapshot {
            basic_info_approved: true,
            authenticity_verified: true,
            quota_remaining: Some(10),
            ..Default::default()
        }
    }

    #[test]
    fn rollback_targets_are_earlier_versions_within_the_retained_count() {
        assert!(is_rollback_target(PackageState::History, 5, None));
        assert!(is_rollback_target(PackageState::RolledBack, 1, Some(2)));
        assert!(!is_rollback_target(PackageState::History, 2, Some(2)));
        assert!(!is_rollback_target(PackageState::Online, 0, None));
        assert!(!is_rollback_target(PackageState::Superseded, 0, None));
    }

    #[test]
    fn a_hold_needs_a_passed_package_and_a_phased_release_a_quiet_app() {
        let ok = HoldSnapshot {
            state: Some(PackageState::AuditPassed),
            authenticity_verified: true,
            live_gray: None,
            rolling_back: false,
            scheduled: false,
        };
        let p = PackageId(7);
        for hold in [Hold::Schedule, Hold::PhasedRelease] {
            assert_eq!(check_hold(&ok, p, hold), Ok(()));
            let none = HoldSnapshot { state: None, ..ok };
            assert_eq!(check_hold(&none, p, hold), Err(Refusal::PackageNotFound));
            let dev = HoldSnapshot {
                state: Some(PackageState::Development),
                ..ok
            };
            assert!(matches!(
                check_hold(&dev, p, hold),
                Err(Refusal::WrongState(PackageState::Development, _))
            ));
            let unverified = HoldSnapshot {
                authenticity_verified: false,
                ..ok
            };
            assert_eq!(
                check_hold(&unverified, p, hold),
                Err(Refusal::AuthenticityNotVerified)
            );
            let gray = HoldSnapshot {
                live_gray: Some(PackageId(7)),
                ..ok
            };
            assert_eq!(
                check_hold(&gray, p, hold),
                Err(Refusal::GrayInProgress(PackageId(7)))
            );
        }
        // A schedule may be moved, and waits for a rollback by itself; a
        // phased release may not start under either.
        let rolling = HoldSnapshot {
            rolling_back: true,
            ..ok
        };
        let scheduled = HoldSnapshot {
            scheduled: true,
            ..ok
        };
        assert_eq!(check_hold(&rolling, p, Hold::Schedule), Ok(()));
        assert_eq!(check_hold(&scheduled, p, Hold::Schedule), Ok(()));
        assert_eq!(
            check_hold(&rolling, p, Hold::PhasedRelease),
            Err(Refusal::RollbackInProgress)
        );
        assert_eq!(
            check_hold(&scheduled, p, Hold::PhasedRelease),
            Err(Refusal::ReleaseScheduled(p))
        );
    }

    #[test]
    fn a_release_time_is_now_or_within_a_year() {
        let now = 1_700_000_000_000;
        assert_eq!(release_time(1_600_000_000, now), Ok(None));
        assert_eq!(release_time(now / 1000, now), Ok(None));
        assert_eq!(release_time(now / 1000 + 60, now), Ok(Some(now + 60_000)));
        let year = crate::gray::MAX_AHEAD_MS / 1000;
        assert_eq!(
            release_time(now / 1000 + year, now),
            Ok(Some(now + year * 1000))
        );
        assert_eq!(
            release_time(now / 1000 + year + 1, now),
            Err(ReleaseTimeRefusal)
        );
        assert_eq!(release_time(0, now), Err(ReleaseTimeRefusal));
        assert_eq!(release_time(-5, now), Err(ReleaseTimeRefusal));
        assert_eq!(release_time(i64::MAX, now), Err(ReleaseTimeRefusal));
    }

    #[test]
    fn wire_status_round_trips() {
        for s in PackageState::ALL {
            assert_eq!(PackageState::parse(s.as_str()), Some(s));
            if let Some(w) = s.wire_status() {
                assert_eq!(PackageState::from_wire_status(w), Some(s));
            }
        }
        assert_eq!(PackageState::from_wire_status(2), None);
    }

    #[test]
    fn submit_replaces_failed_package_in_audit_slot() {
        let mut s = app();
        let dev = pv(2, PackageState::Development);
        s.target = Some(dev.clone());
        s.slotted = vec![dev, pv(1, PackageState::AuditFailed)];
        let fx = decide(&s, &Action::SubmitAudit).unwrap();
        assert_eq!(fx.transitions.len(), 2);
        assert_eq!(fx.transitions[0].to, PackageState::Superseded);
        assert_eq!(fx.transitions[1].to, PackageState::Auditing);
        assert!(fx.consume_quota);
    }

    #[test]
    fn a_built_direct_commit_package_is_submitted_next_and_no_other() {
        for (direct, action, follow_up) in [
            (true, Action::BuildSucceeded, Some(Action::SubmitAudit)),
            (false, Action::BuildSucceeded, None),
            (true, Action::BuildFailed, None),
        ] {
            let mut s = app();
            let mut dev = pv(2, PackageState::Development);
            dev.build = BuildState::Building;
            dev.direct_commit = direct;
            s.target = Some(dev.clone());
            s.slotted = vec![dev];
            let fx = decide(&s, &action).unwrap();
            assert_eq!(fx.follow_up, follow_up, "{direct} {action:?}");
        }
    }

    #[test]
    fn submit_refused_while_another_is_auditing() {
        let mut s = app();
        let dev = pv(2, PackageState::Development);
        s.target = Some(dev.clone());
        s.slotted = vec![dev, pv(1, PackageState::Auditing)];
        assert_eq!(
            decide(&s, &Action::SubmitAudit),
            Err(Refusal::AuditInProgress(PackageId(1)))
        );
    }

    #[test]
    fn submit_checks_order() {
        let mut s = app();
        let mut dev = pv(2, PackageState::Development);
        dev.build = BuildState::Building;
        s.target = Some(dev.clone());
        s.basic_info_approved = false;
        assert_eq!(decide(&s, &Action::SubmitAudit), Err(Refusal::NotBuilt));
        dev.build = BuildState::Built;
        s.target = Some(dev);
        assert_eq!(
            decide(&s, &Action::SubmitAudit),
            Err(Refusal::BasicInfoNotApproved)
        );
        s.basic_info_approved = true;
        s.quota_remaining = Some(0);
        assert_eq!(
            decide(&s, &Action::SubmitAudit),
            Err(Refusal::QuotaExhausted)
        );
        s.quota_remaining = None;
        assert!(decide(&s, &Action::SubmitAudit).is_ok());
    }

    #[test]
    fn release_moves_online_to_history_and_sets_rollback_version() {
        let mut s = app();
        let passed = pv(2, PackageState::AuditPassed);
        s.target = Some(passed.clone());
        s.slotted = vec![passed, pv(1, PackageState::Online)];
        let fx = decide(&s, &Action::Release).unwrap();
        assert_eq!(fx.transitions[0].to, PackageState::History);
        assert_eq!(fx.rollback_version, Some((PackageId(2), Some("v1".into()))));
        s.authenticity_verified = false;
        assert_eq!(
            decide(&s, &Action::Release),
            Err(Refusal::AuthenticityNotVerified)
        );
    }

    #[test]
    fn a_rollback_to_an_older_version_rolls_back_the_newer_ones() {
        let mut s = app();
        let online = pv(4, PackageState::Online);
        s.target = Some(online.clone());
        s.slotted = vec![online];
        s.history = vec![
            pv(3, PackageState::History),
            pv(2, PackageState::History),
            pv(1, PackageState::History),
        ];
        // Not a target: unknown, the online one, a package never online.
        for bad in [
            None,
            Some(pv(4, PackageState::Online)),
            Some(pv(5, PackageState::Development)),
        ] {
            s.rollback_to = bad.clone();
            let id = bad.map(|b| b.id).unwrap_or(PackageId(9));
            assert_eq!(
                decide(&s, &Action::RollbackTo(id)),
                Err(Refusal::NotARollbackTarget(id))
            );
        }
        s.rollback_to = Some(pv(2, PackageState::History));
        let fx = decide(&s, &Action::RollbackTo(PackageId(2))).unwrap();
        assert_eq!(fx.rollback_target, Some(PackageId(2)));
        let rolling = pv(4, PackageState::RollingBack);
        s.target = Some(rolling.clone());
        s.slotted = vec![rolling];
        let fx = decide(&s, &Action::CompleteRollback).unwrap();
        let moved: Vec<(i64, PackageState)> =
            fx.transitions.iter().map(|t| (t.package.0, t.to)).collect();
        assert_eq!(
            moved,
            vec![
                (4, PackageState::RolledBack),
                (3, PackageState::RolledBack),
                (2, PackageState::Online)
            ]
        );
        assert_eq!(fx.rollback_version, Some((PackageId(2), Some("v1".into()))));
    }

    #[test]
    fn rollback_needs_history_and_completes_to_previous() {
        let mut s = app();
        let online = pv(2, PackageState::Online);
        s.target = Some(online.clone());
        s.slotted = vec![online];
        assert_eq!(
            decide(&s, &Action::Rollback),
            Err(Refusal::NothingToRollBack)
        );
        s.history = vec![pv(1, PackageState::History), pv(0, PackageState::History)];
        let fx = decide(&s, &Action::Rollback).unwrap();
        assert!(fx.start_rollback_timer);
        let rolling = pv(2, PackageState::RollingBack);
        s.target = Some(rolling.clone());
        s.slotted = vec![rolling];
        assert_eq!(
            decide(&s, &Action::Rollback),
            Err(Refusal::RollbackInProgress)
        );
        let fx = decide(&s, &Action::CompleteRollback).unwrap();
        assert_eq!(
            fx.transitions,
            vec![
                Transition {
                    package: PackageId(2),
                    from: PackageState::RollingBack,
                    to: PackageState::RolledBack
                },
                Transition {
                    package: PackageId(1),
                    from: PackageState::History,
                    to: PackageState::Online
                },
            ]
        );
        assert_eq!(fx.rollback_version, Some((PackageId(1), Some("v0".into()))));
    }

    #[test]
    fn withdraw_supersedes_newer_development_package() {
        let mut s = app();
        let auditing = pv(1, PackageState::Auditing);
        s.target = Some(auditing.clone());
        s.slotted = vec![auditing, pv(2, PackageState::Development)];
        let fx = decide(&s, &Action::Withdraw).unwrap();
        assert_eq!(fx.transitions[0].package, PackageId(2));
        assert_eq!(fx.transitions[0].to, PackageState::Superseded);
        assert_eq!(fx.transitions[1].to, PackageState::Development);
    }

    #[test]
    fn invariant_checker_counts_slots() {
        use PackageState::*;
        assert!(check_slot_invariant(&[Development, Auditing, Online, History, History]).is_ok());
        assert!(check_slot_invariant(&[AuditFailed, AuditPassed]).is_err());
        assert!(check_slot_invariant(&[Online, RollingBack]).is_err());
    }
}
