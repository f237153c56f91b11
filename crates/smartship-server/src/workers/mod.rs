//! Background workers. Each works only from what is stored, so a restart
//! resumes where the last process stopped: a build whose lease ran out is
//! claimed again, a rollback whose delay passed while the server was down
//! completes at start-up.

pub mod auto_review;
pub mod blob_gc;
pub mod build;
pub mod delivery;
pub mod gray;
pub mod lease_reaper;
pub mod retention;
pub mod rollback;
pub mod schedule;
pub mod ticket;

/// How long a timer worker sleeps: until the next item is due (`at`, Unix
/// ms), at most `max`, so that a wake-up lost to another node's write
/// delays it by `max` at worst.
pub(crate) fn sleep_until(at: Option<i64>, max: std::time::Duration) -> std::time::Duration {
    match at {
        Some(at) => {
            std::time::Duration::from_millis((at - crate::clock::now_ms()).max(0) as u64).min(max)
        }
        None => max,
    }
}
