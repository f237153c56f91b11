//! Live counters of a fleet run, read by the progress display.

use super::{AppRecord, Outcome, Stage};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Counts of apps per stage and per outcome, updated by the drivers.
///
/// ```
/// use smartship_client::fleet::Progress;
/// let p = Progress::new(10);
/// let s = p.snapshot();
/// assert_eq!((s.total, s.finished), (10, 0));
/// ```
#[derive(Debug)]
pub struct Progress {
    total: usize,
    stages: [AtomicUsize; Stage::ALL.len()],
    outcomes: [AtomicUsize; Outcome::ALL.len()],
    /// Finished before this run started (from the state file).
    carried_over: AtomicUsize,
    started: Mutex<Instant>,
    /// When each app now in `auditing` entered it: the display tells how
    /// long the oldest has waited for a reviewer.
    auditing_since: Mutex<HashMap<i64, Instant>>,
}

/// A consistent-enough reading of [`Progress`] for one display refresh.
///
/// ```
/// use smartship_client::fleet::{Outcome, Progress};
/// let s = Progress::new(5).snapshot();
/// assert_eq!(s.outcomes[0], (Outcome::Released, 0));
/// assert_eq!((s.finished, s.carried_over, s.rate), (0, 0, 0.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressSnapshot {
    /// Apps in the run.
    pub total: usize,
    /// Apps currently in each stage, in [`Stage::ALL`] order.
    pub stages: Vec<(Stage, usize)>,
    /// Apps with each outcome, in [`Outcome::ALL`] order.
    pub outcomes: Vec<(Outcome, usize)>,
    /// Apps with any outcome.
    pub finished: usize,
    /// Of those, finished by an earlier run.
    pub carried_over: usize,
    /// Since this run started.
    pub elapsed: Duration,
    /// Apps finished per second by this run.
    pub rate: f64,
    /// Time left at that rate, once there is a rate.
    pub eta: Option<Duration>,
    /// How long the app longest in `auditing` has been there (this run).
    pub oldest_audit_wait: Option<Duration>,
}

impl Progress {
    /// Counters for a run of `total` apps, all queued.
    ///
    /// ```
    /// use smartship_client::fleet::{Progress, Stage};
    /// let s = Progress::new(4).snapshot();
    /// assert_eq!(s.stages[0], (Stage::Queued, 4));
    /// assert!(s.stages[1..].iter().all(|(_, n)| *n == 0));
    /// ```
    pub fn new(total: usize) -> Progress {
        let p = Progress {
            total,
            stages: Default::default(),
            outcomes: Default::default(),
            carried_over: AtomicUsize::new(0),
            started: Mutex::new(Instant::now()),
            auditing_since: Mutex::new(HashMap::new()),
        };
        p.stages[Stage::Queued as usize].store(total, Ordering::Relaxed);
        p
    }

    pub(crate) fn restart_clock(&self) {
        *self.started.lock().expect("not poisoned") = Instant::now();
    }

    pub(crate) fn moved(&self, app: i64, from: Stage, to: Stage) {
        if from != to {
            self.stages[from as usize].fetch_sub(1, Ordering::Relaxed);
            self.stages[to as usize].fetch_add(1, Ordering::Relaxed);
            self.track_audit(app, from, to);
        }
    }

    fn track_audit(&self, app: i64, from: Stage, to: Stage) {
        if from == Stage::Auditing || to == Stage::Auditing {
            let mut since = self.auditing_since.lock().expect("not poisoned");
            if to == Stage::Auditing {
                since.insert(app, Instant::now());
            } else {
                since.remove(&app);
            }
        }
    }

    /// An app left `from` with an outcome (`carried` when it came from the
    /// state file rather than this run's work).
    pub(crate) fn finished(&self, from: Stage, record: &AppRecord, carried: bool) {
        self.stages[from as usize].fetch_sub(1, Ordering::Relaxed);
        self.track_audit(record.app, from, Stage::Done);
        if let Some(o) = record.outcome {
            self.outcomes[o as usize].fetch_add(1, Ordering::Relaxed);
        }
        if carried {
            self.carried_over.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Reads the counters.
    ///
    /// ```
    /// let s = smartship_client::fleet::Progress::new(3).snapshot();
    /// assert_eq!(s.stages[0].1, 3); // queued
    /// assert_eq!(s.eta, None);
    /// ```
    pub fn snapshot(&self) -> ProgressSnapshot {
        let stages: Vec<_> = Stage::ALL
            .iter()
            .map(|s| (*s, self.stages[*s as usize].load(Ordering::Relaxed)))
            .collect();
        let outcomes: Vec<_> = Outcome::ALL
            .iter()
            .map(|o| (*o, self.outcomes[*o as usize].load(Ordering::Relaxed)))
            .collect();
        let finished: usize = outcomes.iter().map(|(_, n)| n).sum();
        let carried_over = self.carried_over.load(Ordering::Relaxed);
        let elapsed = self.started.lock().expect("not poisoned").elapsed();
        let done_now = finished.saturating_sub(carried_over);
        let rate = if elapsed.as_secs_f64() > 0.0 {
            done_now as f64 / elapsed.as_secs_f64()
        } else {
            0.0
        };
        let left = self.total.saturating_sub(finished);
        let eta = (rate > 0.0).then(|| Duration::from_secs_f64(left as f64 / rate));
        let oldest_audit_wait = self
            .auditing_since
            .lock()
            .expect("not poisoned")
            .values()
            .min()
            .map(Instant::elapsed);
        ProgressSnapshot {
            total: self.total,
            stages,
            outcomes,
            finished,
            carried_over,
            elapsed,
            rate,
            eta,
            oldest_audit_wait,
        }
    }
}

impl ProgressSnapshot {
    /// `uploading 3, building 5, ...`: the pipeline's stages, and
    /// `rolling_back` only when an app is in it.
    ///
    /// ```
    /// let s = smartship_client::fleet::Progress::new(2).snapshot();
    /// assert_eq!(s.stage_counts(", "), "queued 2, uploading 0, building 0, submitting 0, auditing 0, releasing 0");
    /// ```
    pub fn stage_counts(&self, sep: &str) -> String {
        self.stages
            .iter()
            .filter(|(s, n)| match s {
                Stage::Done => false,
                Stage::RollingBack => *n > 0,
                _ => true,
            })
            .map(|(s, n)| format!("{} {n}", s.as_str()))
            .collect::<Vec<_>>()
            .join(sep)
    }

    /// `released 400, failed 12`: released and failed always, the other
    /// outcomes when an app has them.
    ///
    /// ```
    /// let s = smartship_client::fleet::Progress::new(2).snapshot();
    /// assert_eq!(s.outcome_counts(", "), "released 0, failed 0");
    /// ```
    pub fn outcome_counts(&self, sep: &str) -> String {
        self.outcomes
            .iter()
            .filter(|(o, n)| *n > 0 || matches!(o, Outcome::Released | Outcome::Failed))
            .map(|(o, n)| format!("{} {n}", o.as_str()))
            .collect::<Vec<_>>()
            .join(sep)
    }

    /// `ETA 35s`, or `ETA -` before any app finished in this run.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut s = smartship_client::fleet::Progress::new(2).snapshot();
    /// assert_eq!(s.eta_text(), "ETA -");
    /// s.eta = Some(Duration::from_millis(35_900));
    /// assert_eq!(s.eta_text(), "ETA 35s");
    /// ```
    pub fn eta_text(&self) -> String {
        match self.eta {
            Some(d) => format!("ETA {}s", d.as_secs()),
            None => "ETA -".to_owned(),
        }
    }

    /// What the run waits for, when apps wait for a reviewer: how many, how
    /// long the oldest has waited, and where to look. None otherwise.
    /// `manual_review` is the server's review policy when known: only
    /// under manual review is it a reviewer the run waits for.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut s = smartship_client::fleet::Progress::new(2).snapshot();
    /// assert_eq!(s.waiting_hint(Some(true)), None);
    /// s.stages[4].1 = 2; // auditing
    /// s.oldest_audit_wait = Some(Duration::from_secs(75));
    /// assert_eq!(
    ///     s.waiting_hint(Some(true)).unwrap(),
    ///     "waiting for a reviewer: 2 packages under audit, the oldest for 1m15s \
    ///      (list them: smartship admin package queue)"
    /// );
    /// assert!(s.waiting_hint(Some(false)).unwrap().starts_with("waiting for the automatic review"));
    /// assert!(s.waiting_hint(None).unwrap().starts_with("waiting for the audit"));
    /// ```
    pub fn waiting_hint(&self, manual_review: Option<bool>) -> Option<String> {
        let auditing = self
            .stages
            .iter()
            .find(|(s, _)| *s == Stage::Auditing)
            .map_or(0, |(_, n)| *n);
        if auditing == 0 {
            return None;
        }
        let wait = self.oldest_audit_wait.unwrap_or_default().as_secs();
        let packages = if auditing == 1 { "package" } else { "packages" };
        let (what, hint) = match manual_review {
            Some(true) => (
                "waiting for a reviewer",
                " (list them: smartship admin package queue)",
            ),
            Some(false) => ("waiting for the automatic review", ""),
            None => (
                "waiting for the audit",
                " (under manual review an operator passes them: smartship admin package queue)",
            ),
        };
        Some(format!(
            "{what}: {auditing} {packages} under audit, the oldest for {}m{:02}s{hint}",
            wait / 60,
            wait % 60
        ))
    }

    /// One line: `412/500 done (released 400, failed 12) | queued 0, uploading 3, ... | 37.2 apps/s, ETA 2s`.
    ///
    /// ```
    /// let line = smartship_client::fleet::Progress::new(2).snapshot().line();
    /// assert!(line.starts_with("0/2 done (released 0, failed 0) | queued 2,"), "{line}");
    /// ```
    pub fn line(&self) -> String {
        format!(
            "{}/{} done ({}) | {} | {:.1} apps/s, {}",
            self.finished,
            self.total,
            self.outcome_counts(", "),
            self.stage_counts(", "),
            self.rate,
            self.eta_text(),
        )
    }
}
