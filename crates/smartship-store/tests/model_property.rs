//! Random operation sequences against the real SQLite store, checked step by
//! step against a reference model of SPEC §4 written independently of
//! `smartship_core::lifecycle`: same accept/refuse decision, same state of
//! every package, and the slot invariant after every step.

mod common;

use proptest::prelude::*;
use smartship_core::lifecycle::{Action, BuildState, PackageState, Verdict};
use smartship_core::manifest::Manifest;
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
    CompleteRollback(usize),
    SetBasic(bool),
    SetAuth(bool),
    /// Upload, build, submit, pass and release in a row: reaches deep
    /// histories (and so rollbacks over several versions) far more often
    /// than independent random steps would.
    Ship,
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
        1 => sel.prop_map(Op::CompleteRollback),
        1 => any::<bool>().prop_map(Op::SetBasic),
        1 => any::<bool>().prop_map(Op::SetAuth),
        2 => Just(Op::Ship),
    ]
}

#[derive(Debug, Clone)]
struct MPkg {
    state: PackageState,
    build: BuildState,
    direct: bool,
}

/// The reference model.
#[derive(Debug, Default)]
struct Model {
    pkgs: BTreeMap<i64, MPkg>,
    /// Earlier online versions, oldest first.
    history: Vec<i64>,
    basic: bool,
    auth: bool,
    quota_left: i64,
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

    fn apply(&mut self, op: &Op, id: i64, new_id: i64) -> Result<(), &'static str> {
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
            Op::Release(_) => {
                self.need(id, AuditPassed)?;
                if !self.auth {
                    return Err("AuthenticityNotVerified");
                }
                if self.find(|p| p.state == RollingBack).is_some() {
                    return Err("RollbackInProgress");
                }
                if let Some(o) = self.find(|p| p.state == Online) {
                    self.set(o, History);
                    self.history.push(o);
                }
                self.set(id, Online);
            }
            Op::Rollback(_) => {
                if self.state_of(id)? == RollingBack {
                    return Err("RollbackInProgress");
                }
                self.need(id, Online)?;
                if self.history.is_empty() {
                    return Err("NothingToRollBack");
                }
                self.set(id, RollingBack);
            }
            Op::CompleteRollback(_) => {
                self.need(id, RollingBack)?;
                let prev = self.history.pop().ok_or("NothingToRollBack")?;
                self.set(id, RolledBack);
                self.set(prev, Online);
            }
            Op::SetBasic(b) => self.basic = b,
            Op::SetAuth(a) => self.auth = a,
            Op::Ship => unreachable!("expanded before running"),
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

const QUOTA: i64 = 6;

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
                retained_versions: None,
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
                other => {
                    let (i, action) = match other {
                        Op::Submit(i) => (i, Action::SubmitAudit),
                        Op::Withdraw(i) => (i, Action::Withdraw),
                        Op::Pass(i) => (i, Action::Review(Verdict::Pass)),
                        Op::Fail(i) => (i, Action::Review(Verdict::Fail { reason: "r".into() })),
                        Op::Release(i) => (i, Action::Release),
                        Op::Rollback(i) => (i, Action::Rollback),
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
            let new_id = if matches!(op, Op::Upload { .. }) {
                target
            } else {
                0
            };
            let expected = model.apply(op, target, new_id);
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
