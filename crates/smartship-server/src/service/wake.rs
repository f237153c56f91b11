//! What follows a stored change, derived from what changed, in one place:
//! which workers to wake and which cached views to drop.
//!
//! Every worker also polls, so a missed wake-up only delays work; a wake-up
//! too many costs one pass that finds nothing. The rules below therefore
//! err towards waking.

use crate::state::AppState;
use smartship_core::AppId;
use smartship_core::lifecycle::{Action, Effects, PackageState};

/// After an accepted lifecycle action of `app`.
pub(super) fn lifecycle(s: &AppState, app: AppId, action: &Action, fx: &Effects) {
    delivery_changed(s, app);
    if fx.start_rollback_timer {
        s.rollback_wakeup.notify_one();
    }
    // A submission (or a built direct-commit package submitted in the same
    // transaction) has a reviewer to wake when reviews are automatic.
    if fx.follow_up.is_some()
        || fx
            .transitions
            .iter()
            .any(|t| t.to == PackageState::Auditing)
    {
        s.review_wakeup.notify_one();
    }
    if pushes_event(action, fx) {
        s.events_wakeup.notify_one();
    }
    if fx.clear_schedule {
        s.schedule_wakeup.notify_one();
    }
    if fx.finish_gray {
        s.gray_wakeup.notify_one();
    }
}

/// Whether the action enqueued an event for the app's platform: an audit
/// result, or a release, rollback or build event (the store enqueues those
/// when the platform subscribes; waking for nothing costs one pass).
fn pushes_event(action: &Action, fx: &Effects) -> bool {
    fx.event.is_some()
        || matches!(
            action,
            Action::Release
                | Action::FireSchedule(_)
                | Action::CompleteRollback
                | Action::BuildSucceeded
                | Action::BuildFailed
        )
}

/// What the app's users are served may have changed: update checks read
/// it afresh.
pub(super) fn delivery_changed(s: &AppState, app: AppId) {
    s.delivery.forget(app);
}

/// An upload was accepted: a build is waiting.
pub(super) fn build_waiting(s: &AppState) {
    s.build_wakeup.notify_one();
}

/// A phased release changed: the ramp worker reads when its next step is,
/// and the platform may have an event (PACKAGE_GRAY_RELEASE) to hear.
pub(super) fn phased_changed(s: &AppState, app: AppId) {
    s.gray_wakeup.notify_one();
    s.events_wakeup.notify_one();
    delivery_changed(s, app);
}

/// A release was scheduled or its schedule ended.
pub(super) fn schedule_changed(s: &AppState) {
    s.schedule_wakeup.notify_one();
}

/// Events were enqueued for delivery.
pub(super) fn events_waiting(s: &AppState) {
    s.events_wakeup.notify_one();
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartship_core::PackageId;
    use smartship_core::lifecycle::{AuditEvent, Transition};

    #[test]
    fn an_audit_result_and_every_release_kind_push_an_event() {
        let none = Effects::default();
        assert!(!pushes_event(&Action::Withdraw, &none));
        assert!(!pushes_event(&Action::SubmitAudit, &none));
        assert!(!pushes_event(&Action::Rollback, &none));
        for a in [
            Action::Release,
            Action::FireSchedule(1),
            Action::CompleteRollback,
            Action::BuildSucceeded,
            Action::BuildFailed,
        ] {
            assert!(pushes_event(&a, &none), "{a:?}");
        }
        let passed = Effects {
            event: Some(AuditEvent::Pass {
                package: PackageId(1),
                version: "1.0.0".into(),
            }),
            transitions: vec![Transition {
                package: PackageId(1),
                from: PackageState::Auditing,
                to: PackageState::AuditPassed,
            }],
            ..Default::default()
        };
        assert!(pushes_event(
            &Action::Review(smartship_core::lifecycle::Verdict::Pass),
            &passed
        ));
    }
}
