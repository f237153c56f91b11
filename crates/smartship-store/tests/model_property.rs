//! Random operation sequences against the real store (both backends),
//! checked step by step against a reference model of SPEC §4 and of the
//! release extensions (docs/release.md: rollback to a chosen version within
//! `retained_versions`, scheduled releases, phased releases) written
//! independently of `smartship_core`: same accept/refuse decision, same
//! state of every package, the same schedule and phased-release plan, and
//! the slot invariant after every step.

mod common;

use proptest::prelude::*;
use smartship_core::lifecycle::{Action, BuildState, PackageState, Verdict};
use smartship_core::manifest::Manifest;
use smartship_core::phased::{PhasedOp, PhasedRefusal, PhasedRequest};
use smartship_core::{PackageId, TemplateId};
use smartship_store::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Op {
    Upload {
        direct: bool,
    },
    BuildOk(usize),
    BuildFail(usize),
    Submit(usize),
    Withdraw(usize),
    Pass(usize),
    Fail(usize),
    Release(usize),
    Rollback(usize),
    /// Roll the online version back to the package the second selector
    /// picks among every known one.
    RollbackTo(usize, usize),
    CompleteRollback(usize),
    /// Hold the selected package for release later.
    Schedule(usize),
    CancelSchedule(usize),
    /// The schedule worker's release: with the time the model recorded
    /// (`true`) or another one.
    FireSchedule(usize, bool),
    /// Start a phased release of the selected package at a percentage.
    StartGray(usize, u8),
    RaiseGray(u8),
    /// The ramp worker's pass (the plans here have no steps: it only tries
    /// again the release of a plan left at 100 %).
    StepGray,
    PauseGray,
    ResumeGray,
    RevertGray,
    SetBasic(bool),
    SetAuth(bool),
    /// Upload, build, submit, pass and release in a row: reaches deep
    /// histories (and so rollbacks over several versions) far more often
    /// than independent random steps would.
    Ship,
    /// Upload, build, submit and pass, then schedule its release, or
    /// (`true`) start its phased release: the schedule and the plan then
    /// meet every other operation far more often.
    Hold(bool),
    /// A phased release whose release at 100 % was refused (authenticity
    /// withdrawn, then given back): the plan waits at 100 % for the ramp
    /// worker's next pass or another request.
    Stall,
}

fn op() -> impl Strategy<Value = Op> {
    let sel = 0usize..8;
    prop_oneof![
        3 => any::<bool>().prop_map(|direct| Op::Upload { direct }),
        3 => sel.clone().prop_map(Op::BuildOk),
        1 => sel.clone().prop_map(Op::BuildFail),
        3 => sel.clone().prop_map(Op::Submit),
        1 => sel.clone().prop_map(Op::Withdraw),
        2 => sel.clone().prop_map(Op::Pass),
        1 => sel.clone().prop_map(Op::Fail),
        2 => sel.clone().prop_map(Op::Release),
        1 => sel.clone().prop_map(Op::Rollback),
        1 => sel.clone().prop_map(Op::CompleteRollback),
        1 => (sel.clone(), 0usize..8).prop_map(|(a, b)| Op::RollbackTo(a, b)),
        1 => sel.clone().prop_map(Op::Schedule),
        1 => sel.clone().prop_map(Op::CancelSchedule),
        1 => (sel.clone(), any::<bool>()).prop_map(|(a, b)| Op::FireSchedule(a, b)),
        1 => (sel, percentage()).prop_map(|(a, p)| Op::StartGray(a, p)),
        2 => percentage().prop_map(Op::RaiseGray),
        1 => Just(Op::StepGray),
        1 => Just(Op::PauseGray),
        1 => Just(Op::ResumeGray),
        1 => Just(Op::RevertGray),
        1 => any::<bool>().prop_map(Op::SetBasic),
        2 => any::<bool>().prop_map(Op::SetAuth),
        2 => Just(Op::Ship),
        2 => any::<bool>().prop_map(Op::Hold),
        1 => Just(Op::Stall),
    ]
}

/// A phased release's percentage; 100 (a release in the same
/// transaction) as often as all the others.
fn percentage() -> impl Strategy<Value = u8> {
    prop_oneof![1u8..100, Just(100u8)]
}

#[derive(Debug, Clone)]
struct MPkg {
    state: PackageState,
    build: BuildState,
    direct: bool,
}

/// A phased release in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MGray {
    package: i64,
    percentage: u8,
    paused: bool,
}

/// The reference model.
#[derive(Debug, Default)]
struct Model {
    pkgs: BTreeMap<i64, MPkg>,
    basic: bool,
    auth: bool,
    quota_left: i64,
    /// The version each rolling-back package returns to.
    rollback_to: BTreeMap<i64, i64>,
    /// The package held for a scheduled release, and when.
    scheduled: Option<(i64, i64)>,
    /// The live phased release (running or paused).
    gray: Option<MGray>,
    /// How many earlier versions newer than a target a rollback may pass.
    retained: i64,
}

use PackageState::*;

impl Model {
    fn find(&self, pred: impl Fn(&MPkg) -> bool) -> Option<i64> {
        self.pkgs.iter().find(|(_, p)| pred(p)).map(|(id, _)| *id)
    }
    fn set(&mut self, id: i64, s: PackageState) {
        self.pkgs.get_mut(&id).unwrap().state = s;
    }
    fn auditing(&self) -> Option<i64> {
        self.find(|p| p.state == Auditing)
    }
    /// Submission preconditions: the name of the refusal, if any.
    fn can_submit(&self) -> Result<(), &'static str> {
        if !self.basic {
            return Err("BasicInfoNotApproved");
        }
        if self.auditing().is_some() {
            return Err("AuditInProgress");
        }
        if self.quota_left <= 0 {
            return Err("QuotaExhausted");
        }
        // The phased release and the schedule hold the audit slot's package.
        if self.gray.is_some() {
            return Err("GrayInProgress");
        }
        if self.scheduled.is_some() {
            return Err("ReleaseScheduled");
        }
        Ok(())
    }
    /// Earlier online versions, newest first.
    fn history(&self) -> Vec<i64> {
        let mut h: Vec<i64> = self
            .pkgs
            .iter()
            .filter(|(_, p)| p.state == History)
            .map(|(id, _)| *id)
            .collect();
        h.reverse();
        h
    }
    /// Versions a rollback may return to: earlier online versions, and
    /// versions rolled back from.
    fn retained(&self, id: i64) -> bool {
        self.pkgs
            .get(&id)
            .is_some_and(|p| matches!(p.state, History | RolledBack))
    }
    /// What a release (or a phased release's start, or a schedule) of
    /// `id` needs first.
    fn releasable(&self, id: i64) -> Result<(), &'static str> {
        self.need(id, AuditPassed)?;
        if !self.auth {
            return Err("AuthenticityNotVerified");
        }
        Ok(())
    }
    /// A release of `id` (`package/release`, a schedule that fell due, a
    /// phased release reaching 100 %).
    fn release(&mut self, id: i64) -> Result<(), &'static str> {
        self.releasable(id)?;
        if self.find(|p| p.state == RollingBack).is_some() {
            return Err("RollbackInProgress");
        }
        if let Some(o) = self.find(|p| p.state == Online) {
            self.set(o, History);
        }
        self.set(id, Online);
        if self.gray.is_some_and(|g| g.package == id) {
            self.gray = None;
        }
        if self.scheduled.is_some_and(|(p, _)| p == id) {
            self.scheduled = None;
        }
        Ok(())
    }
    /// `grayrelease` of the live plan's package: a higher percentage; at
    /// 100 % the release, in the same transaction.
    fn raise_gray(&mut self, pct: u8) -> Result<(), &'static str> {
        let g = self.gray.ok_or("NoPlan")?;
        // 100 again (a plan left at 100 %) tries its release again.
        if pct <= g.percentage && pct < 100 {
            return Err("PercentageNotIncreasing");
        }
        self.gray = Some(MGray {
            percentage: pct,
            ..g
        });
        if pct == 100 {
            // Refused, the plan stays running at 100 %.
            self.release(g.package)?;
        }
        Ok(())
    }
    fn change_gray(
        &mut self,
        f: impl FnOnce(&mut MGray) -> Result<(), &'static str>,
    ) -> Result<(), &'static str> {
        let mut g = self.gray.ok_or("NoPlan")?;
        f(&mut g)?;
        self.gray = Some(g);
        Ok(())
    }
    fn submit(&mut self, id: i64) {
        if let Some(a) = self.find(|p| matches!(p.state, AuditFailed | AuditPassed)) {
            self.set(a, Superseded);
        }
        self.set(id, Auditing);
        self.quota_left -= 1;
    }
    fn state_of(&self, id: i64) -> Result<PackageState, &'static str> {
        self.pkgs.get(&id).map(|p| p.state).ok_or("PackageNotFound")
    }
    fn need(&self, id: i64, s: PackageState) -> Result<(), &'static str> {
        if self.state_of(id)? == s {
            Ok(())
        } else {
            Err("WrongState")
        }
    }

    /// Applies `op` to package `id`; `to_pick` is a rollback's chosen
    /// version, `new_id` an upload's new package or a schedule's time.
    fn apply(&mut self, op: &Op, id: i64, to_pick: i64, new_id: i64) -> Result<(), &'static str> {
        match *op {
            Op::Upload { direct } => {
                if direct {
                    self.can_submit()?;
                }
                if let Some(d) = self.find(|p| p.state == Development) {
                    self.set(d, Superseded);
                }
                self.pkgs.insert(
                    new_id,
                    MPkg {
                        state: Development,
                        build: BuildState::Building,
                        direct,
                    },
                );
            }
            Op::BuildOk(_) | Op::BuildFail(_) => {
                self.need(id, Development)?;
                if self.pkgs[&id].build != BuildState::Building {
                    return Err("WrongState");
                }
                let ok = matches!(op, Op::BuildOk(_));
                self.pkgs.get_mut(&id).unwrap().build = if ok {
                    BuildState::Built
                } else {
                    BuildState::Failed
                };
                if ok && self.pkgs[&id].direct && self.can_submit().is_ok() {
                    self.submit(id);
                }
            }
            Op::Submit(_) => {
                self.need(id, Development)?;
                if self.pkgs[&id].build != BuildState::Built {
                    return Err("NotBuilt");
                }
                self.can_submit()?;
                self.submit(id);
            }
            Op::Withdraw(_) => {
                self.need(id, Auditing)?;
                if let Some(d) = self.find(|p| p.state == Development) {
                    self.set(d, Superseded);
                }
                self.set(id, Development);
            }
            Op::Pass(_) | Op::Fail(_) => {
                self.need(id, Auditing)?;
                let to = if matches!(op, Op::Pass(_)) {
                    AuditPassed
                } else {
                    AuditFailed
                };
                self.set(id, to);
            }
            Op::Release(_) | Op::FireSchedule(..) => {
                self.state_of(id)?;
                if let Op::FireSchedule(_, on_time) = op {
                    // The worker read the schedule: a cancelled, moved or
                    // other package's schedule is not released.
                    if self.scheduled.map(|(p, _)| p) != Some(id) || !on_time {
                        return Err("ScheduleChanged");
                    }
                }
                self.release(id)?;
            }
            Op::Rollback(_) | Op::RollbackTo(..) => {
                if self.state_of(id)? == RollingBack {
                    return Err("RollbackInProgress");
                }
                self.need(id, Online)?;
                if self.gray.is_some() {
                    return Err("GrayInProgress");
                }
                let to = if let Op::RollbackTo(_, _) = op {
                    let newer = self
                        .pkgs
                        .iter()
                        .filter(|(p, _)| **p > to_pick)
                        .filter(|(p, _)| self.retained(**p))
                        .count() as i64;
                    if !self.retained(to_pick) || newer >= self.retained {
                        return Err("NotARollbackTarget");
                    }
                    to_pick
                } else {
                    *self.history().first().ok_or("NothingToRollBack")?
                };
                self.rollback_to.insert(id, to);
                self.set(id, RollingBack);
            }
            Op::CompleteRollback(_) => {
                self.need(id, RollingBack)?;
                let prev = self
                    .rollback_to
                    .get(&id)
                    .copied()
                    .filter(|p| *p != id && self.retained(*p))
                    .or_else(|| self.history().first().copied())
                    .ok_or("NothingToRollBack")?;
                self.set(id, RolledBack);
                for newer in self.history().into_iter().filter(|h| *h > prev) {
                    self.set(newer, RolledBack);
                }
                self.set(prev, Online);
            }
            Op::Schedule(_) => {
                self.state_of(id)?;
                self.releasable(id)?;
                if self.gray.is_some() {
                    return Err("GrayInProgress");
                }
                self.scheduled = Some((id, new_id));
            }
            Op::CancelSchedule(_) => {
                if self.scheduled.map(|(p, _)| p) != Some(id) {
                    return Err("NotScheduled");
                }
                self.scheduled = None;
            }
            // `grayrelease` of the live plan's own package amends it.
            Op::StartGray(_, pct) if self.gray.is_some_and(|g| g.package == id) => {
                self.raise_gray(pct)?
            }
            Op::StartGray(_, pct) => {
                self.state_of(id)?;
                self.releasable(id)?;
                if self.gray.is_some() {
                    return Err("GrayInProgress");
                }
                if self.find(|p| p.state == RollingBack).is_some() {
                    return Err("RollbackInProgress");
                }
                if self.scheduled.is_some_and(|(p, _)| p == id) {
                    return Err("ReleaseScheduled");
                }
                if pct == 100 {
                    // A plan that starts at 100 % releases its package at
                    // once.
                    self.release(id)?;
                } else {
                    self.gray = Some(MGray {
                        package: id,
                        percentage: pct,
                        paused: false,
                    });
                }
            }
            Op::RaiseGray(pct) => self.raise_gray(pct)?,
            Op::StepGray => {
                let g = self.gray.ok_or("NoPlan")?;
                if g.percentage == 100 {
                    self.release(g.package)?;
                }
            }
            Op::PauseGray => self.change_gray(|g| {
                if g.paused {
                    return Err("WrongStatus");
                }
                g.paused = true;
                Ok(())
            })?,
            Op::ResumeGray => self.change_gray(|g| {
                if !g.paused {
                    return Err("WrongStatus");
                }
                g.paused = false;
                Ok(())
            })?,
            Op::RevertGray => {
                self.gray.ok_or("NoPlan")?;
                self.gray = None;
            }
            Op::SetBasic(b) => self.basic = b,
            Op::SetAuth(a) => self.auth = a,
            Op::Ship | Op::Hold(_) | Op::Stall => unreachable!("expanded before running"),
        }
        Ok(())
    }
}

fn refusal_name(r: &smartship_core::lifecycle::Refusal) -> &'static str {
    use smartship_core::lifecycle::Refusal::*;
    match r {
        PackageNotFound => "PackageNotFound",
        WrongState(..) => "WrongState",
        NotBuilt => "NotBuilt",
        BasicInfoNotApproved => "BasicInfoNotApproved",
        AuthenticityNotVerified => "AuthenticityNotVerified",
        AuditInProgress(_) => "AuditInProgress",
        QuotaExhausted => "QuotaExhausted",
        NothingToRollBack => "NothingToRollBack",
        RollbackInProgress => "RollbackInProgress",
        GrayInProgress(_) => "GrayInProgress",
        NotARollbackTarget(_) => "NotARollbackTarget",
        ReleaseScheduled(_) => "ReleaseScheduled",
        ScheduleChanged => "ScheduleChanged",
    }
}

/// What `grayrelease` answers: a refusal of the plan's change, or of the
/// release at 100 % that followed it.
fn phased_result(d: PhasedDecision) -> Result<(), &'static str> {
    match d {
        Ok(PhasedOutcome {
            release: Some(Err(l)),
            ..
        }) => Err(refusal_name(&l)),
        Ok(_) => Ok(()),
        Err(PhasedRefusal::Plan(g)) => Err(gray_refusal_name(&g)),
        Err(PhasedRefusal::Lifecycle(l)) => Err(refusal_name(&l)),
    }
}

fn gray_refusal_name(r: &smartship_core::gray::GrayRefusal) -> &'static str {
    use smartship_core::gray::GrayRefusal::*;
    match r {
        NoPlan => "NoPlan",
        WrongStatus(..) => "WrongStatus",
        PercentageNotIncreasing { .. } => "PercentageNotIncreasing",
        PercentageOutOfRange => "PercentageOutOfRange",
        BadUserList(_) => "BadUserList",
        BadRamp(_) => "BadRamp",
    }
}

const QUOTA: i64 = 6;
/// `retained_versions`: how many earlier versions newer than a rollback's
/// target it may pass.
const RETAINED: i64 = 1;
/// Scheduled times lie far from the step clock, so that "another time" is
/// never one of them.
const SCHEDULE_BASE: i64 = 10_000_000;

async fn run(ops: Vec<Op>) {
    let ops: Vec<Op> = ops
        .into_iter()
        .flat_map(|o| match o {
            Op::Ship => vec![
                Op::Upload { direct: false },
                Op::BuildOk(0),
                Op::Submit(0),
                Op::Pass(0),
                Op::Release(0),
            ],
            Op::Hold(gray) => vec![
                Op::Upload { direct: false },
                Op::BuildOk(0),
                Op::Submit(0),
                Op::Pass(0),
                if gray {
                    Op::StartGray(0, 10)
                } else {
                    Op::Schedule(0)
                },
            ],
            Op::Stall => vec![
                Op::Upload { direct: false },
                Op::BuildOk(0),
                Op::Submit(0),
                Op::Pass(0),
                Op::StartGray(0, 10),
                Op::SetAuth(false),
                Op::RaiseGray(100),
                Op::SetAuth(true),
            ],
            o => vec![o],
        })
        .collect();
    for backend in common::backends() {
        eprintln!("backend: {backend}");
        let (_dir, store, tp) = common::store_with_tp(backend).await;
        let app = store
            .create_app(
                NewApp {
                    id: None,
                    app_key: "k".into(),
                    name: "a".into(),
                    description: String::new(),
                    basic_info_approved: true,
                    authenticity_verified: true,
                },
                0,
            )
            .await
            .unwrap();
        let mut model = Model {
            basic: true,
            auth: true,
            quota_left: QUOTA,
            retained: RETAINED,
            ..Default::default()
        };
        for (step, op) in ops.iter().enumerate() {
            let now = 1_000 + step as i64;
            let ctx = ActionContext {
                now,
                actor: "test".into(),
                quota: Some(QuotaWindow {
                    limit: QUOTA,
                    period_start: 0,
                }),
                rollback_delay_ms: 1000,
                retained_versions: Some(RETAINED),
                submission: None,
                audit: None,
            };
            // Selectors 0-3 pick the package the operation naturally acts on
            // (so that half of the operations meet a package they may change),
            // 4-6 any known package, 7 one that does not exist.
            let ids: Vec<i64> = model.pkgs.keys().copied().collect();
            let natural: &[PackageState] = match op {
                Op::BuildOk(_) | Op::BuildFail(_) | Op::Submit(_) => &[Development],
                Op::Withdraw(_) | Op::Pass(_) | Op::Fail(_) => &[Auditing],
                Op::Release(_) => &[AuditPassed, AuditFailed, Auditing],
                Op::Schedule(_)
                | Op::CancelSchedule(_)
                | Op::FireSchedule(..)
                | Op::StartGray(..) => &[AuditPassed],
                _ => &[Online, RollingBack],
            };
            let sel = |i: usize| -> i64 {
                let slotted = if i < 4 {
                    model.find(|p| natural.contains(&p.state))
                } else {
                    None
                };
                match slotted {
                    Some(id) => id,
                    None if i == 7 || ids.is_empty() => 999_999,
                    None => ids[i % ids.len()],
                }
            };
            // A rollback's chosen version: 0-3 a retained one, 4-6 any
            // known package, 7 one that does not exist.
            let retained: Vec<i64> = ids.iter().copied().filter(|p| model.retained(*p)).collect();
            let to_pick = match op {
                Op::RollbackTo(_, j) if *j < 4 && !retained.is_empty() => {
                    retained[j % retained.len()]
                }
                Op::RollbackTo(_, j) if *j < 7 && !ids.is_empty() => ids[j % ids.len()],
                _ => 999_999,
            };
            let schedule_at = SCHEDULE_BASE + step as i64;
            let (target, result): (i64, Result<(), &'static str>) = match op {
                Op::Upload { direct } => {
                    let r = store
                        .create_upload(
                            NewUpload {
                                app_id: app.id,
                                tp_id: tp.id,
                                template_id: TemplateId(1),
                                version: format!("v{step}"),
                                version_desc: String::new(),
                                ext_json: "{}".into(),
                                direct_commit: *direct,
                                test_account: None,
                                test_password: None,
                                committer: "--".into(),
                            },
                            &ctx,
                        )
                        .await
                        .unwrap();
                    match r {
                        Ok(id) => (id.0, Ok(())),
                        Err(e) => (0, Err(refusal_name(&e))),
                    }
                }
                Op::SetBasic(b) => {
                    store
                        .update_app(
                            app.id,
                            AppUpdate {
                                basic_info_approved: Some(*b),
                                ..Default::default()
                            },
                        )
                        .await
                        .unwrap();
                    (0, Ok(()))
                }
                Op::SetAuth(a) => {
                    store
                        .update_app(
                            app.id,
                            AppUpdate {
                                authenticity_verified: Some(*a),
                                ..Default::default()
                            },
                        )
                        .await
                        .unwrap();
                    (0, Ok(()))
                }
                Op::BuildOk(i) | Op::BuildFail(i) => {
                    let id = sel(*i);
                    let outcome = if matches!(op, Op::BuildOk(_)) {
                        BuildOutcome::Built {
                            manifest: Manifest::default(),
                            blocked: None,
                        }
                    } else {
                        BuildOutcome::Failed {
                            code: 1,
                            message: "x".into(),
                        }
                    };
                    let r = store
                        .finish_build(app.id, PackageId(id), outcome, &ctx)
                        .await
                        .unwrap();
                    (id, r.map(|_| ()).map_err(|e| refusal_name(&e)))
                }
                Op::Schedule(i) => {
                    let id = sel(*i);
                    let r = store
                        .schedule_release(app.id, PackageId(id), schedule_at, &ctx)
                        .await
                        .unwrap();
                    (id, r.map_err(|e| refusal_name(&e)))
                }
                Op::CancelSchedule(i) => {
                    let id = sel(*i);
                    let cancelled = store
                        .cancel_scheduled_release(app.id, PackageId(id), &ctx)
                        .await
                        .unwrap();
                    (
                        id,
                        if cancelled {
                            Ok(())
                        } else {
                            Err("NotScheduled")
                        },
                    )
                }
                Op::FireSchedule(i, on_time) => {
                    let id = sel(*i);
                    let at = match (on_time, model.scheduled) {
                        (true, Some((_, at))) => at,
                        _ => 1,
                    };
                    let r = store
                        .apply(app.id, PackageId(id), Action::FireSchedule(at), &ctx)
                        .await
                        .unwrap();
                    (id, r.map(|_| ()).map_err(|e| refusal_name(&e)))
                }
                Op::StartGray(i, pct) => {
                    let id = sel(*i);
                    let op = PhasedOp::Request(PhasedRequest {
                        package: PackageId(id),
                        percentage: *pct,
                        users: Vec::new(),
                        ramp: None,
                    });
                    let r = store.phased(app.id, op, &ctx).await.unwrap();
                    (id, phased_result(r))
                }
                Op::RaiseGray(pct) => {
                    // `grayrelease` of the live plan's package raises it;
                    // with no live plan there is nothing to raise.
                    let live = store
                        .latest_gray(app.id)
                        .await
                        .unwrap()
                        .filter(|g| g.status.is_live());
                    let r = match live {
                        None => Err("NoPlan"),
                        Some(g) => {
                            let op = PhasedOp::Request(PhasedRequest {
                                package: g.package,
                                percentage: *pct,
                                users: Vec::new(),
                                ramp: None,
                            });
                            phased_result(store.phased(app.id, op, &ctx).await.unwrap())
                        }
                    };
                    (0, r)
                }
                Op::StepGray | Op::PauseGray | Op::ResumeGray | Op::RevertGray => {
                    let op = match *op {
                        Op::StepGray => PhasedOp::Advance,
                        Op::PauseGray => PhasedOp::Pause,
                        Op::ResumeGray => PhasedOp::Resume,
                        _ => PhasedOp::Revert,
                    };
                    let r = store.phased(app.id, op, &ctx).await.unwrap();
                    (0, phased_result(r))
                }
                other => {
                    let (i, action) = match other {
                        Op::Submit(i) => (i, Action::SubmitAudit),
                        Op::Withdraw(i) => (i, Action::Withdraw),
                        Op::Pass(i) => (i, Action::Review(Verdict::Pass)),
                        Op::Fail(i) => (i, Action::Review(Verdict::Fail { reason: "r".into() })),
                        Op::Release(i) => (i, Action::Release),
                        Op::Rollback(i) => (i, Action::Rollback),
                        Op::RollbackTo(i, _) => (i, Action::RollbackTo(PackageId(to_pick))),
                        Op::CompleteRollback(i) => (i, Action::CompleteRollback),
                        _ => unreachable!(),
                    };
                    let id = sel(*i);
                    let r = store
                        .apply(app.id, PackageId(id), action, &ctx)
                        .await
                        .unwrap();
                    (id, r.map(|_| ()).map_err(|e| refusal_name(&e)))
                }
            };
            let new_id = match op {
                Op::Upload { .. } => target,
                Op::Schedule(_) => schedule_at,
                _ => 0,
            };
            let expected = model.apply(op, target, to_pick, new_id);
            assert_eq!(
                result, expected,
                "step {step}: {op:?} on {target}\nmodel: {model:?}"
            );

            let stored = store.all_packages(app.id).await.unwrap();
            let actual: BTreeMap<i64, (PackageState, BuildState)> = stored
                .iter()
                .map(|p| (p.id.0, (p.state, p.build)))
                .collect();
            let modelled: BTreeMap<i64, (PackageState, BuildState)> = model
                .pkgs
                .iter()
                .map(|(id, p)| (*id, (p.state, p.build)))
                .collect();
            assert_eq!(actual, modelled, "step {step}: {op:?}");
            let states: Vec<PackageState> = stored.iter().map(|p| p.state).collect();
            smartship_core::lifecycle::check_slot_invariant(&states).unwrap();
            let used = store.quota_used(app.id, 0).await.unwrap();
            assert_eq!(QUOTA - used, model.quota_left, "step {step}: quota");
            let scheduled: Vec<(i64, i64)> = stored
                .iter()
                .filter(|p| p.state == AuditPassed)
                .filter_map(|p| p.release_at.map(|at| (p.id.0, at)))
                .collect();
            assert_eq!(
                scheduled,
                Vec::from_iter(model.scheduled),
                "step {step}: schedule"
            );
            let gray = store
                .latest_gray(app.id)
                .await
                .unwrap()
                .filter(|g| g.status.is_live())
                .map(|g| MGray {
                    package: g.package.0,
                    percentage: g.percentage,
                    paused: g.status == smartship_core::gray::GrayStatus::Paused,
                });
            assert_eq!(gray, model.gray, "step {step}: phased release");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn store_follows_the_reference_model(ops in proptest::collection::vec(op(), 1..60)) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(ops));
    }
}
