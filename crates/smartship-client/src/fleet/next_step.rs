//! What one app of a fleet upgrade does next, decided on what the server
//! shows for the run's version and what the run remembers of the app. No
//! I/O and no clock of its own: the driver (`Driver::drive`) reads the
//! app's packages, asks [`next_step`], and does what it says — a call, a
//! wait, or the app's outcome — so every decision of the fleet engine is
//! unit-tested here without a server.

use super::{Outcome, Stage};
use smartship_api::package::{PackageInfo, PackageStatus};
use std::time::{Duration, Instant};

/// What the server shows for the run's version.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Seen {
    Online(PackageInfo),
    RollingBack(PackageInfo),
    InAudit(PackageInfo),
    Development(PackageInfo),
    Nothing,
}

/// What the server shows for `version`, leaving out `superseded` (a
/// rejected package this run has already replaced with a fresh upload: it
/// stays in the audit slot until the new one is submitted).
pub(super) fn seen(packages: Vec<PackageInfo>, version: &str, superseded: Option<i64>) -> Seen {
    let mut of_version: Vec<PackageInfo> = packages
        .into_iter()
        .filter(|p| p.version == version && Some(p.package_id) != superseded)
        .collect();
    // The most advanced slot wins: online, then audit, then development.
    let rank = |p: &PackageInfo| match p.package_status() {
        Some(PackageStatus::Online) => 0,
        Some(PackageStatus::RollingBack) => 1,
        Some(PackageStatus::Auditing | PackageStatus::AuditFailed | PackageStatus::AuditPassed) => {
            2
        }
        _ => 3,
    };
    of_version.sort_by_key(rank);
    match of_version.into_iter().next() {
        Some(p) => match rank(&p) {
            0 => Seen::Online(p),
            1 => Seen::RollingBack(p),
            2 => Seen::InAudit(p),
            _ => Seen::Development(p),
        },
        None => Seen::Nothing,
    }
}

/// What the run asks of every app (from `UpgradeOptions`).
#[derive(Debug, Clone)]
pub(super) struct Goal {
    pub version: String,
    pub submit: bool,
    pub wait_audit: bool,
    pub release: bool,
    pub gray_percentage: Option<u8>,
    pub build_timeout: Duration,
    pub audit_timeout: Option<Duration>,
}

/// What the run remembers of one app between its reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Memory {
    /// This run uploaded the version (a later read without it means
    /// another upload replaced it).
    pub uploaded: bool,
    /// A failure of this version seen in an earlier run, to start over from.
    pub redo: bool,
    /// The earlier run stopped while its upload of this app was in flight.
    pub cut_off_upload: bool,
    /// The rejected package a `--retry-failed` upload replaces.
    pub superseded: Option<i64>,
    /// When this run first saw the build running, and the audit.
    pub build_started: Option<Instant>,
    pub audit_started: Option<Instant>,
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// The app is done (for this run).
    Finish {
        outcome: Outcome,
        reason: Option<String>,
        code: Option<i64>,
    },
    /// Upload the version.
    Upload,
    /// Submit the built package for audit (after the quota check).
    Submit(i64),
    /// Release the package that passed audit.
    Release(i64),
    /// Start (or raise) its phased release.
    Gray { package: i64, percentage: u8 },
    /// Read again after the build poll interval.
    WaitBuild,
    /// Give the pipeline slot up and read again after the audit backoff.
    WaitAudit,
    /// Read again in a moment: a cut-off upload may still land.
    Settle,
}

/// The next step, with the stage to enter first and the package it is
/// about (recorded on the app).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Next {
    pub stage: Option<Stage>,
    pub package_id: Option<i64>,
    pub step: Step,
}

fn finish(outcome: Outcome, reason: Option<String>) -> Step {
    Step::Finish {
        outcome,
        reason,
        code: None,
    }
}

/// Decides what the app does next on what the server shows (`seen`), at
/// `now`; updates what the run remembers of it.
pub(super) fn next_step(seen: Seen, m: &mut Memory, goal: &Goal, now: Instant) -> Next {
    let next = |stage: Option<Stage>, package: &PackageInfo, step: Step| Next {
        stage,
        package_id: Some(package.package_id),
        step,
    };
    let unnamed = |step: Step| Next {
        stage: None,
        package_id: None,
        step,
    };
    match seen {
        Seen::Online(p) => next(None, &p, finish(Outcome::Released, None)),
        Seen::RollingBack(p) => {
            let why = format!("version {} is being rolled back", goal.version);
            next(None, &p, finish(Outcome::Skipped, Some(why)))
        }
        // `--retry-failed`: the rejected package is replaced by a fresh
        // upload (and left out of what is seen from now on).
        Seen::InAudit(p)
            if p.package_status() == Some(PackageStatus::AuditFailed) && m.redo && !m.uploaded =>
        {
            m.redo = false;
            m.superseded = Some(p.package_id);
            unnamed(Step::Upload)
        }
        Seen::InAudit(p) => match p.package_status() {
            Some(PackageStatus::AuditFailed) => {
                let reason = if p.msg.is_empty() {
                    "audit rejected".to_owned()
                } else {
                    format!("audit rejected: {}", p.msg)
                };
                let step = finish(Outcome::Failed, Some(reason));
                next(Some(Stage::Auditing), &p, step)
            }
            Some(PackageStatus::AuditPassed) if goal.release => {
                let step = match goal.gray_percentage {
                    Some(percentage) => Step::Gray {
                        package: p.package_id,
                        percentage,
                    },
                    None => Step::Release(p.package_id),
                };
                next(Some(Stage::Releasing), &p, step)
            }
            Some(PackageStatus::AuditPassed) if goal.wait_audit => {
                next(None, &p, finish(Outcome::Passed, None))
            }
            Some(PackageStatus::AuditPassed) => next(None, &p, finish(Outcome::Submitted, None)),
            _ => {
                if !goal.wait_audit {
                    return next(Some(Stage::Auditing), &p, finish(Outcome::Submitted, None));
                }
                let since = *m.audit_started.get_or_insert(now);
                let step = match goal.audit_timeout {
                    Some(limit) if now.duration_since(since) > limit => finish(
                        Outcome::Submitted,
                        Some(format!(
                            "still under audit after {}s; run again to continue",
                            limit.as_secs()
                        )),
                    ),
                    _ => Step::WaitAudit,
                };
                next(Some(Stage::Auditing), &p, step)
            }
        },
        Seen::Development(p) => match p.upload_status {
            Some(1) => {
                let since = *m.build_started.get_or_insert(now);
                let step = if now.duration_since(since) > goal.build_timeout {
                    finish(
                        Outcome::Failed,
                        Some(format!(
                            "build did not finish within {}s",
                            goal.build_timeout.as_secs()
                        )),
                    )
                } else {
                    Step::WaitBuild
                };
                next(Some(Stage::Building), &p, step)
            }
            Some(3) if m.redo && !m.uploaded => {
                m.redo = false;
                next(None, &p, Step::Upload)
            }
            Some(3) => {
                let reason = p
                    .upload_err_msg
                    .clone()
                    .or(p.upload_status_desc.clone())
                    .unwrap_or_else(|| "build failed".to_owned());
                let step = Step::Finish {
                    outcome: Outcome::Failed,
                    reason: Some(format!("build failed: {reason}")),
                    code: p.upload_err_code,
                };
                next(Some(Stage::Building), &p, step)
            }
            _ if !goal.submit => next(None, &p, finish(Outcome::Built, None)),
            _ => next(None, &p, Step::Submit(p.package_id)),
        },
        Seen::Nothing if m.uploaded => unnamed(finish(
            Outcome::Skipped,
            Some("the uploaded package was replaced by another upload of the app".to_owned()),
        )),
        // A killed run's upload may still be with the server (its commit
        // does not depend on the client staying): give it a moment and
        // read again rather than upload a second time.
        Seen::Nothing if m.cut_off_upload => {
            m.cut_off_upload = false;
            unnamed(Step::Settle)
        }
        Seen::Nothing => unnamed(Step::Upload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goal() -> Goal {
        Goal {
            version: "2.0.0".into(),
            submit: true,
            wait_audit: true,
            release: true,
            gray_percentage: None,
            build_timeout: Duration::from_secs(60),
            audit_timeout: Some(Duration::from_secs(10)),
        }
    }

    fn package(id: i64, status: i64, upload_status: Option<i64>) -> PackageInfo {
        serde_json::from_value(serde_json::json!({
            "package_id": id,
            "version": "2.0.0",
            "version_desc": "",
            "status": status,
            "remark": "",
            "msg": "",
            "committer": "",
            "commit_time": "",
            "upload_status": upload_status,
        }))
        .expect("a package/get row")
    }

    fn step_of(seen: Seen, m: &mut Memory, goal: &Goal) -> Step {
        next_step(seen, m, goal, Instant::now()).step
    }

    #[test]
    fn the_most_advanced_slot_of_the_version_is_seen_and_a_superseded_one_is_not() {
        let dev = package(3, 3, Some(2));
        let audit = package(2, 6, None);
        assert_eq!(
            seen(vec![dev.clone(), audit.clone()], "2.0.0", None),
            Seen::InAudit(audit)
        );
        assert_eq!(
            seen(vec![dev.clone(), package(2, 5, None)], "2.0.0", Some(2)),
            Seen::Development(dev)
        );
        assert_eq!(seen(vec![], "2.0.0", None), Seen::Nothing);
    }

    #[test]
    fn an_app_moves_upload_submit_release_and_ends_released() {
        let (g, mut m) = (goal(), Memory::default());
        assert_eq!(step_of(Seen::Nothing, &mut m, &g), Step::Upload);
        let built = package(4, 3, Some(2));
        assert_eq!(
            step_of(Seen::Development(built), &mut m, &g),
            Step::Submit(4)
        );
        let passed = next_step(
            Seen::InAudit(package(4, 6, None)),
            &mut m,
            &g,
            Instant::now(),
        );
        assert_eq!(passed.stage, Some(Stage::Releasing));
        assert_eq!(passed.step, Step::Release(4));
        let online = next_step(
            Seen::Online(package(4, 1, None)),
            &mut m,
            &g,
            Instant::now(),
        );
        assert_eq!(online.package_id, Some(4));
        assert!(matches!(
            online.step,
            Step::Finish {
                outcome: Outcome::Released,
                ..
            }
        ));
    }

    #[test]
    fn the_goal_says_where_an_app_stops() {
        let mut m = Memory::default();
        let built = Seen::Development(package(4, 3, Some(2)));
        let build_only = Goal {
            submit: false,
            ..goal()
        };
        assert!(matches!(
            step_of(built, &mut m, &build_only),
            Step::Finish {
                outcome: Outcome::Built,
                ..
            }
        ));
        let gray = Goal {
            gray_percentage: Some(20),
            ..goal()
        };
        assert_eq!(
            step_of(Seen::InAudit(package(4, 6, None)), &mut m, &gray),
            Step::Gray {
                package: 4,
                percentage: 20
            }
        );
        let no_wait = Goal {
            wait_audit: false,
            release: false,
            ..goal()
        };
        assert!(matches!(
            step_of(Seen::InAudit(package(4, 4, None)), &mut m, &no_wait),
            Step::Finish {
                outcome: Outcome::Submitted,
                ..
            }
        ));
    }

    #[test]
    fn waits_end_at_their_timeouts() {
        let (g, mut m) = (goal(), Memory::default());
        let start = Instant::now();
        let building = || Seen::Development(package(4, 3, Some(1)));
        assert_eq!(
            next_step(building(), &mut m, &g, start).step,
            Step::WaitBuild
        );
        let late = next_step(building(), &mut m, &g, start + Duration::from_secs(61));
        assert!(matches!(
            late.step,
            Step::Finish { outcome: Outcome::Failed, reason: Some(ref r), .. } if r.contains("60s")
        ));
        let auditing = || Seen::InAudit(package(4, 4, None));
        assert_eq!(
            next_step(auditing(), &mut m, &g, start).step,
            Step::WaitAudit
        );
        let late = next_step(auditing(), &mut m, &g, start + Duration::from_secs(11));
        assert!(matches!(
            late.step,
            Step::Finish { outcome: Outcome::Submitted, reason: Some(ref r), .. }
                if r.contains("still under audit")
        ));
    }

    #[test]
    fn a_retry_replaces_a_rejected_package_once_and_a_lost_upload_is_noticed() {
        let g = goal();
        let mut m = Memory {
            redo: true,
            ..Memory::default()
        };
        let failed = Seen::InAudit(package(4, 5, None));
        assert_eq!(step_of(failed.clone(), &mut m, &g), Step::Upload);
        assert_eq!((m.redo, m.superseded), (false, Some(4)));
        // Seen again (the retry's upload has not replaced it yet): failed.
        assert!(matches!(
            step_of(failed, &mut m, &g),
            Step::Finish {
                outcome: Outcome::Failed,
                ..
            }
        ));
        // An upload of this run that is gone was replaced by another one.
        let mut m = Memory {
            uploaded: true,
            ..Memory::default()
        };
        assert!(matches!(
            step_of(Seen::Nothing, &mut m, &g),
            Step::Finish {
                outcome: Outcome::Skipped,
                ..
            }
        ));
        // A cut-off upload is given a moment, once, before uploading again.
        let mut m = Memory {
            cut_off_upload: true,
            ..Memory::default()
        };
        assert_eq!(step_of(Seen::Nothing, &mut m, &g), Step::Settle);
        assert_eq!(step_of(Seen::Nothing, &mut m, &g), Step::Upload);
    }
}
