//! Changes of an app's basic information that wait for a review: taken
//! from the platform, decided by an operator.

use super::{Actor, StoreError, wake};
use crate::state::AppState;
use smartship_store::{ExamRefusal, Examination, NewExamination, ReviewRefusal};

/// Takes a change for review within the yearly quota.
pub async fn submit(
    s: &AppState,
    change: NewExamination,
    now: i64,
) -> Result<Result<Examination, ExamRefusal>, StoreError> {
    let out = s.store.submit_examination(change, now).await?;
    if let Ok(exam) = &out {
        tracing::info!(app = %exam.app_id, field = exam.field.as_str(), examine_id = exam.id, "change taken for review");
    }
    Ok(out)
}

/// Passes (`reason` None) or fails a change waiting for review.
#[tracing::instrument(name = "examination_review", skip_all, fields(examine_id = id, actor = %actor))]
pub async fn review(
    s: &AppState,
    id: i64,
    reason: Option<&str>,
    actor: Actor,
) -> Result<Result<Examination, ReviewRefusal>, StoreError> {
    let pass = reason.is_none();
    let out = s
        .store
        .review_examination(
            id,
            pass,
            reason.unwrap_or(""),
            &actor.to_string(),
            crate::clock::now_ms(),
        )
        .await?;
    if let Ok(e) = &out {
        tracing::info!(examine_id = id, app = %e.app_id, field = e.field.as_str(), pass, %actor, "examination reviewed");
        // A passed restoration serves the app again.
        wake::delivery_changed(s, e.app_id);
    }
    Ok(out)
}
