//! Phased (gray) release: who gets the package of a plan, and how a plan
//! may change. Pure rules; the store persists a plan and the server calls
//! these before it writes.
//!
//! A user's bucket is a number in `0..10_000` taken from the SHA-256 of
//! (app, plan, user). A plan at `p` percent serves its package to the
//! buckets below `p × 100`. The percentage only increases, so raising it
//! never moves a user back, and a new plan (a new id) draws new buckets, so
//! the same users are not always the first to get every release.

use crate::ids::{AppId, PackageId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Buckets a percentage point covers.
const BUCKETS_PER_PERCENT: u32 = 100;
/// Users in the allow-list of one plan at most.
pub const MAX_USER_LIST: usize = 1_000;
/// Bytes of one user id at most.
pub const MAX_USER_ID_BYTES: usize = 128;
/// Steps of one ramp plan at most.
pub const MAX_RAMP_STEPS: usize = 20;
/// How far ahead a ramp step or a scheduled release may lie (a year and a
/// day, in ms): every time added to a plan's stays far from `i64`'s range.
pub const MAX_AHEAD_MS: i64 = 366 * 24 * 3600 * 1000;

/// The bucket of `user` in plan `plan` of `app`: stable, in `0..10_000`.
pub fn bucket(app: AppId, plan: i64, user: &str) -> u32 {
    let mut h = Sha256::new();
    h.update(b"smartship-gray-v1\n");
    h.update(app.0.to_string().as_bytes());
    h.update(b"\n");
    h.update(plan.to_string().as_bytes());
    h.update(b"\n");
    h.update(user.as_bytes());
    let d = h.finalize();
    let n = u64::from_be_bytes(d[..8].try_into().expect("a digest has 8 bytes"));
    (n % (100 * BUCKETS_PER_PERCENT as u64)) as u32
}

/// Where a plan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrayStatus {
    /// Serving its percentage; its ramp advances.
    Running,
    /// Serving its percentage; its ramp waits.
    Paused,
    /// Reached 100 % (or the package was released): the package is online.
    Finished,
    /// Reverted: everyone is back on the online version.
    Reverted,
}

impl GrayStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            GrayStatus::Running => "running",
            GrayStatus::Paused => "paused",
            GrayStatus::Finished => "finished",
            GrayStatus::Reverted => "reverted",
        }
    }

    pub fn parse(s: &str) -> Option<GrayStatus> {
        [
            GrayStatus::Running,
            GrayStatus::Paused,
            GrayStatus::Finished,
            GrayStatus::Reverted,
        ]
        .into_iter()
        .find(|g| g.as_str() == s)
    }

    /// `status` of `getgrayreleaseplan`, in WeChat's numbering that ISVs
    /// know: 1 running, 2 paused, 3 finished, 4 reverted.
    pub const fn wire(self) -> i64 {
        match self {
            GrayStatus::Running => 1,
            GrayStatus::Paused => 2,
            GrayStatus::Finished => 3,
            GrayStatus::Reverted => 4,
        }
    }

    /// A live plan holds its package and serves it.
    pub const fn is_live(self) -> bool {
        matches!(self, GrayStatus::Running | GrayStatus::Paused)
    }
}

/// One step of a ramp: the percentage the plan takes at a time (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RampStep {
    pub percentage: u8,
    /// Unix milliseconds.
    pub at: i64,
}

/// A phased release of one package of one app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrayPlan {
    pub id: i64,
    pub app: AppId,
    pub package: PackageId,
    pub percentage: u8,
    /// Host user ids that get the package whatever the percentage.
    pub user_list: Vec<String>,
    /// Steps not yet taken, in order.
    pub ramp: Vec<RampStep>,
    pub status: GrayStatus,
    pub paused_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub ended_at: Option<i64>,
}

impl GrayPlan {
    /// Whether `user` gets this plan's package (a live plan only).
    pub fn serves(&self, user: &str) -> bool {
        self.status.is_live()
            && (self.user_list.iter().any(|u| u == user)
                || bucket(self.app, self.id, user)
                    < u32::from(self.percentage) * BUCKETS_PER_PERCENT)
    }

    /// When the next ramp step is due, while running.
    pub fn next_step_at(&self) -> Option<i64> {
        match self.status {
            GrayStatus::Running => self.ramp.first().map(|s| s.at),
            _ => None,
        }
    }
}

/// Why a change to a plan is refused. Each maps to one documented code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrayRefusal {
    #[error("gray_percentage must be an integer from 1 to 100")]
    PercentageOutOfRange,
    #[error("gray_percentage only increases: the plan is at {current}%, {asked}% asked")]
    PercentageNotIncreasing { current: u8, asked: u8 },
    #[error("user_list: {0}")]
    BadUserList(String),
    #[error("ramp: {0}")]
    BadRamp(String),
    #[error("the gray release is {0}, the action needs {1}")]
    WrongStatus(&'static str, &'static str),
    #[error("no gray release is running for this app")]
    NoPlan,
}

/// Splits and checks a comma-separated allow-list.
pub fn parse_user_list(raw: &str) -> Result<Vec<String>, GrayRefusal> {
    let mut users: Vec<String> = Vec::new();
    for u in raw.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        if u.len() > MAX_USER_ID_BYTES {
            return Err(GrayRefusal::BadUserList(format!(
                "a user id is longer than {MAX_USER_ID_BYTES} bytes"
            )));
        }
        if u.chars().any(char::is_control) {
            return Err(GrayRefusal::BadUserList(
                "a user id holds a control character".into(),
            ));
        }
        if !users.iter().any(|x| x == u) {
            users.push(u.to_owned());
        }
    }
    if users.len() > MAX_USER_LIST {
        return Err(GrayRefusal::BadUserList(format!(
            "{} user ids, at most {MAX_USER_LIST}",
            users.len()
        )));
    }
    Ok(users)
}

/// Checks a percentage given on the wire.
pub fn check_percentage(p: i64) -> Result<u8, GrayRefusal> {
    if (1..=100).contains(&p) {
        Ok(p as u8)
    } else {
        Err(GrayRefusal::PercentageOutOfRange)
    }
}

/// Checks a ramp against the percentage it starts from: percentages rise
/// above `from` and stay within 100, times rise and lie after `now`.
pub fn check_ramp(steps: &[RampStep], from: u8, now: i64) -> Result<(), GrayRefusal> {
    if steps.len() > MAX_RAMP_STEPS {
        return Err(GrayRefusal::BadRamp(format!(
            "{} steps, at most {MAX_RAMP_STEPS}",
            steps.len()
        )));
    }
    let (mut pct, mut at) = (from, now);
    for (i, s) in steps.iter().enumerate() {
        if s.percentage <= pct || s.percentage > 100 {
            return Err(GrayRefusal::BadRamp(format!(
                "step {i}: percentage {} must be above {pct} and at most 100",
                s.percentage
            )));
        }
        if s.at <= at {
            return Err(GrayRefusal::BadRamp(format!(
                "step {i}: its time must be later than {}",
                if i == 0 { "now" } else { "the step before" }
            )));
        }
        if s.at > now.saturating_add(MAX_AHEAD_MS) {
            return Err(GrayRefusal::BadRamp(format!(
                "step {i}: its time must lie within a year from now"
            )));
        }
        (pct, at) = (s.percentage, s.at);
    }
    Ok(())
}

impl GrayPlan {
    /// Raises the percentage (a manual step). Steps of the ramp at or below
    /// the new percentage are dropped: they are passed.
    pub fn raise(&mut self, to: u8, now: i64) -> Result<(), GrayRefusal> {
        self.require_live("raised")?;
        if to <= self.percentage {
            return Err(GrayRefusal::PercentageNotIncreasing {
                current: self.percentage,
                asked: to,
            });
        }
        self.percentage = to;
        self.ramp.retain(|s| s.percentage > to);
        self.updated_at = now;
        Ok(())
    }

    /// A `grayrelease` of the plan's own package while the plan is live:
    /// raises the percentage, adds users, replaces the steps not yet taken.
    /// The same percentage with new users or a new ramp changes only those;
    /// 100 again retries a release that did not happen (refused, or
    /// interrupted).
    pub fn amend(
        &mut self,
        package: crate::PackageId,
        percentage: u8,
        users: Vec<String>,
        ramp: Option<Vec<RampStep>>,
        now: i64,
    ) -> Result<(), GrayRefusal> {
        if self.package != package {
            return Err(GrayRefusal::WrongStatus(
                "held by another package",
                "this package's plan",
            ));
        }
        let same = percentage == self.percentage;
        if !same || (users.is_empty() && ramp.is_none() && percentage < 100) {
            self.raise(percentage, now)?;
        }
        for u in users {
            if !self.user_list.contains(&u) {
                self.user_list.push(u);
            }
        }
        if self.user_list.len() > MAX_USER_LIST {
            return Err(GrayRefusal::BadUserList(format!(
                "the plan would hold more than {MAX_USER_LIST} user ids"
            )));
        }
        if let Some(steps) = ramp {
            self.ramp = steps;
            // The new steps count from now: a resume must not push them
            // later by a pause that came before them.
            if self.paused_at.is_some() {
                self.paused_at = Some(now);
            }
        }
        Ok(())
    }

    /// Takes every ramp step due at `now`; true when one was taken.
    pub fn advance(&mut self, now: i64) -> bool {
        if self.status != GrayStatus::Running {
            return false;
        }
        let mut moved = false;
        while let Some(step) = self.ramp.first().copied().filter(|s| s.at <= now) {
            self.ramp.remove(0);
            self.percentage = self.percentage.max(step.percentage);
            moved = true;
        }
        if moved {
            self.updated_at = now;
        }
        moved
    }

    pub fn pause(&mut self, now: i64) -> Result<(), GrayRefusal> {
        if self.status != GrayStatus::Running {
            return Err(GrayRefusal::WrongStatus(self.status.as_str(), "running"));
        }
        self.status = GrayStatus::Paused;
        self.paused_at = Some(now);
        self.updated_at = now;
        Ok(())
    }

    /// Resumes a paused plan. The ramp keeps its intervals: every step not
    /// taken moves later by the time the plan was paused.
    pub fn resume(&mut self, now: i64) -> Result<(), GrayRefusal> {
        if self.status != GrayStatus::Paused {
            return Err(GrayRefusal::WrongStatus(self.status.as_str(), "paused"));
        }
        let paused_for = now.saturating_sub(self.paused_at.unwrap_or(now)).max(0);
        for s in &mut self.ramp {
            // Saturating: a step at the end of time stays there rather than
            // wrapping into the past and firing at once.
            s.at = s.at.saturating_add(paused_for);
        }
        self.status = GrayStatus::Running;
        self.paused_at = None;
        self.updated_at = now;
        Ok(())
    }

    pub fn revert(&mut self, now: i64) -> Result<(), GrayRefusal> {
        self.require_live("reverted")?;
        self.status = GrayStatus::Reverted;
        self.ramp.clear();
        self.ended_at = Some(now);
        self.updated_at = now;
        Ok(())
    }

    fn require_live(&self, _what: &'static str) -> Result<(), GrayRefusal> {
        if self.status.is_live() {
            Ok(())
        } else {
            Err(GrayRefusal::WrongStatus(
                self.status.as_str(),
                "running or paused",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(pct: u8) -> GrayPlan {
        GrayPlan {
            id: 7,
            app: AppId(42),
            package: PackageId(9),
            percentage: pct,
            user_list: vec![],
            ramp: vec![],
            status: GrayStatus::Running,
            paused_at: None,
            created_by: "test".into(),
            created_at: 0,
            updated_at: 0,
            ended_at: None,
        }
    }

    #[test]
    fn amending_the_live_plan_raises_adds_users_and_replaces_the_ramp() {
        let mut p = plan(10);
        // Another package's request is refused, nothing changes.
        assert!(p.amend(PackageId(8), 20, vec![], None, 5).is_err());
        assert_eq!(p.percentage, 10);
        // The same percentage with users changes only the users.
        p.amend(PackageId(9), 10, vec!["a".into(), "a".into()], None, 5)
            .unwrap();
        assert_eq!(
            (p.percentage, p.user_list.clone()),
            (10, vec!["a".to_owned()])
        );
        // The same percentage with nothing new is a step that does not rise.
        assert!(matches!(
            p.amend(PackageId(9), 10, vec![], None, 6),
            Err(GrayRefusal::PercentageNotIncreasing {
                current: 10,
                asked: 10
            })
        ));
        // A ramp given while paused counts from now.
        p.pause(7).unwrap();
        let step = RampStep {
            percentage: 50,
            at: 100,
        };
        p.amend(PackageId(9), 30, vec![], Some(vec![step]), 9)
            .unwrap();
        assert_eq!(
            (p.percentage, p.ramp.clone(), p.paused_at),
            (30, vec![step], Some(9))
        );
        // 100 again (a release that did not happen) is accepted.
        p.amend(PackageId(9), 100, vec![], None, 10).unwrap();
        p.amend(PackageId(9), 100, vec![], None, 11).unwrap();
        assert_eq!(p.percentage, 100);
        // The user list stays bounded.
        let many: Vec<String> = (0..MAX_USER_LIST).map(|i| format!("u{i}")).collect();
        assert!(matches!(
            p.amend(PackageId(9), 100, many, None, 12),
            Err(GrayRefusal::BadUserList(_))
        ));
    }

    fn users() -> impl Iterator<Item = String> {
        (0..100_000).map(|i| format!("user-{i}"))
    }

    #[test]
    fn a_tenth_of_100000_users_get_a_10_percent_gray_and_raising_keeps_them() {
        let mut p = plan(10);
        let first: Vec<String> = users().filter(|u| p.serves(u)).collect();
        let share = first.len() as f64 / 100_000.0;
        assert!((share - 0.10).abs() <= 0.005, "10% gray served {share}");
        p.raise(30, 1).unwrap();
        let second = users().filter(|u| p.serves(u)).count() as f64 / 100_000.0;
        assert!((second - 0.30).abs() <= 0.005, "30% gray served {second}");
        assert!(first.iter().all(|u| p.serves(u)), "a user moved back");
        p.revert(2).unwrap();
        assert_eq!(users().filter(|u| p.serves(u)).count(), 0);
    }

    #[test]
    fn the_allow_list_wins_and_buckets_differ_per_plan() {
        let mut p = plan(1);
        let outside = users().find(|u| !p.serves(u)).unwrap();
        p.user_list = vec![outside.clone()];
        assert!(p.serves(&outside));
        let other = GrayPlan { id: 8, ..plan(10) };
        let same = users()
            .take(10_000)
            .filter(|u| bucket(p.app, 7, u) == bucket(other.app, 8, u))
            .count();
        assert!(
            same < 50,
            "{same} of 10,000 users share a bucket in two plans"
        );
    }

    #[test]
    fn the_percentage_only_increases_and_the_ramp_is_checked() {
        let mut p = plan(30);
        assert_eq!(
            p.raise(30, 1),
            Err(GrayRefusal::PercentageNotIncreasing {
                current: 30,
                asked: 30
            })
        );
        assert!(check_percentage(0).is_err() && check_percentage(101).is_err());
        let step = |percentage, at| RampStep { percentage, at };
        assert!(check_ramp(&[step(50, 10), step(100, 20)], 30, 5).is_ok());
        assert!(
            check_ramp(&[step(20, 10)], 30, 5).is_err(),
            "below the start"
        );
        assert!(check_ramp(&[step(50, 10), step(60, 10)], 30, 5).is_err());
        assert!(check_ramp(&[step(50, 4)], 30, 5).is_err(), "in the past");
        assert!(check_ramp(&[step(101, 10)], 30, 5).is_err());
        // Further than a year ahead, e.g. 9223372036854775 s in ms.
        assert!(check_ramp(&[step(50, 5 + MAX_AHEAD_MS)], 30, 5).is_ok());
        assert!(check_ramp(&[step(50, 6 + MAX_AHEAD_MS)], 30, 5).is_err());
        assert!(check_ramp(&[step(50, 9_223_372_036_854_775_000)], 30, 5).is_err());
    }

    #[test]
    fn the_ramp_advances_waits_while_paused_and_keeps_its_intervals() {
        let mut p = plan(10);
        p.ramp = vec![
            RampStep {
                percentage: 20,
                at: 100,
            },
            RampStep {
                percentage: 50,
                at: 200,
            },
        ];
        assert!(!p.advance(99));
        p.pause(50).unwrap();
        assert!(!p.advance(500), "a paused plan does not advance");
        assert_eq!(p.next_step_at(), None);
        p.resume(150).unwrap();
        assert_eq!(p.next_step_at(), Some(200), "shifted by the 100 ms pause");
        assert!(p.advance(300));
        assert_eq!(p.percentage, 50);
        assert!(p.ramp.is_empty());
    }

    #[test]
    fn a_step_at_the_end_of_time_survives_pause_and_resume() {
        // A plan stored before steps were bounded keeps its far step far.
        let mut p = plan(10);
        p.ramp = vec![RampStep {
            percentage: 100,
            at: i64::MAX - 10,
        }];
        p.pause(1_000).unwrap();
        p.resume(1_000_000).unwrap();
        assert_eq!(p.next_step_at(), Some(i64::MAX));
        assert!(!p.advance(2_000_000));
        assert_eq!(p.percentage, 10);
    }

    #[test]
    fn user_lists_are_trimmed_deduplicated_and_bounded() {
        assert_eq!(parse_user_list(" a, b,,a ").unwrap(), vec!["a", "b"]);
        let many = (0..=MAX_USER_LIST)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert!(parse_user_list(&many).is_err());
        assert!(parse_user_list(&"x".repeat(MAX_USER_ID_BYTES + 1)).is_err());
    }
}
